//! The `/orders` page: tabs with count badges, the orders table and cursor pagination. The whole
//! view state lives in the URL (the read API's own parameters, plus `shop`), and every control is
//! a plain link, so the page works before the WASM loads and a shared link shows the same view.
//! Inside Shopify's admin every link and form also keeps the admin's `host` and `embedded`
//! (SPEC §10), and the CSV link takes a session token when clicked.
//!
//! Branches are `Either`, not `AnyView`: an erased view carries an async hydration path the page
//! never takes, and it cost a third of the WASM. The crate raises the recursion limit instead, for
//! the deep view types this gives.

mod actions;
#[cfg(feature = "ssr")]
mod charts;
mod drawer;
mod links;
mod load;
mod model;
#[cfg(all(test, feature = "ssr"))]
mod tests;

use actions::Actions;

use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use orders_core::{AlertKind, FinancialStatus, OrderStatus, Priority, ReturnState};

pub use links::Embedding;
use links::{home_href, load_arguments, with_param};
pub use load::{load_orders, LoadOrders};
pub use model::{
    tab_label, FilterState, Importing, LoadError, OrderRow, OrdersView, TabLink, PAGE_SIZES,
};

/// How often a page showing sample data checks whether the database is back.
const SAMPLE_RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The orders page: reads the URL, loads the page through [`load_orders`] (on the server for the
/// first render, by a server-function call on later navigations) and renders it, its links keeping
/// the admin's parameters of the URL.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let params = use_query_map();
    // The admin's parameters are for links only: the server function never sees them.
    let page = Resource::new(
        move || params.with(|p| load_arguments(p.into_iter().map(|(k, v)| (&**k, v)))),
        |(shop, query)| load_orders(shop, query),
    );

    let refetch = Callback::new(move |()| page.refetch());
    // What survives a reload of the same view (a refresh ping, an action's confirmation): the
    // selection and the table's scroll position. Another view starts afresh.
    let keep = Keep {
        selected: RwSignal::new(Vec::new()),
        scroll: StoredValue::new(0),
    };
    Effect::new(move |_| {
        params.track();
        keep.selected.set(Vec::new());
        keep.scroll.set_value(0);
    });
    // Live alerts follow the shop on screen; their connection outlives reloads of the page's data.
    let live_shop = RwSignal::new(None::<String>);
    let live = crate::live::follow_alerts(live_shop, refetch);

    view! {
        <Title text="Orders"/>
        <Transition fallback=|| {
            view! { <p class="px-4 py-8 text-zinc-500">"Loading orders…"</p> }
        }>
            {move || Suspend::new(async move {
                let answer = page.await;
                let (shop, embedding) = params
                    .with_untracked(|p| (p.get("shop"), Embedding::from_url(|k| p.get(k))));
                match answer {
                    Ok(view) => {
                        let view = view.with_embedding(&embedding);
                        Either::Left(view! { <OrdersScreen view refetch keep live live_shop/> })
                    }
                    Err(error) => {
                        let home = home_href(shop.as_deref(), &embedding);
                        Either::Right(view! { <LoadFailed error home/> })
                    }
                }
            })}
        </Transition>
    }
}

/// What the page keeps across reloads of one view.
#[derive(Clone, Copy)]
struct Keep {
    selected: RwSignal<Vec<String>>,
    /// The table's `scrollTop`.
    scroll: StoredValue<i32>,
}

/// Side effects of this shop that could not be delivered (SPEC §7: visible, never lost).
#[component]
fn Undelivered(shop: String, count: u64, embedding: Embedding) -> impl IntoView {
    let noun = if count == 1 { "event" } else { "events" };
    let href = embedding.keep_in(&format!("/sync/outbox?shop_domain={shop}&state=dead"));
    view! {
        <p
            role="status"
            class="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-900"
            data-testid="outbox-dead"
        >
            {format!("{count} {noun} could not be delivered to the support queue, the ERP or Shopify. ")}
            <a href=href rel="external" class="font-medium underline">
                "See which"
            </a>
            " — an operator can send them again with "
            <code>"orders-sync outbox retry ID"</code>
            "."
        </p>
    }
}

