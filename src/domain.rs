//! The order as Sync serves it (SPEC §2), and the closed vocabularies its fields use.
//!
//! Every enum here is written on the wire in `snake_case` and parsed strictly: an unknown word is an
//! error the caller turns into a 400 naming the field, never a silent default.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Declares a closed vocabulary: serde in `snake_case`, `as_str`, `FromStr` (an unknown word is an
/// [`UnknownValue`]), `Display` and the list of all values. The one macro behind every closed
/// vocabulary of the crate: the enums here, `tabs::Tab` and `returns::ReturnAction`.
///
/// Every vocabulary derives `Debug`, `Clone`, `Copy`, `PartialEq`, `Eq`, `Hash`, `Serialize` and
/// `Deserialize` (and `utoipa::ToSchema` with the `openapi` feature). Attributes before the name go
/// on the enum (its docs, more derives such as `#[derive(PartialOrd, Ord)]`), attributes before a
/// variant on that variant (`#[default]`). The docs of `ALL` and `as_str` may follow the variants
/// (`ALL: "…", as_str: "…"`); without them they are the ones of this module's vocabularies.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)? }
        ALL: $all_doc:literal,
        as_str: $as_str_doc:literal $(,)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$variant_meta])* $variant),+ }

        impl $name {
            #[doc = $all_doc]
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            #[doc = $as_str_doc]
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::domain::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::domain::UnknownValue {
                        value: s.to_owned(),
                        allowed: &[$($text),+],
                    }),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)? }
    ) => {
        $crate::domain::vocabulary!(
            $(#[$meta])*
            $name { $($(#[$variant_meta])* $variant => $text),+ }
            ALL: "Every value, in the contract's order.",
            as_str: "The word used on the wire and in the database.",
        );
    };
}
pub(crate) use vocabulary;

/// A word outside a closed vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' is not one of {}", allowed.join(", "))]
pub struct UnknownValue {
    pub value: String,
    pub allowed: &'static [&'static str],
}

vocabulary!(
    /// How far the goods of an order have left the building.
    #[derive(PartialOrd, Ord)]
    FulfillmentStatus {
        Unfulfilled => "unfulfilled",
        PartiallyFulfilled => "partially_fulfilled",
        Fulfilled => "fulfilled",
        OnHold => "on_hold",
    }
);

vocabulary!(
    /// `cancelled` for a cancelled order, otherwise the fulfillment status.
    #[derive(PartialOrd, Ord)]
    OrderStatus {
        Unfulfilled => "unfulfilled",
        PartiallyFulfilled => "partially_fulfilled",
        Fulfilled => "fulfilled",
        OnHold => "on_hold",
        Cancelled => "cancelled",
    }
);

vocabulary!(
    /// Where the money of an order stands.
    #[derive(PartialOrd, Ord)]
    FinancialStatus {
        Pending => "pending",
        Authorized => "authorized",
        Paid => "paid",
        PartiallyPaid => "partially_paid",
        PartiallyRefunded => "partially_refunded",
        Refunded => "refunded",
        Voided => "voided",
    }
);

vocabulary!(
    /// How urgently an order needs a person.
    #[derive(PartialOrd, Ord)]
    Priority {
        Low => "low",
        Normal => "normal",
        High => "high",
        Urgent => "urgent",
    }
);

vocabulary!(
    /// Where a parcel is.
    #[derive(PartialOrd, Ord)]
    ShipmentStatus {
        LabelCreated => "label_created",
        InTransit => "in_transit",
        OutForDelivery => "out_for_delivery",
        Delivered => "delivered",
        Exception => "exception",
    }
);

vocabulary!(
    /// The eight states of a return (SPEC §5).
    #[derive(PartialOrd, Ord)]
    ReturnState {
        AwaitingLabel => "awaiting_label",
        LabelGenerated => "label_generated",
        InTransit => "in_transit",
        Inspection => "inspection",
        AwaitingRefund => "awaiting_refund",
        Completed => "completed",
        Denied => "denied",
        Cancelled => "cancelled",
    }
);

vocabulary!(
    /// The conditions an order can be flagged for.
    #[derive(PartialOrd, Ord)]
    AlertKind {
        TrackingPending => "tracking_pending",
        Delayed => "delayed",
        DataGap => "data_gap",
    }
);

vocabulary!(
    /// Where an outbox event stands: waiting (or being retried), delivered, or given up on.
    #[derive(PartialOrd, Ord)]
    OutboxState {
        Pending => "pending",
        Delivered => "delivered",
        Dead => "dead",
    }
);

impl OrderStatus {
    /// The status shown for an order: cancellation wins over the fulfillment status.
    pub fn of(fulfillment: FulfillmentStatus, cancelled: bool) -> Self {
        if cancelled {
            return OrderStatus::Cancelled;
        }
        match fulfillment {
            FulfillmentStatus::Unfulfilled => OrderStatus::Unfulfilled,
            FulfillmentStatus::PartiallyFulfilled => OrderStatus::PartiallyFulfilled,
            FulfillmentStatus::Fulfilled => OrderStatus::Fulfilled,
            FulfillmentStatus::OnHold => OrderStatus::OnHold,
        }
    }
}

impl ReturnState {
    /// `completed`, `denied` and `cancelled` end a return; nothing moves it after them.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            ReturnState::Completed | ReturnState::Denied | ReturnState::Cancelled
        )
    }
}

