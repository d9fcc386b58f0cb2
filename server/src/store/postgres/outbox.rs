//! The outbox in PostgreSQL (SPEC §7): the rows every write queues in its own transaction, as the
//! delivery worker claims and settles them, and as operators list and retry them.
//!
//! Policy:
//! - **Claim.** A due event (`delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()`,
//!   of a topic the worker delivers, with attempts left) is claimed by one statement, its own short
//!   transaction: `FOR UPDATE SKIP LOCKED` picks rows no other worker is claiming, and the `UPDATE`
//!   pushes `next_attempt_at` a lease ahead and counts the attempt. The row is then delivered outside
//!   any transaction. A worker that dies mid-delivery leaves the row claimed; when the lease runs
//!   out it is due again, and another (or the restarted) worker delivers it: at least once.
//! - **Fence.** `attempts`, as the claim left it, proves the claim: a failure is recorded only while
//!   the row still has it, so a worker whose lease ran out (and whose row was claimed again) cannot
//!   overwrite the newer attempt. A success is always recorded: the receiver has the event.
//! - **Order.** An event waits while an earlier event of the same shop, topic and order is neither
//!   delivered nor dead, so one order's events of a topic arrive in the order they were written
//!   (the order's row lock serialises its writes, so ids follow commit order), and a failing event
//!   holds back only its own order's later events of its topic, until it is delivered or dead.
//!   Among the events free to go, the earliest due goes first (ties by id): a new event is due
//!   when written, so a shop's events of a topic go oldest first, and a retried one takes its
//!   turn when its backoff ends.
//! - Times are the database's clock, the one every process shares.

use std::time::Duration;

use chrono::{DateTime, Utc};
use orders_core::outbox::{OutboxCounts, OutboxEntry, OutboxList};
use orders_core::OutboxState;
use sqlx::{Postgres, QueryBuilder};

use super::{begin_read, classify, PgStore};
use crate::store::StoreError;

/// One event a worker claimed, with what its delivery needs.
#[derive(Clone, sqlx::FromRow)]
pub struct OutboxClaim {
    pub id: i64,
    /// The shop's domain.
    pub shop: String,
    pub topic: String,
    pub order_id: String,
    /// Never logged: `Debug` leaves it out.
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// Attempts so far, this one included; also the claim's fence (see the module's policy).
    pub attempts: i32,
    /// Until when the row is this worker's.
    pub lease_until: DateTime<Utc>,
}

impl std::fmt::Debug for OutboxClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxClaim")
            .field("id", &self.id)
            .field("shop", &self.shop)
            .field("topic", &self.topic)
            .field("order_id", &self.order_id)
            .field("attempts", &self.attempts)
            .field("lease_until", &self.lease_until)
            .finish_non_exhaustive()
    }
}

/// An event as operators see it, with its shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRecord {
    pub shop: String,
    pub entry: OutboxEntry,
}

/// What `outbox retry` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxRetry {
    /// The dead event is pending again, with no attempts made.
    Retried { shop: String, topic: String },
    /// The event is not dead: nothing changed.
    NotDead(OutboxState),
    /// No event has this id.
    NotFound,
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    shop: String,
    topic: String,
    order_id: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
    dead_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
}

impl From<EntryRow> for OutboxRecord {
    fn from(r: EntryRow) -> Self {
        let state = OutboxState::of(r.delivered_at, r.dead_at);
        OutboxRecord {
            shop: r.shop,
            entry: OutboxEntry {
                id: r.id,
                topic: r.topic,
                order_id: r.order_id,
                attempts: u32::try_from(r.attempts).unwrap_or(0),
                state,
                next_attempt_at: (state == OutboxState::Pending).then_some(r.next_attempt_at),
                delivered_at: r.delivered_at,
                dead_at: r.dead_at,
                last_error: r.last_error,
                created_at: r.created_at,
            },
        }
    }
}

#[derive(sqlx::FromRow)]
struct CountsRow {
    pending: i64,
    delivered: i64,
    dead: i64,
}

/// A duration in whole milliseconds (at least one), for binding as an interval.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// The condition of each state, on the outbox row `x`.
fn state_condition(state: OutboxState) -> &'static str {
    match state {
        OutboxState::Pending => "x.delivered_at IS NULL AND x.dead_at IS NULL",
        OutboxState::Delivered => "x.delivered_at IS NOT NULL",
        OutboxState::Dead => "x.delivered_at IS NULL AND x.dead_at IS NOT NULL",
    }
}

/// Pushes ` AND s.domain = $shop` when a shop is named.
fn push_shop(qb: &mut QueryBuilder<'_, Postgres>, shop: Option<&str>) {
    if let Some(shop) = shop {
        qb.push(" AND s.domain = ").push_bind(shop.to_owned());
    }
}

