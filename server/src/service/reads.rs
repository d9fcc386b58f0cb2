//! Which copy of the database serves a read: the primary, or a streaming replica
//! (`DATABASE_REPLICA_URLS`, [`crate::store::postgres::replicas`]); and the position a write
//! answers with (`X-Sync-Position`), which a later read sends back to read its own write.

use std::sync::Arc;

use orders_core::position::{later, Position};

use super::Service;
use crate::store::postgres::replicas::Replicas;
use crate::store::{Store, StoreError};

/// Which copies of the database may serve a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAt {
    /// The primary only (everything but the list, its counts, one order and the export).
    Primary,
    /// A replica that has replayed the position (a client's `X-Sync-Min-Position`), or without one
    /// a replica within `REPLICA_MAX_LAG` of the primary; else the primary.
    Replica(Option<Position>),
}

impl Service {
    /// Serves the reads that may go to replicas from `replicas` (once, at start-up).
    pub fn set_replicas(&self, replicas: Arc<Replicas>) {
        if self.inner.replicas.set(replicas).is_err() {
            tracing::warn!("the replicas were already set; the second set is ignored");
        }
    }

    /// The replicas, when reads may go to some.
    pub fn replicas(&self) -> Option<&Arc<Replicas>> {
        self.inner.replicas.get()
    }

    /// Where the dashboard reads a page of `shop`: a copy that has the page's last write (`page`,
    /// the position the page kept) and the last change to the shop this process heard of, so that
    /// the reload a live refresh asks for shows the change it was told of.
    pub fn page_read_at(&self, shop: &str, page: Option<Position>) -> ReadAt {
        let heard = self.replicas().and_then(|r| r.floor(shop));
        ReadAt::Replica(later(page, heard))
    }

    /// Notes a change to `shop`, committed by `position`, that this process heard of from the
    /// database (the listener).
    pub fn heard_change(&self, shop: &str, position: Position) {
        if let Some(replicas) = self.replicas() {
            replicas.heard(shop, position);
        }
    }

    /// Runs `read` on a copy `at` allows: a replica when one may serve it, else the primary. A read
    /// that fails on a replica (it went away, or cancelled the statement to replay) is read again
    /// on the primary, which is never behind.
    pub(super) async fn read_on<T, F, Fut>(&self, at: ReadAt, read: F) -> Result<T, StoreError>
    where
        F: Fn(Store) -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>>,
    {
        let replica = match (at, self.replicas()) {
            (ReadAt::Replica(min), Some(replicas)) => replicas.reader(min).await,
            _ => None,
        };
        if let Some(replica) = replica {
            match read(Store::Postgres(replica)).await {
                Ok(answer) => return Ok(answer),
                Err(e) => {
                    tracing::warn!(error = %e, "a read failed on a replica; reading the primary");
                }
            }
        }
        read(self.inner.primary.clone()).await
    }

    /// The position a write that has committed answers with: at or past its commit. `None` on the
    /// in-memory store, or when the database cannot say (the write stands either way).
    pub async fn position(&self) -> Option<Position> {
        let Store::Postgres(pg) = &self.inner.primary else {
            return None;
        };
        match pg.wal_position().await {
            Ok(position) => Some(position),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the position of a committed write");
                None
            }
        }
    }
}
