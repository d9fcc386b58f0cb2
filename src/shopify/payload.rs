//! Reading Shopify's bodies: REST webhook payloads and the poller's GraphQL order nodes, mapped to
//! [`Ingest`] facts in the domain's terms (SPEC §7).
//!
//! # Policy
//!
//! - **Lenient in shape, strict in meaning.** Bodies are read as [`serde_json::Value`], so fields
//!   Sync does not use may come and go between API versions. A field Sync needs that is missing is a
//!   [`PayloadError::Missing`]; a word outside Shopify's vocabulary where the meaning matters (a
//!   financial status, a return status) is a [`PayloadError::Invalid`].
//! - **Ids never pass through a float.** Shopify's numeric ids exceed 2^53; they are read as JSON
//!   numbers (kept as the digits serde parsed into a `u64`) or strings, and turned into GIDs.
//! - **Money never passes through a float either.** Prices are strings in orders and numbers in
//!   refund line items; both are read as decimal text into integer millionths, summed, and written
//!   with the currency's decimals ([`minor_digits`]).
//! - **Times are UTC.** Shopify sends RFC 3339 with offsets (`2025-09-27T10:03:00-04:00`); every time
//!   is converted to UTC and truncated to microseconds ([`to_micros`]), as PostgreSQL keeps them.
//! - **The mapping of SPEC §7**, with the decisions it leaves open written beside each function.

use chrono::{DateTime, Utc};
use serde_json::{Map, Number, Value};

use super::{
    Ingest, ShopifyFulfillment, ShopifyOrder, ShopifyRefund, ShopifyReturn, ShopifyReturnStatus,
    Topic,
};
use crate::domain::{
    FinancialStatus, FulfillmentStatus, Priority, Shipment, ShipmentStatus, Tracking,
};
use crate::order_ref::{OrderRef, ORDER_GID_PREFIX};
use crate::record::to_micros;

/// The Admin GraphQL query the poller sends, one page of orders updated since its last run
/// (`$query` is a search such as `updated_at:>'2025-09-27T14:00:00Z'`), oldest change first.
/// [`parse_graphql_page`] reads its answer and [`parse_graphql_order`] each `edges[].node`.
/// Its cost is about 1 + `$first` × 25 points at the maximum of 20 fulfillments an order.
pub const ORDERS_QUERY: &str = r#"query SyncOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id
        legacyResourceId
        name
        email
        createdAt
        updatedAt
        cancelledAt
        cancelReason
        tags
        displayFinancialStatus
        displayFulfillmentStatus
        totalPriceSet { shopMoney { amount currencyCode } }
        customer { firstName lastName }
        billingAddress { name }
        shippingAddress { name }
        shippingLines(first: 5) { nodes { title code } }
        fulfillments(first: 20) {
          id
          status
          displayStatus
          createdAt
          updatedAt
          trackingInfo(first: 1) { number company }
        }
      }
    }
  }
}"#;

/// The name given to a customer when the order names nobody (no customer, no address name, no
/// e-mail), so the dashboard never shows an empty cell.
pub const UNKNOWN_CUSTOMER: &str = "Unknown customer";

/// The carrier recorded for a tracking number Shopify sends without a `tracking_company`: the domain
/// keeps a number and its carrier together.
pub const UNKNOWN_CARRIER: &str = "Other";

/// Why a body could not be read as the fact its topic announces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, or not the JSON object the topic sends (serde's message).
    #[error("the body is not the JSON object Shopify sends for this topic: {0}")]
    Json(String),
    /// A field Sync needs is absent or null.
    #[error("the payload has no `{0}`; check the webhook's topic and API version")]
    Missing(&'static str),
    /// A field holds a value outside Shopify's vocabulary or of the wrong type.
    #[error("`{field}` has the unexpected value {value}")]
    Invalid { field: &'static str, value: String },
    /// A well-formed payload that carries nothing Sync tracks (a `returns/update` that only changes
    /// line items or fees). Answer 200 and store nothing: refusing it would make Shopify retry.
    #[error("nothing to apply: {0}")]
    NothingToApply(&'static str),
    /// The GraphQL API answered with errors instead of data (`code` is Shopify's
    /// `extensions.code`, e.g. `THROTTLED` or `ACCESS_DENIED`).
    #[error(
        "Shopify's GraphQL API answered with an error: {message}{}",
        in_parentheses(code)
    )]
    GraphQl {
        code: Option<String>,
        message: String,
    },
}

/// ` (THROTTLED)` after an error message, or nothing.
fn in_parentheses(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default()
}

type Obj = Map<String, Value>;

// ---------------------------------------------------------------------------------------------
// Webhooks.

/// Refuses a payload with a NUL character (`\u0000`) in any string: PostgreSQL's text cannot hold
/// one, and no field Sync keeps has a use for it.
pub(crate) fn refuse_nul(value: &Value) -> Result<(), PayloadError> {
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) if s.contains('\0') => {
                return Err(PayloadError::Json("a string holds a NUL character".into()))
            }
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => {
                if map.keys().any(|k| k.contains('\0')) {
                    return Err(PayloadError::Json("a key holds a NUL character".into()));
                }
                stack.extend(map.values());
            }
            _ => {}
        }
    }
    Ok(())
}

/// Reads a webhook body of `topic` into the fact it reports. `received_at` stands in for the time of
/// facts whose payloads carry none (returns, and fulfillments or refunds without timestamps).
pub fn parse_webhook(
    topic: Topic,
    body: &[u8],
    received_at: DateTime<Utc>,
) -> Result<Ingest, PayloadError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| PayloadError::Json(e.to_string()))?;
    refuse_nul(&value)?;
    let root = value
        .as_object()
        .ok_or_else(|| PayloadError::Json(format!("expected an object, got {}", kind(&value))))?;
    let received_at = to_micros(received_at);
    match topic {
        Topic::OrdersCreate | Topic::OrdersUpdated | Topic::OrdersPaid | Topic::OrdersCancelled => {
            rest_order(root).map(Ingest::Order)
        }
        Topic::FulfillmentsCreate | Topic::FulfillmentsUpdate => {
            rest_fulfillment(root, received_at).map(Ingest::Fulfillment)
        }
        Topic::RefundsCreate => rest_refund(root, received_at).map(Ingest::Refund),
        Topic::ReturnsRequest
        | Topic::ReturnsApprove
        | Topic::ReturnsDecline
        | Topic::ReturnsCancel
        | Topic::ReturnsClose
        | Topic::ReturnsReopen
        | Topic::ReturnsUpdate => rest_return(topic, root, received_at).map(Ingest::Return),
    }
}

/// The REST Order resource (orders/create, orders/updated, orders/paid, orders/cancelled).
fn rest_order(o: &Obj) -> Result<ShopifyOrder, PayloadError> {
    let id = gid(o, "Order")?;
    let order_number = match text(o, "name") {
        Some(name) => name.to_owned(),
        None => numeric_id(o.get("order_number"), "order_number")?
            .map(|n| format!("#{n}"))
            .ok_or(PayloadError::Missing("name"))?,
    };
    let currency = text(o, "currency")
        .ok_or(PayloadError::Missing("currency"))?
        .to_owned();
    let total_price = match o.get("total_price") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            let s = s.trim();
            parse_decimal(s).ok_or_else(|| PayloadError::Invalid {
                field: "total_price",
                value: format!("'{s}' (expected a decimal amount)"),
            })?;
            s.to_owned()
        }
        Some(Value::Number(n)) => amount_of_number(n, &currency, "total_price")?,
        None | Some(Value::Null) => return Err(PayloadError::Missing("total_price")),
        Some(other) => return Err(invalid("total_price", other)),
    };

    let (shipments, cancelled_shipments) =
        split_fulfillments(array(o, "fulfillments"), "fulfillments", |f| {
            rest_shipment(f, None)
        })?;
    let fulfillment_status = match o.get("fulfillment_status") {
        None | Some(Value::Null) => FulfillmentStatus::Unfulfilled,
        Some(Value::String(word)) => fulfillment_status(word, !shipments.is_empty()),
        Some(other) => return Err(invalid("fulfillment_status", other)),
    };
    let financial_status = financial_status(o.get("financial_status"), "financial_status")?;

    let tags = match o.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => split_tags(s),
        Some(Value::Array(items)) => tag_list(items),
        Some(other) => return Err(invalid("tags", other)),
    };
    let shipping: Vec<&str> = array(o, "shipping_lines")
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|line| [text(line, "title"), text(line, "code")])
        .flatten()
        .collect();

    let email = text(o, "email");
    let customer = object(o, "customer");
    let customer_name = customer_name(
        customer.and_then(|c| full_name(text(c, "first_name"), text(c, "last_name"))),
        [object(o, "billing_address"), object(o, "shipping_address")]
            .into_iter()
            .flatten()
            .find_map(|a| {
                text(a, "name")
                    .map(str::to_owned)
                    .or_else(|| full_name(text(a, "first_name"), text(a, "last_name")))
            }),
        email,
    );

    Ok(ShopifyOrder {
        id,
        order_number,
        customer_name,
        customer_email: email.map(str::to_owned),
        total_price,
        currency,
        fulfillment_status,
        financial_status,
        cancelled_at: time(o, "cancelled_at")?,
        cancel_reason: text(o, "cancel_reason").map(str::to_lowercase),
        priority: priority(&tags, shipping),
        tags,
        created_at: required_time(o, "created_at")?,
        updated_at: required_time(o, "updated_at")?,
        shipments,
        cancelled_shipments,
    })
}

