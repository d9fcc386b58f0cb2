//! The banners above the table, and the page shown when the view cannot be loaded: sample data,
//! the history import, undelivered side effects, and why a view failed.

use leptos::prelude::*;

use super::links::Embedding;
use super::model::{Importing, LoadError};

/// Side effects of this shop that could not be delivered (SPEC §7: visible, never lost).
#[component]
pub(super) fn Undelivered(shop: String, count: u64, embedding: Embedding) -> impl IntoView {
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
            class="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-900"
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
            class="rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sky-900"
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
