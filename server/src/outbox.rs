//! The outbox worker (SPEC §7): delivers the side effects each write queued in its own transaction
//! (support escalations, ERP return updates, assignment metafields) to the receivers configured for
//! their topics, at least once, retrying with backoff, and gives up on an event (dead, kept, never
//! deleted) after `OUTBOX_MAX_ATTEMPTS`. Here is what one round does; the loop that runs the
//! rounds is `crate::workers::outbox`.
//!
//! # Policy
//!
//! - **Routes.** `support.escalation` goes to `OUTBOX_SUPPORT_URL`, `erp.return` to
//!   `OUTBOX_ERP_URL`, and `shopify.metafield.assignment` to `OUTBOX_METAFIELD_URL` only when
//!   `OUTBOX_PUSH_METAFIELDS` is on (Shopify metafields are read-only for now). An event whose
//!   topic has no route is never attempted and never dies: it waits, pending, until one exists.
//! - **A round** ([`OutboxWorker::deliver_due`]): events with no attempts left whose lease ran out
//!   are marked dead; then up to [`BATCH`] due events are claimed (one short statement, `FOR UPDATE
//!   SKIP LOCKED`, a lease of [`LEASE`]; see [`crate::store::postgres::outbox`] for the claim, its
//!   fence and the order), delivered concurrently outside any transaction, each within
//!   [`REQUEST_TIMEOUT`] (shorter than the lease, so a live worker settles before its lease runs
//!   out), and each settled: a 2xx is delivered; anything else (a timeout, a connection error, a
//!   non-2xx status, a redirect) is a failed attempt, recorded with a one-sentence `last_error`,
//!   and retried after [`Backoff::delay`], or dead when it was the last attempt.
//! - **At least once.** A worker that dies mid-delivery leaves its events claimed; when their lease
//!   runs out they are due again and another (or the restarted) worker sends them again. A
//!   receiver therefore dedupes by the `Idempotency-Key` / `X-Sync-Event-Id` header,
//!   `<shop>:<outbox id>`, the same on every attempt of an event.
//! - **Stopping.** At shutdown a round stops where it is: requests in flight are dropped and their
//!   claims given back (due at once, the attempt still counted, as the receiver may have had it).
//! - **Secrets.** Receiver URLs may carry credentials (sent as basic auth) and tokens in the
//!   query: they are logged redacted ([`redact_url`]), and errors are stripped of their URL.
//!   Payloads are never logged.

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::FutureExt;
use orders_core::effects::topics;
use orders_core::outbox::{
    event_key, OutboxDelivery, EVENT_ID_HEADER, IDEMPOTENCY_KEY_HEADER, TOPIC_HEADER,
};
use reqwest::Url;

use crate::service::Outbox;
use crate::settings::{redact_url, OutboxSettings};
use crate::store::postgres::outbox::OutboxClaim;
use crate::store::StoreError;

/// How long a claimed event is the claiming worker's before another may take it.
pub const LEASE: Duration = Duration::from_secs(60);
/// How long one delivery may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// The wait after a first failed attempt; it doubles with each further one.
pub const BACKOFF_BASE: Duration = Duration::from_secs(10);
/// The longest wait between two attempts.
pub const BACKOFF_CAP: Duration = Duration::from_secs(60 * 60);
/// Events claimed, and delivered concurrently, in one round.
pub const BATCH: u32 = 16;
/// How much of a failing answer's body `last_error` quotes.
const QUOTED_BODY_CHARS: usize = 200;

/// Exponential backoff with jitter between the attempts of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The ceiling of the wait after the first failed attempt.
    pub base: Duration,
    /// No wait is longer.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: BACKOFF_BASE,
            cap: BACKOFF_CAP,
        }
    }
}

impl Backoff {
    /// The longest wait after `attempts` failed attempts: `base × 2^(attempts − 1)`, at most `cap`.
    pub fn ceiling(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(31);
        self.base
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.cap)
            .min(self.cap)
    }

    /// The wait after `attempts` failed attempts, with `jitter` in `[0, 1]`: between half the
    /// ceiling and all of it. Events that failed together spread out, and while the ceiling
    /// doubles (below the cap) a wait is never shorter than the one before it.
    pub fn delay(&self, attempts: u32, jitter: f64) -> Duration {
        let ceiling = self.ceiling(attempts);
        let half = ceiling / 2;
        half + half.mul_f64(jitter.clamp(0.0, 1.0))
    }
}

