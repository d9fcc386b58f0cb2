//! What a slow or greedy client may take (issue: hostile load): the header read timeout, the
//! connection ceiling, the request deadline, and the workers named by `/readyz`.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

fn host(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Everything the server sends until it closes the connection, or `None` if it is still open
/// after `wait`.
async fn read_until_closed(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut out = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    read.ok()
        .map(|()| String::from_utf8_lossy(&out).into_owned())
}

#[tokio::test]
async fn a_client_that_stops_halfway_through_its_headers_is_closed_at_the_header_timeout() {
    let app = spawn_with(Backend::Memory, |s| {
        s.limits.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let mut slow = TcpStream::connect(host(&app)).await.unwrap();
    slow.write_all(b"GET /sync/ord").await.unwrap();
    let started = Instant::now();
    let closed = read_until_closed(&mut slow, Duration::from_secs(5)).await;
    assert!(closed.is_some(), "still open after 5 s");
    assert!(started.elapsed() >= Duration::from_millis(900));
    // An idle connection is closed the same way; one that sends its request in time is served.
    let mut idle = TcpStream::connect(host(&app)).await.unwrap();
    assert!(read_until_closed(&mut idle, Duration::from_secs(5))
        .await
        .is_some());
    let r = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn past_the_connection_ceiling_a_client_is_refused_with_the_envelope_and_later_served() {
    let app = spawn_with(Backend::Memory, |s| {
        s.limits.max_connections = 2;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut c = TcpStream::connect(host(&app)).await.unwrap();
        c.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buffer = [0u8; 1024];
        let n = c.read(&mut buffer).await.unwrap();
        assert!(String::from_utf8_lossy(&buffer[..n]).starts_with("HTTP/1.1 200"));
        held.push(c); // kept alive
    }
    let mut third = TcpStream::connect(host(&app)).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut third, Duration::from_secs(5))
        .await
        .expect("the refusal closes the connection");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after: "),
        "{answer}"
    );
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["success"], false, "{body}");
    assert!(body["message"]
        .as_str()
        .unwrap()
        .contains("connection limit"));

    // A connection that closes frees its place.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut fourth = TcpStream::connect(host(&app)).await.unwrap();
    fourth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut fourth, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Holds an exclusive lock on the orders table until the returned transaction ends.
async fn lock_orders(app: &TestApp) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let orders_sync::store::Store::Postgres(pg) = &app.store else {
        unreachable!("a PostgreSQL app")
    };
    let mut tx = pg.pool().begin().await.unwrap();
    sqlx::query("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await
        .unwrap();
    tx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_deadline_is_a_503_and_its_write_is_not_half_done() {
    let app = spawn_with(Backend::Postgres, |s| {
        s.limits.request_timeout = Duration::from_millis(700);
    })
    .await;
    app.seed(SHOP, vec![order(5001).build()]).await;
    let write = |key: &'static str| {
        app.client
            .post(format!("{}/sync/orders/support", app.address))
            .header("idempotency-key", key)
            .json(&json!({ "orderId": "5001", "note": "call back", "shop_domain": SHOP }))
            .send()
    };

    let lock = lock_orders(&app).await;
    let started = Instant::now();
    let read = app.list_shop(SHOP, &[]).await;
    read.assert_failure(503, &["longer than 0.7 s"]);
    assert!(read.headers.get("retry-after").is_some());
    assert!(started.elapsed() < Duration::from_secs(5));
    let answer = write("deadline-1").await.unwrap();
    assert_eq!(answer.status(), 503);
    assert!(answer.headers().get("retry-after").is_some());
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["success"], false);
    lock.rollback().await.unwrap();

    // Nothing was half-written: the retry with the same key applies the escalation once.
    let retried = write("deadline-1").await.unwrap();
    assert_eq!(retried.status(), 200);
    let escalations = app
        .history(&gid(5001))
        .await
        .into_iter()
        .filter(|e| e.event == "support.escalated")
        .count();
    assert_eq!(escalations, 1);
    // Streams are not cut by the deadline.
    let stream = app
        .client
        .get(format!("{}/sync/orders/alerts", app.address))
        .query(&[("shop_domain", SHOP)])
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    use futures::StreamExt;
    let first = tokio::time::timeout(Duration::from_secs(2), body.next()).await;
    assert!(matches!(first, Ok(Some(Ok(_)))));
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let later = tokio::time::timeout(Duration::from_millis(50), body.next()).await;
    assert!(
        !matches!(later, Ok(None) | Ok(Some(Err(_)))),
        "the stream is still open past the deadline: {later:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_names_every_worker_and_whether_it_runs() {
    let app = spawn_app(Backend::Postgres).await;
    let body: Value = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "ready");
    let workers = body["workers"].as_array().unwrap();
    let named = |name: &str| {
        workers
            .iter()
            .find(|w| w["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {body}"))
    };
    for name in [
        "alert evaluator",
        "alert listener",
        "tally folder",
        "idempotency pruner",
    ] {
        assert_eq!(named(name)["running"], true, "{name}: {body}");
    }
    // The test settings switch polling off: the poller finished at once, and says so.
    assert_eq!(named("poller")["state"], "finished");
    assert_eq!(named("poller")["running"], false);
}
