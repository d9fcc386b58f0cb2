//! The seed (`COPY`): ten thousand orders in seconds, awkward text and every column round-trip
//! exactly, timestamps to the microsecond, chunks with progress, and a failed seed rolled back.

use chrono::{DateTime, Duration, Utc};
use orders_core::query::PageWindow;
use orders_core::record::{to_micros, OrderRecord, ReturnRecord, SupportRecord};
use orders_core::*;
use orders_sync::store::{MemoryStore, Store, StoreError};

use crate::compare::assert_tallies_count_the_orders;
use crate::fixtures::{data_set, order};
use crate::{now, TestDb, SHOP};

#[tokio::test]
async fn ten_thousand_orders_seed_in_seconds_and_a_reseed_replaces_them() {
    let db = TestDb::new().await;
    let records = data_set(10_000, 42);
    let started = std::time::Instant::now();
    db.store.replace_orders(SHOP, &records).await.unwrap();
    let first = started.elapsed();
    let started = std::time::Instant::now();
    db.store
        .replace_orders(SHOP, &records[..500])
        .await
        .unwrap();
    let second = started.elapsed();
    eprintln!("seeding 10,004 orders took {first:?}; replacing them with 500 took {second:?}");
    assert!(first < std::time::Duration::from_secs(20), "{first:?}");

    let th = Thresholds::default();
    let w = PageWindow {
        offset: 0,
        limit: 250,
        page_size: 250,
    };
    let started = std::time::Instant::now();
    let page = db
        .store
        .list_orders(&ListQuery::for_shop(SHOP), w, now(), &th)
        .await
        .unwrap();
    eprintln!("a page of 250 took {:?}", started.elapsed());
    assert_eq!(page.counts.all, 500);
    assert_eq!(page.orders.len(), 250);
    assert_tallies_count_the_orders(&db).await;
    db.drop_database().await;
}

