//! `spawn_app`, the fixture builder and one `TestApp` method per endpoint.

use chrono::{DateTime, Duration, Utc};
use orders_core::record::{to_micros, OrderRecord, ReturnRecord, SupportRecord};
use orders_core::*;
use orders_sync::service::{ReadAt, Service};
use orders_sync::settings::Settings;
use orders_sync::startup::Application;
use orders_sync::store::{MemoryStore, Store};
use serde_json::Value;

pub use crate::common::{fresh_database, fresh_database_url, gid};

pub const SHOP: &str = "acme.myshopify.com";
pub const OTHER_SHOP: &str = "other.myshopify.com";

/// Which store the server under test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Memory,
}

/// Declares one test per backend for an `async fn(TestApp)`.
#[macro_export]
macro_rules! contract {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn in_memory() {
                    super::$name($crate::helpers::spawn_app($crate::helpers::Backend::Memory).await).await
                }
            }
        )+
    };
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub service: Service,
}

pub fn test_settings() -> Settings {
    let mut settings = Settings::from_env().expect("settings");
    settings.site_addr = "127.0.0.1:0".parse().unwrap();
    settings.use_mock_data = false;
    // Tests drive the poller's ticks and the outbox's rounds themselves; a background round would
    // race them.
    settings.poll_interval = None;
    settings.outbox.poll_interval = None;
    // Open by default, as a development set-up: the trust tests set what they test.
    settings.trust = orders_sync::settings::TrustSettings::default();
    settings
}

pub fn leptos_options() -> leptos::config::LeptosOptions {
    leptos::config::LeptosOptions::builder()
        .output_name("orders-sync")
        .site_root("target/site")
        .build()
}

/// Starts the server on a random port over `store`.
pub async fn spawn_on(store: Store) -> TestApp {
    spawn_configured(store, test_settings()).await
}

/// Starts the server like [`spawn_app`], with its settings changed by `configure`.
pub async fn spawn_with(backend: Backend, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let store = match backend {
        Backend::Postgres => Store::Postgres(fresh_database().await),
        Backend::Memory => Store::Memory(MemoryStore::default()),
    };
    let mut settings = test_settings();
    configure(&mut settings);
    spawn_configured(store, settings).await
}

/// Starts the server on a random port over `store` with `settings`.
pub async fn spawn_configured(store: Store, settings: Settings) -> TestApp {
    start(store, settings).await.0
}

/// Starts the server like [`spawn_on`], with `METRICS_ADDR` on a free port; answers the URL of its
/// `/metrics` too.
pub async fn spawn_with_metrics(store: Store) -> (TestApp, String) {
    let mut settings = test_settings();
    settings.metrics_addr = Some("127.0.0.1:0".parse().unwrap());
    let (app, metrics) = start(store, settings).await;
    let metrics = metrics.expect("METRICS_ADDR is bound");
    (app, format!("http://{metrics}/metrics"))
}

/// Starts the server; answers it and where its metrics listener is bound, if it has one.
async fn start(store: Store, settings: Settings) -> (TestApp, Option<std::net::SocketAddr>) {
    let service = Service::new(
        store.clone(),
        None,
        "demo.myshopify.com".into(),
        settings.thresholds(),
    );
    let app = Application::build(&settings, service.clone(), leptos_options())
        .await
        .expect("build app");
    let address = format!("http://{}", app.local_addr());
    let metrics = app.metrics_addr();
    tokio::spawn(app.run_until(std::future::pending()));
    let app = TestApp {
        address,
        client: reqwest::Client::new(),
        store,
        service,
    };
    (app, metrics)
}

