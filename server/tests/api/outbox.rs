//! The transactional outbox (SPEC §7): writes queue events, the worker delivers them to receivers
//! served from the test, at least once, with backoff and a dead state; `GET /sync/outbox` and the
//! `outbox` commands show and revive them. The receiver applies each event once, deduplicating by
//! `X-Sync-Event-Id`, as a real one must.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use clap::Parser;
use orders_core::outbox::OutboxDelivery;
use orders_core::{OutboxState, ReturnState};
use orders_sync::cli::{self, Cli, Command};
use orders_sync::outbox::{Backoff, OutboxConfig, OutboxWorker, Outcome};
use orders_sync::settings::OutboxSettings;
use orders_sync::startup::Application;
use orders_sync::store::postgres::outbox::OutboxRecord;
use orders_sync::store::{PgStore, Store};
use reqwest::Url;
use serde_json::{json, Value};
use tokio::sync::Notify;

use crate::contract;
use crate::helpers::*;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    idempotency_key: Option<String>,
    event_id: Option<String>,
    topic: Option<String>,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Value,
}

#[derive(Default)]
struct ReceiverState {
    received: Vec<Received>,
    /// Event ids whose effect was applied, and how many requests carried each.
    applied: BTreeSet<String>,
    /// The status answered (200 when unset).
    status: Option<u16>,
    /// Event ids answered 500 whatever `status` says.
    failing: BTreeSet<String>,
    /// Hold the next request open forever (after applying it: the answer is what gets lost).
    hold_next: bool,
    /// Wait this long before answering.
    delay: Duration,
}

/// An integration's endpoint on a random port: records every request, applies each event once.
struct Receiver {
    base: String,
    state: Arc<Mutex<ReceiverState>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    async fn start() -> Self {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let arrived = Arc::new(Notify::new());
        let router = Router::new()
            .fallback(receive)
            .with_state((state.clone(), arrived.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver {
            base,
            state,
            arrived,
        }
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.base)).unwrap()
    }

    fn with<T>(&self, f: impl FnOnce(&mut ReceiverState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    fn received(&self) -> Vec<Received> {
        self.with(|s| s.received.clone())
    }

    fn applied(&self) -> BTreeSet<String> {
        self.with(|s| s.applied.clone())
    }

    /// How many requests carried each event id.
    fn requests_by_event(&self) -> BTreeMap<String, usize> {
        let mut by = BTreeMap::new();
        for r in self.received() {
            *by.entry(r.event_id.unwrap_or_default()).or_default() += 1;
        }
        by
    }

    /// Waits until the receiver has had `n` requests.
    async fn wait_for_requests(&self, n: usize) {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let notified = self.arrived.notified();
                if self.with(|s| s.received.len()) >= n {
                    return;
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the receiver did not get {n} requests: {:?}",
                self.received()
            )
        });
    }
}

