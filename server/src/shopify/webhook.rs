//! Shopify's deliveries (SPEC §7, §10), verified and applied: what `POST /webhooks/shopify`
//! (its door in `routes/webhook.rs`) does with one.
//!
//! The order of checks matters: the signature is verified before anything is read from the body,
//! a delivery already accepted is acknowledged before its body is parsed (a redelivery changes
//! nothing, whatever it carries), and a body that does not read is refused with nothing stored.
//! Everything the delivery changes commits in one transaction with its webhook id, and with its
//! event id and topic (a second key: several subscriptions deliver one event under several
//! webhook ids).
//!
//! A delivery verifies under the shop's own webhook secret (during a rotation, the previous one
//! too) or, when `SHOPIFY_API_SECRET` is set, under the app's client secret, which signs every
//! shop's deliveries, registered or not. Lifecycle and privacy topics go to
//! [`super::lifecycle`]; order topics for a shop that is not installed (unknown, or uninstalled)
//! are acknowledged and not stored (an install's backfill brings its history). Without the client
//! secret an unregistered shop is a 401, as §7 says.

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::Json;
use orders_core::alerts::RefreshReason;
use orders_core::query::parse_shop_domain;
use orders_core::record::to_micros;
use orders_core::shopify::lifecycle::LifecycleTopic;
use orders_core::shopify::payload::{parse_webhook, PayloadError};
use orders_core::shopify::Topic;
use orders_core::OrderRef;
use serde::Serialize;

use super::signature::{verify, verify_any};
use crate::error::ApiError;
use crate::service::{Scope, Service};
use crate::store::{Delivery, IngestOutcome};
use crate::trust::Trust;

/// The answer to a delivery Shopify sent well: it counts as delivered.
#[derive(Debug, Serialize)]
pub struct Ack {
    pub success: bool,
    pub message: String,
    /// This delivery was applied before (for the operator's metrics; not sent).
    #[serde(skip)]
    pub duplicate: bool,
}

/// Acknowledges a delivery.
pub(super) fn ack(message: impl Into<String>) -> Json<Ack> {
    Json(Ack {
        success: true,
        message: message.into(),
        duplicate: false,
    })
}

/// A Shopify header, under its `X-Shopify-` name or the newer unprefixed `Shopify-` one.
pub fn shopify_header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
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
    service: Service,
    trust: Trust,
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Json<Ack>, ApiError> {
    let Some(database) = service.database() else {
        // Deliveries go to the database of record; Shopify retries what is not acknowledged.
        return Err(ApiError::Unavailable);
    };
    let span = tracing::Span::current();
    let shop = shopify_header(headers, "shop-domain")
        .and_then(|s| parse_shop_domain(s).ok())
        .ok_or_else(|| ApiError::Unauthorized("X-Shopify-Shop-Domain names no shop".into()))?;
    span.record("shop", shop.as_str());
    let signature = shopify_header(headers, "hmac-sha256").ok_or_else(|| {
        ApiError::Unauthorized(
            "X-Shopify-Hmac-Sha256 is missing; the delivery is not signed".into(),
        )
    })?;
    let now = to_micros(chrono::Utc::now());
    // The shop's secrets and state, and whether this delivery was seen, come in one query;
    // nothing is acted on before the signature is verified.
    let webhook_id = shopify_header(headers, "webhook-id");
    let ingestion = database.ingestion();
    let gate = ingestion.delivery_gate(&shop, webhook_id, now).await?;
    let own_secrets = gate
        .shop
        .as_ref()
        .map(|s| s.secrets.as_slice())
        .unwrap_or_default();
    let app_secret = trust.settings().shopify_api_secret.as_deref();
    if own_secrets.is_empty() && app_secret.is_none() {
        return Err(ApiError::Unauthorized(format!(
            "the shop {shop} is not registered"
        )));
    }
    // Both are checked, so the time taken does not tell which one signed.
    let by_shop = verify_any(own_secrets, &body, signature);
    let by_app = app_secret.is_some_and(|secret| verify(secret, &body, signature));
    if !(by_shop || by_app) {
        return Err(ApiError::Unauthorized(
            "the X-Shopify-Hmac-Sha256 signature does not match the body".into(),
        ));
    }

    let webhook_id =
        webhook_id.ok_or_else(|| ApiError::BadRequest("X-Shopify-Webhook-Id is missing".into()))?;
    span.record("webhook_id", webhook_id);
    let topic_name = shopify_header(headers, "topic")
        .ok_or_else(|| ApiError::BadRequest("X-Shopify-Topic is missing".into()))?;
    span.record("topic", topic_name);
    if gate.seen {
        let mut seen = ack(format!("delivery {webhook_id} was already applied"));
        seen.duplicate = true;
        return Ok(seen);
    }
    let delivery = |topic: &str| Delivery {
        webhook_id: webhook_id.to_owned(),
        event_id: shopify_header(headers, "event-id").map(str::to_owned),
        topic: topic.to_owned(),
    };
    if let Some(topic) = LifecycleTopic::parse(topic_name) {
        let delivery = delivery(topic.as_str());
        return super::lifecycle::accept(
            &service,
            database.privacy(),
            &shop,
            gate.shop.is_some(),
            topic,
            delivery,
            &body,
        )
        .await;
    }
    let Some(topic) = Topic::parse(topic_name) else {
        tracing::info!("a topic Sync does not handle; acknowledged and ignored");
        return Ok(ack(format!("topic {topic_name} is not handled; ignored")));
    };
    if !gate.shop.as_ref().is_some_and(|s| s.installed) {
        tracing::info!("an order delivery for a shop that is not installed; not stored");
        return Ok(ack(format!(
            "{topic}: {shop} is not installed here; not stored"
        )));
    }
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
    let delivery = delivery(topic.as_str());
    let outcome = ingestion.ingest(&shop, Some(&delivery), &fact, now).await?;
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
