//! The order drawer (`/orders?…&order=ID`): the assignment, shipments with tracking, the return
//! with only the actions its state allows, the support escalation form and the last ten timeline
//! entries. It has its own URL, so it survives a reload and can be shared; Escape or "Close" goes
//! back to the list as it was.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use orders_core::returns::{apply, legal_actions, DASHBOARD_ACTIONS};
use orders_core::{ReturnAction, ReturnState};

use super::actions::Actions;
use super::controls::{typed, written, BUTTON, FIELD};
use super::model::OrderDetail;
use crate::sync::{SyncWrite, WriteBody};

const SECTION: &str = "space-y-2 border-t px-4 py-3";
pub(super) const HEADING: &str = "text-xs font-semibold uppercase tracking-wide text-secondary";

/// The frame every drawer shares: a panel on the right (the whole width on a phone), its title,
/// a close link, and Escape to close. Its children keep their type (`TypedChildren`): erased
/// children would carry an async hydration path the page never takes.
#[component]
fn Frame<C: IntoView + 'static>(
    title: String,
    close_href: String,
    children: TypedChildren<C>,
) -> impl IntoView {
    let children = children.into_inner();
    let heading = NodeRef::<leptos::html::H2>::new();
    let navigate = use_navigate();
    let close = close_href.clone();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            let _ = h.focus();
        }
    });
    let panel = NodeRef::<leptos::html::Aside>::new();
    Effect::new(move |_| {
        let navigate = navigate.clone();
        let close = close.clone();
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" {
                navigate(&close, Default::default());
            }
            #[cfg(feature = "hydrate")]
            if let Some(panel) = panel.get_untracked() {
                keep_focus_inside(&ev, &panel);
            }
        });
        on_cleanup(move || handle.remove());
    });
    view! {
        <aside
            node_ref=panel
            role="dialog"
            aria-modal="true"
            aria-labelledby="drawer-title"
            data-testid="order-drawer"
            class="fixed inset-y-0 right-0 z-40 flex w-full max-w-md flex-col overflow-y-auto border-l bg-surface text-sm shadow-2xl"
        >
            <div class="flex items-start justify-between gap-3 px-4 py-3">
                <h2 id="drawer-title" node_ref=heading tabindex="-1" class="text-base font-semibold focus:outline-none">
                    {title}
                </h2>
                <a
                    href=close_href
                    class="rounded-md px-2 py-0.5 text-secondary hover:bg-fill-transparent-hover focus:outline-none focus:ring-2 focus:ring-focus"
                    data-testid="drawer-close"
                >
                    "Close"
                    <span class="sr-only">" the order (Escape)"</span>
                </a>
            </div>
            {children()}
        </aside>
    }
}

/// Tab and Shift+Tab go round the dialog's controls and never leave it (a modal dialog).
#[cfg(feature = "hydrate")]
fn keep_focus_inside(ev: &leptos::ev::KeyboardEvent, panel: &web_sys::HtmlElement) {
    use wasm_bindgen::JsCast;
    if ev.key() != "Tab" {
        return;
    }
    const FOCUSABLE: &str = "a[href], button:not([disabled]), input:not([disabled]), \
                             textarea:not([disabled]), select:not([disabled]), [tabindex='0']";
    let Ok(list) = panel.query_selector_all(FOCUSABLE) else {
        return;
    };
    let at = |i: u32| {
        list.item(i)
            .and_then(|n| n.dyn_into::<web_sys::HtmlElement>().ok())
    };
    let (Some(first), Some(last)) = (at(0), at(list.length().saturating_sub(1))) else {
        return;
    };
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    let inside = active
        .as_ref()
        .is_some_and(|a| panel.contains(Some(a.unchecked_ref())));
    let on = |el: &web_sys::HtmlElement| {
        active
            .as_ref()
            .is_some_and(|a| a == el.unchecked_ref::<web_sys::Element>())
    };
    let to = if ev.shift_key() {
        (!inside || on(&first)).then_some(last)
    } else {
        (!inside || on(&last)).then_some(first)
    };
    if let Some(el) = to {
        ev.prevent_default();
        let _ = el.focus();
    }
}

/// `?order=` named something that cannot be shown.
#[component]
pub fn MissingOrder(error: String, close_href: String) -> impl IntoView {
    view! {
        <Frame title="Order not shown".to_owned() close_href>
            <p role="alert" class="mx-4 rounded-md border border-critical bg-surface-critical px-3 py-2 text-critical">
                {error}
            </p>
        </Frame>
    }
}

