//! The alert evaluator (SPEC §6): a pass over every shop at start-up, so that conditions that
//! already hold are raised at once (two shops at a time), then one every [`EVALUATE_EVERY`] for
//! the alerts that time alone brings (one shop at a time). Writes and ingestion ask for their own pass ([`Service::changed`]).

use std::time::Duration;

use crate::service::{Service, FIRST_PASS_JOBS, PASS_JOBS};

/// How often the alert worker evaluates every shop when nothing else asks it to.
pub const EVALUATE_EVERY: Duration = Duration::from_secs(30);

/// Keeps every shop's alerts current: a pass at start-up (conditions that already hold are raised
/// at once), then one every [`EVALUATE_EVERY`], until shutdown. Writes ask for their own pass.
pub async fn evaluate_forever(service: Service) {
    let closed = service.live().closed();
    tokio::pin!(closed);
    let mut jobs = FIRST_PASS_JOBS;
    loop {
        let started = std::time::Instant::now();
        let pass = service.evaluate_all(jobs).await;
        jobs = PASS_JOBS;
        match pass {
            Ok(()) => tracing::info!(
                elapsed_ms = started.elapsed().as_millis() as u64,
                "alert pass over every shop"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "the alert evaluation failed; it runs again shortly")
            }
        }
        tokio::select! {
            _ = &mut closed => return,
            _ = tokio::time::sleep(EVALUATE_EVERY) => {}
        }
    }
}
