//! The page's actions, all optimistic: the rows change at once; Sync's answer then either confirms
//! them (a toast with its message, and the page reloaded so counts and tabs agree) or undoes them
//! (the rows as they were, and a toast quoting Sync's status and message).

use leptos::prelude::*;
use orders_core::position::later_text;
use orders_core::{AlertKind, OrderStatus};

use super::model::OrderRow;
use crate::sync::{call_sync, SyncWrite, Tracking, WriteBody};
use crate::toast::Toasts;

/// Everything an action touches; cheap to copy into event handlers.
#[derive(Clone, Copy)]
pub struct Actions {
    /// The shop on screen: the one every write is for.
    pub shop: StoredValue<String>,
    /// The rows on screen, as the user sees them (optimistic changes included).
    pub rows: RwSignal<Vec<OrderRow>>,
    /// The ids of the selected rows; only rows on this page can be selected.
    pub selected: RwSignal<Vec<String>>,
    /// Reloads the page's data from Sync.
    pub refetch: Callback<()>,
    pub toasts: Toasts,
    /// Writes in flight; the controls are busy meanwhile.
    pub pending: RwSignal<usize>,
    /// The position of the page's last write, which the page's reads send back.
    pub position: StoredValue<Option<String>>,
}

impl Actions {
    /// Changes the rows `ids` with `change` and returns them as they were.
    pub(super) fn patch(self, ids: &[String], change: impl Fn(&mut OrderRow)) -> Vec<OrderRow> {
        let mut before = Vec::new();
        self.rows.update(|rows| {
            for row in rows.iter_mut().filter(|r| ids.contains(&r.id)) {
                before.push(row.clone());
                change(row);
            }
        });
        before
    }

    /// Puts rows back as they were (only those: other changes made meanwhile stay).
    pub(super) fn restore(self, before: Vec<OrderRow>) {
        self.rows.update(|rows| {
            for old in before {
                if let Some(row) = rows.iter_mut().find(|r| r.id == old.id) {
                    *row = old;
                }
            }
        });
    }

    /// Sends a write; `undo` runs if Sync refuses it or cannot be reached.
    pub fn send(self, write: SyncWrite, body: WriteBody, undo: impl FnOnce() + 'static) {
        self.pending.update(|n| *n += 1);
        leptos::task::spawn_local(async move {
            let shop = self.shop.get_value();
            let answer = call_sync(&shop, write, body).await;
            self.pending.update(|n| *n = n.saturating_sub(1));
            match answer {
                Ok(done) => {
                    self.position
                        .update_value(|p| *p = later_text(p.take(), done.position));
                    self.toasts.success(done.message);
                    // Done with these rows: a confirmed action clears the selection.
                    self.selected.set(Vec::new());
                    self.refetch.run(());
                }
                Err(failure) => {
                    undo();
                    self.toasts.failure(failure.to_string());
                }
            }
        });
    }

    /// Assigns the orders to `assignee`, or unassigns them (`None`).
    pub fn assign(self, ids: Vec<String>, assignee: Option<String>) {
        if ids.is_empty() {
            return;
        }
        let shown = assignee.clone();
        let before = self.patch(&ids, |row| row.assigned_to = shown.clone());
        let body = WriteBody {
            order_ids: Some(ids),
            assignee: Some(assignee),
            ..WriteBody::default()
        };
        self.send(SyncWrite::Assign, body, move || self.restore(before));
    }

    /// Marks the orders fulfilled, with optional tracking (number, carrier).
    pub fn fulfill(self, ids: Vec<String>, tracking: Option<(String, String)>) {
        if ids.is_empty() {
            return;
        }
        // Tracking given: the order no longer waits for a tracking number.
        let tracked = tracking.is_some();
        let before = self.patch(&ids, |row| {
            row.status = OrderStatus::Fulfilled;
            if tracked {
                row.alerts.retain(|a| *a != AlertKind::TrackingPending);
            }
        });
        let body = WriteBody {
            order_ids: Some(ids),
            tracking: tracking.map(|(number, carrier)| Tracking { number, carrier }),
            ..WriteBody::default()
        };
        self.send(SyncWrite::Fulfill, body, move || self.restore(before));
    }

