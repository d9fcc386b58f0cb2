//! What one client may hold of the live stream (SPEC §6, §10, §11): replays capped at the newest
//! 500 alerts with a `replay_truncated` refresh, streams capped per client and per shop, nothing
//! kept for a shop nobody registered once its streams are gone, and streams that end when their
//! credential lapses.

use std::time::Duration;

use chrono::Utc;
use orders_core::{FulfillmentStatus, ShipmentStatus};
use orders_sync::settings::Settings;
use orders_sync::store::{PgStore, Store};
use serde_json::Value;

use crate::contract;
use crate::helpers::*;
use crate::sse::{Sse, SseReader};
use crate::trust::issue;

/// How often the streams of these tests re-check their credential.
const RECHECK: Duration = Duration::from_millis(200);

fn pg(app: &TestApp) -> &PgStore {
    match &app.store {
        Store::Postgres(pg) => pg,
        Store::Memory(_) => panic!("this test needs PostgreSQL"),
    }
}

/// `n` orders untracked for 3 h (each raises tracking pending), ids from 5001.
fn untracked(n: u64) -> Vec<orders_core::record::OrderRecord> {
    (5001..5001 + n)
        .map(|i| order(i).hours_old(3).build())
        .collect()
}

/// The same orders, delivered with tracking (their alerts resolve).
fn delivered(n: u64) -> Vec<orders_core::record::OrderRecord> {
    (5001..5001 + n)
        .map(|i| {
            order(i)
                .hours_old(3)
                .status(FulfillmentStatus::Fulfilled)
                .shipment(ShipmentStatus::Delivered, true, 1)
                .build()
        })
        .collect()
}

/// Every event until half a second passes without one.
async fn replay(sse: &mut SseReader) -> Vec<Sse> {
    let mut events = Vec::new();
    while let Some(e) = sse.next_within(Duration::from_millis(700)).await {
        events.push(e);
    }
    events
}

fn ids_of(events: &[Sse], kind: &str) -> Vec<u64> {
    events
        .iter()
        .filter(|e| e.event == kind)
        .map(|e| e.data["id"].as_u64().unwrap())
        .collect()
}

fn truncations(events: &[Sse]) -> usize {
    events
        .iter()
        .filter(|e| e.event == "refresh" && e.data["reason"] == "replay_truncated")
        .count()
}

async fn a_replay_sends_the_newest_500_alerts_then_says_it_was_cut(app: TestApp) {
    app.seed(SHOP, untracked(600)).await;
    app.service.evaluate(SHOP).await.unwrap();
    let all = ids_of(
        &replay(&mut SseReader::connect(&app, Some("0")).await).await,
        "alert",
    );
    let newest = *all.last().unwrap();
    let expected: Vec<u64> = (newest - 499..=newest).collect();

    // From the start, and as a new client: the newest 500, oldest first, then one refresh.
    for last in [Some("0"), None] {
        let events = replay(&mut SseReader::connect(&app, last).await).await;
        assert_eq!(ids_of(&events, "alert"), expected, "from {last:?}");
        assert_eq!(truncations(&events), 1);
        let after = events.iter().rposition(|e| e.event == "alert").unwrap();
        assert!(
            events[after..]
                .iter()
                .any(|e| e.data["reason"] == "replay_truncated"),
            "the refresh follows the alerts"
        );
    }
    // Exactly 500 to tell: nothing was left out.
    let from = (newest - 500).to_string();
    let events = replay(&mut SseReader::connect(&app, Some(&from)).await).await;
    assert_eq!(ids_of(&events, "alert"), expected);
    assert_eq!(truncations(&events), 0);

    // 600 resolved in the last 24 h before Last-Event-ID: the 500 resolved last, and the refresh.
    app.seed(SHOP, delivered(600)).await;
    app.service.evaluate(SHOP).await.unwrap();
    let events = replay(&mut SseReader::connect(&app, Some(&newest.to_string())).await).await;
    let resolved = ids_of(&events, "resolved");
    assert_eq!(resolved.len(), 500);
    assert!(resolved.iter().all(|id| *id <= newest));
    assert_eq!(
        resolved
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        500
    );
    assert!(ids_of(&events, "alert").is_empty());
    assert_eq!(truncations(&events), 1);

    // From the start again: each of the newest 500 alerts with its resolution; the tail is empty.
    let events = replay(&mut SseReader::connect(&app, Some("0")).await).await;
    assert_eq!(ids_of(&events, "alert"), expected);
    assert_eq!(ids_of(&events, "resolved"), expected);
    assert_eq!(truncations(&events), 1);
}

