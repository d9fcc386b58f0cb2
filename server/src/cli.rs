//! The `orders-sync` command line (SPEC §9): `serve` (the default), `migrate`, `seed`, `shop`,
//! `backfill`, `token`, `outbox`.

use std::io::Write;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use orders_core::query::parse_shop_domain;
use orders_core::record::to_micros;
use orders_core::OutboxState;

use crate::settings::Settings;
use crate::shopify::poller::{self, BackfillProgress, ShopifyClient};
use crate::startup::{build_service, open_database, shutdown_signal, Application};
use crate::store::postgres::outbox::{OutboxRecord, OutboxRetry};
use crate::store::postgres::trust::Revoked;
use crate::store::{PgStore, ShopRegistration};

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
    /// Registered shops and their Shopify secrets.
    #[command(subcommand)]
    Shop(ShopCommand),
    /// Read a shop's whole order history from Shopify into Sync (the poller only reads what
    /// changed lately). Progress goes to stderr, the summary to stdout.
    Backfill {
        /// The shop, registered with an access token (`shop add --access-token`).
        #[arg(long)]
        shop: String,
        /// Resume after this Shopify cursor (printed by a run that stopped).
        #[arg(long)]
        after: Option<String>,
    },
    /// Bearer tokens of the Sync API: each opens one shop's `/sync` endpoints.
    #[command(subcommand)]
    Token(TokenCommand),
    /// The outbox: side effects (support escalations, ERP return updates, assignment metafields)
    /// waiting for delivery, delivered, or given up on.
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a new token for a shop and print it, once: only its hash is kept. From then on the
    /// shop's `/sync` requests need a token.
    Issue {
        /// The shop, registered (`shop add` or `seed`).
        #[arg(long)]
        shop: String,
        /// A note saying who or what the token is for.
        #[arg(long)]
        label: Option<String>,
    },
    /// List the tokens (id, shop, first characters, label, created, last used, revoked).
    List {
        /// Only this shop's tokens.
        #[arg(long)]
        shop: Option<String>,
    },
    /// Revoke a token: it stops working at once.
    Revoke {
        /// The token's id (the first column of `token list`).
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCommand {
    /// List the newest events, newest first, then how many are pending, delivered and dead.
    List {
        /// Only this shop's events (and counts).
        #[arg(long)]
        shop: Option<String>,
        /// Only events in this state: pending, delivered or dead.
        #[arg(long, value_parser = parse_outbox_state)]
        state: Option<OutboxState>,
        /// How many events to list at most.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Put a dead event back in the queue: pending, due now, its attempts reset.
    Retry {
        /// The event's id (the first column of `outbox list`).
        id: i64,
    },
}

fn parse_outbox_state(raw: &str) -> Result<OutboxState, String> {
    raw.trim()
        .to_ascii_lowercase()
        .parse()
        .map_err(|e: orders_core::UnknownValue| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum ShopCommand {
    /// Register a shop, or update its secrets (the previous webhook secret stays valid for one hour).
    Add {
        /// The shop, e.g. acme.myshopify.com.
        #[arg(long)]
        domain: String,
        /// The app's client secret, which signs the shop's webhooks.
        #[arg(long, env = "SHOPIFY_WEBHOOK_SECRET", hide_env_values = true)]
        webhook_secret: String,
        /// An Admin API access token: the poller reads the shop's orders with it. Without one the
        /// shop gets webhooks only.
        #[arg(long, env = "SHOPIFY_ACCESS_TOKEN", hide_env_values = true)]
        access_token: Option<String>,
    },
    /// List the registered shops (secrets are never printed).
    List,
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
        Command::Shop(cmd) => shop(settings, cmd).await,
        Command::Backfill { shop, after } => {
            let shop = parse_shop_domain(&shop)
                .map_err(anyhow::Error::msg)
                .context("--shop")?;
            backfill(settings, &shop, after).await
        }
        Command::Outbox(cmd) => {
            let store = open_database(&settings).await?;
            outbox(&store, cmd, &mut std::io::stdout()).await
        }
        Command::Token(cmd) => {
            let store = open_database(&settings).await?;
            token(&store, cmd, &mut std::io::stdout()).await
        }
    }
}

/// `orders-sync outbox list|retry` on `store`, writing to `out`.
pub async fn outbox(store: &PgStore, cmd: OutboxCommand, out: &mut impl Write) -> Result<()> {
    match cmd {
        OutboxCommand::List { shop, state, limit } => {
            let shop = shop
                .map(|s| parse_shop_domain(&s).map_err(anyhow::Error::msg))
                .transpose()
                .context("--shop")?;
            let (records, counts) = store
                .outbox_list(shop.as_deref(), state, limit)
                .await
                .context("could not read the outbox")?;
            for record in &records {
                writeln!(out, "{}", outbox_line(record))?;
            }
            writeln!(
                out,
                "{}: {} pending, {} delivered, {} dead",
                shop.as_deref().unwrap_or("all shops"),
                counts.pending,
                counts.delivered,
                counts.dead
            )?;
        }
        OutboxCommand::Retry { id } => {
            match store
                .retry_outbox(id)
                .await
                .context("could not retry the event")?
            {
                OutboxRetry::Retried { shop, topic } => writeln!(
                    out,
                    "event {id} ({topic}, {shop}) is pending again; the outbox worker sends it at its next round"
                )?,
                OutboxRetry::NotDead(state) => {
                    anyhow::bail!("event {id} is {state}, not dead: only dead events are retried")
                }
                OutboxRetry::NotFound => anyhow::bail!("there is no outbox event {id}"),
            }
        }
    }
    Ok(())
}

/// `orders-sync token issue|list|revoke` on `store`, writing to `out`.
pub async fn token(store: &PgStore, cmd: TokenCommand, out: &mut impl Write) -> Result<()> {
    let now = to_micros(chrono::Utc::now());
    match cmd {
        TokenCommand::Issue { shop, label } => {
            let shop = parse_shop_domain(&shop)
                .map_err(anyhow::Error::msg)
                .context("--shop")?;
            let label = label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
            let token = crate::trust::new_token();
            let id = store
                .add_token(
                    &shop,
                    &crate::trust::token_hash(&token),
                    &crate::trust::token_shown_prefix(&token),
                    label.as_deref(),
                    now,
                )
                .await
                .map_err(|e| match e {
                    crate::store::StoreError::UnknownShop(_) => anyhow::anyhow!(
                        "{shop} is not registered: register it first (orders-sync shop add, or seed)"
                    ),
                    e => anyhow::Error::new(e).context("could not issue the token"),
                })?;
            writeln!(out, "{token}")?;
            writeln!(
                std::io::stderr(),
                "token {id} for {shop}: shown this once, keep it now; from now on {shop}'s /sync requests need a token (Authorization: Bearer …)"
            )?;
        }
        TokenCommand::List { shop } => {
            let shop = shop
                .map(|s| parse_shop_domain(&s).map_err(anyhow::Error::msg))
                .transpose()
                .context("--shop")?;
            let iso = |t: chrono::DateTime<chrono::Utc>| {
                t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            };
            for t in store.tokens(shop.as_deref()).await? {
                writeln!(
                    out,
                    "{}\t{}\t{}…\t{}\tcreated {}\t{}\t{}",
                    t.id,
                    t.shop,
                    t.prefix,
                    t.label.as_deref().unwrap_or("-"),
                    iso(t.created_at),
                    t.last_used_at
                        .map(|u| format!("last used {}", iso(u)))
                        .unwrap_or_else(|| "never used".into()),
                    t.revoked_at
                        .map(|r| format!("revoked {}", iso(r)))
                        .unwrap_or_else(|| "active".into()),
                )?;
            }
        }
        TokenCommand::Revoke { id } => match store.revoke_token(id, now).await? {
            Revoked::Revoked { shop } => writeln!(out, "token {id} of {shop} is revoked")?,
            Revoked::AlreadyRevoked { shop } => {
                writeln!(out, "token {id} of {shop} was already revoked")?
            }
            Revoked::NotFound => anyhow::bail!("there is no token {id}"),
        },
    }
    Ok(())
}

/// One event on one tab-separated line: id, shop, topic, order, state, attempts, when, last error.
fn outbox_line(record: &OutboxRecord) -> String {
    let e = &record.entry;
    let iso =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let when = match (e.delivered_at, e.dead_at, e.next_attempt_at) {
        (Some(t), _, _) => format!("delivered {}", iso(t)),
        (None, Some(t), _) => format!("dead since {}", iso(t)),
        (None, None, Some(t)) => format!("next attempt {}", iso(t)),
        (None, None, None) => String::new(),
    };
    format!(
        "{}\t{}\t{}\t{}\t{}\tattempts {}\t{}\t{}",
        e.id,
        record.shop,
        e.topic,
        e.order_id,
        e.state,
        e.attempts,
        when,
        e.last_error.as_deref().unwrap_or("")
    )
}

/// Shows a backfill's progress on stderr: a spinner on a terminal, else a line a page.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new(shop: &str) -> Result<Self> {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Ok(Progress { bar: None });
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(indicatif::ProgressStyle::with_template(
            "{spinner} {prefix} {elapsed_precise} {msg}",
        )?);
        bar.set_prefix(shop.to_owned());
        bar.set_message("asking Shopify for the first page…");
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Ok(Progress { bar: Some(bar) })
    }

    fn page(&self, p: &BackfillProgress) {
        let t = &p.tally;
        let line = format!(
            "{}, {} ({t})",
            count(t.orders(), "order"),
            count(p.pages as usize, "page"),
        );
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None => {
                let _ = writeln!(std::io::stderr(), "page {}: {line}", p.pages);
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

async fn backfill(settings: Settings, shop: &str, after: Option<String>) -> Result<()> {
    let store = open_database(&settings).await?;
    let client = ShopifyClient::new(&settings.shopify_api_base_url)?;
    let progress = Progress::new(shop)?;
    let done = poller::backfill(&store, &client, shop, after, |p| progress.page(p)).await;
    progress.finish();
    let done = done?;
    let t = &done.tally;
    writeln!(
        std::io::stdout(),
        "backfilled {shop}: {} in {}; {t}",
        count(t.orders(), "order"),
        count(done.pages as usize, "page"),
    )?;
    anyhow::ensure!(
        t.failed == 0,
        "{} not stored: {}",
        count(t.failed, "order"),
        t.failures.join("; ")
    );
    Ok(())
}

/// `1 order`, `2 orders`.
fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

async fn shop(settings: Settings, cmd: ShopCommand) -> Result<()> {
    let store = open_database(&settings).await?;
    let mut out = std::io::stdout();
    match cmd {
        ShopCommand::Add {
            domain,
            webhook_secret,
            access_token,
        } => {
            let domain = parse_shop_domain(&domain)
                .map_err(anyhow::Error::msg)
                .context("--domain")?;
            anyhow::ensure!(
                !webhook_secret.trim().is_empty(),
                "--webhook-secret must not be empty"
            );
            let token = access_token.filter(|t| !t.trim().is_empty());
            let now = to_micros(chrono::Utc::now());
            let done = store
                .register_shop(&domain, webhook_secret.trim(), token.as_deref(), now)
                .await
                .with_context(|| format!("could not register {domain}"))?;
            match done {
                ShopRegistration::Created => writeln!(out, "registered {domain}")?,
                ShopRegistration::Updated => writeln!(out, "updated the secrets of {domain}")?,
                ShopRegistration::Rotated {
                    previous_valid_until,
                } => writeln!(
                    out,
                    "rotated the webhook secret of {domain}; the previous one stays valid until {}",
                    previous_valid_until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                )?,
            }
            if token.is_none() {
                writeln!(
                    out,
                    "{domain} has no access token: webhooks only, no polling"
                )?;
            }
        }
        ShopCommand::List => {
            for shop in store.shop_summaries().await? {
                writeln!(
                    out,
                    "{}\twebhooks: {}\tpolling: {}",
                    shop.domain,
                    if shop.has_webhook_secret { "yes" } else { "no" },
                    if shop.has_access_token { "yes" } else { "no" },
                )?;
            }
        }
    }
    Ok(())
}

async fn serve(settings: Settings) -> Result<()> {
    tracing::info!(settings = ?settings, "starting");
    let service = build_service(&settings).await?;
    let mut leptos_options = crate::dashboard::leptos_options()?;
    leptos_options.site_addr = settings.site_addr;
    let app = Application::build(&settings, service, leptos_options).await?;
    app.run_until(shutdown_signal()).await
}
