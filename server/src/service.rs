//! The one service layer: every read and write of orders goes through here, whether it arrives at
//! the Sync API (`/sync/orders*`) or from the dashboard's server functions. The doors parse and map;
//! the rules live in the core and the stores.
//!
//! Two stores: `primary` answers the API (PostgreSQL, or the sample store under `USE_MOCK_DATA`);
//! `sample` is the in-memory fallback the dashboard shows, under a banner, while the database is away.
//!
//! Beside the orders service, the services that exist only with PostgreSQL ([`Database`]:
//! [`Ingestion`], [`Tokens`], [`Shops`], [`Privacy`], [`Outbox`], [`AlertFeed`]) are built here
//! once, from the store of record. Doors, workers and the command line hold the service and those;
//! none of them matches on the store. The service answers in its own error, [`ServiceError`]; what
//! HTTP status each is, is the door's business (`crate::error`).

mod dashboard;
mod database;
mod error;
mod feed;
mod ingestion;
mod outbox;
mod privacy;
mod reads;
mod shops;
mod tokens;

pub use database::Database;
pub use error::ServiceError;
pub use feed::AlertFeed;
pub use ingestion::Ingestion;
pub use outbox::Outbox;
pub use privacy::Privacy;
pub use reads::ReadAt;
pub use shops::{InstallLock, Shops};
pub use tokens::Tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use orders_core::alerts::{AlertPage, Refresh, RefreshReason, REPLAY_LIMIT};
use orders_core::locale::ShopClock;
use orders_core::outbox::{OutboxCounts, OutboxList, OutboxQuery, OUTBOX_LIST_LIMIT};
use orders_core::record::to_micros;
use orders_core::text::plural;
use orders_core::{
    effects::ReturnPlan, AssignCommand, AssignedOrder, Envelope, EscalatedOrder, FulfillCommand,
    FulfilledOrder, ListQuery, Order, OrderList, OrderRef, ReturnCommand, SupportCommand,
    Thresholds,
};
use tracing::instrument;

use crate::live::{Live, LiveEvent, Subscription};
use crate::store::{ExportKey, Idempotent, MemoryStore, Store, StoreError, Written};

/// The `Idempotency-Key` of a write and the fingerprint of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestKey {
    pub key: String,
    pub fingerprint: [u8; 32],
}

impl RequestKey {
    fn with<'a, T>(
        &'a self,
        answer: &'a (dyn Fn(&T) -> serde_json::Value + Send + Sync),
    ) -> Idempotent<'a, T> {
        Idempotent {
            key: &self.key,
            fingerprint: self.fingerprint,
            answer,
        }
    }
}

/// What a write answers: the v1.2 envelope, and whether it is the answer kept for an earlier request
/// with the same `Idempotency-Key` (nothing applied this time).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub body: serde_json::Value,
    pub replayed: bool,
    /// The database's position at or past the write's commit (`X-Sync-Position`).
    pub position: Option<orders_core::position::Position>,
}

/// A success envelope as JSON.
fn envelope<T: serde::Serialize>(message: String, updated: Vec<T>) -> serde_json::Value {
    serde_json::to_value(Envelope::ok(message, updated)).unwrap_or(serde_json::Value::Null)
}

/// The service, cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    primary: Store,
    /// The PostgreSQL-only services, when the store of record is PostgreSQL.
    database: Option<Database>,
    live: Live,
    sample: Option<MemoryStore>,
    sample_shop: String,
    thresholds: Thresholds,
    /// Until when the dashboard leaves an unavailable database alone (see `with_fallback`).
    resting_until: Mutex<Option<Instant>>,
    /// Shops with a pass after a change under way, and the reason for one more pass, if asked.
    passes: Mutex<HashMap<String, Option<(RefreshReason, Scope)>>>,
    /// When this process's poller starts its next round (`None`: it does not poll).
    next_poll: Mutex<Option<DateTime<Utc>>>,
    /// The zone of a shop whose own is not known (`SHOP_TIMEZONE`).
    default_clock: Mutex<ShopClock>,
    /// The read replicas, when configured (`reads`).
    replicas: OnceLock<Arc<crate::store::postgres::replicas::Replicas>>,
}

/// How far back a reconnecting client is told about alerts that cleared (SPEC §6).
pub const RESOLVED_REPLAY: chrono::Duration = chrono::Duration::hours(24);

