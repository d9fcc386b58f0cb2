//! The PostgreSQL store against the real database, held to the in-memory store: the same data set is
//! written to both, and every read and write must answer alike (shipment ids, which are random, aside).
//! Each test runs in a fresh database (`TEST_DATABASE_URL`, default the local server's `postgres`).

mod compare;
mod fixtures;
mod reads;
mod seed;
mod writes;

use chrono::{DateTime, Utc};
use orders_sync::store::PgStore;
use sqlx::Connection;

const SHOP: &str = "acme.myshopify.com";
const OTHER_SHOP: &str = "other.myshopify.com";

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A fresh, migrated database, dropped by [`TestDb::drop_database`].
struct TestDb {
    store: PgStore,
    name: String,
}

impl TestDb {
    async fn new() -> TestDb {
        let admin = admin_url();
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL must be running for these tests");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        let base = &admin[..admin.rfind('/').expect("the URL names a database")];
        let store = PgStore::connect_lazy(&format!("{base}/{name}")).expect("a valid URL");
        store
            .migrate()
            .await
            .expect("the migrations apply to a fresh database");
        TestDb { store, name }
    }

    async fn drop_database(self) {
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

/// A base instant with whole microseconds, as the service hands the stores.
fn now() -> DateTime<Utc> {
    "2025-09-27T12:00:00.123456Z".parse().unwrap()
}
