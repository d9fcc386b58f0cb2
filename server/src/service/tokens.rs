//! The Sync API's bearer tokens as a service (SPEC §11): who a token is, issuing, listing and
//! revoking them, and what keeps a live stream's credential standing (its token not revoked, its
//! shop installed, or its shop still open without a token).

use chrono::{DateTime, Utc};

use crate::store::postgres::trust::{Revoked, TokenOwner, TokenSummary};
use crate::store::{PgStore, StoreError};

/// The tokens over PostgreSQL; cheap to clone.
#[derive(Clone)]
pub struct Tokens {
    pg: PgStore,
}

impl Tokens {
    pub fn new(pg: PgStore) -> Self {
        Tokens { pg }
    }

    /// The owner of the token with this SHA-256, if it is active; marks it used at `now`.
    pub async fn token_owner(
        &self,
        sha256: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Option<TokenOwner>, StoreError> {
        self.pg.token_owner(sha256, now).await
    }

    /// Whether the token `id` is still active (not revoked).
    pub async fn token_active(&self, id: i64) -> Result<bool, StoreError> {
        self.pg.token_active(id).await
    }

    /// Whether `shop` has ever had a token, and so needs one on every request.
    pub async fn shop_requires_token(&self, shop: &str) -> Result<bool, StoreError> {
        self.pg.shop_requires_token(shop).await
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
        self.pg.add_token(shop, sha256, prefix, label, now).await
    }

    /// The tokens (of `shop`, when given).
    pub async fn tokens(&self, shop: Option<&str>) -> Result<Vec<TokenSummary>, StoreError> {
        self.pg.tokens(shop).await
    }

    /// Revokes the token `id` at `now`.
    pub async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<Revoked, StoreError> {
        self.pg.revoke_token(id, now).await
    }
}
