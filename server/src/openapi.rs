//! The OpenAPI 3.1 document of the Sync API (every `/sync/*` route), served at
//! `GET /sync/openapi.json`.
//!
//! The operations, each with its path, are declared beside their handlers (`#[utoipa::path]` in
//! `routes/`) and gathered by the one route table ([`crate::routes::sync_api`]), which builds the
//! router and this document from the same list; the wire types live in `orders-core` (its
//! `openapi` feature). What lives here: the document's frame (info, tags, the bearer security
//! scheme), the parameters that the handlers read by hand, the v1.2 envelopes, the error responses
//! every operation shares (one per status of [`ApiError`](crate::error::ApiError), plus the 431 of
//! the header limit) and the sets of them that operations list, and the document itself.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::LazyLock;

use orders_core::alerts::{Alert, AlertPage, Refresh, RefreshReason, Severity};
use orders_core::envelope::{
    AssignBody, AssignedOrder, EscalatedOrder, FulfillBody, FulfilledOrder, ReturnBody,
    SupportBody, TrackingBody,
};
use orders_core::outbox::{OutboxCounts, OutboxEntry, OutboxList};
use orders_core::query::PageInfo;
use orders_core::*;
use serde_json::json;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{IntoParams, IntoResponses, Modify, OpenApi, PartialSchema, ToResponse, ToSchema};

/// The name of the bearer security scheme.
pub const BEARER: &str = "bearer";

/// The document's frame: everything but its paths, which the route table adds.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Orders ↔ Sync: the Sync API",
        version = "1.2.0",
        description = "The service of record for a Shopify shop's orders: the read API \
            (`GET /sync/orders`, `GET /sync/orders/{id}`), the four writes with the v1.2 envelope \
            `{ success, message, updatedOrders }`, live alerts and the outbox.\n\n\
            Every error, of every operation, is the envelope with `success: false`, a `message` \
            that says what to change, and `updatedOrders: []`.\n\n\
            Access: `Authorization: Bearer <token>` (`orders-sync token issue`). A shop that has \
            never had a token is open (unless the server runs with `SYNC_API_AUTH=required`); a \
            token opens its own shop only (403 for another `shop_domain`); a malformed, unknown \
            or revoked token is always a 401. Each token may make `SYNC_RATE_LIMIT` requests a \
            second (429 with `Retry-After` beyond). Requests whose headers exceed 16 KiB are a 431."
    ),
    components(
        schemas(
            ErrorEnvelope, AssignResult, FulfillResult, SupportResult, ReturnResult,
            AssignBody, FulfillBody, TrackingBody, SupportBody, ReturnBody,
            AssignedOrder, FulfilledOrder, EscalatedOrder, ReturnAction,
            OrderList, Order, Customer, Shipment, Tracking, ReturnSummary, TimelineEntry,
            OrderStatus, FulfillmentStatus, FinancialStatus, Priority, ShipmentStatus, ReturnState,
            AlertKind, PageInfo, Cursor, TabCounts, Tab, Direction,
            AlertPage, Alert, Severity, Refresh, RefreshReason,
            OutboxList, OutboxEntry, OutboxCounts, OutboxState,
        ),
        responses(
            BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
            UnsupportedMediaType, Unprocessable, TooManyRequests, HeadersTooLarge, Unavailable,
        ),
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "orders", description = "The read API (SPEC §2)"),
        (name = "writes", description = "The write API with the v1.2 envelope (SPEC §3)"),
        (name = "alerts", description = "Live alerts (SPEC §6)"),
        (name = "outbox", description = "The transactional outbox (SPEC §7)"),
        (name = "meta", description = "This document"),
    ),
)]
pub struct ApiDoc;

/// The document as JSON, built once (at the first request that asks for it) from the route table.
static DOCUMENT: LazyLock<Result<String, String>> = LazyLock::new(|| {
    let mut document = crate::routes::sync_api().into_openapi();
    name_catch_alls(&mut document);
    document.to_json().map_err(|e| e.to_string())
});

