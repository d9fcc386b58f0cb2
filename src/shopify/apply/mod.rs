//! What a fact from Shopify changes in a stored order, decided once for both stores (SPEC §7).
//!
//! # Policy
//!
//! - **Pure and deterministic.** Each function takes the stored [`OrderRecord`], the fact and `now`,
//!   and answers the whole record after the change with the timeline entries it added, or `None`
//!   when nothing changes (so a redelivery or a poll of an unchanged order writes nothing).
//! - **Shopify owns its fields; Sync owns its own.** An order payload overwrites what Shopify decides
//!   (customer, e-mail, total, currency, statuses, cancellation, priority, tags, its fulfillments) and
//!   never what Sync records: the assignee, support escalations, the return (returns come from the
//!   returns topics) and shipments Sync recorded itself (ids that are not fulfillment GIDs, such as
//!   `shp_…` from the fulfill action). `created_at` is kept from the first payload.
//! - **Older never overwrites newer.** An order payload whose `updated_at` is older than the last one
//!   applied is stale (`None`); an equal one applies, and changes nothing when it says nothing new. A
//!   shipment older than the stored one (by its `last_update_at`) is ignored.
//! - **Entries tell what happened, when it happened.** An entry's time is the fact's own (the order's
//!   `updated_at`, the shipment's `last_update_at`, the refund's `created_at`, the return's `at`),
//!   never later than `now`. New entries are appended to the history in the order they are written
//!   (readers sort by time: [`crate::record::newest_first`]); `entries` lists them oldest first.
//! - **`updated_at`** of the record becomes the later of its stored value and the fact's time, so a
//!   later local change (an assignment) is never hidden by an older Shopify time.
//!
//! The timeline entries the changes write, one sentence each, are in `entries`.

mod entries;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};

use crate::domain::{FinancialStatus, FulfillmentStatus, ReturnState, Shipment, TimelineEntry};
use crate::record::{OrderRecord, ReturnRecord};
use crate::shopify::payload::parse_decimal;
use crate::shopify::{
    Ingest, ShopifyFulfillment, ShopifyOrder, ShopifyRefund, ShopifyReturn, ShopifyReturnStatus,
};
use entries::{
    cancelled_entry, entry, fulfillment_entry, money, payment_entry, release_entry, return_details,
    shipment_entry,
};

/// What applying one fact did to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The whole order after the change, the new entries already appended to its timeline.
    pub record: OrderRecord,
    /// The timeline entries the fact added, oldest first.
    pub entries: Vec<TimelineEntry>,
}

/// Applies an order payload. `existing` is the stored order, `None` when new. Answers `None` when
/// the payload is stale (its `updated_at` is older than `existing.shopify_updated_at`) or changes
/// nothing.
///
/// A new order gets the story its state implies, at the payload's times: the payment (a refunded or
/// voided order first shows how it was paid or authorized), `inventory.hold` at creation,
/// `fulfillment.<status>` unless unfulfilled, a `shipment.<status>` per parcel, and
/// `inventory.release` when cancelled. An update adds an entry for each change: the payment on a new
/// financial status, `fulfillment.<status>` on a new fulfillment status, `inventory.release` on a new
/// cancellation, `fulfillment.cancelled` for a stored fulfillment Shopify now reports cancelled, and
/// `shipment.<status>` for each new parcel or one whose status or tracking changed.
pub fn apply_order(
    existing: Option<&OrderRecord>,
    order: &ShopifyOrder,
    now: DateTime<Utc>,
) -> Option<Applied> {
    match existing {
        None => Some(new_order(order, now)),
        Some(stored) => update_order(stored, order, now),
    }
}

