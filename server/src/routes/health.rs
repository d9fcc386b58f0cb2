//! Liveness and readiness for load balancers and operators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::service::Service;
use crate::workers::Workers;

/// `GET /healthz`: the process is up.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the store of record answers (503 while the database is away); the body also names
/// each background worker and whether it runs (a worker waiting to restart after a panic does not
/// make the process unready: the database decides).
pub async fn readyz(
    State(service): State<Service>,
    State(workers): State<Workers>,
) -> (StatusCode, Json<Value>) {
    let workers = workers.report();
    let store = if service.is_sample() {
        "sample"
    } else {
        "postgres"
    };
    match service.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "store": store, "workers": workers })),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "store": store, "workers": workers })),
            )
        }
    }
}
