//! Ingestion from Shopify in PostgreSQL (SPEC §7, §9): registered shops and their secrets, the
//! webhook deliveries already seen, and applying what Shopify reports to the stored orders.
//!
//! One fact is one transaction: the delivery's key, the order's new state, its timeline entries and
//! the facts that were waiting for the order commit together, or none of them does. Facts about one
//! order are serialised by a transaction-level advisory lock on (shop, order), taken before the order
//! is read, so that even two deliveries creating the same order at once apply one after the other.

use chrono::{DateTime, Duration, Utc};
use orders_core::record::{OrderRecord, ReturnRecord};
use orders_core::shopify::apply::{apply_fact, apply_order, Applied};
use orders_core::shopify::Ingest;
use orders_core::OrderRef;
use sqlx::PgConnection;

use super::{
    classify, insert_timeline, refresh_derived, word, PgStore, ShipmentColumns, ShipmentRow,
};
use crate::secrets::Column;
use crate::store::{Delivery, IngestOutcome, ShopRegistration, StoreError};

/// How long the previous webhook secret stays valid after a rotation (SPEC §9).
pub const SECRET_OVERLAP: Duration = Duration::hours(1);

/// A shop the poller reads: registered with an access token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PollTarget {
    pub domain: String,
    /// When its last whole tick began; `None` before the first.
    pub last_polled_at: Option<DateTime<Utc>>,
}

/// One process's hold on one shop for one tick, with what the tick needs to know.
#[derive(Clone, sqlx::FromRow)]
pub struct PollClaim {
    pub shop_id: i64,
    /// The Admin API token. Never logged: `Debug` leaves it out.
    pub access_token: String,
    pub last_polled_at: Option<DateTime<Utc>>,
    /// Until when the shop is this tick's (database clock); also the proof of holding it, as
    /// renewing and releasing only touch a lease that still has this value.
    pub lease_until: DateTime<Utc>,
}

impl std::fmt::Debug for PollClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollClaim")
            .field("shop_id", &self.shop_id)
            .field("last_polled_at", &self.last_polled_at)
            .field("lease_until", &self.lease_until)
            .finish_non_exhaustive()
    }
}

/// What asking for a shop's poll lease gave.
#[derive(Debug, Clone)]
pub enum PollLease {
    /// The shop is this tick's until the lease runs out.
    Claimed(PollClaim),
    /// Another tick holds the shop.
    Busy,
    /// No such shop, or it has no access token: webhooks only.
    NotPolled,
}

/// How a tick leaves the shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollEnd<'a> {
    /// The window was read whole: store the cursor reached (kept when `None`: a tick that found no
    /// orders reached no new one) and when the tick began.
    Whole {
        cursor: Option<&'a str>,
        polled_at: DateTime<Utc>,
    },
    /// The tick ended short: the next one reads the same window again.
    Short,
}

/// A lease length in whole milliseconds, for binding.
fn lease_millis(lease: Duration) -> i64 {
    lease.num_milliseconds().max(1)
}

/// A registered shop, without its secrets.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShopSummary {
    pub domain: String,
    pub has_webhook_secret: bool,
    pub has_access_token: bool,
}

