//! Live alert banners (SPEC §6, §8): the page follows `GET /sync/orders/alerts` as an EventSource,
//! shows one banner per kind of open alert with its count (linking to the matching tab, dismissible
//! until the count changes), reloads its data on each `refresh`, and says how fresh it is.
//!
//! When the stream fails, the page closes it, asks the JSON fallback for the open alerts every few
//! seconds, and tries the stream again after 1, 2, 4 … 30 s; the stream's own replay then replaces
//! what polling found. All of it runs in the browser only: the server's HTML has no banners.
//!
//! Inside Shopify's admin an EventSource cannot carry App Bridge's `Authorization` header, so each
//! connection and each reconnection takes a fresh session token and passes it as `id_token=`
//! (SPEC §10); the server checks it once, when the stream starts.

use std::time::Duration;

use leptos::prelude::*;
use orders_core::AlertKind;

use crate::orders::Embedding;

/// How often the page asks for the open alerts while the stream is down.
pub const POLL_EVERY: Duration = Duration::from_secs(5);
/// Refresh pings closer together than this reload the page once.
pub const REFRESH_SETTLE: Duration = Duration::from_millis(300);

/// How the page hears about alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Connecting,
    Live,
    Polling,
}

/// The live state of the page. It lives above the page's data, so a reload keeps it.
#[derive(Clone, Copy)]
pub struct LiveAlerts {
    /// The open alerts: (id, kind), each id once.
    pub open: RwSignal<Vec<(u64, AlertKind)>>,
    pub link: RwSignal<Link>,
    /// When the page last heard from Sync (local time, `14:03:12`).
    pub synced: RwSignal<Option<String>>,
    /// Banners closed by the user, with the count they showed.
    pub dismissed: RwSignal<Vec<(AlertKind, usize)>>,
}

/// The kinds of banner, in the order they are shown.
const KINDS: [AlertKind; 3] = [
    AlertKind::DataGap,
    AlertKind::TrackingPending,
    AlertKind::Delayed,
];

/// The banner of `kind`: its count, unless there is none or it was dismissed at that very count.
pub fn banner(
    kind: AlertKind,
    open: &[(u64, AlertKind)],
    dismissed: &[(AlertKind, usize)],
) -> Option<usize> {
    let n = open.iter().filter(|(_, k)| *k == kind).count();
    (n > 0 && !dismissed.contains(&(kind, n))).then_some(n)
}

/// Adds an open alert (once).
pub fn add_open(open: &mut Vec<(u64, AlertKind)>, id: u64, kind: AlertKind) {
    if !open.iter().any(|(i, _)| *i == id) {
        open.push((id, kind));
    }
}

/// The wait before the `attempt`-th reconnection (0-based): 1 s, doubling, at most 30 s.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(5)).min(Duration::from_secs(30))
}

/// What a banner says.
pub fn banner_text(kind: AlertKind, n: usize) -> String {
    let s = if n == 1 { "" } else { "s" };
    match kind {
        AlertKind::TrackingPending => format!("{n} order{s} waiting for a tracking number"),
        AlertKind::Delayed => format!("{n} shipment{s} delayed in transit"),
        AlertKind::DataGap => format!("{n} data gap{s}: orders may be missing"),
    }
}

/// The tab a banner opens (`None`: a data gap has no tab).
fn banner_tab(kind: AlertKind) -> Option<&'static str> {
    match kind {
        AlertKind::TrackingPending => Some("tracking_pending"),
        AlertKind::Delayed => Some("delayed"),
        AlertKind::DataGap => None,
    }
}

/// Where the banner of `kind` leads: its tab of `shop`, inside the admin when the page is.
fn banner_href(kind: AlertKind, shop: &str, embedding: &Embedding) -> String {
    let href = match banner_tab(kind) {
        Some(tab) => format!("/orders?shop={shop}&tab={tab}"),
        None => format!("/orders?shop={shop}"),
    };
    embedding.keep_in(&href)
}

/// Starts following the alerts of whatever shop `shop` names (`None` until the page knows it), in
/// the browser; `refresh` reloads the page's data. Call once per page, above its data.
pub fn follow_alerts(shop: RwSignal<Option<String>>, refresh: Callback<()>) -> LiveAlerts {
    let live = LiveAlerts {
        open: RwSignal::new(Vec::new()),
        link: RwSignal::new(Link::Connecting),
        synced: RwSignal::new(None),
        dismissed: RwSignal::new(Vec::new()),
    };
    #[cfg(feature = "hydrate")]
    client::follow(shop, live, refresh);
    #[cfg(not(feature = "hydrate"))]
    let _ = (shop, refresh);
    live
}