/// The document as JSON; an error only if the document does not serialise, a bug the tests
/// below would catch.
pub fn document() -> Result<&'static str, &'static str> {
    DOCUMENT.as_deref().map_err(String::as_str)
}

/// A path parameter that takes the rest of the path is axum's `{*name}`; OpenAPI has no such
/// thing, and writes it `{name}`.
fn name_catch_alls(document: &mut utoipa::openapi::OpenApi) {
    let paths = std::mem::take(&mut document.paths.paths);
    document.paths.paths = paths
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
}

/// Adds the bearer scheme the operations name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("oss_<43 base64url characters>")
                    .description(Some(
                        "A Sync API token of one shop (`orders-sync token issue --shop DOMAIN`). \
                         Optional for a shop that has never had a token, unless the server \
                         requires tokens (`SYNC_API_AUTH=required`).",
                    ))
                    .build(),
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

/// The query of `GET /sync/orders` besides its [`ShopParam`]. An empty value counts as not given;
/// unknown parameters are ignored; a list parameter may also be repeated.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListOrdersParams {
    /// The tab (default `all`).
    #[param(required = false)]
    pub tab: Tab,
    /// Rows a page, 1 to 250 (default 50).
    #[param(
        rename = "pageSize",
        required = false,
        minimum = 1,
        maximum = 250,
        example = 50
    )]
    pub page_size: u32,
    /// Where the page starts (`next`) or ends (`previous`): a `cursor`, `nextCursor` or
    /// `previousCursor` of an earlier page; the first row by default. An offset past the end gives
    /// an empty page; one that does not fit in 64 bits is a 400.
    #[param(required = false)]
    pub cursor: Cursor,
    /// `next` (default): the page starting at the cursor; `previous`: the page ending just before
    /// it.
    #[param(required = false)]
    pub direction: Direction,
    /// Only orders with one of these statuses (a comma list).
    #[param(required = false, style = Form, explode = false)]
    pub status: Vec<OrderStatus>,
    /// Only orders with one of these priorities (a comma list).
    #[param(required = false, style = Form, explode = false)]
    pub priority: Vec<Priority>,
    /// Only orders owned by this person, or nobody's (`unassigned`).
    #[param(required = false, example = "unassigned")]
    pub assigned_to: String,
    // (A parameter with `schema_with` is optional, and its description is the schema's.)
    /// Orders created at or after this date or instant.
    #[param(schema_with = date_start)]
    pub date_start: String,
    /// Orders created at or before this date or instant.
    #[param(schema_with = date_end)]
    pub date_end: String,
    /// A search, 3 to 100 characters once trimmed, read case-insensitively: when it is the name
    /// of an order of the shop (`#1001`, `1001`, `WEB1346`: the `#` optional), that order;
    /// otherwise the orders whose customer's name or email contains it. It narrows every tab
    /// like a filter, and the counts count the matching orders. An empty value is no search; a
    /// blank one is a 400.
    #[param(
        required = false,
        min_length = 3,
        max_length = 100,
        pattern = r"^[^\s\x00][^\x00]*[^\s\x00]$",
        example = "ada"
    )]
    pub query: String,
}

fn date_start() -> Schema {
    date_bound(
        "Orders created at or after this date (`YYYY-MM-DD`, from its start, UTC) or RFC 3339 \
         instant; not after `date_end`.",
    )
}

fn date_end() -> Schema {
    date_bound(
        "Orders created at or before this date (`YYYY-MM-DD`, covering its whole day, UTC) or \
         RFC 3339 instant.",
    )
}

/// `YYYY-MM-DD` or an RFC 3339 instant.
fn date_bound(description: &str) -> Schema {
    OneOfBuilder::new()
        .description(Some(description))
        .item(ObjectBuilder::new().schema_type(Type::String).format(Some(
            utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Date),
        )))
        .item(ObjectBuilder::new().schema_type(Type::String).format(Some(
            utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::DateTime),
        )))
        .examples([json!("2025-09-27")])
        .into()
}

/// The shop of a read (every read names one).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShopParam {
    /// The shop, by its domain (trimmed and read in lower case).
    #[param(
        pattern = "^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$",
        max_length = 255,
        example = "acme.myshopify.com"
    )]
    pub shop_domain: String,
}

