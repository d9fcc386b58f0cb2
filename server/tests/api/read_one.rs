//! `GET /sync/orders/{id}` (SPEC §2).

use crate::contract;
use crate::helpers::*;

async fn one_order_is_found_by_gid_numeric_id_or_name(app: TestApp) {
    app.seed(
        SHOP,
        vec![
            order(5001).number("#1001").build(),
            order(5002).number("#1002").build(),
        ],
    )
    .await;
    for id in ["gid://shopify/Order/5001", "5001", "#1001"] {
        let r = app.get_order(id, Some(SHOP)).await;
        assert_eq!(
            r.assert_ok()["id"],
            "gid://shopify/Order/5001",
            "looked up by {id}"
        );
        assert_eq!(r.body["orderNumber"], "#1001");
    }
}

async fn an_unknown_order_or_another_shops_order_is_a_404(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    app.seed(OTHER_SHOP, vec![order(5999).build()]).await;
    app.get_order(&gid(4242), Some(SHOP))
        .await
        .assert_failure(404, &["4242"]);
    app.get_order(&gid(5999), Some(SHOP))
        .await
        .assert_failure(404, &["5999"]);
}

async fn a_lookup_without_shop_domain_is_a_400(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    app.get_order(&gid(5001), None)
        .await
        .assert_failure(400, &["shop_domain"]);
    app.get_order("not-an-id", Some(SHOP))
        .await
        .assert_failure(400, &["id"]);
}

contract!(
    one_order_is_found_by_gid_numeric_id_or_name,
    an_unknown_order_or_another_shops_order_is_a_404,
    a_lookup_without_shop_domain_is_a_400,
);
