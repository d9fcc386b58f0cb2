//! The mapping of SPEC §7 that webhook and poller share: fulfillment, financial and shipment
//! statuses, tags and priority, customer names, and the order a fulfillment, refund or return names.

use serde_json::Value;

use super::fields::{invalid, numeric_id, object, text};
use super::{Obj, PayloadError, UNKNOWN_CARRIER, UNKNOWN_CUSTOMER};
use crate::domain::{
    FinancialStatus, FulfillmentStatus, Priority, Shipment, ShipmentStatus, Tracking,
};
use crate::order_ref::{OrderRef, ORDER_GID_PREFIX};

/// Reads an order's fulfillments: the shipments that travel, and the GIDs of those that are gone.
pub(super) fn split_fulfillments(
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
pub(super) fn fulfillment_is_gone(status: &str) -> bool {
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
pub(super) fn fulfillment_status(word: &str, has_shipments: bool) -> FulfillmentStatus {
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
pub(super) fn financial_status(
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
pub(super) fn tracking(number: Option<&str>, company: Option<&str>) -> Option<Tracking> {
    Some(Tracking {
        number: number?.to_owned(),
        carrier: company.unwrap_or(UNKNOWN_CARRIER).to_owned(),
    })
}

/// Splits Shopify's comma-separated tags (`"vip, gift"`), trimmed, empties dropped.
pub(super) fn split_tags(tags: &str) -> Vec<String> {
    tags.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// GraphQL's list of tags, trimmed, empties (and non-strings) dropped.
pub(super) fn tag_list(items: &[Value]) -> Vec<String> {
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
pub(super) fn customer_name(
    person: Option<String>,
    address: Option<String>,
    email: Option<&str>,
) -> String {
    person
        .or(address)
        .or_else(|| email.map(str::to_owned))
        .unwrap_or_else(|| UNKNOWN_CUSTOMER.to_owned())
}

/// First and last name joined; `None` when both are empty.
pub(super) fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
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
pub(super) fn order_ref(o: &Obj) -> Result<OrderRef, PayloadError> {
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
