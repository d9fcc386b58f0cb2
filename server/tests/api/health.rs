//! Health, readiness, and what clients see while the database is away.

use orders_sync::store::{PgStore, Store};

use crate::contract;
use crate::helpers::*;

async fn health_and_readiness_answer(app: TestApp) {
    let h = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(h.status(), 200);
    let r = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

contract!(health_and_readiness_answer);

/// A server whose database does not answer (nothing listens on port 1).
async fn spawn_without_database() -> TestApp {
    let store = PgStore::connect_lazy("postgres://postgres@127.0.0.1:1/nowhere").unwrap();
    spawn_on(Store::Postgres(store)).await
}

#[tokio::test]
async fn the_api_answers_503_with_retry_after_while_the_database_is_away() {
    let app = spawn_without_database().await;
    let r = app.list_shop(SHOP, &[]).await;
    r.assert_failure(503, &["unavailable"]);
    assert!(r.headers.get("retry-after").is_some());
    app.assign(&["5001"], Some("sam"))
        .await
        .assert_failure(503, &[]);
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
}

#[tokio::test]
async fn validation_still_answers_400_while_the_database_is_away() {
    let app = spawn_without_database().await;
    app.list_shop(SHOP, &[("pageSize", "0")])
        .await
        .assert_failure(400, &["pageSize"]);
    app.assign(&[], Some("sam"))
        .await
        .assert_failure(400, &["orderIds"]);
}
