//! What the `/orders` page shows, as the server sends it: only the columns the table needs, with
//! dates, ages and links already worked out on the server, so the browser renders exactly what
//! the server rendered and carries no rules of its own.

#[cfg(feature = "ssr")]
use orders_core::ShipmentStatus;
use orders_core::{AlertKind, FinancialStatus, OrderStatus, Priority, ReturnState, Tab};
use serde::{Deserialize, Serialize};
use serde_tuple::{Deserialize_tuple, Serialize_tuple};

use super::links::Embedding;

/// One rendered page of the orders table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct OrdersView {
    /// The shop whose orders these are.
    pub shop: String,
    /// The rows come from the built-in sample data: the database is unavailable, or `mock`.
    pub sample: bool,
    /// The server runs on the sample data by choice (`USE_MOCK_DATA`); writes are kept.
    pub mock: bool,
    /// The six tabs, in the dashboard's order, with their counts: drawn on the server as HTML
    /// (they are links; the browser only shows them).
    pub tabs_html: String,
    pub rows: Vec<OrderRow>,
    /// 1-based position of the first row shown (0 on an empty page).
    pub first_row: u64,
    /// 1-based position of the last row shown.
    pub last_row: u64,
    /// Rows in the current tab under the current filters.
    pub total: u64,
    pub previous_href: Option<String>,
    pub next_href: Option<String>,
    /// The filters in force, to fill the filter bar.
    pub filters: FilterState,
    /// This very view (without an open order): where closing the drawer goes.
    pub self_href: String,
    /// The order the drawer shows (`?order=ID`), if it was found.
    pub detail: Option<OrderDetail>,
    /// Every page of this view as CSV.
    pub export_href: String,
    /// The view's returns funnel and orders-per-day sparkline, drawn on the server as inline SVG
    /// (`None` if they could not be counted).
    pub pictures: Option<String>,
    /// Why the order `?order=` names cannot be shown (not in this shop, or Sync unavailable).
    pub detail_error: Option<String>,
    /// The shop's side effects (support queue, ERP, metafields) that could not be delivered and
    /// wait for an operator (`orders-sync outbox retry`).
    pub undelivered: u64,
    /// The signed-in staff member, if any: the assignee the "mine" filter stands for.
    pub signed_in_as: Option<String>,
    /// The import of the shop's order history from Shopify, while it runs (or if it stopped).
    pub importing: Option<Importing>,
    /// One banner per kind of open alert, in the order they are shown.
    pub banners: Vec<Banner>,
    /// The time zone every time on the page is shown in (IANA name, e.g. `Asia/Tokyo`).
    pub time_zone: String,
}

/// A banner of open alerts of one kind (SPEC §6, §8): its count and what it says, and its body
/// (the first few orders by name, each opening its drawer, the view of them all, a data gap's
/// story) drawn on the server as HTML, its links keeping the admin's parameters: the browser only
/// shows it, and carries no code to draw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Banner {
    pub kind: AlertKind,
    pub count: u64,
    /// `83 orders waiting for a tracking number`.
    pub label: String,
    pub html: String,
}

/// An order a banner names.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannerOrder {
    pub number: String,
    pub message: String,
    /// This view with the order's drawer open.
    pub href: String,
}

/// What a data-gap banner says beyond its title.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapNote {
    /// What failed, as the poller or the webhook check said it.
    pub what: String,
    /// When it was noticed, for people.
    pub since: String,
    /// When the next poll runs, for people (`None`: this server does not poll).
    pub next_poll: Option<String>,
}

/// What the page says of the import of the shop's order history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct Importing {
    pub orders: u64,
    pub stopped: Option<String>,
}

/// The filter bar's values: what the URL asked for, as the form shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct FilterState {
    /// The shop named in the URL, carried by the form so a filter keeps the shop.
    pub shop: Option<String>,
    /// The admin's `host` and `embedded`, carried by the form like the shop (set by
    /// [`OrdersView::with_embedding`]).
    pub embedding: Embedding,
    pub tab: Tab,
    pub statuses: Vec<OrderStatus>,
    pub priorities: Vec<Priority>,
    /// A name, `unassigned`, or empty for anyone.
    pub assigned_to: String,
    pub date_start: String,
    pub date_end: String,
    /// The search (`query`), as typed; empty for none.
    pub search: String,
    pub page_size: u32,
    /// Some filter other than the tab and page size is in force.
    pub active: bool,
    /// The current tab with no filters.
    pub clear_href: String,
}

impl OrdersView {
    /// This view with every link and the filter form keeping `embedding` (the tabs' links, drawn
    /// as HTML, are drawn keeping it). The server function builds it so: the browser gets links
    /// that already keep the admin's parameters.
    #[cfg(feature = "ssr")]
    pub fn with_embedding(mut self, embedding: &Embedding) -> Self {
        let keep = |href: &mut String| *href = embedding.keep_in(href);
        self.rows.iter_mut().for_each(|r| keep(&mut r.detail_href));
        self.previous_href.iter_mut().for_each(&keep);
        self.next_href.iter_mut().for_each(&keep);
        keep(&mut self.self_href);
        keep(&mut self.export_href);
        keep(&mut self.filters.clear_href);
        self.filters.embedding = embedding.clone();
        self
    }
}

