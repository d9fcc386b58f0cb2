//! The Admin GraphQL API of every shop, as the poller and the backfill read it: one HTTP client,
//! the orders query page by page, and Shopify's throttle.
//!
//! # Policy
//!
//! - **Throttling.** Shopify prices each query and refills a leaky bucket. Before each next page
//!   the pager waits until the last cost report says the bucket holds a page; a `THROTTLED` answer
//!   (or an HTTP 429) is waited out and asked again, at most [`MAX_THROTTLED_ATTEMPTS`] times.
//!   Pages are sized so that a query stays under Shopify's single-query limit
//!   ([`MAX_QUERY_COST`]), from the cost Shopify reports (see [`ShopifyClient`]). Every wait
//!   read from an answer (`Retry-After`, a cost report) goes through the core's one rule
//!   ([`orders_core::shopify::wait`]); one longer than [`MAX_THROTTLE_WAIT`] ends the walk short.
//! - **No redirect is followed.** Every request carries the shop's access token in a header, which
//!   a redirect would hand to wherever it points. A 3xx answer is a failure that says where it
//!   pointed; the fix is `SHOPIFY_API_BASE_URL` or the shop's domain, not a second request.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use orders_core::shopify::payload::{
    graphql_throttle, parse_graphql_page, OrdersPage, PayloadError, ORDERS_QUERY,
};
use orders_core::shopify::wait;
use serde_json::json;

/// The Admin API version the poller speaks. Shopify supports a version for a year after its
/// release; move this (and check `ORDERS_QUERY` against the release notes) before it expires.
pub const API_VERSION: &str = "2026-10";

/// How long one request to Shopify may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `THROTTLED` answers in a row a tick waits out before it ends short.
pub const MAX_THROTTLED_ATTEMPTS: u32 = 6;

/// The shortest wait after a `THROTTLED` answer, whatever its cost report says.
pub const MIN_THROTTLE_WAIT: Duration = Duration::from_millis(100);

/// The longest wait a cost report may ask for; a longer one ends the tick short instead.
pub const MAX_THROTTLE_WAIT: Duration = Duration::from_secs(60);

/// Shopify refuses a single query priced above this many points (`MAX_COST_EXCEEDED`).
pub const MAX_QUERY_COST: f64 = 1000.0;

/// Pages are sized to be priced at most this much, a little under [`MAX_QUERY_COST`].
const PAGE_COST_BUDGET: f64 = 950.0;

/// The most orders a connection gives in one page.
pub const MAX_PAGE_SIZE: u32 = 250;

/// The first page size, before Shopify has priced a page: the core's estimate of 25 points an
/// order (`ORDERS_QUERY`) under the budget. Later pages are sized from the reported price.
pub const INITIAL_PAGE_SIZE: u32 = 37;

/// Why a request for a page of orders failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No answer: the connection failed or Shopify did not answer in time.
    #[error("{0}")]
    Unreachable(String),
    /// An HTTP status other than success (and other than 429, which is throttling).
    #[error("{}", status_sentence(*status, body))]
    Status { status: u16, body: String },
    /// The GraphQL API answered with an error other than throttling.
    #[error("{0}")]
    GraphQl(PayloadError),
    /// A 2xx answer that is not a page of orders.
    #[error("Shopify's answer does not read as a page of orders: {0}")]
    Unreadable(PayloadError),
    /// A redirect (3xx), not followed: the access token goes nowhere but the shop's API.
    #[error(
        "Shopify answered HTTP {status} redirecting to {}; Sync does not follow redirects with the \
         shop's access token: check SHOPIFY_API_BASE_URL and the shop's domain",
        location.as_deref().unwrap_or("nowhere")
    )]
    Redirected {
        status: u16,
        location: Option<String>,
    },
    /// Still throttled after [`MAX_THROTTLED_ATTEMPTS`] waits.
    #[error("Shopify kept throttling the requests ({attempts} answers in a row)")]
    Throttled { attempts: u32 },
    /// Throttled, and asked to wait longer than [`MAX_THROTTLE_WAIT`].
    #[error(
        "Shopify asked to wait {} s before asking again, longer than a poll waits ({} s)",
        wait.as_secs(),
        MAX_THROTTLE_WAIT.as_secs()
    )]
    WaitTooLong { wait: Duration },
}

