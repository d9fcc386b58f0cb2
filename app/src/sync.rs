//! The dashboard's door onto Sync: the four v1.2 writes.
//!
//! Every write goes through [`call_sync`], the one helper that adds `shop_domain` to the body and
//! maps the envelope: success is Sync's `message` (or the action's default), failure is Sync's
//! HTTP status and message. On the server, [`post_write`] hands the body to the same validation
//! and service calls as `POST /sync/orders/*`, so the dashboard cannot do what the API refuses.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use serde_tuple::{Deserialize_tuple, Serialize_tuple};

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
/// reached at all) and its message. (It travels as a JSON array, like every value the browser
/// reads: no field-name matching code in the WASM.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct SyncDone {
    /// Sync's `message`, or the action's default when Sync gave none.
    pub message: String,
    /// The support thread of an escalation (its first updated order's), which a bulk escalation
    /// reuses for the orders after the first.
    pub support_thread: Option<String>,
    /// The database's position once the write had committed (`X-Sync-Position`), as text: the
    /// page only keeps it, compares it and sends it back.
    pub position: Option<String>,
}

/// The v1.2 envelope as it comes back from a write (read on the server): the page reloads its rows
/// from Sync after a success, so of `updatedOrders` only an escalation's thread is read.
#[cfg(feature = "ssr")]
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

#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Updated {
    #[serde(default)]
    support_thread: Option<String>,
}

/// Maps a write's answer: a successful envelope to what the toast says, anything else to a failure.
#[cfg(feature = "ssr")]
pub fn map_envelope(
    write: SyncWrite,
    status: u16,
    envelope: &serde_json::Value,
) -> Result<SyncDone, SyncFailure> {
    let parsed = Envelope::deserialize(envelope).ok();
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
            position: None,
        }),
        Some(e) => Err(refusal(status, e.message)),
        None => Err(SyncFailure {
            status,
            message: "Sync answered with something that is not a v1.2 envelope".to_owned(),
        }),
    }
}

/// The body of a write, as the dashboard sends it: the v1.2 request's fields (SPEC §3), each
/// only when the write has it. Typed rather than a JSON tree, so the browser carries no code to
/// build or walk one; the server turns it into the JSON the API's validation reads.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteBody {
    #[serde(
        rename = "shop_domain",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub shop_domain: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_ids: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// An assignment's assignee: `Some(None)` unassigns (sent as `null`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub assignee: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<Tracking>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// A return's action (`approve_refund`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}

/// A fulfillment's tracking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub number: String,
    pub carrier: String,
}

