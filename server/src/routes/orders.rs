//! `/sync/orders*` (SPEC §2, §3): the read API and the four v1.2 write endpoints.

use axum::extract::{Path, State};
use axum::Json;
use orders_core::envelope::{AssignBody, FulfillBody, ReturnBody, SupportBody};
use orders_core::query::parse_shop_domain;
use orders_core::{
    AssignedOrder, Envelope, EscalatedOrder, FulfilledOrder, ListQuery, Order, OrderList, OrderRef,
};

use crate::error::ApiError;
use crate::extract::{JsonBody, QueryPairs};
use crate::service::Service;

/// `GET /sync/orders`
pub async fn list_orders(
    State(service): State<Service>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<OrderList>, ApiError> {
    let query = ListQuery::parse(pairs, None)?;
    Ok(Json(service.list_orders(&query).await?))
}

/// `GET /sync/orders/{id}`: the id URL-encoded (a GID, a numeric id or `#name`).
pub async fn get_order(
    State(service): State<Service>,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    query: QueryPairs,
) -> Result<Json<Order>, ApiError> {
    let Path(raw_id) = path.map_err(|e| ApiError::BadRequest(format!("invalid order id: {e}")))?;
    let shop = query.get("shop_domain").ok_or_else(|| {
        ApiError::BadRequest("invalid shop_domain: shop_domain is required".into())
    })?;
    let shop = parse_shop_domain(shop)
        .map_err(|m| ApiError::BadRequest(format!("invalid shop_domain: {m}")))?;
    let order =
        OrderRef::parse(&raw_id).map_err(|m| ApiError::BadRequest(format!("invalid id: {m}")))?;
    Ok(Json(service.get_order(&shop, &order).await?))
}

/// `POST /sync/orders/assign`
pub async fn assign_orders(
    State(service): State<Service>,
    JsonBody(body): JsonBody<AssignBody>,
) -> Result<Json<Envelope<AssignedOrder>>, ApiError> {
    Ok(Json(service.assign(&body.validate()?).await?))
}

/// `POST /sync/orders/fulfill`
pub async fn fulfill_orders(
    State(service): State<Service>,
    JsonBody(body): JsonBody<FulfillBody>,
) -> Result<Json<Envelope<FulfilledOrder>>, ApiError> {
    Ok(Json(service.fulfill(&body.validate()?).await?))
}

/// `POST /sync/orders/support`
pub async fn escalate_to_support(
    State(service): State<Service>,
    JsonBody(body): JsonBody<SupportBody>,
) -> Result<Json<Envelope<EscalatedOrder>>, ApiError> {
    Ok(Json(service.escalate(&body.validate()?).await?))
}

/// `POST /sync/orders/returns`
pub async fn apply_return_action(
    State(service): State<Service>,
    JsonBody(body): JsonBody<ReturnBody>,
) -> Result<Json<Envelope<serde_json::Value>>, ApiError> {
    Ok(Json(service.apply_return_action(&body.validate()?).await?))
}
