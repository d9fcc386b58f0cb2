//! What Shopify tells Sync, in the domain's terms (SPEC §7).
//!
//! Webhook bodies (REST shapes) and the poller's GraphQL order nodes are read by [`payload`] into
//! [`Ingest`] facts; [`apply`] decides what each fact changes in a stored [`OrderRecord`]
//! (fields, shipments, return, timeline entries), once for both stores. No IO here: the server
//! verifies signatures, deduplicates deliveries and persists what these functions decide.
//!
//! [`OrderRecord`]: crate::record::OrderRecord

pub mod apply;
pub mod lifecycle;
pub mod payload;
pub mod wait;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::*;
use crate::order_ref::OrderRef;

/// The webhook topics Sync subscribes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Topic {
    OrdersCreate,
    OrdersUpdated,
    OrdersPaid,
    OrdersCancelled,
    FulfillmentsCreate,
    FulfillmentsUpdate,
    RefundsCreate,
    ReturnsRequest,
    ReturnsApprove,
    ReturnsDecline,
    ReturnsCancel,
    ReturnsClose,
    ReturnsReopen,
    ReturnsUpdate,
}

impl Topic {
    /// Every topic, as Shopify names them.
    pub const ALL: &'static [Topic] = &[
        Topic::OrdersCreate,
        Topic::OrdersUpdated,
        Topic::OrdersPaid,
        Topic::OrdersCancelled,
        Topic::FulfillmentsCreate,
        Topic::FulfillmentsUpdate,
        Topic::RefundsCreate,
        Topic::ReturnsRequest,
        Topic::ReturnsApprove,
        Topic::ReturnsDecline,
        Topic::ReturnsCancel,
        Topic::ReturnsClose,
        Topic::ReturnsReopen,
        Topic::ReturnsUpdate,
    ];

    /// Shopify's name of the topic (`orders/create`).
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::OrdersCreate => "orders/create",
            Topic::OrdersUpdated => "orders/updated",
            Topic::OrdersPaid => "orders/paid",
            Topic::OrdersCancelled => "orders/cancelled",
            Topic::FulfillmentsCreate => "fulfillments/create",
            Topic::FulfillmentsUpdate => "fulfillments/update",
            Topic::RefundsCreate => "refunds/create",
            Topic::ReturnsRequest => "returns/request",
            Topic::ReturnsApprove => "returns/approve",
            Topic::ReturnsDecline => "returns/decline",
            Topic::ReturnsCancel => "returns/cancel",
            Topic::ReturnsClose => "returns/close",
            Topic::ReturnsReopen => "returns/reopen",
            Topic::ReturnsUpdate => "returns/update",
        }
    }

    /// Reads a topic header (`orders/create`); `None` for topics Sync does not handle.
    pub fn parse(raw: &str) -> Option<Topic> {
        let raw = raw.trim();
        Topic::ALL
            .iter()
            .copied()
            .find(|t| t.as_str().eq_ignore_ascii_case(raw))
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One fact Shopify reported, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ingest {
    /// The whole order as Shopify has it now (orders/* topics and the poller).
    Order(ShopifyOrder),
    /// A fulfillment of an order was created or changed.
    Fulfillment(ShopifyFulfillment),
    /// Money went back to the customer.
    Refund(ShopifyRefund),
    /// A return was requested or moved.
    Return(ShopifyReturn),
}

impl Ingest {
    /// The order the fact is about.
    pub fn order(&self) -> OrderRef {
        match self {
            Ingest::Order(o) => OrderRef::Id(o.id.clone()),
            Ingest::Fulfillment(f) => f.order.clone(),
            Ingest::Refund(r) => r.order.clone(),
            Ingest::Return(r) => r.order.clone(),
        }
    }
}

/// An order as Shopify describes it, mapped to the domain (SPEC §7 "Mapping").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopifyOrder {
    /// The GID, `gid://shopify/Order/5001`.
    pub id: String,
    /// The name, `#1001`.
    pub order_number: String,
    pub customer_name: String,
    pub customer_email: Option<String>,
    /// `total_price`, the decimal string exactly as sent.
    pub total_price: String,
    pub currency: String,
    pub fulfillment_status: FulfillmentStatus,
    pub financial_status: FinancialStatus,
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Shopify's cancel reason (`customer`, `inventory` …), for the timeline.
    pub cancel_reason: Option<String>,
    pub priority: Priority,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Shopify's `updated_at`: an older one never overwrites newer state.
    pub updated_at: DateTime<Utc>,
    /// The order's fulfillments that carry parcels, as shipments (ids are fulfillment GIDs).
    pub shipments: Vec<Shipment>,
    /// GIDs of the order's fulfillments Shopify reports as cancelled, failed or in error: no parcel
    /// travels for them, so a stored shipment with one of these ids is removed. This is how the
    /// poller repairs a missed `fulfillments/update` cancellation.
    #[serde(default)]
    pub cancelled_shipments: Vec<String>,
}

