//! The write API (SPEC §3): request bodies, their validation, and the frozen v1.2 envelope.
//!
//! Validation comes before lookup: each `validate` turns a body into a command whose every field is
//! within the contract's limits, or says which field is wrong. Unknown JSON fields are ignored.

use serde::{Deserialize, Deserializer, Serialize};

use crate::domain::{FulfillmentStatus, Tracking};
use crate::order_ref::OrderRef;
use crate::query::{parse_shop_domain, UNASSIGNED};
use crate::returns::ReturnAction;
use crate::text::bounded;

/// Most orders one request may name.
pub const MAX_ORDER_IDS: usize = 250;
/// Longest assignee, carrier, tracking number and conversation id, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Who an escalated order is handed to.
pub const SUPPORT_ASSIGNEE: &str = "assistant";

/// Every answer of the write API, success or failure (v1.2, frozen).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<T> {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default = "Vec::new")]
    pub updated_orders: Vec<T>,
}

impl<T> Envelope<T> {
    /// A success with a message for people.
    pub fn ok(message: impl Into<String>, updated_orders: Vec<T>) -> Self {
        Envelope {
            success: true,
            message: Some(message.into()),
            updated_orders,
        }
    }

    /// A failure: the message says what to do; nothing was changed.
    pub fn failure(message: impl Into<String>) -> Self {
        Envelope {
            success: false,
            message: Some(message.into()),
            updated_orders: Vec::new(),
        }
    }
}

/// `updatedOrders` of an assign.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignedOrder {
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub assigned_to: Option<String>,
}

/// `updatedOrders` of a fulfill.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfilledOrder {
    pub id: String,
    pub fulfillment_status: FulfillmentStatus,
    /// The tracking recorded by this request; absent when none was (no tracking given, or the
    /// order was already fulfilled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(nullable = false))]
    pub tracking: Option<Tracking>,
}

/// `updatedOrders` of a support escalation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EscalatedOrder {
    pub id: String,
    pub support_thread: String,
}

/// A field of a request body that breaks the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {message}")]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

fn field(field: &'static str, message: impl Into<String>) -> FieldError {
    FieldError {
        field,
        message: message.into(),
    }
}

/// Distinguishes a key that is absent from a key that is `null`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn shop(raw: Option<&str>) -> Result<String, FieldError> {
    let raw = raw.ok_or_else(|| field("shop_domain", "shop_domain is required"))?;
    parse_shop_domain(raw).map_err(|m| field("shop_domain", m))
}

fn order_ids(raw: Option<&[String]>) -> Result<Vec<OrderRef>, FieldError> {
    let raw = raw.ok_or_else(|| {
        field(
            "orderIds",
            "orderIds is required: a list of 1 to 250 order ids",
        )
    })?;
    if raw.is_empty() || raw.len() > MAX_ORDER_IDS {
        return Err(field(
            "orderIds",
            format!("give 1 to {MAX_ORDER_IDS} order ids (got {})", raw.len()),
        ));
    }
    let mut refs: Vec<OrderRef> = Vec::with_capacity(raw.len());
    for id in raw {
        let r = OrderRef::parse(id).map_err(|m| field("orderIds", m))?;
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    Ok(refs)
}

fn order_id(raw: Option<&str>) -> Result<OrderRef, FieldError> {
    let raw = raw.ok_or_else(|| field("orderId", "orderId is required"))?;
    OrderRef::parse(raw).map_err(|m| field("orderId", m))
}

fn optional_note(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    raw.map(|n| {
        bounded("note", n, 1, MAX_NOTE_CHARS)
            .map(str::to_owned)
            .map_err(|m| field("note", m))
    })
    .transpose()
}

/// `POST /sync/orders/assign` as sent.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "The body of `POST /sync/orders/assign`; unknown fields are ignored.")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignBody {
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::order_ids))]
    pub order_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::assignee))]
    pub assignee: Option<Option<String>>,
    #[serde(rename = "shop_domain")]
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::shop_domain))]
    pub shop_domain: Option<String>,
}

/// A valid assign: `assignee: None` unassigns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignCommand {
    pub shop_domain: String,
    pub orders: Vec<OrderRef>,
    pub assignee: Option<String>,
}

impl AssignBody {
    pub fn validate(&self) -> Result<AssignCommand, FieldError> {
        let shop_domain = shop(self.shop_domain.as_deref())?;
        let orders = order_ids(self.order_ids.as_deref())?;
        let assignee = match &self.assignee {
            None => {
                return Err(field(
                    "assignee",
                    "assignee is required: a name, or null to unassign",
                ))
            }
            Some(None) => None,
            Some(Some(name)) => {
                let name = bounded("assignee", name, 1, MAX_NAME_CHARS)
                    .map_err(|m| field("assignee", m))?;
                if name == UNASSIGNED {
                    return Err(field(
                        "assignee",
                        "'unassigned' is reserved; send null to unassign",
                    ));
                }
                Some(name.to_owned())
            }
        };
        Ok(AssignCommand {
            shop_domain,
            orders,
            assignee,
        })
    }
}

