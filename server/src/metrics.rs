//! Prometheus metrics (issue 19, `docs/OPERATING.md`): what an operator scrapes from
//! `METRICS_ADDR`, a listener of its own that is never the site's address.
//!
//! # Policy
//! - Call sites record through the `metrics` facade (`counter!`, `histogram!`); with no
//!   `METRICS_ADDR` no recorder is installed and every call is a no-op. The recorder is
//!   `metrics-exporter-prometheus`'s, installed once per process, and `/metrics` renders it.
//!   Chosen over the `prometheus` crate because the facade needs no registry handed to every
//!   call site, and the exporter renders histograms with the buckets set here.
//! - What is a state rather than an event (outbox events, open alerts, the poller's oldest success,
//!   the pool, unfolded tally changes, streams, workers) is read when `/metrics` is scraped, so it
//!   is never stale and costs nothing between scrapes.
//! - No label carries a shop, an order or anything a client chooses: routes are the router's
//!   templates, statuses their class, topics and outcomes closed lists ("other" for the rest).

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use crate::service::Service;
use crate::shopify::webhook::shopify_header;
use crate::workers::Workers;

/// Request durations' buckets, in seconds: 1 ms to 10 s.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
/// Webhook lag's buckets, in seconds: 100 ms to 1 h (Shopify retries for 48 h).
const LAG_BUCKETS: &[f64] = &[
    0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];
/// How long a scrape waits for the database's figures before answering without them.
const SCRAPE_WAIT: Duration = Duration::from_secs(2);

static HANDLE: Mutex<Option<PrometheusHandle>> = Mutex::new(None);

/// The process's recorder, installed on first call (later calls answer the same one).
pub fn install() -> Result<PrometheusHandle> {
    let mut installed = HANDLE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(handle) = installed.as_ref() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_request_duration_seconds".into()),
            HTTP_BUCKETS,
        )?
        .set_buckets_for_metric(Matcher::Full("webhook_lag_seconds".into()), LAG_BUCKETS)?
        .install_recorder()
        .context("could not install the metrics recorder")?;
    *installed = Some(handle.clone());
    Ok(handle)
}

/// The metrics listener: `GET /metrics` on its own address.
pub struct MetricsServer {
    listener: TcpListener,
    handle: PrometheusHandle,
}

impl MetricsServer {
    /// Binds `addr` and installs the recorder.
    pub async fn bind(addr: SocketAddr) -> Result<MetricsServer> {
        let handle = install()?;
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("METRICS_ADDR: could not listen on {addr}"))?;
        Ok(MetricsServer { listener, handle })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// Serves `/metrics` until `shutdown` completes.
    pub async fn run(
        self,
        service: Service,
        workers: Workers,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) {
        let state = Scrape {
            handle: self.handle,
            service,
            workers,
        };
        let router = Router::new()
            .route("/metrics", get(scrape))
            .with_state(state);
        if let Err(e) = axum::serve(self.listener, router)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    }
}

#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    service: Service,
    workers: Workers,
}

/// `GET /metrics`: the states read now, then every family in the text format.
async fn scrape(State(scrape): State<Scrape>) -> Response {
    for report in scrape.workers.report() {
        gauge!("workers_running", "worker" => report.name).set(f64::from(u8::from(report.running)));
    }
    gauge!("sse_clients").set(scrape.service.live().streams().held().0 as f64);
    if let Some(database) = scrape.service.database() {
        let pool = database.pool_status();
        gauge!("db_pool_connections", "state" => "active").set(f64::from(pool.active));
        gauge!("db_pool_connections", "state" => "idle").set(f64::from(pool.idle));
        gauge!("db_pool_connections", "state" => "max").set(f64::from(pool.max));
        match tokio::time::timeout(SCRAPE_WAIT, database.operating_figures()).await {
            Ok(Ok(figures)) => {
                for (topic, state, n) in figures.outbox {
                    gauge!("outbox_events", "topic" => topic, "state" => state).set(n as f64);
                }
                for (kind, n) in figures.alerts_open {
                    gauge!("alerts_open", "kind" => kind).set(n as f64);
                }
                if let Some(at) = figures.oldest_poll_success {
                    gauge!("poller_last_success_timestamp_seconds")
                        .set(at.timestamp_millis() as f64 / 1000.0);
                }
                gauge!("tally_fold_lag_rows").set(figures.unfolded_tally_changes as f64);
            }
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "metrics: could not read the database's figures")
            }
            Err(_) => tracing::warn!("metrics: the database's figures took too long"),
        }
    }
    scrape.handle.run_upkeep();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        scrape.handle.render(),
    )
        .into_response()
}

