//! What wraps every request once it has reached the router: its deadline, and the answer to a
//! panic.
//!
//! # Policy
//! - Every request that is not a live stream or the CSV export has [`LimitSettings::request_timeout`]
//!   (30 s) to produce its answer's head, its body read included; past it the request is dropped
//!   (a write's transaction rolls back with it) and the answer is the envelope's `503` with
//!   `Retry-After`. A write whose answer was lost that way is retried safely with its
//!   `Idempotency-Key`.
//! - A panic in a handler is answered with the envelope's `500`. The panic itself is logged once, by
//!   the hook [`log_panics`] installs (with its location), wherever it happens: a handler, a worker or
//!   a task.
//!
//! [`LimitSettings::request_timeout`]: crate::settings::LimitSettings::request_timeout

use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::ApiError;
use crate::settings::LimitSettings;

/// `router` with its requests' deadline and the answer to a panic (the module's policy).
pub fn guard<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    limits: &LimitSettings,
) -> Router<S> {
    router
        .layer(axum::middleware::from_fn_with_state(
            limits.request_timeout,
            deadline,
        ))
        .layer(CatchPanicLayer::custom(panic_answer))
}

/// Whether `request` may outlive the deadline: a live stream or the CSV export, which end when
/// their data does.
fn unbounded(request: &Request) -> bool {
    request.uri().path() == crate::trust::gate::EXPORT_PATH
        || crate::routes::alerts::asks_for_stream(request)
}

/// The deadline middleware (see the module's policy).
async fn deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    if unbounded(&request) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(path, limit = ?limit, "the request passed its deadline");
            ApiError::Busy(format!(
                "the request took longer than {} s",
                limit.as_secs_f64()
            ))
            .into_response()
        }
    }
}

/// The answer to a handler's panic: the envelope's 500 (the hook has logged the panic).
fn panic_answer(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::Internal.into_response()
}

/// Logs every panic once, through `tracing`, with its message and location (instead of the
/// default hook's lines on stderr, which a log collector would not tie to anything).
pub fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current();
        tracing::error!(
            panic = %message,
            location,
            thread = thread.name().unwrap_or("unnamed"),
            "panicked"
        );
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::header;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn answer(router: Router, path: &str) -> (u16, Option<String>, serde_json::Value) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry = response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, retry, serde_json::from_slice(&body).unwrap())
    }

    fn guarded() -> Router {
        let limits = LimitSettings {
            request_timeout: Duration::from_millis(100),
            ..LimitSettings::default()
        };
        let router = Router::new()
            .route(
                "/panics",
                get(|| async {
                    if true {
                        panic!("a handler's bug");
                    }
                    "unreachable"
                }),
            )
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            );
        guard(router, &limits)
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_with_the_envelopes_500() {
        let (status, _, body) = answer(guarded(), "/panics").await;
        assert_eq!(status, 500);
        assert_eq!(body["success"], false);
        assert_eq!(body["updatedOrders"], serde_json::json!([]));
        assert!(body["message"].as_str().unwrap().contains("logged"));
    }

    #[tokio::test]
    async fn a_request_past_its_deadline_is_the_envelopes_503_with_retry_after() {
        let started = std::time::Instant::now();
        let (status, retry, body) = answer(guarded(), "/slow").await;
        assert_eq!(status, 503);
        assert!(retry.is_some());
        assert_eq!(body["success"], false);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    /// The event stream is told by the route it matched (and its `Accept`), not by a path.
    #[tokio::test]
    async fn the_alerts_event_stream_is_not_bounded_by_the_deadline() {
        let limits = LimitSettings {
            request_timeout: Duration::from_millis(50),
            ..LimitSettings::default()
        };
        let route = <crate::routes::alerts::__path_alerts as utoipa::Path>::path();
        let slow = get(|| async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            "late"
        });
        let router = guard(Router::new().route(&route, slow), &limits);
        let ask = |accept: &'static str| {
            let request = Request::get(route.as_str())
                .header(header::ACCEPT, accept)
                .body(Body::empty())
                .unwrap();
            router.clone().oneshot(request)
        };
        assert_eq!(ask("text/event-stream").await.unwrap().status(), 200);
        assert_eq!(ask("application/json").await.unwrap().status(), 503);
    }
}

/// The id of a request: the client's `X-Request-Id` when it is a short token (1 to 64 letters,
/// digits, `-`, `_`, `.`), else a fresh one. It is in every log line of the request (its span,
/// [`request_span`]) and in the answer's `X-Request-Id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

const REQUEST_ID: &str = "x-request-id";

/// The request-id middleware (see [`RequestId`]).
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(REQUEST_ID)
        .filter(|v| {
            let b = v.as_bytes();
            (1..=64).contains(&b.len())
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        })
        .cloned();
    let id = match given {
        Some(id) => id,
        None => HeaderValue::from_str(&uuid::Uuid::new_v4().simple().to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("unknown")),
    };
    request.headers_mut().insert(REQUEST_ID, id.clone());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    response.headers_mut().insert(REQUEST_ID, id);
    response
}

/// A request's span: its method, path and id (the query is left out: it may carry a token).
pub fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let id = request
        .extensions()
        .get::<RequestId>()
        .and_then(|id| id.0.to_str().ok())
        .unwrap_or("");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %id,
    )
}