/// Applies a fulfillment, refund or return fact to a known order (an [`Ingest::Order`] delegates
/// to [`apply_order`]). `None` when it changes nothing.
///
/// - A fulfillment upserts its shipment by id, or removes it when Shopify cancelled it
///   (`fulfillment.cancelled`); `shipment.<status>` when the parcel is new or its status or tracking
///   changed. The order's fulfillment status is left alone: the `orders/updated` that Shopify sends
///   with every fulfillment brings it, and guessing "partially" or "fully" from one parcel would be
///   wrong as often as right.
/// - A refund adds `payment.refunded` ("Refunded 10.00 USD.") and makes a paid, partly paid or
///   authorized order `partially_refunded`; the order webhook that follows has the final word (e.g.
///   `refunded`). Refunds are not deduplicated here: the store does that by refund id.
/// - A return moves the order's return as [`return_walk`] says.
pub fn apply_fact(record: &OrderRecord, fact: &Ingest, now: DateTime<Utc>) -> Option<Applied> {
    match fact {
        Ingest::Order(order) => apply_order(Some(record), order, now),
        Ingest::Fulfillment(f) => apply_fulfillment(record, f, now),
        Ingest::Refund(r) => apply_refund(record, r, now),
        Ingest::Return(r) => apply_return(record, r, now),
    }
}

// ---------------------------------------------------------------------------------------------
// Orders.

fn new_order(order: &ShopifyOrder, now: DateTime<Utc>) -> Applied {
    let created = order.created_at;
    let at = |t: DateTime<Utc>| t.max(created).min(now);
    let updated = at(order.updated_at);
    let money = money(&order.total_price, &order.currency);
    let mut entries = Vec::new();

    // How the money came in, then where it stands if it has moved on since.
    let opening = match order.financial_status {
        FinancialStatus::Refunded | FinancialStatus::PartiallyRefunded => FinancialStatus::Paid,
        FinancialStatus::Voided => FinancialStatus::Authorized,
        other => other,
    };
    entries.push(payment_entry(at(created), opening, &money));
    entries.push(entry(
        at(created),
        "inventory.hold",
        format!("Stock reserved for order {}.", order.order_number),
    ));
    if order.fulfillment_status != FulfillmentStatus::Unfulfilled {
        let fulfilled_at = order
            .shipments
            .iter()
            .map(|s| s.last_update_at)
            .min()
            .unwrap_or(order.updated_at);
        entries.push(fulfillment_entry(
            at(fulfilled_at),
            order.fulfillment_status,
        ));
    }
    for shipment in &order.shipments {
        entries.push(shipment_entry(shipment, now));
    }
    if let Some(cancelled) = order.cancelled_at {
        entries.push(release_entry(at(cancelled), order.cancel_reason.as_deref()));
    }
    if opening != order.financial_status {
        let settled = order.cancelled_at.map_or(updated, |c| at(c).max(updated));
        entries.push(payment_entry(settled, order.financial_status, &money));
    }
    entries.sort_by_key(|e| e.ts);

    let record = OrderRecord {
        id: order.id.clone(),
        order_number: order.order_number.clone(),
        customer_name: order.customer_name.clone(),
        customer_email: order.customer_email.clone(),
        total_price: order.total_price.clone(),
        currency: order.currency.clone(),
        fulfillment_status: order.fulfillment_status,
        financial_status: order.financial_status,
        cancelled_at: order.cancelled_at,
        priority: order.priority,
        tags: order.tags.clone(),
        created_at: created,
        updated_at: updated.max(entries.iter().map(|e| e.ts).max().unwrap_or(updated)),
        shopify_updated_at: Some(order.updated_at),
        shipments: order.shipments.clone(),
        return_: None,
        support: Vec::new(),
        assigned_to: None,
        timeline: entries.clone(),
    };
    Applied { record, entries }
}