impl PgStore {
    /// Claims up to `limit` due events of `topics` for `lease`, earliest due first (see the
    /// module's policy); answers them by id.
    #[tracing::instrument(name = "pg.claim_outbox", skip_all, fields(limit = limit))]
    pub async fn claim_outbox(
        &self,
        topics: &[String],
        max_attempts: u32,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<OutboxClaim>, StoreError> {
        if topics.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // Per topic, the earliest due heads of their orders' queues that no other worker is
        // claiming, through `outbox_due_idx` (a topic that is not delivered is never read, and
        // events waiting out their backoff are outside the index range); then the earliest of all.
        let mut claims = sqlx::query_as::<_, OutboxClaim>(
            "WITH due AS ( \
                 SELECT c.id FROM UNNEST($1::text[]) AS t(topic) \
                 CROSS JOIN LATERAL ( \
                     SELECT p.id, p.next_attempt_at FROM outbox p \
                     WHERE p.topic = t.topic AND p.delivered_at IS NULL AND p.dead_at IS NULL \
                       AND p.next_attempt_at <= now() AND p.attempts < $2 \
                       AND NOT EXISTS ( \
                           SELECT 1 FROM outbox y \
                           WHERE y.topic = p.topic AND y.shop_id = p.shop_id \
                             AND y.order_id = p.order_id AND y.id < p.id \
                             AND y.delivered_at IS NULL AND y.dead_at IS NULL) \
                     ORDER BY p.next_attempt_at, p.id \
                     LIMIT $4 \
                     FOR UPDATE OF p SKIP LOCKED) c \
                 ORDER BY c.next_attempt_at, c.id \
                 LIMIT $4 \
             ) \
             UPDATE outbox o \
             SET attempts = o.attempts + 1, next_attempt_at = now() + $3 * interval '1 millisecond' \
             FROM due, shops s \
             WHERE o.id = due.id AND s.id = o.shop_id \
             RETURNING o.id, s.domain AS shop, o.topic, o.order_id, o.payload, o.created_at, \
                       o.attempts, o.next_attempt_at AS lease_until",
        )
        .bind(topics)
        .bind(i32::try_from(max_attempts).unwrap_or(i32::MAX))
        .bind(millis(lease))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        claims.sort_unstable_by_key(|c| c.id);
        Ok(claims)
    }

    /// Marks dead the due events of `topics` with no attempts left: those whose last attempt never
    /// reported back (its worker stopped, and the lease ran out), or that had used up a lower
    /// `max_attempts` than this one. Answers how many.
    #[tracing::instrument(name = "pg.expire_outbox", skip_all)]
    pub async fn expire_outbox(
        &self,
        topics: &[String],
        max_attempts: u32,
    ) -> Result<u64, StoreError> {
        if topics.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(
            "UPDATE outbox x SET dead_at = now(), \
                 last_error = 'no attempts left (' || x.attempts || ' made, the limit is ' || $2 || ')' \
                     || COALESCE('; the last error: ' || x.last_error, '; the last one never reported back') \
             WHERE x.delivered_at IS NULL AND x.dead_at IS NULL AND x.next_attempt_at <= now() \
               AND x.topic = ANY($1) AND x.attempts >= $2",
        )
        .bind(topics)
        .bind(i32::try_from(max_attempts).unwrap_or(i32::MAX))
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected())
    }

