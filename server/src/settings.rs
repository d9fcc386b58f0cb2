//! Configuration, read once from the environment at start-up. Every variable is documented in the
//! README with its default; secrets are never logged (`Debug` redacts the database URL's secrets
//! and the credentials and query of the outbox's URLs, by the rules of [`redaction`]).

mod redaction;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};
use orders_core::locale::ShopClock;

pub use redaction::{redact, redact_url};

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
/// How often the outbox worker looks for due events when `OUTBOX_POLL_INTERVAL` is not set.
pub const DEFAULT_OUTBOX_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// How often the lifecycle worker looks for due jobs when `LIFECYCLE_POLL_INTERVAL` is not set.
pub const DEFAULT_LIFECYCLE_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Attempts at delivering an event before it is dead, when `OUTBOX_MAX_ATTEMPTS` is not set.
pub const DEFAULT_OUTBOX_MAX_ATTEMPTS: u32 = 10;
/// The largest `OUTBOX_MAX_ATTEMPTS` accepted.
pub const MAX_OUTBOX_ATTEMPTS: u32 = 1000;

/// Everything the application is configured with.
#[derive(Clone)]
pub struct Settings {
    /// `DATABASE_URL`: the PostgreSQL database of record.
    pub database_url: String,
    /// `LEPTOS_SITE_ADDR`: the address to listen on (port 0 picks a free port).
    pub site_addr: SocketAddr,
    /// `USE_MOCK_DATA`: run everything on the in-memory sample data, without a database.
    pub use_mock_data: bool,
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
    /// `OUTBOX_*`: where the outbox worker delivers side effects.
    pub outbox: OutboxSettings,
    /// `LIFECYCLE_POLL_INTERVAL`: how often the worker of the app's lifecycle and privacy jobs
    /// looks for due jobs (1 s); `None` (`off` or `0`) when this process runs none.
    pub lifecycle_interval: Option<Duration>,
    /// Who may use the Sync API and the dashboard.
    pub trust: TrustSettings,
    /// `SECRETS_KEY`: encrypts the shops' stored secrets (`crate::secrets`); plaintext without it.
    pub secrets: crate::secrets::Secrets,
    /// What one client may hold of the process: time, connections, streams.
    pub limits: LimitSettings,
    /// `SHOP_TIMEZONE`: the time zone (an IANA name) the dashboard shows a shop's times and days
    /// in until Shopify has told the shop's own (`ianaTimezone`, read at install); `UTC` when unset.
    pub shop_time_zone: ShopClock,
    /// `COUNT_CACHE_BYTES`: what this process's cache of tab counts may take (16 MiB); `0` keeps
    /// none (every page counts afresh).
    pub count_cache_bytes: usize,
    /// `DATABASE_REPLICA_URLS`: PostgreSQL streaming replicas of `DATABASE_URL`, comma-separated,
    /// that serve the list, its counts, one order and the export (none: the primary serves all).
    pub replica_urls: Vec<String>,
    /// `REPLICA_MAX_LAG`: how far behind the primary a replica may be and still serve a read that
    /// names no position (1 s).
    pub replica_max_lag: Duration,
    /// `METRICS_ADDR`: where `GET /metrics` is served, a listener of its own (none: no metrics).
    pub metrics_addr: Option<SocketAddr>,
}

/// What one client may hold of the process (time, connections, streams), so that a slow or greedy
/// client cannot take what the others need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitSettings {
    /// `HEADER_READ_TIMEOUT`: how long a connection may take to send a request's headers (10 s;
    /// at most 10 s). An idle keep-alive connection is closed after it as well.
    pub header_read_timeout: Duration,
    /// `REQUEST_TIMEOUT`: the deadline of every request that is not a live stream or an export
    /// (30 s), answered with the envelope's 503 and `Retry-After`.
    pub request_timeout: Duration,
    /// `MAX_CONNECTIONS`: open connections beyond which a new one is answered 503 and closed
    /// (10,000).
    pub max_connections: usize,
    /// `MAX_STREAMS_PER_CLIENT`: live streams one credential (or, for an anonymous stream of an
    /// open shop, one client address) may hold at once (100); 429 beyond.
    pub max_streams_per_client: usize,
    /// `MAX_STREAMS_PER_SHOP`: live streams of one shop in this process (10,000); 429 beyond.
    pub max_streams_per_shop: usize,
}

