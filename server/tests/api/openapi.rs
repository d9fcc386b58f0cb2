//! `GET /sync/openapi.json`: the OpenAPI document of the Sync API, and that it keeps up with the
//! router: the router and the document are built from one route table (`routes::sync_api`), so
//! every documented operation is served, and no `/sync` route is added beside the table.

use serde_json::Value;

use crate::helpers::*;

/// The router's source: a `/sync` route must be in the table, never a plain `.route(…)`.
const ROUTES: &str = include_str!("../../src/routes/mod.rs");

#[test]
fn no_sync_route_is_added_beside_the_table() {
    let plain = ROUTES
        .match_indices(".route(")
        .filter(|(i, _)| {
            ROUTES[i + ".route(".len()..]
                .trim_start()
                .starts_with("\"/sync")
        })
        .count();
    assert_eq!(plain, 0, "a /sync route outside `sync_api`");
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

/// Every documented operation reaches its handler: asked without its parameters or body, it
/// answers (a 400 or 415 in the envelope, or the document itself), where a route the router lacks
/// would be a 404 or a 405.
#[tokio::test]
async fn every_documented_operation_is_served() {
    let app = spawn_app(Backend::Memory).await;
    let doc = the_document(&app).await;
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            assert!(
                operation["responses"]["200"].is_object(),
                "{method} {path} has no 200 response"
            );
            let url = format!("{}{}", app.address, path.replace("{id}", "1001"));
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let r = app
                .client
                .request(method.clone(), url)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            assert!(
                [200, 400, 415].contains(&status),
                "{method} {path} answered {status}"
            );
        }
    }
    assert!(operations >= 9, "too few operations: {operations}");
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

/// The search is a documented parameter of the list, with its length rule, so Schemathesis fuzzes it.
#[tokio::test]
async fn the_search_parameter_is_documented() {
    let app = spawn_app(Backend::Memory).await;
    let doc = the_document(&app).await;
    let params = doc["paths"]["/sync/orders"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let query = params
        .iter()
        .find(|p| p["name"] == "query")
        .expect("a `query` parameter");
    assert_eq!(query["in"], "query");
    assert_eq!(query["required"], false);
    assert_eq!(query["schema"]["type"], "string");
    assert_eq!(query["schema"]["minLength"], 3);
    assert_eq!(query["schema"]["maxLength"], 100);
}
