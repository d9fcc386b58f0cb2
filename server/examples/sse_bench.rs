//! The live-alert benchmark (run by `scripts/bench-sse.sh`): holds N idle SSE clients on a running
//! `orders-sync`, then fulfills one tracking-pending order with tracking and measures how long its
//! `resolved` event takes to reach every client.
//!
//! Usage: `sse_bench BASE_URL SHOP CLIENTS`. Clients speak plain HTTP/1.1 over their own TCP
//! connection, so the figures are the server's, not a client library's.

// The report is this program's output.
#![allow(clippy::print_stdout, reason = "the report is this program's output")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, shop, clients] = args.as_slice() else {
        eprintln!("usage: sse_bench BASE_URL SHOP CLIENTS");
        std::process::exit(2);
    };
    let clients: usize = clients.parse()?;
    let host = base
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();

    // The order whose alert will clear.
    let http = reqwest::Client::new();
    let page: serde_json::Value = http
        .get(format!("{base}/sync/orders"))
        .query(&[
            ("shop_domain", shop.as_str()),
            ("tab", "tracking_pending"),
            ("pageSize", "1"),
        ])
        .send()
        .await?
        .json()
        .await?;
    let order = page["orders"][0]["id"]
        .as_str()
        .ok_or("the shop has no tracking-pending order: reseed it")?
        .to_owned();

    let connected = Arc::new(AtomicUsize::new(0));
    let (fired_tx, fired_rx) = watch::channel::<Option<Instant>>(None);
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Duration>();
    let started = Instant::now();
    for i in 0..clients {
        let host = host.clone();
        let shop = shop.clone();
        let connected = connected.clone();
        let mut fired = fired_rx.clone();
        let done = done_tx.clone();
        tokio::spawn(async move {
            let Ok(mut stream) = TcpStream::connect(&host).await else {
                eprintln!("client {i}: cannot connect");
                return;
            };
            let request = format!(
                "GET /sync/orders/alerts?shop_domain={shop} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream\r\n\r\n"
            );
            if stream.write_all(request.as_bytes()).await.is_err() {
                return;
            }
            let mut seen = Vec::with_capacity(8192);
            let mut buf = [0u8; 8192];
            let mut counted = false;
            loop {
                let n = match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                seen.extend_from_slice(&buf[..n]);
                if !counted && contains(&seen, b": connected") {
                    counted = true;
                    connected.fetch_add(1, Ordering::Relaxed);
                }
                if counted && contains(&seen, b"event: resolved") {
                    let at = fired.wait_for(Option::is_some).await.ok().and_then(|t| *t);
                    if let Some(at) = at {
                        let _ = done.send(at.elapsed());
                    }
                    // Stay connected (idle) until the benchmark ends.
                    let _ = stream.read(&mut buf).await;
                    return;
                }
                // Keep only the tail: the replay can be long.
                if seen.len() > 64 * 1024 {
                    seen.drain(..seen.len() - 64);
                }
            }
        });
    }
    drop(done_tx);
    while connected.load(Ordering::Relaxed) < clients {
        if started.elapsed() > Duration::from_secs(120) {
            return Err(format!(
                "only {} of {clients} clients connected in 120 s",
                connected.load(Ordering::Relaxed)
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!(
        "{clients} SSE clients connected and replayed in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Let the server settle with every client idle, then report (the script reads its RSS now).
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("READY");
    tokio::time::sleep(Duration::from_secs(2)).await;

    let fired = Instant::now();
    let _ = fired_tx.send(Some(fired));
    let answer = http
        .post(format!("{base}/sync/orders/fulfill"))
        .json(&serde_json::json!({
            "shop_domain": shop,
            "orderIds": [order],
            "tracking": { "number": "1ZBENCH0001", "carrier": "UPS" }
        }))
        .send()
        .await?;
    if !answer.status().is_success() {
        return Err(format!("the fulfill failed: {}", answer.text().await?).into());
    }
    let mut times = Vec::with_capacity(clients);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while times.len() < clients {
        match tokio::time::timeout_at(deadline, done_rx.recv()).await {
            Ok(Some(t)) => times.push(t),
            _ => break,
        }
    }
    times.sort();
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "the resolved event reached {} of {clients} clients: first {:.0} ms, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (from the fulfill request)",
        times.len(),
        pct(0.0),
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    Ok(())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