async fn streams_of_unknown_shops_leave_nothing_behind(app: TestApp) {
    let live = app.service.live().clone();
    for batch in 0..20 {
        let opened = futures::future::join_all((0..100).map(|i| {
            let shop = format!("nobody-{batch}-{i}.myshopify.com");
            SseReader::open(SseReader::request(&app, &shop))
        }))
        .await;
        assert_eq!(live.channel_count(), 100, "one channel per open stream");
        drop(opened);
        wait_for(|| live.channel_count() == 0 && live.streams().held() == (0, 0, 0)).await;
    }
    // A poll of a shop nobody registered keeps nothing either.
    for i in 0..100 {
        app.get_json(
            "/sync/orders/alerts",
            &[("shop_domain", &format!("nobody-poll-{i}.myshopify.com"))],
        )
        .await
        .assert_ok();
    }
    assert_eq!(live.channel_count(), 0);
}

contract!(
    a_replay_sends_the_newest_500_alerts_then_says_it_was_cut,
    streams_of_unknown_shops_leave_nothing_behind,
);

/// Waits up to 15 s for `done`.
async fn wait_for(done: impl Fn() -> bool) {
    for _ in 0..300 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("not done within 15 s");
}

/// Opens a stream of `shop` with `token`: its status, its `Retry-After` and its body (JSON when it
/// is refused), and the stream when it opened.
async fn try_stream(
    app: &TestApp,
    shop: &str,
    token: Option<&str>,
) -> (
    u16,
    Option<String>,
    Option<Value>,
    Option<reqwest::Response>,
) {
    let mut request = SseReader::request(app, shop);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        return (status, None, None, Some(response));
    }
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json::<Value>().await.unwrap();
    (status, retry, Some(body), None)
}

