//! Security headers on every response, fit for a page embedded in Shopify's admin:
//! - `Content-Security-Policy`: pages may run only this site's scripts, App Bridge (from
//!   `APP_BRIDGE_URL`'s origin), the inline scripts Leptos writes (each carries the request's
//!   nonce) and the WASM (`'wasm-unsafe-eval'`); they may be framed only by Shopify's admin and
//!   the admin of the shop the page names (`frame-ancestors https://{shop} https://admin.shopify.com`,
//!   SPEC §10), never by anyone else. Everything else
//!   (JSON, CSV, event streams) gets `default-src 'none'`, and may not be framed.
//! - Requests with more than 16 KiB of headers are refused (431), and so are requests whose path
//!   a browser would read as another host (`//evil.example`, `/\evil.example`: 400), before any
//!   handler could build a `Location` from it (see [`super::gate::is_same_site_path`]).
//! - `Cache-Control: no-store` on every answer but the site's static files
//!   ([`super::gate::is_asset`]): orders, customers' names and e-mails, alerts and exports are
//!   never kept by a browser's or a proxy's cache. A handler that sets its own `Cache-Control`
//!   keeps it.
//! - `X-Content-Type-Options: nosniff` and a `Referrer-Policy` that keeps URLs (with their shop and
//!   filters) to this site.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::gate::{is_asset, is_same_site_path};

/// The nonce of a page's inline scripts, chosen per request; the dashboard's Leptos context hands
/// it to the renderer.
#[derive(Debug, Clone)]
pub struct ScriptNonce(pub String);

/// Shopify's admin, which frames every embedded app.
pub const SHOPIFY_ADMIN: &str = "https://admin.shopify.com";

/// The policy of an HTML page whose inline scripts carry `nonce`: scripts from this site, the
/// nonce and App Bridge's origin (`script_origin`, when it is elsewhere); framed by Shopify's admin
/// and by the admin of `shop` when the page names one (no wildcard).
pub fn page_policy(nonce: &str, script_origin: Option<&str>, shop: Option<&str>) -> String {
    let scripts = script_origin.map(|o| format!(" {o}")).unwrap_or_default();
    let ancestors = match shop {
        Some(shop) => format!("https://{shop} {SHOPIFY_ADMIN}"),
        None => SHOPIFY_ADMIN.to_owned(),
    };
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}'{scripts} 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'{scripts}; \
         font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors {ancestors}"
    )
}

/// The origin (`https://host[:port]`) of an absolute script URL; `None` for a path on this site.
pub fn origin_of(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url).ok()?;
    Some(url.origin().ascii_serialization()).filter(|o| o != "null")
}

/// The shop a request names in `?shop=`, when it is a `*.myshopify.com` domain.
fn shop_of(req: &Request) -> Option<String> {
    let shop = super::access::query_value(req.uri().query(), "shop")?;
    orders_core::query::parse_shop_domain(&shop)
        .ok()
        .filter(|s| s.ends_with(".myshopify.com"))
}

/// The policy of everything that is not a page.
pub const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The most header bytes (names and values) a request may carry: 431 beyond.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// A refusal before anything runs, in the v1.2 envelope.
fn refuse(status: StatusCode, message: String) -> Response {
    (
        status,
        axum::Json(orders_core::Envelope::<serde_json::Value>::failure(message)),
    )
        .into_response()
}

/// Refuses requests whose headers are larger than [`MAX_HEADER_BYTES`] or whose path would leave
/// the site, then adds the headers (see the module's documentation).
pub async fn security_headers(
    State(trust): State<super::Trust>,
    mut req: Request,
    next: Next,
) -> Response {
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    let path = req.uri().path().to_owned();
    let nonce = super::random_bytes::<16>().map(|bytes| URL_SAFE_NO_PAD.encode(bytes));
    let refusal = if header_bytes > MAX_HEADER_BYTES {
        Some(refuse(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request's headers are larger than {} KiB",
                MAX_HEADER_BYTES / 1024
            ),
        ))
    } else if !is_same_site_path(&path) {
        Some(refuse(
            StatusCode::BAD_REQUEST,
            "not a path of this site: a path begins with a single / (a browser reads one \
             beginning with // or /\\ as another host)"
                .to_owned(),
        ))
    } else if let Err(e) = &nonce {
        tracing::error!(error = %e, "no random bytes for the page's script nonce");
        Some(crate::error::ApiError::Internal.into_response())
    } else {
        None
    };
    // Only refusals, which are not pages, go without a nonce.
    let nonce = nonce.unwrap_or_default();
    let shop = shop_of(&req);
    let mut response = match refusal {
        Some(refusal) => refusal,
        None => {
            req.extensions_mut().insert(ScriptNonce(nonce.clone()));
            next.run(req).await
        }
    };
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html"));
    let policy = if is_html {
        page_policy(&nonce, trust.app_bridge_origin(), shop.as_deref())
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
    if !is_asset(&path) && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
