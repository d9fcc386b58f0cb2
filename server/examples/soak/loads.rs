//! The loads sent at a fixed rate: reads, signed webhooks and requests for shops that were never
//! registered, and the open loop that paces them (a slow answer never slows the sender: each request
//! is its own task).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use orders_sync::shopify::signature::sign;
use serde_json::Value;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

use crate::tally::no_answer_label;
use crate::{mix, Ctx};

/// The tabs a read may ask for.
const TABS: [&str; 6] = [
    "all",
    "unfulfilled",
    "tracking_pending",
    "delayed",
    "returns",
    "support",
];
/// The order a webhook's body is made from.
const ORDER: &str = include_str!("../../../tests/fixtures/shopify/orders_create.json");
/// How long an unknown shop's stream is held when the server opens it.
const UNKNOWN_STREAM_HOLD: Duration = Duration::from_secs(1);

/// An answer: its status, `Retry-After` (seconds), whether it is a replay of an idempotent write,
/// and its body.
pub struct Answer {
    pub status: u16,
    pub retry_after: Option<u64>,
    pub replayed: bool,
    pub body: Bytes,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Sends `request`, reads the whole answer and counts it under `kind`; `None` when there was no
/// answer (counted too).
pub async fn send(
    ctx: &Ctx,
    kind: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<Answer> {
    let response = match request.send().await {
        Ok(r) => r,
        Err(e) => {
            ctx.tally.no_answer(kind, no_answer_label(&e));
            return None;
        }
    };
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let retry_after = header("retry-after").and_then(|v| v.trim().parse().ok());
    let replayed = header("idempotent-replayed").as_deref() == Some("true");
    match response.bytes().await {
        Ok(body) => {
            ctx.tally.answer(kind, status, &body);
            Some(Answer {
                status,
                retry_after,
                replayed,
                body,
            })
        }
        Err(_) => {
            ctx.tally.no_answer(kind, "no answer: body cut off");
            None
        }
    }
}

/// Calls `one(i)` `rate` times a second until `until`, each call in a task of its own, then waits
/// for those still running. Answers how many were started.
pub async fn at_rate<F, Fut>(rate: f64, until: Instant, mut one: F) -> u64
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    if rate <= 0.0 {
        return 0;
    }
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    // Behind schedule (a busy machine), catch up: the run sends what its rates say.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let until = tokio::time::Instant::from_std(until);
    let mut tasks = JoinSet::new();
    let mut started = 0;
    while tokio::time::timeout_at(until, ticker.tick()).await.is_ok() {
        tasks.spawn(one(started));
        started += 1;
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    started
}

/// `ofs:` and the offset in base 36.
fn cursor(mut offset: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut digits = Vec::new();
    loop {
        digits.push(DIGITS[(offset % 36) as usize]);
        offset /= 36;
        if offset == 0 {
            break;
        }
    }
    digits.reverse();
    format!("ofs:{}", String::from_utf8_lossy(&digits))
}

/// The i-th read: six in ten a page of the list (any tab, any page), the rest one order by id.
pub async fn read(ctx: Arc<Ctx>, i: u64) {
    let r = mix(i ^ 0x5EAD);
    let url = if r % 10 < 6 {
        let pages = (ctx.orders_total / 50).max(1);
        format!(
            "{}/sync/orders?shop_domain={}&tab={}&cursor={}",
            ctx.base,
            ctx.shop,
            TABS[(r >> 8) as usize % TABS.len()],
            cursor((r >> 16) % pages * 50)
        )
    } else {
        let id = &ctx.ids[(r >> 8) as usize % ctx.ids.len()];
        format!(
            "{}/sync/orders/{}?shop_domain={}",
            ctx.base,
            percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC),
            ctx.shop
        )
    };
    let sent = Instant::now();
    let answer = send(&ctx, "read", ctx.api.get(url).bearer_auth(&ctx.token)).await;
    let status = answer.map_or(0, |a| a.status);
    ctx.tally.read(sent, sent.elapsed(), status);
}

/// What the webhooks are made of: the order template and the first id of this run's orders.
pub struct Hooks {
    template: Value,
    base_id: u64,
}

impl Hooks {
    pub fn new() -> Result<Self, serde_json::Error> {
        // Ids far from the seeded orders, different on each run.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        Ok(Hooks {
            template: serde_json::from_str(ORDER)?,
            base_id: 8_000_000_000_000_000_000 + (now % 1_000_000) * 1_000_000,
        })
    }

    /// The i-th delivery's topic and body: the first twenty and one in five after create an order,
    /// the rest update one created earlier, each with a later `updated_at` than any before it.
    fn delivery(&self, i: u64) -> (&'static str, Vec<u8>) {
        let (topic, n) = if i < 20 || i.is_multiple_of(5) {
            ("orders/create", i)
        } else {
            ("orders/updated", (mix(i ^ 0x400C) % (i / 5 + 1)) * 5)
        };
        let id = self.base_id + n;
        let updated = chrono::DateTime::from_timestamp(1_758_981_600 + i as i64, 0)
            .unwrap_or_default()
            .to_rfc3339();
        let mut order = self.template.clone();
        order["id"] = Value::from(id);
        order["admin_graphql_api_id"] = Value::from(format!("gid://shopify/Order/{id}"));
        order["name"] = Value::from(format!("#S{n}"));
        order["order_number"] = Value::from(n);
        order["updated_at"] = Value::from(updated);
        if topic == "orders/updated" {
            order["financial_status"] = Value::from(if i.is_multiple_of(2) {
                "paid"
            } else {
                "pending"
            });
        }
        (topic, serde_json::to_vec(&order).unwrap_or_default())
    }
}

