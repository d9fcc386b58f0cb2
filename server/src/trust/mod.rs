//! Who may do what: the Sync API's bearer tokens and rate limits, the dashboard's sessions, the
//! `Idempotency-Key` of the writes, and the security headers of every response.
//!
//! Policy of the Sync API (`/sync/*`), one rule with the dashboard's ([`access`]):
//! - A request may carry `Authorization: Bearer <token>`: a Sync API token, or Shopify's session
//!   token (the embedded dashboard's `/sync` reads). One that is malformed, unknown, revoked or
//!   expired is a 401, whatever the request; a valid one opens its own shop only (403 for another
//!   `shop_domain`). The live stream, which cannot send headers, may carry the session token as
//!   `id_token=`.
//! - Without one, a `GET` may ride on the development sign-in's cookie, for the session's shop
//!   only. Writes never do: the dashboard writes through its server functions, which check the
//!   credential and the request's origin.
//! - A request with neither (or with only a development cookie) is a 401 when tokens are required
//!   (`SYNC_API_AUTH=required`, implied by `SHOPIFY_API_SECRET`) or when the shop has ever had a
//!   token; otherwise it is served (a development set-up, or a shop that has not been given
//!   tokens yet).
//! - Each token may make `SYNC_RATE_LIMIT` requests a second on average, with bursts of twice as
//!   many; beyond, 429 with `Retry-After`.

pub mod access;
pub mod gate;
pub mod headers;
pub mod idempotency;
pub mod limit;
pub mod session;

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::service::Service;
use crate::settings::TrustSettings;

pub use access::{Carried, Credential, Door};
pub use session::{Session, SessionKeys};

/// What every token starts with, so that one pasted in the wrong place is recognisable.
pub const TOKEN_PREFIX: &str = "oss_";

/// A new bearer token: the prefix and 32 random bytes, base64url.
pub fn new_token() -> Result<String, getrandom::Error> {
    Ok(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    ))
}

/// `N` bytes from the operating system's generator; an error when it has none to give, which a
/// request answers with a 500 rather than a panic.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// The SHA-256 of a token: what the database keeps.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The first characters of a token, shown by `token list` to tell tokens apart.
pub fn token_shown_prefix(token: &str) -> String {
    token.chars().take(TOKEN_PREFIX.len() + 6).collect()
}

/// The trust settings and state the doors share; cheap to clone.
#[derive(Clone)]
pub struct Trust {
    inner: Arc<TrustInner>,
}

struct TrustInner {
    settings: TrustSettings,
    limiter: limit::Limiter,
    sessions: SessionKeys,
    /// The origin App Bridge is loaded from, when it is not this site.
    app_bridge_origin: Option<String>,
    /// Installs shops on their first session token (with the app's secret, on PostgreSQL).
    installer: std::sync::OnceLock<Arc<crate::shopify::install::Installer>>,
}

impl Trust {
    pub fn new(settings: &TrustSettings) -> Self {
        let mut settings = settings.clone();
        // Production (the app's secret is set): every shop's `/sync` needs a credential.
        settings.tokens_required |= settings.shopify_api_secret.is_some();
        let settings = &settings;
        Trust {
            inner: Arc::new(TrustInner {
                limiter: limit::Limiter::new(settings.rate_limit),
                sessions: SessionKeys::new(settings),
                app_bridge_origin: headers::origin_of(&settings.app_bridge_url),
                settings: settings.clone(),
                installer: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Installs shops through `installer`, which also imports a new one's history.
    pub fn with_installer(self, installer: Arc<crate::shopify::install::Installer>) -> Self {
        let _ = self.inner.installer.set(installer);
        self
    }

    /// How far the import of `shop`'s order history has come, if one runs or stopped short.
    pub fn import_progress(&self, shop: &str) -> Option<app::backend::ImportProgress> {
        self.installer()?.imports().progress(shop)
    }

    fn installer(&self) -> Option<&crate::shopify::install::Installer> {
        self.inner.installer.get().map(|i| &**i)
    }

    pub fn settings(&self) -> &TrustSettings {
        &self.inner.settings
    }

    /// The origin pages load App Bridge from, for their CSP (`None`: this site).
    pub fn app_bridge_origin(&self) -> Option<&str> {
        self.inner.app_bridge_origin.as_deref()
    }

    pub fn sessions(&self) -> &SessionKeys {
        &self.inner.sessions
    }

    /// Whether every door needs a credential of the shop: when the app's Shopify secret is
    /// configured (production, embedded in Shopify's admin).
    pub fn sign_in_required(&self) -> bool {
        self.inner.settings.shopify_api_secret.is_some()
    }

    /// Whether an anonymous request may read or write `shop`.
    async fn open_to_anonymous(&self, service: &Service, shop: &str) -> Result<bool, ApiError> {
        if self.inner.settings.tokens_required {
            return Ok(false);
        }
        let Some(database) = service.database() else {
            // The sample data has no tokens.
            return Ok(true);
        };
        let protected = database.tokens().shop_requires_token(shop).await?;
        Ok(!protected)
    }
}

/// The caller of a `/sync` request, with what deciding needs. Rejects a bad token at once (401),
/// and a token over its rate (429).
pub struct ApiCaller {
    pub credential: Credential,
    trust: Trust,
    service: Service,
}

impl<S> FromRequestParts<S> for ApiCaller
where
    S: Send + Sync,
    Trust: FromRef<S>,
    Service: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let trust = Trust::from_ref(state);
        let service = Service::from_ref(state);
        let credential = trust
            .credential(
                &service,
                parts,
                Carried {
                    cookie_for_writes: false,
                },
            )
            .await?;
        if credential == Credential::Anonymous && trust.inner.settings.tokens_required {
            return Err(ApiError::Unauthorized(
                "a bearer token is required (Authorization: Bearer …)".into(),
            ));
        }
        Ok(ApiCaller {
            credential,
            trust,
            service,
        })
    }
}

impl ApiCaller {
    /// Succeeds when the caller may act on `shop` (the one rule, [`Trust::admit`]); else 401 (no
    /// credentials where some are needed) or 403 (credentials of another shop).
    pub async fn authorize(&self, shop: &str) -> Result<(), ApiError> {
        self.trust
            .admit(&self.service, &self.credential, shop, Door::Sync)
            .await
    }
}

/// The longest bearer read: Shopify's session tokens (JWTs) run to several hundred bytes.
const MAX_BEARER: usize = 4096;

/// The token of an `Authorization: Bearer …` header.
fn bearer(value: &str) -> Result<&str, ApiError> {
    let malformed =
        || ApiError::Unauthorized("the Authorization header must be 'Bearer <token>'".into());
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(malformed());
    }
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_BEARER {
        return Err(malformed());
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_recognisable() {
        let a = new_token().unwrap();
        let b = new_token().unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(token_shown_prefix(&a).len(), TOKEN_PREFIX.len() + 6);
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn only_bearer_credentials_are_read() {
        assert_eq!(bearer("Bearer abc").unwrap(), "abc");
        assert_eq!(bearer("bearer  abc ").unwrap(), "abc");
        assert!(bearer("Basic abc").is_err());
        assert!(bearer("Bearer").is_err());
        assert!(bearer("Bearer ").is_err());
        assert!(bearer(&format!("Bearer {}", "x".repeat(MAX_BEARER))).is_ok());
        assert!(bearer(&format!("Bearer {}", "x".repeat(MAX_BEARER + 1))).is_err());
    }
}
