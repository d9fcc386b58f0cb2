//! What the test targets that use PostgreSQL share (`api`, `pg_store`, `crash`, each with
//! `mod common;`): a fresh, migrated database per test, and the plain order their fixtures start from.
//!
//! Every test database is named [`DATABASE_PREFIX`] and a UUID: the names `scripts/test.sh` drops
//! before and after its run (`orders\_test\_%`), so a database a test leaves behind, on purpose or
//! because it failed, is cleaned up by the test command.

// Each target uses only part of this module.
#![allow(dead_code, reason = "each test target uses only part of this module")]

use chrono::{DateTime, Utc};
use orders_core::record::OrderRecord;
use orders_core::{FinancialStatus, FulfillmentStatus, Priority, TimelineEntry};
use orders_sync::store::PgStore;
use sqlx::Connection;

/// How every test database's name begins.
pub const DATABASE_PREFIX: &str = "orders_test_";

/// The admin URL the tests create their databases through: `TEST_DATABASE_URL`, else
/// `DATABASE_URL`, else the local server's `postgres` database (as `scripts/test.sh` reads them).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .or_else(|_| std::env::var("DATABASE_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, migrated database for one test, and a store over it. Dropped by
/// [`TestDb::drop_database`], or else left to the test command's clean-up.
pub struct TestDb {
    /// Connects on first use.
    pub store: PgStore,
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// Creates a database with a new name on the admin URL's server and applies the migrations.
    pub async fn new() -> TestDb {
        let admin = admin_url();
        let name = format!("{DATABASE_PREFIX}{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL must be running for the tests");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        let url = match admin.rfind('/') {
            Some(i) => format!("{}/{name}", &admin[..i]),
            None => panic!("the admin URL must name a database"),
        };
        let migrating = PgStore::connect_lazy(&url).expect("a valid URL");
        migrating
            .migrate()
            .await
            .expect("the migrations apply to a fresh database");
        migrating.pool().close().await;
        let store = PgStore::connect_lazy(&url).expect("a valid URL");
        TestDb { store, name, url }
    }

    /// Closes the store's connections and drops the database.
    pub async fn drop_database(self) {
        self.store.pool().close().await;
        let mut conn = sqlx::PgConnection::connect(&admin_url()).await.unwrap();
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&mut conn)
        .await
        .unwrap();
    }
}

/// A store over a fresh, migrated database, left to the test command's clean-up.
pub async fn fresh_database() -> PgStore {
    TestDb::new().await.store
}

/// The URL of a fresh, migrated database, left to the test command's clean-up.
pub async fn fresh_database_url() -> String {
    TestDb::new().await.url
}

/// The GID of order `n`.
pub fn gid(n: u64) -> String {
    format!("gid://shopify/Order/{n}")
}

/// A plain order `n` named `order_number` and created at `created`: unfulfilled, paid, normal
/// priority, 129.95 USD, with its payment as its one timeline entry.
pub fn order_record(n: u64, order_number: String, created: DateTime<Utc>) -> OrderRecord {
    OrderRecord {
        id: gid(n),
        order_number,
        customer_name: format!("Customer {n}"),
        customer_email: Some(format!("c{n}@example.com")),
        total_price: "129.95".into(),
        currency: "USD".into(),
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        financial_status: FinancialStatus::Paid,
        cancelled_at: None,
        priority: Priority::Normal,
        tags: vec![],
        created_at: created,
        updated_at: created,
        shopify_updated_at: None,
        shipments: vec![],
        return_: None,
        support: vec![],
        assigned_to: None,
        timeline: vec![TimelineEntry {
            ts: created,
            event: "payment.captured".into(),
            details: "Paid 129.95 USD".into(),
        }],
    }
}
