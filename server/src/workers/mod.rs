//! The background workers of `serve`, in one place, each under a supervisor.
//!
//! # Policy
//! - Every loop `serve` runs in the background is started by [`start`], by name, and lives in a
//!   module of its own here: the alert evaluator ([`alerts`]), the alert listener ([`listener`]),
//!   the tally folder ([`tally`]), the idempotency-key pruner ([`pruner`]), the Shopify poller
//!   ([`poller`]), the outbox worker ([`outbox`]) and the lifecycle worker ([`lifecycle`]). Each
//!   module holds the loop (when it runs, how long it sleeps, when it stops); what one round does
//!   stays with its domain (`shopify::poller`, `outbox`, `shopify::lifecycle`, `live`).
//! - A worker that panics is restarted, after a backoff that doubles from [`FIRST_BACKOFF`] up to
//!   [`MAX_BACKOFF`] (back to the first after a run of [`STABLE_RUN`] without a panic). The panic
//!   itself is logged once by the panic hook (`crate::layers::log_panics`); the supervisor logs the
//!   restart.
//! - A worker that returns has finished: it was switched off by its setting, or the server is
//!   shutting down. It is not restarted.
//! - `GET /readyz` names each worker and whether it runs ([`Workers::report`]).
//! - On shutdown the workers see the service close and return; [`Workers::stop`] gives them a
//!   moment to release what they hold (the shop being polled, the events being delivered).

pub mod alerts;
pub mod lifecycle;
pub mod listener;
pub mod outbox;
pub mod poller;
pub mod pruner;
pub mod tally;

use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::live::Live;
use crate::service::Service;
use crate::settings::Settings;
use crate::store::postgres::replicas::{self, Replicas};

/// The first wait before a panicked worker runs again.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait before a panicked worker runs again.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A run this long without a panic resets the backoff.
pub const STABLE_RUN: Duration = Duration::from_secs(300);

const RUNNING: u8 = 0;
const RESTARTING: u8 = 1;
const FINISHED: u8 = 2;

/// One supervised worker's state.
struct Supervised {
    name: &'static str,
    state: AtomicU8,
    restarts: AtomicU32,
}

/// What `/readyz` says of one worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WorkerReport {
    pub name: &'static str,
    /// Whether it runs now (not while it waits to restart, nor once it has finished).
    pub running: bool,
    /// `running`, `restarting` (after a panic) or `finished` (off by its setting, or shut down).
    pub state: &'static str,
    /// How many times it panicked and was restarted.
    pub restarts: u32,
}

/// A worker's state and its supervisor's task.
type Entry = (Arc<Supervised>, JoinHandle<()>);

/// The supervised workers of one server, cheap to clone.
#[derive(Clone, Default)]
pub struct Workers {
    inner: Arc<Mutex<Vec<Entry>>>,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.report()).finish()
    }
}

