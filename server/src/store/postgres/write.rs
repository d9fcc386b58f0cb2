//! The write paths of the PostgreSQL store: resolving and locking the orders a write names,
//! recomputing their derived columns, persisting what changes, and assign, fulfill, escalate and
//! the return actions.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use orders_core::effects::{
    change_assignment, plan_fulfill, plan_return, plan_support, AssignmentChange, FulfillPlan,
    OutboxEvent, ReturnPlan,
};
use orders_core::{
    AssignCommand, AssignedOrder, EscalatedOrder, FulfillCommand, FulfilledOrder,
    FulfillmentStatus, OrderRef, OrderStatus, ReturnCommand, ReturnState, Shipment, SupportCommand,
    TimelineEntry, TransitionError,
};
use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Postgres, Transaction};

use super::{classify, find_shop, trust, word, PgStore};
use crate::store::{new_shipment_id, resolve_all, Idempotent, StoreError, Written};

/// Resolves every reference to a GID of the shop, in request order, each order once; or names every
/// reference (as written) that matches nothing. A name matches the newest order bearing it.
async fn resolve(
    conn: &mut PgConnection,
    shop_id: Option<i64>,
    refs: &[OrderRef],
) -> Result<Vec<String>, StoreError> {
    let mut ids = Vec::new();
    let mut names = Vec::new();
    for r in refs {
        match r {
            OrderRef::Id(id) => ids.push(id.clone()),
            OrderRef::Name(name) => names.push(name.clone()),
        }
    }
    let mut known_ids: HashSet<String> = HashSet::new();
    let mut by_name: HashMap<String, String> = HashMap::new();
    if let Some(shop_id) = shop_id {
        if !ids.is_empty() {
            known_ids = sqlx::query_scalar::<_, String>(
                "SELECT id FROM orders WHERE shop_id = $1 AND id = ANY($2)",
            )
            .bind(shop_id)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await
            .map_err(classify)?
            .into_iter()
            .collect();
        }
        if !names.is_empty() {
            by_name = sqlx::query_as::<_, (String, String)>(
                "SELECT DISTINCT ON (order_number) order_number, id FROM orders \
                 WHERE shop_id = $1 AND order_number = ANY($2) \
                 ORDER BY order_number, created_at DESC, id DESC",
            )
            .bind(shop_id)
            .bind(&names)
            .fetch_all(&mut *conn)
            .await
            .map_err(classify)?
            .into_iter()
            .collect();
        }
    }
    resolve_all(refs, |r| match r {
        OrderRef::Id(id) => known_ids.contains(id).then(|| id.clone()),
        OrderRef::Name(name) => by_name.get(name).cloned(),
    })
}

/// Locks the orders (in id order, so concurrent writes cannot deadlock) and answers their statuses
/// as they are once the lock is held. An order deleted meanwhile is reported as not found.
async fn lock_orders(
    conn: &mut PgConnection,
    shop_id: i64,
    gids: &[String],
) -> Result<HashMap<String, OrderStatus>, StoreError> {
    let rows = sqlx::query_as::<_, (String, String)>(
        "SELECT id, status FROM orders WHERE shop_id = $1 AND id = ANY($2) ORDER BY id FOR UPDATE",
    )
    .bind(shop_id)
    .bind(gids)
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?;
    let mut locked = HashMap::with_capacity(rows.len());
    for (id, status) in rows {
        let status = word("orders.status", &status)?;
        locked.insert(id, status);
    }
    let gone: Vec<String> = gids
        .iter()
        .filter(|g| !locked.contains_key(*g))
        .cloned()
        .collect();
    if gone.is_empty() {
        Ok(locked)
    } else {
        Err(StoreError::OrdersNotFound(gone))
    }
}

/// The owners of locked orders (read after the lock, so they are current).
async fn owners(
    conn: &mut PgConnection,
    shop_id: i64,
    gids: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    Ok(sqlx::query_as::<_, (String, String)>(
        "SELECT order_id, assignee FROM order_assignments WHERE shop_id = $1 AND order_id = ANY($2)",
    )
    .bind(shop_id)
    .bind(gids)
    .fetch_all(conn)
    .await
    .map_err(classify)?
    .into_iter()
    .collect())
}

