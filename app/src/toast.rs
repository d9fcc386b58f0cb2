//! Toasts: what an action did, or why it failed, said once in a corner of the screen and read out
//! by screen readers (a polite live region for successes, an assertive one for failures).
//! Inside the Shopify admin, App Bridge's own toasts say it instead (SPEC §10), and the page's
//! region stays empty.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use leptos::prelude::*;

/// A success fades after this long; a failure stays until it is dismissed or replaced by many more.
const SUCCESS_VISIBLE: Duration = Duration::from_secs(6);
/// At most this many toasts are on screen; the oldest go first.
const MAX_TOASTS: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Success,
    Failure,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub kind: ToastKind,
    pub text: String,
}

/// The toasts on screen; provided by the app, used by every action.
#[derive(Debug, Clone, Copy)]
pub struct Toasts(RwSignal<Vec<Toast>>);

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Toasts {
    /// Creates the toasts and provides them to everything below.
    pub fn provide() -> Toasts {
        let toasts = Toasts(RwSignal::new(Vec::new()));
        provide_context(toasts);
        toasts
    }

    /// Says what worked: App Bridge's toast inside the admin, else ours, which fades by itself.
    pub fn success(self, text: impl Into<String>) {
        let text = text.into();
        if crate::app_bridge::show_toast(&text, false) {
            return;
        }
        let id = self.push(ToastKind::Success, text);
        set_timeout(move || self.dismiss(id), SUCCESS_VISIBLE);
    }

    /// Says what failed: App Bridge's error toast inside the admin, else ours, which stays.
    pub fn failure(self, text: impl Into<String>) {
        let text = text.into();
        if crate::app_bridge::show_toast(&text, true) {
            return;
        }
        self.push(ToastKind::Failure, text);
    }

    pub fn dismiss(self, id: u64) {
        self.0.update(|ts| ts.retain(|t| t.id != id));
    }

    fn push(self, kind: ToastKind, text: String) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.0.update(|ts| {
            ts.push(Toast { id, kind, text });
            let extra = ts.len().saturating_sub(MAX_TOASTS);
            ts.drain(..extra);
        });
        id
    }
}

/// The toasts of the page (panics outside the app, which always provides them).
pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

/// Where the toasts appear: bottom right, newest last.
#[component]
pub fn ToastRegion() -> impl IntoView {
    let toasts = use_toasts();
    let of_kind = move |kind: ToastKind| {
        move || {
            toasts
                .0
                .get()
                .into_iter()
                .filter(|t| t.kind == kind)
                .map(|t| view! { <ToastCard toast=t/> })
                .collect_view()
        }
    };
    view! {
        <div class="pointer-events-none fixed bottom-4 right-4 z-50 flex w-96 max-w-[calc(100vw-2rem)] flex-col gap-2">
            <div role="alert" aria-live="assertive" class="flex flex-col gap-2" data-testid="toasts-failure">
                {of_kind(ToastKind::Failure)}
            </div>
            <div role="status" aria-live="polite" class="flex flex-col gap-2" data-testid="toasts-success">
                {of_kind(ToastKind::Success)}
            </div>
        </div>
    }
}

#[component]
fn ToastCard(toast: Toast) -> impl IntoView {
    let toasts = use_toasts();
    let Toast { id, kind, text } = toast;
    let (class, label) = match kind {
        ToastKind::Success => ("border-success bg-surface-success text-success", "Done"),
        ToastKind::Failure => (
            "border-critical bg-surface-critical text-critical",
            "Failed",
        ),
    };
    view! {
        <div
            class=format!(
                "pointer-events-auto flex items-start gap-3 rounded-md border px-3 py-2 text-sm shadow-lg {class}",
            )
            data-toast=match kind {
                ToastKind::Success => "success",
                ToastKind::Failure => "failure",
            }
        >
            <p class="flex-1">
                <span class="font-semibold">{label} ": "</span>
                {text}
            </p>
            <button
                type="button"
                class="rounded px-1 text-base leading-none opacity-70 hover:opacity-100 focus:outline-none focus:ring-2 focus:ring-focus"
                aria-label="Dismiss"
                on:click=move |_| toasts.dismiss(id)
            >
                "×"
            </button>
        </div>
    }
}
