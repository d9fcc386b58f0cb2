//! `POST /webhooks/shopify` (SPEC §7): Shopify's deliveries, verified and applied.
//!
//! The order of checks matters: the signature is verified before anything is read from the body,
//! a delivery already accepted is acknowledged before its body is parsed (a redelivery changes
//! nothing, whatever it carries), and a body that does not read is refused with nothing stored.
//! Everything the delivery changes commits in one transaction with its webhook id.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use orders_core::alerts::RefreshReason;
use orders_core::query::parse_shop_domain;
use orders_core::record::to_micros;
use orders_core::shopify::payload::{parse_webhook, PayloadError};
use orders_core::shopify::Topic;
use orders_core::OrderRef;
use serde::Serialize;

use super::signature::verify_any;
use crate::error::ApiError;
use crate::service::{Scope, Service};
use crate::store::{Delivery, IngestOutcome, Store};

/// The largest webhook body accepted (an order with hundreds of lines stays well under it).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The answer to a delivery Shopify sent well: it counts as delivered.
#[derive(Debug, Serialize)]
pub struct Ack {
    pub success: bool,
    pub message: String,
}

fn ack(message: impl Into<String>) -> Json<Ack> {
    Json(Ack {
        success: true,
        message: message.into(),
    })
}

/// A Shopify header, under its `X-Shopify-` name or the newer unprefixed `Shopify-` one.
fn shopify_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    [format!("x-shopify-{name}"), format!("shopify-{name}")]
        .iter()
        .find_map(|n| headers.get(n.as_str()))
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Receives one webhook delivery.
#[tracing::instrument(name = "webhook", skip_all, fields(shop, topic, webhook_id))]
pub async fn receive(
    State(service): State<Service>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Ack>, ApiError> {
    let Store::Postgres(pg) = service.store() else {
        // Deliveries go to the database of record; Shopify retries what is not acknowledged.
        return Err(ApiError::Unavailable);
    };
    let span = tracing::Span::current();
    let shop = shopify_header(&headers, "shop-domain")
        .and_then(|s| parse_shop_domain(s).ok())
        .ok_or_else(|| ApiError::Unauthorized("X-Shopify-Shop-Domain names no shop".into()))?;
    span.record("shop", shop.as_str());
    let signature = shopify_header(&headers, "hmac-sha256").ok_or_else(|| {
        ApiError::Unauthorized(
            "X-Shopify-Hmac-Sha256 is missing; the delivery is not signed".into(),
        )
    })?;
    let now = to_micros(chrono::Utc::now());
    // The secrets and whether this delivery was seen come in one query; nothing is acted on
    // before the signature is verified.
    let webhook_id = shopify_header(&headers, "webhook-id");
    let gate = pg
        .webhook_gate(&shop, webhook_id, now)
        .await?
        .ok_or_else(|| ApiError::Unauthorized(format!("the shop {shop} is not registered")))?;
    if !verify_any(&gate.secrets, &body, signature) {
        return Err(ApiError::Unauthorized(
            "the X-Shopify-Hmac-Sha256 signature does not match the body".into(),
        ));
    }

    let webhook_id =
        webhook_id.ok_or_else(|| ApiError::BadRequest("X-Shopify-Webhook-Id is missing".into()))?;
    span.record("webhook_id", webhook_id);
    let topic_name = shopify_header(&headers, "topic")
        .ok_or_else(|| ApiError::BadRequest("X-Shopify-Topic is missing".into()))?;
    span.record("topic", topic_name);
    if gate.seen {
        return Ok(ack(format!("delivery {webhook_id} was already applied")));
    }
    let Some(topic) = Topic::parse(topic_name) else {
        tracing::info!("a topic Sync does not handle; acknowledged and ignored");
        return Ok(ack(format!("topic {topic_name} is not handled; ignored")));
    };
    let fact = match parse_webhook(topic, &body, now) {
        Ok(fact) => fact,
        Err(PayloadError::NothingToApply(why)) => {
            return Ok(ack(format!("{topic}: nothing to apply ({why})")));
        }
        Err(e) => {
            tracing::warn!(error = %e, "a signed delivery does not read; refused");
            return Err(ApiError::BadRequest(format!(
                "the {topic} payload does not read: {e}"
            )));
        }
    };
    let delivery = Delivery {
        webhook_id: webhook_id.to_owned(),
        event_id: shopify_header(&headers, "event-id").map(str::to_owned),
        topic: topic.as_str().to_owned(),
    };
    let outcome = pg.ingest(&shop, Some(&delivery), &fact, now).await?;
    if outcome.changed() {
        let scope = match fact.order() {
            OrderRef::Id(gid) => Scope::Orders(vec![gid]),
            OrderRef::Name(_) => Scope::Shop,
        };
        service.changed(&shop, RefreshReason::Webhook, scope);
    }
    let message = match outcome {
        IngestOutcome::Created { order_id } => format!("{topic}: order {order_id} stored"),
        IngestOutcome::Applied { order_id } => format!("{topic}: order {order_id} updated"),
        IngestOutcome::Unchanged { order_id } => {
            format!("{topic}: order {order_id} already up to date")
        }
        IngestOutcome::Pending { order } => {
            format!("{topic}: order {order} is not known yet; kept until it arrives")
        }
        IngestOutcome::Duplicate => format!("delivery {webhook_id} was already applied"),
    };
    Ok(ack(message))
}
