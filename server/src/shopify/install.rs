//! Managed installation and token exchange (SPEC §10), as Shopify's own libraries do it
//! (shopify-app-js: `tokenExchange`, `refreshToken`).
//!
//! - On a valid session token of a shop that has no usable offline token (none, uninstalled, or
//!   expired with no refresh token left), the session token is exchanged at
//!   `POST {origin}/admin/oauth/access_token` for an **expiring** offline token. The answer
//!   (`access_token`, `scope`, `expires_in`, `refresh_token`, `refresh_token_expires_in`) is stored
//!   in one statement, registering the shop, whose poller then takes it over.
//! - A token within [`REFRESH_MARGIN`] of expiring is refreshed (`grant_type: refresh_token`) and
//!   the new pair stored in one statement: by the dashboard's door and by the poller before a tick.
//! - Both run under the shop's install lock (an advisory lock in PostgreSQL), re-reading the state
//!   under it, so two processes never exchange or refresh one shop at once: the second finds the
//!   first one's token.
//! - A `400 invalid_subject_token` means the session token cannot be exchanged (Shopify says the
//!   app is not installed for it): [`InstallError::InvalidSubjectToken`], which the door answers
//!   with the bounce, not an error page.
//! - After an install (a token exchange), the shop's time zone is read from the Admin API
//!   (`shop { ianaTimezone }`) and kept, for the dashboard; a failure is logged, never the
//!   install's.
//! - Shops whose token does not expire (`shop add`, custom apps) count as installed and are never
//!   exchanged.
//! - The state is read on every admitted request (one primary-key read), not remembered by the
//!   process: an uninstall applied by any process is seen by the next request of every other, so
//!   the first session token after it is exchanged again (a reinstall).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;

use crate::service::{Database, Ingestion, Shops};
use crate::store::postgres::install::{InstallState, OfflineToken};
use crate::store::StoreError;

/// How long before its expiry a token is refreshed (shopify-app-js uses five minutes).
pub const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);
/// One request to Shopify's token endpoint.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const OFFLINE_TOKEN: &str = "urn:shopify:params:oauth:token-type:offline-access-token";

/// Why a shop could not be given a token.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// Shopify refused the session token (`400 invalid_subject_token`): bounce for a fresh one.
    #[error("Shopify refused to exchange the session token (invalid_subject_token)")]
    InvalidSubjectToken,
    /// The refresh token was refused or has expired, and there is no session token to exchange.
    #[error("the shop's refresh token was refused or has expired; it is exchanged again when the app is next opened")]
    RefreshRefused,
    #[error("Shopify's token endpoint failed: {0}")]
    Shopify(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the token endpoint answers.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    scope: Option<String>,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
    refresh_token_expires_in: Option<i64>,
}

/// What it answers when it refuses.
#[derive(Deserialize)]
struct TokenRefusal {
    error: Option<String>,
    error_description: Option<String>,
}

/// What a shop's state calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needed {
    Nothing,
    Refresh,
    Exchange,
}

/// The rule of the module's documentation, for a shop in `state` at `now`.
pub fn needed(state: Option<&InstallState>, now: DateTime<Utc>) -> Needed {
    let Some(state) = state else {
        return Needed::Exchange;
    };
    if state.uninstalled_at.is_some() || state.access_token.is_none() {
        return Needed::Exchange;
    }
    match state.access_token_expires_at {
        Some(expires) if expires - REFRESH_MARGIN <= now => {
            let refreshable = state.refresh_token.is_some()
                && state
                    .refresh_token_expires_at
                    .is_none_or(|until| until > now);
            if refreshable {
                Needed::Refresh
            } else {
                Needed::Exchange
            }
        }
        _ => Needed::Nothing,
    }
}

/// The app's credentials and the way to Shopify's token endpoint; cheap to share.
pub struct Installer {
    http: reqwest::Client,
    /// `SHOPIFY_API_BASE_URL`, `{shop}` standing for the domain.
    base_url: String,
    client_id: String,
    client_secret: String,
    /// The shops' install state and offline tokens.
    shops: Shops,
    /// Where an install's history is imported through.
    ingestion: Ingestion,
    /// The history imports this installer started.
    imports: Imports,
    /// The Admin API, for the shop's time zone after an install.
    graphql: super::poller::ShopifyClient,
}

