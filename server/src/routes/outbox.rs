//! `GET /sync/outbox` (SPEC §7): what the transactional outbox holds for a shop, so that an event
//! that could not be delivered is visible, never silently lost.

use axum::extract::State;
use axum::Json;
use orders_core::outbox::{OutboxList, OutboxQuery};

use crate::error::ApiError;
use crate::extract::QueryPairs;
use crate::openapi::{OutboxParams, ReadErrors, ShopParam};
use crate::service::Service;

/// `GET /sync/outbox?shop_domain=DOMAIN[&state=pending|delivered|dead]`
#[utoipa::path(
    get,
    path = "/sync/outbox",
    tag = "outbox",
    operation_id = "listOutbox",
    summary = "A shop's outbox events",
    description = "The newest 100 events (of one state, when asked), newest first, and how many \
        of the shop's events are in each state. Events wait as `pending` until their receiver \
        accepts them (`delivered`) or the worker gives up (`dead`).",
    params(ShopParam, OutboxParams),
    responses(
        (status = 200, description = "The events and the counts", body = OutboxList),
        ReadErrors,
    ),
    security((), ("bearer" = [])),
)]
pub async fn list_outbox(
    State(service): State<Service>,
    caller: crate::trust::ApiCaller,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<OutboxList>, ApiError> {
    let query = OutboxQuery::parse(pairs)?;
    caller.authorize(&query.shop_domain).await?;
    Ok(Json(service.outbox(&query).await?))
}
