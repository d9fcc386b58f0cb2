//! The soak test (run by `scripts/soak.sh`): every load at once against one running `orders-sync`
//! for `SOAK_MINUTES`, the database restarted once in the middle, then the figures and a verdict.
//!
//! The loads (rates are per second, each request its own task so a slow answer never slows the
//! sender): reads (`--read-rate`, 100), writes with idempotency keys (`--write-rate`, 20),
//! signed webhooks (`--webhook-rate`, 50), idle live-alert streams (`--streams`, 2,000), slow
//! clients that send half a request line (`--slow-clients`, 500), and requests for shops never
//! registered (`--unknown`, 5,000 over the run). Halfway, `--restart-cmd` is run (the script's
//! PostgreSQL stop, a pause, and start). The server process (`--pid`) is sampled every second
//! (resident memory, open descriptors); its end figures are taken after the loads stop, the held
//! connections close and `--settle-secs` pass. Then every acknowledged write is checked
//! (`writes`), the health endpoints asked, and the report printed and written (`--report`).
//!
//! Exit status: 0 when the verdict passes, 1 when it fails (`report`), 2 when the soak could
//! not run.

// The report is this program's output.
#![allow(clippy::print_stdout, reason = "the report is this program's output")]
// The unit tests build without `main`, which uses the rest.
#![cfg_attr(test, allow(dead_code, reason = "the unit tests build without `main`"))]

mod conns;
mod loads;
mod report;
mod tally;
mod writes;

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{json, Value};
use tokio::task::JoinSet;

use report::{Cpu, Figures, Health, Restart, Span};
use tally::{cpu_seconds, sample_process, ProcSample, Tally};

/// Every load at once against a running orders-sync, with a database restart halfway.
#[derive(Parser, Debug)]
struct Args {
    /// The server's origin (`http://127.0.0.1:PORT`).
    #[arg(long)]
    base: String,
    /// The seeded, registered shop.
    #[arg(long)]
    shop: String,
    /// A Sync API token of the shop.
    #[arg(long, env = "SOAK_TOKEN", hide_env_values = true)]
    token: String,
    /// The shop's webhook secret.
    #[arg(long, env = "SOAK_WEBHOOK_SECRET", hide_env_values = true)]
    secret: String,
    /// The server's process id (for its memory and descriptors).
    #[arg(long)]
    pid: u32,
    /// How long the loads run.
    #[arg(long, env = "SOAK_MINUTES", default_value_t = 10.0)]
    minutes: f64,
    /// The shell command that restarts the database, run halfway (none: no restart).
    #[arg(long, default_value = "")]
    restart_cmd: String,
    /// Where the JSON report goes.
    #[arg(long)]
    report: PathBuf,
    /// Reads a second.
    #[arg(long, default_value_t = 100.0)]
    read_rate: f64,
    /// Writes a second.
    #[arg(long, default_value_t = 20.0)]
    write_rate: f64,
    /// Webhook deliveries a second.
    #[arg(long, default_value_t = 50.0)]
    webhook_rate: f64,
    /// Idle live-alert streams held.
    #[arg(long, default_value_t = 2000)]
    streams: u64,
    /// Slow clients held.
    #[arg(long, default_value_t = 500)]
    slow_clients: u64,
    /// Requests for unknown shops over the whole run.
    #[arg(long, default_value_t = 5000)]
    unknown: u64,
    /// How long after the loads stop the end figures are taken.
    #[arg(long, default_value_t = 10)]
    settle_secs: u64,
    /// How many of the shop's orders the writes touch.
    #[arg(long, default_value_t = 500)]
    write_orders: usize,
}

/// What every load shares.
pub struct Ctx {
    /// `http://host:port`.
    pub base: String,
    /// `host:port`, for raw connections.
    pub host: String,
    pub shop: String,
    pub token: String,
    pub secret: String,
    /// This run's id, in idempotency keys and webhook ids.
    pub run: String,
    /// Requests that end (reads, writes, webhooks…): pooled connections.
    pub api: reqwest::Client,
    /// Streams, each holding its connection.
    pub streams: reqwest::Client,
    pub tally: Tally,
    /// The ids of the shop's newest orders.
    pub ids: Vec<String>,
    /// How many orders the shop has.
    pub orders_total: u64,
}

/// A well-spread 64-bit hash (SplitMix64): the soak's only randomness, so request i is the same
/// request on every run.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("soak: {e}");
            ExitCode::from(2)
        }
    }
}

