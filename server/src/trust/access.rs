//! The one access rule (SPEC §11): what a request carries ([`Credential`]) and whether it may
//! reach a shop through a door ([`Trust::admit`]). Every door asks here: the Sync API, the live
//! stream, the dashboard's pages and server functions, and the CSV export.
//!
//! - An API token opens its own shop's `/sync` doors, never the dashboard (403 for another shop).
//! - A Shopify session token opens its own shop, every door (403 for another shop).
//! - A development session (the `/auth/dev` cookie) and an anonymous visitor open a shop only
//!   while no credential is needed for it: without `SHOPIFY_API_SECRET`, outside
//!   `SYNC_API_AUTH=required`, and for a shop that has never had an API token. Otherwise 401.

use axum::http::{header, request::Parts, Method};

use super::session::{Session, SignIn};
use super::{bearer, token_hash, Trust};
use crate::error::ApiError;
use crate::service::{now, Service};
use crate::shopify::install::InstallError;

/// What a request carries to prove who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A valid Sync API bearer token of `shop`.
    ApiToken { id: i64, shop: String },
    /// A verified Shopify session token (the embedded dashboard, on every request).
    SessionToken(Session),
    /// The development sign-in's cookie (only while there is no `SHOPIFY_API_SECRET`).
    Development(Session),
    /// Nothing.
    Anonymous,
}

impl Credential {
    /// The signed-in staff member, if the credential names one.
    pub fn session(&self) -> Option<&Session> {
        match self {
            Credential::SessionToken(s) | Credential::Development(s) => Some(s),
            _ => None,
        }
    }
}

/// Which kind of door a request comes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// `/sync/*`, the live stream included.
    Sync,
    /// The dashboard's pages, its server functions and the CSV export.
    Dashboard,
}

/// Where a request may carry its credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Carried {
    /// The development cookie counts for writes too (the dashboard's server functions, behind
    /// its CSRF check); on `/sync` it counts for reads only.
    pub cookie_for_writes: bool,
}

fn same_shop(own: &str, shop: &str) -> Result<(), ApiError> {
    if own.eq_ignore_ascii_case(shop.trim()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "these credentials are for {own}, not for {}",
            shop.trim()
        )))
    }
}

/// Whether `value` has the shape of a JWT (three dot-separated parts), as Shopify's session
/// tokens do; the Sync API's own tokens never contain a dot.
fn looks_like_jwt(value: &str) -> bool {
    value.split('.').count() == 3
}