#[tokio::test]
async fn timestamps_are_kept_to_the_microsecond() {
    let db = TestDb::new().await;
    let mut o = order(8001, Duration::hours(1));
    o.created_at = to_micros(o.created_at);
    db.store.replace_orders(SHOP, &[o.clone()]).await.unwrap();
    let got = db
        .store
        .get_order(
            SHOP,
            &OrderRef::Id(o.id.clone()),
            now(),
            &Thresholds::default(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.created_at, o.created_at);
    assert_eq!(got.customer.email, o.customer_email);
    db.drop_database().await;
}

/// Text a bulk write must escape or must leave alone: COPY's own escapes, array syntax, quotes,
/// NULL look-alikes, unicode and the empty string.
const AWKWARD: &[&str] = &[
    "tab\there",
    "line\nbreak",
    "carriage\rreturn\r\n",
    "back\\slash",
    "\\N",
    "\\.",
    "\\",
    "\\\\t not a tab",
    "say \"hi\" 'there'",
    "NULL",
    "{a,b} \"c\"",
    "ünïcödé 日本語 🚚 \u{200b}",
    "",
    "  spaces  ",
    "\u{1}\u{7f} control",
];

/// One order per [`AWKWARD`] text, with that text in every text column it may go in, and every
/// kind of child row.
fn awkward_records() -> Vec<OrderRecord> {
    AWKWARD
        .iter()
        .enumerate()
        .map(|(i, text)| {
            let text = text.to_string();
            let k = i as i64;
            let mut o = order(9100 + i as u64, Duration::hours(k + 1));
            o.id = format!("gid://shopify/Order/{i}:{text}");
            o.order_number = text.clone();
            o.customer_name = text.clone();
            o.customer_email = (i % 4 != 3).then(|| text.clone());
            o.total_price = ["0.10", "1234567890.123456789", "100", "7.1", "0"][i % 5].into();
            o.currency = text.clone();
            o.cancelled_at = (i % 5 == 2).then(|| o.created_at + Duration::microseconds(7));
            o.tags = match i % 3 {
                0 => vec![],
                1 => vec![text.clone()],
                _ => vec![
                    text.clone(),
                    "NULL".into(),
                    String::new(),
                    "a,b".into(),
                    "\"q\"".into(),
                    "\\".into(),
                    "{}".into(),
                ],
            };
            o.updated_at = o.created_at + Duration::microseconds(999_999);
            o.shipments = vec![
                Shipment {
                    id: format!("shp_{i}_{text}"),
                    status: ShipmentStatus::InTransit,
                    tracking: Some(Tracking {
                        number: text.clone(),
                        carrier: format!("{text}carrier"),
                    }),
                    last_update_at: now() - Duration::hours(30) - Duration::microseconds(k),
                },
                Shipment {
                    id: format!("shp_{i}_b"),
                    status: ShipmentStatus::LabelCreated,
                    tracking: None,
                    last_update_at: now() - Duration::minutes(k),
                },
            ];
            o.return_ = (i % 2 == 0).then(|| ReturnRecord {
                id: format!("ret_{i}_{text}"),
                state: if i % 4 == 0 {
                    ReturnState::Inspection
                } else {
                    ReturnState::Completed
                },
                created_at: o.created_at + Duration::microseconds(1),
                updated_at: o.created_at + Duration::microseconds(2),
            });
            o.support = vec![
                SupportRecord {
                    thread: format!("conv_{i}{text}"),
                    note: text.clone(),
                    open: i % 3 != 0,
                    created_at: o.created_at + Duration::seconds(1),
                },
                SupportRecord {
                    thread: format!("{text}conv_{i}_closed"),
                    note: String::new(),
                    open: false,
                    created_at: o.created_at + Duration::seconds(2),
                },
            ];
            o.assigned_to = (i % 3 != 1).then(|| format!("{text}x"));
            o.timeline = vec![
                TimelineEntry {
                    ts: o.created_at,
                    event: text.clone(),
                    details: text.clone(),
                },
                TimelineEntry {
                    ts: o.created_at,
                    event: "same instant".into(),
                    details: String::new(),
                },
                TimelineEntry {
                    // Before PostgreSQL's epoch and before 1970.
                    ts: "1969-07-20T20:17:40.000001Z".parse().unwrap(),
                    event: "\\N".into(),
                    details: format!("{text}\n{text}"),
                },
            ];
            o
        })
        .collect()
}

#[derive(Debug, PartialEq, sqlx::FromRow)]
struct OrderColumns {
    id: String,
    order_number: String,
    customer_name: String,
    customer_email: Option<String>,
    total_price: String,
    currency: String,
    status: String,
    fulfillment_status: String,
    financial_status: String,
    cancelled_at: Option<DateTime<Utc>>,
    priority: String,
    tags: Vec<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    shopify_updated_at: Option<DateTime<Utc>>,
    has_tracking: bool,
    in_transit_since: Option<DateTime<Utc>>,
    has_open_return: bool,
    support_thread: Option<String>,
}

/// What the seed must store for `records`, table by table, in each table's order.
#[allow(
    clippy::type_complexity,
    reason = "one tuple of rows a table, as the queries read them"
)]
struct Expected {
    orders: Vec<OrderColumns>,
    shipments: Vec<(
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        DateTime<Utc>,
    )>,
    returns: Vec<(String, String, String, DateTime<Utc>, DateTime<Utc>)>,
    escalations: Vec<(String, String, String, bool, DateTime<Utc>)>,
    assignments: Vec<(String, String)>,
    timeline: Vec<(String, DateTime<Utc>, String, String)>,
}

fn expected(records: &[OrderRecord]) -> Expected {
    let mut e = Expected {
        orders: Vec::new(),
        shipments: Vec::new(),
        returns: Vec::new(),
        escalations: Vec::new(),
        assignments: Vec::new(),
        timeline: Vec::new(),
    };
    for r in records {
        let facts = r.facts();
        e.orders.push(OrderColumns {
            id: r.id.clone(),
            order_number: r.order_number.clone(),
            customer_name: r.customer_name.clone(),
            customer_email: r.customer_email.clone(),
            total_price: r.total_price.clone(),
            currency: r.currency.clone(),
            status: r.status().as_str().into(),
            fulfillment_status: r.fulfillment_status.as_str().into(),
            financial_status: r.financial_status.as_str().into(),
            cancelled_at: r.cancelled_at,
            priority: r.priority.as_str().into(),
            tags: r.tags.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            shopify_updated_at: None,
            has_tracking: facts.has_tracking,
            in_transit_since: facts.oldest_in_transit_update,
            has_open_return: facts.has_open_return,
            support_thread: r.support_thread().map(str::to_owned),
        });
        for s in &r.shipments {
            e.shipments.push((
                r.id.clone(),
                s.id.clone(),
                s.status.as_str().into(),
                s.tracking.as_ref().map(|t| t.number.clone()),
                s.tracking.as_ref().map(|t| t.carrier.clone()),
                s.last_update_at,
            ));
        }
        if let Some(ret) = &r.return_ {
            e.returns.push((
                r.id.clone(),
                ret.id.clone(),
                ret.state.as_str().into(),
                ret.created_at,
                ret.updated_at,
            ));
        }
        for s in &r.support {
            e.escalations.push((
                r.id.clone(),
                s.thread.clone(),
                s.note.clone(),
                s.open,
                s.created_at,
            ));
        }
        if let Some(owner) = &r.assigned_to {
            e.assignments.push((r.id.clone(), owner.clone()));
        }
        for t in &r.timeline {
            e.timeline
                .push((r.id.clone(), t.ts, t.event.clone(), t.details.clone()));
        }
    }
    // Orders and assignments are read back by id (bytewise, as the "C" collation sorts); returns
    // by their own id; the rest in order of arrival.
    e.orders.sort_by(|a, b| a.id.cmp(&b.id));
    e.assignments.sort();
    e.returns.sort_by(|a, b| a.1.cmp(&b.1));
    e
}

