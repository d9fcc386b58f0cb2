//! Part 3, the Shopify mapping, continued: money. Amounts round-trip through text, totals come out
//! exactly as sent, and refunds sum exactly or are refused.

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};

use orders_core::shopify::apply::{apply_fact, apply_order};
use orders_core::shopify::payload::{
    format_amount, minor_digits, parse_decimal, parse_graphql_page, parse_webhook, PayloadError,
};
use orders_core::shopify::{Ingest, Topic};
use orders_core::Thresholds;

use super::shopify::{fixture, now, order_of, told, GRAPHQL_ORDERS_PAGE, ORDERS_CREATE, WEBHOOKS};
use super::strategies::hostile_text;
use super::CASES;

/// Minor units written with `digits` decimals, as Shopify writes amounts.
fn money_text(minor: i64, digits: u32) -> String {
    format_amount(i128::from(minor) * 10i128.pow(6 - digits), digits)
}

fn currency() -> impl Strategy<Value = (&'static str, u32)> {
    prop::sample::select(vec![
        ("USD", 2),
        ("eur", 2),
        ("JPY", 0),
        ("krw", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("XYZ", 2),
    ])
}

#[test]
fn the_fixtures_money_comes_out_exactly_as_it_went_in() {
    for (topic, body) in WEBHOOKS {
        let doc = fixture(body);
        match parse_webhook(*topic, body.as_bytes(), now()) {
            Ok(Ingest::Order(o)) => {
                let sent = doc["total_price"].as_str().unwrap();
                assert_eq!(o.total_price, sent, "{topic}");
                let m = parse_decimal(sent).unwrap();
                assert_eq!(format_amount(m, minor_digits(&o.currency)), sent);
                let record = apply_order(None, &o, now()).unwrap().record;
                assert_eq!(record.total_price, sent);
                let shown = record.to_order(now(), &Thresholds::default());
                assert_eq!(shown.total_price, sent);
            }
            Ok(Ingest::Refund(r)) => {
                // The successful refund transactions, summed exactly.
                let sum: i128 = doc["transactions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|t| t["kind"] == "refund" && t["status"] == "success")
                    .map(|t| parse_decimal(t["amount"].as_str().unwrap()).unwrap())
                    .sum();
                assert_eq!(r.amount, format_amount(sum, minor_digits(&r.currency)));
                assert_eq!(r.amount, "208.04");
                let told = told();
                let applied = apply_fact(told, &Ingest::Refund(r), now()).unwrap();
                assert_eq!(applied.entries[0].details, "Refunded 208.04 USD.");
            }
            _ => {}
        }
    }
    let page = parse_graphql_page(GRAPHQL_ORDERS_PAGE.as_bytes()).unwrap();
    let doc = fixture(GRAPHQL_ORDERS_PAGE);
    for (edge, order) in doc["data"]["orders"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&page.orders)
    {
        let order = order.as_ref().unwrap();
        let sent = edge["node"]["totalPriceSet"]["shopMoney"]["amount"]
            .as_str()
            .unwrap();
        assert_eq!(
            parse_decimal(&order.total_price),
            parse_decimal(sent),
            "{sent}"
        );
    }
}

#[test]
fn an_order_without_its_total_is_refused_by_webhook_and_poller_alike() {
    for (topic, body) in WEBHOOKS {
        if !matches!(
            topic,
            Topic::OrdersCreate | Topic::OrdersPaid | Topic::OrdersUpdated | Topic::OrdersCancelled
        ) {
            continue;
        }
        for null in [false, true] {
            let mut doc = fixture(body);
            if null {
                doc["total_price"] = Value::Null;
            } else {
                doc.as_object_mut().unwrap().remove("total_price");
            }
            assert_eq!(
                order_of(*topic, doc.to_string().as_bytes()),
                Err(PayloadError::Missing("total_price")),
                "{topic}"
            );
        }
    }
    let mut doc = fixture(GRAPHQL_ORDERS_PAGE);
    let edges = doc["data"]["orders"]["edges"].as_array_mut().unwrap();
    for (k, edge) in edges.iter_mut().enumerate() {
        let money = edge["node"]["totalPriceSet"]["shopMoney"]
            .as_object_mut()
            .unwrap();
        if k % 2 == 0 {
            money.remove("amount");
        } else {
            money.insert("amount".into(), Value::Null);
        }
    }
    let page = parse_graphql_page(doc.to_string().as_bytes()).unwrap();
    assert!(!page.orders.is_empty());
    for order in page.orders {
        assert_eq!(
            order,
            Err(PayloadError::Missing("totalPriceSet.shopMoney.amount"))
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Amounts written with a currency's decimals read back to the same millionths and are written
    /// again identically, up to 24 digits of minor units.
    #[test]
    fn amounts_round_trip_through_text(
        minor in prop_oneof![any::<i64>().prop_map(i128::from), -(10i128.pow(24))..10i128.pow(24)],
        digits in prop::sample::select(vec![0u32, 2, 3, 6]),
    ) {
        let m = minor * 10i128.pow(6 - digits);
        let text = format_amount(m, digits);
        prop_assert_eq!(parse_decimal(&text), Some(m), "{}", text);
        prop_assert_eq!(format_amount(parse_decimal(&text).unwrap(), digits), text);
    }

    /// Decimal text of any shape reads or is refused; never a panic, whatever the exponent.
    #[test]
    fn any_decimal_text_reads_or_is_refused(
        s in prop_oneof![
            hostile_text(),
            "[-+]?[0-9]{0,60}(\\.[0-9]{0,60})?([eE][-+]?[0-9]{1,12})?",
            "[-+]?0{0,200}[0-9]{0,3}\\.?[0-9]{0,3}0{0,200}",
        ],
    ) {
        // What reads is written back and reads again: exactly at six decimals, and at fewer (which
        // round) short of the very top of i128, where rounding up would overflow.
        if let Some(m) = parse_decimal(&s) {
            prop_assert_eq!(parse_decimal(&format_amount(m, 6)), Some(m), "from {:?}", s);
            if m.unsigned_abs() <= (i128::MAX - 1_000_000).unsigned_abs() {
                for digits in 0..6 {
                    let written = format_amount(m, digits);
                    prop_assert!(parse_decimal(&written).is_some(), "{} from {:?}", written, s);
                }
            }
        }
    }

    /// A REST total, string or JSON number, comes out exactly as Shopify wrote it, stored and
    /// served: the string as sent, the number with the currency's decimals (never through a float's
    /// noise).
    #[test]
    fn a_rest_total_comes_out_exactly_as_sent(
        minor in -(10i64.pow(12))..10i64.pow(12),
        (code, digits) in currency(),
        as_number in any::<bool>(),
        pad in "[ \t]{0,2}",
    ) {
        let text = money_text(minor, digits);
        let mut doc = fixture(ORDERS_CREATE);
        doc["currency"] = json!(code);
        doc["total_price"] = if as_number {
            serde_json::from_str(&text).unwrap()
        } else {
            json!(format!("{pad}{text}{pad}"))
        };
        let o = order_of(Topic::OrdersCreate, doc.to_string().as_bytes()).unwrap();
        prop_assert_eq!(&o.total_price, &text);
        let record = apply_order(None, &o, now()).unwrap().record;
        prop_assert_eq!(&record.total_price, &text);
        prop_assert_eq!(record.to_order(now(), &Thresholds::default()).total_price, text);
    }

    /// The poller's amount, however many trailing zeros GraphQL keeps or drops, is written with the
    /// currency's decimals, as the webhook's is.
    #[test]
    fn a_graphql_total_is_written_with_the_currency_s_decimals(
        minor in -(10i64.pow(12))..10i64.pow(12),
        (code, digits) in currency(),
        extra_zeros in 0usize..4,
        drop_zeros in any::<bool>(),
        as_number in any::<bool>(),
    ) {
        let text = money_text(minor, digits);
        let mut sent = text.clone();
        if drop_zeros && sent.contains('.') {
            sent = sent.trim_end_matches('0').trim_end_matches('.').to_owned();
        }
        if extra_zeros > 0 {
            if !sent.contains('.') {
                sent.push('.');
            }
            sent.push_str(&"0".repeat(extra_zeros));
        }
        let mut doc = fixture(GRAPHQL_ORDERS_PAGE);
        let money = &mut doc["data"]["orders"]["edges"][0]["node"]["totalPriceSet"]["shopMoney"];
        money["currencyCode"] = json!(code);
        money["amount"] = if as_number { serde_json::from_str(&sent).unwrap() } else { json!(sent) };
        let page = parse_graphql_page(doc.to_string().as_bytes()).unwrap();
        let order = page.orders[0].as_ref().unwrap();
        prop_assert_eq!(&order.total_price, &text, "sent {}", sent);
    }

    /// A refund's amount is the exact sum of its successful transactions (failed ones and other
    /// kinds left out), or of its line items when it has none.
    #[test]
    fn a_refund_sums_exactly(
        amounts in prop::collection::vec((-(10i64.pow(9))..10i64.pow(9), any::<bool>()), 0..8),
        (code, digits) in currency(),
        line_items in any::<bool>(),
    ) {
        let mut sum = 0i64;
        let body = if line_items {
            let items: Vec<Value> = amounts
                .iter()
                .map(|(m, tax)| {
                    sum += m;
                    let text = money_text(*m, digits);
                    if *tax {
                        json!({ "subtotal": 0, "total_tax": serde_json::from_str::<Value>(&text).unwrap() })
                    } else {
                        json!({ "subtotal": serde_json::from_str::<Value>(&text).unwrap() })
                    }
                })
                .collect();
            json!({ "id": 1, "order_id": 5, "currency": code, "refund_line_items": items })
        } else {
            let transactions: Vec<Value> = amounts
                .iter()
                .map(|(m, counted)| {
                    if *counted {
                        sum += m;
                    }
                    let status = if *counted { "success" } else { "failure" };
                    json!({ "kind": "refund", "status": status, "amount": money_text(*m, digits), "currency": code })
                })
                .collect();
            json!({ "id": 1, "order_id": 5, "transactions": transactions,
                    "refund_line_items": [{ "subtotal": "999.99" }] })
        };
        let fact = parse_webhook(Topic::RefundsCreate, body.to_string().as_bytes(), now()).unwrap();
        let Ingest::Refund(r) = fact else { return Err(TestCaseError::fail("not a refund")) };
        if line_items || amounts.iter().any(|(_, counted)| *counted) {
            prop_assert_eq!(r.amount, money_text(sum, digits));
        }
    }

    /// Refunds of huge amounts: the exact sum, or refused naming the field at the first amount that
    /// does not read or makes the sum overflow; never a panic or a wrapped total.
    #[test]
    fn refunds_too_large_to_add_up_are_refused(
        amounts in prop::collection::vec(
            prop_oneof![
                "[1-9][0-9]{20,29}(\\.[0-9]{1,6})?",
                "-?[1-9]e3[0-2]",
                "[1-9]{1,3}e3[0-2]",
            ],
            1..6,
        ),
        line_items in any::<bool>(),
    ) {
        let body = if line_items {
            let items: Vec<Value> = amounts.iter().map(|a| json!({ "subtotal": a, "total_tax": a })).collect();
            json!({ "id": 1, "order_id": 5, "refund_line_items": items })
        } else {
            let ts: Vec<Value> = amounts.iter().map(|a| json!({ "amount": a })).collect();
            json!({ "id": 1, "order_id": 5, "transactions": ts })
        };
        // The sum in the order the mapping adds, refused at the first amount that does not read
        // or does not fit.
        let fields: &[&'static str] = if line_items {
            &["refund_line_items.subtotal", "refund_line_items.total_tax"]
        } else {
            &["transactions.amount"]
        };
        let mut want: Result<i128, &'static str> = Ok(0);
        for a in &amounts {
            for f in fields {
                want = want.and_then(|sum| {
                    parse_decimal(a).and_then(|m| sum.checked_add(m)).ok_or(*f)
                });
            }
        }
        match (parse_webhook(Topic::RefundsCreate, body.to_string().as_bytes(), now()), want) {
            (Ok(Ingest::Refund(r)), Ok(sum)) => prop_assert_eq!(r.amount, format_amount(sum, 2)),
            (Err(PayloadError::Invalid { field, .. }), Err(f)) => prop_assert_eq!(field, f),
            (got, want) => {
                return Err(TestCaseError::fail(format!("got {got:?}, want {want:?}")));
            }
        }
    }

    /// A topic header of any shape is one Sync handles or none; never a panic.
    #[test]
    fn any_topic_header_is_one_sync_handles_or_none(raw in prop_oneof![
        ".{0,30}",
        prop::sample::select(Topic::ALL).prop_map(|t| t.as_str().to_uppercase()),
        (prop::sample::select(Topic::ALL), "[ \t]{0,2}").prop_map(|(t, p)| format!("{p}{t}{p}")),
    ]) {
        if let Some(t) = Topic::parse(&raw) {
            prop_assert!(t.as_str().eq_ignore_ascii_case(raw.trim()));
        }
    }
}
