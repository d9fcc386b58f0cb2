//! `POST /webhooks/shopify` (SPEC §7): signatures, deduplication, ordering and the mapping of every
//! topic, with bodies in Shopify's published shapes (`tests/fixtures/shopify/`).

use chrono::Utc;
use futures::future::join_all;
use orders_sync::shopify::signature::sign;
use orders_sync::store::{PgStore, Store};
use serde_json::Value;

use crate::helpers::{spawn_app, spawn_on, Backend, TestApp, SHOP};

pub const SECRET: &str = "hush-webhook-secret";
pub const ORDER: &str = "gid://shopify/Order/820982911946154508";

#[macro_export]
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!("../../../tests/fixtures/shopify/", $name, ".json")).as_bytes()
    };
}

pub fn pg(app: &TestApp) -> &PgStore {
    match &app.store {
        Store::Postgres(pg) => pg,
        Store::Memory(_) => panic!("webhooks are tested on PostgreSQL"),
    }
}

pub async fn registered_app() -> TestApp {
    let app = spawn_app(Backend::Postgres).await;
    pg(&app)
        .register_shop(SHOP, SECRET, None, Utc::now())
        .await
        .expect("register the shop");
    app
}

/// One delivery as Shopify sends it.
pub struct Hook<'a> {
    pub topic: &'a str,
    pub body: &'a [u8],
    pub webhook_id: String,
    /// `X-Shopify-Event-Id`: a fresh one per delivery unless told.
    pub event_id: String,
    pub signature: String,
    pub shop: &'a str,
    /// Newer deliveries name the headers without `X-`.
    pub unprefixed: bool,
}

pub fn hook<'a>(topic: &'a str, body: &'a [u8]) -> Hook<'a> {
    Hook {
        topic,
        body,
        webhook_id: uuid::Uuid::new_v4().to_string(),
        event_id: uuid::Uuid::new_v4().to_string(),
        signature: sign(SECRET, body),
        shop: SHOP,
        unprefixed: false,
    }
}

impl<'a> Hook<'a> {
    pub fn id(mut self, id: &str) -> Self {
        self.webhook_id = id.to_owned();
        self
    }

    /// The delivery of event `id` (several subscriptions deliver one event under one id).
    pub fn event(mut self, id: &str) -> Self {
        self.event_id = id.to_owned();
        self
    }

    /// A delivery for `shop`.
    pub fn shop(mut self, shop: &'a str) -> Self {
        self.shop = shop;
        self
    }

    pub fn signed_with(mut self, secret: &str) -> Self {
        self.signature = sign(secret, self.body);
        self
    }

    pub async fn send(&self, app: &TestApp) -> (u16, Value) {
        let prefix = if self.unprefixed { "" } else { "X-" };
        let r = app
            .client
            .post(format!("{}/webhooks/shopify", app.address))
            .header("Content-Type", "application/json")
            .header(format!("{prefix}Shopify-Topic"), self.topic)
            .header(format!("{prefix}Shopify-Hmac-Sha256"), &self.signature)
            .header(format!("{prefix}Shopify-Shop-Domain"), self.shop)
            .header(format!("{prefix}Shopify-Webhook-Id"), &self.webhook_id)
            .header(format!("{prefix}Shopify-Event-Id"), &self.event_id)
            .header(format!("{prefix}Shopify-API-Version"), "2025-07")
            .body(self.body.to_vec())
            .send()
            .await
            .expect("the server answers");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn accepted(&self, app: &TestApp) -> Value {
        let (status, body) = self.send(app).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["success"], true, "{body}");
        body
    }
}

/// The order as the read API serves it, or `None` when unknown.
pub async fn served(app: &TestApp) -> Option<Value> {
    let r = app.get_order(ORDER, Some(SHOP)).await;
    match r.status {
        200 => Some(r.body),
        404 => None,
        other => panic!("unexpected {other}: {}", r.body),
    }
}

