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

use chrono::{DateTime, Utc};

use super::payload::parse_decimal;
use super::{
    Ingest, ShopifyFulfillment, ShopifyOrder, ShopifyRefund, ShopifyReturn, ShopifyReturnStatus,
};
use crate::domain::{
    FinancialStatus, FulfillmentStatus, ReturnState, Shipment, ShipmentStatus, TimelineEntry,
};
use crate::record::{OrderRecord, ReturnRecord};

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

// ---------------------------------------------------------------------------------------------
// Entries: one sentence each, in the seed's voice.

fn entry(ts: DateTime<Utc>, event: impl Into<String>, details: impl Into<String>) -> TimelineEntry {
    TimelineEntry {
        ts,
        event: event.into(),
        details: details.into(),
    }
}

fn money(amount: &str, currency: &str) -> String {
    if currency.is_empty() {
        amount.to_owned()
    } else {
        format!("{amount} {currency}")
    }
}

/// The entry of an order reaching a financial status.
fn payment_entry(ts: DateTime<Utc>, status: FinancialStatus, money: &str) -> TimelineEntry {
    let (event, details) = match status {
        FinancialStatus::Pending => ("payment.pending", format!("Awaiting {money}.")),
        FinancialStatus::Authorized => ("payment.authorized", format!("Authorized {money}.")),
        FinancialStatus::Paid => ("payment.captured", format!("Paid {money}.")),
        FinancialStatus::PartiallyPaid => ("payment.captured", format!("Paid part of {money}.")),
        FinancialStatus::PartiallyRefunded => {
            ("payment.refunded", format!("Refunded part of {money}."))
        }
        FinancialStatus::Refunded => ("payment.refunded", format!("Refunded {money} in full.")),
        FinancialStatus::Voided => (
            "payment.voided",
            format!("Voided the authorization of {money}."),
        ),
    };
    entry(ts, event, details)
}

fn fulfillment_entry(ts: DateTime<Utc>, status: FulfillmentStatus) -> TimelineEntry {
    let details = match status {
        FulfillmentStatus::Fulfilled => "All items fulfilled.",
        FulfillmentStatus::PartiallyFulfilled => "Some items fulfilled; the rest is still to ship.",
        FulfillmentStatus::OnHold => "Fulfillment on hold.",
        FulfillmentStatus::Unfulfilled => "Fulfillment reverted; no items are fulfilled.",
    };
    entry(ts, format!("fulfillment.{status}"), details)
}

fn release_entry(ts: DateTime<Utc>, reason: Option<&str>) -> TimelineEntry {
    let details = match reason {
        Some(reason) => format!("Order cancelled ({reason}); stock released."),
        None => "Order cancelled; stock released.".to_owned(),
    };
    entry(ts, "inventory.release", details)
}

fn cancelled_entry(ts: DateTime<Utc>, gone: &Shipment) -> TimelineEntry {
    let details = match &gone.tracking {
        Some(t) => format!(
            "Fulfillment cancelled; {} {} will not ship.",
            t.carrier, t.number
        ),
        None => "Fulfillment cancelled; the parcel will not ship.".to_owned(),
    };
    entry(ts, "fulfillment.cancelled", details)
}

/// `shipment.<status>` at the parcel's last update (never after `now`): "UPS 1Z… is in transit."
fn shipment_entry(s: &Shipment, now: DateTime<Utc>) -> TimelineEntry {
    let parcel = match &s.tracking {
        Some(t) => format!("{} {}", t.carrier, t.number),
        None => "The parcel".to_owned(),
    };
    let details = match (s.status, &s.tracking) {
        (ShipmentStatus::LabelCreated, Some(t)) => {
            format!("{} label created, tracking number {}.", t.carrier, t.number)
        }
        (ShipmentStatus::LabelCreated, None) => {
            "Label created; the tracking number is not assigned yet.".to_owned()
        }
        (ShipmentStatus::InTransit, _) => format!("{parcel} is in transit."),
        (ShipmentStatus::OutForDelivery, _) => format!("{parcel} is out for delivery."),
        (ShipmentStatus::Delivered, _) => format!("{parcel} was delivered."),
        (ShipmentStatus::Exception, Some(t)) => {
            format!("{} reported an exception for {}.", t.carrier, t.number)
        }
        (ShipmentStatus::Exception, None) => "The carrier reported an exception.".to_owned(),
    };
    entry(
        s.last_update_at.min(now),
        format!("shipment.{}", s.status),
        details,
    )
}

