//! Reads held to the in-memory store: lists, counts and stats, an unknown shop, one order by
//! each kind of reference; and an unreachable database.

use chrono::Duration;
use orders_core::query::PageWindow;
use orders_core::*;
use orders_sync::store::{Page, PgStore, Store, StoreError};

use crate::compare::{assert_same_deep_pages, assert_same_lists};
use crate::fixtures::{data_set, refs, seeded};
use crate::{now, TestDb, OTHER_SHOP, SHOP};

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

/// The count cache (`store/postgres/count_cache.rs`) serves a page only the counts of its own
/// snapshot and instant: a write through any path, even plain SQL, and the clock moving an order
/// between tabs are both seen at once.
#[tokio::test]
async fn kept_counts_follow_every_change_and_the_clock() {
    let db = TestDb::new().await;
    let pg = &db.store;
    let minutes = Duration::minutes;
    // Order 1 is untracked and turns two hours old at now + 10 min; order 2 is long tracked-free.
    let records = vec![
        crate::fixtures::order(1, Duration::hours(2) - minutes(10)),
        crate::fixtures::order(2, Duration::hours(5)),
    ];
    pg.replace_orders(SHOP, &records).await.unwrap();
    let th = Thresholds::default();
    let w = PageWindow {
        offset: 0,
        limit: 50,
        page_size: 50,
    };
    let counts_at = |at| {
        let q = ListQuery::for_shop(SHOP);
        async move { pg.list_orders(&q, w, at, &th).await.unwrap().counts }
    };

    let first = counts_at(now()).await;
    assert_eq!((first.all, first.tracking_pending), (2, 1));
    assert_eq!(pg.count_cache().size().0, 1, "kept");
    // Still the same instant's rules nine minutes on: served from the cache, and right.
    assert_eq!(counts_at(now() + minutes(9)).await, first);

    // The clock moves order 1 into tracking_pending at now + 10 min, with no write.
    let later = counts_at(now() + minutes(11)).await;
    assert_eq!(later.tracking_pending, 2);

    // A change made in plain SQL, outside the store's code, is seen by the next page.
    sqlx::query("UPDATE orders SET support_thread = 'conv-1' WHERE id = $1")
        .bind(crate::common::gid(2))
        .execute(pg.pool())
        .await
        .unwrap();
    assert_eq!(counts_at(now() + minutes(12)).await.support, 1);
    // So is one through the store, and a change of another shop leaves this shop's entry alone.
    let changes = |shop: &'static str| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT n FROM shop_changes c JOIN shops s ON s.id = c.shop_id WHERE s.domain = $1",
        )
        .bind(shop)
        .fetch_one(pg.pool())
        .await
        .unwrap()
    };
    let before = changes(SHOP).await;
    pg.replace_orders(OTHER_SHOP, &records[..1]).await.unwrap();
    assert_eq!(changes(SHOP).await, before);
    pg.replace_orders(SHOP, &records[..1]).await.unwrap();
    assert!(changes(SHOP).await > before);
    let after = counts_at(now() + minutes(12)).await;
    assert_eq!((after.all, after.support), (1, 0));
    // A transaction that changes many orders of a shop counts once.
    let before = changes(SHOP).await;
    sqlx::query("UPDATE orders SET priority = 'urgent'")
        .execute(pg.pool())
        .await
        .unwrap();
    assert_eq!(changes(SHOP).await, before + 1);
    // An update of a column no count reads changes nothing.
    sqlx::query("UPDATE orders SET customer_name = 'Renamed'")
        .execute(pg.pool())
        .await
        .unwrap();
    assert_eq!(changes(SHOP).await, before + 1);
    db.drop_database().await;
}

/// Deep pages are placed by the tallies (the day of the offset, then the rows of that day before
/// it) and read from the list index there: every tab and filter, at offsets on every day, gives
/// the rows the in-memory store gives, also after writes that have not been folded yet. The
/// delayed tab is walked in list order here (the other tests sort it: they hold few delayed).
#[tokio::test]
async fn deep_pages_placed_by_the_tallies_match_the_memory_store() {
    let db = TestDb::new().await;
    let stores = seeded(&db, &data_set(400, 11)).await;
    let placed = [
        Store::Postgres(
            db.store
                .clone()
                .with_deep_pages_from(1)
                .with_delayed_walk_from(0),
        ),
        stores[1].clone(),
    ];
    assert_same_deep_pages(&placed, now()).await;
    assert_same_deep_pages(&placed, now() + Duration::hours(3)).await;
    // Unfolded changes count on their days too.
    let th = Thresholds::default();
    let all = ListQuery::for_shop(SHOP);
    let w = PageWindow {
        offset: 0,
        limit: 250,
        page_size: 250,
    };
    let ids: Vec<String> = stores[1]
        .list_orders(&all, w, now(), &th)
        .await
        .unwrap()
        .orders
        .iter()
        .step_by(3)
        .map(|o| o.id.clone())
        .collect();
    let assign = AssignCommand {
        shop_domain: SHOP.into(),
        orders: ids.iter().map(|id| OrderRef::parse(id).unwrap()).collect(),
        assignee: Some("sam".into()),
    };
    for store in &placed {
        store.assign(&assign, now(), None).await.unwrap();
    }
    assert_same_deep_pages(&placed, now()).await;

    // The page's statement starts at its day.
    let Store::Postgres(pg) = &placed[0] else {
        unreachable!()
    };
    let deep = PageWindow {
        offset: 230,
        limit: 25,
        page_size: 25,
    };
    let plan = pg
        .explain_list(&all, deep, now(), &th)
        .await
        .unwrap()
        .join("\n");
    assert!(plan.contains("created_at <"), "{plan}");
    db.drop_database().await;
}
