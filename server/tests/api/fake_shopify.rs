//! A fake Shopify, built from Shopify's documented request and answer shapes, served from the
//! tests on a random port:
//! - the Admin GraphQL API's orders query (`/admin/api/{version}/graphql.json`), answering pages in
//!   the published shape (`tests/fixtures/shopify/graphql_orders_page.json`), throttling and
//!   failures as scripted, and recording what it was asked;
//! - the same endpoint's shop query (`{ shop { ianaTimezone } }`), answered in the published shape
//!   (`{"data":{"shop":{"ianaTimezone":"Asia/Tokyo"}}}`) and recorded apart from the orders
//!   queries, so the orders' scripts and counts do not see it;
//! - a page elsewhere (`/elsewhere`) that a scripted redirect points to, recording any access
//!   token that reaches it;
//! - the OAuth token endpoint (`/admin/oauth/access_token`): the token exchange of a session token
//!   for an expiring offline token, its refresh, and `400 invalid_subject_token` for a subject
//!   token it is told to refuse (shopify-app-js: `tokenExchange`, `refreshToken`).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use orders_sync::shopify::poller::{ShopifyClient, API_VERSION};
use serde_json::{json, Value};

pub const PAGE_TEMPLATE: &str =
    include_str!("../../../tests/fixtures/shopify/graphql_orders_page.json");

/// What the fake answers to one request.
#[derive(Clone, Debug)]
pub enum Answer {
    /// A page of order nodes; `end_cursor` is `pageInfo.endCursor`.
    Page {
        orders: Vec<Value>,
        has_next: bool,
        end_cursor: Option<String>,
    },
    /// A `THROTTLED` error with an empty bucket that refills at `restore_rate` a second.
    Throttled { cost: f64, restore_rate: f64 },
    /// A bare HTTP status.
    Status(u16),
    /// `302 Found` to this location.
    Redirect(String),
    /// `429 Too Many Requests` with this `Retry-After` and no cost report.
    RetryAfter(&'static str),
}

pub fn page(orders: Vec<Value>, has_next: bool, end_cursor: &str) -> Answer {
    Answer::Page {
        orders,
        has_next,
        end_cursor: Some(end_cursor.to_owned()),
    }
}

/// A request the fake received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub token: String,
    pub first: Option<i64>,
    pub after: Option<String>,
    pub query: Option<String>,
}

#[derive(Default)]
struct FakeState {
    /// The tokens the fake accepts.
    tokens: Vec<String>,
    /// Answers, in order; an empty page once they run out.
    script: VecDeque<Answer>,
    seen: Vec<Seen>,
    /// The access tokens that reached `/elsewhere` (empty when none was sent).
    elsewhere: Vec<String>,
    /// The token endpoint's side.
    oauth: OAuth,
    /// The shops' time zone, as `shop { ianaTimezone }` answers it (`None`: `UTC`).
    time_zone: Option<String>,
    /// The access token of every shop query, in order.
    shop_queries: Vec<String>,
}

/// The app the token endpoint knows, and what it did.
pub struct OAuth {
    pub client_id: String,
    pub client_secret: String,
    /// Subject (session) tokens answered with `400 invalid_subject_token`.
    pub refused_subjects: Vec<String>,
    /// Every request body, in order.
    pub requests: Vec<Value>,
    /// Refresh tokens it issued and has not seen used.
    pub refresh_tokens: Vec<String>,
    /// `expires_in` of the access tokens it issues, in seconds.
    pub expires_in: i64,
    /// How long it takes to answer (to let two processes race).
    pub delay: std::time::Duration,
    issued: u32,
}

impl Default for OAuth {
    fn default() -> Self {
        OAuth {
            client_id: "client-id".into(),
            client_secret: "app-secret".into(),
            refused_subjects: vec![],
            requests: vec![],
            refresh_tokens: vec![],
            expires_in: 86_400,
            delay: std::time::Duration::ZERO,
            issued: 0,
        }
    }
}