/// The REST Fulfillment resource (fulfillments/create, fulfillments/update).
fn rest_fulfillment(
    o: &Obj,
    received_at: DateTime<Utc>,
) -> Result<ShopifyFulfillment, PayloadError> {
    let (shipment, cancelled) = rest_shipment(o, Some(received_at))?;
    Ok(ShopifyFulfillment {
        order: order_ref(o)?,
        shipment,
        cancelled,
    })
}

/// A REST fulfillment as a shipment, and whether it is gone (`cancelled`, `error` or `failure`: no
/// parcel travels). Its time is `updated_at`, else `created_at`, else `fallback`.
fn rest_shipment(
    f: &Obj,
    fallback: Option<DateTime<Utc>>,
) -> Result<(Shipment, bool), PayloadError> {
    let id = gid(f, "Fulfillment")?;
    let number = text(f, "tracking_number").or_else(|| {
        array(f, "tracking_numbers")
            .iter()
            .filter_map(Value::as_str)
            .map(str::trim)
            .find(|n| !n.is_empty())
    });
    let tracking = tracking(number, text(f, "tracking_company"));
    let last_update_at = match (time(f, "updated_at")?, time(f, "created_at")?, fallback) {
        (Some(t), _, _) | (None, Some(t), _) | (None, None, Some(t)) => t,
        (None, None, None) => return Err(PayloadError::Missing("updated_at")),
    };
    let status = shipment_status(text(f, "shipment_status"), tracking.is_some());
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

/// The REST Refund resource (refunds/create).
///
/// The amount is the sum of the successful refund transactions (`kind` `refund`, `status`
/// `success`; a transaction missing either word counts); when there is none, the sum of the refund
/// line items' `subtotal` plus `total_tax`. The currency is the first counted transaction's, else the
/// line items' `subtotal_set.shop_money.currency_code`, else a top-level `currency`, else empty (the
/// order's currency is then used when applied). The time is `created_at`, else `processed_at`, else
/// the delivery's.
fn rest_refund(o: &Obj, received_at: DateTime<Utc>) -> Result<ShopifyRefund, PayloadError> {
    let id = gid(o, "Refund")?;
    let order = order_ref(o)?;

    let transactions: Vec<&Obj> = array(o, "transactions")
        .iter()
        .filter_map(Value::as_object)
        .filter(|t| text(t, "kind").is_none_or(|k| k.eq_ignore_ascii_case("refund")))
        .filter(|t| text(t, "status").is_none_or(|s| s.eq_ignore_ascii_case("success")))
        .collect();
    let line_items: Vec<&Obj> = array(o, "refund_line_items")
        .iter()
        .filter_map(Value::as_object)
        .collect();

    let currency = transactions
        .iter()
        .find_map(|t| text(t, "currency"))
        .or_else(|| {
            line_items.iter().find_map(|l| {
                object(l, "subtotal_set")
                    .and_then(|s| object(s, "shop_money"))
                    .and_then(|m| text(m, "currency_code"))
            })
        })
        .or_else(|| text(o, "currency"))
        .unwrap_or_default()
        .to_owned();

    let mut total: i128 = 0;
    if transactions.is_empty() {
        for line in &line_items {
            add_money(
                &mut total,
                line.get("subtotal"),
                "refund_line_items.subtotal",
            )?;
            add_money(
                &mut total,
                line.get("total_tax"),
                "refund_line_items.total_tax",
            )?;
        }
    } else {
        for t in &transactions {
            add_money(&mut total, t.get("amount"), "transactions.amount")?;
        }
    }

    let created_at = match (time(o, "created_at")?, time(o, "processed_at")?) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => received_at,
    };
    Ok(ShopifyRefund {
        order,
        id,
        amount: format_amount(total, minor_digits(&currency)),
        currency,
        created_at,
    })
}

/// Shopify's return payloads (returns/request, approve, decline, cancel, close, reopen, update).
///
/// The status is the payload's `status` (any case; `cancelled` is read as `canceled`); a payload
/// without one takes the status its topic implies (request → requested, approve and reopen → open,
/// decline → declined, cancel → canceled, close → closed), and a `returns/update` without one is
/// [`PayloadError::NothingToApply`]. The time is `updated_at`, else `created_at`, else the
/// delivery's. A label exists per [`has_label`].
fn rest_return(
    topic: Topic,
    o: &Obj,
    received_at: DateTime<Utc>,
) -> Result<ShopifyReturn, PayloadError> {
    let id = gid(o, "Return")?;
    let status = match o.get("status") {
        None | Some(Value::Null) => status_of_topic(topic).ok_or(PayloadError::NothingToApply(
            "a returns/update without a status changes only line items or fees",
        ))?,
        Some(Value::String(word)) => return_status(word)?,
        Some(other) => return Err(invalid("status", other)),
    };
    let at = match (time(o, "updated_at")?, time(o, "created_at")?) {
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => received_at,
    };
    Ok(ShopifyReturn {
        order: order_ref(o)?,
        id,
        status,
        has_label: has_label(o),
        at,
        reopened: topic == Topic::ReturnsReopen,
    })
}

/// Reads a Shopify return status: REST's lower case, GraphQL's upper case, and `cancelled` spelled
/// either way.
pub fn return_status(word: &str) -> Result<ShopifyReturnStatus, PayloadError> {
    match word.trim().to_ascii_lowercase().as_str() {
        "requested" => Ok(ShopifyReturnStatus::Requested),
        "open" => Ok(ShopifyReturnStatus::Open),
        "declined" => Ok(ShopifyReturnStatus::Declined),
        "canceled" | "cancelled" => Ok(ShopifyReturnStatus::Canceled),
        "closed" => Ok(ShopifyReturnStatus::Closed),
        _ => Err(PayloadError::Invalid {
            field: "status",
            value: format!("'{word}'"),
        }),
    }
}

/// The status a return topic implies when its payload has none; `None` for `returns/update`.
fn status_of_topic(topic: Topic) -> Option<ShopifyReturnStatus> {
    match topic {
        Topic::ReturnsRequest => Some(ShopifyReturnStatus::Requested),
        Topic::ReturnsApprove | Topic::ReturnsReopen => Some(ShopifyReturnStatus::Open),
        Topic::ReturnsDecline => Some(ShopifyReturnStatus::Declined),
        Topic::ReturnsCancel => Some(ShopifyReturnStatus::Canceled),
        Topic::ReturnsClose => Some(ShopifyReturnStatus::Closed),
        _ => None,
    }
}

/// A return label exists when the payload has a non-empty `label` (object or URL string) or
/// `label_url` at its top level, or anywhere inside its `reverse_deliveries` or
/// `reverse_fulfillment_orders` (e.g. `reverse_fulfillment_orders[].reverse_deliveries[]
/// .deliverable.label`). Shopify's return webhooks vary by version in where they put reverse
/// deliveries, so the search is deliberately broad within those two subtrees, and nowhere else.
fn has_label(o: &Obj) -> bool {
    names_a_label(o)
        || ["reverse_deliveries", "reverse_fulfillment_orders"]
            .iter()
            .filter_map(|key| o.get(*key))
            .any(contains_label)
}

fn contains_label(v: &Value) -> bool {
    match v {
        Value::Object(m) => names_a_label(m) || m.values().any(contains_label),
        Value::Array(items) => items.iter().any(contains_label),
        _ => false,
    }
}

