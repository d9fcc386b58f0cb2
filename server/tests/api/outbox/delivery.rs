//! Delivery: each event reaches its receiver with its id as the idempotency key, metafields wait
//! while pushing is off, failures back off until the event is dead and `outbox retry` revives it,
//! and a failed attempt's error shows no credentials.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use clap::Parser;
use orders_core::outbox::OutboxDelivery;
use orders_core::{OutboxState, ReturnState};
use orders_sync::cli::{self, Cli, Command};
use orders_sync::outbox::{OutboxConfig, Outcome};
use reqwest::Url;
use serde_json::{json, Value};

use super::receiver::Receiver;
use super::{key, outbox_query, outbox_settings, pg, quick, returned, rows, worker};
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assign_support_and_return_events_reach_their_receivers_with_the_event_id_as_idempotency_key(
) {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(
        SHOP,
        vec![order(5001).build(), returned(5002, ReturnState::Inspection)],
    )
    .await;
    app.assign(&[&gid(5002)], Some("sam")).await.assert_ok();
    app.support(&gid(5001), Some("conv_9"), "Customer wants a refund")
        .await
        .assert_ok();
    app.return_action(&gid(5002), "approve_refund", Some("Item arrived intact"))
        .await
        .assert_ok();
    let queued = rows(&app).await;
    let topics: Vec<&str> = queued.values().map(|r| r.entry.topic.as_str()).collect();
    assert_eq!(
        topics,
        [
            "shopify.metafield.assignment",
            "support.escalation",
            "shopify.metafield.assignment",
            "erp.return"
        ]
    );
    let id_of = |topic: &str| {
        queued
            .values()
            .find(|r| r.entry.topic == topic)
            .unwrap()
            .entry
            .id
    };
    let (support_id, erp_id) = (id_of("support.escalation"), id_of("erp.return"));

    let receiver = Receiver::start().await;
    let worker = worker(&app, quick(&outbox_settings(&receiver, false)));
    let report = worker.deliver_due().await.unwrap();
    assert_eq!(report.delivered(), vec![support_id, erp_id], "{report:?}");

    let received = receiver.received();
    assert_eq!(received.len(), 2, "{received:?}");
    let payloads: BTreeMap<String, Value> = app
        .store
        .outbox(SHOP)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.topic, e.payload))
        .collect();
    for (id, path, topic, order_id) in [
        (support_id, "/support", "support.escalation", gid(5001)),
        (erp_id, "/erp", "erp.return", gid(5002)),
    ] {
        let r = received
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("nothing reached {path}: {received:?}"));
        assert_eq!(r.idempotency_key.as_deref(), Some(key(id).as_str()));
        assert_eq!(r.event_id.as_deref(), Some(key(id).as_str()));
        assert_eq!(r.topic.as_deref(), Some(topic));
        assert_eq!(r.content_type.as_deref(), Some("application/json"));
        let body: OutboxDelivery = serde_json::from_value(r.body.clone()).unwrap();
        assert_eq!(body.id, id);
        assert_eq!(body.topic, topic);
        assert_eq!(body.shop, SHOP);
        assert_eq!(body.order_id, order_id);
        assert_eq!(body.payload, payloads[topic]);
        assert_eq!(body.created_at, queued[&id].entry.created_at);
    }
    let support = received.iter().find(|r| r.path == "/support").unwrap();
    assert_eq!(support.body["payload"]["note"], "Customer wants a refund");
    assert_eq!(support.body["payload"]["conversationId"], "conv_9");
    assert_eq!(support.authorization, None);
    let erp = received.iter().find(|r| r.path == "/erp").unwrap();
    assert_eq!(erp.body["payload"]["to"], "awaiting_refund");
    // The URL's credentials travel as basic auth (sync:s3cret).
    assert_eq!(erp.authorization.as_deref(), Some("Basic c3luYzpzM2NyZXQ="));

    let listed = app.get_json("/sync/outbox", &outbox_query(None)).await;
    let body = listed.assert_ok();
    assert_eq!(
        body["counts"],
        json!({ "pending": 2, "delivered": 2, "dead": 0 })
    );
    let events = body["events"].as_array().unwrap();
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    let mut newest_first: Vec<i64> = queued.keys().copied().collect();
    newest_first.reverse();
    assert_eq!(ids, newest_first);
    for e in events {
        let delivered = [support_id, erp_id].contains(&e["id"].as_i64().unwrap());
        if delivered {
            assert_eq!(e["state"], "delivered", "{e}");
            assert_eq!(e["attempts"], 1, "{e}");
            assert!(e["deliveredAt"].is_string(), "{e}");
            assert_eq!(e["nextAttemptAt"], Value::Null, "{e}");
        } else {
            assert_eq!(e["state"], "pending", "{e}");
            assert_eq!(e["attempts"], 0, "{e}");
            assert!(e["nextAttemptAt"].is_string(), "{e}");
        }
        assert_eq!(e["lastError"], Value::Null, "{e}");
        assert!(
            e["createdAt"].is_string() && e["orderId"].is_string(),
            "{e}"
        );
    }

    // Delivered is delivered: another round sends nothing.
    assert_eq!(worker.deliver_due().await.unwrap().claimed(), 0);
    assert_eq!(receiver.received().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metafield_events_stay_queued_while_pushing_is_off_and_are_delivered_in_order_once_on() {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(SHOP, vec![order(5001).build()]).await;
    app.assign(&[&gid(5001)], Some("sam")).await.assert_ok();
    app.assign(&[&gid(5001)], Some("kim")).await.assert_ok();
    let receiver = Receiver::start().await;

    // The metafield URL is configured, but pushing is off: never attempted, never dead.
    let off = worker(
        &app,
        OutboxConfig {
            max_attempts: 1,
            ..quick(&outbox_settings(&receiver, false))
        },
    );
    for _ in 0..3 {
        let report = off.deliver_due().await.unwrap();
        assert_eq!(report.claimed(), 0, "{report:?}");
        assert_eq!(report.expired, 0, "{report:?}");
    }
    assert!(receiver.received().is_empty());
    let pending = app
        .get_json("/sync/outbox", &outbox_query(Some("pending")))
        .await;
    let body = pending.assert_ok();
    assert_eq!(
        body["counts"],
        json!({ "pending": 2, "delivered": 0, "dead": 0 })
    );
    for e in body["events"].as_array().unwrap() {
        assert_eq!(e["topic"], "shopify.metafield.assignment");
        assert_eq!(e["attempts"], 0);
        assert_eq!(e["lastError"], Value::Null);
    }

    let on = worker(&app, quick(&outbox_settings(&receiver, true)));
    let mut delivered = Vec::new();
    for _ in 0..4 {
        delivered.extend(on.deliver_due().await.unwrap().delivered());
    }
    let ids: Vec<i64> = rows(&app).await.keys().copied().collect();
    assert_eq!(delivered, ids, "one order's events go one after the other");
    let received = receiver.received();
    let owners: Vec<&Value> = received
        .iter()
        .map(|r| {
            assert_eq!(r.path, "/metafields");
            assert_eq!(r.topic.as_deref(), Some("shopify.metafield.assignment"));
            &r.body["payload"]["assignedTo"]
        })
        .collect();
    assert_eq!(owners, [&json!("sam"), &json!("kim")]);
    let counts = app.service.outbox_summary(SHOP).await.unwrap();
    assert_eq!((counts.pending, counts.delivered, counts.dead), (0, 2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_is_retried_further_apart_until_the_event_is_dead_and_retry_revives_it()
{
    let app = spawn_app(Backend::Postgres).await;
    app.seed(SHOP, vec![order(5001).build()]).await;
    app.support(&gid(5001), Some("conv_1"), "Where is my parcel?")
        .await
        .assert_ok();
    let receiver = Receiver::start().await;
    receiver.with(|s| s.status = Some(500));
    let config = OutboxConfig {
        max_attempts: 4,
        ..quick(&outbox_settings(&receiver, false))
    };
    let base = config.backoff.base;
    let worker = worker(&app, config);
    let id = rows(&app)
        .await
        .values()
        .find(|r| r.entry.topic == "support.escalation")
        .unwrap()
        .entry
        .id;

    let mut waits = Vec::new();
    let mut next_attempts = Vec::new();
    for attempt in 1..=3u32 {
        let report = worker.deliver_due().await.unwrap();
        assert_eq!(report.settled.len(), 1, "{report:?}");
        let settled = &report.settled[0];
        assert_eq!((settled.id, settled.attempts), (id, attempt));
        let Outcome::Retry {
            error,
            after,
            next_attempt_at,
        } = &settled.outcome
        else {
            panic!("attempt {attempt} should be retried: {settled:?}");
        };
        assert_eq!(
            error,
            "the receiver answered HTTP 500: upstream exploded while saving"
        );
        let ceiling = base * 2u32.pow(attempt - 1);
        assert!(
            *after >= ceiling / 2 && *after <= ceiling,
            "wait {after:?} after attempt {attempt}"
        );
        let row = &rows(&app).await[&id];
        assert_eq!(row.entry.state, OutboxState::Pending);
        assert_eq!(row.entry.attempts, attempt);
        assert_eq!(row.entry.next_attempt_at, Some(*next_attempt_at));
        assert_eq!(row.entry.last_error.as_deref(), Some(error.as_str()));
        // Not due before its time.
        assert_eq!(worker.deliver_due().await.unwrap().claimed(), 0);
        waits.push(*after);
        next_attempts.push(*next_attempt_at);
        tokio::time::sleep(*after + Duration::from_millis(100)).await;
    }
    assert!(waits.windows(2).all(|w| w[1] >= w[0]), "{waits:?}");
    assert!(
        next_attempts
            .windows(2)
            .all(|w| w[1] - w[0] >= chrono::Duration::from_std(waits[0]).unwrap()),
        "{next_attempts:?}"
    );

    let report = worker.deliver_due().await.unwrap();
    assert_eq!(report.dead(), vec![id], "{report:?}");
    assert_eq!(receiver.received().len(), 4);
    assert!(receiver.applied().is_empty());
    // Dead is dead: no more attempts.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(worker.deliver_due().await.unwrap().claimed(), 0);

    let dead = app
        .get_json("/sync/outbox", &outbox_query(Some("dead")))
        .await;
    let body = dead.assert_ok();
    assert_eq!(
        body["counts"],
        json!({ "pending": 1, "delivered": 0, "dead": 1 })
    );
    let events = body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{body}");
    let e = &events[0];
    assert_eq!(e["id"], id);
    assert_eq!(e["state"], "dead");
    assert_eq!(e["attempts"], 4);
    assert!(e["deadAt"].is_string(), "{e}");
    assert_eq!(e["nextAttemptAt"], Value::Null);
    assert_eq!(
        e["lastError"],
        "the receiver answered HTTP 500: upstream exploded while saving"
    );

    // The operator's view, then the retry.
    let pg = pg(&app);
    let mut out = Vec::new();
    let Cli {
        command: Some(Command::Outbox(list)),
    } = Cli::try_parse_from([
        "orders-sync",
        "outbox",
        "list",
        "--shop",
        SHOP,
        "--state",
        "dead",
    ])
    .unwrap()
    else {
        panic!("outbox list parses as the outbox command");
    };
    cli::outbox(
        &orders_sync::service::Outbox::new(pg.clone()),
        list,
        &mut out,
    )
    .await
    .unwrap();
    let listing = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 2, "{listing}");
    assert!(
        lines[0].starts_with(&format!(
            "{id}\t{SHOP}\tsupport.escalation\t{}\tdead\tattempts 4\tdead since ",
            gid(5001)
        )),
        "{listing}"
    );
    assert!(lines[0].ends_with("HTTP 500: upstream exploded while saving"));
    assert_eq!(lines[1], format!("{SHOP}: 1 pending, 0 delivered, 1 dead"));
    assert!(Cli::try_parse_from(["orders-sync", "outbox", "list", "--state", "lost"]).is_err());

    let retry =
        |id: &str| match Cli::try_parse_from(["orders-sync", "outbox", "retry", id]).unwrap() {
            Cli {
                command: Some(Command::Outbox(cmd)),
            } => cmd,
            other => panic!("{other:?}"),
        };
    let mut out = Vec::new();
    cli::outbox(
        &orders_sync::service::Outbox::new(pg.clone()),
        retry(&id.to_string()),
        &mut out,
    )
    .await
    .unwrap();
    assert!(
        String::from_utf8(out).unwrap().contains("is pending again"),
        "the retry says what it did"
    );
    let again = cli::outbox(
        &orders_sync::service::Outbox::new(pg.clone()),
        retry(&id.to_string()),
        &mut Vec::new(),
    )
    .await
    .unwrap_err();
    assert!(
        again.to_string().contains("is pending, not dead"),
        "{again}"
    );
    let missing = cli::outbox(
        &orders_sync::service::Outbox::new(pg.clone()),
        retry("999999"),
        &mut Vec::new(),
    )
    .await
    .unwrap_err();
    assert!(
        missing.to_string().contains("no outbox event 999999"),
        "{missing}"
    );

    let row = &rows(&app).await[&id];
    assert_eq!(row.entry.state, OutboxState::Pending);
    assert_eq!(row.entry.attempts, 0);
    assert_eq!(row.entry.dead_at, None);

    receiver.with(|s| s.status = None);
    let report = worker.deliver_due().await.unwrap();
    assert_eq!(report.delivered(), vec![id], "{report:?}");
    assert_eq!(receiver.applied(), BTreeSet::from([key(id)]));
    let row = &rows(&app).await[&id];
    assert_eq!(row.entry.state, OutboxState::Delivered);
    assert_eq!(row.entry.attempts, 1);
    assert_eq!(row.entry.last_error, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_or_silent_receiver_is_a_failed_attempt_whose_error_shows_no_credentials() {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(
        SHOP,
        vec![
            returned(5001, ReturnState::Inspection),
            returned(5002, ReturnState::Inspection),
        ],
    )
    .await;
    app.return_action(&gid(5001), "approve_refund", None)
        .await
        .assert_ok();
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let receiver = Receiver::start().await;
    let mut settings = outbox_settings(&receiver, false);
    settings.erp_url = Some(
        Url::parse(&format!(
            "http://sync:s3cret@127.0.0.1:{closed}/erp?token=t0ken"
        ))
        .unwrap(),
    );
    let report = worker(&app, quick(&settings)).deliver_due().await.unwrap();
    let Outcome::Retry { error, .. } = &report.settled[0].outcome else {
        panic!("{report:?}");
    };
    assert!(
        error.starts_with("could not connect to the receiver ("),
        "{error}"
    );
    for secret in ["s3cret", "sync:", "t0ken", "127.0.0.1"] {
        assert!(!error.contains(secret), "{error}");
    }

    app.return_action(&gid(5002), "approve_refund", None)
        .await
        .assert_ok();
    receiver.with(|s| s.delay = Duration::from_secs(3));
    let silent = OutboxConfig {
        request_timeout: Duration::from_millis(300),
        ..quick(&outbox_settings(&receiver, false))
    };
    let report = worker(&app, silent).deliver_due().await.unwrap();
    let errors: Vec<&Outcome> = report.settled.iter().map(|s| &s.outcome).collect();
    assert!(
        errors.iter().all(|o| matches!(o, Outcome::Retry { error, .. } if error == "no answer within 300 ms (timeout)")),
        "{report:?}"
    );
    assert!(!report.settled.is_empty(), "{report:?}");
}
