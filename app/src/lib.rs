//! The Orders dashboard.
use leptos::prelude::*;

#[component]
pub fn App() -> impl IntoView {
    view! { <p>"Orders"</p> }
}
