//! The tabs of the dashboard and the shipment alerts (SPEC §4).
//!
//! The rules are stated once here, over [`OrderFacts`]: the in-memory store evaluates them directly;
//! the PostgreSQL store states the same rules in SQL, and the contract tests hold both to them.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::{vocabulary, AlertKind, OrderStatus};

vocabulary!(
    /// A tab of the orders page.
    #[derive(Default)]
    Tab {
        #[default]
        All => "all",
        Unfulfilled => "unfulfilled",
        TrackingPending => "tracking_pending",
        Delayed => "delayed",
        Returns => "returns",
        Support => "support",
    }
    ALL: "Every tab, in the order the dashboard shows them.",
    as_str: "The word used in URLs and on the wire.",
);

/// The tab badges: how many orders each tab holds under the current non-tab filters.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TabCounts {
    pub all: u64,
    pub unfulfilled: u64,
    pub tracking_pending: u64,
    pub delayed: u64,
    pub returns: u64,
    pub support: u64,
}

impl TabCounts {
    /// The count of one tab.
    pub fn get(&self, tab: Tab) -> u64 {
        match tab {
            Tab::All => self.all,
            Tab::Unfulfilled => self.unfulfilled,
            Tab::TrackingPending => self.tracking_pending,
            Tab::Delayed => self.delayed,
            Tab::Returns => self.returns,
            Tab::Support => self.support,
        }
    }

    /// Counts one more order in every tab it belongs to.
    pub fn add(&mut self, facts: &OrderFacts, now: DateTime<Utc>, th: &Thresholds) {
        for tab in Tab::ALL {
            if facts.in_tab(*tab, now, th) {
                match tab {
                    Tab::All => self.all += 1,
                    Tab::Unfulfilled => self.unfulfilled += 1,
                    Tab::TrackingPending => self.tracking_pending += 1,
                    Tab::Delayed => self.delayed += 1,
                    Tab::Returns => self.returns += 1,
                    Tab::Support => self.support += 1,
                }
            }
        }
    }
}

/// How old an order or a shipment must be before it is flagged. Configuration, with SPEC's defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// An order with no tracking number this long after it was created is `tracking_pending` (2 h).
    pub tracking_pending_after: Duration,
    /// An in-transit shipment silent this long is `delayed` (24 h).
    pub delayed_after: Duration,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            tracking_pending_after: Duration::hours(2),
            delayed_after: Duration::hours(24),
        }
    }
}

/// What the tab rules need to know about an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderFacts {
    pub status: OrderStatus,
    pub created_at: DateTime<Utc>,
    /// Some shipment carries a tracking number.
    pub has_tracking: bool,
    /// The oldest `lastUpdateAt` among the order's `in_transit` shipments.
    pub oldest_in_transit_update: Option<DateTime<Utc>>,
    /// The order has a return that is not in a terminal state.
    pub has_open_return: bool,
    /// The order has an open support escalation.
    pub has_open_support: bool,
}

impl OrderFacts {
    /// Whether the order is listed under `tab` at `now`.
    pub fn in_tab(&self, tab: Tab, now: DateTime<Utc>, th: &Thresholds) -> bool {
        match tab {
            Tab::All => true,
            Tab::Unfulfilled => {
                matches!(
                    self.status,
                    OrderStatus::Unfulfilled | OrderStatus::PartiallyFulfilled
                )
            }
            Tab::TrackingPending => {
                self.status != OrderStatus::Cancelled
                    && !self.has_tracking
                    && self.created_at < now - th.tracking_pending_after
            }
            Tab::Delayed => self
                .oldest_in_transit_update
                .is_some_and(|t| t < now - th.delayed_after),
            Tab::Returns => self.has_open_return,
            Tab::Support => self.has_open_support,
        }
    }

    /// The order's `alerts`: the alert tabs it is in.
    pub fn alerts(&self, now: DateTime<Utc>, th: &Thresholds) -> Vec<AlertKind> {
        let mut alerts = Vec::new();
        if self.in_tab(Tab::TrackingPending, now, th) {
            alerts.push(AlertKind::TrackingPending);
        }
        if self.in_tab(Tab::Delayed, now, th) {
            alerts.push(AlertKind::Delayed);
        }
        alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2025-09-27T12:00:00Z".parse().unwrap()
    }

    fn facts() -> OrderFacts {
        OrderFacts {
            status: OrderStatus::Unfulfilled,
            created_at: now() - Duration::hours(3),
            has_tracking: false,
            oldest_in_transit_update: None,
            has_open_return: false,
            has_open_support: false,
        }
    }

    #[test]
    fn an_order_without_tracking_is_pending_only_after_two_hours() {
        let th = Thresholds::default();
        assert!(facts().in_tab(Tab::TrackingPending, now(), &th));
        let young = OrderFacts {
            created_at: now() - Duration::minutes(119),
            ..facts()
        };
        assert!(!young.in_tab(Tab::TrackingPending, now(), &th));
        let exactly = OrderFacts {
            created_at: now() - Duration::hours(2),
            ..facts()
        };
        assert!(
            !exactly.in_tab(Tab::TrackingPending, now(), &th),
            "more than 2 h, not 2 h"
        );
    }

    #[test]
    fn a_cancelled_or_tracked_order_is_never_tracking_pending() {
        let th = Thresholds::default();
        let cancelled = OrderFacts {
            status: OrderStatus::Cancelled,
            ..facts()
        };
        assert!(!cancelled.in_tab(Tab::TrackingPending, now(), &th));
        let tracked = OrderFacts {
            has_tracking: true,
            ..facts()
        };
        assert!(!tracked.in_tab(Tab::TrackingPending, now(), &th));
    }

    #[test]
    fn a_shipment_silent_for_over_a_day_is_delayed() {
        let th = Thresholds::default();
        let silent = OrderFacts {
            has_tracking: true,
            oldest_in_transit_update: Some(now() - Duration::hours(25)),
            ..facts()
        };
        assert!(silent.in_tab(Tab::Delayed, now(), &th));
        assert_eq!(silent.alerts(now(), &th), vec![AlertKind::Delayed]);
        let recent = OrderFacts {
            oldest_in_transit_update: Some(now() - Duration::hours(23)),
            ..silent
        };
        assert!(!recent.in_tab(Tab::Delayed, now(), &th));
    }

    #[test]
    fn partially_fulfilled_orders_are_in_the_unfulfilled_tab() {
        let th = Thresholds::default();
        let partial = OrderFacts {
            status: OrderStatus::PartiallyFulfilled,
            ..facts()
        };
        assert!(partial.in_tab(Tab::Unfulfilled, now(), &th));
        let held = OrderFacts {
            status: OrderStatus::OnHold,
            ..facts()
        };
        assert!(!held.in_tab(Tab::Unfulfilled, now(), &th));
    }

    #[test]
    fn counts_add_an_order_to_each_of_its_tabs() {
        let th = Thresholds::default();
        let mut counts = TabCounts::default();
        counts.add(
            &OrderFacts {
                has_open_support: true,
                ..facts()
            },
            now(),
            &th,
        );
        assert_eq!(
            counts,
            TabCounts {
                all: 1,
                unfulfilled: 1,
                tracking_pending: 1,
                delayed: 0,
                returns: 0,
                support: 1
            }
        );
    }
}