/// The longest `HEADER_READ_TIMEOUT` accepted.
pub const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for LimitSettings {
    fn default() -> Self {
        LimitSettings {
            header_read_timeout: MAX_HEADER_READ_TIMEOUT,
            request_timeout: Duration::from_secs(30),
            max_connections: 10_000,
            max_streams_per_client: 100,
            max_streams_per_shop: 10_000,
        }
    }
}

impl LimitSettings {
    /// Reads `HEADER_READ_TIMEOUT`, `REQUEST_TIMEOUT`, `MAX_CONNECTIONS`,
    /// `MAX_STREAMS_PER_CLIENT` and `MAX_STREAMS_PER_SHOP`, with the defaults above.
    pub fn from_env() -> Result<Self> {
        let d = LimitSettings::default();
        let header_read_timeout = duration_var("HEADER_READ_TIMEOUT", d.header_read_timeout)?;
        if header_read_timeout.is_zero() || header_read_timeout > MAX_HEADER_READ_TIMEOUT {
            anyhow::bail!(
                "HEADER_READ_TIMEOUT must be more than 0 and at most 10s, not {}",
                humantime::format_duration(header_read_timeout)
            );
        }
        let request_timeout = duration_var("REQUEST_TIMEOUT", d.request_timeout)?;
        if request_timeout.is_zero() {
            anyhow::bail!("REQUEST_TIMEOUT must be more than 0");
        }
        Ok(LimitSettings {
            header_read_timeout,
            request_timeout,
            max_connections: count_var("MAX_CONNECTIONS", d.max_connections)?,
            max_streams_per_client: count_var("MAX_STREAMS_PER_CLIENT", d.max_streams_per_client)?,
            max_streams_per_shop: count_var("MAX_STREAMS_PER_SHOP", d.max_streams_per_shop)?,
        })
    }
}

/// A whole number from 1, or `default` when unset.
fn count_var(name: &str, default: usize) -> Result<usize> {
    let Some(raw) = var(name) else {
        return Ok(default);
    };
    raw.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .with_context(|| format!("{name} must be a whole number from 1, not '{}'", raw.trim()))
}

/// A number of bytes (0 and up), or `default` when unset.
fn bytes_var(name: &str, default: usize) -> Result<usize> {
    let Some(raw) = var(name) else {
        return Ok(default);
    };
    raw.trim().parse::<usize>().with_context(|| {
        format!(
            "{name} must be a whole number of bytes, not '{}'",
            raw.trim()
        )
    })
}

/// Who may use the Sync API and the dashboard.
#[derive(Clone)]
pub struct TrustSettings {
    /// `SYNC_API_AUTH=required`: every `/sync` request needs a token (or a dashboard session);
    /// by default (`per-shop`) a shop needs one once a token has been issued for it.
    pub tokens_required: bool,
    /// `SYNC_RATE_LIMIT`: requests a second each token may make on average (a burst of twice as
    /// many); `None` (`off`) for no limit.
    pub rate_limit: Option<u32>,
    /// `SHOPIFY_API_KEY`: the app's client id, the audience of Shopify's session tokens.
    pub shopify_api_key: Option<String>,
    /// `SHOPIFY_API_SECRET`: the app's client secret, which signs Shopify's session tokens. When
    /// set, the dashboard needs a sign-in and the development sign-in is off.
    pub shopify_api_secret: Option<String>,
    /// `SESSION_SECRET`: signs the development sign-in's session cookies (random at start-up
    /// when unset).
    pub session_secret: Option<String>,
    /// `APP_BRIDGE_URL`: where pages load Shopify's App Bridge from (with `SHOPIFY_API_KEY`).
    pub app_bridge_url: String,
    /// `DASHBOARD_SHOP`: the shop the dashboard shows when the URL names none and no one is
    /// signed in (trimmed, lower case); also the shop the sample data is generated for.
    pub dashboard_shop: Option<String>,
}