async fn receive(
    State((state, arrived)): State<(Arc<Mutex<ReceiverState>>, Arc<Notify>)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let received = Received {
        path: uri.path().to_owned(),
        idempotency_key: header("idempotency-key"),
        event_id: header("x-sync-event-id"),
        topic: header("x-sync-topic"),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let (status, hold, delay) = {
        let mut s = state.lock().unwrap();
        let event = received.event_id.clone().unwrap_or_default();
        let status = if s.failing.contains(&event) {
            500
        } else {
            s.status.unwrap_or(200)
        };
        if (200..300).contains(&status) {
            // The effect happens once per event, however many times it is sent.
            s.applied.insert(event);
        }
        s.received.push(received);
        let hold = std::mem::take(&mut s.hold_next);
        (status, hold, s.delay)
    };
    arrived.notify_waiters();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if hold {
        std::future::pending::<()>().await;
    }
    (
        StatusCode::from_u16(status).unwrap(),
        "upstream exploded\n  while saving",
    )
        .into_response()
}

fn pg(app: &TestApp) -> PgStore {
    match &app.store {
        Store::Postgres(pg) => pg.clone(),
        Store::Memory(_) => panic!("the outbox worker runs on PostgreSQL"),
    }
}

/// The settings of a process whose receivers are `receiver`'s `/support`, `/erp` (behind basic
/// auth in the URL) and `/metafields`.
fn outbox_settings(receiver: &Receiver, push_metafields: bool) -> OutboxSettings {
    let mut erp = receiver.url("/erp");
    erp.set_username("sync").unwrap();
    erp.set_password(Some("s3cret")).unwrap();
    OutboxSettings {
        support_url: Some(receiver.url("/support")),
        erp_url: Some(erp),
        metafield_url: Some(receiver.url("/metafields")),
        push_metafields,
        ..OutboxSettings::default()
    }
}

/// The worker's configuration for `settings`, with the timings short enough for a test.
fn quick(settings: &OutboxSettings) -> OutboxConfig {
    OutboxConfig {
        lease: Duration::from_secs(2),
        request_timeout: Duration::from_millis(1500),
        poll_interval: Duration::from_millis(50),
        backoff: Backoff {
            base: Duration::from_millis(400),
            cap: Duration::from_secs(10),
        },
        ..OutboxConfig::from_settings(settings)
    }
}

fn worker(app: &TestApp, config: OutboxConfig) -> OutboxWorker {
    OutboxWorker::new(pg(app), config).unwrap()
}

/// Every event of the shop, by id.
async fn rows(app: &TestApp) -> BTreeMap<i64, OutboxRecord> {
    let (records, _) = pg(app).outbox_list(Some(SHOP), None, 1000).await.unwrap();
    records.into_iter().map(|r| (r.entry.id, r)).collect()
}

fn key(id: i64) -> String {
    format!("{SHOP}:{id}")
}

fn returned(n: u64, state: ReturnState) -> orders_core::record::OrderRecord {
    order(n).with_return(state).build()
}

fn outbox_query(state: Option<&str>) -> Vec<(&str, &str)> {
    let mut q = vec![("shop_domain", SHOP)];
    if let Some(state) = state {
        q.push(("state", state));
    }
    q
}

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
    cli::outbox(&pg, list, &mut out).await.unwrap();
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
    cli::outbox(&pg, retry(&id.to_string()), &mut out)
        .await
        .unwrap();
    assert!(
        String::from_utf8(out).unwrap().contains("is pending again"),
        "the retry says what it did"
    );
    let again = cli::outbox(&pg, retry(&id.to_string()), &mut Vec::new())
        .await
        .unwrap_err();
    assert!(
        again.to_string().contains("is pending, not dead"),
        "{again}"
    );
    let missing = cli::outbox(&pg, retry("999999"), &mut Vec::new())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_delivery_leaves_the_event_to_the_next_after_its_lease_and_it_takes_effect_once(
) {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(SHOP, vec![returned(5001, ReturnState::Inspection)])
        .await;
    app.return_action(&gid(5001), "approve_refund", None)
        .await
        .assert_ok();
    let id = *rows(&app).await.keys().next().unwrap();
    let receiver = Receiver::start().await;
    receiver.with(|s| s.hold_next = true);
    let config = quick(&outbox_settings(&receiver, false));
    let lease = config.lease;

    // The receiver applies the event but never answers; the process dies meanwhile.
    let doomed = worker(&app, config.clone());
    let delivering = tokio::spawn(async move { doomed.deliver_due().await });
    receiver.wait_for_requests(1).await;
    let killed_at = std::time::Instant::now();
    delivering.abort();
    assert!(delivering.await.unwrap_err().is_cancelled());
    let row = &rows(&app).await[&id];
    assert_eq!(row.entry.state, OutboxState::Pending);
    assert_eq!(row.entry.attempts, 1);

    // The restarted process leaves the event alone while the dead one's lease holds...
    let restarted = worker(&app, config);
    assert_eq!(restarted.deliver_due().await.unwrap().claimed(), 0);
    // ...and delivers it once the lease has run out.
    let report = loop {
        let report = restarted.deliver_due().await.unwrap();
        if report.claimed() > 0 {
            break report;
        }
        assert!(
            killed_at.elapsed() < lease * 5,
            "the event was not delivered after the lease"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(killed_at.elapsed() >= lease - Duration::from_millis(500));
    assert_eq!(report.delivered(), vec![id], "{report:?}");
    assert_eq!(report.settled[0].attempts, 2);

    // Sent twice, applied once.
    assert_eq!(receiver.requests_by_event(), BTreeMap::from([(key(id), 2)]));
    assert_eq!(receiver.applied(), BTreeSet::from([key(id)]));
    let row = &rows(&app).await[&id];
    assert_eq!(row.entry.state, OutboxState::Delivered);
    assert_eq!(row.entry.attempts, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_whose_lease_ran_out_cannot_overwrite_the_newer_claim_and_an_unanswered_last_attempt_is_dead(
) {
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
    let pg = pg(&app);
    let topics = vec!["erp.return".to_owned()];
    let short = Duration::from_millis(50);

    // A claims, its lease runs out, B claims: A's late failure changes nothing.
    let a = pg.claim_outbox(&topics, 10, short, 10).await.unwrap();
    assert_eq!((a.len(), a[0].attempts), (1, 1));
    tokio::time::sleep(short * 3).await;
    let b = pg
        .claim_outbox(&topics, 10, Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!((b.len(), b[0].id, b[0].attempts), (1, a[0].id, 2));
    assert_eq!(
        pg.outbox_retry_later(&a[0], "stale", Duration::from_secs(1))
            .await
            .unwrap(),
        None
    );
    assert_eq!(pg.outbox_dead(&a[0], "stale").await.unwrap(), None);
    let row = &rows(&app).await[&a[0].id];
    assert_eq!(row.entry.state, OutboxState::Pending);
    assert_eq!(row.entry.attempts, 2);
    assert_eq!(row.entry.last_error, None);
    assert_eq!(row.entry.next_attempt_at, Some(b[0].lease_until));
    assert!(pg.outbox_delivered(b[0].id).await.unwrap().is_some());

    // A last attempt that never reports back (its worker died) makes the event dead once the
    // lease has run out.
    app.return_action(&gid(5002), "approve_refund", None)
        .await
        .assert_ok();
    let last = pg.claim_outbox(&topics, 1, short, 10).await.unwrap();
    assert_eq!((last.len(), last[0].attempts), (1, 1));
    let receiver = Receiver::start().await;
    let worker = worker(
        &app,
        OutboxConfig {
            max_attempts: 1,
            ..quick(&outbox_settings(&receiver, false))
        },
    );
    tokio::time::sleep(short * 3).await;
    let report = worker.deliver_due().await.unwrap();
    assert_eq!((report.expired, report.claimed()), (1, 0), "{report:?}");
    let row = &rows(&app).await[&last[0].id];
    assert_eq!(row.entry.state, OutboxState::Dead);
    assert_eq!(
        row.entry.last_error.as_deref(),
        Some("no attempts left (1 made, the limit is 1); the last one never reported back")
    );
    assert!(receiver.received().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_worker_gives_back_the_event_it_was_delivering_for_the_next_process_at_once() {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(SHOP, vec![order(5001).build()]).await;
    let receiver = Receiver::start().await;
    receiver.with(|s| s.hold_next = true);
    // A lease far longer than the test: only a given-back event can go again at once.
    let config = OutboxConfig {
        lease: Duration::from_secs(600),
        request_timeout: Duration::from_secs(300),
        ..quick(&outbox_settings(&receiver, false))
    };
    let running = worker(&app, config.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        running
            .run_until(async {
                let _ = stopped.await;
            })
            .await
    });

    // The running worker finds the new event by itself.
    app.support(&gid(5001), None, "Parcel arrived damaged")
        .await
        .assert_ok();
    receiver.wait_for_requests(1).await;
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("the worker stops at once, mid-delivery")
        .unwrap();
    let id = *rows(&app).await.keys().next().unwrap();
    let row = &rows(&app).await[&id];
    assert_eq!(row.entry.state, OutboxState::Pending);
    assert_eq!(row.entry.attempts, 1, "the attempt still counts");

    let next = worker(&app, config);
    let report = next.deliver_due().await.unwrap();
    assert_eq!(report.delivered(), vec![id], "{report:?}");
    assert_eq!(receiver.requests_by_event(), BTreeMap::from([(key(id), 2)]));
    assert_eq!(receiver.applied(), BTreeSet::from([key(id)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_skips_an_event_another_is_claiming_instead_of_waiting_for_it() {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(
        SHOP,
        (5001..5004)
            .map(|n| returned(n, ReturnState::Inspection))
            .collect(),
    )
    .await;
    for n in 5001..5004 {
        app.return_action(&gid(n), "approve_refund", None)
            .await
            .assert_ok();
    }
    let ids: Vec<i64> = rows(&app).await.keys().copied().collect();
    let receiver = Receiver::start().await;
    let worker = worker(&app, quick(&outbox_settings(&receiver, false)));

    // Another worker is in the middle of claiming the first event: its row is locked.
    let mut other = pg(&app).pool().begin().await.unwrap();
    sqlx::query("SELECT id FROM outbox WHERE id = $1 FOR UPDATE")
        .bind(ids[0])
        .execute(&mut *other)
        .await
        .unwrap();
    let report = tokio::time::timeout(Duration::from_secs(5), worker.deliver_due())
        .await
        .expect("the worker skips the locked event rather than waiting for it")
        .unwrap();
    assert_eq!(report.delivered(), ids[1..].to_vec(), "{report:?}");
    other.rollback().await.unwrap();
    let report = worker.deliver_due().await.unwrap();
    assert_eq!(report.delivered(), vec![ids[0]], "{report:?}");
    assert_eq!(receiver.requests_by_event().len(), 3);
    assert!(receiver.requests_by_event().values().all(|&n| n == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_at_once_never_deliver_one_event_twice() {
    let app = spawn_app(Backend::Postgres).await;
    let orders: Vec<u64> = (5001..5037).collect();
    app.seed(
        SHOP,
        orders
            .iter()
            .map(|&n| returned(n, ReturnState::Inspection))
            .collect(),
    )
    .await;
    for &n in &orders {
        app.return_action(&gid(n), "approve_refund", None)
            .await
            .assert_ok();
    }
    let all: BTreeSet<i64> = rows(&app).await.keys().copied().collect();
    assert_eq!(all.len(), orders.len());
    let receiver = Receiver::start().await;
    receiver.with(|s| s.delay = Duration::from_millis(5));
    let config = OutboxConfig {
        batch: 2,
        ..quick(&outbox_settings(&receiver, false))
    };

    let drain = |w: OutboxWorker| {
        tokio::spawn(async move {
            let mut delivered = Vec::new();
            loop {
                let report = w.deliver_due().await.unwrap();
                if report.claimed() == 0 {
                    return delivered;
                }
                delivered.extend(report.delivered());
            }
        })
    };
    let workers: Vec<_> = (0..3)
        .map(|_| drain(worker(&app, config.clone())))
        .collect();
    let mut delivered = Vec::new();
    for w in workers {
        delivered.push(w.await.unwrap());
    }

    let mut seen = BTreeSet::new();
    for ids in &delivered {
        for id in ids {
            assert!(
                seen.insert(*id),
                "event {id} was delivered twice: {delivered:?}"
            );
        }
    }
    assert_eq!(seen, all);
    let by_event = receiver.requests_by_event();
    assert_eq!(by_event.len(), all.len());
    assert!(by_event.values().all(|&n| n == 1), "{by_event:?}");
    assert!(
        delivered.iter().filter(|ids| !ids.is_empty()).count() >= 2,
        "the workers ran side by side: {delivered:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_waits_for_the_earlier_ones_of_its_order_and_a_dead_one_stops_holding_them_back() {
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
    app.return_action(&gid(5001), "complete", None)
        .await
        .assert_ok();
    app.return_action(&gid(5002), "approve_refund", None)
        .await
        .assert_ok();
    let ids: Vec<i64> = rows(&app).await.keys().copied().collect();
    let [first, second, other] = ids[..] else {
        panic!("three events: {ids:?}");
    };
    let receiver = Receiver::start().await;
    receiver.with(|s| s.failing.insert(key(first)));
    let worker = worker(
        &app,
        OutboxConfig {
            max_attempts: 2,
            ..quick(&outbox_settings(&receiver, false))
        },
    );

    // The order's second event waits behind its first; the other order's goes.
    let report = worker.deliver_due().await.unwrap();
    assert_eq!(report.retrying(), vec![first], "{report:?}");
    assert_eq!(report.delivered(), vec![other], "{report:?}");
    assert_eq!(report.claimed(), 2);
    assert_eq!(rows(&app).await[&second].entry.attempts, 0);

    // Once the first is dead, the second goes.
    let mut dead = Vec::new();
    let mut delivered = Vec::new();
    for _ in 0..40 {
        let report = worker.deliver_due().await.unwrap();
        dead.extend(report.dead());
        delivered.extend(report.delivered());
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(dead, vec![first]);
    assert_eq!(delivered, vec![second]);
    let received: Vec<Value> = receiver
        .received()
        .into_iter()
        .filter(|r| r.body["orderId"] == gid(5001))
        .map(|r| r.body["payload"]["to"].clone())
        .collect();
    assert_eq!(
        received,
        [
            json!("awaiting_refund"),
            json!("awaiting_refund"),
            json!("completed")
        ]
    );
}

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
