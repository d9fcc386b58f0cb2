//! The Orders dashboard: the HTML shell, the routes and the pages, rendered on the server (feature
//! `ssr`, used by `server`) and hydrated in the browser (feature `hydrate`, used by `frontend`).
//!
//! Server-only code sits behind `#[cfg(feature = "ssr")]`: the [`backend`] port the server
//! implements, and the bodies of the server functions. Everything else compiles for both sides.

pub mod app_bridge;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod live;
pub mod orders;
pub mod sync;
pub mod toast;

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::components::{Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// Shopify's App Bridge, which an embedded page loads first (SPEC §10): the app's client id and
/// where the script comes from. The server provides it through context when `SHOPIFY_API_KEY` is
/// set; without it, pages have no App Bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppBridge {
    pub api_key: String,
    pub script_url: String,
}

/// The HTML document around the app: what the server sends before the app's own markup. App
/// Bridge's script is the first script of `<head>`: not async, not deferred, not a module.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let app_bridge = use_context::<AppBridge>();
    let nonce = use_nonce();
    let app_bridge = app_bridge.map(|ab| {
        view! {
            <meta name="shopify-api-key" content=ab.api_key/>
            <script src=ab.script_url nonce=nonce></script>
        }
    });
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                {app_bridge}
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" id="leptos" href="/pkg/orders-sync.css"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="antialiased">
                <App/>
            </body>
        </html>
    }
}

/// The dashboard's routes. `data-hydrated="true"` appears on the root element once the WASM has
/// taken over the server-rendered page (an effect runs only in the browser), which is what the
/// browser tests wait for.
#[component]
pub fn App() -> impl IntoView {
    #[cfg(feature = "ssr")]
    provide_meta_context();
    toast::Toasts::provide();
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <div id="app" class="min-h-screen" data-hydrated=move || hydrated.get().then_some("true")>
            <Router>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/orders"/> }/>
                    // Async: the table is in the first byte stream, so the page works before (and
                    // without) the WASM.
                    <Route path=path!("/orders") view=orders::OrdersPage ssr=SsrMode::Async/>
                </Routes>
            </Router>
            <toast::ToastRegion/>
        </div>
    }
}

/// The document's title, `{text} · Orders ↔ Sync`: written into the page's `<head>` on the
/// server, and nothing in the browser, which keeps the server's (the two pages never change
/// titles without a reload of the document), so the WASM carries no document-head code. Both
/// sides leave the same empty placeholder where it stands (`()` is `<!>`), so hydration agrees.
#[component]
pub fn PageTitle(text: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        (
            view! { <leptos_meta::Title text=format!("{text} · Orders ↔ Sync")/> },
            (),
        )
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = text;
    }
}

/// Any path the dashboard does not know.
#[component]
fn NotFound() -> impl IntoView {
    view! {
        <PageTitle text="Not found"/>
        <main class="mx-auto max-w-3xl px-4 py-16 text-center">
            <h1 class="text-lg font-semibold">"Page not found"</h1>
            <p class="mt-2 text-secondary">
                "There is nothing at this address. " <a class="text-link underline" href="/orders">
                    "Go to the orders"
                </a>
            </p>
        </main>
    }
}
