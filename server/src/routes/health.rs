//! Liveness and readiness for load balancers and operators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::service::Service;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the store of record answers (503 while the database is away).
pub async fn readyz(State(service): State<Service>) -> (StatusCode, Json<Value>) {
    let store = if service.store().is_sample() {
        "sample"
    } else {
        "postgres"
    };
    match service.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "store": store })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "store": store })),
            )
        }
    }
}