/// The page once its data is there.
#[component]
fn OrdersScreen(
    view: OrdersView,
    refetch: Callback<()>,
    keep: Keep,
    live: crate::live::LiveAlerts,
    live_shop: RwSignal<Option<String>>,
) -> impl IntoView {
    let OrdersView {
        shop,
        sample,
        tabs,
        rows,
        first_row,
        last_row,
        total,
        previous_href,
        next_href,
        filters,
        self_href,
        export_href,
        pictures,
        undelivered,
        detail,
        detail_error,
        signed_in_as,
        importing,
    } = view;
    // Controls that need the WASM are disabled in the server's HTML and come alive on hydration.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    // On sample data, ask again every few seconds: the live data comes back by itself.
    if sample {
        Effect::new(move |_| {
            if let Ok(handle) =
                set_interval_with_handle(move || refetch.run(()), SAMPLE_RETRY_EVERY)
            {
                on_cleanup(move || handle.clear());
            }
        });
    }
    let embedding = filters.embedding.clone();
    let on_export = {
        let href = export_href.clone();
        let toasts = crate::toast::use_toasts();
        move |ev: leptos::ev::MouseEvent| {
            if crate::app_bridge::present() {
                ev.prevent_default();
                export_with_token(href.clone(), toasts);
            }
        }
    };
    // Live alerts follow the shop on screen (the sample shop, too).
    let followed = shop.clone();
    let banner_shop = shop.clone();
    let outbox_shop = shop.clone();
    Effect::new(move |_| {
        if live_shop.get_untracked().as_deref() != Some(followed.as_str()) {
            live_shop.set(Some(followed.clone()));
        }
    });
    // Rows that left the view leave the selection.
    keep.selected
        .update_untracked(|s| s.retain(|id| rows.iter().any(|r| &r.id == id)));
    let actions = Actions {
        shop: StoredValue::new(shop.clone()),
        rows: RwSignal::new(rows),
        selected: keep.selected,
        refetch,
        toasts: crate::toast::use_toasts(),
        pending: RwSignal::new(0),
    };
    let drawer = match (detail, detail_error) {
        (Some(order), _) => Some(Either::Left(
            view! { <drawer::OrderDrawer order close_href=self_href actions ready/> },
        )),
        (None, Some(error)) => Some(Either::Right(
            view! { <drawer::MissingOrder error close_href=self_href/> },
        )),
        (None, None) => None,
    };
    view! {
        <header class="border-b border-zinc-200 bg-white">
            <div class="mx-auto flex max-w-7xl items-center justify-between px-4 py-3">
                <h1 class="text-base font-semibold">"Orders"</h1>
                <div class="flex items-center gap-3">
                    <span class="text-sm text-zinc-600" data-testid="shop">
                        {shop}
                    </span>
                    {if sample {
                        Either::Left(view! {
                            <span
                                class="rounded-md border border-zinc-200 px-3 py-1 text-sm text-zinc-500"
                                title="Sample data is not exported; export returns with the database"
                                data-testid="export-csv-off"
                            >
                                "Export CSV unavailable on sample data"
                            </span>
                        })
                    } else {
                        Either::Right(view! {
                            <a
                                href=export_href
                                download=""
                                rel="external"
                                class="rounded-md border border-zinc-300 bg-white px-3 py-1 text-sm font-medium text-zinc-800 shadow-sm hover:bg-zinc-50 focus:outline-none focus:ring-2 focus:ring-sky-600/50"
                                data-testid="export-csv"
                                on:click=on_export
                            >
                                "Export CSV"
                                <span class="sr-only">" of every page of this view"</span>
                            </a>
                        })
                    }}
                </div>
            </div>
        </header>
        <main class="mx-auto max-w-7xl space-y-3 px-4 py-4 text-sm">
            {sample.then(|| view! { <SampleBanner/> })}
            {importing.map(|importing| view! { <ImportBanner importing/> })}
            {(undelivered > 0).then(|| {
                let embedding = embedding.clone();
                view! { <Undelivered shop=outbox_shop count=undelivered embedding/> }
            })}
            <crate::live::LiveBanners live shop=banner_shop embedding/>
            <TabBar tabs/>
            <Filters filters mine=signed_in_as/>
            {pictures.map(|html| view! { <div inner_html=html></div> })}
            <BulkBar actions ready/>
            <OrdersTable actions ready scroll=keep.scroll/>
            <Pagination first_row last_row total previous_href next_href/>
        </main>
        {drawer}
    }
}