/// Shopify's App Bridge script, which every embedded page loads first.
pub const DEFAULT_APP_BRIDGE_URL: &str = "https://cdn.shopify.com/shopifycloud/app-bridge.js";

impl Default for TrustSettings {
    fn default() -> Self {
        TrustSettings {
            tokens_required: false,
            rate_limit: None,
            shopify_api_key: None,
            shopify_api_secret: None,
            session_secret: None,
            app_bridge_url: DEFAULT_APP_BRIDGE_URL.to_owned(),
            dashboard_shop: None,
        }
    }
}

/// Requests a second each token may make when `SYNC_RATE_LIMIT` is not set.
pub const DEFAULT_RATE_LIMIT: u32 = 100;

impl TrustSettings {
    /// Reads `SYNC_API_AUTH`, `SYNC_RATE_LIMIT`, `SHOPIFY_API_KEY`, `SHOPIFY_API_SECRET`,
    /// `SESSION_SECRET`, `APP_BRIDGE_URL` and `DASHBOARD_SHOP`.
    pub fn from_env() -> Result<Self> {
        let tokens_required = match var("SYNC_API_AUTH").map(|v| v.trim().to_ascii_lowercase()) {
            None => false,
            Some(v) if v == "per-shop" => false,
            Some(v) if v == "required" => true,
            Some(v) => anyhow::bail!("SYNC_API_AUTH must be per-shop or required, not '{v}'"),
        };
        let rate_limit = match var("SYNC_RATE_LIMIT").map(|v| v.trim().to_ascii_lowercase()) {
            None => Some(DEFAULT_RATE_LIMIT),
            Some(v) if v == "off" || v == "0" => None,
            Some(v) => Some(v.parse::<u32>().ok().filter(|n| *n > 0).with_context(|| {
                format!("SYNC_RATE_LIMIT must be a number of requests a second, or off, not '{v}'")
            })?),
        };
        let shopify_api_key = var("SHOPIFY_API_KEY").map(|v| v.trim().to_owned());
        let shopify_api_secret = var("SHOPIFY_API_SECRET").map(|v| v.trim().to_owned());
        if shopify_api_secret.is_some() && shopify_api_key.is_none() {
            anyhow::bail!(
                "SHOPIFY_API_SECRET is set without SHOPIFY_API_KEY: set both, the app's client \
                 secret and its client id (the session tokens' audience)"
            );
        }
        let app_bridge_url = var("APP_BRIDGE_URL")
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| DEFAULT_APP_BRIDGE_URL.to_owned());
        script_url("APP_BRIDGE_URL", &app_bridge_url)?;
        Ok(TrustSettings {
            tokens_required,
            rate_limit,
            shopify_api_key,
            shopify_api_secret,
            session_secret: var("SESSION_SECRET").map(|v| v.trim().to_owned()),
            app_bridge_url,
            dashboard_shop: var("DASHBOARD_SHOP").map(|s| s.trim().to_ascii_lowercase()),
        })
    }
}

impl std::fmt::Debug for TrustSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustSettings")
            .field("tokens_required", &self.tokens_required)
            .field("rate_limit", &self.rate_limit)
            .field("shopify_api_key", &self.shopify_api_key)
            .field(
                "shopify_api_secret",
                &self.shopify_api_secret.as_ref().map(|_| "…"),
            )
            .field("session_secret", &self.session_secret.as_ref().map(|_| "…"))
            .field("app_bridge_url", &self.app_bridge_url)
            .field("dashboard_shop", &self.dashboard_shop)
            .finish()
    }
}

