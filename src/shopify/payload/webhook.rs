//! Webhooks: the REST bodies of every topic Sync subscribes to (orders, fulfillments, refunds,
//! returns) read into [`Ingest`] facts, after the NUL check every body passes first.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::fields::{array, gid, invalid, kind, numeric_id, object, required_time, text, time};
use super::mapping::{
    customer_name, financial_status, fulfillment_is_gone, fulfillment_status, full_name, order_ref,
    priority, shipment_status, split_fulfillments, split_tags, tag_list, tracking,
};
use super::money::{add_money, amount_of_number, format_amount, minor_digits, parse_decimal};
use super::{Obj, PayloadError};
use crate::domain::{FulfillmentStatus, Shipment};
use crate::record::to_micros;
use crate::shopify::{
    Ingest, ShopifyFulfillment, ShopifyOrder, ShopifyRefund, ShopifyReturn, ShopifyReturnStatus,
    Topic,
};

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
