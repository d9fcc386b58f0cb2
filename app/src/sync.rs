//! The dashboard's door onto Sync: the four v1.2 writes.
//!
//! Every write goes through [`call_sync`], the one helper that adds `shop_domain` to the body and
//! maps the envelope: success is Sync's `message` (or the action's default), failure is Sync's
//! HTTP status and message. On the server, [`post_write`] hands the body to the same validation
//! and service calls as `POST /sync/orders/*`, so the dashboard cannot do what the API refuses.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// The four writes of the v1.2 API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncWrite {
    Assign,
    Fulfill,
    Support,
    Returns,
}

impl SyncWrite {
    /// What a success toast says when Sync's envelope has no message.
    pub fn default_message(self) -> &'static str {
        match self {
            SyncWrite::Assign => "Assigned the orders",
            SyncWrite::Fulfill => "Marked the orders as fulfilled",
            SyncWrite::Support => "Support requested",
            SyncWrite::Returns => "Return updated",
        }
    }
}

/// Why Sync refused or could not do something: its HTTP status (0 when the server could not be
/// reached at all) and its message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncFailure {
    pub status: u16,
    pub message: String,
}

impl std::fmt::Display for SyncFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.status == 0 {
            write!(f, "Could not reach Sync: {}", self.message)
        } else {
            write!(f, "{} · {}", self.status, self.message)
        }
    }
}

impl std::error::Error for SyncFailure {}

impl leptos::server_fn::error::FromServerFnError for SyncFailure {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        SyncFailure {
            status: 0,
            message: value.to_string(),
        }
    }
}

/// What a successful write reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncDone {
    /// Sync's `message`, or the action's default when Sync gave none.
    pub message: String,
    /// The support thread of an escalation (its first updated order's), which a bulk escalation
    /// reuses for the orders after the first.
    pub support_thread: Option<String>,
}

/// The v1.2 envelope as it comes back from a write: the page reloads its rows from Sync after a
/// success, so of `updatedOrders` only an escalation's thread is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    #[serde(default)]
    success: bool,
    #[serde(default)]
    message: String,
    #[serde(default)]
    updated_orders: Vec<Updated>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Updated {
    #[serde(default)]
    support_thread: Option<String>,
}

/// Maps a write's answer: a successful envelope to what the toast says, anything else to a failure.
pub fn map_envelope(
    write: SyncWrite,
    status: u16,
    envelope: &str,
) -> Result<SyncDone, SyncFailure> {
    let parsed: Option<Envelope> = serde_json::from_str(envelope).ok();
    match parsed {
        Some(e) if e.success && (200..300).contains(&status) => Ok(SyncDone {
            message: if e.message.trim().is_empty() {
                write.default_message().to_owned()
            } else {
                e.message
            },
            support_thread: e
                .updated_orders
                .into_iter()
                .next()
                .and_then(|o| o.support_thread),
        }),
        Some(e) => Err(SyncFailure {
            status,
            message: if e.message.trim().is_empty() {
                "Sync refused the request".to_owned()
            } else {
                e.message
            },
        }),
        None => Err(SyncFailure {
            status,
            message: "Sync answered with something that is not a v1.2 envelope".to_owned(),
        }),
    }
}

/// The body of a write with the shop added: the one place `shop_domain` is set.
pub fn with_shop(mut body: serde_json::Value, shop: &str) -> serde_json::Value {
    if let Some(object) = body.as_object_mut() {
        object.insert(
            "shop_domain".to_owned(),
            serde_json::Value::String(shop.to_owned()),
        );
    }
    body
}

/// How long a write may go unanswered before it is sent once more, with the same idempotency key.
pub const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(20);

/// Sends one write to Sync for `shop` and maps the answer (see the module's documentation).
///
/// The write carries an idempotency key. Unanswered after [`RETRY_AFTER`], it is sent once more
/// with the same key: Sync then answers whether it applied it (the first answer again) or applies
/// it now, never twice. A second silence is a failure, and only then does the page roll back.
pub async fn call_sync(
    shop: &str,
    write: SyncWrite,
    body: serde_json::Value,
) -> Result<SyncDone, SyncFailure> {
    let body = with_shop(body, shop);
    let key = new_key();
    for _ in 0..2 {
        let call = post_write(write, body.clone(), Some(key.clone()));
        if let Some(answer) = within(RETRY_AFTER, call).await {
            let (status, envelope) = answer?;
            return map_envelope(write, status, &envelope);
        }
    }
    Err(SyncFailure {
        status: 0,
        message: format!(
            "Sync did not answer, twice in {} s. The change may still arrive: the page shows it when it does.",
            RETRY_AFTER.as_secs()
        ),
    })
}