impl std::fmt::Debug for Installer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Installer")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Installer {
    pub fn new(
        base_url: &str,
        client_id: &str,
        client_secret: &str,
        database: &Database,
    ) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("orders-sync/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Installer {
            http,
            base_url: base_url.trim().trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            shops: database.shops().clone(),
            ingestion: database.ingestion().clone(),
            imports: Imports::default(),
            graphql: super::poller::ShopifyClient::new(base_url)?,
        })
    }

    /// The installer of the app configured in `settings` (its client id and secret), `None`
    /// without them (development).
    pub fn from_settings(
        settings: &crate::settings::Settings,
        database: &Database,
    ) -> Option<Self> {
        let trust = &settings.trust;
        let (Some(id), Some(secret)) = (&trust.shopify_api_key, &trust.shopify_api_secret) else {
            return None;
        };
        match Installer::new(&settings.shopify_api_base_url, id, secret, database) {
            Ok(installer) => Some(installer),
            Err(e) => {
                tracing::error!(error = %e, "cannot build the Shopify token client");
                None
            }
        }
    }

    fn token_url(&self, shop: &str) -> String {
        format!(
            "{}/admin/oauth/access_token",
            self.base_url.replace("{shop}", shop)
        )
    }

    /// The history imports this installer started, and their progress.
    pub fn imports(&self) -> &Imports {
        &self.imports
    }

    /// Starts the backfill of the history of `shop`, just installed (see [`Imports::start`]).
    pub fn import_history(&self, shop: &str) {
        self.imports
            .start(&self.base_url, self.ingestion.clone(), shop.to_owned());
    }

    /// Makes sure `shop`, whose staff member sent the verified `session_token`, has a usable
    /// offline token: exchanging or refreshing as its state calls for (see the module's
    /// documentation). Answers `true` when this call installed the shop (a first install or a
    /// reinstall), so its history can be backfilled.
    pub async fn ensure(&self, shop: &str, session_token: &str) -> Result<bool, InstallError> {
        let now = Utc::now();
        let state = self.shops.install_state(shop).await?;
        if needed(state.as_ref(), now) == Needed::Nothing {
            return Ok(false);
        }
        let (tx, state) = self.shops.lock_install(shop).await?;
        let installed = match needed(state.as_ref(), Utc::now()) {
            // Another process did it while this one waited for the lock.
            Needed::Nothing => {
                self.shops.release_install(tx).await?;
                false
            }
            Needed::Refresh => {
                let refresh = state.and_then(|s| s.refresh_token).unwrap_or_default();
                match self.request_refresh(shop, &refresh).await {
                    Ok(token) => {
                        self.shops.store_offline_token(tx, shop, &token).await?;
                        false
                    }
                    // A refused refresh: the session token at hand is exchanged instead.
                    Err(InstallError::RefreshRefused) => {
                        let token = self.request_exchange(shop, session_token).await?;
                        self.shops.store_offline_token(tx, shop, &token).await?;
                        false
                    }
                    Err(e) => return Err(e),
                }
            }
            Needed::Exchange => {
                let reinstall = state.is_some_and(|s| s.uninstalled_at.is_some());
                let token = self.request_exchange(shop, session_token).await?;
                self.shops.store_offline_token(tx, shop, &token).await?;
                tracing::info!(
                    shop,
                    reinstall,
                    "installed: the session token was exchanged for an offline token"
                );
                self.learn_time_zone(shop, &token.access_token).await;
                true
            }
        };
        Ok(installed)
    }

    /// Refreshes `shop`'s token when it is due (the poller, before a tick): answers the token to
    /// use, `None` when the shop has none.
    pub async fn fresh_token(&self, shop: &str) -> Result<Option<String>, InstallError> {
        let state = self.shops.install_state(shop).await?;
        if needed(state.as_ref(), Utc::now()) != Needed::Refresh {
            return Ok(state.and_then(|s| s.access_token));
        }
        let (tx, state) = self.shops.lock_install(shop).await?;
        match needed(state.as_ref(), Utc::now()) {
            Needed::Refresh => {
                let refresh = state.and_then(|s| s.refresh_token).unwrap_or_default();
                let token = self.request_refresh(shop, &refresh).await?;
                let access = token.access_token.clone();
                self.shops.store_offline_token(tx, shop, &token).await?;
                tracing::info!(shop, "the offline token was refreshed");
                Ok(Some(access))
            }
            _ => {
                self.shops.release_install(tx).await?;
                Ok(state.and_then(|s| s.access_token))
            }
        }
    }

    /// Reads `shop`'s time zone from Shopify with its new token and keeps it. A failure is logged
    /// and leaves the zone as it was (the dashboard then shows `SHOP_TIMEZONE`): it never fails
    /// the install.
    pub async fn learn_time_zone(&self, shop: &str, token: &str) {
        let zone = match self.graphql.shop_time_zone(shop, token).await {
            Ok(zone) => zone,
            Err(e) => {
                tracing::warn!(shop, error = %e, "could not read the shop's time zone from Shopify");
                return;
            }
        };
        if let Err(e) = orders_core::locale::ShopClock::parse(&zone) {
            tracing::warn!(shop, error = %e, "Shopify gave a time zone this build does not know");
            return;
        }
        match self.shops.set_time_zone(shop, &zone).await {
            Ok(()) => tracing::info!(shop, zone, "the shop's time zone is known"),
            Err(e) => tracing::warn!(shop, error = %e, "could not keep the shop's time zone"),
        }
    }

    /// Reads and keeps `shop`'s time zone if it is not known yet: a shop installed before time
    /// zones were read, or whose read failed. The poller calls it before each tick (one primary-key
    /// read when the zone is known).
    pub async fn fill_time_zone(&self, shop: &str, token: &str) {
        match self.shops.time_zone(shop).await {
            Ok(Some(_)) => {}
            Ok(None) => self.learn_time_zone(shop, token).await,
            Err(e) => tracing::warn!(shop, error = %e, "could not read the shop's time zone"),
        }
    }

    async fn request_exchange(
        &self,
        shop: &str,
        session_token: &str,
    ) -> Result<OfflineToken, InstallError> {
        let body = json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": TOKEN_EXCHANGE,
            "subject_token": session_token,
            "subject_token_type": ID_TOKEN,
            "requested_token_type": OFFLINE_TOKEN,
            "expiring": "1",
        });
        self.request(&self.token_url(shop), body, false).await
    }

    async fn request_refresh(
        &self,
        shop: &str,
        refresh_token: &str,
    ) -> Result<OfflineToken, InstallError> {
        let body = json!({
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
        });
        self.request(&self.token_url(shop), body, true).await
    }

    async fn request(
        &self,
        url: &str,
        body: serde_json::Value,
        refreshing: bool,
    ) -> Result<OfflineToken, InstallError> {
        let sent_at = Utc::now();
        let response = self
            .http
            .post(url)
            .header("accept", "application/json")
            .json(&body)
            .send()
            .await
            .map_err(|e| InstallError::Shopify(e.without_url().to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| InstallError::Shopify(e.without_url().to_string()))?;
        if !status.is_success() {
            let refusal: Option<TokenRefusal> = serde_json::from_str(&text).ok();
            let error = refusal.as_ref().and_then(|r| r.error.as_deref());
            if status.as_u16() == 400 && error == Some("invalid_subject_token") {
                return Err(InstallError::InvalidSubjectToken);
            }
            if refreshing && (400..500).contains(&status.as_u16()) {
                return Err(InstallError::RefreshRefused);
            }
            let detail = refusal
                .and_then(|r| r.error_description.or(r.error))
                .unwrap_or_default();
            return Err(InstallError::Shopify(format!("HTTP {status} {detail}")));
        }
        let answer: TokenAnswer = serde_json::from_str(&text)
            .map_err(|e| InstallError::Shopify(format!("unreadable answer: {e}")))?;
        let after = |secs: Option<i64>| {
            secs.filter(|s| *s > 0)
                .map(|s| sent_at + chrono::Duration::seconds(s))
        };
        Ok(OfflineToken {
            access_token: answer.access_token,
            scope: answer.scope,
            expires_at: after(answer.expires_in),
            refresh_token: answer.refresh_token,
            refresh_token_expires_at: after(answer.refresh_token_expires_in),
        })
    }
}

