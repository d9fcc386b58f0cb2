//! Trust: bearer tokens and shop isolation, idempotency keys, rate limits, security headers, the
//! dashboard's sign-in and CSRF protection.

use std::time::Duration;

use orders_sync::store::{PgStore, Store};
use serde_json::{json, Value};

use crate::contract;
use crate::helpers::*;

fn pg(app: &TestApp) -> &PgStore {
    match &app.store {
        Store::Postgres(pg) => pg,
        Store::Memory(_) => panic!("this test needs PostgreSQL"),
    }
}

/// The server's own tokens service (its cache is the one its requests ask).
fn tokens(app: &TestApp) -> &orders_sync::service::Tokens {
    app.service.database().expect("PostgreSQL").tokens()
}

/// Issues a token for `shop` through the CLI's own code; answers the printed token.
pub async fn issue(app: &TestApp, shop: &str) -> String {
    let mut out = Vec::new();
    orders_sync::cli::token(
        tokens(app),
        orders_sync::cli::TokenCommand::Issue {
            shop: shop.into(),
            label: Some("test".into()),
        },
        &mut out,
    )
    .await
    .expect("token issue");
    String::from_utf8(out).unwrap().trim().to_owned()
}

async fn token_list(app: &TestApp) -> String {
    let mut out = Vec::new();
    orders_sync::cli::token(
        tokens(app),
        orders_sync::cli::TokenCommand::List { shop: None },
        &mut out,
    )
    .await
    .unwrap();
    String::from_utf8(out).unwrap()
}

async fn get_as(app: &TestApp, token: Option<&str>, path: &str, shop: &str) -> Reply {
    let mut req = app
        .client
        .get(format!("{}{path}", app.address))
        .query(&[("shop_domain", shop)])
        .header("accept", "application/json");
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    reply(req.send().await.unwrap()).await
}

async fn post_as(
    app: &TestApp,
    token: Option<&str>,
    key: Option<&str>,
    path: &str,
    body: &Value,
) -> Reply {
    let mut req = app
        .client
        .post(format!("{}/sync/orders/{path}", app.address))
        .json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    reply(req.send().await.unwrap()).await
}

async fn reply(r: reqwest::Response) -> Reply {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        headers,
    }
}