/// A field that is there, even as `null`: `Some(None)`, where serde alone would read `None`.
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The body of a write with the shop added: the one place `shop_domain` is set.
pub fn with_shop(body: WriteBody, shop: &str) -> WriteBody {
    WriteBody {
        shop_domain: shop.to_owned(),
        ..body
    }
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
    body: WriteBody,
) -> Result<SyncDone, SyncFailure> {
    let body = with_shop(body, shop);
    let key = new_key();
    for _ in 0..2 {
        let call = post_write(write, body.clone(), Some(key.clone()));
        if let Some(answer) = within(RETRY_AFTER, call).await {
            return answer?;
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

/// A refusal with Sync's `message`, or a plain one when Sync gave none.
#[cfg(feature = "ssr")]
fn refusal(status: u16, message: String) -> SyncFailure {
    SyncFailure {
        status,
        message: if message.trim().is_empty() {
            "Sync refused the request".to_owned()
        } else {
            message
        },
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

/// One v1.2 write, with the page's idempotency key: Sync's answer as the toast tells it (the
/// envelope is read here, on the server, by [`map_envelope`]). A refusal is Sync's answer too, so it
/// comes back as the inner `Err` of a successful call; the outer one is the call's own failure.
#[server(input = Json)]
pub async fn post_write(
    write: SyncWrite,
    body: WriteBody,
    key: Option<String>,
) -> Result<Result<SyncDone, SyncFailure>, SyncFailure> {
    let backend = ssr::backend()?;
    let Ok(body) = serde_json::to_value(&body) else {
        return Ok(Err(SyncFailure {
            status: 400,
            message: "the write's body cannot be read".into(),
        }));
    };
    Ok(match backend.write(write, body, key).await {
        Ok(answer) => map_envelope(write, 200, &answer.envelope).map(|done| SyncDone {
            position: answer.position.map(|p| p.to_string()),
            ..done
        }),
        Err(refused) => Err(refusal(refused.status, refused.message)),
    })
}

#[cfg(feature = "ssr")]
mod ssr {
    use std::sync::Arc;

    use leptos::prelude::use_context;

    use super::SyncFailure;
    use crate::backend::OrdersBackend;

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
            WriteBody {
                shop_domain: "x".into(),
                order_ids: Some(vec!["1".into()]),
                ..WriteBody::default()
            },
            "acme.myshopify.com",
        );
        let sent = serde_json::to_value(&body).unwrap();
        assert_eq!(
            sent,
            json!({"shop_domain": "acme.myshopify.com", "orderIds": ["1"]})
        );
    }

    #[test]
    fn a_body_carries_only_its_fields_and_an_unassignment_carries_null() {
        let unassign = WriteBody {
            order_ids: Some(vec!["1".into()]),
            assignee: Some(None),
            ..WriteBody::default()
        };
        let sent = serde_json::to_value(&unassign).unwrap();
        assert_eq!(sent, json!({"orderIds": ["1"], "assignee": null}));
        // The server reads back what the browser sent, null included.
        let read: WriteBody = serde_json::from_value(sent).unwrap();
        assert_eq!(read, unassign);
        let fulfill = WriteBody {
            order_ids: Some(vec!["1".into()]),
            tracking: Some(Tracking {
                number: "1Z9".into(),
                carrier: "UPS".into(),
            }),
            ..WriteBody::default()
        };
        assert_eq!(
            serde_json::to_value(&fulfill).unwrap(),
            json!({"orderIds": ["1"], "tracking": {"number": "1Z9", "carrier": "UPS"}})
        );
        let escalate = WriteBody {
            order_id: Some("1".into()),
            note: Some("Late".into()),
            conversation_id: Some("c1".into()),
            ..WriteBody::default()
        };
        assert_eq!(
            serde_json::to_value(&escalate).unwrap(),
            json!({"orderId": "1", "note": "Late", "conversationId": "c1"})
        );
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn a_success_says_syncs_message_or_the_default() {
        let done = map_envelope(
            SyncWrite::Assign,
            200,
            &json!({"success": true, "message": "Assigned 2 orders to Sam", "updatedOrders": []}),
        )
        .unwrap();
        assert_eq!(done.message, "Assigned 2 orders to Sam");
        let done = map_envelope(
            SyncWrite::Returns,
            200,
            &json!({"success": true, "message": "", "updatedOrders": []}),
        )
        .unwrap();
        assert_eq!(done.message, "Return updated");
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn an_escalation_tells_its_thread() {
        let done = map_envelope(
            SyncWrite::Support,
            200,
            &json!({"success": true, "message": "Escalated", "updatedOrders": [
                {"id": "gid://shopify/Order/1", "supportThread": "sup_0123"}
            ]}),
        )
        .unwrap();
        assert_eq!(done.support_thread.as_deref(), Some("sup_0123"));
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn a_failure_quotes_the_status_and_syncs_message() {
        let failure = map_envelope(
            SyncWrite::Fulfill,
            409,
            &json!({"success": false, "message": "cancelled orders cannot be fulfilled: #1001", "updatedOrders": []}),
        )
        .unwrap_err();
        assert_eq!(
            failure.to_string(),
            "409 · cancelled orders cannot be fulfilled: #1001"
        );
        let garbage = map_envelope(SyncWrite::Fulfill, 502, &json!("Bad gateway")).unwrap_err();
        assert_eq!(garbage.status, 502);
    }

    #[test]
    #[cfg(feature = "ssr")]
    fn an_unsuccessful_envelope_is_a_failure_even_with_a_2xx() {
        assert!(map_envelope(
            SyncWrite::Assign,
            200,
            &json!({"success": false, "message": "no"})
        )
        .is_err());
    }
}
