//! The one service layer: every read and write of orders goes through here, whether it arrives at
//! the Sync API (`/sync/orders*`) or from the dashboard's server functions. The doors parse and map;
//! the rules live in the core and the stores.
//!
//! Two stores: `primary` answers the API (PostgreSQL, or the sample store under `USE_MOCK_DATA`);
//! `sample` is the in-memory fallback the dashboard shows, under a banner, while the database is away.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use orders_core::record::to_micros;
use orders_core::{
    AssignCommand, AssignedOrder, Envelope, EscalatedOrder, FulfillCommand, FulfilledOrder,
    ListQuery, Order, OrderList, OrderRef, ReturnCommand, SupportCommand, Thresholds,
};
use tracing::instrument;

use crate::error::ApiError;
use crate::store::{MemoryStore, Store, StoreError};

/// The error of the service layer is the error of the HTTP boundary.
pub type ServiceError = ApiError;

/// The service, cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    primary: Store,
    sample: Option<MemoryStore>,
    sample_shop: String,
    thresholds: Thresholds,
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn now() -> DateTime<Utc> {
    to_micros(Utc::now())
}

impl Service {
    /// A service over `primary`, falling back to `sample` (holding `sample_shop`) for the dashboard.
    pub fn new(
        primary: Store,
        sample: Option<MemoryStore>,
        sample_shop: String,
        thresholds: Thresholds,
    ) -> Self {
        Service {
            inner: Arc::new(Inner {
                primary,
                sample,
                sample_shop,
                thresholds,
            }),
        }
    }

    /// The store of record.
    pub fn store(&self) -> &Store {
        &self.inner.primary
    }

    /// The shop the sample data holds.
    pub fn sample_shop(&self) -> &str {
        &self.inner.sample_shop
    }

    /// The alert thresholds in force.
    pub fn thresholds(&self) -> &Thresholds {
        &self.inner.thresholds
    }

    /// One page of `GET /sync/orders`.
    #[instrument(skip_all, fields(shop = %query.shop_domain, tab = %query.tab))]
    pub async fn list_orders(&self, query: &ListQuery) -> Result<OrderList, ApiError> {
        Ok(self.list_from(&self.inner.primary, query).await?)
    }

    async fn list_from(&self, store: &Store, query: &ListQuery) -> Result<OrderList, StoreError> {
        let window = query.window();
        let page = store
            .list_orders(query, window, now(), &self.inner.thresholds)
            .await?;
        let total = page.counts.get(query.tab);
        Ok(OrderList {
            page_info: window.page_info(page.orders.len(), total),
            orders: page.orders,
            counts: page.counts,
            shopify_cursor: page.shopify_cursor,
        })
    }

    /// One order of a shop (`GET /sync/orders/{id}`).
    #[instrument(skip_all, fields(shop = %shop, order = %order))]
    pub async fn get_order(&self, shop: &str, order: &OrderRef) -> Result<Order, ApiError> {
        self.inner
            .primary
            .get_order(shop, order, now(), &self.inner.thresholds)
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no order {order} in shop {shop}")))
    }

    /// `POST /sync/orders/assign`.
    #[instrument(skip_all, fields(shop = %cmd.shop_domain, orders = cmd.orders.len()))]
    pub async fn assign(&self, cmd: &AssignCommand) -> Result<Envelope<AssignedOrder>, ApiError> {
        let updated = self.inner.primary.assign(cmd, now()).await?;
        let orders = plural(updated.len(), "order", "orders");
        let message = match &cmd.assignee {
            Some(name) => format!("Assigned {orders} to {name}"),
            None => format!("Unassigned {orders}"),
        };
        Ok(Envelope::ok(message, updated))
    }

    /// `POST /sync/orders/fulfill`.
    #[instrument(skip_all, fields(shop = %cmd.shop_domain, orders = cmd.orders.len()))]
    pub async fn fulfill(
        &self,
        cmd: &FulfillCommand,
    ) -> Result<Envelope<FulfilledOrder>, ApiError> {
        let updated = self.inner.primary.fulfill(cmd, now()).await?;
        let mut message = format!(
            "Marked {} as fulfilled",
            plural(updated.len(), "order", "orders")
        );
        if let Some(t) = &cmd.tracking {
            message.push_str(&format!(" with tracking {} ({})", t.number, t.carrier));
        }
        Ok(Envelope::ok(message, updated))
    }

    /// `POST /sync/orders/support`; the thread is the conversation id, or a new one.
    #[instrument(skip_all, fields(shop = %cmd.shop_domain, order = %cmd.order))]
    pub async fn escalate(
        &self,
        cmd: &SupportCommand,
    ) -> Result<Envelope<EscalatedOrder>, ApiError> {
        let thread = cmd
            .conversation_id
            .clone()
            .unwrap_or_else(|| format!("sup_{}", uuid::Uuid::new_v4().simple()));
        let updated = self.inner.primary.escalate(cmd, &thread, now()).await?;
        let message = format!(
            "Support requested for order {} (thread {thread})",
            cmd.order
        );
        Ok(Envelope::ok(message, vec![updated]))
    }

    /// `POST /sync/orders/returns`.
    #[instrument(skip_all, fields(shop = %cmd.shop_domain, order = %cmd.order, action = %cmd.action))]
    pub async fn apply_return_action(
        &self,
        cmd: &ReturnCommand,
    ) -> Result<Envelope<serde_json::Value>, ApiError> {
        let plan = self.inner.primary.apply_return_action(cmd, now()).await?;
        let message = format!(
            "Return updated for order {}: {} → {}",
            cmd.order, plan.from, plan.to
        );
        Ok(Envelope::ok(message, Vec::new()))
    }

    /// The dashboard's page: from the store of record, or from the sample data (`true`) when the
    /// database is away or `USE_MOCK_DATA` is set. Back on live data as soon as the database answers.
    pub async fn dashboard_list(&self, query: &ListQuery) -> Result<(OrderList, bool), ApiError> {
        match self.list_from(&self.inner.primary, query).await {
            Ok(list) => Ok((list, self.inner.primary.is_sample())),
            Err(StoreError::Unavailable(cause)) if self.inner.sample.is_some() => {
                tracing::warn!(error = %cause, "database unavailable; the dashboard shows sample data");
                let sample = Store::Memory(self.inner.sample.clone().expect("checked above"));
                let mut fallback = query.clone();
                fallback.shop_domain = self.inner.sample_shop.clone();
                Ok((self.list_from(&sample, &fallback).await?, true))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// One order for the dashboard's drawer: from the store of record, or from the sample data when
    /// the database is away (the sample shop's orders only).
    pub async fn dashboard_order(&self, shop: &str, order: &OrderRef) -> Result<Order, ApiError> {
        let th = &self.inner.thresholds;
        let found = match self.inner.primary.get_order(shop, order, now(), th).await {
            Err(StoreError::Unavailable(cause)) if self.inner.sample.is_some() => {
                tracing::warn!(error = %cause, "database unavailable; the drawer shows sample data");
                let sample = Store::Memory(self.inner.sample.clone().expect("checked above"));
                sample.get_order(shop, order, now(), th).await?
            }
            other => other?,
        };
        found.ok_or_else(|| ApiError::NotFound(format!("no order {order} in shop {shop}")))
    }

    /// The shops the dashboard can show, and whether they are the sample data's.
    pub async fn dashboard_shops(&self) -> (Vec<String>, bool) {
        match self.inner.primary.shops().await {
            Ok(shops) => (shops, self.inner.primary.is_sample()),
            Err(_) => (vec![self.inner.sample_shop.clone()], true),
        }
    }
}
