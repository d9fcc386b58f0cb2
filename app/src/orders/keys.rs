//! Keyboard triage: the whole round of work without the mouse. `j`/`k` move between rows, `x`
//! selects, `Enter` opens (the row's link has the focus), `Esc` closes; `a` assigns, `f`
//! fulfills and `e` escalates the selection (each opens its form in the bulk bar), `/` goes to the
//! search box, and `?` lists the keys.
//!
//! A key is a shortcut only when no field has the focus (typing a name is typing), with no Ctrl,
//! Alt or Meta, and not while a dialog is open: the drawer keeps its own keys.

use leptos::prelude::*;

use super::actions::Actions;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    Next,
    Previous,
    Select,
    Assign,
    Fulfill,
    Escalate,
    Search,
    Help,
}

/// The keys and what they do, as the key list shows them: static markup, so the browser carries
/// no view code for it.
const KEY_LIST: &str = concat!(
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">j</kbd></dt><dd>Next order</dd>",
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">k</kbd></dt><dd>Previous order</dd>",
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">x</kbd></dt><dd>Select or unselect the order</dd>",
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">Enter</kbd></dt><dd>Open the order</dd>",
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">Esc</kbd></dt><dd>Close the order, or this list</dd>",
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">a</kbd></dt><dd>Assign the selected orders</dd>",
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">f</kbd></dt><dd>Fulfill the selected orders</dd>",
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">e</kbd></dt><dd>Escalate the selected orders to support</dd>",
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">/</kbd></dt><dd>Search</dd>",
    "<dt><kbd class=\"rounded border border-tertiary bg-surface-secondary px-1.5 font-mono text-xs\">?</kbd></dt><dd>Show or hide these keys</dd>",
);

/// The shortcut of `key` (a `KeyboardEvent.key`), if it is one and no modifier is held.
pub fn shortcut(key: &str, modified: bool) -> Option<Shortcut> {
    if modified {
        return None;
    }
    Some(match key {
        "j" | "ArrowDown" => Shortcut::Next,
        "k" | "ArrowUp" => Shortcut::Previous,
        "x" => Shortcut::Select,
        "a" => Shortcut::Assign,
        "f" => Shortcut::Fulfill,
        "e" => Shortcut::Escalate,
        "/" => Shortcut::Search,
        "?" => Shortcut::Help,
        _ => return None,
    })
}

/// The row to move to from `current` (none yet: before the first) among `len` rows.
#[cfg_attr(
    not(feature = "hydrate"),
    allow(dead_code, reason = "the keys move the focus in the browser only")
)]
pub fn step(current: Option<usize>, len: usize, forward: bool) -> Option<usize> {
    let last = len.checked_sub(1)?;
    Some(match (current, forward) {
        (None, _) => 0,
        (Some(i), true) => (i + 1).min(last),
        (Some(i), false) => i.saturating_sub(1).min(last),
    })
}

/// Follows the page's keys for as long as the page is up; `help` shows the key list, `at` keeps
/// the id of the row the keys last moved to, so a reload of the page's data (which replaces the
/// rows, and the focus with them) does not lose the place.
pub fn listen(actions: Actions, help: RwSignal<bool>, at: StoredValue<Option<String>>) {
    Effect::new(move |_| {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if help.get_untracked() && (ev.key() == "Escape" || ev.key() == "?") {
                ev.prevent_default();
                help.set(false);
                return;
            }
            let modified = ev.ctrl_key() || ev.meta_key() || ev.alt_key();
            let Some(key) = shortcut(&ev.key(), modified) else {
                return;
            };
            #[cfg(feature = "hydrate")]
            dom::act(&ev, key, actions, help, at);
            #[cfg(not(feature = "hydrate"))]
            let _ = (key, actions, at);
        });
        on_cleanup(move || handle.remove());
    });
}

