//! The outbox worker (SPEC §7): a round every `OUTBOX_POLL_INTERVAL` until shutdown, a round after
//! another while they come back full. What a round does (the claim, the delivery, the backoff,
//! the dead state) is [`crate::outbox`]'s.

use std::future::Future;

use futures::FutureExt;
use orders_core::effects::topics;

use crate::outbox::{OutboxConfig, OutboxWorker};
use crate::service::{Outbox, Service};
use crate::settings::{redact_url, Settings};

/// The outbox worker of `orders-sync serve` on PostgreSQL: a round every `OUTBOX_POLL_INTERVAL`
/// until shutdown. Not run when the interval is `off`.
pub async fn deliver_forever(service: Service, outbox: Outbox, settings: Settings) {
    if settings.outbox.poll_interval.is_none() {
        tracing::info!("OUTBOX_POLL_INTERVAL is off: this process delivers no outbox events");
        return;
    }
    let config = OutboxConfig::from_settings(&settings.outbox);
    for topic in [
        topics::SUPPORT_ESCALATION,
        topics::ERP_RETURN,
        topics::ASSIGNMENT_METAFIELD,
    ] {
        match config.routes.url(topic) {
            Some(url) => {
                tracing::info!(topic, url = %redact_url(url), "outbox events are delivered")
            }
            None if topic == topics::ASSIGNMENT_METAFIELD && !settings.outbox.push_metafields => {
                tracing::info!(
                    topic,
                    "OUTBOX_PUSH_METAFIELDS is off: these outbox events stay queued"
                )
            }
            None => tracing::warn!(
                topic,
                "no receiver URL is configured: these outbox events stay queued"
            ),
        }
    }
    let worker = match OutboxWorker::new(outbox, config) {
        Ok(worker) => worker,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the outbox worker; nothing is delivered");
            return;
        }
    };
    run_until(&worker, service.live().closed()).await;
}

/// Rounds of `worker` every poll interval until `stop` completes, a round after another while
/// they come back full.
pub async fn run_until(worker: &OutboxWorker, stop: impl Future<Output = ()>) {
    let stop = stop.fuse();
    tokio::pin!(stop);
    let mut ticker = tokio::time::interval(worker.config().poll_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = &mut stop => return,
            _ = ticker.tick() => {}
        }
        loop {
            match worker.deliver_due_until(&mut stop).await {
                Ok(report) if report.stopped => return,
                Ok(report) if report.claimed() < worker.config().batch as usize => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "outbox round failed; trying again next interval");
                    break;
                }
            }
        }
    }
}
