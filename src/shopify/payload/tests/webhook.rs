//! Tests of the webhook bodies: every topic, every field, refunds and returns.

use super::*;

#[test]
fn a_nul_character_anywhere_is_refused_before_it_reaches_the_database() {
    let order = include_str!("../../../../tests/fixtures/shopify/orders_create.json");
    assert!(parse(Topic::OrdersCreate, order).is_ok());
    let mut value: Value = serde_json::from_str(order).unwrap();
    value["note"] = json!("call\u{0}me");
    assert!(matches!(
        parse(Topic::OrdersCreate, &value.to_string()),
        Err(PayloadError::Json(m)) if m.contains("NUL")
    ));
    let page = include_str!("../../../../tests/fixtures/shopify/graphql_orders_page.json")
        .replacen("\"", "\"\\u0000", 1);
    assert!(matches!(
        parse_graphql_page(page.as_bytes()),
        Err(PayloadError::Json(_))
    ));
}

#[test]
fn every_topic_parses_to_the_fact_it_announces() {
    let cases: &[(Topic, &str, &str)] = &[
        (Topic::OrdersCreate, ORDERS_CREATE, "order"),
        (Topic::OrdersPaid, ORDERS_PAID, "order"),
        (Topic::OrdersUpdated, ORDERS_UPDATED, "order"),
        (Topic::OrdersCancelled, ORDERS_CANCELLED, "order"),
        (
            Topic::FulfillmentsCreate,
            FULFILLMENTS_CREATE,
            "fulfillment",
        ),
        (
            Topic::FulfillmentsUpdate,
            FULFILLMENTS_UPDATE,
            "fulfillment",
        ),
        (Topic::RefundsCreate, REFUNDS_CREATE, "refund"),
        (Topic::ReturnsRequest, RETURNS_REQUEST, "return"),
        (Topic::ReturnsApprove, RETURNS_APPROVE, "return"),
        (Topic::ReturnsDecline, RETURNS_DECLINE, "return"),
        (Topic::ReturnsCancel, RETURNS_CANCEL, "return"),
        (Topic::ReturnsClose, RETURNS_CLOSE, "return"),
        (Topic::ReturnsReopen, RETURNS_REOPEN, "return"),
        (Topic::ReturnsUpdate, RETURNS_UPDATE, "return"),
    ];
    for (topic, body, want) in cases {
        let fact = parse(*topic, body).unwrap_or_else(|e| panic!("{topic}: {e}"));
        let got = match &fact {
            Ingest::Order(_) => "order",
            Ingest::Fulfillment(_) => "fulfillment",
            Ingest::Refund(_) => "refund",
            Ingest::Return(_) => "return",
        };
        assert_eq!(got, *want, "{topic}");
        assert_eq!(fact.order(), OrderRef::Id(ORDER_GID.into()), "{topic}");
    }
    let covered: Vec<Topic> = cases.iter().map(|c| c.0).collect();
    assert!(Topic::ALL.iter().all(|t| covered.contains(t)));
}

#[test]
fn an_order_payload_maps_every_field() {
    let o = order_of(Topic::OrdersCreate, ORDERS_CREATE);
    assert_eq!(o.id, ORDER_GID);
    assert_eq!(o.order_number, "#1001");
    assert_eq!(o.customer_name, "Ada Lovelace");
    assert_eq!(
        o.customer_email.as_deref(),
        Some("ada.lovelace@example.com")
    );
    assert_eq!(
        (o.total_price.as_str(), o.currency.as_str()),
        ("598.94", "USD")
    );
    assert_eq!(o.financial_status, FinancialStatus::Authorized);
    assert_eq!(o.fulfillment_status, FulfillmentStatus::Unfulfilled);
    assert_eq!(o.tags, vec!["gift", "vip"]);
    assert_eq!(o.created_at, utc("2025-09-27T14:03:00Z"));
    assert_eq!(o.updated_at, utc("2025-09-27T14:03:02Z"));
    assert!(o.cancelled_at.is_none() && o.shipments.is_empty());
}