fn status_sentence(status: u16, body: &str) -> String {
    let what = match status {
        401 => "Shopify refused the access token (HTTP 401); register a valid one with `orders-sync shop add`".to_owned(),
        403 => "Shopify denied access (HTTP 403); the app needs the read_orders scope".to_owned(),
        404 => "Shopify answered HTTP 404; check SHOPIFY_API_BASE_URL and the API version".to_owned(),
        s => format!("Shopify answered HTTP {s}"),
    };
    let body = body.trim();
    if body.is_empty() {
        what
    } else {
        format!("{what}: {body}")
    }
}

/// One answer of the GraphQL endpoint, as the pager needs it.
enum Answer {
    Page(Box<OrdersPage>),
    /// Throttled: ask again after this wait.
    Throttled(Duration),
    /// The query is priced over Shopify's limit: ask for fewer orders.
    TooCostly,
}

/// The Admin GraphQL API of every shop, over one HTTP client. Cheap to clone.
///
/// It remembers the page size that fits Shopify's single-query limit: the first query asks for
/// [`INITIAL_PAGE_SIZE`] orders, every answer's `requestedQueryCost` sizes the next page so that it
/// is priced under the limit (up to [`MAX_PAGE_SIZE`]), and a `MAX_COST_EXCEEDED` answer halves it.
#[derive(Clone)]
pub struct ShopifyClient {
    http: reqwest::Client,
    base_url: String,
    page_size: Arc<AtomicU32>,
    /// Refreshes expiring offline tokens before a tick (the embedded app's shops).
    pub(super) installer: Option<Arc<super::install::Installer>>,
}

impl std::fmt::Debug for ShopifyClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopifyClient")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ShopifyClient {
    /// A client for `base_url` (`SHOPIFY_API_BASE_URL`; `{shop}` stands for the shop's domain).
    pub fn new(base_url: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(Duration::from_secs(10))
            // See the module's policy: the token must not follow a redirect.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("orders-sync/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(ShopifyClient {
            http,
            base_url: base_url.trim().trim_end_matches('/').to_owned(),
            page_size: Arc::new(AtomicU32::new(INITIAL_PAGE_SIZE)),
            installer: None,
        })
    }

    /// This client, refreshing a shop's expiring offline token through `installer` before each
    /// tick (SPEC §10).
    pub fn with_installer(mut self, installer: Arc<super::install::Installer>) -> Self {
        self.installer = Some(installer);
        self
    }

    /// The GraphQL endpoint of `shop`.
    pub fn endpoint(&self, shop: &str) -> String {
        format!(
            "{}/admin/api/{API_VERSION}/graphql.json",
            self.base_url.replace("{shop}", shop)
        )
    }

    /// How many orders the next page asks for.
    pub fn page_size(&self) -> u32 {
        self.page_size.load(Ordering::Relaxed)
    }

    fn set_page_size(&self, size: u32) {
        self.page_size
            .store(size.clamp(1, MAX_PAGE_SIZE), Ordering::Relaxed);
    }

    /// Sizes the next page from what Shopify priced a page of `first` orders at.
    fn learn_cost(&self, first: u32, requested_cost: f64) {
        if requested_cost > 0.0 && requested_cost.is_finite() {
            let per_order = requested_cost / f64::from(first.max(1));
            self.set_page_size((PAGE_COST_BUDGET / per_order).floor() as u32);
        }
    }

    /// Sends [`ORDERS_QUERY`] with `variables` for `shop`.
    #[tracing::instrument(name = "shopify.orders", skip_all, fields(shop = %shop))]
    async fn query_orders(
        &self,
        shop: &str,
        token: &str,
        variables: serde_json::Value,
    ) -> Result<Answer, FetchError> {
        let response = self
            .http
            .post(self.endpoint(shop))
            .header("X-Shopify-Access-Token", token)
            .json(&json!({ "query": ORDERS_QUERY, "variables": variables }))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| snippet(v.as_bytes()));
            return Err(FetchError::Redirected {
                status: status.as_u16(),
                location,
            });
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(wait::retry_after);
        let body = response.bytes().await.map_err(unreachable)?;
        if status.as_u16() == 429 {
            let wait = retry_after
                .or_else(|| graphql_throttle(&body).map(|t| t.wait_before(t.requested_cost)))
                .unwrap_or(Duration::from_secs(1));
            return Ok(Answer::Throttled(wait));
        }
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                body: snippet(&body),
            });
        }
        match parse_graphql_page(&body) {
            Ok(page) => Ok(Answer::Page(Box::new(page))),
            Err(PayloadError::GraphQl { code, .. }) if code.as_deref() == Some("THROTTLED") => {
                let wait = graphql_throttle(&body)
                    .map(|t| t.wait_before(t.requested_cost))
                    .unwrap_or(Duration::from_secs(1));
                Ok(Answer::Throttled(wait))
            }
            Err(PayloadError::GraphQl { code, .. })
                if code.as_deref() == Some("MAX_COST_EXCEEDED") =>
            {
                Ok(Answer::TooCostly)
            }
            Err(e @ PayloadError::GraphQl { .. }) => Err(FetchError::GraphQl(e)),
            Err(e) => Err(FetchError::Unreadable(e)),
        }
    }
}

