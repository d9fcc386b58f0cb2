//! The operator's metrics (issue 19): `GET /metrics` on `METRICS_ADDR`, in the Prometheus text
//! format. The exposition parses; each family moves when its event happens; labels stay bounded
//! however many shops are touched; the alert rules and the Grafana dashboard name only metrics
//! that exist. The recorder is the process's, shared by every test of this binary: figures are
//! compared before and after, never to zero.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use chrono::Utc;
use orders_sync::outbox::{OutboxConfig, OutboxWorker};
use orders_sync::settings::OutboxSettings;
use orders_sync::shopify::signature::sign;
use orders_sync::store::{PgStore, Store};

use crate::helpers::*;
use crate::webhooks::SECRET;

/// One sample: its name, its labels, its value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The exposition, parsed: every family's type, and every sample. Panics on a line that is not
/// the text format.
fn parse(text: &str) -> (HashMap<String, String>, Vec<Sample>) {
    let mut types = HashMap::new();
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("not a number: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').expect("labels end with }");
                let mut labels = BTreeMap::new();
                for pair in split_labels(body) {
                    let (k, v) = pair.split_once('=').expect("label=value");
                    let v = v
                        .strip_prefix('"')
                        .and_then(|v| v.strip_suffix('"'))
                        .expect("a quoted value");
                    labels.insert(k.to_owned(), v.replace("\\\"", "\"").replace("\\\\", "\\"));
                }
                (name.to_owned(), labels)
            }
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{line}"
        );
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    (types, samples)
}

