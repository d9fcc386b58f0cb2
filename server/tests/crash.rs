//! The real `orders-sync serve` killed with SIGKILL in the middle of a write load: every write it
//! acknowledged is in the database, whole, and none is half-written; every write it did not get to
//! acknowledge, retried with its `Idempotency-Key` after a restart, applies exactly once.
//!
//! Each write is a support escalation under its own conversation id: three rows in three tables (the
//! escalation, its timeline entry, its outbox event) that must commit together or not at all.
//! `bash scripts/crash-test.sh` runs this with its figures printed.

#![allow(
    clippy::unwrap_used,
    reason = "a test's helpers fail the test, with its line, when they unwrap"
)]

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::{Connection, PgConnection};

use self::common::fresh_database_url;

const SHOP: &str = "crash.myshopify.com";
const ORDERS: usize = 200;
const WRITERS: usize = 16;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn orders_sync(database_url: &str, port: u16, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orders-sync"));
    cmd.args(args)
        // The workspace root: where a plain `cargo build` binary finds its Leptos settings.
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("SYNC_POLL_INTERVAL", "off")
        .env("OUTBOX_POLL_INTERVAL", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

async fn start(database_url: &str, port: u16) -> Child {
    let mut child = orders_sync(database_url, port, &["serve"])
        .spawn()
        .expect("orders-sync starts");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    let ready = loop {
        let ready = client
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200);
        if ready || Instant::now() >= deadline {
            break ready;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    if ready {
        child
    } else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("the server did not become ready");
    }
}

/// One escalation request: its idempotency key and body.
fn request(writer: usize, n: usize) -> (String, serde_json::Value) {
    let thread = format!("conv_{writer}_{n}");
    let order = (writer * 7919 + n) % ORDERS;
    (
        format!("key-{thread}"),
        json!({ "orderId": format!("#{}", 1001 + order),
                "conversationId": thread, "note": "crash test", "shop_domain": SHOP }),
    )
}

/// How many of the three rows of the escalation under `thread` exist.
async fn rows_of(conn: &mut PgConnection, thread: &str) -> (i64, i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT count(*) FROM support_escalations WHERE thread = $1), \
                (SELECT count(*) FROM timeline_entries \
                  WHERE event = 'support.escalated' AND details LIKE 'Escalated to support (' || $1 || ')%'), \
                (SELECT count(*) FROM outbox WHERE payload->>'conversationId' = $1)",
    )
    .bind(thread)
    .fetch_one(conn)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_write_load_loses_nothing_acknowledged_and_half_writes_nothing() {
    let url = fresh_database_url().await;
    let port = free_port();
    let seeded = orders_sync(
        &url,
        port,
        &["seed", "--shop", SHOP, "--orders", &ORDERS.to_string()],
    )
    .status()
    .unwrap();
    assert!(seeded.success());
    let mut server = start(&url, port).await;

    // The load: WRITERS clients, each sending escalations one after another until the server dies.
    let client = reqwest::Client::new();
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let client = client.clone();
            let stop = stop.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let (mut acked, mut unacked) = (Vec::new(), Vec::new());
                for n in 0.. {
                    let (key, body) = request(w, n);
                    let sent = client
                        .post(format!("http://127.0.0.1:{port}/sync/orders/support"))
                        .header("idempotency-key", &key)
                        .json(&body)
                        .timeout(Duration::from_secs(5))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 200 => {
                            acked.push(n);
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => panic!("writer {w}: {} before the kill", r.status()),
                        Err(_) => {
                            unacked.push(n);
                            break;
                        }
                    }
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                }
                (w, acked, unacked)
            })
        })
        .collect();
    // Killed in the thick of it: once 200 writes are acknowledged, with 16 more in flight.
    let deadline = Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::Relaxed) < 200 {
        assert!(Instant::now() < deadline, "the load runs");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().expect("SIGKILL"); // `Child::kill` is SIGKILL on Unix
    server.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    let mut unacked = Vec::new();
    for writer in writers {
        let (w, a, u) = writer.await.unwrap();
        acked.extend(a.into_iter().map(|n| (w, n)));
        unacked.extend(u.into_iter().map(|n| (w, n)));
    }
    assert!(acked.len() >= 200, "{}", acked.len());

    let mut conn = PgConnection::connect(&url).await.unwrap();
    for &(w, n) in &acked {
        let thread = format!("conv_{w}_{n}");
        assert_eq!(
            rows_of(&mut conn, &thread).await,
            (1, 1, 1),
            "{thread} acknowledged"
        );
    }
    let mut applied_before_restart = 0;
    for &(w, n) in &unacked {
        let thread = format!("conv_{w}_{n}");
        match rows_of(&mut conn, &thread).await {
            (1, 1, 1) => applied_before_restart += 1,
            (0, 0, 0) => {}
            half => panic!("{thread} is half-written: {half:?}"),
        }
    }

    // Restarted, the clients retry what they never heard back about, with the same keys.
    let mut server = start(&url, port).await;
    let mut replayed = 0;
    for &(w, n) in &unacked {
        let (key, body) = request(w, n);
        let r = client
            .post(format!("http://127.0.0.1:{port}/sync/orders/support"))
            .header("idempotency-key", &key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        if r.headers().contains_key("idempotent-replayed") {
            replayed += 1;
        }
        let thread = format!("conv_{w}_{n}");
        assert_eq!(
            rows_of(&mut conn, &thread).await,
            (1, 1, 1),
            "{thread} once"
        );
    }
    assert_eq!(replayed, applied_before_restart);
    // A retry of an acknowledged write is a replay, not a second escalation.
    let (w, n) = acked[0];
    let (key, body) = request(w, n);
    let r = client
        .post(format!("http://127.0.0.1:{port}/sync/orders/support"))
        .header("idempotency-key", &key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["idempotent-replayed"], "true");
    assert_eq!(
        rows_of(&mut conn, &format!("conv_{w}_{n}")).await,
        (1, 1, 1)
    );
    server.kill().unwrap();
    server.wait().unwrap();
    eprintln!(
        "SIGKILL mid-load: {} writes acknowledged, {} found whole; {} in flight: {} had committed \
         (replayed on retry), {} had not (applied on retry); 0 half-written",
        acked.len(),
        acked.len(),
        unacked.len(),
        applied_before_restart,
        unacked.len() - applied_before_restart
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests_and_ends_live_streams() {
    use futures::StreamExt;

    let url = fresh_database_url().await;
    let port = free_port();
    let seeded = orders_sync(
        &url,
        port,
        &["seed", "--shop", SHOP, "--orders", &ORDERS.to_string()],
    )
    .status()
    .unwrap();
    assert!(seeded.success());
    let mut server = start(&url, port).await;
    let client = reqwest::Client::new();

    // A live-alert stream, open when the signal comes.
    let stream = client
        .get(format!(
            "http://127.0.0.1:{port}/sync/orders/alerts?shop_domain={SHOP}"
        ))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let live = tokio::spawn(async move {
        let mut body = stream.bytes_stream();
        let mut clean = true;
        while let Some(chunk) = body.next().await {
            clean &= chunk.is_ok();
        }
        clean
    });

    // Writers keep writing while the signal comes.
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let client = client.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut statuses = Vec::new();
                for n in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let (key, body) = request(w, n);
                    match client
                        .post(format!("http://127.0.0.1:{port}/sync/orders/support"))
                        .header("idempotency-key", &key)
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(r) => statuses.push((n, r.status().as_u16())),
                        Err(_) => break, // the server stopped taking requests
                    }
                }
                statuses
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let terminated = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let started = Instant::now();
    let exit = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the server stops after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    stop.store(true, Ordering::Relaxed);
    assert!(exit.success(), "a clean exit: {exit:?}");
    assert!(
        tokio::time::timeout(Duration::from_secs(5), live)
            .await
            .expect("the live stream ends")
            .unwrap(),
        "the live stream ends cleanly, not cut"
    );
    let mut answered = 0;
    let mut conn = PgConnection::connect(&url).await.unwrap();
    for (w, writer) in writers.into_iter().enumerate() {
        let statuses = writer.await.unwrap();
        assert!(statuses.iter().all(|(_, s)| *s == 200), "{statuses:?}");
        for (n, _) in &statuses {
            let thread = format!("conv_{w}_{n}");
            assert_eq!(rows_of(&mut conn, &thread).await, (1, 1, 1), "{thread}");
        }
        answered += statuses.len();
    }
    assert!(answered > 0);
    eprintln!(
        "SIGTERM under load: {answered} writes answered, all 200; stopped in {} ms; the live stream ended cleanly",
        started.elapsed().as_millis()
    );
}