/// The order of `GET /sync/orders/{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct OrderIdParam {
    /// The order: its GID, numeric id or name, URL-encoded (`gid%3A%2F%2Fshopify%2FOrder%2F5001`,
    /// `5001`, `%231001`).
    #[param(
        pattern = "^(gid://.*|[0-9]+|#.+)$",
        min_length = 1,
        max_length = 255,
        example = "#1001"
    )]
    pub id: String,
}

/// The query of the alerts' polling answer besides its [`ShopParam`].
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsParams {
    /// Polling: every alert with a greater id (open or cleared), instead of the open alerts. Use
    /// the previous answer's `lastEventId`.
    #[param(required = false, minimum = 0)]
    pub since: u64,
}

/// The query of `GET /sync/outbox` besides its [`ShopParam`].
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxParams {
    /// Only events in this state (any case).
    #[param(required = false)]
    pub state: OutboxState,
}

/// The `X-Sync-Min-Position` of the reads that replicas may serve.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct MinPositionHeader {
    /// A write's `X-Sync-Position`, sent back: the read is served by a copy of the database that
    /// has that write (a replica that has replayed that far, else the primary). Without it, a
    /// replica within `REPLICA_MAX_LAG` of the primary may serve the read.
    #[param(
        rename = "X-Sync-Min-Position",
        required = false,
        pattern = "^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$",
        example = "16/B374D848"
    )]
    pub position: String,
}

/// The `Idempotency-Key` of the four writes.
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// A retry with the same key and the same body gets the first answer again (with
    /// `Idempotent-Replayed: true`) for 24 hours, without applying anything; the same key with
    /// another body is a 422. 1 to 255 printable ASCII characters, sent once.
    #[param(
        rename = "Idempotency-Key",
        required = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[ -~]*[!-~][ -~]*$"
    )]
    pub key: String,
}

// ---------------------------------------------------------------------------------------------
// Envelopes
// ---------------------------------------------------------------------------------------------

/// The v1.2 envelope with `success` fixed and `updatedOrders` of `items` (always empty without).
fn envelope(success: bool, items: Option<RefOr<Schema>>, description: &str) -> Schema {
    let updated = match items {
        Some(items) => ArrayBuilder::new().items(items),
        None => ArrayBuilder::new().max_items(Some(0)),
    };
    ObjectBuilder::new()
        .description(Some(description))
        .property(
            "success",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .enum_values(Some([success])),
        )
        .required("success")
        .property(
            "message",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("What happened, for people")),
        )
        .required("message")
        .property("updatedOrders", updated)
        .required("updatedOrders")
        .into()
}

fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

macro_rules! envelope_schema {
    ($(#[$meta:meta])* $name:ident, $success:expr, $items:expr, $description:literal) => {
        $(#[$meta])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                envelope($success, $items, $description).into()
            }
        }

        impl ToSchema for $name {}
    };
}

envelope_schema!(
    /// Every error of the Sync API.
    ErrorEnvelope,
    false,
    None,
    "A failure: nothing was changed; `message` says what to do."
);
envelope_schema!(
    /// The answer of `POST /sync/orders/assign`.
    AssignResult,
    true,
    Some(reference("AssignedOrder")),
    "The orders' owners after the request (`assignedTo` null after an unassign)."
);
envelope_schema!(
    /// The answer of `POST /sync/orders/fulfill`.
    FulfillResult,
    true,
    Some(reference("FulfilledOrder")),
    "The orders' fulfillment status after the request."
);
envelope_schema!(
    /// The answer of `POST /sync/orders/support`.
    SupportResult,
    true,
    Some(reference("EscalatedOrder")),
    "The escalated order and its support thread."
);
envelope_schema!(
    /// The answer of `POST /sync/orders/returns`.
    ReturnResult,
    true,
    None,
    "The return moved; `updatedOrders` is empty."
);

// ---------------------------------------------------------------------------------------------
// Error responses
// ---------------------------------------------------------------------------------------------

