//! Workers and their leases: a killed, a late or a stopped worker never makes an event take effect
//! twice, workers skip what another is claiming, and an order's events go one after the other.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use orders_core::{OutboxState, ReturnState};
use orders_sync::outbox::{OutboxConfig, OutboxWorker};
use serde_json::{json, Value};

use super::receiver::Receiver;
use super::{key, outbox_settings, pg, quick, returned, rows, worker};
use crate::helpers::*;

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
        orders_sync::workers::outbox::run_until(&running, async {
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