async fn events(app: &TestApp) -> Vec<String> {
    app.store
        .timeline(SHOP, ORDER)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_order_is_stored_as_the_contract_maps_it() {
    let app = registered_app().await;
    let body = hook("orders/create", fixture!("orders_create"))
        .accepted(&app)
        .await;
    assert!(body["message"].as_str().unwrap().contains(ORDER), "{body}");
    let order = served(&app).await.expect("stored");
    assert_eq!(order["orderNumber"], "#1001");
    assert_eq!(order["totalPrice"], "598.94");
    assert_eq!(order["currency"], "USD");
    assert_eq!(order["financialStatus"], "authorized");
    assert_eq!(order["fulfillmentStatus"], "unfulfilled");
    assert_eq!(order["status"], "unfulfilled");
    // An Express shipping line and no priority tag.
    assert_eq!(order["priority"], "high");
    assert_eq!(order["tags"], serde_json::json!(["gift", "vip"]));
    assert_eq!(order["assignedTo"], Value::Null);
    assert!(order["customer"]["name"].as_str().unwrap().len() > 1);
    assert!(!order["timeline"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_unknown_shop_or_missing_header_is_401_and_stores_nothing() {
    let app = registered_app().await;
    let (status, body) = hook("orders/create", fixture!("orders_create"))
        .signed_with("not-the-secret")
        .send(&app)
        .await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["success"], false);

    let mut tampered = fixture!("orders_create").to_vec();
    tampered.extend_from_slice(b" ");
    let mut h = hook("orders/create", fixture!("orders_create"));
    h.body = &tampered;
    assert_eq!(h.send(&app).await.0, 401);

    let mut h = hook("orders/create", fixture!("orders_create"));
    h.shop = "stranger.myshopify.com";
    assert_eq!(h.send(&app).await.0, 401);

    let mut h = hook("orders/create", fixture!("orders_create"));
    h.signature = String::new();
    assert_eq!(h.send(&app).await.0, 401);

    assert!(served(&app).await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_rotation_both_secrets_verify_and_older_ones_do_not() {
    let app = registered_app().await;
    pg(&app)
        .register_shop(SHOP, "the-new-secret", None, Utc::now())
        .await
        .unwrap();
    hook("orders/create", fixture!("orders_create"))
        .accepted(&app)
        .await;
    hook("orders/paid", fixture!("orders_paid"))
        .signed_with("the-new-secret")
        .accepted(&app)
        .await;
    pg(&app)
        .register_shop(SHOP, "the-third-secret", None, Utc::now())
        .await
        .unwrap();
    // The first secret is two rotations old now.
    let (status, _) = hook("orders/updated", fixture!("orders_updated"))
        .send(&app)
        .await;
    assert_eq!(status, 401);
    let order = served(&app).await.unwrap();
    assert_eq!(order["financialStatus"], "paid");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_headers_may_come_without_the_x_prefix() {
    let app = registered_app().await;
    let mut h = hook("orders/create", fixture!("orders_create"));
    h.unprefixed = true;
    h.accepted(&app).await;
    assert!(served(&app).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_delivery_three_times_at_once_has_one_effect() {
    let app = registered_app().await;
    hook("orders/create", fixture!("orders_create"))
        .accepted(&app)
        .await;
    let before = events(&app).await.len();
    let h = hook("refunds/create", fixture!("refunds_create")).id("same-delivery");
    let answers = join_all((0..3).map(|_| h.send(&app))).await;
    for (status, body) in &answers {
        assert_eq!(*status, 200, "{body}");
    }
    let after = events(&app).await;
    assert_eq!(after.len(), before + 1, "{after:?}");
    assert_eq!(after.last().unwrap(), "payment.refunded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_changes_nothing_whatever_its_body() {
    let app = registered_app().await;
    hook("orders/create", fixture!("orders_create"))
        .id("delivery-1")
        .accepted(&app)
        .await;
    let before = served(&app).await.unwrap();
    // Same webhook id, another (validly signed) body: still the first delivery's effect.
    hook("orders/cancelled", fixture!("orders_cancelled"))
        .id("delivery-1")
        .accepted(&app)
        .await;
    assert_eq!(served(&app).await.unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_payload_never_overwrites_newer_state() {
    let app = registered_app().await;
    hook("orders/updated", fixture!("orders_updated"))
        .accepted(&app)
        .await;
    let newer = served(&app).await.unwrap();
    assert_eq!(newer["priority"], "urgent");
    assert_eq!(newer["financialStatus"], "paid");
    assert_eq!(newer["fulfillmentStatus"], "partially_fulfilled");
    // orders/create and orders/paid were sent earlier and arrive late.
    hook("orders/create", fixture!("orders_create"))
        .accepted(&app)
        .await;
    hook("orders/paid", fixture!("orders_paid"))
        .accepted(&app)
        .await;
    let after = served(&app).await.unwrap();
    assert_eq!(after["priority"], "urgent");
    assert_eq!(after["fulfillmentStatus"], "partially_fulfilled");
    assert_eq!(after["shipments"], newer["shipments"]);
    assert_eq!(after["timeline"], newer["timeline"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_topic_maps_to_the_order() {
    let app = registered_app().await;
    hook("orders/create", fixture!("orders_create"))
        .accepted(&app)
        .await;
    hook("orders/paid", fixture!("orders_paid"))
        .accepted(&app)
        .await;
    assert_eq!(served(&app).await.unwrap()["financialStatus"], "paid");

    hook("fulfillments/create", fixture!("fulfillments_create"))
        .accepted(&app)
        .await;
    let order = served(&app).await.unwrap();
    let shipment = &order["shipments"][0];
    assert_eq!(shipment["tracking"]["number"], "1Z999AA10123456784");
    assert_eq!(shipment["status"], "in_transit", "{order}");
    assert!(!order["alerts"]
        .as_array()
        .unwrap()
        .contains(&Value::from("tracking_pending")));

    hook("orders/updated", fixture!("orders_updated"))
        .accepted(&app)
        .await;
    let order = served(&app).await.unwrap();
    assert_eq!(order["priority"], "urgent");
    assert_eq!(order["fulfillmentStatus"], "partially_fulfilled");
    assert_eq!(order["shipments"].as_array().unwrap().len(), 1, "{order}");

    hook("fulfillments/update", fixture!("fulfillments_update"))
        .accepted(&app)
        .await;
    assert_eq!(
        served(&app).await.unwrap()["shipments"][0]["status"],
        "delivered"
    );

    hook("refunds/create", fixture!("refunds_create"))
        .accepted(&app)
        .await;
    assert!(events(&app).await.contains(&"payment.refunded".to_owned()));

    hook("returns/request", fixture!("returns_request"))
        .accepted(&app)
        .await;
    let order = served(&app).await.unwrap();
    assert_eq!(order["return"]["state"], "awaiting_label");
    assert_eq!(order["return"]["id"], "gid://shopify/Return/8978432146");
    hook("returns/decline", fixture!("returns_decline"))
        .accepted(&app)
        .await;
    assert_eq!(served(&app).await.unwrap()["return"]["state"], "denied");
    hook("returns/reopen", fixture!("returns_reopen"))
        .accepted(&app)
        .await;
    assert_eq!(
        served(&app).await.unwrap()["return"]["state"],
        "awaiting_label"
    );
    hook("returns/cancel", fixture!("returns_cancel"))
        .accepted(&app)
        .await;
    assert_eq!(served(&app).await.unwrap()["return"]["state"], "cancelled");
    let history = events(&app).await;
    for e in ["return.awaiting_label", "return.denied", "return.cancelled"] {
        assert!(history.contains(&e.to_owned()), "{e} in {history:?}");
    }

    hook("orders/cancelled", fixture!("orders_cancelled"))
        .accepted(&app)
        .await;
    // orders/cancelled is older than orders/updated: the newer state stands.
    assert_eq!(served(&app).await.unwrap()["status"], "partially_fulfilled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_cancels() {
    let app = registered_app().await;
    hook("orders/create", fixture!("orders_create"))
        .accepted(&app)
        .await;
    hook("orders/cancelled", fixture!("orders_cancelled"))
        .accepted(&app)
        .await;
    let order = served(&app).await.unwrap();
    assert_eq!(order["status"], "cancelled");
    assert_eq!(order["financialStatus"], "voided");
    assert!(events(&app).await.contains(&"inventory.release".to_owned()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_about_an_unknown_order_wait_for_it() {
    let app = registered_app().await;
    let body = hook("fulfillments/create", fixture!("fulfillments_create"))
        .accepted(&app)
        .await;
    assert!(
        body["message"].as_str().unwrap().contains("not known yet"),
        "{body}"
    );
    hook("returns/request", fixture!("returns_request"))
        .accepted(&app)
        .await;
    assert!(served(&app).await.is_none());
    hook("orders/create", fixture!("orders_create"))
        .accepted(&app)
        .await;
    let order = served(&app).await.unwrap();
    assert_eq!(
        order["shipments"][0]["tracking"]["number"],
        "1Z999AA10123456784"
    );
    assert_eq!(order["return"]["state"], "awaiting_label");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_does_not_read_is_400_and_its_delivery_can_come_again() {
    let app = registered_app().await;
    let (status, body) = hook("orders/create", b"{\"id\": \"not an order\"}")
        .id("d-1")
        .send(&app)
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("orders/create"));
    hook("orders/create", fixture!("orders_create"))
        .id("d-1")
        .accepted(&app)
        .await;
    assert!(served(&app).await.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unhandled_topic_is_acknowledged_and_ignored() {
    let app = registered_app().await;
    let body = hook("products/update", b"{}").accepted(&app).await;
    assert!(body["message"].as_str().unwrap().contains("not handled"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_database_deliveries_are_refused_for_a_retry() {
    let app = spawn_on(Store::Memory(Default::default())).await;
    let (status, _) = hook("orders/create", fixture!("orders_create"))
        .send(&app)
        .await;
    assert_eq!(status, 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_counts_once_whichever_delivery_brings_it() {
    let app = registered_app().await;
    hook("orders/create", fixture!("orders_create"))
        .accepted(&app)
        .await;
    // Two deliveries (two webhook ids) of the same refund, e.g. from two subscriptions.
    hook("refunds/create", fixture!("refunds_create"))
        .accepted(&app)
        .await;
    hook("refunds/create", fixture!("refunds_create"))
        .accepted(&app)
        .await;
    let refunds = events(&app)
        .await
        .into_iter()
        .filter(|e| e == "payment.refunded")
        .count();
    assert_eq!(refunds, 1);
}
