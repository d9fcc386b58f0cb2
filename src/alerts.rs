//! Live alerts (SPEC §6): what an alert says on the wire, which conditions hold for an order, and
//! how a shop's open alerts follow the conditions (raise what newly holds, resolve what no longer
//! does, leave the rest alone, so a condition is raised once and not once per evaluation).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::AlertKind;
use crate::tabs::{OrderFacts, Tab, Thresholds};

/// How urgent an alert is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    /// `warning` for the shipment alerts, `critical` for a data gap.
    pub fn of(kind: AlertKind) -> Severity {
        match kind {
            AlertKind::TrackingPending | AlertKind::Delayed => Severity::Warning,
            AlertKind::DataGap => Severity::Critical,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// An alert as stored and as polled: the data of an `alert` event plus `resolvedAt`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    pub id: u64,
    pub kind: AlertKind,
    pub severity: Severity,
    /// The order the alert is about; absent for a data gap.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub order_id: Option<String>,
    pub message: String,
    pub created_at: DateTime<Utc>,
    /// When the alert cleared; `null` while it is open.
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub resolved_at: Option<DateTime<Utc>>,
}

/// The data of an `alert` event: the alert without `resolvedAt`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertData<'a> {
    pub id: u64,
    pub kind: AlertKind,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_id: Option<&'a str>,
    pub message: &'a str,
    pub created_at: DateTime<Utc>,
}

impl Alert {
    /// What an `alert` event carries.
    pub fn data(&self) -> AlertData<'_> {
        AlertData {
            id: self.id,
            kind: self.kind,
            severity: self.severity,
            order_id: self.order_id.as_deref(),
            message: &self.message,
            created_at: self.created_at,
        }
    }
}

/// The answer of the polling fallback.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertPage {
    pub alerts: Vec<Alert>,
    /// Where to ask again from (`since`).
    pub last_event_id: u64,
}

/// At most this many alerts in one polling answer.
pub const POLL_LIMIT: usize = 500;

/// At most this many `alert` events in a stream's replay, the newest (and at most this many
/// `resolved` events in its tail of older resolutions); beyond, a `replay_truncated` refresh.
pub const REPLAY_LIMIT: usize = 500;

/// How many orders a dashboard banner names.
pub const BANNER_ORDERS: usize = 5;

/// The kinds of dashboard banner, in the order they are shown.
pub const BANNER_KINDS: [AlertKind; 3] = [
    AlertKind::DataGap,
    AlertKind::TrackingPending,
    AlertKind::Delayed,
];

/// A shop's open alerts of one kind, as a dashboard banner shows them: how many, and the
/// [`BANNER_ORDERS`] open longest (raised first), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digest {
    pub kind: AlertKind,
    pub count: u64,
    pub first: Vec<DigestLine>,
}

/// One open alert in a [`Digest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DigestLine {
    /// The order it is about (none for a data gap), and that order's name if it is still stored.
    pub order_id: Option<String>,
    pub order_number: Option<String>,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// Why a page should reload what it shows (`event: refresh`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshReason {
    Action,
    Webhook,
    Poller,
    /// A stream's replay held more than [`REPLAY_LIMIT`] alerts and sent the newest only: the
    /// page's counts come from `GET /sync/orders`.
    ReplayTruncated,
}

impl RefreshReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshReason::Action => "action",
            RefreshReason::Webhook => "webhook",
            RefreshReason::Poller => "poller",
            RefreshReason::ReplayTruncated => "replay_truncated",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "action" => Some(RefreshReason::Action),
            "webhook" => Some(RefreshReason::Webhook),
            "poller" => Some(RefreshReason::Poller),
            "replay_truncated" => Some(RefreshReason::ReplayTruncated),
            _ => None,
        }
    }
}

/// The data of a `refresh` event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refresh {
    pub reason: RefreshReason,
    pub at: DateTime<Utc>,
}

/// Hours, for people: `2 h`, `24 h`, `90 min` below an hour.
pub fn hours(d: chrono::Duration) -> String {
    if d.num_minutes() < 60 || d.num_minutes() % 60 != 0 {
        format!("{} min", d.num_minutes())
    } else {
        format!("{} h", d.num_hours())
    }
}

/// What an alert of `kind` says about order `number` (`#1001`).
pub fn message(kind: AlertKind, number: &str, th: &Thresholds) -> String {
    match kind {
        AlertKind::TrackingPending => format!(
            "Order {number} has no tracking number more than {} after it was placed",
            hours(th.tracking_pending_after)
        ),
        AlertKind::Delayed => format!(
            "Order {number} is in transit with no carrier update for more than {}",
            hours(th.delayed_after)
        ),
        AlertKind::DataGap => format!("Orders may be missing: {number}"),
    }
}

/// The shipment alerts that hold for an order at `now` (its `alerts` field, SPEC §4).
pub fn holding(facts: &OrderFacts, now: DateTime<Utc>, th: &Thresholds) -> Vec<AlertKind> {
    let mut kinds = Vec::new();
    if facts.in_tab(Tab::TrackingPending, now, th) {
        kinds.push(AlertKind::TrackingPending);
    }
    if facts.in_tab(Tab::Delayed, now, th) {
        kinds.push(AlertKind::Delayed);
    }
    kinds
}

/// An open alert, as the evaluator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAlert {
    pub id: u64,
    pub kind: AlertKind,
    pub order_id: Option<String>,
}

/// What an evaluation changes: the conditions to raise (kind, order) and the ids to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AlertPlan {
    pub raise: Vec<(AlertKind, String)>,
    pub resolve: Vec<u64>,
}

