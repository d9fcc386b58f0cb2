//! Property tests on hostile input to the three parsers that read what strangers send: the `ofs:`
//! cursor codec, the list query (`GET /sync/orders`) and the Shopify mapping (webhook bodies, the
//! poller's GraphQL pages, and what applying their facts does to a stored order).
//!
//! The unit tests beside the code cover the contract on well-formed input; these properties throw
//! arbitrary text, bytes and JSON at the same functions, and mutate the real fixtures in
//! `tests/fixtures/shopify/` a few fields at a time. Nothing may panic; every refusal is a typed error
//! (`CursorError`, a `QueryError` naming a parameter, a `PayloadError`); what is accepted must
//! round-trip, and money must come out exactly as it went in.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, SecondsFormat, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};

use orders_core::cursor::CursorError;
use orders_core::order_ref::ORDER_GID_PREFIX;
use orders_core::query::{parse_shop_domain, AssigneeFilter, OrderFilter, UNASSIGNED};
use orders_core::record::OrderRecord;
use orders_core::shopify::apply::{apply_fact, apply_order, Applied};
use orders_core::shopify::payload::{
    format_amount, graphql_throttle, minor_digits, parse_decimal, parse_graphql_page,
    parse_webhook, PayloadError,
};
use orders_core::shopify::{Ingest, ShopifyOrder, Topic};
use orders_core::{
    Cursor, Direction, ListQuery, OrderRef, OrderStatus, PageWindow, Priority, Tab, Thresholds,
};

/// Cases per property: enough to reach the odd corners, few enough that the file runs in seconds
/// in a debug build.
const CASES: u32 = 256;

// =============================================================================================
// Shared strategies.

/// Text a client or a payload might send: any Unicode, numbers of every size and shape, times,
/// GIDs, order names, Shopify's words, blanks.
fn hostile_text() -> BoxedStrategy<String> {
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
const FIELDS: &[&str] = &[
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

fn json_key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(FIELDS).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,10}",
        1 => ".{0,8}",
    ]
    .boxed()
}