/// The banners and the freshness line of `shop`; their links keep the admin's `embedding`.
#[component]
pub fn LiveBanners(live: LiveAlerts, shop: String, embedding: Embedding) -> impl IntoView {
    let slot = move |kind: AlertKind| {
        let href = banner_href(kind, &shop, &embedding);
        move || {
            let n = live
                .open
                .with(|open| live.dismissed.with(|d| banner(kind, open, d)))?;
            let critical = kind == AlertKind::DataGap;
            let class = if critical {
                "flex items-center justify-between gap-3 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-red-900"
            } else {
                "flex items-center justify-between gap-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-950"
            };
            let text = banner_text(kind, n);
            Some(view! {
                <div role="status" class=class data-banner=kind.as_str() data-count=n>
                    <a href=href.clone() class="font-medium underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600/60">
                        <span class="mr-2 rounded bg-white/70 px-1.5 py-0.5 text-xs font-semibold uppercase">
                            {if critical { "Critical" } else { "Warning" }}
                        </span>
                        {text.clone()}
                    </a>
                    <button
                        type="button"
                        class="rounded px-2 py-0.5 text-xs hover:bg-white/60 focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-600/60"
                        aria-label=format!("Dismiss: {text}")
                        on:click=move |_| live.dismissed.update(|d| {
                            d.retain(|(k, _)| *k != kind);
                            d.push((kind, n));
                        })
                    >
                        "Dismiss"
                    </button>
                </div>
            })
        }
    };
    view! {
        <div class="space-y-2" aria-live="polite" data-testid="live-banners">
            {slot(KINDS[0])}
            {slot(KINDS[1])}
            {slot(KINDS[2])}
        </div>
        <p class="text-xs text-zinc-600" data-testid="freshness" data-link=move || match live.link.get() {
            Link::Connecting => "connecting",
            Link::Live => "live",
            Link::Polling => "polling",
        }>
            {move || {
                let synced = live
                    .synced
                    .get()
                    .map(|t| format!(" · last synced {t}"))
                    .unwrap_or_default();
                match live.link.get() {
                    Link::Connecting => format!("Connecting to live alerts…{synced}"),
                    Link::Live => format!("Live alerts on{synced}"),
                    Link::Polling => format!("Live stream unavailable, checking every 5 s{synced}"),
                }
            }}
        </p>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    //! The browser side: an EventSource, the polling fallback and the timers between them.

    use leptos::prelude::*;
    use orders_core::AlertKind;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;

    use super::{backoff, Link, LiveAlerts, POLL_EVERY, REFRESH_SETTLE};

    type Listener = Closure<dyn FnMut(web_sys::Event)>;

    /// What is running for the shop being followed.
    #[derive(Default)]
    struct Running {
        /// Bumped on every (re)start: callbacks of an older connection do nothing.
        generation: u32,
        source: Option<(web_sys::EventSource, Vec<Listener>)>,
        attempt: u32,
        poll: Option<IntervalHandle>,
        retry: Option<TimeoutHandle>,
        refresh: Option<TimeoutHandle>,
    }

    impl Running {
        fn stop(&mut self) {
            if let Some((source, _)) = self.source.take() {
                source.close();
            }
            if let Some(h) = self.poll.take() {
                h.clear();
            }
            if let Some(h) = self.retry.take() {
                h.clear();
            }
            if let Some(h) = self.refresh.take() {
                h.clear();
            }
        }
    }

    type State = StoredValue<Running, LocalStorage>;

    fn now_label() -> String {
        let d = js_sys::Date::new_0();
        format!(
            "{:02}:{:02}:{:02}",
            d.get_hours(),
            d.get_minutes(),
            d.get_seconds()
        )
    }

    fn field(obj: &JsValue, name: &str) -> JsValue {
        js_sys::Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    }

    /// `(id, kind)` of an alert object.
    fn alert_of(obj: &JsValue) -> Option<(u64, AlertKind)> {
        let id = field(obj, "id").as_f64()? as u64;
        let kind = field(obj, "kind").as_string()?.parse().ok()?;
        Some((id, kind))
    }

    fn data_of(event: &web_sys::Event) -> JsValue {
        event
            .dyn_ref::<web_sys::MessageEvent>()
            .and_then(|m| m.data().as_string())
            .and_then(|text| js_sys::JSON::parse(&text).ok())
            .unwrap_or(JsValue::UNDEFINED)
    }

    fn encode(s: &str) -> String {
        js_sys::encode_uri_component(s).into()
    }

    /// Follows the alerts of whatever shop `shop` names, from hydration until the page goes.
    pub fn follow(shop: RwSignal<Option<String>>, live: LiveAlerts, refresh: Callback<()>) {
        let state: State = StoredValue::new_local(Running::default());
        Effect::new(move |_| {
            let Some(shop) = shop.get() else {
                return;
            };
            state.update_value(|r| {
                r.stop();
                r.generation += 1;
                r.attempt = 0;
            });
            live.open.set(Default::default());
            connect(state, shop, live, refresh);
        });
        on_cleanup(move || {
            state.try_update_value(|r| r.stop());
        });
    }

    /// The stream's URL for `shop`, with the session token the admin gave (if any).
    fn stream_url(shop: &str, token: Option<&str>) -> String {
        let url = format!("/sync/orders/alerts?shop_domain={}", encode(shop));
        match token {
            Some(token) => format!("{url}&id_token={}", encode(token)),
            None => url,
        }
    }

    /// Opens the stream: at once outside the admin; inside, once App Bridge has given a fresh
    /// session token (none: the stream is down, and the backoff tries again).
    fn connect(state: State, shop: String, live: LiveAlerts, refresh: Callback<()>) {
        let generation = state.with_value(|r| r.generation);
        live.link.set(Link::Connecting);
        if !crate::app_bridge::present() {
            let url = stream_url(&shop, None);
            open(state, generation, url, shop, live, refresh);
            return;
        }
        leptos::task::spawn_local(async move {
            let token = crate::app_bridge::session_token().await;
            // Stopped, restarted or failed meanwhile: that run decides.
            if state.try_with_value(|r| r.generation) != Some(generation) {
                return;
            }
            match token {
                Some(token) => {
                    let url = stream_url(&shop, Some(&token));
                    open(state, generation, url, shop, live, refresh);
                }
                None => fall_back(state, shop, live, refresh),
            }
        });
    }

    /// Follows the stream at `url` for the run `generation`.
    fn open(
        state: State,
        generation: u32,
        url: String,
        shop: String,
        live: LiveAlerts,
        refresh: Callback<()>,
    ) {
        let current = move || state.try_with_value(|r| r.generation) == Some(generation);
        let Ok(source) = web_sys::EventSource::new(&url) else {
            fall_back(state, shop, live, refresh);
            return;
        };
        let mut listeners: Vec<Listener> = Vec::new();
        let mut on = |name: &str, f: Box<dyn FnMut(web_sys::Event)>| {
            let listener = Closure::wrap(f);
            let _ =
                source.add_event_listener_with_callback(name, listener.as_ref().unchecked_ref());
            listeners.push(listener);
        };
        on(
            "open",
            Box::new(move |_| {
                if !current() {
                    return;
                }
                // A fresh stream replays every open alert: start from nothing.
                live.open.set(Default::default());
                live.link.set(Link::Live);
                live.synced.set(Some(now_label()));
                state.update_value(|r| {
                    r.attempt = 0;
                    if let Some(h) = r.poll.take() {
                        h.clear();
                    }
                });
            }),
        );
        on(
            "alert",
            Box::new(move |e| {
                if let (true, Some((id, kind))) = (current(), alert_of(&data_of(&e))) {
                    live.open.update(|open| super::add_open(open, id, kind));
                    live.synced.set(Some(now_label()));
                }
            }),
        );
        on(
            "resolved",
            Box::new(move |e| {
                let id = field(&data_of(&e), "id").as_f64();
                if let (true, Some(id)) = (current(), id) {
                    live.open
                        .update(|open| open.retain(|(i, _)| *i != id as u64));
                    live.synced.set(Some(now_label()));
                }
            }),
        );
        on(
            "refresh",
            Box::new(move |_| {
                if current() {
                    live.synced.set(Some(now_label()));
                    settle_refresh(state, refresh);
                }
            }),
        );
        let failed_shop = shop.clone();
        on(
            "error",
            Box::new(move |_| {
                if current() {
                    fall_back(state, failed_shop.clone(), live, refresh);
                }
            }),
        );
        state.update_value(|r| r.source = Some((source, listeners)));
    }

    /// Reloads the page once the refresh pings settle.
    fn settle_refresh(state: State, refresh: Callback<()>) {
        state.update_value(|r| {
            if let Some(h) = r.refresh.take() {
                h.clear();
            }
        });
        if let Ok(h) = set_timeout_with_handle(move || refresh.run(()), REFRESH_SETTLE) {
            state.update_value(|r| r.refresh = Some(h));
        }
    }

    /// The stream failed: close it, poll meanwhile, and try the stream again after a backoff.
    fn fall_back(state: State, shop: String, live: LiveAlerts, refresh: Callback<()>) {
        let attempt = state
            .try_update_value(|r| {
                if let Some((source, _)) = r.source.take() {
                    source.close();
                }
                r.generation += 1;
                let attempt = r.attempt;
                r.attempt = r.attempt.saturating_add(1);
                attempt
            })
            .unwrap_or(0);
        live.link.set(Link::Polling);
        let poll_shop = shop.clone();
        let poll_now = move || {
            let shop = poll_shop.clone();
            leptos::task::spawn_local(async move {
                if let Ok(open) = poll_open(&shop).await {
                    // Only while still polling: a stream that came back knows better.
                    if live.link.get_untracked() == Link::Polling {
                        live.open.set(open);
                        live.synced.set(Some(now_label()));
                    }
                }
            });
        };
        let polling = state.with_value(|r| r.poll.is_some());
        if !polling {
            poll_now();
            if let Ok(h) = set_interval_with_handle(poll_now, POLL_EVERY) {
                state.update_value(|r| r.poll = Some(h));
            }
        }
        if let Ok(h) = set_timeout_with_handle(
            move || connect(state, shop, live, refresh),
            backoff(attempt),
        ) {
            state.update_value(|r| {
                if let Some(old) = r.retry.replace(h) {
                    old.clear();
                }
            });
        }
    }

    /// Every open alert of the shop through the JSON fallback, page by page.
    async fn poll_open(shop: &str) -> Result<Vec<(u64, AlertKind)>, JsValue> {
        use wasm_bindgen_futures::JsFuture;
        let window = web_sys::window().ok_or(JsValue::NULL)?;
        let mut open: Vec<(u64, AlertKind)> = Vec::new();
        let mut since: Option<u64> = None;
        loop {
            let mut url = format!("/sync/orders/alerts?shop_domain={}", encode(shop));
            if let Some(s) = since {
                url.push_str(&format!("&since={s}"));
            }
            let init = web_sys::RequestInit::new();
            let headers = web_sys::Headers::new()?;
            headers.set("Accept", "application/json")?;
            init.set_headers(&headers);
            let response: web_sys::Response =
                JsFuture::from(window.fetch_with_str_and_init(&url, &init))
                    .await?
                    .dyn_into()?;
            if !response.ok() {
                return Err(JsValue::NULL);
            }
            let body = JsFuture::from(response.json()?).await?;
            let alerts: js_sys::Array = field(&body, "alerts").dyn_into()?;
            for a in alerts.iter() {
                if let Some((id, kind)) = alert_of(&a) {
                    if field(&a, "resolvedAt").is_null() {
                        super::add_open(&mut open, id, kind);
                    } else {
                        open.retain(|(i, _)| *i != id);
                    }
                }
            }
            let last = field(&body, "lastEventId").as_f64().map(|n| n as u64);
            if alerts.length() < orders_core::alerts::POLL_LIMIT as u32 || last.is_none() {
                return Ok(open);
            }
            since = last;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_banner_per_kind_with_its_count_until_dismissed_at_that_count() {
        let mut open = Vec::new();
        add_open(&mut open, 1, AlertKind::TrackingPending);
        add_open(&mut open, 2, AlertKind::TrackingPending);
        add_open(&mut open, 2, AlertKind::TrackingPending);
        add_open(&mut open, 3, AlertKind::Delayed);
        assert_eq!(banner(AlertKind::TrackingPending, &open, &[]), Some(2));
        assert_eq!(banner(AlertKind::Delayed, &open, &[]), Some(1));
        assert_eq!(banner(AlertKind::DataGap, &open, &[]), None);
        let dismissed = [(AlertKind::TrackingPending, 2)];
        assert_eq!(banner(AlertKind::TrackingPending, &open, &dismissed), None);
        add_open(&mut open, 4, AlertKind::TrackingPending);
        assert_eq!(
            banner(AlertKind::TrackingPending, &open, &dismissed),
            Some(3),
            "a new count shows the banner again"
        );
    }

    #[test]
    fn reconnection_backs_off_exponentially_to_thirty_seconds() {
        let waits: Vec<u64> = (0..8).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
    }

    #[test]
    fn banner_links_keep_the_admins_host_and_embedded() {
        let embedding = Embedding {
            host: Some("YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ".into()),
            embedded: Some("1".into()),
        };
        assert_eq!(
            banner_href(AlertKind::Delayed, "acme.myshopify.com", &embedding),
            "/orders?shop=acme.myshopify.com&tab=delayed\
             &host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ&embedded=1"
        );
        assert_eq!(
            banner_href(AlertKind::DataGap, "acme.myshopify.com", &embedding),
            "/orders?shop=acme.myshopify.com&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ&embedded=1"
        );
    }

    #[test]
    fn banner_links_outside_the_admin_grow_no_host_or_embedded() {
        let outside = Embedding::default();
        assert_eq!(
            banner_href(AlertKind::TrackingPending, "acme.myshopify.com", &outside),
            "/orders?shop=acme.myshopify.com&tab=tracking_pending"
        );
    }

    #[test]
    fn banners_say_what_and_how_many() {
        assert_eq!(
            banner_text(AlertKind::TrackingPending, 1),
            "1 order waiting for a tracking number"
        );
        assert_eq!(
            banner_text(AlertKind::Delayed, 3),
            "3 shipments delayed in transit"
        );
    }
}
