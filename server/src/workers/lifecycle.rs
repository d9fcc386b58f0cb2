//! The lifecycle worker (SPEC §10): a round of the due lifecycle and privacy jobs every
//! `LIFECYCLE_POLL_INTERVAL` until shutdown. What a job does, and how a failed one waits, is
//! [`crate::shopify::lifecycle`]'s.

use crate::service::{Privacy, Service};
use crate::settings::Settings;
use crate::shopify::lifecycle::LifecycleWorker;

/// The lifecycle worker of `orders-sync serve` on PostgreSQL: a round every
/// `LIFECYCLE_POLL_INTERVAL` until shutdown. Not run when `LIFECYCLE_POLL_INTERVAL` is `off`.
pub async fn run_forever(service: Service, privacy: Privacy, settings: Settings) {
    let Some(interval) = settings.lifecycle_interval else {
        tracing::info!(
            "LIFECYCLE_POLL_INTERVAL is off: this process runs no lifecycle or privacy jobs"
        );
        return;
    };
    let worker = LifecycleWorker::new(service.clone(), privacy);
    super::every(service.live(), interval, || async {
        if let Err(e) = worker.run_due().await {
            tracing::warn!(error = %e, "lifecycle round failed; trying again next interval");
        }
        true
    })
    .await;
}
