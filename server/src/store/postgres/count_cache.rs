//! The count cache (issue 18): each process keeps the tab counts it computed, per shop, filters and
//! thresholds, so that a page of an unchanged shop reads its rows but not its counts again; and,
//! per tab, the rows of each day that place a deep page (`counts::locate_offset`).
//!
//! Policy:
//! - **Exact, never stale.** An entry holds the shop's change counter (`shop_changes`, bumped by
//!   every transaction that changes what the counts read, migration
//!   `20261210000002_shop_changes.sql`) as the snapshot that computed it saw it. A page reads the
//!   counter in its own snapshot, and an entry serves it only for the same value: its counts are
//!   then the counts of that snapshot, and they agree with its rows.
//! - **Time moves orders too.** An entry also holds the instants it is right between: from the
//!   `now` it was computed at, until the first instant a time rule (`tracking_pending`, `delayed`)
//!   moves one of the shop's orders between tabs, read from the data when the entry is made
//!   ([`super::counts::stable_until`]).
//! - **Bounded.** Least recently used entries go first once the entries' bytes pass the budget.
//! - **Only what is worth it.** Unknown shops and searches are never kept (the caller never offers
//!   them): the first has nothing to count, and the second is too varied to be asked twice.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate, Utc};
use orders_core::query::OrderFilter;
use orders_core::{Tab, TabCounts, Thresholds};

/// The bytes the entries of one process may take, unless told otherwise.
pub const DEFAULT_BUDGET: usize = 16 << 20;

/// What an entry's counts are the counts of: a shop, its filters (the search aside) and the
/// thresholds of the time rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct CountKey {
    shop_id: i64,
    thresholds: (i64, i64),
    filter: String,
    /// `None` for the six counts; a tab for its rows per day.
    days_of: Option<Tab>,
}

impl CountKey {
    /// The key of `filter`'s counts in shop `shop_id`; `None` for a search, which is never kept.
    pub(super) fn new(shop_id: i64, filter: &OrderFilter, th: &Thresholds) -> Option<CountKey> {
        if filter.search.is_some() {
            return None;
        }
        Some(CountKey {
            shop_id,
            thresholds: (
                th.tracking_pending_after
                    .num_microseconds()
                    .unwrap_or(i64::MAX),
                th.delayed_after.num_microseconds().unwrap_or(i64::MAX),
            ),
            filter: serde_json::to_string(filter).ok()?,
            days_of: None,
        })
    }

    /// The key of `tab`'s rows per day under the same shop, filters and thresholds.
    pub(super) fn days_of(&self, tab: Tab) -> CountKey {
        CountKey {
            days_of: Some(tab),
            ..self.clone()
        }
    }

    /// What the key takes, roughly: twice (the map and the recency order), with the maps' own
    /// overhead.
    fn bytes(&self) -> usize {
        2 * (std::mem::size_of::<CountKey>() + self.filter.len()) + 64
    }
}

/// What an entry keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Kept {
    /// The six counts.
    Counts(TabCounts),
    /// A tab's rows on each day the tallies count exactly, newest day first.
    Days(Arc<[(NaiveDate, i64)]>),
}

impl Kept {
    fn bytes(&self) -> usize {
        match self {
            Kept::Counts(_) => 0,
            Kept::Days(days) => std::mem::size_of_val::<[(NaiveDate, i64)]>(days),
        }
    }
}

/// What one snapshot computed, and when it holds.
#[derive(Debug, Clone)]
pub(super) struct Counted {
    /// The shop's change counter in that snapshot.
    pub changes: i64,
    /// The `now` it was computed at.
    pub from: DateTime<Utc>,
    /// The first instant a time rule moves an order between tabs, after `from`.
    pub until: DateTime<Utc>,
    pub kept: Kept,
}

#[derive(Debug)]
struct Entry {
    counted: Counted,
    used: u64,
    bytes: usize,
}

#[derive(Debug, Default)]
struct Lru {
    entries: HashMap<CountKey, Entry>,
    /// The keys by when they were last used, oldest first.
    recency: BTreeMap<u64, CountKey>,
    clock: u64,
    bytes: usize,
}