/// A fake Shopify Admin API on a random port.
pub struct FakeShopify {
    pub base_url: String,
    state: Arc<Mutex<FakeState>>,
}

impl FakeShopify {
    pub async fn start(tokens: &[&str]) -> Self {
        let state = Arc::new(Mutex::new(FakeState {
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            ..FakeState::default()
        }));
        let router = Router::new()
            .route(
                &format!("/admin/api/{API_VERSION}/graphql.json"),
                post(graphql),
            )
            .route("/admin/oauth/access_token", post(access_token))
            .route("/elsewhere", any(elsewhere))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        FakeShopify { base_url, state }
    }

    pub fn answer(&self, answers: impl IntoIterator<Item = Answer>) {
        self.state.lock().unwrap().script.extend(answers);
    }

    /// Changes the token endpoint's side.
    pub fn oauth(&self, change: impl FnOnce(&mut OAuth)) {
        change(&mut self.state.lock().unwrap().oauth);
    }

    /// The token endpoint's requests so far, by `grant_type`.
    pub fn oauth_requests(&self, grant_type: &str) -> Vec<Value> {
        let state = self.state.lock().unwrap();
        state
            .oauth
            .requests
            .iter()
            .filter(|r| r["grant_type"] == grant_type)
            .cloned()
            .collect()
    }

    /// Sets the time zone the shop query answers (`UTC` until set).
    pub fn time_zone(&self, zone: &str) {
        self.state.lock().unwrap().time_zone = Some(zone.to_owned());
    }