/// One order in full.
#[component]
pub fn OrderDrawer(
    order: OrderDetail,
    close_href: String,
    actions: Actions,
    ready: RwSignal<bool>,
) -> impl IntoView {
    let OrderDetail {
        id,
        order_number,
        assigned_to,
        return_state,
        support_thread,
        facts_html,
        shipments_html,
        timeline_html,
    } = order;
    let title = format!("Order {order_number}");
    let busy = move || !ready.get() || actions.pending.get() > 0;

    // The assignment, changed at once and put back if Sync refuses.
    let owner = RwSignal::new(assigned_to);
    let owner_input = NodeRef::<leptos::html::Input>::new();
    let assign = {
        let id = id.clone();
        move |name: Option<String>| {
            let before = owner.get_untracked();
            owner.set(name.clone());
            // The row under the drawer changes too.
            let shown = name.clone();
            let row = actions.patch(std::slice::from_ref(&id), |r| r.assigned_to = shown.clone());
            actions.send(
                SyncWrite::Assign,
                WriteBody {
                    order_ids: Some(vec![id.clone()]),
                    assignee: Some(name),
                    ..WriteBody::default()
                },
                move || {
                    owner.set(before);
                    actions.restore(row);
                },
            );
        }
    };
    let on_assign = {
        let assign = assign.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let name = typed(owner_input);
            if name.is_empty() {
                actions
                    .toasts
                    .failure("Type a name to assign the order to.");
            } else {
                assign(Some(name));
            }
        }
    };
    let on_unassign = move |_| assign(None);

    let return_view = return_state.map(|state| {
        view! { <ReturnPanel order_id=id.clone() state actions ready/> }
    });

    // Support: the thread changes at once to the one being opened.
    let thread = RwSignal::new(support_thread);
    let conversation = NodeRef::<leptos::html::Input>::new();
    let note = NodeRef::<leptos::html::Textarea>::new();
    let on_support = {
        let id = id.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let conv = typed(conversation);
            let text = written(note);
            if text.is_empty() {
                actions
                    .toasts
                    .failure("Write a note for support: what does the customer need?");
                return;
            }
            let before = thread.get_untracked();
            let opening = if conv.is_empty() {
                "opening…".to_owned()
            } else {
                conv.clone()
            };
            thread.set(Some(opening.clone()));
            let row = actions.patch(std::slice::from_ref(&id), |r| {
                r.support_thread = Some(opening.clone())
            });
            let body = WriteBody {
                order_id: Some(id.clone()),
                note: Some(text),
                conversation_id: (!conv.is_empty()).then_some(conv),
                ..WriteBody::default()
            };
            actions.send(SyncWrite::Support, body, move || {
                thread.set(before);
                actions.restore(row);
            });
        }
    };

    view! {
        <Frame title close_href>
            // The facts, shipments and timeline are the server's HTML (`facts.rs`).
            <div inner_html=facts_html></div>
            <section class=SECTION aria-labelledby="drawer-assignment">
                <h3 id="drawer-assignment" class=HEADING>"Assignment"</h3>
                <p data-testid="drawer-assignee">
                    {move || owner.get().unwrap_or_else(|| "Unassigned".to_owned())}
                </p>
                <form class="flex gap-2" on:submit=on_assign>
                    <fieldset class="contents" disabled=busy>
                        <label class="sr-only" for="drawer-assign-to">"Assign to"</label>
                        <input id="drawer-assign-to" node_ref=owner_input class=FIELD type="text" placeholder="Assign to…" maxlength="100"/>
                        <button type="submit" class=BUTTON>"Assign"</button>
                        <button type="button" class=BUTTON disabled=move || owner.with(Option::is_none) on:click=on_unassign>
                            "Unassign"
                        </button>
                    </fieldset>
                </form>
            </section>
            <section class=SECTION aria-labelledby="drawer-shipments">
                <h3 id="drawer-shipments" class=HEADING>"Shipments"</h3>
                <ul class="space-y-1" inner_html=shipments_html></ul>
            </section>
            {return_view}
            <section class=SECTION aria-labelledby="drawer-support">
                <h3 id="drawer-support" class=HEADING>"Support"</h3>
                <p data-testid="drawer-support-thread">
                    {move || match thread.get() {
                        Some(t) => format!("Escalated · thread {t}"),
                        None => "Not escalated".to_owned(),
                    }}
                </p>
                <form on:submit=on_support data-testid="support-form">
                    <fieldset class="space-y-2" disabled=busy>
                        <label class="block text-xs font-medium text-secondary">
                            "Conversation id (optional)"
                            <input node_ref=conversation class=FIELD type="text" maxlength="100"/>
                        </label>
                        <label class="block text-xs font-medium text-secondary">
                            "Note for support"
                            <textarea node_ref=note class=FIELD rows="2" maxlength="2000"></textarea>
                        </label>
                        <button type="submit" class=BUTTON>"Escalate to support"</button>
                    </fieldset>
                </form>
            </section>
            <section class=SECTION aria-labelledby="drawer-timeline">
                <h3 id="drawer-timeline" class=HEADING>"Timeline · last ten"</h3>
                <ol class="space-y-2" data-testid="drawer-timeline" inner_html=timeline_html></ol>
            </section>
        </Frame>
    }
}