/// What a stream sends before its live events ([`Service::alert_replay`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    pub events: Vec<LiveEvent>,
    /// Whether alerts (or older resolutions) were left out: then a `replay_truncated` refresh
    /// follows the events.
    pub truncated: bool,
}

/// Shops the first pass over every shop (at start-up) evaluates at once: each is one transaction
/// on its own connection, and the first pass over a fresh load is the database's work, which two
/// backends share.
pub const FIRST_PASS_JOBS: usize = 2;
/// Shops each later pass evaluates at once: one, so that the pass every 30 s, which finds little
/// to change, leaves the database's other cores to the requests.
pub const PASS_JOBS: usize = 1;

/// Alert changes past which an evaluation (or a pass over every shop, once at its end) runs
/// `ANALYZE` on the alerts table.
pub const ANALYZE_AFTER: usize = 1000;

/// How long the dashboard stays on sample data after the database failed to answer.
pub const DATABASE_REST: Duration = Duration::from_secs(5);

/// Now, to the microsecond the database keeps.
pub(crate) fn now() -> DateTime<Utc> {
    to_micros(Utc::now())
}

impl Service {
    /// A service over `primary`, falling back to `sample` (holding `sample_shop`) for the dashboard.
    pub fn new(
        primary: Store,
        sample: Option<MemoryStore>,
        sample_shop: String,
        thresholds: Thresholds,
    ) -> Self {
        let database = match &primary {
            Store::Postgres(pg) => Some(Database::new(pg.clone())),
            Store::Memory(_) => None,
        };
        Service {
            inner: Arc::new(Inner {
                primary,
                database,
                live: Live::default(),
                sample,
                sample_shop,
                thresholds,
                resting_until: Mutex::new(None),
                passes: Mutex::new(HashMap::new()),
                next_poll: Mutex::new(None),
                default_clock: Mutex::new(ShopClock::utc()),
                replicas: OnceLock::new(),
            }),
        }
    }

    /// Sets the zone of the shops whose own is not known (`SHOP_TIMEZONE`; UTC until set).
    pub fn set_default_clock(&self, clock: ShopClock) {
        *self
            .inner
            .default_clock
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = clock;
    }

    /// The clock of `shop`'s dashboard: the zone Shopify gave for it, else `SHOP_TIMEZONE`. The
    /// zone is read like the dashboard's rows (the sample shop's while the database is away); a
    /// zone that cannot be read, or is not one this build knows, is logged and the default used.
    pub async fn shop_clock(&self, shop: &str) -> ShopClock {
        let default = *self
            .inner
            .default_clock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let zone = self
            .with_fallback(shop, ReadAt::Primary, |store, shop| async move {
                store.shop_time_zone(&shop).await
            })
            .await;
        match zone {
            Ok((Some(zone), _)) => ShopClock::parse(&zone).unwrap_or_else(|e| {
                tracing::warn!(shop, error = %e, "the shop's stored time zone is not known here");
                default
            }),
            Ok((None, _)) => default,
            Err(e) => {
                tracing::warn!(shop, error = %e, "could not read the shop's time zone");
                default
            }
        }
    }

    /// The services that exist only with PostgreSQL; `None` on the in-memory store.
    pub fn database(&self) -> Option<&Database> {
        self.inner.database.as_ref()
    }

    /// Whether the store of record is the in-memory sample data (`USE_MOCK_DATA`).
    pub fn is_sample(&self) -> bool {
        self.inner.primary.is_sample()
    }

