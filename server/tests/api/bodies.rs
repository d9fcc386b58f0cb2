//! What the write API does with bodies that are not what it expects (SPEC §3).

use serde_json::json;

use crate::contract;
use crate::helpers::*;

async fn a_body_that_is_not_json_is_a_415(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    for path in ["assign", "fulfill", "support", "returns"] {
        app.post_raw(path, Some("text/plain"), b"orderIds=5001".to_vec())
            .await
            .assert_failure(415, &["JSON"]);
        app.post_raw(path, None, b"orderIds=5001".to_vec())
            .await
            .assert_failure(415, &["JSON"]);
    }
}

async fn malformed_json_is_a_400(app: TestApp) {
    app.post_raw(
        "assign",
        Some("application/json"),
        b"{\"orderIds\": [".to_vec(),
    )
    .await
    .assert_failure(400, &["JSON"]);
    app.post_raw("assign", Some("application/json"), b"[1, 2]".to_vec())
        .await
        .assert_failure(400, &["object"]);
}

async fn a_body_over_one_mebibyte_is_a_413(app: TestApp) {
    let big = format!(
        "{{\"orderIds\": [\"5001\"], \"assignee\": \"sam\", \"pad\": \"{}\"}}",
        "x".repeat(1024 * 1024)
    );
    app.post_raw("assign", Some("application/json"), big.into_bytes())
        .await
        .assert_failure(413, &[]);
}

async fn unknown_fields_are_ignored(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    app.post("assign", json!({"orderIds": ["5001"], "assignee": "sam", "shop_domain": SHOP, "priority": "x", "v": 1.2}))
        .await
        .assert_ok();
}

async fn a_json_body_without_content_type_is_accepted(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    let body = json!({"orderIds": ["5001"], "assignee": "sam", "shop_domain": SHOP}).to_string();
    app.post_raw("assign", None, body.into_bytes())
        .await
        .assert_ok();
}

/// No PostgreSQL text can hold a NUL character: a request carrying one where the store would keep
/// or look it up is a 400 naming the field (it was a 500, found by fuzzing the OpenAPI document).
async fn nul_characters_are_a_400_naming_the_field(app: TestApp) {
    app.seed(SHOP, vec![order(5001).number("#1001").build()])
        .await;
    let cases = [
        (
            "assign",
            json!({"orderIds": ["5001"], "assignee": "s\0m", "shop_domain": SHOP}),
            "assignee",
        ),
        (
            "assign",
            json!({"orderIds": ["#10\x0001"], "assignee": "sam", "shop_domain": SHOP}),
            "orderIds",
        ),
        (
            "fulfill",
            json!({"orderIds": ["5001"], "tracking": {"number": "1Z\0", "carrier": "UPS"}, "shop_domain": SHOP}),
            "tracking.number",
        ),
        (
            "support",
            json!({"orderId": "5001", "note": "n\0", "shop_domain": SHOP}),
            "note",
        ),
        (
            "support",
            json!({"orderId": "5001", "note": "n", "conversationId": "c\0", "shop_domain": SHOP}),
            "conversationId",
        ),
        (
            "returns",
            json!({"orderId": "gid://shopify/Order/\0", "action": "deny", "shop_domain": SHOP}),
            "orderId",
        ),
    ];
    for (path, body, field) in cases {
        app.post(path, body)
            .await
            .assert_failure(400, &[field, "NUL"]);
    }
    app.list_shop(SHOP, &[("assigned_to", "s\0m")])
        .await
        .assert_failure(400, &["assigned_to", "NUL"]);
    app.get_order("#10\x0001", Some(SHOP))
        .await
        .assert_failure(400, &["id", "NUL"]);
}

contract!(
    nul_characters_are_a_400_naming_the_field,
    a_body_that_is_not_json_is_a_415,
    malformed_json_is_a_400,
    a_body_over_one_mebibyte_is_a_413,
    unknown_fields_are_ignored,
    a_json_body_without_content_type_is_accepted,
);