/// A fulfillment (a parcel) of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopifyFulfillment {
    pub order: OrderRef,
    /// The shipment it becomes; its id is the fulfillment's GID.
    pub shipment: Shipment,
    /// Shopify cancelled the fulfillment (`status: cancelled`): the parcel is gone.
    pub cancelled: bool,
}

/// A refund of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopifyRefund {
    pub order: OrderRef,
    /// The refund's GID: a refund applies once, whatever delivers it.
    pub id: String,
    /// What went back (sum of the refund's transactions, or of its line items), as a decimal string.
    pub amount: String,
    pub currency: String,
    pub created_at: DateTime<Utc>,
}

/// A return of an order, as Shopify's status maps to the return states (SPEC §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopifyReturn {
    pub order: OrderRef,
    /// The return's GID.
    pub id: String,
    pub status: ShopifyReturnStatus,
    /// A return label exists (a reverse delivery with a label): an open return is then
    /// `label_generated` rather than `awaiting_label`.
    pub has_label: bool,
    /// When Shopify reports the change (the payload's time, or the delivery's when it has none).
    pub at: DateTime<Utc>,
    /// Shopify explicitly reopened the return (`returns/reopen`). Only then does an open status
    /// revive a return that has ended; a late or repeated `open` never undoes a terminal state.
    #[serde(default)]
    pub reopened: bool,
}

/// Shopify's return statuses (lower case in REST, upper case in GraphQL; `canceled` with one l).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShopifyReturnStatus {
    Requested,
    Open,
    Declined,
    Canceled,
    Closed,
}

/// Shopify's bodies as published in its docs, one story of order #1001 (`tests/fixtures/shopify/`).
#[cfg(test)]
pub(crate) mod fixtures {
    pub const ORDERS_CREATE: &str = include_str!("../../tests/fixtures/shopify/orders_create.json");
    pub const ORDERS_PAID: &str = include_str!("../../tests/fixtures/shopify/orders_paid.json");
    pub const ORDERS_UPDATED: &str =
        include_str!("../../tests/fixtures/shopify/orders_updated.json");
    pub const ORDERS_CANCELLED: &str =
        include_str!("../../tests/fixtures/shopify/orders_cancelled.json");
    pub const FULFILLMENTS_CREATE: &str =
        include_str!("../../tests/fixtures/shopify/fulfillments_create.json");
    pub const FULFILLMENTS_UPDATE: &str =
        include_str!("../../tests/fixtures/shopify/fulfillments_update.json");
    pub const REFUNDS_CREATE: &str =
        include_str!("../../tests/fixtures/shopify/refunds_create.json");
    pub const RETURNS_REQUEST: &str =
        include_str!("../../tests/fixtures/shopify/returns_request.json");
    pub const RETURNS_APPROVE: &str =
        include_str!("../../tests/fixtures/shopify/returns_approve.json");
    pub const RETURNS_DECLINE: &str =
        include_str!("../../tests/fixtures/shopify/returns_decline.json");
    pub const RETURNS_CANCEL: &str =
        include_str!("../../tests/fixtures/shopify/returns_cancel.json");
    pub const RETURNS_CLOSE: &str = include_str!("../../tests/fixtures/shopify/returns_close.json");
    pub const RETURNS_REOPEN: &str =
        include_str!("../../tests/fixtures/shopify/returns_reopen.json");
    pub const RETURNS_UPDATE: &str =
        include_str!("../../tests/fixtures/shopify/returns_update.json");
    pub const RETURNS_UPDATE_LINE_ITEMS: &str =
        include_str!("../../tests/fixtures/shopify/returns_update_line_items.json");
    pub const GRAPHQL_ORDERS_PAGE: &str =
        include_str!("../../tests/fixtures/shopify/graphql_orders_page.json");
}
