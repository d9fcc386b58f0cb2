//! The outbox of a serving process: it delivers by itself and stops at shutdown, `GET /sync/outbox`
//! lists the queued events, and the dashboard shows those that could not be delivered.

use std::time::Duration;

use orders_core::ReturnState;
use orders_sync::outbox::OutboxConfig;
use orders_sync::settings::OutboxSettings;
use orders_sync::startup::Application;
use orders_sync::store::Store;
use serde_json::{json, Value};

use super::receiver::Receiver;
use super::{outbox_query, outbox_settings, quick, returned, worker};
use crate::contract;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_serving_process_delivers_by_itself_and_its_worker_stops_at_shutdown() {
    let receiver = Receiver::start().await;
    let mut settings = test_settings();
    settings.outbox = OutboxSettings {
        poll_interval: Some(Duration::from_millis(100)),
        ..outbox_settings(&receiver, false)
    };
    let store = fresh_database().await;
    let service = orders_sync::service::Service::new(
        Store::Postgres(store.clone()),
        None,
        "demo.myshopify.com".into(),
        settings.thresholds(),
    );
    let application = Application::build(&settings, service.clone(), leptos_options())
        .await
        .unwrap();
    let address = format!("http://{}", application.local_addr());
    let (shutdown, down) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(application.run_until(async {
        let _ = down.await;
    }));
    let app = TestApp {
        address,
        client: reqwest::Client::new(),
        store: Store::Postgres(store),
        service,
    };
    app.seed(SHOP, vec![order(5001).build()]).await;
    app.support(&gid(5001), None, "Please call the customer")
        .await
        .assert_ok();
    receiver.wait_for_requests(1).await;
    let delivered = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let counts = app.service.outbox_summary(SHOP).await.unwrap();
            if counts.delivered == 1 {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the event is recorded as delivered");
    // The assignment to the assistant waits: metafields are not pushed.
    assert_eq!((delivered.pending, delivered.dead), (1, 0));
    assert_eq!(receiver.received()[0].path, "/support");

    shutdown.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("the server and its workers stop")
        .unwrap()
        .unwrap();
}

async fn writes_queue_events_that_the_outbox_endpoint_lists_newest_first(app: TestApp) {
    app.seed(
        SHOP,
        vec![order(5001).build(), returned(5002, ReturnState::Inspection)],
    )
    .await;
    app.assign(&[&gid(5001)], Some("sam")).await.assert_ok();
    app.return_action(&gid(5002), "approve_refund", None)
        .await
        .assert_ok();
    app.support(&gid(5002), None, "Refund is late")
        .await
        .assert_ok();

    let r = app.get_json("/sync/outbox", &outbox_query(None)).await;
    let body = r.assert_ok();
    assert_eq!(
        body["counts"],
        json!({ "pending": 4, "delivered": 0, "dead": 0 })
    );
    let events = body["events"].as_array().unwrap();
    let topics: Vec<&str> = events
        .iter()
        .map(|e| e["topic"].as_str().unwrap())
        .collect();
    assert_eq!(
        topics,
        [
            "shopify.metafield.assignment",
            "support.escalation",
            "erp.return",
            "shopify.metafield.assignment"
        ]
    );
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert_eq!(events[3]["orderId"], gid(5001));
    for e in events {
        assert_eq!(e["state"], "pending");
        assert_eq!(e["attempts"], 0);
        assert_eq!(e["deliveredAt"], Value::Null);
        assert_eq!(e["deadAt"], Value::Null);
        assert_eq!(e["lastError"], Value::Null);
        assert!(e["nextAttemptAt"].is_string() && e["createdAt"].is_string());
    }

    let r = app
        .get_json("/sync/outbox", &outbox_query(Some("delivered")))
        .await;
    let body = r.assert_ok();
    assert_eq!(body["events"], json!([]));
    assert_eq!(body["counts"]["pending"], 4);
    let r = app
        .get_json("/sync/outbox", &outbox_query(Some("pending")))
        .await;
    assert_eq!(r.assert_ok()["events"].as_array().unwrap().len(), 4);

    let summary = app.service.outbox_summary(SHOP).await.unwrap();
    assert_eq!(
        (summary.pending, summary.delivered, summary.dead),
        (4, 0, 0)
    );
    let other = app
        .get_json("/sync/outbox", &[("shop_domain", OTHER_SHOP)])
        .await;
    assert_eq!(
        other.assert_ok(),
        &json!({ "events": [], "counts": { "pending": 0, "delivered": 0, "dead": 0 } })
    );
}

async fn bad_outbox_parameters_are_a_400_naming_the_parameter(app: TestApp) {
    app.get_json("/sync/outbox", &[])
        .await
        .assert_failure(400, &["shop_domain"]);
    app.get_json("/sync/outbox", &[("shop_domain", "not a shop")])
        .await
        .assert_failure(400, &["shop_domain", "not a shop"]);
    app.get_json("/sync/outbox", &[("shop_domain", SHOP), ("state", "lost")])
        .await
        .assert_failure(400, &["state", "lost", "pending, delivered, dead"]);
    app.get_json("/sync/outbox", &[("shop_domain", SHOP), ("state", "Dead")])
        .await
        .assert_ok();
}

contract!(
    writes_queue_events_that_the_outbox_endpoint_lists_newest_first,
    bad_outbox_parameters_are_a_400_naming_the_parameter,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_events_that_could_not_be_delivered() {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(SHOP, vec![order(5001).build()]).await;
    let page = || async {
        let r = app
            .client
            .get(format!("{}/orders?shop={SHOP}", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    };
    app.support(&gid(5001), Some("conv_1"), "Where is my parcel?")
        .await
        .assert_ok();
    assert!(!page().await.contains("outbox-dead"), "nothing is dead yet");

    let receiver = Receiver::start().await;
    receiver.with(|s| s.status = Some(500));
    let config = OutboxConfig {
        max_attempts: 1,
        ..quick(&outbox_settings(&receiver, false))
    };
    let report = worker(&app, config).deliver_due().await.unwrap();
    assert_eq!(report.dead().len(), 1, "{report:?}");
    let html = page().await;
    assert!(html.contains(r#"data-testid="outbox-dead""#), "{html}");
    assert!(html.contains("1 event could not be delivered"));
    assert!(html.contains(&format!("/sync/outbox?shop_domain={SHOP}&amp;state=dead")));
}