/// Compares the open shipment alerts with the conditions that hold: a condition without an open
/// alert is raised, an open alert whose condition no longer holds is resolved, and a condition
/// already alerted is left alone. Data gaps are not shipment conditions and are left alone.
pub fn plan_shipment_alerts(
    open: &[OpenAlert],
    holding: impl IntoIterator<Item = (AlertKind, String)>,
) -> AlertPlan {
    let holding: Vec<(AlertKind, String)> = holding.into_iter().collect();
    let holds: HashSet<(AlertKind, &str)> = holding.iter().map(|(k, o)| (*k, o.as_str())).collect();
    let mut alerted: HashSet<(AlertKind, &str)> = HashSet::new();
    let mut resolve = Vec::new();
    for a in open.iter().filter(|a| a.kind != AlertKind::DataGap) {
        let key = (a.kind, a.order_id.as_deref().unwrap_or(""));
        // A second open alert for one condition (never made by this code) is resolved too.
        if holds.contains(&key) && alerted.insert(key) {
            continue;
        }
        resolve.push(a.id);
    }
    let mut raise: Vec<(AlertKind, String)> = holding
        .iter()
        .filter(|(k, o)| !alerted.contains(&(*k, o.as_str())))
        .cloned()
        .collect();
    raise.sort();
    raise.dedup();
    AlertPlan { raise, resolve }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn refresh_reasons_read_back_as_they_are_written() {
        for reason in [
            RefreshReason::Action,
            RefreshReason::Webhook,
            RefreshReason::Poller,
            RefreshReason::ReplayTruncated,
        ] {
            assert_eq!(RefreshReason::parse(reason.as_str()), Some(reason));
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
        assert_eq!(RefreshReason::ReplayTruncated.as_str(), "replay_truncated");
    }

    fn open(id: u64, kind: AlertKind, order: &str) -> OpenAlert {
        OpenAlert {
            id,
            kind,
            order_id: Some(order.to_owned()),
        }
    }

    #[test]
    fn a_new_condition_is_raised_a_held_one_left_and_a_cleared_one_resolved() {
        let plan = plan_shipment_alerts(
            &[
                open(1, AlertKind::TrackingPending, "a"),
                open(2, AlertKind::Delayed, "b"),
            ],
            [
                (AlertKind::TrackingPending, "a".to_owned()),
                (AlertKind::Delayed, "c".to_owned()),
            ],
        );
        assert_eq!(plan.raise, vec![(AlertKind::Delayed, "c".to_owned())]);
        assert_eq!(plan.resolve, vec![2]);
    }

    #[test]
    fn data_gaps_are_not_touched_by_the_shipment_evaluation() {
        let gap = OpenAlert {
            id: 9,
            kind: AlertKind::DataGap,
            order_id: None,
        };
        assert_eq!(plan_shipment_alerts(&[gap], []), AlertPlan::default());
    }

    #[test]
    fn severities_and_words_follow_the_contract() {
        assert_eq!(Severity::of(AlertKind::Delayed), Severity::Warning);
        assert_eq!(Severity::of(AlertKind::DataGap), Severity::Critical);
        assert_eq!(hours(chrono::Duration::hours(24)), "24 h");
        assert_eq!(hours(chrono::Duration::minutes(90)), "90 min");
        let th = Thresholds::default();
        assert!(message(AlertKind::TrackingPending, "#1001", &th).contains("#1001"));
    }

    #[test]
    fn the_stream_data_has_no_resolved_at_and_the_poll_has_it() {
        let alert = Alert {
            id: 3,
            kind: AlertKind::Delayed,
            severity: Severity::Warning,
            order_id: Some("gid://shopify/Order/1".into()),
            message: "late".into(),
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            resolved_at: None,
        };
        let data = serde_json::to_value(alert.data()).unwrap();
        assert_eq!(data["orderId"], "gid://shopify/Order/1");
        assert!(data.get("resolvedAt").is_none());
        let polled = serde_json::to_value(&alert).unwrap();
        assert!(polled["resolvedAt"].is_null());
        assert_eq!(polled["severity"], "warning");
    }

    fn kind() -> impl Strategy<Value = AlertKind> {
        prop_oneof![Just(AlertKind::TrackingPending), Just(AlertKind::Delayed)]
    }

    proptest! {
        /// After applying a plan, the open alerts are exactly the holding conditions, once each,
        /// and applying the plan of the result changes nothing.
        #[test]
        fn a_plan_makes_the_open_alerts_match_the_conditions(
            open_keys in proptest::collection::vec((kind(), 0u8..6), 0..12),
            holding_keys in proptest::collection::vec((kind(), 0u8..6), 0..12),
        ) {
            let open: Vec<OpenAlert> = open_keys
                .iter()
                .enumerate()
                .map(|(i, (k, o))| OpenAlert { id: i as u64 + 1, kind: *k, order_id: Some(o.to_string()) })
                .collect();
            let holding: Vec<(AlertKind, String)> =
                holding_keys.iter().map(|(k, o)| (*k, o.to_string())).collect();
            let plan = plan_shipment_alerts(&open, holding.clone());
            let mut after: Vec<OpenAlert> = open
                .iter()
                .filter(|a| !plan.resolve.contains(&a.id))
                .cloned()
                .collect();
            for (id, (k, o)) in (1000..).zip(plan.raise.iter()) {
                after.push(OpenAlert { id, kind: *k, order_id: Some(o.clone()) });
            }
            let mut got: Vec<(AlertKind, String)> = after
                .iter()
                .map(|a| (a.kind, a.order_id.clone().unwrap()))
                .collect();
            got.sort();
            let mut want = holding.clone();
            want.sort();
            want.dedup();
            prop_assert_eq!(&got, &want);
            prop_assert_eq!(plan_shipment_alerts(&after, holding), AlertPlan::default());
        }
    }
}
