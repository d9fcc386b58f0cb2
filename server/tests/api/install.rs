//! Managed install and token exchange (SPEC §10) against the fake Shopify: a shop's first session
//! token installs it (exchanged once, even by two processes at once), its secrets are stored
//! encrypted, its history is backfilled, an expiring token is refreshed, and Shopify's refusal is
//! a bounce.

use std::time::Duration;

use base64::Engine;
use orders_sync::secrets::{Secrets, PREFIX};
use orders_sync::settings::Settings;
use orders_sync::shopify::install::Installer;
use orders_sync::store::{PgStore, Store};
use orders_sync::trust::session::sign_session_token;
use serde_json::{json, Value};

use crate::fake_shopify::{order_node, page, FakeShopify};
use crate::helpers::*;
use crate::trust::no_redirects;

const SECRET: &str = "app-secret";
const API_KEY: &str = "client-id";
const NEW_SHOP: &str = "fresh.myshopify.com";
const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

fn key() -> Secrets {
    Secrets::from_base64(&base64::engine::general_purpose::STANDARD.encode([42u8; 32])).unwrap()
}

fn session_token(shop: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    sign_session_token(
        SECRET,
        &json!({
            "iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"),
            "aud": API_KEY, "sub": "42", "exp": now + 60, "nbf": now - 5, "iat": now - 5,
            "jti": uuid::Uuid::new_v4().to_string(),
        }),
    )
}

fn settings_for(fake: &FakeShopify) -> Settings {
    let mut s = test_settings();
    s.trust.shopify_api_secret = Some(SECRET.into());
    s.trust.shopify_api_key = Some(API_KEY.into());
    s.shopify_api_base_url = fake.base_url.clone();
    s.secrets = key();
    s
}

async fn embedded_app(fake: &FakeShopify, url: &str) -> TestApp {
    let store = PgStore::connect_lazy(url).unwrap().with_secrets(key());
    spawn_configured(Store::Postgres(store), settings_for(fake)).await
}

fn page_url(app: &TestApp, shop: &str, token: &str) -> String {
    format!(
        "{}/orders?shop={shop}&host=YWRtaW4&embedded=1&id_token={token}",
        app.address
    )
}