/// Tracking as sent.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "A tracking number and its carrier; both are required with `tracking`.")
)]
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TrackingBody {
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::name))]
    pub number: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::name))]
    pub carrier: Option<String>,
}

/// `POST /sync/orders/fulfill` as sent.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "The body of `POST /sync/orders/fulfill`; unknown fields are ignored.")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillBody {
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::order_ids))]
    pub order_ids: Option<Vec<String>>,
    /// Recorded as an `in_transit` shipment of each order that was not fulfilled yet.
    pub tracking: Option<TrackingBody>,
    #[serde(rename = "shop_domain")]
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::shop_domain))]
    pub shop_domain: Option<String>,
}

/// A valid fulfill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FulfillCommand {
    pub shop_domain: String,
    pub orders: Vec<OrderRef>,
    pub tracking: Option<Tracking>,
}

impl FulfillBody {
    pub fn validate(&self) -> Result<FulfillCommand, FieldError> {
        let shop_domain = shop(self.shop_domain.as_deref())?;
        let orders = order_ids(self.order_ids.as_deref())?;
        let tracking = match &self.tracking {
            None => None,
            Some(t) => {
                let number = t.number.as_deref().ok_or_else(|| {
                    field(
                        "tracking.number",
                        "tracking.number is required with tracking",
                    )
                })?;
                let carrier = t.carrier.as_deref().ok_or_else(|| {
                    field(
                        "tracking.carrier",
                        "tracking.carrier is required with tracking",
                    )
                })?;
                Some(Tracking {
                    number: bounded("tracking.number", number, 1, MAX_NAME_CHARS)
                        .map_err(|m| field("tracking.number", m))?
                        .to_owned(),
                    carrier: bounded("tracking.carrier", carrier, 1, MAX_NAME_CHARS)
                        .map_err(|m| field("tracking.carrier", m))?
                        .to_owned(),
                })
            }
        };
        Ok(FulfillCommand {
            shop_domain,
            orders,
            tracking,
        })
    }
}

/// `POST /sync/orders/support` as sent.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "The body of `POST /sync/orders/support`; unknown fields are ignored.")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SupportBody {
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::order_ref))]
    pub order_id: Option<String>,
    /// The support thread's id; generated (`sup_<32 hex>`) when absent.
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::name))]
    pub conversation_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::note))]
    pub note: Option<String>,
    #[serde(rename = "shop_domain")]
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::shop_domain))]
    pub shop_domain: Option<String>,
}

/// A valid support escalation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportCommand {
    pub shop_domain: String,
    pub order: OrderRef,
    pub conversation_id: Option<String>,
    pub note: String,
}

impl SupportBody {
    pub fn validate(&self) -> Result<SupportCommand, FieldError> {
        let shop_domain = shop(self.shop_domain.as_deref())?;
        let order = order_id(self.order_id.as_deref())?;
        let conversation_id = self
            .conversation_id
            .as_deref()
            .map(|c| {
                bounded("conversationId", c, 1, MAX_NAME_CHARS)
                    .map(str::to_owned)
                    .map_err(|m| field("conversationId", m))
            })
            .transpose()?;
        let note = self
            .note
            .as_deref()
            .ok_or_else(|| field("note", "note is required: say what the customer needs"))?;
        let note = bounded("note", note, 1, MAX_NOTE_CHARS)
            .map_err(|m| field("note", m))?
            .to_owned();
        Ok(SupportCommand {
            shop_domain,
            order,
            conversation_id,
            note,
        })
    }
}

/// `POST /sync/orders/returns` as sent.
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(description = "The body of `POST /sync/orders/returns`; unknown fields are ignored.")
)]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnBody {
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::order_ref))]
    pub order_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(required = true, value_type = ReturnAction))]
    pub action: Option<String>,
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::note))]
    pub note: Option<String>,
    #[serde(rename = "shop_domain")]
    #[cfg_attr(feature = "openapi", schema(required = true, schema_with = crate::openapi::shop_domain))]
    pub shop_domain: Option<String>,
}

/// A valid return action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnCommand {
    pub shop_domain: String,
    pub order: OrderRef,
    pub action: ReturnAction,
    pub note: Option<String>,
}

