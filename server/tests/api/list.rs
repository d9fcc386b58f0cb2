//! `GET /sync/orders`: order, paging, tabs, counts, filters and bad values (SPEC §2, §4).

use chrono::Duration;
use orders_core::{FulfillmentStatus, Priority, ReturnState, ShipmentStatus};
use serde_json::Value;

use crate::contract;
use crate::helpers::*;

/// The tab fixture: one order per interesting case, ids chosen so that order is checkable.
fn tab_fixture() -> Vec<orders_core::record::OrderRecord> {
    vec![
        // tracking pending: unfulfilled, 3 h old, no tracking
        order(5001).hours_old(3).build(),
        // too young to be pending
        order(5002).hours_old(1).build(),
        // delayed: in transit, silent 30 h
        order(5003)
            .hours_old(50)
            .status(FulfillmentStatus::Fulfilled)
            .shipment(ShipmentStatus::InTransit, true, 30)
            .build(),
        // cancelled, untracked, old: in no alert tab
        order(5004).hours_old(5).cancelled().build(),
        // open return
        order(5005)
            .hours_old(100)
            .status(FulfillmentStatus::Fulfilled)
            .shipment(ShipmentStatus::Delivered, true, 80)
            .with_return(ReturnState::Inspection)
            .build(),
        // finished return: not in returns
        order(5006)
            .hours_old(200)
            .status(FulfillmentStatus::Fulfilled)
            .shipment(ShipmentStatus::Delivered, true, 190)
            .with_return(ReturnState::Completed)
            .build(),
        // support
        order(5007)
            .hours_old(1)
            .support_thread("conv_7")
            .assigned("assistant")
            .build(),
        // partially fulfilled with tracking, recent shipment: unfulfilled tab only
        order(5008)
            .hours_old(10)
            .status(FulfillmentStatus::PartiallyFulfilled)
            .shipment(ShipmentStatus::InTransit, true, 2)
            .build(),
    ]
}

async fn seed_tab_fixture(app: &TestApp) {
    app.seed(SHOP, tab_fixture()).await;
}

