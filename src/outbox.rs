//! The transactional outbox as others see it (SPEC §7): the query and answer of `GET /sync/outbox`,
//! the counts a dashboard shows, and the request a receiver gets for each event.
//!
//! An event is `pending` until a receiver accepted it (`delivered`) or the worker gave up on it
//! (`dead`); a dead event is kept, never deleted, until an operator retries it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::OutboxState;
use crate::query::{parse_shop_domain, QueryError};

/// The most events one answer of `GET /sync/outbox` holds (the newest).
pub const OUTBOX_LIST_LIMIT: usize = 100;

impl OutboxState {
    /// The state of an event from its timestamps: delivery wins over death (a late success is a
    /// success), and an event with neither is still pending.
    pub fn of(delivered_at: Option<DateTime<Utc>>, dead_at: Option<DateTime<Utc>>) -> Self {
        match (delivered_at, dead_at) {
            (Some(_), _) => OutboxState::Delivered,
            (None, Some(_)) => OutboxState::Dead,
            (None, None) => OutboxState::Pending,
        }
    }
}

/// One event as `GET /sync/outbox` lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub id: i64,
    pub topic: String,
    pub order_id: String,
    /// Deliveries tried so far (including one in flight).
    pub attempts: u32,
    pub state: OutboxState,
    /// When the worker may try it next; `null` once it is delivered or dead.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub next_attempt_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub delivered_at: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub dead_at: Option<DateTime<Utc>>,
    /// Why the last failed attempt failed, in a sentence; `null` once delivered.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// How many of a shop's events are in each state.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxCounts {
    pub pending: u64,
    pub delivered: u64,
    pub dead: u64,
}

impl OutboxCounts {
    /// Counts one more event in `state`.
    pub fn add(&mut self, state: OutboxState) {
        match state {
            OutboxState::Pending => self.pending += 1,
            OutboxState::Delivered => self.delivered += 1,
            OutboxState::Dead => self.dead += 1,
        }
    }

    /// The events in `state`.
    pub fn get(&self, state: OutboxState) -> u64 {
        match state {
            OutboxState::Pending => self.pending,
            OutboxState::Delivered => self.delivered,
            OutboxState::Dead => self.dead,
        }
    }
}

/// The answer of `GET /sync/outbox`: the newest events (of one state, when asked), and the counts of
/// every state.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxList {
    pub events: Vec<OutboxEntry>,
    pub counts: OutboxCounts,
}

/// A validated query of `GET /sync/outbox`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxQuery {
    pub shop_domain: String,
    /// Only events in this state; every state when `None`.
    pub state: Option<OutboxState>,
}

impl OutboxQuery {
    /// Reads `shop_domain` (required) and `state` (`pending`, `delivered` or `dead`). As on
    /// `GET /sync/orders`, an empty value counts as not given and unknown parameters are ignored.
    pub fn parse<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, QueryError> {
        let mut shop = None;
        let mut state = None;
        for (k, v) in pairs {
            let v = v.as_ref().trim();
            if v.is_empty() {
                continue;
            }
            match k.as_ref() {
                "shop_domain" if shop.is_none() => shop = Some(v.to_owned()),
                "state" if state.is_none() => state = Some(v.to_owned()),
                _ => {}
            }
        }
        let shop = shop.ok_or_else(|| QueryError {
            param: "shop_domain",
            message: "shop_domain is required, e.g. acme.myshopify.com".into(),
        })?;
        let shop_domain = parse_shop_domain(&shop).map_err(|message| QueryError {
            param: "shop_domain",
            message,
        })?;
        let state = state
            .map(|s| s.to_ascii_lowercase().parse::<OutboxState>())
            .transpose()
            .map_err(|e| QueryError {
                param: "state",
                message: e.to_string(),
            })?;
        Ok(OutboxQuery { shop_domain, state })
    }
}

/// The JSON body a receiver gets for one event (`POST`), with the headers named below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxDelivery {
    /// The event's id: the same on every redelivery.
    pub id: i64,
    pub topic: String,
    /// The shop's domain.
    pub shop: String,
    pub order_id: String,
    /// What the write queued, as written (see `effects`).
    pub payload: serde_json::Value,
    /// When the write that queued it committed.
    pub created_at: DateTime<Utc>,
}

/// The header that carries [`event_key`] as an idempotency key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "Idempotency-Key";
/// The header that carries [`event_key`] as the event's id.
pub const EVENT_ID_HEADER: &str = "X-Sync-Event-Id";
/// The header that carries the event's topic.
pub const TOPIC_HEADER: &str = "X-Sync-Topic";

/// The key a receiver dedupes redeliveries by: `<shop>:<outbox id>`, the same on every attempt,
/// different for every event.
pub fn event_key(shop: &str, id: i64) -> String {
    format!("{shop}:{id}")
}

impl OutboxDelivery {
    /// This event's [`event_key`].
    pub fn key(&self) -> String {
        event_key(&self.shop, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_pending_until_delivered_or_dead_and_delivery_wins() {
        let t: DateTime<Utc> = "2025-09-27T12:00:00Z".parse().unwrap();
        assert_eq!(OutboxState::of(None, None), OutboxState::Pending);
        assert_eq!(OutboxState::of(Some(t), None), OutboxState::Delivered);
        assert_eq!(OutboxState::of(None, Some(t)), OutboxState::Dead);
        assert_eq!(OutboxState::of(Some(t), Some(t)), OutboxState::Delivered);
    }

    #[test]
    fn the_query_needs_a_shop_and_reads_one_state() {
        let q =
            OutboxQuery::parse([("shop_domain", "Acme.myshopify.com"), ("state", "dead")]).unwrap();
        assert_eq!(q.shop_domain, "acme.myshopify.com");
        assert_eq!(q.state, Some(OutboxState::Dead));
        let q = OutboxQuery::parse([("shop_domain", "acme.myshopify.com"), ("state", "")]).unwrap();
        assert_eq!(q.state, None);
        assert_eq!(
            OutboxQuery::parse([("state", "dead")]).unwrap_err().param,
            "shop_domain"
        );
        let e = OutboxQuery::parse([("shop_domain", "acme.myshopify.com"), ("state", "lost")])
            .unwrap_err();
        assert_eq!(e.param, "state");
        assert!(e.to_string().contains("pending, delivered, dead"), "{e}");
        assert_eq!(
            OutboxQuery::parse([("shop_domain", "not a shop")])
                .unwrap_err()
                .param,
            "shop_domain"
        );
    }

    #[test]
    fn the_event_key_names_the_shop_and_the_event() {
        assert_eq!(event_key("acme.myshopify.com", 42), "acme.myshopify.com:42");
    }

    #[test]
    fn the_list_is_written_in_camel_case() {
        let t: DateTime<Utc> = "2025-09-27T12:00:00Z".parse().unwrap();
        let entry = OutboxEntry {
            id: 7,
            topic: "erp.return".into(),
            order_id: "gid://shopify/Order/1".into(),
            attempts: 2,
            state: OutboxState::Dead,
            next_attempt_at: None,
            delivered_at: None,
            dead_at: Some(t),
            last_error: Some("HTTP 500".into()),
            created_at: t,
        };
        let json = serde_json::to_value(&entry).unwrap();
        for key in [
            "id",
            "topic",
            "orderId",
            "attempts",
            "state",
            "nextAttemptAt",
            "deliveredAt",
            "deadAt",
            "lastError",
            "createdAt",
        ] {
            assert!(json.get(key).is_some(), "{key} missing from {json}");
        }
        assert_eq!(json["state"], "dead");
    }
}
