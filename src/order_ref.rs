//! How requests name an order: its GID, its numeric id, or its name (SPEC §3).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The prefix of an order's Shopify GID.
pub const ORDER_GID_PREFIX: &str = "gid://shopify/Order/";

/// A reference to an order of a shop, as a client wrote it. Serialized as `{"id": "gid://…"}` or
/// `{"name": "#1001"}`, so a Shopify fact kept for an order not yet known can be stored as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderRef {
    /// A GID (`gid://shopify/Order/5001`); a numeric id is turned into its GID.
    Id(String),
    /// An order name (`#1001`).
    Name(String),
}

impl OrderRef {
    /// Reads a reference: `gid://…`, digits, or `#…`. Anything else is refused with a reason.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("an order id must not be empty".into());
        }
        if s.chars().count() > 255 {
            return Err("an order id must be at most 255 characters".into());
        }
        if s.contains('\0') {
            return Err("an order id must not contain NUL characters".into());
        }
        if s.starts_with("gid://") {
            return Ok(OrderRef::Id(s.to_owned()));
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(OrderRef::Id(format!("{ORDER_GID_PREFIX}{s}")));
        }
        if s.starts_with('#') && s.len() > 1 {
            return Ok(OrderRef::Name(s.to_owned()));
        }
        Err(format!(
            "'{s}' is not an order GID, numeric id or name (#1001)"
        ))
    }
}

impl fmt::Display for OrderRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrderRef::Id(id) | OrderRef::Name(id) => f.write_str(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gids_numeric_ids_and_names_are_understood() {
        assert_eq!(
            OrderRef::parse("gid://shopify/Order/5001"),
            Ok(OrderRef::Id("gid://shopify/Order/5001".into()))
        );
        assert_eq!(
            OrderRef::parse("5001"),
            Ok(OrderRef::Id("gid://shopify/Order/5001".into()))
        );
        assert_eq!(OrderRef::parse("#1001"), Ok(OrderRef::Name("#1001".into())));
    }

    #[test]
    fn numeric_ids_beyond_two_to_the_53_keep_every_digit() {
        assert_eq!(
            OrderRef::parse("820982911946154508"),
            Ok(OrderRef::Id(
                "gid://shopify/Order/820982911946154508".into()
            ))
        );
    }

    #[test]
    fn other_strings_are_refused() {
        for bad in [
            "",
            "  ",
            "#",
            "order-1",
            "12a",
            "#10\x0001",
            "gid://shopify/Order/\0",
        ] {
            assert!(OrderRef::parse(bad).is_err(), "{bad:?}");
        }
    }
}
