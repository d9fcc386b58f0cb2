//! The dashboard's times, days and money (issue 17, "Time and money"): times in the shop's zone
//! (Shopify's `ianaTimezone`, else `SHOP_TIMEZONE`), the page's date filters and its CSV export cut
//! on the shop's local days while the Sync API keeps UTC days (SPEC §2), and amounts in the
//! admin's `locale`, else the browser's `Accept-Language`.

use chrono::{DateTime, Utc};
use orders_core::locale::ShopClock;

use crate::contract;
use crate::helpers::*;

/// 2026-12-01T15:30:00Z: Dec 2, 00:30 in Tokyo.
fn placed() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-12-01T15:30:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// The shop's orders: #5001 (1234.50 EUR) placed at [`placed`].
async fn seed_one(app: &TestApp) {
    let mut record = order(5001).created(placed()).build();
    record.total_price = "1234.50".into();
    record.currency = "EUR".into();
    app.seed(SHOP, vec![record]).await;
}

impl TestApp {
    /// The dashboard's HTML with request headers.
    async fn page_with(&self, query: &[(&str, &str)], headers: &[(&str, &str)]) -> String {
        let mut request = self
            .client
            .get(format!("{}/orders", self.address))
            .query(query);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let html = response.text().await.unwrap();
        assert_eq!(status, 200, "{html}");
        html
    }
}

async fn a_tokyo_shop_sees_tokyo_times_and_tokyo_days(app: TestApp) {
    seed_one(&app).await;
    app.store
        .set_shop_time_zone(SHOP, "Asia/Tokyo")
        .await
        .unwrap();

    let html = app.page_html(&[("shop", SHOP)]).await;
    assert!(html.contains(">Dec 2, 00:30<"), "{html}");
    assert!(html.contains("Dec 2, 00:30 (Asia/Tokyo)"), "{html}");
    assert!(html.contains("Times in Asia/Tokyo"), "{html}");
    assert!(!html.contains("Dec 1, 15:30"), "{html}");

    // Dec 2 in Tokyo holds the order; Dec 2 of the Sync API (a UTC day) does not.
    let day = [
        ("shop", SHOP),
        ("date_start", "2026-12-02"),
        ("date_end", "2026-12-02"),
    ];
    let html = app.page_html(&day).await;
    assert!(
        html.contains(r#"data-order-id="gid://shopify/Order/5001""#),
        "{html}"
    );
    assert!(
        html.contains("date_start=2026-12-02&amp;date_end=2026-12-02"),
        "the page's links keep the dates as given: {html}"
    );
    let api = app
        .list_shop(
            SHOP,
            &[("date_start", "2026-12-02"), ("date_end", "2026-12-02")],
        )
        .await;
    assert_eq!(api.assert_ok()["orders"].as_array().unwrap().len(), 0);
    let api = app
        .list_shop(
            SHOP,
            &[("date_start", "2026-12-01"), ("date_end", "2026-12-01")],
        )
        .await;
    assert_eq!(api.assert_ok()["orders"].as_array().unwrap().len(), 1);
    let html = app
        .page_html(&[
            ("shop", SHOP),
            ("date_start", "2026-12-01"),
            ("date_end", "2026-12-01"),
        ])
        .await;
    assert!(
        !html.contains(r#"data-order-id="gid://shopify/Order/5001""#),
        "Dec 1 in Tokyo is over before the order: {html}"
    );

    // The export of the page's view follows the page's days.
    let export = |q: &'static str| {
        let url = format!("{}/orders/export.csv?shop={SHOP}&{q}", app.address);
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let csv = export("date_start=2026-12-02&date_end=2026-12-02").await;
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("gid://shopify/Order/5001"), "{csv}");
    let csv = export("date_start=2026-12-01&date_end=2026-12-01").await;
    assert_eq!(csv.lines().count(), 1, "{csv}");
}

async fn money_reads_in_the_admins_locale_else_the_browsers(app: TestApp) {
    seed_one(&app).await;
    let html = app
        .page_with(&[("shop", SHOP)], &[("accept-language", "de-DE,de;q=0.9")])
        .await;
    assert!(html.contains("1.234,50\u{a0}€"), "{html}");
    assert!(html.contains(r#"title="1234.50 EUR""#), "{html}");
    let html = app
        .page_with(
            &[("shop", SHOP), ("locale", "ja")],
            &[("accept-language", "de-DE,de;q=0.9")],
        )
        .await;
    assert!(
        html.contains("€1,234.50"),
        "the admin's locale wins: {html}"
    );
    assert!(!html.contains("1.234,50"), "{html}");
    let html = app.page_html(&[("shop", SHOP)]).await;
    assert!(html.contains("€1,234.50"), "en-US without either: {html}");
    // No zone known: UTC.
    assert!(html.contains(">Dec 1, 15:30<"), "{html}");
    assert!(html.contains("Times in UTC"), "{html}");
}

contract!(
    a_tokyo_shop_sees_tokyo_times_and_tokyo_days,
    money_reads_in_the_admins_locale_else_the_browsers,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_timezone_is_the_zone_of_a_shop_shopify_has_not_told() {
    let app = spawn_with(Backend::Memory, |s| {
        s.shop_time_zone = ShopClock::parse("America/New_York").unwrap();
    })
    .await;
    seed_one(&app).await;
    let html = app.page_html(&[("shop", SHOP)]).await;
    assert!(html.contains(">Dec 1, 10:30<"), "{html}");
    assert!(html.contains("Times in America/New_York"), "{html}");
    // The shop's own zone, once known, wins over the setting.
    app.store
        .set_shop_time_zone(SHOP, "Asia/Tokyo")
        .await
        .unwrap();
    let html = app.page_html(&[("shop", SHOP)]).await;
    assert!(html.contains(">Dec 2, 00:30<"), "{html}");
}