/// The i-th webhook delivery, signed, with a webhook id of its own.
pub async fn webhook(ctx: Arc<Ctx>, hooks: Arc<Hooks>, i: u64) {
    let (topic, body) = hooks.delivery(i);
    let request = ctx
        .api
        .post(format!("{}/webhooks/shopify", ctx.base))
        .header("Content-Type", "application/json")
        .header("X-Shopify-Topic", topic)
        .header("X-Shopify-Shop-Domain", ctx.shop.as_str())
        .header("X-Shopify-Hmac-Sha256", sign(&ctx.secret, &body))
        .header("X-Shopify-Webhook-Id", format!("soak-{}-{i}", ctx.run))
        .body(body);
    send(&ctx, "webhook", request).await;
}

/// The i-th request for a shop that was never registered, anonymous: in turn a page of its
/// orders, its alerts polled, and its alert stream (held a moment if the server opens it).
pub async fn unknown_shop(ctx: Arc<Ctx>, i: u64) {
    let shop = format!("soak-nobody-{:016x}.myshopify.com", mix(i ^ 0x0DD));
    match i % 3 {
        0 => {
            let url = format!("{}/sync/orders?shop_domain={shop}", ctx.base);
            send(&ctx, "unknown", ctx.api.get(url)).await;
        }
        1 => {
            let url = format!("{}/sync/orders/alerts?shop_domain={shop}", ctx.base);
            let request = ctx.api.get(url).header("Accept", "application/json");
            send(&ctx, "unknown", request).await;
        }
        _ => {
            let url = format!("{}/sync/orders/alerts?shop_domain={shop}", ctx.base);
            let request = ctx.streams.get(url).header("Accept", "text/event-stream");
            let mut response = match request.send().await {
                Ok(r) => r,
                Err(e) => return ctx.tally.no_answer("unknown", no_answer_label(&e)),
            };
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                ctx.tally.answer("unknown", status, b"");
                ctx.tally
                    .event("unknown", "streams opened for an unknown shop");
                let _ = tokio::time::timeout(UNKNOWN_STREAM_HOLD, async {
                    while let Ok(Some(_)) = response.chunk().await {}
                })
                .await;
            } else {
                let body = response.bytes().await.unwrap_or_default();
                ctx.tally.answer("unknown", status, &body);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_base_36_offsets() {
        assert_eq!(cursor(0), "ofs:0");
        assert_eq!(cursor(50), "ofs:1e");
        assert_eq!(cursor(100), "ofs:2s");
    }
}