/// Follows the CSV link with a fresh session token as `id_token=`: inside the admin the link cannot
/// carry App Bridge's `Authorization` header. The server answers with an attachment, so the page
/// stays where it is.
fn export_with_token(href: String, toasts: crate::toast::Toasts) {
    leptos::task::spawn_local(async move {
        let Some(token) = crate::app_bridge::session_token().await else {
            toasts.failure("Could not export: Shopify gave no session token. Try again.");
            return;
        };
        let url = with_param(&href, "id_token", &token);
        if window().location().set_href(&url).is_err() {
            toasts.failure("Could not start the export. Try again.");
        }
    });
}

/// Assign and fulfill for the selected rows. The selection is this page's rows only, and the bar
/// says how many; changing page, tab or filter clears it.
#[component]
fn BulkBar(actions: Actions, ready: RwSignal<bool>) -> impl IntoView {
    let count = move || actions.selected.with(|s| s.len());
    let idle = move || !ready.get() || count() == 0 || actions.pending.get() > 0;
    let assignee = NodeRef::<leptos::html::Input>::new();
    let number = NodeRef::<leptos::html::Input>::new();
    let carrier = NodeRef::<leptos::html::Input>::new();
    let field = "rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm shadow-sm focus:border-sky-600 focus:outline-none focus:ring-2 focus:ring-sky-600/30 disabled:bg-zinc-100";
    let button = "rounded-md border border-zinc-300 bg-white px-3 py-1 text-sm font-medium text-zinc-800 shadow-sm hover:bg-zinc-50 focus:outline-none focus:ring-2 focus:ring-sky-600/50 disabled:cursor-not-allowed disabled:opacity-50";
    let value = |input: NodeRef<leptos::html::Input>| {
        input
            .get_untracked()
            .map(|i| i.value().trim().to_owned())
            .unwrap_or_default()
    };
    let on_assign = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let name = value(assignee);
        if name.is_empty() {
            actions
                .toasts
                .failure("Type a name to assign the orders to.");
            return;
        }
        actions.assign(actions.selection(), Some(name));
    };
    let on_unassign = move |_| actions.assign(actions.selection(), None);
    let on_fulfill = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, c) = (value(number), value(carrier));
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
        actions.fulfill(actions.selection(), tracking);
    };
    view! {
        <section
            aria-label="Bulk actions"
            data-testid="bulk-bar"
            class="sticky top-0 z-10 flex flex-wrap items-center gap-x-4 gap-y-2 rounded-lg border border-zinc-200 bg-white px-3 py-2 shadow-sm"
        >
            <p class="min-w-40 text-sm text-zinc-700" aria-live="polite" data-testid="selection-count">
                {move || match count() {
                    0 => "Select orders on this page to act on them".to_owned(),
                    1 => "1 order selected on this page".to_owned(),
                    n => format!("{n} orders selected on this page"),
                }}
            </p>
            <form class="flex flex-wrap items-center gap-2" on:submit=on_assign aria-label="Assign selected">
                <label class="sr-only" for="bulk-assignee">"Assign to"</label>
                <input
                    id="bulk-assignee"
                    node_ref=assignee
                    class=format!("{field} w-36")
                    type="text"
                    placeholder="Assign to…"
                    maxlength="100"
                    disabled=idle
                />
                <button type="submit" class=button disabled=idle>"Assign"</button>
                <button type="button" class=button disabled=idle on:click=on_unassign>"Unassign"</button>
            </form>
            <form class="flex flex-wrap items-center gap-2" on:submit=on_fulfill aria-label="Fulfill selected">
                <label class="sr-only" for="bulk-tracking">"Tracking number (optional)"</label>
                <input
                    id="bulk-tracking"
                    node_ref=number
                    class=format!("{field} w-36")
                    type="text"
                    placeholder="Tracking no. (optional)"
                    disabled=idle
                />
                <label class="sr-only" for="bulk-carrier">"Carrier"</label>
                <input
                    id="bulk-carrier"
                    node_ref=carrier
                    class=format!("{field} w-28")
                    type="text"
                    placeholder="Carrier"
                    disabled=idle
                />
                <button type="submit" class=button disabled=idle>"Mark fulfilled"</button>
            </form>
            <button
                type="button"
                class="text-sm text-sky-700 underline disabled:invisible"
                disabled=move || count() == 0
                on:click=move |_| actions.selected.set(Vec::new())
            >
                "Clear selection"
            </button>
        </section>
    }
}