#[derive(sqlx::FromRow)]
struct RecordRow {
    order_number: String,
    customer_name: String,
    customer_email: Option<String>,
    total_price: String,
    currency: String,
    fulfillment_status: String,
    financial_status: String,
    cancelled_at: Option<DateTime<Utc>>,
    priority: String,
    tags: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    shopify_updated_at: Option<DateTime<Utc>>,
    assignee: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ReturnRow {
    id: String,
    state: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// Reads the order `gid` of the shop, locked for update, with what ingestion may change: its
/// fields, shipments and newest return. Escalations and history are left out: Shopify never
/// changes them (new timeline entries are appended, not rewritten).
async fn load_record(
    conn: &mut PgConnection,
    shop_id: i64,
    gid: &str,
) -> Result<Option<OrderRecord>, StoreError> {
    let Some(row) = sqlx::query_as::<_, RecordRow>(
        "SELECT o.order_number, o.customer_name, o.customer_email, o.total_price::text AS total_price, \
                o.currency, o.fulfillment_status, o.financial_status, o.cancelled_at, o.priority, o.tags, \
                o.created_at, o.updated_at, o.shopify_updated_at, o.assignee \
         FROM orders o WHERE o.shop_id = $1 AND o.id = $2 FOR UPDATE",
    )
    .bind(shop_id)
    .bind(gid)
    .fetch_optional(&mut *conn)
    .await
    .map_err(classify)?
    else {
        return Ok(None);
    };
    let shipments = sqlx::query_as::<_, ShipmentRow>(
        "SELECT order_id, id, status, tracking_number, tracking_carrier, last_update_at \
         FROM shipments WHERE shop_id = $1 AND order_id = $2 ORDER BY seq",
    )
    .bind(shop_id)
    .bind(gid)
    .fetch_all(&mut *conn)
    .await
    .map_err(classify)?
    .into_iter()
    .map(|row| row.into_shipment().map(|(_, shipment)| shipment))
    .collect::<Result<Vec<_>, StoreError>>()?;
    let return_ = sqlx::query_as::<_, ReturnRow>(
        "SELECT id, state, created_at, updated_at FROM returns WHERE shop_id = $1 AND order_id = $2 \
         ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(shop_id)
    .bind(gid)
    .fetch_optional(&mut *conn)
    .await
    .map_err(classify)?
    .map(|r| {
        Ok::<_, StoreError>(ReturnRecord {
            id: r.id,
            state: word("returns.state", &r.state)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    })
    .transpose()?;
    Ok(Some(OrderRecord {
        id: gid.to_owned(),
        order_number: row.order_number,
        customer_name: row.customer_name,
        customer_email: row.customer_email,
        total_price: row.total_price,
        currency: row.currency,
        fulfillment_status: word("orders.fulfillment_status", &row.fulfillment_status)?,
        financial_status: word("orders.financial_status", &row.financial_status)?,
        cancelled_at: row.cancelled_at,
        priority: word("orders.priority", &row.priority)?,
        tags: row.tags,
        created_at: row.created_at,
        updated_at: row.updated_at,
        shopify_updated_at: row.shopify_updated_at,
        shipments,
        return_,
        support: Vec::new(),
        assigned_to: row.assignee,
        timeline: Vec::new(),
    }))
}

/// Writes what ingestion owns of `record` (fields, shipments, newest return) and appends `entries`.
async fn save_record(
    conn: &mut PgConnection,
    shop_id: i64,
    record: &OrderRecord,
    entries: &[orders_core::TimelineEntry],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO orders (shop_id, id, order_number, customer_name, customer_email, total_price, currency, \
             fulfillment_status, financial_status, cancelled_at, priority, tags, created_at, updated_at, \
             shopify_updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6::numeric, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (shop_id, id) DO UPDATE SET \
             order_number = EXCLUDED.order_number, customer_name = EXCLUDED.customer_name, \
             customer_email = EXCLUDED.customer_email, total_price = EXCLUDED.total_price, \
             currency = EXCLUDED.currency, fulfillment_status = EXCLUDED.fulfillment_status, \
             financial_status = EXCLUDED.financial_status, cancelled_at = EXCLUDED.cancelled_at, \
             priority = EXCLUDED.priority, tags = EXCLUDED.tags, created_at = EXCLUDED.created_at, \
             updated_at = EXCLUDED.updated_at, shopify_updated_at = EXCLUDED.shopify_updated_at",
    )
    .bind(shop_id)
    .bind(&record.id)
    .bind(&record.order_number)
    .bind(&record.customer_name)
    .bind(&record.customer_email)
    .bind(&record.total_price)
    .bind(&record.currency)
    .bind(record.fulfillment_status.as_str())
    .bind(record.financial_status.as_str())
    .bind(record.cancelled_at)
    .bind(record.priority.as_str())
    .bind(&record.tags)
    .bind(record.created_at)
    .bind(record.updated_at)
    .bind(record.shopify_updated_at)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;

    let ids: Vec<&str> = record.shipments.iter().map(|s| s.id.as_str()).collect();
    sqlx::query(
        "DELETE FROM shipments WHERE shop_id = $1 AND order_id = $2 AND NOT (id = ANY($3))",
    )
    .bind(shop_id)
    .bind(&record.id)
    .bind(&ids)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    if !record.shipments.is_empty() {
        let columns = ShipmentColumns::of(record.shipments.iter());
        // One statement for all the order's parcels; new ones keep their order of arrival.
        sqlx::query(
            "INSERT INTO shipments (shop_id, order_id, id, status, tracking_number, tracking_carrier, last_update_at) \
             SELECT $1, $2, u.id, u.status, u.number, u.carrier, u.last_update_at \
             FROM UNNEST($3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) \
                  WITH ORDINALITY AS u(id, status, number, carrier, last_update_at, n) \
             ORDER BY u.n \
             ON CONFLICT (shop_id, id) DO UPDATE SET status = EXCLUDED.status, \
                 tracking_number = EXCLUDED.tracking_number, tracking_carrier = EXCLUDED.tracking_carrier, \
                 last_update_at = EXCLUDED.last_update_at \
             WHERE shipments.order_id = EXCLUDED.order_id",
        )
        .bind(shop_id)
        .bind(&record.id)
        .bind(columns.ids)
        .bind(columns.statuses)
        .bind(columns.numbers)
        .bind(columns.carriers)
        .bind(columns.updates)
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    }
    if let Some(r) = &record.return_ {
        sqlx::query(
            "INSERT INTO returns (shop_id, order_id, id, state, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (shop_id, id) DO UPDATE SET state = EXCLUDED.state, updated_at = EXCLUDED.updated_at \
             WHERE returns.order_id = EXCLUDED.order_id",
        )
        .bind(shop_id)
        .bind(&record.id)
        .bind(&r.id)
        .bind(r.state.as_str())
        .bind(r.created_at)
        .bind(r.updated_at)
        .execute(&mut *conn)
        .await
        .map_err(classify)?;
    }
    if !entries.is_empty() {
        let entries: Vec<(String, orders_core::TimelineEntry)> = entries
            .iter()
            .map(|e| (record.id.clone(), e.clone()))
            .collect();
        insert_timeline(conn, shop_id, &entries).await?;
    }
    refresh_derived(conn, shop_id, std::slice::from_ref(&record.id)).await
}

/// Serialises every fact about one order of a shop until the transaction ends (a customer's
/// redaction takes it too: [`super::privacy`]).
pub(super) async fn lock_order_key(
    conn: &mut PgConnection,
    shop_id: i64,
    key: &str,
) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($2, $1))")
        .bind(shop_id)
        .bind(key)
        .execute(conn)
        .await
        .map_err(classify)?;
    Ok(())
}

/// Claims a refund id for the shop; `false` when it was applied before.
async fn claim_refund(
    conn: &mut PgConnection,
    shop_id: i64,
    refund_id: &str,
    order_id: &str,
) -> Result<bool, StoreError> {
    let claimed = sqlx::query_scalar::<_, i32>(
        "INSERT INTO shopify_refunds (shop_id, refund_id, order_id) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING RETURNING 1",
    )
    .bind(shop_id)
    .bind(refund_id)
    .bind(order_id)
    .fetch_optional(conn)
    .await
    .map_err(classify)?;
    Ok(claimed.is_some())
}

/// The order's state as facts are applied one after another within one transaction.
struct Working {
    record: OrderRecord,
    entries: Vec<orders_core::TimelineEntry>,
    changed: bool,
}

impl Working {
    fn take(&mut self, applied: Applied) {
        self.record = applied.record;
        self.entries.extend(applied.entries);
        self.changed = true;
    }
}

/// Applies a fulfillment, refund or return to the working order (refunds once per id).
async fn apply_one(
    conn: &mut PgConnection,
    shop_id: i64,
    working: &mut Working,
    fact: &Ingest,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if let Ingest::Refund(refund) = fact {
        if !claim_refund(conn, shop_id, &refund.id, &working.record.id).await? {
            return Ok(());
        }
    }
    if let Some(applied) = apply_fact(&working.record, fact, now) {
        working.take(applied);
    }
    Ok(())
}

impl PgStore {
    /// Registers a shop, or updates its secrets (SPEC §9). A new webhook secret replaces the old,
    /// which stays valid for [`SECRET_OVERLAP`]; an access token replaces the previous one (and
    /// reinstalls a shop that was uninstalled), and `None` keeps it.
    pub async fn register_shop(
        &self,
        domain: &str,
        webhook_secret: &str,
        access_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ShopRegistration, StoreError> {
        let mut tx = super::begin(&self.pool, None).await?;
        let existing = sqlx::query_as::<_, (i64, Option<String>)>(
            "SELECT id, webhook_secret FROM shops WHERE domain = $1 FOR UPDATE",
        )
        .bind(domain)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        // Stored sealed (`crate::secrets`); the old secret is compared, and kept, in the open.
        let existing = existing
            .map(|(id, old)| {
                old.map(|old| self.open_secret(Column::WebhookSecret, &old))
                    .transpose()
                    .map(|old| (id, old))
            })
            .transpose()?;
        let sealed_secret = self.seal_secret(Column::WebhookSecret, webhook_secret)?;
        let sealed_token = access_token
            .map(|t| self.seal_secret(Column::AccessToken, t))
            .transpose()?;
        let outcome = match existing {
            None => {
                sqlx::query(
                    "INSERT INTO shops (domain, webhook_secret, access_token) VALUES ($1, $2, $3)",
                )
                .bind(domain)
                .bind(&sealed_secret)
                .bind(&sealed_token)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                ShopRegistration::Created
            }
            Some((id, old)) => {
                let rotated = old
                    .as_deref()
                    .filter(|old| *old != webhook_secret)
                    .map(|old| self.seal_secret(Column::PreviousWebhookSecret, old))
                    .transpose()?;
                sqlx::query(
                    "UPDATE shops SET webhook_secret = $2, access_token = COALESCE($3, access_token), \
                         uninstalled_at = CASE WHEN $3::text IS NULL THEN uninstalled_at ELSE NULL END, \
                         previous_webhook_secret = CASE WHEN $4::text IS NULL THEN previous_webhook_secret ELSE $4 END, \
                         previous_secret_expires_at = CASE WHEN $4::text IS NULL THEN previous_secret_expires_at ELSE $5 END \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(&sealed_secret)
                .bind(&sealed_token)
                .bind(&rotated)
                .bind(now + SECRET_OVERLAP)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                if rotated.is_some() {
                    ShopRegistration::Rotated {
                        previous_valid_until: now + SECRET_OVERLAP,
                    }
                } else {
                    ShopRegistration::Updated
                }
            }
        };
        tx.commit().await.map_err(classify)?;
        Ok(outcome)
    }

    /// Applies one fact Shopify reported about a shop's order, in one transaction. With a
    /// `delivery`, the delivery's webhook id is recorded first and a redelivery changes nothing.
    #[tracing::instrument(name = "pg.ingest", skip_all, fields(shop = %shop))]
    pub async fn ingest(
        &self,
        shop: &str,
        delivery: Option<&Delivery>,
        fact: &Ingest,
        now: DateTime<Utc>,
    ) -> Result<IngestOutcome, StoreError> {
        let mut tx = super::begin(&self.pool, None).await?;
        let Some(shop_id) = sqlx::query_scalar::<_, i64>("SELECT id FROM shops WHERE domain = $1")
            .bind(shop)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?
        else {
            return Err(StoreError::UnknownShop(shop.to_owned()));
        };
        if let Some(d) = delivery {
            if !super::lifecycle::record_delivery(&mut tx, shop_id, d, now).await? {
                return Ok(IngestOutcome::Duplicate);
            }
        }

        // The order's GID: a name resolves to the newest order bearing it.
        let gid = match fact.order() {
            OrderRef::Id(gid) => Some(gid),
            OrderRef::Name(name) => sqlx::query_scalar::<_, String>(
                "SELECT id FROM orders WHERE shop_id = $1 AND order_number = $2 \
                 ORDER BY created_at DESC, id DESC LIMIT 1",
            )
            .bind(shop_id)
            .bind(&name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?,
        };
        if let Some(gid) = &gid {
            lock_order_key(&mut tx, shop_id, gid).await?;
        }
        let existing = match &gid {
            Some(gid) => load_record(&mut tx, shop_id, gid).await?,
            None => None,
        };

        let outcome = match (fact, existing) {
            (Ingest::Order(order), existing) => {
                // A redacted order's customer stays erased, whatever the payload says.
                let stored = super::privacy::as_stored(&mut tx, shop_id, order).await?;
                let order = &*stored;
                let is_new = existing.is_none();
                let mut working = match (apply_order(existing.as_ref(), order, now), existing) {
                    (Some(applied), _) => Working {
                        record: applied.record,
                        entries: applied.entries,
                        changed: true,
                    },
                    (None, Some(record)) => Working {
                        record,
                        entries: Vec::new(),
                        changed: false,
                    },
                    // A stale first payload cannot happen (nothing is stored to be newer), but
                    // an order that maps to nothing is simply not stored.
                    (None, None) => {
                        tx.commit().await.map_err(classify)?;
                        return Ok(IngestOutcome::Unchanged {
                            order_id: order.id.clone(),
                        });
                    }
                };
                // What arrived before the order: by GID, or by its name.
                let waiting = sqlx::query_as::<_, (i64, serde_json::Value)>(
                    "DELETE FROM shopify_pending WHERE shop_id = $1 AND order_key IN ($2, $3) \
                     RETURNING seq, fact",
                )
                .bind(shop_id)
                .bind(&working.record.id)
                .bind(&working.record.order_number)
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
                let mut waiting = waiting;
                waiting.sort_by_key(|(seq, _)| *seq);
                for (seq, raw) in waiting {
                    match serde_json::from_value::<Ingest>(raw) {
                        Ok(fact) => apply_one(&mut tx, shop_id, &mut working, &fact, now).await?,
                        Err(e) => {
                            tracing::error!(seq, error = %e, "a kept Shopify fact no longer reads; dropped")
                        }
                    }
                }
                if working.changed {
                    save_record(&mut tx, shop_id, &working.record, &working.entries).await?;
                }
                let order_id = working.record.id.clone();
                match (is_new, working.changed) {
                    (true, _) => IngestOutcome::Created { order_id },
                    (false, true) => IngestOutcome::Applied { order_id },
                    (false, false) => IngestOutcome::Unchanged { order_id },
                }
            }
            (fact, Some(record)) => {
                let mut working = Working {
                    record,
                    entries: Vec::new(),
                    changed: false,
                };
                apply_one(&mut tx, shop_id, &mut working, fact, now).await?;
                if working.changed {
                    save_record(&mut tx, shop_id, &working.record, &working.entries).await?;
                }
                let order_id = working.record.id.clone();
                if working.changed {
                    IngestOutcome::Applied { order_id }
                } else {
                    IngestOutcome::Unchanged { order_id }
                }
            }
            (fact, None) => {
                let key = gid.unwrap_or_else(|| fact.order().to_string());
                let raw = serde_json::to_value(fact)
                    .map_err(|e| StoreError::Internal(anyhow::Error::new(e)))?;
                sqlx::query(
                    "INSERT INTO shopify_pending (shop_id, order_key, fact, received_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(shop_id)
                .bind(&key)
                .bind(raw)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
                IngestOutcome::Pending { order: key }
            }
        };
        tx.commit().await.map_err(classify)?;
        Ok(outcome)
    }

    /// Every registered shop, by domain, with which secrets it has (never the secrets).
    pub async fn shop_summaries(&self) -> Result<Vec<ShopSummary>, StoreError> {
        sqlx::query_as::<_, ShopSummary>(
            "SELECT domain, webhook_secret IS NOT NULL AS has_webhook_secret, \
                    access_token IS NOT NULL AS has_access_token FROM shops ORDER BY domain",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    /// The shops the poller reads (those with an access token), by domain.
    pub async fn shops_to_poll(&self) -> Result<Vec<PollTarget>, StoreError> {
        sqlx::query_as::<_, PollTarget>(
            "SELECT domain, last_polled_at FROM shops \
             WHERE access_token IS NOT NULL AND access_token <> '' ORDER BY domain",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    /// The shop's access token; `None` when the shop is unknown, `Some(None)` when it has none.
    pub async fn access_token(&self, domain: &str) -> Result<Option<Option<String>>, StoreError> {
        let stored = sqlx::query_scalar::<_, Option<String>>(
            "SELECT NULLIF(access_token, '') FROM shops WHERE domain = $1",
        )
        .bind(domain)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        stored
            .map(|token| {
                token
                    .map(|t| self.open_secret(Column::AccessToken, &t))
                    .transpose()
            })
            .transpose()
    }

    /// The secret a stored value of `column` holds; a value that does not open is an internal
    /// error naming `SECRETS_KEY` (never used as if it were the secret).
    /// The stored form of `plain` for `column` (see [`crate::secrets`]).
    pub(crate) fn seal_secret(&self, column: Column, plain: &str) -> Result<String, StoreError> {
        self.secrets
            .seal(column, plain)
            .map_err(|e| StoreError::Internal(anyhow::anyhow!("shops.{}: {e}", column.name())))
    }

    pub(crate) fn open_secret(&self, column: Column, stored: &str) -> Result<String, StoreError> {
        self.secrets
            .open(column, stored)
            .map_err(|e| StoreError::Internal(anyhow::anyhow!("shops.{}: {e}", column.name())))
    }

    /// Encrypts, under the configured `SECRETS_KEY`, every shop secret still stored in plaintext
    /// (from before the key); one transaction. Answers how many values were sealed.
    pub async fn encrypt_plaintext_secrets(&self) -> Result<u64, StoreError> {
        if !self.secrets.encrypts() {
            return Ok(0);
        }
        let mut tx = super::begin(&self.pool, None).await?;
        let mut sealed = 0;
        for column in Column::ALL {
            let name = column.name();
            let rows = sqlx::query_as::<_, (i64, String)>(&format!(
                "SELECT id, {name} FROM shops WHERE {name} IS NOT NULL AND {name} NOT LIKE 'enc:v1:%' FOR UPDATE"
            ))
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;
            for (id, plain) in rows {
                sqlx::query(&format!("UPDATE shops SET {name} = $2 WHERE id = $1"))
                    .bind(id)
                    .bind(self.seal_secret(column, &plain)?)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                sealed += 1;
            }
        }
        tx.commit().await.map_err(classify)?;
        Ok(sealed)
    }

    /// Claims the shop for one tick for `lease`, unless another tick holds it: one guarded
    /// `UPDATE`, so of two processes asking at once exactly one wins. Lease times are on the
    /// database's clock, which every process shares.
    pub async fn claim_poll(&self, domain: &str, lease: Duration) -> Result<PollLease, StoreError> {
        let claimed = sqlx::query_as::<_, PollClaim>(
            "UPDATE shops SET poll_lease_until = now() + $2 * interval '1 millisecond' \
             WHERE domain = $1 AND access_token IS NOT NULL AND access_token <> '' \
               AND (poll_lease_until IS NULL OR poll_lease_until < now()) \
             RETURNING id AS shop_id, access_token, last_polled_at, poll_lease_until AS lease_until",
        )
        .bind(domain)
        .bind(lease_millis(lease))
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        if let Some(mut claim) = claimed {
            claim.access_token = self.open_secret(Column::AccessToken, &claim.access_token)?;
            return Ok(PollLease::Claimed(claim));
        }
        let polled = self.access_token(domain).await?.flatten().is_some();
        Ok(if polled {
            PollLease::Busy
        } else {
            PollLease::NotPolled
        })
    }

    /// Extends a lease this tick still holds by `lease` from now; answers the new lease, or `None`
    /// when the lease was lost (it ran out and another tick took the shop).
    pub async fn renew_poll(
        &self,
        shop_id: i64,
        held: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar::<_, DateTime<Utc>>(
            "UPDATE shops SET poll_lease_until = now() + $3 * interval '1 millisecond' \
             WHERE id = $1 AND poll_lease_until = $2 RETURNING poll_lease_until",
        )
        .bind(shop_id)
        .bind(held)
        .bind(lease_millis(lease))
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    /// Ends a tick: releases the lease it holds and, after a whole read, stores the cursor reached
    /// and when the tick began, in one statement. Answers `false` when the lease was no longer
    /// this tick's; then nothing is written.
    pub async fn finish_poll(
        &self,
        shop_id: i64,
        held: DateTime<Utc>,
        end: PollEnd<'_>,
    ) -> Result<bool, StoreError> {
        let done = match end {
            PollEnd::Whole { cursor, polled_at } => sqlx::query(
                "UPDATE shops SET poll_lease_until = NULL, \
                     shopify_cursor = COALESCE($3, shopify_cursor), last_polled_at = $4 \
                 WHERE id = $1 AND poll_lease_until = $2",
            )
            .bind(shop_id)
            .bind(held)
            .bind(cursor)
            .bind(polled_at),
            PollEnd::Short => sqlx::query(
                "UPDATE shops SET poll_lease_until = NULL WHERE id = $1 AND poll_lease_until = $2",
            )
            .bind(shop_id)
            .bind(held),
        }
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }

    /// Forgets webhook ids received before `before` (they are kept at least 24 h).
    pub async fn prune_webhooks(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM shopify_webhooks WHERE received_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected())
    }
}
