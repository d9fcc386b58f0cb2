//! Part 3, the Shopify mapping: arbitrary and mutated bodies are refused or read, and what they
//! apply to a stored order is sound; the fixtures and helpers `money` shares.

use std::sync::OnceLock;

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use serde_json::{json, Value};

use orders_core::order_ref::ORDER_GID_PREFIX;
use orders_core::record::OrderRecord;
use orders_core::shopify::apply::{apply_fact, apply_order, Applied};
use orders_core::shopify::payload::{
    format_amount, graphql_throttle, minor_digits, parse_decimal, parse_graphql_page,
    parse_webhook, PayloadError,
};
use orders_core::shopify::{Ingest, ShopifyOrder, Topic};
use orders_core::{OrderRef, Thresholds};

use super::strategies::{json_key, json_value, FIELDS};
use super::CASES;

pub(super) const ORDERS_CREATE: &str = include_str!("../fixtures/shopify/orders_create.json");
const ORDERS_PAID: &str = include_str!("../fixtures/shopify/orders_paid.json");
const ORDERS_UPDATED: &str = include_str!("../fixtures/shopify/orders_updated.json");
const ORDERS_CANCELLED: &str = include_str!("../fixtures/shopify/orders_cancelled.json");
const FULFILLMENTS_CREATE: &str = include_str!("../fixtures/shopify/fulfillments_create.json");
const FULFILLMENTS_UPDATE: &str = include_str!("../fixtures/shopify/fulfillments_update.json");
const REFUNDS_CREATE: &str = include_str!("../fixtures/shopify/refunds_create.json");
const RETURNS_REQUEST: &str = include_str!("../fixtures/shopify/returns_request.json");
const RETURNS_APPROVE: &str = include_str!("../fixtures/shopify/returns_approve.json");
const RETURNS_DECLINE: &str = include_str!("../fixtures/shopify/returns_decline.json");
const RETURNS_CANCEL: &str = include_str!("../fixtures/shopify/returns_cancel.json");
const RETURNS_CLOSE: &str = include_str!("../fixtures/shopify/returns_close.json");
const RETURNS_REOPEN: &str = include_str!("../fixtures/shopify/returns_reopen.json");
const RETURNS_UPDATE: &str = include_str!("../fixtures/shopify/returns_update.json");
const RETURNS_UPDATE_LINE_ITEMS: &str =
    include_str!("../fixtures/shopify/returns_update_line_items.json");
pub(super) const GRAPHQL_ORDERS_PAGE: &str =
    include_str!("../fixtures/shopify/graphql_orders_page.json");

/// Every webhook fixture with its topic, in the order of the story they tell.
pub(super) const WEBHOOKS: &[(Topic, &str)] = &[
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

pub(super) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 10, 3, 12, 0, 0).unwrap()
}

pub(super) fn fixture(body: &str) -> Value {
    serde_json::from_str(body).unwrap()
}

pub(super) fn order_of(topic: Topic, body: &[u8]) -> Result<ShopifyOrder, PayloadError> {
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
pub(super) fn told() -> &'static OrderRecord {
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
