//! The pure core of Orders ↔ Sync: what an order is, how pages are addressed, which tab an order
//! belongs to, how a return may move, what a request may say and what every answer looks like.
//!
//! Nothing here does IO: the same code runs in the server and in the browser (wasm32), and the
//! rules are tested beside the code.

pub mod alerts;
pub mod csv;
pub mod cursor;
pub mod domain;
pub mod effects;
pub mod envelope;
#[cfg(feature = "locale")]
pub mod locale;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod order_ref;
pub mod outbox;
pub mod position;
pub mod query;
pub mod record;
pub mod returns;
pub mod sample;
pub mod search;
pub mod shopify;
pub mod stats;
pub mod tabs;
pub mod text;

pub use cursor::Cursor;
pub use domain::*;
pub use envelope::*;
pub use order_ref::OrderRef;
pub use query::{Direction, ListQuery, PageWindow, QueryError};
pub use returns::{ReturnAction, TransitionError};
pub use tabs::{Tab, TabCounts, Thresholds};
