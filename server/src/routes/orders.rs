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
use crate::openapi::{
    AssignResult, BadRequest, Conflict, Forbidden, FulfillResult, HeadersTooLarge, IdempotencyKey,
    ListOrdersParams, NotFound, OrderIdParam, PayloadTooLarge, ReturnResult, ShopParam,
    SupportResult, TooManyRequests, Unauthorized, Unavailable, Unprocessable, UnsupportedMediaType,
};
use crate::service::{Answer, Service};
use crate::trust::idempotency::request_key;
use crate::trust::ApiCaller;

/// `GET /sync/orders`
#[utoipa::path(
    get,
    path = "/sync/orders",
    tag = "orders",
    operation_id = "listOrders",
    summary = "A page of a shop's orders",
    description = "One tab's orders under the filters, `createdAt` descending then `id` descending, \
        with the cursors around the page and every tab's count under the same non-tab filters. An \
        unknown shop has no orders (an empty page).",
    params(ListOrdersParams),
    responses(
        (status = 200, description = "The page", body = OrderList),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 429, response = TooManyRequests),
        (status = 431, response = HeadersTooLarge),
        (status = 503, response = Unavailable),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    get,
    path = "/sync/orders/{id}",
    tag = "orders",
    operation_id = "getOrder",
    summary = "One order",
    params(OrderIdParam, ShopParam),
    responses(
        (status = 200, description = "The order", body = Order),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 429, response = TooManyRequests),
        (status = 431, response = HeadersTooLarge),
        (status = 503, response = Unavailable),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    post,
    path = "/sync/orders/assign",
    tag = "writes",
    operation_id = "assignOrders",
    summary = "Assign orders to a person, or unassign them",
    description = "Records the owner, adds a timeline entry and queues a Shopify metafield sync. Assigning an order to its current owner changes nothing.",
    params(IdempotencyKey),
    request_body(content = AssignBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Done (all of it: each request is one transaction)", body = AssignResult, headers(("Idempotent-Replayed" = inline(String), description = "`true` when this is the answer kept for an earlier request with the same `Idempotency-Key`: nothing was applied this time"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 431, response = HeadersTooLarge),
        (status = 503, response = Unavailable),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    post,
    path = "/sync/orders/fulfill",
    tag = "writes",
    operation_id = "fulfillOrders",
    summary = "Mark orders fulfilled",
    description = "Marks the orders fulfilled and records the tracking, when given, as an `in_transit` shipment. Fulfilling a fulfilled order changes nothing; a request naming a cancelled order is refused whole (409).",
    params(IdempotencyKey),
    request_body(content = FulfillBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Done (all of it: each request is one transaction)", body = FulfillResult, headers(("Idempotent-Replayed" = inline(String), description = "`true` when this is the answer kept for an earlier request with the same `Idempotency-Key`: nothing was applied this time"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 431, response = HeadersTooLarge),
        (status = 503, response = Unavailable),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    post,
    path = "/sync/orders/support",
    tag = "writes",
    operation_id = "escalateToSupport",
    summary = "Escalate an order to support",
    description = "Opens a support escalation (its thread is `conversationId` or a generated id), hands the order to `assistant` and queues it for the support queue.",
    params(IdempotencyKey),
    request_body(content = SupportBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Done (all of it: each request is one transaction)", body = SupportResult, headers(("Idempotent-Replayed" = inline(String), description = "`true` when this is the answer kept for an earlier request with the same `Idempotency-Key`: nothing was applied this time"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 431, response = HeadersTooLarge),
        (status = 503, response = Unavailable),
    ),
    security((), ("bearer" = [])),
)]
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
#[utoipa::path(
    post,
    path = "/sync/orders/returns",
    tag = "writes",
    operation_id = "applyReturnAction",
    summary = "Move an order's return",
    description = "Applies the action to the return through the state machine (SPEC §5) and queues the ERP update. An action that the return's state forbids is a 409; an order without a return is a 404.",
    params(IdempotencyKey),
    request_body(content = ReturnBody, content_type = "application/json"),
    responses(
        (status = 200, description = "Done (all of it: each request is one transaction)", body = ReturnResult, headers(("Idempotent-Replayed" = inline(String), description = "`true` when this is the answer kept for an earlier request with the same `Idempotency-Key`: nothing was applied this time"))),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
        (status = 409, response = Conflict),
        (status = 413, response = PayloadTooLarge),
        (status = 415, response = UnsupportedMediaType),
        (status = 422, response = Unprocessable),
        (status = 429, response = TooManyRequests),
        (status = 431, response = HeadersTooLarge),
        (status = 503, response = Unavailable),
    ),
    security((), ("bearer" = [])),
)]
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