/// The shop's time zone, as the Admin API names it (`Shop.ianaTimezone`, e.g. `Asia/Tokyo`).
pub const SHOP_TIME_ZONE_QUERY: &str = "{ shop { ianaTimezone } }";

impl ShopifyClient {
    /// The IANA name of `shop`'s time zone (`{ shop { ianaTimezone } }`), read with `token`. One
    /// request, no throttle handling: a failure is the caller's to log.
    #[tracing::instrument(name = "shopify.shop_time_zone", skip_all, fields(shop = %shop))]
    pub async fn shop_time_zone(&self, shop: &str, token: &str) -> Result<String, FetchError> {
        let response = self
            .http
            .post(self.endpoint(shop))
            .header("X-Shopify-Access-Token", token)
            .json(&json!({ "query": SHOP_TIME_ZONE_QUERY }))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let body = response.bytes().await.map_err(unreachable)?;
        if !status.is_success() {
            return Err(FetchError::Status {
                status: status.as_u16(),
                body: snippet(&body),
            });
        }
        serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v["data"]["shop"]["ianaTimezone"]
                    .as_str()
                    .map(str::to_owned)
            })
            .filter(|zone| !zone.trim().is_empty())
            .ok_or_else(|| FetchError::Status {
                status: status.as_u16(),
                body: format!("no data.shop.ianaTimezone in {}", snippet(&body)),
            })
    }
}

fn unreachable(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        FetchError::Unreachable(format!(
            "Shopify did not answer within {} s",
            REQUEST_TIMEOUT.as_secs()
        ))
    } else {
        // The URL names the shop only; the token travels in a header and is never in an error.
        FetchError::Unreachable(format!("could not reach Shopify: {e}"))
    }
}

/// The start of an answer's body, for an error message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        s.push('…');
    }
    s
}

/// Walks the pages of [`ORDERS_QUERY`] for one shop, following `endCursor`, waiting for the
/// throttle's bucket before each page and waiting out `THROTTLED` answers.
pub struct Pages<'a> {
    client: &'a ShopifyClient,
    shop: &'a str,
    token: &'a str,
    query: Option<String>,
    after: Option<String>,
    done: bool,
    wait: Duration,
    /// Pages read so far.
    pub pages: u32,
    /// `THROTTLED` answers waited out so far.
    pub throttled: u32,
}

impl<'a> Pages<'a> {
    /// The pages of `shop`'s orders matching the search `query` (all orders when `None`),
    /// starting after the cursor `after` (from the start when `None`).
    pub fn new(
        client: &'a ShopifyClient,
        shop: &'a str,
        token: &'a str,
        query: Option<String>,
        after: Option<String>,
    ) -> Self {
        Pages {
            client,
            shop,
            token,
            query,
            after,
            done: false,
            wait: Duration::ZERO,
            pages: 0,
            throttled: 0,
        }
    }

