//! The stores behind the one service layer: PostgreSQL, the system of record, and the in-memory
//! sample store, the fallback the dashboard runs on when the database is away.
//!
//! Both obey the same contract (the integration suite runs against each):
//! - every read and write is scoped by shop; an unknown shop simply has no orders;
//! - a write resolves every order reference first (GID, numeric id or `#name`, see [`OrderRef`]), and
//!   fails with [`StoreError::OrdersNotFound`] naming the references as the client wrote them if any
//!   is missing; it then locks the orders (in id order), asks [`orders_core::effects`] what changes,
//!   and persists exactly that — order fields, timeline entries and outbox events — all or nothing;
//! - list order is `createdAt` descending, then `id` descending compared bytewise;
//! - timestamps are kept to the microsecond.

pub mod memory;
pub mod postgres;

use chrono::{DateTime, Utc};
use orders_core::alerts::{Alert, AlertPage, POLL_LIMIT};
use orders_core::effects::{OutboxEvent, ReturnPlan};
use orders_core::locale::ShopClock;
use orders_core::outbox::{OutboxCounts, OutboxList};
use orders_core::query::PageWindow;
use orders_core::record::OrderRecord;
use orders_core::stats::OrderStats;
use orders_core::{
    AssignCommand, AssignedOrder, EscalatedOrder, FulfillCommand, FulfilledOrder, ListQuery, Order,
    OrderRef, OutboxState, ReturnCommand, SupportCommand, TabCounts, Thresholds, TransitionError,
};

pub use memory::MemoryStore;
pub use postgres::PgStore;

/// Why a store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Some references name no order of the shop (the references as the client wrote them).
    #[error("no order {} in this shop", .0.join(", "))]
    OrdersNotFound(Vec<String>),
    /// A returns action on an order that has no return (the reference as written).
    #[error("order {0} has no return")]
    NoReturn(String),
    /// A fulfill naming cancelled orders (their GIDs).
    #[error("cancelled orders cannot be fulfilled: {}", .0.join(", "))]
    Cancelled(Vec<String>),
    /// A known return action the return's state forbids.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// The shop is not registered.
    #[error("the shop {0} is not registered")]
    UnknownShop(String),
    /// An `Idempotency-Key` already used, within 24 hours, for another request.
    #[error("the Idempotency-Key {0} was already used with a different request")]
    KeyReused(String),
    /// The database cannot be reached or is shutting down: worth retrying later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a bug or a broken invariant. Logged; the client learns little.
    #[error("internal store error")]
    Internal(#[source] anyhow::Error),
}

/// One page of a list, with the tab counts under the same filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The rows of the window, in list order.
    pub orders: Vec<Order>,
    pub counts: TabCounts,
    /// The Shopify GraphQL cursor the poller last reached for the shop.
    pub shopify_cursor: Option<String>,
}

/// Where a batch of an export resumes: the list-order key of the last order written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportKey {
    pub created_at: DateTime<Utc>,
    pub id: String,
}

impl ExportKey {
    /// The key of `order`.
    pub fn of(order: &Order) -> Self {
        ExportKey {
            created_at: order.created_at,
            id: order.id.clone(),
        }
    }
}

/// What an alert evaluation, or a look at the table, found changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertChanges {
    /// New alerts, oldest first.
    pub raised: Vec<Alert>,
    /// Ids of alerts that cleared, in the order they cleared.
    pub resolved: Vec<u64>,
}

impl AlertChanges {
    pub fn is_empty(&self) -> bool {
        self.raised.is_empty() && self.resolved.is_empty()
    }
}

/// How far a reader has followed a shop's alerts: the greatest alert id and resolution number seen.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertMark {
    pub alert_id: u64,
    pub resolved_seq: u64,
}

/// One webhook delivery, as Shopify's headers describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `X-Shopify-Webhook-Id`: the key that makes a redelivery change nothing.
    pub webhook_id: String,
    /// `X-Shopify-Event-Id`: with the topic, a second key that makes a repeat change nothing
    /// (several subscriptions deliver one event under several webhook ids).
    pub event_id: Option<String>,
    /// `X-Shopify-Topic`.
    pub topic: String,
}