fn return_details(state: ReturnState, status: ShopifyReturnStatus) -> String {
    match state {
        ReturnState::AwaitingLabel if status == ShopifyReturnStatus::Open => {
            "Return approved; waiting for a label.".to_owned()
        }
        ReturnState::AwaitingLabel => "Return requested.".to_owned(),
        ReturnState::LabelGenerated => "Return label created.".to_owned(),
        ReturnState::Denied => "Return declined.".to_owned(),
        ReturnState::Cancelled => "Return cancelled.".to_owned(),
        ReturnState::Completed => "Return closed.".to_owned(),
        other => format!("Return {}.", other.as_str().replace('_', " ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Priority, Tracking};
    use crate::record::SupportRecord;
    use crate::shopify::fixtures::*;
    use crate::shopify::payload::parse_webhook;
    use crate::shopify::Topic;
    use chrono::TimeZone;

    const ORDER_GID: &str = "gid://shopify/Order/820982911946154508";
    const RETURN_GID: &str = "gid://shopify/Return/8978432146";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 3, 12, 0, 0).unwrap()
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn fact(topic: Topic, body: &str) -> Ingest {
        parse_webhook(topic, body.as_bytes(), now()).unwrap()
    }

    fn order(topic: Topic, body: &str) -> ShopifyOrder {
        match fact(topic, body) {
            Ingest::Order(o) => o,
            other => panic!("{other:?}"),
        }
    }

    fn events(entries: &[TimelineEntry]) -> Vec<&str> {
        entries.iter().map(|e| e.event.as_str()).collect()
    }

    /// #1001 as orders/create left it.
    fn created() -> OrderRecord {
        apply_order(None, &order(Topic::OrdersCreate, ORDERS_CREATE), now())
            .unwrap()
            .record
    }

    /// #1001 paid, partly fulfilled, its parcel in transit.
    fn shipped() -> OrderRecord {
        let mut r = created();
        for (topic, body) in [
            (Topic::OrdersPaid, ORDERS_PAID),
            (Topic::FulfillmentsCreate, FULFILLMENTS_CREATE),
            (Topic::OrdersUpdated, ORDERS_UPDATED),
        ] {
            if let Some(a) = apply_fact(&r, &fact(topic, body), now()) {
                r = a.record;
            }
        }
        r
    }

    fn with_return(mut r: OrderRecord, id: &str, state: ReturnState) -> OrderRecord {
        let at = utc("2025-10-01T10:00:00Z");
        r.return_ = Some(ReturnRecord {
            id: id.into(),
            state,
            created_at: at,
            updated_at: at,
        });
        r
    }

    fn return_state(a: &Option<Applied>) -> Option<ReturnState> {
        a.as_ref()?.record.return_.as_ref().map(|r| r.state)
    }

    #[test]
    fn a_new_order_tells_its_story_so_far() {
        let applied = apply_order(None, &order(Topic::OrdersCreate, ORDERS_CREATE), now()).unwrap();
        let r = &applied.record;
        assert_eq!(
            events(&applied.entries),
            ["payment.authorized", "inventory.hold"]
        );
        assert_eq!(applied.entries[0].details, "Authorized 598.94 USD.");
        assert!(applied
            .entries
            .iter()
            .all(|e| e.ts == utc("2025-09-27T14:03:00Z")));
        assert_eq!(r.timeline, applied.entries);
        assert_eq!(r.id, ORDER_GID);
        assert_eq!(r.priority, Priority::High);
        assert_eq!(r.shopify_updated_at, Some(utc("2025-09-27T14:03:02Z")));
        assert_eq!(r.updated_at, utc("2025-09-27T14:03:02Z"));
        assert!(r.assigned_to.is_none() && r.support.is_empty() && r.return_.is_none());
    }

    #[test]
    fn a_new_order_seen_late_shows_payment_fulfillment_and_parcels_in_order() {
        let mut o = order(Topic::OrdersUpdated, ORDERS_UPDATED);
        o.financial_status = FinancialStatus::PartiallyRefunded;
        let applied = apply_order(None, &o, now()).unwrap();
        assert_eq!(
            events(&applied.entries),
            [
                "payment.captured",
                "inventory.hold",
                "fulfillment.partially_fulfilled",
                "shipment.in_transit",
                "payment.refunded",
            ]
        );
        assert_eq!(
            applied.entries[3].details,
            "UPS 1Z999AA10123456784 is in transit."
        );
        assert_eq!(applied.entries[4].details, "Refunded part of 598.94 USD.");
        for pair in applied.entries.windows(2) {
            assert!(pair[0].ts <= pair[1].ts);
        }
        assert_eq!(
            applied.record.shipments.len(),
            1,
            "the cancelled fulfillment is left out"
        );
    }

    #[test]
    fn a_new_cancelled_order_reserves_then_releases_and_voids() {
        let applied = apply_order(
            None,
            &order(Topic::OrdersCancelled, ORDERS_CANCELLED),
            now(),
        )
        .unwrap();
        assert_eq!(
            events(&applied.entries),
            [
                "payment.authorized",
                "inventory.hold",
                "inventory.release",
                "payment.voided"
            ]
        );
        assert_eq!(
            applied.entries[2].details,
            "Order cancelled (customer); stock released."
        );
        assert_eq!(applied.entries[2].ts, utc("2025-09-27T16:40:00Z"));
    }

    #[test]
    fn a_stale_order_payload_changes_nothing() {
        let paid = apply_fact(&created(), &fact(Topic::OrdersPaid, ORDERS_PAID), now())
            .unwrap()
            .record;
        let late = order(Topic::OrdersCreate, ORDERS_CREATE);
        assert!(late.updated_at < paid.shopify_updated_at.unwrap());
        assert_eq!(apply_order(Some(&paid), &late, now()), None);
    }

    #[test]
    fn paying_adds_the_captured_entry_once() {
        let applied = apply_fact(&created(), &fact(Topic::OrdersPaid, ORDERS_PAID), now()).unwrap();
        assert_eq!(events(&applied.entries), ["payment.captured"]);
        assert_eq!(applied.entries[0].details, "Paid 598.94 USD.");
        assert_eq!(applied.entries[0].ts, utc("2025-09-27T14:05:12Z"));
        assert_eq!(applied.record.financial_status, FinancialStatus::Paid);
        assert_eq!(applied.record.timeline.len(), 3);
        let again = apply_fact(
            &applied.record,
            &fact(Topic::OrdersPaid, ORDERS_PAID),
            now(),
        );
        assert_eq!(
            again, None,
            "a second identical application changes nothing"
        );
    }

    #[test]
    fn cancelling_releases_stock_and_voids_the_authorization() {
        let applied = apply_fact(
            &created(),
            &fact(Topic::OrdersCancelled, ORDERS_CANCELLED),
            now(),
        )
        .unwrap();
        assert_eq!(
            events(&applied.entries),
            ["inventory.release", "payment.voided"]
        );
        assert_eq!(
            applied.record.status(),
            crate::domain::OrderStatus::Cancelled
        );
        assert_eq!(applied.record.updated_at, utc("2025-09-27T16:40:01Z"));
    }

    #[test]
    fn an_update_brings_fulfillment_priority_and_parcels() {
        let before = apply_fact(&created(), &fact(Topic::OrdersPaid, ORDERS_PAID), now())
            .unwrap()
            .record;
        let applied =
            apply_fact(&before, &fact(Topic::OrdersUpdated, ORDERS_UPDATED), now()).unwrap();
        assert_eq!(
            events(&applied.entries),
            ["shipment.in_transit", "fulfillment.partially_fulfilled"]
        );
        let r = &applied.record;
        assert_eq!(
            r.priority,
            Priority::Urgent,
            "the tag wins over express shipping"
        );
        assert_eq!(r.fulfillment_status, FulfillmentStatus::PartiallyFulfilled);
        assert_eq!(r.shipments.len(), 1);
        assert_eq!(
            &r.timeline[r.timeline.len() - 2..],
            applied.entries.as_slice()
        );
    }

    #[test]
    fn an_update_never_touches_what_sync_owns() {
        let mut mine = apply_fact(&created(), &fact(Topic::OrdersPaid, ORDERS_PAID), now())
            .unwrap()
            .record;
        mine.assigned_to = Some("sam".into());
        mine.support.push(SupportRecord {
            thread: "conv_42".into(),
            note: "Customer asked about delivery".into(),
            open: true,
            created_at: utc("2025-09-27T15:00:00Z"),
        });
        mine = with_return(mine, RETURN_GID, ReturnState::Inspection);
        let local = Shipment {
            id: "shp_0f3a9c".into(),
            status: ShipmentStatus::InTransit,
            tracking: Some(Tracking {
                number: "9400111899223344556677".into(),
                carrier: "USPS".into(),
            }),
            last_update_at: utc("2025-09-27T18:00:00Z"),
        };
        mine.shipments.push(local.clone());
        mine.updated_at = utc("2025-10-01T10:00:00Z");

        let mut o = order(Topic::OrdersUpdated, ORDERS_UPDATED);
        o.customer_name = "Ada King".into();
        let r = apply_order(Some(&mine), &o, now()).unwrap().record;
        assert_eq!(r.assigned_to.as_deref(), Some("sam"));
        assert_eq!(r.support, mine.support);
        assert_eq!(r.return_, mine.return_);
        assert_eq!(r.shipments[0], local, "local shipments stay, first");
        assert_eq!(r.shipments.len(), 2);
        assert_eq!(r.customer_name, "Ada King");
        assert_eq!(r.created_at, mine.created_at);
        assert_eq!(
            r.updated_at,
            utc("2025-10-01T10:00:00Z"),
            "a later local change stays the latest"
        );
        assert_eq!(r.shopify_updated_at, Some(utc("2025-09-28T13:15:04Z")));
    }

    #[test]
    fn an_order_payload_removes_a_stored_fulfillment_shopify_cancelled() {
        let mut r = created();
        r.shipments.push(Shipment {
            id: "gid://shopify/Fulfillment/5599434309798".into(),
            status: ShipmentStatus::LabelCreated,
            tracking: None,
            last_update_at: utc("2025-09-28T13:02:41Z"),
        });
        let applied = apply_fact(&r, &fact(Topic::OrdersUpdated, ORDERS_UPDATED), now()).unwrap();
        assert!(applied
            .entries
            .iter()
            .any(|e| e.event == "fulfillment.cancelled"));
        let ids: Vec<&str> = applied
            .record
            .shipments
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["gid://shopify/Fulfillment/5599434342566"]);
    }

    #[test]
    fn a_fulfillment_adds_a_parcel_without_guessing_the_fulfillment_status() {
        let paid = apply_fact(&created(), &fact(Topic::OrdersPaid, ORDERS_PAID), now())
            .unwrap()
            .record;
        let applied = apply_fact(
            &paid,
            &fact(Topic::FulfillmentsCreate, FULFILLMENTS_CREATE),
            now(),
        )
        .unwrap();
        assert_eq!(events(&applied.entries), ["shipment.in_transit"]);
        assert_eq!(applied.entries[0].ts, utc("2025-09-28T13:15:00Z"));
        assert_eq!(
            applied.record.fulfillment_status,
            FulfillmentStatus::Unfulfilled
        );
        assert_eq!(applied.record.updated_at, utc("2025-09-28T13:15:00Z"));
        let again = apply_fact(
            &applied.record,
            &fact(Topic::FulfillmentsCreate, FULFILLMENTS_CREATE),
            now(),
        );
        assert_eq!(again, None);
        // The order webhook that follows changes the status but does not repeat the parcel's entry.
        let updated = apply_fact(
            &applied.record,
            &fact(Topic::OrdersUpdated, ORDERS_UPDATED),
            now(),
        )
        .unwrap();
        assert_eq!(
            events(&updated.entries),
            ["fulfillment.partially_fulfilled"]
        );
    }

    #[test]
    fn a_fulfillment_update_moves_the_parcel_and_an_older_one_is_ignored() {
        let r = shipped();
        let delivered = fact(Topic::FulfillmentsUpdate, FULFILLMENTS_UPDATE);
        let applied = apply_fact(&r, &delivered, now()).unwrap();
        assert_eq!(events(&applied.entries), ["shipment.delivered"]);
        assert_eq!(
            applied.entries[0].details,
            "UPS 1Z999AA10123456784 was delivered."
        );
        assert_eq!(
            applied.record.shipments[0].status,
            ShipmentStatus::Delivered
        );
        let older = fact(Topic::FulfillmentsCreate, FULFILLMENTS_CREATE);
        assert_eq!(apply_fact(&applied.record, &older, now()), None);
        assert_eq!(apply_fact(&applied.record, &delivered, now()), None);
    }

    #[test]
    fn a_newer_scan_with_the_same_status_moves_last_update_without_an_entry() {
        let r = shipped();
        let Ingest::Fulfillment(mut f) = fact(Topic::FulfillmentsCreate, FULFILLMENTS_CREATE)
        else {
            unreachable!()
        };
        f.shipment.last_update_at = utc("2025-09-29T08:00:00Z");
        let applied = apply_fact(&r, &Ingest::Fulfillment(f), now()).unwrap();
        assert!(applied.entries.is_empty());
        assert_eq!(
            applied.record.shipments[0].last_update_at,
            utc("2025-09-29T08:00:00Z")
        );
    }

    #[test]
    fn a_cancelled_fulfillment_removes_its_parcel() {
        let r = shipped();
        let Ingest::Fulfillment(mut f) = fact(Topic::FulfillmentsUpdate, FULFILLMENTS_UPDATE)
        else {
            unreachable!()
        };
        f.cancelled = true;
        let applied = apply_fact(&r, &Ingest::Fulfillment(f.clone()), now()).unwrap();
        assert_eq!(events(&applied.entries), ["fulfillment.cancelled"]);
        assert_eq!(
            applied.entries[0].details,
            "Fulfillment cancelled; UPS 1Z999AA10123456784 will not ship."
        );
        assert!(applied.record.shipments.is_empty());
        assert_eq!(
            apply_fact(&applied.record, &Ingest::Fulfillment(f), now()),
            None
        );
    }

    #[test]
    fn a_refund_is_recorded_and_marks_a_paid_order_partly_refunded() {
        let r = shipped();
        let applied = apply_fact(&r, &fact(Topic::RefundsCreate, REFUNDS_CREATE), now()).unwrap();
        assert_eq!(events(&applied.entries), ["payment.refunded"]);
        assert_eq!(applied.entries[0].details, "Refunded 208.04 USD.");
        assert_eq!(applied.entries[0].ts, utc("2025-10-02T15:00:00Z"));
        assert_eq!(
            applied.record.financial_status,
            FinancialStatus::PartiallyRefunded
        );

        let mut refunded = r.clone();
        refunded.financial_status = FinancialStatus::Refunded;
        let applied = apply_fact(
            &refunded,
            &fact(Topic::RefundsCreate, REFUNDS_CREATE),
            now(),
        )
        .unwrap();
        assert_eq!(applied.record.financial_status, FinancialStatus::Refunded);
    }

    #[test]
    fn a_refund_without_currency_or_money_uses_the_order_s_and_keeps_the_status() {
        let r = shipped();
        let refund = ShopifyRefund {
            order: crate::order_ref::OrderRef::Id(ORDER_GID.into()),
            id: "gid://shopify/Refund/1".into(),
            amount: "0.00".into(),
            currency: String::new(),
            created_at: utc("2025-10-02T15:00:00Z"),
        };
        let applied = apply_fact(&r, &Ingest::Refund(refund), now()).unwrap();
        assert_eq!(applied.entries[0].details, "Refunded 0.00 USD.");
        assert_eq!(applied.record.financial_status, FinancialStatus::Paid);
    }

    #[test]
    fn a_requested_return_awaits_its_label_then_gets_it() {
        let requested = apply_fact(
            &shipped(),
            &fact(Topic::ReturnsRequest, RETURNS_REQUEST),
            now(),
        );
        let requested = requested.unwrap();
        assert_eq!(events(&requested.entries), ["return.awaiting_label"]);
        assert_eq!(requested.entries[0].details, "Return requested.");
        let ret = requested.record.return_.clone().unwrap();
        assert_eq!(
            (ret.id.as_str(), ret.created_at, ret.updated_at),
            (RETURN_GID, now(), now())
        );

        let approved = apply_fact(
            &requested.record,
            &fact(Topic::ReturnsApprove, RETURNS_APPROVE),
            now(),
        );
        assert_eq!(approved, None, "open without a label keeps awaiting_label");

        let labelled = apply_fact(
            &requested.record,
            &fact(Topic::ReturnsUpdate, RETURNS_UPDATE),
            now(),
        )
        .unwrap();
        assert_eq!(events(&labelled.entries), ["return.label_generated"]);
        assert_eq!(labelled.entries[0].details, "Return label created.");
        assert_eq!(
            apply_fact(
                &labelled.record,
                &fact(Topic::ReturnsUpdate, RETURNS_UPDATE),
                now()
            ),
            None
        );
    }

    #[test]
    fn open_keeps_a_state_sync_moved_further() {
        let r = with_return(shipped(), RETURN_GID, ReturnState::Inspection);
        for (topic, body) in [
            (Topic::ReturnsApprove, RETURNS_APPROVE),
            (Topic::ReturnsUpdate, RETURNS_UPDATE),
            (Topic::ReturnsRequest, RETURNS_REQUEST),
        ] {
            assert_eq!(apply_fact(&r, &fact(topic, body), now()), None, "{topic}");
        }
    }

    #[test]
    fn shopify_s_final_words_end_the_return() {
        for (topic, body, want, details) in [
            (
                Topic::ReturnsDecline,
                RETURNS_DECLINE,
                ReturnState::Denied,
                "Return declined.",
            ),
            (
                Topic::ReturnsCancel,
                RETURNS_CANCEL,
                ReturnState::Cancelled,
                "Return cancelled.",
            ),
            (
                Topic::ReturnsClose,
                RETURNS_CLOSE,
                ReturnState::Completed,
                "Return closed.",
            ),
        ] {
            let r = with_return(shipped(), RETURN_GID, ReturnState::LabelGenerated);
            let applied = apply_fact(&r, &fact(topic, body), now()).unwrap();
            assert_eq!(
                applied.record.return_.as_ref().unwrap().state,
                want,
                "{topic}"
            );
            assert_eq!(applied.entries.len(), 1);
            assert_eq!(applied.entries[0].event, format!("return.{want}"));
            assert_eq!(applied.entries[0].details, details);
            assert_eq!(
                applied.record.return_.as_ref().unwrap().created_at,
                utc("2025-10-01T10:00:00Z"),
                "the same return keeps its creation time"
            );
            assert_eq!(apply_fact(&applied.record, &fact(topic, body), now()), None);
        }
    }

    #[test]
    fn only_a_reopen_revives_an_ended_return() {
        let closed = with_return(shipped(), RETURN_GID, ReturnState::Completed);
        assert_eq!(
            apply_fact(
                &closed,
                &fact(Topic::ReturnsApprove, RETURNS_APPROVE),
                now()
            ),
            None,
            "a late approve does not undo the close"
        );
        let reopened =
            apply_fact(&closed, &fact(Topic::ReturnsReopen, RETURNS_REOPEN), now()).unwrap();
        assert_eq!(events(&reopened.entries), ["return.awaiting_label"]);
        assert_eq!(reopened.entries[0].details, "Return reopened.");
        assert_eq!(
            return_state(&Some(reopened)),
            Some(ReturnState::AwaitingLabel)
        );
    }

    #[test]
    fn another_return_replaces_the_stored_one_unless_it_would_hide_an_open_one() {
        let r = with_return(shipped(), "gid://shopify/Return/1", ReturnState::Completed);
        let applied = apply_fact(&r, &fact(Topic::ReturnsUpdate, RETURNS_UPDATE), now()).unwrap();
        assert_eq!(
            events(&applied.entries),
            ["return.awaiting_label", "return.label_generated"]
        );
        let ret = applied.record.return_.unwrap();
        assert_eq!(
            (ret.id.as_str(), ret.state),
            (RETURN_GID, ReturnState::LabelGenerated)
        );
        assert_eq!(ret.created_at, now());

        let open = with_return(shipped(), "gid://shopify/Return/1", ReturnState::InTransit);
        assert_eq!(
            apply_fact(&open, &fact(Topic::ReturnsClose, RETURNS_CLOSE), now()),
            None
        );
        let fresh = apply_fact(&open, &fact(Topic::ReturnsRequest, RETURNS_REQUEST), now());
        assert_eq!(
            return_state(&fresh),
            Some(ReturnState::AwaitingLabel),
            "the newest wins"
        );
    }

    #[test]
    fn a_terminal_fact_for_an_unseen_return_is_recorded() {
        let applied = apply_fact(
            &shipped(),
            &fact(Topic::ReturnsDecline, RETURNS_DECLINE),
            now(),
        );
        assert_eq!(return_state(&applied), Some(ReturnState::Denied));
    }

    #[test]
    fn entries_are_never_in_the_future() {
        let early = utc("2025-09-27T14:03:01Z");
        let applied = apply_order(None, &order(Topic::OrdersCreate, ORDERS_CREATE), early).unwrap();
        assert!(applied.entries.iter().all(|e| e.ts <= early));
        assert!(applied.record.updated_at <= early);
        let later = apply_fact(
            &shipped(),
            &fact(Topic::FulfillmentsUpdate, FULFILLMENTS_UPDATE),
            utc("2025-09-29T00:00:00Z"),
        )
        .unwrap();
        assert_eq!(later.entries[0].ts, utc("2025-09-29T00:00:00Z"));
    }

    #[test]
    fn the_whole_story_replayed_changes_nothing() {
        let story = [
            (Topic::OrdersCreate, ORDERS_CREATE),
            (Topic::OrdersPaid, ORDERS_PAID),
            (Topic::FulfillmentsCreate, FULFILLMENTS_CREATE),
            (Topic::OrdersUpdated, ORDERS_UPDATED),
            (Topic::FulfillmentsUpdate, FULFILLMENTS_UPDATE),
            (Topic::ReturnsRequest, RETURNS_REQUEST),
            (Topic::ReturnsUpdate, RETURNS_UPDATE),
        ];
        let mut r = created();
        for (topic, body) in story {
            if let Some(a) = apply_fact(&r, &fact(topic, body), now()) {
                r = a.record;
            }
        }
        let told = r.timeline.len();
        assert_eq!(told, 8, "{:#?}", r.timeline);
        for (topic, body) in story {
            assert_eq!(apply_fact(&r, &fact(topic, body), now()), None, "{topic}");
        }
        assert_eq!(r.shipments[0].status, ShipmentStatus::Delivered);
        assert_eq!(r.return_.unwrap().state, ReturnState::LabelGenerated);
    }
}