/// An error response: the failure envelope, with `headers` (name, integer?, description).
fn error_response(
    description: &str,
    example: &str,
    headers: &[(&str, bool, &str)],
) -> RefOr<utoipa::openapi::Response> {
    let mut response = ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(reference("ErrorEnvelope")))
            .example(Some(json!({
                "success": false,
                "message": example,
                "updatedOrders": [],
            })))
            .build(),
    );
    for (name, integer, about) in headers {
        let schema = if *integer {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0))
        } else {
            ObjectBuilder::new().schema_type(Type::String)
        };
        response = response.header(
            *name,
            HeaderBuilder::new()
                .schema(schema)
                .description(Some(*about))
                .build(),
        );
    }
    response.build().into()
}

macro_rules! error_responses {
    ($($name:ident $status:literal: $description:literal, $example:literal, [$($header:expr),*];)+) => {
        $(
            #[doc = $description]
            pub struct $name;

            impl $name {
                /// The status this response answers.
                pub const STATUS: u16 = $status;
            }

            impl<'r> ToResponse<'r> for $name {
                fn response() -> (&'r str, RefOr<utoipa::openapi::Response>) {
                    (stringify!($name), error_response($description, $example, &[$($header),*]))
                }
            }
        )+
    };
}

const RETRY_AFTER: (&str, bool, &str) =
    ("Retry-After", true, "Seconds to wait before trying again");

error_responses! {
    BadRequest 400: "Malformed or invalid input; the message names the parameter or field at fault",
        "invalid pageSize: '0' is not a whole number from 1 to 250", [];
    Unauthorized 401: "No credentials where some are needed, or a malformed, unknown or revoked bearer token",
        "a bearer token for acme.myshopify.com is required (Authorization: Bearer …)",
        [("WWW-Authenticate", false, "`Bearer realm=\"sync\"`")];
    Forbidden 403: "The credentials are for another shop",
        "these credentials are for acme.myshopify.com, not for other.myshopify.com", [];
    NotFound 404: "No such order in this shop (or, for a return action, the order has no return); the message names the ids",
        "no order #9999 in this shop", [];
    Conflict 409: "The orders' current state forbids this: a cancelled order cannot be fulfilled, a return action not legal from the return's state; nothing was changed",
        "cannot approve_refund a return in state in_transit; nothing was changed", [];
    PayloadTooLarge 413: "The body is larger than 1 MiB",
        "request body is larger than 1 MiB", [];
    UnsupportedMediaType 415: "The body is not JSON",
        "the body must be JSON (Content-Type: application/json), not 'text/plain'", [];
    Unprocessable 422: "The Idempotency-Key was already used with a different request",
        "the Idempotency-Key 'k-1' was already used with a different request; send a new key for a new request", [];
    TooManyRequests 429: "This bearer token is over its rate limit",
        "too many requests; try again in 1 s", [RETRY_AFTER];
    HeadersTooLarge 431: "The request's headers are larger than 16 KiB in all",
        "the request's headers are larger than 16 KiB", [];
    Unavailable 503: "The database is unavailable",
        "the database is unavailable; try again shortly", [RETRY_AFTER];
}