/// Any JSON value, at most four levels deep.
fn json_value() -> BoxedStrategy<Value> {
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

// =============================================================================================
// 1. The cursor codec.

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

fn base36(mut n: u128) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(BASE36[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// The value of base-36 digits (ASCII letters in either case), `None` beyond `u128`.
fn value_of(digits: &str) -> Option<u128> {
    digits
        .trim_start_matches('0')
        .chars()
        .try_fold(0u128, |n, c| {
            n.checked_mul(36)?.checked_add(u128::from(c.to_digit(36)?))
        })
}

/// What `ofs:<tail>` must parse to: digits are read until the first character that is not an ASCII
/// base-36 digit, and the first of an overflow or that character decides the error.
fn expected_cursor(tail: &str) -> Result<Cursor, CursorError> {
    if tail.is_empty() {
        return Err(CursorError::Malformed);
    }
    let end = tail
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(tail.len());
    let fits = value_of(&tail[..end])
        .and_then(|n| u64::try_from(n).ok())
        .map(Cursor);
    match fits {
        None => Err(CursorError::TooLarge),
        Some(_) if end < tail.len() => Err(CursorError::Malformed),
        Some(c) => Ok(c),
    }
}

/// Mixes the case of base-36 digits.
fn mixed_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// What may follow `ofs:`: junk, Unicode digits and letters, long runs of zeros, values at the edge
/// of 64 bits and far beyond.
fn cursor_tail() -> BoxedStrategy<String> {
    let edge = u128::from(u64::MAX);
    prop_oneof![
        ".{0,40}",
        "[0-9a-zA-Z]{0,40}",
        "0{0,300}[0-9a-zA-Z]{0,14}",
        "[0-9a-zA-Z]{0,14}[^0-9a-zA-Z][0-9a-zA-Z]{0,14}",
        "[-+ _.]{0,2}[0-9a-z]{1,12}[ \t]{0,2}",
        "[０-９٠-٩߀-߉ⅰ-ⅿＡ-Ｚ]{1,6}",
        ((edge - 2000)..=(edge + 2000), any::<u64>())
            .prop_map(|(n, mask)| mixed_case(&base36(n), mask)),
        (0u32..=24, -1i8..=1)
            .prop_map(|(k, d)| base36(36u128.pow(k).saturating_add_signed(i128::from(d)))),
        ("z{13,40}", "[^0-9a-zA-Z]{0,2}").prop_map(|(z, junk)| format!("{z}{junk}")),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Whatever follows the prefix, the answer is exactly the one the digits call for: a cursor, a
    /// malformed one at the first stray character, or too large at the first digit that overflows.
    #[test]
    fn a_cursor_tail_of_any_kind_parses_to_what_its_digits_say(tail in cursor_tail()) {
        let s = format!("ofs:{tail}");
        prop_assert_eq!(s.parse::<Cursor>(), expected_cursor(&tail), "{:?}", s);
    }

    /// A value that parses is written back in the one canonical form: lower case, no leading zeros.
    #[test]
    fn a_parsed_cursor_is_written_back_canonically(tail in cursor_tail()) {
        if let Ok(c) = format!("ofs:{tail}").parse::<Cursor>() {
            let lower = tail.to_ascii_lowercase();
            let digits = lower.trim_start_matches('0');
            let want = format!("ofs:{}", if digits.is_empty() { "0" } else { digits });
            prop_assert_eq!(c.to_string(), want);
            prop_assert!(c.to_string().len() <= "ofs:".len() + 13);
        }
    }

    /// Only the exact, lower-case `ofs:` prefix is a cursor, whatever the digits.
    #[test]
    fn anything_but_the_exact_prefix_is_malformed(
        prefix in prop_oneof![
            Just(String::new()),
            prop::sample::select(vec!["OFS:", "Ofs:", "ofs", "ofs;", "ofs::", " ofs:", "\u{feff}ofs:", "оfs:", "ofs\u{0}:", "offset:"])
                .prop_map(str::to_owned),
            "[a-z]{0,4}:?",
        ],
        n in any::<u64>(),
    ) {
        let digits = base36(u128::from(n));
        let s = format!("{prefix}{digits}");
        match s.strip_prefix("ofs:") {
            Some(tail) => prop_assert_eq!(s.parse::<Cursor>(), expected_cursor(tail)),
            None => prop_assert_eq!(s.parse::<Cursor>(), Err(CursorError::Malformed), "{:?}", s),
        }
    }

    /// Offsets at the edges (0, powers of 36 and their neighbours, the top of 64 bits) survive the
    /// trip through JSON, where serde and `FromStr` must agree.
    #[test]
    fn edge_offsets_survive_json_and_serde_agrees_with_from_str(
        n in prop_oneof![
            (0u32..=12, -1i8..=1).prop_map(|(k, d)| 36u64.pow(k).saturating_add_signed(i64::from(d))),
            (u64::MAX - 1000)..=u64::MAX,
            any::<u64>(),
        ],
        tail in cursor_tail(),
        junk in json_value(),
    ) {
        let c = Cursor(n);
        let v = serde_json::to_value(c).unwrap();
        prop_assert_eq!(&v, &json!(c.to_string()));
        prop_assert_eq!(serde_json::from_value::<Cursor>(v).unwrap(), c);
        let s = format!("ofs:{tail}");
        prop_assert_eq!(serde_json::from_value::<Cursor>(json!(s)).ok(), s.parse::<Cursor>().ok());
        if !junk.is_string() {
            prop_assert!(serde_json::from_value::<Cursor>(junk).is_err());
        }
    }
}

#[test]
fn huge_cursors_are_refused_or_read_without_trouble() {
    let zeros = "0".repeat(100_000);
    assert_eq!(format!("ofs:{zeros}").parse(), Ok(Cursor(0)));
    assert_eq!(format!("ofs:{zeros}1e").parse(), Ok(Cursor(50)));
    assert_eq!(
        format!("ofs:{}", "z".repeat(100_000)).parse::<Cursor>(),
        Err(CursorError::TooLarge)
    );
    assert_eq!(
        format!("ofs:1e{}", "é".repeat(100_000)).parse::<Cursor>(),
        Err(CursorError::Malformed)
    );
    // One past the largest offset, in both cases.
    let past = base36(u128::from(u64::MAX) + 1);
    assert_eq!(
        format!("ofs:{past}").parse::<Cursor>(),
        Err(CursorError::TooLarge)
    );
    assert_eq!(
        format!("ofs:{}", past.to_ascii_uppercase()).parse::<Cursor>(),
        Err(CursorError::TooLarge)
    );
}

// =============================================================================================
// 2. The list query.

const KNOWN: &[&str] = &[
    "shop_domain",
    "tab",
    "pageSize",
    "cursor",
    "direction",
    "status",
    "priority",
    "assigned_to",
    "date_start",
    "date_end",
];

/// A parameter name: mostly ones the query reads, sometimes near misses and junk.
fn query_key() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::sample::select(KNOWN).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["page_size", "Tab", "PAGESIZE", "status[]", "shop", " tab", "tab "])
            .prop_map(str::to_owned),
        1 => ".{0,10}",
    ]
    .boxed()
}

/// A parameter value: valid words, lists with empty items and spaces, huge numbers, dates, cursors,
/// arbitrary Unicode, blanks.
fn query_value() -> BoxedStrategy<String> {
    let word = prop::sample::select(vec![
        "all",
        "returns",
        "tracking_pending",
        "unfulfilled",
        "on_hold",
        "cancelled",
        "fulfilled",
        "low",
        "normal",
        "urgent",
        "HIGH",
        "next",
        "previous",
        "Next",
        "unassigned",
        "sam",
        "nope",
        "",
    ]);
    prop_oneof![
        3 => hostile_text(),
        2 => prop::collection::vec((word, "[ \t]{0,2}", "[ \t]{0,2}"), 0..6).prop_map(|items| {
            items.into_iter().map(|(w, a, b)| format!("{a}{w}{b}")).collect::<Vec<_>>().join(",")
        }),
        1 => "[0-9]{1,40}",
        1 => "0{0,30}[0-9]{1,3}",
        1 => "[-+]?[0-9]{1,3}(\\.[0-9]{1,3})?",
        1 => "ofs:.{0,16}",
        1 => Just(String::new()),
    ]
    .boxed()
}

fn shop_domain_text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => "[ \t]{0,2}[a-zA-Z0-9]([a-zA-Z0-9.-]{0,40}[a-zA-Z0-9])?[ \t]{0,2}",
        1 => ".{0,30}",
        1 => "[a-z0-9.-]{250,260}",
        1 => "[.-][a-z]{1,5}|[a-z]{1,5}[.-]",
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// A shop domain is refused with a message, or accepted as a lower-case ASCII name of at most 255
    /// characters that reads back as itself.
    #[test]
    fn a_shop_domain_is_refused_or_read_canonically(raw in shop_domain_text()) {
        match parse_shop_domain(&raw) {
            Ok(d) => {
                prop_assert!(!d.is_empty() && d.len() <= 255);
                prop_assert!(d.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'));
                prop_assert_eq!(d.clone(), raw.trim().to_ascii_lowercase());
                prop_assert_eq!(parse_shop_domain(&d), Ok(d));
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
    }

    /// Any parameters at all: a query, or an error naming a parameter the request actually gave
    /// (or the shop, which is required). A query that parses is within the contract and its links
    /// rebuild it exactly.
    #[test]
    fn any_parameters_parse_or_name_the_parameter_at_fault(
        pairs in prop::collection::vec((query_key(), query_value()), 0..12),
        shop in prop::option::of(shop_domain_text()),
    ) {
        match ListQuery::parse(pairs.iter().map(|(k, v)| (k, v)), shop.as_deref()) {
            Ok(q) => {
                prop_assert!((1..=250).contains(&q.page_size));
                prop_assert_eq!(parse_shop_domain(&q.shop_domain), Ok(q.shop_domain.clone()));
                check_links_rebuild(&q)?;
                let w = q.window();
                prop_assert!(w.limit <= u64::from(q.page_size));
                let info = w.page_info(w.limit as usize, u64::MAX);
                prop_assert_eq!(info.page_size, q.page_size);
            }
            Err(e) => {
                prop_assert!(KNOWN.contains(&e.param), "{}", e);
                prop_assert!(!e.message.is_empty());
                prop_assert!(e.to_string().contains(e.param));
                let given = pairs.iter().any(|(k, v)| k == e.param && !v.trim().is_empty());
                prop_assert!(given || e.param == "shop_domain", "{} was not given: {:?}", e.param, pairs);
            }
        }
    }

    /// A cursor given as a parameter is read as the codec reads it, spaces around it aside.
    #[test]
    fn a_cursor_parameter_is_read_as_the_codec_reads_it(tail in cursor_tail(), pad in "[ \t]{0,2}") {
        let raw = format!("{pad}ofs:{tail}{pad}");
        let q = ListQuery::parse([("cursor", raw.as_str())], Some("a.myshopify.com"));
        match raw.trim().parse::<Cursor>() {
            Ok(c) => prop_assert_eq!(q.map(|q| q.cursor), Ok(Some(c))),
            Err(_) => prop_assert_eq!(q.map_err(|e| e.param), Err("cursor")),
        }
    }

    /// A well-formed query however it is written (spaces, repeats, empty values, leading zeros,
    /// either case of cursor digits, lists split across parameters, unknown parameters, any order)
    /// reads as the query it means, and its links give it back.
    #[test]
    fn a_valid_query_written_any_way_reads_as_meant(spec in valid_query()) {
        let (pairs, shop_in_params, want) = spec;
        let got = ListQuery::parse(
            pairs.iter().map(|(k, v)| (k, v)),
            if shop_in_params { None } else { Some(want.shop_domain.as_str()) },
        );
        match (want.filter.created_from, want.filter.created_until) {
            (Some(from), Some(until)) if from > until => {
                prop_assert_eq!(got.map_err(|e| e.param), Err("date_start"));
            }
            _ => {
                let q = got.map_err(|e| TestCaseError::fail(format!("{e} for {pairs:?}")))?;
                prop_assert_eq!(&q, &want);
                check_links_rebuild(&q)?;
            }
        }
    }

    /// Pages at the very end of 64 bits: the window and pageInfo saturate instead of overflowing.
    #[test]
    fn windows_at_the_edge_of_64_bits_never_overflow(
        c in prop_oneof![any::<u64>(), (u64::MAX - 300)..=u64::MAX, 0u64..300],
        previous in any::<bool>(),
        ps in 1u32..=250,
        returned in 0usize..=250,
        total in prop_oneof![any::<u64>(), (u64::MAX - 300)..=u64::MAX],
    ) {
        let dir = if previous { Direction::Previous } else { Direction::Next };
        let w = PageWindow::new(Cursor(c), dir, ps);
        match dir {
            Direction::Next => prop_assert_eq!(w.offset, c),
            Direction::Previous => prop_assert_eq!(w.offset + w.limit, c),
        }
        let info = w.page_info(returned.min(w.limit as usize), total);
        prop_assert_eq!(info.has_next_page, info.next_cursor.is_some());
        if let Some(next) = info.next_cursor {
            prop_assert!(next.offset() >= w.offset && next.offset() < total);
        }
    }
}

/// The links of a query (`to_pairs`, which leaves the shop out) rebuild it, with the shop given by
/// the caller or as a parameter, and say the same thing again.
fn check_links_rebuild(q: &ListQuery) -> Result<(), TestCaseError> {
    let pairs = q.to_pairs();
    let again = ListQuery::parse(pairs.clone(), Some(&q.shop_domain));
    prop_assert_eq!(again.as_ref(), Ok(q));
    let mut with_shop = pairs.clone();
    with_shop.push(("shop_domain", q.shop_domain.clone()));
    let from_params = ListQuery::parse(with_shop, None);
    prop_assert_eq!(from_params.as_ref(), Ok(q));
    prop_assert_eq!(again.unwrap().to_pairs(), pairs);
    Ok(())
}

/// Surrounding blanks a value may carry (`trim` removes Unicode white space too).
fn blank() -> impl Strategy<Value = String> {
    "[ \t\u{a0}\u{3000}]{0,2}"
}

/// A scalar parameter written 1–3 times (same value, any padding), perhaps with empty copies.
fn scalar(key: &'static str, value: String) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((blank(), blank(), any::<bool>()), 1..4).prop_map(move |copies| {
        let mut out: Vec<(String, String)> = copies
            .iter()
            .map(|(a, b, empty)| {
                let v = if *empty {
                    format!("{a}{b}")
                } else {
                    format!("{a}{value}{b}")
                };
                (key.to_owned(), v)
            })
            .collect();
        // At least one copy carries the value.
        out.push((key.to_owned(), value.clone()));
        out
    })
}

/// A list parameter: the items split across 1–3 parameters, with spaces and empty items.
fn list<T: Copy + std::fmt::Debug + 'static>(
    key: &'static str,
    all: &'static [T],
    word: fn(T) -> &'static str,
) -> impl Strategy<Value = (Vec<(String, String)>, Vec<T>)> {
    prop::collection::vec(
        prop::collection::vec(
            (prop::sample::select(all), blank(), blank(), any::<bool>()),
            0..4,
        ),
        1..4,
    )
    .prop_map(move |groups| {
        let mut items = Vec::new();
        let pairs = groups
            .iter()
            .map(|group| {
                let text: Vec<String> = group
                    .iter()
                    .map(|(t, a, b, extra_comma)| {
                        items.push(*t);
                        format!("{a}{}{b}{}", word(*t), if *extra_comma { "," } else { "" })
                    })
                    .collect();
                (key.to_owned(), text.join(","))
            })
            .collect();
        (pairs, items)
    })
}

