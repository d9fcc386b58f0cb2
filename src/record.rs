//! The whole of an order as a store keeps it: the facts the API serves, plus history.
//!
//! The seed generator produces these, the in-memory store holds them, and the PostgreSQL store
//! writes them to its tables; [`OrderRecord::to_order`] is the one place that turns facts into the
//! wire shape, so both stores answer alike.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::*;
use crate::tabs::{OrderFacts, Thresholds};

/// A return and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRecord {
    pub id: String,
    pub state: ReturnState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A support escalation of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportRecord {
    /// The thread id: the conversation id given, or a generated one.
    pub thread: String,
    pub note: String,
    pub open: bool,
    pub created_at: DateTime<Utc>,
}

/// Everything a store knows about one order of a shop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    pub id: String,
    pub order_number: String,
    pub customer_name: String,
    pub customer_email: Option<String>,
    /// Shopify's decimal string, kept exactly as received.
    pub total_price: String,
    pub currency: String,
    pub fulfillment_status: FulfillmentStatus,
    pub financial_status: FinancialStatus,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Shopify's `updated_at` of the last order payload applied; an older payload never overwrites
    /// newer state (SPEC §7). `None` for orders that did not come from Shopify (the seed).
    #[serde(default)]
    pub shopify_updated_at: Option<DateTime<Utc>>,
    pub shipments: Vec<Shipment>,
    pub return_: Option<ReturnRecord>,
    /// Escalations, oldest first; the newest open one is the order's `supportThread`.
    pub support: Vec<SupportRecord>,
    pub assigned_to: Option<String>,
    /// The whole history, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

impl OrderRecord {
    /// The order's status: `cancelled` wins over fulfillment.
    pub fn status(&self) -> OrderStatus {
        OrderStatus::of(self.fulfillment_status, self.cancelled_at.is_some())
    }

    /// The open escalation's thread, if any (the newest).
    pub fn support_thread(&self) -> Option<&str> {
        self.support
            .iter()
            .rev()
            .find(|s| s.open)
            .map(|s| s.thread.as_str())
    }

    /// What the tab rules need.
    pub fn facts(&self) -> OrderFacts {
        OrderFacts {
            status: self.status(),
            created_at: self.created_at,
            has_tracking: self.shipments.iter().any(|s| s.tracking.is_some()),
            oldest_in_transit_update: self
                .shipments
                .iter()
                .filter(|s| s.status == ShipmentStatus::InTransit)
                .map(|s| s.last_update_at)
                .min(),
            has_open_return: self
                .return_
                .as_ref()
                .is_some_and(|r| !r.state.is_terminal()),
            has_open_support: self.support.iter().any(|s| s.open),
        }
    }

    /// The order as the API serves it at `now`: alerts evaluated, the last ten timeline entries newest first.
    pub fn to_order(&self, now: DateTime<Utc>, th: &Thresholds) -> Order {
        Order {
            id: self.id.clone(),
            order_number: self.order_number.clone(),
            customer: Customer {
                name: self.customer_name.clone(),
                email: self.customer_email.clone(),
            },
            total_price: self.total_price.clone(),
            currency: self.currency.clone(),
            status: self.status(),
            fulfillment_status: self.fulfillment_status,
            financial_status: self.financial_status,
            priority: self.priority,
            assigned_to: self.assigned_to.clone(),
            tags: self.tags.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            shipments: self.shipments.clone(),
            return_: self.return_.as_ref().map(|r| ReturnSummary {
                id: r.id.clone(),
                state: r.state,
                updated_at: r.updated_at,
            }),
            support_thread: self.support_thread().map(str::to_owned),
            alerts: self.facts().alerts(now, th),
            timeline: newest_first(&self.timeline),
        }
    }
}

/// The last [`TIMELINE_LIMIT`] entries of a history kept oldest first, newest first. Entries with the
/// same timestamp keep their order of arrival (the later one is newer).
pub fn newest_first(history: &[TimelineEntry]) -> Vec<TimelineEntry> {
    let mut indexed: Vec<(usize, &TimelineEntry)> = history.iter().enumerate().collect();
    indexed.sort_by(|(ia, a), (ib, b)| b.ts.cmp(&a.ts).then(ib.cmp(ia)));
    indexed
        .into_iter()
        .take(TIMELINE_LIMIT)
        .map(|(_, e)| e.clone())
        .collect()
}

/// Truncates a timestamp to whole microseconds, the precision PostgreSQL keeps, so both stores
/// answer with the same instants.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}
