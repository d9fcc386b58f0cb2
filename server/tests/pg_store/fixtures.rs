//! The data the tests write: plain orders, a varied deterministic data set with the rules' edge
//! cases placed on purpose, and both stores seeded alike.

use chrono::Duration;
use orders_core::record::{OrderRecord, ReturnRecord, SupportRecord};
use orders_core::*;
use orders_sync::store::{MemoryStore, Store};

use crate::common::order_record;
use crate::{now, TestDb, OTHER_SHOP, SHOP};

/// A small deterministic pseudo-random source, so the data set is varied but the same every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A plain unfulfilled order created `age` before [`now`].
pub fn order(n: u64, age: Duration) -> OrderRecord {
    order_record(n, format!("#{}", 1000 + n), now() - age)
}

/// `count` varied orders, with the edge cases the rules care about placed on purpose.
pub fn data_set(count: u64, seed: u64) -> Vec<OrderRecord> {
    let mut rng = Lcg(seed);
    let mut records = Vec::with_capacity(count as usize);
    for i in 0..count {
        // Ids of different lengths (…/9 sorts after …/10 bytewise), and ties on createdAt.
        let n = if i % 7 == 0 { i / 7 + 1 } else { 5000 + i };
        let age = Duration::minutes(rng.below(60 * 24 * 4) as i64)
            + Duration::microseconds((i % 3) as i64);
        let mut o = order(n, age);
        if i % 11 == 0 {
            o.created_at = now() - Duration::hours(30);
            o.updated_at = o.created_at;
        }
        o.customer_email = (rng.below(4) != 0).then(|| format!("c{n}@example.com"));
        o.total_price = rng
            .pick(&["129.95", "0.50", "10", "1000.000", "7.1"])
            .to_string();
        o.currency = rng.pick(&["USD", "EUR"]).to_string();
        o.fulfillment_status = *rng.pick(FulfillmentStatus::ALL);
        o.financial_status = *rng.pick(FinancialStatus::ALL);
        o.cancelled_at = (rng.below(8) == 0).then(|| o.created_at + Duration::minutes(5));
        o.priority = *rng.pick(Priority::ALL);
        o.tags = match rng.below(3) {
            0 => vec![],
            1 => vec!["vip".into()],
            _ => vec!["wholesale".into(), "b2b".into(), "a".into()],
        };
        o.assigned_to = rng
            .pick(&[None, Some("sam"), Some("alex")])
            .map(str::to_owned);
        for k in 0..rng.below(3) {
            let tracked = rng.below(2) == 0;
            o.shipments.push(Shipment {
                id: format!("shp_seed_{n}_{k}"),
                status: *rng.pick(ShipmentStatus::ALL),
                tracking: tracked.then(|| Tracking {
                    number: format!("1Z{n}{k}"),
                    carrier: "UPS".into(),
                }),
                last_update_at: now() - Duration::hours(rng.below(60) as i64),
            });
        }
        if rng.below(3) == 0 {
            o.return_ = Some(ReturnRecord {
                id: format!("ret_{n}"),
                state: *rng.pick(ReturnState::ALL),
                created_at: o.created_at + Duration::hours(1),
                updated_at: o.created_at + Duration::hours(2),
            });
        }
        for k in 0..rng.below(3) {
            o.support.push(SupportRecord {
                thread: format!("conv_{n}_{k}"),
                note: "Customer wrote in".into(),
                open: rng.below(2) == 0,
                created_at: o.created_at + Duration::minutes(k as i64),
            });
        }
        for k in 0..rng.below(14) {
            // Some entries share a timestamp: arrival order must break the tie.
            let ts = o.created_at + Duration::minutes((k / 2) as i64);
            o.timeline.push(TimelineEntry {
                ts,
                event: format!("event.{k}"),
                details: format!("Step {k}."),
            });
        }
        records.push(o);
    }
    // Exactly at the tracking_pending cut-off (not pending) and a microsecond before it (pending).
    let th = Thresholds::default();
    let mut at = order(90001, th.tracking_pending_after);
    at.order_number = "#edge".into();
    records.push(at);
    records.push(order(
        90002,
        th.tracking_pending_after + Duration::microseconds(1),
    ));
    // Two orders with one name: the newer wins.
    let mut older = order(90003, Duration::days(3));
    older.order_number = "#dup".into();
    let mut newer = order(90004, Duration::days(1));
    newer.order_number = "#dup".into();
    records.extend([older, newer]);
    records
}

/// The stores under comparison, seeded alike.
pub async fn seeded(db: &TestDb, records: &[OrderRecord]) -> [Store; 2] {
    let pg = Store::Postgres(db.store.clone());
    let mem = Store::Memory(MemoryStore::default());
    for s in [&pg, &mem] {
        s.replace_orders(SHOP, records).await.expect("seed");
        s.replace_orders(OTHER_SHOP, &records[..3])
            .await
            .expect("seed the other shop");
    }
    [pg, mem]
}

pub fn refs(raw: &[&str]) -> Vec<OrderRef> {
    raw.iter().map(|r| OrderRef::parse(r).unwrap()).collect()
}