/// Starts the server like [`spawn_app`], stopping when `shutdown` completes; the handle finishes
/// when the server has stopped.
pub async fn spawn_stoppable(
    backend: Backend,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> (TestApp, tokio::task::JoinHandle<anyhow::Result<()>>) {
    let store = match backend {
        Backend::Postgres => Store::Postgres(fresh_database().await),
        Backend::Memory => Store::Memory(MemoryStore::default()),
    };
    let settings = test_settings();
    let service = Service::new(
        store.clone(),
        None,
        "demo.myshopify.com".into(),
        settings.thresholds(),
    );
    let app = Application::build(&settings, service.clone(), leptos_options())
        .await
        .expect("build app");
    let address = format!("http://{}", app.local_addr());
    let handle = tokio::spawn(app.run_until(shutdown));
    (
        TestApp {
            address,
            client: reqwest::Client::new(),
            store,
            service,
        },
        handle,
    )
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    let store = match backend {
        Backend::Postgres => Store::Postgres(fresh_database().await),
        Backend::Memory => Store::Memory(MemoryStore::default()),
    };
    spawn_on(store).await
}

/// A response's status and JSON body.
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    async fn from(r: reqwest::Response) -> Reply {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
        Reply {
            status,
            body,
            headers,
        }
    }

    /// Asserts a failure in the v1.2 envelope with `status` whose message mentions every `needle`.
    #[track_caller]
    pub fn assert_failure(&self, status: u16, needles: &[&str]) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["success"], false, "{}", self.body);
        assert_eq!(
            self.body["updatedOrders"],
            serde_json::json!([]),
            "{}",
            self.body
        );
        let message = self.body["message"].as_str().expect("a message");
        for n in needles {
            assert!(
                message.contains(n),
                "message {message:?} should mention {n:?}"
            );
        }
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        &self.body
    }
}

impl TestApp {
    /// A GET with query parameters, read as JSON.
    pub async fn get_json(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        let r = self
            .client
            .get(format!("{}{path}", self.address))
            .query(query)
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap();
        Reply::from(r).await
    }

    /// The dashboard's HTML for `/orders` with `query` (the server's render, before any WASM);
    /// asserts a 200.
    pub async fn page_html(&self, query: &[(&str, &str)]) -> String {
        let r = self
            .client
            .get(format!("{}/orders", self.address))
            .query(query)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let html = r.text().await.unwrap();
        assert_eq!(status, 200, "{html}");
        html
    }

    pub async fn seed(&self, shop: &str, records: Vec<OrderRecord>) {
        self.store
            .replace_orders(shop, &records)
            .await
            .expect("seed");
    }

    pub async fn list(&self, query: &[(&str, &str)]) -> Reply {
        let r = self
            .client
            .get(format!("{}/sync/orders", self.address))
            .query(query)
            .send()
            .await
            .unwrap();
        Reply::from(r).await
    }

    /// Lists `shop` with extra parameters.
    pub async fn list_shop(&self, shop: &str, query: &[(&str, &str)]) -> Reply {
        let mut q = vec![("shop_domain", shop)];
        q.extend_from_slice(query);
        self.list(&q).await
    }

