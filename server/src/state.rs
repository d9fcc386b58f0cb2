//! The state every handler and server function shares.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::service::Service;
use crate::trust::Trust;
use crate::workers::Workers;

/// Handed to the axum routes and, through context, to the Leptos server functions.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub service: Service,
    pub leptos_options: LeptosOptions,
    pub trust: Trust,
    /// The background workers, for `/readyz`.
    pub workers: Workers,
}
