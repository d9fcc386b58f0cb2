//! orders-sync: the Sync API of record and the server of the Orders dashboard.
//!
//! `routes` are the HTTP doors, `service` the one service layer, `store` the two stores behind it
//! (PostgreSQL and the in-memory sample data), `dashboard` the Leptos server side, `shopify` and
//! `outbox` the ways in from Shopify and out to the integrations, `workers` the background loops
//! under their supervisor, `serve` and `layers` what a connection and a request may take, `metrics`
//! what an operator scrapes, `startup` and `cli` the wiring.

pub mod cli;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod layers;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod routes;
pub mod secrets;
pub mod serve;
pub mod service;
pub mod settings;
pub mod shopify;
pub mod startup;
pub mod state;
pub mod store;
pub mod trust;
pub mod workers;
