//! Shopify's compliance topics (SPEC §10): `customers/redact` erases a customer from every table
//! and ingestion keeps them erased, `shop/redact` deletes every row of the shop, and a
//! `customers/data_request` is recorded for `orders-sync privacy export`.

use chrono::Utc;
use orders_sync::cli::{self, PrivacyCommand};
use orders_sync::store::PgStore;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::lifecycle::{jobs_done, scalar};
use crate::webhooks::{hook, pg, registered_app, served, ORDER};

const ADA_EMAIL: &str = "ada.lovelace@example.com";
const ADA_PHONE: &str = "+1 212-555-0142";
/// Ada's second order, which the redaction does not list: found by her e-mail.
const ADA_SECOND: &str = "gid://shopify/Order/820982911946154599";
const GRACE: &str = "gid://shopify/Order/820982911946154600";

/// The SQL that finds a text anywhere: every text, JSON or array column of every table, as text.
const COLUMNS_SQL: &str =
    "SELECT table_name::text, column_name::text FROM information_schema.columns \
     WHERE table_schema = current_schema() \
       AND data_type IN ('text', 'character varying', 'json', 'jsonb', 'ARRAY') \
     ORDER BY table_name, column_name";

/// Every `table.column` of the database whose value, cast to text, contains `needle`
/// (case-insensitively), with how many rows.
async fn mentions(pg: &PgStore, needle: &str) -> Vec<String> {
    let columns: Vec<(String, String)> = sqlx::query_as(COLUMNS_SQL)
        .fetch_all(pg.pool())
        .await
        .unwrap();
    assert!(
        columns.len() > 20,
        "the catalogue lists the schema's columns"
    );
    let mut hits = Vec::new();
    for (table, column) in columns {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{table}\" WHERE \"{column}\"::text ILIKE '%' || $1 || '%'"
        ))
        .bind(needle)
        .fetch_one(pg.pool())
        .await
        .unwrap();
        if n > 0 {
            hits.push(format!("{table}.{column}: {n}"));
        }
    }
    hits
}

/// orders/create of the fixture, as another order of another (or the same) customer.
fn order_body(gid: &str, name: &str, email: &str, first: &str, last: &str) -> Vec<u8> {
    let mut o: Value =
        serde_json::from_slice(crate::fixture!("orders_create")).expect("the fixture reads");
    let id: u64 = gid.rsplit('/').next().unwrap().parse().unwrap();
    o["id"] = id.into();
    o["admin_graphql_api_id"] = gid.into();
    o["name"] = name.into();
    o["email"] = email.into();
    o["contact_email"] = email.into();
    o["customer"]["email"] = email.into();
    o["customer"]["first_name"] = first.into();
    o["customer"]["last_name"] = last.into();
    o.to_string().into_bytes()
}

