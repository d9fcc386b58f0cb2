//! Ingestion from Shopify (SPEC §7): verified webhooks, and the poller that reconciles what they
//! missed; the app's lifecycle and privacy deliveries and their worker (SPEC §10). What each
//! payload means is decided in the core ([`orders_core::shopify`]); here are the signatures, the
//! HTTP door, the Admin API client and the wiring to the service.

pub mod graphql;
pub mod install;
pub mod lifecycle;
pub mod poller;
pub mod redact;
pub mod signature;
pub mod webhook;