/// A fresh idempotency key for one write of this page.
fn new_key() -> String {
    #[cfg(feature = "hydrate")]
    {
        let random = (js_sys::Math::random() * 9_007_199_254_740_991.0) as u64;
        format!("dash-{:x}-{random:x}", js_sys::Date::now() as u64)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::from("dash-server")
    }
}

/// `work`'s output, or `None` when `limit` passes first (in the browser; elsewhere, the output).
async fn within<F: std::future::Future>(limit: std::time::Duration, work: F) -> Option<F::Output> {
    #[cfg(feature = "hydrate")]
    {
        use std::future::Future;
        use std::task::Poll;
        let mut work = std::pin::pin!(work);
        let mut timer = std::pin::pin!(sleep(limit));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(out) = work.as_mut().poll(cx) {
                return Poll::Ready(Some(out));
            }
            if timer.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = limit;
        Some(work.await)
    }
}

/// A timer for the browser: resolves after `wait`.
#[cfg(feature = "hydrate")]
async fn sleep(wait: std::time::Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                &resolve,
                i32::try_from(wait.as_millis()).unwrap_or(i32::MAX),
            );
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// One v1.2 write, with the page's idempotency key: the HTTP status and the envelope Sync
/// answered with, as JSON text (the browser reads it once, as the envelope).
#[server(input = Json)]
pub async fn post_write(
    write: SyncWrite,
    body: serde_json::Value,
    key: Option<String>,
) -> Result<(u16, String), SyncFailure> {
    let backend = ssr::backend()?;
    Ok(match backend.write(write, body, key).await {
        Ok(envelope) => (200, envelope.to_string()),
        Err(refused) => (refused.status, ssr::failure(refused.message)),
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::sync::Arc;

    use leptos::prelude::use_context;

    use super::SyncFailure;
    use crate::backend::OrdersBackend;

    /// The v1.2 envelope of a refused write, as JSON text.
    pub fn failure(message: String) -> String {
        serde_json::to_string(&orders_core::Envelope::<serde_json::Value>::failure(
            message,
        ))
        .unwrap_or_default()
    }

    pub fn backend() -> Result<Arc<dyn OrdersBackend>, SyncFailure> {
        use_context::<Arc<dyn OrdersBackend>>().ok_or_else(|| SyncFailure {
            status: 500,
            message: "the dashboard has no orders backend".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_shop_is_added_to_every_body_and_replaces_one_already_there() {
        let body = with_shop(
            json!({"orderIds": ["1"], "shop_domain": "x"}),
            "acme.myshopify.com",
        );
        assert_eq!(body["shop_domain"], "acme.myshopify.com");
        assert_eq!(body["orderIds"], json!(["1"]));
    }

    #[test]
    fn a_success_says_syncs_message_or_the_default() {
        let done = map_envelope(
            SyncWrite::Assign,
            200,
            &json!({"success": true, "message": "Assigned 2 orders to Sam", "updatedOrders": []})
                .to_string(),
        )
        .unwrap();
        assert_eq!(done.message, "Assigned 2 orders to Sam");
        let done = map_envelope(
            SyncWrite::Returns,
            200,
            &json!({"success": true, "message": "", "updatedOrders": []}).to_string(),
        )
        .unwrap();
        assert_eq!(done.message, "Return updated");
    }

    #[test]
    fn an_escalation_tells_its_thread() {
        let done = map_envelope(
            SyncWrite::Support,
            200,
            &json!({"success": true, "message": "Escalated", "updatedOrders": [
                {"id": "gid://shopify/Order/1", "supportThread": "sup_0123"}
            ]})
            .to_string(),
        )
        .unwrap();
        assert_eq!(done.support_thread.as_deref(), Some("sup_0123"));
    }

    #[test]
    fn a_failure_quotes_the_status_and_syncs_message() {
        let failure = map_envelope(
            SyncWrite::Fulfill,
            409,
            &json!({"success": false, "message": "cancelled orders cannot be fulfilled: #1001", "updatedOrders": []}).to_string(),
        )
        .unwrap_err();
        assert_eq!(
            failure.to_string(),
            "409 · cancelled orders cannot be fulfilled: #1001"
        );
        let garbage =
            map_envelope(SyncWrite::Fulfill, 502, &json!("Bad gateway").to_string()).unwrap_err();
        assert_eq!(garbage.status, 502);
    }

    #[test]
    fn an_unsuccessful_envelope_is_a_failure_even_with_a_2xx() {
        assert!(map_envelope(
            SyncWrite::Assign,
            200,
            &json!({"success": false, "message": "no"}).to_string()
        )
        .is_err());
    }
}
