//! The alerts of the PostgreSQL store (SPEC §6): the evaluator's one transaction per shop, the
//! replays a stream or a poll starts from, and the deltas a listening process passes on.
//!
//! Alert writes of a shop take the shop's advisory lock, so ids are assigned and committed in order
//! within a shop (a reader that has seen id n never later sees a smaller new id), and two processes
//! evaluating at once raise a condition once (the unique open-alert index backs this up).
//! A change is announced with `NOTIFY orders_sync_alerts, '<shop id>'` in the same transaction;
//! listeners then read the table, which stays the truth.

use chrono::{DateTime, Utc};
use orders_core::alerts::{message, Alert, Digest, DigestLine, Refresh, Severity};
use orders_core::{AlertKind, Tab, Thresholds};
use sqlx::{Postgres, QueryBuilder};

use super::{begin_read, classify, find_shop, push_tab, word, Cutoffs, PgStore};
use crate::store::{AlertChanges, AlertMark, StoreError};

/// The channel alert changes are announced on; the payload is the shop's id.
pub const ALERTS_CHANNEL: &str = "orders_sync_alerts";
/// The channel refresh pings travel on; the payload is `<shop id> <reason> <unix micros>`.
pub const REFRESH_CHANNEL: &str = "orders_sync_refresh";
/// The high bits of the advisory-lock key of a shop's alerts.
const ALERT_LOCK: i64 = 0x4a1e_0000_0000;

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    kind: String,
    severity: String,
    order_id: Option<String>,
    message: String,
    created_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
}

const ALERT_COLUMNS: &str = "id, kind, severity, order_id, message, created_at, resolved_at";

impl AlertRow {
    fn into_alert(self) -> Result<Alert, StoreError> {
        let severity = match self.severity.as_str() {
            "info" => Severity::Info,
            "warning" => Severity::Warning,
            "critical" => Severity::Critical,
            other => {
                return Err(StoreError::Internal(anyhow::anyhow!(
                    "alerts.severity: unknown '{other}'"
                )))
            }
        };
        Ok(Alert {
            id: u64::try_from(self.id).unwrap_or(0),
            kind: word("alerts.kind", &self.kind)?,
            severity,
            order_id: self.order_id,
            message: self.message,
            created_at: self.created_at,
            resolved_at: self.resolved_at,
        })
    }
}

fn alerts(rows: Vec<AlertRow>) -> Result<Vec<Alert>, StoreError> {
    rows.into_iter().map(AlertRow::into_alert).collect()
}

