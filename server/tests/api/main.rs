//! The contract suite: the real server on a random port, spoken to over HTTP, run once against
//! PostgreSQL (a fresh database per test) and once against the in-memory sample store.

#![allow(
    clippy::unwrap_used,
    reason = "a test's helpers fail the test, with its line, when they unwrap"
)]

mod alerts;
mod banners;
mod bodies;
#[path = "../common/mod.rs"]
mod common;
mod dashboard_writes;
mod embedded;
mod export;
mod fake_shopify;
mod health;
mod helpers;
mod install;
mod lifecycle;
mod limits;
mod list;
mod metrics;
mod openapi;
mod outage;
mod outbox;
mod poller;
mod positions;
mod privacy;
mod read_one;
mod returns;
mod search;
mod sse;
mod streams;
mod time_and_money;
mod trust;
mod trust_edges;
mod webhooks;
mod writes;