#[test]
fn a_total_price_that_is_not_a_decimal_is_refused() {
    let order = |price: Value| {
        let body = json!({ "id": 1, "name": "#1", "currency": "USD", "total_price": price,
                           "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
        parse(Topic::OrdersCreate, &body.to_string())
    };
    for bad in ["A", "NaN", "12,50", "$10.00", "1.2.3", "Infinity"] {
        assert!(
            matches!(
                order(json!(bad)),
                Err(PayloadError::Invalid {
                    field: "total_price",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
    // A decimal is kept exactly as sent, trimmed.
    for good in ["598.94", "0.00", "-3.50", " 10.0 ", "199"] {
        match order(json!(good)) {
            Ok(Ingest::Order(o)) => assert_eq!(o.total_price, good.trim()),
            other => panic!("{good:?}: {other:?}"),
        }
    }
}

#[test]
fn big_ids_keep_every_digit_as_numbers_or_strings() {
    for id in [json!(820982911946154508u64), json!("820982911946154508")] {
        let body = json!({
            "id": id, "name": "#1001", "currency": "USD", "total_price": "1.00",
            "financial_status": "paid", "created_at": "2025-09-27T10:03:00-04:00",
            "updated_at": "2025-09-27T10:03:00-04:00"
        });
        let o = order_of(Topic::OrdersCreate, &body.to_string());
        assert_eq!(o.id, ORDER_GID);
    }
    let f = match parse(Topic::FulfillmentsCreate, FULFILLMENTS_CREATE).unwrap() {
        Ingest::Fulfillment(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(f.shipment.id, "gid://shopify/Fulfillment/5599434342566");
    let bad = json!({ "id": 1.5, "name": "#1", "currency": "USD", "total_price": "1",
                      "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
    assert!(matches!(
        parse(Topic::OrdersCreate, &bad.to_string()),
        Err(PayloadError::Invalid { field: "id", .. })
    ));
}

#[test]
fn a_fulfillment_becomes_a_shipment_with_tracking() {
    let f = match parse(Topic::FulfillmentsCreate, FULFILLMENTS_CREATE).unwrap() {
        Ingest::Fulfillment(f) => f,
        other => panic!("{other:?}"),
    };
    assert!(!f.cancelled);
    assert_eq!(
        f.shipment.status,
        ShipmentStatus::InTransit,
        "null status with tracking"
    );
    let t = f.shipment.tracking.unwrap();
    assert_eq!(
        (t.number.as_str(), t.carrier.as_str()),
        ("1Z999AA10123456784", "UPS")
    );
    assert_eq!(f.shipment.last_update_at, utc("2025-09-28T13:15:00Z"));

    let body = json!({ "id": 9, "order_id": 5, "status": "cancelled",
                       "tracking_numbers": ["", "TRK-77"], "shipment_status": null });
    let f = match parse(Topic::FulfillmentsUpdate, &body.to_string()).unwrap() {
        Ingest::Fulfillment(f) => f,
        other => panic!("{other:?}"),
    };
    assert!(f.cancelled);
    assert_eq!(f.order, OrderRef::Id("gid://shopify/Order/5".into()));
    assert_eq!(
        f.shipment.last_update_at,
        received(),
        "no time: the delivery's"
    );
    let t = f.shipment.tracking.unwrap();
    assert_eq!(
        (t.number.as_str(), t.carrier.as_str()),
        ("TRK-77", UNKNOWN_CARRIER)
    );
}

#[test]
fn return_statuses_map_in_either_case_and_spelling() {
    let r = return_of(Topic::ReturnsRequest, RETURNS_REQUEST);
    assert_eq!(r.id, "gid://shopify/Return/8978432146");
    assert_eq!(
        (r.status, r.has_label, r.reopened),
        (ShopifyReturnStatus::Requested, false, false)
    );
    assert_eq!(r.at, received(), "return payloads carry no time");
    assert_eq!(
        return_of(Topic::ReturnsApprove, RETURNS_APPROVE).status,
        ShopifyReturnStatus::Open
    );
    assert_eq!(
        return_of(Topic::ReturnsDecline, RETURNS_DECLINE).status,
        ShopifyReturnStatus::Declined
    );
    assert_eq!(
        return_of(Topic::ReturnsCancel, RETURNS_CANCEL).status,
        ShopifyReturnStatus::Canceled
    );
    assert_eq!(
        return_of(Topic::ReturnsClose, RETURNS_CLOSE).status,
        ShopifyReturnStatus::Closed
    );
    let reopen = return_of(Topic::ReturnsReopen, RETURNS_REOPEN);
    assert_eq!(
        (reopen.status, reopen.reopened),
        (ShopifyReturnStatus::Open, true)
    );

    for (word, want) in [
        ("REQUESTED", ShopifyReturnStatus::Requested),
        ("OPEN", ShopifyReturnStatus::Open),
        ("DECLINED", ShopifyReturnStatus::Declined),
        ("CANCELED", ShopifyReturnStatus::Canceled),
        ("cancelled", ShopifyReturnStatus::Canceled),
        ("Closed", ShopifyReturnStatus::Closed),
    ] {
        assert_eq!(return_status(word), Ok(want), "{word}");
    }
    assert!(matches!(
        return_status("returned"),
        Err(PayloadError::Invalid {
            field: "status",
            ..
        })
    ));
}

#[test]
fn a_return_without_status_takes_its_topic_s_or_has_nothing_to_apply() {
    let body = json!({ "id": 1, "admin_graphql_api_id": "gid://shopify/Return/1", "order_id": 5 })
        .to_string();
    assert_eq!(
        return_of(Topic::ReturnsCancel, &body).status,
        ShopifyReturnStatus::Canceled
    );
    assert_eq!(
        return_of(Topic::ReturnsDecline, &body).status,
        ShopifyReturnStatus::Declined
    );
    assert!(matches!(
        parse(Topic::ReturnsUpdate, RETURNS_UPDATE_LINE_ITEMS),
        Err(PayloadError::NothingToApply(_))
    ));
}

#[test]
fn a_return_label_is_found_in_reverse_deliveries_or_at_the_top() {
    let r = return_of(Topic::ReturnsUpdate, RETURNS_UPDATE);
    assert!(
        r.has_label,
        "deliverable.label inside reverse_fulfillment_orders"
    );
    assert!(
        !return_of(Topic::ReturnsApprove, RETURNS_APPROVE).has_label,
        "empty reverse deliveries"
    );
    let with = |extra: Value| {
        let mut body = json!({ "id": 1, "status": "open", "order_id": 5 });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        return_of(Topic::ReturnsUpdate, &body.to_string()).has_label
    };
    assert!(with(json!({ "label_url": "https://cdn.example/l.pdf" })));
    assert!(with(
        json!({ "reverse_deliveries": [{ "label": { "public_file_url": "x" } }] })
    ));
    assert!(!with(
        json!({ "reverse_deliveries": [{ "label": null, "label_url": "" }] })
    ));
    assert!(
        !with(json!({ "return_line_items": [{ "label": "Sweater" }] })),
        "only reverse deliveries count"
    );
}

#[test]
fn a_return_time_is_its_own_when_it_has_one() {
    let body = json!({ "id": 1, "status": "open", "order_id": 5,
                       "created_at": "2025-10-01T08:00:00-04:00",
                       "updated_at": "2025-10-01T09:30:00.1234567-04:00" });
    let r = return_of(Topic::ReturnsUpdate, &body.to_string());
    assert_eq!(
        r.at,
        utc("2025-10-01T13:30:00.123456Z"),
        "UTC, truncated to microseconds"
    );
}

#[test]
fn refunds_sum_successful_transactions_exactly() {
    let r = match parse(Topic::RefundsCreate, REFUNDS_CREATE).unwrap() {
        Ingest::Refund(r) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.id, "gid://shopify/Refund/929361462");
    assert_eq!((r.amount.as_str(), r.currency.as_str()), ("208.04", "USD"));
    assert_eq!(r.created_at, utc("2025-10-02T15:00:00Z"));

    let r = refund_of(&json!({
        "id": 1, "order_id": 5, "created_at": "2025-10-02T11:00:00-04:00",
        "transactions": [
            { "kind": "refund", "status": "success", "amount": "0.10", "currency": "EUR" },
            { "kind": "refund", "status": "success", "amount": "0.20", "currency": "EUR" },
            { "kind": "refund", "status": "failure", "amount": "99.00", "currency": "EUR" }
        ],
        "refund_line_items": [{ "subtotal": 500.0 }]
    }));
    assert_eq!((r.amount.as_str(), r.currency.as_str()), ("0.30", "EUR"));
}

#[test]
fn refunds_without_transactions_sum_their_line_items_numbers_exactly() {
    let r = refund_of(&json!({
        "id": 1, "order_id": 5, "processed_at": "2025-10-02T11:00:00-04:00",
        "transactions": [],
        "refund_line_items": [
            { "subtotal": 0.1, "total_tax": 0.0,
              "subtotal_set": { "shop_money": { "amount": "0.10", "currency_code": "CAD" } } },
            { "subtotal": 0.2, "total_tax": 0.005 }
        ]
    }));
    assert_eq!(
        (r.amount.as_str(), r.currency.as_str()),
        ("0.31", "CAD"),
        "0.305 rounds half up"
    );
    assert_eq!(r.created_at, utc("2025-10-02T15:00:00Z"));

    let r = refund_of(&json!({ "id": 2, "order_id": 5, "currency": "JPY",
                               "refund_line_items": [{ "subtotal": 1500.0 }, { "subtotal": 250 }] }));
    assert_eq!((r.amount.as_str(), r.currency.as_str()), ("1750", "JPY"));
    assert_eq!(r.created_at, received());
}

#[test]
fn refunds_whose_amounts_add_up_past_the_largest_sum_are_refused() {
    // Each amount reads (1e32 is 10^38 millionths, within i128); their sum does not.
    let body = json!({ "id": 1, "order_id": 5,
                       "transactions": [{ "amount": "1e32" }, { "amount": "1e32" }] });
    assert!(matches!(
        parse(Topic::RefundsCreate, &body.to_string()),
        Err(PayloadError::Invalid {
            field: "transactions.amount",
            ..
        })
    ));
    let body = json!({ "id": 1, "order_id": 5,
                       "refund_line_items": [{ "subtotal": 1e32, "total_tax": 1e32 }] });
    assert!(matches!(
        parse(Topic::RefundsCreate, &body.to_string()),
        Err(PayloadError::Invalid {
            field: "refund_line_items.total_tax",
            ..
        })
    ));
    // Large amounts that do fit are summed exactly.
    let r = refund_of(&json!({ "id": 1, "order_id": 5,
                               "transactions": [{ "amount": "1e32" }, { "amount": "-1e32" }, { "amount": "0.01" }] }));
    assert_eq!(r.amount, "0.01");
}

#[test]
fn an_order_with_a_cancelled_fulfillment_lists_it_apart() {
    let o = order_of(Topic::OrdersUpdated, ORDERS_UPDATED);
    assert_eq!(o.fulfillment_status, FulfillmentStatus::PartiallyFulfilled);
    let ids: Vec<&str> = o.shipments.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["gid://shopify/Fulfillment/5599434342566"]);
    assert_eq!(
        o.cancelled_shipments,
        ["gid://shopify/Fulfillment/5599434309798"]
    );
    assert_eq!(o.shipments[0].status, ShipmentStatus::InTransit);
}

#[test]
fn unreadable_bodies_say_what_is_wrong() {
    assert!(matches!(
        parse(Topic::OrdersCreate, "not json"),
        Err(PayloadError::Json(_))
    ));
    assert!(matches!(
        parse(Topic::OrdersCreate, "[1]"),
        Err(PayloadError::Json(_))
    ));
    let no_id = json!({ "name": "#1", "currency": "USD", "total_price": "1.00",
                        "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
    assert_eq!(
        parse(Topic::OrdersCreate, &no_id.to_string()),
        Err(PayloadError::Missing("id"))
    );
    let bad_time = json!({ "id": 1, "name": "#1", "currency": "USD", "total_price": "1.00",
                           "created_at": "yesterday", "updated_at": "2025-09-27T10:03:00Z" });
    let err = parse(Topic::OrdersCreate, &bad_time.to_string()).unwrap_err();
    assert!(
        err.to_string().contains("created_at") && err.to_string().contains("RFC 3339"),
        "{err}"
    );
}
