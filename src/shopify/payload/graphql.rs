//! GraphQL: the poller's pages of [`ORDERS_QUERY`](super::ORDERS_QUERY), each order node read with
//! the same mapping as the webhooks, and Shopify's cost-based throttle report.

use serde_json::Value;

use super::fields::{array, invalid, kind, numeric_id, object, required_time, text, time};
use super::mapping::{
    customer_name, financial_status, fulfillment_is_gone, fulfillment_status, full_name, priority,
    shipment_status, split_fulfillments, split_tags, tag_list, tracking,
};
use super::money::{format_amount, millionths, minor_digits};
use super::webhook::refuse_nul;
use super::{Obj, PayloadError};
use crate::domain::{FulfillmentStatus, Shipment};
use crate::order_ref::ORDER_GID_PREFIX;
use crate::shopify::ShopifyOrder;

/// One answer of [`ORDERS_QUERY`](super::ORDERS_QUERY).
#[derive(Debug, Clone, PartialEq)]
pub struct OrdersPage {
    /// Each `edges[].node`, read on its own so one odd order does not stop the others.
    pub orders: Vec<Result<ShopifyOrder, PayloadError>>,
    /// `pageInfo.hasNextPage`.
    pub has_next_page: bool,
    /// `pageInfo.endCursor`: where the next page starts, and the `shopifyCursor` to store.
    pub end_cursor: Option<String>,
    /// The cost report of `extensions.cost`, when Shopify sent one.
    pub throttle: Option<Throttle>,
}

/// Shopify's cost-based throttle, as reported in `extensions.cost` (points of the leaky bucket).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    /// `requestedQueryCost`: what the query was priced at before it ran.
    pub requested_cost: f64,
    /// `actualQueryCost`: what it cost (absent when it did not run).
    pub actual_cost: Option<f64>,
    /// `throttleStatus.maximumAvailable`: the bucket's size.
    pub maximum_available: f64,
    /// `throttleStatus.currentlyAvailable`: points left now.
    pub currently_available: f64,
    /// `throttleStatus.restoreRate`: points restored a second.
    pub restore_rate: f64,
}

impl Throttle {
    /// How long to wait before a query of `cost` points can run without being throttled: zero when
    /// enough points are left, otherwise the time the bucket needs to refill the difference (under
    /// the rule of [`super::wait`](crate::shopify::wait)).
    pub fn wait_before(&self, cost: f64) -> std::time::Duration {
        let missing = cost - self.currently_available;
        if missing <= 0.0 {
            return std::time::Duration::ZERO;
        }
        // A report without a restore rate: assume the standard plan's 50 points a second.
        let rate = if self.restore_rate > 0.0 {
            self.restore_rate
        } else {
            50.0
        };
        crate::shopify::wait::wait_from_seconds(missing / rate)
    }
}

/// Reads a whole answer of [`ORDERS_QUERY`](super::ORDERS_QUERY): the orders, where the next page
/// starts and the throttle report. An answer with `errors` is [`PayloadError::GraphQl`] (the first
/// error).
pub fn parse_graphql_page(body: &[u8]) -> Result<OrdersPage, PayloadError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| PayloadError::Json(e.to_string()))?;
    refuse_nul(&value)?;
    let root = value
        .as_object()
        .ok_or_else(|| PayloadError::Json(format!("expected an object, got {}", kind(&value))))?;
    if let Some(error) = graphql_error(root.get("errors")) {
        return Err(error);
    }
    let orders = root
        .get("data")
        .and_then(Value::as_object)
        .and_then(|d| object(d, "orders"))
        .ok_or(PayloadError::Missing("data.orders"))?;
    let page_info = object(orders, "pageInfo").ok_or(PayloadError::Missing("pageInfo"))?;
    Ok(OrdersPage {
        orders: array(orders, "edges")
            .iter()
            .map(|edge| {
                edge.get("node")
                    .ok_or(PayloadError::Missing("edges.node"))
                    .and_then(parse_graphql_order)
            })
            .collect(),
        has_next_page: page_info
            .get("hasNextPage")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        end_cursor: text(page_info, "endCursor").map(str::to_owned),
        throttle: root
            .get("extensions")
            .and_then(Value::as_object)
            .and_then(|e| object(e, "cost"))
            .and_then(throttle),
    })
}

/// The cost report (`extensions.cost`) of any answer of the GraphQL API, errors included: a
/// `THROTTLED` answer carries no data but says how empty the bucket is, which is what the wait
/// before asking again is computed from. `None` when the body is not JSON or reports no cost.
pub fn graphql_throttle(body: &[u8]) -> Option<Throttle> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value
        .as_object()
        .and_then(|root| object(root, "extensions"))
        .and_then(|e| object(e, "cost"))
        .and_then(throttle)
}

fn graphql_error(errors: Option<&Value>) -> Option<PayloadError> {
    match errors? {
        Value::String(message) => Some(PayloadError::GraphQl {
            code: None,
            message: message.clone(),
        }),
        Value::Array(items) => {
            let first = items.first()?.as_object()?;
            Some(PayloadError::GraphQl {
                code: object(first, "extensions")
                    .and_then(|e| text(e, "code"))
                    .map(str::to_owned),
                message: text(first, "message").unwrap_or("no message").to_owned(),
            })
        }
        _ => None,
    }
}

fn throttle(cost: &Obj) -> Option<Throttle> {
    let status = object(cost, "throttleStatus")?;
    let number = |o: &Obj, key: &str| o.get(key).and_then(Value::as_f64);
    Some(Throttle {
        requested_cost: number(cost, "requestedQueryCost")?,
        actual_cost: number(cost, "actualQueryCost"),
        maximum_available: number(status, "maximumAvailable")?,
        currently_available: number(status, "currentlyAvailable")?,
        restore_rate: number(status, "restoreRate")?,
    })
}