/// `a="x",b="y,z"` → `a="x"`, `b="y,z"` (commas inside quotes kept).
fn split_labels(body: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut escaped) = (Vec::new(), String::new(), false, false);
    for c in body.chars() {
        match c {
            ',' if !quoted => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            '"' if !escaped => quoted = !quoted,
            _ => {}
        }
        escaped = c == '\\' && !escaped;
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

async fn scrape(url: &str) -> (HashMap<String, String>, Vec<Sample>) {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    parse(&r.text().await.unwrap())
}

/// The sum of `name`'s samples whose labels include every one of `labels`.
fn total(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.name == name)
        .filter(|s| {
            labels
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_family_parses_and_moves_when_its_event_happens() {
    let url = crate::common::fresh_database_url().await;
    let pg = PgStore::connect_lazy(&url).unwrap();
    let (app, metrics) = spawn_with_metrics(Store::Postgres(pg.clone())).await;
    pg.register_shop(SHOP, SECRET, None, Utc::now())
        .await
        .unwrap();
    // An order without tracking for three hours: tracking pending.
    app.seed(SHOP, vec![order(5001).hours_old(3).build()]).await;
    let (_, before) = scrape(&metrics).await;

    // A read and a write through the API.
    app.list_shop(SHOP, &[]).await.assert_ok();
    app.assign(&[&gid(5001)], Some("ana")).await.assert_ok();
    // A signed delivery Shopify triggered 2 s ago, and the same again (a duplicate).
    let body = crate::fixture!("orders_create");
    let deliver = || {
        app.client
            .post(format!("{}/webhooks/shopify", app.address))
            .header("X-Shopify-Topic", "orders/create")
            .header("X-Shopify-Hmac-Sha256", sign(SECRET, body))
            .header("X-Shopify-Shop-Domain", SHOP)
            .header("X-Shopify-Webhook-Id", "metrics-hook-1")
            .header(
                "X-Shopify-Triggered-At",
                (Utc::now() - chrono::Duration::seconds(2)).to_rfc3339(),
            )
            .body(body.to_vec())
            .send()
    };
    assert_eq!(deliver().await.unwrap().status(), 200);
    assert_eq!(deliver().await.unwrap().status(), 200);
    // One refused: a bad signature.
    let refused = app
        .client
        .post(format!("{}/webhooks/shopify", app.address))
        .header("X-Shopify-Topic", "orders/create")
        .header("X-Shopify-Hmac-Sha256", "bad")
        .header("X-Shopify-Shop-Domain", SHOP)
        .header("X-Shopify-Webhook-Id", "metrics-hook-2")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    // A live stream, open while the shop changes.
    let mut stream = app
        .client
        .get(format!("{}/sync/orders/alerts", app.address))
        .query(&[("shop_domain", SHOP)])
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.chunk()).await;
    // The shop is polled (a success 10 min ago), and a tick of the poller.
    sqlx::query(
        "UPDATE shops SET access_token = 'x', last_polled_at = now() - interval '10 minutes' \
         WHERE domain = $1",
    )
    .bind(SHOP)
    .execute(&sqlx::PgPool::connect(&url).await.unwrap())
    .await
    .unwrap();
    let fake = orders_sync::shopify::graphql::ShopifyClient::new("http://127.0.0.1:1").unwrap();
    let _ = orders_sync::shopify::poller::tick(
        &app.service,
        app.service.database().unwrap().ingestion(),
        &fake,
        "nobody.myshopify.com",
        Utc::now(),
    )
    .await;
    app.service.evaluate(SHOP).await.unwrap();
    app.assign(&[&gid(5001)], Some("sam")).await.assert_ok();
    // An escalation, and a delivery round whose receiver does not answer: a retry.
    app.support(&gid(5001), None, "Where is it?")
        .await
        .assert_ok();
    let receivers = OutboxSettings {
        support_url: Some("http://127.0.0.1:1/support".parse().unwrap()),
        ..OutboxSettings::default()
    };
    let config = OutboxConfig {
        request_timeout: Duration::from_millis(500),
        ..OutboxConfig::from_settings(&receivers)
    };
    OutboxWorker::new(orders_sync::service::Outbox::new(pg.clone()), config)
        .unwrap()
        .deliver_due()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let (types, after) = scrape(&metrics).await;
    let moved = |name: &str, labels: &[(&str, &str)]| {
        total(&after, name, labels) - total(&before, name, labels)
    };
    let list = [
        ("route", "/sync/orders"),
        ("method", "GET"),
        ("status", "2xx"),
    ];
    assert!(moved("http_requests_total", &list) >= 1.0);
    assert!(moved("http_request_duration_seconds_count", &list) >= 1.0);
    assert_eq!(types["http_request_duration_seconds"], "histogram");
    let hooks = |outcome| [("topic", "orders/create"), ("outcome", outcome)];
    assert!(moved("webhook_deliveries_total", &hooks("applied")) >= 1.0);
    assert!(moved("webhook_deliveries_total", &hooks("duplicate")) >= 1.0);
    assert!(moved("webhook_deliveries_total", &hooks("refused")) >= 1.0);
    assert!(moved("webhook_lag_seconds_count", &[]) >= 2.0);
    assert!(
        moved("webhook_lag_seconds_sum", &[]) >= 3.0,
        "two deliveries 2 s late"
    );
    // Two assignments: two metafield events waiting (no receiver is configured).
    let pending = [
        ("topic", "shopify.metafield.assignment"),
        ("state", "pending"),
    ];
    assert!(total(&after, "outbox_events", &pending) >= 2.0);
    assert!(moved("poller_ticks_total", &[("outcome", "not_polled")]) >= 1.0);
    let age =
        Utc::now().timestamp() as f64 - total(&after, "poller_last_success_timestamp_seconds", &[]);
    assert!((590.0..=660.0).contains(&age), "{age}");
    assert!(total(&after, "alerts_open", &[("kind", "tracking_pending")]) >= 1.0);
    assert!(total(&after, "sse_clients", &[]) >= 1.0);
    assert!(moved("sse_events_sent_total", &[]) >= 1.0);
    assert_eq!(
        total(&after, "db_pool_connections", &[("state", "max")]),
        10.0
    );
    assert!(after.iter().any(|s| s.name == "tally_fold_lag_rows"));
    assert_eq!(
        total(&after, "workers_running", &[("worker", "alert evaluator")]),
        1.0
    );
    let retried = [("topic", "support.escalation"), ("outcome", "retry")];
    assert!(moved("outbox_deliveries_total", &retried) >= 1.0);
    drop(stream);

    // Every metric the alert rules and the dashboard read is in this exposition.
    let mut known: BTreeSet<String> = after.iter().map(|s| s.name.clone()).collect();
    for (family, kind) in &types {
        known.insert(family.clone());
        if kind == "histogram" {
            for suffix in ["_bucket", "_sum", "_count"] {
                known.insert(format!("{family}{suffix}"));
            }
        }
    }
    for expr in ops_expressions() {
        for name in metric_names(&expr) {
            assert!(
                known.contains(&name),
                "{name} (in {expr}) is not in /metrics"
            );
        }
    }
}

/// The PromQL of the alert rules (`ops/prometheus/`) and of the Grafana dashboard (`ops/grafana/`).
fn ops_expressions() -> Vec<String> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let rules = std::fs::read_to_string(root.join("ops/prometheus/orders-sync.rules.yml")).unwrap();
    let mut exprs: Vec<String> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .map(|e| e.trim().to_owned())
        .collect();
    assert_eq!(exprs.len(), 4, "the four alerts of issue 19");
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("ops/grafana/orders-sync.json")).unwrap(),
    )
    .unwrap();
    let panels = dashboard["panels"].as_array().unwrap();
    assert!(panels.len() >= 10);
    for panel in panels {
        for target in panel["targets"].as_array().unwrap() {
            exprs.push(target["expr"].as_str().unwrap().to_owned());
        }
    }
    exprs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn labels_stay_bounded_after_a_thousand_shops() {
    let (app, metrics) = spawn_with_metrics(Store::Postgres(fresh_database().await)).await;
    let touch = |from: usize, to: usize| {
        let app = &app;
        async move {
            for n in from..to {
                let shop = format!("shop-{n}.myshopify.com");
                let r = app.list_shop(&shop, &[]).await;
                assert_eq!(r.status, 200);
                let r = app.get_order(&format!("#{n}"), Some(&shop)).await;
                assert_eq!(r.status, 404);
                let hook = app
                    .client
                    .post(format!("{}/webhooks/shopify", app.address))
                    .header("X-Shopify-Topic", format!("made/up-{n}"))
                    .header("X-Shopify-Hmac-Sha256", "x")
                    .header("X-Shopify-Shop-Domain", &shop)
                    .header("X-Shopify-Webhook-Id", format!("w-{n}"))
                    .body("{}")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(hook.status(), 401);
            }
        }
    };
    touch(0, 1000).await;
    let (_, samples) = scrape(&metrics).await;
    // Were a route or a topic labelled as sent, each family would hold a series per shop.
    for family in ["http_requests_total", "webhook_deliveries_total"] {
        let series = samples.iter().filter(|s| s.name == family).count();
        assert!(
            (1..60).contains(&series),
            "{family}: {series} series after 1,000 shops"
        );
    }
    for s in &samples {
        for v in s.labels.values() {
            assert!(
                !v.contains("shop-") && !v.contains("made/up") && !v.contains('#'),
                "a client's value in a label: {s:?}"
            );
        }
    }
}

