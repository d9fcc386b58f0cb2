//! The app's lifecycle in PostgreSQL (SPEC §10): what a delivery is verified against, the durable
//! jobs that lifecycle and compliance deliveries become, and the uninstall and scopes jobs
//! themselves (the privacy jobs are in [`super::privacy`]).
//!
//! Policy:
//! - **Acknowledged means queued.** A lifecycle delivery's webhook id (and event id) and its job
//!   commit in one transaction: a delivery answered 200 always has its job, and a redelivery finds
//!   the id and adds none. `app/uninstalled` also marks the shop uninstalled in that transaction
//!   (one column: from then on its order deliveries are not stored and its session tokens are
//!   refused), and the job forgets its tokens only while the shop is still uninstalled, so a
//!   reinstall that comes first is never undone.
//! - **Claim, then run in one transaction.** A worker claims the earliest due job of a shop whose
//!   earlier jobs are all done (a shop's jobs run in arrival order), in one short statement that
//!   counts the attempt and pushes `next_attempt_at` a lease ahead (`FOR UPDATE SKIP LOCKED`, so
//!   two workers never take one job). It then runs the job and marks it done in one transaction,
//!   which first locks the job's row and checks the attempt count it claimed (a fence: a worker
//!   whose lease ran out and whose job was claimed again does nothing). A worker that dies leaves
//!   the job claimed until its lease runs out; a failure is due again after its backoff. Jobs are
//!   never given up on.
//! - **Done jobs keep no personal data**: their payload and last error are emptied.

use std::time::Duration;

use chrono::{DateTime, Utc};
use orders_core::shopify::lifecycle::LifecycleJob;
use sqlx::PgConnection;

use super::{classify, privacy, PgStore};
use crate::secrets::Column;
use crate::store::{Delivery, StoreError};

/// What a delivery is checked against (see [`PgStore::delivery_gate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryGate {
    /// The shop, when it is registered.
    pub shop: Option<GateShop>,
    /// A delivery with this webhook id was already accepted.
    pub seen: bool,
}

/// A registered shop, as a delivery sees it.
#[derive(Clone, PartialEq, Eq)]
pub struct GateShop {
    /// Its own webhook secrets valid now, current first (none for a shop installed through the
    /// app, whose deliveries the client secret signs).
    pub secrets: Vec<String>,
    /// Not uninstalled: its order deliveries are stored.
    pub installed: bool,
}

impl std::fmt::Debug for GateShop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GateShop")
            .field("secrets", &self.secrets.len())
            .field("installed", &self.installed)
            .finish()
    }
}

/// What accepting a lifecycle delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Recorded, with its job queued.
    Queued { job_id: i64 },
    /// Its webhook id, or its event id and topic, was accepted before: nothing queued.
    Duplicate,
    /// The shop is not registered (any more): nothing to do.
    UnknownShop,
}

/// One job a worker claimed.
#[derive(Clone, sqlx::FromRow)]
pub struct JobClaim {
    pub id: i64,
    pub shop_id: i64,
    /// The shop's domain.
    pub shop: String,
    pub topic: String,
    /// The job's JSON ([`LifecycleJob`]). Never logged: it may hold a customer's e-mail.
    pub payload: serde_json::Value,
    pub received_at: DateTime<Utc>,
    /// Attempts so far, this one included; the claim's fence.
    pub attempts: i32,
}

impl std::fmt::Debug for JobClaim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobClaim")
            .field("id", &self.id)
            .field("shop", &self.shop)
            .field("topic", &self.topic)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// What running a claimed job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobRun {
    /// Done; a sentence for the log (never personal data).
    Done(String),
    /// The claim was lost (the lease ran out and another worker took the job): nothing done.
    Lost,
}

type GateRow = (
    Option<String>,
    Option<String>,
    Option<DateTime<Utc>>,
    bool,
    bool,
);

/// A duration in whole milliseconds, for binding.
fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX).max(1)
}