async fn two_shops(app: &TestApp) {
    app.seed(SHOP, vec![order(5001).build(), order(5002).build()])
        .await;
    app.seed(OTHER_SHOP, vec![order(7001).build()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_opens_its_own_shop_and_no_other() {
    let app = spawn_app(Backend::Postgres).await;
    two_shops(&app).await;
    // No token issued yet: the shop is open (a development set-up).
    get_as(&app, None, "/sync/orders", SHOP).await.assert_ok();

    let token = issue(&app, SHOP).await;
    assert!(token.starts_with("oss_"), "{token}");
    let other = issue(&app, OTHER_SHOP).await;

    // From now on the shop needs a token, on every /sync endpoint.
    for path in ["/sync/orders", "/sync/orders/alerts", "/sync/outbox"] {
        let r = get_as(&app, None, path, SHOP).await;
        r.assert_failure(401, &["bearer token"]);
        assert!(r.headers.contains_key("www-authenticate"));
        get_as(&app, Some(&token), path, SHOP).await.assert_ok();
        get_as(&app, Some(&token), path, OTHER_SHOP)
            .await
            .assert_failure(403, &["not for other.myshopify.com"]);
    }
    let one = format!("/sync/orders/{}", urlencode(&gid(7001)));
    get_as(&app, Some(&token), &one, OTHER_SHOP)
        .await
        .assert_failure(403, &[]);
    get_as(&app, Some(&other), &one, OTHER_SHOP)
        .await
        .assert_ok();

    // Writes: the body's shop must be the token's.
    let body = json!({ "orderIds": [gid(7001)], "assignee": "eve", "shop_domain": OTHER_SHOP });
    post_as(&app, Some(&token), None, "assign", &body)
        .await
        .assert_failure(403, &[]);
    post_as(&app, None, None, "assign", &body)
        .await
        .assert_failure(401, &[]);
    assert_eq!(
        app.order_of(OTHER_SHOP, 7001).await["assignedTo"],
        Value::Null
    );
    post_as(&app, Some(&other), None, "assign", &body)
        .await
        .assert_ok();

    // A bad token is a 401 whatever the shop, even an open one.
    for bad in ["oss_nope", "", "x y z"] {
        get_as(&app, Some(bad), "/sync/orders", SHOP)
            .await
            .assert_failure(401, &[]);
    }
    let r = app
        .client
        .get(format!("{}/sync/orders?shop_domain={SHOP}", app.address))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Revoked: it stops at once, and the shop stays closed.
    let listing = token_list(&app).await;
    assert!(!listing.contains(&token), "token list never prints a token");
    let id: i64 = listing
        .lines()
        .find(|l| l.contains(SHOP))
        .and_then(|l| l.split('\t').next())
        .unwrap()
        .parse()
        .unwrap();
    let mut out = Vec::new();
    orders_sync::cli::token(
        tokens(&app),
        orders_sync::cli::TokenCommand::Revoke { id },
        &mut out,
    )
    .await
    .unwrap();
    get_as(&app, Some(&token), "/sync/orders", SHOP)
        .await
        .assert_failure(401, &["revoked"]);
    get_as(&app, None, "/sync/orders", SHOP)
        .await
        .assert_failure(401, &[]);
    assert!(token_list(&app).await.contains("revoked"));
}

/// How long another process takes to hear of a token's change: polls `ask` until it answers
/// `status`, for at most a second.
async fn heard_within(ask: impl AsyncFn() -> u16, status: u16) -> Duration {
    let started = std::time::Instant::now();
    loop {
        if ask().await == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "still not {status} after a second"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Each process keeps its token answers, and a change made through another process clears them:
/// a new token closes the shop, and a revoked token stops, in every process, within the
/// notification's delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_change_through_one_process_reaches_the_others() {
    let here = spawn_app(Backend::Postgres).await;
    let there = spawn_on(here.store.clone()).await;
    two_shops(&here).await;
    let status = |app: &TestApp, token: Option<&str>| {
        let (app, token) = (app.address.clone(), token.map(str::to_owned));
        async move {
            let mut req = reqwest::Client::new()
                .get(format!("{app}/sync/orders"))
                .query(&[("shop_domain", SHOP)]);
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            req.send().await.unwrap().status().as_u16()
        }
    };
    // `there` learns that the shop is open, twice (the second answer is its own).
    assert_eq!(status(&there, None).await, 200);
    assert_eq!(status(&there, None).await, 200);

    let token = issue(&here, SHOP).await;
    let took = heard_within(async || status(&there, None).await, 401).await;
    eprintln!("a new token closed the shop in the other process within {took:?}");
    assert_eq!(status(&there, Some(&token)).await, 200);
    assert_eq!(status(&there, Some(&token)).await, 200);

    let id = pg(&here).tokens(Some(SHOP)).await.unwrap()[0].id;
    let mut out = Vec::new();
    orders_sync::cli::token(
        tokens(&here),
        orders_sync::cli::TokenCommand::Revoke { id },
        &mut out,
    )
    .await
    .unwrap();
    // In the process that revoked it, at once.
    assert_eq!(status(&here, Some(&token)).await, 401);
    let took = heard_within(async || status(&there, Some(&token)).await, 401).await;
    eprintln!("a revocation reached the other process within {took:?}");
}

/// A token's use is written at most once a minute, however often it is presented.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_used_is_written_at_most_once_a_minute() {
    let app = spawn_app(Backend::Postgres).await;
    two_shops(&app).await;
    let token = issue(&app, SHOP).await;
    get_as(&app, Some(&token), "/sync/orders", SHOP)
        .await
        .assert_ok();
    let first = pg(&app).tokens(Some(SHOP)).await.unwrap()[0].last_used_at;
    assert!(first.is_some(), "the first use is noted");
    for _ in 0..3 {
        get_as(&app, Some(&token), "/sync/orders", SHOP)
            .await
            .assert_ok();
    }
    assert_eq!(
        pg(&app).tokens(Some(SHOP)).await.unwrap()[0].last_used_at,
        first
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_reaches_another_shops_data() {
    // Every read and write endpoint, with each shop's token, asked about the other shop: never a
    // 2xx, never a row of the other shop in a body.
    let app = spawn_app(Backend::Postgres).await;
    two_shops(&app).await;
    let tokens = [
        (SHOP, issue(&app, SHOP).await, OTHER_SHOP, gid(7001)),
        (OTHER_SHOP, issue(&app, OTHER_SHOP).await, SHOP, gid(5001)),
    ];
    let mut tried = 0;
    for (_, token, victim, victim_order) in &tokens {
        let one = format!("/sync/orders/{}", urlencode(victim_order));
        for path in [
            "/sync/orders",
            one.as_str(),
            "/sync/orders/alerts",
            "/sync/outbox",
        ] {
            let r = get_as(&app, Some(token), path, victim).await;
            assert_eq!(r.status, 403, "{path}: {}", r.body);
            assert!(!r.body.to_string().contains(victim_order.as_str()));
            tried += 1;
        }
        let writes = [
            (
                "assign",
                json!({ "orderIds": [victim_order], "assignee": "x", "shop_domain": victim }),
            ),
            (
                "fulfill",
                json!({ "orderIds": [victim_order], "shop_domain": victim }),
            ),
            (
                "support",
                json!({ "orderId": victim_order, "note": "n", "shop_domain": victim }),
            ),
            (
                "returns",
                json!({ "orderId": victim_order, "action": "approve_refund", "shop_domain": victim }),
            ),
        ];
        for (path, body) in writes {
            let r = post_as(&app, Some(token), None, path, &body).await;
            assert_eq!(r.status, 403, "{path}: {}", r.body);
            tried += 1;
        }
    }
    assert_eq!(tried, 16);
    for (shop, n) in [(SHOP, 5001), (OTHER_SHOP, 7001)] {
        let o = app.order_of(shop, n).await;
        assert_eq!(o["assignedTo"], Value::Null);
        assert_eq!(o["fulfillmentStatus"], "unfulfilled");
        assert_eq!(o["supportThread"], Value::Null);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_can_be_required_for_every_shop() {
    let app = spawn_with(Backend::Postgres, |s| s.trust.tokens_required = true).await;
    two_shops(&app).await;
    get_as(&app, None, "/sync/orders", SHOP)
        .await
        .assert_failure(401, &["bearer token"]);
    let token = issue(&app, SHOP).await;
    get_as(&app, Some(&token), "/sync/orders", SHOP)
        .await
        .assert_ok();
    // Health checks stay open for the load balancer.
    let r = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_gets_429_with_retry_after() {
    let app = spawn_with(Backend::Postgres, |s| s.trust.rate_limit = Some(2)).await;
    two_shops(&app).await;
    let token = issue(&app, SHOP).await;
    let other = issue(&app, OTHER_SHOP).await;
    // At once, so that the bucket barely refills meanwhile (it does at 2 a second).
    let started = std::time::Instant::now();
    let statuses =
        futures::future::join_all((0..8).map(|_| get_as(&app, Some(&token), "/sync/orders", SHOP)))
            .await;
    let refilled = (started.elapsed().as_secs_f64() * 2.0).floor() as usize;
    let ok = statuses.iter().filter(|r| r.status == 200).count();
    assert!(
        (4..=4 + refilled).contains(&ok),
        "a burst of twice the rate: {ok} of 8 answered, {refilled} refilled meanwhile"
    );
    let refused = statuses.iter().find(|r| r.status == 429).unwrap();
    refused.assert_failure(429, &["too many requests"]);
    let wait: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    // Another token has its own budget.
    get_as(&app, Some(&other), "/sync/orders", OTHER_SHOP)
        .await
        .assert_ok();
    tokio::time::sleep(Duration::from_millis(600)).await;
    get_as(&app, Some(&token), "/sync/orders", SHOP)
        .await
        .assert_ok();
}

async fn a_retry_with_the_same_key_replays_the_first_answer(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build(), order(5002).build()])
        .await;
    let body = json!({ "orderIds": ["5001"], "assignee": "sam", "shop_domain": SHOP });
    let first = post_as(&app, None, Some("k-1"), "assign", &body).await;
    first.assert_ok();
    assert!(!first.headers.contains_key("idempotent-replayed"));
    // Someone else reassigns; the retry must not undo it.
    app.assign(&["5001"], Some("kim")).await.assert_ok();
    let same_body_other_spelling: Value = serde_json::from_str(&format!(
        r#"{{"shop_domain":"{SHOP}","assignee":"sam","orderIds":["5001"]}}"#
    ))
    .unwrap();
    let retry = post_as(&app, None, Some("k-1"), "assign", &same_body_other_spelling).await;
    assert_eq!(retry.body, first.body);
    assert_eq!(retry.headers["idempotent-replayed"], "true");
    assert_eq!(app.order(&gid(5001)).await["assignedTo"], "kim");
    assert_eq!(
        app.history(&gid(5001))
            .await
            .iter()
            .filter(|e| e.event == "assignment.changed")
            .count(),
        2,
        "sam, then kim: the retry added nothing"
    );

    // The same key with another body is refused and changes nothing.
    let other = json!({ "orderIds": ["5002"], "assignee": "sam", "shop_domain": SHOP });
    post_as(&app, None, Some("k-1"), "assign", &other)
        .await
        .assert_failure(422, &["Idempotency-Key", "different request"]);
    // … as is the same key on another endpoint.
    post_as(
        &app,
        None,
        Some("k-1"),
        "fulfill",
        &json!({ "orderIds": ["5001"], "shop_domain": SHOP }),
    )
    .await
    .assert_failure(422, &[]);
    assert_eq!(app.order(&gid(5002)).await["assignedTo"], Value::Null);

    // A key that is not printable ASCII, or too long, is a 400.
    let long = "k".repeat(256);
    post_as(&app, None, Some(&long), "assign", &body)
        .await
        .assert_failure(400, &["Idempotency-Key"]);

    // A failed write keeps no key: fixed and sent again with it, it applies.
    let missing = json!({ "orderIds": ["9999"], "assignee": "sam", "shop_domain": SHOP });
    post_as(&app, None, Some("k-2"), "assign", &missing)
        .await
        .assert_failure(404, &[]);
    post_as(&app, None, Some("k-2"), "assign", &missing)
        .await
        .assert_failure(404, &[]);
}

async fn concurrent_requests_with_one_key_apply_once(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    let body = json!({ "orderId": "5001", "note": "customer called", "shop_domain": SHOP });
    let replies = futures::future::join_all(
        (0..8).map(|_| post_as(&app, None, Some("same-key"), "support", &body)),
    )
    .await;
    for r in &replies {
        r.assert_ok();
        assert_eq!(r.body, replies[0].body, "every copy gets the one answer");
    }
    let applied = replies
        .iter()
        .filter(|r| !r.headers.contains_key("idempotent-replayed"))
        .count();
    assert_eq!(applied, 1);
    let escalations = app
        .history(&gid(5001))
        .await
        .iter()
        .filter(|e| e.event == "support.escalated")
        .count();
    assert_eq!(escalations, 1);
    let queued = app
        .store
        .outbox(SHOP)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.topic == "support.escalation")
        .count();
    assert_eq!(queued, 1);
}

contract!(
    a_retry_with_the_same_key_replays_the_first_answer,
    concurrent_requests_with_one_key_apply_once,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_carry_security_headers() {
    let app = spawn_app(Backend::Postgres).await;
    two_shops(&app).await;
    let r = get_as(&app, None, "/sync/orders", SHOP).await;
    assert_eq!(r.headers["x-content-type-options"], "nosniff");
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");

    let page = app
        .client
        .get(format!("{}/orders?shop={SHOP}", app.address))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(csp.contains("'wasm-unsafe-eval'"), "{csp}");
    // Framed by the admin and by the page's own shop only: no wildcard.
    assert!(
        csp.contains(&format!(
            "frame-ancestors https://{SHOP} https://admin.shopify.com"
        )),
        "{csp}"
    );
    assert!(!csp.contains('*'), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    // Every inline script of the page carries the header's nonce.
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "{html}"
    );
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `name=value` of a `Set-Cookie`.
pub fn cookie_of(r: &reqwest::Response) -> String {
    r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_from_another_site_are_refused() {
    let app = spawn_app(Backend::Postgres).await;
    two_shops(&app).await;
    let client = no_redirects();
    // The development sign-in, from this site.
    let r = client
        .post(format!("{}/auth/dev", app.address))
        .header("origin", app.address.clone())
        .form(&[("shop", SHOP), ("staff", "sam")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = cookie_of(&r);
    // … and from another: refused.
    let r = client
        .post(format!("{}/auth/dev", app.address))
        .header("origin", "https://evil.example")
        .form(&[("shop", SHOP), ("staff", "mallory")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A dashboard write (a server function) sent by another site with the victim's cookie.
    let write = json!({ "write": "Assign", "body": { "orderIds": ["5001"], "assignee": "mallory", "shop_domain": SHOP } });
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let r = client
            .post(format!("{}{}", app.address, post_write_path()))
            .header("cookie", cookie.clone())
            .header(header, value)
            .json(&write)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{header}: {value}");
    }
    assert_eq!(app.order(&gid(5001)).await["assignedTo"], Value::Null);
    // The same from the dashboard itself goes through.
    let r = client
        .post(format!("{}{}", app.address, post_write_path()))
        .header("cookie", cookie.clone())
        .header("origin", app.address.clone())
        .header("sec-fetch-site", "same-origin")
        .json(&write)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    assert_eq!(app.order(&gid(5001)).await["assignedTo"], "mallory");
}

/// Where the dashboard's write server function is served.
pub fn post_write_path() -> &'static str {
    use leptos::server_fn::ServerFn;
    app::sync::PostWrite::PATH
}

pub fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn hostile_bodies_and_headers_are_refused_cleanly(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    // Nested past the limit: a 400 naming the depth, before any parsing.
    let deep = format!(
        r#"{{"orderIds":["5001"],"assignee":"sam","shop_domain":"{SHOP}","x":{}1{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    app.post_raw("assign", Some("application/json"), deep.into_bytes())
        .await
        .assert_failure(400, &["nested deeper than 32"]);
    // Larger than 1 MiB: 413.
    let big = format!(
        r#"{{"orderIds":["5001"],"assignee":"{}","shop_domain":"{SHOP}"}}"#,
        "a".repeat(1_100_000)
    );
    app.post_raw("assign", Some("application/json"), big.into_bytes())
        .await
        .assert_failure(413, &[]);
    // 20 KiB of headers: 431, in the envelope. (A fresh client: the 413 above may have left its
    // pooled connection closed under it.)
    let r = reqwest::Client::new()
        .get(format!("{}/sync/orders?shop_domain={SHOP}", app.address))
        .header("x-padding", "p".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 431);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false);
    // Nothing was applied. (A fresh client again: the test's own may hold that closed connection.)
    let r = reqwest::Client::new()
        .get(format!(
            "{}/sync/orders/{}?shop_domain={SHOP}",
            app.address,
            urlencode(&gid(5001))
        ))
        .send()
        .await
        .unwrap();
    let order: Value = r.json().await.unwrap();
    assert_eq!(order["assignedTo"], Value::Null);
}

contract!(hostile_bodies_and_headers_are_refused_cleanly);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_older_than_a_day_are_forgotten() {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(SHOP, vec![order(5001).build()]).await;
    let body = json!({ "orderIds": ["5001"], "assignee": "sam", "shop_domain": SHOP });
    post_as(&app, None, Some("old"), "assign", &body)
        .await
        .assert_ok();
    let tomorrow = chrono::Utc::now() + chrono::Duration::hours(25);
    assert_eq!(
        pg(&app)
            .prune_idempotency_keys(chrono::Utc::now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(pg(&app).prune_idempotency_keys(tomorrow).await.unwrap(), 1);
    // Forgotten, the key applies afresh (here: another body is no longer a conflict).
    let other = json!({ "orderIds": ["5001"], "assignee": "kim", "shop_domain": SHOP });
    post_as(&app, None, Some("old"), "assign", &other)
        .await
        .assert_ok();
    assert_eq!(app.order(&gid(5001)).await["assignedTo"], "kim");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dashboard_session_reaches_only_its_shop() {
    let app = spawn_app(Backend::Postgres).await;
    two_shops(&app).await;
    let client = no_redirects();
    let mut tried = 0;
    for (own, victim, victim_order) in
        [(SHOP, OTHER_SHOP, gid(7001)), (OTHER_SHOP, SHOP, gid(5001))]
    {
        let r = client
            .post(format!("{}/auth/dev", app.address))
            .form(&[("shop", own), ("staff", "sam")])
            .send()
            .await
            .unwrap();
        let cookie = cookie_of(&r);
        let get = |path: String| {
            client
                .get(format!("{}{path}", app.address))
                .header("cookie", cookie.clone())
                .header("accept", "application/json")
                .send()
        };
        let one = format!("/sync/orders/{}", urlencode(&victim_order));
        for path in [
            "/sync/orders",
            one.as_str(),
            "/sync/orders/alerts",
            "/sync/outbox",
        ] {
            let r = get(format!("{path}?shop_domain={victim}")).await.unwrap();
            assert_eq!(r.status(), 403, "{path}");
            tried += 1;
        }
        for path in [
            format!("/orders?shop={victim}"),
            format!("/orders/export.csv?shop={victim}"),
            format!("/orders?shop={victim}&order={}", urlencode(&victim_order)),
        ] {
            let r = get(path.clone()).await.unwrap();
            assert_eq!(r.status(), 403, "{path}");
            assert!(!r.text().await.unwrap().contains(&victim_order), "{path}");
            tried += 1;
        }
        let write = json!({ "write": "Assign", "body": { "orderIds": [victim_order], "assignee": "x", "shop_domain": victim } });
        let r = client
            .post(format!("{}{}", app.address, post_write_path()))
            .header("cookie", cookie.clone())
            .json(&write)
            .send()
            .await
            .unwrap();
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["Err"][0], 403, "{answer}");
        tried += 1;
    }
    assert_eq!(tried, 16);
    for (shop, n) in [(SHOP, 5001), (OTHER_SHOP, 7001)] {
        assert_eq!(app.order_of(shop, n).await["assignedTo"], Value::Null);
    }
}
