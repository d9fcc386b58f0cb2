//! Our own extractors, so that even a rejected request answers in the v1.2 envelope.
//!
//! `JsonBody` enforces the write API's body rules (SPEC §3): at most 1 MiB (413), JSON by content
//! type (415 otherwise; a body without a content type is accepted when it parses), a JSON object
//! (400), and field errors that name the field (`orderIds[0]: invalid type …`).
//!
//! `Write` is a whole write as its door receives it (SPEC §3), checked in this order: the
//! caller's credential, the body, the `Idempotency-Key` (its fingerprint takes the route that
//! matched and the body), the body's fields, and last whether the caller may act on its shop.

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, FromRequestParts, MatchedPath, Request};
use axum::http::{header, request::Parts};
use orders_core::envelope::{
    AssignBody, AssignCommand, FieldError, FulfillBody, FulfillCommand, ReturnBody, ReturnCommand,
    SupportBody, SupportCommand, MAX_BODY_BYTES,
};
use orders_core::position::Position;
use orders_core::query::parse_shop_domain;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::service::{ReadAt, RequestKey, Service};
use crate::trust::idempotency::request_key;
use crate::trust::{ApiCaller, Trust};

/// A JSON request body deserialised into `T`.
pub struct JsonBody<T>(pub T);

fn is_json_content_type(value: &str) -> bool {
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, _state: &S) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap_or("").to_owned());
        if let Some(ct) = &content_type {
            if !is_json_content_type(ct) {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "the body must be JSON (Content-Type: application/json), not '{ct}'"
                )));
            }
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(ApiError::PayloadTooLarge);
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge)?;
        if let Some(depth) = too_deep(&bytes) {
            return Err(ApiError::BadRequest(format!(
                "the body is nested deeper than {MAX_JSON_DEPTH} levels (at least {depth})"
            )));
        }
        let value: serde_json::Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) if content_type.is_none() => {
                return Err(ApiError::UnsupportedMediaType(
                    "the body must be JSON (Content-Type: application/json)".into(),
                ))
            }
            Err(e) => {
                return Err(ApiError::BadRequest(format!(
                    "the body is not valid JSON: {e}"
                )))
            }
        };
        body_from_value(value).map(JsonBody)
    }
}

/// How deeply a request body's arrays and objects may nest: the contract's bodies need 3.
pub const MAX_JSON_DEPTH: usize = 32;

/// The depth reached, if a JSON text nests deeper than [`MAX_JSON_DEPTH`]; checked before parsing,
/// so that a hostile body costs one pass over its bytes and no recursion.
pub fn too_deep(bytes: &[u8]) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_JSON_DEPTH {
                    return Some(depth);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// A request body from its JSON: an object whose fields have the right types, or a 400 naming the
/// first field that does not. The dashboard's writes go through this too.
pub fn body_from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if !value.is_object() {
        return Err(ApiError::BadRequest(
            "the body must be a JSON object".into(),
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        ApiError::BadRequest(format!("invalid {path}: {}", e.into_inner()))
    })
}

/// The body of one of the four writes, and the command it becomes once its fields are valid.
pub trait WriteBody: DeserializeOwned {
    type Command: Send;
    fn command(&self) -> Result<Self::Command, FieldError>;
    /// The shop the command acts on.
    fn shop(command: &Self::Command) -> &str;
}

macro_rules! write_bodies {
    ($($body:ty => $command:ty),+) => {
        $(
            impl WriteBody for $body {
                type Command = $command;
                fn command(&self) -> Result<$command, FieldError> {
                    self.validate()
                }
                fn shop(command: &$command) -> &str {
                    &command.shop_domain
                }
            }
        )+
    };
}

write_bodies!(
    AssignBody => AssignCommand,
    FulfillBody => FulfillCommand,
    SupportBody => SupportCommand,
    ReturnBody => ReturnCommand
);

/// A write, admitted (see the module's documentation): its command and its idempotency key.
pub struct Write<B: WriteBody> {
    pub command: B::Command,
    pub key: Option<RequestKey>,
}

impl<S, B> FromRequest<S> for Write<B>
where
    S: Send + Sync,
    Trust: FromRef<S>,
    Service: FromRef<S>,
    B: WriteBody,
{
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let caller = ApiCaller::from_request_parts(&mut parts, state).await?;
        // Every request that reaches a route has the route it matched.
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .ok_or(ApiError::Internal)?
            .clone();
        let headers = parts.headers.clone();
        let JsonBody(raw) =
            JsonBody::<serde_json::Value>::from_request(Request::from_parts(parts, body), state)
                .await?;
        let key = request_key(&headers, route.as_str(), &raw)?;
        let command = body_from_value::<B>(raw)?.command()?;
        caller.authorize(B::shop(&command)).await?;
        Ok(Write { command, key })
    }
}

/// The header a write answers with: the database's position at or past its commit.
pub const POSITION_HEADER: &str = "x-sync-position";
/// The header a read sends a write's position back in.
pub const MIN_POSITION_HEADER: &str = "x-sync-min-position";

/// Where a read that replicas may serve is read ([`ReadAt::Replica`]), from its
/// `X-Sync-Min-Position` header; a malformed one is a 400.
pub struct MinPosition(pub ReadAt);

impl<S: Send + Sync> FromRequestParts<S> for MinPosition {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(MIN_POSITION_HEADER) else {
            return Ok(MinPosition(ReadAt::Replica(None)));
        };
        let position = value
            .to_str()
            .ok()
            .and_then(|v| v.parse::<Position>().ok())
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "invalid X-Sync-Min-Position: {}",
                    orders_core::position::BadPosition
                ))
            })?;
        Ok(MinPosition(ReadAt::Replica(Some(position))))
    }
}

/// The query string as decoded key/value pairs (repeated keys kept, invalid UTF-8 replaced).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        Ok(QueryPairs(
            form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        ))
    }
}

impl QueryPairs {
    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// The shop a read names in `shop_domain` (required).
    pub fn shop_domain(&self) -> Result<String, ApiError> {
        let shop = self.get("shop_domain").ok_or_else(|| {
            ApiError::BadRequest("invalid shop_domain: shop_domain is required".into())
        })?;
        parse_shop_domain(shop)
            .map_err(|m| ApiError::BadRequest(format!("invalid shop_domain: {m}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_is_counted_outside_strings_only() {
        let deep = format!("{}{}", "[".repeat(33), "]".repeat(33));
        assert_eq!(too_deep(deep.as_bytes()), Some(33));
        let ok = format!("{}{}", "[".repeat(32), "]".repeat(32));
        assert_eq!(too_deep(ok.as_bytes()), None);
        let quoted = format!(r#"{{"note":"{}\"{}"}}"#, "[".repeat(100), "{".repeat(100));
        assert_eq!(too_deep(quoted.as_bytes()), None);
    }

    #[test]
    fn json_content_types_include_parameters_and_suffixes() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("application/json; charset=utf-8"));
        assert!(is_json_content_type("application/vnd.api+json"));
        assert!(!is_json_content_type("text/plain"));
        assert!(!is_json_content_type("application/x-www-form-urlencoded"));
    }
}
