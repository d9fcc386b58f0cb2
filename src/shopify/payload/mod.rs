//! Reading Shopify's bodies: REST webhook payloads and the poller's GraphQL order nodes, mapped to
//! [`Ingest`](super::Ingest) facts in the domain's terms (SPEC §7).
//!
//! # Policy
//!
//! - **Lenient in shape, strict in meaning.** Bodies are read as [`serde_json::Value`], so fields
//!   Sync does not use may come and go between API versions. A field Sync needs that is missing is a
//!   [`PayloadError::Missing`]; a word outside Shopify's vocabulary where the meaning matters (a
//!   financial status, a return status) is a [`PayloadError::Invalid`].
//! - **Ids never pass through a float.** Shopify's numeric ids exceed 2^53; they are read as JSON
//!   numbers (kept as the digits serde parsed into a `u64`) or strings, and turned into GIDs.
//! - **Money never passes through a float either.** Prices are strings in orders and numbers in
//!   refund line items; both are read as decimal text into integer millionths, summed, and written
//!   with the currency's decimals ([`minor_digits`]).
//! - **Times are UTC.** Shopify sends RFC 3339 with offsets (`2025-09-27T10:03:00-04:00`); every time
//!   is converted to UTC and truncated to microseconds ([`to_micros`](crate::record::to_micros)),
//!   as PostgreSQL keeps them.
//! - **The mapping of SPEC §7**, with the decisions it leaves open written beside each function.
//!
//! The reading is split by seam: `webhook` (REST bodies), `graphql` (the poller's pages), `mapping`
//! (the rules of SPEC §7 both share), `fields` (ids, times, typed look-ups) and `money` (integer
//! millionths); what other modules use is re-exported here.

mod fields;
mod graphql;
mod mapping;
mod money;
#[cfg(test)]
mod tests;
mod webhook;

pub(crate) use fields::numeric_id;
pub use graphql::{
    graphql_throttle, parse_graphql_order, parse_graphql_page, OrdersPage, Throttle,
};
pub use mapping::{priority, shipment_status};
pub use money::{format_amount, minor_digits, parse_decimal};
pub(crate) use webhook::refuse_nul;
pub use webhook::{parse_webhook, return_status};

use serde_json::{Map, Value};

/// The Admin GraphQL query the poller sends, one page of orders updated since its last run
/// (`$query` is a search such as `updated_at:>'2025-09-27T14:00:00Z'`), oldest change first.
/// [`parse_graphql_page`] reads its answer and [`parse_graphql_order`] each `edges[].node`.
/// Its cost is about 1 + `$first` × 25 points at the maximum of 20 fulfillments an order.
pub const ORDERS_QUERY: &str = r#"query SyncOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id
        legacyResourceId
        name
        email
        createdAt
        updatedAt
        cancelledAt
        cancelReason
        tags
        displayFinancialStatus
        displayFulfillmentStatus
        totalPriceSet { shopMoney { amount currencyCode } }
        customer { firstName lastName }
        billingAddress { name }
        shippingAddress { name }
        shippingLines(first: 5) { nodes { title code } }
        fulfillments(first: 20) {
          id
          status
          displayStatus
          createdAt
          updatedAt
          trackingInfo(first: 1) { number company }
        }
      }
    }
  }
}"#;

/// The name given to a customer when the order names nobody (no customer, no address name, no
/// e-mail), so the dashboard never shows an empty cell.
pub const UNKNOWN_CUSTOMER: &str = "Unknown customer";

/// The carrier recorded for a tracking number Shopify sends without a `tracking_company`: the domain
/// keeps a number and its carrier together.
pub const UNKNOWN_CARRIER: &str = "Other";

/// Why a body could not be read as the fact its topic announces.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not JSON, or not the JSON object the topic sends (serde's message).
    #[error("the body is not the JSON object Shopify sends for this topic: {0}")]
    Json(String),
    /// A field Sync needs is absent or null.
    #[error("the payload has no `{0}`; check the webhook's topic and API version")]
    Missing(&'static str),
    /// A field holds a value outside Shopify's vocabulary or of the wrong type.
    #[error("`{field}` has the unexpected value {value}")]
    Invalid { field: &'static str, value: String },
    /// A well-formed payload that carries nothing Sync tracks (a `returns/update` that only changes
    /// line items or fees). Answer 200 and store nothing: refusing it would make Shopify retry.
    #[error("nothing to apply: {0}")]
    NothingToApply(&'static str),
    /// The GraphQL API answered with errors instead of data (`code` is Shopify's
    /// `extensions.code`, e.g. `THROTTLED` or `ACCESS_DENIED`).
    #[error(
        "Shopify's GraphQL API answered with an error: {message}{}",
        in_parentheses(code)
    )]
    GraphQl {
        code: Option<String>,
        message: String,
    },
}

/// ` (THROTTLED)` after an error message, or nothing.
fn in_parentheses(code: &Option<String>) -> String {
    code.as_deref()
        .map(|c| format!(" ({c})"))
        .unwrap_or_default()
}

type Obj = Map<String, Value>;
