//! The tally folder: the order tallies' changes are folded into the tallies every [`FOLD_EVERY`],
//! so that the tab counts stay a sum of few rows however many writes arrive (they are exact
//! either way). A failure is logged once per outage, not every second.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::live::Live;
use crate::service::Database;

/// How often the order tallies' changes are folded into the tallies.
pub const FOLD_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Folds the order tallies every [`FOLD_EVERY`] until shutdown.
pub async fn fold_tallies_forever(database: Database, live: Live) {
    let failing = AtomicBool::new(false);
    super::every(&live, FOLD_EVERY, || async {
        match database.fold_tallies().await {
            Ok(_) => failing.store(false, Ordering::Relaxed),
            Err(e) => {
                if !failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "could not fold the order tallies");
                }
            }
        }
        true
    })
    .await;
}
