//! The `orders-sync` command line (SPEC §9): `serve` (the default), `migrate`, `seed`.

use std::io::Write;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use orders_core::query::parse_shop_domain;
use orders_core::record::to_micros;

use crate::settings::Settings;
use crate::startup::{build_service, open_database, shutdown_signal, Application};

/// Orders ↔ Sync: the orders dashboard and the Sync API of a Shopify merchant.
#[derive(Debug, Parser)]
#[command(name = "orders-sync", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve the API and the dashboard on LEPTOS_SITE_ADDR (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Replace a shop's orders with the deterministic demo data set (relative to now).
    Seed {
        /// The shop, e.g. acme.myshopify.com (registered if new).
        #[arg(long)]
        shop: String,
        /// How many orders to write.
        #[arg(long)]
        orders: usize,
        /// The generator's seed: the same seed gives the same data set.
        #[arg(long, default_value_t = orders_core::sample::DEFAULT_SEED)]
        seed: u64,
    },
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> Result<()> {
    let settings = Settings::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            open_database(&settings).await?;
            writeln!(std::io::stdout(), "migrations applied")?;
            Ok(())
        }
        Command::Seed { shop, orders, seed } => {
            let shop = parse_shop_domain(&shop)
                .map_err(anyhow::Error::msg)
                .context("--shop")?;
            let store = open_database(&settings).await?;
            let records =
                orders_core::sample::generate(&shop, orders, seed, to_micros(chrono::Utc::now()));
            crate::store::Store::Postgres(store)
                .replace_orders(&shop, &records)
                .await
                .with_context(|| format!("could not write the orders of {shop}"))?;
            writeln!(
                std::io::stdout(),
                "seeded {orders} orders for {shop} (seed {seed})"
            )?;
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> Result<()> {
    tracing::info!(settings = ?settings, "starting");
    let service = build_service(&settings).await?;
    let mut leptos_options = crate::dashboard::leptos_options()?;
    leptos_options.site_addr = settings.site_addr;
    let app = Application::build(&settings, service, leptos_options).await?;
    app.run_until(shutdown_signal()).await
}
