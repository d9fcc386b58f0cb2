//! `shopify.app.toml` (SPEC §10) declares what Shopify's CLI deploys: an embedded app with the
//! scopes the poller needs, every webhook topic the server ingests, the lifecycle topics and the
//! three compliance topics, all delivered to `/webhooks/shopify` at the poller's API version.

#![allow(
    clippy::unwrap_used,
    reason = "a test's helpers fail the test, with its line, when they unwrap"
)]

use std::collections::BTreeSet;

use orders_core::shopify::Topic;
use orders_sync::shopify::poller::API_VERSION;
use toml::Value;

fn app_toml() -> Value {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../shopify.app.toml"))
        .expect("shopify.app.toml at the repository root");
    text.parse::<toml::Table>()
        .map(Value::Table)
        .expect("shopify.app.toml is valid TOML")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn the_app_is_embedded_and_asks_for_the_scopes_it_uses() {
    let app = app_toml();
    assert_eq!(app["embedded"].as_bool(), Some(true));
    let scopes: BTreeSet<&str> = app["access_scopes"]["scopes"]
        .as_str()
        .expect("scopes is a comma list")
        .split(',')
        .map(str::trim)
        .collect();
    for scope in [
        "read_orders",
        "write_orders",
        "read_all_orders",
        "read_returns",
        "read_fulfillments",
    ] {
        assert!(scopes.contains(scope), "{scope} is missing");
    }
}

#[test]
fn every_topic_is_subscribed_at_the_pollers_api_version() {
    let app = app_toml();
    let webhooks = &app["webhooks"];
    assert_eq!(webhooks["api_version"].as_str(), Some(API_VERSION));
    let subscriptions = webhooks["subscriptions"]
        .as_array()
        .expect("[[webhooks.subscriptions]]");
    let mut topics = BTreeSet::new();
    let mut compliance = BTreeSet::new();
    for s in subscriptions {
        assert_eq!(s["uri"].as_str(), Some("/webhooks/shopify"));
        topics.extend(s.get("topics").map(strings).unwrap_or_default());
        compliance.extend(s.get("compliance_topics").map(strings).unwrap_or_default());
    }
    let mut expected: BTreeSet<String> = Topic::ALL.iter().map(|t| t.to_string()).collect();
    expected.insert("app/uninstalled".into());
    expected.insert("app/scopes_update".into());
    assert_eq!(topics, expected);
    let expected_compliance: BTreeSet<String> =
        ["customers/data_request", "customers/redact", "shop/redact"]
            .map(str::to_owned)
            .into();
    assert_eq!(compliance, expected_compliance);
}
