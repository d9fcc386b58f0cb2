//! Assign, fulfill and support (SPEC §3): the envelope, persistence, timeline, outbox, all-or-nothing.

use orders_core::{FulfillmentStatus, ShipmentStatus};
use serde_json::json;

use crate::contract;
use crate::helpers::*;

async fn assign_records_the_owner_with_a_timeline_entry_and_an_outbox_row(app: TestApp) {
    app.seed(
        SHOP,
        vec![
            order(5001).number("#1001").build(),
            order(5002).number("#1002").build(),
        ],
    )
    .await;
    let r = app.assign(&["5001", "#1002"], Some("sam")).await;
    let body = r.assert_ok();
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Assigned 2 orders to sam");
    assert_eq!(
        body["updatedOrders"],
        json!([{"id": gid(5001), "assignedTo": "sam"}, {"id": gid(5002), "assignedTo": "sam"}])
    );
    assert_eq!(app.order(&gid(5001)).await["assignedTo"], "sam");
    let o = app.order(&gid(5002)).await;
    assert_eq!(o["timeline"][0]["event"], "assignment.changed");
    let outbox = app.store.outbox(SHOP).await.unwrap();
    assert_eq!(outbox.len(), 2);
    assert!(outbox
        .iter()
        .all(|e| e.topic == "shopify.metafield.assignment"));
    // the list filter sees the new owner
    assert_eq!(app.ids(&[("assigned_to", "sam")]).await.len(), 2);
}

async fn assigning_null_unassigns(app: TestApp) {
    app.seed(SHOP, vec![order(5001).assigned("sam").build()])
        .await;
    let r = app.assign(&[&gid(5001)], None).await;
    assert_eq!(
        r.assert_ok()["updatedOrders"],
        json!([{"id": gid(5001), "assignedTo": null}])
    );
    assert!(app.order(&gid(5001)).await["assignedTo"].is_null());
    assert_eq!(
        app.ids(&[("assigned_to", "unassigned")]).await,
        vec![gid(5001)]
    );
}

async fn assigning_the_same_owner_again_writes_no_history(app: TestApp) {
    app.seed(SHOP, vec![order(5001).assigned("sam").build()])
        .await;
    let before = app.history(&gid(5001)).await.len();
    app.assign(&["5001"], Some("sam")).await.assert_ok();
    assert_eq!(app.history(&gid(5001)).await.len(), before);
    assert!(app.store.outbox(SHOP).await.unwrap().is_empty());
}

async fn a_write_naming_an_unknown_order_changes_nothing(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    let r = app.assign(&["5001", "5404", "#9999"], Some("sam")).await;
    r.assert_failure(404, &["5404", "#9999"]);
    assert!(
        app.order(&gid(5001)).await["assignedTo"].is_null(),
        "all or nothing"
    );
    assert!(app.store.outbox(SHOP).await.unwrap().is_empty());
}

async fn assign_limits_are_400s_checked_before_lookup(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    let too_many: Vec<String> = (0..251).map(|i| (10_000 + i).to_string()).collect();
    let cases = [
        (
            json!({"orderIds": [], "assignee": "sam", "shop_domain": SHOP}),
            "orderIds",
        ),
        (
            json!({"orderIds": too_many, "assignee": "sam", "shop_domain": SHOP}),
            "orderIds",
        ),
        (
            json!({"orderIds": ["5001"], "assignee": "", "shop_domain": SHOP}),
            "assignee",
        ),
        (
            json!({"orderIds": ["5001"], "assignee": "x".repeat(101), "shop_domain": SHOP}),
            "assignee",
        ),
        (
            json!({"orderIds": ["5001"], "assignee": "sam"}),
            "shop_domain",
        ),
        (
            json!({"orderIds": "5001", "assignee": "sam", "shop_domain": SHOP}),
            "orderIds",
        ),
        (
            json!({"orderIds": [5001], "assignee": "sam", "shop_domain": SHOP}),
            "orderIds",
        ),
        // validation before lookup: the unknown order does not turn this into a 404
        (
            json!({"orderIds": ["5404"], "assignee": "y".repeat(101), "shop_domain": SHOP}),
            "assignee",
        ),
    ];
    for (body, field) in cases {
        app.post("assign", body).await.assert_failure(400, &[field]);
    }
    let max: Vec<String> = (0..250).map(|_| "5001".to_owned()).collect();
    app.post(
        "assign",
        json!({"orderIds": max, "assignee": "x".repeat(100), "shop_domain": SHOP}),
    )
    .await
    .assert_ok();
}