fn update_order(stored: &OrderRecord, order: &ShopifyOrder, now: DateTime<Utc>) -> Option<Applied> {
    if stored
        .shopify_updated_at
        .is_some_and(|seen| order.updated_at < seen)
    {
        return None;
    }
    let at = order.updated_at.min(now);
    let mut next = stored.clone();
    let mut entries = Vec::new();

    next.order_number.clone_from(&order.order_number);
    next.customer_name.clone_from(&order.customer_name);
    next.customer_email.clone_from(&order.customer_email);
    next.total_price.clone_from(&order.total_price);
    next.currency.clone_from(&order.currency);
    next.priority = order.priority;
    next.tags.clone_from(&order.tags);

    if let (Some(cancelled), None) = (order.cancelled_at, stored.cancelled_at) {
        entries.push(release_entry(
            cancelled.min(now),
            order.cancel_reason.as_deref(),
        ));
    }
    next.cancelled_at = order.cancelled_at;
    if order.financial_status != stored.financial_status {
        let money = money(&order.total_price, &order.currency);
        entries.push(payment_entry(at, order.financial_status, &money));
        next.financial_status = order.financial_status;
    }
    if order.fulfillment_status != stored.fulfillment_status {
        entries.push(fulfillment_entry(at, order.fulfillment_status));
        next.fulfillment_status = order.fulfillment_status;
    }

    for id in &order.cancelled_shipments {
        if let Some(gone) = remove_shipment(&mut next.shipments, id) {
            entries.push(cancelled_entry(at, &gone));
        }
    }
    for shipment in &order.shipments {
        entries.extend(upsert_shipment(&mut next.shipments, shipment, now));
    }

    finish(stored, next, entries, at, Some(order.updated_at))
}

// ---------------------------------------------------------------------------------------------
// Fulfillments, refunds, returns.

fn apply_fulfillment(
    stored: &OrderRecord,
    f: &ShopifyFulfillment,
    now: DateTime<Utc>,
) -> Option<Applied> {
    let at = f.shipment.last_update_at.min(now);
    let mut next = stored.clone();
    let mut entries = Vec::new();
    if f.cancelled {
        if let Some(gone) = remove_shipment(&mut next.shipments, &f.shipment.id) {
            entries.push(cancelled_entry(at, &gone));
        }
    } else {
        entries.extend(upsert_shipment(&mut next.shipments, &f.shipment, now));
    }
    finish(stored, next, entries, at, None)
}

fn apply_refund(stored: &OrderRecord, r: &ShopifyRefund, now: DateTime<Utc>) -> Option<Applied> {
    let at = r.created_at.min(now);
    let currency = if r.currency.is_empty() {
        &stored.currency
    } else {
        &r.currency
    };
    let mut next = stored.clone();
    let moved_money = parse_decimal(&r.amount).is_some_and(|m| m != 0);
    if moved_money
        && matches!(
            stored.financial_status,
            FinancialStatus::Paid | FinancialStatus::PartiallyPaid | FinancialStatus::Authorized
        )
    {
        next.financial_status = FinancialStatus::PartiallyRefunded;
    }
    let entries = vec![entry(
        at,
        "payment.refunded",
        format!("Refunded {}.", money(&r.amount, currency)),
    )];
    finish(stored, next, entries, at, None)
}

fn apply_return(stored: &OrderRecord, r: &ShopifyReturn, now: DateTime<Utc>) -> Option<Applied> {
    let walk = return_walk(stored.return_.as_ref(), r);
    let state = *walk.last()?;
    let at = r.at.min(now);
    let same = stored.return_.as_ref().filter(|c| c.id == r.id);
    let reopened = same.is_some_and(|c| c.state.is_terminal()) && !state.is_terminal();

    let mut next = stored.clone();
    next.return_ = Some(ReturnRecord {
        id: r.id.clone(),
        state,
        created_at: same.map_or(at, |c| c.created_at),
        updated_at: at,
    });
    let entries = walk
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let details = if k == 0 && reopened {
                "Return reopened.".to_owned()
            } else {
                return_details(*s, r.status)
            };
            entry(at, format!("return.{s}"), details)
        })
        .collect();
    finish(stored, next, entries, at, None)
}

