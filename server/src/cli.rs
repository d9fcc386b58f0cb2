//! The `orders-sync` command line (SPEC §9): `serve` (the default), `migrate`, `seed`,
//! `seed-bench`, `shop` ([`shop`]), `backfill`, `token`, `outbox`, `privacy`.

mod privacy;
mod shop;

use std::io::Write;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use orders_core::query::parse_shop_domain;
use orders_core::record::to_micros;
use orders_core::text::plural;
use orders_core::OutboxState;

use crate::service::{Outbox, Shops, Tokens};
use crate::settings::Settings;
use crate::shopify::poller::{self, BackfillProgress, ShopifyClient};
use crate::startup::{build_service, open_database, shutdown_signal, Application};
use crate::store::postgres::outbox::{OutboxRecord, OutboxRetry};
use crate::store::postgres::trust::Revoked;

pub use privacy::{privacy, PrivacyCommand};
pub use shop::{registrable_domain, ShopCommand};

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
    /// Write a benchmark data set fast, with COPY: `--orders` demo orders over `--shops` shops
    /// named bench-000.myshopify.com, ….
    ///
    /// bench-000 gets `--largest` orders and the others share the rest evenly (the first ones get
    /// one more when it does not divide). Each shop is registered if new and its orders are
    /// replaced as `seed` does, in one transaction per shop; `--jobs` shops are written at once,
    /// bench-000 first, over as many connections, while a thread generates the next shops' data.
    /// Progress goes
    /// to stderr (a bar on a terminal, else a line per shop). Then the tables are analysed and a
    /// one-line summary with the elapsed time goes to stdout. Other shops are left alone.
    ///
    /// Example: orders-sync seed-bench --orders 1000000 --shops 100 --largest 300000
    SeedBench {
        /// How many orders to write in all.
        #[arg(long, default_value_t = 1_000_000)]
        orders: usize,
        /// How many shops to spread them over.
        #[arg(long, default_value_t = 100)]
        shops: usize,
        /// How many orders the largest shop, bench-000, gets.
        #[arg(long, default_value_t = 300_000)]
        largest: usize,
        /// The generator's seed: the same seed gives the same data set.
        #[arg(long, default_value_t = orders_core::sample::DEFAULT_SEED)]
        seed: u64,
        /// How many shops to write at once (one database connection each).
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: u16,
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
    /// Customers' privacy requests from Shopify (SPEC §10).
    #[command(subcommand)]
    Privacy(PrivacyCommand),
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
            let store = store.shops();
            let records =
                orders_core::sample::generate(&shop, orders, seed, to_micros(chrono::Utc::now()));
            let progress = SeedProgress::new(records.len(), false)?;
            let written = store
                .replace_orders_with_progress(&shop, &records, |n| progress.set(n))
                .await;
            progress.finish();
            written.with_context(|| format!("could not write the orders of {shop}"))?;
            writeln!(
                std::io::stdout(),
                "seeded {orders} orders for {shop} (seed {seed})"
            )?;
            Ok(())
        }
        Command::SeedBench {
            orders,
            shops,
            largest,
            seed,
            jobs,
        } => {
            let plan = bench_plan(orders, shops, largest)?;
            let database = open_database(&settings).await?;
            seed_bench(database.shops(), &plan, seed, usize::from(jobs)).await
        }
        Command::Shop(cmd) => shop::run(settings, cmd).await,
        Command::Backfill { shop, after } => {
            let shop = parse_shop_domain(&shop)
                .map_err(anyhow::Error::msg)
                .context("--shop")?;
            backfill(settings, &shop, after).await
        }
        Command::Outbox(cmd) => {
            let database = open_database(&settings).await?;
            outbox(database.outbox(), cmd, &mut std::io::stdout()).await
        }
        Command::Token(cmd) => {
            let database = open_database(&settings).await?;
            token(database.tokens(), cmd, &mut std::io::stdout()).await
        }
        Command::Privacy(cmd) => {
            let database = open_database(&settings).await?;
            let store = database.privacy();
            privacy(store, cmd, &settings.thresholds(), &mut std::io::stdout()).await
        }
    }
}

