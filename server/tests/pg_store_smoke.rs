//! The PostgreSQL store against the real database, held to the in-memory store: the same data set is
//! written to both, and every read and write must answer alike (shipment ids, which are random, aside).
//! Each test runs in a fresh database (`TEST_DATABASE_URL`, default the local server's `postgres`).

use chrono::{DateTime, Duration, Utc};
use orders_core::effects::OutboxEvent;
use orders_core::query::{AssigneeFilter, OrderFilter, PageWindow};
use orders_core::record::{to_micros, OrderRecord, ReturnRecord, SupportRecord};
use orders_core::*;
use orders_sync::store::{MemoryStore, Page, PgStore, Store, StoreError};
use sqlx::Connection;

const SHOP: &str = "acme.myshopify.com";
const OTHER_SHOP: &str = "other.myshopify.com";

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, migrated database, dropped by [`TestDb::drop_database`].
struct TestDb {
    store: PgStore,
    name: String,
}

impl TestDb {
    async fn new() -> TestDb {
        let admin = admin_url();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL must be running for these tests");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        let base = &admin[..admin.rfind('/').expect("the URL names a database")];
        let store = PgStore::connect_lazy(&format!("{base}/{name}")).expect("a valid URL");
        store
            .migrate()
            .await
            .expect("the migrations apply to a fresh database");
        TestDb { store, name }
    }

