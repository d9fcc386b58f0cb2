//! The port the dashboard needs from the server: one page of orders and the list of shops. The
//! server implements it over its service layer and hands it to the server functions through
//! context, so this crate never sees a store, a pool or a setting.

/// What the dashboard asks of Sync.
#[async_trait::async_trait]
pub trait OrdersBackend: Send + Sync + 'static {
    /// One page for the dashboard. `sample` is true when it came from the in-memory sample data.
    async fn list_orders(&self, query: orders_core::ListQuery) -> Result<Listing, String>;
    /// The returns funnel and orders-per-day series of the view `query` describes (all pages), and
    /// whether they were counted on the sample data.
    async fn stats(
        &self,
        query: orders_core::ListQuery,
    ) -> Result<(orders_core::stats::OrderStats, bool), String>;
    /// How many of the shop's outbox events are dead (could not be delivered); 0 when unknown.
    async fn undelivered(&self, shop: &str) -> u64;
    /// Known shop domains sorted, and whether they come from sample data.
    async fn shops(&self) -> (Vec<String>, bool);
    /// One order of `shop` by any reference the API accepts (`None`: no such order).
    async fn order(
        &self,
        shop: &str,
        id: &str,
    ) -> Result<Option<orders_core::Order>, crate::sync::SyncFailure>;
    /// One v1.2 write, `body` as a client would send it to the endpoint: the HTTP status and the
    /// envelope Sync answers with, exactly as the endpoint would.
    async fn write(
        &self,
        write: crate::sync::SyncWrite,
        body: serde_json::Value,
    ) -> (u16, serde_json::Value);
    /// Whether this request may see `shop` at all (the server's one access rule): `Err` carries
    /// the HTTP status (401: a credential of the shop is needed; 403: it is another shop's) and
    /// why. Checked before anything of the shop is read.
    async fn admit(&self, shop: &str) -> Result<(), crate::sync::SyncFailure> {
        let _ = shop;
        Ok(())
    }
    /// How far the import of `shop`'s order history from Shopify has come, while one runs or
    /// when the last one stopped short (a first install backfills it in the background).
    async fn import_progress(&self, shop: &str) -> Option<ImportProgress> {
        let _ = shop;
        None
    }
    /// Who is signed in, if anyone: then the dashboard shows their shop only.
    fn signed_in(&self) -> Option<SignedIn> {
        None
    }
}

/// The import of a shop's order history (SPEC §10: "progress visible on the dashboard").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    /// Orders read from Shopify so far.
    pub orders: u64,
    /// Why it stopped short, if it did.
    pub stopped: Option<String>,
}

/// A signed-in staff member and their shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub shop: String,
    pub staff: String,
}

/// A page of orders and where it came from.
#[derive(Debug, Clone)]
pub struct Listing {
    pub list: orders_core::OrderList,
    /// The page came from the built-in sample data, not the database.
    pub sample: bool,
    /// The shop whose orders these are (the sample shop's, on sample data).
    pub shop: String,
}
