//! Security headers on every response, fit for a page embedded in Shopify's admin:
//! - `Content-Security-Policy`: pages may run only this site's scripts, the inline scripts Leptos
//!   writes (each carries the request's nonce) and the WASM (`'wasm-unsafe-eval'`); they may be
//!   framed only by Shopify's admin (`frame-ancestors`), never by anyone else. Everything else
//!   (JSON, CSV, event streams) gets `default-src 'none'`, and may not be framed.
//! - `X-Content-Type-Options: nosniff` and a `Referrer-Policy` that keeps URLs (with their shop and
//!   filters) to this site.

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
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

/// Adds the headers (see the module's documentation).
pub async fn security_headers(mut req: Request, next: Next) -> Response {
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
