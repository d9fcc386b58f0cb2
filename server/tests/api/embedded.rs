//! The embedded app's doors (SPEC §10, §11): Shopify's session token on every request, the bounce,
//! App Bridge in the page, and the one access rule at every door the open dashboard once reached.

use orders_sync::settings::Settings;
use orders_sync::trust::session::sign_session_token;
use serde_json::{json, Value};

use crate::fake_shopify::FakeShopify;
use crate::helpers::*;
use crate::trust::{cookie_of, issue, no_redirects, post_write_path, urlencode};

pub const SECRET: &str = "app-secret";
pub const API_KEY: &str = "client-id";
const APP_BRIDGE: &str = "https://cdn.example.test/app-bridge.js";
const RETRY: &str = "x-shopify-retry-invalid-session-request";

pub fn session_token(shop: &str, staff: &str, exp_in: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    sign_session_token(
        SECRET,
        &json!({
            "iss": format!("https://{shop}/admin"), "dest": format!("https://{shop}"),
            "aud": API_KEY, "sub": staff, "exp": now + exp_in, "nbf": now - 5, "iat": now - 5,
        }),
    )
}

/// The server with the app's secret, installing shops through a fake Shopify (kept alive by the
/// caller).
async fn embedded_app() -> (TestApp, FakeShopify) {
    let shopify = FakeShopify::start(&[]).await;
    let base_url = shopify.base_url.clone();
    let app = spawn_with(Backend::Postgres, move |s: &mut Settings| {
        s.trust.shopify_api_secret = Some(SECRET.into());
        s.trust.shopify_api_key = Some(API_KEY.into());
        s.trust.app_bridge_url = APP_BRIDGE.into();
        s.shopify_api_base_url = base_url;
    })
    .await;
    (app, shopify)
}

fn load_orders_path() -> &'static str {
    use leptos::server_fn::ServerFn;
    app::orders::LoadOrders::PATH
}

/// What a door answered: the status, the retry header and the body.
struct Answer {
    status: u16,
    retry: bool,
    body: String,
}

async fn answer(r: reqwest::RequestBuilder) -> Answer {
    let r = r.send().await.unwrap();
    Answer {
        status: r.status().as_u16(),
        retry: r.headers().get(RETRY).is_some_and(|v| v == "1"),
        body: r.text().await.unwrap(),
    }
}

/// The six doors the open dashboard reached, each asked for `shop` as `auth` allows: the page, both
/// server functions, the export, the stream and a `/sync` read.
async fn doors(
    app: &TestApp,
    client: &reqwest::Client,
    shop: &str,
    order: &str,
    auth: &dyn Fn(reqwest::RequestBuilder, bool) -> reqwest::RequestBuilder,
) -> Vec<(&'static str, Answer)> {
    let base = &app.address;
    let page = client.get(format!("{base}/orders?shop={shop}"));
    let load = client
        .post(format!("{base}{}", load_orders_path()))
        .json(&json!({ "shop": shop, "query": [] }));
    let write = client
        .post(format!("{base}{}", post_write_path()))
        .json(&json!({ "write": "Assign", "body": { "orderIds": [order], "assignee": "mallory", "shop_domain": shop } }));
    let export = client.get(format!("{base}/orders/export.csv?shop={shop}"));
    let stream = client
        .get(format!("{base}/sync/orders/alerts?shop_domain={shop}"))
        .header("accept", "text/event-stream");
    let read = client
        .get(format!("{base}/sync/orders?shop_domain={shop}"))
        .header("accept", "application/json");
    let mut out = Vec::new();
    for (name, req, query_token) in [
        ("page", page, true),
        ("load_orders", load, false),
        ("post_write", write, false),
        ("export", export, true),
        ("stream", stream, true),
        ("sync read", read, false),
    ] {
        let req = auth(req, query_token).timeout(std::time::Duration::from_secs(10));
        // A stream that opens would never end: its status is all that is read.
        let a = if name == "stream" {
            let r = req.send().await.unwrap();
            Answer {
                status: r.status().as_u16(),
                retry: r.headers().get(RETRY).is_some(),
                body: String::new(),
            }
        } else {
            answer(req).await
        };
        out.push((name, a));
    }
    out
}

