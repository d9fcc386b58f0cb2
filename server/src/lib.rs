//! orders-sync.