/// How far the history backfill of each shop installed by this process has come (SPEC §10:
/// "progress visible on the dashboard"). A finished import is forgotten; one that stopped short
/// stays, with why, until the next install of the shop.
#[derive(Clone, Default)]
pub struct Imports {
    inner: std::sync::Arc<Mutex<HashMap<String, app::backend::ImportProgress>>>,
}

impl Imports {
    /// The progress of `shop`'s import, while one runs or if it stopped short.
    pub fn progress(&self, shop: &str) -> Option<app::backend::ImportProgress> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(shop)
            .cloned()
    }

    fn set(&self, shop: &str, progress: Option<app::backend::ImportProgress>) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        match progress {
            Some(p) => {
                inner.insert(shop.to_owned(), p);
            }
            None => {
                inner.remove(shop);
            }
        }
    }

    /// Starts the backfill of `shop`'s whole order history in the background, through the
    /// poller's client and ingestion. After each page its progress is updated and open
    /// dashboards are pinged to reload, so the orders appear as they arrive.
    pub fn start(&self, settings_base_url: &str, ingestion: Ingestion, shop: String) {
        let client = match super::poller::ShopifyClient::new(settings_base_url) {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(shop, error = %e, "cannot build the Shopify client; no backfill");
                return;
            }
        };
        let imports = self.clone();
        imports.set(
            &shop,
            Some(app::backend::ImportProgress {
                orders: 0,
                stopped: None,
            }),
        );
        tokio::spawn(async move {
            tracing::info!(shop, "backfill of the order history started");
            let result = super::poller::backfill(&ingestion, &client, &shop, None, |p| {
                let t = &p.tally;
                imports.set(
                    &shop,
                    Some(app::backend::ImportProgress {
                        orders: (t.created + t.updated + t.unchanged) as u64,
                        stopped: None,
                    }),
                );
                let (ingestion, shop) = (ingestion.clone(), shop.clone());
                tokio::spawn(async move {
                    let refresh = orders_core::alerts::Refresh {
                        reason: orders_core::alerts::RefreshReason::Poller,
                        at: orders_core::record::to_micros(Utc::now()),
                    };
                    let _ = ingestion.notify_refresh(&shop, refresh).await;
                });
            })
            .await;
            match result {
                Ok(p) => {
                    imports.set(&shop, None);
                    tracing::info!(shop, pages = p.pages, "backfill of the order history done");
                }
                Err(e) => {
                    tracing::warn!(shop, error = %e, "the backfill stopped");
                    let orders = imports.progress(&shop).map_or(0, |p| p.orders);
                    imports.set(
                        &shop,
                        Some(app::backend::ImportProgress {
                            orders,
                            stopped: Some(e.to_string()),
                        }),
                    );
                }
            }
        });
    }
}