    /// Whether the store of record answers (`/readyz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.inner.primary.ping().await
    }

    /// The shop the sample data holds.
    pub fn sample_shop(&self) -> &str {
        &self.inner.sample_shop
    }

    /// The alert thresholds in force.
    pub fn thresholds(&self) -> &Thresholds {
        &self.inner.thresholds
    }

    /// One page of `GET /sync/orders`.
    #[instrument(skip_all, fields(shop = %query.shop_domain, tab = %query.tab))]
    pub async fn list_orders(
        &self,
        query: &ListQuery,
        at: ReadAt,
    ) -> Result<OrderList, ServiceError> {
        Ok(self
            .read_on(
                at,
                |store| async move { self.list_from(&store, query).await },
            )
            .await?)
    }

    async fn list_from(&self, store: &Store, query: &ListQuery) -> Result<OrderList, StoreError> {
        let window = query.window();
        let page = store
            .list_orders(query, window, now(), &self.inner.thresholds)
            .await?;
        let total = page.counts.get(query.tab);
        Ok(OrderList {
            page_info: window.page_info(page.orders.len(), total),
            orders: page.orders,
            counts: page.counts,
            shopify_cursor: page.shopify_cursor,
        })
    }

    /// One order of a shop (`GET /sync/orders/{id}`).
    #[instrument(skip_all, fields(shop = %shop, order = %order))]
    pub async fn get_order(
        &self,
        shop: &str,
        order: &OrderRef,
        at: ReadAt,
    ) -> Result<Order, ServiceError> {
        let th = &self.inner.thresholds;
        self.read_on(at, |store| async move {
            store.get_order(shop, order, now(), th).await
        })
        .await?
        .ok_or_else(|| ServiceError::NotFound(format!("no order {order} in shop {shop}")))
    }

    /// `POST /sync/orders/assign`.
    #[instrument(skip_all, fields(shop = %cmd.shop_domain, orders = cmd.orders.len()))]
    pub async fn assign(
        &self,
        cmd: &AssignCommand,
        key: Option<&RequestKey>,
    ) -> Result<Answer, ServiceError> {
        let answer = |updated: &Vec<AssignedOrder>| {
            let orders = plural(updated.len(), "order", "orders");
            let message = match &cmd.assignee {
                Some(name) => format!("Assigned {orders} to {name}"),
                None => format!("Unassigned {orders}"),
            };
            envelope(message, updated.clone())
        };
        let key = key.map(|k| k.with(&answer));
        let written = self.inner.primary.assign(cmd, now(), key.as_ref()).await?;
        Ok(self.answered(&cmd.shop_domain, written, answer).await)
    }

    /// `POST /sync/orders/fulfill`.
    #[instrument(skip_all, fields(shop = %cmd.shop_domain, orders = cmd.orders.len()))]
    pub async fn fulfill(
        &self,
        cmd: &FulfillCommand,
        key: Option<&RequestKey>,
    ) -> Result<Answer, ServiceError> {
        let answer = |updated: &Vec<FulfilledOrder>| {
            let mut message = format!(
                "Marked {} as fulfilled",
                plural(updated.len(), "order", "orders")
            );
            if let Some(t) = &cmd.tracking {
                message.push_str(&format!(" with tracking {} ({})", t.number, t.carrier));
            }
            envelope(message, updated.clone())
        };
        let key = key.map(|k| k.with(&answer));
        let written = self.inner.primary.fulfill(cmd, now(), key.as_ref()).await?;
        Ok(self.answered(&cmd.shop_domain, written, answer).await)
    }

    /// `POST /sync/orders/support`; the thread is the conversation id, or a new one.
    #[instrument(skip_all, fields(shop = %cmd.shop_domain, order = %cmd.order))]
    pub async fn escalate(
        &self,
        cmd: &SupportCommand,
        key: Option<&RequestKey>,
    ) -> Result<Answer, ServiceError> {
        let thread = cmd
            .conversation_id
            .clone()
            .unwrap_or_else(|| format!("sup_{}", uuid::Uuid::new_v4().simple()));
        let answer = |updated: &EscalatedOrder| {
            let message = format!(
                "Support requested for order {} (thread {})",
                cmd.order, updated.support_thread
            );
            envelope(message, vec![updated.clone()])
        };
        let key = key.map(|k| k.with(&answer));
        let written = self
            .inner
            .primary
            .escalate(cmd, &thread, now(), key.as_ref())
            .await?;
        Ok(self.answered(&cmd.shop_domain, written, answer).await)
    }

    /// `POST /sync/orders/returns`.
    #[instrument(skip_all, fields(shop = %cmd.shop_domain, order = %cmd.order, action = %cmd.action))]
    pub async fn apply_return_action(
        &self,
        cmd: &ReturnCommand,
        key: Option<&RequestKey>,
    ) -> Result<Answer, ServiceError> {
        let answer = |plan: &ReturnPlan| {
            let message = format!(
                "Return updated for order {}: {} → {}",
                cmd.order, plan.from, plan.to
            );
            envelope(message, Vec::<serde_json::Value>::new())
        };
        let key = key.map(|k| k.with(&answer));
        let written = self
            .inner
            .primary
            .apply_return_action(cmd, now(), key.as_ref())
            .await?;
        Ok(self.answered(&cmd.shop_domain, written, answer).await)
    }

    /// The answer of a write: a fresh one (the change announced) or the one kept for its key.
    async fn answered<T: ChangedOrders>(
        &self,
        shop: &str,
        written: Written<T>,
        answer: impl Fn(&T) -> serde_json::Value,
    ) -> Answer {
        let (body, replayed) = match written {
            Written::Applied(done) => {
                self.changed(shop, RefreshReason::Action, Scope::Orders(done.order_ids()));
                (answer(&done), false)
            }
            // The first answer again; the position now is past the first write's commit.
            Written::Replayed(body) => (body, true),
        };
        Answer {
            body,
            replayed,
            position: self.position().await,
        }
    }

    /// One batch of the CSV export of a view: up to `limit` orders after `after`, from the store of
    /// record (an export of sample data would pass for real orders, so there is none).
    pub async fn export_batch(
        &self,
        query: &ListQuery,
        after: Option<&ExportKey>,
        limit: u32,
        at: ReadAt,
    ) -> Result<Vec<Order>, ServiceError> {
        let th = &self.inner.thresholds;
        Ok(self
            .read_on(at, |store| async move {
                store.orders_after(query, after, limit, now(), th).await
            })
            .await?)
    }

    /// The live-alert hub of this process.
    pub fn live(&self) -> &Live {
        &self.inner.live
    }

    /// After a change to a shop's orders: re-evaluates its alerts and sends a refresh ping, in the
    /// background (the write has committed; its answer does not wait for this).
    ///
    /// Passes are coalesced per shop: while one runs, further changes ask for one more pass after
    /// it, not one each, so a burst of webhooks costs two passes rather than hundreds. Every change
    /// is still followed by a pass that starts after it.
    ///
    /// `scope` says which orders changed: a pass then evaluates only theirs (a few index look-ups,
    /// where a whole shop of 300,000 orders takes a quarter of a second); the periodic pass still
    /// covers every order, for the alerts that time alone brings.
    pub fn changed(&self, shop: &str, reason: RefreshReason, scope: Scope) {
        {
            let mut passes = self.passes();
            if let Some(again) = passes.get_mut(shop) {
                *again = Some(match again.take() {
                    Some((_, before)) => (reason, before.and(scope)),
                    None => (reason, scope),
                });
                return;
            }
            passes.insert(shop.to_owned(), None);
        }
        let service = self.clone();
        let shop = shop.to_owned();
        tokio::spawn(async move {
            let (mut reason, mut scope) = (reason, scope);
            loop {
                service.pass(&shop, reason, &scope).await;
                let mut passes = service.passes();
                match passes.get_mut(&shop).and_then(Option::take) {
                    Some(next) => (reason, scope) = next,
                    None => {
                        passes.remove(&shop);
                        return;
                    }
                }
            }
        });
    }

    fn passes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Option<(RefreshReason, Scope)>>> {
        // Holders only insert, take or remove, so a poisoned map is still consistent.
        self.inner.passes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One pass after a change: the shop's alerts, then the refresh ping.
    async fn pass(&self, shop: &str, reason: RefreshReason, scope: &Scope) {
        let only = match scope {
            Scope::Shop => None,
            Scope::Orders(ids) => Some(ids.as_slice()),
        };
        match self.evaluate_some(shop, only).await {
            Ok(changed) => self.analyze_after(changed).await,
            Err(e) => {
                tracing::warn!(shop = %shop, error = %e, "could not evaluate the shop's alerts")
            }
        }
        let refresh = Refresh { reason, at: now() };
        match &self.inner.primary {
            Store::Postgres(pg) => {
                if let Err(e) = pg.notify_refresh(shop, refresh).await {
                    tracing::warn!(shop = %shop, error = %e, "could not send a refresh ping");
                }
            }
            Store::Memory(_) => {
                self.inner
                    .live
                    .publish(shop, vec![LiveEvent::Refresh(refresh)], None)
            }
        }
    }

    /// Brings one shop's alerts up to date. With PostgreSQL the listeners of every process learn
    /// of the changes through the database; with the in-memory store they are passed on here.
    pub async fn evaluate(&self, shop: &str) -> Result<(), StoreError> {
        let changed = self.evaluate_some(shop, None).await?;
        self.analyze_after(changed).await;
        Ok(())
    }

    /// [`Service::evaluate`] for the orders `only` names (all of them when `None`), without the
    /// `ANALYZE`; answers how many alerts it raised and resolved.
    async fn evaluate_some(
        &self,
        shop: &str,
        only: Option<&[String]>,
    ) -> Result<usize, StoreError> {
        let changes = self
            .inner
            .primary
            .evaluate_alerts(shop, now(), &self.inner.thresholds, only)
            .await?;
        let changed = changes.raised.len() + changes.resolved.len();
        if self.inner.primary.is_sample() && !changes.is_empty() {
            let mut events: Vec<LiveEvent> = changes
                .resolved
                .into_iter()
                .map(LiveEvent::Resolved)
                .collect();
            events.extend(
                changes
                    .raised
                    .into_iter()
                    .map(|a| LiveEvent::Alert(Arc::new(a))),
            );
            self.inner.live.publish(shop, events, None);
        }
        Ok(changed)
    }

    /// After `changed` alert changes, past [`ANALYZE_AFTER`], gives the planner a new picture of
    /// the alerts table (its statistics), so the next passes' joins are planned for its size.
    async fn analyze_after(&self, changed: usize) {
        if changed > ANALYZE_AFTER {
            if let Err(e) = self.inner.primary.analyze_alerts().await {
                tracing::warn!(error = %e, "could not analyze the alerts table");
            }
        }
    }

    /// Ingestion's hook (SPEC §6): orders of `shop` may be missing (a failed poll, orders the
    /// webhooks never delivered, or Shopify silent for too long). Raises one critical `data_gap`
    /// alert, once, until [`Service::data_healthy`] clears it.
    pub async fn data_gap(&self, shop: &str, message: &str) -> Result<(), StoreError> {
        let raised = self
            .inner
            .primary
            .raise_data_gap(shop, message, now())
            .await?;
        if let (Some(alert), true) = (raised, self.inner.primary.is_sample()) {
            self.inner
                .live
                .publish(shop, vec![LiveEvent::Alert(Arc::new(alert))], None);
        }
        Ok(())
    }

    /// Ingestion's hook: the shop's data is whole again; resolves its data gap, if any.
    pub async fn data_healthy(&self, shop: &str) -> Result<(), StoreError> {
        let resolved = self.inner.primary.resolve_data_gap(shop, now()).await?;
        if let (Some(id), true) = (resolved, self.inner.primary.is_sample()) {
            self.inner
                .live
                .publish(shop, vec![LiveEvent::Resolved(id)], None);
        }
        Ok(())
    }

    /// Brings every shop's alerts up to date (the worker's tick), `jobs` shops at once.
    pub async fn evaluate_all(&self, jobs: usize) -> Result<(), StoreError> {
        let shops = self.inner.primary.shops().await?;
        let changed = futures::stream::iter(shops)
            .map(|shop| async move { self.evaluate_some(&shop, None).await })
            .buffer_unordered(jobs.max(1))
            .try_fold(0, |sum, n| async move { Ok(sum + n) })
            .await?;
        // One `ANALYZE` for the whole pass: the first pass over a fresh load changes every shop.
        self.analyze_after(changed).await;
        Ok(())
    }

    /// A receiver of the shop's live events, subscribed before the caller reads its replay, so
    /// nothing falls between the two. The shop's channel goes when its last receiver does.
    pub async fn subscribe_alerts(&self, shop: &str) -> Result<Subscription, ServiceError> {
        if let Some(rx) = self.inner.live.try_subscribe(shop) {
            return Ok(rx);
        }
        let mark = self.inner.primary.alert_mark(shop).await?;
        Ok(self.inner.live.subscribe_at(shop, mark))
    }

    /// What a stream sends before its live events (SPEC §6): every open alert for a new client;
    /// for one that reconnects after `last`, every later alert (each followed by its `resolved`
    /// if it cleared since), then `resolved` for each earlier alert that cleared in the last 24 h.
    /// Each part holds at most [`REPLAY_LIMIT`] alerts (or older resolutions), the newest; a part
    /// that had more makes the replay `truncated`.
    pub async fn alert_replay(
        &self,
        shop: &str,
        last: Option<u64>,
    ) -> Result<Replay, ServiceError> {
        let store = &self.inner.primary;
        // One more than is sent tells whether there were more.
        let mut alerts = store.newest_alerts(shop, last, REPLAY_LIMIT + 1).await?;
        let mut truncated = alerts.len() > REPLAY_LIMIT;
        if truncated {
            alerts.remove(0);
        }
        let Some(last) = last else {
            let events = alerts
                .into_iter()
                .map(|a| LiveEvent::Alert(Arc::new(a)))
                .collect();
            return Ok(Replay { events, truncated });
        };
        let mut events = Vec::new();
        for alert in alerts {
            let cleared = alert.resolved_at.is_some().then_some(alert.id);
            events.push(LiveEvent::Alert(Arc::new(alert)));
            events.extend(cleared.map(LiveEvent::Resolved));
        }
        let since = now() - RESOLVED_REPLAY;
        let mut older = store
            .resolved_up_to(shop, last, since, REPLAY_LIMIT + 1)
            .await?;
        if older.len() > REPLAY_LIMIT {
            older.remove(0);
            truncated = true;
        }
        events.extend(older.into_iter().map(LiveEvent::Resolved));
        Ok(Replay { events, truncated })
    }

    /// `GET /sync/orders/alerts` as JSON: the polling fallback.
    pub async fn poll_alerts(
        &self,
        shop: &str,
        since: Option<u64>,
    ) -> Result<AlertPage, ServiceError> {
        Ok(self.inner.primary.poll_alerts(shop, since).await?)
    }

    /// `GET /sync/outbox`: the shop's newest outbox events (of one state, when asked), newest first,
    /// at most [`OUTBOX_LIST_LIMIT`], and how many are in each state. On the sample store every
    /// event is pending: nothing is delivered from sample data.
    #[instrument(skip_all, fields(shop = %query.shop_domain))]
    pub async fn outbox(&self, query: &OutboxQuery) -> Result<OutboxList, ServiceError> {
        Ok(self
            .inner
            .primary
            .outbox_entries(&query.shop_domain, query.state, OUTBOX_LIST_LIMIT)
            .await?)
    }

    /// How many of the shop's outbox events are pending, delivered and dead (for the dashboard's
    /// indicator), from the store of record.
    #[instrument(skip_all, fields(shop = %shop))]
    pub async fn outbox_summary(&self, shop: &str) -> Result<OutboxCounts, ServiceError> {
        Ok(self.inner.primary.outbox_counts(shop).await?)
    }
}

