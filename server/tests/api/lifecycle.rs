//! The app's lifecycle at `POST /webhooks/shopify` (SPEC §10): `app/uninstalled` and
//! `app/scopes_update` carried out by durable jobs, deliveries deduplicated by event id and topic,
//! and the app's client secret verifying deliveries for any shop. Privacy topics: `privacy.rs`.

use std::time::{Duration, Instant};

use chrono::Utc;
use orders_sync::cli::{self, TokenCommand};
use orders_sync::outbox::Backoff;
use orders_sync::service::ReadAt;
use orders_sync::settings::Settings;
use orders_sync::shopify::lifecycle::LifecycleWorker;
use orders_sync::store::postgres::shopify::PollLease;
use orders_sync::store::PgStore;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::webhooks::{hook, pg, registered_app, served, ORDER, SECRET};

/// The app's client secret (`SHOPIFY_API_SECRET`).
pub const APP_SECRET: &str = "the-app-client-secret";
const STRANGER: &str = "stranger.myshopify.com";
const ACCESS_TOKEN: &str = "shpat_static_custom_app_token";

/// The server with the app's client secret configured.
pub async fn app_with_client_secret() -> TestApp {
    spawn_with(Backend::Postgres, |s| {
        s.trust.shopify_api_secret = Some(APP_SECRET.into());
        s.trust.shopify_api_key = Some("client-id".into());
    })
    .await
}

