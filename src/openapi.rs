//! What the server's OpenAPI document needs from the core beyond the derived schemas: the schemas
//! of values whose rules live in parsing code (shop domains, order references, the cursor), so the
//! document states the same rules the parsers apply. Only with the `openapi` feature.

use utoipa::openapi::schema::{ArrayBuilder, ArrayItems, ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;

use crate::cursor::Cursor;
use crate::envelope::{MAX_NAME_CHARS, MAX_NOTE_CHARS, MAX_ORDER_IDS};

/// A shop domain as `parse_shop_domain` accepts it (it trims and lower-cases first).
pub const SHOP_DOMAIN_PATTERN: &str = "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$";
/// An order reference as `OrderRef::parse` accepts it: a GID, a numeric id or a name.
pub const ORDER_REF_PATTERN: &str = "^(gid://.*|[0-9]+|#.+)$";
/// The `ofs:` cursor as the server writes it (it also reads upper-case digits).
pub const CURSOR_PATTERN: &str = "^ofs:[0-9a-z]+$";
/// The longest order reference, in characters.
pub const MAX_ORDER_REF_CHARS: usize = 255;

/// `shop_domain`: the shop, e.g. `acme.myshopify.com`.
pub fn shop_domain() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "The shop, by its domain (trimmed and read in lower case).",
        ))
        .pattern(Some(SHOP_DOMAIN_PATTERN))
        .max_length(Some(255))
        .examples(["acme.myshopify.com"])
        .into()
}

/// An order reference: its GID, its numeric id or its name.
pub fn order_ref() -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "An order's GID (`gid://shopify/Order/5001`), its numeric id (`5001`) or its name \
             (`#1001`).",
        ))
        .pattern(Some(ORDER_REF_PATTERN))
        .min_length(Some(1))
        .max_length(Some(MAX_ORDER_REF_CHARS))
        .examples(["#1001"])
        .into()
}

/// `orderIds`: 1 to 250 order references (repeats are applied once).
pub fn order_ids() -> Schema {
    ArrayBuilder::new()
        .items(ArrayItems::RefOrSchema(Box::new(order_ref().into())))
        .min_items(Some(1))
        .max_items(Some(MAX_ORDER_IDS))
        .description(Some(
            "1 to 250 orders; an order named twice is applied once.",
        ))
        .into()
}

/// A person-typed name (assignee, carrier, tracking number, conversation id): 1 to 100
/// characters once trimmed.
pub fn name() -> Schema {
    text(MAX_NAME_CHARS)
}

/// A note: 1 to 2000 characters once trimmed.
pub fn note() -> Schema {
    text(MAX_NOTE_CHARS)
}

fn text(max: usize) -> Schema {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(max))
        .into()
}

impl utoipa::PartialSchema for Cursor {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A position in the ordered list: `ofs:` and the row offset in base 36 \
                 (`ofs:0` is the first row, `ofs:1e` the 51st).",
            ))
            .pattern(Some(CURSOR_PATTERN))
            .examples(["ofs:1e"])
            .into()
    }
}

impl utoipa::ToSchema for Cursor {}

/// `assignee`: a name, or `null` to unassign.
pub fn assignee() -> Schema {
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::String,
            Type::Null,
        ]))
        .description(Some(
            "The new owner (1 to 100 characters; `unassigned` is reserved), or `null` to \
             unassign. The key must be present.",
        ))
        .min_length(Some(1))
        .max_length(Some(MAX_NAME_CHARS))
        .examples([serde_json::json!("sam")])
        .into()
}