/// Reads back what is stored for `shop`, in the orders of [`expected`], with the instant the
/// shipments and assignments were recorded at.
#[allow(
    clippy::type_complexity,
    reason = "one tuple of rows a table, as the queries read them"
)]
async fn stored(db: &TestDb, shop: &str) -> (Expected, Vec<DateTime<Utc>>) {
    let pool = db.store.pool();
    let shop_id: i64 = sqlx::query_scalar("SELECT id FROM shops WHERE domain = $1")
        .bind(shop)
        .fetch_one(pool)
        .await
        .unwrap();
    let orders = sqlx::query_as(
        "SELECT id, order_number, customer_name, customer_email, total_price::text AS total_price, \
             currency, status, fulfillment_status, financial_status, cancelled_at, priority, tags, \
             created_at, updated_at, shopify_updated_at, has_tracking, in_transit_since, \
             has_open_return, support_thread \
         FROM orders WHERE shop_id = $1 ORDER BY id",
    )
    .bind(shop_id)
    .fetch_all(pool)
    .await
    .unwrap();
    let shipments: Vec<(
        String,
        String,
        String,
        Option<String>,
        Option<String>,
        DateTime<Utc>,
        DateTime<Utc>,
    )> = sqlx::query_as(
        "SELECT order_id, id, status, tracking_number, tracking_carrier, last_update_at, created_at \
         FROM shipments WHERE shop_id = $1 ORDER BY seq",
    )
    .bind(shop_id)
    .fetch_all(pool)
    .await
    .unwrap();
    let returns = sqlx::query_as(
        "SELECT order_id, id, state, created_at, updated_at FROM returns WHERE shop_id = $1 ORDER BY id",
    )
    .bind(shop_id)
    .fetch_all(pool)
    .await
    .unwrap();
    let escalations = sqlx::query_as(
        "SELECT order_id, thread, note, open, created_at FROM support_escalations \
         WHERE shop_id = $1 ORDER BY id",
    )
    .bind(shop_id)
    .fetch_all(pool)
    .await
    .unwrap();
    let assignments: Vec<(String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT order_id, assignee, assigned_at FROM order_assignments WHERE shop_id = $1 ORDER BY order_id",
    )
    .bind(shop_id)
    .fetch_all(pool)
    .await
    .unwrap();
    let timeline = sqlx::query_as(
        "SELECT order_id, ts, event, details FROM timeline_entries WHERE shop_id = $1 ORDER BY seq",
    )
    .bind(shop_id)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut recorded: Vec<DateTime<Utc>> = shipments
        .iter()
        .map(|s| s.6)
        .chain(assignments.iter().map(|a| a.2))
        .collect();
    recorded.dedup();
    let got = Expected {
        orders,
        shipments: shipments
            .into_iter()
            .map(|(o, i, s, n, c, u, _)| (o, i, s, n, c, u))
            .collect(),
        returns,
        escalations,
        assignments: assignments.into_iter().map(|(o, a, _)| (o, a)).collect(),
        timeline,
    };
    (got, recorded)
}

