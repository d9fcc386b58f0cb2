//! The app's lifecycle and privacy requests as a service (SPEC §10): a verified delivery recorded
//! with its job, the jobs the lifecycle worker claims, runs and retries, and the export of what
//! Sync keeps about a data request's customer.

use std::time::Duration;

use chrono::{DateTime, Utc};
use orders_core::shopify::lifecycle::LifecycleJob;
use orders_core::Thresholds;

use crate::store::postgres::lifecycle::{Accepted, JobClaim, JobRun};
use crate::store::postgres::privacy::ExportLookup;
use crate::store::{Delivery, PgStore, StoreError};

/// Lifecycle and privacy over PostgreSQL; cheap to clone.
#[derive(Clone)]
pub struct Privacy {
    pg: PgStore,
}

impl Privacy {
    pub fn new(pg: PgStore) -> Self {
        Privacy { pg }
    }

    /// Records a verified lifecycle delivery of `shop` with its job, in one transaction.
    pub async fn accept_lifecycle(
        &self,
        shop: &str,
        delivery: &Delivery,
        job: &LifecycleJob,
        now: DateTime<Utc>,
    ) -> Result<Accepted, StoreError> {
        self.pg.accept_lifecycle(shop, delivery, job, now).await
    }

    /// Claims the next due job for `lease`, if any.
    pub async fn claim_lifecycle_job(
        &self,
        lease: Duration,
    ) -> Result<Option<JobClaim>, StoreError> {
        self.pg.claim_lifecycle_job(lease).await
    }

    /// Carries out a claimed job.
    pub async fn run_lifecycle_job(
        &self,
        claim: &JobClaim,
        now: DateTime<Utc>,
    ) -> Result<JobRun, StoreError> {
        self.pg.run_lifecycle_job(claim, now).await
    }

    /// Records a job's failure; it is due again after `delay`. `false` when the claim was lost.
    pub async fn retry_lifecycle_job(
        &self,
        claim: &JobClaim,
        delay: Duration,
        error: &str,
    ) -> Result<bool, StoreError> {
        self.pg.retry_lifecycle_job(claim, delay, error).await
    }

    /// Everything kept about the customer of the data request `request` (of `shop`, when given).
    pub async fn privacy_export(
        &self,
        request: &str,
        shop: Option<&str>,
        now: DateTime<Utc>,
        thresholds: &Thresholds,
    ) -> Result<ExportLookup, StoreError> {
        self.pg.privacy_export(request, shop, now, thresholds).await
    }
}