/// Where and how the outbox worker delivers events (SPEC §7). A topic without a URL is not
/// attempted: its events wait, pending.
#[derive(Clone)]
pub struct OutboxSettings {
    /// `OUTBOX_SUPPORT_URL`: receives `support.escalation` events.
    pub support_url: Option<reqwest::Url>,
    /// `OUTBOX_ERP_URL`: receives `erp.return` events.
    pub erp_url: Option<reqwest::Url>,
    /// `OUTBOX_METAFIELD_URL`: receives `shopify.metafield.assignment` events, when pushing is on.
    pub metafield_url: Option<reqwest::Url>,
    /// `OUTBOX_PUSH_METAFIELDS`: deliver assignment metafield events (false: Shopify metafields are
    /// read-only for now, so those events stay queued, never attempted).
    pub push_metafields: bool,
    /// `OUTBOX_MAX_ATTEMPTS`: attempts before an event is dead (10).
    pub max_attempts: u32,
    /// `OUTBOX_POLL_INTERVAL`: how often the worker looks for due events (5 s); `None` (`off` or
    /// `0`) when this process delivers nothing.
    pub poll_interval: Option<Duration>,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            support_url: None,
            erp_url: None,
            metafield_url: None,
            push_metafields: false,
            max_attempts: DEFAULT_OUTBOX_MAX_ATTEMPTS,
            poll_interval: Some(DEFAULT_OUTBOX_POLL_INTERVAL),
        }
    }
}

impl std::fmt::Debug for OutboxSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shown = |u: &Option<reqwest::Url>| u.as_ref().map(redact_url);
        f.debug_struct("OutboxSettings")
            .field("support_url", &shown(&self.support_url))
            .field("erp_url", &shown(&self.erp_url))
            .field("metafield_url", &shown(&self.metafield_url))
            .field("push_metafields", &self.push_metafields)
            .field("max_attempts", &self.max_attempts)
            .field("poll_interval", &self.poll_interval)
            .finish()
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact(&self.database_url))
            .field("site_addr", &self.site_addr)
            .field("use_mock_data", &self.use_mock_data)
            .field("shopify_api_base_url", &redact(&self.shopify_api_base_url))
            .field("poll_interval", &self.poll_interval)
            .field("tracking_pending_after", &self.tracking_pending_after)
            .field("delayed_after", &self.delayed_after)
            .field("outbox", &self.outbox)
            .field("lifecycle_interval", &self.lifecycle_interval)
            .field("trust", &self.trust)
            .field("secrets", &self.secrets)
            .field("shop_time_zone", &self.shop_time_zone.name())
            .field("count_cache_bytes", &self.count_cache_bytes)
            .field(
                "replica_urls",
                &self
                    .replica_urls
                    .iter()
                    .map(|u| redact(u))
                    .collect::<Vec<_>>(),
            )
            .field("replica_max_lag", &self.replica_max_lag)
            .field("metrics_addr", &self.metrics_addr)
            .finish()
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

/// How far behind the primary a replica may be and still serve reads, unless told otherwise.
pub const DEFAULT_REPLICA_MAX_LAG: Duration = Duration::from_secs(1);

/// Reads `DATABASE_REPLICA_URLS`: PostgreSQL URLs, comma-separated (empty entries skipped).
fn replica_urls(raw: Option<String>) -> Result<Vec<String>> {
    let Some(raw) = raw else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|url| {
            let ok = url.starts_with("postgres://") || url.starts_with("postgresql://");
            anyhow::ensure!(
                ok && url.parse::<sqlx::postgres::PgConnectOptions>().is_ok(),
                "DATABASE_REPLICA_URLS: '{}' is not a PostgreSQL URL like \
                 postgres://user@replica:5432/orders_sync",
                redact(url)
            );
            Ok(url.to_owned())
        })
        .collect()
}

/// Reads `METRICS_ADDR`: an address like `127.0.0.1:9100`, or `off`.
fn metrics_addr(raw: Option<String>) -> Result<Option<SocketAddr>> {
    match raw.as_deref().map(str::trim) {
        None => Ok(None),
        Some(off) if off.eq_ignore_ascii_case("off") => Ok(None),
        Some(addr) => addr.parse().map(Some).with_context(|| {
            format!("METRICS_ADDR '{addr}' is not an address like 127.0.0.1:9100")
        }),
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
        "SHOPIFY_API_BASE_URL '{}' is not an origin like https://{{shop}} or http://127.0.0.1:8080",
        redact(&raw)
    );
    Ok(raw)
}

