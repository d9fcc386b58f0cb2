//! The one error type of the HTTP boundary, rendered as the v1.2 envelope
//! `{ success: false, message, updatedOrders: [] }` with the status that fits (SPEC §3). The
//! service's own error ([`ServiceError`]) becomes one here: the HTTP mapping lives at the door.
//!
//! Policy: 4xx messages tell the client exactly what to change; 5xx messages say little, and the
//! cause is logged once, here, where the error becomes a response.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use orders_core::envelope::FieldError;
use orders_core::{Envelope, QueryError};
use serde_json::Value;

use crate::service::ServiceError;
use crate::store::StoreError;

/// Seconds a client should wait before retrying what could not be served now (the database away,
/// the server busy, too many live streams).
pub const RETRY_AFTER_SECS: u32 = 5;

/// Tells App Bridge that the session token was refused and that it should retry the request
/// with a fresh one.
pub const RETRY_INVALID_SESSION: &str = "x-shopify-retry-invalid-session-request";

/// Everything a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    /// A Shopify session token that is invalid or expired: 401, with the header that tells App
    /// Bridge to fetch a fresh token and retry (SPEC §10).
    #[error("{0}")]
    InvalidSession(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than 1 MiB")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{0}")]
    Unprocessable(String),
    /// Too many requests for this token; try again after the given seconds.
    #[error("too many requests; try again in {0} s")]
    TooManyRequests(u64),
    /// Too many live streams open at once (by one client, or of one shop): 429 with `Retry-After`.
    #[error("{0}")]
    TooManyStreams(String),
    #[error("the database is unavailable; try again shortly")]
    Unavailable,
    /// The server cannot take the request now (its deadline passed, or it is at its connection
    /// ceiling): 503 with `Retry-After`.
    #[error("{0}; try again shortly")]
    Busy(String),
    /// Shopify could not be reached or answered badly (the token exchange).
    #[error("Shopify is unavailable ({0}); try again shortly")]
    ShopifyUnavailable(String),
    #[error("something went wrong on our side; it has been logged")]
    Internal,
}

impl ApiError {
    /// The HTTP status of each kind of failure.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::InvalidSession(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests(_) | ApiError::TooManyStreams(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable | ApiError::Busy(_) | ApiError::ShopifyUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_code();
        let mut response =
            (status, Json(Envelope::<Value>::failure(self.to_string()))).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::Unavailable
            | ApiError::Busy(_)
            | ApiError::ShopifyUnavailable(_)
            | ApiError::TooManyStreams(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
            }
            ApiError::TooManyRequests(secs) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            ApiError::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"sync\""),
                );
            }
            ApiError::InvalidSession(_) => {
                headers.insert(RETRY_INVALID_SESSION, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        response
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<ServiceError> for ApiError {
    /// The HTTP status of each of the service's answers; the cause of a 5xx is logged here.
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::NotFound(m) => ApiError::NotFound(m),
            ServiceError::Conflict(m) => ApiError::Conflict(m),
            ServiceError::Unprocessable(m) => ApiError::Unprocessable(m),
            ServiceError::Unavailable(cause) => {
                tracing::warn!(error = %cause, "database unavailable");
                ApiError::Unavailable
            }
            ServiceError::Internal(cause) => {
                tracing::error!(error = ?cause, "store failure");
                ApiError::Internal
            }
        }
    }
}

/// What the PostgreSQL-only services' store errors answer: as the service says them.
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ServiceError::from(e).into()
    }
}
