//! Tests of applying facts: new orders and updates, stale payloads, fulfillments, refunds and
//! returns, and the entries each writes.

use super::*;
use crate::domain::{Priority, ShipmentStatus, Tracking};
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
    let applied = apply_fact(&before, &fact(Topic::OrdersUpdated, ORDERS_UPDATED), now()).unwrap();
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
    let Ingest::Fulfillment(mut f) = fact(Topic::FulfillmentsCreate, FULFILLMENTS_CREATE) else {
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
    let Ingest::Fulfillment(mut f) = fact(Topic::FulfillmentsUpdate, FULFILLMENTS_UPDATE) else {
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
    let reopened = apply_fact(&closed, &fact(Topic::ReturnsReopen, RETURNS_REOPEN), now()).unwrap();
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