/// A date bound as written (`YYYY-MM-DD` or RFC 3339 with any offset), with the instants it means
/// as a start and as an end.
fn date_bound() -> impl Strategy<Value = (String, DateTime<Utc>, DateTime<Utc>)> {
    prop_oneof![
        (0i64..4_102_444_800).prop_map(|secs| {
            let day = DateTime::from_timestamp(secs, 0).unwrap().date_naive();
            let start = day.and_hms_opt(0, 0, 0).unwrap().and_utc();
            let end = start + Duration::days(1) - Duration::microseconds(1);
            (day.format("%Y-%m-%d").to_string(), start, end)
        }),
        (
            0i64..4_102_444_800,
            0u32..1_000_000_000,
            -1439i32..=1439,
            any::<bool>()
        )
            .prop_map(|(secs, nanos, minutes, z)| {
                let t = DateTime::from_timestamp(secs, nanos).unwrap();
                let offset = FixedOffset::east_opt(minutes * 60).unwrap();
                let shown = t
                    .with_timezone(&offset)
                    .to_rfc3339_opts(SecondsFormat::AutoSi, z && minutes == 0);
                (shown, t, t)
            }),
    ]
}

type QuerySpec = (Vec<(String, String)>, bool, ListQuery);

fn valid_query() -> impl Strategy<Value = QuerySpec> {
    let shop = "[a-zA-Z0-9]([a-zA-Z0-9.-]{0,30}[a-zA-Z0-9])?";
    (
        (shop, any::<bool>()),
        prop::option::of(prop::sample::select(Tab::ALL)),
        prop::option::of((1u32..=250, 0usize..4)),
        prop::option::of((any::<u64>(), 0usize..4, any::<u64>())),
        prop::option::of(prop::sample::select(vec![
            Direction::Next,
            Direction::Previous,
        ])),
        prop::option::of(list("status", OrderStatus::ALL, OrderStatus::as_str)),
        prop::option::of(list("priority", Priority::ALL, Priority::as_str)),
        // Any name but one with a NUL character, which no PostgreSQL text can hold (a 400).
        prop::option::of(prop_oneof![
            Just(UNASSIGNED.to_owned()),
            "[^\\x00\\n]{1,20}"
        ]),
        (
            prop::option::of(date_bound()),
            prop::option::of(date_bound()),
        ),
        prop::collection::vec(
            (
                prop::sample::select(vec!["page_size", "Tab", "sort", "", "shop", "STATUS"]),
                ".{0,10}",
            ),
            0..3,
        ),
    )
        .prop_flat_map(
            |(
                (shop, shop_in_params),
                tab,
                page,
                cursor,
                direction,
                statuses,
                priorities,
                assignee,
                (start, end),
                noise,
            )| {
                let mut scalars: Vec<BoxedStrategy<Vec<(String, String)>>> = Vec::new();
                let mut want = ListQuery::for_shop(shop.to_ascii_lowercase());
                if shop_in_params {
                    scalars.push(scalar("shop_domain", shop.clone()).boxed());
                }
                if let Some(t) = tab {
                    want.tab = t;
                    scalars.push(scalar("tab", t.as_str().to_owned()).boxed());
                }
                if let Some((n, zeros)) = page {
                    want.page_size = n;
                    scalars.push(scalar("pageSize", format!("{}{n}", "0".repeat(zeros))).boxed());
                }
                if let Some((n, zeros, mask)) = cursor {
                    want.cursor = Some(Cursor(n));
                    let digits = mixed_case(&base36(u128::from(n)), mask);
                    scalars.push(
                        scalar("cursor", format!("ofs:{}{digits}", "0".repeat(zeros))).boxed(),
                    );
                }
                if let Some(d) = direction {
                    want.direction = d;
                    scalars.push(scalar("direction", d.as_str().to_owned()).boxed());
                }
                let mut lists = Vec::new();
                if let Some((pairs, items)) = statuses {
                    want.filter.statuses = items;
                    lists.extend(pairs);
                }
                if let Some((pairs, items)) = priorities {
                    want.filter.priorities = items;
                    lists.extend(pairs);
                }
                if let Some(a) = assignee
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                {
                    want.filter.assigned_to = Some(if a == UNASSIGNED {
                        AssigneeFilter::Unassigned
                    } else {
                        AssigneeFilter::Person(a.clone())
                    });
                    scalars.push(scalar("assigned_to", a).boxed());
                }
                if let Some((raw, from, _)) = start {
                    want.filter.created_from = Some(from);
                    want.date_start = Some(raw.clone());
                    scalars.push(scalar("date_start", raw).boxed());
                }
                if let Some((raw, _, until)) = end {
                    want.filter.created_until = Some(until);
                    want.date_end = Some(raw.clone());
                    scalars.push(scalar("date_end", raw).boxed());
                }
                let noise: Vec<(String, String)> =
                    noise.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
                (
                    scalars,
                    Just(lists),
                    Just(noise),
                    Just(shop_in_params),
                    Just(want),
                )
            },
        )
        .prop_flat_map(|(scalars, lists, noise, shop_in_params, want)| {
            // Scalars and noise in any order; list parameters keep their relative order, which is
            // the order of their items.
            let mut pairs: Vec<(String, String)> = scalars.into_iter().flatten().collect();
            pairs.extend(noise);
            (
                Just(pairs).prop_shuffle(),
                prop::collection::vec(any::<Index>(), lists.len()),
                Just(lists),
                Just(shop_in_params),
                Just(want),
            )
        })
        .prop_map(|(mut pairs, at, lists, shop_in_params, want)| {
            // Insert each list parameter after the previous one, at a random place.
            let mut floor = 0;
            for (pair, at) in lists.into_iter().zip(at) {
                let place = floor + at.index(pairs.len() - floor + 1);
                pairs.insert(place, pair);
                floor = place + 1;
            }
            (pairs, shop_in_params, want)
        })
}