async fn fulfill_with_tracking_clears_tracking_pending(app: TestApp) {
    app.seed(
        SHOP,
        vec![
            order(5001).hours_old(5).build(),
            order(5002).hours_old(5).build(),
        ],
    )
    .await;
    assert_eq!(app.ids(&[("tab", "tracking_pending")]).await.len(), 2);
    let r = app.fulfill(&["5001"], Some(("1Z999", "UPS"))).await;
    let body = r.assert_ok();
    assert_eq!(
        body["updatedOrders"],
        json!([{"id": gid(5001), "fulfillmentStatus": "fulfilled", "tracking": {"number": "1Z999", "carrier": "UPS"}}])
    );
    let o = app.order(&gid(5001)).await;
    assert_eq!(o["status"], "fulfilled");
    assert_eq!(o["alerts"], json!([]));
    assert_eq!(o["shipments"][0]["status"], "in_transit");
    assert_eq!(
        o["shipments"][0]["tracking"],
        json!({"number": "1Z999", "carrier": "UPS"})
    );
    let events: Vec<_> = o["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        events.contains(&"fulfillment.fulfilled".to_owned())
            && events.contains(&"shipment.in_transit".to_owned())
    );
    assert_eq!(
        app.ids(&[("tab", "tracking_pending")]).await,
        vec![gid(5002)]
    );
}

async fn fulfill_without_tracking_stays_tracking_pending(app: TestApp) {
    app.seed(SHOP, vec![order(5001).hours_old(5).build()]).await;
    let r = app.fulfill(&["5001"], None).await;
    let body = r.assert_ok();
    assert_eq!(
        body["updatedOrders"],
        json!([{"id": gid(5001), "fulfillmentStatus": "fulfilled"}])
    );
    assert_eq!(
        app.order(&gid(5001)).await["alerts"],
        json!(["tracking_pending"])
    );
}

async fn a_cancelled_order_in_a_fulfill_is_a_409_and_nothing_changes(app: TestApp) {
    app.seed(
        SHOP,
        vec![order(5001).build(), order(5002).cancelled().build()],
    )
    .await;
    app.fulfill(&["5001", "5002"], Some(("1Z", "UPS")))
        .await
        .assert_failure(409, &["5002", "cancelled"]);
    assert_eq!(app.order(&gid(5001)).await["status"], "unfulfilled");
    assert_eq!(app.order(&gid(5001)).await["shipments"], json!([]));
}

