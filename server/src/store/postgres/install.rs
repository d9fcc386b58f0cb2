//! The embedded app's install state in `shops` (SPEC §10): the offline token a token exchange
//! gives, its refresh, and the lock that keeps two processes from exchanging or refreshing one
//! shop at once.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, Postgres, Transaction};

use super::{classify, PgStore};
use crate::secrets::Column;
use crate::store::StoreError;

/// What the app holds for a shop, secrets opened.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct InstallState {
    pub access_token: Option<String>,
    pub access_token_expires_at: Option<DateTime<Utc>>,
    pub refresh_token: Option<String>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
    pub uninstalled_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for InstallState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstallState")
            .field("has_access_token", &self.access_token.is_some())
            .field("access_token_expires_at", &self.access_token_expires_at)
            .field("has_refresh_token", &self.refresh_token.is_some())
            .field("refresh_token_expires_at", &self.refresh_token_expires_at)
            .field("uninstalled_at", &self.uninstalled_at)
            .finish()
    }
}

/// An offline access token as Shopify's token endpoint gives it, with its expiries made absolute.
#[derive(Clone, PartialEq, Eq)]
pub struct OfflineToken {
    pub access_token: String,
    pub scope: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub refresh_token: Option<String>,
    pub refresh_token_expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for OfflineToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OfflineToken")
            .field("scope", &self.scope)
            .field("expires_at", &self.expires_at)
            .field("refresh_token_expires_at", &self.refresh_token_expires_at)
            .finish_non_exhaustive()
    }
}

type Row = (
    Option<String>,
    Option<DateTime<Utc>>,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

impl PgStore {
    /// The shop's install state; `None` for a shop that is not registered.
    pub async fn install_state(&self, domain: &str) -> Result<Option<InstallState>, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(classify)?;
        self.read_install_state(&mut conn, domain).await
    }

    /// Whether the shop is registered and not uninstalled: what a stream opened with a session
    /// token re-checks (one read, no secrets opened).
    pub async fn shop_installed(&self, domain: &str) -> Result<bool, StoreError> {
        let installed: Option<bool> =
            sqlx::query_scalar("SELECT uninstalled_at IS NULL FROM shops WHERE domain = $1")
                .bind(domain)
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
        Ok(installed.unwrap_or(false))
    }

    async fn read_install_state(
        &self,
        conn: &mut PgConnection,
        domain: &str,
    ) -> Result<Option<InstallState>, StoreError> {
        let row = sqlx::query_as::<_, Row>(
            "SELECT NULLIF(access_token, ''), access_token_expires_at, refresh_token, \
                    refresh_token_expires_at, uninstalled_at FROM shops WHERE domain = $1",
        )
        .bind(domain)
        .fetch_optional(&mut *conn)
        .await
        .map_err(classify)?;
        let Some((access, access_exp, refresh, refresh_exp, uninstalled)) = row else {
            return Ok(None);
        };
        Ok(Some(InstallState {
            access_token: access
                .map(|t| self.open_secret(Column::AccessToken, &t))
                .transpose()?,
            access_token_expires_at: access_exp,
            refresh_token: refresh
                .map(|t| self.open_secret(Column::RefreshToken, &t))
                .transpose()?,
            refresh_token_expires_at: refresh_exp,
            uninstalled_at: uninstalled,
        }))
    }

    /// The shop's time zone as Shopify named it (`ianaTimezone`), if it is known.
    pub async fn shop_time_zone(&self, domain: &str) -> Result<Option<String>, StoreError> {
        let zone: Option<Option<String>> =
            sqlx::query_scalar("SELECT iana_timezone FROM shops WHERE domain = $1")
                .bind(domain)
                .fetch_optional(&self.pool)
                .await
                .map_err(classify)?;
        Ok(zone.flatten())
    }

    /// Keeps the shop's time zone (a registered shop's; an unknown shop is left alone).
    pub async fn set_shop_time_zone(&self, domain: &str, zone: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE shops SET iana_timezone = $2 WHERE domain = $1")
            .bind(domain)
            .bind(zone)
            .execute(&self.pool)
            .await
            .map_err(classify)?;
        Ok(())
    }

    /// Begins a transaction holding the shop's install lock (a transaction-scoped advisory lock):
    /// whoever holds it is the only process exchanging or refreshing the shop's token. Answers the
    /// state read under the lock, so a caller sees what a process before it stored.
    pub async fn lock_install(
        &self,
        domain: &str,
    ) -> Result<(Transaction<'static, Postgres>, Option<InstallState>), StoreError> {
        let mut tx = super::begin(&self.pool, None).await?;
        sqlx::query(
            "SELECT pg_advisory_xact_lock(hashtextextended('orders-sync install ' || $1, 0))",
        )
        .bind(domain)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        let state = self.read_install_state(&mut tx, domain).await?;
        Ok((tx, state))
    }

    /// Ends the install lock's transaction with nothing stored.
    pub async fn release_install(
        &self,
        tx: Transaction<'static, Postgres>,
    ) -> Result<(), StoreError> {
        tx.commit().await.map_err(classify)
    }

    /// Stores a new offline token for the shop in one statement (registering the shop when it is
    /// new, and marking it installed), inside the install lock's transaction, then commits.
    pub async fn store_offline_token(
        &self,
        mut tx: Transaction<'static, Postgres>,
        domain: &str,
        token: &OfflineToken,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO shops (domain, access_token, access_token_expires_at, refresh_token, \
                                refresh_token_expires_at, scopes, uninstalled_at) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL) \
             ON CONFLICT (domain) DO UPDATE SET access_token = EXCLUDED.access_token, \
                 access_token_expires_at = EXCLUDED.access_token_expires_at, \
                 refresh_token = EXCLUDED.refresh_token, \
                 refresh_token_expires_at = EXCLUDED.refresh_token_expires_at, \
                 scopes = COALESCE(EXCLUDED.scopes, shops.scopes), uninstalled_at = NULL",
        )
        .bind(domain)
        .bind(self.seal_secret(Column::AccessToken, &token.access_token)?)
        .bind(token.expires_at)
        .bind(
            token
                .refresh_token
                .as_deref()
                .map(|t| self.seal_secret(Column::RefreshToken, t))
                .transpose()?,
        )
        .bind(token.refresh_token_expires_at)
        .bind(token.scope.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)
    }
}