#[test]
fn query_filters_default_when_every_value_is_blank() {
    let blanks: Vec<(&str, &str)> = KNOWN[1..].iter().map(|k| (*k, " \u{3000} ")).collect();
    let q = ListQuery::parse(blanks, Some("acme.myshopify.com")).unwrap();
    assert_eq!(q, ListQuery::for_shop("acme.myshopify.com"));
    assert_eq!(q.filter, OrderFilter::default());
    assert!(q.to_pairs().is_empty());
}

#[test]
fn a_date_only_bound_at_the_end_of_the_calendar_does_not_overflow() {
    // The largest `YYYY-MM-DD` a 10-character bound can name, as a start and as an end.
    for date in ["9999-12-31", "0000-01-01"] {
        let q = ListQuery::parse(
            [("date_start", date), ("date_end", date)],
            Some("a.myshopify.com"),
        )
        .unwrap();
        let day = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        assert_eq!(
            q.filter.created_from,
            Some(day.and_hms_opt(0, 0, 0).unwrap().and_utc())
        );
    }
}

// =============================================================================================
// 3. The Shopify mapping.

const ORDERS_CREATE: &str = include_str!("fixtures/shopify/orders_create.json");
const ORDERS_PAID: &str = include_str!("fixtures/shopify/orders_paid.json");
const ORDERS_UPDATED: &str = include_str!("fixtures/shopify/orders_updated.json");
const ORDERS_CANCELLED: &str = include_str!("fixtures/shopify/orders_cancelled.json");
const FULFILLMENTS_CREATE: &str = include_str!("fixtures/shopify/fulfillments_create.json");
const FULFILLMENTS_UPDATE: &str = include_str!("fixtures/shopify/fulfillments_update.json");
const REFUNDS_CREATE: &str = include_str!("fixtures/shopify/refunds_create.json");
const RETURNS_REQUEST: &str = include_str!("fixtures/shopify/returns_request.json");
const RETURNS_APPROVE: &str = include_str!("fixtures/shopify/returns_approve.json");
const RETURNS_DECLINE: &str = include_str!("fixtures/shopify/returns_decline.json");
const RETURNS_CANCEL: &str = include_str!("fixtures/shopify/returns_cancel.json");
const RETURNS_CLOSE: &str = include_str!("fixtures/shopify/returns_close.json");
const RETURNS_REOPEN: &str = include_str!("fixtures/shopify/returns_reopen.json");
const RETURNS_UPDATE: &str = include_str!("fixtures/shopify/returns_update.json");
const RETURNS_UPDATE_LINE_ITEMS: &str =
    include_str!("fixtures/shopify/returns_update_line_items.json");