/// A server function's answer is a 200 whose body may still carry a refusal: Sync's status
/// (`post_write` answers `{"Ok": [message, thread]}` or `{"Err": [status, message]}`).
fn refused(name: &str, a: &Answer) -> Option<u16> {
    if a.status != 200 {
        return Some(a.status);
    }
    if name == "post_write" {
        let v: Value = serde_json::from_str(&a.body).unwrap();
        return v["Err"][0].as_u64().map(|status| status as u16);
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_tokens_open_their_own_shop_at_every_door_and_no_other() {
    let (app, _shopify) = embedded_app().await;
    seed_two_shops(&app).await;
    let client = no_redirects();

    // Without a credential, every door is shut (the page bounces; the rest are 401s that tell App
    // Bridge to retry with a fresh token).
    let none = doors(&app, &client, SHOP, "5001", &|r, _| r).await;
    for (name, a) in &none {
        match *name {
            "page" => assert_eq!(a.status, 302, "{name}"),
            "sync read" | "stream" => assert_eq!(a.status, 401, "{name}"),
            _ => {
                assert_eq!(a.status, 401, "{name}: {}", a.body);
                assert!(a.retry, "{name}");
            }
        }
    }
    // With the other shop's session token: 403 everywhere, the bounce aside.
    let other = session_token(OTHER_SHOP, "7", 60);
    let others = doors(&app, &client, SHOP, "5001", &|r, in_query| {
        if in_query {
            r.query(&[("id_token", other.as_str())])
        } else {
            r.bearer_auth(&other)
        }
    })
    .await;
    for (name, a) in &others {
        assert_eq!(refused(name, a), Some(403), "{name}: {}", a.body);
    }
    // An expired token: 401 with the retry header, never a page.
    let expired = session_token(SHOP, "42", -60);
    let stale = doors(&app, &client, SHOP, "5001", &|r, in_query| {
        if in_query {
            r.query(&[("id_token", expired.as_str())])
        } else {
            r.bearer_auth(&expired)
        }
    })
    .await;
    for (name, a) in &stale {
        if *name == "page" {
            // `shop` is named: the bounce, for a fresh token.
            assert_eq!(a.status, 302, "{name}");
        } else {
            assert_eq!(a.status, 401, "{name}: {}", a.body);
            assert!(a.retry, "{name}");
        }
    }
    assert_eq!(assignee(&app, SHOP, 5001).await, Value::Null);

    // The shop's own token opens every door.
    let own = session_token(SHOP, "42", 60);
    let opened = doors(&app, &client, SHOP, "5001", &|r, in_query| {
        if in_query {
            r.query(&[("id_token", own.as_str())])
        } else {
            r.bearer_auth(&own)
        }
    })
    .await;
    for (name, a) in &opened {
        assert_eq!(refused(name, a), None, "{name}: {}", a.body);
    }
    assert_eq!(assignee(&app, SHOP, 5001).await, "mallory");
    let csv = &opened.iter().find(|(n, _)| *n == "export").unwrap().1.body;
    assert_eq!(
        csv.lines().count(),
        3,
        "the header and the shop's two orders: {csv}"
    );
}

/// Who order `n` of `shop` is assigned to, read through `/sync` with an API token of the shop.
async fn assignee(app: &TestApp, shop: &str, n: u64) -> Value {
    let token = issue(app, shop).await;
    let r = app
        .client
        .get(format!(
            "{}/sync/orders/{}",
            app.address,
            urlencode(&gid(n))
        ))
        .query(&[("shop_domain", shop)])
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["assignedTo"].clone()
}

/// Assigns order `n` of `shop` through `/sync` with an API token of the shop.
async fn assign(app: &TestApp, shop: &str, n: u64, who: &str) {
    let token = issue(app, shop).await;
    let r = app
        .client
        .post(format!("{}/sync/orders/assign", app.address))
        .bearer_auth(token)
        .json(&json!({ "orderIds": [n.to_string()], "assignee": who, "shop_domain": shop }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn seed_two_shops(app: &TestApp) {
    app.seed(SHOP, vec![order(5001).build(), order(5002).build()])
        .await;
    app.seed(OTHER_SHOP, vec![order(7001).build()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_load_takes_the_token_from_its_url_and_bounces_without_one() {
    let (app, _shopify) = embedded_app().await;
    seed_two_shops(&app).await;
    assign(&app, SHOP, 5001, "42").await;
    let client = no_redirects();
    let get = |path: String| client.get(format!("{}{path}", app.address)).send();

    // Outside the admin: a page saying where to open the app; no development sign-in.
    let r = get("/orders".into()).await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("Shopify admin"));
    assert_eq!(get("/auth/dev".into()).await.unwrap().status(), 404);

    // Inside it without a token: the bounce, to the same URL without id_token.
    let admin = format!("shop={SHOP}&host=YWRtaW4&embedded=1");
    let forged = session_token(SHOP, "42", 60).replace('.', ".x");
    let r = get(format!("/orders?{admin}&tab=all&id_token={forged}"))
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/auth/session-token?"), "{location}");
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
            .into_owned()
            .collect();
    let value = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(value("shop").as_deref(), Some(SHOP));
    assert_eq!(value("host").as_deref(), Some("YWRtaW4"));
    assert_eq!(value("id_token"), None);
    let reload = value("shopify-reload").unwrap();
    assert!(reload.starts_with("/orders?"), "{reload}");
    assert!(
        reload.contains("tab=all") && !reload.contains("id_token"),
        "{reload}"
    );

    // The bounce page is App Bridge alone, allowed by its CSP.
    let r = get(location.clone()).await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("https://cdn.example.test"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(html.contains(&format!(
        r#"<meta name="shopify-api-key" content="{API_KEY}"><script src="{APP_BRIDGE}"></script>"#
    )));

    // Coming back from the bounce still without a valid token: an error page, not a loop.
    let r = get(format!("{reload}&id_token={forged}")).await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("refused again"));

    // A valid token: the page at once (no redirect, no cookie), for its shop and staff member.
    let jwt = session_token(SHOP, "42", 60);
    let r = get(format!("/orders?{admin}&assigned_to=mine&id_token={jwt}"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("set-cookie").is_none());
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!(
            "frame-ancestors https://{SHOP} https://admin.shopify.com"
        )),
        "{csp}"
    );
    assert!(csp.contains("script-src 'self' 'nonce-"), "{csp}");
    assert!(csp.contains("https://cdn.example.test"), "{csp}");
    let html = r.text().await.unwrap();
    // App Bridge is the first script of the head, plain (not async, deferred or a module).
    let first_script = html.split("<script").nth(1).unwrap();
    assert!(
        first_script.starts_with(&format!(r#" src="{APP_BRIDGE}""#)),
        "{first_script}"
    );
    let tag = first_script.split('>').next().unwrap();
    for word in ["async", "defer", "module"] {
        assert!(!tag.contains(word), "{tag}");
    }
    assert!(html.contains(&format!(
        r#"<meta name="shopify-api-key" content="{API_KEY}">"#
    )));
    // "mine": staff member 42's order only.
    assert_eq!(html.matches("data-order-id=").count(), 1, "{html}");
    assert!(html.contains(&format!("data-order-id=\"{}\"", gid(5001))));
    // Its links keep the admin's parameters.
    assert!(html.contains("host=YWRtaW4"));

    // Another shop's page with this shop's token: 403.
    let r = get(format!(
        "/orders?shop={OTHER_SHOP}&host=YWRtaW4&embedded=1&id_token={jwt}"
    ))
    .await
    .unwrap();
    assert_eq!(r.status(), 403);
    assert!(!r.text().await.unwrap().contains(&gid(7001)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_closes_sync_to_anyone_without_a_credential_of_the_shop() {
    let (app, _shopify) = embedded_app().await;
    seed_two_shops(&app).await;
    let client = no_redirects();
    let sync = |shop: &str| {
        client
            .get(format!("{}/sync/orders", app.address))
            .query(&[("shop_domain", shop)])
    };
    // No token was ever issued, yet the secret implies SYNC_API_AUTH=required.
    assert_eq!(answer(sync(SHOP)).await.status, 401);
    let api = issue(&app, SHOP).await;
    assert_eq!(answer(sync(SHOP).bearer_auth(&api)).await.status, 200);
    assert_eq!(answer(sync(OTHER_SHOP).bearer_auth(&api)).await.status, 403);
    // An API token does not open the dashboard.
    let r = client
        .post(format!("{}{}", app.address, post_write_path()))
        .bearer_auth(&api)
        .json(&json!({ "write": "Assign", "body": { "orderIds": ["5001"], "assignee": "x", "shop_domain": SHOP } }))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["Err"][0], 401, "{v}");
    // The session token writes through /sync for its own shop.
    let own = session_token(SHOP, "42", 60);
    let r = client
        .post(format!("{}/sync/orders/assign", app.address))
        .bearer_auth(&own)
        .json(&json!({ "orderIds": ["5002"], "assignee": "kim", "shop_domain": SHOP }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(assignee(&app, SHOP, 5002).await, "kim");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_that_needs_a_token_is_opened_neither_by_a_development_session_nor_anonymously() {
    // Development: no secret. SHOP has an API token, OTHER_SHOP has none.
    let app = spawn_app(Backend::Postgres).await;
    seed_two_shops(&app).await;
    let _ = issue(&app, SHOP).await;
    let client = no_redirects();
    let r = client
        .post(format!("{}/auth/dev", app.address))
        .form(&[("shop", SHOP), ("staff", "sam")])
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&r);
    let mut tried = 0;
    for (who, with_cookie) in [("anonymous", false), ("development session", true)] {
        let answers = doors(&app, &client, SHOP, "5001", &|r, _| {
            if with_cookie {
                r.header("cookie", cookie.clone())
            } else {
                r
            }
        })
        .await;
        for (name, a) in &answers {
            assert_eq!(refused(name, a), Some(401), "{who} at {name}: {}", a.body);
            assert!(!a.body.contains(&gid(5001)), "{who} at {name}");
            tried += 1;
        }
    }
    assert_eq!(tried, 12);
    assert_eq!(assignee(&app, SHOP, 5001).await, Value::Null);
    // A shop that has no token stays open in development, to anyone.
    for (name, a) in doors(&app, &client, OTHER_SHOP, "7001", &|r, _| r).await {
        assert_eq!(refused(name, &a), None, "{name}: {}", a.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_mode_takes_no_development_session_at_sync() {
    let app = spawn_with(Backend::Postgres, |s| s.trust.tokens_required = true).await;
    seed_two_shops(&app).await;
    let client = no_redirects();
    let r = client
        .post(format!("{}/auth/dev", app.address))
        .form(&[("shop", SHOP), ("staff", "sam")])
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&r);
    let r = client
        .get(format!("{}/sync/orders?shop_domain={SHOP}", app.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_secret_only_a_loopback_address_or_an_api_only_deployment_is_served() {
    let service_for = |settings: &Settings| {
        orders_sync::service::Service::new(
            orders_sync::store::Store::Memory(Default::default()),
            None,
            "demo.myshopify.com".into(),
            settings.thresholds(),
        )
    };
    let mut open = test_settings();
    open.site_addr = "0.0.0.0:0".parse().unwrap();
    let refused =
        orders_sync::startup::Application::build(&open, service_for(&open), leptos_options())
            .await
            .err()
            .expect("a dashboard without sign-in on every interface is refused");
    assert!(
        refused.to_string().contains("SHOPIFY_API_SECRET"),
        "{refused}"
    );

    // API-only: /sync with tokens and the webhooks; no dashboard, no development sign-in.
    let mut api_only = open.clone();
    api_only.trust.tokens_required = true;
    let app = orders_sync::startup::Application::build(
        &api_only,
        service_for(&api_only),
        leptos_options(),
    )
    .await
    .expect("an API-only deployment starts");
    let port = app.local_addr().port();
    tokio::spawn(app.run_until(std::future::pending()));
    let base = format!("http://127.0.0.1:{port}");
    let client = no_redirects();
    for path in [
        format!("/orders?shop={SHOP}"),
        "/auth/dev".into(),
        format!("/orders/export.csv?shop={SHOP}"),
    ] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = client
        .get(format!("{base}/sync/orders?shop_domain={SHOP}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
