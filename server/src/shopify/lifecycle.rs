//! The app's lifecycle and privacy deliveries (SPEC §10): `app/uninstalled`, `app/scopes_update`,
//! `customers/data_request`, `customers/redact` and `shop/redact`, acknowledged at once and carried
//! out in the background by a worker.
//!
//! # Policy
//!
//! - **Answered at once, never lost.** A verified delivery is read, recorded with its job in one
//!   transaction ([`Privacy::accept_lifecycle`]) and answered 200; a crash after the answer finds
//!   the job in the table. A delivery for a shop Sync does not have (never registered, or deleted
//!   by `shop/redact`) is answered 200 too: there is nothing to do. A refresh ping follows each
//!   accepted delivery, and each job done.
//! - **The worker** (`crate::workers::lifecycle`, one per `orders-sync serve` on PostgreSQL) looks
//!   for due jobs every `LIFECYCLE_POLL_INTERVAL` and runs them one at a time, each in its own
//!   task ([`LifecycleWorker`]): a job that fails or panics is due again after [`Backoff::delay`]
//!   (from [`BACKOFF_BASE`] doubling up to [`BACKOFF_CAP`]), for ever; a worker that panics is
//!   restarted. Jobs are idempotent, and a
//!   shop's jobs run in the order they arrived (see [`crate::store::postgres::lifecycle`]).
//! - **Nothing personal in logs**: jobs are logged by id, shop and topic, never by payload.

use std::time::Duration;

use axum::Json;
use chrono::Utc;
use orders_core::alerts::RefreshReason;
use orders_core::record::to_micros;
use orders_core::shopify::lifecycle::{parse_lifecycle, LifecycleError, LifecycleTopic};
use orders_core::shopify::payload::PayloadError;

use super::webhook::{ack, Ack};
use crate::error::ApiError;
use crate::outbox::{jitter, Backoff};
use crate::service::{Privacy, Scope, Service};
use crate::store::postgres::lifecycle::{Accepted, JobClaim, JobRun};
use crate::store::{Delivery, StoreError};

/// How long a claimed job is its worker's before another may take it (a worker that died).
pub const LEASE: Duration = Duration::from_secs(5 * 60);
/// The wait after a job's first failure; it doubles with each further one.
pub const BACKOFF_BASE: Duration = Duration::from_secs(5);
/// The longest wait between two attempts of a job.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60 * 60);

/// Accepts one verified lifecycle delivery of `shop` (`known`: the shop is registered).
pub async fn accept(
    service: &Service,
    privacy: &Privacy,
    shop: &str,
    known: bool,
    topic: LifecycleTopic,
    delivery: Delivery,
    body: &[u8],
) -> Result<Json<Ack>, ApiError> {
    if !known {
        return Ok(ack(format!(
            "{topic}: {shop} is not installed here; nothing to do"
        )));
    }
    let job = match parse_lifecycle(topic, body, shop) {
        Ok(job) => job,
        Err(LifecycleError::OtherShop { named }) => {
            tracing::warn!(named, "a lifecycle payload names another shop; refused");
            return Err(ApiError::Unauthorized(format!(
                "the {topic} payload is about another shop than X-Shopify-Shop-Domain"
            )));
        }
        Err(LifecycleError::Payload(e @ PayloadError::NothingToApply(_))) => {
            return Ok(ack(format!("{topic}: {e}")));
        }
        Err(LifecycleError::Payload(e)) => {
            tracing::warn!(error = %e, "a signed lifecycle delivery does not read; refused");
            return Err(ApiError::BadRequest(format!(
                "the {topic} payload does not read: {e}"
            )));
        }
    };
    let now = to_micros(Utc::now());
    match privacy.accept_lifecycle(shop, &delivery, &job, now).await? {
        Accepted::Queued { job_id } => {
            tracing::info!(job = job_id, "lifecycle job queued");
            service.changed(shop, RefreshReason::Webhook, Scope::Orders(Vec::new()));
            Ok(ack(format!(
                "{topic}: accepted; job {job_id} carries it out"
            )))
        }
        Accepted::Duplicate => Ok(ack(format!(
            "delivery {} was already applied",
            delivery.webhook_id
        ))),
        Accepted::UnknownShop => Ok(ack(format!(
            "{topic}: {shop} is not installed here; nothing to do"
        ))),
    }
}

/// Runs the due lifecycle and privacy jobs.
#[derive(Clone)]
pub struct LifecycleWorker {
    service: Service,
    privacy: Privacy,
    backoff: Backoff,
}

impl LifecycleWorker {
    pub fn new(service: Service, privacy: Privacy) -> Self {
        LifecycleWorker {
            service,
            privacy,
            backoff: Backoff {
                base: BACKOFF_BASE,
                cap: BACKOFF_CAP,
            },
        }
    }

    /// This worker, waiting `backoff` after failures.
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Runs every due job, one after another; answers how many were attempted.
    pub async fn run_due(&self) -> Result<usize, StoreError> {
        let mut attempted = 0;
        while let Some(claim) = self.privacy.claim_lifecycle_job(LEASE).await? {
            self.run_one(claim).await;
            attempted += 1;
        }
        Ok(attempted)
    }

    /// Runs one claimed job in its own task, so that a panic fails the job, not the worker.
    #[tracing::instrument(name = "lifecycle_job", skip_all, fields(shop = %claim.shop, job = claim.id, topic = %claim.topic, attempt = claim.attempts))]
    async fn run_one(&self, claim: JobClaim) {
        let task = {
            let (privacy, claim) = (self.privacy.clone(), claim.clone());
            tokio::spawn(async move {
                privacy
                    .run_lifecycle_job(&claim, to_micros(Utc::now()))
                    .await
            })
        };
        let failure = match task.await {
            Ok(Ok(JobRun::Done(what))) => {
                tracing::info!("lifecycle job done: {what}");
                self.service.changed(
                    &claim.shop,
                    RefreshReason::Webhook,
                    Scope::Orders(Vec::new()),
                );
                return;
            }
            Ok(Ok(JobRun::Lost)) => {
                tracing::warn!("the job's claim ran out and another worker took it over");
                return;
            }
            Ok(Err(e)) => match std::error::Error::source(&e) {
                Some(cause) => format!("{e}: {cause}"),
                None => e.to_string(),
            },
            Err(e) if e.is_panic() => "the job panicked".to_owned(),
            Err(_) => "the job was cancelled".to_owned(),
        };
        let attempts = u32::try_from(claim.attempts).unwrap_or(1);
        let delay = self.backoff.delay(attempts, jitter());
        tracing::warn!(error = %failure, retry_in = ?delay, "lifecycle job failed; it runs again after its backoff");
        match self
            .privacy
            .retry_lifecycle_job(&claim, delay, &failure)
            .await
        {
            Ok(true) => {}
            Ok(false) => tracing::warn!("the job's claim ran out meanwhile; not recorded"),
            Err(e) => {
                tracing::warn!(error = %e, "could not record the failure; the job is due again when its lease runs out")
            }
        }
    }
}