fn names_a_label(o: &Obj) -> bool {
    let label = match o.get("label") {
        Some(Value::Object(m)) => !m.is_empty(),
        Some(Value::String(s)) => !s.trim().is_empty(),
        _ => false,
    };
    label || text(o, "label_url").is_some()
}

// ---------------------------------------------------------------------------------------------
// GraphQL.

/// One answer of [`ORDERS_QUERY`].
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
    /// the rule of [`super::wait`]).
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
        super::wait::wait_from_seconds(missing / rate)
    }
}

/// Reads a whole answer of [`ORDERS_QUERY`]: the orders, where the next page starts and the
/// throttle report. An answer with `errors` is [`PayloadError::GraphQl`] (the first error).
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

/// Reads one `orders.edges[].node` of [`ORDERS_QUERY`]'s answer, with the same mapping as the REST
/// payloads. GraphQL writes statuses in upper case and money as decimals that may drop trailing
/// zeros (`"25.0"`), so the total is written with the currency's decimals (`"25.00"`), as the REST
/// `total_price` is: webhook and poller then agree on the same order.
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

// ---------------------------------------------------------------------------------------------
// The mapping of SPEC §7.

/// Reads an order's fulfillments: the shipments that travel, and the GIDs of those that are gone.
fn split_fulfillments(
    items: &[Value],
    field: &'static str,
    read: impl Fn(&Obj) -> Result<(Shipment, bool), PayloadError>,
) -> Result<(Vec<Shipment>, Vec<String>), PayloadError> {
    let mut shipments = Vec::new();
    let mut gone = Vec::new();
    for item in items {
        let f = item.as_object().ok_or_else(|| invalid(field, item))?;
        match read(f)? {
            (shipment, true) => gone.push(shipment.id),
            (shipment, false) => shipments.push(shipment),
        }
    }
    Ok((shipments, gone))
}

/// A fulfillment whose status is `cancelled`, `error` or `failure` (any case) carries no parcel.
fn fulfillment_is_gone(status: &str) -> bool {
    matches!(
        status.to_ascii_lowercase().as_str(),
        "cancelled" | "canceled" | "error" | "failure"
    )
}

/// Maps Shopify's fulfillment status (REST `fulfillment_status` or GraphQL
/// `displayFulfillmentStatus`, any case) to the domain's.
///
/// `fulfilled` → fulfilled; `partial`/`PARTIALLY_FULFILLED` → partially_fulfilled; `ON_HOLD` →
/// on_hold; `unfulfilled`, `restocked`, `OPEN`, `PENDING_FULFILLMENT`, `SCHEDULED`,
/// `REQUEST_DECLINED` → unfulfilled (nothing has left the building). `IN_PROGRESS` and any word
/// Shopify adds later are judged by the parcels: partially_fulfilled when some shipment travels,
/// else unfulfilled, so the order stays in the unfulfilled tab where a person will look at it.
/// (A null REST status is unfulfilled; the callers handle it.)
fn fulfillment_status(word: &str, has_shipments: bool) -> FulfillmentStatus {
    match word.trim().to_ascii_lowercase().as_str() {
        "fulfilled" => FulfillmentStatus::Fulfilled,
        "partial" | "partially_fulfilled" => FulfillmentStatus::PartiallyFulfilled,
        "on_hold" => FulfillmentStatus::OnHold,
        ""
        | "unfulfilled"
        | "restocked"
        | "open"
        | "pending_fulfillment"
        | "scheduled"
        | "request_declined" => FulfillmentStatus::Unfulfilled,
        _ if has_shipments => FulfillmentStatus::PartiallyFulfilled,
        _ => FulfillmentStatus::Unfulfilled,
    }
}

/// Maps Shopify's financial status (REST lower case, GraphQL upper case). `expired` (an
/// authorization that lapsed uncaptured) is `voided`: no money was taken and none will be. A
/// missing or null status is `pending` (nothing recorded yet); any other word is an error.
fn financial_status(
    value: Option<&Value>,
    field: &'static str,
) -> Result<FinancialStatus, PayloadError> {
    let word = match value {
        None | Some(Value::Null) => return Ok(FinancialStatus::Pending),
        Some(Value::String(word)) => word.trim().to_ascii_lowercase(),
        Some(other) => return Err(invalid(field, other)),
    };
    match word.as_str() {
        "expired" => Ok(FinancialStatus::Voided),
        other => other.parse().map_err(|_| PayloadError::Invalid {
            field,
            value: format!("'{word}'"),
        }),
    }
}

/// Maps a fulfillment's `shipment_status` (REST) or `displayStatus` (GraphQL), any case, per SPEC §7:
/// `label_printed`, `label_purchased`, `confirmed` → label_created; `in_transit` (and
/// `carrier_picked_up`) → in_transit; `out_for_delivery` (and `ready_for_pickup`, the last leg of
/// a pickup delivery) → out_for_delivery; `delivered` (and `picked_up`) → delivered; `failure`,
/// `attempted_delivery` (and `not_delivered`) → exception. Null and every other word (`fulfilled`,
/// `marked_as_fulfilled`, `submitted`, `label_voided`…) say nothing of the parcel: in_transit when
/// it has a tracking number, else label_created.
pub fn shipment_status(word: Option<&str>, has_tracking: bool) -> ShipmentStatus {
    let word = word.map(|w| w.trim().to_ascii_lowercase());
    match word.as_deref() {
        Some("label_printed" | "label_purchased" | "confirmed") => ShipmentStatus::LabelCreated,
        Some("in_transit" | "carrier_picked_up") => ShipmentStatus::InTransit,
        Some("out_for_delivery" | "ready_for_pickup") => ShipmentStatus::OutForDelivery,
        Some("delivered" | "picked_up") => ShipmentStatus::Delivered,
        Some("failure" | "attempted_delivery" | "not_delivered") => ShipmentStatus::Exception,
        _ if has_tracking => ShipmentStatus::InTransit,
        _ => ShipmentStatus::LabelCreated,
    }
}

/// Tracking exists only with a number; its carrier is the company, or [`UNKNOWN_CARRIER`].
fn tracking(number: Option<&str>, company: Option<&str>) -> Option<Tracking> {
    Some(Tracking {
        number: number?.to_owned(),
        carrier: company.unwrap_or(UNKNOWN_CARRIER).to_owned(),
    })
}

/// Splits Shopify's comma-separated tags (`"vip, gift"`), trimmed, empties dropped.
fn split_tags(tags: &str) -> Vec<String> {
    tags.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// GraphQL's list of tags, trimmed, empties (and non-strings) dropped.
fn tag_list(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .filter_map(Value::as_str)
        .flat_map(split_tags)
        .collect()
}

/// The priority rule of SPEC §7: a `priority:<low|normal|high|urgent>` tag wins (case-insensitive,
/// spaces trimmed; when several are valid, the most urgent, so a stray tag never hides an urgent
/// order; an invalid one such as `priority:asap` is ignored); else a shipping line whose title or
/// code contains `express` or `overnight` (any case) makes it `high`; else `normal`.
pub fn priority<'a>(tags: &[String], shipping: impl IntoIterator<Item = &'a str>) -> Priority {
    let tagged = tags
        .iter()
        .filter_map(|tag| {
            let tag = tag.trim().to_ascii_lowercase();
            tag.strip_prefix("priority:")?
                .trim()
                .parse::<Priority>()
                .ok()
        })
        .max();
    if let Some(p) = tagged {
        return p;
    }
    let express = shipping.into_iter().any(|s| {
        let s = s.to_ascii_lowercase();
        s.contains("express") || s.contains("overnight")
    });
    if express {
        Priority::High
    } else {
        Priority::Normal
    }
}

/// The customer's name: first and last name trimmed; else the billing or shipping address's name;
/// else the e-mail; else [`UNKNOWN_CUSTOMER`].
fn customer_name(person: Option<String>, address: Option<String>, email: Option<&str>) -> String {
    person
        .or(address)
        .or_else(|| email.map(str::to_owned))
        .unwrap_or_else(|| UNKNOWN_CUSTOMER.to_owned())
}

