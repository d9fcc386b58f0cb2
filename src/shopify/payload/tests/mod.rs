//! Tests of the reader, by seam; the helpers and the fixtures they share, and the tests of fields
//! and money.

mod graphql;
mod mapping;
mod webhook;

use super::mapping::*;
use super::*;
use crate::domain::{FinancialStatus, FulfillmentStatus, Priority, ShipmentStatus};
use crate::order_ref::OrderRef;
use crate::shopify::fixtures::*;
use crate::shopify::{
    Ingest, ShopifyOrder, ShopifyRefund, ShopifyReturn, ShopifyReturnStatus, Topic,
};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

const ORDER_GID: &str = "gid://shopify/Order/820982911946154508";

fn received() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 3, 12, 0, 0).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn parse(topic: Topic, body: &str) -> Result<Ingest, PayloadError> {
    parse_webhook(topic, body.as_bytes(), received())
}

fn order_of(topic: Topic, body: &str) -> ShopifyOrder {
    match parse(topic, body).unwrap() {
        Ingest::Order(o) => o,
        other => panic!("expected an order, got {other:?}"),
    }
}

fn return_of(topic: Topic, body: &str) -> ShopifyReturn {
    match parse(topic, body).unwrap() {
        Ingest::Return(r) => r,
        other => panic!("expected a return, got {other:?}"),
    }
}

fn refund_of(body: &Value) -> ShopifyRefund {
    match parse(Topic::RefundsCreate, &body.to_string()).unwrap() {
        Ingest::Refund(r) => r,
        other => panic!("expected a refund, got {other:?}"),
    }
}

#[test]
fn decimals_parse_and_format_without_float_error() {
    assert_eq!(parse_decimal("10.00"), Some(10_000_000));
    assert_eq!(parse_decimal("199.0"), Some(199_000_000));
    assert_eq!(parse_decimal("-3.5"), Some(-3_500_000));
    assert_eq!(parse_decimal("1e-7"), Some(0));
    assert_eq!(parse_decimal("5e-7"), Some(1));
    assert_eq!(parse_decimal("1.5E2"), Some(150_000_000));
    assert_eq!(parse_decimal(".5"), Some(500_000));
    for bad in ["", "-", "1.2.3", "12a", "NaN", "1e", "1e99999"] {
        assert_eq!(parse_decimal(bad), None, "{bad:?}");
    }
    let sum: i128 = ["0.1", "0.2"]
        .iter()
        .map(|s| parse_decimal(s).unwrap())
        .sum();
    assert_eq!(format_amount(sum, 2), "0.30");
    assert_eq!(format_amount(-1_005_000, 2), "-1.01");
    assert_eq!(format_amount(4_000, 2), "0.00");
    assert_eq!(format_amount(-4_000, 2), "0.00");
    assert_eq!(format_amount(1_234_567_500, 3), "1234.568");
    assert_eq!(format_amount(1_500_000_000, 0), "1500");
    assert_eq!(minor_digits("jpy"), 0);
    assert_eq!(minor_digits("KWD"), 3);
}

#[test]
fn every_amount_written_reads_back_however_large() {
    // 10^30 units is 10^36 millionths: it fits, written out or with an exponent.
    let big = format!("1{}", "0".repeat(30));
    assert_eq!(parse_decimal(&big), parse_decimal("1e30"));
    assert_eq!(parse_decimal(&big), Some(10i128.pow(36)));
    for m in [10i128.pow(36), -(10i128.pow(36)), i128::MAX, -i128::MAX] {
        assert_eq!(parse_decimal(&format_amount(m, 6)), Some(m), "{m}");
    }
    // Beyond i128 is still refused.
    assert_eq!(parse_decimal(&format!("{}.0", i128::MAX)), None);
    assert_eq!(parse_decimal(&"9".repeat(40)), None);
}

#[test]
fn offsets_are_converted_to_utc() {
    let o = order_of(Topic::OrdersCancelled, ORDERS_CANCELLED);
    assert_eq!(o.cancelled_at, Some(utc("2025-09-27T16:40:00Z")));
    assert_eq!(o.cancel_reason.as_deref(), Some("customer"));
    assert_eq!(o.financial_status, FinancialStatus::Voided);
}

#[test]
fn fixtures_escape_slashes_as_shopify_does() {
    assert!(FULFILLMENTS_CREATE.contains(r"https:\/\/"));
    assert!(RETURNS_UPDATE.contains(r"https:\/\/"));
}