/// The return states a Shopify return fact moves the order's return through, in order; empty when
/// it changes nothing. Shopify's statuses map per SPEC §7, refined for a return Sync also moves:
///
/// - `requested`/`open` start a return at `awaiting_label` (then `label_generated` when a label
///   exists) when the order has none, when it names another return (the newest replaces the stored
///   one: an order shows one return), or when `returns/reopen` revives an ended return of the same
///   id. For the same return still open, `open` keeps its state ("until a label exists": Sync's own
///   later states, such as `inspection`, stay), except that a label moves `awaiting_label` to
///   `label_generated`. A late or repeated `open` never revives an ended return.
/// - `declined` → `denied`, `canceled` → `cancelled`, `closed` → `completed`, from any state of the
///   same return (Shopify has the final word on its returns), or as a new return when the order
///   has none or only an ended one. A terminal fact about another return never hides an open one.
pub fn return_walk(current: Option<&ReturnRecord>, fact: &ShopifyReturn) -> Vec<ReturnState> {
    let same = current.filter(|c| c.id == fact.id);
    let end = match fact.status {
        ShopifyReturnStatus::Requested | ShopifyReturnStatus::Open => None,
        ShopifyReturnStatus::Declined => Some(ReturnState::Denied),
        ShopifyReturnStatus::Canceled => Some(ReturnState::Cancelled),
        ShopifyReturnStatus::Closed => Some(ReturnState::Completed),
    };
    match (end, same) {
        (Some(to), Some(c)) if c.state == to => vec![],
        (Some(to), Some(_)) => vec![to],
        (Some(_), None) if current.is_some_and(|c| !c.state.is_terminal()) => vec![],
        (Some(to), None) => vec![to],
        (None, Some(c)) if !c.state.is_terminal() => {
            if c.state == ReturnState::AwaitingLabel && fact.has_label {
                vec![ReturnState::LabelGenerated]
            } else {
                vec![]
            }
        }
        (None, Some(_)) if !fact.reopened => vec![],
        (None, _) => {
            let mut walk = vec![ReturnState::AwaitingLabel];
            if fact.has_label {
                walk.push(ReturnState::LabelGenerated);
            }
            walk
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Shared steps.

/// `None` when the record did not change; otherwise appends the entries, moves `updated_at` to the
/// later of its stored value and `at`, and records Shopify's `updated_at` for order payloads.
fn finish(
    stored: &OrderRecord,
    mut next: OrderRecord,
    mut entries: Vec<TimelineEntry>,
    at: DateTime<Utc>,
    shopify_updated_at: Option<DateTime<Utc>>,
) -> Option<Applied> {
    if entries.is_empty() && next == *stored {
        return None;
    }
    entries.sort_by_key(|e| e.ts);
    next.timeline.extend(entries.iter().cloned());
    next.updated_at = stored.updated_at.max(at);
    if let Some(t) = shopify_updated_at {
        next.shopify_updated_at = Some(stored.shopify_updated_at.map_or(t, |s| s.max(t)));
    }
    Some(Applied {
        record: next,
        entries,
    })
}

/// Inserts or updates a shipment by id, keeping the order of arrival. Answers the
/// `shipment.<status>` entry when the parcel is new or its status or tracking changed; a shipment
/// older than the stored one is ignored; a newer one with nothing else new only moves its
/// `last_update_at` (which the delayed tab reads), without an entry.
fn upsert_shipment(
    shipments: &mut Vec<Shipment>,
    incoming: &Shipment,
    now: DateTime<Utc>,
) -> Option<TimelineEntry> {
    let Some(stored) = shipments.iter_mut().find(|s| s.id == incoming.id) else {
        shipments.push(incoming.clone());
        return Some(shipment_entry(incoming, now));
    };
    if incoming.last_update_at < stored.last_update_at {
        return None;
    }
    let moved = stored.status != incoming.status || stored.tracking != incoming.tracking;
    stored.clone_from(incoming);
    moved.then(|| shipment_entry(incoming, now))
}

fn remove_shipment(shipments: &mut Vec<Shipment>, id: &str) -> Option<Shipment> {
    let at = shipments.iter().position(|s| s.id == id)?;
    Some(shipments.remove(at))
}