/// First and last name joined; `None` when both are empty.
fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let name = [first, last]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let name = name.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// The order a fulfillment, refund or return names: `order.admin_graphql_api_id`, `order.id`,
/// `order_id` (numeric → the order's GID), else a name: `order.name`, `order_name`, or the
/// payload's own `name` with its fulfillment (`#1001.1`) or return (`#1001-R1`) suffix removed.
fn order_ref(o: &Obj) -> Result<OrderRef, PayloadError> {
    if let Some(order) = object(o, "order") {
        if let Some(gid) =
            text(order, "admin_graphql_api_id").filter(|g| g.starts_with(ORDER_GID_PREFIX))
        {
            return Ok(OrderRef::Id(gid.to_owned()));
        }
        if let Some(id) = numeric_id(order.get("id"), "order.id")? {
            return Ok(OrderRef::Id(format!("{ORDER_GID_PREFIX}{id}")));
        }
        if let Some(name) = text(order, "name") {
            return Ok(OrderRef::Name(name.to_owned()));
        }
    }
    if let Some(id) = numeric_id(o.get("order_id"), "order_id")? {
        return Ok(OrderRef::Id(format!("{ORDER_GID_PREFIX}{id}")));
    }
    if let Some(name) = text(o, "order_name") {
        return Ok(OrderRef::Name(name.to_owned()));
    }
    text(o, "name")
        .and_then(order_name_of)
        .map(OrderRef::Name)
        .ok_or(PayloadError::Missing("order_id"))
}

/// The order's name inside a fulfillment's (`#1001.1`) or a return's (`#1001-R1`) name.
fn order_name_of(name: &str) -> Option<String> {
    let digits_after = |s: &str, sep: &str| -> Option<usize> {
        let at = s.rfind(sep)?;
        let tail = &s[at + sep.len()..];
        (!tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit())).then_some(at)
    };
    let base = match digits_after(name, "-R").or_else(|| digits_after(name, ".")) {
        Some(at) => &name[..at],
        None => name,
    };
    let base = base.trim();
    (!base.is_empty()).then(|| base.to_owned())
}

// ---------------------------------------------------------------------------------------------
// Fields.

/// A GID of `kind` (`Order`, `Fulfillment`…): `admin_graphql_api_id` when it is one, else `id`
/// when it already is one, else built from the numeric `id`.
fn gid(o: &Obj, kind: &str) -> Result<String, PayloadError> {
    let prefix = format!("gid://shopify/{kind}/");
    if let Some(gid) = ["admin_graphql_api_id", "id"]
        .iter()
        .find_map(|key| text(o, key).filter(|g| g.starts_with(&prefix)))
    {
        return Ok(gid.to_owned());
    }
    numeric_id(o.get("id"), "id")?
        .map(|id| format!("{prefix}{id}"))
        .ok_or(PayloadError::Missing("id"))
}

/// A numeric id as its exact digits, from a JSON number or string; `None` when absent or null.
/// serde keeps integers up to 2^64 exactly; anything that is not plain digits (a float, a negative)
/// is refused, never rounded.
pub(crate) fn numeric_id(
    value: Option<&Value>,
    field: &'static str,
) -> Result<Option<String>, PayloadError> {
    let digits = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(other) => return Err(invalid(field, other)),
    };
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(digits))
    } else {
        Err(PayloadError::Invalid {
            field,
            value: digits,
        })
    }
}

/// An optional RFC 3339 time, in UTC, truncated to microseconds.
fn time(o: &Obj, key: &'static str) -> Result<Option<DateTime<Utc>>, PayloadError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(to_micros(t.with_timezone(&Utc))))
            .map_err(|_| PayloadError::Invalid {
                field: key,
                value: format!("'{s}' (expected an RFC 3339 time)"),
            }),
        Some(other) => Err(invalid(key, other)),
    }
}

fn required_time(o: &Obj, key: &'static str) -> Result<DateTime<Utc>, PayloadError> {
    time(o, key)?.ok_or(PayloadError::Missing(key))
}

/// A non-empty string field, trimmed.
fn text<'a>(o: &'a Obj, key: &str) -> Option<&'a str> {
    o.get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn object<'a>(o: &'a Obj, key: &str) -> Option<&'a Obj> {
    o.get(key)?.as_object()
}

