//! The returns state machine (SPEC §5), written as one table.
//!
//! `apply` is the only way a return changes state. The stores call it inside the transaction that
//! holds the order's row lock, so two concurrent actions on one return are serialised: the first
//! moves the state, the second sees the new state and gets a [`TransitionError::NotAllowed`] (409).

use crate::domain::vocabulary;
use crate::domain::ReturnState::{self, *};

vocabulary!(
    /// Something a person or an integration can do to a return.
    ReturnAction {
        GenerateLabel => "generate_label",
        MarkInTransit => "mark_in_transit",
        RequestInspection => "request_inspection",
        ApproveRefund => "approve_refund",
        Complete => "complete",
        Deny => "deny",
        Cancel => "cancel",
    }
    ALL: "Every action, in the contract's order.",
    as_str: "The word used on the wire.",
);

/// The whole machine: each action, the states it may start from, and where it leads.
pub const TRANSITIONS: &[(ReturnAction, &[ReturnState], ReturnState)] = &[
    (
        ReturnAction::GenerateLabel,
        &[AwaitingLabel],
        LabelGenerated,
    ),
    (ReturnAction::MarkInTransit, &[LabelGenerated], InTransit),
    (ReturnAction::RequestInspection, &[InTransit], Inspection),
    (ReturnAction::ApproveRefund, &[Inspection], AwaitingRefund),
    (ReturnAction::Complete, &[AwaitingRefund], Completed),
    (
        ReturnAction::Deny,
        &[AwaitingLabel, LabelGenerated, InTransit, Inspection],
        Denied,
    ),
    (
        ReturnAction::Cancel,
        &[AwaitingLabel, LabelGenerated],
        Cancelled,
    ),
];

/// The actions the dashboard offers to people; the rest come from carriers, the ERP and the API.
pub const DASHBOARD_ACTIONS: &[ReturnAction] = &[
    ReturnAction::ApproveRefund,
    ReturnAction::Deny,
    ReturnAction::RequestInspection,
];

/// A known action that the return's current state forbids.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("cannot {action} a return in state {state}")]
    NotAllowed {
        state: ReturnState,
        action: ReturnAction,
    },
}

/// Where `action` takes a return in `state`, or why it cannot.
pub fn apply(state: ReturnState, action: ReturnAction) -> Result<ReturnState, TransitionError> {
    TRANSITIONS
        .iter()
        .find(|(a, from, _)| *a == action && from.contains(&state))
        .map(|(_, _, to)| *to)
        .ok_or(TransitionError::NotAllowed { state, action })
}

/// The actions that are legal from `state`, in the contract's order.
pub fn legal_actions(state: ReturnState) -> impl Iterator<Item = ReturnAction> {
    ReturnAction::ALL
        .iter()
        .copied()
        .filter(move |a| apply(state, *a).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_happy_path_walks_from_awaiting_label_to_completed() {
        let mut s = AwaitingLabel;
        for a in [
            ReturnAction::GenerateLabel,
            ReturnAction::MarkInTransit,
            ReturnAction::RequestInspection,
            ReturnAction::ApproveRefund,
            ReturnAction::Complete,
        ] {
            s = apply(s, a).unwrap();
        }
        assert_eq!(s, Completed);
    }

    #[test]
    fn deny_is_allowed_until_the_refund_is_approved() {
        for s in [AwaitingLabel, LabelGenerated, InTransit, Inspection] {
            assert_eq!(apply(s, ReturnAction::Deny), Ok(Denied));
        }
        assert!(apply(AwaitingRefund, ReturnAction::Deny).is_err());
    }

    #[test]
    fn cancel_is_allowed_only_before_the_parcel_travels() {
        assert_eq!(apply(LabelGenerated, ReturnAction::Cancel), Ok(Cancelled));
        assert!(apply(InTransit, ReturnAction::Cancel).is_err());
    }

    #[test]
    fn a_forbidden_action_names_the_state_and_the_action() {
        let err = apply(AwaitingLabel, ReturnAction::ApproveRefund).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("approve_refund") && msg.contains("awaiting_label"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_action_words_are_refused() {
        assert!("refund".parse::<ReturnAction>().is_err());
        assert_eq!(
            "approve_refund".parse::<ReturnAction>(),
            Ok(ReturnAction::ApproveRefund)
        );
    }

    fn any_state() -> impl Strategy<Value = ReturnState> {
        proptest::sample::select(ReturnState::ALL.to_vec())
    }
    fn any_action() -> impl Strategy<Value = ReturnAction> {
        proptest::sample::select(ReturnAction::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn terminal_states_accept_no_action(s in any_state(), a in any_action()) {
            if s.is_terminal() {
                prop_assert!(apply(s, a).is_err());
            }
        }

        #[test]
        fn every_transition_moves_forward_and_never_stays(s in any_state(), a in any_action()) {
            if let Ok(to) = apply(s, a) {
                prop_assert_ne!(to, s);
                prop_assert!(legal_actions(s).any(|x| x == a));
            }
        }

        #[test]
        fn any_walk_ends_in_at_most_five_steps(actions in proptest::collection::vec(any_action(), 0..40)) {
            let mut s = AwaitingLabel;
            let mut moves = 0;
            for a in actions {
                if let Ok(to) = apply(s, a) { s = to; moves += 1; }
            }
            prop_assert!(moves <= 5);
        }

        #[test]
        fn the_same_action_never_applies_twice_in_a_row(s in any_state(), a in any_action()) {
            if let Ok(to) = apply(s, a) {
                prop_assert!(apply(to, a).is_err());
            }
        }
    }
}
