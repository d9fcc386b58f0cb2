//! The dashboard's writes (the `post_write` server function) carry an idempotency key: a retry
//! with the same key is answered with the first answer and never applied twice, whichever door
//! the retry comes through.

use serde_json::{json, Value};

use crate::contract;
use crate::helpers::*;
use crate::trust::post_write_path;

async fn dashboard_write(app: &TestApp, write: &str, body: Value, key: Option<&str>) -> Value {
    let mut call = json!({ "write": write, "body": body });
    if let Some(key) = key {
        call["key"] = json!(key);
    }
    let r = app
        .client
        .post(format!("{}{}", app.address, post_write_path()))
        .header("origin", app.address.clone())
        .header("sec-fetch-site", "same-origin")
        .json(&call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

async fn a_retried_dashboard_write_is_applied_once_and_answered_alike(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build(), order(5002).build()])
        .await;
    let body = json!({ "orderId": gid(5001), "note": "Where is it?", "shop_domain": SHOP });
    let first = dashboard_write(&app, "Support", body.clone(), Some("dash-k1")).await;
    let thread = first["Ok"][1].as_str().expect("a success names its thread");
    let again = dashboard_write(&app, "Support", body.clone(), Some("dash-k1")).await;
    assert_eq!(
        again["Ok"].as_array().unwrap()[..2],
        first["Ok"].as_array().unwrap()[..2],
        "the retry gets the first answer, thread and all"
    );
    // Each answer carries where the database stood after the write had committed (the page keeps
    // the last, and its reads send it back); the retry's is no earlier.
    let position = |answer: &Value| answer["Ok"][2].as_str().map(str::to_owned);
    if matches!(app.store, orders_sync::store::Store::Postgres(_)) {
        let (p1, p2) = (position(&first).unwrap(), position(&again).unwrap());
        let (p1, p2): (
            orders_core::position::Position,
            orders_core::position::Position,
        ) = (p1.parse().unwrap(), p2.parse().unwrap());
        assert!(p2 >= p1, "{p1} then {p2}");
    } else {
        assert_eq!(position(&first), None);
    }
    let escalations = app
        .history(&gid(5001))
        .await
        .into_iter()
        .filter(|e| e.event.contains("support"))
        .count();
    assert_eq!(escalations, 1, "applied once");

    // The same key through the API's door, same body: the same answer again.
    let mut api = app
        .client
        .post(format!("{}/sync/orders/support", app.address));
    api = api.header("idempotency-key", "dash-k1").json(&body);
    let r = api.send().await.unwrap();
    assert_eq!(r.status(), 200);
    let envelope: Value = r.json().await.unwrap();
    assert_eq!(envelope["success"], true, "{envelope}");
    assert_eq!(envelope["updatedOrders"][0]["supportThread"], thread);

    // The same key with another request is refused, and changes nothing.
    let other = json!({ "orderId": gid(5002), "note": "Where is it?", "shop_domain": SHOP });
    let refused = dashboard_write(&app, "Support", other, Some("dash-k1")).await;
    assert_eq!(refused["Err"][0], 422, "{refused}");
    assert_eq!(app.order(&gid(5002)).await["supportThread"], Value::Null);

    // A key that is not printable ASCII is a 400.
    let bad = dashboard_write(
        &app,
        "Assign",
        json!({ "orderIds": [gid(5002)], "assignee": "Kim", "shop_domain": SHOP }),
        Some("ключ"),
    )
    .await;
    assert_eq!(bad["Err"][0], 400, "{bad}");
    assert_eq!(app.order(&gid(5002)).await["assignedTo"], Value::Null);
}

contract!(a_retried_dashboard_write_is_applied_once_and_answered_alike);