/// What ingesting one fact did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestOutcome {
    /// A new order was stored.
    Created { order_id: String },
    /// A known order changed.
    Applied { order_id: String },
    /// Nothing changed: the payload was stale or said what was already known.
    Unchanged { order_id: String },
    /// The order is not known yet: the fact is kept and applied when it arrives.
    Pending { order: String },
    /// This delivery (its webhook id, or its event id and topic) was accepted before; nothing
    /// changed.
    Duplicate,
}

impl IngestOutcome {
    /// Whether the shop's data changed (worth a refresh ping).
    pub fn changed(&self) -> bool {
        matches!(
            self,
            IngestOutcome::Created { .. } | IngestOutcome::Applied { .. }
        )
    }
}

/// What `shop add` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShopRegistration {
    Created,
    /// Secrets updated; the webhook secret unchanged.
    Updated,
    /// A new webhook secret; the previous one stays valid until then.
    Rotated {
        previous_valid_until: DateTime<Utc>,
    },
}

/// How long an `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_WINDOW: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// A write sent with an `Idempotency-Key`: the key, the fingerprint of the request it came with,
/// and how to render the answer to keep (the envelope the client was sent), from what the write did.
pub struct Idempotent<'a, T> {
    pub key: &'a str,
    /// SHA-256 of the endpoint and the canonical JSON body.
    pub fingerprint: [u8; 32],
    pub answer: &'a (dyn Fn(&T) -> serde_json::Value + Send + Sync),
}

/// What a write with an optional idempotency key did.
#[derive(Debug, Clone, PartialEq)]
pub enum Written<T> {
    /// The write was applied (for the first time, when it had a key).
    Applied(T),
    /// The key was seen with this request before: the answer kept from then, nothing applied.
    Replayed(serde_json::Value),
}

impl<T> Written<T> {
    /// What an applied write did; `None` for a replay.
    pub fn applied(self) -> Option<T> {
        match self {
            Written::Applied(done) => Some(done),
            Written::Replayed(_) => None,
        }
    }
}

/// Where the orders are kept.
#[derive(Clone)]
pub enum Store {
    Postgres(PgStore),
    Memory(MemoryStore),
}

macro_rules! dispatch {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            Store::Postgres($store) => $call,
            Store::Memory($store) => $call,
        }
    };
}

impl Store {
    /// Whether this is the in-memory sample store.
    pub fn is_sample(&self) -> bool {
        matches!(self, Store::Memory(_))
    }

