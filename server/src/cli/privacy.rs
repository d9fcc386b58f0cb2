//! `orders-sync privacy export --request ID` (SPEC §10): everything Sync keeps about the customer
//! of a `customers/data_request`, printed as JSON for the merchant to hand over.

use std::io::Write;

use anyhow::{Context, Result};
use clap::Subcommand;
use orders_core::query::parse_shop_domain;
use orders_core::record::to_micros;
use orders_core::Thresholds;

use crate::service::Privacy;
use crate::store::postgres::privacy::ExportLookup;

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Print, as JSON, everything stored about the customer of a data request
    /// (customers/data_request): the request, and each of the customer's orders (those it names
    /// and those with the customer's e-mail) with its whole timeline, support escalations,
    /// returns and outbox events.
    Export {
        /// Shopify's data request id (`data_request.id` of the webhook).
        #[arg(long = "request")]
        request: String,
        /// The shop, when requests of several shops share the id.
        #[arg(long)]
        shop: Option<String>,
    },
}

/// `orders-sync privacy export` on `store`, writing to `out`.
pub async fn privacy(
    store: &Privacy,
    cmd: PrivacyCommand,
    thresholds: &Thresholds,
    out: &mut impl Write,
) -> Result<()> {
    match cmd {
        PrivacyCommand::Export { request, shop } => {
            let shop = shop
                .map(|s| parse_shop_domain(&s).map_err(anyhow::Error::msg))
                .transpose()
                .context("--shop")?;
            let request = request.trim();
            anyhow::ensure!(!request.is_empty(), "--request must not be empty");
            let now = to_micros(chrono::Utc::now());
            match store
                .privacy_export(request, shop.as_deref(), now, thresholds)
                .await
                .context("could not read the customer's data")?
            {
                ExportLookup::Found(export) => {
                    serde_json::to_writer_pretty(&mut *out, &export)?;
                    writeln!(out)?;
                }
                ExportLookup::NotFound => anyhow::bail!(
                    "no data request {request} is recorded{}: it is recorded when the \
                     customers/data_request webhook has been processed",
                    shop.map(|s| format!(" for {s}")).unwrap_or_default()
                ),
                ExportLookup::Ambiguous(shops) => anyhow::bail!(
                    "data request {request} exists in several shops ({}): name one with --shop",
                    shops.join(", ")
                ),
            }
        }
    }
    Ok(())
}
