//! `POST /webhooks/shopify` (SPEC §7, §10): Shopify's deliveries. This is the door only: how a
//! delivery is verified and what it changes is [`crate::shopify::webhook`].

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;

use crate::error::ApiError;
use crate::metrics::WebhookOutcome;
use crate::service::Service;
use crate::shopify::webhook::{receive, Ack};
use crate::trust::Trust;

/// The largest webhook body accepted (an order with hundreds of lines stays well under it).
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// `POST /webhooks/shopify`: one delivery.
pub async fn shopify(
    State(service): State<Service>,
    State(trust): State<Trust>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Ack>, ApiError> {
    let answer = receive(service, trust, &headers, body).await;
    let outcome = match &answer {
        Ok(ack) if ack.duplicate => WebhookOutcome::Duplicate,
        Ok(_) => WebhookOutcome::Applied,
        Err(e) if e.status_code().is_client_error() => WebhookOutcome::Refused,
        Err(_) => WebhookOutcome::Failed,
    };
    crate::metrics::webhook_delivery(&headers, outcome);
    answer
}
