//! `orders-sync shop add` and `shop list` (SPEC §9): the shops registered by hand (custom apps),
//! with their webhook secret and, for polling, their Admin API access token.
//!
//! # Policy
//!
//! The poller and the backfill send a shop's access token to the shop's domain
//! (`SHOPIFY_API_BASE_URL`'s `{shop}`), so the domain decides where the token goes.
//! [`registrable_domain`] accepts Shopify's own domains, `<name>.myshopify.com`, and nothing else
//! unless `--custom-domain` is given (a development store behind a proxy, a fake). Even then a
//! name that can only point inside a network is refused: an IP address in any notation, a single
//! name (`localhost`, `metadata`), and the names reserved for local use (`*.localhost`, `*.local`,
//! `*.internal`, …), so that a token cannot be aimed at this machine, the cloud's metadata
//! service (`169.254.169.254`) or another internal host. What a public name resolves to is not
//! checked here: DNS can change after the shop is added.

use std::io::Write;

use anyhow::{Context, Result};
use clap::Subcommand;
use orders_core::query::parse_shop_domain;
use orders_core::record::to_micros;

use crate::settings::Settings;
use crate::startup::open_database;
use crate::store::ShopRegistration;

#[derive(Debug, Subcommand)]
pub enum ShopCommand {
    /// Register a shop, or update its secrets (the previous webhook secret stays valid for one hour).
    Add {
        /// The shop, e.g. acme.myshopify.com.
        #[arg(long)]
        domain: String,
        /// Accept a domain other than <name>.myshopify.com (a development store behind a proxy).
        /// IP addresses and local names (localhost, *.local, *.internal, …) are refused still.
        #[arg(long)]
        custom_domain: bool,
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

/// Shopify's shop domains end with this, after one name.
pub const SHOPIFY_SUFFIX: &str = ".myshopify.com";

/// Top-level names that never point outside a network: RFC 6761's special-use names, mDNS'
/// `local`, RFC 8375's `home.arpa` (and the rest of `arpa`), and the usual private ones.
const LOCAL_NAMES: &[&str] = &[
    "localhost",
    "local",
    "localdomain",
    "internal",
    "intranet",
    "lan",
    "home",
    "corp",
    "arpa",
    "test",
    "invalid",
    "example",
];

/// The domain `shop add` registers for `raw`, in lower case (see the module's policy).
pub fn registrable_domain(raw: &str, custom_domain: bool) -> Result<String, String> {
    let domain = parse_shop_domain(raw)?;
    let shopify = domain.strip_suffix(SHOPIFY_SUFFIX).or_else(|| {
        // Shopify's own domain, without a shop's name.
        (domain == SHOPIFY_SUFFIX[1..]).then_some("")
    });
    if let Some(name) = shopify {
        return if !name.is_empty() && !name.contains('.') {
            Ok(domain)
        } else {
            Err(format!(
                "'{domain}' is not a shop's domain: Shopify's are one name before \
                 {SHOPIFY_SUFFIX}, like acme{SHOPIFY_SUFFIX}"
            ))
        };
    }
    if !custom_domain {
        return Err(format!(
            "'{domain}' is not a <name>{SHOPIFY_SUFFIX} domain; the shop's access token is sent \
             to its domain, so only Shopify's are accepted (pass --custom-domain for a shop \
             served elsewhere)"
        ));
    }
    let Some((_, top)) = domain.rsplit_once('.') else {
        return Err(format!(
            "'{domain}' is a single name, which only resolves inside a network; give the shop's \
             full domain"
        ));
    };
    // Every notation of an IPv4 address ends in a number (decimal, octal or 0x…); no top-level
    // name starts with a digit. IPv6 addresses do not get past `parse_shop_domain` (`:`).
    if top.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "'{domain}' is an IP address; a shop is registered by its domain name, and an \
             address could point the access token at this machine or the local network"
        ));
    }
    if LOCAL_NAMES.contains(&top) || domain.ends_with(".home.arpa") {
        return Err(format!(
            "'{domain}' is a local name (.{top}), which only resolves inside a network; give the \
             shop's public domain"
        ));
    }
    Ok(domain)
}