/// An array field; empty when absent, null or not an array.
fn array<'a>(o: &'a Obj, key: &str) -> &'a [Value] {
    o.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn invalid(field: &'static str, value: &Value) -> PayloadError {
    let mut shown = value.to_string();
    if shown.len() > 80 {
        let cut = (0..=77)
            .rev()
            .find(|i| shown.is_char_boundary(*i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push('…');
    }
    PayloadError::Invalid {
        field,
        value: shown,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// Money, in integer millionths.

/// Fraction digits kept while summing: beyond every currency's minor unit.
const SCALE: u32 = 6;

/// How many decimals a currency's amounts are written with: 0 for currencies without minor units
/// (JPY, KRW…), 3 for the dinar-style ones (BHD, KWD…), else 2.
pub fn minor_digits(currency: &str) -> u32 {
    const NONE: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    let code = currency.trim().to_ascii_uppercase();
    if NONE.contains(&code.as_str()) {
        0
    } else if THREE.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// A money field (decimal string or JSON number) in millionths; absent or null is zero.
fn millionths(value: Option<&Value>, field: &'static str) -> Result<i128, PayloadError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(0),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(invalid(field, other)),
    };
    parse_decimal(&text).ok_or(PayloadError::Invalid {
        field,
        value: format!("'{text}' (expected a decimal amount)"),
    })
}

/// Adds a money field to a running sum; a sum beyond what millionths can hold is refused rather
/// than overflowing.
fn add_money(
    total: &mut i128,
    value: Option<&Value>,
    field: &'static str,
) -> Result<(), PayloadError> {
    let amount = millionths(value, field)?;
    *total = total
        .checked_add(amount)
        .ok_or_else(|| PayloadError::Invalid {
            field,
            value: format!(
                "'{}' (the refund's total would be too large)",
                format_amount(amount, SCALE)
            ),
        })?;
    Ok(())
}

/// A JSON number as an amount with the currency's decimals.
fn amount_of_number(
    n: &Number,
    currency: &str,
    field: &'static str,
) -> Result<String, PayloadError> {
    let text = n.to_string();
    parse_decimal(&text)
        .map(|m| format_amount(m, minor_digits(currency)))
        .ok_or(PayloadError::Invalid { field, value: text })
}

/// Parses decimal text (`"10.00"`, `"-3.5"`, `"199.0"`, `"1e-7"` as serde writes small floats)
/// into integer millionths, rounding half away from zero beyond the sixth decimal. `None` for text
/// that is not a number or does not fit.
pub fn parse_decimal(raw: &str) -> Option<i128> {
    let s = raw.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], s[at + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    // Digits beyond what i128 holds do not parse: no separate limit, so that every amount
    // `format_amount` writes (up to 39 digits) reads back.
    let value: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    // value × 10^power millionths
    let power = i64::from(exponent) - frac.len() as i64 + i64::from(SCALE);
    let scaled = if power >= 0 {
        value.checked_mul(10i128.checked_pow(u32::try_from(power).ok()?)?)?
    } else if -power > 38 {
        0
    } else {
        let divisor = 10i128.pow(u32::try_from(-power).ok()?);
        let (q, r) = (value / divisor, value % divisor);
        if r >= divisor - r {
            q + 1
        } else {
            q
        }
    };
    Some(if negative { -scaled } else { scaled })
}

/// Writes millionths with `digits` decimals (at most six), rounding half away from zero.
pub fn format_amount(millionths: i128, digits: u32) -> String {
    let digits = digits.min(SCALE);
    let unit = 10i128.pow(SCALE - digits);
    let magnitude = millionths.unsigned_abs();
    let unit_u = unit.unsigned_abs();
    let (q, r) = (magnitude / unit_u, magnitude % unit_u);
    let minor = if r >= unit_u - r { q + 1 } else { q };
    let sign = if millionths < 0 && minor > 0 { "-" } else { "" };
    if digits == 0 {
        return format!("{sign}{minor}");
    }
    let per = 10u128.pow(digits);
    format!(
        "{sign}{}.{:0width$}",
        minor / per,
        minor % per,
        width = digits as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    const ORDER_GID: &str = "gid://shopify/Order/820982911946154508";

    fn received() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 3, 12, 0, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn parse(topic: Topic, body: &str) -> Result<Ingest, PayloadError> {
        parse_webhook(topic, body.as_bytes(), received())
    }

    #[test]
    fn a_nul_character_anywhere_is_refused_before_it_reaches_the_database() {
        let order = include_str!("../../tests/fixtures/shopify/orders_create.json");
        assert!(parse(Topic::OrdersCreate, order).is_ok());
        let mut value: Value = serde_json::from_str(order).unwrap();
        value["note"] = json!("call\u{0}me");
        assert!(matches!(
            parse(Topic::OrdersCreate, &value.to_string()),
            Err(PayloadError::Json(m)) if m.contains("NUL")
        ));
        let page = include_str!("../../tests/fixtures/shopify/graphql_orders_page.json").replacen(
            "\"",
            "\"\\u0000",
            1,
        );
        assert!(matches!(
            parse_graphql_page(page.as_bytes()),
            Err(PayloadError::Json(_))
        ));
    }

    fn order_of(topic: Topic, body: &str) -> ShopifyOrder {
        match parse(topic, body).unwrap() {
            Ingest::Order(o) => o,
            other => panic!("expected an order, got {other:?}"),
        }
    }

    fn return_of(topic: Topic, body: &str) -> ShopifyReturn {
        match parse(topic, body).unwrap() {
            Ingest::Return(r) => r,
            other => panic!("expected a return, got {other:?}"),
        }
    }

    fn refund_of(body: &Value) -> ShopifyRefund {
        match parse(Topic::RefundsCreate, &body.to_string()).unwrap() {
            Ingest::Refund(r) => r,
            other => panic!("expected a refund, got {other:?}"),
        }
    }

    use crate::shopify::fixtures::*;

    #[test]
    fn every_topic_parses_to_the_fact_it_announces() {
        let cases: &[(Topic, &str, &str)] = &[
            (Topic::OrdersCreate, ORDERS_CREATE, "order"),
            (Topic::OrdersPaid, ORDERS_PAID, "order"),
            (Topic::OrdersUpdated, ORDERS_UPDATED, "order"),
            (Topic::OrdersCancelled, ORDERS_CANCELLED, "order"),
            (
                Topic::FulfillmentsCreate,
                FULFILLMENTS_CREATE,
                "fulfillment",
            ),
            (
                Topic::FulfillmentsUpdate,
                FULFILLMENTS_UPDATE,
                "fulfillment",
            ),
            (Topic::RefundsCreate, REFUNDS_CREATE, "refund"),
            (Topic::ReturnsRequest, RETURNS_REQUEST, "return"),
            (Topic::ReturnsApprove, RETURNS_APPROVE, "return"),
            (Topic::ReturnsDecline, RETURNS_DECLINE, "return"),
            (Topic::ReturnsCancel, RETURNS_CANCEL, "return"),
            (Topic::ReturnsClose, RETURNS_CLOSE, "return"),
            (Topic::ReturnsReopen, RETURNS_REOPEN, "return"),
            (Topic::ReturnsUpdate, RETURNS_UPDATE, "return"),
        ];
        for (topic, body, want) in cases {
            let fact = parse(*topic, body).unwrap_or_else(|e| panic!("{topic}: {e}"));
            let got = match &fact {
                Ingest::Order(_) => "order",
                Ingest::Fulfillment(_) => "fulfillment",
                Ingest::Refund(_) => "refund",
                Ingest::Return(_) => "return",
            };
            assert_eq!(got, *want, "{topic}");
            assert_eq!(fact.order(), OrderRef::Id(ORDER_GID.into()), "{topic}");
        }
        let covered: Vec<Topic> = cases.iter().map(|c| c.0).collect();
        assert!(Topic::ALL.iter().all(|t| covered.contains(t)));
    }

    #[test]
    fn an_order_payload_maps_every_field() {
        let o = order_of(Topic::OrdersCreate, ORDERS_CREATE);
        assert_eq!(o.id, ORDER_GID);
        assert_eq!(o.order_number, "#1001");
        assert_eq!(o.customer_name, "Ada Lovelace");
        assert_eq!(
            o.customer_email.as_deref(),
            Some("ada.lovelace@example.com")
        );
        assert_eq!(
            (o.total_price.as_str(), o.currency.as_str()),
            ("598.94", "USD")
        );
        assert_eq!(o.financial_status, FinancialStatus::Authorized);
        assert_eq!(o.fulfillment_status, FulfillmentStatus::Unfulfilled);
        assert_eq!(o.tags, vec!["gift", "vip"]);
        assert_eq!(o.created_at, utc("2025-09-27T14:03:00Z"));
        assert_eq!(o.updated_at, utc("2025-09-27T14:03:02Z"));
        assert!(o.cancelled_at.is_none() && o.shipments.is_empty());
    }

    #[test]
    fn a_total_price_that_is_not_a_decimal_is_refused() {
        let order = |price: Value| {
            let body = json!({ "id": 1, "name": "#1", "currency": "USD", "total_price": price,
                               "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
            parse(Topic::OrdersCreate, &body.to_string())
        };
        for bad in ["A", "NaN", "12,50", "$10.00", "1.2.3", "Infinity"] {
            assert!(
                matches!(
                    order(json!(bad)),
                    Err(PayloadError::Invalid {
                        field: "total_price",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        // A decimal is kept exactly as sent, trimmed.
        for good in ["598.94", "0.00", "-3.50", " 10.0 ", "199"] {
            match order(json!(good)) {
                Ok(Ingest::Order(o)) => assert_eq!(o.total_price, good.trim()),
                other => panic!("{good:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn big_ids_keep_every_digit_as_numbers_or_strings() {
        for id in [json!(820982911946154508u64), json!("820982911946154508")] {
            let body = json!({
                "id": id, "name": "#1001", "currency": "USD", "total_price": "1.00",
                "financial_status": "paid", "created_at": "2025-09-27T10:03:00-04:00",
                "updated_at": "2025-09-27T10:03:00-04:00"
            });
            let o = order_of(Topic::OrdersCreate, &body.to_string());
            assert_eq!(o.id, ORDER_GID);
        }
        let f = match parse(Topic::FulfillmentsCreate, FULFILLMENTS_CREATE).unwrap() {
            Ingest::Fulfillment(f) => f,
            other => panic!("{other:?}"),
        };
        assert_eq!(f.shipment.id, "gid://shopify/Fulfillment/5599434342566");
        let bad = json!({ "id": 1.5, "name": "#1", "currency": "USD", "total_price": "1",
                          "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
        assert!(matches!(
            parse(Topic::OrdersCreate, &bad.to_string()),
            Err(PayloadError::Invalid { field: "id", .. })
        ));
    }

    #[test]
    fn a_priority_tag_wins_then_express_shipping_then_normal() {
        assert_eq!(
            order_of(Topic::OrdersCreate, ORDERS_CREATE).priority,
            Priority::High
        );
        let updated = order_of(Topic::OrdersUpdated, ORDERS_UPDATED);
        assert!(updated.tags.contains(&"priority:urgent".to_owned()));
        assert_eq!(updated.priority, Priority::Urgent);

        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            priority(&tags(&[" Priority: LOW "]), ["Express"]),
            Priority::Low
        );
        assert_eq!(
            priority(&tags(&["priority:asap"]), ["Standard"]),
            Priority::Normal
        );
        assert_eq!(
            priority(&tags(&["priority:asap"]), ["UPS Next Day OVERNIGHT"]),
            Priority::High
        );
        assert_eq!(
            priority(&tags(&["vip"]), ["Standard", "EXPRESS-2D"]),
            Priority::High
        );
        assert_eq!(
            priority(&tags(&["priority:low", "priority:urgent"]), []),
            Priority::Urgent
        );
        assert_eq!(
            priority(&tags(&[]), ["Standard Shipping", "standard"]),
            Priority::Normal
        );
    }

    #[test]
    fn fulfillment_statuses_map_with_null_as_unfulfilled() {
        let base = |status: Value, fulfillments: Value| {
            json!({
                "id": 1, "name": "#1", "currency": "USD", "total_price": "1.00",
                "financial_status": "paid", "fulfillment_status": status,
                "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z",
                "fulfillments": fulfillments
            })
            .to_string()
        };
        let parcel = json!([{ "id": 7, "status": "success", "tracking_number": "1Z1",
                              "updated_at": "2025-09-27T10:03:00Z" }]);
        let cases = [
            (Value::Null, json!([]), FulfillmentStatus::Unfulfilled),
            (
                json!("partial"),
                parcel.clone(),
                FulfillmentStatus::PartiallyFulfilled,
            ),
            (
                json!("fulfilled"),
                parcel.clone(),
                FulfillmentStatus::Fulfilled,
            ),
            (
                json!("restocked"),
                json!([]),
                FulfillmentStatus::Unfulfilled,
            ),
            (
                json!("something_new"),
                parcel.clone(),
                FulfillmentStatus::PartiallyFulfilled,
            ),
            (
                json!("something_new"),
                json!([]),
                FulfillmentStatus::Unfulfilled,
            ),
        ];
        for (status, fulfillments, want) in cases {
            let o = order_of(Topic::OrdersUpdated, &base(status.clone(), fulfillments));
            assert_eq!(o.fulfillment_status, want, "{status}");
        }
        assert_eq!(
            fulfillment_status("ON_HOLD", false),
            FulfillmentStatus::OnHold
        );
        assert_eq!(
            fulfillment_status("IN_PROGRESS", false),
            FulfillmentStatus::Unfulfilled
        );
        assert_eq!(
            fulfillment_status("PARTIALLY_FULFILLED", true),
            FulfillmentStatus::PartiallyFulfilled
        );
    }

    #[test]
    fn financial_statuses_map_and_unknown_ones_are_refused() {
        let read = |v: Value| financial_status(Some(&v), "financial_status");
        assert_eq!(
            read(json!("partially_refunded")),
            Ok(FinancialStatus::PartiallyRefunded)
        );
        assert_eq!(
            read(json!("PARTIALLY_PAID")),
            Ok(FinancialStatus::PartiallyPaid)
        );
        assert_eq!(read(json!("expired")), Ok(FinancialStatus::Voided));
        assert_eq!(read(Value::Null), Ok(FinancialStatus::Pending));
        let err = read(json!("mostly_paid")).unwrap_err();
        assert!(
            err.to_string().contains("financial_status") && err.to_string().contains("mostly_paid"),
            "{err}"
        );
    }

    #[test]
    fn shipment_statuses_follow_the_table() {
        let table = [
            (Some("label_printed"), false, ShipmentStatus::LabelCreated),
            (Some("label_purchased"), true, ShipmentStatus::LabelCreated),
            (Some("confirmed"), true, ShipmentStatus::LabelCreated),
            (Some("in_transit"), false, ShipmentStatus::InTransit),
            (
                Some("out_for_delivery"),
                true,
                ShipmentStatus::OutForDelivery,
            ),
            (Some("delivered"), true, ShipmentStatus::Delivered),
            (Some("failure"), true, ShipmentStatus::Exception),
            (Some("attempted_delivery"), true, ShipmentStatus::Exception),
            (Some("IN_TRANSIT"), false, ShipmentStatus::InTransit),
            (Some("FULFILLED"), true, ShipmentStatus::InTransit),
            (Some("mystery"), false, ShipmentStatus::LabelCreated),
            (None, true, ShipmentStatus::InTransit),
            (None, false, ShipmentStatus::LabelCreated),
        ];
        for (word, tracked, want) in table {
            assert_eq!(
                shipment_status(word, tracked),
                want,
                "{word:?} tracked={tracked}"
            );
        }
    }

    #[test]
    fn a_fulfillment_becomes_a_shipment_with_tracking() {
        let f = match parse(Topic::FulfillmentsCreate, FULFILLMENTS_CREATE).unwrap() {
            Ingest::Fulfillment(f) => f,
            other => panic!("{other:?}"),
        };
        assert!(!f.cancelled);
        assert_eq!(
            f.shipment.status,
            ShipmentStatus::InTransit,
            "null status with tracking"
        );
        let t = f.shipment.tracking.unwrap();
        assert_eq!(
            (t.number.as_str(), t.carrier.as_str()),
            ("1Z999AA10123456784", "UPS")
        );
        assert_eq!(f.shipment.last_update_at, utc("2025-09-28T13:15:00Z"));

        let body = json!({ "id": 9, "order_id": 5, "status": "cancelled",
                           "tracking_numbers": ["", "TRK-77"], "shipment_status": null });
        let f = match parse(Topic::FulfillmentsUpdate, &body.to_string()).unwrap() {
            Ingest::Fulfillment(f) => f,
            other => panic!("{other:?}"),
        };
        assert!(f.cancelled);
        assert_eq!(f.order, OrderRef::Id("gid://shopify/Order/5".into()));
        assert_eq!(
            f.shipment.last_update_at,
            received(),
            "no time: the delivery's"
        );
        let t = f.shipment.tracking.unwrap();
        assert_eq!(
            (t.number.as_str(), t.carrier.as_str()),
            ("TRK-77", UNKNOWN_CARRIER)
        );
    }

    #[test]
    fn facts_without_an_order_id_name_the_order() {
        let body = json!({ "id": 9, "name": "#1001.2", "status": "success",
                           "updated_at": "2025-09-28T09:15:00-04:00" });
        let fact = parse(Topic::FulfillmentsUpdate, &body.to_string()).unwrap();
        assert_eq!(fact.order(), OrderRef::Name("#1001".into()));
        let body = json!({ "id": 3, "status": "open", "name": "#1001-R2" });
        assert_eq!(
            return_of(Topic::ReturnsApprove, &body.to_string()).order,
            OrderRef::Name("#1001".into())
        );
        let body = json!({ "id": 3, "status": "open", "order_name": "#1009" });
        assert_eq!(
            return_of(Topic::ReturnsApprove, &body.to_string()).order,
            OrderRef::Name("#1009".into())
        );
        let body = json!({ "id": 3, "status": "open" });
        assert_eq!(
            parse(Topic::ReturnsApprove, &body.to_string()),
            Err(PayloadError::Missing("order_id"))
        );
    }

    #[test]
    fn return_statuses_map_in_either_case_and_spelling() {
        let r = return_of(Topic::ReturnsRequest, RETURNS_REQUEST);
        assert_eq!(r.id, "gid://shopify/Return/8978432146");
        assert_eq!(
            (r.status, r.has_label, r.reopened),
            (ShopifyReturnStatus::Requested, false, false)
        );
        assert_eq!(r.at, received(), "return payloads carry no time");
        assert_eq!(
            return_of(Topic::ReturnsApprove, RETURNS_APPROVE).status,
            ShopifyReturnStatus::Open
        );
        assert_eq!(
            return_of(Topic::ReturnsDecline, RETURNS_DECLINE).status,
            ShopifyReturnStatus::Declined
        );
        assert_eq!(
            return_of(Topic::ReturnsCancel, RETURNS_CANCEL).status,
            ShopifyReturnStatus::Canceled
        );
        assert_eq!(
            return_of(Topic::ReturnsClose, RETURNS_CLOSE).status,
            ShopifyReturnStatus::Closed
        );
        let reopen = return_of(Topic::ReturnsReopen, RETURNS_REOPEN);
        assert_eq!(
            (reopen.status, reopen.reopened),
            (ShopifyReturnStatus::Open, true)
        );

        for (word, want) in [
            ("REQUESTED", ShopifyReturnStatus::Requested),
            ("OPEN", ShopifyReturnStatus::Open),
            ("DECLINED", ShopifyReturnStatus::Declined),
            ("CANCELED", ShopifyReturnStatus::Canceled),
            ("cancelled", ShopifyReturnStatus::Canceled),
            ("Closed", ShopifyReturnStatus::Closed),
        ] {
            assert_eq!(return_status(word), Ok(want), "{word}");
        }
        assert!(matches!(
            return_status("returned"),
            Err(PayloadError::Invalid {
                field: "status",
                ..
            })
        ));
    }

    #[test]
    fn a_return_without_status_takes_its_topic_s_or_has_nothing_to_apply() {
        let body =
            json!({ "id": 1, "admin_graphql_api_id": "gid://shopify/Return/1", "order_id": 5 })
                .to_string();
        assert_eq!(
            return_of(Topic::ReturnsCancel, &body).status,
            ShopifyReturnStatus::Canceled
        );
        assert_eq!(
            return_of(Topic::ReturnsDecline, &body).status,
            ShopifyReturnStatus::Declined
        );
        assert!(matches!(
            parse(Topic::ReturnsUpdate, RETURNS_UPDATE_LINE_ITEMS),
            Err(PayloadError::NothingToApply(_))
        ));
    }

    #[test]
    fn a_return_label_is_found_in_reverse_deliveries_or_at_the_top() {
        let r = return_of(Topic::ReturnsUpdate, RETURNS_UPDATE);
        assert!(
            r.has_label,
            "deliverable.label inside reverse_fulfillment_orders"
        );
        assert!(
            !return_of(Topic::ReturnsApprove, RETURNS_APPROVE).has_label,
            "empty reverse deliveries"
        );
        let with = |extra: Value| {
            let mut body = json!({ "id": 1, "status": "open", "order_id": 5 });
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            return_of(Topic::ReturnsUpdate, &body.to_string()).has_label
        };
        assert!(with(json!({ "label_url": "https://cdn.example/l.pdf" })));
        assert!(with(
            json!({ "reverse_deliveries": [{ "label": { "public_file_url": "x" } }] })
        ));
        assert!(!with(
            json!({ "reverse_deliveries": [{ "label": null, "label_url": "" }] })
        ));
        assert!(
            !with(json!({ "return_line_items": [{ "label": "Sweater" }] })),
            "only reverse deliveries count"
        );
    }

    #[test]
    fn a_return_time_is_its_own_when_it_has_one() {
        let body = json!({ "id": 1, "status": "open", "order_id": 5,
                           "created_at": "2025-10-01T08:00:00-04:00",
                           "updated_at": "2025-10-01T09:30:00.1234567-04:00" });
        let r = return_of(Topic::ReturnsUpdate, &body.to_string());
        assert_eq!(
            r.at,
            utc("2025-10-01T13:30:00.123456Z"),
            "UTC, truncated to microseconds"
        );
    }

    #[test]
    fn refunds_sum_successful_transactions_exactly() {
        let r = match parse(Topic::RefundsCreate, REFUNDS_CREATE).unwrap() {
            Ingest::Refund(r) => r,
            other => panic!("{other:?}"),
        };
        assert_eq!(r.id, "gid://shopify/Refund/929361462");
        assert_eq!((r.amount.as_str(), r.currency.as_str()), ("208.04", "USD"));
        assert_eq!(r.created_at, utc("2025-10-02T15:00:00Z"));

        let r = refund_of(&json!({
            "id": 1, "order_id": 5, "created_at": "2025-10-02T11:00:00-04:00",
            "transactions": [
                { "kind": "refund", "status": "success", "amount": "0.10", "currency": "EUR" },
                { "kind": "refund", "status": "success", "amount": "0.20", "currency": "EUR" },
                { "kind": "refund", "status": "failure", "amount": "99.00", "currency": "EUR" }
            ],
            "refund_line_items": [{ "subtotal": 500.0 }]
        }));
        assert_eq!((r.amount.as_str(), r.currency.as_str()), ("0.30", "EUR"));
    }

    #[test]
    fn refunds_without_transactions_sum_their_line_items_numbers_exactly() {
        let r = refund_of(&json!({
            "id": 1, "order_id": 5, "processed_at": "2025-10-02T11:00:00-04:00",
            "transactions": [],
            "refund_line_items": [
                { "subtotal": 0.1, "total_tax": 0.0,
                  "subtotal_set": { "shop_money": { "amount": "0.10", "currency_code": "CAD" } } },
                { "subtotal": 0.2, "total_tax": 0.005 }
            ]
        }));
        assert_eq!(
            (r.amount.as_str(), r.currency.as_str()),
            ("0.31", "CAD"),
            "0.305 rounds half up"
        );
        assert_eq!(r.created_at, utc("2025-10-02T15:00:00Z"));

        let r = refund_of(&json!({ "id": 2, "order_id": 5, "currency": "JPY",
                                   "refund_line_items": [{ "subtotal": 1500.0 }, { "subtotal": 250 }] }));
        assert_eq!((r.amount.as_str(), r.currency.as_str()), ("1750", "JPY"));
        assert_eq!(r.created_at, received());
    }

    #[test]
    fn refunds_whose_amounts_add_up_past_the_largest_sum_are_refused() {
        // Each amount reads (1e32 is 10^38 millionths, within i128); their sum does not.
        let body = json!({ "id": 1, "order_id": 5,
                           "transactions": [{ "amount": "1e32" }, { "amount": "1e32" }] });
        assert!(matches!(
            parse(Topic::RefundsCreate, &body.to_string()),
            Err(PayloadError::Invalid {
                field: "transactions.amount",
                ..
            })
        ));
        let body = json!({ "id": 1, "order_id": 5,
                           "refund_line_items": [{ "subtotal": 1e32, "total_tax": 1e32 }] });
        assert!(matches!(
            parse(Topic::RefundsCreate, &body.to_string()),
            Err(PayloadError::Invalid {
                field: "refund_line_items.total_tax",
                ..
            })
        ));
        // Large amounts that do fit are summed exactly.
        let r = refund_of(&json!({ "id": 1, "order_id": 5,
                                   "transactions": [{ "amount": "1e32" }, { "amount": "-1e32" }, { "amount": "0.01" }] }));
        assert_eq!(r.amount, "0.01");
    }

    #[test]
    fn decimals_parse_and_format_without_float_error() {
        assert_eq!(parse_decimal("10.00"), Some(10_000_000));
        assert_eq!(parse_decimal("199.0"), Some(199_000_000));
        assert_eq!(parse_decimal("-3.5"), Some(-3_500_000));
        assert_eq!(parse_decimal("1e-7"), Some(0));
        assert_eq!(parse_decimal("5e-7"), Some(1));
        assert_eq!(parse_decimal("1.5E2"), Some(150_000_000));
        assert_eq!(parse_decimal(".5"), Some(500_000));
        for bad in ["", "-", "1.2.3", "12a", "NaN", "1e", "1e99999"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
        let sum: i128 = ["0.1", "0.2"]
            .iter()
            .map(|s| parse_decimal(s).unwrap())
            .sum();
        assert_eq!(format_amount(sum, 2), "0.30");
        assert_eq!(format_amount(-1_005_000, 2), "-1.01");
        assert_eq!(format_amount(4_000, 2), "0.00");
        assert_eq!(format_amount(-4_000, 2), "0.00");
        assert_eq!(format_amount(1_234_567_500, 3), "1234.568");
        assert_eq!(format_amount(1_500_000_000, 0), "1500");
        assert_eq!(minor_digits("jpy"), 0);
        assert_eq!(minor_digits("KWD"), 3);
    }

    #[test]
    fn every_amount_written_reads_back_however_large() {
        // 10^30 units is 10^36 millionths: it fits, written out or with an exponent.
        let big = format!("1{}", "0".repeat(30));
        assert_eq!(parse_decimal(&big), parse_decimal("1e30"));
        assert_eq!(parse_decimal(&big), Some(10i128.pow(36)));
        for m in [10i128.pow(36), -(10i128.pow(36)), i128::MAX, -i128::MAX] {
            assert_eq!(parse_decimal(&format_amount(m, 6)), Some(m), "{m}");
        }
        // Beyond i128 is still refused.
        assert_eq!(parse_decimal(&format!("{}.0", i128::MAX)), None);
        assert_eq!(parse_decimal(&"9".repeat(40)), None);
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let o = order_of(Topic::OrdersCancelled, ORDERS_CANCELLED);
        assert_eq!(o.cancelled_at, Some(utc("2025-09-27T16:40:00Z")));
        assert_eq!(o.cancel_reason.as_deref(), Some("customer"));
        assert_eq!(o.financial_status, FinancialStatus::Voided);
    }

    #[test]
    fn an_order_with_a_cancelled_fulfillment_lists_it_apart() {
        let o = order_of(Topic::OrdersUpdated, ORDERS_UPDATED);
        assert_eq!(o.fulfillment_status, FulfillmentStatus::PartiallyFulfilled);
        let ids: Vec<&str> = o.shipments.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["gid://shopify/Fulfillment/5599434342566"]);
        assert_eq!(
            o.cancelled_shipments,
            ["gid://shopify/Fulfillment/5599434309798"]
        );
        assert_eq!(o.shipments[0].status, ShipmentStatus::InTransit);
    }

    #[test]
    fn customer_names_fall_back_to_addresses_then_email() {
        let body = |extra: Value| {
            let mut b = json!({ "id": 1, "name": "#1", "currency": "USD", "total_price": "1.00",
                                "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
            b.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            order_of(Topic::OrdersCreate, &b.to_string())
        };
        let o = body(
            json!({ "customer": { "first_name": "  Grace ", "last_name": null }, "email": "" }),
        );
        assert_eq!(
            (o.customer_name.as_str(), o.customer_email),
            ("Grace", None)
        );
        let o = body(
            json!({ "customer": null, "billing_address": { "first_name": "Alan", "last_name": "Turing" } }),
        );
        assert_eq!(o.customer_name, "Alan Turing");
        let o = body(json!({ "email": "x@example.com" }));
        assert_eq!(o.customer_name, "x@example.com");
        assert_eq!(body(json!({})).customer_name, UNKNOWN_CUSTOMER);
    }

    #[test]
    fn unreadable_bodies_say_what_is_wrong() {
        assert!(matches!(
            parse(Topic::OrdersCreate, "not json"),
            Err(PayloadError::Json(_))
        ));
        assert!(matches!(
            parse(Topic::OrdersCreate, "[1]"),
            Err(PayloadError::Json(_))
        ));
        let no_id = json!({ "name": "#1", "currency": "USD", "total_price": "1.00",
                            "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
        assert_eq!(
            parse(Topic::OrdersCreate, &no_id.to_string()),
            Err(PayloadError::Missing("id"))
        );
        let bad_time = json!({ "id": 1, "name": "#1", "currency": "USD", "total_price": "1.00",
                               "created_at": "yesterday", "updated_at": "2025-09-27T10:03:00Z" });
        let err = parse(Topic::OrdersCreate, &bad_time.to_string()).unwrap_err();
        assert!(
            err.to_string().contains("created_at") && err.to_string().contains("RFC 3339"),
            "{err}"
        );
    }

    #[test]
    fn an_order_without_a_total_is_refused_by_webhook_and_poller_alike() {
        let rest = json!({ "id": 1, "name": "#1", "currency": "USD",
                           "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
        assert_eq!(
            parse(Topic::OrdersCreate, &rest.to_string()),
            Err(PayloadError::Missing("total_price"))
        );
        for amount in [None, Some(Value::Null)] {
            let mut node = json!({ "id": ORDER_GID, "name": "#1",
                                   "totalPriceSet": { "shopMoney": { "currencyCode": "USD" } },
                                   "createdAt": "2025-09-27T10:03:00Z", "updatedAt": "2025-09-27T10:03:00Z" });
            if let Some(a) = amount {
                node["totalPriceSet"]["shopMoney"]["amount"] = a;
            }
            assert_eq!(
                parse_graphql_order(&node),
                Err(PayloadError::Missing("totalPriceSet.shopMoney.amount"))
            );
            node["totalPriceSet"]["shopMoney"]["amount"] = json!("25.0");
            assert_eq!(parse_graphql_order(&node).unwrap().total_price, "25.00");
        }
    }

    #[test]
    fn the_graphql_page_reads_orders_cursor_and_throttle() {
        let page = parse_graphql_page(GRAPHQL_ORDERS_PAGE.as_bytes()).unwrap();
        assert!(page.has_next_page);
        assert_eq!(page.end_cursor.as_deref(), Some("eyJsYXN0X2lkIjo4MjA5ODI5MTE5NDYxNTQ1MTQsImxhc3RfdmFsdWUiOiIyMDI1LTEwLTAyIDE1OjAwOjAwIn0="));
        let t = page.throttle.unwrap();
        assert_eq!(
            (t.maximum_available, t.currently_available, t.restore_rate),
            (2000.0, 1980.0, 100.0)
        );
        assert_eq!(t.wait_before(500.0), std::time::Duration::ZERO);
        assert_eq!(t.wait_before(2180.0), std::time::Duration::from_secs(2));

        let orders: Vec<ShopifyOrder> = page.orders.into_iter().map(Result::unwrap).collect();
        assert_eq!(orders.len(), 2);
        let a = &orders[0];
        assert_eq!(a.id, ORDER_GID);
        assert_eq!(
            (a.total_price.as_str(), a.currency.as_str()),
            ("598.94", "USD")
        );
        assert_eq!(a.financial_status, FinancialStatus::PartiallyRefunded);
        assert_eq!(a.fulfillment_status, FulfillmentStatus::PartiallyFulfilled);
        assert_eq!(a.priority, Priority::Urgent);
        assert_eq!(a.shipments.len(), 1);
        assert_eq!(a.shipments[0].status, ShipmentStatus::Delivered);
        assert_eq!(
            a.cancelled_shipments,
            ["gid://shopify/Fulfillment/5599434309798"]
        );

        let b = &orders[1];
        assert_eq!(b.id, "gid://shopify/Order/820982911946154514");
        assert_eq!(
            b.total_price, "72.50",
            "GraphQL's 72.5 written with the currency's decimals"
        );
        assert_eq!(
            b.customer_name, "Grace Hopper",
            "billing address when there is no customer"
        );
        assert_eq!(b.customer_email, None);
        assert_eq!(b.fulfillment_status, FulfillmentStatus::OnHold);
        assert_eq!(b.financial_status, FinancialStatus::Pending);
        assert_eq!(b.priority, Priority::High, "overnight shipping");
        assert_eq!(b.cancel_reason, None);
    }

    #[test]
    fn webhook_and_poller_agree_on_the_same_order() {
        let page = parse_graphql_page(GRAPHQL_ORDERS_PAGE.as_bytes()).unwrap();
        let polled = page.orders[0].clone().unwrap();
        let pushed = order_of(Topic::OrdersUpdated, ORDERS_UPDATED);
        assert_eq!(polled.customer_name, pushed.customer_name);
        assert_eq!(polled.customer_email, pushed.customer_email);
        assert_eq!(polled.order_number, pushed.order_number);
        assert_eq!(polled.tags, pushed.tags);
        assert_eq!(polled.created_at, pushed.created_at);
    }

    #[test]
    fn graphql_errors_are_reported_with_their_code() {
        let body = json!({ "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }] });
        let err = parse_graphql_page(body.to_string().as_bytes()).unwrap_err();
        assert_eq!(
            err,
            PayloadError::GraphQl {
                code: Some("THROTTLED".into()),
                message: "Throttled".into()
            }
        );
        assert!(err.to_string().contains("(THROTTLED)"));
        let body = json!({ "errors": "[API] Invalid API key or access token" });
        assert!(matches!(
            parse_graphql_page(body.to_string().as_bytes()),
            Err(PayloadError::GraphQl { code: None, .. })
        ));
        let body = json!({ "data": { "shop": {} } });
        assert_eq!(
            parse_graphql_page(body.to_string().as_bytes()),
            Err(PayloadError::Missing("data.orders"))
        );
    }

    #[test]
    fn a_throttled_answer_still_reports_its_cost() {
        let body = json!({
            "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }],
            "extensions": { "cost": { "requestedQueryCost": 752, "actualQueryCost": null,
                "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 2, "restoreRate": 100.0 } } }
        })
        .to_string();
        let t = graphql_throttle(body.as_bytes()).expect("a cost report");
        assert_eq!(t.requested_cost, 752.0);
        assert_eq!(t.actual_cost, None);
        assert_eq!(
            t.wait_before(t.requested_cost),
            std::time::Duration::from_millis(7500)
        );
        assert_eq!(
            graphql_throttle(GRAPHQL_ORDERS_PAGE.as_bytes()).map(|t| t.currently_available),
            Some(1980.0)
        );
        assert_eq!(graphql_throttle(b"{\"errors\": \"no\"}"), None);
        assert_eq!(graphql_throttle(b"<html>"), None);
    }

    #[test]
    fn the_query_asks_for_what_the_reader_reads() {
        for field in [
            "$first: Int!",
            "$after: String",
            "$query: String",
            "sortKey: UPDATED_AT",
            "hasNextPage",
            "endCursor",
            "legacyResourceId",
            "displayFinancialStatus",
            "displayFulfillmentStatus",
            "shopMoney { amount currencyCode }",
            "customer { firstName lastName }",
            "shippingLines(first: 5)",
            "fulfillments(first: 20)",
            "trackingInfo(first: 1) { number company }",
        ] {
            assert!(ORDERS_QUERY.contains(field), "{field}");
        }
        assert_eq!(
            ORDERS_QUERY.matches('{').count(),
            ORDERS_QUERY.matches('}').count()
        );
    }

    #[test]
    fn fixtures_escape_slashes_as_shopify_does() {
        assert!(FULFILLMENTS_CREATE.contains(r"https:\/\/"));
        assert!(RETURNS_UPDATE.contains(r"https:\/\/"));
    }
}
