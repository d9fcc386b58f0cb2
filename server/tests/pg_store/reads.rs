//! Reads held to the in-memory store: lists, counts and stats, an unknown shop, one order by
//! each kind of reference; and an unreachable database.

use chrono::Duration;
use orders_core::query::PageWindow;
use orders_core::*;
use orders_sync::store::{Page, PgStore, StoreError};

use crate::compare::assert_same_lists;
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
