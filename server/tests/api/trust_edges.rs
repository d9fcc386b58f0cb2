//! The trust rules at their edges: the sign-in redirect stays on the site whatever the path, and
//! nothing that carries orders may be kept by a cache.

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;
use crate::trust::{no_redirects, post_write_path};

const SECRET: &str = "app-secret";
const API_KEY: &str = "client-id";

/// The server with the app's secret: a page load without a valid session token is bounced.
async fn embedded_app() -> TestApp {
    spawn_with(Backend::Postgres, |s| {
        s.trust.shopify_api_secret = Some(SECRET.into());
        s.trust.shopify_api_key = Some(API_KEY.into());
        s.trust.app_bridge_url = "https://cdn.example.test/app-bridge.js".into();
    })
    .await
}

/// What a raw HTTP/1.1 answer said: its status and its `Location`, if any.
struct RawAnswer {
    status: u16,
    location: Option<String>,
    text: String,
}

/// Sends `GET {target}` exactly as written (an HTTP client would tidy a target such as
/// `//evil.example` into a host), and reads the answer's head.
async fn raw_get(app: &TestApp, target: &str) -> RawAnswer {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text}"));
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let location = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("location")
            .then(|| value.trim().to_owned())
    });
    RawAnswer {
        status,
        location,
        text,
    }
}

/// Whether a browser following `location` from this site stays on it.
fn stays_on_site(location: &str) -> bool {
    location.starts_with('/') && !location[1..].starts_with(['/', '\\'])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_a_browser_would_read_as_another_host_is_refused_never_redirected() {
    let app = embedded_app().await;
    let admin = format!("shop={SHOP}&host=YWRtaW4&embedded=1&id_token=forged");
    for target in [
        format!("//evil.example?{admin}"),
        format!("//evil.example/orders?{admin}"),
        format!("/\\evil.example?{admin}"),
        format!("/\\/evil.example?{admin}"),
        "//evil.example".to_owned(),
        "//pkg".to_owned(),
    ] {
        let a = raw_get(&app, &target).await;
        assert_eq!(a.status, 400, "{target}: {}", a.text);
        assert_eq!(a.location, None, "{target}");
        assert!(a.text.contains("another host"), "{target}: {}", a.text);
    }

    // A page of this site still bounces, to a page of this site that reloads one.
    let a = raw_get(&app, &format!("/orders?{admin}")).await;
    assert_eq!(a.status, 302, "{}", a.text);
    let location = a.location.unwrap();
    assert!(location.starts_with("/auth/session-token?"), "{location}");
    let reload = form_urlencoded::parse(location.split_once('?').unwrap().1.as_bytes())
        .find(|(k, _)| k == "shopify-reload")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    assert!(stays_on_site(&reload), "{reload}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bounce_page_reloads_only_a_page_of_this_site() {
    let app = embedded_app().await;
    let client = no_redirects();
    let bounce = |reload: &str| {
        client
            .get(format!("{}/auth/session-token", app.address))
            .query(&[("shop", SHOP), ("shopify-reload", reload)])
            .send()
    };
    for reload in [
        "//evil.example/orders",
        "/\\evil.example/orders",
        "https://evil.example/orders",
        "javascript:alert(1)",
        "/\t/evil.example",
        "orders",
    ] {
        let r = bounce(reload).await.unwrap();
        assert_eq!(r.status(), 400, "{reload:?}");
        let body = r.text().await.unwrap();
        assert!(body.contains("shopify-reload"), "{reload:?}: {body}");
        assert!(
            !body.contains("app-bridge.js"),
            "no App Bridge to follow it"
        );
    }
    let r = bounce(&format!("/orders?shop={SHOP}&bounced=1"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("app-bridge.js"));
}

/// The `Cache-Control` of an answer.
fn cache_control(headers: &reqwest::header::HeaderMap) -> Option<&str> {
    headers
        .get(reqwest::header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_that_carries_orders_is_no_store_and_static_files_are_not() {
    let app = spawn_app(Backend::Postgres).await;
    app.seed(SHOP, vec![order(5001).build(), order(5002).build()])
        .await;
    let base = &app.address;
    let client = no_redirects();
    let load_orders = {
        use leptos::server_fn::ServerFn;
        app::orders::LoadOrders::PATH
    };
    let requests = [
        ("list", client.get(format!("{base}/sync/orders?shop_domain={SHOP}"))),
        (
            "one order",
            client.get(format!(
                "{base}/sync/orders/5001?shop_domain={SHOP}"
            )),
        ),
        (
            "a write",
            client
                .post(format!("{base}/sync/orders/assign"))
                .json(&json!({ "orderIds": ["5001"], "assignee": "sam", "shop_domain": SHOP })),
        ),
        (
            "alerts polling",
            client
                .get(format!("{base}/sync/orders/alerts?shop_domain={SHOP}"))
                .header("accept", "application/json"),
        ),
        ("page", client.get(format!("{base}/orders?shop={SHOP}"))),
        (
            "load_orders",
            client
                .post(format!("{base}{load_orders}"))
                .json(&json!({ "shop": SHOP, "query": [] })),
        ),
        (
            "post_write",
            client
                .post(format!("{base}{}", post_write_path()))
                .json(&json!({ "write": "Assign", "body": { "orderIds": ["5002"], "assignee": "sam", "shop_domain": SHOP } })),
        ),
        ("export", client.get(format!("{base}/orders/export.csv?shop={SHOP}"))),
        (
            "a refusal",
            client.get(format!("{base}/sync/orders?shop_domain=not%20a%20shop")),
        ),
    ];
    for (name, request) in requests {
        let r = request.send().await.unwrap();
        let status = r.status();
        assert_eq!(
            cache_control(r.headers()),
            Some("no-store"),
            "{name} ({status})"
        );
        let body = r.text().await.unwrap();
        if name != "a refusal" {
            assert!(status.is_success(), "{name} ({status}): {body}");
        }
    }

    // The stream: its head is all that is read.
    let r = client
        .get(format!("{base}/sync/orders/alerts?shop_domain={SHOP}"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(cache_control(r.headers()), Some("no-store"), "stream");
    drop(r);

    // The site's static files may be cached (served or missing alike).
    for path in [
        "/pkg/orders-sync.css",
        "/fonts/inter-latin-wght-normal.woff2",
        "/favicon.svg",
    ] {
        let r = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(cache_control(r.headers()), None, "{path}");
    }
}