fn ids_of(body: &Value) -> Vec<u64> {
    body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            o["id"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect()
}

async fn each_tab_holds_exactly_its_orders(app: TestApp) {
    seed_tab_fixture(&app).await;
    let expect: &[(&str, &[u64])] = &[
        ("all", &[5007, 5002, 5001, 5004, 5008, 5003, 5005, 5006]),
        ("unfulfilled", &[5007, 5002, 5001, 5008]),
        ("tracking_pending", &[5001]),
        ("delayed", &[5003]),
        ("returns", &[5005]),
        ("support", &[5007]),
    ];
    for (tab, ids) in expect {
        let r = app.list_shop(SHOP, &[("tab", tab)]).await;
        let body = r.assert_ok();
        assert_eq!(ids_of(body), *ids, "tab {tab}");
        assert_eq!(body["counts"][*tab], ids.len() as u64, "count of {tab}");
    }
    let body = app.list_shop(SHOP, &[]).await.body;
    assert_eq!(
        body["counts"],
        serde_json::json!({"all": 8, "unfulfilled": 4, "tracking_pending": 1, "delayed": 1, "returns": 1, "support": 1})
    );
}

async fn alerts_name_the_alert_tabs_an_order_is_in(app: TestApp) {
    seed_tab_fixture(&app).await;
    assert_eq!(
        app.order(&gid(5001)).await["alerts"],
        serde_json::json!(["tracking_pending"])
    );
    assert_eq!(
        app.order(&gid(5003)).await["alerts"],
        serde_json::json!(["delayed"])
    );
    assert_eq!(app.order(&gid(5004)).await["alerts"], serde_json::json!([]));
}

async fn every_order_key_is_present_with_the_contract_shapes(app: TestApp) {
    seed_tab_fixture(&app).await;
    let body = app.list_shop(SHOP, &[]).await.body;
    let keys = [
        "id",
        "orderNumber",
        "customer",
        "totalPrice",
        "currency",
        "status",
        "fulfillmentStatus",
        "financialStatus",
        "priority",
        "assignedTo",
        "tags",
        "createdAt",
        "updatedAt",
        "shipments",
        "return",
        "supportThread",
        "alerts",
        "timeline",
    ];
    for o in body["orders"].as_array().unwrap() {
        for k in keys {
            assert!(o.get(k).is_some(), "order lacks {k}: {o}");
        }
        assert!(o["totalPrice"].is_string());
    }
    let cancelled = app.order(&gid(5004)).await;
    assert_eq!(
        (
            cancelled["status"].as_str(),
            cancelled["fulfillmentStatus"].as_str()
        ),
        (Some("cancelled"), Some("unfulfilled"))
    );
    let returned = app.order(&gid(5005)).await;
    assert_eq!(returned["return"]["state"], "inspection");
    assert_eq!(returned["shipments"][0]["tracking"]["carrier"], "UPS");
    assert_eq!(returned["totalPrice"], "129.95");
    assert!(body["shopifyCursor"].is_null());
}

async fn pages_walk_forward_and_back_without_skipping_or_repeating(app: TestApp) {
    // 23 orders, several sharing a createdAt so the id breaks the tie.
    let base = now() - Duration::days(3);
    let records = (0..23u64)
        .map(|i| {
            order(6000 + i)
                .created(base + Duration::minutes((i / 3) as i64))
                .build()
        })
        .collect();
    app.seed(SHOP, records).await;
    let all = app.ids(&[("pageSize", "250")]).await;
    assert_eq!(all.len(), 23);
    // createdAt descending, then id descending compared as text
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| {
        let ka = (6000..6023u64).find(|n| &gid(*n) == a).unwrap();
        let kb = (6000..6023u64).find(|n| &gid(*n) == b).unwrap();
        ((kb - 6000) / 3).cmp(&((ka - 6000) / 3)).then(b.cmp(a))
    });
    assert_eq!(all, sorted);

    let mut seen = Vec::new();
    let mut cursor = "ofs:0".to_owned();
    let mut pages = Vec::new();
    loop {
        let r = app
            .list_shop(SHOP, &[("pageSize", "5"), ("cursor", &cursor)])
            .await;
        let body = r.assert_ok().clone();
        let info = &body["pageInfo"];
        assert_eq!(info["cursor"], cursor.as_str());
        assert_eq!(info["pageSize"], 5);
        if cursor == "ofs:0" {
            assert!(info["previousCursor"].is_null());
            assert_eq!(info["hasPreviousPage"], false);
        } else {
            assert_eq!(info["previousCursor"], cursor.as_str());
            assert_eq!(info["hasPreviousPage"], true);
        }
        seen.extend(
            body["orders"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned()),
        );
        pages.push((cursor.clone(), body.clone()));
        match info["nextCursor"].as_str() {
            Some(next) => {
                assert_eq!(info["hasNextPage"], true);
                cursor = next.to_owned();
            }
            None => {
                assert_eq!(info["hasNextPage"], false);
                break;
            }
        }
    }
    assert_eq!(
        seen, all,
        "walking the pages gives every row once, in order"
    );
    assert_eq!(pages[1].0, "ofs:5");
    assert_eq!(pages.len(), 5);

    // next from nextCursor, then previous from the previousCursor that page returns: the page we started from
    let first = &pages[1].1;
    let next = first["pageInfo"]["nextCursor"].as_str().unwrap();
    let there = app
        .list_shop(SHOP, &[("pageSize", "5"), ("cursor", next)])
        .await
        .body;
    let back_from = there["pageInfo"]["previousCursor"].as_str().unwrap();
    let back = app
        .list_shop(
            SHOP,
            &[
                ("pageSize", "5"),
                ("cursor", back_from),
                ("direction", "previous"),
            ],
        )
        .await
        .body;
    assert_eq!(back["orders"], first["orders"]);
    assert_eq!(back["pageInfo"], first["pageInfo"]);

    // past the end: an empty page, still 200
    let past = app.list_shop(SHOP, &[("cursor", "ofs:zz")]).await;
    assert!(past.assert_ok()["orders"].as_array().unwrap().is_empty());
    assert!(past.body["pageInfo"]["nextCursor"].is_null());
}

