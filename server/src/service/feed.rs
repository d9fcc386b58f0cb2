//! The database's alert, refresh and token notifications as a service (SPEC §6): the listener's
//! connection, the shop a notification names, and what changed since a process's mark.

use sqlx::postgres::PgListener;

use crate::store::postgres::alerts::{ALERTS_CHANNEL, REFRESH_CHANNEL};
use crate::store::postgres::trust::TOKENS_CHANNEL;
use crate::store::{AlertChanges, AlertMark, PgStore, StoreError};

/// The alert feed over PostgreSQL; cheap to clone.
#[derive(Clone)]
pub struct AlertFeed {
    pg: PgStore,
}

impl AlertFeed {
    pub fn new(pg: PgStore) -> Self {
        AlertFeed { pg }
    }

    /// A connection listening on the alert, refresh and token channels.
    pub async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(self.pg.pool()).await?;
        listener
            .listen_all([ALERTS_CHANNEL, REFRESH_CHANNEL, TOKENS_CHANNEL])
            .await?;
        Ok(listener)
    }

    /// The domain of the shop with this id.
    pub async fn shop_domain(&self, shop_id: i64) -> Result<Option<String>, StoreError> {
        self.pg.shop_domain(shop_id).await
    }

    /// What changed in `shop`'s alerts since `mark`, and the mark after it.
    pub async fn alerts_since_mark(
        &self,
        shop: &str,
        mark: AlertMark,
    ) -> Result<(AlertChanges, AlertMark), StoreError> {
        self.pg.alerts_since_mark(shop, mark).await
    }
}
