//! Tests of the GraphQL reader: pages, errors, throttle, the query itself, and agreement with the
//! webhooks.

use super::*;

#[test]
fn an_order_without_a_total_is_refused_by_webhook_and_poller_alike() {
    let rest = json!({ "id": 1, "name": "#1", "currency": "USD",
                       "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
    assert_eq!(
        parse(Topic::OrdersCreate, &rest.to_string()),
        Err(PayloadError::Missing("total_price"))
    );
    for amount in [None, Some(Value::Null)] {
        let mut node = json!({ "id": ORDER_GID, "name": "#1",
                               "totalPriceSet": { "shopMoney": { "currencyCode": "USD" } },
                               "createdAt": "2025-09-27T10:03:00Z", "updatedAt": "2025-09-27T10:03:00Z" });
        if let Some(a) = amount {
            node["totalPriceSet"]["shopMoney"]["amount"] = a;
        }
        assert_eq!(
            parse_graphql_order(&node),
            Err(PayloadError::Missing("totalPriceSet.shopMoney.amount"))
        );
        node["totalPriceSet"]["shopMoney"]["amount"] = json!("25.0");
        assert_eq!(parse_graphql_order(&node).unwrap().total_price, "25.00");
    }
}

#[test]
fn the_graphql_page_reads_orders_cursor_and_throttle() {
    let page = parse_graphql_page(GRAPHQL_ORDERS_PAGE.as_bytes()).unwrap();
    assert!(page.has_next_page);
    assert_eq!(page.end_cursor.as_deref(), Some("eyJsYXN0X2lkIjo4MjA5ODI5MTE5NDYxNTQ1MTQsImxhc3RfdmFsdWUiOiIyMDI1LTEwLTAyIDE1OjAwOjAwIn0="));
    let t = page.throttle.unwrap();
    assert_eq!(
        (t.maximum_available, t.currently_available, t.restore_rate),
        (2000.0, 1980.0, 100.0)
    );
    assert_eq!(t.wait_before(500.0), std::time::Duration::ZERO);
    assert_eq!(t.wait_before(2180.0), std::time::Duration::from_secs(2));

    let orders: Vec<ShopifyOrder> = page.orders.into_iter().map(Result::unwrap).collect();
    assert_eq!(orders.len(), 2);
    let a = &orders[0];
    assert_eq!(a.id, ORDER_GID);
    assert_eq!(
        (a.total_price.as_str(), a.currency.as_str()),
        ("598.94", "USD")
    );
    assert_eq!(a.financial_status, FinancialStatus::PartiallyRefunded);
    assert_eq!(a.fulfillment_status, FulfillmentStatus::PartiallyFulfilled);
    assert_eq!(a.priority, Priority::Urgent);
    assert_eq!(a.shipments.len(), 1);
    assert_eq!(a.shipments[0].status, ShipmentStatus::Delivered);
    assert_eq!(
        a.cancelled_shipments,
        ["gid://shopify/Fulfillment/5599434309798"]
    );

    let b = &orders[1];
    assert_eq!(b.id, "gid://shopify/Order/820982911946154514");
    assert_eq!(
        b.total_price, "72.50",
        "GraphQL's 72.5 written with the currency's decimals"
    );
    assert_eq!(
        b.customer_name, "Grace Hopper",
        "billing address when there is no customer"
    );
    assert_eq!(b.customer_email, None);
    assert_eq!(b.fulfillment_status, FulfillmentStatus::OnHold);
    assert_eq!(b.financial_status, FinancialStatus::Pending);
    assert_eq!(b.priority, Priority::High, "overnight shipping");
    assert_eq!(b.cancel_reason, None);
}

#[test]
fn webhook_and_poller_agree_on_the_same_order() {
    let page = parse_graphql_page(GRAPHQL_ORDERS_PAGE.as_bytes()).unwrap();
    let polled = page.orders[0].clone().unwrap();
    let pushed = order_of(Topic::OrdersUpdated, ORDERS_UPDATED);
    assert_eq!(polled.customer_name, pushed.customer_name);
    assert_eq!(polled.customer_email, pushed.customer_email);
    assert_eq!(polled.order_number, pushed.order_number);
    assert_eq!(polled.tags, pushed.tags);
    assert_eq!(polled.created_at, pushed.created_at);
}

#[test]
fn graphql_errors_are_reported_with_their_code() {
    let body =
        json!({ "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }] });
    let err = parse_graphql_page(body.to_string().as_bytes()).unwrap_err();
    assert_eq!(
        err,
        PayloadError::GraphQl {
            code: Some("THROTTLED".into()),
            message: "Throttled".into()
        }
    );
    assert!(err.to_string().contains("(THROTTLED)"));
    let body = json!({ "errors": "[API] Invalid API key or access token" });
    assert!(matches!(
        parse_graphql_page(body.to_string().as_bytes()),
        Err(PayloadError::GraphQl { code: None, .. })
    ));
    let body = json!({ "data": { "shop": {} } });
    assert_eq!(
        parse_graphql_page(body.to_string().as_bytes()),
        Err(PayloadError::Missing("data.orders"))
    );
}

#[test]
fn a_throttled_answer_still_reports_its_cost() {
    let body = json!({
        "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }],
        "extensions": { "cost": { "requestedQueryCost": 752, "actualQueryCost": null,
            "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 2, "restoreRate": 100.0 } } }
    })
    .to_string();
    let t = graphql_throttle(body.as_bytes()).expect("a cost report");
    assert_eq!(t.requested_cost, 752.0);
    assert_eq!(t.actual_cost, None);
    assert_eq!(
        t.wait_before(t.requested_cost),
        std::time::Duration::from_millis(7500)
    );
    assert_eq!(
        graphql_throttle(GRAPHQL_ORDERS_PAGE.as_bytes()).map(|t| t.currently_available),
        Some(1980.0)
    );
    assert_eq!(graphql_throttle(b"{\"errors\": \"no\"}"), None);
    assert_eq!(graphql_throttle(b"<html>"), None);
}

#[test]
fn the_query_asks_for_what_the_reader_reads() {
    for field in [
        "$first: Int!",
        "$after: String",
        "$query: String",
        "sortKey: UPDATED_AT",
        "hasNextPage",
        "endCursor",
        "legacyResourceId",
        "displayFinancialStatus",
        "displayFulfillmentStatus",
        "shopMoney { amount currencyCode }",
        "customer { firstName lastName }",
        "shippingLines(first: 5)",
        "fulfillments(first: 20)",
        "trackingInfo(first: 1) { number company }",
    ] {
        assert!(ORDERS_QUERY.contains(field), "{field}");
    }
    assert_eq!(
        ORDERS_QUERY.matches('{').count(),
        ORDERS_QUERY.matches('}').count()
    );
}
