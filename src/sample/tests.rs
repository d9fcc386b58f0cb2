//! Tests of the sample data: its proportions, its consistency with the contract, and its
//! determinism.

use super::*;
use crate::domain::{
    FinancialStatus, FulfillmentStatus, OrderStatus, Priority, ReturnState, ShipmentStatus,
};
use crate::envelope::SUPPORT_ASSIGNEE;
use crate::returns;
use crate::tabs::{Tab, Thresholds};
use std::collections::{BTreeSet, HashSet};

const SHOP: &str = "acme.myshopify.com";

/// With a fraction of a second, to show that the data set uses whole seconds.
fn now() -> DateTime<Utc> {
    "2025-09-27T12:00:00.654321Z".parse().unwrap()
}

fn set(n: usize) -> Vec<OrderRecord> {
    generate(SHOP, n, DEFAULT_SEED, now())
}

fn in_tab(r: &OrderRecord, tab: Tab) -> bool {
    r.facts().in_tab(tab, now(), &Thresholds::default())
}

fn count(records: &[OrderRecord], pred: impl Fn(&OrderRecord) -> bool) -> usize {
    records.iter().filter(|r| pred(r)).count()
}

/// Asserts `count ≥ percent % of the set`, naming what fell short.
fn at_least(records: &[OrderRecord], percent: usize, what: &str, n: usize) {
    assert!(
        n * 100 >= percent * records.len(),
        "{what}: {n} of {} is under {percent} %",
        records.len()
    );
}

/// The shares the issue asks for.
fn assert_shares(records: &[OrderRecord]) {
    let returns = count(records, |r| r.return_.is_some());
    at_least(records, 10, "orders with returns", returns);
    let cancelled = count(records, |r| r.status() == OrderStatus::Cancelled);
    at_least(records, 5, "cancelled", cancelled);
    let pending = count(records, |r| {
        in_tab(r, Tab::TrackingPending) && !in_tab(r, Tab::Delayed)
    });
    at_least(records, 10, "tracking pending, not delayed", pending);
    let delayed = count(records, |r| in_tab(r, Tab::Delayed));
    at_least(records, 5, "delayed", delayed);
    let support = count(records, |r| in_tab(r, Tab::Support));
    at_least(records, 5, "open support", support);
    let team = |r: &OrderRecord| {
        r.assigned_to
            .as_deref()
            .is_some_and(|a| a != SUPPORT_ASSIGNEE)
    };
    at_least(records, 30, "assigned to people", count(records, team));
    let people: HashSet<&str> = records
        .iter()
        .filter(|r| team(r))
        .filter_map(|r| r.assigned_to.as_deref())
        .collect();
    assert!(people.len() >= 4, "assigned over {people:?}");
}

fn assert_every_value_occurs(records: &[OrderRecord]) {
    let statuses: HashSet<OrderStatus> = records.iter().map(|r| r.status()).collect();
    assert_eq!(statuses.len(), OrderStatus::ALL.len(), "{statuses:?}");
    let shipments: HashSet<ShipmentStatus> = records
        .iter()
        .flat_map(|r| r.shipments.iter().map(|s| s.status))
        .collect();
    assert_eq!(shipments.len(), ShipmentStatus::ALL.len(), "{shipments:?}");
    let states: HashSet<ReturnState> = records
        .iter()
        .filter_map(|r| r.return_.as_ref().map(|x| x.state))
        .collect();
    assert_eq!(states.len(), ReturnState::ALL.len(), "{states:?}");
    let priorities: HashSet<Priority> = records.iter().map(|r| r.priority).collect();
    assert_eq!(priorities.len(), Priority::ALL.len(), "{priorities:?}");
}

#[test]
fn no_orders_give_an_empty_list() {
    assert!(set(0).is_empty());
}

#[test]
fn the_same_shop_count_seed_and_now_give_the_same_orders() {
    assert_eq!(set(1000), set(1000));
}

#[test]
fn a_different_seed_gives_different_orders() {
    let a = set(200);
    let b = generate(SHOP, 200, DEFAULT_SEED + 1, now());
    assert_ne!(a, b);
    assert_ne!(a[0].id, b[0].id);
}

