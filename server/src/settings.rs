//! Configuration, read once from the environment at start-up. Every variable is documented in the
//! README with its default; secrets are never logged (`Debug` redacts the database password).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};

/// Where the database is when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/orders_sync";
/// Where the server listens when `LEPTOS_SITE_ADDR` is not set.
pub const DEFAULT_SITE_ADDR: &str = "127.0.0.1:3000";
/// The sample shop the in-memory store holds when `DASHBOARD_SHOP` is not set.
pub const DEFAULT_SAMPLE_SHOP: &str = "demo.myshopify.com";
/// The Shopify origin when `SHOPIFY_API_BASE_URL` is not set: the shop's own domain.
pub const DEFAULT_SHOPIFY_API_BASE_URL: &str = "https://{shop}";
/// How often the poller runs when `SYNC_POLL_INTERVAL` is not set.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(15 * 60);
/// Orders in the in-memory sample data.
pub const SAMPLE_ORDERS: usize = 500;

/// Everything the application is configured with.
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: the PostgreSQL database of record.
    pub database_url: String,
    /// `LEPTOS_SITE_ADDR`: the address to listen on (port 0 picks a free port).
    pub site_addr: SocketAddr,
    /// `USE_MOCK_DATA`: run everything on the in-memory sample data, without a database.
    pub use_mock_data: bool,
    /// `DASHBOARD_SHOP`: the shop the dashboard shows when the URL names none.
    pub dashboard_shop: Option<String>,
    /// `SHOPIFY_API_BASE_URL`: the Shopify origin the poller talks to; `{shop}` stands for the
    /// shop's domain (`https://{shop}`).
    pub shopify_api_base_url: String,
    /// `SYNC_POLL_INTERVAL`: how often the poller runs (15 min); `None` (`off` or `0`) when this
    /// process does not poll.
    pub poll_interval: Option<Duration>,
    /// `TRACKING_PENDING_AFTER`: age after which an untracked order is flagged (2 h).
    pub tracking_pending_after: Duration,
    /// `DELAYED_AFTER`: silence after which an in-transit shipment is flagged (24 h).
    pub delayed_after: Duration,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact(&self.database_url))
            .field("site_addr", &self.site_addr)
            .field("use_mock_data", &self.use_mock_data)
            .field("dashboard_shop", &self.dashboard_shop)
            .field("shopify_api_base_url", &self.shopify_api_base_url)
            .field("poll_interval", &self.poll_interval)
            .field("tracking_pending_after", &self.tracking_pending_after)
            .field("delayed_after", &self.delayed_after)
            .finish()
    }
}

/// The database URL without its password, for logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Reads a duration such as `2h`, `90m`, `15min` or a plain number of seconds.
pub fn parse_duration(raw: &str) -> Result<Duration> {
    let raw = raw.trim();
    if let Ok(secs) = raw.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    humantime::parse_duration(raw)
        .with_context(|| format!("'{raw}' is not a duration like 2h, 15m or 30s"))
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn duration_var(name: &str, default: Duration) -> Result<Duration> {
    match var(name) {
        Some(v) => parse_duration(&v).with_context(|| format!("{name} is invalid")),
        None => Ok(default),
    }
}

/// Reads `SHOPIFY_API_BASE_URL`: an `http` or `https` origin, perhaps with `{shop}` in it.
fn shopify_base_url(raw: String) -> Result<String> {
    let raw = raw.trim().trim_end_matches('/').to_owned();
    let example = raw.replace("{shop}", "example.myshopify.com");
    let ok = reqwest::Url::parse(&example)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    anyhow::ensure!(
        ok,
        "SHOPIFY_API_BASE_URL '{raw}' is not an origin like https://{{shop}} or http://127.0.0.1:8080"
    );
    Ok(raw)
}

/// Reads `SYNC_POLL_INTERVAL`: a duration, or `off` / `0` for a process that does not poll.
fn poll_interval(raw: Option<String>) -> Result<Option<Duration>> {
    let interval = match raw.as_deref().map(str::trim) {
        None => DEFAULT_POLL_INTERVAL,
        Some(off) if off.eq_ignore_ascii_case("off") => return Ok(None),
        Some(v) => parse_duration(v).context("SYNC_POLL_INTERVAL is invalid")?,
    };
    Ok(Some(interval).filter(|d| !d.is_zero()))
}

fn bool_var(name: &str) -> Result<bool> {
    match var(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
        Some(v) => anyhow::bail!("{name} must be true or false, not '{v}'"),
    }
}

impl Settings {
    /// Reads the settings from the environment, with the documented defaults.
    pub fn from_env() -> Result<Self> {
        let site_addr = var("LEPTOS_SITE_ADDR").unwrap_or_else(|| DEFAULT_SITE_ADDR.to_owned());
        Ok(Settings {
            database_url: var("DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            site_addr: site_addr.parse().with_context(|| {
                format!("LEPTOS_SITE_ADDR '{site_addr}' is not an address like 127.0.0.1:3000")
            })?,
            use_mock_data: bool_var("USE_MOCK_DATA")?,
            dashboard_shop: var("DASHBOARD_SHOP").map(|s| s.trim().to_ascii_lowercase()),
            shopify_api_base_url: shopify_base_url(
                var("SHOPIFY_API_BASE_URL").unwrap_or_else(|| DEFAULT_SHOPIFY_API_BASE_URL.into()),
            )?,
            poll_interval: poll_interval(var("SYNC_POLL_INTERVAL"))?,
            tracking_pending_after: duration_var(
                "TRACKING_PENDING_AFTER",
                Duration::from_secs(2 * 3600),
            )?,
            delayed_after: duration_var("DELAYED_AFTER", Duration::from_secs(24 * 3600))?,
        })
    }

    /// The alert thresholds in the core's terms.
    pub fn thresholds(&self) -> orders_core::Thresholds {
        let to_chrono =
            |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        orders_core::Thresholds {
            tracking_pending_after: to_chrono(self.tracking_pending_after),
            delayed_after: to_chrono(self.delayed_after),
        }
    }

    /// The shop the in-memory sample data is generated for.
    pub fn sample_shop(&self) -> String {
        self.dashboard_shop
            .clone()
            .unwrap_or_else(|| DEFAULT_SAMPLE_SHOP.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_units_and_plain_seconds() {
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn the_poll_interval_may_be_turned_off() {
        assert_eq!(poll_interval(None).unwrap(), Some(DEFAULT_POLL_INTERVAL));
        assert_eq!(
            poll_interval(Some("5m".into())).unwrap(),
            Some(Duration::from_secs(300))
        );
        assert_eq!(poll_interval(Some("off".into())).unwrap(), None);
        assert_eq!(poll_interval(Some("0".into())).unwrap(), None);
        assert!(poll_interval(Some("often".into())).is_err());
    }

    #[test]
    fn the_shopify_base_url_is_an_http_origin() {
        assert_eq!(
            shopify_base_url(DEFAULT_SHOPIFY_API_BASE_URL.into()).unwrap(),
            "https://{shop}"
        );
        assert_eq!(
            shopify_base_url("http://127.0.0.1:8080/".into()).unwrap(),
            "http://127.0.0.1:8080"
        );
        assert!(shopify_base_url("ftp://{shop}".into()).is_err());
        assert!(shopify_base_url("{shop}".into()).is_err());
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
    }
}
