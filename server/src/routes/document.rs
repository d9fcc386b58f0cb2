//! `GET /sync/openapi.json`: the OpenAPI document of the Sync API ([`crate::openapi`]), built from
//! the route table it is part of.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::openapi::{document, HeadersTooLarge};

/// `GET /sync/openapi.json`
#[utoipa::path(
    get,
    path = "/sync/openapi.json",
    tag = "meta",
    summary = "This OpenAPI document",
    description = "Needs no credentials.",
    security(()),
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of the Sync API",
            content_type = "application/json", body = Object),
        (status = 431, response = HeadersTooLarge),
    ),
)]
pub async fn openapi_json() -> Response {
    match document() {
        Ok(document) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            document,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = e, "the OpenAPI document does not serialise");
            ApiError::Internal.into_response()
        }
    }
}