/// Reads one `orders.edges[].node` of [`ORDERS_QUERY`](super::ORDERS_QUERY)'s answer, with the
/// same mapping as the REST payloads. GraphQL writes statuses in upper case and money as decimals
/// that may drop trailing zeros (`"25.0"`), so the total is written with the currency's decimals
/// (`"25.00"`), as the REST `total_price` is: webhook and poller then agree on the same order.
pub fn parse_graphql_order(node: &Value) -> Result<ShopifyOrder, PayloadError> {
    let o = node
        .as_object()
        .ok_or_else(|| PayloadError::Json(format!("an order node is {}", kind(node))))?;
    let id = match text(o, "id").filter(|g| g.starts_with(ORDER_GID_PREFIX)) {
        Some(gid) => gid.to_owned(),
        None => numeric_id(o.get("legacyResourceId"), "legacyResourceId")?
            .map(|n| format!("{ORDER_GID_PREFIX}{n}"))
            .ok_or(PayloadError::Missing("id"))?,
    };
    let money = object(o, "totalPriceSet")
        .and_then(|s| object(s, "shopMoney"))
        .ok_or(PayloadError::Missing("totalPriceSet.shopMoney"))?;
    let currency = text(money, "currencyCode")
        .ok_or(PayloadError::Missing(
            "totalPriceSet.shopMoney.currencyCode",
        ))?
        .to_owned();
    // The total is required, as REST's `total_price` is: a missing amount is not a zero.
    let amount = money
        .get("amount")
        .filter(|a| !a.is_null())
        .ok_or(PayloadError::Missing("totalPriceSet.shopMoney.amount"))?;
    let total_price = format_amount(
        millionths(Some(amount), "totalPriceSet.shopMoney.amount")?,
        minor_digits(&currency),
    );

    let (shipments, cancelled_shipments) =
        split_fulfillments(array(o, "fulfillments"), "fulfillments", graphql_shipment)?;
    let fulfillment_status = match o.get("displayFulfillmentStatus") {
        None | Some(Value::Null) => FulfillmentStatus::Unfulfilled,
        Some(Value::String(word)) => fulfillment_status(word, !shipments.is_empty()),
        Some(other) => return Err(invalid("displayFulfillmentStatus", other)),
    };
    let financial_status =
        financial_status(o.get("displayFinancialStatus"), "displayFinancialStatus")?;

    let tags = match o.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => tag_list(items),
        Some(Value::String(s)) => split_tags(s),
        Some(other) => return Err(invalid("tags", other)),
    };
    let lines = object(o, "shippingLines")
        .map(connection_nodes)
        .unwrap_or_default();
    let shipping: Vec<&str> = lines
        .iter()
        .flat_map(|line| [text(line, "title"), text(line, "code")])
        .flatten()
        .collect();

    let email = text(o, "email");
    let customer = object(o, "customer");
    let customer_name = customer_name(
        customer.and_then(|c| full_name(text(c, "firstName"), text(c, "lastName"))),
        [object(o, "billingAddress"), object(o, "shippingAddress")]
            .into_iter()
            .flatten()
            .find_map(|a| text(a, "name").map(str::to_owned)),
        email,
    );

    Ok(ShopifyOrder {
        id,
        order_number: text(o, "name")
            .ok_or(PayloadError::Missing("name"))?
            .to_owned(),
        customer_name,
        customer_email: email.map(str::to_owned),
        total_price,
        currency,
        fulfillment_status,
        financial_status,
        cancelled_at: time(o, "cancelledAt")?,
        cancel_reason: text(o, "cancelReason").map(str::to_lowercase),
        priority: priority(&tags, shipping),
        tags,
        created_at: required_time(o, "createdAt")?,
        updated_at: required_time(o, "updatedAt")?,
        shipments,
        cancelled_shipments,
    })
}

/// A GraphQL `Fulfillment` as a shipment, and whether it is gone (`CANCELLED`, `ERROR`, `FAILURE`).
/// Its shipment status comes from `displayStatus`, read like REST's `shipment_status`.
fn graphql_shipment(f: &Obj) -> Result<(Shipment, bool), PayloadError> {
    let id = match text(f, "id").filter(|g| g.starts_with("gid://shopify/Fulfillment/")) {
        Some(gid) => gid.to_owned(),
        None => return Err(PayloadError::Missing("fulfillments.id")),
    };
    let info = array(f, "trackingInfo").iter().find_map(Value::as_object);
    let tracking = tracking(
        info.and_then(|i| text(i, "number")),
        info.and_then(|i| text(i, "company")),
    );
    let last_update_at = match (time(f, "updatedAt")?, time(f, "createdAt")?) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => return Err(PayloadError::Missing("fulfillments.updatedAt")),
    };
    let status = shipment_status(text(f, "displayStatus"), tracking.is_some());
    let gone = text(f, "status").is_some_and(fulfillment_is_gone);
    Ok((
        Shipment {
            id,
            status,
            tracking,
            last_update_at,
        },
        gone,
    ))
}

/// The nodes of a GraphQL connection, written either as `nodes` or as `edges[].node`.
fn connection_nodes(connection: &Obj) -> Vec<&Obj> {
    let nodes = array(connection, "nodes")
        .iter()
        .filter_map(Value::as_object);
    let edges = array(connection, "edges")
        .iter()
        .filter_map(|e| e.get("node")?.as_object());
    nodes.chain(edges).collect()
}