/// A random number in `[0, 1]` for [`Backoff::delay`].
pub fn jitter() -> f64 {
    let bits = (uuid::Uuid::new_v4().as_u128() >> 64) as u64;
    bits as f64 / u64::MAX as f64
}

/// Which receiver each topic goes to.
#[derive(Clone, Default)]
pub struct Routes {
    routes: Vec<(String, Url)>,
}

impl std::fmt::Debug for Routes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.routes.iter().map(|(t, u)| (t, redact_url(u))))
            .finish()
    }
}

impl Routes {
    /// The routes the settings configure (see the module's policy).
    pub fn from_settings(settings: &OutboxSettings) -> Self {
        let mut routes = Routes::default();
        if let Some(url) = &settings.support_url {
            routes = routes.with(topics::SUPPORT_ESCALATION, url.clone());
        }
        if let Some(url) = &settings.erp_url {
            routes = routes.with(topics::ERP_RETURN, url.clone());
        }
        if let (true, Some(url)) = (settings.push_metafields, &settings.metafield_url) {
            routes = routes.with(topics::ASSIGNMENT_METAFIELD, url.clone());
        }
        routes
    }

    /// These routes, with `topic` going to `url`.
    pub fn with(mut self, topic: &str, url: Url) -> Self {
        self.routes.retain(|(t, _)| t != topic);
        self.routes.push((topic.to_owned(), url));
        self
    }

    /// Where `topic` goes, if anywhere.
    pub fn url(&self, topic: &str) -> Option<&Url> {
        self.routes.iter().find(|(t, _)| t == topic).map(|(_, u)| u)
    }

    /// The topics delivered.
    pub fn topics(&self) -> Vec<String> {
        self.routes.iter().map(|(t, _)| t.clone()).collect()
    }
}

/// How the worker delivers: the settings' routes and limits, and the timings (tests shorten them).
#[derive(Debug, Clone)]
pub struct OutboxConfig {
    pub routes: Routes,
    /// Attempts before an event is dead.
    pub max_attempts: u32,
    /// How often [`crate::workers::outbox::run_until`] looks for due events.
    pub poll_interval: Duration,
    pub lease: Duration,
    /// Must be shorter than the lease.
    pub request_timeout: Duration,
    pub backoff: Backoff,
    /// Events claimed in one round.
    pub batch: u32,
}

impl OutboxConfig {
    /// The configuration `OUTBOX_*` describes, with the default timings.
    pub fn from_settings(settings: &OutboxSettings) -> Self {
        OutboxConfig {
            routes: Routes::from_settings(settings),
            max_attempts: settings.max_attempts,
            poll_interval: settings
                .poll_interval
                .unwrap_or(crate::settings::DEFAULT_OUTBOX_POLL_INTERVAL),
            lease: LEASE,
            request_timeout: REQUEST_TIMEOUT,
            backoff: Backoff::default(),
            batch: BATCH,
        }
    }
}

/// How one settled attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx.
    Delivered,
    /// The attempt failed; the next is due `after` from the failure, at `next_attempt_at`.
    Retry {
        error: String,
        after: Duration,
        next_attempt_at: DateTime<Utc>,
    },
    /// The last attempt failed: the event is dead.
    Dead { error: String },
    /// The result could not be recorded (the database failed, or the lease ran out and another
    /// worker claimed the event): the event is due again when its lease runs out.
    Unrecorded { why: String },
}

impl Outcome {
    /// The outcome as the operator's metrics label it.
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Delivered => "delivered",
            Outcome::Retry { .. } => "retry",
            Outcome::Dead { .. } => "dead",
            Outcome::Unrecorded { .. } => "unrecorded",
        }
    }
}

/// One claimed event and how its attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settled {
    pub id: i64,
    pub shop: String,
    pub topic: String,
    /// Attempts made, this one included.
    pub attempts: u32,
    pub outcome: Outcome,
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Events given up on before the round: no attempts left and their lease ran out.
    pub expired: u64,
    /// The events claimed and settled, by id.
    pub settled: Vec<Settled>,
    /// Claims given back unsettled because the worker was stopping.
    pub released: Vec<i64>,
    /// The round was stopped.
    pub stopped: bool,
}

impl DeliveryReport {
    /// Events this round claimed.
    pub fn claimed(&self) -> usize {
        self.settled.len() + self.released.len()
    }

    /// Ids of the events delivered.
    pub fn delivered(&self) -> Vec<i64> {
        self.ids(|o| matches!(o, Outcome::Delivered))
    }