#[test]
fn two_shops_seeded_alike_share_order_ids_but_not_customers() {
    let a = set(200);
    let b = generate("other.myshopify.com", 200, DEFAULT_SEED, now());
    let ids = |s: &[OrderRecord]| s.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    assert_ne!(
        a.iter().map(|r| &r.customer_name).collect::<Vec<_>>(),
        b.iter().map(|r| &r.customer_name).collect::<Vec<_>>()
    );
}

#[test]
fn every_status_priority_shipment_status_and_return_state_occurs_in_a_thousand_orders() {
    assert_every_value_occurs(&set(1000));
}

#[test]
fn the_required_shares_hold_in_a_thousand_orders() {
    let records = set(1000);
    assert_shares(&records);
    // Returns spread over all eight states, each state at least 1 %.
    for state in ReturnState::ALL {
        let n = count(&records, |r| {
            r.return_.as_ref().is_some_and(|x| x.state == *state)
        });
        at_least(&records, 1, state.as_str(), n);
    }
}

#[test]
fn the_required_shares_hold_for_every_size_from_twenty_up() {
    for seed in [DEFAULT_SEED, 7, 2025] {
        for n in (20..=160).chain([333, 1001, 2500]) {
            let records = generate(SHOP, n, seed, now());
            assert_eq!(records.len(), n);
            assert_shares(&records);
        }
    }
}

#[test]
fn twenty_orders_still_cover_every_status_and_return_state() {
    let records = set(20);
    assert_eq!(records.len(), 20);
    assert_every_value_occurs(&records);
    assert_shares(&records);
    assert!(records.iter().any(|r| in_tab(r, Tab::Unfulfilled)));
}

#[test]
fn tiny_sets_do_not_panic_and_have_the_size_asked_for() {
    for n in 1..20 {
        let records = set(n);
        assert_eq!(records.len(), n);
        assert_eq!(records[0].order_number, "#1001");
    }
}

#[test]
fn ids_are_unique_thirteen_digit_gids_and_numbers_follow_creation_order() {
    let records = set(1000);
    let ids: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), records.len());
    for (k, r) in records.iter().enumerate() {
        let numeric = r.id.strip_prefix("gid://shopify/Order/").unwrap();
        assert_eq!(numeric.len(), 13, "{}", r.id);
        assert!(numeric.bytes().all(|b| b.is_ascii_digit()), "{}", r.id);
        assert_eq!(r.order_number, format!("#{}", 1001 + k));
    }
    for pair in records.windows(2) {
        assert!(pair[0].created_at <= pair[1].created_at, "oldest is #1001");
        let (a, b): (u64, u64) = (
            pair[0].id[20..].parse().unwrap(),
            pair[1].id[20..].parse().unwrap(),
        );
        assert!(a < b, "ids grow with creation");
    }
    let shipment_ids: HashSet<&str> = records
        .iter()
        .flat_map(|r| r.shipments.iter().map(|s| s.id.as_str()))
        .collect();
    assert_eq!(
        shipment_ids.len(),
        records.iter().map(|r| r.shipments.len()).sum::<usize>()
    );
    let returns: Vec<&str> = records
        .iter()
        .filter_map(|r| r.return_.as_ref().map(|x| x.id.as_str()))
        .collect();
    assert_eq!(returns.iter().collect::<HashSet<_>>().len(), returns.len());
    assert!(returns
        .iter()
        .all(|id| id.starts_with("gid://shopify/Return/")));
    let threads: Vec<&str> = records
        .iter()
        .flat_map(|r| r.support.iter().map(|s| s.thread.as_str()))
        .collect();
    assert_eq!(threads.iter().collect::<HashSet<_>>().len(), threads.len());
    assert!(threads
        .iter()
        .all(|t| t.starts_with("conv_") && t[5..].bytes().all(|b| b.is_ascii_digit())));
}