#[track_caller]
fn assert_over_cap(
    refused: &(
        u16,
        Option<String>,
        Option<Value>,
        Option<reqwest::Response>,
    ),
    needle: &str,
) {
    let (status, retry, body, _) = refused;
    assert_eq!(*status, 429, "{body:?}");
    assert!(retry.is_some(), "a Retry-After");
    let body = body.as_ref().unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["updatedOrders"], serde_json::json!([]));
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(needle),
        "{message:?} should name {needle:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_are_capped_per_token_and_per_shop_and_a_closed_one_frees_its_place() {
    let app = spawn_with(Backend::Postgres, |s: &mut Settings| {
        s.limits.max_streams_per_client = 2;
        s.limits.max_streams_per_shop = 3;
    })
    .await;
    app.seed(SHOP, untracked(1)).await;
    app.seed(OTHER_SHOP, untracked(1)).await;
    let a = issue(&app, SHOP).await;
    let b = issue(&app, SHOP).await;
    let other = issue(&app, OTHER_SHOP).await;

    let first = try_stream(&app, SHOP, Some(&a)).await;
    let second = try_stream(&app, SHOP, Some(&a)).await;
    assert_eq!((first.0, second.0), (200, 200));
    assert_over_cap(&try_stream(&app, SHOP, Some(&a)).await, "this API token");
    // Another token of the shop has its own two, within the shop's three.
    let third = try_stream(&app, SHOP, Some(&b)).await;
    assert_eq!(third.0, 200);
    assert_over_cap(&try_stream(&app, SHOP, Some(&b)).await, SHOP);
    // Another shop has its own count.
    let elsewhere = try_stream(&app, OTHER_SHOP, Some(&other)).await;
    assert_eq!(elsewhere.0, 200);

    // A closed stream gives its place back: to its token, and to the shop.
    drop(first);
    wait_for(|| app.service.live().streams().held().0 == 3).await;
    assert_eq!(try_stream(&app, SHOP, Some(&a)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_streams_count_per_client_address() {
    let app = spawn_with(Backend::Memory, |s: &mut Settings| {
        s.limits.max_streams_per_client = 2;
    })
    .await;
    let first = try_stream(&app, SHOP, None).await;
    let second = try_stream(&app, OTHER_SHOP, None).await;
    assert_eq!((first.0, second.0), (200, 200));
    assert_over_cap(&try_stream(&app, SHOP, None).await, "client address");
    drop(first);
    wait_for(|| app.service.live().streams().held().0 == 1).await;
    assert_eq!(try_stream(&app, SHOP, None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_token_is_revoked() {
    let app = spawn_app(Backend::Postgres).await;
    app.service.live().streams().set_recheck_every(RECHECK);
    app.seed(SHOP, untracked(1)).await;
    let token = issue(&app, SHOP).await;
    let mut sse = SseReader::open(SseReader::request(&app, SHOP).bearer_auth(&token)).await;
    assert!(
        !sse.ends_within(RECHECK * 5).await,
        "a live token keeps its stream open"
    );

    let id = pg(&app).tokens(Some(SHOP)).await.unwrap()[0].id;
    let mut out = Vec::new();
    orders_sync::cli::token(
        &orders_sync::service::Tokens::new(pg(&app).clone()),
        orders_sync::cli::TokenCommand::Revoke { id },
        &mut out,
    )
    .await
    .unwrap();
    assert!(
        sse.ends_within(RECHECK * 10).await,
        "the stream ends after the revocation"
    );
    wait_for(|| app.service.live().streams().held() == (0, 0, 0)).await;
    let (status, _, _, _) = try_stream(&app, SHOP, Some(&token)).await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anonymous_stream_ends_when_its_shop_starts_needing_a_token() {
    let app = spawn_app(Backend::Postgres).await;
    app.service.live().streams().set_recheck_every(RECHECK);
    app.seed(SHOP, untracked(1)).await;
    let mut sse = SseReader::connect(&app, None).await;
    assert!(!sse.ends_within(RECHECK * 5).await);
    issue(&app, SHOP).await;
    assert!(sse.ends_within(RECHECK * 10).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_token_stream_lasts_while_the_shop_is_installed() {
    use crate::embedded::{session_token, API_KEY, SECRET};
    let app = spawn_with(Backend::Postgres, |s: &mut Settings| {
        s.trust.shopify_api_secret = Some(SECRET.into());
        s.trust.shopify_api_key = Some(API_KEY.into());
    })
    .await;
    app.service.live().streams().set_recheck_every(RECHECK);
    // A custom app's static token counts as installed: no exchange.
    pg(&app)
        .register_shop(SHOP, "whsec", Some("shpat_static"), Utc::now())
        .await
        .unwrap();
    // The session token expires in 2 s; the stream outlives it while the shop is installed.
    let jwt = session_token(SHOP, "42", 2);
    let mut sse =
        SseReader::open(SseReader::request(&app, SHOP).query(&[("id_token", &jwt)])).await;
    assert!(!sse.ends_within(Duration::from_secs(4)).await);

    sqlx::query("UPDATE shops SET uninstalled_at = now() WHERE domain = $1")
        .bind(SHOP)
        .execute(pg(&app).pool())
        .await
        .unwrap();
    assert!(
        sse.ends_within(RECHECK * 10).await,
        "the stream ends with the install"
    );
}
