//! Entries: the timeline entries an applied fact writes, one sentence each, in the seed's voice.

use chrono::{DateTime, Utc};

use crate::domain::{
    FinancialStatus, FulfillmentStatus, ReturnState, Shipment, ShipmentStatus, TimelineEntry,
};
use crate::shopify::ShopifyReturnStatus;

pub(super) fn entry(
    ts: DateTime<Utc>,
    event: impl Into<String>,
    details: impl Into<String>,
) -> TimelineEntry {
    TimelineEntry {
        ts,
        event: event.into(),
        details: details.into(),
    }
}

pub(super) fn money(amount: &str, currency: &str) -> String {
    if currency.is_empty() {
        amount.to_owned()
    } else {
        format!("{amount} {currency}")
    }
}

/// The entry of an order reaching a financial status.
pub(super) fn payment_entry(
    ts: DateTime<Utc>,
    status: FinancialStatus,
    money: &str,
) -> TimelineEntry {
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

pub(super) fn fulfillment_entry(ts: DateTime<Utc>, status: FulfillmentStatus) -> TimelineEntry {
    let details = match status {
        FulfillmentStatus::Fulfilled => "All items fulfilled.",
        FulfillmentStatus::PartiallyFulfilled => "Some items fulfilled; the rest is still to ship.",
        FulfillmentStatus::OnHold => "Fulfillment on hold.",
        FulfillmentStatus::Unfulfilled => "Fulfillment reverted; no items are fulfilled.",
    };
    entry(ts, format!("fulfillment.{status}"), details)
}

pub(super) fn release_entry(ts: DateTime<Utc>, reason: Option<&str>) -> TimelineEntry {
    let details = match reason {
        Some(reason) => format!("Order cancelled ({reason}); stock released."),
        None => "Order cancelled; stock released.".to_owned(),
    };
    entry(ts, "inventory.release", details)
}

pub(super) fn cancelled_entry(ts: DateTime<Utc>, gone: &Shipment) -> TimelineEntry {
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
pub(super) fn shipment_entry(s: &Shipment, now: DateTime<Utc>) -> TimelineEntry {
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

pub(super) fn return_details(state: ReturnState, status: ShopifyReturnStatus) -> String {
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