impl PgStore {
    /// What a webhook delivery is checked against, in one query: the shop (its webhook secrets
    /// valid at `now`, the previous one only during its hour of overlap, and whether it is
    /// installed) and whether a delivery with `webhook_id` was already accepted.
    #[tracing::instrument(name = "pg.delivery_gate", skip_all, fields(shop = %domain))]
    pub async fn delivery_gate(
        &self,
        domain: &str,
        webhook_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DeliveryGate, StoreError> {
        let row = sqlx::query_as::<_, GateRow>(
            "SELECT s.webhook_secret, s.previous_webhook_secret, s.previous_secret_expires_at, \
                    s.uninstalled_at IS NULL, \
                    EXISTS (SELECT 1 FROM shopify_webhooks w WHERE w.shop_id = s.id AND w.webhook_id = $2) \
             FROM shops s WHERE s.domain = $1",
        )
        .bind(domain)
        .bind(webhook_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)?;
        let Some((current, previous, until, installed, seen)) = row else {
            return Ok(DeliveryGate {
                shop: None,
                seen: false,
            });
        };
        let mut secrets = Vec::new();
        if let Some(current) = current {
            secrets.push(self.open_secret(Column::WebhookSecret, &current)?);
            if let (Some(previous), Some(until)) = (previous, until) {
                if now < until {
                    secrets.push(self.open_secret(Column::PreviousWebhookSecret, &previous)?);
                }
            }
        }
        Ok(DeliveryGate {
            shop: Some(GateShop { secrets, installed }),
            seen,
        })
    }

    /// Records a lifecycle delivery of `shop` and queues its job, in one transaction (see the
    /// module's policy).
    #[tracing::instrument(name = "pg.accept_lifecycle", skip_all, fields(shop = %shop, topic = %delivery.topic))]
    pub async fn accept_lifecycle(
        &self,
        shop: &str,
        delivery: &Delivery,
        job: &LifecycleJob,
        now: DateTime<Utc>,
    ) -> Result<Accepted, StoreError> {
        let mut tx = super::begin(&self.pool, None).await?;
        let Some(shop_id) =
            sqlx::query_scalar::<_, i64>("SELECT id FROM shops WHERE domain = $1 FOR KEY SHARE")
                .bind(shop)
                .fetch_optional(&mut *tx)
                .await
                .map_err(classify)?
        else {
            return Ok(Accepted::UnknownShop);
        };
        if !record_delivery(&mut tx, shop_id, delivery, now).await? {
            return Ok(Accepted::Duplicate);
        }
        if matches!(job, LifecycleJob::Uninstall) {
            sqlx::query(
                "UPDATE shops SET uninstalled_at = COALESCE(uninstalled_at, $2) WHERE id = $1",
            )
            .bind(shop_id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(classify)?;
        }
        let job_id = sqlx::query_scalar::<_, i64>(
            "INSERT INTO lifecycle_jobs (shop_id, topic, webhook_id, payload, received_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(shop_id)
        .bind(&delivery.topic)
        .bind(&delivery.webhook_id)
        .bind(sqlx::types::Json(job))
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(Accepted::Queued { job_id })
    }

    /// Claims the earliest due job of a shop whose earlier jobs are done, for `lease`.
    #[tracing::instrument(name = "pg.claim_lifecycle_job", skip_all)]
    pub async fn claim_lifecycle_job(
        &self,
        lease: Duration,
    ) -> Result<Option<JobClaim>, StoreError> {
        sqlx::query_as::<_, JobClaim>(
            "WITH due AS ( \
                 SELECT c.id FROM lifecycle_jobs c \
                 WHERE c.done_at IS NULL AND c.next_attempt_at <= now() \
                   AND NOT EXISTS ( \
                       SELECT 1 FROM lifecycle_jobs e \
                       WHERE e.shop_id = c.shop_id AND e.id < c.id AND e.done_at IS NULL) \
                 ORDER BY c.next_attempt_at, c.id \
                 LIMIT 1 \
                 FOR UPDATE OF c SKIP LOCKED) \
             UPDATE lifecycle_jobs j \
             SET attempts = j.attempts + 1, next_attempt_at = now() + $1 * interval '1 millisecond' \
             FROM due, shops s \
             WHERE j.id = due.id AND s.id = j.shop_id \
             RETURNING j.id, j.shop_id, s.domain AS shop, j.topic, j.payload, j.received_at, j.attempts",
        )
        .bind(millis(lease))
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    /// Runs a claimed job and marks it done, in one transaction (see the module's policy).
    #[tracing::instrument(name = "pg.run_lifecycle_job", skip_all, fields(shop = %claim.shop, job = claim.id, topic = %claim.topic))]
    pub async fn run_lifecycle_job(
        &self,
        claim: &JobClaim,
        now: DateTime<Utc>,
    ) -> Result<JobRun, StoreError> {
        let mut tx = super::begin(&self.pool, None).await?;
        let held = sqlx::query_scalar::<_, i64>(
            "SELECT id FROM lifecycle_jobs WHERE id = $1 AND attempts = $2 AND done_at IS NULL \
             FOR UPDATE",
        )
        .bind(claim.id)
        .bind(claim.attempts)
        .fetch_optional(&mut *tx)
        .await
        .map_err(classify)?;
        if held.is_none() {
            return Ok(JobRun::Lost);
        }
        // A payload that no longer reads fails the job (retried, kept, visible), not the queue.
        let job = serde_json::from_value::<LifecycleJob>(claim.payload.clone()).map_err(|e| {
            StoreError::Internal(anyhow::anyhow!("the job's payload does not read: {e}"))
        })?;
        let done = match &job {
            LifecycleJob::Uninstall => {
                uninstall(&mut tx, claim.shop_id, claim.received_at, now).await?
            }
            LifecycleJob::UpdateScopes { scopes } => {
                sqlx::query("UPDATE shops SET scopes = $2 WHERE id = $1")
                    .bind(claim.shop_id)
                    .bind(scopes)
                    .execute(&mut *tx)
                    .await
                    .map_err(classify)?;
                "scopes stored".to_owned()
            }
            LifecycleJob::RecordDataRequest {
                request_id,
                customer,
                orders,
            } => {
                privacy::record_data_request(
                    &mut tx,
                    claim.shop_id,
                    request_id,
                    customer,
                    orders,
                    claim.received_at,
                )
                .await?;
                format!("data request {request_id} recorded")
            }
            LifecycleJob::RedactCustomer { customer, orders } => {
                let n =
                    privacy::redact_customer(&mut tx, claim.shop_id, customer, orders, now).await?;
                format!("the customer was erased from {n} stored orders")
            }
            LifecycleJob::RedactShop => {
                let n = privacy::delete_shop(&mut tx, claim.shop_id).await?;
                format!("the shop and its {n} rows were deleted")
            }
        };
        // Deleting the shop deleted the job too; otherwise it is done, emptied of its payload.
        sqlx::query(
            "UPDATE lifecycle_jobs SET done_at = $2, payload = NULL, last_error = NULL WHERE id = $1",
        )
        .bind(claim.id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(classify)?;
        tx.commit().await.map_err(classify)?;
        Ok(JobRun::Done(done))
    }

    /// Records a failed attempt of a claimed job: due again after `delay`. Answers `false` when
    /// the claim was lost meanwhile (then nothing is written).
    pub async fn retry_lifecycle_job(
        &self,
        claim: &JobClaim,
        delay: Duration,
        error: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE lifecycle_jobs SET next_attempt_at = now() + $3 * interval '1 millisecond', \
                 last_error = $4 \
             WHERE id = $1 AND attempts = $2 AND done_at IS NULL",
        )
        .bind(claim.id)
        .bind(claim.attempts)
        .bind(millis(delay))
        .bind(error)
        .execute(&self.pool)
        .await
        .map_err(classify)?;
        Ok(done.rows_affected() == 1)
    }
}

/// Records a delivery's webhook id (and event id with its topic); `false` when either was
/// accepted before (`shopify_webhooks`' key and its unique index on the event).
pub(super) async fn record_delivery(
    conn: &mut PgConnection,
    shop_id: i64,
    d: &Delivery,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let fresh = sqlx::query_scalar::<_, i32>(
        "INSERT INTO shopify_webhooks (shop_id, webhook_id, event_id, topic, received_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING 1",
    )
    .bind(shop_id)
    .bind(&d.webhook_id)
    .bind(&d.event_id)
    .bind(&d.topic)
    .bind(now)
    .fetch_optional(conn)
    .await
    .map_err(classify)?;
    Ok(fresh.is_some())
}

/// `app/uninstalled`: while the shop is still uninstalled, its Shopify tokens are forgotten
/// (polling stops: the poller takes only shops with an access token); the API tokens it had when
/// the delivery came are revoked either way. Its data stays until `shop/redact`.
async fn uninstall(
    conn: &mut PgConnection,
    shop_id: i64,
    received_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let forgot = sqlx::query(
        "UPDATE shops SET access_token = NULL, access_token_expires_at = NULL, \
             refresh_token = NULL, refresh_token_expires_at = NULL \
         WHERE id = $1 AND uninstalled_at IS NOT NULL",
    )
    .bind(shop_id)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    let revoked = sqlx::query(
        "UPDATE api_tokens SET revoked_at = $2 \
         WHERE shop_id = $1 AND revoked_at IS NULL AND created_at <= $3",
    )
    .bind(shop_id)
    .bind(now)
    .bind(received_at)
    .execute(&mut *conn)
    .await
    .map_err(classify)?;
    Ok(format!(
        "{}; {} API tokens revoked",
        if forgot.rows_affected() == 1 {
            "Shopify tokens deleted"
        } else {
            "reinstalled since: Shopify tokens kept"
        },
        revoked.rows_affected()
    ))
}
