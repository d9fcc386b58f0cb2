//! The two pictures of the dashboard, as numbers: how many orders of the current view sit in each
//! return state (the returns funnel), and how many were placed on each of the last days (the
//! orders-per-day sparkline). Both count the orders of the current view: its tab and its filters.
//! The days are the shop's local days: the caller says which day an order was placed on and which
//! day is today (the server reads them through the shop's clock, `locale::ShopClock`), so this
//! module needs no time zone database.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::domain::ReturnState;

/// How many days the sparkline covers, ending today (the shop's today).
pub const SPARKLINE_DAYS: usize = 30;

/// The returns funnel and the orders-per-day series of one view.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStats {
    /// One entry per return state, in [`ReturnState::ALL`] order, zeros included.
    pub returns_by_state: Vec<(ReturnState, u64)>,
    /// One entry per local day of the shop, oldest first, the last being today;
    /// [`SPARKLINE_DAYS`] entries, zeros included.
    pub per_day: Vec<(NaiveDate, u64)>,
}

impl OrderStats {
    /// The stats from the return state of each order that has a return, and the local day each
    /// order of the view was placed on; days outside the sparkline's window (ending `today`) are
    /// not counted.
    pub fn tally(
        returns: impl IntoIterator<Item = ReturnState>,
        created: impl IntoIterator<Item = NaiveDate>,
        today: NaiveDate,
    ) -> Self {
        let mut by_state = [0u64; 8];
        for state in returns {
            if let Some(i) = ReturnState::ALL.iter().position(|s| *s == state) {
                by_state[i] += 1;
            }
        }
        let days = sparkline_days(today);
        let first = days[0];
        let mut per_day = vec![0u64; SPARKLINE_DAYS];
        for day in created {
            if let Ok(i) = usize::try_from((day - first).num_days()) {
                if let Some(n) = per_day.get_mut(i) {
                    *n += 1;
                }
            }
        }
        OrderStats {
            returns_by_state: ReturnState::ALL.iter().copied().zip(by_state).collect(),
            per_day: days.into_iter().zip(per_day).collect(),
        }
    }

    /// Builds the stats from counts already grouped (by the database): `(state, n)` and `(day, n)`
    /// pairs in any order; missing ones are zero, days outside the window are dropped.
    pub fn from_counts(
        returns: impl IntoIterator<Item = (ReturnState, u64)>,
        days: impl IntoIterator<Item = (NaiveDate, u64)>,
        today: NaiveDate,
    ) -> Self {
        let mut stats = OrderStats::tally([], [], today);
        for (state, n) in returns {
            if let Some(entry) = stats.returns_by_state.iter_mut().find(|(s, _)| *s == state) {
                entry.1 += n;
            }
        }
        for (day, n) in days {
            if let Some(entry) = stats.per_day.iter_mut().find(|(d, _)| *d == day) {
                entry.1 += n;
            }
        }
        stats
    }
}

/// The sparkline's days: the [`SPARKLINE_DAYS`] days ending with `today`.
pub fn sparkline_days(today: NaiveDate) -> Vec<NaiveDate> {
    (0..SPARKLINE_DAYS)
        .rev()
        .map(|back| today - Duration::days(back as i64))
        .collect()
}

/// The first day the sparkline counts, when `today` is its last.
pub fn sparkline_first_day(today: NaiveDate) -> NaiveDate {
    today - Duration::days(SPARKLINE_DAYS as i64 - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};

    fn now() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn days(instants: impl IntoIterator<Item = DateTime<Utc>>) -> Vec<NaiveDate> {
        instants.into_iter().map(|at| at.date_naive()).collect()
    }

    #[test]
    fn every_state_and_every_day_is_present_in_order() {
        let stats = OrderStats::tally([], [], now());
        assert_eq!(stats.returns_by_state.len(), ReturnState::ALL.len());
        assert_eq!(stats.per_day.len(), SPARKLINE_DAYS);
        assert_eq!(
            stats.per_day.last().unwrap().0,
            NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
        );
        assert_eq!(
            stats.per_day[0].0,
            NaiveDate::from_ymd_opt(2026, 10, 26).unwrap()
        );
        assert_eq!(
            sparkline_first_day(now()),
            NaiveDate::from_ymd_opt(2026, 10, 26).unwrap()
        );
    }

    #[test]
    fn orders_count_on_their_day_and_old_ones_not_at_all() {
        let stats = OrderStats::tally(
            [
                ReturnState::Inspection,
                ReturnState::Inspection,
                ReturnState::Denied,
            ],
            days([
                Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 11, 23, 23, 59, 59).unwrap(),
                Utc.with_ymd_and_hms(2026, 10, 26, 0, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 10, 25, 23, 59, 59).unwrap(),
            ]),
            now(),
        );
        let n = |s: ReturnState| {
            stats
                .returns_by_state
                .iter()
                .find(|(x, _)| *x == s)
                .unwrap()
                .1
        };
        assert_eq!(n(ReturnState::Inspection), 2);
        assert_eq!(n(ReturnState::Denied), 1);
        assert_eq!(n(ReturnState::Completed), 0);
        assert_eq!(stats.per_day[SPARKLINE_DAYS - 1].1, 1);
        assert_eq!(stats.per_day[SPARKLINE_DAYS - 2].1, 1);
        assert_eq!(stats.per_day[0].1, 1);
        assert_eq!(stats.per_day.iter().map(|d| d.1).sum::<u64>(), 3);
    }

    #[test]
    fn grouped_counts_give_the_same_stats_as_a_tally() {
        let created = [
            Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 1, 1, 9, 0, 0).unwrap(),
        ];
        let tallied = OrderStats::tally([ReturnState::InTransit], days(created), now());
        let grouped = OrderStats::from_counts(
            [(ReturnState::InTransit, 1)],
            [
                (NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(), 2),
                (NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), 1),
            ],
            now(),
        );
        assert_eq!(tallied, grouped);
    }
}