async fn counts_follow_the_non_tab_filters(app: TestApp) {
    let mut records = tab_fixture();
    records.push(order(5101).hours_old(4).priority(Priority::Urgent).build());
    records.push(
        order(5102)
            .hours_old(4)
            .priority(Priority::Urgent)
            .status(FulfillmentStatus::Fulfilled)
            .shipment(ShipmentStatus::InTransit, true, 40)
            .build(),
    );
    app.seed(SHOP, records).await;
    let body = app
        .list_shop(SHOP, &[("priority", "urgent"), ("tab", "delayed")])
        .await
        .body;
    assert_eq!(ids_of(&body), vec![5102]);
    assert_eq!(
        body["counts"],
        serde_json::json!({"all": 2, "unfulfilled": 1, "tracking_pending": 1, "delayed": 1, "returns": 0, "support": 0})
    );
}

async fn filters_narrow_by_status_priority_assignee_and_dates(app: TestApp) {
    let day = |d: &str, h: u32| {
        format!("{d}T{h:02}:00:00Z")
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    app.seed(
        SHOP,
        vec![
            order(7001)
                .created(day("2025-09-01", 0))
                .priority(Priority::High)
                .assigned("sam")
                .build(),
            order(7002)
                .created(day("2025-09-02", 23))
                .priority(Priority::Low)
                .status(FulfillmentStatus::OnHold)
                .build(),
            order(7003)
                .created(day("2025-09-03", 12))
                .priority(Priority::High)
                .cancelled()
                .assigned("ann")
                .build(),
            order(7004)
                .created(day("2025-09-04", 6))
                .status(FulfillmentStatus::Fulfilled)
                .assigned("sam")
                .build(),
        ],
    )
    .await;
    let ids = |q: Vec<(&'static str, &'static str)>| {
        let app = &app;
        async move {
            let r = app.list_shop(SHOP, &q).await;
            ids_of(r.assert_ok())
        }
    };
    assert_eq!(
        ids(vec![("status", "on_hold,cancelled")]).await,
        vec![7003, 7002]
    );
    assert_eq!(ids(vec![("status", "cancelled")]).await, vec![7003]);
    assert_eq!(
        ids(vec![("status", "unfulfilled")]).await,
        vec![7001],
        "a cancelled order is not unfulfilled"
    );
    assert_eq!(ids(vec![("priority", "high")]).await, vec![7003, 7001]);
    assert_eq!(
        ids(vec![("priority", "low,normal")]).await,
        vec![7004, 7002]
    );
    assert_eq!(ids(vec![("assigned_to", "sam")]).await, vec![7004, 7001]);
    assert_eq!(ids(vec![("assigned_to", "unassigned")]).await, vec![7002]);
    assert_eq!(
        ids(vec![("assigned_to", "nobody")]).await,
        Vec::<u64>::new()
    );
    // a date end covers its whole day, both ends inclusive
    assert_eq!(
        ids(vec![
            ("date_start", "2025-09-01"),
            ("date_end", "2025-09-02")
        ])
        .await,
        vec![7002, 7001]
    );
    assert_eq!(
        ids(vec![("date_start", "2025-09-03T12:00:00Z")]).await,
        vec![7004, 7003]
    );
    assert_eq!(
        ids(vec![("date_end", "2025-09-03T11:59:59Z")]).await,
        vec![7002, 7001]
    );
    assert_eq!(
        ids(vec![
            ("priority", "high"),
            ("assigned_to", "ann"),
            ("status", "cancelled")
        ])
        .await,
        vec![7003]
    );
}

async fn each_bad_parameter_is_a_400_naming_it(app: TestApp) {
    seed_tab_fixture(&app).await;
    let cases: &[(&str, &str)] = &[
        ("tab", "archived"),
        ("pageSize", "0"),
        ("pageSize", "251"),
        ("pageSize", "abc"),
        ("cursor", "42"),
        ("cursor", "ofs:!"),
        ("direction", "sideways"),
        ("status", "shipped"),
        ("priority", "critical"),
        ("date_start", "2025-02-30"),
        ("date_end", "not-a-date"),
    ];
    for (param, value) in cases {
        app.list_shop(SHOP, &[(param, value)])
            .await
            .assert_failure(400, &[param]);
    }
    app.list(&[("tab", "all")])
        .await
        .assert_failure(400, &["shop_domain"]);
    app.list_shop(
        SHOP,
        &[("date_start", "2025-09-05"), ("date_end", "2025-09-04")],
    )
    .await
    .assert_failure(400, &["date_start"]);
    app.list_shop(SHOP, &[("pageSize", "250")])
        .await
        .assert_ok();
    app.list_shop(SHOP, &[("pageSize", "1")]).await.assert_ok();
}

async fn the_last_ten_timeline_entries_come_newest_first(app: TestApp) {
    app.seed(SHOP, vec![order(8001).hours_old(30).history(14).build()])
        .await;
    let o = app.order(&gid(8001)).await;
    let timeline = o["timeline"].as_array().unwrap();
    assert_eq!(timeline.len(), 10);
    assert_eq!(timeline[0]["event"], "shipment.step_13");
    assert_eq!(timeline[9]["event"], "shipment.step_4");
    for e in timeline {
        assert!(e["ts"].is_string() && e["details"].is_string());
    }
    let listed = app.list_shop(SHOP, &[]).await.body;
    assert_eq!(listed["orders"][0]["timeline"], o["timeline"]);
}

async fn shops_never_see_each_others_orders(app: TestApp) {
    app.seed(SHOP, vec![order(9001).build(), order(9002).build()])
        .await;
    app.seed(OTHER_SHOP, vec![order(9001).price("5.00", "EUR").build()])
        .await;
    let mine = app.list_shop(SHOP, &[]).await.body;
    assert_eq!(mine["counts"]["all"], 2);
    let theirs = app.list_shop(OTHER_SHOP, &[]).await.body;
    assert_eq!(ids_of(&theirs), vec![9001]);
    assert_eq!(theirs["orders"][0]["currency"], "EUR");
    let nobody = app.list_shop("unknown.myshopify.com", &[]).await;
    assert_eq!(nobody.assert_ok()["counts"]["all"], 0);
    // a write through one shop cannot touch the other's order of the same id
    app.assign(&["9002"], Some("sam")).await.assert_ok();
    app.post(
        "assign",
        serde_json::json!({"orderIds": ["9002"], "assignee": "sam", "shop_domain": OTHER_SHOP}),
    )
    .await
    .assert_failure(404, &["9002"]);
    let other = app.get_order(&gid(9001), Some(OTHER_SHOP)).await;
    assert!(other.assert_ok()["assignedTo"].is_null());
}

contract!(
    each_tab_holds_exactly_its_orders,
    alerts_name_the_alert_tabs_an_order_is_in,
    every_order_key_is_present_with_the_contract_shapes,
    pages_walk_forward_and_back_without_skipping_or_repeating,
    counts_follow_the_non_tab_filters,
    filters_narrow_by_status_priority_assignee_and_dates,
    each_bad_parameter_is_a_400_naming_it,
    the_last_ten_timeline_entries_come_newest_first,
    shops_never_see_each_others_orders,
);

/// Each process keeps the counts it computed (`COUNT_CACHE_BYTES`), and a write through another
/// process is counted by the very next page: the cache is keyed by the shop's change counter,
/// which the write bumped in its own transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_through_one_process_is_counted_at_once_by_another() {
    let url = crate::common::fresh_database_url().await;
    let process = || {
        let pg = orders_sync::store::PgStore::connect_lazy(&url).unwrap();
        spawn_on(orders_sync::store::Store::Postgres(pg))
    };
    let (writer, reader) = (process().await, process().await);
    writer.seed(SHOP, tab_fixture()).await;
    let counts = |app: &TestApp| {
        let app = app.address.clone();
        async move {
            let body: Value = reqwest::Client::new()
                .get(format!("{app}/sync/orders"))
                .query(&[("shop_domain", SHOP), ("assigned_to", "unassigned")])
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body["counts"].clone()
        }
    };
    let before = counts(&reader).await;
    assert_eq!(
        counts(&reader).await,
        before,
        "the second page is served the same"
    );
    let id = gid(5001);
    writer.assign(&[&id], Some("ana")).await.assert_ok();
    let after = counts(&reader).await;
    assert_eq!(
        after["all"].as_u64().unwrap() + 1,
        before["all"].as_u64().unwrap(),
        "{before} then {after}"
    );
    assert_eq!(
        after["tracking_pending"].as_u64().unwrap() + 1,
        before["tracking_pending"].as_u64().unwrap()
    );
    writer.assign(&[&id], None).await.assert_ok();
    assert_eq!(counts(&reader).await, before);
}