fn assert_stored(got: &Expected, want: &Expected) {
    assert_eq!(got.orders.len(), want.orders.len());
    for (g, w) in got.orders.iter().zip(&want.orders) {
        assert_eq!(g, w);
    }
    assert_eq!(got.shipments, want.shipments);
    assert_eq!(got.returns, want.returns);
    assert_eq!(got.escalations, want.escalations);
    assert_eq!(got.assignments, want.assignments);
    assert_eq!(got.timeline, want.timeline);
}

#[tokio::test]
async fn awkward_text_and_every_column_round_trip_exactly() {
    let db = TestDb::new().await;
    let records = awkward_records();
    let before = Utc::now();
    db.store.replace_orders(SHOP, &records).await.unwrap();
    let after = Utc::now();

    let (got, recorded) = stored(&db, SHOP).await;
    assert_stored(&got, &expected(&records));
    // Shipments and assignments are recorded at the transaction's start, all alike.
    assert_eq!(recorded.len(), 1, "{recorded:?}");
    assert!(to_micros(before) <= recorded[0] && recorded[0] <= after);

    // And the API reads them as the in-memory store does.
    let mem = Store::Memory(MemoryStore::default());
    mem.replace_orders(SHOP, &records).await.unwrap();
    let pg = Store::Postgres(db.store.clone());
    let th = Thresholds::default();
    for r in &records {
        let at = OrderRef::Id(r.id.clone());
        let want = mem.get_order(SHOP, &at, now(), &th).await.unwrap();
        assert!(want.is_some());
        assert_eq!(pg.get_order(SHOP, &at, now(), &th).await.unwrap(), want);
        assert_eq!(
            db.store.timeline(SHOP, &r.id).await.unwrap(),
            r.timeline,
            "{}",
            r.id
        );
    }
    db.drop_database().await;
}

#[tokio::test]
async fn nanoseconds_are_dropped_as_a_bound_timestamp_drops_them() {
    let db = TestDb::new().await;
    let mut o = order(9301, Duration::hours(2));
    o.created_at += Duration::nanoseconds(999);
    o.timeline[0].ts = "1999-12-31T23:59:59.000000999Z".parse().unwrap();
    db.store.replace_orders(SHOP, &[o.clone()]).await.unwrap();
    let (got, _) = stored(&db, SHOP).await;
    // Whole microseconds are counted from 2000-01-01, toward it: down after it, up before it.
    assert_eq!(got.orders[0].created_at, to_micros(o.created_at));
    assert_eq!(
        got.timeline[0].1,
        "1999-12-31T23:59:59.000001Z"
            .parse::<DateTime<Utc>>()
            .unwrap()
    );
    // Exactly what a bound value of the same instants gives.
    let bound: (DateTime<Utc>, DateTime<Utc>) =
        sqlx::query_as("SELECT $1::timestamptz, $2::timestamptz")
            .bind(o.created_at)
            .bind(o.timeline[0].ts)
            .fetch_one(db.store.pool())
            .await
            .unwrap();
    assert_eq!(bound, (got.orders[0].created_at, got.timeline[0].1));
    db.drop_database().await;
}

#[tokio::test]
async fn a_large_seed_is_written_in_chunks_with_progress_and_matches_its_records() {
    let db = TestDb::new().await;
    let records = orders_core::sample::generate(SHOP, 25_000, 7, now());
    let mut seen = Vec::new();
    db.store
        .replace_orders_with_progress(SHOP, &records, |n| seen.push(n))
        .await
        .unwrap();
    assert_eq!(seen, [10_000, 20_000, 25_000]);
    let (got, _) = stored(&db, SHOP).await;
    assert_stored(&got, &expected(&records));
    db.drop_database().await;
}

#[tokio::test]
async fn a_seed_that_fails_part_way_leaves_the_shop_as_it_was() {
    let db = TestDb::new().await;
    let before = awkward_records();
    db.store.replace_orders(SHOP, &before).await.unwrap();

    // The orders and shipments go in, then two returns share an id: all of it is rolled back.
    let mut broken = orders_core::sample::generate(SHOP, 50, 1, now());
    let mut with_returns = broken.iter_mut().filter(|r| r.return_.is_some());
    let first = with_returns.next().unwrap().return_.clone().unwrap();
    with_returns.next().unwrap().return_.as_mut().unwrap().id = first.id;
    let failed = db.store.replace_orders(SHOP, &broken).await;
    assert!(matches!(failed, Err(StoreError::Internal(_))), "{failed:?}");

    let (got, _) = stored(&db, SHOP).await;
    assert_stored(&got, &expected(&before));
    db.drop_database().await;
}