async fn raw_shop_columns(url: &str, shop: &str) -> (String, Option<String>, Option<String>) {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let row =
        sqlx::query_as("SELECT access_token, refresh_token, scopes FROM shops WHERE domain = $1")
            .bind(shop)
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    row
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_session_token_installs_the_shop_and_backfills_its_history() {
    let fake = FakeShopify::start(&[]).await;
    let at = chrono::Utc::now() - chrono::Duration::days(3);
    fake.answer([page(
        (1..=5).map(|n| order_node(9000 + n, at, at)).collect(),
        false,
        "end",
    )]);
    let url = fresh_database_url().await;
    let app = embedded_app(&fake, &url).await;
    let client = no_redirects();
    let jwt = session_token(NEW_SHOP);

    let started = std::time::Instant::now();
    let r = client
        .get(page_url(&app, NEW_SHOP, &jwt))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Exchanged once, in Shopify's documented shape.
    let exchanges = fake.oauth_requests(EXCHANGE);
    assert_eq!(exchanges.len(), 1);
    let e = &exchanges[0];
    assert_eq!(e["client_id"], API_KEY);
    assert_eq!(e["client_secret"], SECRET);
    assert_eq!(e["subject_token"], jwt.as_str());
    assert_eq!(
        e["subject_token_type"],
        "urn:ietf:params:oauth:token-type:id_token"
    );
    assert_eq!(
        e["requested_token_type"],
        "urn:shopify:params:oauth:token-type:offline-access-token"
    );
    assert_eq!(e["expiring"], "1");

    // Stored encrypted, with the granted scopes.
    let (access, refresh, scopes) = raw_shop_columns(&url, NEW_SHOP).await;
    assert!(
        access.starts_with(PREFIX) && !access.contains("shpat_"),
        "{access}"
    );
    let refresh = refresh.expect("a refresh token");
    assert!(refresh.starts_with(PREFIX) && !refresh.contains("shprt_"));
    assert!(scopes.unwrap().contains("read_orders"));

    // The history arrives in the background, read with the exchanged token.
    let sync = |jwt: String| {
        client
            .get(format!(
                "{}/sync/orders?shop_domain={NEW_SHOP}",
                app.address
            ))
            .bearer_auth(jwt)
            .send()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let body: Value = sync(session_token(NEW_SHOP))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if body["counts"]["all"] == 5 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "backfilled: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "install to first orders: {:.2} s (5 orders)",
        started.elapsed().as_secs_f64()
    );
    assert!(fake.seen().iter().all(|s| s.token == "shpat_fake_1"));

    // Installed: the next session token is not exchanged again.
    let r = client
        .get(page_url(&app, NEW_SHOP, &session_token(NEW_SHOP)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(fake.oauth_requests(EXCHANGE).len(), 1);
}

async fn stored_time_zone(url: &str, shop: &str) -> Option<String> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let zone = sqlx::query_scalar("SELECT iana_timezone FROM shops WHERE domain = $1")
        .bind(shop)
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    zone
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_install_keeps_the_shops_time_zone_and_the_first_page_shows_it() {
    let fake = FakeShopify::start(&[]).await;
    fake.time_zone("Asia/Tokyo");
    let url = fresh_database_url().await;
    let app = embedded_app(&fake, &url).await;
    let r = no_redirects()
        .get(page_url(&app, NEW_SHOP, &session_token(NEW_SHOP)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap();
    assert!(html.contains("Times in Asia/Tokyo"), "{html}");
    assert_eq!(
        stored_time_zone(&url, NEW_SHOP).await.as_deref(),
        Some("Asia/Tokyo")
    );
    // Asked once, with the exchanged token, and apart from the orders' queries.
    assert_eq!(fake.shop_queries(), ["shpat_fake_1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_zone_shopify_cannot_give_never_fails_the_install() {
    let fake = FakeShopify::start(&[]).await;
    fake.time_zone("Mars/Olympus_Mons");
    let url = fresh_database_url().await;
    let app = embedded_app(&fake, &url).await;
    let r = no_redirects()
        .get(page_url(&app, NEW_SHOP, &session_token(NEW_SHOP)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("Times in UTC"));
    assert_eq!(stored_time_zone(&url, NEW_SHOP).await, None);
    assert_eq!(fake.oauth_requests(EXCHANGE).len(), 1);

    // The poller, before its next tick, reads it again; once known it is not asked for again.
    fake.time_zone("Asia/Tokyo");
    let pg = PgStore::connect_lazy(&url).unwrap().with_secrets(key());
    let installer = Installer::from_settings(
        &settings_for(&fake),
        &orders_sync::service::Database::new(pg),
    )
    .unwrap();
    installer.fill_time_zone(NEW_SHOP, "shpat_fake_1").await;
    assert_eq!(
        stored_time_zone(&url, NEW_SHOP).await.as_deref(),
        Some("Asia/Tokyo")
    );
    installer.fill_time_zone(NEW_SHOP, "shpat_fake_1").await;
    assert_eq!(
        fake.shop_queries().len(),
        2,
        "asked at install and once after"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shopify_refusing_the_exchange_is_a_bounce_not_an_error_page() {
    let fake = FakeShopify::start(&[]).await;
    let jwt = session_token(NEW_SHOP);
    fake.oauth(|o| o.refused_subjects.push(jwt.clone()));
    let app = embedded_app(&fake, &fresh_database_url().await).await;
    let client = no_redirects();
    let r = client
        .get(page_url(&app, NEW_SHOP, &jwt))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/auth/session-token?"));
    let r = client
        .get(format!(
            "{}/sync/orders?shop_domain={NEW_SHOP}",
            app.address
        ))
        .bearer_auth(&jwt)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-shopify-retry-invalid-session-request"], "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_never_exchange_one_shop_at_once() {
    let fake = FakeShopify::start(&[]).await;
    fake.oauth(|o| o.delay = Duration::from_millis(300));
    let url = fresh_database_url().await;
    let (a, b) = (
        embedded_app(&fake, &url).await,
        embedded_app(&fake, &url).await,
    );
    let client = no_redirects();
    let (ra, rb) = tokio::join!(
        client
            .get(page_url(&a, NEW_SHOP, &session_token(NEW_SHOP)))
            .send(),
        client
            .get(page_url(&b, NEW_SHOP, &session_token(NEW_SHOP)))
            .send(),
    );
    assert_eq!(ra.unwrap().status(), 200);
    assert_eq!(rb.unwrap().status(), 200);
    assert_eq!(fake.oauth_requests(EXCHANGE).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expiring_token_is_refreshed_before_it_expires_and_the_pair_replaced() {
    let fake = FakeShopify::start(&[]).await;
    // Within the five minutes' margin from the start.
    fake.oauth(|o| o.expires_in = 120);
    let url = fresh_database_url().await;
    let app = embedded_app(&fake, &url).await;
    let r = no_redirects()
        .get(page_url(&app, NEW_SHOP, &session_token(NEW_SHOP)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    let pg = PgStore::connect_lazy(&url).unwrap().with_secrets(key());
    let installer = Installer::from_settings(
        &settings_for(&fake),
        &orders_sync::service::Database::new(pg.clone()),
    )
    .unwrap();
    let token = installer.fresh_token(NEW_SHOP).await.unwrap();
    assert_eq!(token.as_deref(), Some("shpat_fake_2"));
    let refreshes = fake.oauth_requests("refresh_token");
    assert_eq!(refreshes.len(), 1);
    assert_eq!(refreshes[0]["refresh_token"], "shprt_fake_1");
    let state = pg.install_state(NEW_SHOP).await.unwrap().unwrap();
    assert_eq!(state.access_token.as_deref(), Some("shpat_fake_2"));
    assert_eq!(state.refresh_token.as_deref(), Some("shprt_fake_2"));
    // A refresh token is used once: the first one no longer works.
    let r = reqwest::Client::new()
        .post(format!("{}/admin/oauth/access_token", fake.base_url))
        .json(&json!({ "client_id": API_KEY, "client_secret": SECRET,
                       "grant_type": "refresh_token", "refresh_token": "shprt_fake_1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_secrets_are_encrypted_at_the_first_start_with_the_key() {
    let url = fresh_database_url().await;
    let plain = PgStore::connect_lazy(&url).unwrap();
    plain
        .register_shop(SHOP, "whsec-plain", Some("shpat_plain"), chrono::Utc::now())
        .await
        .unwrap();
    let keyed = PgStore::connect_lazy(&url).unwrap().with_secrets(key());
    assert_eq!(keyed.encrypt_plaintext_secrets().await.unwrap(), 2);
    assert_eq!(keyed.encrypt_plaintext_secrets().await.unwrap(), 0, "once");
    let (access, _, _) = raw_shop_columns(&url, SHOP).await;
    assert!(access.starts_with(PREFIX), "{access}");
    assert_eq!(
        keyed.access_token(SHOP).await.unwrap().flatten().as_deref(),
        Some("shpat_plain")
    );
    // Without the key, a sealed secret is an error, never used as the secret.
    assert!(plain.access_token(SHOP).await.is_err());
    // The webhook secret still verifies deliveries.
    let gate = keyed
        .delivery_gate(SHOP, None, chrono::Utc::now())
        .await
        .unwrap();
    assert_eq!(gate.shop.unwrap().secrets, vec!["whsec-plain".to_owned()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_how_far_the_import_came_and_why_it_stopped() {
    let fake = FakeShopify::start(&[]).await;
    let at = chrono::Utc::now() - chrono::Duration::days(3);
    fake.answer([
        page(
            (1..=3).map(|n| order_node(9100 + n, at, at)).collect(),
            true,
            "next",
        ),
        crate::fake_shopify::Answer::Status(500),
        crate::fake_shopify::Answer::Status(500),
        crate::fake_shopify::Answer::Status(500),
        crate::fake_shopify::Answer::Status(500),
    ]);
    let app = embedded_app(&fake, &fresh_database_url().await).await;
    let client = no_redirects();
    let r = client
        .get(page_url(&app, NEW_SHOP, &session_token(NEW_SHOP)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let html = client
            .get(page_url(&app, NEW_SHOP, &session_token(NEW_SHOP)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if html.contains("stopped after 3 orders") {
            assert!(html.contains(r#"data-testid="import-progress""#));
            assert_eq!(html.matches("data-order-id=").count(), 3, "the orders read");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{html}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uninstall_seen_by_one_process_makes_the_next_session_token_of_any_a_reinstall() {
    let fake = FakeShopify::start(&[]).await;
    let url = fresh_database_url().await;
    let (a, b) = (
        embedded_app(&fake, &url).await,
        embedded_app(&fake, &url).await,
    );
    let client = no_redirects();
    let open = |app: &TestApp| {
        client
            .get(page_url(app, NEW_SHOP, &session_token(NEW_SHOP)))
            .send()
    };
    assert_eq!(open(&a).await.unwrap().status(), 200);
    assert_eq!(fake.oauth_requests(EXCHANGE).len(), 1);

    // Shopify tells the other process.
    let shop = json!({ "id": 1, "myshopify_domain": NEW_SHOP }).to_string();
    crate::webhooks::hook("app/uninstalled", shop.as_bytes())
        .shop(NEW_SHOP)
        .signed_with(SECRET)
        .accepted(&b)
        .await;
    crate::lifecycle::jobs_done(&b).await;

    // The first process exchanges the next session token at once: a reinstall.
    assert_eq!(open(&a).await.unwrap().status(), 200);
    assert_eq!(fake.oauth_requests(EXCHANGE).len(), 2);
    let (access, _, _) = raw_shop_columns(&url, NEW_SHOP).await;
    assert!(access.starts_with(PREFIX), "a new offline token is stored");
}