    /// Succeeds when the store can answer queries.
    pub async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, s => s.ping().await)
    }

    /// The rows of `window` in `query.tab` under `query.filter`, the tab counts under the filter, and
    /// the shop's Shopify cursor.
    pub async fn list_orders(
        &self,
        query: &ListQuery,
        window: PageWindow,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Page, StoreError> {
        dispatch!(self, s => s.list_orders(query, window, now, th).await)
    }

    /// The returns funnel and orders-per-day series of the view `query` describes (all pages).
    pub async fn stats(
        &self,
        query: &ListQuery,
        now: DateTime<Utc>,
        th: &Thresholds,
        clock: &ShopClock,
    ) -> Result<OrderStats, StoreError> {
        dispatch!(self, s => s.stats(query, now, th, clock).await)
    }

    /// Up to `limit` orders of the view `query` describes (all tabs' rules and filters, not its
    /// page) after `after` in list order: one batch of an export.
    pub async fn orders_after(
        &self,
        query: &ListQuery,
        after: Option<&ExportKey>,
        limit: u32,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Vec<Order>, StoreError> {
        dispatch!(self, s => s.orders_after(query, after, limit, now, th).await)
    }

    /// One order of a shop, or `None`.
    pub async fn get_order(
        &self,
        shop: &str,
        order: &OrderRef,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Option<Order>, StoreError> {
        dispatch!(self, s => s.get_order(shop, order, now, th).await)
    }

    /// Records the owner of each order (in `order_assignments`), with a timeline entry and an outbox
    /// row for each order whose owner changed. Answers in request order.
    pub async fn assign(
        &self,
        cmd: &AssignCommand,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, Vec<AssignedOrder>>>,
    ) -> Result<Written<Vec<AssignedOrder>>, StoreError> {
        dispatch!(self, s => s.assign(cmd, now, key).await)
    }

    /// Marks the orders fulfilled (already fulfilled ones are left alone), recording the tracking as an
    /// in-transit shipment of each order it fulfils. Refuses the whole request if any order is cancelled.
    pub async fn fulfill(
        &self,
        cmd: &FulfillCommand,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, Vec<FulfilledOrder>>>,
    ) -> Result<Written<Vec<FulfilledOrder>>, StoreError> {
        dispatch!(self, s => s.fulfill(cmd, now, key).await)
    }

    /// Opens a support escalation under `thread`, hands the order to the assistant, and queues it.
    pub async fn escalate(
        &self,
        cmd: &SupportCommand,
        thread: &str,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, EscalatedOrder>>,
    ) -> Result<Written<EscalatedOrder>, StoreError> {
        dispatch!(self, s => s.escalate(cmd, thread, now, key).await)
    }

    /// Moves the order's return through the state machine; concurrent actions are serialised by the
    /// order's row lock, so the loser sees the new state and gets [`StoreError::Transition`].
    pub async fn apply_return_action(
        &self,
        cmd: &ReturnCommand,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, ReturnPlan>>,
    ) -> Result<Written<ReturnPlan>, StoreError> {
        dispatch!(self, s => s.apply_return_action(cmd, now, key).await)
    }

    /// Registers the shop if needed and replaces all of its orders with `records` (the seed command).
    pub async fn replace_orders(
        &self,
        shop: &str,
        records: &[OrderRecord],
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.replace_orders(shop, records).await)
    }

    /// The shop's outbox, oldest first.
    pub async fn outbox(&self, shop: &str) -> Result<Vec<OutboxEvent>, StoreError> {
        dispatch!(self, s => s.outbox(shop).await)
    }

    /// The newest `limit` events of the shop's outbox (only those in `state`, when given), newest
    /// first, and how many of its events are in each state. The sample store's are all pending.
    pub async fn outbox_entries(
        &self,
        shop: &str,
        state: Option<OutboxState>,
        limit: usize,
    ) -> Result<OutboxList, StoreError> {
        dispatch!(self, s => s.outbox_entries(shop, state, limit).await)
    }

    /// How many of the shop's outbox events are in each state.
    pub async fn outbox_counts(&self, shop: &str) -> Result<OutboxCounts, StoreError> {
        Ok(self.outbox_entries(shop, None, 0).await?.counts)
    }

    /// The full history of one order, oldest first (for tests and the order page).
    pub async fn timeline(
        &self,
        shop: &str,
        order_id: &str,
    ) -> Result<Vec<orders_core::TimelineEntry>, StoreError> {
        dispatch!(self, s => s.timeline(shop, order_id).await)
    }

    /// Raises and resolves the shop's shipment alerts to match its orders at `now`: all of them,
    /// or only those of the orders `only` names (after a write that changed just those).
    pub async fn evaluate_alerts(
        &self,
        shop: &str,
        now: DateTime<Utc>,
        th: &Thresholds,
        only: Option<&[String]>,
    ) -> Result<AlertChanges, StoreError> {
        dispatch!(self, s => s.evaluate_alerts(shop, now, th, only).await)
    }

    /// Refreshes the database's statistics of the alerts table (nothing to do in memory).
    pub async fn analyze_alerts(&self) -> Result<(), StoreError> {
        match self {
            Store::Postgres(s) => s.analyze_alerts().await,
            Store::Memory(_) => Ok(()),
        }
    }

    /// Raises the shop's data-gap alert unless one is open; answers the new alert.
    pub async fn raise_data_gap(
        &self,
        shop: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Alert>, StoreError> {
        dispatch!(self, s => s.raise_data_gap(shop, text, now).await)
    }

    /// Resolves the shop's open data-gap alert; answers its id.
    pub async fn resolve_data_gap(
        &self,
        shop: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        dispatch!(self, s => s.resolve_data_gap(shop, now).await)
    }

    /// How far the shop's alerts have gone.
    pub async fn alert_mark(&self, shop: &str) -> Result<AlertMark, StoreError> {
        dispatch!(self, s => s.alert_mark(shop).await)
    }

    /// What happened to the shop's alerts after `mark`, and the new mark.
    pub async fn alerts_since_mark(
        &self,
        shop: &str,
        mark: AlertMark,
    ) -> Result<(AlertChanges, AlertMark), StoreError> {
        dispatch!(self, s => s.alerts_since_mark(shop, mark).await)
    }

    /// The open alerts (`after` = `None`) or every alert after an id: the newest `limit` of them,
    /// oldest first.
    pub async fn newest_alerts(
        &self,
        shop: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        dispatch!(self, s => s.newest_alerts(shop, after, limit).await)
    }

    /// The dashboard's banners: for each of `kinds` with open alerts, in that order, how many and
    /// the `first` raised.
    pub async fn digests(
        &self,
        shop: &str,
        kinds: &[orders_core::AlertKind],
        first: usize,
    ) -> Result<Vec<orders_core::alerts::Digest>, StoreError> {
        dispatch!(self, s => s.digests(shop, kinds, first).await)
    }

    /// Ids of alerts up to `up_to` that cleared at or after `since`: the `limit` that cleared last,
    /// in the order they cleared.
    pub async fn resolved_up_to(
        &self,
        shop: &str,
        up_to: u64,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        dispatch!(self, s => s.resolved_up_to(shop, up_to, since, limit).await)
    }

    /// The polling fallback's answer (SPEC §6): the alerts after `since` (the open ones without it),
    /// and the id to ask from next time.
    pub async fn poll_alerts(
        &self,
        shop: &str,
        since: Option<u64>,
    ) -> Result<AlertPage, StoreError> {
        let alerts = dispatch!(self, s => s.alerts(shop, since, POLL_LIMIT).await)?;
        let last_event_id = match (alerts.last(), since) {
            (Some(last), _) => last.id,
            (None, Some(since)) => since,
            (None, None) => self.alert_mark(shop).await?.alert_id,
        };
        Ok(AlertPage {
            alerts,
            last_event_id,
        })
    }

    /// Every known shop domain, sorted.
    pub async fn shops(&self) -> Result<Vec<String>, StoreError> {
        dispatch!(self, s => s.shops().await)
    }

    /// The shop's time zone as Shopify names it (`ianaTimezone`), if it is known.
    pub async fn shop_time_zone(&self, shop: &str) -> Result<Option<String>, StoreError> {
        dispatch!(self, s => s.shop_time_zone(shop).await)
    }

    /// Keeps the shop's time zone (a registered shop's; an unknown shop is left alone).
    pub async fn set_shop_time_zone(&self, shop: &str, zone: &str) -> Result<(), StoreError> {
        dispatch!(self, s => s.set_shop_time_zone(shop, zone).await)
    }
}

/// Resolves every reference a write names with `find`, in request order and each order once; or
/// fails naming every reference (as the client wrote it) that matches nothing. Both stores resolve
/// through this, so they agree on duplicates and on what a partial miss answers.
pub(crate) fn resolve_all<T: PartialEq>(
    refs: &[OrderRef],
    mut find: impl FnMut(&OrderRef) -> Option<T>,
) -> Result<Vec<T>, StoreError> {
    let mut found = Vec::with_capacity(refs.len());
    let mut missing = Vec::new();
    for r in refs {
        match find(r) {
            Some(t) if !found.contains(&t) => found.push(t),
            Some(_) => {}
            None => missing.push(r.to_string()),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(StoreError::OrdersNotFound(missing))
    }
}

/// A fresh id for a shipment recorded by a fulfill.
pub fn new_shipment_id() -> String {
    format!("shp_{}", uuid::Uuid::new_v4().simple())
}
