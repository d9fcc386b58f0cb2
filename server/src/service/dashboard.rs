//! The dashboard's reads as a service: the page's rows, pictures, banners and drawer, from the
//! store of record or, while the database is away (or by choice), from the sample data; and when
//! this process's poller runs next, for the data-gap banner.

use std::time::Instant;

use chrono::{DateTime, Utc};
use orders_core::alerts::{Digest, BANNER_KINDS, BANNER_ORDERS};
use orders_core::locale::ShopClock;
use orders_core::stats::OrderStats;
use orders_core::{ListQuery, Order, OrderList, OrderRef};
use tracing::instrument;

use super::{now, ReadAt, Service, ServiceError, DATABASE_REST};
use crate::store::{Store, StoreError};

impl Service {
    /// The dashboard's banners (SPEC §6, §8): the open alerts of each kind, the first few by name,
    /// from the same store as the page's rows (`true`: the sample data's).
    #[instrument(skip_all, fields(shop = %shop))]
    pub async fn alert_digests(&self, shop: &str) -> Result<(Vec<Digest>, bool), ServiceError> {
        self.with_fallback(shop, ReadAt::Primary, |store, shop| async move {
            store.digests(&shop, &BANNER_KINDS, BANNER_ORDERS).await
        })
        .await
    }

    /// Records when this process's poller starts its next round (`None`: it stops polling).
    pub fn poll_scheduled(&self, at: Option<DateTime<Utc>>) {
        if let Ok(mut next) = self.inner.next_poll.lock() {
            *next = at;
        }
    }

    /// When this process's poller starts its next round, if it polls.
    pub fn next_poll(&self) -> Option<DateTime<Utc>> {
        self.inner.next_poll.lock().ok().and_then(|next| *next)
    }

    /// The dashboard's page: from the store of record, or from the sample data (`true`) when the
    /// database is away or `USE_MOCK_DATA` is set. Back on live data as soon as the database answers.
    pub async fn dashboard_list(
        &self,
        query: &ListQuery,
        at: ReadAt,
    ) -> Result<(OrderList, bool), ServiceError> {
        self.with_fallback(&query.shop_domain, at, |store, shop| async move {
            let mut query = query.clone();
            query.shop_domain = shop;
            self.list_from(&store, &query).await
        })
        .await
    }

    /// Whether the dashboard is leaving the database alone after it failed to answer (for
    /// [`DATABASE_REST`]): its reads answer sample data at once, and its door does not wait on the
    /// database to learn what it would let through anyway.
    pub fn database_resting(&self) -> bool {
        self.inner.sample.is_some()
            && self
                .inner
                .resting_until
                .lock()
                .is_ok_and(|until| until.is_some_and(|t| Instant::now() < t))
    }

    /// Runs a dashboard read on the store of record for `shop`, or on the sample data (for the
    /// sample shop) when the database is unavailable: `true` says the answer is sample data.
    ///
    /// After a failure the database is left alone for [`DATABASE_REST`], so the pages of a
    /// dashboard on sample data answer at once instead of each waiting out a connection timeout;
    /// the first read after the rest tries the database again.
    pub(super) async fn with_fallback<'a, T, F, Fut>(
        &'a self,
        shop: &str,
        at: ReadAt,
        read: F,
    ) -> Result<(T, bool), ServiceError>
    where
        F: Fn(Store, String) -> Fut,
        Fut: std::future::Future<Output = Result<T, StoreError>> + 'a,
    {
        let inner = &self.inner;
        let Some(sample) = &inner.sample else {
            let answer = self
                .read_on(at, |store| read(store, shop.to_owned()))
                .await?;
            return Ok((answer, inner.primary.is_sample()));
        };
        let on_sample = || read(Store::Memory(sample.clone()), inner.sample_shop.clone());
        if self.database_resting() {
            return Ok((on_sample().await?, true));
        }
        match self.read_on(at, |store| read(store, shop.to_owned())).await {
            Ok(answer) => Ok((answer, inner.primary.is_sample())),
            Err(StoreError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "database unavailable; the dashboard shows sample data");
                if let Ok(mut until) = inner.resting_until.lock() {
                    *until = Some(Instant::now() + DATABASE_REST);
                }
                Ok((on_sample().await?, true))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The returns funnel and orders-per-day series of a dashboard view (all its pages), with the
    /// same fallback as [`Service::dashboard_list`].
    pub async fn dashboard_stats(
        &self,
        query: &ListQuery,
        clock: &ShopClock,
        at: ReadAt,
    ) -> Result<(OrderStats, bool), ServiceError> {
        let th = &self.inner.thresholds;
        self.with_fallback(&query.shop_domain, at, |store, shop| async move {
            let mut query = query.clone();
            query.shop_domain = shop;
            store.stats(&query, now(), th, clock).await
        })
        .await
    }

    /// One order for the dashboard's drawer: from the store of record, or from the sample data when
    /// the database is away (the sample shop's orders only).
    pub async fn dashboard_order(
        &self,
        shop: &str,
        order: &OrderRef,
        at: ReadAt,
    ) -> Result<Order, ServiceError> {
        let th = &self.inner.thresholds;
        let (found, _) = self
            .with_fallback(shop, at, |store, shop| async move {
                store.get_order(&shop, order, now(), th).await
            })
            .await?;
        found.ok_or_else(|| ServiceError::NotFound(format!("no order {order} in shop {shop}")))
    }

    /// The shops the dashboard can show, and whether they are the sample data's.
    pub async fn dashboard_shops(&self) -> (Vec<String>, bool) {
        match self.inner.primary.shops().await {
            Ok(shops) => (shops, self.inner.primary.is_sample()),
            Err(_) => (vec![self.inner.sample_shop.clone()], true),
        }
    }
}