/// Which orders of a shop a change touched, for the alert pass that follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Any of them (ingestion's batches, the sample store, anything not itemised).
    Shop,
    /// These, by GID.
    Orders(Vec<String>),
}

impl Scope {
    /// What two changes touched together.
    pub fn and(self, other: Scope) -> Scope {
        match (self, other) {
            (Scope::Orders(mut a), Scope::Orders(b)) => {
                for id in b {
                    if !a.contains(&id) {
                        a.push(id);
                    }
                }
                Scope::Orders(a)
            }
            _ => Scope::Shop,
        }
    }
}

/// The orders a write's result names.
trait ChangedOrders {
    fn order_ids(&self) -> Vec<String>;
}

impl ChangedOrders for Vec<AssignedOrder> {
    fn order_ids(&self) -> Vec<String> {
        self.iter().map(|o| o.id.clone()).collect()
    }
}

impl ChangedOrders for Vec<FulfilledOrder> {
    fn order_ids(&self) -> Vec<String> {
        self.iter().map(|o| o.id.clone()).collect()
    }
}

impl ChangedOrders for EscalatedOrder {
    fn order_ids(&self) -> Vec<String> {
        vec![self.id.clone()]
    }
}

impl ChangedOrders for ReturnPlan {
    fn order_ids(&self) -> Vec<String> {
        vec![self.outbox.order_id.clone()]
    }
}

#[cfg(test)]
mod scope_tests {
    use super::Scope;

    #[test]
    fn scopes_join_as_the_union_of_their_orders_and_the_shop_absorbs_all() {
        let a = Scope::Orders(vec![
            "gid://shopify/Order/1".into(),
            "gid://shopify/Order/2".into(),
        ]);
        let b = Scope::Orders(vec![
            "gid://shopify/Order/2".into(),
            "gid://shopify/Order/3".into(),
        ]);
        assert_eq!(
            a.clone().and(b),
            Scope::Orders(vec![
                "gid://shopify/Order/1".into(),
                "gid://shopify/Order/2".into(),
                "gid://shopify/Order/3".into()
            ])
        );
        assert_eq!(a.clone().and(Scope::Shop), Scope::Shop);
        assert_eq!(Scope::Shop.and(a), Scope::Shop);
    }
}
