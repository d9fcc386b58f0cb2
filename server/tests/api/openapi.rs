//! `GET /sync/openapi.json`: the OpenAPI document of the Sync API, and that it keeps up with the
//! router (every `/sync` route of `routes/mod.rs`, with its method).

use serde_json::Value;

use crate::helpers::*;

/// The router's source: the test reads its routes, so a `/sync` route added without documenting
/// it fails here.
const ROUTES: &str = include_str!("../../src/routes/mod.rs");

/// `(method, path)` of every `.route("/sync…", method(…))` in the router, with axum's catch-all
/// `{*name}` written as OpenAPI's `{name}`.
fn sync_routes() -> Vec<(String, String)> {
    let mut routes = Vec::new();
    for (i, _) in ROUTES.match_indices(".route(") {
        let rest = &ROUTES[i + ".route(".len()..];
        let rest = rest.trim_start();
        let Some(rest) = rest.strip_prefix('"') else {
            continue;
        };
        let end = rest.find('"').expect("a closing quote");
        let path = &rest[..end];
        if !path.starts_with("/sync") {
            continue;
        }
        let after = rest[end + 1..]
            .trim_start()
            .trim_start_matches(',')
            .trim_start();
        let method: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        assert!(
            ["get", "post", "put", "patch", "delete"].contains(&method.as_str()),
            "cannot read the method of {path}: {method:?}"
        );
        routes.push((method, path.replace("{*", "{")));
    }
    routes
}

async fn the_document(app: &TestApp) -> Value {
    let r = app
        .client
        .get(format!("{}/sync/openapi.json", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    serde_json::from_str(&r.text().await.unwrap()).expect("the document is JSON")
}

#[tokio::test]
async fn the_document_lists_every_sync_route_of_the_router() {
    let app = spawn_app(Backend::Memory).await;
    let doc = the_document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let routes = sync_routes();
    assert!(routes.len() >= 9, "too few /sync routes read: {routes:?}");
    for (method, path) in &routes {
        let operation = &doc["paths"][path.as_str()][method.as_str()];
        assert!(operation.is_object(), "{method} {path} is not documented");
        assert!(
            operation["responses"]["200"].is_object(),
            "{method} {path} has no 200 response"
        );
    }
    // And nothing that is not served.
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, routes.len(), "{routes:?}");
}

#[tokio::test]
async fn errors_and_credentials_are_described() {
    let app = spawn_app(Backend::Memory).await;
    let doc = the_document(&app).await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    for status in ["400", "401", "403", "429", "431", "503"] {
        assert!(
            doc["paths"]["/sync/orders"]["get"]["responses"][status].is_object(),
            "GET /sync/orders does not list {status}"
        );
    }
    for status in ["404", "409", "413", "415", "422"] {
        assert!(
            doc["paths"]["/sync/orders/fulfill"]["post"]["responses"][status].is_object(),
            "POST /sync/orders/fulfill does not list {status}"
        );
    }
    let error = &doc["components"]["schemas"]["ErrorEnvelope"];
    assert_eq!(
        error["properties"]["success"]["enum"],
        serde_json::json!([false])
    );
    assert_eq!(
        doc["components"]["responses"]["Unavailable"]["headers"]["Retry-After"]["schema"]["type"],
        "integer"
    );
}

#[tokio::test]
async fn the_document_needs_no_credentials_even_when_the_api_does() {
    let app = spawn_with(Backend::Memory, |s| s.trust.tokens_required = true).await;
    app.list_shop(SHOP, &[]).await.assert_failure(401, &[]);
    the_document(&app).await;
}