/// Says plainly that what is on screen is not the shop's real data.
#[component]
fn SampleBanner() -> impl IntoView {
    view! {
        <div
            role="status"
            data-testid="sample-banner"
            class="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-900"
        >
            <strong class="font-semibold">"Sample data. "</strong>
            "The database is unavailable, so this page shows built-in sample orders, not the shop's. \
             Changes cannot be saved until it is back; the page returns to live data by itself."
        </div>
    }
}

/// The import of the shop's order history from Shopify, after an install: how far it has come
/// (the page reloads at each refresh ping, so the count moves on by itself), or why it stopped.
#[component]
fn ImportBanner(importing: Importing) -> impl IntoView {
    let orders = importing.orders;
    let text = match importing.stopped {
        None => format!(
            "Importing your order history from Shopify: {orders} orders so far. \
             The rest appear as they arrive."
        ),
        Some(why) => format!(
            "The import of your order history stopped after {orders} orders ({why}). \
             The poller keeps new orders coming; an operator can finish it with \
             `orders-sync backfill`."
        ),
    };
    view! {
        <div
            role="status"
            data-testid="import-progress"
            data-orders=orders
            class="rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sky-900"
        >
            {text}
        </div>
    }
}

/// The six tabs, each with its count badge.
#[component]
fn TabBar(tabs: Vec<TabLink>) -> impl IntoView {
    view! {
        <nav aria-label="Order views" class="border-b border-zinc-200">
            <ul class="-mb-px flex flex-wrap gap-x-1">
                {tabs
                    .into_iter()
                    .map(|t| {
                        let class = if t.active {
                            "flex items-center gap-1.5 border-b-2 border-zinc-900 px-3 py-2 font-medium text-zinc-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600/60"
                        } else {
                            "flex items-center gap-1.5 border-b-2 border-transparent px-3 py-2 text-zinc-600 hover:border-zinc-300 hover:text-zinc-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600/60"
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
                                        class="rounded-full bg-zinc-100 px-1.5 py-px text-xs tabular-nums text-zinc-700"
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
        </nav>
    }
}

/// The filter bar: a plain GET form over the page's own URL parameters, so it works before the
/// WASM loads; once hydrated, the router submits it in place. A filter starts again at the first
/// page of the current tab.
#[component]
fn Filters(filters: FilterState, mine: Option<String>) -> impl IntoView {
    let FilterState {
        shop,
        embedding,
        tab,
        statuses,
        priorities,
        assigned_to,
        date_start,
        date_end,
        page_size,
        active,
        clear_href,
    } = filters;
    let field = "rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm shadow-sm focus:border-sky-600 focus:outline-none focus:ring-2 focus:ring-sky-600/30";
    let label = "flex flex-col gap-0.5 text-xs font-medium text-zinc-600";
    let status_summary = summary("Status", statuses.len());
    let priority_summary = summary("Priority", priorities.len());
    let status_boxes = OrderStatus::ALL
        .iter()
        .map(|s| {
            view! {
                <label class="flex items-center gap-2 px-2 py-1 text-sm text-zinc-800">
                    <input type="checkbox" name="status" value=s.as_str() checked=statuses.contains(s)/>
                    {status_label(*s)}
                </label>
            }
        })
        .collect_view();
    let priority_boxes = Priority::ALL
        .iter()
        .map(|p| {
            view! {
                <label class="flex items-center gap-2 px-2 py-1 text-sm text-zinc-800">
                    <input type="checkbox" name="priority" value=p.as_str() checked=priorities.contains(p)/>
                    {priority_label(*p)}
                </label>
            }
        })
        .collect_view();
    let sizes = PAGE_SIZES
        .iter()
        .map(|n| view! { <option value=n.to_string() selected=*n == page_size>{format!("{n} rows")}</option> })
        .collect_view();
    view! {
        <form
            method="get"
            action="/orders"
            class="flex flex-wrap items-end gap-3 rounded-lg border border-zinc-200 bg-white px-3 py-2 shadow-sm"
            aria-label="Filters"
            data-testid="filters"
        >
            {shop.map(|s| view! { <input type="hidden" name="shop" value=s/> })}
            {embedding
                .pairs()
                .map(|(name, value)| view! { <input type="hidden" name=name value=value.to_owned()/> })
                .collect_view()}
            {(tab != orders_core::Tab::All).then(|| view! { <input type="hidden" name="tab" value=tab.as_str()/> })}
            <details class="relative" data-filter="status">
                <summary class=format!("{field} cursor-pointer list-none select-none")>{status_summary}</summary>
                <fieldset class="absolute z-20 mt-1 w-52 rounded-md border border-zinc-200 bg-white py-1 shadow-lg">
                    <legend class="sr-only">"Status"</legend>
                    {status_boxes}
                </fieldset>
            </details>
            <details class="relative" data-filter="priority">
                <summary class=format!("{field} cursor-pointer list-none select-none")>{priority_summary}</summary>
                <fieldset class="absolute z-20 mt-1 w-44 rounded-md border border-zinc-200 bg-white py-1 shadow-lg">
                    <legend class="sr-only">"Priority"</legend>
                    {priority_boxes}
                </fieldset>
            </details>
            <label class=label>
                "Assignee"
                <input
                    class=format!("{field} w-40")
                    type="text"
                    name="assigned_to"
                    list="assignee-choices"
                    placeholder="Anyone"
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
                "Page size"
                <select class=field name="pageSize">{sizes}</select>
            </label>
            <button
                type="submit"
                class="rounded-md bg-zinc-900 px-3 py-1.5 text-sm font-medium text-white shadow-sm hover:bg-zinc-700 focus:outline-none focus:ring-2 focus:ring-sky-600/50"
            >
                "Apply"
            </button>
            {active.then(|| view! {
                <a href=clear_href class="py-1.5 text-sm text-sky-700 underline" data-testid="clear-filters">"Clear filters"</a>
            })}
        </form>
    }
}

/// "Any status", or "Status · 2" when some are chosen.
fn summary(noun: &str, chosen: usize) -> String {
    match chosen {
        0 => format!("Any {}", noun.to_ascii_lowercase()),
        n => format!("{noun} · {n}"),
    }
}

fn status_label(status: OrderStatus) -> &'static str {
    match status {
        OrderStatus::Unfulfilled => "Unfulfilled",
        OrderStatus::PartiallyFulfilled => "Partially fulfilled",
        OrderStatus::Fulfilled => "Fulfilled",
        OrderStatus::OnHold => "On hold",
        OrderStatus::Cancelled => "Cancelled",
    }
}

fn priority_label(priority: Priority) -> &'static str {
    match priority {
        Priority::Low => "Low",
        Priority::Normal => "Normal",
        Priority::High => "High",
        Priority::Urgent => "Urgent",
    }
}

/// The dense table of orders.
#[component]
fn OrdersTable(actions: Actions, ready: RwSignal<bool>, scroll: StoredValue<i32>) -> impl IntoView {
    let rows = actions.rows;
    // The table scrolls inside the page; a reload of the same view puts it back where it was.
    let frame = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        if let Some(el) = frame.get() {
            el.set_scroll_top(scroll.get_value());
        }
    });
    let on_scroll = move |_| {
        if let Some(el) = frame.get_untracked() {
            scroll.set_value(el.scroll_top());
        }
    };
    let empty = rows.with_untracked(|r| r.is_empty());
    let all_selected = move || {
        let n = rows.with(|r| r.len());
        n > 0 && actions.selected.with(|s| s.len()) == n
    };
    let toggle_all = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        actions.selected.set(if on {
            rows.with_untracked(|r| r.iter().map(|r| r.id.clone()).collect())
        } else {
            Vec::new()
        });
    };
    view! {
        <div
            node_ref=frame
            on:scroll=on_scroll
            class="relative max-h-[75vh] overflow-auto rounded-lg border border-zinc-200 bg-white shadow-sm"
            data-testid="orders-scroll"
        >
            <table class="min-w-full text-left" data-testid="orders-table">
                <thead class="sticky top-0 z-[5] border-b border-zinc-200 bg-zinc-50 text-xs font-medium text-zinc-600 shadow-[0_1px_0_0_var(--color-zinc-200)]">
                    <tr>
                        <th scope="col" class="w-8 px-3 py-2">
                            <input
                                type="checkbox"
                                aria-label="Select every order on this page"
                                class="size-4 align-middle accent-zinc-900"
                                disabled=move || !ready.get() || empty
                                prop:checked=all_selected
                                on:change=toggle_all
                            />
                        </th>
                        <th scope="col" class="px-3 py-2">"Order"</th>
                        <th scope="col" class="px-3 py-2">"Date"</th>
                        <th scope="col" class="px-3 py-2">"Customer"</th>
                        <th scope="col" class="px-3 py-2 text-right">"Total"</th>
                        <th scope="col" class="px-3 py-2">"Payment"</th>
                        <th scope="col" class="px-3 py-2">"Fulfillment"</th>
                        <th scope="col" class="px-3 py-2">"Priority"</th>
                        <th scope="col" class="px-3 py-2">"Assignee"</th>
                        <th scope="col" class="px-3 py-2">"Alerts"</th>
                    </tr>
                </thead>
                <tbody class="divide-y divide-zinc-100">
                    {empty
                        .then(|| {
                            view! {
                                <tr>
                                    <td colspan="10" class="px-3 py-8 text-center text-zinc-500">
                                        <p class="font-medium text-zinc-700">"No orders in this view."</p>
                                        <p class="mt-1">
                                            "Try another tab, widen the dates, or clear the filters."
                                        </p>
                                    </td>
                                </tr>
                            }
                        })}
                    <For
                        each=move || rows.get()
                        key=|r| (r.id.clone(), r.assigned_to.clone(), r.status)
                        children=move |row| view! { <OrderLine row actions ready/> }
                    />
                </tbody>
            </table>
        </div>
    }
}

