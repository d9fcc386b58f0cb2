//! The dashboard's door: who is asking, Shopify's bounce, the sign-in routes' answers (their doors
//! are in `routes/sign_in.rs`), and CSRF protection.
//!
//! - Every dashboard request (pages, server functions, the CSV export) has its credential read
//!   ([`Trust::credential`]): Shopify's session token in `Authorization: Bearer` (App Bridge adds it
//!   to `fetch`) or, on a `GET`, in `id_token=`; else the development cookie. The request goes on
//!   with it as its [`Viewer`]; which shop it may see is decided per shop by the one access rule
//!   ([`Trust::admit`]), by the page, the server functions and the export.
//! - With `SHOPIFY_API_SECRET` set, a page load without a valid token is bounced (SPEC §10): 302 to
//!   `/auth/session-token?shopify-reload=<the URL without id_token>`, App Bridge's page, which
//!   reloads it with a fresh token; a second failure shows an error page instead of looping, and
//!   outside the admin (no `shop`, no `host`) a page says to open the app from Shopify. Anything
//!   else without a valid token is a 401 with `X-Shopify-Retry-Invalid-Session-Request: 1`.
//! - **Every redirect stays on this site.** What the bounce reloads, and what the bounce page is
//!   asked to reload, is a path of this site ([`is_same_site_path`]); a request whose own path a
//!   browser would read as another host (`//evil.example`) is refused before it gets here (see
//!   [`super::headers`]), so no `Location` built from it can leave the site.
//! - Without it (local development), `/auth/dev` signs in by name.
//! - **CSRF**: a request that writes (any method but `GET`/`HEAD`/`OPTIONS`) must come from this
//!   site: a browser's `Sec-Fetch-Site` must be `same-origin` (or `none`: typed by the user), and
//!   an `Origin` must be this host. A cross-site form or script is refused with 403 before anything
//!   runs. The session cookie adds `SameSite` on top.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use orders_core::query::parse_shop_domain;
use serde::Deserialize;

use super::access::query_value;
use super::session::{SessionKeys, SignIn, SESSION_LIFETIME};
use super::{Carried, Credential, Session, Trust};
use crate::error::ApiError;
use crate::state::AppState;

/// Who the dashboard is serving, put in the request's extensions for the Leptos context.
#[derive(Debug, Clone)]
pub struct Viewer(pub Credential);

/// Whether a writing request came from another site (see the module's documentation).
pub fn cross_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if fetch_site
        .as_deref()
        .is_some_and(|s| s != "same-origin" && s != "none")
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest.trim_end_matches('/'));
    match (origin_host, host) {
        (Some(o), Some(h)) => !o.eq_ignore_ascii_case(h),
        _ => true,
    }
}

/// Whether `path` is one of the site's static files (the WASM, JS, CSS, the fonts and the icon),
/// which carry no shop's data: no credential is asked for, and they may be cached.
pub fn is_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path.starts_with("/fonts/") || path == "/favicon.svg"
}

/// Whether a browser told to go to `target` (a path with its query) stays on this site: it begins
/// with one `/`, not `//` or `/\` (read as another host: `//evil.example`), and holds no
/// whitespace or control character (which browsers drop before reading it: `/\t/evil.example`).
pub fn is_same_site_path(target: &str) -> bool {
    target.starts_with('/')
        && !target[1..].starts_with(['/', '\\'])
        && !target.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Where the CSV export is served (behind this door, but not a page); the page names it.
pub use app::orders::EXPORT_PATH;
/// Shopify's bounce page: App Bridge alone, which reloads `shopify-reload` with a fresh token.
pub const BOUNCE_PATH: &str = "/auth/session-token";
/// The development sign-in: its form, and where the form is sent.
pub const DEV_SIGN_IN_PATH: &str = "/auth/dev";
/// Marks a URL the bounce sent back, so that a second failure shows an error instead of looping.
const BOUNCED: &str = "bounced";

/// The dashboard's door (see the module's documentation).
pub async fn dashboard_gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if is_asset(req.uri().path()) {
        return next.run(req).await;
    }
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe && cross_site(req.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "This request came from another site; it was refused (CSRF protection).",
        )
            .into_response();
    }
    let (mut parts, body) = req.into_parts();
    // A page load, as opposed to a server function, the export or a script's fetch.
    let document = parts.method == Method::GET && parts.uri.path() != EXPORT_PATH;
    let carried = Carried {
        cookie_for_writes: true,
    };
    let credential = match state
        .trust
        .credential(&state.service, &parts, carried)
        .await
    {
        Ok(credential) => credential,
        Err(ApiError::InvalidSession(why)) if document => return bounce(&parts.uri, &why),
        Err(e) => return e.into_response(),
    };
    if credential == Credential::Anonymous && state.trust.sign_in_required() {
        return if document {
            bounce(&parts.uri, "there was no session token")
        } else {
            ApiError::InvalidSession(
                "a Shopify session token is required (Authorization: Bearer …, or id_token=)"
                    .into(),
            )
            .into_response()
        };
    }
    parts.extensions.insert(Viewer(credential));
    next.run(Request::from_parts(parts, body)).await
}

