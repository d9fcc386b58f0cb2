//! The listener (SPEC §6, PostgreSQL only): follows the database's alert and refresh
//! notifications, so that every process passes on the changes any process made. A notification
//! names the shop only; what changed is read from the table from this process's mark
//! ([`crate::live`]'s catch-up), so a missed or merged notification loses nothing. After a lost
//! connection it reconnects with backoff and catches every listened shop up from the table.
//!
//! It also follows the token notifications: each clears this process's token cache, which is
//! trusted only while this connection is up (`service/tokens/cache.rs`).

use std::collections::HashMap;
use std::time::Duration;

use orders_core::alerts::Refresh;

use crate::live::{catch_up, LiveEvent};
use crate::service::{AlertFeed, Service};

/// Follows `orders_sync_alerts` and `orders_sync_refresh` for this process (PostgreSQL only),
/// reconnecting with backoff and catching every listened shop up from the table after a gap.
pub async fn listen_forever(service: Service, feed: AlertFeed) {
    use crate::store::postgres::alerts::ALERTS_CHANNEL;
    use crate::store::postgres::trust::TOKENS_CHANNEL;
    use orders_core::alerts::RefreshReason;

    let tokens = service.database().map(|d| d.tokens().clone());
    let set_listening = |listening: bool| {
        if let Some(tokens) = &tokens {
            tokens.cache().set_listening(listening);
        }
    };

    let closed = service.live().closed();
    tokio::pin!(closed);
    let mut domains: HashMap<i64, String> = HashMap::new();
    let mut backoff = Duration::from_millis(250);
    loop {
        let connect = feed.listen();
        let mut listener = tokio::select! {
            _ = &mut closed => return,
            connected = connect => match connected {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for alert changes; retrying");
                    tokio::select! {
                        _ = &mut closed => return,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    continue;
                }
            },
        };
        backoff = Duration::from_millis(250);
        set_listening(true);
        // Whatever was announced while this process was not listening is in the table.
        for (shop, _) in service.live().marks() {
            catch_up(&service, &feed, &shop).await;
        }
        loop {
            let received = tokio::select! {
                _ = &mut closed => return,
                received = listener.try_recv() => received,
            };
            let notification = match received {
                Ok(Some(n)) => n,
                Ok(None) => {
                    // The connection dropped: connect again (which catches up).
                    tracing::warn!("the listener's connection dropped; reconnecting");
                    set_listening(false);
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "lost the alert listener; reconnecting");
                    set_listening(false);
                    break;
                }
            };
            if notification.channel() == TOKENS_CHANNEL {
                if let Some(tokens) = &tokens {
                    tokens.cache().forget();
                }
                continue;
            }
            let mut words = notification.payload().split(' ');
            let Some(shop_id) = words.next().and_then(|w| w.parse::<i64>().ok()) else {
                continue;
            };
            let shop = match domains.get(&shop_id) {
                Some(shop) => shop.clone(),
                None => match feed.shop_domain(shop_id).await {
                    Ok(Some(shop)) => {
                        domains.insert(shop_id, shop.clone());
                        shop
                    }
                    _ => continue,
                },
            };
            if notification.channel() == ALERTS_CHANNEL {
                catch_up(&service, &feed, &shop).await;
            } else if let (Some(reason), Some(at)) = (
                words.next().and_then(RefreshReason::parse),
                words
                    .next()
                    .and_then(|w| w.parse::<i64>().ok())
                    .and_then(chrono::DateTime::from_timestamp_micros),
            ) {
                // The change had committed by this position: the reload the ping asks for must
                // be read where it has (a replica that has replayed that far, or the primary).
                if let Some(position) = words.next().and_then(|w| w.parse().ok()) {
                    service.heard_change(&shop, position);
                }
                service.live().publish(
                    &shop,
                    vec![LiveEvent::Refresh(Refresh { reason, at })],
                    None,
                );
            }
        }
    }
}
