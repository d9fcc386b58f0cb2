//! The banners above the table, and the page shown when the view cannot be loaded: open alerts,
//! sample data, the history import, undelivered side effects, and why a view failed.
//!
//! An alert banner is one line that opens, on a click, to name its first orders (each opening the
//! drawer) and to link to all of them. It comes with the page's data, so its links are in the
//! server's HTML; `crate::live` reloads the page when the shop's open alerts move.

use leptos::prelude::*;
use orders_core::AlertKind;

use super::links::Embedding;
use super::model::{Banner, Importing, LoadError};
use crate::live::visible;

/// What a banner says.
#[cfg(feature = "ssr")]
pub fn banner_text(kind: AlertKind, n: u64) -> String {
    let s = if n == 1 { "" } else { "s" };
    match kind {
        AlertKind::TrackingPending => format!("{n} order{s} waiting for a tracking number"),
        AlertKind::Delayed => format!("{n} shipment{s} delayed in transit"),
        AlertKind::DataGap => format!("{n} data gap{s}: orders may be missing"),
    }
}

/// The open alerts, one collapsed banner per kind; `dismissed` holds the banners closed by the
/// user, each at the count it showed.
#[component]
pub(super) fn AlertBanners(
    banners: Vec<Banner>,
    dismissed: RwSignal<Vec<(AlertKind, u64)>>,
) -> impl IntoView {
    view! {
        <section aria-label="Alerts" aria-live="polite" class="space-y-1.5" data-testid="live-banners">
            {banners
                .into_iter()
                .map(|banner| view! { <AlertBanner banner dismissed/> })
                .collect_view()}
        </section>
    }
}

/// One banner: its body as the server drew it, and the Dismiss button.
#[component]
fn AlertBanner(banner: Banner, dismissed: RwSignal<Vec<(AlertKind, u64)>>) -> impl IntoView {
    let Banner {
        kind,
        count,
        label,
        html,
    } = banner;
    let class = if kind == AlertKind::DataGap {
        "flex items-start justify-between gap-3 rounded-md border border-critical bg-surface-critical px-3 py-1 text-critical"
    } else {
        "flex items-start justify-between gap-3 rounded-md border border-warning bg-surface-warning px-3 py-1 text-warning"
    };
    let hidden = move || !dismissed.with(|d| visible(kind, count, d));
    view! {
        <div class=class class:hidden=hidden data-banner=kind.as_str() data-count=count>
            <div class="min-w-0 flex-1" inner_html=html></div>
            <button
                type="button"
                class="rounded px-2 py-0.5 text-xs hover:bg-fill-transparent-hover focus:outline-none focus-visible:ring-2 focus-visible:ring-focus"
                aria-label=format!("Dismiss: {label}")
                on:click=move |_| dismissed.update(|d| {
                    d.retain(|(k, _)| *k != kind);
                    d.push((kind, count));
                })
            >
                "Dismiss"
            </button>
        </div>
    }
}

/// A banner's body as HTML, drawn on the server: one line that opens, on a click, to name its
/// first `orders`, the link to all of them (`view_href`), and a data gap's story.
#[cfg(feature = "ssr")]
pub fn body_html(
    kind: AlertKind,
    count: u64,
    label: String,
    orders: Vec<super::model::BannerOrder>,
    view_href: Option<String>,
    gap: Option<super::model::GapNote>,
) -> String {
    let critical = kind == AlertKind::DataGap;
    let named = orders
        .into_iter()
        .map(|o| {
            view! {
                <li>
                    <a href=o.href class="font-medium underline" data-testid="banner-order">{o.number}</a>
                    " · "
                    {o.message}
                </li>
            }
        })
        .collect_view();
    let all = view_href.map(|href| {
        view! {
            <a href=href class="font-medium underline" data-testid="banner-view">
                {format!("See all {count}")}
            </a>
        }
    });
    let story = gap.map(|gap| {
        let next = match gap.next_poll {
            Some(at) => format!("The next poll of Shopify runs at {at}."),
            None => "This server does not poll Shopify (SYNC_POLL_INTERVAL is off).".to_owned(),
        };
        view! {
            <p data-testid="gap-what">{gap.what}</p>
            <p class="text-xs" data-testid="gap-when">{format!("Noticed {}. {next}", gap.since)}</p>
        }
    });
    view! {
        <details class="group">
            <summary class="cursor-pointer select-none rounded focus:outline-none focus-visible:ring-2 focus-visible:ring-focus">
                <span class="mr-2 rounded bg-surface px-1.5 py-0.5 text-xs font-semibold uppercase">
                    {if critical { "Critical" } else { "Warning" }}
                </span>
                <span class="font-medium">{label}</span>
            </summary>
            <div class="mt-1.5 space-y-1 pb-1 pl-4">
                {story}
                <ul class="space-y-0.5">{named}</ul>
                {all}
            </div>
        </details>
    }
    .to_html()
}

/// Side effects of this shop that could not be delivered (SPEC §7: visible, never lost).
#[component]
pub(super) fn Undelivered(shop: String, count: u64, embedding: Embedding) -> impl IntoView {
    let noun = if count == 1 { "event" } else { "events" };
    let href = embedding.keep_in(&format!("/sync/outbox?shop_domain={shop}&state=dead"));
    view! {
        <p
            role="status"
            class="rounded-md border border-warning bg-surface-warning px-3 py-2 text-warning"
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

/// Says plainly that what is on screen is not the shop's real data, and why: the database is
/// away (changes wait for it), or the server runs on sample data by choice (`mock`).
#[component]
pub(super) fn SampleBanner(mock: bool) -> impl IntoView {
    let text = if mock {
        "This server runs on built-in sample orders (USE_MOCK_DATA), not a shop's. \
         Changes are kept until the server restarts."
    } else {
        "The database is unavailable, so this page shows built-in sample orders, not the shop's. \
         Changes cannot be saved until it is back; the page returns to live data by itself."
    };
    view! {
        <div
            role="status"
            data-testid="sample-banner"
            class="rounded-md border border-warning bg-surface-warning px-3 py-2 text-warning"
        >
            <strong class="font-semibold">"Sample data. "</strong>
            {text}
        </div>
    }
}

/// The import of the shop's order history from Shopify, after an install: how far it has come
/// (the page reloads at each refresh ping, so the count moves on by itself), or why it stopped.
#[component]
pub(super) fn ImportBanner(importing: Importing) -> impl IntoView {
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
            class="rounded-md border border-info bg-surface-info px-3 py-2 text-info"
        >
            {text}
        </div>
    }
}

/// The page could not be loaded; says why and how to get back (`home`: every order of the shop).
#[component]
pub(super) fn LoadFailed(error: LoadError, home: String) -> impl IntoView {
    view! {
        <main class="mx-auto max-w-3xl px-4 py-10">
            <div role="alert" class="rounded-md border border-critical bg-surface-critical px-4 py-3 text-critical">
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