const GRAPHQL_ORDERS_PAGE: &str = include_str!("fixtures/shopify/graphql_orders_page.json");

/// Every webhook fixture with its topic, in the order of the story they tell.
const WEBHOOKS: &[(Topic, &str)] = &[
    (Topic::OrdersCreate, ORDERS_CREATE),
    (Topic::OrdersPaid, ORDERS_PAID),
    (Topic::FulfillmentsCreate, FULFILLMENTS_CREATE),
    (Topic::FulfillmentsUpdate, FULFILLMENTS_UPDATE),
    (Topic::OrdersUpdated, ORDERS_UPDATED),
    (Topic::RefundsCreate, REFUNDS_CREATE),
    (Topic::ReturnsRequest, RETURNS_REQUEST),
    (Topic::ReturnsApprove, RETURNS_APPROVE),
    (Topic::ReturnsUpdate, RETURNS_UPDATE),
    (Topic::ReturnsUpdate, RETURNS_UPDATE_LINE_ITEMS),
    (Topic::ReturnsDecline, RETURNS_DECLINE),
    (Topic::ReturnsReopen, RETURNS_REOPEN),
    (Topic::ReturnsCancel, RETURNS_CANCEL),
    (Topic::ReturnsClose, RETURNS_CLOSE),
    (Topic::OrdersCancelled, ORDERS_CANCELLED),
];

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 3, 12, 0, 0).unwrap()
}