/// The page sizes the dashboard offers (the API takes any size from 1 to 250).
pub const PAGE_SIZES: [u32; 4] = [25, 50, 100, 250];

/// A tab with its badge and the link that opens it (keeping the filters and the page size).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabLink {
    pub tab: Tab,
    pub count: u64,
    pub href: String,
    pub active: bool,
}

/// One line of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct OrderRow {
    pub id: String,
    /// This view with the order's drawer open.
    pub detail_href: String,
    pub order_number: String,
    pub customer: String,
    pub email: Option<String>,
    /// The total as the merchant's locale writes it: `¥51,100`, `1.234,50 €`.
    pub total: String,
    /// The total as Sync keeps it: `51100.00 JPY`.
    pub total_title: String,
    pub status: OrderStatus,
    pub financial_status: FinancialStatus,
    pub priority: Priority,
    pub assigned_to: Option<String>,
    /// `createdAt` in RFC 3339, for `<time datetime>`.
    pub created_at: String,
    /// `createdAt` for people, in the shop's zone: `Sep 27, 14:03`.
    pub created_label: String,
    /// The same, naming the zone: `Sep 27, 14:03 (America/New_York)`.
    pub created_title: String,
    /// How long ago the order was placed: `45m`, `5h`, `3d`.
    pub age: String,
    pub alerts: Vec<AlertKind>,
    pub return_state: Option<ReturnState>,
    pub support_thread: Option<String>,
}

/// The order the drawer shows. What the drawer only shows (the customer, the total, every fact of
/// the order, its shipments and its timeline) comes drawn on the server as HTML, with dates
/// already written for people: the browser carries no code to draw it. What the drawer changes
/// (the assignment, the return, the support thread) comes as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize_tuple, Deserialize_tuple)]
pub struct OrderDetail {
    pub id: String,
    pub order_number: String,
    pub assigned_to: Option<String>,
    pub return_state: Option<ReturnState>,
    pub support_thread: Option<String>,
    /// The customer, the total, the link to Shopify's admin and the list of facts.
    pub facts_html: String,
    pub shipments_html: String,
    /// The last ten entries, newest first.
    pub timeline_html: String,
}

/// Every fact of an order the drawer shows, as it is shown (the server draws them as HTML).
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub customer: String,
    pub email: Option<String>,
    /// The total as the merchant's locale writes it, and as Sync keeps it (see [`OrderRow`]).
    pub total: String,
    pub total_title: String,
    pub status: OrderStatus,
    pub financial_status: FinancialStatus,
    pub priority: Priority,
    pub tags: Vec<String>,
    /// `createdAt` and `updatedAt`: RFC 3339 for `<time datetime>`, and for people.
    pub created_at: String,
    pub created_label: String,
    pub updated_at: String,
    pub updated_label: String,
    pub alerts: Vec<AlertKind>,
    /// The order in Shopify's admin (`None` when its id is not Shopify's).
    pub admin_href: Option<String>,
    pub shipments: Vec<ShipmentLine>,
    /// The last ten entries, newest first.
    pub timeline: Vec<TimelineLine>,
}

/// A shipment in the drawer.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentLine {
    pub id: String,
    pub status: ShipmentStatus,
    /// `UPS · 1Z999`, or `None` without a tracking number.
    pub tracking: Option<String>,
    /// When the carrier last said something, for people: `Sep 27, 14:03`.
    pub updated_label: String,
}

/// A timeline entry in the drawer.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineLine {
    /// RFC 3339, for `<time datetime>`.
    pub at: String,
    /// For people: `Sep 27, 14:03`.
    pub at_label: String,
    pub event: String,
    pub details: String,
}

/// Why the page could not be shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LoadError {
    /// A parameter of the page's URL is outside the contract: the parameter, and why.
    BadQuery(String, String),
    /// No shop was named and none is known yet.
    NoShop,
    /// Sync could not answer.
    Unavailable(String),
    /// The call between browser and server failed.
    Transport(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::BadQuery(param, message) => write!(f, "Invalid {param}: {message}"),
            LoadError::NoShop => f.write_str(
                "No shop yet: add orders with `orders-sync seed --shop DOMAIN --orders N`, \
                 or open /orders?shop=DOMAIN",
            ),
            LoadError::Unavailable(m) => write!(f, "Orders are unavailable: {m}"),
            LoadError::Transport(m) => write!(f, "Could not reach the server: {m}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl leptos::server_fn::error::FromServerFnError for LoadError {
    type Encoder = leptos::server_fn::codec::JsonEncoding;

    fn from_server_fn_error(value: leptos::server_fn::error::ServerFnErrorErr) -> Self {
        LoadError::Transport(value.to_string())
    }
}

/// The tab's name on screen.
pub fn tab_label(tab: Tab) -> &'static str {
    match tab {
        Tab::All => "All",
        Tab::Unfulfilled => "Unfulfilled",
        Tab::TrackingPending => "Tracking pending",
        Tab::Delayed => "Delayed",
        Tab::Returns => "Returns",
        Tab::Support => "Support",
    }
}

#[cfg(feature = "ssr")]
mod build;
