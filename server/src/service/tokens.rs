//! The Sync API's bearer tokens as a service (SPEC §11): who a token is, issuing, listing and
//! revoking them, and what keeps a live stream's credential standing (its token not revoked, its
//! shop installed, or its shop still open without a token). The two answers every request asks
//! (whose is this token, does this shop need one) are kept per process ([`cache`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::store::postgres::trust::{Revoked, TokenOwner, TokenSummary};
use crate::store::{PgStore, StoreError};

pub mod cache;

use cache::TokenCache;

/// The tokens over PostgreSQL; cheap to clone (clones share the cache).
#[derive(Clone)]
pub struct Tokens {
    pg: PgStore,
    cache: Arc<TokenCache>,
}

impl Tokens {
    pub fn new(pg: PgStore) -> Self {
        Tokens {
            pg,
            cache: Arc::default(),
        }
    }

    /// What this process remembers of the table, for the listener to clear.
    pub fn cache(&self) -> &TokenCache {
        &self.cache
    }

    /// The owner of the token with this SHA-256, if it is active; marks it used at `now` (at most
    /// once a minute).
    pub async fn token_owner(
        &self,
        sha256: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Option<TokenOwner>, StoreError> {
        if let Some(hit) = self.cache.owner(sha256, now) {
            if hit.touch {
                self.pg.touch_token(hit.owner.id, now).await?;
            }
            return Ok(Some(hit.owner));
        }
        let since = self.cache.generation();
        let owner = self.pg.token_owner(sha256, now).await?;
        if let Some(owner) = &owner {
            self.cache.keep_owner(since, sha256, owner, now);
        }
        Ok(owner)
    }

    /// Whether the token `id` is still active (not revoked).
    pub async fn token_active(&self, id: i64) -> Result<bool, StoreError> {
        self.pg.token_active(id).await
    }

    /// Whether `shop` has ever had a token, and so needs one on every request.
    pub async fn shop_requires_token(&self, shop: &str) -> Result<bool, StoreError> {
        if let Some(requires) = self.cache.requires(shop) {
            return Ok(requires);
        }
        let since = self.cache.generation();
        let requires = self.pg.shop_requires_token(shop).await?;
        self.cache.keep_requires(since, shop, requires);
        Ok(requires)
    }

    /// Whether `shop` is installed (a session token's stream lives as long as the install).
    pub async fn shop_installed(&self, shop: &str) -> Result<bool, StoreError> {
        self.pg.shop_installed(shop).await
    }

    /// Keeps a new token of `shop` by its hash; answers its id.
    pub async fn add_token(
        &self,
        shop: &str,
        sha256: &[u8; 32],
        prefix: &str,
        label: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let id = self.pg.add_token(shop, sha256, prefix, label, now).await?;
        // The other processes hear of it from the table's trigger; this one knows now.
        self.cache.forget();
        Ok(id)
    }

    /// The tokens (of `shop`, when given).
    pub async fn tokens(&self, shop: Option<&str>) -> Result<Vec<TokenSummary>, StoreError> {
        self.pg.tokens(shop).await
    }

    /// Revokes the token `id` at `now`.
    pub async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<Revoked, StoreError> {
        let revoked = self.pg.revoke_token(id, now).await?;
        self.cache.forget();
        Ok(revoked)
    }
}
