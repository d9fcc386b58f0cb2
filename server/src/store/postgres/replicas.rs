//! Read replicas (`DATABASE_REPLICA_URLS`): PostgreSQL streaming replicas that serve the list,
//! its counts, one order and the export, and which of them may serve a given read.
//!
//! - **With a position** (`X-Sync-Min-Position`, a write's `X-Sync-Position` sent back): a replica
//!   serves the read only once it has replayed that far; else the primary does. What the sampler
//!   last saw answers most reads; a replica seen short of the position is asked once more, live,
//!   before the read goes to the primary. Replay only moves forward, so a snapshot taken after
//!   either answer holds the write.
//! - **Without one**: a replica serves the read when it is within `REPLICA_MAX_LAG` of the primary.
//!   Lag is judged against the primary's own clock: the sampler reads the primary's write-ahead
//!   log position every [`SAMPLE_EVERY`] and keeps when it first saw each one; a replica's lag is
//!   the age of the oldest position it has not replayed (zero once it has replayed the last one
//!   seen). A replica cannot judge this alone: while its stream stalls, its own view says it is
//!   up to date.
//! - A replica not sampled lately (down, unreachable, or not a replica at all) serves nothing
//!   until it is; a read that fails on a replica is read again on the primary.
//!
//! Writes, ingestion, `LISTEN` and every other read stay on the primary.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use orders_core::position::Position;

use super::{classify, PgStore};
use crate::store::StoreError;

/// How often the sampler reads the positions of the primary and of each replica.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(100);
/// How long one sample may take before the copy counts as not answering.
pub const SAMPLE_WAIT: Duration = Duration::from_millis(500);
/// How old a replica's last sample may be for it to serve reads.
pub const FRESH_FOR: Duration = Duration::from_secs(1);
/// How long a live "replayed that far yet?" may take before the primary serves the read instead.
pub const LIVE_CHECK_WAIT: Duration = Duration::from_millis(100);
/// How much of the primary's history the sampler keeps: far more than any lag a replica may have
/// and still serve.
const HISTORY: Duration = Duration::from_secs(60);

/// The replicas of one primary, with what the sampler last saw of them.
#[derive(Debug)]
pub struct Replicas {
    /// The primary, whose position the sampler reads.
    of: PgStore,
    members: Vec<Replica>,
    max_lag: Duration,
    primary: Mutex<History>,
    /// Where the next read starts looking, so that reads spread over the replicas.
    next: AtomicUsize,
    /// The position of the last change to each shop this process heard of (the refresh
    /// notifications carry it).
    heard: Mutex<HashMap<String, Position>>,
}

#[derive(Debug)]
struct Replica {
    store: PgStore,
    /// Its URL without the password, for the logs.
    name: String,
    seen: Mutex<Option<Seen>>,
}

/// What a replica had replayed, and when the sampler saw it.
#[derive(Debug, Clone, Copy)]
struct Seen {
    replayed: Position,
    at: Instant,
}

/// The primary's write-ahead log positions over the last [`HISTORY`], each with when it was first
/// seen, oldest first.
#[derive(Debug, Default)]
struct History {
    positions: VecDeque<(Position, Instant)>,
    /// When the primary last answered.
    last_at: Option<Instant>,
}

impl History {
    fn record(&mut self, position: Position, at: Instant) {
        if self.positions.back().is_none_or(|(p, _)| *p < position) {
            self.positions.push_back((position, at));
        }
        self.last_at = Some(at);
        // The newest position stays, however old: it is the one a caught-up replica has.
        while self.positions.len() > 1
            && self
                .positions
                .get(1)
                .is_some_and(|(_, seen)| at.duration_since(*seen) > HISTORY)
        {
            self.positions.pop_front();
        }
    }

    /// How far behind the primary a copy that has replayed `replayed` is at `now`: zero when it
    /// has the last position seen, else the time since the primary first had a position the copy
    /// lacks (at least that: older positions may have left the history). `None`: the primary has
    /// not answered within [`FRESH_FOR`], so nothing can be judged.
    fn lag(&self, replayed: Position, now: Instant) -> Option<Duration> {
        let last_at = self.last_at?;
        if now.duration_since(last_at) > FRESH_FOR {
            return None;
        }
        let (last, _) = self.positions.back()?;
        if replayed >= *last {
            return Some(Duration::ZERO);
        }
        let missing_since = self
            .positions
            .iter()
            .find(|(p, _)| *p > replayed)
            .map(|(_, seen)| *seen)?;
        Some(now.duration_since(missing_since))
    }
}

