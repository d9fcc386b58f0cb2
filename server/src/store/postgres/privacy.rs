//! Customers' privacy in PostgreSQL (SPEC §10): the data requests recorded for `privacy export`,
//! erasing a customer (`customers/redact`) and a whole shop (`shop/redact`), and the redaction
//! ingestion keeps applying.
//!
//! Policy:
//! - **Erasing a customer** is one transaction. The orders are those Shopify names and those
//!   carrying the customer's e-mail (as e-mail, or as the name Sync fell back to); each is
//!   remembered in `redacted_orders` (also one Sync does not have yet) and its customer becomes
//!   `Redacted` with no e-mail (`updated_at` moves, so incremental readers see the change). Then
//!   the copies: in the rows of those orders, the customer's names, e-mail and phone are erased
//!   from the free text Sync keeps (timeline details, support notes, outbox payloads delivered or
//!   not, kept facts, alert messages); everywhere in the shop, the e-mail is erased from every
//!   text, JSON and text-array column of every table that has a `shop_id`, read from the catalogue
//!   so that a table added later is covered too; data requests of the customer lose their e-mail
//!   and phone. Order numbers, money and states stay.
//! - **Order of locks.** The orders' advisory locks (the key ingestion takes, so a payload of one
//!   of them in flight either finishes first or sees the redaction), then their rows, in id order.
//! - **Ingestion remembers**: every order payload of a redacted order is stored with its customer
//!   erased ([`as_stored`]), whether a webhook, a poll or a backfill brings it.
//! - **Deleting a shop** deletes its rows from every table with a `shop_id` (from the catalogue
//!   again), the tally changes its order deletions append last, then the shop's row.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use orders_core::shopify::lifecycle::{is_placeholder_name, PrivacyCustomer, REDACTED_NAME};
use orders_core::shopify::ShopifyOrder;
use orders_core::{Order, OrderRef, Thresholds, TimelineEntry};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

use super::shopify::lock_order_key;
use super::{classify, PgStore};
use crate::shopify::redact::{Reach, Scrubber};
use crate::store::StoreError;

/// Free-text columns of order rows where a customer's names and phone are erased: table, column,
/// whether it is JSON, and the column naming the order.
const ORDER_TEXT: &[(&str, &str, bool, &str)] = &[
    ("timeline_entries", "details", false, "order_id"),
    ("support_escalations", "note", false, "order_id"),
    ("outbox", "payload", true, "order_id"),
    ("alerts", "message", false, "order_id"),
    ("shopify_pending", "fact", true, "order_key"),
];

/// The kind of a column the shop-wide erasure reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Json,
    Jsonb,
    TextArray,
}

/// An identifier quoted for SQL (names come from the catalogue, never from a request).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The order payload as ingestion stores it: with its customer erased when the order was redacted.
/// Called under the order's advisory lock.
pub(super) async fn as_stored<'o>(
    conn: &mut PgConnection,
    shop_id: i64,
    order: &'o ShopifyOrder,
) -> Result<Cow<'o, ShopifyOrder>, StoreError> {
    let redacted = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM redacted_orders WHERE shop_id = $1 AND order_id = $2)",
    )
    .bind(shop_id)
    .bind(&order.id)
    .fetch_one(conn)
    .await
    .map_err(classify)?;
    Ok(if redacted {
        Cow::Owned(order.redacted())
    } else {
        Cow::Borrowed(order)
    })
}

/// Records a `customers/data_request` (once per request id).
pub(super) async fn record_data_request(
    conn: &mut PgConnection,
    shop_id: i64,
    request_id: &str,
    customer: &PrivacyCustomer,
    orders: &[String],
    received_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO privacy_requests (shop_id, request_id, customer_id, email, phone, orders, received_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (shop_id, request_id) DO NOTHING",
    )
    .bind(shop_id)
    .bind(request_id)
    .bind(&customer.id)
    .bind(&customer.email)
    .bind(&customer.phone)
    .bind(orders)
    .bind(received_at)
    .execute(conn)
    .await
    .map_err(classify)?;
    Ok(())
}

