//! The read paths of the PostgreSQL store: order rows and their filters in SQL (the search's in
//! `search.rs`), hydrating rows into wire orders, one view's snapshot, and the reads of stats,
//! export batches, one order, outbox and timeline (the list's page is in `list.rs`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use orders_core::effects::OutboxEvent;
use orders_core::locale::ShopClock;
use orders_core::query::{AssigneeFilter, OrderFilter};
use orders_core::record::to_micros;
use orders_core::stats::{sparkline_first_day, OrderStats};
use orders_core::tabs::OrderFacts;
use orders_core::{
    Customer, ListQuery, Order, OrderRef, OrderStatus, ReturnSummary, Shipment, Tab, Thresholds,
    TimelineEntry, Tracking, TIMELINE_LIMIT,
};
use sqlx::postgres::PgPool;
use sqlx::{PgConnection, Postgres, QueryBuilder, Transaction};

use super::search::ShopFilter;
use super::{ceil_micros, clamp_i64, classify, counts, word, Cutoffs, PgStore};
use crate::store::{ExportKey, StoreError};

/// The columns of an order row (`o` is the order, `a` its assignment).
pub(super) const ORDER_COLUMNS: &str = "o.id, o.order_number, o.customer_name, o.customer_email, o.total_price::text AS total_price, \
     o.currency, o.status, o.fulfillment_status, o.financial_status, o.priority, o.tags, o.created_at, o.updated_at, \
     o.has_tracking, o.in_transit_since, o.has_open_return, o.support_thread, o.assignee";

/// An order (its `assignee` mirrors its row of order_assignments).
pub(super) const ORDER_FROM: &str = "orders o";

#[derive(sqlx::FromRow)]
pub(super) struct OrderRow {
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
pub(super) struct ShopRow {
    pub(super) id: i64,
    pub(super) shopify_cursor: Option<String>,
    /// The shop's change counter (`shop_changes`) in this snapshot: the count cache's key.
    pub(super) changes: i64,
}

#[derive(sqlx::FromRow)]
pub(super) struct ShipmentRow {
    order_id: String,
    id: String,
    status: String,
    tracking_number: Option<String>,
    tracking_carrier: Option<String>,
    last_update_at: DateTime<Utc>,
}

impl ShipmentRow {
    /// The order the row belongs to, and the shipment as the API serves it.
    pub(super) fn into_shipment(self) -> Result<(String, Shipment), StoreError> {
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
pub(super) fn push_statuses_and_priorities(
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

/// Pushes the non-tab filters and the search, each as ` AND …`.
pub(super) fn push_filter(qb: &mut QueryBuilder<'_, Postgres>, view: &ShopFilter<'_>) {
    let f = view.filter;
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
    view.push_search(qb);
}

/// Pushes the rule of `tab` (SPEC §4, `OrderFacts::in_tab`) as one parenthesised predicate. The
/// literals match the partial indexes of the migration.
pub(super) fn push_tab(qb: &mut QueryBuilder<'_, Postgres>, tab: Tab, cut: &Cutoffs) {
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
pub(super) async fn find_shop(
    conn: &mut PgConnection,
    domain: &str,
) -> Result<Option<ShopRow>, StoreError> {
    sqlx::query_as::<_, ShopRow>(
        "SELECT s.id, s.shopify_cursor, coalesce(c.n, 0) AS changes \
         FROM shops s LEFT JOIN shop_changes c ON c.shop_id = s.id WHERE s.domain = $1",
    )
    .bind(domain)
    .fetch_optional(conn)
    .await
    .map_err(classify)
}

/// A read-only snapshot of the database.
pub(super) async fn begin_read(
    pool: &PgPool,
) -> Result<Transaction<'static, Postgres>, StoreError> {
    // One round trip: the snapshot's mode comes with its BEGIN.
    super::begin(
        pool,
        Some("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"),
    )
    .await
}

/// Turns order rows into wire orders: loads the shipments, newest returns and last timeline entries
/// of all of them at once, and evaluates their alerts at `now`. Keeps the rows' order.
pub(super) async fn hydrate(
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

/// One view's read, in its own snapshot: the transaction, the shop, the instant's cut-offs and the
/// view's filter as this shop decides it (a search by name or by customer).
pub(super) struct ViewRead<'q> {
    pub(super) tx: Transaction<'static, Postgres>,
    pub(super) shop: ShopRow,
    pub(super) cut: Cutoffs,
    pub(super) view: ShopFilter<'q>,
}

/// Opens the read of the view `query` describes at `now`; `None` when the shop is unknown.
pub(super) async fn open_view<'q>(
    pool: &PgPool,
    query: &'q ListQuery,
    now: DateTime<Utc>,
    th: &Thresholds,
) -> Result<Option<ViewRead<'q>>, StoreError> {
    let mut tx = begin_read(pool).await?;
    let Some(shop) = find_shop(&mut tx, &query.shop_domain).await? else {
        return Ok(None);
    };
    let cut = Cutoffs::new(now, th);
    let view = ShopFilter::decide(&mut tx, shop.id, &query.filter).await?;
    Ok(Some(ViewRead {
        tx,
        shop,
        cut,
        view,
    }))
}

impl PgStore {
    /// The returns funnel (the state of each order's newest return) and the orders-per-day series
    /// of the view `query` describes, all pages, from one snapshot.
    #[tracing::instrument(name = "pg.stats", skip_all, fields(shop = %query.shop_domain, tab = %query.tab))]
    pub async fn stats(
        &self,
        query: &ListQuery,
        now: DateTime<Utc>,
        th: &Thresholds,
        clock: &ShopClock,
    ) -> Result<OrderStats, StoreError> {
        let today = clock.local_day(now);
        let first = sparkline_first_day(today);
        let Some(ViewRead {
            mut tx,
            shop,
            cut,
            view,
        }) = open_view(&self.pool, query, now, th).await?
        else {
            return Ok(OrderStats::tally([], [], today));
        };
        let (returns, mut days) =
            counts::view_stats(&mut tx, shop.id, query.tab, &view, &cut, first).await?;
        if *clock != ShopClock::utc() {
            let since = clock.day_range(first).0;
            days = counts::local_days(
                &mut tx,
                shop.id,
                query.tab,
                &view,
                &cut,
                since,
                clock.name(),
            )
            .await?;
        }
        let stats = OrderStats::from_counts(returns, days, today);
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
        let Some(ViewRead {
            mut tx,
            shop,
            cut,
            view,
        }) = open_view(&self.pool, query, now, th).await?
        else {
            return Ok(Vec::new());
        };
        let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
        qb.push(ORDER_COLUMNS)
            .push(" FROM ")
            .push(ORDER_FROM)
            .push(" WHERE o.shop_id = ")
            .push_bind(shop.id);
        push_filter(&mut qb, &view);
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
            .persistent(!view.has_search())
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
