//! What this process remembers of the tokens table (issue 18): the owner of a token by its hash,
//! and whether a shop needs a token. Both are answers the table gives; the cache only spares the
//! round trip.
//!
//! Policy:
//! - **Trusted only while heard.** Every change to `api_tokens` (a token added, revoked or deleted
//!   with its shop) notifies `orders_sync_tokens` from a trigger in the same transaction
//!   (migration `20261210000001_token_changes.sql`). The listener clears the cache on each one.
//!   While the listener is not connected, nothing is kept or served from here: a notification
//!   missed then could leave a revoked token standing.
//! - **No answer from before a clear.** Each clear starts a new generation. An answer read from the
//!   table is kept only if no clear came while it was being read.
//! - **Bounded.** Each map keeps at most [`CAPACITY`] answers and starts afresh when full, so no
//!   stream of made-up tokens or shops can grow it. Unknown tokens are never kept.
//! - **`last_used_at` at most once a minute.** A hit older than [`TOUCH_EVERY`] since it was last
//!   written asks its caller to write it again.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use crate::store::postgres::trust::TokenOwner;

/// Answers each map keeps at most.
pub const CAPACITY: usize = 10_000;

/// How often a token's `last_used_at` is written, at most.
pub fn touch_every() -> Duration {
    Duration::minutes(1)
}

struct Owner {
    owner: TokenOwner,
    touched_at: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    listening: bool,
    generation: u64,
    owners: HashMap<[u8; 32], Owner>,
    requires: HashMap<String, bool>,
}

/// A hit of the owner cache.
pub struct OwnerHit {
    pub owner: TokenOwner,
    /// `last_used_at` is due to be written (the last write is a minute old).
    pub touch: bool,
}

/// The cache; see the module's policy.
#[derive(Default)]
pub struct TokenCache {
    state: Mutex<State>,
}

/// Where a read from the table began: what a later [`TokenCache::keep_owner`] or
/// [`TokenCache::keep_requires`] checks.
#[derive(Clone, Copy)]
pub struct Generation(Option<u64>);

impl TokenCache {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The listener is connected (`true`) or lost (`false`); either way the cache starts afresh.
    pub fn set_listening(&self, listening: bool) {
        let mut state = self.state();
        state.listening = listening;
        Self::clear(&mut state);
    }

    /// A change was announced: forget everything.
    pub fn forget(&self) {
        Self::clear(&mut self.state());
    }

    fn clear(state: &mut State) {
        state.generation += 1;
        state.owners.clear();
        state.requires.clear();
    }

    /// The generation a read from the table starts in (none while not listening).
    pub fn generation(&self) -> Generation {
        let state = self.state();
        Generation(state.listening.then_some(state.generation))
    }

    /// The kept owner of the token `sha256`, if any; marks it touched at `now` when it is due.
    pub fn owner(&self, sha256: &[u8; 32], now: DateTime<Utc>) -> Option<OwnerHit> {
        let mut state = self.state();
        if !state.listening {
            return None;
        }
        let kept = state.owners.get_mut(sha256)?;
        let touch = now - kept.touched_at >= touch_every();
        if touch {
            kept.touched_at = now;
        }
        Some(OwnerHit {
            owner: kept.owner.clone(),
            touch,
        })
    }

    /// Keeps `owner` for `sha256`, read from the table at `now` (which wrote `last_used_at` when due).
    pub fn keep_owner(
        &self,
        since: Generation,
        sha256: &[u8; 32],
        owner: &TokenOwner,
        now: DateTime<Utc>,
    ) {
        let mut state = self.state();
        if !Self::current(&state, since) {
            return;
        }
        if state.owners.len() >= CAPACITY {
            state.owners.clear();
        }
        state.owners.insert(
            *sha256,
            Owner {
                owner: owner.clone(),
                touched_at: now,
            },
        );
    }

    /// The kept answer to "does `shop` need a token", if any.
    pub fn requires(&self, shop: &str) -> Option<bool> {
        let state = self.state();
        if !state.listening {
            return None;
        }
        state.requires.get(shop).copied()
    }