/// Runs `shop add` or `shop list`, printing to stdout.
pub async fn run(settings: Settings, cmd: ShopCommand) -> Result<()> {
    let mut out = std::io::stdout();
    match cmd {
        ShopCommand::Add {
            domain,
            custom_domain,
            webhook_secret,
            access_token,
        } => {
            // Checked before the database is opened: a refused domain touches nothing.
            let domain = registrable_domain(&domain, custom_domain)
                .map_err(anyhow::Error::msg)
                .context("--domain")?;
            anyhow::ensure!(
                !webhook_secret.trim().is_empty(),
                "--webhook-secret must not be empty"
            );
            let database = open_database(&settings).await?;
            let store = database.shops();
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
            let database = open_database(&settings).await?;
            for shop in database.shops().shop_summaries().await? {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_domains_are_accepted_in_lower_case() {
        assert_eq!(
            registrable_domain(" Acme.MyShopify.com ", false).as_deref(),
            Ok("acme.myshopify.com")
        );
        assert_eq!(
            registrable_domain("acme-2.myshopify.com", true).as_deref(),
            Ok("acme-2.myshopify.com")
        );
    }

    #[test]
    fn a_shopify_domain_is_one_name_before_the_suffix() {
        for raw in [
            "myshopify.com",
            "a.b.myshopify.com",
            "169.254.169.254.myshopify.com",
        ] {
            let e = registrable_domain(raw, true).unwrap_err();
            assert!(e.contains("one name before"), "{raw}: {e}");
        }
    }

    #[test]
    fn any_other_domain_needs_the_custom_domain_flag() {
        for raw in [
            "shop.example.com",
            "localhost",
            "169.254.169.254",
            "acme.myshopify.com.evil.example",
        ] {
            let e = registrable_domain(raw, false).unwrap_err();
            assert!(e.contains("--custom-domain"), "{raw}: {e}");
        }
        assert_eq!(
            registrable_domain("Shop.Example.com", true).as_deref(),
            Ok("shop.example.com")
        );
        assert_eq!(
            registrable_domain("orders.acme-store.co.uk", true).as_deref(),
            Ok("orders.acme-store.co.uk")
        );
    }

    #[test]
    fn ip_addresses_in_any_notation_are_refused_even_as_custom_domains() {
        for raw in [
            "169.254.169.254",
            "127.0.0.1",
            "10.0.0.8",
            "192.168.1.1",
            "0.0.0.0",
            "127.1",
            "0x7f.0.0.1",
            "0177.0.0.01",
            "1.2.3.0x4",
        ] {
            let e = registrable_domain(raw, true).unwrap_err();
            assert!(e.contains("IP address"), "{raw}: {e}");
        }
        // IPv6 (loopback, link-local fe80::/10, unspecified) never reads as a domain.
        for raw in ["::1", "[::1]", "fe80::1", "::", "[fe80::1%25eth0]"] {
            assert!(registrable_domain(raw, true).is_err(), "{raw}");
        }
    }

    #[test]
    fn local_names_are_refused_even_as_custom_domains() {
        for raw in ["localhost", "metadata", "2130706433", "0x7f000001"] {
            let e = registrable_domain(raw, true).unwrap_err();
            assert!(e.contains("single name"), "{raw}: {e}");
        }
        for raw in [
            "shop.localhost",
            "printer.local",
            "localhost.localdomain",
            "metadata.google.internal",
            "nas.home.arpa",
            "1.0.0.127.in-addr.arpa",
            "box.lan",
            "shop.test",
        ] {
            let e = registrable_domain(raw, true).unwrap_err();
            assert!(e.contains("local name"), "{raw}: {e}");
        }
    }
}
