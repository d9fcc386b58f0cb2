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
mod banners;
#[cfg(feature = "ssr")]
mod charts;
mod controls;
mod drawer;
#[cfg(feature = "ssr")]
mod facts;
#[cfg(feature = "ssr")]
mod format;
mod keys;
mod links;
mod load;
mod model;
mod table;
#[cfg(all(test, feature = "ssr"))]
mod tests;

use actions::Actions;
use banners::{AlertBanners, ImportBanner, LoadFailed, SampleBanner, Undelivered};
use controls::{BulkBar, Filters};
use table::{OrdersTable, Pagination};

use leptos::either::Either;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use links::{home_href, load_arguments, with_param};
pub use links::{Embedding, EXPORT_PATH, PATH};
pub use load::{load_orders, LoadOrders};
pub use model::{tab_label, FilterState, Importing, LoadError, OrderRow, OrdersView, PAGE_SIZES};

/// How long a view may take before the progress bar shows.
const PROGRESS_AFTER: std::time::Duration = std::time::Duration::from_millis(150);

/// The page parameter a load carries the page's last write position in (never in the URL).
pub const POSITION_PARAM: &str = "position";

/// How often a page showing sample data checks whether the database is back.
const SAMPLE_RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The orders page: reads the URL, loads the page through [`load_orders`] (on the server for the
/// first render, by a server-function call on later navigations) and renders it, its links keeping
/// the admin's parameters of the URL.
#[component]
pub fn OrdersPage() -> impl IntoView {
    let params = use_query_map();
    // The server function gets every parameter but the session token: its links keep the admin's.
    // The position of the last write this page made (`X-Sync-Position`): its reads are served by
    // a copy of the database that has it, so a change never seems to come undone on reload.
    let position = StoredValue::new(None::<String>);
    let page = Resource::<_, load::JsonBytes>::new_with_options(
        move || params.with(|p| load_arguments(p.into_iter().map(|(k, v)| (&**k, v)))),
        move |(shop, mut query)| {
            if let Some(at) = position.get_value() {
                query.push((POSITION_PARAM.to_owned(), at));
            }
            load_orders(shop, query)
        },
        false,
    );

    let refetch = Callback::new(move |()| page.refetch());
    // What survives a reload of the same view (a refresh ping, an action's confirmation): the
    // selection and the table's scroll position. Another view starts afresh.
    let keep = Keep {
        position,
        selected: RwSignal::new(Vec::new()),
        scroll: StoredValue::new(0),
        opened: StoredValue::new(None),
        at: StoredValue::new(None),
    };
    // Moving to another view marks the table busy at once, until that view's data is here, and
    // shows a progress bar after PROGRESS_AFTER (a quick answer shows none). A live reload of the
    // same view is not a wait the user asked for, and shows neither.
    let loading = RwSignal::new(false);
    provide_context(table::Loading(loading));
    Effect::new(move |first: Option<()>| {
        params.track();
        keep.selected.set(Vec::new());
        keep.scroll.set_value(0);
        keep.at.set_value(None);
        if first.is_some() {
            loading.set(true);
        }
    });
    // Live alerts follow the shop on screen; their connection outlives reloads of the page's data.
    let live_shop = RwSignal::new(None::<String>);
    let live = crate::live::follow_alerts(live_shop, refetch);

    let progress = RwSignal::new(false);
    Effect::new(move |_| {
        if loading.get() {
            set_timeout(
                move || progress.set(loading.get_untracked()),
                PROGRESS_AFTER,
            );
        } else {
            progress.set(false);
        }
    });
    view! {
        <crate::PageTitle text="Orders"/>
        <div
            role="progressbar"
            aria-label="Loading orders"
            class="fixed inset-x-0 top-0 z-50 h-1 animate-pulse bg-fill-emphasis"
            class:hidden=move || !progress.get()
            data-testid="progress"
        ></div>
        <Transition fallback=|| {
            view! { <p class="px-4 py-8 text-secondary">"Loading orders…"</p> }
        }>
            {move || Suspend::new(async move {
                let answer = page.await;
                loading.set(false);
                let (shop, embedding) = params
                    .with_untracked(|p| (p.get("shop"), Embedding::from_url(|k| p.get(k))));
                match answer {
                    Ok(view) => {
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
    /// The position of the page's last write (kept across views too).
    position: StoredValue<Option<String>>,
    selected: RwSignal<Vec<String>>,
    /// The table's `scrollTop`.
    scroll: StoredValue<i32>,
    /// The order whose drawer is open: when it closes, focus returns to that order's row.
    opened: StoredValue<Option<String>>,
    /// The row the keyboard is on (see `keys`).
    at: StoredValue<Option<String>>,
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
        mock,
        tabs_html,
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
        banners,
        time_zone,
    } = view;
    // The live stream reloads the page when the open alerts leave the counts shown here.
    live.shown
        .set(banners.iter().map(|b| (b.kind, b.count)).collect());
    // Controls that need the WASM are disabled in the server's HTML and come alive on hydration.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    // On sample data for want of the database, ask again every few seconds: the live data comes
    // back by itself. Sample data by choice has no database to come back.
    if sample && !mock {
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
        position: keep.position,
    };
    match &detail {
        Some(order) => keep.opened.set_value(Some(order.id.clone())),
        None => {
            if let Some(id) = keep.opened.get_value() {
                keep.opened.set_value(None);
                // After the list is back on screen (the task that mounts it).
                Effect::new(move |_| {
                    let id = id.clone();
                    set_timeout(move || focus_row(&id), std::time::Duration::ZERO);
                });
            }
        }
    }
    let help = RwSignal::new(false);
    keys::listen(actions, help, keep.at);
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
        <header class="border-b bg-surface">
            <div class="mx-auto flex max-w-7xl flex-wrap items-center justify-between gap-x-4 gap-y-1 px-4 py-1.5">
                <div class="flex items-baseline gap-3">
                    <h1 class="text-base font-semibold">"Orders"</h1>
                    <span class="text-sm text-secondary" data-testid="shop">
                        {shop}
                    </span>
                    <span class="text-xs text-secondary" data-testid="time-zone">
                        {format!("Times in {time_zone}")}
                    </span>
                </div>
                <div class="flex flex-wrap items-center gap-x-3 gap-y-1">
                    <crate::live::Freshness live/>
                    <button
                        type="button"
                        class="rounded-md px-2 py-1 text-xs text-secondary hover:bg-fill-transparent-hover focus:outline-none focus:ring-2 focus:ring-focus"
                        aria-keyshortcuts="?"
                        data-testid="key-help-open"
                        on:click=move |_| help.set(true)
                    >
                        "Keyboard: ?"
                    </button>
                    {if sample {
                        Either::Left(view! {
                            <span
                                class="rounded-md border px-3 py-1 text-sm text-secondary"
                                title=if mock {
                                    "Sample data is not exported"
                                } else {
                                    "Sample data is not exported; export returns with the database"
                                }
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
                                class=controls::BUTTON_LOOK
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
        <main class="mx-auto max-w-7xl space-y-2 px-4 pb-3 pt-2 text-sm">
            {sample.then(|| view! { <SampleBanner mock/> })}
            {importing.map(|importing| view! { <ImportBanner importing/> })}
            {(undelivered > 0).then(|| {
                let embedding = embedding.clone();
                view! { <Undelivered shop=outbox_shop count=undelivered embedding/> }
            })}
            <AlertBanners banners dismissed=live.dismissed/>
            <div class="flex items-end justify-between gap-3 border-b">
                // The tabs are links, drawn on the server (`controls::tabs_html`).
                <nav aria-label="Order views" inner_html=tabs_html></nav>
                {pictures.map(|html| view! { <Pictures html/> })}
            </div>
            <Filters filters mine=signed_in_as/>
            <BulkBar actions ready/>
            <OrdersTable actions ready scroll=keep.scroll/>
            <Pagination first_row last_row total previous_href next_href/>
        </main>
        {drawer}
        <keys::KeyHelp open=help/>
    }
}

/// The view's pictures (returns by state, orders per day), one click away: a summary that opens
/// them over the page and closes them again, so the table comes first.
#[component]
fn Pictures(html: String) -> impl IntoView {
    view! {
        <details class="relative mb-1" data-testid="pictures">
            <summary class="cursor-pointer select-none rounded-md px-2 py-1 text-sm text-default hover:bg-fill-transparent-hover focus:outline-none focus-visible:ring-2 focus-visible:ring-focus">
                "Charts"
            </summary>
            <div class="absolute right-0 z-30 mt-1 w-[min(56rem,calc(100vw-2rem))] rounded-lg border bg-surface p-3 shadow-lg" inner_html=html></div>
        </details>
    }
}

/// Puts the focus on the link of the order `id`'s row (where a closed drawer returns it).
fn focus_row(id: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let selector = format!(
            "tr[data-order-id=\"{}\"] a[data-testid=order-link]",
            id.replace('"', "")
        );
        let link = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(&selector).ok().flatten())
            .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(link) = link {
            let _ = link.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
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