/// Counts and times every request by its route's template, method and status class.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("other", |p| route_label(p.as_str()))
        .to_owned();
    let method = method_label(request.method());
    let started = Instant::now();
    let response = next.run(request).await;
    let status = status_class(response.status().as_u16());
    let labels = [
        ("route", route),
        ("method", method.to_owned()),
        ("status", status.to_owned()),
    ];
    counter!("http_requests_total", &labels).increment(1);
    histogram!("http_request_duration_seconds", &labels).record(started.elapsed().as_secs_f64());
    response
}

/// A route's template as a label: the router's own (a bounded set), `other` for anything else.
fn route_label(template: &str) -> &str {
    if template.len() <= 64 {
        template
    } else {
        "other"
    }
}

fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

/// What became of a webhook delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Acknowledged, and acted on (or knowingly ignored).
    Applied,
    /// Acknowledged: this delivery was applied before.
    Duplicate,
    /// Refused for what it is (a bad signature, an unknown shop, a body that does not read).
    Refused,
    /// Not acknowledged through no fault of its own (the database, a bug): Shopify retries it.
    Failed,
}

impl WebhookOutcome {
    fn as_str(self) -> &'static str {
        match self {
            WebhookOutcome::Applied => "applied",
            WebhookOutcome::Duplicate => "duplicate",
            WebhookOutcome::Refused => "refused",
            WebhookOutcome::Failed => "failed",
        }
    }
}

/// Records a delivery of `headers`' topic, and for one acknowledged, its lag from
/// `X-Shopify-Triggered-At` (a refused delivery's headers are not trusted).
pub fn webhook_delivery(headers: &HeaderMap, outcome: WebhookOutcome) {
    let topic = webhook_topic(headers);
    counter!("webhook_deliveries_total", "topic" => topic, "outcome" => outcome.as_str())
        .increment(1);
    if matches!(outcome, WebhookOutcome::Applied | WebhookOutcome::Duplicate) {
        let triggered = shopify_header(headers, "triggered-at")
            .and_then(|v| chrono::DateTime::parse_from_rfc3339(v).ok());
        if let Some(at) = triggered {
            let lag = chrono::Utc::now().signed_duration_since(at);
            histogram!("webhook_lag_seconds")
                .record((lag.num_milliseconds().max(0) as f64) / 1000.0);
        }
    }
}

/// A delivery's topic as a label: the topics Sync knows, `other` for the rest.
fn webhook_topic(headers: &HeaderMap) -> &'static str {
    let Some(raw) = shopify_header(headers, "topic") else {
        return "other";
    };
    if let Some(topic) = orders_core::shopify::lifecycle::LifecycleTopic::parse(raw) {
        return topic.as_str();
    }
    orders_core::shopify::Topic::parse(raw).map_or("other", |t| t.as_str())
}

/// An outbox topic as a label: the topics Sync writes, `other` for the rest.
pub fn outbox_topic(topic: &str) -> &'static str {
    OUTBOX_TOPIC_LABELS
        .into_iter()
        .find(|t| *t == topic)
        .unwrap_or("other")
}

/// Every label [`outbox_topic`] answers.
pub const OUTBOX_TOPIC_LABELS: [&str; 4] = {
    let [a, b, c] = orders_core::effects::topics::ALL;
    [a, b, c, "other"]
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_closed_lists() {
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(999), "5xx");
        assert_eq!(
            method_label(&axum::http::Method::from_bytes(b"BREW").unwrap()),
            "other"
        );
        let mut headers = HeaderMap::new();
        assert_eq!(webhook_topic(&headers), "other");
        headers.insert("x-shopify-topic", HeaderValue::from_static("orders/create"));
        assert_eq!(webhook_topic(&headers), "orders/create");
        headers.insert(
            "x-shopify-topic",
            HeaderValue::from_static("app/uninstalled"),
        );
        assert_eq!(webhook_topic(&headers), "app/uninstalled");
        headers.insert("x-shopify-topic", HeaderValue::from_static("evil/12345"));
        assert_eq!(webhook_topic(&headers), "other");
        headers.remove("x-shopify-topic");
        headers.insert("shopify-topic", HeaderValue::from_static("orders/paid"));
        assert_eq!(webhook_topic(&headers), "orders/paid");
        assert_eq!(outbox_topic("made.up"), "other");
        assert_eq!(route_label(&"/x".repeat(40)), "other");
    }
}
