//! The in-memory store: the sample data the dashboard falls back to while the database is away, and
//! the whole store under `USE_MOCK_DATA`. It obeys the same contract as PostgreSQL (the integration
//! suite runs against both).
//!
//! One mutex guards everything; a write checks every order first and changes nothing unless all
//! checks pass, so each request is all-or-nothing and concurrent requests are serialised.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use orders_core::effects::{
    change_assignment, plan_fulfill, plan_return, plan_support, FulfillPlan, OutboxEvent,
    ReturnPlan,
};
use orders_core::locale::ShopClock;
use orders_core::outbox::{OutboxCounts, OutboxEntry, OutboxList};
use orders_core::query::{OrderFilter, PageWindow};
use orders_core::record::{OrderRecord, SupportRecord};
use orders_core::stats::OrderStats;
use orders_core::{
    AssignCommand, AssignedOrder, EscalatedOrder, FulfillCommand, FulfilledOrder,
    FulfillmentStatus, ListQuery, Order, OrderRef, OutboxState, ReturnCommand, SupportCommand,
    TabCounts, Thresholds, TimelineEntry,
};

use super::{
    new_shipment_id, ExportKey, Idempotent, Page, StoreError, Written, IDEMPOTENCY_WINDOW,
};
use orders_core::alerts::Alert;

mod alerts;

/// The sample store, cheap to clone (clones share the data).
#[derive(Clone, Default)]
pub struct MemoryStore {
    shops: Arc<Mutex<HashMap<String, ShopData>>>,
}

#[derive(Default)]
struct ShopData {
    orders: Vec<OrderRecord>,
    outbox: Outbox,
    shopify_cursor: Option<String>,
    /// Every alert of the shop, in id order, with its resolution number once it cleared.
    alerts: Vec<(Alert, Option<u64>)>,
    /// The last resolution number given.
    resolutions: u64,
    /// Answers kept for idempotency keys: key → (fingerprint, answer, when).
    idempotency: HashMap<String, ([u8; 32], serde_json::Value, DateTime<Utc>)>,
    /// The shop's time zone as Shopify names it, once known.
    time_zone: Option<String>,
}

/// The sample store's outbox: every event stays pending, as nothing delivers from sample data.
#[derive(Default)]
struct Outbox {
    /// Oldest first.
    events: Vec<QueuedEvent>,
    /// The last id given.
    last_id: i64,
}

struct QueuedEvent {
    id: i64,
    created_at: DateTime<Utc>,
    event: OutboxEvent,
}

impl Outbox {
    fn push(&mut self, event: OutboxEvent, now: DateTime<Utc>) {
        self.last_id += 1;
        self.events.push(QueuedEvent {
            id: self.last_id,
            created_at: now,
            event,
        });
    }
}

impl QueuedEvent {
    /// The event as `GET /sync/outbox` lists it: pending, never attempted.
    fn entry(&self) -> OutboxEntry {
        OutboxEntry {
            id: self.id,
            topic: self.event.topic.clone(),
            order_id: self.event.order_id.clone(),
            attempts: 0,
            state: OutboxState::Pending,
            next_attempt_at: Some(self.created_at),
            delivered_at: None,
            dead_at: None,
            last_error: None,
            created_at: self.created_at,
        }
    }
}

impl ShopData {
    /// Whether an order passes `filter`, its search included: the search's half of the rule is
    /// decided once, over every order of the shop (`orders_core::search`).
    fn passes<'a>(&'a self, filter: &'a OrderFilter) -> impl Fn(&OrderRecord) -> bool + 'a {
        let search = filter.search.as_ref().map(|s| {
            let names = self.orders.iter().map(|o| o.order_number.as_str());
            (s, s.by_names(names))
        });
        move |o| {
            filter.matches(
                o.status(),
                o.priority,
                o.assigned_to.as_deref(),
                o.created_at,
            ) && search.is_none_or(|(s, by)| {
                s.matches(
                    by,
                    &o.order_number,
                    &o.customer_name,
                    o.customer_email.as_deref(),
                )
            })
        }
    }