/// The query pairs of `uri` but `id_token` (and the bounce's own marker).
fn pairs_without_token(uri: &Uri) -> Vec<(String, String)> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .filter(|(k, _)| k != "id_token" && k != BOUNCED)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn encode(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// A page load without a valid session token (SPEC §10): inside the admin (`shop` or `host`
/// given), a redirect to the bounce page, which reloads the same URL with a fresh token; a second
/// failure, an error page; outside the admin, a page saying where to open the app.
fn bounce(uri: &Uri, why: &str) -> Response {
    if !is_same_site_path(uri.path()) {
        return not_this_site("This address");
    }
    let pairs = pairs_without_token(uri);
    let named = |k: &str| pairs.iter().any(|(name, v)| name == k && !v.is_empty());
    if !named("shop") && !named("host") {
        return (
            StatusCode::UNAUTHORIZED,
            Html(page(
                "Open Orders ↔ Sync from Shopify",
                "<p>Orders ↔ Sync runs inside your Shopify admin: open it from <b>Apps</b> there.</p>",
            )),
        )
            .into_response();
    }
    if query_value(uri.query(), BOUNCED).is_some() {
        return (
            StatusCode::UNAUTHORIZED,
            Html(page(
                "Could not sign in",
                &format!(
                    "<p>Shopify's session token was refused again ({}). Reload the app from your \
                     Shopify admin; if this persists, the app's SHOPIFY_API_KEY and \
                     SHOPIFY_API_SECRET may not match the app in Shopify.</p>",
                    escape(why)
                ),
            )),
        )
            .into_response();
    }
    let mut reload_pairs = pairs.clone();
    reload_pairs.push((BOUNCED.into(), "1".into()));
    let reload = format!("{}?{}", uri.path(), encode(&reload_pairs));
    let mut bounce_pairs = pairs;
    bounce_pairs.push(("shopify-reload".into(), reload));
    // 302, as Shopify's own libraries answer.
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            format!("{BOUNCE_PATH}?{}", encode(&bounce_pairs)),
        )],
    )
        .into_response()
}

/// `GET /auth/session-token`: the bounce page, App Bridge and nothing else (SPEC §10). App Bridge
/// reloads its `shopify-reload` with a fresh session token, so one that would leave this site is
/// refused (400), not handed to it.
pub fn bounce_page(trust: &Trust, uri: &Uri) -> Response {
    let leaves = form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .any(|(k, v)| k == "shopify-reload" && !is_same_site_path(&v));
    if leaves {
        return not_this_site("This sign-in link's shopify-reload");
    }
    let settings = trust.settings();
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"shopify-api-key\" content=\"{}\"><script src=\"{}\"></script>\
         <title>Orders ↔ Sync</title></head><body></body></html>",
        escape(settings.shopify_api_key.as_deref().unwrap_or("")),
        escape(&settings.app_bridge_url)
    ))
    .into_response()
}

/// 400: a redirect target that would leave this site (see [`is_same_site_path`]).
fn not_this_site(what: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Html(page(
            "Not a page of this app",
            &format!(
                "<p>{} does not lead to a page of this app; open the app from your Shopify \
                 admin.</p>",
                escape(what)
            ),
        )),
    )
        .into_response()
}