    /// Escalates the orders `ids` to support with one `note`, one order after the other through
    /// the single-order write, all in one conversation: `conversation` if given, else the one Sync
    /// opens for the first order that succeeds. Each order succeeds or fails on its own (a failed
    /// row goes back as it was), and one toast sums up, naming the failures.
    pub fn escalate(self, ids: Vec<String>, note: String, conversation: Option<String>) {
        if ids.is_empty() {
            return;
        }
        let shown = conversation
            .clone()
            .unwrap_or_else(|| "opening…".to_owned());
        let before = self.patch(&ids, |row| row.support_thread = Some(shown.clone()));
        self.pending.update(|n| *n += 1);
        leptos::task::spawn_local(async move {
            let shop = self.shop.get_value();
            let mut thread = conversation;
            let mut done = 0usize;
            let mut failed: Vec<String> = Vec::new();
            for old in before {
                let body = WriteBody {
                    order_id: Some(old.id.clone()),
                    note: Some(note.clone()),
                    conversation_id: thread.clone(),
                    ..WriteBody::default()
                };
                match call_sync(&shop, SyncWrite::Support, body).await {
                    Ok(answer) => {
                        done += 1;
                        self.position
                            .update_value(|p| *p = later_text(p.take(), answer.position));
                        if thread.is_none() {
                            thread = answer.support_thread;
                        }
                    }
                    Err(why) => {
                        failed.push(format!("{} ({why})", old.order_number));
                        self.restore(vec![old]);
                    }
                }
            }
            self.pending.update(|n| *n = n.saturating_sub(1));
            let summary = escalation_summary(done, &failed, thread.as_deref());
            if failed.is_empty() {
                self.toasts.success(summary);
            } else {
                self.toasts.failure(summary);
            }
            if done > 0 {
                self.selected.set(Vec::new());
                self.refetch.run(());
            }
        });
    }

    /// The selected ids, in table order.
    pub fn selection(self) -> Vec<String> {
        let selected = self.selected.get_untracked();
        self.rows.with_untracked(|rows| {
            rows.iter()
                .filter(|r| selected.contains(&r.id))
                .map(|r| r.id.clone())
                .collect()
        })
    }
}

/// What a bulk escalation's toast says: how many went to which conversation, and which failed
/// and why.
pub fn escalation_summary(done: usize, failed: &[String], thread: Option<&str>) -> String {
    let orders = |n: usize| {
        if n == 1 {
            "1 order".to_owned()
        } else {
            format!("{n} orders")
        }
    };
    let mut text = match (done, thread) {
        (0, _) => "No order was escalated".to_owned(),
        (n, Some(t)) => format!("Escalated {} to support in conversation {t}", orders(n)),
        (n, None) => format!("Escalated {} to support", orders(n)),
    };
    if !failed.is_empty() {
        text.push_str(&format!(
            "; {} failed: {}",
            orders(failed.len()),
            failed.join(", ")
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::escalation_summary;

    #[test]
    fn a_bulk_escalation_sums_up_and_names_its_failures() {
        assert_eq!(
            escalation_summary(3, &[], Some("sup_1")),
            "Escalated 3 orders to support in conversation sup_1"
        );
        assert_eq!(
            escalation_summary(1, &["#1002 (409 · cancelled)".to_owned()], Some("sup_1")),
            "Escalated 1 order to support in conversation sup_1; 1 order failed: #1002 (409 · cancelled)"
        );
        assert_eq!(
            escalation_summary(0, &["#1 (x)".to_owned(), "#2 (y)".to_owned()], None),
            "No order was escalated; 2 orders failed: #1 (x), #2 (y)"
        );
    }
}
