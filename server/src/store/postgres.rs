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

use std::str::FromStr;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use orders_core::record::to_micros;
use orders_core::{Thresholds, UnknownValue};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::StoreError;

pub mod alerts;
mod copy;
pub mod count_cache;
mod counts;
pub mod gauges;
pub mod install;
pub mod lifecycle;
mod list;
pub mod outbox;
pub mod privacy;
mod read;
pub mod replicas;
mod search;
mod seed;
pub mod shopify;
pub mod trust;
mod write;

// Helpers of the read and write paths that the other submodules use too.
use self::read::{
    begin_read, find_shop, push_filter, push_statuses_and_priorities, push_tab, ShipmentRow,
};
use self::write::{insert_timeline, refresh_derived, ShipmentColumns};

/// A pool's connections at one instant (`PgStore::pool_status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStatus {
    pub active: u32,
    pub idle: u32,
    pub max: u32,
}

/// Connections the pool opens at most, unless told otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;
/// How long a query waits for a connection before the database counts as unavailable.
pub const ACQUIRE_TIMEOUT: StdDuration = StdDuration::from_secs(3);
/// Orders [`PgStore::replace_orders`] writes per round of `COPY`s (one per table), and so how
/// often it reports progress.
pub const SEED_CHUNK: usize = 10_000;

/// The PostgreSQL store, cheap to clone (clones share the pool and the count cache).
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
    /// Seals and opens the shops' stored secrets (`crate::secrets`).
    secrets: crate::secrets::Secrets,
    /// The tab counts this process computed (`count_cache`).
    counts: std::sync::Arc<count_cache::CountCache>,
    /// The offset from which a page is placed by the tallies (`counts::locate_offset`).
    deep_pages_from: u64,
    /// The delayed orders from which the delayed tab's page walks the list order.
    delayed_walk_from: u64,
}

/// The delayed orders (of a view) from which the delayed tab's page walks the in-transit orders in
/// list order, unless told otherwise: below it, sorting them all costs less than walking past the
/// parcels in transit that are not delayed yet.
pub const DELAYED_WALK_FROM: u64 = 1_000;

/// The offset from which a page is placed by the tallies, unless told otherwise: shallower pages
/// cost less counted off the list index than the tallies' day-by-day sums take to read.
pub const DEEP_PAGES_FROM: u64 = 5_000;

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

/// Opens a transaction, with `statement` as its `BEGIN` (`None`: a plain one), whatever becomes
/// of the caller.
///
/// sqlx 0.8.6 counts a transaction only once its `BEGIN` has been answered. A request dropped while
/// it waited for that answer (its client went away) left the connection inside a transaction sqlx
/// did not know of, and the pool handed it out again: the next statements ran inside it, and after
/// an error every statement on that connection failed ("current transaction is aborted"). So the
/// `BEGIN` runs in a task of its own, which finishes even when the caller is gone; a transaction
/// nobody takes is dropped there, which rolls it back before the connection is used again.
pub(crate) async fn begin(
    pool: &PgPool,
    statement: Option<&'static str>,
) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StoreError> {
    let pool = pool.clone();
    let begun = tokio::spawn(async move {
        match statement {
            Some(statement) => pool.begin_with(statement).await,
            None => pool.begin().await,
        }
    })
    .await;
    match begun {
        Ok(begun) => begun.map_err(classify),
        Err(e) => Err(StoreError::Internal(anyhow::Error::new(e))),
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
    /// The instant they were taken at, and the thresholds they were taken with.
    at: DateTime<Utc>,
    th: Thresholds,
}

impl Cutoffs {
    fn new(now: DateTime<Utc>, th: &Thresholds) -> Self {
        Cutoffs {
            tracking_pending: ceil_micros(now - th.tracking_pending_after),
            delayed: ceil_micros(now - th.delayed_after),
            at: now,
            th: *th,
        }
    }
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
            counts: Default::default(),
            deep_pages_from: DEEP_PAGES_FROM,
            delayed_walk_from: DELAYED_WALK_FROM,
        })
    }

    /// This store, walking the delayed tab in list order from `delayed` delayed orders on (the
    /// tests walk it always, and sort it always, to hold both to the in-memory store).
    pub fn with_delayed_walk_from(mut self, delayed: u64) -> PgStore {
        self.delayed_walk_from = delayed;
        self
    }

    /// This store, placing pages from `offset` rows deep by the tallies (the tests place every
    /// page that way, to hold it to the in-memory store).
    pub fn with_deep_pages_from(mut self, offset: u64) -> PgStore {
        self.deep_pages_from = offset;
        self
    }

    /// This store, keeping at most `bytes` of tab counts (`COUNT_CACHE_BYTES`; 0 keeps none).
    pub fn with_count_cache(mut self, bytes: usize) -> PgStore {
        self.counts = std::sync::Arc::new(count_cache::CountCache::new(bytes));
        self
    }

    /// The tab counts this process keeps.
    pub fn count_cache(&self) -> &count_cache::CountCache {
        &self.counts
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
    /// The pool's connections now: in use, idle, and the most it opens.
    pub fn pool_status(&self) -> PoolStatus {
        let size = self.pool.size();
        let idle = u32::try_from(self.pool.num_idle())
            .unwrap_or(u32::MAX)
            .min(size);
        PoolStatus {
            active: size - idle,
            idle,
            max: self.pool.options().get_max_connections(),
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Folds the changes of the order tallies into the tallies, so that counting stays a sum of
    /// few rows (migration `20261203000001_tallies.sql`). Answers how many change rows were moved
    /// (0 while another fold runs). Counts are exact whether or not this runs; it keeps them fast.
    pub async fn fold_tallies(&self) -> Result<i64, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        counts::fold(&mut conn).await
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
