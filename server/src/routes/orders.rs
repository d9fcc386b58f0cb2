//! `/sync/orders*` (SPEC §2, §3): the read API and the four v1.2 write endpoints.

use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use orders_core::envelope::{AssignBody, FulfillBody, ReturnBody, SupportBody};
use orders_core::{ListQuery, Order, OrderList, OrderRef};

use crate::error::ApiError;
use crate::extract::{MinPosition, QueryPairs, Write, POSITION_HEADER};
use crate::openapi::{
    AssignResult, FulfillResult, IdempotencyKey, ListOrdersParams, MinPositionHeader, OrderErrors,
    OrderIdParam, ReadErrors, ReturnResult, ShopParam, StateErrors, SupportResult, WriteErrors,
    Written,
};
use crate::service::{Answer, Service};
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
    params(ShopParam, ListOrdersParams, MinPositionHeader),
    responses((status = 200, description = "The page", body = OrderList), ReadErrors),
    security((), ("bearer" = [])),
)]
pub async fn list_orders(
    State(service): State<Service>,
    caller: ApiCaller,
    MinPosition(at): MinPosition,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<OrderList>, ApiError> {
    let query = ListQuery::parse(pairs, None)?;
    caller.authorize(&query.shop_domain).await?;
    Ok(Json(service.list_orders(&query, at).await?))
}

/// A write's answer; a replay says so in `Idempotent-Replayed: true`, and `X-Sync-Position` says
/// where the database stood once it had committed.
fn answer(answer: Answer) -> Response {
    let mut response = Json(answer.body).into_response();
    let headers = response.headers_mut();
    if answer.replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    if let Some(position) = answer
        .position
        .and_then(|p| HeaderValue::from_str(&p.to_string()).ok())
    {
        headers.insert(POSITION_HEADER, position);
    }
    response
}

/// `GET /sync/orders/{id}`: the id URL-encoded (a GID, a numeric id or `#name`).
#[utoipa::path(
    get,
    path = "/sync/orders/{*id}",
    tag = "orders",
    operation_id = "getOrder",
    summary = "One order",
    params(OrderIdParam, ShopParam, MinPositionHeader),
    responses((status = 200, description = "The order", body = Order), OrderErrors),
    security((), ("bearer" = [])),
)]
pub async fn get_order(
    State(service): State<Service>,
    caller: ApiCaller,
    MinPosition(at): MinPosition,
    path: Result<Path<String>, axum::extract::rejection::PathRejection>,
    query: QueryPairs,
) -> Result<Json<Order>, ApiError> {
    let Path(raw_id) = path.map_err(|e| ApiError::BadRequest(format!("invalid order id: {e}")))?;
    let shop = query.shop_domain()?;
    caller.authorize(&shop).await?;
    let order =
        OrderRef::parse(&raw_id).map_err(|m| ApiError::BadRequest(format!("invalid id: {m}")))?;
    Ok(Json(service.get_order(&shop, &order, at).await?))
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
    responses(Written<AssignResult>, WriteErrors),
    security((), ("bearer" = [])),
)]
pub async fn assign_orders(
    State(service): State<Service>,
    write: Write<AssignBody>,
) -> Result<Response, ApiError> {
    Ok(answer(
        service.assign(&write.command, write.key.as_ref()).await?,
    ))
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
    responses(Written<FulfillResult>, WriteErrors, StateErrors),
    security((), ("bearer" = [])),
)]
pub async fn fulfill_orders(
    State(service): State<Service>,
    write: Write<FulfillBody>,
) -> Result<Response, ApiError> {
    Ok(answer(
        service.fulfill(&write.command, write.key.as_ref()).await?,
    ))
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
    responses(Written<SupportResult>, WriteErrors),
    security((), ("bearer" = [])),
)]
pub async fn escalate_to_support(
    State(service): State<Service>,
    write: Write<SupportBody>,
) -> Result<Response, ApiError> {
    Ok(answer(
        service.escalate(&write.command, write.key.as_ref()).await?,
    ))
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
    responses(Written<ReturnResult>, WriteErrors, StateErrors),
    security((), ("bearer" = [])),
)]
pub async fn apply_return_action(
    State(service): State<Service>,
    write: Write<ReturnBody>,
) -> Result<Response, ApiError> {
    Ok(answer(
        service
            .apply_return_action(&write.command, write.key.as_ref())
            .await?,
    ))
}