/// The return: its state, and a button for each action the dashboard offers that the state allows.
#[component]
fn ReturnPanel(
    order_id: String,
    state: ReturnState,
    actions: Actions,
    ready: RwSignal<bool>,
) -> impl IntoView {
    let current = RwSignal::new(state);
    let note = NodeRef::<leptos::html::Textarea>::new();
    let busy = move || !ready.get() || actions.pending.get() > 0;
    let order_id = StoredValue::new(order_id);
    let act = move |action: ReturnAction| {
        let before = current.get_untracked();
        let Ok(next) = apply(before, action) else {
            return;
        };
        current.set(next);
        let row = actions.patch(&[order_id.get_value()], |r| r.return_state = Some(next));
        let text = written(note);
        let body = WriteBody {
            order_id: Some(order_id.get_value()),
            action: Some(action.as_str().to_owned()),
            note: (!text.is_empty()).then_some(text),
            ..WriteBody::default()
        };
        actions.send(SyncWrite::Returns, body, move || {
            current.set(before);
            actions.restore(row);
        });
    };
    let buttons = move || {
        let offered: Vec<ReturnAction> = legal_actions(current.get())
            .filter(|a| DASHBOARD_ACTIONS.contains(a))
            .collect();
        if offered.is_empty() {
            return Either::Left(
                view! { <p class="text-secondary">"Nothing to decide in this state."</p> },
            );
        }
        Either::Right(offered
            .into_iter()
            .map(|a| {
                view! {
                    <button type="button" class=BUTTON disabled=busy data-action=a.as_str() on:click=move |_| act(a)>
                        {action_label(a)}
                    </button>
                }
            })
            .collect_view())
    };
    view! {
        <section class=SECTION aria-labelledby="drawer-return" data-testid="return-panel">
            <h3 id="drawer-return" class=HEADING>"Return"</h3>
            <p>
                "State: "
                <span class="font-medium" data-testid="return-state" data-state=move || current.get().as_str()>
                    {move || return_label(current.get())}
                </span>
            </p>
            <label class="block text-xs font-medium text-secondary">
                "Note (optional)"
                <textarea node_ref=note class=FIELD rows="2" maxlength="2000" disabled=busy></textarea>
            </label>
            <div class="flex flex-wrap gap-2">{buttons}</div>
        </section>
    }
}

fn action_label(action: ReturnAction) -> &'static str {
    match action {
        ReturnAction::ApproveRefund => "Approve refund",
        ReturnAction::Deny => "Deny",
        ReturnAction::RequestInspection => "Request inspection",
        other => other.as_str(),
    }
}

/// A return state for people: `in_transit` reads "In transit".
pub fn return_label(state: ReturnState) -> String {
    sentence_case(state.as_str())
}

/// A wire name (`in_transit`) as words that start a sentence ("In transit").
pub(super) fn sentence_case(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_read_as_words() {
        assert_eq!(return_label(ReturnState::InTransit), "In transit");
        assert_eq!(sentence_case("label_created"), "Label created");
        assert_eq!(sentence_case(""), "");
    }

    #[test]
    fn only_the_dashboards_legal_actions_are_offered() {
        for &state in ReturnState::ALL {
            for action in legal_actions(state).filter(|a| DASHBOARD_ACTIONS.contains(a)) {
                assert!(apply(state, action).is_ok());
                assert!(DASHBOARD_ACTIONS.contains(&action));
            }
        }
        let from_inspection: Vec<_> = legal_actions(ReturnState::Inspection)
            .filter(|a| DASHBOARD_ACTIONS.contains(a))
            .collect();
        assert!(!from_inspection.contains(&ReturnAction::RequestInspection));
    }
}