/// The person who placed an order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub email: Option<String>,
}

/// A tracking number and the carrier that issued it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracking {
    pub number: String,
    pub carrier: String,
}

/// One parcel of an order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub id: String,
    pub status: ShipmentStatus,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub tracking: Option<Tracking>,
    pub last_update_at: DateTime<Utc>,
}

/// The return of an order, as the list shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnSummary {
    pub id: String,
    pub state: ReturnState,
    pub updated_at: DateTime<Utc>,
}

/// One line of an order's history.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub ts: DateTime<Utc>,
    pub event: String,
    pub details: String,
}

/// The order as the read API serves it (SPEC §2). Every key is always present.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: String,
    pub order_number: String,
    pub customer: Customer,
    pub total_price: String,
    pub currency: String,
    pub status: OrderStatus,
    pub fulfillment_status: FulfillmentStatus,
    pub financial_status: FinancialStatus,
    pub priority: Priority,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub assigned_to: Option<String>,
    pub tags: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub shipments: Vec<Shipment>,
    #[serde(rename = "return")]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub return_: Option<ReturnSummary>,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub support_thread: Option<String>,
    pub alerts: Vec<AlertKind>,
    /// The last ten entries, newest first.
    pub timeline: Vec<TimelineEntry>,
}

/// How many timeline entries an order carries in API answers.
pub const TIMELINE_LIMIT: usize = 10;

/// The page of orders `GET /sync/orders` answers with.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderList {
    pub orders: Vec<Order>,
    pub page_info: crate::query::PageInfo,
    pub counts: crate::tabs::TabCounts,
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub shopify_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip_through_their_words() {
        for s in ReturnState::ALL {
            assert_eq!(s.as_str().parse::<ReturnState>(), Ok(*s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::json!(s.as_str())
            );
        }
        assert_eq!(FinancialStatus::ALL.len(), 7);
        assert_eq!(ShipmentStatus::ALL.len(), 5);
    }

    #[test]
    fn an_unknown_word_names_the_allowed_ones() {
        let err = "shipped".parse::<FulfillmentStatus>().unwrap_err();
        assert!(err.to_string().contains("partially_fulfilled"), "{err}");
    }

    #[test]
    fn a_cancelled_order_has_status_cancelled_whatever_its_fulfillment() {
        assert_eq!(
            OrderStatus::of(FulfillmentStatus::Fulfilled, true),
            OrderStatus::Cancelled
        );
        assert_eq!(
            OrderStatus::of(FulfillmentStatus::OnHold, false),
            OrderStatus::OnHold
        );
    }

    #[test]
    fn the_return_key_is_spelled_return_on_the_wire() {
        let order = Order {
            id: "gid://shopify/Order/1".into(),
            order_number: "#1001".into(),
            customer: Customer {
                name: "Ada".into(),
                email: None,
            },
            total_price: "1.00".into(),
            currency: "USD".into(),
            status: OrderStatus::Unfulfilled,
            fulfillment_status: FulfillmentStatus::Unfulfilled,
            financial_status: FinancialStatus::Paid,
            priority: Priority::Normal,
            assigned_to: None,
            tags: vec![],
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            shipments: vec![],
            return_: None,
            support_thread: None,
            alerts: vec![],
            timeline: vec![],
        };
        let v = serde_json::to_value(&order).unwrap();
        for key in [
            "id",
            "orderNumber",
            "customer",
            "totalPrice",
            "currency",
            "status",
            "fulfillmentStatus",
            "financialStatus",
            "priority",
            "assignedTo",
            "tags",
            "createdAt",
            "updatedAt",
            "shipments",
            "return",
            "supportThread",
            "alerts",
            "timeline",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert!(
            v["return"].is_null() && v["assignedTo"].is_null() && v["customer"]["email"].is_null()
        );
        assert_eq!(v["createdAt"], "1970-01-01T00:00:00Z");
    }
}
