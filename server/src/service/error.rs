//! The service layer's own error: what a caller is told went wrong, in the service's words (not
//! found, conflict, unprocessable, the database away, a failure on our side), whatever door it
//! came through. The HTTP status of each is the door's business (`crate::error`).
//!
//! Policy: the messages of the first three tell the client exactly what to change; the last two
//! carry their cause, which is logged once, where the error becomes a response.

use crate::store::StoreError;

/// Why the service could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// What was named does not exist (an order, a shop, a return).
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the state it would change (a cancelled order, a return's state).
    #[error("{0}")]
    Conflict(String),
    /// The request cannot be taken as sent (an `Idempotency-Key` reused for another request).
    #[error("{0}")]
    Unprocessable(String),
    /// The database cannot be reached or is shutting down: worth retrying later.
    #[error("the database is unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Anything else: a bug or a broken invariant.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::OrdersNotFound(refs) => {
                let noun = if refs.len() == 1 { "order" } else { "orders" };
                ServiceError::NotFound(format!("no {noun} {} in this shop", refs.join(", ")))
            }
            StoreError::UnknownShop(shop) => {
                ServiceError::NotFound(format!("the shop {shop} is not registered"))
            }
            StoreError::NoReturn(r) => ServiceError::NotFound(format!("order {r} has no return")),
            StoreError::Cancelled(ids) => ServiceError::Conflict(format!(
                "cancelled orders cannot be fulfilled: {}; nothing was changed",
                ids.join(", ")
            )),
            StoreError::Transition(t) => {
                ServiceError::Conflict(format!("{t}; nothing was changed"))
            }
            StoreError::KeyReused(key) => ServiceError::Unprocessable(format!(
                "the Idempotency-Key '{key}' was already used with a different request; \
                 send a new key for a new request"
            )),
            StoreError::Unavailable(cause) => ServiceError::Unavailable(cause),
            StoreError::Internal(cause) => ServiceError::Internal(cause),
        }
    }
}
