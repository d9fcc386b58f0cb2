//! `GET /sync/orders/alerts` (SPEC §6): the SSE stream spoken to by a real SSE reader over HTTP
//! (replay, live events, `Last-Event-ID`), the polling fallback, and two processes on one database.

use std::time::Duration;

use orders_core::{FulfillmentStatus, ShipmentStatus};
use serde_json::Value;

use crate::contract;
use crate::helpers::*;
use crate::sse::SseReader;

/// Two alert conditions and a calm order: 5001 untracked for 3 h (tracking pending), 5003 in
/// transit and silent for 30 h (delayed), 5002 an hour old (nothing yet).
async fn seed_alerting(app: &TestApp) {
    app.seed(
        SHOP,
        vec![
            order(5001).hours_old(3).build(),
            order(5002).hours_old(1).build(),
            order(5003)
                .hours_old(50)
                .status(FulfillmentStatus::Fulfilled)
                .shipment(ShipmentStatus::InTransit, true, 30)
                .build(),
        ],
    )
    .await;
    app.service.evaluate(SHOP).await.unwrap();
}

async fn poll(app: &TestApp, since: Option<&str>) -> Reply {
    let mut q = vec![("shop_domain", SHOP)];
    if let Some(s) = since {
        q.push(("since", s));
    }
    app.get_json("/sync/orders/alerts", &q).await
}

