//! `/sync/orders*` (SPEC §2, §3): the read API and the four v1.2 write endpoints.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use orders_core::envelope::{AssignBody, FulfillBody, ReturnBody, SupportBody};
use orders_core::query::parse_shop_domain;
use orders_core::{ListQuery, Order, OrderList, OrderRef};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{body_from_value, JsonBody, QueryPairs};
use crate::service::{Answer, Service};
use crate::trust::idempotency::request_key;
use crate::trust::ApiCaller;

/// `GET /sync/orders`
pub async fn list_orders(
    State(service): State<Service>,
    caller: ApiCaller,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<OrderList>, ApiError> {
    let query = ListQuery::parse(pairs, None)?;
    caller.authorize(&query.shop_domain).await?;
    Ok(Json(service.list_orders(&query).await?))
}

/// A write's answer; a replay says so in `Idempotent-Replayed: true`.
fn answer(answer: Answer) -> Response {
    let mut response = Json(answer.body).into_response();
    if answer.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// `GET /sync/orders/{id}`: the id URL-encoded (a GID, a numeric id or `#name`).
pub async fn get_order(
    State(service): State<Service>,
    caller: ApiCaller,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    query: QueryPairs,
) -> Result<Json<Order>, ApiError> {
    let Path(raw_id) = path.map_err(|e| ApiError::BadRequest(format!("invalid order id: {e}")))?;
    let shop = query.get("shop_domain").ok_or_else(|| {
        ApiError::BadRequest("invalid shop_domain: shop_domain is required".into())
    })?;
    let shop = parse_shop_domain(shop)
        .map_err(|m| ApiError::BadRequest(format!("invalid shop_domain: {m}")))?;
    caller.authorize(&shop).await?;
    let order =
        OrderRef::parse(&raw_id).map_err(|m| ApiError::BadRequest(format!("invalid id: {m}")))?;
    Ok(Json(service.get_order(&shop, &order).await?))
}

/// `POST /sync/orders/assign`
pub async fn assign_orders(
    State(service): State<Service>,
    caller: ApiCaller,
    headers: HeaderMap,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let key = request_key(&headers, "/sync/orders/assign", &raw)?;
    let cmd = body_from_value::<AssignBody>(raw)?.validate()?;
    caller.authorize(&cmd.shop_domain).await?;
    Ok(answer(service.assign(&cmd, key.as_ref()).await?))
}

/// `POST /sync/orders/fulfill`
pub async fn fulfill_orders(
    State(service): State<Service>,
    caller: ApiCaller,
    headers: HeaderMap,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let key = request_key(&headers, "/sync/orders/fulfill", &raw)?;
    let cmd = body_from_value::<FulfillBody>(raw)?.validate()?;
    caller.authorize(&cmd.shop_domain).await?;
    Ok(answer(service.fulfill(&cmd, key.as_ref()).await?))
}

/// `POST /sync/orders/support`
pub async fn escalate_to_support(
    State(service): State<Service>,
    caller: ApiCaller,
    headers: HeaderMap,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let key = request_key(&headers, "/sync/orders/support", &raw)?;
    let cmd = body_from_value::<SupportBody>(raw)?.validate()?;
    caller.authorize(&cmd.shop_domain).await?;
    Ok(answer(service.escalate(&cmd, key.as_ref()).await?))
}

/// `POST /sync/orders/returns`
pub async fn apply_return_action(
    State(service): State<Service>,
    caller: ApiCaller,
    headers: HeaderMap,
    JsonBody(raw): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let key = request_key(&headers, "/sync/orders/returns", &raw)?;
    let cmd = body_from_value::<ReturnBody>(raw)?.validate()?;
    caller.authorize(&cmd.shop_domain).await?;
    Ok(answer(
        service.apply_return_action(&cmd, key.as_ref()).await?,
    ))
}