/// One order.
#[component]
fn OrderLine(row: OrderRow, actions: Actions, ready: RwSignal<bool>) -> impl IntoView {
    let OrderRow {
        id,
        detail_href,
        order_number,
        customer,
        email,
        total_price,
        currency,
        status,
        financial_status,
        priority,
        assigned_to,
        created_at,
        created_label,
        age,
        alerts,
        return_state,
        support_thread,
    } = row;
    let created_title = format!("{created_label} UTC");
    let checked = {
        let id = id.clone();
        move || actions.selected.with(|s| s.contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            actions.selected.update(|s| {
                s.retain(|x| x != &id);
                if on {
                    s.push(id.clone());
                }
            });
        }
    };
    let select_label = format!("Select order {order_number}");
    view! {
        <tr class="hover:bg-zinc-50 has-[:checked]:bg-sky-50" data-order-id=id>
            <td class="px-3 py-1.5">
                <input
                    type="checkbox"
                    aria-label=select_label
                    class="size-4 align-middle accent-zinc-900"
                    disabled=move || !ready.get()
                    prop:checked=checked
                    on:change=toggle
                />
            </td>
            <td class="whitespace-nowrap px-3 py-1.5 font-medium">
                <a
                    href=detail_href
                    class="text-sky-800 underline-offset-2 hover:underline focus:outline-none focus:ring-2 focus:ring-sky-600/50"
                    data-testid="order-link"
                >
                    {order_number}
                </a>
            </td>
            <td class="whitespace-nowrap px-3 py-1.5 text-zinc-600">
                <time datetime=created_at title=created_title>
                    {created_label}
                </time>
                <span class="ml-1.5 text-xs text-zinc-500">{age}</span>
            </td>
            <td class="max-w-48 truncate px-3 py-1.5" title=email>
                {customer}
            </td>
            <td class="whitespace-nowrap px-3 py-1.5 text-right tabular-nums">
                {total_price}
                <span class="ml-1 text-xs text-zinc-500">{currency}</span>
            </td>
            <td class="px-3 py-1.5">
                <FinancialBadge status=financial_status/>
            </td>
            <td class="px-3 py-1.5">
                <StatusBadge status/>
            </td>
            <td class="px-3 py-1.5">
                <PriorityLabel priority/>
            </td>
            <td class="whitespace-nowrap px-3 py-1.5 text-zinc-700">
                {assigned_to
                    .map(|a| {
                        let shown = a.clone();
                        Either::Left(view! { <span data-assignee=a>{shown}</span> })
                    })
                    .unwrap_or_else(|| {
                        Either::Right(view! {
                            <span class="text-zinc-500" title="Unassigned">
                                "—"
                                <span class="sr-only">"Unassigned"</span>
                            </span>
                        })
                    })}
            </td>
            <td class="px-3 py-1.5">
                <Markers alerts return_state support=support_thread.is_some()/>
            </td>
        </tr>
    }
}

