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

/// `/sync/orders*`, `/sync/outbox`, the OpenAPI document of them (`/sync/openapi.json`), the CSV export (behind the dashboard's door), Shopify's
/// webhooks, `/healthz` and `/readyz`.
///
/// `dashboard`: whether the dashboard is served (SPEC §11); without it, the export is not either.
pub fn router(state: AppState, dashboard: bool) -> Router<AppState> {
    let router = Router::new()
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
            "/webhooks/shopify",
            post(crate::shopify::webhook::receive)
                .layer(DefaultBodyLimit::max(crate::shopify::webhook::MAX_BODY)),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    if !dashboard {
        return router;
    }
    router.route(
        crate::trust::gate::EXPORT_PATH,
        get(export::export_csv).layer(axum::middleware::from_fn_with_state(
            state,
            crate::trust::gate::dashboard_gate,
        )),
    )
}