fn fixture(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

fn order_of(topic: Topic, body: &[u8]) -> Result<ShopifyOrder, PayloadError> {
    match parse_webhook(topic, body, now())? {
        Ingest::Order(o) => Ok(o),
        other => panic!("{topic} read as {other:?}"),
    }
}

/// Stored orders to apply facts to: the order as first created, and after the whole story (built
/// once).
fn stored_orders() -> &'static [OrderRecord] {
    static STORED: OnceLock<Vec<OrderRecord>> = OnceLock::new();
    STORED.get_or_init(|| {
        let created = order_of(Topic::OrdersCreate, ORDERS_CREATE.as_bytes()).unwrap();
        let fresh = apply_order(None, &created, now()).unwrap().record;
        let mut told = fresh.clone();
        for (topic, body) in WEBHOOKS {
            if let Ok(fact) = parse_webhook(*topic, body.as_bytes(), now()) {
                if let Some(a) = apply_fact(&told, &fact, now()) {
                    told = a.record;
                }
            }
        }
        assert!(told.return_.is_some() && told.timeline.len() > fresh.timeline.len());
        vec![fresh, told]
    })
}

/// The stored order after the whole story.
fn told() -> &'static OrderRecord {
    &stored_orders()[1]
}

/// A place in a JSON document.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Key(String),
    At(usize),
}