#[test]
fn timelines_are_oldest_first_in_whole_seconds_and_never_after_now() {
    let records = set(1000);
    let whole = |t: DateTime<Utc>| t.timestamp_subsec_nanos() == 0;
    for r in &records {
        assert!(
            r.created_at <= r.updated_at && r.updated_at <= now(),
            "{}",
            r.id
        );
        assert!(whole(r.created_at) && whole(r.updated_at));
        assert!(!r.timeline.is_empty());
        for pair in r.timeline.windows(2) {
            assert!(pair[0].ts <= pair[1].ts, "{} is out of order", r.id);
        }
        for e in &r.timeline {
            assert!(e.ts >= r.created_at && e.ts <= now() && whole(e.ts));
            assert!(!e.details.is_empty() && e.details.ends_with('.'), "{e:?}");
        }
        assert_eq!(r.timeline.last().unwrap().ts, r.updated_at, "{}", r.id);
        for s in &r.shipments {
            assert!(whole(s.last_update_at) && s.last_update_at <= r.updated_at);
        }
    }
    let long = count(&records, |r| r.timeline.len() > 10);
    assert!(
        long >= 50,
        "only {long} timelines are longer than ten entries"
    );
}

#[test]
fn timeline_events_use_the_contract_vocabulary() {
    let records = set(1000);
    let shipment_events: HashSet<String> = ShipmentStatus::ALL
        .iter()
        .map(|s| format!("shipment.{s}"))
        .collect();
    let return_events: HashSet<String> = ReturnState::ALL
        .iter()
        .map(|s| format!("return.{s}"))
        .collect();
    let mut seen = BTreeSet::new();
    for r in &records {
        for e in &r.timeline {
            let known = [
                "payment.pending",
                "payment.authorized",
                "payment.captured",
                "payment.voided",
                "payment.refunded",
                "inventory.hold",
                "inventory.release",
                "fulfillment.on_hold",
                "fulfillment.partially_fulfilled",
                "fulfillment.fulfilled",
                "support.escalated",
                "assignment.changed",
            ]
            .contains(&e.event.as_str())
                || shipment_events.contains(&e.event)
                || return_events.contains(&e.event);
            assert!(known, "unexpected event {e:?}");
            seen.insert(e.event.clone());
        }
    }
    for event in [
        "payment.authorized",
        "payment.captured",
        "payment.voided",
        "payment.refunded",
        "inventory.hold",
        "inventory.release",
        "fulfillment.on_hold",
        "fulfillment.partially_fulfilled",
        "fulfillment.fulfilled",
        "support.escalated",
        "assignment.changed",
    ] {
        assert!(seen.contains(event), "{event} never occurs");
    }
    assert!(shipment_events.is_subset(&seen.iter().cloned().collect()));
    assert!(return_events.is_subset(&seen.iter().cloned().collect()));
    let captured = records
        .iter()
        .flat_map(|r| &r.timeline)
        .find(|e| e.event == "payment.captured" && e.details.starts_with("Paid "))
        .unwrap();
    assert!(captured.details.contains(' '), "{captured:?}");
}

#[test]
fn created_at_spreads_over_ninety_days_with_a_few_in_the_last_two_hours() {
    let records = set(1000);
    let age = |r: &OrderRecord| now() - r.created_at;
    assert!(records.iter().all(|r| age(r) <= chrono::Duration::days(90)));
    let fresh: Vec<&OrderRecord> = records
        .iter()
        .filter(|r| age(r) < chrono::Duration::hours(2))
        .collect();
    assert!(
        !fresh.is_empty() && fresh.len() <= 50,
        "{} fresh",
        fresh.len()
    );
    assert!(fresh.iter().all(|r| !in_tab(r, Tab::TrackingPending)));
    for month in 0..3 {
        let lo = chrono::Duration::days(30 * month);
        let hi = chrono::Duration::days(30 * (month + 1));
        let n = count(&records, |r| age(r) >= lo && age(r) < hi);
        assert!(n >= 100, "only {n} orders created {month} months ago");
    }
}