/// Reads `SYNC_POLL_INTERVAL`: a duration, or `off` / `0` for a process that does not poll.
fn poll_interval(raw: Option<String>) -> Result<Option<Duration>> {
    interval("SYNC_POLL_INTERVAL", raw, DEFAULT_POLL_INTERVAL)
}

/// Reads a worker's interval: a duration, or `off` / `0` for a process that does not run it.
fn interval(name: &str, raw: Option<String>, default: Duration) -> Result<Option<Duration>> {
    let interval = match raw.as_deref().map(str::trim) {
        None => default,
        Some(off) if off.eq_ignore_ascii_case("off") => return Ok(None),
        Some(v) => parse_duration(v).with_context(|| format!("{name} is invalid"))?,
    };
    Ok(Some(interval).filter(|d| !d.is_zero()))
}

/// Reads an outbox receiver's URL: `http` or `https` with a host. The value is never echoed in an
/// error, as it may carry credentials.
fn receiver_url(name: &str, raw: Option<String>) -> Result<Option<reqwest::Url>> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    let url = reqwest::Url::parse(raw.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    match url {
        Some(url) => Ok(Some(url)),
        None => {
            anyhow::bail!("{name} is not an http(s) URL like https://erp.example.com/hooks/sync")
        }
    }
}

/// Reads `SHOP_TIMEZONE`: an IANA time zone name (`UTC` when unset); an unknown name is an error.
fn shop_time_zone(raw: Option<String>) -> Result<ShopClock> {
    match raw {
        None => Ok(ShopClock::utc()),
        Some(name) => ShopClock::parse(&name).map_err(|e| anyhow::anyhow!("SHOP_TIMEZONE: {e}")),
    }
}

/// Reads `OUTBOX_MAX_ATTEMPTS`: a whole number from 1 to [`MAX_OUTBOX_ATTEMPTS`].
fn max_attempts(raw: Option<String>) -> Result<u32> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_OUTBOX_MAX_ATTEMPTS);
    };
    raw.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (1..=MAX_OUTBOX_ATTEMPTS).contains(n))
        .with_context(|| {
            format!(
                "OUTBOX_MAX_ATTEMPTS must be a whole number from 1 to {MAX_OUTBOX_ATTEMPTS}, not '{}'",
                raw.trim()
            )
        })
}

impl OutboxSettings {
    /// Reads the `OUTBOX_*` variables, with the documented defaults.
    pub fn from_env() -> Result<Self> {
        Ok(OutboxSettings {
            support_url: receiver_url("OUTBOX_SUPPORT_URL", var("OUTBOX_SUPPORT_URL"))?,
            erp_url: receiver_url("OUTBOX_ERP_URL", var("OUTBOX_ERP_URL"))?,
            metafield_url: receiver_url("OUTBOX_METAFIELD_URL", var("OUTBOX_METAFIELD_URL"))?,
            push_metafields: bool_var("OUTBOX_PUSH_METAFIELDS")?,
            max_attempts: max_attempts(var("OUTBOX_MAX_ATTEMPTS"))?,
            poll_interval: interval(
                "OUTBOX_POLL_INTERVAL",
                var("OUTBOX_POLL_INTERVAL"),
                DEFAULT_OUTBOX_POLL_INTERVAL,
            )?,
        })
    }
}

fn bool_var(name: &str) -> Result<bool> {
    match var(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
        Some(v) => anyhow::bail!("{name} must be true or false, not '{v}'"),
    }
}

/// `SECRETS_KEY`, required with `SHOPIFY_API_SECRET` (SPEC §10).
fn secrets_key() -> Result<crate::secrets::Secrets> {
    match var("SECRETS_KEY") {
        Some(raw) => crate::secrets::Secrets::from_base64(&raw),
        None if var("SHOPIFY_API_SECRET").is_some() => anyhow::bail!(
            "SECRETS_KEY is required with SHOPIFY_API_SECRET: 32 random bytes, base64, which \
             encrypt the shops' access tokens and webhook secrets (openssl rand -base64 32)"
        ),
        None => Ok(crate::secrets::Secrets::plaintext()),
    }
}