/// The cache of one process; see the module's policy.
#[derive(Debug)]
pub struct CountCache {
    budget: usize,
    lru: Mutex<Lru>,
}

impl Default for CountCache {
    fn default() -> Self {
        CountCache::new(DEFAULT_BUDGET)
    }
}

impl CountCache {
    /// A cache whose entries take at most `budget` bytes (0 keeps nothing).
    pub fn new(budget: usize) -> Self {
        CountCache {
            budget,
            lru: Mutex::default(),
        }
    }

    fn lru(&self) -> std::sync::MutexGuard<'_, Lru> {
        self.lru.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// What is kept for `key` that holds for a snapshot with `changes` at `now`.
    pub(super) fn get(&self, key: &CountKey, changes: i64, now: DateTime<Utc>) -> Option<Kept> {
        let mut lru = self.lru();
        let lru = &mut *lru;
        let entry = lru.entries.get_mut(key)?;
        let c = &entry.counted;
        if c.changes != changes || now < c.from || now >= c.until {
            return None;
        }
        let kept = c.kept.clone();
        lru.clock += 1;
        lru.recency.remove(&entry.used);
        entry.used = lru.clock;
        lru.recency.insert(lru.clock, key.clone());
        Some(kept)
    }

    /// The counts kept for `key` (see [`CountCache::get`]).
    pub(super) fn counts(
        &self,
        key: &CountKey,
        changes: i64,
        now: DateTime<Utc>,
    ) -> Option<TabCounts> {
        match self.get(key, changes, now)? {
            Kept::Counts(counts) => Some(counts),
            Kept::Days(_) => None,
        }
    }

    /// The rows per day kept for `key` (see [`CountCache::get`]).
    pub(super) fn days(
        &self,
        key: &CountKey,
        changes: i64,
        now: DateTime<Utc>,
    ) -> Option<Arc<[(NaiveDate, i64)]>> {
        match self.get(key, changes, now)? {
            Kept::Days(days) => Some(days),
            Kept::Counts(_) => None,
        }
    }

    /// Keeps `counted` for `key`, unless a newer snapshot's is kept already; then drops the least
    /// recently used entries until the budget holds.
    pub(super) fn keep(&self, key: CountKey, counted: Counted) {
        let bytes = key.bytes() + std::mem::size_of::<Entry>() + counted.kept.bytes();
        if bytes > self.budget {
            return;
        }
        let mut lru = self.lru();
        let lru = &mut *lru;
        if let Some(old) = lru.entries.get(&key) {
            if old.counted.changes > counted.changes {
                return;
            }
            let (used, old_bytes) = (old.used, old.bytes);
            lru.recency.remove(&used);
            lru.entries.remove(&key);
            lru.bytes -= old_bytes;
        }
        lru.clock += 1;
        lru.recency.insert(lru.clock, key.clone());
        lru.entries.insert(
            key,
            Entry {
                counted,
                used: lru.clock,
                bytes,
            },
        );
        lru.bytes += bytes;
        while lru.bytes > self.budget {
            let Some((_, oldest)) = lru.recency.pop_first() else {
                break;
            };
            if let Some(gone) = lru.entries.remove(&oldest) {
                lru.bytes -= gone.bytes;
            }
        }
    }

