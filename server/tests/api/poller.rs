//! The reconciliation poller (SPEC §7, §6): ticks driven one by one against a fake Shopify Admin
//! GraphQL API served from the test, answering pages in the published shape
//! (`tests/fixtures/shopify/graphql_orders_page.json`) and recording what it was asked.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use orders_sync::service::{Database, Ingestion};
use orders_sync::settings::Settings;
use orders_sync::shopify::poller::{self, BackfillError, FetchError, Tick, TickError, TickReport};
use orders_sync::shopify::signature::sign;
use orders_sync::store::postgres::shopify::{PollEnd, PollLease};
use orders_sync::store::{PgStore, Store};
use serde_json::{json, Value};

use crate::fake_shopify::{iso, order_node, page, Answer, FakeShopify, PAGE_TEMPLATE};
use crate::helpers::{now, spawn_app, test_settings, Backend, TestApp, OTHER_SHOP, SHOP};

const SECRET: &str = "hush-webhook-secret";
const TOKEN: &str = "shpat_test_token_acme";
const OTHER_TOKEN: &str = "shpat_test_token_other";

fn hours_ago(h: i64) -> DateTime<Utc> {
    now() - chrono::Duration::hours(h)
}

fn pg(app: &TestApp) -> &PgStore {
    match &app.store {
        Store::Postgres(pg) => pg,
        Store::Memory(_) => panic!("the poller runs on PostgreSQL"),
    }
}

/// Ingestion over the app's database.
fn ingestion(app: &TestApp) -> Ingestion {
    Ingestion::new(pg(app).clone())
}

/// The server on a fresh database with `SHOP` registered with `token` (none: webhooks only).
async fn app_with_shop(token: Option<&str>) -> TestApp {
    let app = spawn_app(Backend::Postgres).await;
    pg(&app)
        .register_shop(SHOP, SECRET, token, Utc::now())
        .await
        .expect("register the shop");
    app
}

async fn tick(app: &TestApp, fake: &FakeShopify, at: DateTime<Utc>) -> Result<Tick, TickError> {
    poller::tick(&app.service, &ingestion(app), &fake.client(), SHOP, at).await
}

#[track_caller]
fn whole(tick: Result<Tick, TickError>) -> TickReport {
    match tick {
        Ok(Tick::Whole(report)) => report,
        other => panic!("expected a whole tick, got {other:?}"),
    }
}

