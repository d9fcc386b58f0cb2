//! Trust in PostgreSQL: the Sync API's bearer tokens and the idempotency keys of the writes.
//!
//! Policy:
//! - **Tokens** are kept as their SHA-256 only (they are 256-bit random strings, so a plain hash is
//!   enough). A shop that has ever had a token requires one from then on; revoking a token stops it
//!   at once: every change to the table notifies `orders_sync_tokens` (a trigger), which clears
//!   each process's cache of these answers (`service/tokens/cache.rs`). `last_used_at` is written
//!   at most once a minute.
//! - **Idempotency keys** are claimed as the first statement of the write's transaction: an
//!   `INSERT … ON CONFLICT` that waits on a concurrent claim of the same key until that transaction
//!   ends. The answer is stored before the commit, so the key and the effect commit together, and a
//!   write that fails leaves no key behind (the retry is applied afresh). A key older than 24 hours
//!   is taken over as new.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, Postgres, Transaction};

use super::{classify, PgStore};
use crate::store::{Idempotent, StoreError, IDEMPOTENCY_WINDOW};

/// The channel every change to `api_tokens` is announced on (payload empty).
pub const TOKENS_CHANNEL: &str = "orders_sync_tokens";

/// A token as `token list` shows it (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenSummary {
    pub id: i64,
    pub shop: String,
    pub prefix: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Whose a presented token is.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenOwner {
    pub id: i64,
    pub shop: String,
}

/// What `token revoke` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revoked {
    Revoked { shop: String },
    AlreadyRevoked { shop: String },
    NotFound,
}

