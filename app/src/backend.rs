//! The port the dashboard needs from the server: one page, and one write. The server implements it
//! over its service layer, behind its one access rule, and hands it to the server functions
//! through context, so this crate never sees a store, a pool, a session or a setting. Which shop a
//! request sees, who "mine" is, and whether the rows are the sample data's are the server's to
//! decide; the server functions only carry the answer to the page.

use chrono::{DateTime, Utc};
use orders_core::alerts::Digest;
use orders_core::locale::{Locale, ShopClock};
use orders_core::stats::OrderStats;
use orders_core::{ListQuery, Order, OrderList};

use crate::sync::SyncWrite;

/// What the dashboard asks of Sync.
#[async_trait::async_trait]
pub trait OrdersBackend: Send + Sync + 'static {
    /// One page of the dashboard: `shop` is the URL's `?shop=`, `query` the page's other
    /// parameters as given (`tab`, `pageSize`, `cursor`, `direction`, the filters, `order`).
    /// `Ok(None)`: no shop was named and none is known yet.
    async fn page(
        &self,
        shop: Option<String>,
        query: Vec<(String, String)>,
    ) -> Result<Option<Page>, Refusal>;
    /// One v1.2 write, `body` as a client would send it to the endpoint, with the idempotency
    /// key the page gave it: the success envelope (the first one again, for a retry with the same
    /// key), or why not with the status the endpoint would answer.
    async fn write(
        &self,
        write: SyncWrite,
        body: serde_json::Value,
        key: Option<String>,
    ) -> Result<WriteAnswer, Refusal>;
}

/// A write's answer: the v1.2 envelope, and the database's position once it had committed.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteAnswer {
    pub envelope: serde_json::Value,
    pub position: Option<orders_core::position::Position>,
}

/// Why the server refused, or could not answer, a dashboard request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status the request is answered with.
    pub status: u16,
    /// The page parameter at fault (`shop`, `tab`, `assigned_to`…), when one is.
    pub param: Option<String>,
    pub message: String,
}

/// Everything one page shows.
#[derive(Debug, Clone)]
pub struct Page {
    /// The query, parsed; its `shop_domain` is the shop whose rows these are (the sample shop's
    /// on sample data).
    pub query: ListQuery,
    pub list: OrderList,
    /// The rows came from the built-in sample data, not the database.
    pub sample: bool,
    /// The server runs on the sample data by choice (`USE_MOCK_DATA`), not because the database
    /// is away: there is no database to come back, and writes are kept (in memory).
    pub mock: bool,
    /// The signed-in staff member, if anyone is signed in.
    pub signed_in_as: Option<String>,
    /// How many of the shop's outbox events are dead (0 on sample data, or when unknown).
    pub undelivered: u64,
    /// How far the import of the shop's history has come, while one runs or when the last one
    /// stopped short (never on sample data).
    pub importing: Option<ImportProgress>,
    /// The returns funnel and orders per day of the view, when they were counted on the same
    /// data as the rows.
    pub stats: Option<OrderStats>,
    /// The order the URL opens in the drawer (`order=`): the order, or what to say instead.
    pub detail: Option<Result<Order, String>>,
    /// The banners: the shop's open alerts of each kind that has any, from the same data as the
    /// rows (none when they could not be read).
    pub alerts: Vec<Digest>,
    /// When the server's poller reads Shopify next (`None`: it does not poll).
    pub next_poll: Option<DateTime<Utc>>,
    /// The shop's time zone: every time on the page, and the days of its date filters and of its
    /// sparkline, are the shop's.
    pub clock: ShopClock,
    /// How the request's merchant writes money (the admin's `locale`, else `Accept-Language`).
    pub locale: Locale,
}

/// The import of a shop's order history (SPEC §10: "progress visible on the dashboard").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportProgress {
    /// Orders read from Shopify so far.
    pub orders: u64,
    /// Why it stopped short, if it did.
    pub stopped: Option<String>,
}