    /// The ids of a list answer, in order.
    pub async fn ids(&self, query: &[(&str, &str)]) -> Vec<String> {
        let r = self.list_shop(SHOP, query).await;
        r.assert_ok()["orders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub async fn get_order(&self, id: &str, shop: Option<&str>) -> Reply {
        let encoded = percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
        let mut req = self
            .client
            .get(format!("{}/sync/orders/{encoded}", self.address));
        if let Some(shop) = shop {
            req = req.query(&[("shop_domain", shop)]);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        let r = self
            .client
            .post(format!("{}/sync/orders/{path}", self.address))
            .json(&body)
            .send()
            .await
            .unwrap();
        Reply::from(r).await
    }

    pub async fn post_raw(&self, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Reply {
        let mut req = self
            .client
            .post(format!("{}/sync/orders/{path}", self.address))
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        Reply::from(req.send().await.unwrap()).await
    }

    pub async fn assign(&self, ids: &[&str], assignee: Option<&str>) -> Reply {
        self.post(
            "assign",
            serde_json::json!({ "orderIds": ids, "assignee": assignee, "shop_domain": SHOP }),
        )
        .await
    }

    pub async fn fulfill(&self, ids: &[&str], tracking: Option<(&str, &str)>) -> Reply {
        let mut body = serde_json::json!({ "orderIds": ids, "shop_domain": SHOP });
        if let Some((number, carrier)) = tracking {
            body["tracking"] = serde_json::json!({ "number": number, "carrier": carrier });
        }
        self.post("fulfill", body).await
    }

    pub async fn support(&self, id: &str, conversation: Option<&str>, note: &str) -> Reply {
        let mut body = serde_json::json!({ "orderId": id, "note": note, "shop_domain": SHOP });
        if let Some(c) = conversation {
            body["conversationId"] = c.into();
        }
        self.post("support", body).await
    }

    pub async fn return_action(&self, id: &str, action: &str, note: Option<&str>) -> Reply {
        let mut body = serde_json::json!({ "orderId": id, "action": action, "shop_domain": SHOP });
        if let Some(n) = note {
            body["note"] = n.into();
        }
        self.post("returns", body).await
    }

    /// An order as the API serves it (must exist).
    pub async fn order(&self, id: &str) -> Value {
        let r = self.get_order(id, Some(SHOP)).await;
        r.assert_ok().clone()
    }

    /// An order of `shop` by its number, as the API serves it (must exist).
    pub async fn order_of(&self, shop: &str, n: u64) -> Value {
        let order = self
            .service
            .get_order(shop, &OrderRef::parse(&gid(n)).unwrap(), ReadAt::Primary)
            .await
            .expect("the order exists");
        serde_json::to_value(order).unwrap()
    }

    pub async fn history(&self, id: &str) -> Vec<TimelineEntry> {
        self.store.timeline(SHOP, id).await.unwrap()
    }
}

/// A fixed instant for building fixtures relative to now.
pub fn now() -> DateTime<Utc> {
    to_micros(Utc::now())
}

/// Builds an order fixture: unfulfilled, paid, normal priority, created an hour ago unless told.
pub struct OrderBuilder(OrderRecord);

pub fn order(n: u64) -> OrderBuilder {
    let created = now() - Duration::hours(1);
    OrderBuilder(crate::common::order_record(
        n,
        format!("#{}", n - 4000),
        created,
    ))
}

impl OrderBuilder {
    pub fn created(mut self, at: DateTime<Utc>) -> Self {
        self.0.created_at = at;
        self.0.updated_at = at;
        for e in &mut self.0.timeline {
            e.ts = at;
        }
        self
    }
    pub fn hours_old(self, h: i64) -> Self {
        self.created(now() - Duration::hours(h))
    }
    pub fn status(mut self, s: FulfillmentStatus) -> Self {
        self.0.fulfillment_status = s;
        self
    }
    pub fn cancelled(mut self) -> Self {
        self.0.cancelled_at = Some(self.0.created_at);
        self.0.financial_status = FinancialStatus::Voided;
        self
    }
    pub fn priority(mut self, p: Priority) -> Self {
        self.0.priority = p;
        self
    }
    pub fn assigned(mut self, who: &str) -> Self {
        self.0.assigned_to = Some(who.into());
        self
    }
    pub fn price(mut self, total: &str, currency: &str) -> Self {
        self.0.total_price = total.into();
        self.0.currency = currency.into();
        self
    }
    pub fn number(mut self, name: &str) -> Self {
        self.0.order_number = name.into();
        self
    }
    /// A shipment with `status`, tracked or not, last heard from `hours_ago`.
    pub fn shipment(mut self, status: ShipmentStatus, tracked: bool, hours_ago: i64) -> Self {
        let n = self.0.shipments.len();
        self.0.shipments.push(Shipment {
            id: format!("{}-shp-{n}", self.0.id),
            status,
            tracking: tracked.then(|| Tracking {
                number: format!("1Z{n}"),
                carrier: "UPS".into(),
            }),
            last_update_at: now() - Duration::hours(hours_ago),
        });
        self
    }
    pub fn with_return(mut self, state: ReturnState) -> Self {
        let at = self.0.created_at;
        self.0.return_ = Some(ReturnRecord {
            id: format!("{}-ret", self.0.id),
            state,
            created_at: at,
            updated_at: at,
        });
        self
    }
    pub fn support_thread(mut self, thread: &str) -> Self {
        self.0.support.push(SupportRecord {
            thread: thread.into(),
            note: "help".into(),
            open: true,
            created_at: self.0.created_at,
        });
        self
    }
    /// `n` extra timeline entries, one a minute after creation.
    pub fn history(mut self, n: usize) -> Self {
        let start = self.0.created_at;
        for i in 0..n {
            self.0.timeline.push(TimelineEntry {
                ts: start + Duration::minutes(i as i64 + 1),
                event: format!("shipment.step_{i}"),
                details: format!("Step {i}."),
            });
        }
        self
    }
    pub fn build(self) -> OrderRecord {
        self.0
    }
}