    /// Ids of the events that will be tried again.
    pub fn retrying(&self) -> Vec<i64> {
        self.ids(|o| matches!(o, Outcome::Retry { .. }))
    }

    /// Ids of the events that died this round.
    pub fn dead(&self) -> Vec<i64> {
        self.ids(|o| matches!(o, Outcome::Dead { .. }))
    }

    fn ids(&self, keep: impl Fn(&Outcome) -> bool) -> Vec<i64> {
        self.settled
            .iter()
            .filter(|s| keep(&s.outcome))
            .map(|s| s.id)
            .collect()
    }
}

/// Why an attempt failed.
#[derive(Debug)]
struct Failure {
    /// A sentence for `last_error`.
    sentence: String,
    /// How long the receiver asked to be left alone (`Retry-After` on a 429 or 503).
    retry_after: Option<Duration>,
}

/// Delivers the outbox of one database. Cheap to clone.
#[derive(Clone)]
pub struct OutboxWorker {
    outbox: Outbox,
    http: reqwest::Client,
    config: OutboxConfig,
}

impl OutboxWorker {
    /// A worker over `outbox`; fails when the request timeout is not shorter than the lease (a live
    /// worker's events would be taken over while it still delivers them), or when the HTTP client
    /// cannot be built.
    pub fn new(outbox: Outbox, config: OutboxConfig) -> anyhow::Result<Self> {
        anyhow::ensure!(
            config.request_timeout < config.lease,
            "the outbox's request timeout ({:?}) must be shorter than its lease ({:?})",
            config.request_timeout,
            config.lease
        );
        anyhow::ensure!(
            config.max_attempts >= 1,
            "the outbox needs at least one attempt"
        );
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout)
            // A receiver that moved is a configuration to fix, not a place to resend the event
            // (and its credentials) to.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("orders-sync/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OutboxWorker {
            outbox,
            http,
            config,
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &OutboxConfig {
        &self.config
    }

    /// One round: gives up on events with no attempts left, then claims, delivers and settles the
    /// due events (see the module's policy).
    pub async fn deliver_due(&self) -> Result<DeliveryReport, StoreError> {
        self.deliver_due_until(std::future::pending()).await
    }

