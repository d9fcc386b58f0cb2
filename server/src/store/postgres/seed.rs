//! The seed in PostgreSQL: replacing a shop's orders with `COPY`, chunk by chunk.

use chrono::{DateTime, Utc};
use orders_core::record::OrderRecord;
use sqlx::PgConnection;

use super::copy::{copy_rows, CopyText};
use super::{classify, PgStore, SEED_CHUNK};
use crate::store::StoreError;

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
        let mut tx = super::begin(&self.pool, None).await?;
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

    /// Refreshes the planner's statistics of the order tables, after a bulk seed (`seed-bench`).
    pub async fn analyze_orders(&self) -> Result<(), sqlx::Error> {
        sqlx::query(
            "ANALYZE shops, orders, order_assignments, shipments, returns, support_escalations, \
             timeline_entries",
        )
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
