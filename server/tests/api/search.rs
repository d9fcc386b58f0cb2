//! `GET /sync/orders?query=…` (SPEC §2, search): an order's name with or without its `#`, else
//! contains on the customer's name or email, case-insensitively; 3 to 100 characters after
//! trimming; combined with tabs, filters, counts and cursors like a filter. Run on both stores.

use orders_core::record::OrderRecord;
use orders_core::{FulfillmentStatus, Priority, ShipmentStatus};
use serde_json::{json, Value};

use crate::contract;
use crate::helpers::*;

/// An order `n` named `number`, of customer `name` with `email`.
fn of(n: u64, number: &str, name: &str, email: Option<&str>, b: OrderBuilder) -> OrderRecord {
    let mut r = b.number(number).build();
    debug_assert_eq!(r.id, gid(n));
    r.customer_name = name.into();
    r.customer_email = email.map(str::to_owned);
    r
}

fn fixture() -> Vec<OrderRecord> {
    vec![
        // Unfulfilled, untracked, 3 h old: in `unfulfilled` and `tracking_pending`.
        of(
            7001,
            "#1001",
            "Ada Byron",
            Some("ada@example.com"),
            order(7001).hours_old(3),
        ),
        of(
            7002,
            "#1002",
            "Grace Hopper",
            Some("grace@NAVY.mil"),
            order(7002)
                .hours_old(20)
                .status(FulfillmentStatus::Fulfilled)
                .shipment(ShipmentStatus::Delivered, true, 10),
        ),
        of(
            7003,
            "WEB1346",
            "Alan Turing",
            Some("alan@bletchley.uk"),
            order(7003).hours_old(5).priority(Priority::High),
        ),
        // Too young for tracking_pending.
        of(
            7004,
            "#1003",
            "Ada Lovelace",
            None,
            order(7004).hours_old(1).priority(Priority::Low),
        ),
        // Its customer's name holds another order's name.
        of(
            7005,
            "#1004",
            "Customer 1001",
            Some("c1001@example.com"),
            order(7005).hours_old(6),
        ),
        of(
            7006,
            "#1005",
            "Zed Byronson",
            Some("ZED@ELSEWHERE.example"),
            order(7006).hours_old(7),
        ),
        of(
            7007,
            "#1006",
            "100% Cotton Ltd",
            None,
            order(7007).hours_old(8),
        ),
    ]
}

fn ids_of(body: &Value) -> Vec<String> {
    body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect()
}

fn gids(ns: &[u64]) -> Vec<String> {
    ns.iter().map(|n| gid(*n)).collect()
}

async fn a_name_finds_its_order_with_or_without_its_hash(app: TestApp) {
    app.seed(SHOP, fixture()).await;
    for (text, want) in [
        ("#1001", 7001),
        ("1001", 7001),
        (" 1001 ", 7001),
        ("WEB1346", 7003),
        ("web1346", 7003),
        ("#WEB1346", 7003),
    ] {
        let body = app.list_shop(SHOP, &[("query", text)]).await;
        let body = body.assert_ok();
        // Only the named order: "Customer 1001" contains the text but another order has it as its name.
        assert_eq!(ids_of(body), gids(&[want]), "query {text:?}");
        assert_eq!(body["counts"]["all"], 1, "query {text:?}");
    }
}

async fn contains_finds_customers_by_name_or_email_in_any_case(app: TestApp) {
    app.seed(SHOP, fixture()).await;
    for (text, want) in [
        // Names, newest first: 7001 (3 h), 7006 (7 h).
        ("byron", &[7001, 7006][..]),
        ("ADA", &[7004, 7001]),
        // Emails only.
        ("bletchley", &[7003]),
        ("navy.MIL", &[7002]),
        ("@elsewhere", &[7006]),
        // Digits that name no order: contains.
        ("c1001", &[7005]),
        // `%` and `_` are themselves, not wildcards.
        ("0% c", &[7007]),
        ("1_0", &[]),
        ("%%%", &[]),
        ("nobody at all", &[]),
    ] {
        let r = app.list_shop(SHOP, &[("query", text)]).await;
        let body = r.assert_ok();
        assert_eq!(ids_of(body), gids(want), "query {text:?}");
        assert_eq!(body["counts"]["all"], want.len(), "query {text:?}");
    }
}

