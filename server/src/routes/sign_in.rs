//! `/auth/*` (SPEC §10, §11): Shopify's bounce page, the development sign-in and the sign-out.
//! These are the doors only: what each checks and answers is [`crate::trust::gate`]'s.

use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use axum::Form;

use crate::trust::gate::{self, DevSignIn};
use crate::trust::Trust;

/// `GET /auth/session-token`
pub async fn bounce_page(State(trust): State<Trust>, uri: Uri) -> Response {
    gate::bounce_page(&trust, &uri)
}

/// `GET /auth/dev`
pub async fn dev_form(State(trust): State<Trust>) -> Response {
    gate::dev_form(&trust)
}

/// `POST /auth/dev`
pub async fn dev_sign_in(
    State(trust): State<Trust>,
    headers: HeaderMap,
    form: Result<Form<DevSignIn>, FormRejection>,
) -> Response {
    gate::dev_sign_in(&trust, &headers, form.ok().map(|Form(form)| form))
}

/// `POST /auth/sign-out`
pub async fn sign_out(headers: HeaderMap) -> Response {
    gate::sign_out(&headers)
}
