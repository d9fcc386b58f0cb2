//! The app's lifecycle and privacy webhooks (SPEC §10): `app/uninstalled`, `app/scopes_update` and
//! Shopify's three mandatory compliance topics, read into the [`LifecycleJob`] a worker carries
//! out later.
//!
//! # Policy
//!
//! - **The signed body names the shop.** `X-Shopify-Shop-Domain` is not covered by the signature,
//!   and one client secret signs every shop's deliveries, so a body that names a shop
//!   (`shop_domain`, or the Shop resource's `myshopify_domain`) must name the header's shop:
//!   otherwise one shop's compliance request could be replayed against another
//!   ([`LifecycleError::OtherShop`]).
//! - **Orders become GIDs.** Shopify names orders by numeric id (beyond 2^53, never through a
//!   float) or by GID; both become `gid://shopify/Order/<id>`.
//! - **A redacted order stays redacted.** Its customer shows as [`REDACTED_NAME`] with no e-mail,
//!   and [`ShopifyOrder::redacted`] is what ingestion applies to every later payload of it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::payload::{numeric_id, refuse_nul, PayloadError, UNKNOWN_CUSTOMER};
use super::ShopifyOrder;
use crate::order_ref::ORDER_GID_PREFIX;

/// What a redacted order's customer is called (SPEC §10); its e-mail is null.
pub const REDACTED_NAME: &str = "Redacted";

/// The lifecycle and compliance topics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LifecycleTopic {
    AppUninstalled,
    AppScopesUpdate,
    CustomersDataRequest,
    CustomersRedact,
    ShopRedact,
}

impl LifecycleTopic {
    /// Every topic, as Shopify names them.
    pub const ALL: &'static [LifecycleTopic] = &[
        LifecycleTopic::AppUninstalled,
        LifecycleTopic::AppScopesUpdate,
        LifecycleTopic::CustomersDataRequest,
        LifecycleTopic::CustomersRedact,
        LifecycleTopic::ShopRedact,
    ];

    /// Shopify's name of the topic (`app/uninstalled`).
    pub fn as_str(self) -> &'static str {
        match self {
            LifecycleTopic::AppUninstalled => "app/uninstalled",
            LifecycleTopic::AppScopesUpdate => "app/scopes_update",
            LifecycleTopic::CustomersDataRequest => "customers/data_request",
            LifecycleTopic::CustomersRedact => "customers/redact",
            LifecycleTopic::ShopRedact => "shop/redact",
        }
    }

    /// Reads a topic header; `None` for any other topic.
    pub fn parse(raw: &str) -> Option<LifecycleTopic> {
        let raw = raw.trim();
        LifecycleTopic::ALL
            .iter()
            .copied()
            .find(|t| t.as_str().eq_ignore_ascii_case(raw))
    }
}

impl std::fmt::Display for LifecycleTopic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The customer a compliance request is about, as Shopify names them (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivacyCustomer {
    /// Shopify's numeric customer id, as its digits.
    pub id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// What a lifecycle delivery asks the worker to do, kept as JSON in the job's row until done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "job", rename_all = "snake_case")]
pub enum LifecycleJob {
    /// `app/uninstalled`: forget the shop's Shopify tokens, revoke its API tokens; keep its data.
    Uninstall,
    /// `app/scopes_update`: the scopes granted now, comma-separated.
    UpdateScopes { scopes: String },
    /// `customers/data_request`: record the request, for `privacy export`.
    RecordDataRequest {
        request_id: String,
        customer: PrivacyCustomer,
        /// The orders Shopify lists, as GIDs.
        orders: Vec<String>,
    },
    /// `customers/redact`: erase the customer from these orders (GIDs) and those with their e-mail.
    RedactCustomer {
        customer: PrivacyCustomer,
        orders: Vec<String>,
    },
    /// `shop/redact`: delete every row of the shop.
    RedactShop,
}

impl LifecycleJob {
    /// The topic the job came from.
    pub fn topic(&self) -> LifecycleTopic {
        match self {
            LifecycleJob::Uninstall => LifecycleTopic::AppUninstalled,
            LifecycleJob::UpdateScopes { .. } => LifecycleTopic::AppScopesUpdate,
            LifecycleJob::RecordDataRequest { .. } => LifecycleTopic::CustomersDataRequest,
            LifecycleJob::RedactCustomer { .. } => LifecycleTopic::CustomersRedact,
            LifecycleJob::RedactShop => LifecycleTopic::ShopRedact,
        }
    }
}

/// Why a lifecycle body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// The body does not read as the topic's payload.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The signed body names another shop than the delivery's header.
    #[error("the payload is about {named}, not the shop the delivery names")]
    OtherShop { named: String },
}

/// Reads the body of a lifecycle delivery for `shop` (the `X-Shopify-Shop-Domain`, lower case).
pub fn parse_lifecycle(
    topic: LifecycleTopic,
    body: &[u8],
    shop: &str,
) -> Result<LifecycleJob, LifecycleError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| PayloadError::Json(e.to_string()))?;
    refuse_nul(&value)?;
    let root = value
        .as_object()
        .ok_or_else(|| PayloadError::Json("expected an object".into()))?;
    for key in ["shop_domain", "myshopify_domain"] {
        if let Some(named) = text(root, key) {
            if !named.eq_ignore_ascii_case(shop) {
                return Err(LifecycleError::OtherShop {
                    named: named.to_owned(),
                });
            }
        }
    }
    Ok(match topic {
        LifecycleTopic::AppUninstalled => LifecycleJob::Uninstall,
        LifecycleTopic::AppScopesUpdate => LifecycleJob::UpdateScopes {
            scopes: scopes(root.get("current"))?,
        },
        LifecycleTopic::CustomersDataRequest => {
            let request = root
                .get("data_request")
                .and_then(Value::as_object)
                .ok_or(PayloadError::Missing("data_request"))?;
            LifecycleJob::RecordDataRequest {
                request_id: numeric_id(request.get("id"), "data_request.id")?
                    .ok_or(PayloadError::Missing("data_request.id"))?,
                customer: customer(root)?,
                orders: order_ids(root.get("orders_requested"), "orders_requested")?,
            }
        }
        LifecycleTopic::CustomersRedact => LifecycleJob::RedactCustomer {
            customer: customer(root)?,
            orders: order_ids(root.get("orders_to_redact"), "orders_to_redact")?,
        },
        LifecycleTopic::ShopRedact => LifecycleJob::RedactShop,
    })
}

