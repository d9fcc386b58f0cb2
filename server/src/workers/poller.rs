//! The Shopify poller (SPEC §7): a round every `SYNC_POLL_INTERVAL`, the first at start-up, until
//! shutdown. What a round and a tick do (the window, throttling, data gaps, the lease on a shop) is
//! [`crate::shopify::poller`]'s.

use std::sync::Arc;

use crate::service::{Database, Service};
use crate::settings::Settings;
use crate::shopify::poller::{round, ShopifyClient};

/// The poller worker: every `SYNC_POLL_INTERVAL` (the first round at start-up), a tick for each
/// shop with an access token that is due, one shop after the other, until shutdown. Not run when
/// the interval is `off`, or on the in-memory store. What a round does is
/// [`crate::shopify::poller::round`]'s.
pub async fn poll_forever(service: Service, database: Database, settings: Settings) {
    let Some(interval) = settings.poll_interval else {
        tracing::info!("SYNC_POLL_INTERVAL is off: this process does not poll Shopify");
        return;
    };
    let client = match ShopifyClient::new(&settings.shopify_api_base_url) {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the Shopify client; the poller does not run");
            return;
        }
    };
    let client = match crate::shopify::install::Installer::from_settings(&settings, &database) {
        Some(installer) => client.with_installer(Arc::new(installer)),
        None => client,
    };
    let next = chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::MAX);
    super::every(service.live(), interval, || {
        // The dashboard's data-gap banner says when the next round runs.
        service.poll_scheduled(chrono::Utc::now().checked_add_signed(next));
        round(&service, database.ingestion(), &client, interval)
    })
    .await;
    service.poll_scheduled(None);
}
