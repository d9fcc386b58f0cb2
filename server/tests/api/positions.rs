//! Causal reads (issue 18): a write answers with the database's position after its commit in
//! `X-Sync-Position`; a read may send one back in `X-Sync-Min-Position` (a malformed one is a 400).
//! Replicas that are not replicas, or do not answer, serve nothing. A real streaming replica is
//! exercised by `scripts/replica-test.sh`.

use std::time::Duration;

use orders_core::position::Position;
use orders_sync::store::postgres::replicas::Replicas;
use orders_sync::store::{PgStore, Store};
use serde_json::{json, Value};

use crate::contract;
use crate::helpers::*;

const MIN: &str = "x-sync-min-position";

fn position_of(r: &Reply) -> Option<Position> {
    r.headers.get("x-sync-position").map(|v| {
        v.to_str()
            .unwrap()
            .parse()
            .expect("a position PostgreSQL prints")
    })
}

/// The three reads replicas may serve, each with `header` as `X-Sync-Min-Position` when given:
/// the list, one order and the export; their statuses, and the order's assignee as each read it.
async fn reads(app: &TestApp, header: Option<&str>) -> Vec<(u16, String)> {
    let get = |path: &str, shop: (&'static str, &'static str)| {
        let req = app
            .client
            .get(format!("{}{path}", app.address))
            .query(&[shop]);
        let req = match header {
            Some(h) => req.header(MIN, h),
            None => req,
        };
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    // The assignee of the first order, or a refusal's message.
    let said = |(status, text): (u16, String), order: &dyn Fn(&Value) -> &Value| {
        let body: Value = serde_json::from_str(&text).unwrap();
        let who = order(&body)["assignedTo"].as_str().unwrap_or("");
        (
            status,
            format!("{who}{}", body["message"].as_str().unwrap_or("")),
        )
    };
    let list = said(get("/sync/orders", ("shop_domain", SHOP)).await, &|b| {
        &b["orders"][0]
    });
    let one = said(
        get("/sync/orders/5001", ("shop_domain", SHOP)).await,
        &|b| b,
    );
    let (status, text) = get("/orders/export.csv", ("shop", SHOP)).await;
    let who = if text.contains(",ana,") { "ana" } else { "" };
    let export = (status, if status == 200 { who.into() } else { text });
    vec![list, one, export]
}

async fn writes_answer_with_a_position_that_reads_take_back_on_postgres() {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(SHOP, vec![order(5001).build()]).await;
    let first = app.assign(&[&gid(5001)], Some("sam")).await;
    first.assert_ok();
    let p1 = position_of(&first).expect("a write answers with X-Sync-Position");
    let second = app.assign(&[&gid(5001)], Some("ana")).await;
    let p2 = position_of(&second).expect("every write does");
    assert!(p2 > p1, "a later commit is further on: {p1} then {p2}");

    // A replay is answered with a position past the first write's commit too.
    let key = "positions-k1";
    let body = json!({ "orderIds": [gid(5001)], "assignee": "ana", "shop_domain": SHOP });
    let mut replayed = None;
    for _ in 0..2 {
        let r = app
            .client
            .post(format!("{}/sync/orders/assign", app.address))
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let p: Position = r.headers()["x-sync-position"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(p >= p2, "{p} after {p2}");
        replayed = Some(r.headers().contains_key("idempotent-replayed"));
    }
    assert_eq!(replayed, Some(true));

    // Sent back, the position reads the write; so does one further on than the database is (the
    // primary serves it: it is never behind).
    let ok = vec![(200, "ana".to_owned()); 3];
    assert_eq!(reads(&app, Some(&p2.to_string())).await, ok);
    assert_eq!(reads(&app, Some("FFFFFFFF/FFFFFFFF")).await, ok);
    assert_eq!(reads(&app, None).await, ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_answer_with_a_position_that_reads_take_back() {
    writes_answer_with_a_position_that_reads_take_back_on_postgres().await;
}

async fn a_malformed_min_position_is_a_400_on_every_read_replicas_may_serve(app: TestApp) {
    app.seed(SHOP, vec![order(5001).assigned("ana").build()])
        .await;
    for bad in ["1/2/3", "zz/1", "1/123456789", "16B374D848", " "] {
        for (status, said) in reads(&app, Some(bad)).await {
            assert_eq!(status, 400, "{bad:?}: {said}");
            assert!(said.contains("X-Sync-Min-Position"), "{bad:?}: {said}");
        }
    }
    assert_eq!(
        reads(&app, Some("0/0")).await,
        vec![(200, "ana".to_owned()); 3]
    );
    // The in-memory store has no log: its writes name no position.
    let r = app.assign(&[&gid(5001)], Some("sam")).await;
    r.assert_ok();
    assert_eq!(
        position_of(&r).is_some(),
        matches!(app.store, Store::Postgres(_))
    );
}

contract!(a_malformed_min_position_is_a_400_on_every_read_replicas_may_serve);

/// Replicas that are not replicas (the primary itself) or do not answer serve no read: every read
/// goes to the primary, and is right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copies_that_are_not_streaming_replicas_serve_nothing() {
    let url = crate::common::fresh_database_url().await;
    let pg = PgStore::connect_lazy(&url).unwrap();
    let app = spawn_on(Store::Postgres(pg.clone())).await;
    app.seed(SHOP, vec![order(5001).build()]).await;
    let nowhere = "postgres://postgres@127.0.0.1:1/none".to_owned();
    let replicas = Replicas::new(&pg, &[url, nowhere], Duration::from_secs(1), 2).unwrap();
    replicas.sample().await;
    let status = replicas.status();
    assert_eq!(status.len(), 2);
    assert!(
        status.iter().all(|(_, replayed, _)| replayed.is_none()),
        "{status:?}"
    );
    assert!(replicas.reader(None).await.is_none());
    assert!(replicas.reader(Some(Position(0))).await.is_none());
    let replicas = std::sync::Arc::new(replicas);
    app.service.set_replicas(replicas.clone());
    let written = app.assign(&[&gid(5001)], Some("ana")).await;
    let committed = position_of(&written).unwrap();
    let at = committed.to_string();
    // The refresh ping that follows carries a position past the write's commit, which this
    // process's listener keeps as the floor of the shop's dashboard reads.
    let mut floor = None;
    for _ in 0..100 {
        floor = replicas.floor(SHOP);
        if floor.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        floor.is_some_and(|f| f >= committed),
        "{floor:?} for {committed}"
    );
    assert_eq!(
        reads(&app, Some(&at)).await,
        vec![(200, "ana".to_owned()); 3]
    );
    assert_eq!(reads(&app, None).await, vec![(200, "ana".to_owned()); 3]);
}

/// The dashboard keeps its last write's position and sends it with its next load: the server
/// function reads at it, and refuses a malformed one naming the parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_reads_its_page_at_its_last_write() {
    use leptos::server_fn::ServerFn;

    let app = spawn_app(Backend::Postgres).await;
    app.seed(SHOP, vec![order(5001).build()]).await;
    let call = |path: &'static str, body: Value| {
        app.client
            .post(format!("{}{path}", app.address))
            .header("origin", app.address.clone())
            .header("sec-fetch-site", "same-origin")
            .json(&body)
            .send()
    };
    let written: Value = call(
        crate::trust::post_write_path(),
        json!({ "write": "Assign", "body": { "orderIds": [gid(5001)], "assignee": "ana", "shop_domain": SHOP } }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let position: Position = written["Ok"][2]
        .as_str()
        .expect("the write's answer carries its position")
        .parse()
        .unwrap();
    let load = |position: String| {
        call(
            app::orders::LoadOrders::PATH,
            json!({ "shop": SHOP, "query": [["position", position]] }),
        )
    };
    let r = load(position.to_string()).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("ana"));
    let r = load("not-a-position".into()).await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("position"));
}