async fn fulfilling_a_fulfilled_order_is_a_no_op_success(app: TestApp) {
    app.seed(
        SHOP,
        vec![order(5001)
            .status(FulfillmentStatus::Fulfilled)
            .shipment(ShipmentStatus::Delivered, true, 2)
            .build()],
    )
    .await;
    let before = app.history(&gid(5001)).await.len();
    let r = app.fulfill(&["5001"], Some(("1Z", "UPS"))).await;
    assert_eq!(
        r.assert_ok()["updatedOrders"][0]["fulfillmentStatus"],
        "fulfilled"
    );
    assert_eq!(app.history(&gid(5001)).await.len(), before);
    assert_eq!(
        app.order(&gid(5001)).await["shipments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn fulfill_tracking_limits_are_400s(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    let cases = [
        (
            json!({"orderIds": ["5001"], "tracking": {"number": "1Z"}, "shop_domain": SHOP}),
            "tracking.carrier",
        ),
        (
            json!({"orderIds": ["5001"], "tracking": {"number": "", "carrier": "UPS"}, "shop_domain": SHOP}),
            "tracking.number",
        ),
        (
            json!({"orderIds": ["5001"], "tracking": {"number": "1Z", "carrier": "c".repeat(101)}, "shop_domain": SHOP}),
            "tracking.carrier",
        ),
        (json!({"orderIds": [], "shop_domain": SHOP}), "orderIds"),
    ];
    for (body, field) in cases {
        app.post("fulfill", body)
            .await
            .assert_failure(400, &[field]);
    }
}

async fn support_opens_a_thread_and_hands_the_order_to_the_assistant(app: TestApp) {
    app.seed(
        SHOP,
        vec![
            order(5001).number("#1001").assigned("sam").build(),
            order(5002).build(),
        ],
    )
    .await;
    let r = app
        .support(
            "#1001",
            Some("conv_123"),
            "Customer wants to change the address",
        )
        .await;
    assert_eq!(
        r.assert_ok()["updatedOrders"],
        json!([{"id": gid(5001), "supportThread": "conv_123"}])
    );
    let o = app.order(&gid(5001)).await;
    assert_eq!(o["supportThread"], "conv_123");
    assert_eq!(o["assignedTo"], "assistant");
    let events: Vec<_> = o["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_owned())
        .collect();
    assert!(events.contains(&"support.escalated".to_owned()));
    assert_eq!(app.ids(&[("tab", "support")]).await, vec![gid(5001)]);
    let topics: Vec<_> = app
        .store
        .outbox(SHOP)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.topic)
        .collect();
    assert!(topics.contains(&"support.escalation".to_owned()));

    // without a conversation id, one is generated
    let r = app.support("5002", None, "Where is my parcel?").await;
    let thread = r.assert_ok()["updatedOrders"][0]["supportThread"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!thread.is_empty());
    assert_eq!(
        app.order(&gid(5002)).await["supportThread"],
        thread.as_str()
    );
}

async fn support_requires_a_note_and_bounded_ids(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    let cases = [
        (json!({"orderId": "5001", "shop_domain": SHOP}), "note"),
        (
            json!({"orderId": "5001", "note": "", "shop_domain": SHOP}),
            "note",
        ),
        (
            json!({"orderId": "5001", "note": "n".repeat(2001), "shop_domain": SHOP}),
            "note",
        ),
        (
            json!({"orderId": "5001", "note": "hi", "conversationId": "c".repeat(101), "shop_domain": SHOP}),
            "conversationId",
        ),
        (json!({"note": "hi", "shop_domain": SHOP}), "orderId"),
    ];
    for (body, field) in cases {
        app.post("support", body)
            .await
            .assert_failure(400, &[field]);
    }
    app.support("5404", None, "hi")
        .await
        .assert_failure(404, &["5404"]);
    app.post(
        "support",
        json!({"orderId": "5001", "note": "n".repeat(2000), "shop_domain": SHOP}),
    )
    .await
    .assert_ok();
}

contract!(
    assign_records_the_owner_with_a_timeline_entry_and_an_outbox_row,
    assigning_null_unassigns,
    assigning_the_same_owner_again_writes_no_history,
    a_write_naming_an_unknown_order_changes_nothing,
    assign_limits_are_400s_checked_before_lookup,
    fulfill_with_tracking_clears_tracking_pending,
    fulfill_without_tracking_stays_tracking_pending,
    a_cancelled_order_in_a_fulfill_is_a_409_and_nothing_changes,
    fulfilling_a_fulfilled_order_is_a_no_op_success,
    fulfill_tracking_limits_are_400s,
    support_opens_a_thread_and_hands_the_order_to_the_assistant,
    support_requires_a_note_and_bounded_ids,
);