#[test]
fn prices_are_decimal_strings_and_yen_has_no_decimals() {
    let records = set(1000);
    let currencies: HashSet<&str> = records.iter().map(|r| r.currency.as_str()).collect();
    for code in ["USD", "EUR", "GBP", "CAD", "AUD", "JPY"] {
        assert!(currencies.contains(code), "{code} missing");
    }
    for r in &records {
        let (whole, cents) = match r.total_price.split_once('.') {
            Some((w, c)) => (w, Some(c)),
            None => (r.total_price.as_str(), None),
        };
        assert!(!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()));
        if r.currency == "JPY" {
            assert_eq!(cents, None, "{}", r.total_price);
        } else {
            let cents = cents.unwrap_or_else(|| panic!("{} has no cents", r.total_price));
            assert!(cents.len() == 2 && cents.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}

#[test]
fn financial_status_agrees_with_cancellation_and_refunds() {
    let records = set(1000);
    let mut seen = HashSet::new();
    for r in &records {
        let f = r.financial_status;
        seen.insert(f);
        let completed = r
            .return_
            .as_ref()
            .is_some_and(|x| x.state == ReturnState::Completed);
        if r.status() == OrderStatus::Cancelled {
            assert!(matches!(
                f,
                FinancialStatus::Voided | FinancialStatus::Refunded
            ));
        } else if completed {
            assert!(matches!(
                f,
                FinancialStatus::Refunded | FinancialStatus::PartiallyRefunded
            ));
        } else {
            assert!(!matches!(
                f,
                FinancialStatus::Voided
                    | FinancialStatus::Refunded
                    | FinancialStatus::PartiallyRefunded
            ));
        }
        if r.fulfillment_status == FulfillmentStatus::Fulfilled && !completed {
            assert_eq!(f, FinancialStatus::Paid, "{}", r.id);
        }
    }
    assert_eq!(seen.len(), FinancialStatus::ALL.len(), "{seen:?}");
    let paid = count(&records, |r| r.financial_status == FinancialStatus::Paid);
    assert!(paid * 2 > records.len(), "mostly paid");
}

#[test]
fn shipments_agree_with_fulfillment() {
    let records = set(1000);
    for r in &records {
        match r.status() {
            OrderStatus::Unfulfilled | OrderStatus::OnHold | OrderStatus::Cancelled => {
                assert!(r.shipments.is_empty(), "{}", r.id)
            }
            OrderStatus::PartiallyFulfilled => assert!(!r.shipments.is_empty()),
            OrderStatus::Fulfilled => {
                assert!(!r.shipments.is_empty());
                for s in &r.shipments {
                    let t = s.tracking.as_ref().expect("fulfilled parcels are tracked");
                    assert!(CARRIERS.contains(&t.carrier.as_str()) && !t.number.is_empty());
                }
            }
        }
        for s in &r.shipments {
            assert!(s.id.starts_with("gid://shopify/Fulfillment/"));
            assert!(s.last_update_at > r.created_at);
            if s.status != ShipmentStatus::LabelCreated {
                assert!(s.tracking.is_some(), "{} moves without tracking", r.id);
            }
            let last_event = r
                .timeline
                .iter()
                .filter(|e| e.event.starts_with("shipment."))
                .any(|e| e.ts == s.last_update_at && e.event == format!("shipment.{}", s.status));
            assert!(last_event, "{}: no entry for its {} parcel", r.id, s.status);
        }
    }
    let carriers: HashSet<&str> = records
        .iter()
        .flat_map(|r| r.shipments.iter().filter_map(|s| s.tracking.as_ref()))
        .map(|t| t.carrier.as_str())
        .collect();
    assert_eq!(carriers.len(), CARRIERS.len(), "{carriers:?}");
    assert!(records
        .iter()
        .flat_map(|r| &r.shipments)
        .any(|s| s.status == ShipmentStatus::LabelCreated && s.tracking.is_none()));
    assert!(
        count(&records, |r| r.shipments.len() == 2) > 0,
        "some split parcels"
    );
}

#[test]
fn returns_follow_a_delivered_shipment_and_a_legal_walk() {
    let records = set(1000);
    for r in records.iter().filter(|r| r.return_.is_some()) {
        let ret = r.return_.as_ref().unwrap();
        assert_eq!(r.status(), OrderStatus::Fulfilled);
        let delivered = r
            .shipments
            .iter()
            .filter(|s| s.status == ShipmentStatus::Delivered)
            .map(|s| s.last_update_at)
            .max()
            .expect("a delivered parcel");
        assert!(ret.created_at > delivered && ret.updated_at >= ret.created_at);
        let walk: Vec<ReturnState> = r
            .timeline
            .iter()
            .filter_map(|e| e.event.strip_prefix("return."))
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(walk[0], ReturnState::AwaitingLabel);
        assert_eq!(*walk.last().unwrap(), ret.state);
        for pair in walk.windows(2) {
            assert!(
                returns::legal_actions(pair[0]).any(|a| returns::apply(pair[0], a) == Ok(pair[1])),
                "{}: {} → {} is not a move",
                r.id,
                pair[0],
                pair[1]
            );
        }
    }
    let refunded: HashSet<FinancialStatus> = records
        .iter()
        .filter(|r| {
            r.return_
                .as_ref()
                .is_some_and(|x| x.state == ReturnState::Completed)
        })
        .map(|r| r.financial_status)
        .collect();
    assert_eq!(refunded.len(), 2, "full and partial refunds: {refunded:?}");
}

#[test]
fn open_support_threads_belong_to_the_assistant() {
    let records = set(1000);
    for r in &records {
        if r.support_thread().is_some() {
            assert_eq!(r.assigned_to.as_deref(), Some(SUPPORT_ASSIGNEE), "{}", r.id);
            let last = r
                .timeline
                .iter()
                .rev()
                .find(|e| e.event == "assignment.changed")
                .unwrap();
            assert!(last.details.ends_with("to assistant."), "{last:?}");
        }
        for s in &r.support {
            assert!(!s.note.is_empty() && s.created_at >= r.created_at && s.created_at <= now());
        }
    }
    assert!(
        count(&records, |r| r.support.iter().any(|s| !s.open)) > 0,
        "some closed"
    );
}

#[test]
fn priority_tags_agree_with_priority_and_tags_are_varied() {
    let records = set(1000);
    for r in &records {
        let tagged: Vec<&String> = r
            .tags
            .iter()
            .filter(|t| t.starts_with("priority:"))
            .collect();
        assert!(tagged.len() <= 1);
        if let Some(tag) = tagged.first() {
            assert_eq!(**tag, format!("priority:{}", r.priority));
        }
        if matches!(r.priority, Priority::Low | Priority::Urgent) {
            assert_eq!(
                tagged.len(),
                1,
                "{} is {} without its tag",
                r.id,
                r.priority
            );
        }
    }
    let tags: HashSet<&str> = records
        .iter()
        .flat_map(|r| r.tags.iter().map(String::as_str))
        .collect();
    for tag in [
        "vip",
        "wholesale",
        "gift",
        "priority:high",
        "priority:urgent",
    ] {
        assert!(tags.contains(tag), "{tag} missing");
    }
}

#[test]
fn most_customers_have_an_email_and_a_name() {
    let records = set(1000);
    let without = count(&records, |r| r.customer_email.is_none());
    assert!(
        without > 0 && without * 10 < records.len(),
        "{without} without e-mail"
    );
    for r in &records {
        assert!(r.customer_name.contains(' '));
        if let Some(email) = &r.customer_email {
            assert!(
                email.contains('@') && email.is_ascii() && !email.contains('\''),
                "{email}"
            );
        }
    }
}

#[test]
fn the_records_serve_as_orders_with_their_alerts() {
    let records = set(300);
    let th = Thresholds::default();
    for r in &records {
        let order = r.to_order(now(), &th);
        assert_eq!(order.alerts, r.facts().alerts(now(), &th));
        assert!(order.timeline.len() <= crate::domain::TIMELINE_LIMIT);
        assert_eq!(order.support_thread.as_deref(), r.support_thread());
    }
}

/// Run with `cargo test --release -p orders-core -- --ignored`.
#[test]
#[ignore = "timing; meaningful in release mode only"]
fn three_hundred_thousand_orders_generate_within_seconds() {
    let started = std::time::Instant::now();
    let records = set(300_000);
    let took = started.elapsed();
    assert_eq!(records.len(), 300_000);
    assert_shares(&records);
    assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
}
