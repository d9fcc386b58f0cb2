//! The idempotency-key pruner: expired `Idempotency-Key`s are deleted every [`PRUNE_EVERY`]. They
//! are ignored once expired anyway (24 hours, SPEC §3); this only keeps the table small.

use crate::live::Live;
use crate::service::Database;

/// How often idempotency keys past their 24 hours are deleted.
pub const PRUNE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Deletes expired idempotency keys every [`PRUNE_EVERY`] until shutdown.
pub async fn prune_forever(database: Database, live: Live) {
    super::every(&live, PRUNE_EVERY, || async {
        match database.prune_idempotency_keys(chrono::Utc::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "expired idempotency keys deleted"),
            Err(e) => tracing::warn!(error = %e, "could not delete expired idempotency keys"),
        }
        true
    })
    .await;
}
