//! Shared strategies: hostile text, JSON numbers of every shape, Shopify's field names, and
//! arbitrary JSON built from them.

use proptest::prelude::*;
use serde_json::{json, Value};

/// Text a client or a payload might send: any Unicode, numbers of every size and shape, times,
/// GIDs, order names, Shopify's words, blanks.
pub(super) fn hostile_text() -> BoxedStrategy<String> {
    prop_oneof![
        3 => ".{0,24}",
        2 => "[-+]?[0-9]{0,45}(\\.[0-9]{0,12})?([eE][-+]?[0-9]{1,11})?",
        2 => "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,12})?(Z|[+-][0-9]{2}:[0-9]{2}))?",
        1 => "gid://shopify/(Order|Fulfillment|Refund|Return)/[0-9]{0,25}",
        1 => "#[0-9]{1,6}((\\.|-R)[0-9]{0,3})?",
        1 => "ofs:[0-9a-zA-Z]{0,30}",
        2 => prop::sample::select(WORDS).prop_map(str::to_owned),
        1 => "[ \t\n\u{a0}\u{3000}]{0,3}",
    ]
    .boxed()
}

/// Words Shopify and Sync use, in either case, so that some mutations land on a meaning.
const WORDS: &[&str] = &[
    "",
    "paid",
    "PAID",
    "pending",
    "authorized",
    "refunded",
    "partially_refunded",
    "voided",
    "expired",
    "fulfilled",
    "partial",
    "PARTIALLY_FULFILLED",
    "on_hold",
    "unfulfilled",
    "cancelled",
    "CANCELED",
    "error",
    "failure",
    "success",
    "refund",
    "open",
    "OPEN",
    "requested",
    "declined",
    "closed",
    "in_transit",
    "delivered",
    "label_printed",
    "priority:urgent",
    "priority:asap",
    "express",
    "USD",
    "JPY",
    "KWD",
    "null",
    "NaN",
    "Infinity",
    "-0",
    "1e999999",
    "0.005",
    "next",
    "previous",
    "returns",
    "unassigned",
];

/// JSON numbers of every kind serde can hold: integers at both ends of 64 bits, finite floats,
/// and the values that used to trip money code.
fn json_number() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        prop::sample::select(vec![
            0.0,
            -0.0,
            1e-7,
            5e-7,
            0.005,
            598.94,
            1e32,
            -1e32,
            1e300,
            f64::MAX,
            f64::MIN_POSITIVE,
        ])
        .prop_map(|f| json!(f)),
    ]
    .boxed()
}

/// The names of the fields the mapping reads (REST and GraphQL), so random objects and targeted
/// mutations hit them.
pub(super) const FIELDS: &[&str] = &[
    "id",
    "admin_graphql_api_id",
    "name",
    "order_number",
    "email",
    "currency",
    "total_price",
    "financial_status",
    "fulfillment_status",
    "cancelled_at",
    "cancel_reason",
    "created_at",
    "updated_at",
    "processed_at",
    "tags",
    "shipping_lines",
    "title",
    "code",
    "customer",
    "first_name",
    "last_name",
    "billing_address",
    "shipping_address",
    "fulfillments",
    "status",
    "shipment_status",
    "tracking_number",
    "tracking_numbers",
    "tracking_company",
    "order",
    "order_id",
    "order_name",
    "transactions",
    "kind",
    "amount",
    "refund_line_items",
    "subtotal",
    "total_tax",
    "subtotal_set",
    "shop_money",
    "currency_code",
    "label",
    "label_url",
    "reverse_deliveries",
    "reverse_fulfillment_orders",
    "data",
    "orders",
    "pageInfo",
    "hasNextPage",
    "endCursor",
    "edges",
    "node",
    "legacyResourceId",
    "createdAt",
    "updatedAt",
    "cancelledAt",
    "cancelReason",
    "displayFinancialStatus",
    "displayFulfillmentStatus",
    "totalPriceSet",
    "shopMoney",
    "currencyCode",
    "firstName",
    "lastName",
    "billingAddress",
    "shippingAddress",
    "shippingLines",
    "nodes",
    "displayStatus",
    "trackingInfo",
    "number",
    "company",
    "errors",
    "message",
    "extensions",
    "cost",
    "requestedQueryCost",
    "actualQueryCost",
    "throttleStatus",
    "maximumAvailable",
    "currentlyAvailable",
    "restoreRate",
];

pub(super) fn json_key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(FIELDS).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,10}",
        1 => ".{0,8}",
    ]
    .boxed()
}

/// Any JSON value, at most four levels deep.
pub(super) fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => json_number(),
        4 => hostile_text().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((json_key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
    .boxed()
}