    /// [`OutboxWorker::deliver_due`], stopped when `stop` completes: requests in flight are dropped
    /// and their claims given back.
    #[tracing::instrument(name = "outbox.round", skip_all)]
    pub async fn deliver_due_until(
        &self,
        stop: impl Future<Output = ()>,
    ) -> Result<DeliveryReport, StoreError> {
        let topics = self.config.routes.topics();
        let mut report = DeliveryReport::default();
        if topics.is_empty() {
            return Ok(report);
        }
        report.expired = self
            .outbox
            .expire_outbox(&topics, self.config.max_attempts)
            .await?;
        if report.expired > 0 {
            tracing::error!(
                events = report.expired,
                "outbox events with no attempts left are dead; `orders-sync outbox list --state dead` shows them"
            );
        }
        let claims = self
            .outbox
            .claim_outbox(
                &topics,
                self.config.max_attempts,
                self.config.lease,
                self.config.batch,
            )
            .await?;
        let mut unsettled: HashMap<i64, &OutboxClaim> = claims.iter().map(|c| (c.id, c)).collect();
        let mut in_flight: FuturesUnordered<_> = claims
            .iter()
            .filter_map(|claim| {
                let url = self.config.routes.url(&claim.topic)?;
                Some(self.send(claim, url).map(move |result| (claim, result)))
            })
            .collect();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                biased;
                _ = &mut stop => {
                    report.stopped = true;
                    break;
                }
                next = in_flight.next() => match next {
                    None => break,
                    Some((claim, result)) => {
                        unsettled.remove(&claim.id);
                        report.settled.push(self.settle(claim, result).await);
                    }
                },
            }
        }
        // Dropping the requests still in flight cancels them.
        drop(in_flight);
        if !unsettled.is_empty() {
            let give_back: Vec<OutboxClaim> = unsettled.into_values().cloned().collect();
            report.released = give_back.iter().map(|c| c.id).collect();
            report.released.sort_unstable();
            if let Err(e) = self.outbox.release_outbox(&give_back).await {
                tracing::warn!(error = %e, "could not give back the outbox claims; their lease runs out by itself");
            }
        }
        report.settled.sort_unstable_by_key(|s| s.id);
        Ok(report)
    }

    /// Sends one event to `url`.
    #[tracing::instrument(name = "outbox.send", skip_all, fields(shop = %claim.shop, topic = %claim.topic, id = claim.id, order = %claim.order_id, attempt = claim.attempts))]
    async fn send(&self, claim: &OutboxClaim, url: &Url) -> Result<(), Failure> {
        let key = event_key(&claim.shop, claim.id);
        let body = OutboxDelivery {
            id: claim.id,
            topic: claim.topic.clone(),
            shop: claim.shop.clone(),
            order_id: claim.order_id.clone(),
            payload: claim.payload.clone(),
            created_at: claim.created_at,
        };
        let response = self
            .http
            .post(url.clone())
            .header(IDEMPOTENCY_KEY_HEADER, &key)
            .header(EVENT_ID_HEADER, &key)
            .header(TOPIC_HEADER, &claim.topic)
            .json(&body)
            .send()
            .await
            .map_err(|e| self.request_failure(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let retry_after = match status.as_u16() {
            429 | 503 => response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs),
            _ => None,
        };
        let quoted = quote_body(response).await;
        let mut sentence = format!("the receiver answered HTTP {}", status.as_u16());
        if !quoted.is_empty() {
            sentence.push_str(&format!(": {quoted}"));
        }
        Err(Failure {
            sentence,
            retry_after,
        })
    }

    /// A failed request in a sentence, without the URL (it may carry credentials).
    fn request_failure(&self, e: reqwest::Error) -> Failure {
        let sentence = if e.is_timeout() {
            format!(
                "no answer within {} ms (timeout)",
                self.config.request_timeout.as_millis()
            )
        } else {
            let what = if e.is_connect() {
                "could not connect to the receiver"
            } else if e.is_builder() || e.is_request() {
                "the request could not be sent"
            } else {
                "the request failed"
            };
            match root_cause(&e.without_url()) {
                Some(cause) => format!("{what} ({cause})"),
                None => what.to_owned(),
            }
        };
        Failure {
            sentence,
            retry_after: None,
        }
    }

    /// Records how an attempt ended.
    async fn settle(&self, claim: &OutboxClaim, result: Result<(), Failure>) -> Settled {
        let attempts = u32::try_from(claim.attempts).unwrap_or(0);
        let outcome = match result {
            Ok(()) => match self.outbox.outbox_delivered(claim.id).await {
                Ok(_) => {
                    tracing::info!(shop = %claim.shop, topic = %claim.topic, id = claim.id, attempts, "outbox event delivered");
                    Outcome::Delivered
                }
                Err(e) => unrecorded(claim, e),
            },
            Err(failure) if attempts >= self.config.max_attempts => {
                match self.outbox.outbox_dead(claim, &failure.sentence).await {
                    Ok(Some(_)) => {
                        tracing::error!(shop = %claim.shop, topic = %claim.topic, id = claim.id, attempts, error = %failure.sentence, "outbox event is dead after its last attempt; `orders-sync outbox retry` sends it again");
                        Outcome::Dead {
                            error: failure.sentence,
                        }
                    }
                    Ok(None) => lost(claim),
                    Err(e) => unrecorded(claim, e),
                }
            }
            Err(failure) => {
                let backoff = self.config.backoff.delay(attempts, jitter());
                let after = match failure.retry_after {
                    Some(asked) => backoff.max(asked.min(self.config.backoff.cap)),
                    None => backoff,
                };
                match self
                    .outbox
                    .outbox_retry_later(claim, &failure.sentence, after)
                    .await
                {
                    Ok(Some(next_attempt_at)) => {
                        tracing::warn!(shop = %claim.shop, topic = %claim.topic, id = claim.id, attempts, error = %failure.sentence, retry_in_ms = after.as_millis() as u64, "outbox delivery failed; trying again later");
                        Outcome::Retry {
                            error: failure.sentence,
                            after,
                            next_attempt_at,
                        }
                    }
                    Ok(None) => lost(claim),
                    Err(e) => unrecorded(claim, e),
                }
            }
        };
        metrics::counter!(
            "outbox_deliveries_total",
            "topic" => crate::metrics::outbox_topic(&claim.topic),
            "outcome" => outcome.label(),
        )
        .increment(1);
        Settled {
            id: claim.id,
            shop: claim.shop.clone(),
            topic: claim.topic.clone(),
            attempts,
            outcome,
        }
    }
}

fn unrecorded(claim: &OutboxClaim, e: StoreError) -> Outcome {
    tracing::warn!(shop = %claim.shop, topic = %claim.topic, id = claim.id, error = %e, "could not record an outbox attempt; the event is due again when its lease runs out");
    Outcome::Unrecorded {
        why: format!("the database could not record the attempt ({e})"),
    }
}