/// An absolute `http(s)` URL, or a path on this site (`/…`, not `//…`), for a page's script.
fn script_url(name: &str, raw: &str) -> Result<()> {
    let ok = match reqwest::Url::parse(raw) {
        Ok(url) => matches!(url.scheme(), "http" | "https") && url.host_str().is_some(),
        Err(_) => raw.starts_with('/') && !raw.starts_with("//"),
    };
    if ok && !raw.contains(['"', '<', '>', ' ']) {
        Ok(())
    } else {
        anyhow::bail!(
            "{name} must be an http(s) URL or a path on this site, not '{}'",
            redact(raw)
        )
    }
}

impl TrustSettings {
    /// Whether the dashboard and the development sign-in are served on `addr` (SPEC §11): always
    /// with the app's secret; without it, on a loopback address only.
    pub fn serves_dashboard(&self, addr: &SocketAddr) -> bool {
        self.shopify_api_secret.is_some() || addr.ip().is_loopback()
    }

    /// Refuses, with a message naming `SHOPIFY_API_SECRET`, to serve without the app's secret on
    /// an address other machines reach, unless the deployment is API-only
    /// (`SYNC_API_AUTH=required`: then the dashboard is not served at all).
    pub fn check_address(&self, addr: &SocketAddr) -> Result<()> {
        if self.serves_dashboard(addr) || self.tokens_required {
            return Ok(());
        }
        anyhow::bail!(
            "refusing to serve on {addr} without SHOPIFY_API_SECRET: without the app's secret the \
             dashboard has no sign-in, so it is served on a loopback address only \
             (LEPTOS_SITE_ADDR=127.0.0.1:3000). Set SHOPIFY_API_SECRET and SHOPIFY_API_KEY to \
             serve the embedded app, or SYNC_API_AUTH=required for the Sync API alone"
        )
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
            shopify_api_base_url: shopify_base_url(
                var("SHOPIFY_API_BASE_URL").unwrap_or_else(|| DEFAULT_SHOPIFY_API_BASE_URL.into()),
            )?,
            poll_interval: poll_interval(var("SYNC_POLL_INTERVAL"))?,
            tracking_pending_after: duration_var(
                "TRACKING_PENDING_AFTER",
                Duration::from_secs(2 * 3600),
            )?,
            delayed_after: duration_var("DELAYED_AFTER", Duration::from_secs(24 * 3600))?,
            outbox: OutboxSettings::from_env()?,
            lifecycle_interval: interval(
                "LIFECYCLE_POLL_INTERVAL",
                var("LIFECYCLE_POLL_INTERVAL"),
                DEFAULT_LIFECYCLE_POLL_INTERVAL,
            )?,
            trust: TrustSettings::from_env()?,
            secrets: secrets_key()?,
            limits: LimitSettings::from_env()?,
            shop_time_zone: shop_time_zone(var("SHOP_TIMEZONE"))?,
            count_cache_bytes: bytes_var(
                "COUNT_CACHE_BYTES",
                crate::store::postgres::count_cache::DEFAULT_BUDGET,
            )?,
            replica_urls: replica_urls(var("DATABASE_REPLICA_URLS"))?,
            replica_max_lag: duration_var("REPLICA_MAX_LAG", DEFAULT_REPLICA_MAX_LAG)?,
            metrics_addr: metrics_addr(var("METRICS_ADDR"))?,
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
        self.trust
            .dashboard_shop
            .clone()
            .unwrap_or_else(|| DEFAULT_SAMPLE_SHOP.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_urls_are_a_comma_separated_list_of_postgresql_urls() {
        assert!(replica_urls(None).unwrap().is_empty());
        assert_eq!(
            replica_urls(Some(" postgres://a@r1/x , ,postgresql://r2:5433/x".into())).unwrap(),
            ["postgres://a@r1/x", "postgresql://r2:5433/x"]
        );
        let e = replica_urls(Some("postgres://r1/x,mysql://u:pw@r2/x".into())).unwrap_err();
        assert!(e.to_string().contains("mysql://"), "{e}");
        assert!(!e.to_string().contains("pw"), "{e}");
    }

    #[test]
    fn durations_read_units_and_plain_seconds() {
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn the_shop_time_zone_is_an_iana_name_utc_by_default() {
        assert_eq!(shop_time_zone(None).unwrap(), ShopClock::utc());
        assert_eq!(
            shop_time_zone(Some(" Asia/Tokyo ".into())).unwrap().name(),
            "Asia/Tokyo"
        );
        let error = shop_time_zone(Some("Tokyo".into()))
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("SHOP_TIMEZONE: unknown time zone \"Tokyo\""),
            "{error}"
        );
        assert!(error.contains("IANA name"), "{error}");
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
    fn the_outbox_settings_read_urls_attempts_and_an_interval_that_may_be_off() {
        let url = receiver_url(
            "OUTBOX_ERP_URL",
            Some(" https://erp.example.com/hooks ".into()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(url.as_str(), "https://erp.example.com/hooks");
        assert_eq!(receiver_url("OUTBOX_ERP_URL", None).unwrap(), None);
        let e = receiver_url("OUTBOX_ERP_URL", Some("ftp://user:hunter2@erp".into())).unwrap_err();
        assert!(!format!("{e:#}").contains("hunter2"), "{e:#}");
        assert!(receiver_url("OUTBOX_ERP_URL", Some("erp.example.com".into())).is_err());

        assert_eq!(max_attempts(None).unwrap(), DEFAULT_OUTBOX_MAX_ATTEMPTS);
        assert_eq!(max_attempts(Some("3".into())).unwrap(), 3);
        assert!(max_attempts(Some("0".into())).is_err());
        assert!(max_attempts(Some("many".into())).is_err());

        let every = |raw: Option<&str>| {
            interval(
                "OUTBOX_POLL_INTERVAL",
                raw.map(str::to_owned),
                DEFAULT_OUTBOX_POLL_INTERVAL,
            )
        };
        assert_eq!(every(None).unwrap(), Some(Duration::from_secs(5)));
        assert_eq!(
            every(Some("250ms")).unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(every(Some("off")).unwrap(), None);
        assert_eq!(every(Some("0")).unwrap(), None);
        let e = every(Some("often")).unwrap_err();
        assert!(format!("{e:#}").contains("OUTBOX_POLL_INTERVAL"), "{e:#}");
    }

    #[test]
    fn receiver_credentials_and_queries_never_reach_the_logs() {
        let url =
            reqwest::Url::parse("https://sync:s3cret@erp.example.com/hooks?token=abc").unwrap();
        let settings = OutboxSettings {
            erp_url: Some(url),
            ..OutboxSettings::default()
        };
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("abc"),
            "{shown}"
        );
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        let settings = Settings {
            database_url: "postgres://app:s3cret@db/x?sslpassword=k3y".into(),
            site_addr: DEFAULT_SITE_ADDR.parse().unwrap(),
            use_mock_data: false,
            shopify_api_base_url: "https://proxy.example/{shop}?api_token=t0k".into(),
            poll_interval: None,
            tracking_pending_after: Duration::from_secs(60),
            delayed_after: Duration::from_secs(60),
            outbox: OutboxSettings::default(),
            lifecycle_interval: None,
            trust: TrustSettings::default(),
            secrets: crate::secrets::Secrets::default(),
            limits: LimitSettings::default(),
            shop_time_zone: ShopClock::utc(),
            count_cache_bytes: 0,
            replica_urls: vec!["postgres://app:s3cret@replica/x".into()],
            replica_max_lag: DEFAULT_REPLICA_MAX_LAG,
            metrics_addr: None,
        };
        let shown = format!("{settings:?}");
        for secret in ["s3cret", "k3y", "t0k"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("postgres://app:***@db/x"), "{shown}");
    }
}
