//! Fields: GIDs and numeric ids, RFC 3339 times, typed look-ups in a JSON object, and the error
//! for a value of the wrong kind.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::{Obj, PayloadError};
use crate::record::to_micros;

/// A GID of `kind` (`Order`, `Fulfillment`…): `admin_graphql_api_id` when it is one, else `id`
/// when it already is one, else built from the numeric `id`.
pub(super) fn gid(o: &Obj, kind: &str) -> Result<String, PayloadError> {
    let prefix = format!("gid://shopify/{kind}/");
    if let Some(gid) = ["admin_graphql_api_id", "id"]
        .iter()
        .find_map(|key| text(o, key).filter(|g| g.starts_with(&prefix)))
    {
        return Ok(gid.to_owned());
    }
    numeric_id(o.get("id"), "id")?
        .map(|id| format!("{prefix}{id}"))
        .ok_or(PayloadError::Missing("id"))
}

/// A numeric id as its exact digits, from a JSON number or string; `None` when absent or null.
/// serde keeps integers up to 2^64 exactly; anything that is not plain digits (a float, a negative)
/// is refused, never rounded.
pub(crate) fn numeric_id(
    value: Option<&Value>,
    field: &'static str,
) -> Result<Option<String>, PayloadError> {
    let digits = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(None),
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(other) => return Err(invalid(field, other)),
    };
    if digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(digits))
    } else {
        Err(PayloadError::Invalid {
            field,
            value: digits,
        })
    }
}

/// An optional RFC 3339 time, in UTC, truncated to microseconds.
pub(super) fn time(o: &Obj, key: &'static str) -> Result<Option<DateTime<Utc>>, PayloadError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(to_micros(t.with_timezone(&Utc))))
            .map_err(|_| PayloadError::Invalid {
                field: key,
                value: format!("'{s}' (expected an RFC 3339 time)"),
            }),
        Some(other) => Err(invalid(key, other)),
    }
}

pub(super) fn required_time(o: &Obj, key: &'static str) -> Result<DateTime<Utc>, PayloadError> {
    time(o, key)?.ok_or(PayloadError::Missing(key))
}

/// A non-empty string field, trimmed.
pub(super) fn text<'a>(o: &'a Obj, key: &str) -> Option<&'a str> {
    o.get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

pub(super) fn object<'a>(o: &'a Obj, key: &str) -> Option<&'a Obj> {
    o.get(key)?.as_object()
}

/// An array field; empty when absent, null or not an array.
pub(super) fn array<'a>(o: &'a Obj, key: &str) -> &'a [Value] {
    o.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

pub(super) fn invalid(field: &'static str, value: &Value) -> PayloadError {
    let mut shown = value.to_string();
    if shown.len() > 80 {
        let cut = (0..=77)
            .rev()
            .find(|i| shown.is_char_boundary(*i))
            .unwrap_or(0);
        shown.truncate(cut);
        shown.push('…');
    }
    PayloadError::Invalid {
        field,
        value: shown,
    }
}

pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