impl PgStore {
    /// Keeps a new token's hash for `shop`; the shop must be registered.
    pub async fn add_token(
        &self,
        shop: &str,
        sha256: &[u8; 32],
        prefix: &str,
        label: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (shop_id, token_sha256, prefix, label, created_at) \
             SELECT id, $2, $3, $4, $5 FROM shops WHERE domain = $1 RETURNING id",
        )
        .bind(shop)
        .bind(&sha256[..])
        .bind(prefix)
        .bind(label)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?
        .ok_or_else(|| StoreError::UnknownShop(shop.to_owned()))
    }

    /// Every token, or a shop's, oldest first.
    pub async fn tokens(&self, shop: Option<&str>) -> Result<Vec<TokenSummary>, StoreError> {
        sqlx::query_as::<_, TokenSummary>(
            "SELECT t.id, s.domain AS shop, t.prefix, t.label, t.created_at, t.last_used_at, \
                    t.revoked_at \
             FROM api_tokens t JOIN shops s ON s.id = t.shop_id \
             WHERE $1::text IS NULL OR s.domain = $1 ORDER BY t.id",
        )
        .bind(shop)
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    /// Revokes token `id` (from then on it opens nothing).
    pub async fn revoke_token(&self, id: i64, now: DateTime<Utc>) -> Result<Revoked, StoreError> {
        let row = sqlx::query_as::<_, (String, bool)>(
            "WITH target AS (SELECT id, revoked_at IS NOT NULL AS was FROM api_tokens WHERE id = $1 \
                             FOR UPDATE), \
                  done AS (UPDATE api_tokens t SET revoked_at = $2 FROM target \
                           WHERE t.id = target.id AND NOT target.was) \
             SELECT s.domain, target.was FROM target \
             JOIN api_tokens t ON t.id = target.id JOIN shops s ON s.id = t.shop_id",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        Ok(match row {
            None => Revoked::NotFound,
            Some((shop, true)) => Revoked::AlreadyRevoked { shop },
            Some((shop, false)) => Revoked::Revoked { shop },
        })
    }

    /// The live token with this hash, if any (noting its use, at most once a minute).
    pub async fn token_owner(
        &self,
        sha256: &[u8; 32],
        now: DateTime<Utc>,
    ) -> Result<Option<TokenOwner>, StoreError> {
        sqlx::query_as::<_, TokenOwner>(
            "WITH found AS ( \
                 SELECT t.id, s.domain AS shop, t.last_used_at FROM api_tokens t \
                 JOIN shops s ON s.id = t.shop_id \
                 WHERE t.token_sha256 = $1 AND t.revoked_at IS NULL), \
             touched AS ( \
                 UPDATE api_tokens t SET last_used_at = $2 FROM found \
                 WHERE t.id = found.id \
                   AND (found.last_used_at IS NULL OR found.last_used_at < $2 - interval '1 minute')) \
             SELECT id, shop FROM found",
        )
        .bind(&sha256[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    /// Notes that token `id` was used at `now`, unless that was noted less than a minute ago.
    pub async fn touch_token(&self, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 \
             AND (last_used_at IS NULL OR last_used_at < $2 - interval '1 minute')",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(())
    }

    /// Whether token `id` still opens its shop (it exists and is not revoked): what an open
    /// stream re-checks, without touching `last_used_at`.
    pub async fn token_active(&self, id: i64) -> Result<bool, StoreError> {
        let active: Option<bool> =
            sqlx::query_scalar("SELECT revoked_at IS NULL FROM api_tokens WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
        Ok(active.unwrap_or(false))
    }

    /// Whether `shop` has ever had a token, and so needs one.
    pub async fn shop_requires_token(&self, shop: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM api_tokens t JOIN shops s ON s.id = t.shop_id \
                            WHERE s.domain = $1)",
        )
        .bind(shop)
        .fetch_one(&self.pool)
        .await
        .map_err(classify)
    }

    /// Forgets idempotency keys older than 24 hours; answers how many.
    pub async fn prune_idempotency_keys(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(now - IDEMPOTENCY_WINDOW)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(done.rows_affected())
    }
}

/// Claims `key` for this write (see the module's policy): `None` to go on and apply it, or the
/// answer kept for the same request; [`StoreError::KeyReused`] for another request. An unknown shop
/// claims nothing (its write fails anyway).
pub(super) async fn claim_key<T>(
    tx: &mut Transaction<'static, Postgres>,
    shop_id: Option<i64>,
    key: Option<&Idempotent<'_, T>>,
    now: DateTime<Utc>,
) -> Result<Option<Value>, StoreError> {
    let (Some(shop_id), Some(key)) = (shop_id, key) else {
        return Ok(None);
    };
    let conn: &mut PgConnection = tx;
    let claimed = sqlx::query(
        "INSERT INTO idempotency_keys (shop_id, key, fingerprint, result, created_at) \
         VALUES ($1, $2, $3, 'null', $4) \
         ON CONFLICT (shop_id, key) DO UPDATE \
             SET fingerprint = EXCLUDED.fingerprint, result = 'null', created_at = EXCLUDED.created_at \
             WHERE idempotency_keys.created_at < $5",
    )
    .bind(shop_id)
    .bind(key.key)
    .bind(&key.fingerprint[..])
    .bind(now)
    .bind(now - IDEMPOTENCY_WINDOW)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    if claimed.rows_affected() == 1 {
        return Ok(None);
    }
    let (fingerprint, result) = sqlx::query_as::<_, (Vec<u8>, Value)>(
        "SELECT fingerprint, result FROM idempotency_keys WHERE shop_id = $1 AND key = $2",
    )
    .bind(shop_id)
    .bind(key.key)
    .fetch_one(&mut *conn)
    .await
    .map_err(classify)?;
    if fingerprint == key.fingerprint {
        Ok(Some(result))
    } else {
        Err(StoreError::KeyReused(key.key.to_owned()))
    }
}

/// Stores the answer of a write that claimed `key`, in its transaction.
pub(super) async fn keep_answer<T>(
    tx: &mut Transaction<'static, Postgres>,
    shop_id: i64,
    key: Option<&Idempotent<'_, T>>,
    done: &T,
) -> Result<(), StoreError> {
    let Some(key) = key else { return Ok(()) };
    let conn: &mut PgConnection = tx;
    sqlx::query("UPDATE idempotency_keys SET result = $3 WHERE shop_id = $1 AND key = $2")
        .bind(shop_id)
        .bind(key.key)
        .bind((key.answer)(done))
        .execute(conn)
        .await
        .map_err(classify)?;
    Ok(())
}