/// The ids of the shop's newest orders (up to 1,000) and how many it has.
async fn order_ids(
    api: &reqwest::Client,
    args: &Args,
) -> Result<(Vec<String>, u64), Box<dyn std::error::Error>> {
    let mut ids = Vec::new();
    let mut total = 0;
    let mut cursor = Some("ofs:0".to_owned());
    while let Some(at) = cursor.take().filter(|_| ids.len() < 1000) {
        let page: Value = api
            .get(format!("{}/sync/orders", args.base))
            .query(&[
                ("shop_domain", args.shop.as_str()),
                ("pageSize", "250"),
                ("cursor", &at),
            ])
            .bearer_auth(&args.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        total = page["counts"]["all"].as_u64().unwrap_or(0);
        let orders = page["orders"].as_array().cloned().unwrap_or_default();
        ids.extend(
            orders
                .iter()
                .filter_map(|o| o["id"].as_str().map(str::to_owned)),
        );
        cursor = page["pageInfo"]["nextCursor"].as_str().map(str::to_owned);
    }
    if ids.is_empty() {
        return Err(format!("{} has no orders: seed it first", args.shop).into());
    }
    Ok((ids, total))
}

/// Runs the restart command `after` from now; `None` without one.
async fn restart_database(tally: &Tally, command: &str, after: Duration) -> Option<Restart> {
    if command.trim().is_empty() {
        return None;
    }
    tokio::time::sleep(after).await;
    let at = tally.now();
    println!("[{at:>5.0} s] restarting the database");
    let status = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdout(Stdio::null())
        .status()
        .await;
    let back = tally.now();
    let ok = status.is_ok_and(|s| s.success());
    println!(
        "[{back:>5.0} s] the database is back{}",
        if ok {
            ""
        } else {
            ": the restart command FAILED"
        }
    );
    Some(Restart { at, back, ok })
}

/// Samples the server every second into `samples`, with a progress line every 30 s.
async fn sample_forever(
    ctx: Arc<Ctx>,
    pid: u32,
    samples: Arc<Mutex<Vec<ProcSample>>>,
    live: [Arc<AtomicUsize>; 2],
) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut n = 0u64;
    loop {
        tick.tick().await;
        let Some((rss_kib, fds)) = sample_process(pid) else {
            continue;
        };
        let t = ctx.tally.now();
        samples
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(ProcSample { t, rss_kib, fds });
        if n.is_multiple_of(30) {
            println!(
                "[{t:>5.0} s] server RSS {:.1} MiB, {fds} descriptors; {} streams and {} slow clients connected",
                rss_kib as f64 / 1024.0,
                live[0].load(Ordering::Relaxed),
                live[1].load(Ordering::Relaxed),
            );
        }
        n += 1;
    }
}

/// Whether the process is alive (not a zombie), and `/healthz` and `/readyz` (given 10 s to
/// become ready).
async fn health(ctx: &Ctx, pid: u32) -> Health {
    let process_alive = std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|s| {
        !s.lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'))
    });
    let get = |path: &'static str| async move {
        let request = ctx.api.get(format!("{}{path}", ctx.base));
        loads::send(ctx, "health", request)
            .await
            .map_or(0, |a| a.status)
    };
    let healthz = get("/healthz").await;
    let mut readyz = 0;
    for _ in 0..10 {
        readyz = get("/readyz").await;
        if readyz == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Health {
        process_alive,
        healthz,
        readyz,
    }
}