/// The metric names an expression reads: its identifiers that are not functions or aggregations,
/// keywords, label names (inside `{…}`, or the list after `by` / `without`) or ranges.
fn metric_names(expr: &str) -> BTreeSet<String> {
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
    ];
    let braces = regex::Regex::new(r#"\{[^}]*\}|\[[^\]]*\]|"[^"]*""#).unwrap();
    let groups = regex::Regex::new(r"\b(by|without|on|ignoring)\s*\([^)]*\)").unwrap();
    let cleaned = braces.replace_all(expr, " ");
    let cleaned = groups.replace_all(&cleaned, " ");
    let token = regex::Regex::new(r"[A-Za-z_:][A-Za-z0-9_:]*").unwrap();
    token
        .find_iter(&cleaned)
        .filter(|m| {
            let after = cleaned[m.end()..].trim_start();
            let before = cleaned[..m.start()].trim_end();
            !after.starts_with('(')
                && !KEYWORDS.contains(&m.as_str())
                && !before.ends_with('$')
                && !before.ends_with(|c: char| c.is_ascii_digit())
        })
        .map(|m| m.as_str().to_owned())
        .collect()
}

#[test]
fn metric_names_are_read_from_promql() {
    let names = metric_names(
        r#"histogram_quantile(0.99, sum by (instance, le) (rate(webhook_lag_seconds_bucket{job="x"}[5m]))) > 30"#,
    );
    assert_eq!(
        names,
        BTreeSet::from(["webhook_lag_seconds_bucket".to_owned()])
    );
    let names = metric_names(
        "time() - min by (instance) (poller_last_success_timestamp_seconds) > 45 * 60",
    );
    assert_eq!(
        names,
        BTreeSet::from(["poller_last_success_timestamp_seconds".to_owned()])
    );
    let names = metric_names(
        r#"sum by (instance) (db_pool_connections{state="active"}) >= sum by (instance) (db_pool_connections{state="max"})"#,
    );
    assert_eq!(names, BTreeSet::from(["db_pool_connections".to_owned()]));
}