impl Replicas {
    /// The replicas at `urls` of the primary `primary` (sharing its count cache and settings), a
    /// replica serving reads within `max_lag`. Connects lazily: a replica that is down at start-up
    /// serves nothing until the sampler reaches it.
    pub fn new(
        primary: &PgStore,
        urls: &[String],
        max_lag: Duration,
        max_connections: u32,
    ) -> Result<Replicas, sqlx::Error> {
        let members = urls
            .iter()
            .map(|url| {
                Ok(Replica {
                    store: primary.on_replica(url, max_connections)?,
                    name: crate::settings::redact(url),
                    seen: Mutex::new(None),
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()?;
        Ok(Replicas {
            of: primary.clone(),
            members,
            max_lag,
            primary: Mutex::new(History::default()),
            next: AtomicUsize::new(0),
            heard: Mutex::new(HashMap::new()),
        })
    }

    /// Notes a change to `shop` that had committed by `position`.
    pub fn heard(&self, shop: &str, position: Position) {
        let mut heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
        let last = heard.entry(shop.to_owned()).or_insert(position);
        *last = (*last).max(position);
    }

    /// The position of the last change to `shop` this process heard of, if any: a read of the
    /// shop that must not miss it needs a copy that has replayed that far.
    pub fn floor(&self, shop: &str) -> Option<Position> {
        let heard = self.heard.lock().unwrap_or_else(|p| p.into_inner());
        heard.get(shop).copied()
    }

    /// How many replicas there are.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// A replica that may serve a read at `min` (see the module's documentation), or `None` for
    /// the primary.
    pub async fn reader(&self, min: Option<Position>) -> Option<PgStore> {
        let n = self.members.len();
        if n == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let seen: Vec<Option<Seen>> = self.members.iter().map(Replica::seen).collect();
        let fresh = |i: usize| seen[i].filter(|s| now.duration_since(s.at) <= FRESH_FOR);
        let order = (0..n).map(|k| (start + k) % n);
        match min {
            Some(min) => {
                for i in order.clone() {
                    if fresh(i).is_some_and(|s| s.replayed >= min) {
                        return Some(self.members[i].store.clone());
                    }
                }
                // None had replayed that far when last sampled: ask the first live one again.
                for i in order {
                    if fresh(i).is_some() && self.members[i].replayed_live(min).await {
                        return Some(self.members[i].store.clone());
                    }
                }
                None
            }
            None => {
                let history = self.primary.lock().unwrap_or_else(|p| p.into_inner());
                order
                    .into_iter()
                    .find(|&i| {
                        fresh(i).is_some_and(|s| {
                            history
                                .lag(s.replayed, now)
                                .is_some_and(|lag| lag <= self.max_lag)
                        })
                    })
                    .map(|i| self.members[i].store.clone())
            }
        }
    }

    /// One round of the sampler: the primary's position, then each replica's replay position.
    /// A copy that does not answer within [`SAMPLE_WAIT`] keeps its last sample, which ages out.
    pub async fn sample(&self) {
        match tokio::time::timeout(SAMPLE_WAIT, self.of.wal_position()).await {
            Ok(Ok(position)) => self.record_primary(position),
            Ok(Err(e)) => tracing::debug!(error = %e, "could not sample the primary's position"),
            Err(_) => tracing::debug!("the primary's position took too long to sample"),
        }
        let rounds = self.members.iter().map(|replica| async move {
            let sampled = tokio::time::timeout(SAMPLE_WAIT, replica.store.replayed_position()).await;
            let at = Instant::now();
            match sampled {
                Ok(Ok(Some(replayed))) => {
                    let mut seen = replica.seen.lock().unwrap_or_else(|p| p.into_inner());
                    if seen.is_none() {
                        tracing::info!(replica = %replica.name, "replica streaming: it serves reads");
                    }
                    *seen = Some(Seen { replayed, at });
                }
                Ok(Ok(None)) => replica.lost("it is not a replica (no replay position)"),
                Ok(Err(e)) => replica.lost(&e.to_string()),
                Err(_) => replica.lost("its position took too long to read"),
            }
        });
        futures::future::join_all(rounds).await;
    }

    /// Records the primary's position, sampled now.
    fn record_primary(&self, position: Position) {
        self.primary
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .record(position, Instant::now());
    }

    /// For each replica: its name, the position it had replayed when last sampled, and its lag
    /// behind the primary then (`None` when it cannot be judged).
    pub fn status(&self) -> Vec<(String, Option<Position>, Option<Duration>)> {
        let now = Instant::now();
        let history = self.primary.lock().unwrap_or_else(|p| p.into_inner());
        self.members
            .iter()
            .map(|r| {
                let seen = r.seen();
                let lag = seen.and_then(|s| history.lag(s.replayed, now));
                (r.name.clone(), seen.map(|s| s.replayed), lag)
            })
            .collect()
    }
}

impl Replica {
    fn seen(&self) -> Option<Seen> {
        *self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the replica has replayed `min` by now, asked live (false if it does not answer at
    /// once).
    async fn replayed_live(&self, min: Position) -> bool {
        let asked = tokio::time::timeout(LIVE_CHECK_WAIT, self.store.replayed_position()).await;
        match asked {
            Ok(Ok(Some(replayed))) => {
                let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
                *seen = Some(Seen {
                    replayed,
                    at: Instant::now(),
                });
                replayed >= min
            }
            _ => false,
        }
    }

    /// Forgets what was seen of a replica that stopped answering (said once, not every round).
    fn lost(&self, why: &str) {
        if self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .is_some()
        {
            tracing::warn!(replica = %self.name, why, "replica left: the primary serves its reads");
        } else {
            tracing::debug!(replica = %self.name, why, "replica still not answering");
        }
    }
}

impl PgStore {
    /// A store of the same settings and count cache over the replica at `url`: only its reads are
    /// ever used.
    pub fn on_replica(&self, url: &str, max_connections: u32) -> Result<PgStore, sqlx::Error> {
        let mut replica = PgStore::connect_lazy_with(url, max_connections)?;
        replica.secrets = self.secrets.clone();
        replica.counts = self.counts.clone();
        replica.deep_pages_from = self.deep_pages_from;
        replica.delayed_walk_from = self.delayed_walk_from;
        Ok(replica)
    }

    /// The primary's write-ahead log position now: at or past the end of every transaction
    /// committed before it was asked, flushed or not (`synchronous_commit = off` acknowledges a
    /// commit before its flush).
    pub async fn wal_position(&self) -> Result<Position, StoreError> {
        let text: String = sqlx::query_scalar("SELECT pg_current_wal_insert_lsn()::text")
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        parse_lsn(&text)
    }

    /// How far a replica has replayed the primary's log (`None`: this is not a replica).
    pub async fn replayed_position(&self) -> Result<Option<Position>, StoreError> {
        let text: Option<String> = sqlx::query_scalar("SELECT pg_last_wal_replay_lsn()::text")
            .fetch_one(&self.pool)
            .await
            .map_err(classify)?;
        text.as_deref().map(parse_lsn).transpose()
    }
}

/// A `pg_lsn` as PostgreSQL prints it.
fn parse_lsn(text: &str) -> Result<Position, StoreError> {
    text.parse().map_err(|e| {
        StoreError::Internal(anyhow::anyhow!(
            "PostgreSQL gave the log position {text:?}: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(start: Instant, ms: u64) -> Instant {
        start + Duration::from_millis(ms)
    }

    #[test]
    fn lag_is_the_age_of_the_oldest_position_not_replayed() {
        let t0 = Instant::now();
        let mut h = History::default();
        h.record(Position(100), at(t0, 0));
        h.record(Position(100), at(t0, 100));
        h.record(Position(200), at(t0, 200));
        h.record(Position(300), at(t0, 300));
        h.record(Position(300), at(t0, 400));
        let now = at(t0, 450);
        assert_eq!(h.lag(Position(300), now), Some(Duration::ZERO));
        assert_eq!(h.lag(Position(400), now), Some(Duration::ZERO));
        // It has 200 but not 300, which the primary first had at 300 ms.
        assert_eq!(h.lag(Position(250), now), Some(Duration::from_millis(150)));
        assert_eq!(h.lag(Position(200), now), Some(Duration::from_millis(150)));
        assert_eq!(h.lag(Position(150), now), Some(Duration::from_millis(250)));
        assert_eq!(h.lag(Position(50), now), Some(Duration::from_millis(450)));
    }

    #[test]
    fn an_idle_primary_lags_no_replica_that_has_its_last_position() {
        let t0 = Instant::now();
        let mut h = History::default();
        h.record(Position(100), t0);
        for s in 1..=1000 {
            h.record(Position(100), at(t0, s * 100));
        }
        assert_eq!(h.positions.len(), 1);
        assert_eq!(h.lag(Position(100), at(t0, 100_050)), Some(Duration::ZERO));
        // A stalled replica is judged by the primary's clock, not its own.
        h.record(Position(200), at(t0, 100_100));
        assert_eq!(
            h.lag(Position(100), at(t0, 102_100)),
            None,
            "the primary was not sampled lately"
        );
        h.record(Position(200), at(t0, 102_100));
        assert_eq!(
            h.lag(Position(100), at(t0, 102_100)),
            Some(Duration::from_secs(2))
        );
    }

    #[tokio::test]
    async fn the_floor_of_a_shop_is_the_last_change_heard_of() {
        let primary = PgStore::connect_lazy("postgres://nobody@127.0.0.1:1/none").unwrap();
        let replicas = Replicas::new(&primary, &[], Duration::from_secs(1), 1).unwrap();
        assert_eq!(replicas.floor("a.myshopify.com"), None);
        replicas.heard("a.myshopify.com", Position(120));
        replicas.heard("a.myshopify.com", Position(100));
        assert_eq!(replicas.floor("a.myshopify.com"), Some(Position(120)));
        assert_eq!(replicas.floor("b.myshopify.com"), None);
    }

    #[test]
    fn history_keeps_a_minute() {
        let t0 = Instant::now();
        let mut h = History::default();
        for s in 0..1200u64 {
            h.record(Position(s), at(t0, s * 100));
        }
        let kept = h.positions.len() as u64;
        assert!((600..=602).contains(&kept), "{kept}");
        // Older than the history: at least its span.
        let lag = h.lag(Position(0), at(t0, 119_900)).unwrap();
        assert!(lag >= HISTORY, "{lag:?}");
    }
}
