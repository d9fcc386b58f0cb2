//! The controls above the table: the tabs with their count badges, the filter bar and the bulk
//! actions bar.

use leptos::prelude::*;
use orders_core::{OrderStatus, Priority};

use super::actions::Actions;
#[cfg(feature = "ssr")]
use super::model::{tab_label, TabLink};
use super::model::{FilterState, PAGE_SIZES};

/// The look of a text field or a select (the classes only), stated once for the filter bar's
/// fields and the forms' ([`FIELD`]).
macro_rules! field_look {
    () => {
        "rounded-md border border-input bg-surface px-2 py-1 text-sm focus:border-focus focus:outline-none focus:ring-1 focus:ring-focus"
    };
}

/// The look of a secondary button, stated once for buttons ([`BUTTON`]) and links that look like
/// one ([`BUTTON_LOOK`]).
macro_rules! button_look {
    () => {
        "rounded-md bg-fill px-3 py-1 text-sm font-medium shadow-button hover:bg-fill-hover focus:outline-none focus:ring-2 focus:ring-focus"
    };
}

/// A form's text field, the full width of its form (the drawer's and the bulk bar's).
pub(super) const FIELD: &str = concat!("w-full ", field_look!(), " disabled:bg-surface-disabled");
/// A form's button (the drawer's and the bulk bar's).
pub(super) const BUTTON: &str = concat!(
    button_look!(),
    " disabled:cursor-not-allowed disabled:opacity-50"
);
/// A link drawn as a secondary button (it is never disabled).
pub(super) const BUTTON_LOOK: &str = button_look!();
/// The look of the filter bar's fields.
const FILTER_FIELD: &str = field_look!();

