//! What each write does to an order, decided once for both stores (SPEC §3, §5).
//!
//! A store locks the orders a request names, reads their current state, asks these functions what
//! changes, and persists exactly that (order fields, timeline entries, outbox events) in the same
//! transaction. Keeping the decisions here means the PostgreSQL store and the in-memory sample store
//! cannot drift apart.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::domain::*;
use crate::returns::{apply, ReturnAction, TransitionError};

/// Outbox topics: where a side effect is headed once integrations deliver it.
pub mod topics {
    /// An order's owner, for the Shopify metafield (queued; not pushed while metafields are read-only).
    pub const ASSIGNMENT_METAFIELD: &str = "shopify.metafield.assignment";
    /// An escalation for the support queue.
    pub const SUPPORT_ESCALATION: &str = "support.escalation";
    /// A return's move, for the ERP.
    pub const ERP_RETURN: &str = "erp.return";
    /// Every topic.
    pub const ALL: [&str; 3] = [ASSIGNMENT_METAFIELD, SUPPORT_ESCALATION, ERP_RETURN];
}

/// A side effect waiting in the outbox, written in the same transaction as the change it reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    pub topic: String,
    pub order_id: String,
    pub payload: serde_json::Value,
}

fn entry(
    now: DateTime<Utc>,
    event: impl Into<String>,
    details: impl Into<String>,
) -> TimelineEntry {
    TimelineEntry {
        ts: now,
        event: event.into(),
        details: details.into(),
    }
}

/// Shortens a note for a one-sentence timeline entry; the outbox keeps it whole.
fn excerpt(note: &str) -> String {
    const MAX: usize = 140;
    if note.chars().count() <= MAX {
        note.to_owned()
    } else {
        let cut: String = note.chars().take(MAX - 1).collect();
        format!("{cut}…")
    }
}

/// The effects of giving an order a new owner (`None` unassigns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentChange {
    pub assigned_to: Option<String>,
    pub entry: TimelineEntry,
    pub outbox: OutboxEvent,
}

/// What changes when `order_id`, owned by `previous`, is given to `next`; nothing when they are the same.
pub fn change_assignment(
    order_id: &str,
    previous: Option<&str>,
    next: Option<&str>,
    now: DateTime<Utc>,
) -> Option<AssignmentChange> {
    if previous == next {
        return None;
    }
    let details = match (previous, next) {
        (None, Some(to)) => format!("Assigned to {to}."),
        (Some(from), Some(to)) => format!("Reassigned from {from} to {to}."),
        (Some(from), None) => format!("Unassigned from {from}."),
        (None, None) => unreachable!("equal owners return early"),
    };
    Some(AssignmentChange {
        assigned_to: next.map(str::to_owned),
        entry: entry(now, "assignment.changed", details),
        outbox: OutboxEvent {
            topic: topics::ASSIGNMENT_METAFIELD.into(),
            order_id: order_id.into(),
            payload: json!({ "orderId": order_id, "assignedTo": next, "previous": previous, "at": now }),
        },
    })
}

/// What a fulfill does to one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FulfillPlan {
    /// Already fulfilled: a no-op success.
    AlreadyFulfilled,
    /// Mark it fulfilled, record the shipment (when tracked) and these entries.
    Fulfill {
        shipment: Option<Shipment>,
        entries: Vec<TimelineEntry>,
    },
}

/// A fulfill of a cancelled order: refused (409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {0} is cancelled and cannot be fulfilled")]
pub struct CancelledOrder(pub String);

/// What fulfilling `order_id` in `status` means, with `tracking` recorded under `shipment_id`.
pub fn plan_fulfill(
    order_id: &str,
    status: OrderStatus,
    tracking: Option<&Tracking>,
    shipment_id: &str,
    now: DateTime<Utc>,
) -> Result<FulfillPlan, CancelledOrder> {
    match status {
        OrderStatus::Cancelled => Err(CancelledOrder(order_id.to_owned())),
        OrderStatus::Fulfilled => Ok(FulfillPlan::AlreadyFulfilled),
        _ => {
            let mut entries = vec![entry(
                now,
                "fulfillment.fulfilled",
                "Marked as fulfilled from the dashboard.",
            )];
            let shipment = tracking.map(|t| {
                entries.push(entry(
                    now,
                    "shipment.in_transit",
                    format!("Shipped with {}, tracking number {}.", t.carrier, t.number),
                ));
                Shipment {
                    id: shipment_id.to_owned(),
                    status: ShipmentStatus::InTransit,
                    tracking: Some(t.clone()),
                    last_update_at: now,
                }
            });
            Ok(FulfillPlan::Fulfill { shipment, entries })
        }
    }
}