/// Starts a write for a shop: the transaction and the shop's id (`None` for an unknown shop, which
/// has no orders).
async fn begin_write(
    pool: &PgPool,
    domain: &str,
) -> Result<(Transaction<'static, Postgres>, Option<i64>), StoreError> {
    let mut tx = super::begin(pool, None).await?;
    let shop = find_shop(&mut tx, domain).await?.map(|s| s.id);
    Ok((tx, shop))
}

/// Resolves and locks the orders a write names; answers the shop id, the GIDs in request order and
/// their current statuses.
async fn resolve_and_lock(
    conn: &mut PgConnection,
    shop_id: Option<i64>,
    refs: &[OrderRef],
) -> Result<(i64, Vec<String>, HashMap<String, OrderStatus>), StoreError> {
    let gids = resolve(conn, shop_id, refs).await?;
    let Some(shop_id) = shop_id else {
        // `resolve` finds nothing in an unknown shop, so it has already failed; this is for the types.
        return Err(StoreError::OrdersNotFound(
            refs.iter().map(ToString::to_string).collect(),
        ));
    };
    let statuses = lock_orders(conn, shop_id, &gids).await?;
    Ok((shop_id, gids, statuses))
}

/// [`resolve_and_lock`] for a write that names one order: the shop id and the order's GID.
async fn resolve_and_lock_one(
    conn: &mut PgConnection,
    shop_id: Option<i64>,
    order: &OrderRef,
) -> Result<(i64, String), StoreError> {
    let (shop_id, gids, _) = resolve_and_lock(conn, shop_id, std::slice::from_ref(order)).await?;
    let gid = gids
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::OrdersNotFound(vec![order.to_string()]))?;
    Ok((shop_id, gid))
}

/// Recomputes the denormalised columns of orders from their shipments, returns, escalations and
/// assignment.
macro_rules! refresh_derived_sql {
    ($set:literal, $where:literal) => {
        concat!(
            "UPDATE orders o SET ",
            $set,
            "\
             has_tracking = EXISTS (SELECT 1 FROM shipments s \
                 WHERE s.shop_id = o.shop_id AND s.order_id = o.id AND s.tracking_number IS NOT NULL), \
             in_transit_since = (SELECT min(s.last_update_at) FROM shipments s \
                 WHERE s.shop_id = o.shop_id AND s.order_id = o.id AND s.status = 'in_transit'), \
             has_open_return = COALESCE((SELECT r.state NOT IN ('completed', 'denied', 'cancelled') FROM returns r \
                 WHERE r.shop_id = o.shop_id AND r.order_id = o.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1), false), \
             return_state = (SELECT r.state FROM returns r \
                 WHERE r.shop_id = o.shop_id AND r.order_id = o.id ORDER BY r.created_at DESC, r.id DESC LIMIT 1), \
             support_thread = (SELECT e.thread FROM support_escalations e \
                 WHERE e.shop_id = o.shop_id AND e.order_id = o.id AND e.open ORDER BY e.id DESC LIMIT 1), \
             assignee = (SELECT a.assignee FROM order_assignments a \
                 WHERE a.shop_id = o.shop_id AND a.order_id = o.id) \
             WHERE ",
            $where
        )
    };
}

/// Recomputes the derived columns of some orders of a shop.
pub(super) async fn refresh_derived(
    conn: &mut PgConnection,
    shop_id: i64,
    gids: &[String],
) -> Result<(), StoreError> {
    sqlx::query(refresh_derived_sql!(
        "",
        "o.shop_id = $1 AND o.id = ANY($2)"
    ))
    .bind(shop_id)
    .bind(gids)
    .execute(conn)
    .await
    .map_err(classify)?;
    Ok(())
}

/// [`refresh_derived`], also making `updated_at` `now`: one new version of each row, not two.
async fn touch_and_refresh(
    conn: &mut PgConnection,
    shop_id: i64,
    gids: &[String],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(refresh_derived_sql!(
        "updated_at = $3, ",
        "o.shop_id = $1 AND o.id = ANY($2)"
    ))
    .bind(shop_id)
    .bind(gids)
    .bind(now)
    .execute(conn)
    .await
    .map_err(classify)?;
    Ok(())
}