    /// The access token of every shop query so far (they are not in [`FakeShopify::seen`]).
    pub fn shop_queries(&self) -> Vec<String> {
        self.state.lock().unwrap().shop_queries.clone()
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// The access tokens that reached `/elsewhere`, one a request.
    pub fn elsewhere(&self) -> Vec<String> {
        self.state.lock().unwrap().elsewhere.clone()
    }

    pub fn client(&self) -> ShopifyClient {
        ShopifyClient::new(&self.base_url).unwrap()
    }
}

async fn graphql(
    State(state): State<Arc<Mutex<FakeState>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut state = state.lock().unwrap();
    if body["query"]
        .as_str()
        .is_some_and(|q| q.contains("shop") && q.contains("ianaTimezone"))
    {
        state.shop_queries.push(token.clone());
        if !state.tokens.contains(&token) {
            let body = json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" });
            return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
        }
        let zone = state.time_zone.clone().unwrap_or_else(|| "UTC".into());
        return Json(json!({ "data": { "shop": { "ianaTimezone": zone } } })).into_response();
    }
    let vars = &body["variables"];
    state.seen.push(Seen {
        at: Instant::now(),
        token: token.clone(),
        first: vars["first"].as_i64(),
        after: vars["after"].as_str().map(str::to_owned),
        query: vars["query"].as_str().map(str::to_owned),
    });
    if !state.tokens.contains(&token) {
        let body = json!({ "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)" });
        return (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    }
    assert!(
        body["query"]
            .as_str()
            .is_some_and(|q| q.contains("orders(first: $first")),
        "the poller sends the orders query"
    );
    let answer = state.script.pop_front().unwrap_or(Answer::Page {
        orders: vec![],
        has_next: false,
        end_cursor: None,
    });
    match answer {
        Answer::Page {
            orders,
            has_next,
            end_cursor,
        } => {
            let mut body: Value = serde_json::from_str(PAGE_TEMPLATE).unwrap();
            let edges: Vec<Value> = orders
                .into_iter()
                .enumerate()
                .map(|(i, node)| json!({ "cursor": format!("edge-{i}"), "node": node }))
                .collect();
            body["data"]["orders"]["edges"] = Value::Array(edges);
            body["data"]["orders"]["pageInfo"] =
                json!({ "hasNextPage": has_next, "endCursor": end_cursor });
            body["extensions"]["cost"] = json!({
                "requestedQueryCost": 20,
                "actualQueryCost": 10,
                "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0 }
            });
            Json(body).into_response()
        }
        Answer::Throttled { cost, restore_rate } => Json(json!({
            "errors": [{ "message": "Throttled", "extensions": {
                "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits" } }],
            "extensions": { "cost": {
                "requestedQueryCost": cost, "actualQueryCost": null,
                "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 0, "restoreRate": restore_rate } } }
        }))
        .into_response(),
        Answer::Status(code) => (
            StatusCode::from_u16(code).unwrap(),
            "Internal Server Error",
        )
            .into_response(),
        Answer::Redirect(location) => {
            (StatusCode::FOUND, [("location", location)]).into_response()
        }
        Answer::RetryAfter(value) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", value)],
            "Too Many Requests",
        )
            .into_response(),
    }
}

/// `/elsewhere`: where a scripted redirect points; records the access token it was sent.
async fn elsewhere(State(state): State<Arc<Mutex<FakeState>>>, headers: HeaderMap) -> Response {
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state.lock().unwrap().elsewhere.push(token);
    Json(json!({ "data": { "orders": { "edges": [], "pageInfo": { "hasNextPage": false, "endCursor": null } } } }))
        .into_response()
}

/// An order node in the published shape (the fixture's second order), as `n` named `#n`.
pub fn order_node(n: u64, created: DateTime<Utc>, updated: DateTime<Utc>) -> Value {
    let template: Value = serde_json::from_str(PAGE_TEMPLATE).unwrap();
    let mut node = template["data"]["orders"]["edges"][1]["node"].clone();
    node["id"] = json!(format!("gid://shopify/Order/{n}"));
    node["legacyResourceId"] = json!(n.to_string());
    node["name"] = json!(format!("#{n}"));
    node["createdAt"] = json!(iso(created));
    node["updatedAt"] = json!(iso(updated));
    node
}

pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `POST /admin/oauth/access_token`: the token exchange and the refresh, as Shopify documents them.
async fn access_token(
    State(state): State<Arc<Mutex<FakeState>>>,
    Json(body): Json<Value>,
) -> Response {
    let delay = state.lock().unwrap().oauth.delay;
    tokio::time::sleep(delay).await;
    let mut state = state.lock().unwrap();
    let state = &mut *state;
    state.oauth.requests.push(body.clone());
    let refuse = |error: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": error, "error_description": format!("{error} (fake)") })),
        )
            .into_response()
    };
    if body["client_id"] != state.oauth.client_id.as_str()
        || body["client_secret"] != state.oauth.client_secret.as_str()
    {
        return refuse("invalid_client");
    }
    match body["grant_type"].as_str() {
        Some("urn:ietf:params:oauth:grant-type:token-exchange") => {
            let subject = body["subject_token"].as_str().unwrap_or_default();
            if body["subject_token_type"] != "urn:ietf:params:oauth:token-type:id_token"
                || body["requested_token_type"]
                    != "urn:shopify:params:oauth:token-type:offline-access-token"
                || subject.is_empty()
                || state.oauth.refused_subjects.iter().any(|r| r == subject)
            {
                return refuse("invalid_subject_token");
            }
        }
        Some("refresh_token") => {
            let presented = body["refresh_token"].as_str().unwrap_or_default();
            let Some(i) = state
                .oauth
                .refresh_tokens
                .iter()
                .position(|t| t == presented)
            else {
                return refuse("invalid_grant");
            };
            state.oauth.refresh_tokens.remove(i);
        }
        _ => return refuse("unsupported_grant_type"),
    }
    state.oauth.issued += 1;
    let n = state.oauth.issued;
    let access = format!("shpat_fake_{n}");
    let refresh = format!("shprt_fake_{n}");
    state.tokens.push(access.clone());
    state.oauth.refresh_tokens.push(refresh.clone());
    Json(json!({
        "access_token": access,
        "scope": "read_orders,write_orders,read_all_orders,read_returns,read_fulfillments",
        "expires_in": state.oauth.expires_in,
        "refresh_token": refresh,
        "refresh_token_expires_in": 2_592_000,
    }))
    .into_response()
}