    /// Keeps whether `shop` needs a token.
    pub fn keep_requires(&self, since: Generation, shop: &str, requires: bool) {
        let mut state = self.state();
        if !Self::current(&state, since) {
            return;
        }
        if state.requires.len() >= CAPACITY {
            state.requires.clear();
        }
        state.requires.insert(shop.to_owned(), requires);
    }

    fn current(state: &State, since: Generation) -> bool {
        state.listening && since.0 == Some(state.generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(id: i64) -> TokenOwner {
        TokenOwner {
            id,
            shop: "a.myshopify.com".into(),
        }
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    #[test]
    fn nothing_is_kept_or_served_while_not_listening() {
        let cache = TokenCache::default();
        let since = cache.generation();
        cache.keep_owner(since, &[1; 32], &owner(1), at(0));
        cache.keep_requires(since, "a", true);
        assert!(cache.owner(&[1; 32], at(0)).is_none());
        assert_eq!(cache.requires("a"), None);

        cache.set_listening(true);
        let since = cache.generation();
        cache.keep_owner(since, &[1; 32], &owner(1), at(0));
        cache.keep_requires(since, "a", false);
        assert_eq!(cache.owner(&[1; 32], at(0)).unwrap().owner, owner(1));
        assert_eq!(cache.requires("a"), Some(false));

        // Losing the listener forgets, and serves nothing even once it is kept again.
        cache.set_listening(false);
        assert!(cache.owner(&[1; 32], at(0)).is_none());
        assert_eq!(cache.requires("a"), None);
    }

    #[test]
    fn an_answer_read_across_a_notification_is_not_kept() {
        let cache = TokenCache::default();
        cache.set_listening(true);
        let since = cache.generation();
        cache.forget(); // a revocation announced while the table was being read
        cache.keep_owner(since, &[1; 32], &owner(1), at(0));
        cache.keep_requires(since, "a", false);
        assert!(cache.owner(&[1; 32], at(0)).is_none());
        assert_eq!(cache.requires("a"), None);
    }

    #[test]
    fn a_notification_forgets_everything() {
        let cache = TokenCache::default();
        cache.set_listening(true);
        let since = cache.generation();
        cache.keep_owner(since, &[1; 32], &owner(1), at(0));
        cache.keep_requires(since, "a", false);
        cache.forget();
        assert!(cache.owner(&[1; 32], at(0)).is_none());
        assert_eq!(cache.requires("a"), None);
    }

    #[test]
    fn last_used_is_due_once_a_minute() {
        let cache = TokenCache::default();
        cache.set_listening(true);
        cache.keep_owner(cache.generation(), &[1; 32], &owner(1), at(0));
        assert!(!cache.owner(&[1; 32], at(0)).unwrap().touch);
        let half = at(0) + Duration::seconds(59);
        assert!(!cache.owner(&[1; 32], half).unwrap().touch);
        assert!(cache.owner(&[1; 32], at(1)).unwrap().touch);
        // Touched at minute 1: not due again until minute 2.
        assert!(
            !cache
                .owner(&[1; 32], at(1) + Duration::seconds(30))
                .unwrap()
                .touch
        );
        assert!(cache.owner(&[1; 32], at(2)).unwrap().touch);
    }

    #[test]
    fn each_map_is_bounded() {
        let cache = TokenCache::default();
        cache.set_listening(true);
        let since = cache.generation();
        for i in 0..CAPACITY + 5 {
            cache.keep_requires(since, &format!("shop-{i}"), false);
            let mut hash = [0u8; 32];
            hash[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.keep_owner(since, &hash, &owner(i as i64), at(0));
        }
        let state = cache.state();
        assert!(state.requires.len() <= CAPACITY);
        assert!(state.owners.len() <= CAPACITY);
        assert!(state
            .requires
            .contains_key(&format!("shop-{}", CAPACITY + 4)));
    }
}
