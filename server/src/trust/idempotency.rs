//! The `Idempotency-Key` header of the four writes: a retry with the same key and body gets the
//! first answer again (for 24 hours), the same key with another body is a 422, and two requests
//! with one key never both apply (the stores claim the key in the write's own transaction).

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::service::RequestKey;

/// The header's name.
pub const HEADER: &str = "idempotency-key";
/// The longest key accepted.
pub const MAX_KEY_LEN: usize = 255;

/// The request's key, if it sent one, with the fingerprint of `path` and `body`; a key that is
/// empty, too long or not printable ASCII is a 400.
pub fn request_key(
    headers: &HeaderMap,
    path: &str,
    body: &serde_json::Value,
) -> Result<Option<RequestKey>, ApiError> {
    let mut values = headers.get_all(HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::BadRequest(
            "invalid Idempotency-Key: send the header once".into(),
        ));
    }
    keyed(value.to_str().unwrap_or(""), path, body).map(Some)
}

/// A key as a client gave it (the header's value, or the dashboard's), with the fingerprint of
/// `path` and `body`; a key that is empty, too long or not printable ASCII is a 400.
pub fn keyed(key: &str, path: &str, body: &serde_json::Value) -> Result<RequestKey, ApiError> {
    let key = key.trim();
    let printable = key.bytes().all(|b| (0x20..0x7f).contains(&b));
    if key.is_empty() || key.len() > MAX_KEY_LEN || !printable {
        return Err(ApiError::BadRequest(format!(
            "invalid Idempotency-Key: 1 to {MAX_KEY_LEN} printable ASCII characters"
        )));
    }
    Ok(RequestKey {
        key: key.to_owned(),
        fingerprint: fingerprint(path, body),
    })
}

/// SHA-256 of the endpoint and the body's canonical JSON (objects' keys sorted, no spaces), so
/// that the same request sent with other spacing or key order counts as the same.
pub fn fingerprint(path: &str, body: &serde_json::Value) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(path.as_bytes());
    hasher.update([0]);
    // serde_json's maps are ordered by key (no `preserve_order`), so this is canonical.
    hasher.update(body.to_string().as_bytes());
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_same_request_in_another_spelling_has_the_same_fingerprint() {
        let a: serde_json::Value =
            serde_json::from_str(r#"{"orderIds":["1"],"assignee":"sam"}"#).unwrap();
        let b: serde_json::Value =
            serde_json::from_str(r#"{ "assignee": "sam", "orderIds": [ "1" ] }"#).unwrap();
        assert_eq!(fingerprint("/a", &a), fingerprint("/a", &b));
        assert_ne!(fingerprint("/a", &a), fingerprint("/b", &a));
        let c: serde_json::Value =
            serde_json::from_str(r#"{"orderIds":["1"],"assignee":"kim"}"#).unwrap();
        assert_ne!(fingerprint("/a", &a), fingerprint("/a", &c));
    }

    #[test]
    fn keys_are_checked() {
        let body = serde_json::json!({});
        let with = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(HEADER, HeaderValue::from_static(v));
            request_key(&h, "/p", &body)
        };
        assert_eq!(request_key(&HeaderMap::new(), "/p", &body).unwrap(), None);
        assert_eq!(with("k-1").unwrap().unwrap().key, "k-1");
        assert!(with(" ").is_err());
        let long: &'static str = Box::leak("k".repeat(256).into_boxed_str());
        assert!(with(long).is_err());
        let mut twice = HeaderMap::new();
        twice.append(HEADER, HeaderValue::from_static("a"));
        twice.append(HEADER, HeaderValue::from_static("b"));
        assert!(request_key(&twice, "/p", &body).is_err());
    }
}
