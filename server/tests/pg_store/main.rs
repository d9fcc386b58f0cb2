//! The PostgreSQL store against the real database, held to the in-memory store: the same data set is
//! written to both, and every read and write must answer alike (shipment ids, which are random, aside).
//! Each test runs in a fresh database (`common::TestDb`), which it drops at its end.

#![allow(
    clippy::unwrap_used,
    reason = "a test's helpers fail the test, with its line, when they unwrap"
)]

#[path = "../common/mod.rs"]
mod common;
mod compare;
mod fixtures;
mod reads;
mod search;
mod seed;
mod writes;

use chrono::{DateTime, Utc};

use self::common::TestDb;

const SHOP: &str = "acme.myshopify.com";
const OTHER_SHOP: &str = "other.myshopify.com";

/// A base instant with whole microseconds, as the service hands the stores.
fn now() -> DateTime<Utc> {
    "2025-09-27T12:00:00.123456Z".parse().unwrap()
}