impl Trust {
    /// The credential of a request: `Authorization: Bearer` (an API token or a Shopify session
    /// token), else a GET's `id_token=` (document loads, the live stream, the export link), else
    /// the development cookie. A bearer or `id_token` that does not verify is a 401 at once,
    /// never anonymous: [`ApiError::InvalidSession`] for a session token, so App Bridge retries
    /// with a fresh one.
    pub async fn credential(
        &self,
        service: &Service,
        parts: &Parts,
        carried: Carried,
    ) -> Result<Credential, ApiError> {
        let read = parts.method == Method::GET || parts.method == Method::HEAD;
        if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
            let token = bearer(value.to_str().unwrap_or(""))?;
            if looks_like_jwt(token) {
                return self.installed_session(token).await;
            }
            // The sample data has no tokens.
            let owner = match service.database() {
                Some(database) => {
                    let tokens = database.tokens();
                    tokens.token_owner(&token_hash(token), now()).await?
                }
                None => None,
            };
            let owner = owner.ok_or_else(|| {
                ApiError::Unauthorized("the bearer token is not valid (unknown or revoked)".into())
            })?;
            self.inner.limiter.check(owner.id)?;
            return Ok(Credential::ApiToken {
                id: owner.id,
                shop: owner.shop,
            });
        }
        // Without the app's secret there are no session tokens: `id_token` means nothing then.
        if read && self.sign_in_required() {
            if let Some(jwt) = query_value(parts.uri.query(), "id_token") {
                return self.installed_session(&jwt).await;
            }
        }
        if read || carried.cookie_for_writes {
            if let Some(session) = self.development_session(&parts.headers) {
                return Ok(Credential::Development(session));
            }
        }
        Ok(Credential::Anonymous)
    }

    /// A Shopify session token, verified, of a shop that is installed: a shop without a usable
    /// offline token is installed (or reinstalled) now by exchanging this token
    /// ([`crate::shopify::install`]), and its history backfilled in the background.
    async fn installed_session(&self, jwt: &str) -> Result<Credential, ApiError> {
        let credential = self.session_token(jwt)?;
        let (Credential::SessionToken(session), Some(installer)) = (&credential, self.installer())
        else {
            return Ok(credential);
        };
        match installer.ensure(&session.shop, jwt).await {
            Ok(false) => Ok(credential),
            Ok(true) => {
                installer.import_history(&session.shop);
                Ok(credential)
            }
            Err(InstallError::InvalidSubjectToken) => Err(ApiError::InvalidSession(
                "Shopify refused to exchange the session token: open the app again from the \
                 Shopify admin"
                    .into(),
            )),
            Err(InstallError::Store(e)) => Err(e.into()),
            Err(e) => {
                tracing::warn!(shop = %session.shop, error = %e, "the shop could not be installed");
                Err(ApiError::ShopifyUnavailable(e.to_string()))
            }
        }
    }

    /// A Shopify session token, verified (SPEC §10).
    pub fn session_token(&self, jwt: &str) -> Result<Credential, ApiError> {
        self.sessions()
            .verify_session_token(jwt, now().timestamp())
            .map(Credential::SessionToken)
            .map_err(|e| {
                ApiError::InvalidSession(format!("{e}; open the app again from the Shopify admin"))
            })
    }

    /// The development sign-in's session, while that sign-in exists.
    fn development_session(&self, headers: &axum::http::HeaderMap) -> Option<Session> {
        if !self.sessions().development_sign_in() {
            return None;
        }
        self.sessions()
            .from_headers(headers)
            .filter(|s| s.method == SignIn::Development)
    }

    /// The one rule (see the module's documentation): `Ok` when `credential` may reach `shop`
    /// through `door`; else 401 (a credential of the shop is needed) or 403 (another shop's).
    pub async fn admit(
        &self,
        service: &Service,
        credential: &Credential,
        shop: &str,
        door: Door,
    ) -> Result<(), ApiError> {
        match credential {
            Credential::ApiToken { shop: own, .. } => {
                if door == Door::Dashboard {
                    return Err(ApiError::Unauthorized(
                        "the dashboard opens with Shopify's session token, not with an API token"
                            .into(),
                    ));
                }
                same_shop(own, shop)
            }
            Credential::SessionToken(session) => same_shop(&session.shop, shop),
            Credential::Development(session) => {
                same_shop(&session.shop, shop)?;
                self.open_without_credential(service, shop, door).await
            }
            Credential::Anonymous => self.open_without_credential(service, shop, door).await,
        }
    }

    /// The shop a dashboard request shows, admitted: the one shop rule of the dashboard's pages,
    /// server functions and export. The shop the URL names, else the signed-in staff member's
    /// own, else `DASHBOARD_SHOP`, else the first shop known (the sample shop while the database
    /// is away); then [`Trust::admit`] through the dashboard's door, so a staff member who names
    /// another shop than their own is refused (403). `Ok(None)`: no shop is named and none is
    /// known yet.
    pub async fn dashboard_shop(
        &self,
        service: &Service,
        credential: &Credential,
        named: Option<&str>,
    ) -> Result<Option<String>, ApiError> {
        let named = named.map(str::trim).filter(|s| !s.is_empty());
        let chosen = match named.or(credential.session().map(|s| s.shop.as_str())) {
            Some(shop) => Some(shop.to_owned()),
            None => match &self.settings().dashboard_shop {
                Some(configured) => Some(configured.clone()),
                None => service.dashboard_shops().await.0.into_iter().next(),
            },
        };
        let Some(shop) = chosen else {
            return Ok(None);
        };
        self.admit(service, credential, &shop, Door::Dashboard)
            .await?;
        Ok(Some(shop))
    }

    /// Whether `shop` may be reached with no credential of its own (a development set-up, for a
    /// shop that has never had an API token).
    ///
    /// While the database is away, whether a shop needs a token cannot be read: the dashboard is
    /// let through, because all it can show then is the built-in sample data (SPEC §8), never
    /// the shop's own; `/sync` answers 503 as for any read. A shop already known to need a token
    /// stays shut either way.
    async fn open_without_credential(
        &self,
        service: &Service,
        shop: &str,
        door: Door,
    ) -> Result<(), ApiError> {
        let shop = shop.trim();
        if self.sign_in_required() {
            return Err(ApiError::Unauthorized(format!(
                "{shop} opens with a credential of its own: Shopify's session token (open the app \
                 from the Shopify admin) or a Sync API token"
            )));
        }
        // While the dashboard rests the database it could only show sample data: let it through
        // as when the look-up fails, without waiting out the connection timeout first.
        if door == Door::Dashboard && service.database_resting() {
            return Ok(());
        }
        let open = match self.open_to_anonymous(service, shop).await {
            Err(ApiError::Unavailable) if door == Door::Dashboard => true,
            other => other?,
        };
        if open {
            Ok(())
        } else {
            Err(ApiError::Unauthorized(format!(
                "{shop} needs a credential of its own: a bearer token for {shop} \
                 (Authorization: Bearer …)"
            )))
        }
    }
}

/// The first non-empty value of `name` in a query string.
pub fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_are_told_from_api_tokens_by_their_shape() {
        assert!(looks_like_jwt("a.b.c"));
        assert!(!looks_like_jwt("oss_abcdef"));
        assert!(!looks_like_jwt("a.b"));
    }

    #[test]
    fn a_credential_of_one_shop_is_refused_for_another() {
        assert!(same_shop("acme.myshopify.com", " ACME.myshopify.com").is_ok());
        let e = same_shop("acme.myshopify.com", "other.myshopify.com").unwrap_err();
        assert_eq!(e.status_code(), 403);
    }
}
