//! The PostgreSQL store: the system of record (schema in `migrations/`).
//!
//! Policy:
//! - SQL is runtime-checked (`query`/`query_as` with typed rows, `QueryBuilder` for the list's
//!   dynamic filters); values are always bound, never formatted into SQL. The seed
//!   ([`PgStore::replace_orders`]) sends its rows as `COPY` data instead, escaped by `copy`.
//! - A read runs in one read-only `REPEATABLE READ` transaction, so the counts, the rows and their
//!   shipments, returns and timelines are one snapshot. A page costs a fixed number of queries,
//!   whatever its size: shop, counts, rows, then shipments, returns and timelines of the page's ids.
//! - A write is one transaction: resolve every reference, lock the orders (`FOR UPDATE`, in id order,
//!   so two requests never deadlock), read their state *after* the lock, ask
//!   [`orders_core::effects`] what changes, and persist exactly that. Two actions on one return are
//!   serialised by the order's lock, and the return's `UPDATE … WHERE state = $from` guards it again.
//! - The tab rules of [`orders_core::tabs::OrderFacts::in_tab`] are stated in SQL over the order's
//!   denormalised columns, which every write recomputes in its transaction (`refresh_derived`).
//!   `now` and the thresholds are bound as cut-off instants rounded to the microseconds PostgreSQL
//!   keeps, so that SQL and the core agree to the last microsecond.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use orders_core::effects::{
    change_assignment, plan_fulfill, plan_return, plan_support, AssignmentChange, FulfillPlan,
    OutboxEvent, ReturnPlan,
};
use orders_core::query::{AssigneeFilter, OrderFilter, PageWindow};
use orders_core::record::{to_micros, OrderRecord};
use orders_core::stats::{sparkline_start, OrderStats};
use orders_core::tabs::OrderFacts;
use orders_core::{
    AssignCommand, AssignedOrder, Customer, EscalatedOrder, FulfillCommand, FulfilledOrder,
    FulfillmentStatus, ListQuery, Order, OrderRef, OrderStatus, ReturnCommand, ReturnState,
    ReturnSummary, Shipment, SupportCommand, Tab, TabCounts, Thresholds, TimelineEntry, Tracking,
    TransitionError, UnknownValue, TIMELINE_LIMIT,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, QueryBuilder, Transaction};

use self::copy::{copy_rows, CopyText};
use super::{new_shipment_id, ExportKey, Idempotent, Page, StoreError, Written};

pub mod alerts;
mod copy;
mod counts;
pub mod install;
pub mod lifecycle;
pub mod outbox;
pub mod privacy;
pub mod shopify;
pub mod trust;

/// Connections the pool opens at most, unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// How long a query waits for a connection before the database counts as unavailable.
pub const ACQUIRE_TIMEOUT: StdDuration = StdDuration::from_secs(3);
/// Orders [`PgStore::replace_orders`] writes per round of `COPY`s (one per table), and so how
/// often it reports progress.
pub const SEED_CHUNK: usize = 10_000;

/// The PostgreSQL store, cheap to clone (clones share the pool).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// Seals and opens the shops' stored secrets (`crate::secrets`).
    secrets: crate::secrets::Secrets,
}

/// Sorts a database error into "try again later" or "a bug".
///
/// Connection-level failures (IO, TLS, pool exhaustion or shutdown, SQLSTATE class 08, an
/// administrator or crash shutdown 57P01–57P03, too many connections 53300) are
/// [`StoreError::Unavailable`] (503); everything else is [`StoreError::Internal`].
pub(crate) fn classify(e: sqlx::Error) -> StoreError {
    let unavailable = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(e)
    } else {
        StoreError::Internal(anyhow::Error::new(e))
    }
}

/// A word the database holds that the core does not know: the schema's CHECKs make this a bug.
fn word<T: FromStr<Err = UnknownValue>>(
    column: &'static str,
    value: &str,
) -> Result<T, StoreError> {
    value
        .parse()
        .map_err(|e: UnknownValue| StoreError::Internal(anyhow::anyhow!("{column}: {e}")))
}

/// A value for a `LIMIT`/`OFFSET`, saturating.
fn clamp_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The first whole microsecond at or after `t`. For a microsecond-valued column `x`:
/// `x < t` ⇔ `x < ceil(t)` and `x >= t` ⇔ `x >= ceil(t)`.
fn ceil_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = to_micros(t);
    if floor == t {
        t
    } else {
        floor + Duration::microseconds(1)
    }
}