/// A non-empty string field, trimmed.
fn text<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    o.get(key)?
        .as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `current` of `app/scopes_update`: an array of scopes (or already a comma list), comma-joined.
fn scopes(current: Option<&Value>) -> Result<String, PayloadError> {
    match current {
        Some(Value::Array(items)) => {
            let scopes = items
                .iter()
                .map(|s| {
                    s.as_str()
                        .map(str::trim)
                        .ok_or_else(|| PayloadError::Invalid {
                            field: "current",
                            value: s.to_string(),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(scopes
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(","))
        }
        Some(Value::String(s)) => Ok(s.trim().to_owned()),
        None | Some(Value::Null) => Err(PayloadError::Missing("current")),
        Some(other) => Err(PayloadError::Invalid {
            field: "current",
            value: other.to_string(),
        }),
    }
}

/// `customer` of a compliance payload.
fn customer(root: &Map<String, Value>) -> Result<PrivacyCustomer, PayloadError> {
    let c = root
        .get("customer")
        .and_then(Value::as_object)
        .ok_or(PayloadError::Missing("customer"))?;
    Ok(PrivacyCustomer {
        id: numeric_id(c.get("id"), "customer.id")?,
        email: text(c, "email").map(str::to_owned),
        phone: text(c, "phone").map(str::to_owned),
    })
}

/// A list of orders by numeric id or GID, as GIDs, in order, without repeats.
fn order_ids(value: Option<&Value>, field: &'static str) -> Result<Vec<String>, PayloadError> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(PayloadError::Invalid {
                field,
                value: other.to_string(),
            })
        }
    };
    let mut gids: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let gid = match item.as_str().map(str::trim) {
            Some(g) if g.starts_with(ORDER_GID_PREFIX) => g.to_owned(),
            _ => match numeric_id(Some(item), field)? {
                Some(id) => format!("{ORDER_GID_PREFIX}{id}"),
                None => continue,
            },
        };
        if !gids.contains(&gid) {
            gids.push(gid);
        }
    }
    Ok(gids)
}

impl ShopifyOrder {
    /// The order with its customer erased, as a redacted order is stored (SPEC §10): the name
    /// [`REDACTED_NAME`], no e-mail. Everything else (number, money, states) stays.
    pub fn redacted(&self) -> ShopifyOrder {
        ShopifyOrder {
            customer_name: REDACTED_NAME.to_owned(),
            customer_email: None,
            ..self.clone()
        }
    }
}

