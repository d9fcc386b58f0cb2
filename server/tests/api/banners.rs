//! The dashboard's alert banners (SPEC §6, §8): in the server's HTML, before any WASM, each kind's
//! count, the first five of its orders by name (each opening the drawer), the link to its tab,
//! and what a data gap says.

use orders_core::{FulfillmentStatus, ShipmentStatus};

use crate::contract;
use crate::helpers::*;

/// The markup of the banner of `kind` (from its opening tag to the next banner or the tabs).
fn banner<'a>(html: &'a str, kind: &str) -> &'a str {
    let start = html
        .find(&format!(r#"data-banner="{kind}""#))
        .unwrap_or_else(|| panic!("no {kind} banner in {html}"));
    let rest = &html[start..];
    let end = rest[1..]
        .find("data-banner=")
        .or_else(|| rest.find(r#"aria-label="Order views""#))
        .unwrap_or(rest.len());
    &rest[..end]
}

async fn a_banner_names_its_first_five_orders_and_links_to_its_tab(app: TestApp) {
    // Seven orders waiting for a tracking number (6007 the oldest), and one delayed shipment.
    let mut records: Vec<_> = (1..=7)
        .map(|i| order(6000 + i).hours_old(3 + i as i64).build())
        .collect();
    records.push(
        order(6100)
            .hours_old(50)
            .status(FulfillmentStatus::Fulfilled)
            .shipment(ShipmentStatus::InTransit, true, 30)
            .build(),
    );
    app.seed(SHOP, records).await;
    app.service.evaluate(SHOP).await.unwrap();

    let html = app.page_html(&[("shop", SHOP), ("tab", "returns")]).await;
    let pending = banner(&html, "tracking_pending");
    assert!(pending.contains(r#"data-count="7""#), "{pending}");
    assert!(pending.contains("7 orders waiting for a tracking number"));
    assert!(
        pending.contains("<details"),
        "collapsed until clicked: {pending}"
    );
    assert!(!pending.contains("<details open"), "{pending}");
    assert_eq!(pending.matches(r#"data-testid="banner-order""#).count(), 5);
    // The longest waiting first; each opens its drawer over the view on screen.
    for n in [6007u64, 6006, 6005, 6004, 6003] {
        let href = format!(
            "/orders?shop={SHOP}&amp;tab=returns&amp;order=gid%3A%2F%2Fshopify%2FOrder%2F{n}"
        );
        assert!(pending.contains(&href), "{href} in {pending}");
        assert!(pending.contains(&format!("#{}", n - 4000)));
    }
    assert!(!pending.contains("Order%2F6002"), "five at most");
    assert!(pending.contains(&format!(
        r#"href="/orders?shop={SHOP}&amp;tab=tracking_pending""#
    )));
    assert!(pending.contains("See all 7"));

    let delayed = banner(&html, "delayed");
    assert!(delayed.contains(r#"data-count="1""#), "{delayed}");
    assert!(delayed.contains("Order%2F6100"));
    assert!(delayed.contains("is in transit with no carrier update"));
    assert!(!html.contains(r#"data-banner="data_gap""#));

    // Fulfilled with tracking, an order leaves its banner.
    app.fulfill(&[&gid(6007)], Some(("1Z1", "UPS")))
        .await
        .assert_ok();
    app.service.evaluate(SHOP).await.unwrap();
    let html = app.page_html(&[("shop", SHOP)]).await;
    let pending = banner(&html, "tracking_pending");
    assert!(pending.contains(r#"data-count="6""#), "{pending}");
    assert!(!pending.contains("Order%2F6007"));
    assert!(pending.contains("Order%2F6002"));
}

async fn a_data_gap_says_what_failed_when_and_when_the_next_poll_runs(app: TestApp) {
    app.seed(SHOP, vec![order(5001).build()]).await;
    app.service
        .data_gap(SHOP, "The 10:15 poll failed: Shopify answered 503")
        .await
        .unwrap();
    let html = app.page_html(&[("shop", SHOP)]).await;
    let gap = banner(&html, "data_gap");
    assert!(gap.contains("Critical"), "{gap}");
    assert!(gap.contains("1 data gap: orders may be missing"));
    assert!(gap.contains("The 10:15 poll failed: Shopify answered 503"));
    assert!(gap.contains("Noticed "), "{gap}");
    // The tests' servers do not poll, and say so.
    assert!(
        gap.contains("does not poll Shopify"),
        "the next poll: {gap}"
    );
    assert!(!gap.contains("banner-view"), "a data gap has no tab");

    app.service.poll_scheduled(Some(now()));
    let html = app.page_html(&[("shop", SHOP)]).await;
    assert!(banner(&html, "data_gap").contains("The next poll of Shopify runs at "));

    app.service.data_healthy(SHOP).await.unwrap();
    let html = app.page_html(&[("shop", SHOP)]).await;
    assert!(!html.contains(r#"data-banner="data_gap""#), "resolved");
}

contract!(
    a_banner_names_its_first_five_orders_and_links_to_its_tab,
    a_data_gap_says_what_failed_when_and_when_the_next_poll_runs,
);