const BADGE: &str =
    "inline-flex items-center rounded-full px-2 py-px text-xs font-medium whitespace-nowrap";

/// Fulfillment status, coloured by how much it needs attention.
#[component]
fn StatusBadge(status: OrderStatus) -> impl IntoView {
    let label = status_label(status);
    let colour = match status {
        OrderStatus::Unfulfilled | OrderStatus::PartiallyFulfilled => "bg-amber-100 text-amber-900",
        OrderStatus::Fulfilled => "bg-zinc-100 text-zinc-700",
        OrderStatus::OnHold => "bg-orange-100 text-orange-900",
        OrderStatus::Cancelled => "bg-zinc-100 text-zinc-500 line-through",
    };
    view! {
        <span class=format!("{BADGE} {colour}") data-status=status.as_str()>
            {label}
        </span>
    }
}

/// Where the money stands.
#[component]
fn FinancialBadge(status: FinancialStatus) -> impl IntoView {
    let (label, colour) = match status {
        FinancialStatus::Pending => ("Payment pending", "bg-amber-100 text-amber-900"),
        FinancialStatus::Authorized => ("Authorized", "bg-amber-50 text-amber-800"),
        FinancialStatus::Paid => ("Paid", "bg-zinc-100 text-zinc-700"),
        FinancialStatus::PartiallyPaid => ("Partially paid", "bg-amber-100 text-amber-900"),
        FinancialStatus::PartiallyRefunded => ("Partially refunded", "bg-zinc-100 text-zinc-700"),
        FinancialStatus::Refunded => ("Refunded", "bg-zinc-100 text-zinc-700"),
        FinancialStatus::Voided => ("Voided", "bg-zinc-100 text-zinc-500"),
    };
    view! {
        <span class=format!("{BADGE} {colour}") data-financial=status.as_str()>
            {label}
        </span>
    }
}