/// The shop's open data-gap alerts, as the polling fallback shows them.
async fn open_gaps(app: &TestApp) -> Vec<Value> {
    let r = app
        .get_json("/sync/orders/alerts", &[("shop_domain", SHOP)])
        .await;
    r.assert_ok()["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "data_gap")
        .cloned()
        .collect()
}

async fn listed_ids(app: &TestApp) -> (Vec<String>, Value) {
    let r = app.list_shop(SHOP, &[]).await;
    let body = r.assert_ok().clone();
    let mut ids: Vec<String> = body["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    (ids, body["shopifyCursor"].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tick_follows_the_cursor_through_every_page_and_stores_the_orders() {
    let app = app_with_shop(Some(TOKEN)).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    fake.answer([
        page(
            vec![
                order_node(3001, hours_ago(5), hours_ago(4)),
                order_node(3002, hours_ago(3), hours_ago(2)),
            ],
            true,
            "cursor-page-1",
        ),
        page(
            vec![order_node(3003, hours_ago(2), hours_ago(1))],
            false,
            "cursor-page-2",
        ),
    ]);
    let started = now();
    let report = whole(tick(&app, &fake, started).await);
    assert_eq!(report.pages, 2);
    assert_eq!((report.tally.created, report.tally.failed), (3, 0));
    assert!(report.first_tick);
    assert_eq!(report.cursor.as_deref(), Some("cursor-page-2"));

    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|s| s.token == TOKEN));
    assert_eq!(seen[0].after, None);
    assert_eq!(seen[1].after.as_deref(), Some("cursor-page-1"));
    let first_window = format!(
        "updated_at:>'{}'",
        iso(started - chrono::Duration::hours(24))
    );
    assert_eq!(seen[0].query.as_deref(), Some(first_window.as_str()));
    assert_eq!(seen[1].query, seen[0].query);
    assert!(seen
        .iter()
        .all(|s| s.first.is_some_and(|f| (1..=250).contains(&f))));

    let (ids, cursor) = listed_ids(&app).await;
    assert_eq!(
        ids,
        [
            "gid://shopify/Order/3001",
            "gid://shopify/Order/3002",
            "gid://shopify/Order/3003"
        ]
    );
    assert_eq!(cursor, "cursor-page-2");
    let order = app.order("gid://shopify/Order/3002").await;
    assert_eq!(order["orderNumber"], "#3002");
    assert_eq!(order["totalPrice"], "72.50");
    assert!(
        open_gaps(&app).await.is_empty(),
        "a first tick finds no gap"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_tick_reads_from_the_last_one_minus_the_overlap() {
    let app = app_with_shop(Some(TOKEN)).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    let first = now() - chrono::Duration::minutes(15);
    fake.answer([page(
        vec![order_node(3001, hours_ago(3), hours_ago(2))],
        false,
        "cursor-first",
    )]);
    whole(tick(&app, &fake, first).await);
    // Nothing changed since: the page is empty, and the cursor reached before is kept.
    let report = whole(tick(&app, &fake, now()).await);
    assert!(!report.first_tick);
    assert_eq!(report.tally.orders(), 0);

    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    let expected = format!(
        "updated_at:>'{}'",
        iso(first - chrono::Duration::minutes(2))
    );
    assert_eq!(seen[1].query.as_deref(), Some(expected.as_str()));
    assert_eq!(seen[1].after, None, "each tick starts from the first page");
    assert_eq!(listed_ids(&app).await.1, "cursor-first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_answer_is_waited_out_and_is_no_failure() {
    let app = app_with_shop(Some(TOKEN)).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    // An empty bucket refilling 100 points a second, for a query of 50 points: half a second.
    fake.answer([
        Answer::Throttled {
            cost: 50.0,
            restore_rate: 100.0,
        },
        page(
            vec![order_node(3001, hours_ago(3), hours_ago(2))],
            false,
            "cursor-1",
        ),
    ]);
    let report = whole(tick(&app, &fake, now()).await);
    assert_eq!(report.throttled, 1);
    assert_eq!(report.tally.created, 1);
    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "asked once more after the wait");
    let waited = seen[1].at - seen[0].at;
    assert!(
        waited >= Duration::from_millis(500),
        "the retry came after {waited:?}"
    );
    assert_eq!(seen[1].after, seen[0].after);
    assert!(open_gaps(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_of_an_age_ends_the_tick_short_at_once_and_never_panics() {
    let app = app_with_shop(Some(TOKEN)).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    fake.answer([Answer::RetryAfter("1e20")]);
    let started = Instant::now();
    match tick(&app, &fake, now()).await {
        Ok(Tick::Short { why, report }) => {
            assert!(why.contains("asked to wait 300 s"), "{why}");
            assert_eq!(report.throttled, 1);
        }
        other => panic!("expected a short tick, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "it did not wait"
    );
    assert_eq!(fake.seen().len(), 1, "not asked again within the tick");
    assert!(open_gaps(&app).await.is_empty(), "throttling is no gap");
    // The shop was released: the next tick reads it.
    whole(tick(&app, &fake, now()).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed_with_the_token_and_fails_the_tick_saying_so() {
    let app = app_with_shop(Some(TOKEN)).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    let elsewhere = format!("{}/elsewhere", fake.base_url);
    fake.answer([Answer::Redirect(elsewhere.clone())]);
    match tick(&app, &fake, now()).await {
        Err(TickError::Fetch(FetchError::Redirected {
            status: 302,
            location,
        })) => assert_eq!(location.as_deref(), Some(elsewhere.as_str())),
        other => panic!("expected the redirect to fail the tick, got {other:?}"),
    }
    assert!(fake.elsewhere().is_empty(), "{:?}", fake.elsewhere());
    let gaps = open_gaps(&app).await;
    let message = gaps[0]["message"].as_str().unwrap();
    assert!(
        message.contains("HTTP 302 redirecting to") && message.contains("does not follow"),
        "{message}"
    );

    // The backfill, through the same client, does not follow one either.
    fake.answer([Answer::Redirect(elsewhere)]);
    match poller::backfill(&ingestion(&app), &fake.client(), SHOP, None, |_| {}).await {
        Err(BackfillError::Fetch {
            source: FetchError::Redirected { .. },
            ..
        }) => {}
        other => panic!("expected the redirect to stop the backfill, got {other:?}"),
    }
    assert!(fake.elsewhere().is_empty(), "{:?}", fake.elsewhere());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_no_webhook_delivered_is_recovered_with_a_data_gap_until_a_clean_tick() {
    let app = app_with_shop(Some(TOKEN)).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    whole(tick(&app, &fake, now() - chrono::Duration::minutes(15)).await);

    // #1001 arrives by webhook as it should.
    let body = include_bytes!("../../../tests/fixtures/shopify/orders_create.json");
    let r = app
        .client
        .post(format!("{}/webhooks/shopify", app.address))
        .header("Content-Type", "application/json")
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Hmac-Sha256", sign(SECRET, body))
        .header("X-Shopify-Shop-Domain", SHOP)
        .header("X-Shopify-Webhook-Id", uuid::Uuid::new_v4().to_string())
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Shopify also has #4002, changed an hour ago, whose webhook never came, and #4003, changed a
    // minute ago, whose webhook may still be on its way.
    let template: Value = serde_json::from_str(PAGE_TEMPLATE).unwrap();
    let delivered = template["data"]["orders"]["edges"][0]["node"].clone();
    fake.answer([page(
        vec![
            delivered,
            order_node(4002, hours_ago(2), hours_ago(1)),
            order_node(4003, now(), now() - chrono::Duration::minutes(1)),
        ],
        false,
        "cursor-2",
    )]);
    let report = whole(tick(&app, &fake, now()).await);
    assert_eq!(report.tally.created, 2);
    assert_eq!(report.tally.missed, 1);
    assert_eq!(report.tally.missed_names, ["#4002"]);

    let (ids, _) = listed_ids(&app).await;
    assert!(
        ids.contains(&"gid://shopify/Order/4002".to_owned()),
        "{ids:?}"
    );
    let gaps = open_gaps(&app).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["severity"], "critical");
    let message = gaps[0]["message"].as_str().unwrap();
    assert!(
        message.contains("1 order the webhooks never delivered") && message.contains("#4002"),
        "{message}"
    );
    assert!(!message.contains("#4003"), "{message}");
    assert!(!message.contains("#1001"), "{message}");

    // The next tick finds nothing missing: the gap clears.
    whole(tick(&app, &fake, now()).await);
    assert!(open_gaps(&app).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_tick_raises_a_data_gap_and_the_next_one_reads_its_window_again() {
    let app = app_with_shop(Some(TOKEN)).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    let first = now() - chrono::Duration::minutes(30);
    whole(tick(&app, &fake, first).await);

    fake.answer([Answer::Status(500)]);
    match tick(&app, &fake, now() - chrono::Duration::minutes(15)).await {
        Err(TickError::Fetch(FetchError::Status { status: 500, .. })) => {}
        other => panic!("expected the 500 to fail the tick, got {other:?}"),
    }
    let gaps = open_gaps(&app).await;
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    let message = gaps[0]["message"].as_str().unwrap();
    assert!(message.contains("HTTP 500"), "{message}");

    // The failed tick moved nothing and released the shop: the next reads from the first again.
    let report = whole(tick(&app, &fake, now()).await);
    let expected = format!(
        "updated_at:>'{}'",
        iso(first - chrono::Duration::minutes(2))
    );
    assert_eq!(report.query, expected);
    assert_eq!(fake.seen()[2].query.as_deref(), Some(expected.as_str()));
    assert!(open_gaps(&app).await.is_empty(), "a clean tick clears it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_a_data_gap_that_says_so() {
    let app = app_with_shop(Some("shpat_revoked")).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    let result = tick(&app, &fake, now()).await;
    assert!(
        matches!(
            result,
            Err(TickError::Fetch(FetchError::Status { status: 401, .. }))
        ),
        "{result:?}"
    );
    assert_eq!(fake.seen()[0].token, "shpat_revoked");
    let gaps = open_gaps(&app).await;
    assert!(
        gaps[0]["message"]
            .as_str()
            .unwrap()
            .contains("refused the access token"),
        "{gaps:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_does_not_read_fails_the_tick_but_the_rest_of_the_page_applies() {
    let app = app_with_shop(Some(TOKEN)).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    let mut odd = order_node(3002, hours_ago(3), hours_ago(2));
    odd["displayFinancialStatus"] = json!("SOMETHING_NEW");
    fake.answer([page(
        vec![order_node(3001, hours_ago(3), hours_ago(2)), odd],
        false,
        "c",
    )]);
    match tick(&app, &fake, now()).await {
        Err(TickError::Orders { report }) => {
            assert_eq!((report.tally.created, report.tally.failed), (1, 1));
        }
        other => panic!("expected the odd order to fail the tick, got {other:?}"),
    }
    let (ids, cursor) = listed_ids(&app).await;
    assert_eq!(ids, ["gid://shopify/Order/3001"]);
    assert_eq!(cursor, Value::Null, "a failed tick records no cursor");
    let gaps = open_gaps(&app).await;
    let message = gaps[0]["message"].as_str().unwrap();
    assert!(
        message.contains("1 order Sync could not store") && message.contains("something_new"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_without_a_token_is_not_polled() {
    let app = app_with_shop(None).await;
    pg(&app)
        .register_shop(OTHER_SHOP, SECRET, Some(OTHER_TOKEN), Utc::now())
        .await
        .unwrap();
    let fake = FakeShopify::start(&[TOKEN, OTHER_TOKEN]).await;
    assert!(matches!(
        tick(&app, &fake, now()).await,
        Ok(Tick::NotPolled)
    ));
    assert!(fake.seen().is_empty());
    let polled: Vec<String> = pg(&app)
        .shops_to_poll()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.domain)
        .collect();
    assert_eq!(polled, [OTHER_SHOP]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_another_process_is_polling_is_left_alone() {
    let app = app_with_shop(Some(TOKEN)).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    let lease = chrono::Duration::minutes(10);
    let PollLease::Claimed(held) = pg(&app).claim_poll(SHOP, lease).await.unwrap() else {
        panic!("the first claim wins");
    };
    assert!(matches!(
        pg(&app).claim_poll(SHOP, lease).await.unwrap(),
        PollLease::Busy
    ));
    assert!(matches!(tick(&app, &fake, now()).await, Ok(Tick::Busy)));
    assert!(fake.seen().is_empty());

    assert!(pg(&app)
        .finish_poll(held.shop_id, held.lease_until, PollEnd::Short)
        .await
        .unwrap());
    whole(tick(&app, &fake, now()).await);
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_polls_shops_with_a_token_and_stops_at_shutdown_releasing_the_shop() {
    let app = app_with_shop(Some(TOKEN)).await;
    pg(&app)
        .register_shop(OTHER_SHOP, SECRET, None, Utc::now())
        .await
        .unwrap();
    let fake = FakeShopify::start(&[TOKEN]).await;
    // The first answer makes the worker wait 30 s for the bucket: shutdown must not wait for it.
    fake.answer([Answer::Throttled {
        cost: 3000.0,
        restore_rate: 100.0,
    }]);
    let settings = Settings {
        shopify_api_base_url: fake.base_url.clone(),
        poll_interval: Some(Duration::from_secs(3600)),
        ..test_settings()
    };
    let worker = tokio::spawn(orders_sync::workers::poller::poll_forever(
        app.service.clone(),
        Database::new(pg(&app).clone()),
        settings,
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    while fake.seen().is_empty() {
        assert!(Instant::now() < deadline, "the worker polls at start-up");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seen = fake.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].token, TOKEN, "only the shop with a token is polled");

    app.service.live().shut_down();
    tokio::time::timeout(Duration::from_secs(2), worker)
        .await
        .expect("the worker stops promptly at shutdown")
        .unwrap();
    assert!(
        matches!(
            pg(&app)
                .claim_poll(SHOP, chrono::Duration::minutes(1))
                .await
                .unwrap(),
            PollLease::Claimed(_)
        ),
        "the shop was released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_reads_the_whole_history_and_leaves_the_poll_window_alone() {
    let app = app_with_shop(None).await;
    let fake = FakeShopify::start(&[TOKEN]).await;
    match poller::backfill(&ingestion(&app), &fake.client(), SHOP, None, |_| {}).await {
        Err(BackfillError::NoToken(shop)) => assert_eq!(shop, SHOP),
        other => panic!("expected NoToken, got {other:?}"),
    }
    pg(&app)
        .register_shop(SHOP, SECRET, Some(TOKEN), Utc::now())
        .await
        .unwrap();
    fake.answer([
        page(
            vec![order_node(1, hours_ago(24 * 400), hours_ago(24 * 399))],
            true,
            "h1",
        ),
        page(
            vec![
                order_node(2, hours_ago(24 * 30), hours_ago(24 * 30)),
                order_node(3, hours_ago(1), hours_ago(1)),
            ],
            false,
            "h2",
        ),
    ]);
    let mut pages_seen = Vec::new();
    let done = poller::backfill(&ingestion(&app), &fake.client(), SHOP, None, |p| {
        pages_seen.push((p.pages, p.tally.orders()))
    })
    .await
    .unwrap();
    assert_eq!(pages_seen, [(1, 1), (2, 3)]);
    assert_eq!((done.tally.created, done.tally.failed), (3, 0));
    assert_eq!(done.tally.missed, 0, "history is no gap");
    let seen = fake.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter().all(|s| s.query.is_none()),
        "no updated_at filter"
    );
    assert_eq!(seen[1].after.as_deref(), Some("h1"));
    assert_eq!(listed_ids(&app).await.0.len(), 3);

    // The poller's window is untouched: its next tick is still a first tick.
    let report = whole(tick(&app, &fake, now()).await);
    assert!(report.first_tick);
    assert!(open_gaps(&app).await.is_empty());
}