/// The instants the time-based tab rules compare with, as SQL must see them.
struct Cutoffs {
    /// Orders created before this are `tracking_pending` when untracked.
    tracking_pending: DateTime<Utc>,
    /// In-transit shipments silent since before this are `delayed`.
    delayed: DateTime<Utc>,
}

impl Cutoffs {
    fn new(now: DateTime<Utc>, th: &Thresholds) -> Self {
        Cutoffs {
            tracking_pending: ceil_micros(now - th.tracking_pending_after),
            delayed: ceil_micros(now - th.delayed_after),
        }
    }
}

/// The columns of an order row (`o` is the order, `a` its assignment).
const ORDER_COLUMNS: &str = "o.id, o.order_number, o.customer_name, o.customer_email, o.total_price::text AS total_price, \
     o.currency, o.status, o.fulfillment_status, o.financial_status, o.priority, o.tags, o.created_at, o.updated_at, \
     o.has_tracking, o.in_transit_since, o.has_open_return, o.support_thread, o.assignee";

/// An order (its `assignee` mirrors its row of order_assignments).
const ORDER_FROM: &str = "orders o";

#[derive(sqlx::FromRow)]
struct OrderRow {
    id: String,
    order_number: String,
    customer_name: String,
    customer_email: Option<String>,
    total_price: String,
    currency: String,
    status: String,
    fulfillment_status: String,
    financial_status: String,
    priority: String,
    tags: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    has_tracking: bool,
    in_transit_since: Option<DateTime<Utc>>,
    has_open_return: bool,
    support_thread: Option<String>,
    assignee: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ShopRow {
    id: i64,
    shopify_cursor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ShipmentRow {
    order_id: String,
    id: String,
    status: String,
    tracking_number: Option<String>,
    tracking_carrier: Option<String>,
    last_update_at: DateTime<Utc>,
}

impl ShipmentRow {
    /// The order the row belongs to, and the shipment as the API serves it.
    fn into_shipment(self) -> Result<(String, Shipment), StoreError> {
        let tracking = match (self.tracking_number, self.tracking_carrier) {
            (Some(number), Some(carrier)) => Some(Tracking { number, carrier }),
            _ => None,
        };
        let shipment = Shipment {
            id: self.id,
            status: word("shipments.status", &self.status)?,
            tracking,
            last_update_at: self.last_update_at,
        };
        Ok((self.order_id, shipment))
    }
}

#[derive(sqlx::FromRow)]
struct ReturnRow {
    order_id: String,
    id: String,
    state: String,
    updated_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TimelineRow {
    order_id: String,
    ts: DateTime<Utc>,
    event: String,
    details: String,
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    topic: String,
    order_id: String,
    payload: serde_json::Value,
}

/// Pushes ` AND {column} = ANY(words)` for the status and priority filters (none when the filter
/// names nothing): the orders' columns (`o.status`) and the tallies' (`status`) alike.
fn push_statuses_and_priorities(
    qb: &mut QueryBuilder<'_, Postgres>,
    prefix: &str,
    f: &OrderFilter,
) {
    if !f.statuses.is_empty() {
        let words: Vec<String> = f.statuses.iter().map(|s| s.as_str().to_owned()).collect();
        qb.push(format_args!(" AND {prefix}status = ANY("))
            .push_bind(words)
            .push(")");
    }
    if !f.priorities.is_empty() {
        let words: Vec<String> = f.priorities.iter().map(|p| p.as_str().to_owned()).collect();
        qb.push(format_args!(" AND {prefix}priority = ANY("))
            .push_bind(words)
            .push(")");
    }
}

/// Pushes the non-tab filters, each as ` AND …`.
fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, f: &OrderFilter) {
    push_statuses_and_priorities(qb, "o.", f);
    match &f.assigned_to {
        None => {}
        Some(AssigneeFilter::Unassigned) => {
            qb.push(" AND o.assignee IS NULL");
        }
        Some(AssigneeFilter::Person(p)) => {
            qb.push(" AND o.assignee = ").push_bind(p.clone());
        }
    }
    if let Some(from) = f.created_from {
        qb.push(" AND o.created_at >= ")
            .push_bind(ceil_micros(from));
    }
    if let Some(until) = f.created_until {
        qb.push(" AND o.created_at <= ").push_bind(to_micros(until));
    }
}

/// Pushes the rule of `tab` (SPEC §4, `OrderFacts::in_tab`) as one parenthesised predicate. The
/// literals match the partial indexes of the migration.
fn push_tab(qb: &mut QueryBuilder<'_, Postgres>, tab: Tab, cut: &Cutoffs) {
    match tab {
        Tab::All => {
            qb.push("(TRUE)");
        }
        Tab::Unfulfilled => {
            qb.push("(o.status IN ('unfulfilled', 'partially_fulfilled'))");
        }
        Tab::TrackingPending => {
            qb.push("(o.status <> 'cancelled' AND NOT o.has_tracking AND o.created_at < ")
                .push_bind(cut.tracking_pending)
                .push(")");
        }
        Tab::Delayed => {
            qb.push("(o.in_transit_since < ")
                .push_bind(cut.delayed)
                .push(")");
        }
        Tab::Returns => {
            qb.push("(o.has_open_return)");
        }
        Tab::Support => {
            qb.push("(o.support_thread IS NOT NULL)");
        }
    }
}

/// The id and Shopify cursor of a shop, if it is known.
async fn find_shop(conn: &mut PgConnection, domain: &str) -> Result<Option<ShopRow>, StoreError> {
    sqlx::query_as::<_, ShopRow>("SELECT id, shopify_cursor FROM shops WHERE domain = $1")
        .bind(domain)
        .fetch_optional(conn)
        .await
        .map_err(classify)
}

/// A read-only snapshot of the database.
async fn begin_read(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
    // One round trip: the snapshot's mode comes with its BEGIN.
    pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        .await
        .map_err(classify)
}

/// Turns order rows into wire orders: loads the shipments, newest returns and last timeline entries
/// of all of them at once, and evaluates their alerts at `now`. Keeps the rows' order.
async fn hydrate(
    conn: &mut PgConnection,
    shop_id: i64,
    rows: Vec<OrderRow>,
    now: DateTime<Utc>,
    th: &Thresholds,
) -> Result<Vec<Order>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();

    let shipment_rows = sqlx::query_as::<_, ShipmentRow>(
        "SELECT order_id, id, status, tracking_number, tracking_carrier, last_update_at \
         FROM shipments WHERE shop_id = $1 AND order_id = ANY($2) ORDER BY order_id, seq",
    )
    .bind(shop_id)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?;
    let mut shipments: HashMap<String, Vec<Shipment>> = HashMap::new();
    for row in shipment_rows {
        let (order_id, shipment) = row.into_shipment()?;
        shipments.entry(order_id).or_default().push(shipment);
    }

    let return_rows = sqlx::query_as::<_, ReturnRow>(
        "SELECT DISTINCT ON (order_id) order_id, id, state, updated_at \
         FROM returns WHERE shop_id = $1 AND order_id = ANY($2) \
         ORDER BY order_id, created_at DESC, id DESC",
    )
    .bind(shop_id)
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?;
    let mut returns: HashMap<String, ReturnSummary> = HashMap::new();
    for r in return_rows {
        let summary = ReturnSummary {
            id: r.id,
            state: word("returns.state", &r.state)?,
            updated_at: r.updated_at,
        };
        returns.insert(r.order_id, summary);
    }

    // The last entries of each order through its index, newest first (ties: the later arrival first).
    let timeline_rows = sqlx::query_as::<_, TimelineRow>(
        "SELECT ids.order_id, t.ts, t.event, t.details \
         FROM UNNEST($2::text[]) AS ids(order_id) \
         CROSS JOIN LATERAL ( \
             SELECT e.seq, e.ts, e.event, e.details FROM timeline_entries e \
             WHERE e.shop_id = $1 AND e.order_id = ids.order_id \
             ORDER BY e.ts DESC, e.seq DESC LIMIT $3 \
         ) t \
         ORDER BY ids.order_id, t.ts DESC, t.seq DESC",
    )
    .bind(shop_id)
    .bind(&ids)
    .bind(clamp_i64(TIMELINE_LIMIT as u64))
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?;
    let mut timelines: HashMap<String, Vec<TimelineEntry>> = HashMap::new();
    for t in timeline_rows {
        timelines
            .entry(t.order_id)
            .or_default()
            .push(TimelineEntry {
                ts: t.ts,
                event: t.event,
                details: t.details,
            });
    }

    rows.into_iter()
        .map(|row| {
            let status: OrderStatus = word("orders.status", &row.status)?;
            let facts = OrderFacts {
                status,
                created_at: row.created_at,
                has_tracking: row.has_tracking,
                oldest_in_transit_update: row.in_transit_since,
                has_open_return: row.has_open_return,
                has_open_support: row.support_thread.is_some(),
            };
            Ok(Order {
                shipments: shipments.remove(&row.id).unwrap_or_default(),
                return_: returns.remove(&row.id),
                timeline: timelines.remove(&row.id).unwrap_or_default(),
                alerts: facts.alerts(now, th),
                customer: Customer {
                    name: row.customer_name,
                    email: row.customer_email,
                },
                order_number: row.order_number,
                total_price: row.total_price,
                currency: row.currency,
                status,
                fulfillment_status: word("orders.fulfillment_status", &row.fulfillment_status)?,
                financial_status: word("orders.financial_status", &row.financial_status)?,
                priority: word("orders.priority", &row.priority)?,
                assigned_to: row.assignee,
                tags: row.tags,
                created_at: row.created_at,
                updated_at: row.updated_at,
                support_thread: row.support_thread,
                id: row.id,
            })
        })
        .collect()
}

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
    let mut gids: Vec<String> = Vec::with_capacity(refs.len());
    let mut missing = Vec::new();
    for r in refs {
        let found = match r {
            OrderRef::Id(id) => known_ids.contains(id).then(|| id.clone()),
            OrderRef::Name(name) => by_name.get(name).cloned(),
        };
        match found {
            Some(gid) if !gids.contains(&gid) => gids.push(gid),
            Some(_) => {}
            None => missing.push(r.to_string()),
        }
    }
    if missing.is_empty() {
        Ok(gids)
    } else {
        Err(StoreError::OrdersNotFound(missing))
    }
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
    let mut tx = pool.begin().await.map_err(classify)?;
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
async fn refresh_derived(
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

/// Inserts shipments in the given order (their `seq` keeps it). `recorded_at` is when Sync learnt of
/// them; `None` leaves the database's clock.
async fn insert_shipments(
    conn: &mut PgConnection,
    shop_id: i64,
    shipments: &[(String, Shipment)],
    recorded_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let n = shipments.len();
    let (mut orders, mut ids, mut statuses) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut numbers, mut carriers, mut updates) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for (order, s) in shipments {
        orders.push(order.as_str());
        ids.push(s.id.as_str());
        statuses.push(s.status.as_str());
        numbers.push(s.tracking.as_ref().map(|t| t.number.as_str()));
        carriers.push(s.tracking.as_ref().map(|t| t.carrier.as_str()));
        updates.push(s.last_update_at);
    }
    sqlx::query(
        "INSERT INTO shipments (shop_id, order_id, id, status, tracking_number, tracking_carrier, last_update_at, created_at) \
         SELECT $1, u.order_id, u.id, u.status, u.number, u.carrier, u.last_update_at, COALESCE($8, now()) \
         FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) \
              WITH ORDINALITY AS u(order_id, id, status, number, carrier, last_update_at, n) \
         ORDER BY u.n",
    )
    .bind(shop_id)
    .bind(orders)
    .bind(ids)
    .bind(statuses)
    .bind(numbers)
    .bind(carriers)
    .bind(updates)
    .bind(recorded_at)
    .execute(conn)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Appends timeline entries in the given order (their `seq` keeps it).
async fn insert_timeline(
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

/// Writes one chunk of seed records with everything they carry, one `COPY` per table, parents
/// first. The derived columns are taken from the records' own facts, the same ones the in-memory
/// store evaluates. Rows go in the records' order, so the `seq` and `id` columns keep each order's
/// shipments, escalations and timeline in the order the record lists them. Shipments are recorded
/// at the transaction's start (their column default), assignments at `assigned_at`.
async fn copy_records(
    conn: &mut PgConnection,
    shop_id: i64,
    records: &[OrderRecord],
    assigned_at: DateTime<Utc>,
    buf: &mut CopyText,
) -> Result<(), StoreError> {
    copy_rows(
        conn,
        "COPY orders (shop_id, id, order_number, customer_name, customer_email, total_price, currency, \
             fulfillment_status, financial_status, cancelled_at, priority, tags, created_at, updated_at, \
             has_tracking, in_transit_since, has_open_return, support_thread, assignee, return_state) \
         FROM STDIN WITH (FORMAT text)",
        buf,
        records,
        |row, r| {
            let facts = r.facts();
            row.int(shop_id);
            row.text(&r.id);
            row.text(&r.order_number);
            row.text(&r.customer_name);
            row.opt_text(r.customer_email.as_deref());
            row.text(&r.total_price);
            row.text(&r.currency);
            row.text(r.fulfillment_status.as_str());
            row.text(r.financial_status.as_str());
            row.opt_timestamp(r.cancelled_at);
            row.text(r.priority.as_str());
            row.text_array(&r.tags);
            row.timestamp(r.created_at);
            row.timestamp(r.updated_at);
            row.bool(facts.has_tracking);
            row.opt_timestamp(facts.oldest_in_transit_update);
            row.bool(facts.has_open_return);
            row.opt_text(r.support_thread());
            row.opt_text(r.assigned_to.as_deref());
            row.opt_text(r.return_.as_ref().map(|ret| ret.state.as_str()));
        },
    )
    .await?;
    copy_rows(
        conn,
        "COPY shipments (shop_id, order_id, id, status, tracking_number, tracking_carrier, last_update_at) \
         FROM STDIN WITH (FORMAT text)",
        buf,
        records
            .iter()
            .flat_map(|r| r.shipments.iter().map(move |s| (r, s))),
        |row, (r, s)| {
            row.int(shop_id);
            row.text(&r.id);
            row.text(&s.id);
            row.text(s.status.as_str());
            row.opt_text(s.tracking.as_ref().map(|t| t.number.as_str()));
            row.opt_text(s.tracking.as_ref().map(|t| t.carrier.as_str()));
            row.timestamp(s.last_update_at);
        },
    )
    .await?;
    copy_rows(
        conn,
        "COPY returns (shop_id, order_id, id, state, created_at, updated_at) FROM STDIN WITH (FORMAT text)",
        buf,
        records
            .iter()
            .filter_map(|r| r.return_.as_ref().map(|ret| (r, ret))),
        |row, (r, ret)| {
            row.int(shop_id);
            row.text(&r.id);
            row.text(&ret.id);
            row.text(ret.state.as_str());
            row.timestamp(ret.created_at);
            row.timestamp(ret.updated_at);
        },
    )
    .await?;
    copy_rows(
        conn,
        "COPY support_escalations (shop_id, order_id, thread, note, open, created_at) \
         FROM STDIN WITH (FORMAT text)",
        buf,
        records
            .iter()
            .flat_map(|r| r.support.iter().map(move |s| (r, s))),
        |row, (r, s)| {
            row.int(shop_id);
            row.text(&r.id);
            row.text(&s.thread);
            row.text(&s.note);
            row.bool(s.open);
            row.timestamp(s.created_at);
        },
    )
    .await?;
    copy_rows(
        conn,
        "COPY order_assignments (shop_id, order_id, assignee, assigned_at) FROM STDIN WITH (FORMAT text)",
        buf,
        records
            .iter()
            .filter_map(|r| r.assigned_to.as_deref().map(|owner| (r, owner))),
        |row, (r, owner)| {
            row.int(shop_id);
            row.text(&r.id);
            row.text(owner);
            row.timestamp(assigned_at);
        },
    )
    .await?;
    copy_rows(
        conn,
        "COPY timeline_entries (shop_id, order_id, ts, event, details) FROM STDIN WITH (FORMAT text)",
        buf,
        records
            .iter()
            .flat_map(|r| r.timeline.iter().map(move |e| (r, e))),
        |row, (r, e)| {
            row.int(shop_id);
            row.text(&r.id);
            row.timestamp(e.ts);
            row.text(&e.event);
            row.text(&e.details);
        },
    )
    .await?;
    Ok(())
}

impl PgStore {
    /// A store over `url` that connects on first use (so start-up does not wait for the database),
    /// with at most [`DEFAULT_MAX_CONNECTIONS`] connections.
    pub fn connect_lazy(url: &str) -> Result<PgStore, sqlx::Error> {
        Self::connect_lazy_with(url, DEFAULT_MAX_CONNECTIONS)
    }

    /// [`PgStore::connect_lazy`] with a pool of at most `max_connections`.
    pub fn connect_lazy_with(url: &str, max_connections: u32) -> Result<PgStore, sqlx::Error> {
        // No JIT: it compiles any statement whose estimate passes `jit_above_cost`, such as an
        // update of 250 orders, for 20 ms or more, far more than running it takes.
        let options = PgConnectOptions::from_str(url)?.options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(options);
        Ok(PgStore {
            pool,
            secrets: crate::secrets::Secrets::plaintext(),
        })
    }

    /// This store, sealing and opening the shops' secrets with `secrets` (`SECRETS_KEY`).
    pub fn with_secrets(mut self, secrets: crate::secrets::Secrets) -> PgStore {
        self.secrets = secrets;
        self
    }

    /// The cipher of the shops' secrets.
    pub fn secrets(&self) -> &crate::secrets::Secrets {
        &self.secrets
    }

    /// Applies the pending migrations of `migrations/`.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        sqlx::migrate!("../migrations").run(&self.pool).await
    }

    /// The pool, for workers that need their own queries.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    #[tracing::instrument(name = "pg.ping", skip_all)]
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    #[tracing::instrument(name = "pg.list_orders", skip_all, fields(shop = %query.shop_domain, tab = %query.tab))]
    pub async fn list_orders(
        &self,
        query: &ListQuery,
        window: PageWindow,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Page, StoreError> {
        let mut tx = begin_read(&self.pool).await?;
        let Some(shop) = find_shop(&mut tx, &query.shop_domain).await? else {
            return Ok(Page {
                orders: Vec::new(),
                counts: TabCounts::default(),
                shopify_cursor: None,
            });
        };
        let cut = Cutoffs::new(now, th);

        let counts = counts::tab_counts(&mut tx, shop.id, &query.filter, &cut).await?;

        let orders = if window.limit == 0 || window.offset >= counts.get(query.tab) {
            Vec::new()
        } else {
            let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
            qb.push(ORDER_COLUMNS).push(" FROM ").push(ORDER_FROM);
            if query.tab == Tab::Delayed {
                // The delayed orders are the oldest in transit: the planner, taking them to be
                // spread evenly, would walk the list order past every recent parcel. Their page is
                // chosen from the delayed index alone (the inner OFFSET 0 keeps it apart), then read.
                qb.push(
                    " JOIN (SELECT id, created_at FROM (SELECT o.id, o.created_at FROM orders o WHERE o.shop_id = ",
                )
                .push_bind(shop.id)
                .push(" AND ");
                push_tab(&mut qb, query.tab, &cut);
                push_filter(&mut qb, &query.filter);
                qb.push(" OFFSET 0) d ORDER BY d.created_at DESC, d.id DESC OFFSET ")
                    .push_bind(clamp_i64(window.offset))
                    .push(" LIMIT ")
                    .push_bind(clamp_i64(window.limit))
                    .push(") page ON page.id = o.id WHERE o.shop_id = ")
                    .push_bind(shop.id)
                    .push(" ORDER BY o.created_at DESC, o.id DESC");
            } else {
                qb.push(" WHERE o.shop_id = ").push_bind(shop.id);
                push_filter(&mut qb, &query.filter);
                if query.tab != Tab::All {
                    qb.push(" AND ");
                    push_tab(&mut qb, query.tab, &cut);
                }
                qb.push(" ORDER BY o.created_at DESC, o.id DESC OFFSET ")
                    .push_bind(clamp_i64(window.offset))
                    .push(" LIMIT ")
                    .push_bind(clamp_i64(window.limit));
            }
            let rows = qb
                .build_query_as::<OrderRow>()
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
            hydrate(&mut tx, shop.id, rows, now, th).await?
        };
        tx.commit().await.map_err(classify)?;
        Ok(Page {
            orders,
            counts,
            shopify_cursor: shop.shopify_cursor,
        })
    }

    /// The returns funnel (the state of each order's newest return) and the orders-per-day series
    /// of the view `query` describes, all pages, from one snapshot.
    #[tracing::instrument(name = "pg.stats", skip_all, fields(shop = %query.shop_domain, tab = %query.tab))]
    pub async fn stats(
        &self,
        query: &ListQuery,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<OrderStats, StoreError> {
        let mut tx = begin_read(&self.pool).await?;
        let Some(shop) = find_shop(&mut tx, &query.shop_domain).await? else {
            return Ok(OrderStats::tally([], [], now));
        };
        let cut = Cutoffs::new(now, th);
        let (returns, days) = counts::view_stats(
            &mut tx,
            shop.id,
            query.tab,
            &query.filter,
            &cut,
            sparkline_start(now).date_naive(),
        )
        .await?;
        let stats = OrderStats::from_counts(returns, days, now);
        tx.commit().await.map_err(classify)?;
        Ok(stats)
    }

    /// Up to `limit` orders of the view `query` describes (tab and filters, not its page) that come
    /// after `after` (`createdAt`, id) in list order: one keyset batch of an export. Each batch is
    /// its own snapshot; the keyset keeps batches from overlapping or skipping unchanged orders.
    #[tracing::instrument(name = "pg.orders_after", skip_all, fields(shop = %query.shop_domain, tab = %query.tab))]
    pub async fn orders_after(
        &self,
        query: &ListQuery,
        after: Option<&ExportKey>,
        limit: u32,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Vec<Order>, StoreError> {
        let mut tx = begin_read(&self.pool).await?;
        let Some(shop) = find_shop(&mut tx, &query.shop_domain).await? else {
            return Ok(Vec::new());
        };
        let cut = Cutoffs::new(now, th);
        let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
        qb.push(ORDER_COLUMNS)
            .push(" FROM ")
            .push(ORDER_FROM)
            .push(" WHERE o.shop_id = ")
            .push_bind(shop.id);
        push_filter(&mut qb, &query.filter);
        if query.tab != Tab::All {
            qb.push(" AND ");
            push_tab(&mut qb, query.tab, &cut);
        }
        if let Some(key) = after {
            qb.push(" AND (o.created_at, o.id) < (")
                .push_bind(key.created_at)
                .push(", ")
                .push_bind(key.id.clone())
                .push(")");
        }
        qb.push(" ORDER BY o.created_at DESC, o.id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = qb
            .build_query_as::<OrderRow>()
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        let orders = hydrate(&mut tx, shop.id, rows, now, th).await?;
        tx.commit().await.map_err(classify)?;
        Ok(orders)
    }

    #[tracing::instrument(name = "pg.get_order", skip_all, fields(shop = %shop, order = %order))]
    pub async fn get_order(
        &self,
        shop: &str,
        order: &OrderRef,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Option<Order>, StoreError> {
        let mut tx = begin_read(&self.pool).await?;
        let Some(shop) = find_shop(&mut tx, shop).await? else {
            return Ok(None);
        };
        let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
        qb.push(ORDER_COLUMNS)
            .push(" FROM ")
            .push(ORDER_FROM)
            .push(" WHERE o.shop_id = ")
            .push_bind(shop.id);
        match order {
            OrderRef::Id(id) => qb.push(" AND o.id = ").push_bind(id.clone()),
            OrderRef::Name(name) => qb.push(" AND o.order_number = ").push_bind(name.clone()),
        };
        qb.push(" ORDER BY o.created_at DESC, o.id DESC LIMIT 1");
        let rows = qb
            .build_query_as::<OrderRow>()
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
        let order = hydrate(&mut tx, shop.id, rows, now, th).await?.pop();
        tx.commit().await.map_err(classify)?;
        Ok(order)
    }

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
        let (shop_id, gids, _) =
            resolve_and_lock(&mut tx, shop_id, std::slice::from_ref(&cmd.order)).await?;
        let gid = gids
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::OrdersNotFound(vec![cmd.order.to_string()]))?;
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
        let (shop_id, gids, _) =
            resolve_and_lock(&mut tx, shop_id, std::slice::from_ref(&cmd.order)).await?;
        let gid = gids
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::OrdersNotFound(vec![cmd.order.to_string()]))?;
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

    /// Registers the shop if needed and replaces its orders, with everything they carry, and its
    /// outbox (as the in-memory store does), in one transaction.
    pub async fn replace_orders(
        &self,
        shop: &str,
        records: &[OrderRecord],
    ) -> Result<(), StoreError> {
        self.replace_orders_with_progress(shop, records, |_| {})
            .await
    }

    /// [`PgStore::replace_orders`], calling `progress` with the number of orders written so far
    /// after every [`SEED_CHUNK`] of them (they are committed, all together, only when the call
    /// returns `Ok`). The rows are written with `COPY`, streamed, so memory stays bounded however
    /// many records there are.
    #[tracing::instrument(name = "pg.replace_orders", skip_all, fields(shop = %shop, orders = records.len()))]
    pub async fn replace_orders_with_progress(
        &self,
        shop: &str,
        records: &[OrderRecord],
        mut progress: impl FnMut(usize),
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(classify)?;
        let shop_id: i64 = sqlx::query_scalar(
            "INSERT INTO shops (domain) VALUES ($1) \
             ON CONFLICT (domain) DO UPDATE SET domain = EXCLUDED.domain RETURNING id",
        )
        .bind(shop)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        // Children first, in bulk: deleting the orders alone would cascade row by row.
        for table in [
            "DELETE FROM timeline_entries WHERE shop_id = $1",
            "DELETE FROM shipments WHERE shop_id = $1",
            "DELETE FROM returns WHERE shop_id = $1",
            "DELETE FROM support_escalations WHERE shop_id = $1",
            "DELETE FROM order_assignments WHERE shop_id = $1",
            "DELETE FROM orders WHERE shop_id = $1",
            "DELETE FROM outbox WHERE shop_id = $1",
            "DELETE FROM shopify_pending WHERE shop_id = $1",
            "DELETE FROM shopify_refunds WHERE shop_id = $1",
        ] {
            sqlx::query(table)
                .bind(shop_id)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        // Assignments are made when the transaction starts, as shipments are recorded.
        let assigned_at: DateTime<Utc> = sqlx::query_scalar("SELECT now()")
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        let mut buf = CopyText::new();
        let mut written = 0;
        for chunk in records.chunks(SEED_CHUNK) {
            copy_records(&mut tx, shop_id, chunk, assigned_at, &mut buf).await?;
            written += chunk.len();
            progress(written);
        }
        tx.commit().await.map_err(classify)?;
        self.fold_tallies().await?;
        Ok(())
    }

    /// Folds the changes of the order tallies into the tallies, so that counting stays a sum of
    /// few rows (migration `20261203000001_tallies.sql`). Answers how many change rows were moved
    /// (0 while another fold runs). Counts are exact whether or not this runs; it keeps them fast.
    pub async fn fold_tallies(&self) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        counts::fold(&mut conn).await
    }

    #[tracing::instrument(name = "pg.outbox", skip_all, fields(shop = %shop))]
    pub async fn outbox(&self, shop: &str) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = sqlx::query_as::<_, OutboxRow>(
            "SELECT x.topic, x.order_id, x.payload FROM outbox x JOIN shops s ON s.id = x.shop_id \
             WHERE s.domain = $1 ORDER BY x.id",
        )
        .bind(shop)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxEvent {
                topic: r.topic,
                order_id: r.order_id,
                payload: r.payload,
            })
            .collect())
    }

    #[tracing::instrument(name = "pg.timeline", skip_all, fields(shop = %shop, order = %order_id))]
    pub async fn timeline(
        &self,
        shop: &str,
        order_id: &str,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        let rows = sqlx::query_as::<_, TimelineRow>(
            "SELECT t.order_id, t.ts, t.event, t.details FROM timeline_entries t JOIN shops s ON s.id = t.shop_id \
             WHERE s.domain = $1 AND t.order_id = $2 ORDER BY t.seq",
        )
        .bind(shop)
        .bind(order_id)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(rows
            .into_iter()
            .map(|t| TimelineEntry {
                ts: t.ts,
                event: t.event,
                details: t.details,
            })
            .collect())
    }

    #[tracing::instrument(name = "pg.shops", skip_all)]
    pub async fn shops(&self) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar("SELECT domain FROM shops ORDER BY domain COLLATE \"C\"")
            .fetch_all(&self.pool)
            .await
            .map_err(classify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cutoff_between_microseconds_rounds_up_so_strict_comparisons_agree() {
        let t: DateTime<Utc> = "2025-09-27T12:00:00.000001500Z".parse().unwrap();
        let c = ceil_micros(t);
        assert_eq!(
            c,
            "2025-09-27T12:00:00.000002Z"
                .parse::<DateTime<Utc>>()
                .unwrap()
        );
        // A stored instant (whole microseconds) is below t exactly when it is below ceil(t).
        let below: DateTime<Utc> = "2025-09-27T12:00:00.000001Z".parse().unwrap();
        assert!(below < t && below < c);
        let exact: DateTime<Utc> = "2025-09-27T12:00:00.000002Z".parse().unwrap();
        assert_eq!(ceil_micros(exact), exact);
    }

    #[test]
    fn connection_failures_are_unavailable_and_the_rest_internal() {
        assert!(matches!(
            classify(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            classify(sqlx::Error::RowNotFound),
            StoreError::Internal(_)
        ));
    }
}