    async fn drop_database(self) {
        self.store.pool().close().await;
        let mut conn = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

/// A base instant with whole microseconds, as the service hands the stores.
fn now() -> DateTime<Utc> {
    "2025-09-27T12:00:00.123456Z".parse().unwrap()
}

/// A small deterministic pseudo-random source, so the data set is varied but the same every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A plain unfulfilled order created `age` before [`now`].
fn order(n: u64, age: Duration) -> OrderRecord {
    let created = now() - age;
    OrderRecord {
        id: format!("gid://shopify/Order/{n}"),
        order_number: format!("#{}", 1000 + n),
        customer_name: format!("Customer {n}"),
        customer_email: Some(format!("c{n}@example.com")),
        total_price: "129.95".into(),
        currency: "USD".into(),
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        financial_status: FinancialStatus::Paid,
        cancelled_at: None,
        priority: Priority::Normal,
        tags: vec![],
        created_at: created,
        updated_at: created,
        shopify_updated_at: None,
        shipments: vec![],
        return_: None,
        support: vec![],
        assigned_to: None,
        timeline: vec![TimelineEntry {
            ts: created,
            event: "payment.captured".into(),
            details: "Paid 129.95 USD".into(),
        }],
    }
}

/// `count` varied orders, with the edge cases the rules care about placed on purpose.
fn data_set(count: u64, seed: u64) -> Vec<OrderRecord> {
    let mut rng = Lcg(seed);
    let mut records = Vec::with_capacity(count as usize);
    for i in 0..count {
        // Ids of different lengths (…/9 sorts after …/10 bytewise), and ties on createdAt.
        let n = if i % 7 == 0 { i / 7 + 1 } else { 5000 + i };
        let age = Duration::minutes(rng.below(60 * 24 * 4) as i64)
            + Duration::microseconds((i % 3) as i64);
        let mut o = order(n, age);
        if i % 11 == 0 {
            o.created_at = now() - Duration::hours(30);
            o.updated_at = o.created_at;
        }
        o.customer_email = (rng.below(4) != 0).then(|| format!("c{n}@example.com"));
        o.total_price = rng
            .pick(&["129.95", "0.50", "10", "1000.000", "7.1"])
            .to_string();
        o.currency = rng.pick(&["USD", "EUR"]).to_string();
        o.fulfillment_status = *rng.pick(FulfillmentStatus::ALL);
        o.financial_status = *rng.pick(FinancialStatus::ALL);
        o.cancelled_at = (rng.below(8) == 0).then(|| o.created_at + Duration::minutes(5));
        o.priority = *rng.pick(Priority::ALL);
        o.tags = match rng.below(3) {
            0 => vec![],
            1 => vec!["vip".into()],
            _ => vec!["wholesale".into(), "b2b".into(), "a".into()],
        };
        o.assigned_to = rng
            .pick(&[None, Some("sam"), Some("alex")])
            .map(str::to_owned);
        for k in 0..rng.below(3) {
            let tracked = rng.below(2) == 0;
            o.shipments.push(Shipment {
                id: format!("shp_seed_{n}_{k}"),
                status: *rng.pick(ShipmentStatus::ALL),
                tracking: tracked.then(|| Tracking {
                    number: format!("1Z{n}{k}"),
                    carrier: "UPS".into(),
                }),
                last_update_at: now() - Duration::hours(rng.below(60) as i64),
            });
        }
        if rng.below(3) == 0 {
            o.return_ = Some(ReturnRecord {
                id: format!("ret_{n}"),
                state: *rng.pick(ReturnState::ALL),
                created_at: o.created_at + Duration::hours(1),
                updated_at: o.created_at + Duration::hours(2),
            });
        }
        for k in 0..rng.below(3) {
            o.support.push(SupportRecord {
                thread: format!("conv_{n}_{k}"),
                note: "Customer wrote in".into(),
                open: rng.below(2) == 0,
                created_at: o.created_at + Duration::minutes(k as i64),
            });
        }
        for k in 0..rng.below(14) {
            // Some entries share a timestamp: arrival order must break the tie.
            let ts = o.created_at + Duration::minutes((k / 2) as i64);
            o.timeline.push(TimelineEntry {
                ts,
                event: format!("event.{k}"),
                details: format!("Step {k}."),
            });
        }
        records.push(o);
    }
    // Exactly at the tracking_pending cut-off (not pending) and a microsecond before it (pending).
    let th = Thresholds::default();
    let mut at = order(90001, th.tracking_pending_after);
    at.order_number = "#edge".into();
    records.push(at);
    records.push(order(
        90002,
        th.tracking_pending_after + Duration::microseconds(1),
    ));
    // Two orders with one name: the newer wins.
    let mut older = order(90003, Duration::days(3));
    older.order_number = "#dup".into();
    let mut newer = order(90004, Duration::days(1));
    newer.order_number = "#dup".into();
    records.extend([older, newer]);
    records
}

/// The stores under comparison, seeded alike.
async fn seeded(db: &TestDb, records: &[OrderRecord]) -> [Store; 2] {
    let pg = Store::Postgres(db.store.clone());
    let mem = Store::Memory(MemoryStore::default());
    for s in [&pg, &mem] {
        s.replace_orders(SHOP, records).await.expect("seed");
        s.replace_orders(OTHER_SHOP, &records[..3])
            .await
            .expect("seed the other shop");
    }
    [pg, mem]
}

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
    let filters = vec![
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
    let mut out = Vec::new();
    for tab in Tab::ALL {
        for f in &filters {
            out.push((*tab, f.clone()));
        }
    }
    out
}

/// Both stores answer every tab, filter and window alike at `at`.
async fn assert_same_lists(stores: &[Store; 2], at: DateTime<Utc>) {
    let th = Thresholds::default();
    for (tab, filter) in queries() {
        let mut q = ListQuery::for_shop(SHOP);
        q.tab = tab;
        q.filter = filter.clone();
        assert_eq!(
            stores[0].stats(&q, at, &th).await.expect("pg stats"),
            stores[1].stats(&q, at, &th).await.expect("memory stats"),
            "stats of tab {tab}, filter {filter:?}"
        );
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

async fn assert_same_outbox(stores: &[Store; 2]) -> Vec<OutboxEvent> {
    let pg = stores[0].outbox(SHOP).await.unwrap();
    assert_eq!(pg, stores[1].outbox(SHOP).await.unwrap());
    pg
}

fn refs(raw: &[&str]) -> Vec<OrderRef> {
    raw.iter().map(|r| OrderRef::parse(r).unwrap()).collect()
}

#[tokio::test]
async fn lists_and_counts_match_the_memory_store_on_every_tab_filter_and_window() {
    let db = TestDb::new().await;
    let stores = seeded(&db, &data_set(400, 7)).await;
    assert_same_lists(&stores, now()).await;
    // A `now` between microseconds puts the cut-offs between stored instants.
    assert_same_lists(&stores, now() + Duration::nanoseconds(500)).await;
    assert_same_lists(&stores, now() + Duration::days(1)).await;

    let q = ListQuery::for_shop(SHOP);
    let w = PageWindow {
        offset: 0,
        limit: 500,
        page_size: 250,
    };
    let page = stores[0]
        .list_orders(&q, w, now(), &Thresholds::default())
        .await
        .unwrap();
    assert_eq!(page.counts.all, 404);
    assert!(page.counts.tracking_pending > 0 && page.counts.delayed > 0 && page.counts.returns > 0);
    assert!(page.counts.support > 0);
    let edge = page
        .orders
        .iter()
        .find(|o| o.order_number == "#edge")
        .unwrap();
    assert!(
        edge.alerts.is_empty(),
        "exactly two hours old is not yet tracking_pending"
    );
    let tens = page
        .orders
        .iter()
        .find(|o| o.total_price == "1000.000")
        .unwrap();
    assert_eq!(tens.total_price, "1000.000", "prices round-trip exactly");
    db.drop_database().await;
}

#[tokio::test]
async fn an_unknown_shop_has_an_empty_page_and_the_shopify_cursor_is_served() {
    let db = TestDb::new().await;
    let stores = seeded(&db, &data_set(20, 1)).await;
    let th = Thresholds::default();
    let w = PageWindow {
        offset: 0,
        limit: 50,
        page_size: 50,
    };
    let page = stores[0]
        .list_orders(&ListQuery::for_shop("nobody.myshopify.com"), w, now(), &th)
        .await
        .unwrap();
    assert_eq!(
        page,
        Page {
            orders: vec![],
            counts: TabCounts::default(),
            shopify_cursor: None
        }
    );

    sqlx::query("UPDATE shops SET shopify_cursor = 'eyJsYXN0IjoxfQ==' WHERE domain = $1")
        .bind(SHOP)
        .execute(db.store.pool())
        .await
        .unwrap();
    let page = stores[0]
        .list_orders(&ListQuery::for_shop(SHOP), w, now(), &th)
        .await
        .unwrap();
    assert_eq!(page.shopify_cursor.as_deref(), Some("eyJsYXN0IjoxfQ=="));
    assert_eq!(
        stores[0].shops().await.unwrap(),
        vec![SHOP.to_owned(), OTHER_SHOP.to_owned()]
    );
    db.drop_database().await;
}

#[tokio::test]
async fn one_order_is_found_by_gid_numeric_id_or_name_and_only_in_its_shop() {
    let db = TestDb::new().await;
    let stores = seeded(&db, &data_set(30, 3)).await;
    let th = Thresholds::default();
    for r in [
        "gid://shopify/Order/5001",
        "5002",
        "#dup",
        "#edge",
        "#nope",
        "gid://shopify/Order/77777",
    ] {
        let r = OrderRef::parse(r).unwrap();
        let pg = stores[0].get_order(SHOP, &r, now(), &th).await.unwrap();
        assert_eq!(
            pg,
            stores[1].get_order(SHOP, &r, now(), &th).await.unwrap(),
            "{r}"
        );
    }
    let dup = stores[0]
        .get_order(SHOP, &OrderRef::Name("#dup".into()), now(), &th)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        dup.id, "gid://shopify/Order/90004",
        "the newest order bearing the name"
    );
    let elsewhere = stores[0]
        .get_order(OTHER_SHOP, &OrderRef::Name("#dup".into()), now(), &th)
        .await
        .unwrap();
    assert!(elsewhere.is_none());
    assert!(stores[0]
        .get_order("nobody.myshopify.com", &refs(&["5001"])[0], now(), &th)
        .await
        .unwrap()
        .is_none());
    db.drop_database().await;
}

#[tokio::test]
async fn every_write_answers_and_persists_as_the_memory_store_does() {
    let db = TestDb::new().await;
    let records = data_set(120, 11);
    let stores = seeded(&db, &records).await;
    let at = now() + Duration::minutes(1);
    let live: Vec<&OrderRecord> = records
        .iter()
        .filter(|r| r.cancelled_at.is_none())
        .collect();
    let cancelled: Vec<&OrderRecord> = records
        .iter()
        .filter(|r| r.cancelled_at.is_some())
        .collect();
    let returnable = records
        .iter()
        .find(|r| {
            r.return_
                .as_ref()
                .is_some_and(|x| x.state == ReturnState::AwaitingLabel)
        })
        .expect("the data set has a return awaiting its label");
    let without_return = records.iter().find(|r| r.return_.is_none()).unwrap();

    // Assign by name, numeric id and GID, naming one order twice.
    let assign = AssignCommand {
        shop_domain: SHOP.into(),
        orders: vec![
            OrderRef::Name(live[0].order_number.clone()),
            OrderRef::Id(live[1].id.clone()),
            OrderRef::Id(live[0].id.clone()),
            OrderRef::Id(live[2].id.clone()),
        ],
        assignee: Some("sam".into()),
    };
    let answers = [
        stores[0]
            .assign(&assign, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .assign(&assign, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
    ];
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0].len(), 3);
    assert!(answers[0]
        .iter()
        .all(|a| a.id.starts_with("gid://") && a.assigned_to.as_deref() == Some("sam")));

    let unassign = AssignCommand {
        assignee: None,
        ..assign.clone()
    };
    assert_eq!(
        stores[0]
            .assign(&unassign, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .assign(&unassign, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap()
    );

    // Unknown references: 404 naming them as written, in request order, and nothing changes.
    let unknown = AssignCommand {
        shop_domain: SHOP.into(),
        orders: refs(&["#nope", "5001", "424242"]),
        assignee: Some("alex".into()),
    };
    for s in &stores {
        match s.assign(&unknown, at, None).await {
            Err(StoreError::OrdersNotFound(missing)) => {
                assert_eq!(missing, vec!["#nope", "gid://shopify/Order/424242"])
            }
            other => panic!("expected OrdersNotFound, got {other:?}"),
        }
    }
    let other_shop = AssignCommand {
        shop_domain: "nobody.myshopify.com".into(),
        ..assign.clone()
    };
    assert!(
        matches!(stores[0].assign(&other_shop, at, None).await, Err(StoreError::OrdersNotFound(m)) if m.len() == 4)
    );

    // A fulfill naming cancelled orders is refused whole (409, every cancelled GID), writing nothing.
    let refused = FulfillCommand {
        shop_domain: SHOP.into(),
        orders: vec![
            OrderRef::Id(live[3].id.clone()),
            OrderRef::Id(cancelled[0].id.clone()),
            OrderRef::Id(cancelled[1].id.clone()),
        ],
        tracking: None,
    };
    for s in &stores {
        match s.fulfill(&refused, at, None).await {
            Err(StoreError::Cancelled(ids)) => {
                assert_eq!(ids, vec![cancelled[0].id.clone(), cancelled[1].id.clone()])
            }
            other => panic!("expected Cancelled, got {other:?}"),
        }
    }
    assert_same_lists(&stores, at).await;

    // Fulfill with tracking, including orders already fulfilled (a no-op without tracking echoed back).
    let fulfill = FulfillCommand {
        shop_domain: SHOP.into(),
        orders: live[3..12]
            .iter()
            .map(|r| OrderRef::Id(r.id.clone()))
            .collect(),
        tracking: Some(Tracking {
            number: "1Z999".into(),
            carrier: "UPS".into(),
        }),
    };
    let done = [
        stores[0]
            .fulfill(&fulfill, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .fulfill(&fulfill, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
    ];
    assert_eq!(done[0], done[1]);
    for (answer, record) in done[0].iter().zip(&live[3..12]) {
        assert_eq!(answer.fulfillment_status, FulfillmentStatus::Fulfilled);
        let was_fulfilled = record.fulfillment_status == FulfillmentStatus::Fulfilled;
        assert_eq!(answer.tracking.is_none(), was_fulfilled, "{}", record.id);
    }
    let untracked = FulfillCommand {
        orders: vec![OrderRef::Id(live[12].id.clone())],
        tracking: None,
        ..fulfill
    };
    assert_eq!(
        stores[0]
            .fulfill(&untracked, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .fulfill(&untracked, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap()
    );

    // Escalate: a new open thread, handed to the assistant.
    let support = SupportCommand {
        shop_domain: SHOP.into(),
        order: OrderRef::Name(live[13].order_number.clone()),
        conversation_id: None,
        note: "Where is my parcel?".into(),
    };
    let escalated = [
        stores[0]
            .escalate(&support, "conv_new", at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .escalate(&support, "conv_new", at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
    ];
    assert_eq!(escalated[0], escalated[1]);
    assert_eq!(
        escalated[0],
        EscalatedOrder {
            id: live[13].id.clone(),
            support_thread: "conv_new".into()
        }
    );

    // Returns: a legal move, a forbidden one (409 naming state and action), and an order without one.
    let action = |a: ReturnAction, order: &OrderRecord| ReturnCommand {
        shop_domain: SHOP.into(),
        order: OrderRef::Id(order.id.clone()),
        action: a,
        note: Some("checked".into()),
    };
    let moved = action(ReturnAction::GenerateLabel, returnable);
    let plans = [
        stores[0]
            .apply_return_action(&moved, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
        stores[1]
            .apply_return_action(&moved, at, None)
            .await
            .unwrap()
            .applied()
            .unwrap(),
    ];
    assert_eq!(plans[0], plans[1]);
    assert_eq!(plans[0].to, ReturnState::LabelGenerated);
    for s in &stores {
        match s
            .apply_return_action(&action(ReturnAction::Complete, returnable), at, None)
            .await
        {
            Err(StoreError::Transition(TransitionError::NotAllowed { state, action })) => {
                assert_eq!(
                    (state, action),
                    (ReturnState::LabelGenerated, ReturnAction::Complete)
                )
            }
            other => panic!("expected a 409, got {other:?}"),
        }
        match s
            .apply_return_action(&action(ReturnAction::Deny, without_return), at, None)
            .await
        {
            Err(StoreError::NoReturn(r)) => assert_eq!(r, without_return.id),
            other => panic!("expected NoReturn, got {other:?}"),
        }
    }

    // Everything the writes left behind is the same in both stores.
    assert_same_lists(&stores, at).await;
    assert_same_lists(&stores, at + Duration::days(2)).await;
    let outbox = assert_same_outbox(&stores).await;
    assert!(outbox.iter().any(|e| e.topic == "support.escalation"));
    assert!(outbox.iter().any(|e| e.topic == "erp.return"));
    for r in &records {
        assert_eq!(
            stores[0].timeline(SHOP, &r.id).await.unwrap(),
            stores[1].timeline(SHOP, &r.id).await.unwrap(),
            "{}",
            r.id
        );
    }
    let th = Thresholds::default();
    let newly = live[3..12]
        .iter()
        .find(|r| r.fulfillment_status != FulfillmentStatus::Fulfilled)
        .unwrap();
    let fulfilled = stores[0]
        .get_order(SHOP, &OrderRef::Id(newly.id.clone()), at, &th)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fulfilled.updated_at, at);
    assert_eq!(fulfilled.fulfillment_status, FulfillmentStatus::Fulfilled);
    assert!(fulfilled
        .shipments
        .iter()
        .any(|s| s.tracking.as_ref().is_some_and(|t| t.number == "1Z999")));
    assert!(!fulfilled.alerts.contains(&AlertKind::TrackingPending));

    // The tallies behind the counts followed every write, before and after a fold.
    assert_tallies_count_the_orders(&db).await;
    assert!(
        db.store.fold_tallies().await.unwrap() > 0,
        "the writes left changes to fold"
    );
    assert_eq!(
        db.store.fold_tallies().await.unwrap(),
        0,
        "a second fold finds none"
    );
    assert_tallies_count_the_orders(&db).await;
    assert_same_lists(&stores, at).await;
    db.drop_database().await;
}

/// The tallies (folded and not) equal a count of the orders, combination by combination, and
/// every order's `assignee` mirrors its row of order_assignments.
async fn assert_tallies_count_the_orders(db: &TestDb) {
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

#[tokio::test]
async fn concurrent_actions_on_one_return_apply_once() {
    let db = TestDb::new().await;
    let mut o = order(7001, Duration::hours(5));
    o.return_ = Some(ReturnRecord {
        id: "ret_7001".into(),
        state: ReturnState::Inspection,
        created_at: now() - Duration::hours(4),
        updated_at: now() - Duration::hours(4),
    });
    db.store.replace_orders(SHOP, &[o]).await.unwrap();
    let cmd = |action| ReturnCommand {
        shop_domain: SHOP.into(),
        order: OrderRef::Id("gid://shopify/Order/7001".into()),
        action,
        note: None,
    };
    let mut tasks = Vec::new();
    for i in 0..8 {
        let store = db.store.clone();
        let c = cmd(if i % 2 == 0 {
            ReturnAction::ApproveRefund
        } else {
            ReturnAction::Deny
        });
        tasks.push(tokio::spawn(async move {
            store.apply_return_action(&c, now(), None).await
        }));
    }
    let mut applied = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => applied += 1,
            Err(StoreError::Transition(_)) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(applied, 1);
    let history = db
        .store
        .timeline(SHOP, "gid://shopify/Order/7001")
        .await
        .unwrap();
    assert_eq!(
        history
            .iter()
            .filter(|e| e.event.starts_with("return."))
            .count(),
        1
    );
    assert_eq!(db.store.outbox(SHOP).await.unwrap().len(), 1);
    db.drop_database().await;
}

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
async fn an_unreachable_database_is_unavailable_not_an_internal_error() {
    let store = PgStore::connect_lazy("postgres://postgres@127.0.0.1:1/nowhere").unwrap();
    assert!(matches!(
        store.ping().await,
        Err(StoreError::Unavailable(_))
    ));
    let w = PageWindow {
        offset: 0,
        limit: 10,
        page_size: 10,
    };
    let listed = store
        .list_orders(&ListQuery::for_shop(SHOP), w, now(), &Thresholds::default())
        .await;
    assert!(matches!(listed, Err(StoreError::Unavailable(_))));
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
#[allow(clippy::type_complexity)]
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
#[allow(clippy::type_complexity)]
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
