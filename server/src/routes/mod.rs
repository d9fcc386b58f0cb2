//! The HTTP doors: every route of the process but the dashboard's pages and server functions
//! (`dashboard.rs`). Handlers are thin: they extract, ask trust, call the service (or the module
//! whose logic they front: `shopify::webhook`, `trust::gate`) and map the result.
//!
//! # Policy
//! - **A route is written once.** Each Sync API route (`/sync/*`) is the `path` of its handler's
//!   `#[utoipa::path]`, and [`sync_api`] is the one table of them: the router and the OpenAPI
//!   document are both built from it, so neither can list a route the other lacks. Nothing else
//!   names those paths: a write's idempotency fingerprint takes the route that matched.
//! - The other doors (health, Shopify's webhook, the sign-in routes, the CSV export) are not in
//!   the document; [`router`] adds them.

pub mod alerts;
pub mod document;
pub mod export;
pub mod health;
pub mod orders;
pub mod outbox;
pub mod sign_in;
pub mod webhook;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::openapi::ApiDoc;
use crate::state::AppState;
use crate::trust::gate;

/// The Sync API's route table: every `/sync/*` route, with its operation in the OpenAPI document.
pub fn sync_api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(orders::list_orders))
        .routes(routes!(orders::get_order))
        .routes(routes!(orders::assign_orders))
        .routes(routes!(orders::fulfill_orders))
        .routes(routes!(orders::escalate_to_support))
        .routes(routes!(orders::apply_return_action))
        .routes(routes!(alerts::alerts))
        .routes(routes!(outbox::list_outbox))
        .routes(routes!(document::openapi_json))
}

/// The Sync API ([`sync_api`]), Shopify's webhooks, `/healthz` and `/readyz`, the bounce page;
/// and where the dashboard is served (SPEC §11), the development sign-in, the sign-out and the
/// CSV export (behind the dashboard's door).
pub fn router(state: AppState, dashboard: bool) -> Router<AppState> {
    let (router, _document) = sync_api().split_for_parts();
    let router = router
        .route(
            "/webhooks/shopify",
            post(webhook::shopify).layer(DefaultBodyLimit::max(webhook::MAX_BODY)),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(gate::BOUNCE_PATH, get(sign_in::bounce_page));
    if !dashboard {
        return router;
    }
    router
        .route(
            gate::DEV_SIGN_IN_PATH,
            get(sign_in::dev_form).post(sign_in::dev_sign_in),
        )
        .route("/auth/sign-out", post(sign_in::sign_out))
        .route(
            gate::EXPORT_PATH,
            get(export::export_csv).layer(axum::middleware::from_fn_with_state(
                state,
                gate::dashboard_gate,
            )),
        )
}
