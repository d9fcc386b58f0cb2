//! The transactional outbox (SPEC §7): writes queue events, the worker delivers them to receivers
//! served from the test, at least once, with backoff and a dead state; `GET /sync/outbox` and the
//! `outbox` commands show and revive them. The receiver applies each event once, deduplicating by
//! `X-Sync-Event-Id`, as a real one must.

mod delivery;
mod receiver;
mod serving;
mod workers;

use std::collections::BTreeMap;
use std::time::Duration;

use orders_core::ReturnState;
use orders_sync::outbox::{Backoff, OutboxConfig, OutboxWorker};
use orders_sync::settings::OutboxSettings;
use orders_sync::store::postgres::outbox::OutboxRecord;
use orders_sync::store::{PgStore, Store};

use self::receiver::Receiver;
use crate::helpers::*;

fn pg(app: &TestApp) -> PgStore {
    match &app.store {
        Store::Postgres(pg) => pg.clone(),
        Store::Memory(_) => panic!("the outbox worker runs on PostgreSQL"),
    }
}

/// The settings of a process whose receivers are `receiver`'s `/support`, `/erp` (behind basic
/// auth in the URL) and `/metafields`.
fn outbox_settings(receiver: &Receiver, push_metafields: bool) -> OutboxSettings {
    let mut erp = receiver.url("/erp");
    erp.set_username("sync").unwrap();
    erp.set_password(Some("s3cret")).unwrap();
    OutboxSettings {
        support_url: Some(receiver.url("/support")),
        erp_url: Some(erp),
        metafield_url: Some(receiver.url("/metafields")),
        push_metafields,
        ..OutboxSettings::default()
    }
}

/// The worker's configuration for `settings`, with the timings short enough for a test.
fn quick(settings: &OutboxSettings) -> OutboxConfig {
    OutboxConfig {
        lease: Duration::from_secs(2),
        request_timeout: Duration::from_millis(1500),
        poll_interval: Duration::from_millis(50),
        backoff: Backoff {
            base: Duration::from_millis(400),
            cap: Duration::from_secs(10),
        },
        ..OutboxConfig::from_settings(settings)
    }
}

fn worker(app: &TestApp, config: OutboxConfig) -> OutboxWorker {
    OutboxWorker::new(orders_sync::service::Outbox::new(pg(app)), config).unwrap()
}

/// Every event of the shop, by id.
async fn rows(app: &TestApp) -> BTreeMap<i64, OutboxRecord> {
    let (records, _) = pg(app).outbox_list(Some(SHOP), None, 1000).await.unwrap();
    records.into_iter().map(|r| (r.entry.id, r)).collect()
}

fn key(id: i64) -> String {
    format!("{SHOP}:{id}")
}

fn returned(n: u64, state: ReturnState) -> orders_core::record::OrderRecord {
    order(n).with_return(state).build()
}

fn outbox_query(state: Option<&str>) -> Vec<(&str, &str)> {
    let mut q = vec![("shop_domain", SHOP)];
    if let Some(state) = state {
        q.push(("state", state));
    }
    q
}
