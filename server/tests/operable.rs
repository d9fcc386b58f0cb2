//! The real `orders-sync serve` as an operator runs it (issue 19): `LOG_FORMAT=json` writes one
//! JSON object a line carrying the request's id, which the answer's `X-Request-Id` names too, and
//! `METRICS_ADDR` serves `/metrics` on its own address, not on the site's.

#![allow(
    clippy::unwrap_used,
    reason = "a test's helpers fail the test, with its line, when they unwrap"
)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn orders_sync() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_orders-sync"));
    cmd.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("USE_MOCK_DATA", "true")
        .env("SYNC_POLL_INTERVAL", "off");
    cmd
}

#[tokio::test]
async fn json_logs_carry_the_request_id_and_metrics_have_their_own_address() {
    let (site, metrics) = (free_port(), free_port());
    let mut child = orders_sync()
        .arg("serve")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{site}"))
        .env("METRICS_ADDR", format!("127.0.0.1:{metrics}"))
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info,tower_http=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client
        .get(format!("http://127.0.0.1:{site}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let given = client
        .get(format!("http://127.0.0.1:{site}/sync/orders"))
        .query(&[("shop_domain", "demo.myshopify.com")])
        .header("x-request-id", "op-test-42")
        .send()
        .await
        .unwrap();
    assert_eq!(given.status(), 200);
    assert_eq!(given.headers()["x-request-id"], "op-test-42");
    // An id the client did not give, or one too odd to log, is replaced by a fresh one.
    for sent in [None, Some("x".repeat(65)), Some("a b".to_owned())] {
        let mut req = client.get(format!("http://127.0.0.1:{site}/healthz"));
        if let Some(sent) = &sent {
            req = req.header("x-request-id", sent);
        }
        let r = req.send().await.unwrap();
        let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    }

    let scraped = client
        .get(format!("http://127.0.0.1:{metrics}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert!(text.contains("http_requests_total{"), "{text}");
    assert!(text.contains(r#"route="/sync/orders""#), "{text}");
    let on_site = client
        .get(format!("http://127.0.0.1:{site}/metrics"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        on_site.status(),
        200,
        "the metrics are not on the site's address"
    );

    // SIGTERM: the logs end; every line is one JSON object, and the request's lines carry its id.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let mut logs = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let _ = child.wait();
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.len() > 3, "{logs}");
    let tagged = lines
        .iter()
        .filter(|l| l["span"]["request_id"] == "op-test-42")
        .count();
    assert!(tagged >= 1, "no line carries the request's id: {logs}");
}

#[test]
fn an_unknown_log_format_is_refused_at_start() {
    let out = orders_sync()
        .arg("serve")
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{}", free_port()))
        .env("LOG_FORMAT", "xml")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("LOG_FORMAT 'xml'"), "{said}");
}
