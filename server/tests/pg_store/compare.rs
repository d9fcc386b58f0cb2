//! What both stores must answer alike (every tab, filter and window; the outbox), and the tallies
//! behind the counts held to a direct count of the orders.

use chrono::{DateTime, Duration, Utc};
use orders_core::effects::OutboxEvent;
use orders_core::locale::ShopClock;
use orders_core::query::{AssigneeFilter, OrderFilter, PageWindow};
use orders_core::search::Search;
use orders_core::*;
use orders_sync::store::{Page, Store};

use crate::{now, TestDb, SHOP};

/// Shipment ids recorded by a fulfill are random: blank them before comparing the stores.
fn without_new_shipment_ids(mut page: Page) -> Page {
    for o in &mut page.orders {
        for s in &mut o.shipments {
            if !s.id.starts_with("shp_seed_") {
                s.id = "new".into();
            }
        }
    }
    page
}

fn queries() -> Vec<(Tab, OrderFilter)> {
    let from = now() - Duration::days(2);
    let mut filters = vec![
        OrderFilter::default(),
        OrderFilter {
            statuses: vec![OrderStatus::Unfulfilled, OrderStatus::Cancelled],
            ..Default::default()
        },
        OrderFilter {
            priorities: vec![Priority::High, Priority::Urgent],
            ..Default::default()
        },
        OrderFilter {
            assigned_to: Some(AssigneeFilter::Person("sam".into())),
            ..Default::default()
        },
        OrderFilter {
            assigned_to: Some(AssigneeFilter::Unassigned),
            ..Default::default()
        },
        OrderFilter {
            created_from: Some(from),
            created_until: Some(now() - Duration::hours(30)),
            ..Default::default()
        },
        // A range that starts a few hours ago: its first day is usually the tracking cut-off's,
        // which the counts must then read order by order.
        OrderFilter {
            created_from: Some(now() - Duration::hours(3)),
            ..Default::default()
        },
        // Bounds between microseconds: an order at `from + 1µs` is inside, one at `from` would be too.
        OrderFilter {
            created_from: Some(from + Duration::nanoseconds(1)),
            created_until: Some(now() - Duration::hours(30) + Duration::nanoseconds(999)),
            statuses: vec![
                OrderStatus::Fulfilled,
                OrderStatus::OnHold,
                OrderStatus::Unfulfilled,
            ],
            ..Default::default()
        },
    ];
    // Searches (see `fixtures::data_set`: orders #1001–#1058 and #6001–#6399 of customers
    // "Customer 1"… with emails c1@example.com…, some without): a name with and without its `#`,
    // contains on the name and on the email in another case, digits that name no order, a `_`
    // that must not be a wildcard, a text that spans a name and its email across a line break
    // (as PostgreSQL's index holds them) and so matches nothing, and a search under a filter.
    let search = |text: &str| OrderFilter {
        search: Some(Search::parse(text).unwrap()),
        ..Default::default()
    };
    filters.extend([
        search("1001"),
        search("#6005"),
        search("CUSTOMER 5"),
        search("C52"),
        search("5001"),
        search("r_5"),
        search("0\nc"),
        OrderFilter {
            statuses: vec![OrderStatus::Unfulfilled],
            ..search("customer 5")
        },
    ]);
    let mut out = Vec::new();
    for tab in Tab::ALL {
        for f in &filters {
            out.push((*tab, f.clone()));
        }
    }
    out
}

/// Both stores answer every tab, filter and window alike at `at`.
pub async fn assert_same_lists(stores: &[Store; 2], at: DateTime<Utc>) {
    let th = Thresholds::default();
    for (tab, filter) in queries() {
        let mut q = ListQuery::for_shop(SHOP);
        q.tab = tab;
        q.filter = filter.clone();
        // The sparkline's days are the shop's: UTC's come from the tallies, another zone's from
        // the orders; both stores cut them alike.
        for zone in ["UTC", "Asia/Tokyo", "America/New_York"] {
            let clock = ShopClock::parse(zone).expect("a known zone");
            assert_eq!(
                stores[0]
                    .stats(&q, at, &th, &clock)
                    .await
                    .expect("pg stats"),
                stores[1]
                    .stats(&q, at, &th, &clock)
                    .await
                    .expect("memory stats"),
                "stats of tab {tab}, filter {filter:?}, in {zone}"
            );
        }
        for (offset, limit) in [(0, 50), (50, 50), (0, 250), (37, 13), (100_000, 10), (0, 0)] {
            let mut q = ListQuery::for_shop(SHOP);
            q.tab = tab;
            q.filter = filter.clone();
            let window = PageWindow {
                offset,
                limit,
                page_size: 50,
            };
            let pg = stores[0]
                .list_orders(&q, window, at, &th)
                .await
                .expect("pg list");
            let mem = stores[1]
                .list_orders(&q, window, at, &th)
                .await
                .expect("memory list");
            assert_eq!(
                without_new_shipment_ids(pg),
                without_new_shipment_ids(mem),
                "tab {tab}, filter {filter:?}, window {offset}+{limit}"
            );
        }
    }
}

