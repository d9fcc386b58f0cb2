//! `GET /sync/outbox` (SPEC §7): what the transactional outbox holds for a shop, so that an event
//! that could not be delivered is visible, never silently lost.

use axum::extract::State;
use axum::Json;
use orders_core::outbox::{OutboxList, OutboxQuery};

use crate::error::ApiError;
use crate::extract::QueryPairs;
use crate::service::Service;

/// `GET /sync/outbox?shop_domain=DOMAIN[&state=pending|delivered|dead]`
pub async fn list_outbox(
    State(service): State<Service>,
    caller: crate::trust::ApiCaller,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<OutboxList>, ApiError> {
    let query = OutboxQuery::parse(pairs)?;
    caller.authorize(&query.shop_domain).await?;
    Ok(Json(service.outbox(&query).await?))
}
