//! Tests of the SPEC §7 mapping: priority, the three statuses, the order a fact names, customer
//! names.

use super::*;

#[test]
fn a_priority_tag_wins_then_express_shipping_then_normal() {
    assert_eq!(
        order_of(Topic::OrdersCreate, ORDERS_CREATE).priority,
        Priority::High
    );
    let updated = order_of(Topic::OrdersUpdated, ORDERS_UPDATED);
    assert!(updated.tags.contains(&"priority:urgent".to_owned()));
    assert_eq!(updated.priority, Priority::Urgent);

    let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        priority(&tags(&[" Priority: LOW "]), ["Express"]),
        Priority::Low
    );
    assert_eq!(
        priority(&tags(&["priority:asap"]), ["Standard"]),
        Priority::Normal
    );
    assert_eq!(
        priority(&tags(&["priority:asap"]), ["UPS Next Day OVERNIGHT"]),
        Priority::High
    );
    assert_eq!(
        priority(&tags(&["vip"]), ["Standard", "EXPRESS-2D"]),
        Priority::High
    );
    assert_eq!(
        priority(&tags(&["priority:low", "priority:urgent"]), []),
        Priority::Urgent
    );
    assert_eq!(
        priority(&tags(&[]), ["Standard Shipping", "standard"]),
        Priority::Normal
    );
}

#[test]
fn fulfillment_statuses_map_with_null_as_unfulfilled() {
    let base = |status: Value, fulfillments: Value| {
        json!({
            "id": 1, "name": "#1", "currency": "USD", "total_price": "1.00",
            "financial_status": "paid", "fulfillment_status": status,
            "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z",
            "fulfillments": fulfillments
        })
        .to_string()
    };
    let parcel = json!([{ "id": 7, "status": "success", "tracking_number": "1Z1",
                          "updated_at": "2025-09-27T10:03:00Z" }]);
    let cases = [
        (Value::Null, json!([]), FulfillmentStatus::Unfulfilled),
        (
            json!("partial"),
            parcel.clone(),
            FulfillmentStatus::PartiallyFulfilled,
        ),
        (
            json!("fulfilled"),
            parcel.clone(),
            FulfillmentStatus::Fulfilled,
        ),
        (
            json!("restocked"),
            json!([]),
            FulfillmentStatus::Unfulfilled,
        ),
        (
            json!("something_new"),
            parcel.clone(),
            FulfillmentStatus::PartiallyFulfilled,
        ),
        (
            json!("something_new"),
            json!([]),
            FulfillmentStatus::Unfulfilled,
        ),
    ];
    for (status, fulfillments, want) in cases {
        let o = order_of(Topic::OrdersUpdated, &base(status.clone(), fulfillments));
        assert_eq!(o.fulfillment_status, want, "{status}");
    }
    assert_eq!(
        fulfillment_status("ON_HOLD", false),
        FulfillmentStatus::OnHold
    );
    assert_eq!(
        fulfillment_status("IN_PROGRESS", false),
        FulfillmentStatus::Unfulfilled
    );
    assert_eq!(
        fulfillment_status("PARTIALLY_FULFILLED", true),
        FulfillmentStatus::PartiallyFulfilled
    );
}

#[test]
fn financial_statuses_map_and_unknown_ones_are_refused() {
    let read = |v: Value| financial_status(Some(&v), "financial_status");
    assert_eq!(
        read(json!("partially_refunded")),
        Ok(FinancialStatus::PartiallyRefunded)
    );
    assert_eq!(
        read(json!("PARTIALLY_PAID")),
        Ok(FinancialStatus::PartiallyPaid)
    );
    assert_eq!(read(json!("expired")), Ok(FinancialStatus::Voided));
    assert_eq!(read(Value::Null), Ok(FinancialStatus::Pending));
    let err = read(json!("mostly_paid")).unwrap_err();
    assert!(
        err.to_string().contains("financial_status") && err.to_string().contains("mostly_paid"),
        "{err}"
    );
}

#[test]
fn shipment_statuses_follow_the_table() {
    let table = [
        (Some("label_printed"), false, ShipmentStatus::LabelCreated),
        (Some("label_purchased"), true, ShipmentStatus::LabelCreated),
        (Some("confirmed"), true, ShipmentStatus::LabelCreated),
        (Some("in_transit"), false, ShipmentStatus::InTransit),
        (
            Some("out_for_delivery"),
            true,
            ShipmentStatus::OutForDelivery,
        ),
        (Some("delivered"), true, ShipmentStatus::Delivered),
        (Some("failure"), true, ShipmentStatus::Exception),
        (Some("attempted_delivery"), true, ShipmentStatus::Exception),
        (Some("IN_TRANSIT"), false, ShipmentStatus::InTransit),
        (Some("FULFILLED"), true, ShipmentStatus::InTransit),
        (Some("mystery"), false, ShipmentStatus::LabelCreated),
        (None, true, ShipmentStatus::InTransit),
        (None, false, ShipmentStatus::LabelCreated),
    ];
    for (word, tracked, want) in table {
        assert_eq!(
            shipment_status(word, tracked),
            want,
            "{word:?} tracked={tracked}"
        );
    }
}

#[test]
fn facts_without_an_order_id_name_the_order() {
    let body = json!({ "id": 9, "name": "#1001.2", "status": "success",
                       "updated_at": "2025-09-28T09:15:00-04:00" });
    let fact = parse(Topic::FulfillmentsUpdate, &body.to_string()).unwrap();
    assert_eq!(fact.order(), OrderRef::Name("#1001".into()));
    let body = json!({ "id": 3, "status": "open", "name": "#1001-R2" });
    assert_eq!(
        return_of(Topic::ReturnsApprove, &body.to_string()).order,
        OrderRef::Name("#1001".into())
    );
    let body = json!({ "id": 3, "status": "open", "order_name": "#1009" });
    assert_eq!(
        return_of(Topic::ReturnsApprove, &body.to_string()).order,
        OrderRef::Name("#1009".into())
    );
    let body = json!({ "id": 3, "status": "open" });
    assert_eq!(
        parse(Topic::ReturnsApprove, &body.to_string()),
        Err(PayloadError::Missing("order_id"))
    );
}

#[test]
fn customer_names_fall_back_to_addresses_then_email() {
    let body = |extra: Value| {
        let mut b = json!({ "id": 1, "name": "#1", "currency": "USD", "total_price": "1.00",
                            "created_at": "2025-09-27T10:03:00Z", "updated_at": "2025-09-27T10:03:00Z" });
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        order_of(Topic::OrdersCreate, &b.to_string())
    };
    let o =
        body(json!({ "customer": { "first_name": "  Grace ", "last_name": null }, "email": "" }));
    assert_eq!(
        (o.customer_name.as_str(), o.customer_email),
        ("Grace", None)
    );
    let o = body(
        json!({ "customer": null, "billing_address": { "first_name": "Alan", "last_name": "Turing" } }),
    );
    assert_eq!(o.customer_name, "Alan Turing");
    let o = body(json!({ "email": "x@example.com" }));
    assert_eq!(o.customer_name, "x@example.com");
    assert_eq!(body(json!({})).customer_name, UNKNOWN_CUSTOMER);
}
