//! Registered shops as a service: registration by hand (`shop add`), the managed install's state
//! and offline tokens (SPEC §10), and seeding a shop's orders (`seed`, `seed-bench`).

use chrono::{DateTime, Utc};
use orders_core::record::OrderRecord;
use sqlx::{Postgres, Transaction};

use crate::store::postgres::install::{InstallState, OfflineToken};
use crate::store::postgres::shopify::ShopSummary;
use crate::store::{PgStore, ShopRegistration, StoreError};

/// A shop's install lock, held until its token is stored or the lock released.
pub type InstallLock = Transaction<'static, Postgres>;

/// The shops over PostgreSQL; cheap to clone.
#[derive(Clone)]
pub struct Shops {
    pg: PgStore,
}

impl Shops {
    pub fn new(pg: PgStore) -> Self {
        Shops { pg }
    }

    /// Registers `shop`, or updates its secrets.
    pub async fn register_shop(
        &self,
        shop: &str,
        webhook_secret: &str,
        access_token: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<ShopRegistration, StoreError> {
        self.pg
            .register_shop(shop, webhook_secret, access_token, now)
            .await
    }

    /// Every registered shop, without its secrets.
    pub async fn shop_summaries(&self) -> Result<Vec<ShopSummary>, StoreError> {
        self.pg.shop_summaries().await
    }

    /// `shop`'s install state, if it is registered.
    pub async fn install_state(&self, shop: &str) -> Result<Option<InstallState>, StoreError> {
        self.pg.install_state(shop).await
    }

    /// Takes `shop`'s install lock and reads its state again under it.
    pub async fn lock_install(
        &self,
        shop: &str,
    ) -> Result<(InstallLock, Option<InstallState>), StoreError> {
        self.pg.lock_install(shop).await
    }

    /// Releases an install lock without changing anything.
    pub async fn release_install(&self, lock: InstallLock) -> Result<(), StoreError> {
        self.pg.release_install(lock).await
    }

    /// Stores `shop`'s new offline token under its install lock (registering the shop), and
    /// releases the lock.
    pub async fn store_offline_token(
        &self,
        lock: InstallLock,
        shop: &str,
        token: &OfflineToken,
    ) -> Result<(), StoreError> {
        self.pg.store_offline_token(lock, shop, token).await
    }

    /// Keeps `shop`'s time zone as Shopify names it (`ianaTimezone`).
    pub async fn set_time_zone(&self, shop: &str, zone: &str) -> Result<(), StoreError> {
        self.pg.set_shop_time_zone(shop, zone).await
    }

    /// `shop`'s time zone as Shopify named it, if it is known.
    pub async fn time_zone(&self, shop: &str) -> Result<Option<String>, StoreError> {
        self.pg.shop_time_zone(shop).await
    }

    /// Replaces `shop`'s orders with `records` (registering the shop if new), calling `progress`
    /// with the number written so far.
    pub async fn replace_orders_with_progress(
        &self,
        shop: &str,
        records: &[OrderRecord],
        progress: impl FnMut(usize),
    ) -> Result<(), StoreError> {
        self.pg
            .replace_orders_with_progress(shop, records, progress)
            .await
    }

    /// Refreshes the planner's statistics of the order tables, after a bulk seed.
    pub async fn analyze_orders(&self) -> Result<(), sqlx::Error> {
        self.pg.analyze_orders().await
    }
}
