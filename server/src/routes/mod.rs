//! The HTTP doors of Sync: thin handlers that parse, call the service and map the result.

pub mod alerts;
pub mod export;
pub mod health;
pub mod orders;
pub mod outbox;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::state::AppState;
use crate::trust::Trust;

/// `/sync/orders*`, `/sync/outbox`, the OpenAPI document of them (`/sync/openapi.json`), the CSV export (behind the dashboard's door), Shopify's
/// webhooks, `/healthz` and `/readyz`.
pub fn router(trust: Trust) -> Router<AppState> {
    Router::new()
        .route("/sync/orders", get(orders::list_orders))
        .route("/sync/orders/assign", post(orders::assign_orders))
        .route("/sync/orders/fulfill", post(orders::fulfill_orders))
        .route("/sync/orders/support", post(orders::escalate_to_support))
        .route("/sync/orders/returns", post(orders::apply_return_action))
        .route("/sync/orders/alerts", get(alerts::alerts))
        .route("/sync/orders/{*id}", get(orders::get_order))
        .route("/sync/outbox", get(outbox::list_outbox))
        .route("/sync/openapi.json", get(crate::openapi::openapi_json))
        .route(
            "/orders/export.csv",
            get(export::export_csv).layer(axum::middleware::from_fn_with_state(
                trust,
                crate::trust::gate::dashboard_gate,
            )),
        )
        .route(
            "/webhooks/shopify",
            post(crate::shopify::webhook::receive)
                .layer(DefaultBodyLimit::max(crate::shopify::webhook::MAX_BODY)),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
}
