//! The dashboard's door: who is signed in, the sign-in routes, and CSRF protection.
//!
//! - Every dashboard request (pages, server functions, the CSV export) has its session read from
//!   the cookie; a `GET` carrying Shopify's `id_token` signs in first and is redirected to the same
//!   address without it.
//! - When sign-in is required (`SHOPIFY_API_SECRET` set), a request without a session is a 401.
//!   Without it (local development) the dashboard stays open, and `/auth/dev` signs in by name.
//! - **CSRF**: a request that writes (any method but `GET`/`HEAD`/`OPTIONS`) must come from this
//!   site: a browser's `Sec-Fetch-Site` must be `same-origin` (or `none`: typed by the user), and
//!   an `Origin` must be this host. A cross-site form or script is refused with 403 before anything
//!   runs. The session cookie adds `SameSite` on top.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use orders_core::query::parse_shop_domain;
use serde::Deserialize;

use super::session::{SessionKeys, SignIn, SESSION_LIFETIME};
use super::{Session, Trust};

/// Who the dashboard is serving, put in the request's extensions for the Leptos context.
#[derive(Debug, Clone, Default)]
pub struct Viewer(pub Option<Session>);

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

fn is_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path == "/favicon.svg"
}

/// The dashboard's door (see the module's documentation).
pub async fn dashboard_gate(State(trust): State<Trust>, mut req: Request, next: Next) -> Response {
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
    if req.method() == Method::GET {
        if let Some(jwt) = query_value(req.uri().query(), "id_token") {
            return sign_in_with_shopify(trust.sessions(), req.uri(), &jwt);
        }
    }
    let session = trust.sessions().from_headers(req.headers());
    if session.is_none() && trust.sign_in_required() {
        return not_signed_in(req.method() == Method::GET);
    }
    req.extensions_mut().insert(Viewer(session));
    next.run(req).await
}

fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.into_owned())
}

/// Verifies Shopify's `id_token`, opens the session and sends the browser to the same page without
/// the token in its address.
fn sign_in_with_shopify(keys: &SessionKeys, uri: &axum::http::Uri, jwt: &str) -> Response {
    let now = chrono::Utc::now().timestamp();
    match keys.verify_session_token(jwt, now) {
        Ok(session) => {
            let rest: Vec<(String, String)> = form_urlencoded::parse(
                uri.query().unwrap_or("").as_bytes(),
            )
            .filter(|(k, _)| k != "id_token")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
            let mut target = uri.path().to_owned();
            if !rest.is_empty() {
                target.push('?');
                target.push_str(
                    &form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(rest)
                        .finish(),
                );
            }
            with_cookie(Redirect::to(&target).into_response(), keys, &session)
        }
        Err(e) => (
            StatusCode::UNAUTHORIZED,
            Html(page(
                "Sign-in refused",
                &format!("Shopify's session token was refused: {e}. Open Orders again from your Shopify admin."),
            )),
        )
            .into_response(),
    }
}

fn with_cookie(mut response: Response, keys: &SessionKeys, session: &Session) -> Response {
    response
        .headers_mut()
        .append(header::SET_COOKIE, keys.set_cookie(session));
    response
}

fn not_signed_in(page_request: bool) -> Response {
    let message = "Sign in first: open Orders from your Shopify admin.";
    if page_request {
        (
            StatusCode::UNAUTHORIZED,
            Html(page("Sign in to Orders", message)),
        )
            .into_response()
    } else {
        (StatusCode::UNAUTHORIZED, message).into_response()
    }
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

/// `/auth/dev` (the development sign-in, while there are no Shopify credentials), `/auth/session`
/// (App Bridge's session token in `Authorization: Bearer`) and `/auth/sign-out`.
pub fn router(trust: Trust) -> Router {
    Router::new()
        .route("/auth/dev", get(dev_form).post(dev_sign_in))
        .route("/auth/session", axum::routing::post(session_from_bearer))
        .route("/auth/sign-out", axum::routing::post(sign_out))
        .with_state(trust)
}

async fn dev_form(State(trust): State<Trust>) -> Response {
    if !trust.sessions().development_sign_in() {
        return StatusCode::NOT_FOUND.into_response();
    }
    Html(page(
        "Development sign-in",
        "<p class=\"mb-4\">For local use only: it is switched off when SHOPIFY_API_SECRET is set.</p>\
         <form method=\"post\" action=\"/auth/dev\" class=\"grid gap-3\">\
         <label>Shop <input name=\"shop\" required placeholder=\"acme.myshopify.com\" class=\"border p-1 w-full\"></label>\
         <label>Your name <input name=\"staff\" required placeholder=\"sam\" class=\"border p-1 w-full\"></label>\
         <button type=\"submit\" class=\"border px-3 py-1\">Sign in</button></form>",
    ))
    .into_response()
}

#[derive(Deserialize)]
struct DevSignIn {
    shop: String,
    staff: String,
}

async fn dev_sign_in(
    State(trust): State<Trust>,
    headers: HeaderMap,
    form: Result<Form<DevSignIn>, axum::extract::rejection::FormRejection>,
) -> Response {
    if !trust.sessions().development_sign_in() {
        return StatusCode::NOT_FOUND.into_response();
    }
    if cross_site(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "refused: the form came from another site",
        )
            .into_response();
    }
    let Ok(Form(form)) = form else {
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
        "/orders?{}",
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

async fn session_from_bearer(State(trust): State<Trust>, headers: HeaderMap) -> Response {
    let jwt = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match trust
        .sessions()
        .verify_session_token(jwt, chrono::Utc::now().timestamp())
    {
        Ok(session) => with_cookie(
            StatusCode::NO_CONTENT.into_response(),
            trust.sessions(),
            &session,
        ),
        Err(e) => (StatusCode::UNAUTHORIZED, e.to_string()).into_response(),
    }
}

async fn sign_out(headers: HeaderMap) -> Response {
    if cross_site(&headers) {
        return (
            StatusCode::FORBIDDEN,
            "refused: the request came from another site",
        )
            .into_response();
    }
    let mut response = Redirect::to("/orders").into_response();
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