/// Priority: quiet unless it is high or urgent.
#[component]
fn PriorityLabel(priority: Priority) -> impl IntoView {
    let label = priority_label(priority);
    let class = match priority {
        Priority::Low => "text-zinc-500",
        Priority::Normal => "text-zinc-600",
        Priority::High => "font-medium text-orange-700",
        Priority::Urgent => "font-semibold text-red-700",
    };
    view! {
        <span class=class data-priority=priority.as_str()>
            {label}
        </span>
    }
}

/// Shipment alerts, an open return, an open support escalation.
#[component]
fn Markers(
    alerts: Vec<AlertKind>,
    return_state: Option<ReturnState>,
    support: bool,
) -> impl IntoView {
    let alerts = alerts
        .into_iter()
        .map(|kind| {
            let (label, colour) = match kind {
                AlertKind::TrackingPending => ("Tracking pending", "bg-amber-100 text-amber-900"),
                AlertKind::Delayed => ("Delayed", "bg-red-100 text-red-800"),
                AlertKind::DataGap => ("Data gap", "bg-red-100 text-red-800"),
            };
            view! {
                <span class=format!("{BADGE} {colour}") data-alert=kind.as_str()>
                    {label}
                </span>
            }
        })
        .collect_view();
    let open_return = return_state.filter(|s| !s.is_terminal()).map(|s| {
        view! {
            <span class=format!("{BADGE} bg-sky-50 text-sky-800") data-return=s.as_str()>
                {format!("Return · {}", s.as_str().replace('_', " "))}
            </span>
        }
    });
    let support = support.then(|| {
        view! { <span class=format!("{BADGE} bg-violet-50 text-violet-800")>"Support"</span> }
    });
    view! { <div class="flex flex-wrap gap-1">{alerts} {open_return} {support}</div> }
}