async fn support(app: &TestApp, order: &str, note: &str, key: &str) {
    let r = app
        .client
        .post(format!("{}/sync/orders/support", app.address))
        .header("Idempotency-Key", key)
        .json(&json!({ "orderId": order, "note": note, "shop_domain": SHOP }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

/// A shop where Ada's e-mail, name and phone are in every kind of copy Sync keeps.
async fn shop_with_ada() -> TestApp {
    let app = registered_app().await;
    hook("orders/create", crate::fixture!("orders_create"))
        .accepted(&app)
        .await;
    let second = order_body(ADA_SECOND, "#1002", ADA_EMAIL, "Ada", "Lovelace");
    hook("orders/create", &second).accepted(&app).await;
    let grace = order_body(GRACE, "#1003", "grace@example.com", "Grace", "Hopper");
    hook("orders/create", &grace).accepted(&app).await;
    hook("returns/request", crate::fixture!("returns_request"))
        .accepted(&app)
        .await;
    let note = format!("Ada Lovelace ({ADA_EMAIL}, {ADA_PHONE}) asks for a callback");
    support(&app, ORDER, &note, "k-1").await;
    support(
        &app,
        GRACE,
        &format!("Grace forwarded {ADA_EMAIL}'s question"),
        "k-2",
    )
    .await;
    app.assign(&[ADA_SECOND], Some("sam")).await.assert_ok();
    // One of the outbox's copies is delivered already.
    sqlx::query("UPDATE outbox SET delivered_at = now() WHERE id = (SELECT min(id) FROM outbox)")
        .execute(pg(&app).pool())
        .await
        .unwrap();
    let request = json!({ "shop_domain": SHOP, "data_request": { "id": 9999 },
        "customer": { "id": 115310627314723954u64, "email": ADA_EMAIL, "phone": ADA_PHONE },
        "orders_requested": [820982911946154508u64, 1] });
    hook("customers/data_request", request.to_string().as_bytes())
        .accepted(&app)
        .await;
    jobs_done(&app).await;
    assert!(!mentions(pg(&app), ADA_EMAIL).await.is_empty());
    app
}

fn redaction() -> Vec<u8> {
    json!({ "shop_id": 954889, "shop_domain": SHOP,
        "customer": { "id": 115310627314723954u64, "email": ADA_EMAIL, "phone": ADA_PHONE },
        "orders_to_redact": [820982911946154508u64] })
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redacted_customer_is_erased_from_every_table_and_ingestion_keeps_it_so() {
    let app = shop_with_ada().await;
    let pg = pg(&app).clone();
    let before = served(&app).await.unwrap();

    hook("customers/redact", &redaction()).accepted(&app).await;
    jobs_done(&app).await;

    for id in [ORDER, ADA_SECOND] {
        let order = app.order(id).await;
        assert_eq!(order["customer"]["name"], "Redacted", "{id}");
        assert_eq!(order["customer"]["email"], Value::Null, "{id}");
    }
    let after = served(&app).await.unwrap();
    for field in [
        "orderNumber",
        "totalPrice",
        "currency",
        "status",
        "financialStatus",
    ] {
        assert_eq!(after[field], before[field], "{field} stays");
    }
    assert_eq!(after["return"]["state"], before["return"]["state"]);
    assert_eq!(app.order(GRACE).await["customer"]["name"], "Grace Hopper");
    assert_eq!(mentions(&pg, ADA_EMAIL).await, Vec::<String>::new());
    assert_eq!(mentions(&pg, "Lovelace").await, Vec::<String>::new());
    assert_eq!(mentions(&pg, "212-555-0142").await, Vec::<String>::new());
    let notes: Vec<String> = sqlx::query_scalar("SELECT note FROM support_escalations ORDER BY id")
        .fetch_all(pg.pool())
        .await
        .unwrap();
    assert_eq!(
        notes,
        [
            "[redacted] ([redacted], [redacted]) asks for a callback",
            "Grace forwarded [redacted]'s question"
        ]
    );

    // A later delivery of the order does not bring the customer back.
    hook("orders/updated", crate::fixture!("orders_updated"))
        .accepted(&app)
        .await;
    let updated = served(&app).await.unwrap();
    assert_eq!(updated["priority"], "urgent", "the delivery applied");
    assert_eq!(updated["customer"]["name"], "Redacted");
    assert_eq!(updated["customer"]["email"], Value::Null);
    assert_eq!(mentions(&pg, ADA_EMAIL).await, Vec::<String>::new());

    // Nor does the CSV export.
    let csv = app
        .client
        .get(format!("{}/orders/export.csv", app.address))
        .query(&[("shop", SHOP)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("Redacted") && !csv.contains(ADA_EMAIL),
        "{csv}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redaction_of_an_order_sync_does_not_have_yet_holds_when_it_arrives() {
    let app = registered_app().await;
    hook("customers/redact", &redaction()).accepted(&app).await;
    jobs_done(&app).await;
    hook("orders/create", crate::fixture!("orders_create"))
        .accepted(&app)
        .await;
    let order = served(&app).await.unwrap();
    assert_eq!(order["customer"]["name"], "Redacted");
    assert_eq!(order["customer"]["email"], Value::Null);
    assert_eq!(mentions(pg(&app), ADA_EMAIL).await, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn privacy_export_prints_what_is_kept_about_the_customer() {
    let app = shop_with_ada().await;
    let pg = pg(&app).clone();
    let th = test_settings().thresholds();
    let mut out = Vec::new();
    let export = PrivacyCommand::Export {
        request: "9999".into(),
        shop: None,
    };
    cli::privacy(
        &orders_sync::service::Privacy::new(pg.clone()),
        export,
        &th,
        &mut out,
    )
    .await
    .unwrap();
    let printed: Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(printed["shop"], SHOP);
    assert_eq!(printed["dataRequest"]["requestId"], "9999");
    assert_eq!(printed["dataRequest"]["email"], ADA_EMAIL);
    assert_eq!(
        printed["ordersNotKept"],
        json!(["gid://shopify/Order/1"]),
        "named by the request, unknown here"
    );
    let orders = printed["orders"].as_array().unwrap();
    let ids: Vec<&str> = orders
        .iter()
        .map(|o| o["order"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [ORDER, ADA_SECOND],
        "requested, and by e-mail; not Grace's"
    );
    let first = &orders[0];
    assert_eq!(first["order"]["customer"]["email"], ADA_EMAIL);
    assert!(first["history"].as_array().unwrap().len() >= 3);
    assert!(first["supportEscalations"][0]["note"]
        .as_str()
        .unwrap()
        .contains(ADA_PHONE));
    assert_eq!(first["returns"].as_array().unwrap().len(), 1);
    assert!(first["outboxEvents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["topic"] == "support.escalation" && e["payload"]["note"].is_string()));
    assert_eq!(first["redacted"], false);
    assert_eq!(orders[1]["order"]["assignedTo"], "sam");

    let missing = PrivacyCommand::Export {
        request: "1234".into(),
        shop: None,
    };
    let e = cli::privacy(
        &orders_sync::service::Privacy::new(pg.clone()),
        missing,
        &th,
        &mut Vec::new(),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("no data request 1234"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shop_redact_deletes_every_row_of_the_shop_and_no_other() {
    let app = shop_with_ada().await;
    let pg = pg(&app).clone();
    app.seed(OTHER_SHOP, vec![order(5001).build()]).await;
    hook(
        "fulfillments/create",
        crate::fixture!("fulfillments_create"),
    )
    .accepted(&app)
    .await;
    app.service
        .data_gap(SHOP, "orders may be missing")
        .await
        .unwrap();
    pg.add_token(SHOP, &[7u8; 32], "oss_abc", None, Utc::now())
        .await
        .unwrap();
    pg.fold_tallies().await.unwrap();
    hook("customers/redact", &redaction()).accepted(&app).await;
    let shop_id: i64 = sqlx::query_scalar("SELECT id FROM shops WHERE domain = $1")
        .bind(SHOP)
        .fetch_one(pg.pool())
        .await
        .unwrap();

    let body = json!({ "shop_id": 954889, "shop_domain": SHOP }).to_string();
    hook("shop/redact", body.as_bytes()).accepted(&app).await;
    jobs_done(&app).await;

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_name = 'shop_id' ORDER BY 1",
    )
    .fetch_all(pg.pool())
    .await
    .unwrap();
    assert!(tables.len() >= 15, "{tables:?}");
    for table in &tables {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{table}\" WHERE shop_id = $1"
        ))
        .bind(shop_id)
        .fetch_one(pg.pool())
        .await
        .unwrap();
        assert_eq!(n, 0, "{table} still holds rows of the shop");
    }
    assert_eq!(
        scalar(
            &app,
            &format!("SELECT count(*) FROM shops WHERE id = {shop_id}")
        )
        .await,
        0
    );
    assert!(served(&app).await.is_none());
    assert_eq!(mentions(&pg, ADA_EMAIL).await, Vec::<String>::new());
    // The other shop is untouched. Without the app's client secret nothing can verify a
    // deleted shop's deliveries any more: a redelivery is refused as §7 says.
    assert_eq!(app.order_of(OTHER_SHOP, 5001).await["id"], gid(5001));
    assert_eq!(hook("shop/redact", body.as_bytes()).send(&app).await.0, 401);
}
