//! Ingestion from Shopify (SPEC §7): verified webhooks, and the poller that reconciles what they
//! missed. What each payload means is decided in the core ([`orders_core::shopify`]); here are the
//! signatures, the HTTP door, the Admin API client and the wiring to the service.

pub mod install;
pub mod poller;
pub mod signature;
pub mod webhook;
