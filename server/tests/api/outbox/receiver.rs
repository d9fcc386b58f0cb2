//! The integration's endpoint the tests serve: it records every request and applies each event
//! once, deduplicating by `X-Sync-Event-Id`; a test sets how it answers.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use reqwest::Url;
use serde_json::Value;
use tokio::sync::Notify;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub idempotency_key: Option<String>,
    pub event_id: Option<String>,
    pub topic: Option<String>,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Value,
}

#[derive(Default)]
pub struct ReceiverState {
    pub received: Vec<Received>,
    /// Event ids whose effect was applied, and how many requests carried each.
    pub applied: BTreeSet<String>,
    /// The status answered (200 when unset).
    pub status: Option<u16>,
    /// Event ids answered 500 whatever `status` says.
    pub failing: BTreeSet<String>,
    /// Hold the next request open forever (after applying it: the answer is what gets lost).
    pub hold_next: bool,
    /// Wait this long before answering.
    pub delay: Duration,
}

/// An integration's endpoint on a random port: records every request, applies each event once.
pub struct Receiver {
    base: String,
    state: Arc<Mutex<ReceiverState>>,
    arrived: Arc<Notify>,
}

impl Receiver {
    pub async fn start() -> Self {
        let state = Arc::new(Mutex::new(ReceiverState::default()));
        let arrived = Arc::new(Notify::new());
        let router = Router::new()
            .fallback(receive)
            .with_state((state.clone(), arrived.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver {
            base,
            state,
            arrived,
        }
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.base)).unwrap()
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut ReceiverState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    pub fn received(&self) -> Vec<Received> {
        self.with(|s| s.received.clone())
    }

    pub fn applied(&self) -> BTreeSet<String> {
        self.with(|s| s.applied.clone())
    }

    /// How many requests carried each event id.
    pub fn requests_by_event(&self) -> BTreeMap<String, usize> {
        let mut by = BTreeMap::new();
        for r in self.received() {
            *by.entry(r.event_id.unwrap_or_default()).or_default() += 1;
        }
        by
    }

    /// Waits until the receiver has had `n` requests.
    pub async fn wait_for_requests(&self, n: usize) {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let notified = self.arrived.notified();
                if self.with(|s| s.received.len()) >= n {
                    return;
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the receiver did not get {n} requests: {:?}",
                self.received()
            )
        });
    }
}

async fn receive(
    State((state, arrived)): State<(Arc<Mutex<ReceiverState>>, Arc<Notify>)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let received = Received {
        path: uri.path().to_owned(),
        idempotency_key: header("idempotency-key"),
        event_id: header("x-sync-event-id"),
        topic: header("x-sync-topic"),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    };
    let (status, hold, delay) = {
        let mut s = state.lock().unwrap();
        let event = received.event_id.clone().unwrap_or_default();
        let status = if s.failing.contains(&event) {
            500
        } else {
            s.status.unwrap_or(200)
        };
        if (200..300).contains(&status) {
            // The effect happens once per event, however many times it is sent.
            s.applied.insert(event);
        }
        s.received.push(received);
        let hold = std::mem::take(&mut s.hold_next);
        (status, hold, s.delay)
    };
    arrived.notify_waiters();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if hold {
        std::future::pending::<()>().await;
    }
    (
        StatusCode::from_u16(status).unwrap(),
        "upstream exploded\n  while saving",
    )
        .into_response()
}