    /// The index of the order `r` names: by GID, or by name (the newest with that name).
    fn find(&self, r: &OrderRef) -> Option<usize> {
        match r {
            OrderRef::Id(id) => self.orders.iter().position(|o| &o.id == id),
            OrderRef::Name(name) => self
                .orders
                .iter()
                .enumerate()
                .filter(|(_, o)| &o.order_number == name)
                .max_by_key(|(_, o)| o.created_at)
                .map(|(i, _)| i),
        }
    }

    /// Resolves every reference, or names all those that match nothing. Two references to one
    /// order resolve once.
    fn resolve(&self, refs: &[OrderRef]) -> Result<Vec<usize>, StoreError> {
        super::resolve_all(refs, |r| self.find(r))
    }
}

fn record_change(
    order: &mut OrderRecord,
    entries: impl IntoIterator<Item = TimelineEntry>,
    now: DateTime<Utc>,
) {
    order.timeline.extend(entries);
    order.updated_at = now;
}

impl MemoryStore {
    /// A store holding `records` as the orders of `shop`.
    pub fn with_orders(shop: &str, records: Vec<OrderRecord>) -> Self {
        let store = MemoryStore::default();
        store.lock().insert(
            shop.to_owned(),
            ShopData {
                orders: records,
                ..Default::default()
            },
        );
        store
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, ShopData>> {
        // A panic while holding the lock cannot leave half a write behind (writes mutate only after
        // every check), so a poisoned lock is still consistent.
        self.shops.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn with_shop<T>(
        &self,
        shop: &str,
        f: impl FnOnce(&mut ShopData) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut shops = self.lock();
        match shops.get_mut(shop) {
            Some(data) => f(data),
            None => f(&mut ShopData::default()),
        }
    }

    /// A write under the one lock, with its idempotency key: a key seen with the same request within
    /// 24 hours answers what was kept, with another request it is refused; a fresh key is kept with
    /// the answer only when the write succeeds.
    fn write_once<T>(
        &self,
        shop: &str,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, T>>,
        f: impl FnOnce(&mut ShopData) -> Result<T, StoreError>,
    ) -> Result<Written<T>, StoreError> {
        self.with_shop(shop, |data| {
            if let Some(k) = key {
                data.idempotency
                    .retain(|_, (_, _, at)| now - *at < IDEMPOTENCY_WINDOW);
                if let Some((fingerprint, answer, _)) = data.idempotency.get(k.key) {
                    return if *fingerprint == k.fingerprint {
                        Ok(Written::Replayed(answer.clone()))
                    } else {
                        Err(StoreError::KeyReused(k.key.to_owned()))
                    };
                }
            }
            let done = f(data)?;
            if let Some(k) = key {
                data.idempotency
                    .insert(k.key.to_owned(), (k.fingerprint, (k.answer)(&done), now));
            }
            Ok(Written::Applied(done))
        })
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }

    pub async fn list_orders(
        &self,
        query: &ListQuery,
        window: PageWindow,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Page, StoreError> {
        self.with_shop(&query.shop_domain, |data| {
            let mut counts = TabCounts::default();
            let mut rows: Vec<&OrderRecord> = Vec::new();
            let passes = data.passes(&query.filter);
            for o in &data.orders {
                if !passes(o) {
                    continue;
                }
                let facts = o.facts();
                counts.add(&facts, now, th);
                if facts.in_tab(query.tab, now, th) {
                    rows.push(o);
                }
            }
            rows.sort_unstable_by(|a, b| {
                b.created_at
                    .cmp(&a.created_at)
                    .then_with(|| b.id.as_bytes().cmp(a.id.as_bytes()))
            });
            let start = usize::try_from(window.offset)
                .unwrap_or(usize::MAX)
                .min(rows.len());
            let end = start
                .saturating_add(usize::try_from(window.limit).unwrap_or(usize::MAX))
                .min(rows.len());
            Ok(Page {
                orders: rows[start..end]
                    .iter()
                    .map(|o| o.to_order(now, th))
                    .collect(),
                counts,
                shopify_cursor: data.shopify_cursor.clone(),
            })
        })
    }

    /// The returns funnel and orders-per-day series of the view `query` describes (all pages).
    pub async fn stats(
        &self,
        query: &ListQuery,
        now: DateTime<Utc>,
        th: &Thresholds,
        clock: &ShopClock,
    ) -> Result<OrderStats, StoreError> {
        self.with_shop(&query.shop_domain, |data| {
            let passes = data.passes(&query.filter);
            let view: Vec<&OrderRecord> = data
                .orders
                .iter()
                .filter(|o| passes(o) && o.facts().in_tab(query.tab, now, th))
                .collect();
            Ok(OrderStats::tally(
                view.iter()
                    .filter_map(|o| o.return_.as_ref().map(|r| r.state)),
                view.iter().map(|o| clock.local_day(o.created_at)),
                clock.local_day(now),
            ))
        })
    }

    /// Up to `limit` orders of the view after `after` in list order (one batch of an export).
    pub async fn orders_after(
        &self,
        query: &ListQuery,
        after: Option<&ExportKey>,
        limit: u32,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Vec<Order>, StoreError> {
        self.with_shop(&query.shop_domain, |data| {
            let before = |o: &OrderRecord| {
                after.is_none_or(|k| {
                    (o.created_at, o.id.as_bytes()) < (k.created_at, k.id.as_bytes())
                })
            };
            let passes = data.passes(&query.filter);
            let mut rows: Vec<&OrderRecord> = data
                .orders
                .iter()
                .filter(|o| before(o) && passes(o) && o.facts().in_tab(query.tab, now, th))
                .collect();
            rows.sort_unstable_by(|a, b| {
                b.created_at
                    .cmp(&a.created_at)
                    .then_with(|| b.id.as_bytes().cmp(a.id.as_bytes()))
            });
            rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            Ok(rows.iter().map(|o| o.to_order(now, th)).collect())
        })
    }

    pub async fn get_order(
        &self,
        shop: &str,
        order: &OrderRef,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Option<Order>, StoreError> {
        self.with_shop(shop, |data| {
            Ok(data.find(order).map(|i| data.orders[i].to_order(now, th)))
        })
    }

    pub async fn assign(
        &self,
        cmd: &AssignCommand,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, Vec<AssignedOrder>>>,
    ) -> Result<Written<Vec<AssignedOrder>>, StoreError> {
        self.write_once(&cmd.shop_domain, now, key, |data| {
            let found = data.resolve(&cmd.orders)?;
            let mut updated = Vec::with_capacity(found.len());
            for i in found {
                let order = &mut data.orders[i];
                if let Some(change) = change_assignment(
                    &order.id,
                    order.assigned_to.as_deref(),
                    cmd.assignee.as_deref(),
                    now,
                ) {
                    order.assigned_to = change.assigned_to;
                    record_change(order, [change.entry], now);
                    data.outbox.push(change.outbox, now);
                }
                updated.push(AssignedOrder {
                    id: order.id.clone(),
                    assigned_to: order.assigned_to.clone(),
                });
            }
            Ok(updated)
        })
    }

    pub async fn fulfill(
        &self,
        cmd: &FulfillCommand,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, Vec<FulfilledOrder>>>,
    ) -> Result<Written<Vec<FulfilledOrder>>, StoreError> {
        self.write_once(&cmd.shop_domain, now, key, |data| {
            let found = data.resolve(&cmd.orders)?;
            let mut plans = Vec::with_capacity(found.len());
            let mut cancelled = Vec::new();
            for &i in &found {
                let o = &data.orders[i];
                match plan_fulfill(
                    &o.id,
                    o.status(),
                    cmd.tracking.as_ref(),
                    &new_shipment_id(),
                    now,
                ) {
                    Ok(plan) => plans.push((i, plan)),
                    Err(c) => cancelled.push(c.0),
                }
            }
            if !cancelled.is_empty() {
                return Err(StoreError::Cancelled(cancelled));
            }
            let mut updated = Vec::with_capacity(plans.len());
            for (i, plan) in plans {
                let order = &mut data.orders[i];
                let mut tracking = None;
                if let FulfillPlan::Fulfill { shipment, entries } = plan {
                    order.fulfillment_status = FulfillmentStatus::Fulfilled;
                    if let Some(s) = shipment {
                        tracking = s.tracking.clone();
                        order.shipments.push(s);
                    }
                    record_change(order, entries, now);
                }
                updated.push(FulfilledOrder {
                    id: order.id.clone(),
                    fulfillment_status: FulfillmentStatus::Fulfilled,
                    tracking,
                });
            }
            Ok(updated)
        })
    }

    pub async fn escalate(
        &self,
        cmd: &SupportCommand,
        thread: &str,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, EscalatedOrder>>,
    ) -> Result<Written<EscalatedOrder>, StoreError> {
        self.write_once(&cmd.shop_domain, now, key, |data| {
            let i = data.resolve(std::slice::from_ref(&cmd.order))?[0];
            let order = &mut data.orders[i];
            let plan = plan_support(
                &order.id,
                thread,
                &cmd.note,
                order.assigned_to.as_deref(),
                now,
            );
            order.support.push(SupportRecord {
                thread: thread.to_owned(),
                note: cmd.note.clone(),
                open: true,
                created_at: now,
            });
            let mut entries = vec![plan.entry];
            data.outbox.push(plan.outbox, now);
            if let Some(change) = plan.assignment {
                order.assigned_to = change.assigned_to;
                entries.push(change.entry);
                data.outbox.push(change.outbox, now);
            }
            record_change(order, entries, now);
            Ok(EscalatedOrder {
                id: order.id.clone(),
                support_thread: thread.to_owned(),
            })
        })
    }

    pub async fn apply_return_action(
        &self,
        cmd: &ReturnCommand,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, ReturnPlan>>,
    ) -> Result<Written<ReturnPlan>, StoreError> {
        self.write_once(&cmd.shop_domain, now, key, |data| {
            let i = data.resolve(std::slice::from_ref(&cmd.order))?[0];
            let order = &mut data.orders[i];
            let Some(ret) = order.return_.as_mut() else {
                return Err(StoreError::NoReturn(cmd.order.to_string()));
            };
            let plan = plan_return(
                &order.id,
                &ret.id,
                ret.state,
                cmd.action,
                cmd.note.as_deref(),
                now,
            )?;
            ret.state = plan.to;
            ret.updated_at = now;
            record_change(order, [plan.entry.clone()], now);
            data.outbox.push(plan.outbox.clone(), now);
            Ok(plan)
        })
    }

    pub async fn replace_orders(
        &self,
        shop: &str,
        records: &[OrderRecord],
    ) -> Result<(), StoreError> {
        let mut shops = self.lock();
        let data = shops.entry(shop.to_owned()).or_default();
        data.orders = records.to_vec();
        data.outbox.events.clear();
        Ok(())
    }

    pub async fn outbox(&self, shop: &str) -> Result<Vec<OutboxEvent>, StoreError> {
        self.with_shop(shop, |data| {
            Ok(data.outbox.events.iter().map(|q| q.event.clone()).collect())
        })
    }

    /// The newest `limit` events of the shop in `state`, and the counts: all pending.
    pub async fn outbox_entries(
        &self,
        shop: &str,
        state: Option<OutboxState>,
        limit: usize,
    ) -> Result<OutboxList, StoreError> {
        self.with_shop(shop, |data| {
            let events = &data.outbox.events;
            let counts = OutboxCounts {
                pending: events.len() as u64,
                ..OutboxCounts::default()
            };
            let listed = match state {
                None | Some(OutboxState::Pending) => events
                    .iter()
                    .rev()
                    .take(limit)
                    .map(QueuedEvent::entry)
                    .collect(),
                Some(_) => Vec::new(),
            };
            Ok(OutboxList {
                events: listed,
                counts,
            })
        })
    }

    pub async fn timeline(
        &self,
        shop: &str,
        order_id: &str,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        self.with_shop(shop, |data| {
            Ok(data
                .orders
                .iter()
                .find(|o| o.id == order_id)
                .map(|o| o.timeline.clone())
                .unwrap_or_default())
        })
    }

    /// The shop's time zone, if it is known.
    pub async fn shop_time_zone(&self, shop: &str) -> Result<Option<String>, StoreError> {
        self.with_shop(shop, |data| Ok(data.time_zone.clone()))
    }

    /// Keeps the shop's time zone (a known shop's; an unknown shop is left alone).
    pub async fn set_shop_time_zone(&self, shop: &str, zone: &str) -> Result<(), StoreError> {
        self.with_shop(shop, |data| {
            data.time_zone = Some(zone.to_owned());
            Ok(())
        })
    }

    pub async fn shops(&self) -> Result<Vec<String>, StoreError> {
        let mut shops: Vec<String> = self.lock().keys().cloned().collect();
        shops.sort();
        Ok(shops)
    }
}