/// What a support escalation does to one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportPlan {
    pub entry: TimelineEntry,
    pub outbox: OutboxEvent,
    /// The hand-over to the support assistant, unless it already owns the order.
    pub assignment: Option<AssignmentChange>,
}

/// Escalating `order_id` (owned by `previous_owner`) to support under `thread` with `note`.
pub fn plan_support(
    order_id: &str,
    thread: &str,
    note: &str,
    previous_owner: Option<&str>,
    now: DateTime<Utc>,
) -> SupportPlan {
    SupportPlan {
        entry: entry(
            now,
            "support.escalated",
            format!("Escalated to support ({thread}): {}", excerpt(note)),
        ),
        outbox: OutboxEvent {
            topic: topics::SUPPORT_ESCALATION.into(),
            order_id: order_id.into(),
            payload: json!({ "orderId": order_id, "conversationId": thread, "note": note, "at": now }),
        },
        assignment: change_assignment(
            order_id,
            previous_owner,
            Some(crate::envelope::SUPPORT_ASSIGNEE),
            now,
        ),
    }
}

/// What a return action does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnPlan {
    pub from: ReturnState,
    pub to: ReturnState,
    pub entry: TimelineEntry,
    pub outbox: OutboxEvent,
}

/// Applies `action` to the return `return_id` of `order_id`, now in `state`.
pub fn plan_return(
    order_id: &str,
    return_id: &str,
    state: ReturnState,
    action: ReturnAction,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ReturnPlan, TransitionError> {
    let to = apply(state, action)?;
    let mut details = format!("Return moved from {state} to {to} ({action}).");
    if let Some(note) = note {
        details.push_str(&format!(" Note: {}", excerpt(note)));
    }
    Ok(ReturnPlan {
        from: state,
        to,
        entry: entry(now, format!("return.{to}"), details),
        outbox: OutboxEvent {
            topic: topics::ERP_RETURN.into(),
            order_id: order_id.into(),
            payload: json!({
                "orderId": order_id, "returnId": return_id, "action": action,
                "from": state, "to": to, "note": note, "at": now,
            }),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2025-09-27T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn assigning_the_same_owner_again_changes_nothing() {
        assert_eq!(
            change_assignment("o", Some("sam"), Some("sam"), now()),
            None
        );
        let c = change_assignment("o", Some("sam"), None, now()).unwrap();
        assert_eq!(c.entry.event, "assignment.changed");
        assert_eq!(c.outbox.topic, topics::ASSIGNMENT_METAFIELD);
        assert_eq!(c.outbox.payload["assignedTo"], serde_json::Value::Null);
    }

    #[test]
    fn a_cancelled_order_cannot_be_fulfilled_and_a_fulfilled_one_is_left_alone() {
        assert!(plan_fulfill("o", OrderStatus::Cancelled, None, "s", now()).is_err());
        assert_eq!(
            plan_fulfill("o", OrderStatus::Fulfilled, None, "s", now()),
            Ok(FulfillPlan::AlreadyFulfilled)
        );
    }

    #[test]
    fn fulfilling_with_tracking_records_an_in_transit_shipment() {
        let t = Tracking {
            number: "1Z".into(),
            carrier: "UPS".into(),
        };
        let FulfillPlan::Fulfill { shipment, entries } =
            plan_fulfill("o", OrderStatus::Unfulfilled, Some(&t), "s1", now()).unwrap()
        else {
            panic!("expected a fulfill");
        };
        let shipment = shipment.unwrap();
        assert_eq!(shipment.status, ShipmentStatus::InTransit);
        assert_eq!(shipment.tracking, Some(t));
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn an_escalation_hands_the_order_to_the_assistant() {
        let plan = plan_support(
            "o",
            "conv_1",
            "Customer asks for a refund",
            Some("sam"),
            now(),
        );
        assert_eq!(
            plan.assignment.unwrap().assigned_to.as_deref(),
            Some("assistant")
        );
        assert!(plan.entry.details.contains("conv_1"));
        assert!(plan_support("o", "c", "n", Some("assistant"), now())
            .assignment
            .is_none());
    }

    #[test]
    fn a_return_action_writes_its_new_state_as_the_event() {
        let p = plan_return(
            "o",
            "r",
            ReturnState::Inspection,
            ReturnAction::ApproveRefund,
            Some("ok"),
            now(),
        )
        .unwrap();
        assert_eq!(p.entry.event, "return.awaiting_refund");
        assert_eq!(p.outbox.payload["to"], "awaiting_refund");
        assert!(plan_return(
            "o",
            "r",
            ReturnState::Denied,
            ReturnAction::Deny,
            None,
            now()
        )
        .is_err());
    }
}