/// Assign, fulfill and escalate the selected rows, each from a small form that opens under its
/// button, so the bar stays one line above the table. The selection is this page's rows only, and
/// the bar says how many; changing page, tab or filter clears it.
#[component]
pub(super) fn BulkBar(actions: Actions, ready: RwSignal<bool>) -> impl IntoView {
    let count = move || actions.selected.with(|s| s.len());
    let idle = move || !ready.get() || count() == 0 || actions.pending.get() > 0;
    let assignee = NodeRef::<leptos::html::Input>::new();
    let number = NodeRef::<leptos::html::Input>::new();
    let carrier = NodeRef::<leptos::html::Input>::new();
    let note = NodeRef::<leptos::html::Textarea>::new();
    let conversation = NodeRef::<leptos::html::Input>::new();
    let assign_menu = NodeRef::<leptos::html::Details>::new();
    let fulfill_menu = NodeRef::<leptos::html::Details>::new();
    let escalate_menu = NodeRef::<leptos::html::Details>::new();
    // A sent form closes, and gives the focus back to the page (so the keys work again).
    let close = |menu: NodeRef<leptos::html::Details>| {
        if let Some(menu) = menu.get_untracked() {
            let _ = menu.remove_attribute("open");
        }
        #[cfg(feature = "hydrate")]
        blur_focus();
    };
    let on_assign = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = typed(assignee);
        if name.is_empty() {
            actions
                .toasts
                .failure("Type a name to assign the orders to.");
            return;
        }
        close(assign_menu);
        actions.assign(actions.selection(), Some(name));
    };
    let on_unassign = move |_| {
        close(assign_menu);
        actions.assign(actions.selection(), None);
    };
    let on_fulfill = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, c) = (typed(number), typed(carrier));
        let tracking = match (n.is_empty(), c.is_empty()) {
            (true, true) => None,
            (false, false) => Some((n, c)),
            _ => {
                actions
                    .toasts
                    .failure("Give both the tracking number and the carrier, or neither.");
                return;
            }
        };
        close(fulfill_menu);
        actions.fulfill(actions.selection(), tracking);
    };
    let on_escalate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = written(note);
        if text.is_empty() {
            actions
                .toasts
                .failure("Write a note for support: what do these customers need?");
            return;
        }
        let conv = Some(typed(conversation)).filter(|c| !c.is_empty());
        close(escalate_menu);
        actions.escalate(actions.selection(), text, conv);
    };
    // On a phone a form spans the bar (the bar is the panel's containing block there), rather than
    // starting under its button and running off the screen's right edge.
    let menu = "relative max-sm:static";
    let opener = "cursor-pointer select-none list-none rounded-md bg-fill px-3 py-1 text-sm font-medium shadow-button hover:bg-fill-hover focus:outline-none focus-visible:ring-2 focus-visible:ring-focus";
    let panel = "absolute left-0 z-20 mt-1 flex w-max flex-col gap-2 rounded-md border bg-surface p-3 shadow-lg max-sm:inset-x-0 max-sm:w-auto";
    let label = "flex flex-col gap-0.5 text-xs font-medium text-secondary";
    view! {
        <section
            aria-label="Bulk actions"
            aria-busy=move || (actions.pending.get() > 0).to_string()
            data-testid="bulk-bar"
            class="sticky top-0 z-10 flex flex-wrap items-center gap-x-3 gap-y-2 rounded-lg border bg-surface px-3 py-1.5 shadow-sm"
        >
            <p class="min-w-40 text-sm text-default" aria-live="polite" data-testid="selection-count">
                {move || match count() {
                    // A write is on its way: the bar says so until Sync answers.
                    _ if actions.pending.get() > 0 => "Saving…".to_owned(),
                    0 => "Select orders on this page to act on them".to_owned(),
                    1 => "1 order selected on this page".to_owned(),
                    n => format!("{n} orders selected on this page"),
                }}
            </p>
            <details class=menu node_ref=assign_menu data-action="assign">
                <summary class=opener data-testid="bulk-assign">"Assign…"</summary>
                <form class=panel on:submit=on_assign aria-label="Assign selected">
                    <fieldset class="contents" disabled=idle>
                    <label class=label>
                        "Assign to"
                        <input node_ref=assignee class=format!("{FIELD} sm:w-48") type="text" maxlength="100"/>
                    </label>
                    <div class="flex gap-2">
                        <button type="submit" class=BUTTON>"Assign"</button>
                        <button type="button" class=BUTTON on:click=on_unassign>"Unassign"</button>
                    </div>
                    </fieldset>
                </form>
            </details>
            <details class=menu node_ref=fulfill_menu data-action="fulfill">
                <summary class=opener data-testid="bulk-fulfill">"Fulfill…"</summary>
                <form class=panel on:submit=on_fulfill aria-label="Fulfill selected">
                    <fieldset class="contents" disabled=idle>
                    <label class=label>
                        "Tracking number (optional)"
                        <input node_ref=number class=format!("{FIELD} sm:w-48") type="text"/>
                    </label>
                    <label class=label>
                        "Carrier"
                        <input node_ref=carrier class=format!("{FIELD} sm:w-48") type="text"/>
                    </label>
                    <button type="submit" class=BUTTON>"Mark fulfilled"</button>
                    </fieldset>
                </form>
            </details>
            <details class=menu node_ref=escalate_menu data-action="escalate">
                <summary class=opener data-testid="bulk-escalate">"Escalate…"</summary>
                <form class=panel on:submit=on_escalate aria-label="Escalate selected">
                    <fieldset class="contents" disabled=idle>
                    <label class=label>
                        "Note for support"
                        <textarea node_ref=note class=format!("{FIELD} sm:w-72") rows="3" maxlength="2000"></textarea>
                    </label>
                    <label class=label>
                        "Conversation id (optional)"
                        <input node_ref=conversation class=format!("{FIELD} sm:w-72") type="text" maxlength="100"/>
                    </label>
                    <button type="submit" class=BUTTON>"Escalate to support"</button>
                    </fieldset>
                </form>
            </details>
            <button
                type="button"
                class="text-sm text-link underline disabled:invisible"
                disabled=move || count() == 0
                on:click=move |_| actions.selected.set(Vec::new())
            >
                "Clear selection"
            </button>
        </section>
    }
}