/// Sets of the error responses above, as operations list them (`responses(..., ReadErrors)`):
/// each a reference to the shared response, under its status.
macro_rules! error_sets {
    ($($(#[$meta:meta])* $set:ident = [$($response:ident),+];)+) => {
        $(
            $(#[$meta])*
            pub struct $set;

            impl IntoResponses for $set {
                fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
                    BTreeMap::from([$((
                        $response::STATUS.to_string(),
                        RefOr::Ref(Ref::from_response_name(stringify!($response))),
                    )),+])
                }
            }
        )+
    };
}

error_sets! {
    /// What a read of a shop (its orders, alerts or outbox) may answer instead of its 200.
    ReadErrors = [BadRequest, Unauthorized, Forbidden, TooManyRequests, HeadersTooLarge, Unavailable];
    /// What the read of one order may answer instead of its 200.
    OrderErrors = [
        BadRequest, Unauthorized, Forbidden, NotFound, TooManyRequests, HeadersTooLarge,
        Unavailable
    ];
    /// What every write may answer instead of its 200.
    WriteErrors = [
        BadRequest, Unauthorized, Forbidden, NotFound, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, TooManyRequests, HeadersTooLarge, Unavailable
    ];
    /// What a write that the orders' state may forbid answers besides [`WriteErrors`].
    StateErrors = [Conflict];
}

/// The 200 of a write: `T`, the v1.2 envelope of its result, and whether it is a replay.
pub struct Written<T>(PhantomData<T>);

impl<T: ToSchema> IntoResponses for Written<T> {
    fn responses() -> BTreeMap<String, RefOr<utoipa::openapi::Response>> {
        let replayed = HeaderBuilder::new()
            .schema(ObjectBuilder::new().schema_type(Type::String))
            .description(Some(
                "`true` when this is the answer kept for an earlier request with the same \
                 `Idempotency-Key`: nothing was applied this time",
            ))
            .build();
        let position = HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .pattern(Some("^[0-9A-F]{1,8}/[0-9A-F]{1,8}$")),
            )
            .description(Some(
                "The database's position at or past this write's commit; send it back as \
                 `X-Sync-Min-Position` to read the write back through any Sync process",
            ))
            .build();
        let response = ResponseBuilder::new()
            .description("Done (all of it: each request is one transaction)")
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(reference(&T::name())))
                    .build(),
            )
            .header("Idempotent-Replayed", replayed)
            .header("X-Sync-Position", position)
            .build();
        BTreeMap::from([("200".to_owned(), response.into())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The paths are the route table's (`tests/api/openapi.rs` holds them to the router), each
    /// with the OpenAPI spelling of its parameters.
    #[test]
    fn the_document_builds_with_every_operation_of_the_table() {
        let doc: serde_json::Value = serde_json::from_str(document().unwrap()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        let operations: usize = paths.values().map(|i| i.as_object().unwrap().len()).sum();
        assert_eq!(operations, 9, "{:?}", paths.keys());
        for (path, item) in paths {
            assert!(path.starts_with("/sync/") && !path.contains('*'), "{path}");
            for operation in item.as_object().unwrap().values() {
                assert!(operation["responses"]["200"].is_object(), "{path}");
            }
        }
    }

    /// `utoipa` drops `required` and the description of a parameter with `schema_with`, so the
    /// parameters repeat the core's patterns; they must stay the same.
    #[test]
    fn parameters_are_required_where_needed_and_use_the_cores_patterns() {
        let doc: serde_json::Value = serde_json::from_str(document().unwrap()).unwrap();
        let mut shop_params = 0;
        for item in doc["paths"].as_object().unwrap().values() {
            for operation in item.as_object().unwrap().values() {
                for p in operation["parameters"].as_array().into_iter().flatten() {
                    let name = p["name"].as_str().unwrap();
                    if name == "shop_domain" {
                        shop_params += 1;
                        assert_eq!(p["required"], true, "{p}");
                        assert_eq!(
                            p["schema"]["pattern"],
                            orders_core::openapi::SHOP_DOMAIN_PATTERN
                        );
                    }
                    if p["in"] == "path" {
                        assert_eq!(p["required"], true, "{p}");
                        assert_eq!(
                            p["schema"]["pattern"],
                            orders_core::openapi::ORDER_REF_PATTERN
                        );
                    }
                }
            }
        }
        assert_eq!(shop_params, 4);
    }

    #[test]
    fn every_reference_resolves() {
        let doc: serde_json::Value = serde_json::from_str(document().unwrap()).unwrap();
        fn walk(v: &serde_json::Value, doc: &serde_json::Value) {
            match v {
                serde_json::Value::Object(map) => {
                    if let Some(serde_json::Value::String(r)) = map.get("$ref") {
                        let pointer = r.trim_start_matches('#');
                        assert!(doc.pointer(pointer).is_some(), "dangling {r}");
                    }
                    map.values().for_each(|v| walk(v, doc));
                }
                serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, doc)),
                _ => {}
            }
        }
        walk(&doc, &doc);
    }
}