/// The open alerts as the poll shows them: (id, kind, order).
async fn open_alerts(app: &TestApp) -> Vec<(u64, String, String)> {
    let body = poll(app, None).await.assert_ok().clone();
    body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_u64().unwrap(),
                a["kind"].as_str().unwrap().to_owned(),
                a["orderId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits until the poll shows alert `id` resolved (the evaluation after a write runs in the
/// background).
async fn wait_resolved(app: &TestApp, id: u64) {
    for _ in 0..100 {
        if !open_alerts(app).await.iter().any(|(i, _, _)| *i == id) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("alert {id} was never resolved");
}

async fn a_new_client_gets_the_open_alerts_then_live_resolutions_and_refreshes(app: TestApp) {
    seed_alerting(&app).await;
    let mut sse = SseReader::connect(&app, None).await;
    let first = sse.next().await;
    let second = sse.next().await;
    assert_eq!(sse.retry, Some(3000), "a retry hint comes first");
    for e in [&first, &second] {
        assert_eq!(e.event, "alert");
        assert_eq!(e.id.as_deref(), Some(e.data["id"].to_string().as_str()));
        assert_eq!(e.data["severity"], "warning");
        assert!(e.data.get("resolvedAt").is_none());
    }
    assert!(first.data["id"].as_u64() < second.data["id"].as_u64());
    let by_kind = |kind: &str| {
        [&first, &second]
            .into_iter()
            .find(|e| e.data["kind"] == kind)
            .unwrap_or_else(|| panic!("a {kind} alert"))
            .clone()
    };
    let pending = by_kind("tracking_pending");
    assert_eq!(pending.data["orderId"], gid(5001));
    assert!(pending.data["message"].as_str().unwrap().contains("#1001"));
    assert_eq!(by_kind("delayed").data["orderId"], gid(5003));

    // Fulfilling with tracking clears the pending alert; then the page is told to reload.
    app.fulfill(&[&gid(5001)], Some(("1Z999", "UPS")))
        .await
        .assert_ok();
    let resolved = sse.next().await;
    assert_eq!(resolved.event, "resolved");
    assert_eq!(resolved.id, None, "only alert events carry an id");
    assert_eq!(resolved.data["id"], pending.data["id"]);
    let refresh = sse.next().await;
    assert_eq!(refresh.event, "refresh");
    assert_eq!(refresh.data["reason"], "action");
    assert!(refresh.data["at"].is_string());
}

/// The ids of the alerts a new client is told before half a second passes without an event
/// (refresh pings, which a seed may cause, aside).
async fn replayed_ids(app: &TestApp) -> (SseReader, Vec<u64>) {
    let mut sse = SseReader::connect(app, None).await;
    let mut ids = Vec::new();
    while let Some(e) = sse.next_within(Duration::from_millis(500)).await {
        if e.event == "refresh" {
            continue;
        }
        assert_eq!(e.event, "alert", "{e:?}");
        ids.push(e.data["id"].as_u64().unwrap());
    }
    (sse, ids)
}

async fn new_clients_share_one_replay_until_something_changes(app: TestApp) {
    seed_alerting(&app).await;
    let (mut first, ids) = replayed_ids(&app).await;
    assert_eq!(ids.len(), 2);
    // A client whose read raced a publication does not share it; the next one does.
    let mut warm = Vec::new();
    while app.service.live().shared_replay(SHOP).is_none() {
        assert!(warm.len() < 5, "no replay was ever shared");
        let (sse, again) = replayed_ids(&app).await;
        assert_eq!(again, ids);
        warm.push(sse);
    }
    let (_second, again) = replayed_ids(&app).await;
    assert_eq!(again, ids);

    // A change is published: the shared replay is stale and the next client reads afresh.
    app.fulfill(&[&gid(5001)], Some(("1Z999", "UPS")))
        .await
        .assert_ok();
    let mut resolved = first.next().await;
    while resolved.event == "refresh" {
        resolved = first.next().await;
    }
    assert_eq!(resolved.event, "resolved");
    let gone = resolved.data["id"].as_u64().unwrap();
    let (_third, now) = replayed_ids(&app).await;
    assert_eq!(now.len(), 1, "{now:?}");
    assert!(!now.contains(&gone));
}

async fn a_condition_is_raised_once_however_often_it_is_evaluated(app: TestApp) {
    seed_alerting(&app).await;
    let before = open_alerts(&app).await;
    assert_eq!(before.len(), 2);
    for _ in 0..3 {
        app.service.evaluate(SHOP).await.unwrap();
    }
    assert_eq!(open_alerts(&app).await, before);
}

async fn a_reconnecting_client_gets_what_it_missed_then_older_resolutions(app: TestApp) {
    seed_alerting(&app).await;
    let open = open_alerts(&app).await;
    let pending = open.iter().find(|a| a.1 == "tracking_pending").unwrap().0;
    let delayed = open.iter().find(|a| a.1 == "delayed").unwrap().0;
    // One evaluation raises tracking pending before delayed.
    assert!(pending < delayed);
    app.fulfill(&[&gid(5001)], Some(("1Z999", "UPS")))
        .await
        .assert_ok();
    wait_resolved(&app, pending).await;

    // From the older id: the newer alert (with its resolution if it cleared), then the older
    // alert's resolution if it cleared.
    let mut sse = SseReader::connect(&app, Some(&pending.to_string())).await;
    let mut got = Vec::new();
    while let Some(e) = sse.next_within(Duration::from_millis(700)).await {
        // The fulfill's refresh ping may reach a stream opened after it, on a busy machine.
        if e.event != "refresh" {
            got.push((e.event.clone(), e.data["id"].as_u64().unwrap()));
        }
    }
    assert_eq!(
        got,
        vec![
            ("alert".to_owned(), delayed),
            ("resolved".to_owned(), pending)
        ]
    );

    // From before everything: each alert, the cleared one followed by its resolution.
    let mut sse = SseReader::connect(&app, Some("0")).await;
    let mut got = Vec::new();
    while let Some(e) = sse.next_within(Duration::from_millis(700)).await {
        // The fulfill's refresh ping may reach a stream opened after it, on a busy machine.
        if e.event != "refresh" {
            got.push((e.event.clone(), e.data["id"].as_u64().unwrap()));
        }
    }
    assert_eq!(
        got,
        vec![
            ("alert".to_owned(), pending),
            ("resolved".to_owned(), pending),
            ("alert".to_owned(), delayed),
        ]
    );

    // A Last-Event-ID that is no id starts afresh: the open alerts only.
    let mut sse = SseReader::connect(&app, Some("yesterday")).await;
    let first = sse.next().await;
    assert_eq!(
        (first.event.as_str(), first.data["id"].as_u64()),
        ("alert", Some(delayed))
    );
    assert!(sse.next_within(Duration::from_millis(500)).await.is_none());
}

async fn the_polling_fallback_pages_by_id(app: TestApp) {
    seed_alerting(&app).await;
    let body = poll(&app, None).await.assert_ok().clone();
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2);
    assert!(alerts.iter().all(|a| a["resolvedAt"].is_null()));
    let last = body["lastEventId"].as_u64().unwrap();
    assert_eq!(last, alerts[1]["id"].as_u64().unwrap());
    let first = alerts[0]["id"].as_u64().unwrap();

    // Nothing after the last one yet.
    let body = poll(&app, Some(&last.to_string()))
        .await
        .assert_ok()
        .clone();
    assert_eq!(body["alerts"], serde_json::json!([]));
    assert_eq!(body["lastEventId"].as_u64(), Some(last));

    // After a resolution, `since` still lists every later alert, the cleared one with resolvedAt.
    let pending = open_alerts(&app)
        .await
        .into_iter()
        .find(|a| a.1 == "tracking_pending")
        .unwrap()
        .0;
    app.fulfill(&[&gid(5001)], Some(("1Z999", "UPS")))
        .await
        .assert_ok();
    wait_resolved(&app, pending).await;
    let body = poll(&app, Some(&(first - 1).to_string()))
        .await
        .assert_ok()
        .clone();
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 2);
    let cleared = alerts.iter().find(|a| a["id"] == pending).unwrap();
    assert!(cleared["resolvedAt"].is_string());
    assert_eq!(open_alerts(&app).await.len(), 1);
}

async fn bad_alert_queries_are_400s(app: TestApp) {
    for (query, needle) in [
        (vec![], "shop_domain"),
        (vec![("shop_domain", "not a shop!")], "shop_domain"),
        (vec![("shop_domain", SHOP), ("since", "-1")], "since"),
        (vec![("shop_domain", SHOP), ("since", "abc")], "since"),
    ] {
        app.get_json("/sync/orders/alerts", &query)
            .await
            .assert_failure(400, &[needle]);
    }
}

async fn a_data_gap_is_one_critical_alert_until_the_data_is_whole(app: TestApp) {
    seed_alerting(&app).await;
    let mut sse = SseReader::connect(&app, None).await;
    sse.next().await;
    sse.next().await;
    app.service
        .data_gap(SHOP, "The 10:15 poll failed: orders may be missing")
        .await
        .unwrap();
    app.service.data_gap(SHOP, "Still failing").await.unwrap();
    // The shipment evaluation leaves a data gap alone.
    app.service.evaluate(SHOP).await.unwrap();
    let gap = sse.next().await;
    assert_eq!(gap.event, "alert");
    assert_eq!(gap.data["kind"], "data_gap");
    assert_eq!(gap.data["severity"], "critical");
    assert!(gap.data.get("orderId").is_none());
    assert_eq!(
        gap.data["message"],
        "The 10:15 poll failed: orders may be missing"
    );
    let gaps = |body: &Value| {
        body["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "data_gap")
            .count()
    };
    assert_eq!(
        gaps(poll(&app, Some("0")).await.assert_ok()),
        1,
        "raised once"
    );

    app.service.data_healthy(SHOP).await.unwrap();
    let resolved = sse.next().await;
    assert_eq!(resolved.event, "resolved");
    assert_eq!(resolved.data["id"], gap.data["id"]);
    assert_eq!(gaps(poll(&app, None).await.assert_ok()), 0);
}

contract!(
    a_data_gap_is_one_critical_alert_until_the_data_is_whole,
    a_new_client_gets_the_open_alerts_then_live_resolutions_and_refreshes,
    new_clients_share_one_replay_until_something_changes,
    a_condition_is_raised_once_however_often_it_is_evaluated,
    a_reconnecting_client_gets_what_it_missed_then_older_resolutions,
    the_polling_fallback_pages_by_id,
    bad_alert_queries_are_400s,
);

/// Two `orders-sync` processes on one database: a write through one reaches a stream on the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_database_both_deliver_every_event() {
    use orders_sync::store::{PgStore, Store};
    let url = fresh_database_url().await;
    let a = spawn_on(Store::Postgres(PgStore::connect_lazy(&url).unwrap())).await;
    let b = spawn_on(Store::Postgres(PgStore::connect_lazy(&url).unwrap())).await;
    seed_alerting(&a).await;
    let mut on_b = SseReader::connect(&b, None).await;
    let mut on_a = SseReader::connect(&a, None).await;
    let pending = open_alerts(&a)
        .await
        .into_iter()
        .find(|x| x.1 == "tracking_pending")
        .unwrap()
        .0;
    for sse in [&mut on_a, &mut on_b] {
        sse.next().await;
        sse.next().await;
    }
    a.fulfill(&[&gid(5001)], Some(("1Z999", "UPS")))
        .await
        .assert_ok();
    for sse in [&mut on_a, &mut on_b] {
        let resolved = sse.next().await;
        assert_eq!(
            (resolved.event.as_str(), resolved.data["id"].as_u64()),
            ("resolved", Some(pending))
        );
        assert_eq!(sse.next().await.event, "refresh");
    }
}

/// Shutting down with clients connected ends their streams instead of waiting for them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_shuts_down_with_clients_connected() {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (app, server) = spawn_stoppable(Backend::Memory, async {
        let _ = stopped.await;
    })
    .await;
    seed_alerting(&app).await;
    let mut clients = Vec::new();
    for _ in 0..5 {
        let mut sse = SseReader::connect(&app, None).await;
        sse.next().await;
        clients.push(sse);
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops within 5 s")
        .unwrap()
        .unwrap();
    for mut sse in clients {
        // The second open alert may still be in flight; then the stream ends.
        let mut rest = 0;
        while sse.next_within(Duration::from_secs(2)).await.is_some() {
            rest += 1;
            assert!(rest < 5, "the stream ends");
        }
    }
}
