//! `GET /orders/export.csv` (every page of a view, streamed) and the dashboard's pictures (the
//! returns funnel and the orders per day), checked against the list API's own answers.

use std::collections::HashSet;

use orders_core::stats::SPARKLINE_DAYS;
use orders_core::{ListQuery, ReturnState, Tab};

use crate::contract;
use crate::helpers::*;

/// More than two export batches (1000 each), so the keyset seams are crossed.
const MANY: usize = 2_345;

/// An RFC 4180 reading of a whole document: records of fields.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let mut record = vec![String::new()];
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (false, ',') => record.push(String::new()),
            (false, '"') => quoted = true,
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                record.last_mut().unwrap().push('"');
            }
            (true, '"') => quoted = false,
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                records.push(std::mem::replace(&mut record, vec![String::new()]));
            }
            (_, c) => record.last_mut().unwrap().push(c),
        }
    }
    assert_eq!(record, vec![String::new()], "the document ends with CRLF");
    records
}

struct Export {
    status: u16,
    content_type: String,
    disposition: String,
    text: String,
}

async fn export(app: &TestApp, query: &[(&str, &str)]) -> Export {
    let r = app
        .client
        .get(format!("{}/orders/export.csv", app.address))
        .query(query)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    Export {
        status: r.status().as_u16(),
        content_type: header("content-type"),
        disposition: header("content-disposition"),
        text: r.text().await.unwrap(),
    }
}

/// Every id of a view through the list API, page by page (250 a page).
async fn listed_ids(app: &TestApp, query: &[(&str, &str)]) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q: Vec<(&str, &str)> = vec![("shop_domain", SHOP), ("pageSize", "250")];
        q.extend_from_slice(query);
        if let Some(c) = &cursor {
            q.push(("cursor", c));
        }
        let body = app.list(&q).await.assert_ok().clone();
        for o in body["orders"].as_array().unwrap() {
            ids.push(o["id"].as_str().unwrap().to_owned());
        }
        match body["pageInfo"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return ids,
        }
    }
}

async fn seed_many(app: &TestApp) {
    app.seed(SHOP, orders_core::sample::generate(SHOP, MANY, 9, now()))
        .await;
}

async fn exports_every_order_of_the_view_in_list_order(app: TestApp) {
    seed_many(&app).await;
    let e = export(&app, &[("shop", SHOP)]).await;
    assert_eq!(e.status, 200, "{}", e.text);
    assert_eq!(e.content_type, "text/csv; charset=utf-8");
    assert!(
        e.disposition
            .starts_with("attachment; filename=\"orders-acme-myshopify-com-all-"),
        "{}",
        e.disposition
    );
    let records = parse_csv(&e.text);
    assert_eq!(records[0], orders_core::csv::COLUMNS.to_vec());
    assert!(records
        .iter()
        .all(|r| r.len() == orders_core::csv::COLUMNS.len()));
    let exported: Vec<String> = records[1..].iter().map(|r| r[1].clone()).collect();
    assert_eq!(exported.len(), MANY);
    assert_eq!(exported, listed_ids(&app, &[]).await);
    assert_eq!(
        exported.iter().collect::<HashSet<_>>().len(),
        MANY,
        "no order twice across batches"
    );
}

async fn exports_the_tab_and_filters_and_ignores_the_page(app: TestApp) {
    seed_many(&app).await;
    let filters = [
        ("tab", "returns"),
        ("priority", "high"),
        ("status", "fulfilled"),
    ];
    let mut query = vec![("shop", SHOP), ("pageSize", "10"), ("direction", "next")];
    query.extend_from_slice(&filters);
    let e = export(&app, &query).await;
    assert_eq!(e.status, 200, "{}", e.text);
    assert!(e.disposition.contains("-returns-"), "{}", e.disposition);
    let records = parse_csv(&e.text);
    let exported: Vec<String> = records[1..].iter().map(|r| r[1].clone()).collect();
    let listed = listed_ids(&app, &filters).await;
    assert!(!listed.is_empty(), "the fixture has such orders");
    assert_eq!(exported, listed);
    for r in &records[1..] {
        assert_eq!(r[7], "fulfilled");
        assert_eq!(r[9], "high");
        assert!(!r[12].is_empty(), "an order in returns has a return state");
    }
}

async fn an_export_row_says_what_the_api_says(app: TestApp) {
    app.seed(
        SHOP,
        vec![order(7001)
            .hours_old(30)
            .price("-5.00", "EUR")
            .assigned("priya")
            .with_return(ReturnState::Inspection)
            .support_thread("conv_9")
            .build()],
    )
    .await;
    let api = app.order(&gid(7001)).await;
    let records = parse_csv(&export(&app, &[("shop", SHOP)]).await.text);
    let row = &records[1];
    assert_eq!(row[0], api["orderNumber"].as_str().unwrap());
    assert_eq!(row[1], gid(7001));
    assert_eq!(row[3], api["customer"]["name"].as_str().unwrap());
    assert_eq!(
        row[5], "-5.00",
        "a number is written as stored, never guarded"
    );
    assert_eq!(row[6], "EUR");
    assert_eq!(row[7], api["status"].as_str().unwrap());
    assert_eq!(row[10], "priya");
    assert_eq!(row[11], "tracking_pending");
    assert_eq!(row[12], "inspection");
    assert_eq!(row[13], "conv_9");
}

