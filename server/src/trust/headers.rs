//! Security headers on every response, fit for a page embedded in Shopify's admin:
//! - `Content-Security-Policy`: pages may run only this site's scripts, the inline scripts Leptos
//!   writes (each carries the request's nonce) and the WASM (`'wasm-unsafe-eval'`); they may be
//!   framed only by Shopify's admin (`frame-ancestors`), never by anyone else. Everything else
//!   (JSON, CSV, event streams) gets `default-src 'none'`, and may not be framed.
//! - Requests with more than 16 KiB of headers are refused (431).
//! - `X-Content-Type-Options: nosniff` and a `Referrer-Policy` that keeps URLs (with their shop and
//!   filters) to this site.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The nonce of a page's inline scripts, chosen per request; the dashboard's Leptos context hands
/// it to the renderer.
#[derive(Debug, Clone)]
pub struct ScriptNonce(pub String);

/// Who may frame the dashboard: Shopify's admin and the shops' own admin domains.
pub const FRAME_ANCESTORS: &str = "https://admin.shopify.com https://*.myshopify.com";

/// The policy of an HTML page whose inline scripts carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors {FRAME_ANCESTORS}"
    )
}

/// The policy of everything that is not a page.
pub const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The most header bytes (names and values) a request may carry: 431 beyond.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Adds the headers (see the module's documentation), after refusing requests whose headers are
/// larger than [`MAX_HEADER_BYTES`].
pub async fn security_headers(mut req: Request, next: Next) -> Response {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if header_bytes > MAX_HEADER_BYTES {
        let mut response = (
            axum::http::StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            axum::Json(orders_core::Envelope::<serde_json::Value>::failure(
                format!(
                    "the request's headers are larger than {} KiB",
                    MAX_HEADER_BYTES / 1024
                ),
            )),
        )
            .into_response();
        response.headers_mut().insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        return response;
    }
    let nonce = URL_SAFE_NO_PAD.encode(super::random_bytes::<16>());
    req.extensions_mut().insert(ScriptNonce(nonce.clone()));
    let mut response = next.run(req).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let policy = if is_html {
        page_policy(&nonce)
    } else {
        OTHER_POLICY.to_owned()
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    response
}