/// Waits until every lifecycle job is done (the worker runs every second in tests).
pub async fn jobs_done(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let pending: i64 =
            sqlx::query_scalar("SELECT count(*) FROM lifecycle_jobs WHERE done_at IS NULL")
                .fetch_one(pg(app).pool())
                .await
                .unwrap();
        if pending == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{pending} lifecycle jobs never finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One number a query answers.
pub async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(pg(app).pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The body of `app/uninstalled`: the Shop resource.
fn shop_resource(shop: &str) -> Vec<u8> {
    json!({ "id": 548380009, "name": "Acme", "email": "owner@acme.example",
            "domain": "shop.acme.example", "myshopify_domain": shop, "plan_name": "basic" })
    .to_string()
    .into_bytes()
}

/// The order of the fixtures as the service reads it (without a credential of the shop), or
/// `None` when it is not stored.
async fn stored(app: &TestApp) -> Option<Value> {
    let id = orders_core::OrderRef::Id(ORDER.into());
    match app.service.get_order(SHOP, &id, ReadAt::Primary).await {
        Ok(order) => Some(serde_json::to_value(order).unwrap()),
        Err(orders_sync::service::ServiceError::NotFound(_)) => None,
        Err(e) => panic!("{e}"),
    }
}

fn compliance(body: Value) -> Vec<u8> {
    body.to_string().into_bytes()
}

async fn sync_with(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(format!("{}/sync/orders", app.address))
        .query(&[("shop_domain", SHOP)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uninstalling_revokes_the_tokens_forgets_the_access_token_and_stops_polling() {
    let app = spawn_app(Backend::Postgres).await;
    let pg = pg(&app).clone();
    pg.register_shop(SHOP, SECRET, Some(ACCESS_TOKEN), Utc::now())
        .await
        .unwrap();
    let mut out = Vec::new();
    let issue = TokenCommand::Issue {
        shop: SHOP.into(),
        label: Some("erp".into()),
    };
    cli::token(
        &orders_sync::service::Tokens::new(pg.clone()),
        issue,
        &mut out,
    )
    .await
    .unwrap();
    let token = String::from_utf8(out).unwrap().trim().to_owned();
    assert_eq!(sync_with(&app, &token).await, 200);
    hook("orders/create", crate::fixture!("orders_create"))
        .accepted(&app)
        .await;
    assert_eq!(pg.shops_to_poll().await.unwrap().len(), 1);

    let uninstall = shop_resource(SHOP);
    let delivery = hook("app/uninstalled", &uninstall).id("uninstall-1");
    let body = delivery.accepted(&app).await;
    assert!(body["message"].as_str().unwrap().contains("job"), "{body}");
    jobs_done(&app).await;
    delivery.accepted(&app).await;

    assert_eq!(sync_with(&app, &token).await, 401, "API tokens are revoked");
    assert_eq!(pg.access_token(SHOP).await.unwrap(), Some(None));
    let state = pg.install_state(SHOP).await.unwrap().unwrap();
    assert!(state.refresh_token.is_none() && state.access_token_expires_at.is_none());
    assert!(state.uninstalled_at.is_some());
    assert!(pg.shops_to_poll().await.unwrap().is_empty(), "not polled");
    assert!(matches!(
        pg.claim_poll(SHOP, chrono::Duration::seconds(30))
            .await
            .unwrap(),
        PollLease::NotPolled
    ));
    // Its data stays until shop/redact; its order deliveries are no longer stored.
    assert!(stored(&app).await.is_some());
    let body = hook("orders/updated", crate::fixture!("orders_updated"))
        .accepted(&app)
        .await;
    assert!(
        body["message"].as_str().unwrap().contains("not stored"),
        "{body}"
    );
    assert_eq!(stored(&app).await.unwrap()["priority"], "high");
    // The redelivery of the uninstall queued nothing more.
    assert_eq!(scalar(&app, "SELECT count(*) FROM lifecycle_jobs").await, 1);

    // `shop add` with a new token reinstalls the custom app: polled again, with that token.
    pg.register_shop(SHOP, SECRET, None, Utc::now())
        .await
        .unwrap();
    assert!(
        pg.shops_to_poll().await.unwrap().is_empty(),
        "a secret alone reinstalls nothing"
    );
    pg.register_shop(SHOP, SECRET, Some("shpat_new"), Utc::now())
        .await
        .unwrap();
    let state = pg.install_state(SHOP).await.unwrap().unwrap();
    assert!(state.uninstalled_at.is_none(), "reinstalled");
    assert_eq!(state.access_token.as_deref(), Some("shpat_new"));
    assert_eq!(pg.shops_to_poll().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scopes_update_stores_the_granted_scopes() {
    let app = registered_app().await;
    let body = compliance(json!({ "id": 1, "previous": ["read_orders"],
        "current": ["read_orders", "write_orders", "read_returns"],
        "updated_at": "2026-10-01T00:00:00.000Z" }));
    hook("app/scopes_update", &body).accepted(&app).await;
    jobs_done(&app).await;
    let scopes: Option<String> = sqlx::query_scalar("SELECT scopes FROM shops WHERE domain = $1")
        .bind(SHOP)
        .fetch_one(pg(&app).pool())
        .await
        .unwrap();
    assert_eq!(
        scopes.as_deref(),
        Some("read_orders,write_orders,read_returns")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_event_applies_once_per_topic_whatever_its_webhook_ids() {
    let app = registered_app().await;
    let first = hook("orders/create", crate::fixture!("orders_create"))
        .event("evt-42")
        .accepted(&app)
        .await;
    assert!(
        first["message"].as_str().unwrap().contains("stored"),
        "{first}"
    );
    // The same event on the same topic from another subscription: a new webhook id, and the
    // unprefixed header spelling.
    let mut again = hook("orders/create", crate::fixture!("orders_create")).event("evt-42");
    again.unprefixed = true;
    let repeat = again.accepted(&app).await;
    assert!(
        repeat["message"]
            .as_str()
            .unwrap()
            .contains("already applied"),
        "{repeat}"
    );
    // The same event under another topic applies.
    hook("orders/paid", crate::fixture!("orders_paid"))
        .event("evt-42")
        .accepted(&app)
        .await;
    assert_eq!(served(&app).await.unwrap()["financialStatus"], "paid");
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM shopify_webhooks WHERE event_id = 'evt-42'"
        )
        .await,
        2
    );

    // Lifecycle topics too: one job for two deliveries of one event.
    let body = compliance(json!({ "shop_domain": SHOP, "data_request": { "id": 7 },
        "customer": { "id": 1, "email": "x@example.com" }, "orders_requested": [] }));
    for _ in 0..2 {
        hook("customers/data_request", &body)
            .event("evt-43")
            .accepted(&app)
            .await;
    }
    assert_eq!(scalar(&app, "SELECT count(*) FROM lifecycle_jobs").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_secret_verifies_any_shop_and_unknown_shops_have_nothing_to_do() {
    let app = app_with_client_secret().await;
    let redact = compliance(json!({ "shop_id": 1, "shop_domain": STRANGER,
        "customer": { "id": 2, "email": "a@example.com", "phone": null }, "orders_to_redact": [5] }));
    let request = compliance(
        json!({ "shop_domain": STRANGER, "data_request": { "id": 3 },
        "customer": { "id": 2, "email": "a@example.com" }, "orders_requested": [5] }),
    );
    let shop_redact = compliance(json!({ "shop_id": 1, "shop_domain": STRANGER }));
    let uninstall = shop_resource(STRANGER);
    for (topic, body) in [
        ("customers/redact", &redact),
        ("customers/data_request", &request),
        ("shop/redact", &shop_redact),
        ("app/uninstalled", &uninstall),
    ] {
        let answer = hook(topic, body)
            .shop(STRANGER)
            .signed_with(APP_SECRET)
            .accepted(&app)
            .await;
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("nothing to do"),
            "{topic}: {answer}"
        );
    }
    // An order of a shop that is not installed: acknowledged, not stored.
    let answer = hook("orders/create", crate::fixture!("orders_create"))
        .shop(STRANGER)
        .signed_with(APP_SECRET)
        .accepted(&app)
        .await;
    assert!(
        answer["message"].as_str().unwrap().contains("not stored"),
        "{answer}"
    );
    assert_eq!(scalar(&app, "SELECT count(*) FROM shops").await, 0);
    assert_eq!(scalar(&app, "SELECT count(*) FROM orders").await, 0);
    // The signature is still checked.
    let (status, _) = hook("customers/redact", &redact)
        .shop(STRANGER)
        .signed_with("not-the-secret")
        .send(&app)
        .await;
    assert_eq!(status, 401);

    // A shop installed through the app has no webhook secret of its own: the client secret signs.
    sqlx::query("INSERT INTO shops (domain, access_token) VALUES ($1, 'token')")
        .bind(SHOP)
        .execute(pg(&app).pool())
        .await
        .unwrap();
    hook("orders/create", crate::fixture!("orders_create"))
        .signed_with(APP_SECRET)
        .accepted(&app)
        .await;
    assert!(stored(&app).await.is_some());
    // A lifecycle body naming another shop than the header is refused.
    let (status, _) = hook("shop/redact", &shop_redact)
        .signed_with(APP_SECRET)
        .send(&app)
        .await;
    assert_eq!(status, 401);
    assert_eq!(scalar(&app, "SELECT count(*) FROM lifecycle_jobs").await, 0);

    // Once the shop is deleted, its deliveries still verify and find nothing to do.
    let ours = compliance(json!({ "shop_domain": SHOP }));
    hook("shop/redact", &ours)
        .signed_with(APP_SECRET)
        .accepted(&app)
        .await;
    jobs_done(&app).await;
    assert_eq!(scalar(&app, "SELECT count(*) FROM shops").await, 0);
    let again = hook("shop/redact", &ours)
        .signed_with(APP_SECRET)
        .accepted(&app)
        .await;
    assert!(
        again["message"].as_str().unwrap().contains("nothing to do"),
        "{again}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_client_secret_an_unregistered_shop_is_refused_whatever_the_topic() {
    let app = spawn_app(Backend::Postgres).await;
    let body = compliance(json!({ "shop_domain": STRANGER }));
    let (status, _) = hook("shop/redact", &body)
        .shop(STRANGER)
        .signed_with(APP_SECRET)
        .send(&app)
        .await;
    assert_eq!(status, 401);
}

/// The server with its lifecycle worker off: jobs are only written.
async fn app_without_worker() -> TestApp {
    let app = spawn_with(Backend::Postgres, |s| s.lifecycle_interval = None).await;
    pg(&app)
        .register_shop(SHOP, SECRET, None, Utc::now())
        .await
        .unwrap();
    app
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_is_written_with_its_delivery_and_runs_when_a_worker_does_even_after_failing() {
    let app = app_without_worker().await;
    let pg: PgStore = pg(&app).clone();
    hook("orders/create", crate::fixture!("orders_create"))
        .accepted(&app)
        .await;
    let redact = compliance(json!({ "shop_domain": SHOP,
        "customer": { "id": 1, "email": "ada.lovelace@example.com" }, "orders_to_redact": [] }));
    hook("customers/redact", &redact).accepted(&app).await;
    // Acknowledged, written, not run: nothing runs jobs in this process.
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM lifecycle_jobs WHERE done_at IS NULL AND payload IS NOT NULL"
        )
        .await,
        1
    );
    assert_eq!(
        served(&app).await.unwrap()["customer"]["name"],
        "Ada Lovelace"
    );

    // A job that cannot run, then one queued behind it.
    let broken: i64 = sqlx::query_scalar(
        "INSERT INTO lifecycle_jobs (shop_id, topic, webhook_id, payload, received_at) \
         SELECT id, 'app/scopes_update', 'w-broken', '{\"job\": \"no_such_job\"}', now() \
         FROM shops WHERE domain = $1 RETURNING id",
    )
    .bind(SHOP)
    .fetch_one(pg.pool())
    .await
    .unwrap();
    let scopes = compliance(json!({ "current": ["read_orders", "write_orders"] }));
    hook("app/scopes_update", &scopes).accepted(&app).await;

    let worker = LifecycleWorker::new(
        app.service.clone(),
        orders_sync::service::Privacy::new(pg.clone()),
    )
    .with_backoff(Backoff {
        base: Duration::from_millis(300),
        cap: Duration::from_millis(300),
    });
    worker.run_due().await.unwrap();
    let order = served(&app).await.unwrap();
    assert_eq!(order["customer"]["name"], "Redacted");
    assert_eq!(order["customer"]["email"], Value::Null);
    let (attempts, later, error, done): (i32, bool, Option<String>, bool) = sqlx::query_as(
        "SELECT attempts, next_attempt_at > now(), last_error, done_at IS NOT NULL \
         FROM lifecycle_jobs WHERE id = $1",
    )
    .bind(broken)
    .fetch_one(pg.pool())
    .await
    .unwrap();
    assert_eq!(
        (attempts, later, done),
        (1, true, false),
        "kept, retried later"
    );
    assert!(error.unwrap().contains("does not read"));
    assert_eq!(
        scalar(
            &app,
            "SELECT count(*) FROM lifecycle_jobs WHERE done_at IS NULL"
        )
        .await,
        2,
        "the scopes update waits behind the failing job of its shop"
    );

    // Repaired, the failed job runs at its next attempt, then the one behind it, under the
    // supervised worker.
    sqlx::query(
        "UPDATE lifecycle_jobs SET payload = '{\"job\": \"update_scopes\", \"scopes\": \"read_orders\"}' \
         WHERE id = $1",
    )
    .bind(broken)
    .execute(pg.pool())
    .await
    .unwrap();
    let settings = Settings {
        lifecycle_interval: Some(Duration::from_millis(100)),
        ..test_settings()
    };
    tokio::spawn(orders_sync::workers::lifecycle::run_forever(
        app.service.clone(),
        orders_sync::service::Privacy::new(pg.clone()),
        settings,
    ));
    jobs_done(&app).await;
    let scopes: String = sqlx::query_scalar("SELECT scopes FROM shops WHERE domain = $1")
        .bind(SHOP)
        .fetch_one(pg.pool())
        .await
        .unwrap();
    assert_eq!(
        scopes, "read_orders,write_orders",
        "jobs of a shop run in order"
    );
    assert_eq!(
        scalar(&app, "SELECT count(*) FROM lifecycle_jobs WHERE payload IS NOT NULL OR last_error IS NOT NULL").await,
        0,
        "done jobs keep nothing"
    );
}
