//! Live alerts (SPEC §6, §8): the page follows `GET /sync/orders/alerts` as an EventSource and
//! keeps its banners true. The banners themselves are the server's (the page's data carries each
//! kind's count and first orders, see `orders::banners`); the stream tells the page when to reload
//! them: on each `refresh`, and when the open alerts it reports settle on other counts than the
//! banners show. It also says how fresh the page is.
//!
//! When the stream fails, the page closes it, asks the JSON fallback for the open alerts every few
//! seconds, and tries the stream again after 1, 2, 4 … 30 s; the stream's own replay then replaces
//! what polling found. The connection runs in the browser only.
//!
//! Inside Shopify's admin an EventSource cannot carry App Bridge's `Authorization` header, so each
//! connection and each reconnection takes a fresh session token and passes it as `id_token=`
//! (SPEC §10); the server checks it once, when the stream starts.

use std::time::Duration;

use leptos::prelude::*;
use orders_core::AlertKind;

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
    /// The open alerts the stream (or the polling fallback) reported: (id, kind), each id once.
    pub open: RwSignal<Vec<(u64, AlertKind)>>,
    /// How many open alerts of each kind the page's banners show (the server's count, with the
    /// page's data). When `open` settles on other counts, the page reloads.
    pub shown: RwSignal<Vec<(AlertKind, u64)>>,
    pub link: RwSignal<Link>,
    /// When the page last heard from Sync (local time, `14:03:12`).
    pub synced: RwSignal<Option<String>>,
    /// Banners closed by the user, with the count they showed.
    pub dismissed: RwSignal<Vec<(AlertKind, u64)>>,
}

/// Whether the banner of `kind` at `count` stays up: it was not dismissed at that very count.
pub fn visible(kind: AlertKind, count: u64, dismissed: &[(AlertKind, u64)]) -> bool {
    !dismissed.contains(&(kind, count))
}

/// Whether the open alerts `open` count otherwise than the banners on screen (`shown`).
pub fn differs(open: &[(u64, AlertKind)], shown: &[(AlertKind, u64)]) -> bool {
    orders_core::alerts::BANNER_KINDS.iter().any(|&kind| {
        let live = open.iter().filter(|(_, k)| *k == kind).count() as u64;
        let page = shown
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| *n);
        live != page
    })
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

/// Starts following the alerts of whatever shop `shop` names (`None` until the page knows it), in
/// the browser; `refresh` reloads the page's data. Call once per page, above its data.
pub fn follow_alerts(shop: RwSignal<Option<String>>, refresh: Callback<()>) -> LiveAlerts {
    let live = LiveAlerts {
        open: RwSignal::new(Vec::new()),
        shown: RwSignal::new(Vec::new()),
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

/// How fresh the page is: live, connecting, or polling, and when it last heard from Sync.
#[component]
pub fn Freshness(live: LiveAlerts) -> impl IntoView {
    view! {
        <p class="text-xs text-secondary" data-testid="freshness" data-link=move || match live.link.get() {
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
        /// A refresh ping asked for a reload: the settled timer reloads whatever the counts say.
        must_refresh: bool,
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
                    settle(state, live, refresh, false);
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
                    settle(state, live, refresh, false);
                }
            }),
        );
        on(
            "refresh",
            Box::new(move |_| {
                if current() {
                    live.synced.set(Some(now_label()));
                    settle(state, live, refresh, true);
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

    /// Once the stream settles (no event for [`REFRESH_SETTLE`]), reloads the page if a refresh
    /// ping asked (`ping`, now or earlier in the burst) or if the open alerts count otherwise than
    /// the banners on screen. A stream's replay of what the page already shows reloads nothing.
    fn settle(state: State, live: LiveAlerts, refresh: Callback<()>, ping: bool) {
        state.update_value(|r| {
            r.must_refresh |= ping;
            if let Some(h) = r.refresh.take() {
                h.clear();
            }
        });
        let fire = move || {
            let ping = state
                .try_update_value(|r| std::mem::take(&mut r.must_refresh))
                .unwrap_or(false);
            let moved = live.open.with_untracked(|open| {
                live.shown
                    .with_untracked(|shown| super::differs(open, shown))
            });
            if ping || moved {
                refresh.run(());
            }
        };
        if let Ok(h) = set_timeout_with_handle(fire, REFRESH_SETTLE) {
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
                        settle(state, live, refresh, false);
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
    fn a_banner_stays_dismissed_at_its_count_only() {
        let dismissed = [(AlertKind::TrackingPending, 2)];
        assert!(!visible(AlertKind::TrackingPending, 2, &dismissed));
        assert!(
            visible(AlertKind::TrackingPending, 3, &dismissed),
            "a new count shows it again"
        );
        assert!(visible(AlertKind::Delayed, 2, &dismissed));
    }

    #[test]
    fn the_page_reloads_only_when_the_live_counts_leave_the_banners() {
        let mut open = Vec::new();
        add_open(&mut open, 1, AlertKind::TrackingPending);
        add_open(&mut open, 2, AlertKind::TrackingPending);
        add_open(&mut open, 2, AlertKind::TrackingPending);
        add_open(&mut open, 3, AlertKind::Delayed);
        let shown = [(AlertKind::TrackingPending, 2), (AlertKind::Delayed, 1)];
        assert!(!differs(&open, &shown), "a replay of what is on screen");
        add_open(&mut open, 4, AlertKind::DataGap);
        assert!(differs(&open, &shown), "a new kind of alert");
        assert!(differs(&[], &shown), "every alert cleared");
        assert!(!differs(&[], &[]));
    }

    #[test]
    fn reconnection_backs_off_exponentially_to_thirty_seconds() {
        let waits: Vec<u64> = (0..8).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(waits, vec![1, 2, 4, 8, 16, 30, 30, 30]);
    }
}