async fn run(args: Args) -> Result<bool, Box<dyn std::error::Error>> {
    let duration = Duration::from_secs_f64(args.minutes * 60.0);
    if duration < Duration::from_secs(10) {
        return Err("the run must last at least 10 s (SOAK_MINUTES)".into());
    }
    let api = reqwest::Client::builder()
        // Below any idle timeout a server may have, so a pooled connection is not reused as the
        // server closes it.
        .pool_idle_timeout(Duration::from_secs(5))
        .pool_max_idle_per_host(64)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(40))
        .build()?;
    let streams = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0)
        .build()?;
    let (ids, orders_total) = order_ids(&api, &args).await?;
    let run_id = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)?
            .as_millis()
    );
    let ledger = Arc::new(writes::Writes::new(
        ids.iter().take(args.write_orders.max(1)).cloned().collect(),
    ));
    let hooks = Arc::new(loads::Hooks::new()?);
    let ctx = Arc::new(Ctx {
        host: args
            .base
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned(),
        base: args.base.trim_end_matches('/').to_owned(),
        shop: args.shop.clone(),
        token: args.token.clone(),
        secret: args.secret.clone(),
        run: run_id,
        api,
        streams,
        tally: Tally::new(),
        ids,
        orders_total,
    });
    let sample = |at: f64| {
        sample_process(args.pid).map(|(rss_kib, fds)| ProcSample {
            t: at,
            rss_kib,
            fds,
        })
    };
    let start = sample(0.0).ok_or("the server process is not running")?;
    println!(
        "soak: {:.1} min against {} (pid {}), shop {} ({} orders; writes on {}): reads {}/s, writes {}/s, webhooks {}/s, {} streams, {} slow clients, {} requests for unknown shops",
        args.minutes, ctx.base, args.pid, ctx.shop, orders_total, args.write_orders.min(ctx.ids.len()),
        args.read_rate, args.write_rate, args.webhook_rate, args.streams, args.slow_clients, args.unknown
    );

    let samples = Arc::new(Mutex::new(Vec::new()));
    let live = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let sampler = tokio::spawn(sample_forever(
        ctx.clone(),
        args.pid,
        samples.clone(),
        live.clone(),
    ));
    // The held connections open over the first seconds, as a fleet of clients would.
    let mut held = JoinSet::new();
    for n in 0..args.streams {
        let delay = Duration::from_millis(n * 10_000 / args.streams.max(1));
        held.spawn(conns::stream(ctx.clone(), n, delay, live[0].clone()));
    }
    for n in 0..args.slow_clients {
        let delay = Duration::from_millis(n * 5_000 / args.slow_clients.max(1));
        held.spawn(conns::slow_client(ctx.clone(), n, delay, live[1].clone()));
    }

    let pid = args.pid.to_string();
    let cpu_at_start = (cpu_seconds(&pid), cpu_seconds("self"));
    let until = Instant::now() + duration;
    let unknown_rate = args.unknown as f64 / duration.as_secs_f64();
    let (reads, writes_sent, webhooks, unknown, restart) = tokio::join!(
        loads::at_rate(args.read_rate, until, |i| loads::read(ctx.clone(), i)),
        loads::at_rate(args.write_rate, until, |i| writes::write(
            ctx.clone(),
            ledger.clone(),
            i
        )),
        loads::at_rate(args.webhook_rate, until, |i| loads::webhook(
            ctx.clone(),
            hooks.clone(),
            i
        )),
        loads::at_rate(unknown_rate, until, |i| loads::unknown_shop(ctx.clone(), i)),
        restart_database(&ctx.tally, &args.restart_cmd, duration / 2),
    );
    let loads_end = ctx.tally.now();
    let cpu = Cpu {
        server_s: cpu_seconds(&pid).unwrap_or(0.0) - cpu_at_start.0.unwrap_or(0.0),
        generator_s: cpu_seconds("self").unwrap_or(0.0) - cpu_at_start.1.unwrap_or(0.0),
        wall_s: loads_end,
    };
    held.abort_all();
    while held.join_next().await.is_some() {}
    println!(
        "[{loads_end:>5.0} s] loads stopped: {reads} reads, {writes_sent} writes, {webhooks} webhooks, {unknown} unknown-shop requests; connections closed, settling {} s",
        args.settle_secs
    );
    tokio::time::sleep(Duration::from_secs(args.settle_secs)).await;
    let end_at = ctx.tally.now();
    let end = sample(end_at);
    sampler.abort();
    let samples = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let end = end.or(samples.last().copied()).unwrap_or(start);

    println!("[{end_at:>5.0} s] checking every acknowledged write");
    let check = writes::check(&ctx, &ledger, writes_sent).await;
    let health = health(&ctx, args.pid).await;

    let (unenveloped, unenveloped_examples) = ctx.tally.unenveloped();
    let figures = Figures {
        config: json!({
            "minutes": args.minutes, "base": ctx.base, "shop": ctx.shop, "orders": orders_total,
            "write_orders": args.write_orders.min(ctx.ids.len()),
            "read_rate": args.read_rate, "write_rate": args.write_rate,
            "webhook_rate": args.webhook_rate, "streams": args.streams,
            "slow_clients": args.slow_clients, "unknown_shop_requests": args.unknown,
            "settle_secs": args.settle_secs,
            "sent": { "reads": reads, "writes": writes_sent, "webhooks": webhooks, "unknown": unknown },
        }),
        rss_kib: Span::of(&samples, start, end, |s| s.rss_kib),
        fds: Span::of(&samples, start, end, |s| s.fds),
        phases: report::phases(&ctx.tally.reads(), restart.as_ref(), loads_end),
        restart,
        answers: ctx.tally.answers(),
        events: ctx.tally.events(),
        unenveloped,
        unenveloped_examples,
        writes: check,
        health,
        cpu,
        samples,
    };
    println!("\n{}", figures.table());
    if let Some(dir) = args.report.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.report, serde_json::to_vec_pretty(&figures.json())?)?;
    println!("report: {}", args.report.display());
    Ok(figures.failures().is_empty())
}