/// What was typed in a field, trimmed (nothing before the field is on the page).
pub(super) fn typed(input: NodeRef<leptos::html::Input>) -> String {
    input
        .get_untracked()
        .map(|i| i.value().trim().to_owned())
        .unwrap_or_default()
}

/// What was written in a text area, trimmed.
pub(super) fn written(area: NodeRef<leptos::html::Textarea>) -> String {
    area.get_untracked()
        .map(|t| t.value().trim().to_owned())
        .unwrap_or_default()
}

/// Takes the focus off whatever has it.
#[cfg(feature = "hydrate")]
fn blur_focus() {
    use wasm_bindgen::JsCast;
    let active = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(el) = active {
        let _ = el.blur();
    }
}

/// The six tabs, each with its count badge, as HTML for the page's `<nav>`: they are links, which
/// the browser only shows (the router follows them), so it carries no code to draw them.
#[cfg(feature = "ssr")]
pub(super) fn tabs_html(tabs: Vec<TabLink>) -> String {
    view! { <TabBar tabs/> }.to_html()
}

/// The six tabs, each with its count badge.
#[cfg(feature = "ssr")]
#[component]
fn TabBar(tabs: Vec<TabLink>) -> impl IntoView {
    view! {
            <ul class="-mb-px flex flex-wrap gap-x-1">
                {tabs
                    .into_iter()
                    .map(|t| {
                        let class = if t.active {
                            "flex items-center gap-1.5 border-b-2 border-current px-3 py-2 font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-focus"
                        } else {
                            "flex items-center gap-1.5 border-b-2 border-transparent px-3 py-2 text-secondary hover:border-tertiary hover:text-default focus:outline-none focus-visible:ring-2 focus-visible:ring-focus"
                        };
                        view! {
                            <li>
                                <a
                                    href=t.href
                                    class=class
                                    data-tab=t.tab.as_str()
                                    aria-current=t.active.then_some("page")
                                >
                                    {tab_label(t.tab)}
                                    <span
                                        class="badge tabular-nums"
                                        data-testid="tab-count"
                                    >
                                        {t.count}
                                    </span>
                                </a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
    }
}

/// The filter bar: a plain GET form over the page's own URL parameters, so it works before the
/// WASM loads; once hydrated, the router submits it in place. A filter starts again at the first
/// page of the current tab.
#[component]
pub(super) fn Filters(filters: FilterState, mine: Option<String>) -> impl IntoView {
    let FilterState {
        shop,
        embedding,
        tab,
        statuses,
        priorities,
        assigned_to,
        date_start,
        date_end,
        search,
        page_size,
        active,
        clear_href,
    } = filters;
    let field = FILTER_FIELD;
    let label = "flex items-center gap-1.5 text-xs font-medium text-secondary";
    let status_choices = OrderStatus::ALL
        .iter()
        .map(|s| (s.as_str(), status_label(*s), statuses.contains(s)))
        .collect();
    let priority_choices = Priority::ALL
        .iter()
        .map(|p| (p.as_str(), priority_label(*p), priorities.contains(p)))
        .collect();
    // A page size the URL gave (any of 1‥250) is offered too, so that applying a filter keeps it.
    let mut sizes = PAGE_SIZES.to_vec();
    if !sizes.contains(&page_size) {
        sizes.push(page_size);
        sizes.sort_unstable();
    }
    let sizes = sizes
        .into_iter()
        .map(|n| view! { <option value=n.to_string() selected=n == page_size>{format!("{n} rows")}</option> })
        .collect_view();
    view! {
        <form
            method="get"
            action="/orders"
            class="flex flex-wrap items-center gap-3 rounded-lg border bg-surface px-3 py-1.5 shadow-sm"
            aria-label="Filters"
            data-testid="filters"
        >
            {shop.map(|s| view! { <input type="hidden" name="shop" value=s/> })}
            {embedding
                .pairs()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value.to_owned()/> })
                .collect_view()}
            {(tab != orders_core::Tab::All).then(|| view! { <input type="hidden" name="tab" value=tab.as_str()/> })}
            <label class=label>
                <span class="sr-only">"Search"</span>
                <input
                    class=format!("{field} w-60")
                    type="search"
                    name="query"
                    placeholder="Search: order number, name or email"
                    minlength="3"
                    maxlength="100"
                    value=search
                    data-testid="search"
                    aria-keyshortcuts="/"
                    on:keydown=|ev: leptos::ev::KeyboardEvent| {
                        // Escape leaves the box, so the keys work on the table again.
                        if ev.key() == "Escape" {
                            let _ = event_target::<leptos::web_sys::HtmlElement>(&ev).blur();
                        }
                    }
                />
            </label>
            <ChoiceFilter name="status" legend="Status" width="w-52" choices=status_choices/>
            <ChoiceFilter name="priority" legend="Priority" width="w-44" choices=priority_choices/>
            <label class=label>
                <span class="sr-only">"Assignee"</span>
                <input
                    class=format!("{field} w-36")
                    type="text"
                    name="assigned_to"
                    list="assignee-choices"
                    placeholder="Assignee: anyone"
                    value=assigned_to
                />
                <datalist id="assignee-choices">
                    {mine.map(|me| view! { <option value="mine">{format!("Me ({me})")}</option> })}
                    <option value="unassigned">"Nobody (unassigned)"</option>
                </datalist>
            </label>
            <label class=label>
                "From"
                <input class=field type="date" name="date_start" value=date_start/>
            </label>
            <label class=label>
                "To"
                <input class=field type="date" name="date_end" value=date_end/>
            </label>
            <label class=label>
                <span class="sr-only">"Page size"</span>
                <select class=field name="pageSize">{sizes}</select>
            </label>
            <button
                type="submit"
                class="rounded-md bg-fill-brand px-3 py-1.5 text-sm font-medium text-brand-on-bg-fill shadow-button-primary hover:bg-fill-brand-hover focus:outline-none focus:ring-2 focus:ring-focus"
            >
                "Apply"
            </button>
            {active.then(|| view! {
                <a href=clear_href class="py-1.5 text-sm text-link underline" data-testid="clear-filters">"Clear filters"</a>
            })}
        </form>
    }
}

/// One multi-valued filter (`status`, `priority`) as a drop-down of checkboxes, each choice given
/// as (value, label, checked); its summary says how many are chosen.
#[component]
fn ChoiceFilter(
    name: &'static str,
    legend: &'static str,
    width: &'static str,
    choices: Vec<(&'static str, &'static str, bool)>,
) -> impl IntoView {
    let chosen = choices.iter().filter(|(_, _, checked)| *checked).count();
    let boxes = choices
        .into_iter()
        .map(|(value, label, checked)| {
            view! {
                <label class="flex items-center gap-2 px-2 py-1 text-sm text-default">
                    <input type="checkbox" name=name value=value checked=checked/>
                    {label}
                </label>
            }
        })
        .collect_view();
    view! {
        <details class="relative" data-filter=name>
            <summary class=format!("{FILTER_FIELD} cursor-pointer list-none select-none")>{summary(legend, chosen)}</summary>
            <fieldset class=format!("absolute z-20 mt-1 {width} rounded-md border bg-surface py-1 shadow-lg")>
                <legend class="sr-only">{legend}</legend>
                {boxes}
            </fieldset>
        </details>
    }
}

/// "Any status", or "Status · 2" when some are chosen.
fn summary(noun: &str, chosen: usize) -> String {
    match chosen {
        0 => format!("Any {}", noun.to_ascii_lowercase()),
        n => format!("{noun} · {n}"),
    }
}

pub(super) fn status_label(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Unfulfilled => "Unfulfilled",
        OrderStatus::PartiallyFulfilled => "Partially fulfilled",
        OrderStatus::Fulfilled => "Fulfilled",
        OrderStatus::OnHold => "On hold",
        OrderStatus::Cancelled => "Cancelled",
    }
}

pub(super) fn priority_label(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "Low",
        Priority::Normal => "Normal",
        Priority::High => "High",
        Priority::Urgent => "Urgent",
    }
}