    /// The cursor of the last page read (where a later walk would resume).
    pub fn cursor(&self) -> Option<&str> {
        self.after.as_deref()
    }

    /// The next page, or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<OrdersPage>, FetchError> {
        if self.done {
            return Ok(None);
        }
        if !self.wait.is_zero() {
            tracing::debug!(
                shop = %self.shop,
                wait_ms = self.wait.as_millis() as u64,
                "waiting for Shopify's bucket"
            );
            tokio::time::sleep(self.wait).await;
        }
        let mut attempts = 0;
        loop {
            let first = self.client.page_size();
            let variables = json!({ "first": first, "after": self.after, "query": self.query });
            match self
                .client
                .query_orders(self.shop, self.token, variables)
                .await?
            {
                Answer::Page(page) => {
                    self.pages += 1;
                    self.wait = Duration::ZERO;
                    if let Some(t) = page.throttle {
                        self.client.learn_cost(first, t.requested_cost);
                        let next_cost = t.requested_cost / f64::from(first.max(1))
                            * f64::from(self.client.page_size());
                        self.wait = t.wait_before(next_cost).min(MAX_THROTTLE_WAIT);
                    }
                    if page.end_cursor.is_some() {
                        self.after = page.end_cursor.clone();
                    }
                    self.done = !page.has_next_page || page.end_cursor.is_none();
                    return Ok(Some(*page));
                }
                Answer::Throttled(wait) => {
                    attempts += 1;
                    self.throttled += 1;
                    if wait > MAX_THROTTLE_WAIT {
                        return Err(FetchError::WaitTooLong { wait });
                    }
                    if attempts >= MAX_THROTTLED_ATTEMPTS {
                        return Err(FetchError::Throttled { attempts });
                    }
                    let wait = wait.max(MIN_THROTTLE_WAIT);
                    tracing::info!(
                        shop = %self.shop,
                        wait_ms = wait.as_millis() as u64,
                        "Shopify throttled the poll; asking again after the wait"
                    );
                    tokio::time::sleep(wait).await;
                }
                Answer::TooCostly if first > 1 => {
                    tracing::info!(shop = %self.shop, first, "a page is priced over Shopify's limit; asking for fewer orders");
                    self.client.set_page_size(first / 2);
                }
                Answer::TooCostly => {
                    return Err(FetchError::GraphQl(PayloadError::GraphQl {
                        code: Some("MAX_COST_EXCEEDED".into()),
                        message: "even a page of one order is priced over the single-query limit"
                            .into(),
                    }))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_names_the_shop_and_the_api_version() {
        let default = ShopifyClient::new("https://{shop}").unwrap();
        assert_eq!(
            default.endpoint("acme.myshopify.com"),
            "https://acme.myshopify.com/admin/api/2026-10/graphql.json"
        );
        let fake = ShopifyClient::new("http://127.0.0.1:9/").unwrap();
        assert_eq!(
            fake.endpoint("acme.myshopify.com"),
            "http://127.0.0.1:9/admin/api/2026-10/graphql.json"
        );
    }

    #[test]
    fn pages_are_sized_under_the_single_query_limit() {
        let client = ShopifyClient::new("https://{shop}").unwrap();
        assert!(1.0 + 25.0 * f64::from(client.page_size()) <= MAX_QUERY_COST);
        // Priced at 25 points an order and 1 for the query: about 37 fit.
        client.learn_cost(37, 926.0);
        assert_eq!(client.page_size(), 37);
        // Cheap orders: as many as a connection gives.
        client.learn_cost(37, 38.0);
        assert_eq!(client.page_size(), MAX_PAGE_SIZE);
        // Dearer than thought: fewer, still under the limit.
        client.learn_cost(250, 12_500.0);
        assert_eq!(client.page_size(), 19);
        assert!(50.0 * f64::from(client.page_size()) <= MAX_QUERY_COST);
    }
}