    /// The entries kept and the bytes they take.
    pub fn size(&self) -> (usize, usize) {
        let lru = self.lru();
        (lru.entries.len(), lru.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use orders_core::query::AssigneeFilter;

    fn th() -> Thresholds {
        Thresholds {
            tracking_pending_after: Duration::hours(2),
            delayed_after: Duration::hours(24),
        }
    }

    fn key(shop_id: i64, person: &str) -> CountKey {
        let filter = OrderFilter {
            assigned_to: Some(AssigneeFilter::Person(person.into())),
            ..OrderFilter::default()
        };
        CountKey::new(shop_id, &filter, &th()).unwrap()
    }

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    fn counted(changes: i64, all: u64) -> Counted {
        Counted {
            changes,
            from: at(0),
            until: at(10),
            kept: Kept::Counts(TabCounts {
                all,
                ..TabCounts::default()
            }),
        }
    }

    /// What one entry of `key` with kept counts takes.
    fn one(key: &CountKey) -> usize {
        key.bytes() + std::mem::size_of::<Entry>()
    }

    #[test]
    fn an_entry_serves_only_its_changes_and_its_instants() {
        let cache = CountCache::default();
        let k = key(1, "ana");
        cache.keep(k.clone(), counted(7, 40));
        assert_eq!(cache.counts(&k, 7, at(0)).unwrap().all, 40);
        assert_eq!(cache.counts(&k, 7, at(9)).unwrap().all, 40);
        assert!(
            cache.counts(&k, 8, at(1)).is_none(),
            "the shop changed since"
        );
        assert!(
            cache.counts(&k, 7, at(10)).is_none(),
            "a time rule moved an order"
        );
        assert!(
            cache.counts(&k, 7, at(-1)).is_none(),
            "before it was computed"
        );
        assert!(
            cache.counts(&key(2, "ana"), 7, at(1)).is_none(),
            "another shop"
        );
        assert!(
            cache.counts(&key(1, "bo"), 7, at(1)).is_none(),
            "other filters"
        );
    }

    #[test]
    fn a_tabs_days_are_kept_apart_from_the_counts_and_weigh_what_they_hold() {
        let cache = CountCache::default();
        let k = key(1, "ana");
        let day = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let days: Arc<[(NaiveDate, i64)]> = vec![(day, 3); 100].into();
        cache.keep(k.clone(), counted(7, 40));
        cache.keep(
            k.days_of(Tab::All),
            Counted {
                kept: Kept::Days(days.clone()),
                ..counted(7, 0)
            },
        );
        assert_eq!(cache.counts(&k, 7, at(1)).unwrap().all, 40);
        assert!(cache.days(&k, 7, at(1)).is_none());
        assert_eq!(cache.days(&k.days_of(Tab::All), 7, at(1)).unwrap(), days);
        assert!(cache.days(&k.days_of(Tab::Returns), 7, at(1)).is_none());
        let (entries, bytes) = cache.size();
        assert_eq!(entries, 2);
        assert_eq!(bytes, one(&k) + one(&k.days_of(Tab::All)) + 100 * 16);
    }

    #[test]
    fn searches_are_never_keyed() {
        let filter = OrderFilter {
            search: orders_core::search::Search::parse("santos").ok(),
            ..OrderFilter::default()
        };
        assert!(filter.search.is_some());
        assert!(CountKey::new(1, &filter, &th()).is_none());
    }

    #[test]
    fn an_older_snapshot_does_not_replace_a_newer_one() {
        let cache = CountCache::default();
        let k = key(1, "ana");
        cache.keep(k.clone(), counted(8, 41));
        cache.keep(k.clone(), counted(7, 40));
        assert_eq!(cache.counts(&k, 8, at(1)).unwrap().all, 41);
        cache.keep(k.clone(), counted(9, 42));
        assert_eq!(cache.counts(&k, 9, at(1)).unwrap().all, 42);
        assert_eq!(cache.size().0, 1);
    }

    #[test]
    fn the_least_recently_used_go_first_within_the_budget() {
        let one = one(&key(1, "ana"));
        let cache = CountCache::new(3 * one);
        for shop in 1..=3 {
            cache.keep(key(shop, "ana"), counted(1, shop as u64));
        }
        assert_eq!(cache.size(), (3, 3 * one));
        // Shop 1 is used, so shop 2 is the least recent when shop 4 comes.
        assert!(cache.counts(&key(1, "ana"), 1, at(1)).is_some());
        cache.keep(key(4, "ana"), counted(1, 4));
        assert_eq!(cache.size(), (3, 3 * one));
        assert!(cache.counts(&key(2, "ana"), 1, at(1)).is_none());
        for shop in [1, 3, 4] {
            assert!(
                cache.counts(&key(shop, "ana"), 1, at(1)).is_some(),
                "{shop}"
            );
        }
        assert_eq!(CountCache::new(0).size(), (0, 0));
        let none = CountCache::new(0);
        none.keep(key(1, "ana"), counted(1, 1));
        assert_eq!(none.size(), (0, 0));
    }
}