/// Erases the customer from the shop (see the module's policy); answers how many stored orders
/// were theirs.
pub(super) async fn redact_customer(
    conn: &mut PgConnection,
    shop_id: i64,
    customer: &PrivacyCustomer,
    named: &[String],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let email = customer.email.as_deref();
    const THEIRS: &str = "shop_id = $1 AND (id = ANY($2) OR ($3::text IS NOT NULL \
         AND (lower(customer_email) = lower($3) OR lower(customer_name) = lower($3))))";
    let mut keys: Vec<String> =
        sqlx::query_scalar(&format!("SELECT id FROM orders WHERE {THEIRS}"))
            .bind(shop_id)
            .bind(named)
            .bind(email)
            .fetch_all(&mut *conn)
            .await
            .map_err(classify)?;
    keys.extend(named.iter().cloned());
    keys.sort();
    keys.dedup();
    for key in &keys {
        lock_order_key(conn, shop_id, key).await?;
    }
    let rows = sqlx::query_as::<_, (String, String, String)>(&format!(
        "SELECT id, order_number, customer_name FROM orders WHERE {THEIRS} ORDER BY id FOR UPDATE"
    ))
    .bind(shop_id)
    .bind(named)
    .bind(email)
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?;
    let mut names: Vec<String> = Vec::new();
    for (id, _, name) in &rows {
        if !keys.contains(id) {
            keys.push(id.clone());
        }
        if !is_placeholder_name(name) && !names.contains(name) {
            names.push(name.clone());
        }
    }
    let ids: Vec<&str> = rows.iter().map(|(id, _, _)| id.as_str()).collect();

    sqlx::query(
        "INSERT INTO redacted_orders (shop_id, order_id, redacted_at) \
         SELECT $1, k, $3 FROM UNNEST($2::text[]) AS k ON CONFLICT DO NOTHING",
    )
    .bind(shop_id)
    .bind(&keys)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    sqlx::query(
        "UPDATE orders SET customer_name = $3, customer_email = NULL, \
             updated_at = greatest(updated_at, $4) \
         WHERE shop_id = $1 AND id = ANY($2) \
           AND (customer_name <> $3 OR customer_email IS NOT NULL)",
    )
    .bind(shop_id)
    .bind(&ids)
    .bind(REDACTED_NAME)
    .bind(now)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    sqlx::query(
        "UPDATE privacy_requests SET email = NULL, phone = NULL \
         WHERE shop_id = $1 AND (email IS NOT NULL OR phone IS NOT NULL) \
           AND (customer_id = $2 OR lower(email) = lower($3) OR phone = $4)",
    )
    .bind(shop_id)
    .bind(&customer.id)
    .bind(email)
    .bind(&customer.phone)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;

    let scrubber = Scrubber::new(email, customer.phone.as_deref(), &names).map_err(|e| {
        StoreError::Internal(anyhow::anyhow!(
            "cannot search for the customer's details: {e}"
        ))
    })?;
    if !scrubber.is_empty() {
        // Kept facts may name their order by its number.
        let mut order_keys = keys.clone();
        order_keys.extend(rows.iter().map(|(_, number, _)| number.clone()));
        for (table, column, json, key) in ORDER_TEXT {
            let kind = if *json { Kind::Jsonb } else { Kind::Text };
            let filter = format!("{} = ANY($2)", ident(key));
            erase_in(
                conn,
                shop_id,
                &scrubber,
                Reach::CustomerOrders,
                (table, column, kind),
                &filter,
                &order_keys,
            )
            .await?;
        }
    }
    if let Some(like) = scrubber.email_like() {
        for (table, column, kind) in shop_text_columns(conn).await? {
            let filter = format!("{}::text ILIKE $2", ident(&column));
            erase_in(
                conn,
                shop_id,
                &scrubber,
                Reach::Shop,
                (&table, &column, kind),
                &filter,
                &like,
            )
            .await?;
        }
    }
    Ok(rows.len())
}

/// Deletes every row of the shop, its own last (see the module's policy); answers how many rows
/// went.
pub(super) async fn delete_shop(conn: &mut PgConnection, shop_id: i64) -> Result<u64, StoreError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT c.table_name::text FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
          AND t.table_type = 'BASE TABLE' \
         WHERE c.table_schema = current_schema() AND c.column_name = 'shop_id' \
         ORDER BY c.table_name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?;
    // Deleting orders appends to the tally changes: those go after everything else.
    let (last, first): (Vec<String>, Vec<String>) =
        tables.into_iter().partition(|t| t == "order_tally_changes");
    let mut deleted = 0;
    for table in first.iter().chain(&last) {
        let done = sqlx::query(&format!("DELETE FROM {} WHERE shop_id = $1", ident(table)))
            .bind(shop_id)
            .execute(&mut *conn)
            .await
            .map_err(classify)?;
        deleted += done.rows_affected();
    }
    let done = sqlx::query("DELETE FROM shops WHERE id = $1")
        .bind(shop_id)
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    Ok(deleted + done.rows_affected())
}

