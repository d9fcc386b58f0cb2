//! The webhook benchmark (run by `scripts/bench-webhooks.sh`): sends signed Shopify deliveries to a
//! running `orders-sync` at a fixed rate (open loop: a slow answer does not slow the sender) and
//! reports how long each took to be acknowledged.
//!
//! Usage: `webhook_bench BASE_URL SHOP SECRET RATE SECONDS`. Seven deliveries in ten create a new
//! order (`orders/create`), the rest update one created earlier (`orders/updated`, a later
//! `updated_at`): both the insert and the update path are measured.

// The report is this program's output.
#![allow(clippy::print_stdout, reason = "the report is this program's output")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use orders_sync::shopify::signature::sign;
use serde_json::Value;
use tokio::sync::mpsc;

const ORDER: &str = include_str!("../../tests/fixtures/shopify/orders_create.json");

/// The i-th delivery's topic and body.
fn delivery(template: &Value, i: u64, base_id: u64) -> (&'static str, Vec<u8>) {
    let mut order = template.clone();
    let (topic, n, minutes) = if i % 10 < 7 || i < 10 {
        ("orders/create", i, 0)
    } else {
        // An order created earlier in the run, changed later.
        ("orders/updated", i / 2, 5 + i % 50)
    };
    let id = base_id + n;
    order["id"] = Value::from(id);
    order["admin_graphql_api_id"] = Value::from(format!("gid://shopify/Order/{id}"));
    order["name"] = Value::from(format!("#B{n}"));
    order["order_number"] = Value::from(n);
    order["updated_at"] = Value::from(format!(
        "2025-09-27T{:02}:{:02}:00-04:00",
        10 + minutes / 60,
        minutes % 60
    ));
    if topic == "orders/updated" {
        order["financial_status"] = Value::from("paid");
    }
    (topic, serde_json::to_vec(&order).expect("JSON"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, shop, secret, rate, seconds] = args.as_slice() else {
        eprintln!("usage: webhook_bench BASE_URL SHOP SECRET RATE SECONDS");
        std::process::exit(2);
    };
    let rate: u64 = rate.parse()?;
    let total = rate * seconds.parse::<u64>()?;
    let template: Value = serde_json::from_str(ORDER)?;
    // Ids far from any real order, different on each run.
    let base_id = 9_000_000_000_000_000_000
        + (std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_secs()
            % 1_000_000)
            * 1_000_000;
    let url = Arc::new(format!("{}/webhooks/shopify", base.trim_end_matches('/')));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;

    // Warm up: connections, the server's caches.
    for i in 0..20u64 {
        let (topic, body) = delivery(&template, i, base_id + 500_000);
        client
            .post(url.as_str())
            .header("X-Shopify-Topic", topic)
            .header("X-Shopify-Shop-Domain", shop.as_str())
            .header("X-Shopify-Hmac-Sha256", sign(secret, &body))
            .header("X-Shopify-Webhook-Id", format!("warm-{base_id}-{i}"))
            .body(body)
            .send()
            .await?;
    }

    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(Duration, u16)>();
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    for i in 0..total {
        ticker.tick().await;
        let (topic, body) = delivery(&template, i, base_id);
        let signature = sign(secret, &body);
        let request = client
            .post(url.as_str())
            .header("Content-Type", "application/json")
            .header("X-Shopify-Topic", topic)
            .header("X-Shopify-Shop-Domain", shop.as_str())
            .header("X-Shopify-Hmac-Sha256", signature)
            .header("X-Shopify-Webhook-Id", format!("bench-{base_id}-{i}"))
            .body(body);
        let done = done_tx.clone();
        tokio::spawn(async move {
            let sent = Instant::now();
            let status = match request.send().await {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let _ = r.bytes().await;
                    status
                }
                Err(_) => 0,
            };
            let _ = done.send((sent.elapsed(), status));
        });
    }
    drop(done_tx);
    let mut latencies = Vec::with_capacity(total as usize);
    let mut failures = 0usize;
    while let Some((took, status)) = done_rx.recv().await {
        if status != 200 {
            failures += 1;
        }
        latencies.push(took);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{} deliveries in {:.1} s ({:.0}/s), {} not acknowledged with 200",
        latencies.len(),
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        failures
    );
    println!(
        "acknowledgement latency: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(percentile(&latencies, 100.0)),
    );
    Ok(())
}