impl ReturnBody {
    pub fn validate(&self) -> Result<ReturnCommand, FieldError> {
        let shop_domain = shop(self.shop_domain.as_deref())?;
        let order = order_id(self.order_id.as_deref())?;
        let action = self
            .action
            .as_deref()
            .ok_or_else(|| field("action", "action is required"))?;
        let action = action
            .parse::<ReturnAction>()
            .map_err(|e| field("action", e.to_string()))?;
        let note = optional_note(self.note.as_deref())?;
        Ok(ReturnCommand {
            shop_domain,
            order,
            action,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn assign(v: serde_json::Value) -> Result<AssignCommand, FieldError> {
        serde_json::from_value::<AssignBody>(v).unwrap().validate()
    }

    #[test]
    fn assign_accepts_a_name_or_null_and_ignores_unknown_fields() {
        let c = assign(json!({"orderIds": ["5001", "#1002"], "assignee": " sam ", "shop_domain": "acme.myshopify.com", "extra": 1})).unwrap();
        assert_eq!(c.assignee.as_deref(), Some("sam"));
        assert_eq!(c.orders.len(), 2);
        let c = assign(
            json!({"orderIds": ["5001"], "assignee": null, "shop_domain": "acme.myshopify.com"}),
        )
        .unwrap();
        assert_eq!(c.assignee, None);
    }

    #[test]
    fn assign_names_the_field_at_fault() {
        let base =
            json!({"orderIds": ["5001"], "assignee": "sam", "shop_domain": "acme.myshopify.com"});
        let with = |k: &str, v: serde_json::Value| {
            let mut b = base.clone();
            b[k] = v;
            assign(b).unwrap_err().field
        };
        assert_eq!(with("orderIds", json!([])), "orderIds");
        assert_eq!(with("orderIds", json!(vec!["1"; 251])), "orderIds");
        assert_eq!(with("orderIds", json!(["nope"])), "orderIds");
        assert_eq!(with("assignee", json!("")), "assignee");
        assert_eq!(with("assignee", json!("x".repeat(101))), "assignee");
        assert_eq!(with("shop_domain", json!("")), "shop_domain");
        let missing =
            assign(json!({"orderIds": ["5001"], "shop_domain": "acme.myshopify.com"})).unwrap_err();
        assert_eq!(missing.field, "assignee");
    }

    #[test]
    fn duplicate_order_ids_are_applied_once() {
        let c = assign(json!({"orderIds": ["5001", "5001", "gid://shopify/Order/5001"], "assignee": "sam", "shop_domain": "a.myshopify.com"})).unwrap();
        assert_eq!(c.orders.len(), 1);
    }

    #[test]
    fn fulfill_tracking_needs_both_number_and_carrier() {
        let v = json!({"orderIds": ["5001"], "tracking": {"number": "1Z"}, "shop_domain": "a.myshopify.com"});
        let err = serde_json::from_value::<FulfillBody>(v)
            .unwrap()
            .validate()
            .unwrap_err();
        assert_eq!(err.field, "tracking.carrier");
        let v = json!({"orderIds": ["5001"], "tracking": null, "shop_domain": "a.myshopify.com"});
        assert_eq!(
            serde_json::from_value::<FulfillBody>(v)
                .unwrap()
                .validate()
                .unwrap()
                .tracking,
            None
        );
    }

    #[test]
    fn support_requires_a_note_within_two_thousand_characters() {
        let ok =
            json!({"orderId": "#1001", "note": "n".repeat(2000), "shop_domain": "a.myshopify.com"});
        assert!(serde_json::from_value::<SupportBody>(ok)
            .unwrap()
            .validate()
            .is_ok());
        let long =
            json!({"orderId": "#1001", "note": "n".repeat(2001), "shop_domain": "a.myshopify.com"});
        assert_eq!(
            serde_json::from_value::<SupportBody>(long)
                .unwrap()
                .validate()
                .unwrap_err()
                .field,
            "note"
        );
        let none = json!({"orderId": "#1001", "shop_domain": "a.myshopify.com"});
        assert_eq!(
            serde_json::from_value::<SupportBody>(none)
                .unwrap()
                .validate()
                .unwrap_err()
                .field,
            "note"
        );
    }

    #[test]
    fn an_unknown_return_action_is_a_field_error() {
        let v =
            json!({"orderId": "#1001", "action": "refund_now", "shop_domain": "a.myshopify.com"});
        let err = serde_json::from_value::<ReturnBody>(v)
            .unwrap()
            .validate()
            .unwrap_err();
        assert_eq!(err.field, "action");
    }

    #[test]
    fn the_envelope_always_carries_updated_orders() {
        let v = serde_json::to_value(Envelope::<AssignedOrder>::failure("no")).unwrap();
        assert_eq!(
            v,
            json!({"success": false, "message": "no", "updatedOrders": []})
        );
        let v = serde_json::to_value(Envelope::ok(
            "Assigned 1 order to sam",
            vec![AssignedOrder {
                id: "x".into(),
                assigned_to: None,
            }],
        ))
        .unwrap();
        assert_eq!(
            v["updatedOrders"][0],
            json!({"id": "x", "assignedTo": null})
        );
    }
}