async fn a_search_outside_three_to_a_hundred_characters_is_a_400_naming_query(app: TestApp) {
    app.seed(SHOP, fixture()).await;
    let long = "x".repeat(101);
    for text in ["ab", "  ab  ", "   ", "\t \u{3000}", "a\0b", long.as_str()] {
        app.list_shop(SHOP, &[("query", text)])
            .await
            .assert_failure(400, &["query"]);
    }
    // A hundred characters (trimmed) is a search; an empty value is none.
    let hundred = format!("  {}  ", "x".repeat(100));
    let body = app.list_shop(SHOP, &[("query", &hundred)]).await;
    assert_eq!(ids_of(body.assert_ok()), Vec::<String>::new());
    let body = app.list_shop(SHOP, &[("query", "")]).await;
    assert_eq!(body.assert_ok()["counts"]["all"], 7);
}

async fn a_search_combines_with_tabs_and_filters_and_counts_its_matches(app: TestApp) {
    app.seed(SHOP, fixture()).await;
    let body = app.list_shop(SHOP, &[("query", "ada")]).await;
    assert_eq!(
        body.assert_ok()["counts"],
        json!({"all": 2, "unfulfilled": 2, "tracking_pending": 1, "delayed": 0, "returns": 0, "support": 0})
    );
    let body = app
        .list_shop(SHOP, &[("query", "ada"), ("tab", "tracking_pending")])
        .await;
    assert_eq!(ids_of(body.assert_ok()), gids(&[7001]));
    let body = app
        .list_shop(SHOP, &[("query", "ada"), ("priority", "low")])
        .await;
    let body = body.assert_ok();
    assert_eq!(ids_of(body), gids(&[7004]));
    assert_eq!(body["counts"]["all"], 1);
    assert_eq!(body["counts"]["tracking_pending"], 0);

    // A name is decided over the whole shop: in a tab its order is not in, the search finds
    // nothing (rather than falling back to contains), and the counts say where the order is.
    let body = app
        .list_shop(SHOP, &[("query", "#1002"), ("tab", "unfulfilled")])
        .await;
    let body = body.assert_ok();
    assert_eq!(ids_of(body), Vec::<String>::new());
    assert_eq!(
        body["counts"],
        json!({"all": 1, "unfulfilled": 0, "tracking_pending": 0, "delayed": 0, "returns": 0, "support": 0})
    );
    let body = app
        .list_shop(SHOP, &[("query", "1001"), ("status", "fulfilled")])
        .await;
    assert_eq!(body.assert_ok()["counts"]["all"], 0);
    // Another shop's orders are never found.
    let body = app.list_shop(OTHER_SHOP, &[("query", "#1001")]).await;
    assert_eq!(ids_of(body.assert_ok()), Vec::<String>::new());
}

async fn paging_under_a_search_walks_every_match_once(app: TestApp) {
    let mut records = fixture();
    for i in 0..23u64 {
        let n = 8000 + i;
        records.push(of(
            n,
            &format!("#{}", 2000 + i),
            &format!("Page Person {i}"),
            Some(&format!("p{i}@example.com")),
            order(n).hours_old(10 + i as i64),
        ));
    }
    app.seed(SHOP, records).await;
    let want = gids(&(8000..8023).collect::<Vec<_>>());
    let mut got = Vec::new();
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("query", "PAGE person"), ("pageSize", "5")];
        if let Some(c) = &cursor {
            q.push(("cursor", c));
        }
        let body = app.list_shop(SHOP, &q).await.assert_ok().clone();
        assert_eq!(body["counts"]["all"], 23);
        got.extend(ids_of(&body));
        pages.push(body.clone());
        match body["pageInfo"]["nextCursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(got, want);
    assert_eq!(pages.len(), 5);
    // Back from the second page's previousCursor: the first page again.
    let previous = pages[1]["pageInfo"]["previousCursor"].as_str().unwrap();
    let body = app
        .list_shop(
            SHOP,
            &[
                ("query", "page person"),
                ("pageSize", "5"),
                ("cursor", previous),
                ("direction", "previous"),
            ],
        )
        .await;
    assert_eq!(ids_of(body.assert_ok()), ids_of(&pages[0]));
}

contract!(
    a_name_finds_its_order_with_or_without_its_hash,
    contains_finds_customers_by_name_or_email_in_any_case,
    a_search_outside_three_to_a_hundred_characters_is_a_400_naming_query,
    a_search_combines_with_tabs_and_filters_and_counts_its_matches,
    paging_under_a_search_walks_every_match_once,
);