/// Every text, JSON or text-array column of every table with a `shop_id` (generated columns,
/// which follow the others, excepted).
async fn shop_text_columns(
    conn: &mut PgConnection,
) -> Result<Vec<(String, String, Kind)>, StoreError> {
    let rows = sqlx::query_as::<_, (String, String, String)>(
        "SELECT c.table_name::text, c.column_name::text, c.udt_name::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
          AND t.table_type = 'BASE TABLE' \
         WHERE c.table_schema = current_schema() AND c.is_generated = 'NEVER' \
           AND c.udt_name IN ('text', 'varchar', 'json', 'jsonb', '_text', '_varchar') \
           AND EXISTS (SELECT 1 FROM information_schema.columns k \
                       WHERE k.table_schema = c.table_schema AND k.table_name = c.table_name \
                         AND k.column_name = 'shop_id') \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(conn)
    .await
    .map_err(classify)?;
    Ok(rows
        .into_iter()
        .map(|(table, column, udt)| {
            let kind = match udt.as_str() {
                "json" => Kind::Json,
                "jsonb" => Kind::Jsonb,
                "_text" | "_varchar" => Kind::TextArray,
                _ => Kind::Text,
            };
            (table, column, kind)
        })
        .collect())
}

/// Erases the customer from `column` of the shop's rows of `table` that `filter` (binding `$2`)
/// selects, row by row, each locked.
async fn erase_in<A>(
    conn: &mut PgConnection,
    shop_id: i64,
    scrubber: &Scrubber,
    reach: Reach,
    (table, column, kind): (&str, &str, Kind),
    filter: &str,
    arg: &A,
) -> Result<(), StoreError>
where
    A: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Sync,
{
    let (t, c) = (ident(table), ident(column));
    let select = format!(
        "SELECT ctid::text, {c} FROM {t} WHERE shop_id = $1 AND {c} IS NOT NULL AND {filter} \
         FOR UPDATE"
    );
    let cast = if kind == Kind::Json { "::json" } else { "" };
    let update = format!("UPDATE {t} SET {c} = $2{cast} WHERE ctid = $1::tid");
    match kind {
        Kind::Text => {
            for (at, text) in fetch::<String, A>(conn, &select, shop_id, arg).await? {
                if let Some(erased) = scrubber.text(&text, reach) {
                    write(conn, &update, &at, erased).await?;
                }
            }
        }
        Kind::Json | Kind::Jsonb => {
            for (at, value) in fetch::<Value, A>(conn, &select, shop_id, arg).await? {
                if let Some(erased) = scrubber.json(&value, reach) {
                    write(conn, &update, &at, erased).await?;
                }
            }
        }
        Kind::TextArray => {
            for (at, items) in fetch::<Vec<String>, A>(conn, &select, shop_id, arg).await? {
                let erased: Vec<Option<String>> =
                    items.iter().map(|s| scrubber.text(s, reach)).collect();
                if erased.iter().any(Option::is_some) {
                    let items: Vec<String> = erased
                        .into_iter()
                        .zip(items)
                        .map(|(e, s)| e.unwrap_or(s))
                        .collect();
                    write(conn, &update, &at, items).await?;
                }
            }
        }
    }
    Ok(())
}

/// The rows `select` finds, by their `ctid`.
async fn fetch<V, A>(
    conn: &mut PgConnection,
    select: &str,
    shop_id: i64,
    arg: &A,
) -> Result<Vec<(String, V)>, StoreError>
where
    V: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
    A: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Sync,
{
    sqlx::query_as::<_, (String, V)>(select)
        .bind(shop_id)
        .bind(arg)
        .fetch_all(conn)
        .await
        .map_err(classify)
}

/// Writes `value` into the row at `ctid`.
async fn write<V>(
    conn: &mut PgConnection,
    update: &str,
    ctid: &str,
    value: V,
) -> Result<(), StoreError>
where
    V: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send,
{
    sqlx::query(update)
        .bind(ctid)
        .bind(value)
        .execute(conn)
        .await
        .map_err(classify)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// `orders-sync privacy export`.

/// A recorded `customers/data_request`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct DataRequest {
    #[serde(skip)]
    pub shop_id: i64,
    pub request_id: String,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The orders the request names, as GIDs.
    pub orders_requested: Vec<String>,
    pub received_at: DateTime<Utc>,
}

/// Everything Sync keeps about the customer of a data request, in one shop.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivacyExport {
    pub shop: String,
    pub data_request: DataRequest,
    /// The customer's orders: those the request names and those with the customer's e-mail.
    pub orders: Vec<ExportedOrder>,
    /// Orders the request names that Sync does not keep.
    pub orders_not_kept: Vec<String>,
}