/// "1–50 of 300" and the previous/next links, built from the page's cursors.
#[component]
fn Pagination(
    first_row: u64,
    last_row: u64,
    total: u64,
    previous_href: Option<String>,
    next_href: Option<String>,
) -> impl IntoView {
    let link = "rounded-md border border-zinc-300 bg-white px-3 py-1 font-medium text-zinc-800 shadow-sm hover:bg-zinc-50";
    let off = "rounded-md border border-zinc-200 px-3 py-1 text-zinc-500";
    let previous = match previous_href {
        Some(href) => Either::Left(view! { <a href=href rel="prev" class=link>"Previous"</a> }),
        None => Either::Right(view! { <span aria-disabled="true" class=off>"Previous"</span> }),
    };
    let next = match next_href {
        Some(href) => Either::Left(view! { <a href=href rel="next" class=link>"Next"</a> }),
        None => Either::Right(view! { <span aria-disabled="true" class=off>"Next"</span> }),
    };
    view! {
        <nav aria-label="Pagination" class="flex items-center justify-between">
            <p class="text-zinc-600 tabular-nums" data-testid="page-range">
                {if total == 0 {
                    "No orders".to_owned()
                } else {
                    format!("{first_row}–{last_row} of {total}")
                }}
            </p>
            <div class="flex gap-2">{previous} {next}</div>
        </nav>
    }
}

/// The page could not be loaded; says why and how to get back (`home`: every order of the shop).
#[component]
fn LoadFailed(error: LoadError, home: String) -> impl IntoView {
    view! {
        <main class="mx-auto max-w-3xl px-4 py-10">
            <div role="alert" class="rounded-md border border-red-300 bg-red-50 px-4 py-3 text-red-900">
                <p class="font-medium">"This view cannot be shown"</p>
                <p class="mt-1 text-sm">{error.to_string()}</p>
                <p class="mt-2 text-sm">
                    <a class="underline" href=home>
                        "Back to all orders"
                    </a>
                </p>
            </div>
        </main>
    }
}