fn paths(v: &Value) -> Vec<Vec<Step>> {
    fn walk(v: &Value, here: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    here.push(Step::Key(k.clone()));
                    out.push(here.clone());
                    walk(child, here, out);
                    here.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    here.push(Step::At(i));
                    out.push(here.clone());
                    walk(child, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn node_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, step| match (step, cur) {
        (Step::Key(k), Value::Object(m)) => m.get_mut(k),
        (Step::At(i), Value::Array(items)) => items.get_mut(*i),
        _ => None,
    })
}

/// Where a mutation lands.
#[derive(Debug, Clone)]
enum Target {
    /// Any node of the document.
    Anywhere(Index),
    /// A field the mapping reads, wherever it occurs (added at the top when it occurs nowhere).
    Field(&'static str, Index),
}

/// What a mutation does there.
#[derive(Debug, Clone)]
enum Edit {
    Remove,
    Set(Value),
}

fn mutation() -> impl Strategy<Value = (Target, Edit)> {
    (
        prop_oneof![
            any::<Index>().prop_map(Target::Anywhere),
            (prop::sample::select(FIELDS), any::<Index>()).prop_map(|(f, i)| Target::Field(f, i)),
        ],
        prop_oneof![
            1 => Just(Edit::Remove),
            4 => json_value().prop_map(Edit::Set),
        ],
    )
}

fn mutate(doc: &mut Value, target: &Target, edit: &Edit) {
    let all = paths(doc);
    let path = match target {
        Target::Anywhere(i) if !all.is_empty() => all[i.index(all.len())].clone(),
        Target::Anywhere(_) => return,
        Target::Field(name, i) => {
            let hits: Vec<&Vec<Step>> = all
                .iter()
                .filter(|p| p.last() == Some(&Step::Key((*name).to_owned())))
                .collect();
            if hits.is_empty() {
                vec![Step::Key((*name).to_owned())]
            } else {
                hits[i.index(hits.len())].clone()
            }
        }
    };
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (node_mut(doc, parent), last, edit) {
        (Some(Value::Object(m)), Step::Key(k), Edit::Remove) => {
            m.remove(k);
        }
        (Some(Value::Object(m)), Step::Key(k), Edit::Set(v)) => {
            m.insert(k.clone(), v.clone());
        }
        (Some(Value::Array(items)), Step::At(i), Edit::Remove) if *i < items.len() => {
            items.remove(*i);
        }
        (Some(Value::Array(items)), Step::At(i), Edit::Set(v)) if *i < items.len() => {
            items[*i] = v.clone();
        }
        _ => {}
    }
}

fn is_micros(t: DateTime<Utc>) -> bool {
    t.timestamp_subsec_nanos().is_multiple_of(1_000)
}

/// What every order the mapping accepts satisfies, from REST or GraphQL.
fn check_order(o: &ShopifyOrder) -> Result<(), TestCaseError> {
    prop_assert!(o.id.starts_with(ORDER_GID_PREFIX), "{}", o.id);
    prop_assert!(!o.order_number.trim().is_empty());
    prop_assert!(!o.customer_name.trim().is_empty());
    prop_assert!(!o.currency.trim().is_empty());
    prop_assert!(
        parse_decimal(&o.total_price).is_some(),
        "total_price {:?} is not a decimal",
        o.total_price
    );
    prop_assert!(o
        .shipments
        .iter()
        .all(|s| s.id.starts_with("gid://shopify/Fulfillment/")));
    let times = [Some(o.created_at), Some(o.updated_at), o.cancelled_at];
    prop_assert!(times.into_iter().flatten().all(is_micros));
    prop_assert!(o.shipments.iter().all(|s| is_micros(s.last_update_at)));
    prop_assert!(o.tags.iter().all(|t| !t.is_empty() && t.trim() == t));
    Ok(())
}

fn check_fact(fact: &Ingest) -> Result<(), TestCaseError> {
    match fact {
        Ingest::Order(o) => check_order(o)?,
        Ingest::Fulfillment(f) => {
            prop_assert!(f.shipment.id.starts_with("gid://shopify/Fulfillment/"));
            prop_assert!(is_micros(f.shipment.last_update_at));
        }
        Ingest::Refund(r) => {
            prop_assert!(r.id.starts_with("gid://shopify/Refund/"));
            let m = parse_decimal(&r.amount);
            prop_assert!(m.is_some(), "refund amount {:?}", r.amount);
            // Written with the currency's decimals, so it reads back as itself.
            prop_assert_eq!(
                format_amount(m.unwrap(), minor_digits(&r.currency)),
                r.amount.clone()
            );
            prop_assert!(is_micros(r.created_at));
        }
        Ingest::Return(r) => {
            prop_assert!(r.id.starts_with("gid://shopify/Return/"));
            prop_assert!(is_micros(r.at));
        }
    }
    match fact.order() {
        OrderRef::Id(id) => prop_assert!(id.starts_with(ORDER_GID_PREFIX)),
        OrderRef::Name(name) => prop_assert!(!name.trim().is_empty()),
    }
    Ok(())
}

/// What applying a fact must do, whatever the fact: entries in time order and never after `now`,
/// appended to the stored history; `updated_at` never goes back; the API shape can be built; and
/// delivering the same fact again changes nothing (refunds aside: the store deduplicates those).
fn check_applied(
    stored: Option<&OrderRecord>,
    fact: &Ingest,
    applied: Option<Applied>,
) -> Result<(), TestCaseError> {
    let Some(a) = applied else {
        prop_assert!(stored.is_some(), "a new order always applies");
        return Ok(());
    };
    prop_assert!(a.entries.windows(2).all(|w| w[0].ts <= w[1].ts));
    prop_assert!(a.entries.iter().all(|e| e.ts <= now()), "{:?}", a.entries);
    let before = stored.map(|s| s.timeline.clone()).unwrap_or_default();
    prop_assert_eq!(&a.record.timeline, &[before, a.entries.clone()].concat());
    if let Some(s) = stored {
        prop_assert!(a.record.updated_at >= s.updated_at);
    }
    if let Ingest::Order(o) = fact {
        prop_assert_eq!(&a.record.total_price, &o.total_price);
        prop_assert_eq!(&a.record.currency, &o.currency);
    }
    let shown = a.record.to_order(now(), &Thresholds::default());
    prop_assert_eq!(&shown.total_price, &a.record.total_price);
    prop_assert!(shown.timeline.len() <= 10);

    let contradictory = match fact {
        // Two fulfillments with one id, or one listed both as travelling and as cancelled: no
        // redelivery of such a payload can settle.
        Ingest::Order(o) => {
            let mut ids: Vec<&str> = o.shipments.iter().map(|s| s.id.as_str()).collect();
            ids.extend(o.cancelled_shipments.iter().map(String::as_str));
            let n = ids.len();
            ids.sort_unstable();
            ids.dedup();
            ids.len() != n
        }
        Ingest::Refund(_) => true,
        _ => false,
    };
    if !contradictory {
        let again = apply_fact(&a.record, fact, now());
        prop_assert!(
            again.is_none(),
            "a redelivery changed {:?}",
            again.map(|a| a.entries)
        );
    }
    Ok(())
}

/// Reads a (possibly mangled) webhook body and applies what it says to each stored order.
fn read_and_apply(topic: Topic, body: &[u8], stored: &[OrderRecord]) -> Result<(), TestCaseError> {
    match parse_webhook(topic, body, now()) {
        Ok(fact) => {
            check_fact(&fact)?;
            if let Ingest::Order(o) = &fact {
                check_applied(None, &fact, apply_order(None, o, now()))?;
            }
            for s in stored {
                check_applied(Some(s), &fact, apply_fact(s, &fact, now()))?;
            }
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    Ok(())
}

/// Reads a (possibly mangled) GraphQL answer; every order it yields applies like a webhook's.
fn read_page(body: &[u8], stored: &[OrderRecord]) -> Result<(), TestCaseError> {
    let throttle = graphql_throttle(body);
    match parse_graphql_page(body) {
        Ok(page) => {
            prop_assert_eq!(page.throttle, throttle);
            for order in page.orders.into_iter().flatten() {
                check_order(&order)?;
                // The poller writes the total with the currency's decimals.
                prop_assert_eq!(
                    format_amount(
                        parse_decimal(&order.total_price).unwrap(),
                        minor_digits(&order.currency)
                    ),
                    order.total_price.clone()
                );
                let fact = Ingest::Order(order.clone());
                check_applied(None, &fact, apply_order(None, &order, now()))?;
                for s in stored {
                    check_applied(Some(s), &fact, apply_fact(s, &fact, now()))?;
                }
            }
        }
        Err(e) => prop_assert!(!e.to_string().is_empty()),
    }
    if let Some(t) = throttle {
        for cost in [0.0, 1.0, 1e9, f64::MAX, f64::INFINITY, f64::NAN, -1.0] {
            prop_assert!(t.wait_before(cost) <= std::time::Duration::from_secs(3_600));
        }
    }
    Ok(())
}

/// A webhook fixture, chosen by its place in [`WEBHOOKS`] (so a failure prints a number, not the
/// whole body).
fn webhook() -> impl Strategy<Value = usize> {
    0..WEBHOOKS.len()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Arbitrary bytes, and the fixtures cut short or with a byte overwritten, for every topic and
    /// for the poller: an error, never a panic.
    #[test]
    fn arbitrary_bytes_are_refused_or_read(
        hook in webhook(),
        bytes in prop::collection::vec(any::<u8>(), 0..200),
        cut in any::<Index>(),
        flip in (any::<Index>(), any::<u8>()),
    ) {
        let (topic, body) = WEBHOOKS[hook];
        let stored = stored_orders();
        read_and_apply(topic, &bytes, stored)?;
        read_page(&bytes, stored)?;
        let cut = &body.as_bytes()[..cut.index(body.len() + 1)];
        read_and_apply(topic, cut, stored)?;
        let mut flipped = body.as_bytes().to_vec();
        flipped[flip.0.index(body.len())] = flip.1;
        read_and_apply(topic, &flipped, stored)?;
        let page = GRAPHQL_ORDERS_PAGE.as_bytes();
        read_page(&page[..page.len().min(cut.len())], stored)?;
    }

    /// Arbitrary JSON, for every topic and for the poller: a JSON that is not an object is refused as
    /// such, and any object is read or refused with a typed error.
    #[test]
    fn arbitrary_json_is_refused_or_read(
        topic in prop::sample::select(Topic::ALL),
        value in json_value(),
        object in prop::collection::vec((json_key(), json_value()), 0..12),
    ) {
        let stored = stored_orders();
        let body = value.to_string();
        if !value.is_object() {
            prop_assert!(matches!(parse_webhook(topic, body.as_bytes(), now()), Err(PayloadError::Json(_))));
            prop_assert!(matches!(parse_graphql_page(body.as_bytes()), Err(PayloadError::Json(_))));
        }
        read_and_apply(topic, body.as_bytes(), stored)?;
        read_page(body.as_bytes(), stored)?;
        let object = Value::Object(object.into_iter().collect()).to_string();
        read_and_apply(topic, object.as_bytes(), stored)?;
        read_page(format!("{{\"data\":{{\"orders\":{object}}}}}").as_bytes(), stored)?;
    }

    /// The real fixtures with up to four fields replaced by arbitrary JSON or removed, anywhere in
    /// the body or where the mapping reads: read or refused, and what is read applies soundly.
    #[test]
    fn mutated_fixtures_are_refused_or_read_and_apply_soundly(
        hook in webhook(),
        edits in prop::collection::vec(mutation(), 1..5),
    ) {
        let (topic, body) = WEBHOOKS[hook];
        let mut doc = fixture(body);
        for (target, edit) in &edits {
            mutate(&mut doc, target, edit);
        }
        read_and_apply(topic, doc.to_string().as_bytes(), stored_orders())?;
    }

    /// The poller's page with up to four fields replaced or removed.
    #[test]
    fn a_mutated_graphql_page_is_refused_or_read(edits in prop::collection::vec(mutation(), 1..5)) {
        let mut doc = fixture(GRAPHQL_ORDERS_PAGE);
        for (target, edit) in &edits {
            mutate(&mut doc, target, edit);
        }
        read_page(doc.to_string().as_bytes(), stored_orders())?;
    }

    /// An order payload older than the one applied last changes nothing.
    #[test]
    fn an_older_order_payload_never_overwrites_a_newer_one(
        hook in prop::sample::select(vec![0usize, 1, 4]),
        earlier in 1i64..10_000_000,
    ) {
        let (topic, body) = WEBHOOKS[hook];
        prop_assert!(matches!(topic, Topic::OrdersCreate | Topic::OrdersPaid | Topic::OrdersUpdated));
        let told = told();
        let seen = told.shopify_updated_at.unwrap();
        let mut doc = fixture(body);
        doc["updated_at"] = json!((seen - Duration::seconds(earlier)).to_rfc3339());
        let order = order_of(topic, doc.to_string().as_bytes()).unwrap();
        prop_assert_eq!(apply_order(Some(told), &order, now()), None);
    }
}

// ---------------------------------------------------------------------------------------------
// Money.

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
