//! `POST /sync/orders/returns` (SPEC §5): the state machine over HTTP, and concurrent actions.

use orders_core::{FulfillmentStatus, ReturnState, ShipmentStatus};
use serde_json::json;

use crate::contract;
use crate::helpers::*;

fn returned(n: u64, state: ReturnState) -> orders_core::record::OrderRecord {
    order(n)
        .hours_old(100)
        .status(FulfillmentStatus::Fulfilled)
        .shipment(ShipmentStatus::Delivered, true, 90)
        .with_return(state)
        .build()
}

async fn approving_a_refund_moves_the_return_and_writes_history(app: TestApp) {
    app.seed(SHOP, vec![returned(5001, ReturnState::Inspection)])
        .await;
    let r = app
        .return_action("5001", "approve_refund", Some("Item arrived intact"))
        .await;
    let body = r.assert_ok();
    assert_eq!(body["updatedOrders"], json!([]));
    assert_eq!(body["success"], true);
    let o = app.order(&gid(5001)).await;
    assert_eq!(o["return"]["state"], "awaiting_refund");
    assert_eq!(o["timeline"][0]["event"], "return.awaiting_refund");
    let outbox = app.store.outbox(SHOP).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].topic, "erp.return");
    assert_eq!(outbox[0].payload["note"], "Item arrived intact");
}

async fn the_whole_path_walks_to_completed_and_leaves_the_returns_tab(app: TestApp) {
    app.seed(SHOP, vec![returned(5001, ReturnState::AwaitingLabel)])
        .await;
    for action in [
        "generate_label",
        "mark_in_transit",
        "request_inspection",
        "approve_refund",
    ] {
        app.return_action("5001", action, None).await.assert_ok();
        assert_eq!(app.ids(&[("tab", "returns")]).await, vec![gid(5001)]);
    }
    app.return_action("5001", "complete", None)
        .await
        .assert_ok();
    assert_eq!(app.order(&gid(5001)).await["return"]["state"], "completed");
    assert!(app.ids(&[("tab", "returns")]).await.is_empty());
}

async fn a_forbidden_action_is_a_409_naming_state_and_action(app: TestApp) {
    app.seed(
        SHOP,
        vec![
            returned(5001, ReturnState::AwaitingLabel),
            returned(5002, ReturnState::Denied),
        ],
    )
    .await;
    app.return_action("5001", "approve_refund", None)
        .await
        .assert_failure(409, &["approve_refund", "awaiting_label"]);
    app.return_action("5002", "cancel", None)
        .await
        .assert_failure(409, &["cancel", "denied"]);
    assert_eq!(
        app.order(&gid(5001)).await["return"]["state"],
        "awaiting_label"
    );
}

async fn an_unknown_action_is_a_400_and_a_missing_return_a_404(app: TestApp) {
    app.seed(
        SHOP,
        vec![returned(5001, ReturnState::Inspection), order(5002).build()],
    )
    .await;
    app.return_action("5001", "refund_everything", None)
        .await
        .assert_failure(400, &["action"]);
    app.return_action("5002", "deny", None)
        .await
        .assert_failure(404, &["5002"]);
    app.return_action("5404", "deny", None)
        .await
        .assert_failure(404, &["5404"]);
    app.post("returns", json!({"orderId": "5001", "shop_domain": SHOP}))
        .await
        .assert_failure(400, &["action"]);
    app.post(
        "returns",
        json!({"orderId": "5001", "action": "deny", "note": "", "shop_domain": SHOP}),
    )
    .await
    .assert_failure(400, &["note"]);
    // validation before lookup: an unknown action on an unknown order is still a 400
    app.return_action("5404", "nope", None)
        .await
        .assert_failure(400, &["action"]);
}

async fn concurrent_actions_on_one_return_apply_once(app: TestApp) {
    app.seed(SHOP, vec![returned(5001, ReturnState::InTransit)])
        .await;
    let before = app.history(&gid(5001)).await.len();
    let attempts = (0..8).map(|i| {
        let action = if i % 2 == 0 {
            "request_inspection"
        } else {
            "deny"
        };
        app.return_action("5001", action, None)
    });
    let replies = futures::future::join_all(attempts).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let conflicts = replies.iter().filter(|r| r.status == 409).count();
    // request_inspection and deny are both legal from in_transit, but only one may apply from it;
    // deny is also legal from inspection, so at most one further deny may follow an inspection.
    assert!((1..=2).contains(&ok), "{ok} applied");
    assert_eq!(ok + conflicts, 8);
    let history = app.history(&gid(5001)).await;
    assert_eq!(
        history.len() - before,
        ok,
        "one timeline entry per applied action"
    );
    let from_in_transit = history
        .iter()
        .filter(|e| e.details.contains("from in_transit"))
        .count();
    assert_eq!(from_in_transit, 1, "never two actions from the same state");
}

async fn identical_concurrent_actions_apply_exactly_once(app: TestApp) {
    app.seed(SHOP, vec![returned(5001, ReturnState::Inspection)])
        .await;
    let replies = futures::future::join_all(
        (0..10).map(|_| app.return_action("5001", "approve_refund", None)),
    )
    .await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1);
    assert_eq!(replies.iter().filter(|r| r.status == 409).count(), 9);
    let entries = app
        .history(&gid(5001))
        .await
        .into_iter()
        .filter(|e| e.event == "return.awaiting_refund")
        .count();
    assert_eq!(entries, 1);
}

contract!(
    approving_a_refund_moves_the_return_and_writes_history,
    the_whole_path_walks_to_completed_and_leaves_the_returns_tab,
    a_forbidden_action_is_a_409_naming_state_and_action,
    an_unknown_action_is_a_400_and_a_missing_return_a_404,
    concurrent_actions_on_one_return_apply_once,
    identical_concurrent_actions_apply_exactly_once,
);