fn as_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl PgStore {
    /// Raises the shop's shipment alerts whose condition newly holds at `now` and resolves those
    /// whose condition no longer does (SPEC §4's rules, stated in SQL as the tabs are), in one
    /// transaction under the shop's alert lock.
    #[tracing::instrument(name = "pg.evaluate_alerts", skip_all, fields(shop = %shop))]
    pub async fn evaluate_alerts(
        &self,
        shop: &str,
        now: DateTime<Utc>,
        th: &Thresholds,
        only: Option<&[String]>,
    ) -> Result<AlertChanges, StoreError> {
        let only: Option<Vec<String>> = only.map(<[String]>::to_vec);
        let mut tx = super::begin(&self.pool, None).await?;
        let Some(found) = find_shop(&mut tx, shop).await? else {
            return Ok(AlertChanges::default());
        };
        let shop_id = found.id;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ALERT_LOCK + shop_id)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        // The anti-joins below compare a shop's orders with its open alerts, tens of thousands each
        // at merchant scale: with statistics from before a big raise, a nested loop would make a
        // pass quadratic. Hash joins are right at every size here.
        // A pass over named orders is a few index look-ups, which nested loops serve best.
        if only.is_none() {
            sqlx::query("SET LOCAL enable_nestloop = off")
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        let cut = Cutoffs::new(now, th);
        let mut changes = AlertChanges::default();
        for (kind, tab) in [
            (AlertKind::TrackingPending, Tab::TrackingPending),
            (AlertKind::Delayed, Tab::Delayed),
        ] {
            // Resolve: open alerts of this kind whose order no longer meets the rule (or is gone).
            let mut qb = QueryBuilder::<Postgres>::new("UPDATE alerts a SET resolved_at = ");
            qb.push_bind(now)
                .push(", resolved_seq = nextval('alert_resolutions') WHERE a.shop_id = ")
                .push_bind(shop_id)
                .push(" AND a.resolved_at IS NULL AND a.kind = ")
                .push_bind(kind.as_str());
            if let Some(ids) = &only {
                qb.push(" AND a.order_id = ANY(")
                    .push_bind(ids.clone())
                    .push(")");
            }
            qb.push(" AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.shop_id = a.shop_id AND o.id = a.order_id AND ");
            push_tab(&mut qb, tab, &cut);
            qb.push(") RETURNING a.id");
            let resolved: Vec<i64> = qb
                .build_query_scalar()
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
            changes
                .resolved
                .extend(resolved.into_iter().filter_map(|id| u64::try_from(id).ok()));

            // Raise: orders that meet the rule and have no open alert of this kind, oldest first.
            let template = message(kind, "\u{1}", th);
            let (before, after) = template.split_once('\u{1}').unwrap_or((&template, ""));
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO alerts (shop_id, kind, severity, order_id, message, created_at) SELECT o.shop_id, ",
            );
            qb.push_bind(kind.as_str())
                .push(", ")
                .push_bind(Severity::of(kind).as_str())
                .push(", o.id, ")
                .push_bind(before.to_owned())
                .push(" || o.order_number || ")
                .push_bind(after.to_owned())
                .push(", ")
                .push_bind(now)
                .push(" FROM orders o WHERE o.shop_id = ")
                .push_bind(shop_id);
            if let Some(ids) = &only {
                qb.push(" AND o.id = ANY(").push_bind(ids.clone()).push(")");
            }
            qb.push(" AND ");
            push_tab(&mut qb, tab, &cut);
            qb.push(
                " AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.shop_id = o.shop_id AND a.kind = ",
            )
            .push_bind(kind.as_str())
            .push(" AND a.order_id = o.id AND a.resolved_at IS NULL)")
            .push(" ORDER BY o.created_at, o.id ON CONFLICT DO NOTHING RETURNING ")
            .push(ALERT_COLUMNS);
            let raised = qb
                .build_query_as::<AlertRow>()
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
            changes.raised.extend(alerts(raised)?);
        }
        changes.raised.sort_by_key(|a| a.id);
        if !changes.is_empty() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(ALERTS_CHANNEL)
                .bind(shop_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        Ok(changes)
    }

    /// Refreshes the planner's statistics of the alerts table (after a large evaluation: the
    /// service calls it once per pass, not once per shop).
    pub async fn analyze_alerts(&self) -> Result<(), StoreError> {
        sqlx::query("ANALYZE alerts")
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Raises the shop's data-gap alert with `message`, unless one is open already (a shop has at
    /// most one open data gap: it says "orders may be missing" until ingestion is healthy again).
    pub async fn raise_data_gap(
        &self,
        shop: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Alert>, StoreError> {
        self.data_gap_tx(shop, now, Some(text)).await
    }

    /// Resolves the shop's open data-gap alert, if any.
    pub async fn resolve_data_gap(
        &self,
        shop: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<u64>, StoreError> {
        Ok(self.data_gap_tx(shop, now, None).await?.map(|a| a.id))
    }

    /// Raises (`Some(message)`) or resolves (`None`) the data gap in one transaction under the
    /// shop's alert lock; answers the alert raised or resolved, if any.
    async fn data_gap_tx(
        &self,
        shop: &str,
        now: DateTime<Utc>,
        raise: Option<&str>,
    ) -> Result<Option<Alert>, StoreError> {
        let mut tx = super::begin(&self.pool, None).await?;
        let Some(found) = find_shop(&mut tx, shop).await? else {
            return Ok(None);
        };
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(ALERT_LOCK + found.id)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        let row = match raise {
            Some(text) => sqlx::query_as::<_, AlertRow>(&format!(
                "INSERT INTO alerts (shop_id, kind, severity, order_id, message, created_at) \
                 VALUES ($1, 'data_gap', 'critical', NULL, $2, $3) ON CONFLICT DO NOTHING RETURNING {ALERT_COLUMNS}"
            ))
            .bind(found.id)
            .bind(text)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?,
            None => sqlx::query_as::<_, AlertRow>(&format!(
                "UPDATE alerts SET resolved_at = $2, resolved_seq = nextval('alert_resolutions') \
                 WHERE shop_id = $1 AND kind = 'data_gap' AND resolved_at IS NULL RETURNING {ALERT_COLUMNS}"
            ))
            .bind(found.id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(classify)?,
        };
        if row.is_some() {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(ALERTS_CHANNEL)
                .bind(found.id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(classify)?;
        }
        tx.commit().await.map_err(classify)?;
        row.map(AlertRow::into_alert).transpose()
    }

    /// Tells every listening process that the shop's pages should reload. The payload is the
    /// shop's id, the reason, the instant and the database's position now, which is past the
    /// change's commit: a process with replicas reads the reload where that position is.
    pub async fn notify_refresh(&self, shop: &str, refresh: Refresh) -> Result<(), StoreError> {
        sqlx::query(
            "SELECT pg_notify($1, s.id::text || ' ' || $3 || ' ' || $4 || ' ' \
             || pg_current_wal_insert_lsn()::text) FROM shops s WHERE s.domain = $2",
        )
        .bind(REFRESH_CHANNEL)
        .bind(shop)
        .bind(refresh.reason.as_str())
        .bind(refresh.at.timestamp_micros().to_string())
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    /// The shop's domain from its id (what a notification carries).
    pub async fn shop_domain(&self, shop_id: i64) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT domain FROM shops WHERE id = $1")
            .bind(shop_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)
    }

    /// How far the shop's alerts have gone: the greatest id and resolution number.
    pub async fn alert_mark(&self, shop: &str) -> Result<AlertMark, StoreError> {
        let row: Option<(Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT max(a.id), max(a.resolved_seq) FROM shops s LEFT JOIN alerts a ON a.shop_id = s.id \
             WHERE s.domain = $1",
        )
        .bind(shop)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        let (id, seq) = row.unwrap_or((None, None));
        Ok(AlertMark {
            alert_id: id.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
            resolved_seq: seq.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
        })
    }

    /// What happened to the shop's alerts after `mark`: new alerts (id order, with their state now)
    /// and newly resolved ids (resolution order), and the new mark.
    pub async fn alerts_since_mark(
        &self,
        shop: &str,
        mark: AlertMark,
    ) -> Result<(AlertChanges, AlertMark), StoreError> {
        let mut tx = begin_read(&self.pool).await?;
        let Some(found) = find_shop(&mut tx, shop).await? else {
            return Ok((AlertChanges::default(), mark));
        };
        let raised = sqlx::query_as::<_, AlertRow>(&format!(
            "SELECT {ALERT_COLUMNS} FROM alerts WHERE shop_id = $1 AND id > $2 ORDER BY id"
        ))
        .bind(found.id)
        .bind(as_i64(mark.alert_id))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        let resolved: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, resolved_seq FROM alerts WHERE shop_id = $1 AND resolved_seq > $2 ORDER BY resolved_seq",
        )
        .bind(found.id)
        .bind(as_i64(mark.resolved_seq))
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        let raised = alerts(raised)?;
        let next = AlertMark {
            alert_id: raised.last().map_or(mark.alert_id, |a| a.id),
            resolved_seq: resolved
                .last()
                .and_then(|(_, s)| u64::try_from(*s).ok())
                .unwrap_or(mark.resolved_seq),
        };
        Ok((
            AlertChanges {
                raised,
                resolved: resolved
                    .into_iter()
                    .filter_map(|(id, _)| u64::try_from(id).ok())
                    .collect(),
            },
            next,
        ))
    }

    /// Alerts of the shop by id: the open ones (`after` = `None`), or every alert with a greater
    /// id, open or not; oldest first, at most `limit` (the oldest).
    pub async fn alerts(
        &self,
        shop: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        self.alerts_by_id(shop, after, limit, false).await
    }

    /// The alerts [`PgStore::alerts`] chooses, but the newest `limit`; oldest first still.
    pub async fn newest_alerts(
        &self,
        shop: &str,
        after: Option<u64>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        self.alerts_by_id(shop, after, limit, true).await
    }

    /// The open alerts of each kind that has any, in `kinds`' order: the count and the `first`
    /// raised (each kind read from the open-alerts index, newest-id order reversed).
    pub async fn digests(
        &self,
        shop: &str,
        kinds: &[AlertKind],
        first: usize,
    ) -> Result<Vec<Digest>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Line {
            kind: String,
            n: i64,
            order_id: Option<String>,
            order_number: Option<String>,
            message: Option<String>,
            created_at: Option<DateTime<Utc>>,
        }
        let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let rows = sqlx::query_as::<_, Line>(
            "SELECT k.kind, c.n, x.order_id, o.order_number, x.message, x.created_at \
             FROM shops s CROSS JOIN unnest($2::text[]) WITH ORDINALITY AS k(kind, pos) \
             CROSS JOIN LATERAL (SELECT count(*) AS n FROM alerts \
                 WHERE shop_id = s.id AND kind = k.kind AND resolved_at IS NULL) c \
             LEFT JOIN LATERAL (SELECT id, order_id, message, created_at FROM alerts \
                 WHERE shop_id = s.id AND kind = k.kind AND resolved_at IS NULL \
                 ORDER BY id LIMIT $3) x ON true \
             LEFT JOIN orders o ON o.shop_id = s.id AND o.id = x.order_id \
             WHERE s.domain = $1 AND c.n > 0 ORDER BY k.pos, x.id",
        )
        .bind(shop)
        .bind(&names)
        .bind(i64::try_from(first).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        let mut digests: Vec<Digest> = Vec::new();
        for row in rows {
            let kind: AlertKind = word("alerts.kind", &row.kind)?;
            if digests.last().is_none_or(|d| d.kind != kind) {
                digests.push(Digest {
                    kind,
                    count: u64::try_from(row.n).unwrap_or(0),
                    first: Vec::new(),
                });
            }
            if let (Some(message), Some(created_at), Some(digest)) =
                (row.message, row.created_at, digests.last_mut())
            {
                digest.first.push(DigestLine {
                    order_id: row.order_id,
                    order_number: row.order_number,
                    message,
                    created_at,
                });
            }
        }
        Ok(digests)
    }

    async fn alerts_by_id(
        &self,
        shop: &str,
        after: Option<u64>,
        limit: usize,
        newest: bool,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
        qb.push("a.id, a.kind, a.severity, a.order_id, a.message, a.created_at, a.resolved_at")
            .push(" FROM alerts a JOIN shops s ON s.id = a.shop_id WHERE s.domain = ")
            .push_bind(shop);
        match after {
            None => qb.push(" AND a.resolved_at IS NULL"),
            Some(id) => qb.push(" AND a.id > ").push_bind(as_i64(id)),
        };
        qb.push(if newest {
            " ORDER BY a.id DESC LIMIT "
        } else {
            " ORDER BY a.id LIMIT "
        })
        .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = qb
            .build_query_as::<AlertRow>()
            .fetch_all(&self.pool)
            .await
            .map_err(classify)?;
        let mut alerts = alerts(rows)?;
        if newest {
            alerts.reverse();
        }
        Ok(alerts)
    }

    /// Ids of the shop's alerts up to `up_to` resolved at or after `since`: the `limit` resolved
    /// last, in resolution order.
    pub async fn resolved_up_to(
        &self,
        shop: &str,
        up_to: u64,
        since: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT a.id FROM alerts a JOIN shops s ON s.id = a.shop_id WHERE s.domain = $1 \
             AND a.id <= $2 AND a.resolved_at >= $3 ORDER BY a.resolved_seq DESC LIMIT $4",
        )
        .bind(shop)
        .bind(as_i64(up_to))
        .bind(since)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(ids
            .into_iter()
            .rev()
            .filter_map(|n| u64::try_from(n).ok())
            .collect())
    }
}