/// One order of the customer, with everything kept about it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedOrder {
    /// The order as the read API serves it.
    pub order: Order,
    /// Its whole timeline, oldest first (the order carries the last ten only).
    pub history: Vec<TimelineEntry>,
    pub support_escalations: Vec<ExportedEscalation>,
    pub returns: Vec<ExportedReturn>,
    /// The side effects queued for it (delivered or not), with their payloads.
    pub outbox_events: Vec<ExportedEvent>,
    /// Its customer was erased by a `customers/redact`.
    pub redacted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ExportedEscalation {
    pub thread: String,
    pub note: String,
    pub open: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ExportedReturn {
    pub id: String,
    pub state: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ExportedEvent {
    pub id: i64,
    pub topic: String,
    pub payload: Value,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    domain: String,
    #[sqlx(flatten)]
    request: DataRequest,
}

/// What looking up a data request found.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportLookup {
    Found(Box<PrivacyExport>),
    /// No request with this id (in this shop).
    NotFound,
    /// Requests with this id in several shops: name one.
    Ambiguous(Vec<String>),
}

impl PgStore {
    /// Everything kept about the customer of data request `request_id` (of `shop`, when given).
    #[tracing::instrument(name = "pg.privacy_export", skip_all, fields(request = %request_id))]
    pub async fn privacy_export(
        &self,
        request_id: &str,
        shop: Option<&str>,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<ExportLookup, StoreError> {
        let mut found = sqlx::query_as::<_, RequestRow>(
            "SELECT s.domain, p.shop_id, p.request_id, p.customer_id, p.email, p.phone, \
                    p.orders AS orders_requested, p.received_at \
             FROM privacy_requests p JOIN shops s ON s.id = p.shop_id \
             WHERE p.request_id = $1 AND ($2::text IS NULL OR s.domain = $2) ORDER BY s.domain",
        )
        .bind(request_id)
        .bind(shop)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let RequestRow { domain, request } = match found.len() {
            0 => return Ok(ExportLookup::NotFound),
            1 => found.remove(0),
            _ => {
                return Ok(ExportLookup::Ambiguous(
                    found.into_iter().map(|r| r.domain).collect(),
                ))
            }
        };
        let ids: Vec<(String, bool)> = sqlx::query_as(
            "SELECT o.id, EXISTS (SELECT 1 FROM redacted_orders r \
                                  WHERE r.shop_id = o.shop_id AND r.order_id = o.id) \
             FROM orders o WHERE o.shop_id = $1 AND (o.id = ANY($2) OR ($3::text IS NOT NULL \
                 AND lower(o.customer_email) = lower($3))) \
             ORDER BY o.created_at, o.id",
        )
        .bind(request.shop_id)
        .bind(&request.orders_requested)
        .bind(&request.email)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let mut orders = Vec::with_capacity(ids.len());
        for (id, redacted) in &ids {
            let Some(order) = self
                .get_order(&domain, &OrderRef::Id(id.clone()), now, th)
                .await?
            else {
                continue;
            };
            orders.push(ExportedOrder {
                order,
                history: self.timeline(&domain, id).await?,
                support_escalations: self
                    .of_order(
                        request.shop_id,
                        id,
                        "SELECT thread, note, open, created_at FROM support_escalations \
                     WHERE shop_id = $1 AND order_id = $2 ORDER BY id",
                    )
                    .await?,
                returns: self
                    .of_order(
                        request.shop_id,
                        id,
                        "SELECT id, state, created_at, updated_at FROM returns \
                     WHERE shop_id = $1 AND order_id = $2 ORDER BY created_at, id",
                    )
                    .await?,
                outbox_events: self
                    .of_order(
                        request.shop_id,
                        id,
                        "SELECT id, topic, payload, created_at, delivered_at FROM outbox \
                     WHERE shop_id = $1 AND order_id = $2 ORDER BY id",
                    )
                    .await?,
                redacted: *redacted,
            });
        }
        let orders_not_kept = request
            .orders_requested
            .iter()
            .filter(|gid| !ids.iter().any(|(id, _)| id == *gid))
            .cloned()
            .collect();
        Ok(ExportLookup::Found(Box::new(PrivacyExport {
            shop: domain,
            data_request: request,
            orders,
            orders_not_kept,
        })))
    }

    /// The rows `sql` (binding the shop's id and the order's) reads.
    async fn of_order<R>(
        &self,
        shop_id: i64,
        order_id: &str,
        sql: &str,
    ) -> Result<Vec<R>, StoreError>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
    {
        sqlx::query_as::<_, R>(sql)
            .bind(shop_id)
            .bind(order_id)
            .fetch_all(&self.pool)
            .await
            .map_err(classify)
    }
}