/// What a write changes, gathered while planning and persisted in a few statements at the end.
#[derive(Default)]
struct Changes {
    /// New owners: (order, assignee).
    assign: Vec<(String, String)>,
    /// Orders that lose their owner.
    unassign: Vec<String>,
    /// Orders marked fulfilled.
    fulfilled: Vec<String>,
    /// New shipments: (order, shipment).
    shipments: Vec<(String, Shipment)>,
    /// New open escalations: (order, thread, note).
    escalations: Vec<(String, String, String)>,
    /// Timeline entries, in order of arrival.
    entries: Vec<(String, TimelineEntry)>,
    outbox: Vec<OutboxEvent>,
    /// Orders whose `updated_at` becomes now (and whose derived columns are recomputed).
    touched: Vec<String>,
}

impl Changes {
    fn touch(&mut self, gid: &str) {
        if !self.touched.iter().any(|t| t == gid) {
            self.touched.push(gid.to_owned());
        }
    }

    fn assignment(&mut self, gid: &str, change: AssignmentChange) {
        match change.assigned_to {
            Some(to) => {
                self.unassign.retain(|u| u != gid);
                self.assign.retain(|(o, _)| o != gid);
                self.assign.push((gid.to_owned(), to));
            }
            None => {
                self.assign.retain(|(o, _)| o != gid);
                self.unassign.push(gid.to_owned());
            }
        }
        self.entries.push((gid.to_owned(), change.entry));
        self.outbox.push(change.outbox);
        self.touch(gid);
    }

    /// Writes everything, in bulk, within the caller's transaction.
    async fn persist(
        self,
        conn: &mut PgConnection,
        shop_id: i64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if !self.unassign.is_empty() {
            sqlx::query("DELETE FROM order_assignments WHERE shop_id = $1 AND order_id = ANY($2)")
                .bind(shop_id)
                .bind(&self.unassign)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
        }
        if !self.assign.is_empty() {
            let (orders, assignees): (Vec<String>, Vec<String>) = self.assign.into_iter().unzip();
            sqlx::query(
                "INSERT INTO order_assignments (shop_id, order_id, assignee, assigned_at) \
                 SELECT $1, u.order_id, u.assignee, $4 FROM UNNEST($2::text[], $3::text[]) AS u(order_id, assignee) \
                 ON CONFLICT (shop_id, order_id) DO UPDATE \
                 SET assignee = EXCLUDED.assignee, assigned_at = EXCLUDED.assigned_at",
            )
            .bind(shop_id)
            .bind(orders)
            .bind(assignees)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        }
        if !self.fulfilled.is_empty() {
            sqlx::query("UPDATE orders SET fulfillment_status = 'fulfilled' WHERE shop_id = $1 AND id = ANY($2)")
                .bind(shop_id)
                .bind(&self.fulfilled)
                .execute(&mut *conn)
                .await
                .map_err(classify)?;
        }
        if !self.shipments.is_empty() {
            insert_shipments(conn, shop_id, &self.shipments, Some(now)).await?;
        }
        if !self.escalations.is_empty() {
            let mut orders = Vec::new();
            let mut threads = Vec::new();
            let mut notes = Vec::new();
            for (o, t, n) in self.escalations {
                orders.push(o);
                threads.push(t);
                notes.push(n);
            }
            sqlx::query(
                "INSERT INTO support_escalations (shop_id, order_id, thread, note, open, created_at) \
                 SELECT $1, u.order_id, u.thread, u.note, true, $5 \
                 FROM UNNEST($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS u(order_id, thread, note, n) \
                 ORDER BY u.n",
            )
            .bind(shop_id)
            .bind(orders)
            .bind(threads)
            .bind(notes)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        }
        if !self.entries.is_empty() {
            insert_timeline(conn, shop_id, &self.entries).await?;
        }
        if !self.outbox.is_empty() {
            let mut topics = Vec::with_capacity(self.outbox.len());
            let mut orders = Vec::with_capacity(self.outbox.len());
            let mut payloads = Vec::with_capacity(self.outbox.len());
            for e in self.outbox {
                topics.push(e.topic);
                orders.push(e.order_id);
                payloads.push(e.payload);
            }
            sqlx::query(
                "INSERT INTO outbox (shop_id, topic, order_id, payload, created_at, next_attempt_at) \
                 SELECT $1, u.topic, u.order_id, u.payload, $5, $5 \
                 FROM UNNEST($2::text[], $3::text[], $4::jsonb[]) WITH ORDINALITY AS u(topic, order_id, payload, n) \
                 ORDER BY u.n",
            )
            .bind(shop_id)
            .bind(topics)
            .bind(orders)
            .bind(payloads)
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        }
        if !self.touched.is_empty() {
            touch_and_refresh(conn, shop_id, &self.touched, now).await?;
        }
        Ok(())
    }
}

