//! Ingestion from Shopify (SPEC §7) as a service: a webhook delivery's gate and its fact, the
//! poller's lease on a shop and the pages it stores, and the backfill. One transaction per fact,
//! in the store; the doors and workers that call it hold this, not the store.

use chrono::{DateTime, Utc};
use orders_core::alerts::Refresh;
use orders_core::shopify::Ingest;

use crate::store::postgres::lifecycle::DeliveryGate;
use crate::store::postgres::shopify::{PollEnd, PollLease, PollTarget};
use crate::store::{Delivery, IngestOutcome, PgStore, StoreError};

/// Ingestion over PostgreSQL; cheap to clone.
#[derive(Clone)]
pub struct Ingestion {
    pg: PgStore,
}

impl Ingestion {
    pub fn new(pg: PgStore) -> Self {
        Ingestion { pg }
    }

    /// A delivery's shop (its secrets and state) and whether its webhook id was seen, in one read.
    pub async fn delivery_gate(
        &self,
        shop: &str,
        webhook_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DeliveryGate, StoreError> {
        self.pg.delivery_gate(shop, webhook_id, now).await
    }

    /// Applies one fact about one of `shop`'s orders (with its delivery, from a webhook).
    pub async fn ingest(
        &self,
        shop: &str,
        delivery: Option<&Delivery>,
        fact: &Ingest,
        now: DateTime<Utc>,
    ) -> Result<IngestOutcome, StoreError> {
        self.pg.ingest(shop, delivery, fact, now).await
    }

    /// The shops with an access token, and when each was last polled.
    pub async fn shops_to_poll(&self) -> Result<Vec<PollTarget>, StoreError> {
        self.pg.shops_to_poll().await
    }

    /// Takes `shop` for one tick, for `lease`.
    pub async fn claim_poll(
        &self,
        shop: &str,
        lease: chrono::Duration,
    ) -> Result<PollLease, StoreError> {
        self.pg.claim_poll(shop, lease).await
    }

    /// Extends a tick's lease held until `held`; `None` when it was lost.
    pub async fn renew_poll(
        &self,
        shop_id: i64,
        held: DateTime<Utc>,
        lease: chrono::Duration,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.pg.renew_poll(shop_id, held, lease).await
    }

    /// Ends a tick, releasing its lease; `false` when it was lost.
    pub async fn finish_poll(
        &self,
        shop_id: i64,
        held: DateTime<Utc>,
        end: PollEnd<'_>,
    ) -> Result<bool, StoreError> {
        self.pg.finish_poll(shop_id, held, end).await
    }

    /// Forgets the webhook ids received before `before`; answers how many.
    pub async fn prune_webhooks(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.pg.prune_webhooks(before).await
    }

    /// A shop's access token: `None` for an unknown shop, `Some(None)` for one without.
    pub async fn access_token(&self, shop: &str) -> Result<Option<Option<String>>, StoreError> {
        self.pg.access_token(shop).await
    }

    /// Tells every process's open dashboards of `shop` to reload.
    pub async fn notify_refresh(&self, shop: &str, refresh: Refresh) -> Result<(), StoreError> {
        self.pg.notify_refresh(shop, refresh).await
    }
}