    /// Records that the receiver accepted event `id`; answers when, or `None` when it was already
    /// recorded (another worker delivered it too).
    #[tracing::instrument(name = "pg.outbox_delivered", skip_all, fields(id = id))]
    pub async fn outbox_delivered(&self, id: i64) -> Result<Option<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar(
            "UPDATE outbox SET delivered_at = now(), dead_at = NULL, last_error = NULL \
             WHERE id = $1 AND delivered_at IS NULL RETURNING delivered_at",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    /// Records a failed attempt of a claim that still holds: `error`, and the next attempt `after`
    /// from now. Answers when that is, or `None` when the claim no longer holds.
    #[tracing::instrument(name = "pg.outbox_retry_later", skip_all, fields(id = claim.id))]
    pub async fn outbox_retry_later(
        &self,
        claim: &OutboxClaim,
        error: &str,
        after: Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar(
            "UPDATE outbox SET last_error = $3, next_attempt_at = now() + $4 * interval '1 millisecond' \
             WHERE id = $1 AND attempts = $2 AND delivered_at IS NULL AND dead_at IS NULL \
             RETURNING next_attempt_at",
        )
        .bind(claim.id)
        .bind(claim.attempts)
        .bind(error)
        .bind(millis(after))
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    /// Records the last failed attempt of a claim that still holds: the event is dead, with
    /// `error`. Answers when, or `None` when the claim no longer holds.
    #[tracing::instrument(name = "pg.outbox_dead", skip_all, fields(id = claim.id))]
    pub async fn outbox_dead(
        &self,
        claim: &OutboxClaim,
        error: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        sqlx::query_scalar(
            "UPDATE outbox SET last_error = $3, dead_at = now() \
             WHERE id = $1 AND attempts = $2 AND delivered_at IS NULL AND dead_at IS NULL \
             RETURNING dead_at",
        )
        .bind(claim.id)
        .bind(claim.attempts)
        .bind(error)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    /// Gives back claims a stopping worker will not settle: due again at once (their attempt is
    /// still counted, as the receiver may have had it). Answers how many were still held.
    #[tracing::instrument(name = "pg.release_outbox", skip_all, fields(claims = claims.len()))]
    pub async fn release_outbox(&self, claims: &[OutboxClaim]) -> Result<u64, StoreError> {
        if claims.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = claims.iter().map(|c| c.id).collect();
        let attempts: Vec<i32> = claims.iter().map(|c| c.attempts).collect();
        let done = sqlx::query(
            "UPDATE outbox o SET next_attempt_at = now() \
             FROM UNNEST($1::bigint[], $2::integer[]) AS c(id, attempts) \
             WHERE o.id = c.id AND o.attempts = c.attempts \
               AND o.delivered_at IS NULL AND o.dead_at IS NULL",
        )
        .bind(ids)
        .bind(attempts)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected())
    }

    /// The newest `limit` events of `shop` (every shop when `None`) in `state` (any when `None`),
    /// newest first, and how many of that shop's events are in each state: one snapshot.
    #[tracing::instrument(name = "pg.outbox_list", skip_all, fields(shop = shop.unwrap_or("*")))]
    pub async fn outbox_list(
        &self,
        shop: Option<&str>,
        state: Option<OutboxState>,
        limit: usize,
    ) -> Result<(Vec<OutboxRecord>, OutboxCounts), StoreError> {
        let mut tx = begin_read(&self.pool).await?;
        let mut qb = QueryBuilder::<Postgres>::new(
            "SELECT x.id, s.domain AS shop, x.topic, x.order_id, x.attempts, x.next_attempt_at, \
                    x.delivered_at, x.dead_at, x.last_error, x.created_at \
             FROM outbox x JOIN shops s ON s.id = x.shop_id WHERE TRUE",
        );
        push_shop(&mut qb, shop);
        if let Some(state) = state {
            qb.push(" AND ").push(state_condition(state));
        }
        qb.push(" ORDER BY x.id DESC LIMIT ")
            .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
        let rows = qb
            .build_query_as::<EntryRow>()
            .fetch_all(&mut *tx)
            .await
            .map_err(classify)?;

        let mut qb = QueryBuilder::<Postgres>::new("SELECT");
        for (state, alias) in [
            (OutboxState::Pending, "pending"),
            (OutboxState::Delivered, "delivered"),
            (OutboxState::Dead, "dead"),
        ] {
            if state != OutboxState::Pending {
                qb.push(",");
            }
            qb.push(" count(*) FILTER (WHERE ")
                .push(state_condition(state))
                .push(") AS ")
                .push(alias);
        }
        qb.push(" FROM outbox x JOIN shops s ON s.id = x.shop_id WHERE TRUE");
        push_shop(&mut qb, shop);
        let c = qb
            .build_query_as::<CountsRow>()
            .fetch_one(&mut *tx)
            .await
            .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        let counts = OutboxCounts {
            pending: count(c.pending),
            delivered: count(c.delivered),
            dead: count(c.dead),
        };
        Ok((rows.into_iter().map(OutboxRecord::from).collect(), counts))
    }

    /// [`PgStore::outbox_list`] for one shop, as `GET /sync/outbox` answers.
    pub async fn outbox_entries(
        &self,
        shop: &str,
        state: Option<OutboxState>,
        limit: usize,
    ) -> Result<OutboxList, StoreError> {
        let (records, counts) = self.outbox_list(Some(shop), state, limit).await?;
        Ok(OutboxList {
            events: records.into_iter().map(|r| r.entry).collect(),
            counts,
        })
    }

    /// Puts the dead event `id` back in the queue: pending, due now, no attempts made (its last
    /// error is kept until the next attempt).
    #[tracing::instrument(name = "pg.retry_outbox", skip_all, fields(id = id))]
    pub async fn retry_outbox(&self, id: i64) -> Result<OutboxRetry, StoreError> {
        let retried = sqlx::query_as::<_, (String, String)>(
            "UPDATE outbox x SET dead_at = NULL, attempts = 0, next_attempt_at = now() \
             FROM shops s \
             WHERE x.id = $1 AND s.id = x.shop_id AND x.dead_at IS NOT NULL AND x.delivered_at IS NULL \
             RETURNING s.domain, x.topic",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        if let Some((shop, topic)) = retried {
            return Ok(OutboxRetry::Retried { shop, topic });
        }
        let found = sqlx::query_as::<_, (Option<DateTime<Utc>>, Option<DateTime<Utc>>)>(
            "SELECT delivered_at, dead_at FROM outbox WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(match found {
            Some((delivered, dead)) => OutboxRetry::NotDead(OutboxState::of(delivered, dead)),
            None => OutboxRetry::NotFound,
        })
    }
}