/// Shipments as the columns an `UNNEST` statement binds, in the order given.
pub(super) struct ShipmentColumns<'a> {
    pub ids: Vec<&'a str>,
    pub statuses: Vec<&'a str>,
    pub numbers: Vec<Option<&'a str>>,
    pub carriers: Vec<Option<&'a str>>,
    pub updates: Vec<DateTime<Utc>>,
}

impl<'a> ShipmentColumns<'a> {
    pub(super) fn of(shipments: impl ExactSizeIterator<Item = &'a Shipment>) -> Self {
        let n = shipments.len();
        let mut columns = ShipmentColumns {
            ids: Vec::with_capacity(n),
            statuses: Vec::with_capacity(n),
            numbers: Vec::with_capacity(n),
            carriers: Vec::with_capacity(n),
            updates: Vec::with_capacity(n),
        };
        for s in shipments {
            columns.ids.push(s.id.as_str());
            columns.statuses.push(s.status.as_str());
            columns
                .numbers
                .push(s.tracking.as_ref().map(|t| t.number.as_str()));
            columns
                .carriers
                .push(s.tracking.as_ref().map(|t| t.carrier.as_str()));
            columns.updates.push(s.last_update_at);
        }
        columns
    }
}

/// Inserts shipments in the given order (their `seq` keeps it). `recorded_at` is when Sync learnt of
/// them; `None` leaves the database's clock.
async fn insert_shipments(
    conn: &mut PgConnection,
    shop_id: i64,
    shipments: &[(String, Shipment)],
    recorded_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let orders: Vec<&str> = shipments.iter().map(|(order, _)| order.as_str()).collect();
    let columns = ShipmentColumns::of(shipments.iter().map(|(_, s)| s));
    sqlx::query(
        "INSERT INTO shipments (shop_id, order_id, id, status, tracking_number, tracking_carrier, last_update_at, created_at) \
         SELECT $1, u.order_id, u.id, u.status, u.number, u.carrier, u.last_update_at, COALESCE($8, now()) \
         FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) \
              WITH ORDINALITY AS u(order_id, id, status, number, carrier, last_update_at, n) \
         ORDER BY u.n",
    )
    .bind(shop_id)
    .bind(orders)
    .bind(columns.ids)
    .bind(columns.statuses)
    .bind(columns.numbers)
    .bind(columns.carriers)
    .bind(columns.updates)
    .bind(recorded_at)
    .execute(conn)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Appends timeline entries in the given order (their `seq` keeps it).
pub(super) async fn insert_timeline(
    conn: &mut PgConnection,
    shop_id: i64,
    entries: &[(String, TimelineEntry)],
) -> Result<(), StoreError> {
    let n = entries.len();
    let (mut orders, mut ts, mut events, mut details) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (order, e) in entries {
        orders.push(order.as_str());
        ts.push(e.ts);
        events.push(e.event.as_str());
        details.push(e.details.as_str());
    }
    sqlx::query(
        "INSERT INTO timeline_entries (shop_id, order_id, ts, event, details) \
         SELECT $1, u.order_id, u.ts, u.event, u.details \
         FROM UNNEST($2::text[], $3::timestamptz[], $4::text[], $5::text[]) \
              WITH ORDINALITY AS u(order_id, ts, event, details, n) \
         ORDER BY u.n",
    )
    .bind(shop_id)
    .bind(orders)
    .bind(ts)
    .bind(events)
    .bind(details)
    .execute(conn)
    .await
    .map_err(classify)?;
    Ok(())
}

impl PgStore {
    #[tracing::instrument(name = "pg.assign", skip_all, fields(shop = %cmd.shop_domain, orders = cmd.orders.len()))]
    pub async fn assign(
        &self,
        cmd: &AssignCommand,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, Vec<AssignedOrder>>>,
    ) -> Result<Written<Vec<AssignedOrder>>, StoreError> {
        let (mut tx, shop_id) = begin_write(&self.pool, &cmd.shop_domain).await?;
        if let Some(kept) = trust::claim_key(&mut tx, shop_id, key, now).await? {
            return Ok(Written::Replayed(kept));
        }
        let (shop_id, gids, _) = resolve_and_lock(&mut tx, shop_id, &cmd.orders).await?;
        let owners = owners(&mut tx, shop_id, &gids).await?;
        let mut changes = Changes::default();
        let mut updated = Vec::with_capacity(gids.len());
        for gid in gids {
            let previous = owners.get(&gid).map(String::as_str);
            let assigned_to = match change_assignment(&gid, previous, cmd.assignee.as_deref(), now)
            {
                Some(change) => {
                    let to = change.assigned_to.clone();
                    changes.assignment(&gid, change);
                    to
                }
                None => previous.map(str::to_owned),
            };
            updated.push(AssignedOrder {
                id: gid,
                assigned_to,
            });
        }
        changes.persist(&mut tx, shop_id, now).await?;
        trust::keep_answer(&mut tx, shop_id, key, &updated).await?;
        tx.commit().await.map_err(classify)?;
        Ok(Written::Applied(updated))
    }

    #[tracing::instrument(name = "pg.fulfill", skip_all, fields(shop = %cmd.shop_domain, orders = cmd.orders.len()))]
    pub async fn fulfill(
        &self,
        cmd: &FulfillCommand,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, Vec<FulfilledOrder>>>,
    ) -> Result<Written<Vec<FulfilledOrder>>, StoreError> {
        let (mut tx, shop_id) = begin_write(&self.pool, &cmd.shop_domain).await?;
        if let Some(kept) = trust::claim_key(&mut tx, shop_id, key, now).await? {
            return Ok(Written::Replayed(kept));
        }
        let (shop_id, gids, statuses) = resolve_and_lock(&mut tx, shop_id, &cmd.orders).await?;
        let mut plans = Vec::with_capacity(gids.len());
        let mut cancelled = Vec::new();
        for gid in gids {
            let status = statuses[&gid];
            match plan_fulfill(&gid, status, cmd.tracking.as_ref(), &new_shipment_id(), now) {
                Ok(plan) => plans.push((gid, plan)),
                Err(c) => cancelled.push(c.0),
            }
        }
        if !cancelled.is_empty() {
            return Err(StoreError::Cancelled(cancelled));
        }
        let mut changes = Changes::default();
        let mut updated = Vec::with_capacity(plans.len());
        for (gid, plan) in plans {
            let mut tracking = None;
            if let FulfillPlan::Fulfill { shipment, entries } = plan {
                changes.fulfilled.push(gid.clone());
                if let Some(s) = shipment {
                    tracking = s.tracking.clone();
                    changes.shipments.push((gid.clone(), s));
                }
                changes
                    .entries
                    .extend(entries.into_iter().map(|e| (gid.clone(), e)));
                changes.touch(&gid);
            }
            updated.push(FulfilledOrder {
                id: gid,
                fulfillment_status: FulfillmentStatus::Fulfilled,
                tracking,
            });
        }
        changes.persist(&mut tx, shop_id, now).await?;
        trust::keep_answer(&mut tx, shop_id, key, &updated).await?;
        tx.commit().await.map_err(classify)?;
        Ok(Written::Applied(updated))
    }

    #[tracing::instrument(name = "pg.escalate", skip_all, fields(shop = %cmd.shop_domain, order = %cmd.order, thread = %thread))]
    pub async fn escalate(
        &self,
        cmd: &SupportCommand,
        thread: &str,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, EscalatedOrder>>,
    ) -> Result<Written<EscalatedOrder>, StoreError> {
        let (mut tx, shop_id) = begin_write(&self.pool, &cmd.shop_domain).await?;
        if let Some(kept) = trust::claim_key(&mut tx, shop_id, key, now).await? {
            return Ok(Written::Replayed(kept));
        }
        let (shop_id, gid) = resolve_and_lock_one(&mut tx, shop_id, &cmd.order).await?;
        let owners = owners(&mut tx, shop_id, std::slice::from_ref(&gid)).await?;
        let plan = plan_support(
            &gid,
            thread,
            &cmd.note,
            owners.get(&gid).map(String::as_str),
            now,
        );
        let mut changes = Changes::default();
        changes
            .escalations
            .push((gid.clone(), thread.to_owned(), cmd.note.clone()));
        changes.entries.push((gid.clone(), plan.entry));
        changes.outbox.push(plan.outbox);
        if let Some(change) = plan.assignment {
            changes.assignment(&gid, change);
        }
        changes.touch(&gid);
        changes.persist(&mut tx, shop_id, now).await?;
        let escalated = EscalatedOrder {
            id: gid,
            support_thread: thread.to_owned(),
        };
        trust::keep_answer(&mut tx, shop_id, key, &escalated).await?;
        tx.commit().await.map_err(classify)?;
        Ok(Written::Applied(escalated))
    }

    #[tracing::instrument(name = "pg.apply_return_action", skip_all, fields(shop = %cmd.shop_domain, order = %cmd.order, action = %cmd.action))]
    pub async fn apply_return_action(
        &self,
        cmd: &ReturnCommand,
        now: DateTime<Utc>,
        key: Option<&Idempotent<'_, ReturnPlan>>,
    ) -> Result<Written<ReturnPlan>, StoreError> {
        let (mut tx, shop_id) = begin_write(&self.pool, &cmd.shop_domain).await?;
        if let Some(kept) = trust::claim_key(&mut tx, shop_id, key, now).await? {
            return Ok(Written::Replayed(kept));
        }
        let (shop_id, gid) = resolve_and_lock_one(&mut tx, shop_id, &cmd.order).await?;
        let newest = sqlx::query_as::<_, (String, String)>(
            "SELECT id, state FROM returns WHERE shop_id = $1 AND order_id = $2 \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(shop_id)
        .bind(&gid)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        let Some((return_id, state)) = newest else {
            return Err(StoreError::NoReturn(cmd.order.to_string()));
        };
        let state: ReturnState = word("returns.state", &state)?;
        let plan = plan_return(
            &gid,
            &return_id,
            state,
            cmd.action,
            cmd.note.as_deref(),
            now,
        )?;
        // The order's lock already serialises actions; the guard keeps the rule true for any writer
        // that changes a return without it.
        let moved = sqlx::query(
            "UPDATE returns SET state = $4, updated_at = $5 WHERE shop_id = $1 AND id = $2 AND state = $3",
        )
        .bind(shop_id)
        .bind(&return_id)
        .bind(plan.from.as_str())
        .bind(plan.to.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        if moved.rows_affected() != 1 {
            let current: String =
                sqlx::query_scalar("SELECT state FROM returns WHERE shop_id = $1 AND id = $2")
                    .bind(shop_id)
                    .bind(&return_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(classify)?;
            return Err(StoreError::Transition(TransitionError::NotAllowed {
                state: word("returns.state", &current)?,
                action: cmd.action,
            }));
        }
        let mut changes = Changes::default();
        changes.entries.push((gid.clone(), plan.entry.clone()));
        changes.outbox.push(plan.outbox.clone());
        changes.touch(&gid);
        changes.persist(&mut tx, shop_id, now).await?;
        trust::keep_answer(&mut tx, shop_id, key, &plan).await?;
        tx.commit().await.map_err(classify)?;
        Ok(Written::Applied(plan))
    }
}