#[cfg(feature = "hydrate")]
mod dom {
    //! The keys' work on the page's DOM.

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlElement};

    use super::{step, Shortcut};
    use crate::orders::actions::Actions;

    fn document() -> Option<web_sys::Document> {
        web_sys::window().and_then(|w| w.document())
    }

    /// Whether the focus is in a field, where keys are typing.
    fn typing(active: Option<&Element>) -> bool {
        active.is_some_and(|el| {
            matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || el.has_attribute("contenteditable")
        })
    }

    fn focus(el: Option<Element>) {
        if let Some(el) = el.and_then(|e| e.dyn_into::<HtmlElement>().ok()) {
            let _ = el.focus();
        }
    }

    /// The table's row links, in order.
    fn row_links(doc: &web_sys::Document) -> Vec<Element> {
        let Ok(list) = doc.query_selector_all("tbody tr[data-order-id] a[data-testid=order-link]")
        else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.item(i)?.dyn_into::<Element>().ok())
            .collect()
    }

    /// The id of the row `link` is in.
    fn row_id(link: &Element) -> Option<String> {
        link.closest("tr[data-order-id]")
            .ok()??
            .get_attribute("data-order-id")
    }

    /// The row the keys are on: the one the focus is in, else the one they last moved to (a
    /// reload took the focus away); its position and id.
    fn current_row(
        active: Option<&Element>,
        links: &[Element],
        at: Option<String>,
    ) -> Option<(usize, String)> {
        let focused = active
            .and_then(|a| a.closest("tr[data-order-id]").ok().flatten())
            .and_then(|row| row.get_attribute("data-order-id"));
        let id = focused.or(at)?;
        let index = links
            .iter()
            .position(|l| row_id(l).as_deref() == Some(id.as_str()))?;
        Some((index, id))
    }

    /// Opens the bulk bar's form `action` and puts the focus in its first field.
    fn open_form(doc: &web_sys::Document, action: &str, actions: Actions) {
        if actions.selected.with_untracked(Vec::is_empty) {
            actions
                .toasts
                .failure("Select orders first: move with j and k, select with x.");
            return;
        }
        let Ok(Some(menu)) = doc.query_selector(&format!("details[data-action={action}]")) else {
            return;
        };
        let _ = menu.set_attribute("open", "");
        focus(menu.query_selector("input, textarea").ok().flatten());
    }

    pub fn act(
        ev: &web_sys::KeyboardEvent,
        key: Shortcut,
        actions: Actions,
        help: RwSignal<bool>,
        at: StoredValue<Option<String>>,
    ) {
        let Some(doc) = document() else {
            return;
        };
        let active = doc.active_element();
        if typing(active.as_ref()) {
            return;
        }
        // A dialog (the drawer) is open: its own keys only.
        if doc
            .query_selector("[aria-modal=true]")
            .ok()
            .flatten()
            .is_some()
        {
            return;
        }
        ev.prevent_default();
        let links = row_links(&doc);
        let current = current_row(active.as_ref(), &links, at.get_value());
        match key {
            Shortcut::Next | Shortcut::Previous => {
                let to = step(current.map(|(i, _)| i), links.len(), key == Shortcut::Next)
                    .and_then(|i| links.get(i).cloned());
                at.set_value(to.as_ref().and_then(row_id));
                focus(to);
            }
            Shortcut::Select => {
                if let Some((index, id)) = current {
                    focus(links.get(index).cloned());
                    actions.selected.update(|s| {
                        if let Some(at) = s.iter().position(|x| *x == id) {
                            s.remove(at);
                        } else {
                            s.push(id);
                        }
                    });
                }
            }
            Shortcut::Assign => open_form(&doc, "assign", actions),
            Shortcut::Fulfill => open_form(&doc, "fulfill", actions),
            Shortcut::Escalate => open_form(&doc, "escalate", actions),
            Shortcut::Search => focus(doc.query_selector("[data-testid=search]").ok().flatten()),
            Shortcut::Help => help.update(|open| *open = !*open),
        }
    }
}

/// The list of keys, as a modal dialog (`?` or Escape closes it).
#[component]
pub(super) fn KeyHelp(open: RwSignal<bool>) -> impl IntoView {
    let close = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if open.get() {
            if let Some(button) = close.get() {
                let _ = button.focus();
            }
        }
    });
    view! {
        <div
            class="fixed inset-0 z-50 flex items-center justify-center bg-backdrop"
            class:hidden=move || !open.get()
            data-testid="key-help"
        >
            <div
                role="dialog"
                aria-modal=move || open.get().then_some("true")
                aria-labelledby="key-help-title"
                class="w-full max-w-sm rounded-lg border bg-surface p-4 text-sm shadow-2xl"
            >
                <div class="mb-2 flex items-center justify-between">
                    <h2 id="key-help-title" class="text-base font-semibold">"Keyboard shortcuts"</h2>
                    <button
                        type="button"
                        node_ref=close
                        class="rounded-md px-2 py-0.5 text-secondary hover:bg-fill-transparent-hover focus:outline-none focus:ring-2 focus:ring-focus"
                        on:click=move |_| open.set(false)
                    >
                        "Close"
                    </button>
                </div>
                <dl class="grid grid-cols-[4rem_1fr] gap-x-3 gap-y-1" inner_html=KEY_LIST></dl>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_shortcuts_only_without_modifiers() {
        assert_eq!(shortcut("j", false), Some(Shortcut::Next));
        assert_eq!(shortcut("?", false), Some(Shortcut::Help));
        assert_eq!(shortcut("a", true), None, "Ctrl+A selects text");
        assert_eq!(shortcut("q", false), None);
    }

    #[test]
    fn moving_stays_within_the_rows() {
        assert_eq!(step(None, 3, true), Some(0));
        assert_eq!(step(None, 3, false), Some(0));
        assert_eq!(step(Some(1), 3, true), Some(2));
        assert_eq!(step(Some(2), 3, true), Some(2));
        assert_eq!(step(Some(0), 3, false), Some(0));
        assert_eq!(step(Some(5), 3, false), Some(2));
        assert_eq!(step(None, 0, true), None);
    }
}
