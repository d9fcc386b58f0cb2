//! `orders-sync`: reads the command line, sets up logging (to stderr: plain text, coloured only on
//! a terminal, or one JSON object a line with `LOG_FORMAT=json`), runs the command.

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// The allocator: jemalloc rather than the system's. A server that held 2,000 streams and
/// thousands of requests at its peak should not keep that memory once they are gone; glibc's
/// allocator kept 98 % of it (the soak, docs/PERFORMANCE.md). jemalloc gives freed pages back to
/// the system a few seconds after they fall idle; its settings are in `.cargo/config.toml`.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    // Whatever RUST_LOG says: sqlx warns about a `DATABASE_URL` parameter it does not know with
    // its value in clear (`?sslpassword=…` would be logged), so that target logs errors only.
    if let Ok(quiet) = "sqlx_postgres::options=error".parse() {
        filter = filter.add_directive(quiet);
    }
    let json = match std::env::var("LOG_FORMAT").ok().as_deref().map(str::trim) {
        None | Some("") | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            eprintln!("orders-sync: LOG_FORMAT '{other}' is not 'text' or 'json'");
            return std::process::ExitCode::FAILURE;
        }
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        // One object a line, with the fields of the span it was logged in and of every span
        // around it (the request's id, the shop, the order).
        logs.json()
            .with_current_span(true)
            .with_span_list(true)
            .init();
    } else {
        // Colour codes only for a person at a terminal; a file or a log collector gets plain text.
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
    orders_sync::layers::log_panics();
    match orders_sync::cli::run(orders_sync::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("orders-sync: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
