//! The services that exist only with PostgreSQL, built once over the store of record when the
//! database is configured ([`crate::service::Service::database`]) or opened by the command line:
//! ingestion, tokens, shops, privacy, the outbox's queue and the alert feed. Callers hold these,
//! never the store: without a database there is simply no [`Database`], and nothing to match on.

use crate::store::{PgStore, StoreError};

use super::{AlertFeed, Ingestion, Outbox, Privacy, Shops, Tokens};

/// The PostgreSQL-only services of one database; cheap to clone.
#[derive(Clone)]
pub struct Database {
    pg: PgStore,
    ingestion: Ingestion,
    tokens: Tokens,
    shops: Shops,
    privacy: Privacy,
    outbox: Outbox,
    feed: AlertFeed,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

impl Database {
    /// The services over `pg`.
    pub fn new(pg: PgStore) -> Self {
        Database {
            ingestion: Ingestion::new(pg.clone()),
            tokens: Tokens::new(pg.clone()),
            shops: Shops::new(pg.clone()),
            privacy: Privacy::new(pg.clone()),
            outbox: Outbox::new(pg.clone()),
            feed: AlertFeed::new(pg.clone()),
            pg,
        }
    }

    /// Ingestion from Shopify: webhook deliveries, the poller's leases and pages, the backfill.
    pub fn ingestion(&self) -> &Ingestion {
        &self.ingestion
    }

    /// The Sync API's tokens, and what a live stream's credential stands on.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Registered shops: registration, installs and their offline tokens, seeding.
    pub fn shops(&self) -> &Shops {
        &self.shops
    }

    /// The app's lifecycle and privacy requests and their jobs.
    pub fn privacy(&self) -> &Privacy {
        &self.privacy
    }

    /// The outbox's delivery queue and its operator commands.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// The database's alert and refresh notifications, for the listener.
    pub fn feed(&self) -> &AlertFeed {
        &self.feed
    }

    /// The pool's connections now (the operator's `db_pool_connections`).
    pub fn pool_status(&self) -> crate::store::postgres::PoolStatus {
        self.pg.pool_status()
    }

    /// What the operator's gauges read from the database (`crate::metrics`).
    pub async fn operating_figures(
        &self,
    ) -> Result<crate::store::postgres::gauges::OperatingFigures, StoreError> {
        self.pg.operating_figures().await
    }

    /// Folds the order tallies' changes into the tallies (the tally folder's round).
    pub async fn fold_tallies(&self) -> Result<i64, StoreError> {
        self.pg.fold_tallies().await
    }

    /// Deletes the idempotency keys expired at `now` (the pruner's round); answers how many.
    pub async fn prune_idempotency_keys(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        self.pg.prune_idempotency_keys(now).await
    }
}