/// Pages at offsets across every day of the data set, on every tab and filter, are the same in
/// both stores (with the PostgreSQL store placing them by the tallies from `deep_from`).
pub async fn assert_same_deep_pages(stores: &[Store; 2], at: DateTime<Utc>) {
    let th = Thresholds::default();
    for (tab, filter) in queries() {
        for offset in [1, 37, 60, 99, 150, 230, 301, 390] {
            let mut q = ListQuery::for_shop(SHOP);
            q.tab = tab;
            q.filter = filter.clone();
            let window = PageWindow {
                offset,
                limit: 25,
                page_size: 25,
            };
            let pg = stores[0].list_orders(&q, window, at, &th).await.unwrap();
            let mem = stores[1].list_orders(&q, window, at, &th).await.unwrap();
            assert_eq!(
                without_new_shipment_ids(pg),
                without_new_shipment_ids(mem),
                "tab {tab}, filter {filter:?}, offset {offset}"
            );
        }
    }
}

pub async fn assert_same_outbox(stores: &[Store; 2]) -> Vec<OutboxEvent> {
    let pg = stores[0].outbox(SHOP).await.unwrap();
    assert_eq!(pg, stores[1].outbox(SHOP).await.unwrap());
    pg
}

/// The tallies (folded and not) equal a count of the orders, combination by combination, and
/// every order's `assignee` mirrors its row of order_assignments.
pub async fn assert_tallies_count_the_orders(db: &TestDb) {
    const KEY: &str =
        "shop_id, day, status, priority, assignee, has_tracking, return_state, has_support";
    let counted =
        "SELECT shop_id, (created_at AT TIME ZONE 'UTC')::date AS day, status, priority, \
                coalesce(assignee, '') AS assignee, has_tracking, coalesce(return_state, '') AS return_state, \
                support_thread IS NOT NULL AS has_support, count(*)::int8 AS n \
         FROM orders GROUP BY 1, 2, 3, 4, 5, 6, 7, 8";
    let tallied = format!(
        "SELECT {KEY}, sum(n)::int8 AS n FROM (SELECT {KEY}, n FROM order_tallies \
         UNION ALL SELECT {KEY}, n FROM order_tally_changes) t GROUP BY {KEY} HAVING sum(n) <> 0"
    );
    let differ: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM (({counted} EXCEPT {tallied}) UNION ALL ({tallied} EXCEPT {counted})) d"
    ))
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        differ, 0,
        "tallies and orders disagree on {differ} combinations"
    );
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM orders")
        .fetch_one(db.store.pool())
        .await
        .unwrap();
    assert!(total > 0);
    let unmirrored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders o LEFT JOIN order_assignments a \
         ON a.shop_id = o.shop_id AND a.order_id = o.id \
         WHERE o.assignee IS DISTINCT FROM a.assignee",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        unmirrored, 0,
        "orders whose assignee is not their assignment's"
    );
    let stale: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM orders o WHERE o.return_state IS DISTINCT FROM \
         (SELECT r.state FROM returns r WHERE r.shop_id = o.shop_id AND r.order_id = o.id \
          ORDER BY r.created_at DESC, r.id DESC LIMIT 1) \
         OR o.has_open_return <> coalesce(o.return_state NOT IN ('completed', 'denied', 'cancelled'), false)",
    )
    .fetch_one(db.store.pool())
    .await
    .unwrap();
    assert_eq!(
        stale, 0,
        "orders whose return_state is not their newest return's"
    );
}
