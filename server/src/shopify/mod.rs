//! Ingestion from Shopify (SPEC §7): verified webhooks. What each payload means is decided in the
//! core ([`orders_core::shopify`]); here are the signatures, the HTTP door and the wiring to the
//! service.

pub mod signature;
pub mod webhook;