fn with_cookie(mut response: Response, keys: &SessionKeys, session: &Session) -> Response {
    let Some(cookie) = keys.set_cookie(session) else {
        tracing::error!("a sealed session is not a header value");
        return ApiError::Internal.into_response();
    };
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
         <link rel=\"stylesheet\" href=\"/pkg/orders-sync.css\"></head>\
         <body class=\"p-8 font-sans\"><main class=\"max-w-md mx-auto\"><h1 class=\"text-xl font-semibold mb-4\">{t}</h1>{body}</main></body></html>",
        t = escape(title)
    )
}

/// `GET /auth/dev`: the development sign-in's form (404 once Shopify's credentials are set).
pub fn dev_form(trust: &Trust) -> Response {
    if !trust.sessions().development_sign_in() {
        return StatusCode::NOT_FOUND.into_response();
    }
    Html(page(
        "Development sign-in",
        &format!("<p class=\"mb-4\">For local use only: it is switched off when SHOPIFY_API_SECRET is set.</p>\
         <form method=\"post\" action=\"{DEV_SIGN_IN_PATH}\" class=\"grid gap-3\">\
         <label>Shop <input name=\"shop\" required placeholder=\"acme.myshopify.com\" class=\"border p-1 w-full\"></label>\
         <label>Your name <input name=\"staff\" required placeholder=\"sam\" class=\"border p-1 w-full\"></label>\
         <button type=\"submit\" class=\"border px-3 py-1\">Sign in</button></form>"),
    ))
    .into_response()
}

/// The development sign-in's form, as sent.
#[derive(Deserialize)]
pub struct DevSignIn {
    shop: String,
    staff: String,
}

/// `POST /auth/dev`: signs in by name (`form` is `None` when the form did not read).
pub fn dev_sign_in(trust: &Trust, headers: &HeaderMap, form: Option<DevSignIn>) -> Response {
    if !trust.sessions().development_sign_in() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if cross_site(headers) {
        return (
            StatusCode::FORBIDDEN,
            "refused: the form came from another site",
        )
            .into_response();
    }
    let Some(form) = form else {
        return (StatusCode::BAD_REQUEST, "send a shop and a staff name").into_response();
    };
    let shop = match parse_shop_domain(&form.shop) {
        Ok(shop) => shop,
        Err(m) => return (StatusCode::BAD_REQUEST, format!("invalid shop: {m}")).into_response(),
    };
    let staff = form.staff.trim();
    if staff.is_empty() || staff.chars().count() > 100 {
        return (StatusCode::BAD_REQUEST, "your name: 1 to 100 characters").into_response();
    }
    let session = Session {
        shop: shop.clone(),
        staff: staff.to_owned(),
        method: SignIn::Development,
        exp: chrono::Utc::now().timestamp() + SESSION_LIFETIME.as_secs() as i64,
    };
    let target = format!(
        "{}?{}",
        app::orders::PATH,
        form_urlencoded::Serializer::new(String::new())
            .append_pair("shop", &shop)
            .finish()
    );
    with_cookie(
        Redirect::to(&target).into_response(),
        trust.sessions(),
        &session,
    )
}

/// `POST /auth/sign-out`: forgets the session.
pub fn sign_out(headers: &HeaderMap) -> Response {
    if cross_site(headers) {
        return (
            StatusCode::FORBIDDEN,
            "refused: the request came from another site",
        )
            .into_response();
    }
    let mut response = Redirect::to(app::orders::PATH).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, SessionKeys::clear_cookie());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn writes_from_other_sites_are_told_apart() {
        assert!(!cross_site(&headers(&[("host", "app.example")])));
        assert!(!cross_site(&headers(&[
            ("host", "app.example"),
            ("origin", "https://app.example"),
            ("sec-fetch-site", "same-origin"),
        ])));
        assert!(cross_site(&headers(&[
            ("host", "app.example"),
            ("origin", "https://evil.example"),
        ])));
        assert!(cross_site(&headers(&[
            ("host", "app.example"),
            ("sec-fetch-site", "cross-site"),
        ])));
        assert!(cross_site(&headers(&[
            ("host", "app.example"),
            ("sec-fetch-site", "same-site"),
        ])));
        assert!(cross_site(&headers(&[
            ("host", "app.example"),
            ("origin", "null"),
        ])));
    }
}