/// `orders-sync outbox list|retry` on `store`, writing to `out`.
pub async fn outbox(store: &Outbox, cmd: OutboxCommand, out: &mut impl Write) -> Result<()> {
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
pub async fn token(store: &Tokens, cmd: TokenCommand, out: &mut impl Write) -> Result<()> {
    let now = to_micros(chrono::Utc::now());
    match cmd {
        TokenCommand::Issue { shop, label } => {
            let shop = parse_shop_domain(&shop)
                .map_err(anyhow::Error::msg)
                .context("--shop")?;
            let label = label.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty());
            let token = crate::trust::new_token().context("could not draw a random token")?;
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
            plural(t.orders(), "order", "orders"),
            plural(p.pages as usize, "page", "pages"),
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
    let database = open_database(&settings).await?;
    let client = ShopifyClient::new(&settings.shopify_api_base_url)?;
    let progress = Progress::new(shop)?;
    let ingestion = database.ingestion();
    let done = poller::backfill(ingestion, &client, shop, after, |p| progress.page(p)).await;
    progress.finish();
    let done = done?;
    let t = &done.tally;
    writeln!(
        std::io::stdout(),
        "backfilled {shop}: {} in {}; {t}",
        plural(t.orders(), "order", "orders"),
        plural(done.pages as usize, "page", "pages"),
    )?;
    anyhow::ensure!(
        t.failed == 0,
        "{} not stored: {}",
        plural(t.failed, "order", "orders"),
        t.failures.join("; ")
    );
    Ok(())
}

/// The shop `seed-bench` writes `i`-th: `bench-000.myshopify.com`, …
pub fn bench_shop(i: usize) -> String {
    format!("bench-{i:03}.myshopify.com")
}

/// The shops of `seed-bench` and their order counts: the first gets `largest`, the others share
/// the rest evenly, the first of them one more each when it does not divide.
pub fn bench_plan(orders: usize, shops: usize, largest: usize) -> Result<Vec<(String, usize)>> {
    anyhow::ensure!(shops >= 1, "--shops must be at least 1");
    anyhow::ensure!(
        largest <= orders,
        "--largest ({largest}) is more than --orders ({orders})"
    );
    let others = shops - 1;
    let rest = orders - largest;
    anyhow::ensure!(
        others > 0 || rest == 0,
        "with one shop, --largest ({largest}) must be --orders ({orders})"
    );
    let (each, extra) = match others {
        0 => (0, 0),
        n => (rest / n, rest % n),
    };
    anyhow::ensure!(
        each + usize::from(extra > 0) <= largest,
        "--largest ({largest}) is less than what each of the other {others} shops gets ({}): \
         bench-000 must be the largest",
        each + usize::from(extra > 0)
    );
    Ok((0..shops)
        .map(|i| {
            let n = match i {
                0 => largest,
                i => each + usize::from(i <= extra),
            };
            (bench_shop(i), n)
        })
        .collect())
}

/// `orders-sync seed-bench`: writes the shops of `plan` (see [`bench_plan`]), `jobs` at a time
/// in its order, while a thread generates the next shops' records; then analyses the tables and
/// prints a summary.
pub async fn seed_bench(
    store: &Shops,
    plan: &[(String, usize)],
    seed: u64,
    jobs: usize,
) -> Result<()> {
    use futures::{StreamExt, TryStreamExt};
    use std::cell::Cell;

    let jobs = jobs.max(1);
    let total: usize = plan.iter().map(|(_, n)| n).sum();
    let now = to_micros(chrono::Utc::now());
    let started = std::time::Instant::now();

    // Records are generated at most `jobs` shops ahead of the writers, so only those and the
    // shops being written are in memory.
    let (ready, next) = tokio::sync::mpsc::channel(jobs);
    let shops = plan.to_vec();
    let generator = std::thread::spawn(move || {
        for (shop, n) in shops {
            let records = orders_core::sample::generate(&shop, n, seed, now);
            if ready.blocking_send((shop, records)).is_err() {
                break;
            }
        }
    });
    let generated = futures::stream::unfold(next, |mut next| async move {
        next.recv().await.map(|shop| (shop, next))
    });

    let progress = SeedProgress::new(total, true)?;
    let written = Cell::new(0);
    let outcome = generated
        .map(Ok)
        .try_for_each_concurrent(jobs, |(shop, records): (String, Vec<_>)| {
            let (progress, written) = (&progress, &written);
            async move {
                let shop_started = std::time::Instant::now();
                let mut seen = 0;
                store
                    .replace_orders_with_progress(&shop, &records, |n| {
                        written.set(written.get() + n - seen);
                        seen = n;
                        progress.set(written.get());
                    })
                    .await
                    .with_context(|| format!("could not write the orders of {shop}"))?;
                progress.shop_done(&shop, records.len(), shop_started.elapsed(), written.get());
                anyhow::Ok(())
            }
        })
        .await;
    progress.finish();
    outcome?;
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("generating the orders failed"))?;
    let done = written.get();
    anyhow::ensure!(done == total, "wrote {done} orders of {total}");
    let written = started.elapsed();

    store
        .analyze_orders()
        .await
        .context("could not analyse the tables")?;
    let elapsed = started.elapsed();
    let first = plan
        .first()
        .map(|(shop, n)| format!(", {shop} {n}"))
        .unwrap_or_default();
    writeln!(
        std::io::stdout(),
        "seed-bench: {} over {}{first} (seed {seed}, {jobs} at a time): written in {:.1} s \
         ({:.0} orders/s), analysed in {:.1} s, {:.1} s in all",
        plural(total, "order", "orders"),
        plural(plan.len(), "shop", "shops"),
        written.as_secs_f64(),
        total as f64 / written.as_secs_f64().max(1e-9),
        (elapsed - written).as_secs_f64(),
        elapsed.as_secs_f64(),
    )?;
    Ok(())
}

/// Shows a seed's progress on stderr: a bar of orders written on a terminal (with the rate and
/// the time left); elsewhere a line per shop when `lines`, else nothing.
struct SeedProgress {
    bar: Option<indicatif::ProgressBar>,
    lines: bool,
    total: usize,
    started: std::time::Instant,
}

impl SeedProgress {
    fn new(total: usize, lines: bool) -> Result<Self> {
        use std::io::IsTerminal;
        let bar = if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {human_pos}/{human_len} orders, {rate}, ETA {eta}  {msg}",
                )?
                .with_key(
                    "rate",
                    |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0} orders/s", s.per_sec());
                    },
                ),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(250));
            Some(bar)
        } else {
            None
        };
        Ok(SeedProgress {
            bar,
            lines,
            total,
            started: std::time::Instant::now(),
        })
    }

    /// `n` orders written so far.
    fn set(&self, n: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(n as u64);
        }
    }

    /// `shop`'s `n` orders are written (in `took`), `done` in all.
    fn shop_done(&self, shop: &str, n: usize, took: std::time::Duration, done: usize) {
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
            bar.set_message(format!("{shop} written"));
        } else if self.lines {
            let _ = writeln!(
                std::io::stderr(),
                "{shop}: {} in {:.1} s; {done}/{} written, {:.0} orders/s",
                plural(n, "order", "orders"),
                took.as_secs_f64(),
                self.total,
                done as f64 / self.started.elapsed().as_secs_f64().max(1e-9),
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

async fn serve(settings: Settings) -> Result<()> {
    tracing::info!(settings = ?settings, "starting");
    // Before the database: an address that may not be served is refused at once.
    settings.trust.check_address(&settings.site_addr)?;
    let service = build_service(&settings).await?;
    let mut leptos_options = crate::dashboard::leptos_options()?;
    leptos_options.site_addr = settings.site_addr;
    let app = Application::build(&settings, service, leptos_options).await?;
    app.run_until(shutdown_signal()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(plan: &[(String, usize)]) -> Vec<usize> {
        plan.iter().map(|(_, n)| *n).collect()
    }

    #[test]
    fn the_bench_plan_gives_the_first_shop_the_largest_share_and_splits_the_rest() {
        let plan = bench_plan(1_000_000, 100, 300_000).unwrap();
        assert_eq!(plan.len(), 100);
        assert_eq!(plan[0], ("bench-000.myshopify.com".to_owned(), 300_000));
        assert_eq!(plan[99].0, "bench-099.myshopify.com");
        assert_eq!(plan.iter().map(|(_, n)| n).sum::<usize>(), 1_000_000);
        // 700 000 over 99: 7070 each and 70 left, one more for the first 70.
        assert_eq!(plan[1].1, 7071);
        assert_eq!(plan[70].1, 7071);
        assert_eq!(plan[71].1, 7070);
        assert_eq!(counts(&bench_plan(10, 3, 4).unwrap()), [4, 3, 3]);
        assert_eq!(counts(&bench_plan(5, 1, 5).unwrap()), [5]);
        assert_eq!(counts(&bench_plan(3, 3, 3).unwrap()), [3, 0, 0]);
    }

    #[test]
    fn a_bench_plan_that_cannot_hold_is_refused() {
        assert!(bench_plan(10, 0, 5).is_err());
        assert!(bench_plan(10, 3, 11).is_err());
        assert!(bench_plan(10, 1, 5).is_err());
        // The other shops would get more than bench-000.
        assert!(bench_plan(10, 2, 4).is_err());
    }
}