fn lost(claim: &OutboxClaim) -> Outcome {
    tracing::warn!(shop = %claim.shop, topic = %claim.topic, id = claim.id, "an outbox event's lease ran out mid-delivery and another worker took it over");
    Outcome::Unrecorded {
        why: "the lease ran out and another worker took the event over".into(),
    }
}

/// The innermost cause of an error, e.g. `Connection refused (os error 111)`.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cause = e.source()?;
    while let Some(next) = cause.source() {
        cause = next;
    }
    Some(cause.to_string())
}

/// The start of a failing answer's body on one line, at most [`QUOTED_BODY_CHARS`] characters.
async fn quote_body(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < QUOTED_BODY_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    quote(&bytes)
}

fn quote(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > QUOTED_BODY_CHARS {
        let mut cut: String = line.chars().take(QUOTED_BODY_CHARS).collect();
        cut.push('…');
        cut
    } else {
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_backoff_doubles_from_ten_seconds_up_to_an_hour() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(1), secs(10));
        assert_eq!(b.ceiling(2), secs(20));
        assert_eq!(b.ceiling(3), secs(40));
        assert_eq!(b.ceiling(9), secs(2560));
        assert_eq!(b.ceiling(10), secs(3600));
        assert_eq!(b.ceiling(1000), secs(3600));
        // Before a first failure there is nothing to wait for but the base.
        assert_eq!(b.ceiling(0), secs(10));
    }

    #[test]
    fn the_jitter_keeps_a_wait_between_half_its_ceiling_and_all_of_it() {
        let b = Backoff::default();
        assert_eq!(b.delay(1, 0.0), secs(5));
        assert_eq!(b.delay(1, 1.0), secs(10));
        assert_eq!(b.delay(3, 0.5), secs(30));
        assert_eq!(b.delay(3, 7.0), secs(40), "jitter is clamped");
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..=1.0).contains(&j), "{j}");
            let d = b.delay(4, j);
            assert!(d >= secs(40) && d <= secs(80), "{d:?}");
        }
    }

    #[test]
    fn waits_never_shrink_below_the_cap_whatever_the_jitter() {
        let b = Backoff {
            base: Duration::from_millis(100),
            cap: secs(5),
        };
        let mut doubling = 0;
        for attempts in 1..20 {
            if b.ceiling(attempts + 1) == b.ceiling(attempts) * 2 {
                doubling += 1;
                assert!(
                    b.delay(attempts + 1, 0.0) >= b.delay(attempts, 1.0),
                    "attempt {attempts}"
                );
            } else {
                assert_eq!(b.ceiling(attempts + 1), b.cap);
                assert!(b.delay(attempts + 1, 0.0) >= b.cap / 2);
            }
        }
        assert_eq!(doubling, 5, "100 ms doubles five times before 5 s");
    }

    #[test]
    fn a_failing_answer_is_quoted_on_one_short_line() {
        assert_eq!(
            quote(b"  upstream\n  exploded \t badly "),
            "upstream exploded badly"
        );
        let long = "x".repeat(500);
        let q = quote(long.as_bytes());
        assert_eq!(q.chars().count(), QUOTED_BODY_CHARS + 1);
        assert!(q.ends_with('…'));
        assert_eq!(quote(b""), "");
    }

    #[test]
    fn metafields_have_no_route_until_pushing_is_on() {
        let url = Url::parse("https://hooks.example.com/x").unwrap();
        let mut settings = OutboxSettings {
            support_url: Some(url.clone()),
            metafield_url: Some(url.clone()),
            ..OutboxSettings::default()
        };
        let routes = Routes::from_settings(&settings);
        assert_eq!(routes.topics(), vec![topics::SUPPORT_ESCALATION.to_owned()]);
        assert!(routes.url(topics::ERP_RETURN).is_none());
        settings.push_metafields = true;
        let routes = Routes::from_settings(&settings);
        assert_eq!(routes.url(topics::ASSIGNMENT_METAFIELD), Some(&url));
    }

    #[test]
    fn routes_log_without_credentials() {
        let routes = Routes::default().with(
            topics::ERP_RETURN,
            Url::parse("https://sync:s3cret@erp.example.com/hook?key=k3y").unwrap(),
        );
        let shown = format!("{routes:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("k3y"),
            "{shown}"
        );
    }
}