/// Whether `name` is one Sync gives rather than a person's ([`REDACTED_NAME`], the unknown
/// customer): such names are never searched for as a customer's.
pub fn is_placeholder_name(name: &str) -> bool {
    let name = name.trim();
    name.is_empty() || name == REDACTED_NAME || name == UNKNOWN_CUSTOMER
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHOP: &str = "acme.myshopify.com";

    fn parse(topic: LifecycleTopic, body: Value) -> Result<LifecycleJob, LifecycleError> {
        parse_lifecycle(topic, body.to_string().as_bytes(), SHOP)
    }

    #[test]
    fn every_topic_reads_its_own_name_back() {
        for t in LifecycleTopic::ALL {
            assert_eq!(LifecycleTopic::parse(t.as_str()), Some(*t));
            assert_eq!(LifecycleTopic::parse(&t.as_str().to_uppercase()), Some(*t));
        }
        assert_eq!(LifecycleTopic::parse("orders/create"), None);
    }

    #[test]
    fn a_data_request_reads_as_shopify_documents_it() {
        let job = parse(
            LifecycleTopic::CustomersDataRequest,
            json!({
                "shop_id": 954889, "shop_domain": SHOP,
                "orders_requested": [299938, 280263, 18446744073709551615u64, 299938],
                "customer": { "id": 191167, "email": "john@example.com", "phone": "555-625-1199" },
                "data_request": { "id": 9999 }
            }),
        )
        .unwrap();
        assert_eq!(
            job,
            LifecycleJob::RecordDataRequest {
                request_id: "9999".into(),
                customer: PrivacyCustomer {
                    id: Some("191167".into()),
                    email: Some("john@example.com".into()),
                    phone: Some("555-625-1199".into()),
                },
                orders: vec![
                    "gid://shopify/Order/299938".into(),
                    "gid://shopify/Order/280263".into(),
                    "gid://shopify/Order/18446744073709551615".into(),
                ],
            }
        );
    }

    #[test]
    fn a_redaction_takes_numeric_ids_strings_and_gids() {
        let job = parse(
            LifecycleTopic::CustomersRedact,
            json!({
                "shop_domain": SHOP, "customer": { "id": 1, "email": " a@b.co ", "phone": null },
                "orders_to_redact": ["5", "gid://shopify/Order/6", 7]
            }),
        )
        .unwrap();
        let LifecycleJob::RedactCustomer { customer, orders } = job else {
            panic!("a redaction")
        };
        assert_eq!(customer.email.as_deref(), Some("a@b.co"));
        assert_eq!(customer.phone, None);
        assert_eq!(
            orders,
            [
                "gid://shopify/Order/5",
                "gid://shopify/Order/6",
                "gid://shopify/Order/7"
            ]
        );
    }

    #[test]
    fn a_body_about_another_shop_is_refused() {
        let e = parse(
            LifecycleTopic::ShopRedact,
            json!({ "shop_domain": "evil.myshopify.com" }),
        )
        .unwrap_err();
        assert!(matches!(e, LifecycleError::OtherShop { .. }), "{e}");
        assert!(matches!(
            parse(
                LifecycleTopic::AppUninstalled,
                json!({ "myshopify_domain": "evil.myshopify.com" })
            ),
            Err(LifecycleError::OtherShop { .. })
        ));
        assert_eq!(
            parse(
                LifecycleTopic::ShopRedact,
                json!({ "shop_domain": "ACME.myshopify.com" })
            ),
            Ok(LifecycleJob::RedactShop)
        );
    }

    #[test]
    fn granted_scopes_are_comma_joined() {
        assert_eq!(
            parse(
                LifecycleTopic::AppScopesUpdate,
                json!({ "id": 1, "previous": ["read_orders"], "current": ["read_orders", "write_orders"] })
            ),
            Ok(LifecycleJob::UpdateScopes {
                scopes: "read_orders,write_orders".into()
            })
        );
        assert!(parse(LifecycleTopic::AppScopesUpdate, json!({})).is_err());
    }

    #[test]
    fn what_a_compliance_request_needs_must_be_there() {
        assert!(parse(
            LifecycleTopic::CustomersRedact,
            json!({ "shop_domain": SHOP })
        )
        .is_err());
        assert!(parse(
            LifecycleTopic::CustomersDataRequest,
            json!({ "customer": { "id": 1 } })
        )
        .is_err());
        assert!(parse_lifecycle(LifecycleTopic::ShopRedact, b"not json", SHOP).is_err());
        assert!(parse(
            LifecycleTopic::CustomersRedact,
            json!({ "customer": {}, "orders_to_redact": [1.5] })
        )
        .is_err());
    }

    #[test]
    fn jobs_keep_their_shape_as_json() {
        let job = LifecycleJob::UpdateScopes {
            scopes: "read_orders".into(),
        };
        let value = serde_json::to_value(&job).unwrap();
        assert_eq!(value["job"], "update_scopes");
        assert_eq!(serde_json::from_value::<LifecycleJob>(value).unwrap(), job);
        assert_eq!(job.topic(), LifecycleTopic::AppScopesUpdate);
    }

    #[test]
    fn a_redacted_order_keeps_everything_but_its_customer() {
        let order: ShopifyOrder = serde_json::from_value(json!({
            "id": "gid://shopify/Order/1", "order_number": "#1001", "customer_name": "Ada Byron",
            "customer_email": "ada@example.com", "total_price": "10.00", "currency": "USD",
            "fulfillment_status": "unfulfilled", "financial_status": "paid", "cancelled_at": null,
            "cancel_reason": null, "priority": "normal", "tags": [],
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z",
            "shipments": []
        }))
        .unwrap();
        let r = order.redacted();
        assert_eq!(r.customer_name, REDACTED_NAME);
        assert_eq!(r.customer_email, None);
        assert_eq!(r.total_price, order.total_price);
        assert_eq!(r.order_number, order.order_number);
        assert!(is_placeholder_name(&r.customer_name));
        assert!(is_placeholder_name(UNKNOWN_CUSTOMER));
        assert!(!is_placeholder_name("Ada Byron"));
    }
}