impl Workers {
    /// Runs `run()` under a supervisor named `name`: restarted after a panic with backoff, until it
    /// returns or `live` shuts down.
    pub fn supervise<F, Fut>(&self, name: &'static str, live: &Live, run: F)
    where
        F: Fn() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let supervised = Arc::new(Supervised {
            name,
            state: AtomicU8::new(RUNNING),
            restarts: AtomicU32::new(0),
        });
        let handle = tokio::spawn(supervise(supervised.clone(), live.clone(), run));
        self.lock().push((supervised, handle));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Each worker, in the order they were started.
    pub fn report(&self) -> Vec<WorkerReport> {
        self.lock()
            .iter()
            .map(|(w, _)| {
                let state = w.state.load(Ordering::Relaxed);
                WorkerReport {
                    name: w.name,
                    running: state == RUNNING,
                    state: match state {
                        RUNNING => "running",
                        RESTARTING => "restarting",
                        _ => "finished",
                    },
                    restarts: w.restarts.load(Ordering::Relaxed),
                }
            })
            .collect()
    }

    /// Waits until every worker has returned, or until `wait` has passed (then says which did not).
    pub async fn stop(&self, wait: Duration) {
        let handles: Vec<_> = self.lock().drain(..).collect();
        let deadline = Instant::now() + wait;
        for (worker, handle) in handles {
            if tokio::time::timeout_at(deadline, handle).await.is_err() {
                tracing::warn!(worker = worker.name, "the worker did not stop in time");
            }
        }
    }
}

/// Starts every background worker of `serve` under its supervisor: the alert evaluator, and with
/// the database (the service's [`crate::service::Database`]) the alert listener, the pruner, the tally folder, the poller, the outbox worker,
/// the lifecycle worker and, with replicas, their sampler.
pub fn start(workers: &Workers, service: &Service, settings: &Settings) {
    let live = service.live();
    let s = service.clone();
    workers.supervise("alert evaluator", live, move || {
        alerts::evaluate_forever(s.clone())
    });
    let Some(database) = service.database() else {
        return;
    };
    let (s, f) = (service.clone(), database.feed().clone());
    workers.supervise("alert listener", live, move || {
        listener::listen_forever(s.clone(), f.clone())
    });
    let (l, d) = (live.clone(), database.clone());
    workers.supervise("idempotency pruner", live, move || {
        pruner::prune_forever(d.clone(), l.clone())
    });
    let (l, d) = (live.clone(), database.clone());
    workers.supervise("tally folder", live, move || {
        tally::fold_tallies_forever(d.clone(), l.clone())
    });
    let (s, d, c) = (service.clone(), database.clone(), settings.clone());
    workers.supervise("poller", live, move || {
        poller::poll_forever(s.clone(), d.clone(), c.clone())
    });
    let (s, o, c) = (service.clone(), database.outbox().clone(), settings.clone());
    workers.supervise("outbox", live, move || {
        outbox::deliver_forever(s.clone(), o.clone(), c.clone())
    });
    let (s, p, c) = (
        service.clone(),
        database.privacy().clone(),
        settings.clone(),
    );
    workers.supervise("lifecycle", live, move || {
        lifecycle::run_forever(s.clone(), p.clone(), c.clone())
    });
    if let Some(replicas) = service.replicas() {
        let (l, r) = (live.clone(), replicas.clone());
        workers.supervise("replica sampler", live, move || {
            sample_replicas_forever(r.clone(), l.clone())
        });
    }
}

/// Reads where the primary and each replica stand every [`replicas::SAMPLE_EVERY`], for choosing
/// which replica may serve a read ([`Replicas`]).
async fn sample_replicas_forever(replicas: Arc<Replicas>, live: Live) {
    every(&live, replicas::SAMPLE_EVERY, || async {
        replicas.sample().await;
        true
    })
    .await;
}

/// Runs `round` every `interval` (the first at once; a late round delays the next rather than
/// bunching them) until `live` shuts down or a round answers `false`: the loop of every worker
/// that works in rounds.
pub async fn every<F, Fut>(live: &Live, interval: Duration, mut round: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let closed = live.closed();
    tokio::pin!(closed);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            _ = &mut closed => return,
            _ = ticker.tick() => {}
        }
        if !round().await {
            return;
        }
    }
}

async fn supervise<F, Fut>(worker: Arc<Supervised>, live: Live, run: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let closed = live.closed();
    tokio::pin!(closed);
    let mut backoff = FIRST_BACKOFF;
    loop {
        worker.state.store(RUNNING, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = tokio::spawn(run()).await;
        let panicked = matches!(&outcome, Err(e) if e.is_panic());
        if !panicked || live.is_shut_down() {
            worker.state.store(FINISHED, Ordering::Relaxed);
            return;
        }
        if started.elapsed() >= STABLE_RUN {
            backoff = FIRST_BACKOFF;
        }
        worker.state.store(RESTARTING, Ordering::Relaxed);
        let restarts = worker.restarts.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::error!(
            worker = worker.name,
            restarts,
            retry_in = ?backoff,
            "the worker panicked; restarting it"
        );
        tokio::select! {
            _ = &mut closed => {
                worker.state.store(FINISHED, Ordering::Relaxed);
                return;
            }
            _ = tokio::time::sleep(backoff) => {}
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn state(workers: &Workers) -> WorkerReport {
        workers.report().remove(0)
    }

    #[tokio::test(start_paused = true)]
    async fn a_panicking_worker_is_restarted_with_backoff_and_reported() {
        let live = Live::default();
        let workers = Workers::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        workers.supervise("flaky", &live, move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                if run < 2 {
                    panic!("run {run} fails");
                }
                std::future::pending::<()>().await;
            }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(state(&workers).state, "restarting");
        assert_eq!(state(&workers).restarts, 1);
        // 1 s, then 2 s: the third run stays up.
        tokio::time::sleep(FIRST_BACKOFF + Duration::from_millis(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(state(&workers).state, "restarting");
        tokio::time::sleep(FIRST_BACKOFF * 2 + Duration::from_millis(10)).await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
        let report = state(&workers);
        assert!(report.running, "{report:?}");
        assert_eq!(report.restarts, 2);

        live.shut_down();
        workers.stop(Duration::from_secs(1)).await;
    }

    #[tokio::test]
    async fn a_worker_that_returns_is_finished_and_not_restarted() {
        let live = Live::default();
        let workers = Workers::default();
        let runs = Arc::new(AtomicUsize::new(0));
        let counted = runs.clone();
        workers.supervise("off", &live, move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async {}
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        let report = state(&workers);
        assert_eq!((report.running, report.state), (false, "finished"));
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        workers.stop(Duration::from_secs(1)).await;
    }
}