async fn a_bad_export_query_is_a_400_in_the_envelope(app: TestApp) {
    for (query, needle) in [
        (vec![("shop", SHOP), ("tab", "archived")], "tab"),
        (vec![("shop", "not a shop")], "shop"),
        (vec![("shop", SHOP), ("priority", "asap")], "priority"),
        (
            vec![("shop", SHOP), ("date_start", "yesterday")],
            "date_start",
        ),
    ] {
        let e = export(&app, &query).await;
        assert_eq!(e.status, 400, "{query:?}: {}", e.text);
        let body: serde_json::Value = serde_json::from_str(&e.text).unwrap();
        assert_eq!(body["success"], false);
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message}");
    }
}

async fn an_unknown_shop_exports_only_the_header(app: TestApp) {
    seed_many(&app).await;
    let e = export(&app, &[("shop", OTHER_SHOP)]).await;
    assert_eq!(e.status, 200);
    assert_eq!(parse_csv(&e.text).len(), 1);
}

async fn the_funnel_and_the_days_count_the_orders_of_the_view(app: TestApp) {
    seed_many(&app).await;
    let th = orders_core::Thresholds::default();
    for tab in [Tab::All, Tab::Returns, Tab::Delayed] {
        let mut query = ListQuery::for_shop(SHOP);
        query.tab = tab;
        let utc = orders_core::locale::ShopClock::utc();
        let stats = app.store.stats(&query, now(), &th, &utc).await.unwrap();
        let tab_name = tab.to_string();
        let listed = app
            .list_shop(SHOP, &[("tab", tab_name.as_str())])
            .await
            .assert_ok()
            .clone();
        let counts = &listed["counts"];

        assert_eq!(stats.returns_by_state.len(), ReturnState::ALL.len());
        let open: u64 = stats
            .returns_by_state
            .iter()
            .filter(|(s, _)| !s.is_terminal())
            .map(|(_, n)| n)
            .sum();
        // The counts are per tab under the filters: the view's open returns are the returns tab's
        // when the view holds every order or every return, and a part of it otherwise.
        let returns_tab = counts["returns"].as_u64().unwrap();
        if matches!(tab, Tab::All | Tab::Returns) {
            assert_eq!(open, returns_tab, "{tab}");
        } else {
            assert!(open <= returns_tab, "{tab}");
        }

        assert_eq!(stats.per_day.len(), SPARKLINE_DAYS);
        let in_window: u64 = stats.per_day.iter().map(|(_, n)| n).sum();
        let first = orders_core::stats::sparkline_first_day(utc.local_day(now()));
        let start = utc.day_range(first).0.to_rfc3339();
        let recent = app
            .list_shop(SHOP, &[("tab", tab_name.as_str()), ("date_start", &start)])
            .await;
        let expected = recent.assert_ok()["counts"][tab_name.as_str()]
            .as_u64()
            .unwrap();
        assert_eq!(in_window, expected, "{tab}");
        if tab == Tab::All {
            assert!(expected > 0 && open > 0, "the fixture fills both pictures");
        }
    }
}

async fn exports_only_the_orders_a_search_matches(app: TestApp) {
    seed_many(&app).await;
    for filters in [
        vec![("query", "ADA")],
        vec![("query", "ada"), ("tab", "unfulfilled")],
        vec![("query", "#1234")],
    ] {
        let mut query = vec![("shop", SHOP)];
        query.extend_from_slice(&filters);
        let e = export(&app, &query).await;
        assert_eq!(e.status, 200, "{}", e.text);
        let records = parse_csv(&e.text);
        let exported: Vec<String> = records[1..].iter().map(|r| r[1].clone()).collect();
        let listed = listed_ids(&app, &filters).await;
        assert!(!listed.is_empty(), "the sample has matches for {filters:?}");
        assert!(listed.len() < MANY, "{filters:?} narrows the view");
        assert_eq!(exported, listed, "{filters:?}");
    }
    let e = export(&app, &[("shop", SHOP), ("query", " ab ")]).await;
    assert_eq!(e.status, 400, "{}", e.text);
    assert!(e.text.contains("query"), "{}", e.text);
}

contract!(
    exports_only_the_orders_a_search_matches,
    exports_every_order_of_the_view_in_list_order,
    exports_the_tab_and_filters_and_ignores_the_page,
    an_export_row_says_what_the_api_says,
    a_bad_export_query_is_a_400_in_the_envelope,
    an_unknown_shop_exports_only_the_header,
    the_funnel_and_the_days_count_the_orders_of_the_view,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_while_the_database_is_away_is_a_503_not_sample_data() {
    // Nothing listens on port 1: every connection is refused at once.
    let away = orders_sync::store::PgStore::connect_lazy("postgres://postgres@127.0.0.1:1/orders")
        .unwrap();
    let app = spawn_on(orders_sync::store::Store::Postgres(away)).await;
    let e = export(&app, &[("shop", SHOP)]).await;
    assert_eq!(e.status, 503, "{}", e.text);
    let body: serde_json::Value = serde_json::from_str(&e.text).unwrap();
    assert_eq!(body["success"], false);
}
