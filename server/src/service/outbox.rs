//! The outbox's queue as a service (SPEC §7): what the outbox worker claims, settles and gives
//! back, and what the `outbox` commands list and revive. Writes queue their events in their own
//! transactions, through the orders service.

use std::time::Duration;

use chrono::{DateTime, Utc};
use orders_core::outbox::OutboxCounts;
use orders_core::OutboxState;

use crate::store::postgres::outbox::{OutboxClaim, OutboxRecord, OutboxRetry};
use crate::store::{PgStore, StoreError};

/// The outbox over PostgreSQL; cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    pg: PgStore,
}

impl Outbox {
    pub fn new(pg: PgStore) -> Self {
        Outbox { pg }
    }

    /// Claims up to `limit` due events of `topics` for `lease`.
    pub async fn claim_outbox(
        &self,
        topics: &[String],
        max_attempts: u32,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<OutboxClaim>, StoreError> {
        self.pg
            .claim_outbox(topics, max_attempts, lease, limit)
            .await
    }

    /// Marks dead the events of `topics` with no attempts left whose lease ran out.
    pub async fn expire_outbox(
        &self,
        topics: &[String],
        max_attempts: u32,
    ) -> Result<u64, StoreError> {
        self.pg.expire_outbox(topics, max_attempts).await
    }

    /// Records an event delivered.
    pub async fn outbox_delivered(&self, id: i64) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.pg.outbox_delivered(id).await
    }

    /// Records a failed attempt, due again `after`.
    pub async fn outbox_retry_later(
        &self,
        claim: &OutboxClaim,
        error: &str,
        after: Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.pg.outbox_retry_later(claim, error, after).await
    }

    /// Records an event dead after its last attempt.
    pub async fn outbox_dead(
        &self,
        claim: &OutboxClaim,
        error: &str,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.pg.outbox_dead(claim, error).await
    }

    /// Gives claims back unsettled.
    pub async fn release_outbox(&self, claims: &[OutboxClaim]) -> Result<u64, StoreError> {
        self.pg.release_outbox(claims).await
    }

    /// The newest events (of `shop`, in `state`, when given) and the counts by state.
    pub async fn outbox_list(
        &self,
        shop: Option<&str>,
        state: Option<OutboxState>,
        limit: usize,
    ) -> Result<(Vec<OutboxRecord>, OutboxCounts), StoreError> {
        self.pg.outbox_list(shop, state, limit).await
    }

    /// Puts a dead event back in the queue.
    pub async fn retry_outbox(&self, id: i64) -> Result<OutboxRetry, StoreError> {
        self.pg.retry_outbox(id).await
    }
}
