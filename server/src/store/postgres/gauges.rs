//! The database's side of the operator's gauges (`crate::metrics`), read when `/metrics` is
//! scraped: outbox events still to deliver and dead, open alerts, the poller's oldest last success,
//! and the order tallies' changes not folded yet. Each is a count over an index or a small table.

use chrono::{DateTime, Utc};

use super::{classify, PgStore};
use crate::store::StoreError;

/// What the gauges show, read now.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperatingFigures {
    /// Outbox events by topic (a label: `crate::metrics::outbox_topic`) and state (`pending`,
    /// `dead`), every pair present, zeros included.
    pub outbox: Vec<(&'static str, &'static str, i64)>,
    /// Open alerts by kind, every kind present.
    pub alerts_open: Vec<(&'static str, i64)>,
    /// The oldest last success of the installed shops the poller has polled.
    pub oldest_poll_success: Option<DateTime<Utc>>,
    /// Changes to the order tallies not yet folded into them.
    pub unfolded_tally_changes: i64,
}

impl PgStore {
    /// The gauges' figures (see the module's documentation), in one snapshot.
    pub async fn operating_figures(&self) -> Result<OperatingFigures, StoreError> {
        let mut tx = super::begin_read(&self.pool).await?;
        let outbox: Vec<(String, bool, i64)> = sqlx::query_as(
            "SELECT topic, dead_at IS NOT NULL, count(*) FROM outbox \
             WHERE delivered_at IS NULL GROUP BY 1, 2",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        let alerts: Vec<(String, i64)> = sqlx::query_as(
            "SELECT kind, count(*) FROM alerts WHERE resolved_at IS NULL GROUP BY 1",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(classify)?;
        let (oldest_poll_success, unfolded_tally_changes): (Option<DateTime<Utc>>, i64) =
            sqlx::query_as(
                "SELECT (SELECT min(last_polled_at) FROM shops \
                         WHERE access_token IS NOT NULL AND access_token <> '' \
                           AND uninstalled_at IS NULL), \
                        (SELECT count(*) FROM order_tally_changes)",
            )
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(OperatingFigures {
            outbox: outbox_by_label(&outbox),
            alerts_open: alerts_by_kind(&alerts),
            oldest_poll_success,
            unfolded_tally_changes,
        })
    }
}

/// The outbox's counts folded onto the labels, every (topic, state) pair present.
fn outbox_by_label(rows: &[(String, bool, i64)]) -> Vec<(&'static str, &'static str, i64)> {
    let mut out = Vec::new();
    for topic in crate::metrics::OUTBOX_TOPIC_LABELS {
        for (state, dead) in [("pending", false), ("dead", true)] {
            let n = rows
                .iter()
                .filter(|(t, d, _)| crate::metrics::outbox_topic(t) == topic && *d == dead)
                .map(|(_, _, n)| n)
                .sum();
            out.push((topic, state, n));
        }
    }
    out
}

/// The open alerts' counts, every kind present.
fn alerts_by_kind(rows: &[(String, i64)]) -> Vec<(&'static str, i64)> {
    orders_core::AlertKind::ALL
        .iter()
        .map(|kind| {
            let n = rows
                .iter()
                .filter(|(k, _)| k == kind.as_str())
                .map(|(_, n)| n)
                .sum();
            (kind.as_str(), n)
        })
        .collect()
}
