//! The real `orders-sync` binary, run as an operator runs it: what it writes to a log file (no
//! terminal colour codes, no secret of `DATABASE_URL`) and the domains `shop add` refuses before it
//! touches the database.

#![allow(
    clippy::unwrap_used,
    reason = "a test's helpers fail the test, with its line, when they unwrap"
)]

use std::process::{Command, Output, Stdio};

/// Runs `orders-sync args` with `DATABASE_URL=database_url` and nothing listening for it, its
/// stderr written to a file (not a terminal), and returns what it wrote there.
fn run(database_url: &str, args: &[&str]) -> (Output, String) {
    let dir = std::env::temp_dir().join(format!("orders-sync-log-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("stderr.log");
    let file = std::fs::File::create(&log).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_orders-sync"))
        .args(args)
        // The workspace root: where a plain `cargo build` binary finds its Leptos settings.
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("SYNC_POLL_INTERVAL", "off")
        .env("OUTBOX_POLL_INTERVAL", "off")
        .env("RUST_LOG", "info")
        // Colour must be off because stderr is a file, not because of a convention.
        .env_remove("NO_COLOR")
        .env_remove("USE_MOCK_DATA")
        .stdin(Stdio::null())
        .stderr(Stdio::from(file))
        .output()
        .unwrap();
    let written = std::fs::read_to_string(&log).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    (output, written)
}

/// A database address where nothing listens: the command fails fast, and says where it tried.
const NOWHERE: &str = "127.0.0.1:1";

#[test]
fn logs_written_to_a_file_carry_no_colour_codes_and_no_database_secret() {
    let url = format!(
        "postgres://app:s3cret-userinfo@{NOWHERE}/orders?sslpassword=s3cret-query&application_name=sync"
    );
    let (output, log) = run(&url, &["serve"]);
    assert!(!output.status.success(), "{log}");
    assert!(log.contains("starting"), "the settings are logged: {log}");
    assert!(
        log.contains("could not apply the database migrations"),
        "{log}"
    );
    assert!(!log.contains('\x1b'), "colour codes in a file: {log:?}");
    for secret in ["s3cret-userinfo", "s3cret-query"] {
        assert!(!log.contains(secret), "{secret} in: {log}");
    }
    assert!(
        log.contains(&format!(
            "postgres://app:***@{NOWHERE}/orders?sslpassword=***"
        )),
        "{log}"
    );

    // libpq's key=value form is no URL: the error says so, without its password.
    let dsn = "host=127.0.0.1 port=1 password=s3cret-dsn dbname=orders";
    let (output, log) = run(dsn, &["migrate"]);
    assert!(!output.status.success(), "{log}");
    assert!(log.contains("is not a valid PostgreSQL URL"), "{log}");
    assert!(log.contains("password=***"), "{log}");
    assert!(
        !log.contains("s3cret-dsn") && !log.contains('\x1b'),
        "{log}"
    );
}

#[test]
fn shop_add_refuses_addresses_and_local_names_before_touching_the_database() {
    let url = format!("postgres://postgres@{NOWHERE}/orders");
    for (args, expected) in [
        (vec!["--domain", "169.254.169.254"], "--custom-domain"),
        (vec!["--domain", "localhost"], "--custom-domain"),
        (
            vec!["--domain", "169.254.169.254", "--custom-domain"],
            "is an IP address",
        ),
        (
            vec!["--domain", "localhost", "--custom-domain"],
            "single name",
        ),
        (
            vec!["--domain", "metadata.google.internal", "--custom-domain"],
            "local name",
        ),
        (vec!["--domain", "a.b.myshopify.com"], "one name before"),
    ] {
        let mut all = vec!["shop", "add", "--webhook-secret", "hush"];
        all.extend(&args);
        let (output, log) = run(&url, &all);
        assert!(!output.status.success(), "{args:?}: {log}");
        assert!(log.contains(expected), "{args:?}: {log}");
        assert!(
            !log.contains("database"),
            "{args:?}: refused before the database: {log}"
        );
    }
}
