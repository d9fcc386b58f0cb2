//! Property tests on hostile input to the three parsers that read what strangers send: the `ofs:`
//! cursor codec, the list query (`GET /sync/orders`) and the Shopify mapping (webhook bodies, the
//! poller's GraphQL pages, and what applying their facts does to a stored order).
//!
//! The unit tests beside the code cover the contract on well-formed input; these properties throw
//! arbitrary text, bytes and JSON at the same functions, and mutate the real fixtures in
//! `tests/fixtures/shopify/` a few fields at a time. Nothing may panic; every refusal is a typed error
//! (`CursorError`, a `QueryError` naming a parameter, a `PayloadError`); what is accepted must
//! round-trip, and money must come out exactly as it went in.
//!
//! One module per part: `strategies` (shared by all), `cursor` (part 1), `query` (part 2), and
//! `shopify` and `money` (part 3).

#![allow(
    clippy::unwrap_used,
    reason = "a test's helpers fail the test, with its line, when they unwrap"
)]

mod cursor;
mod money;
mod query;
mod shopify;
mod strategies;

/// Cases per property: enough to reach the odd corners, few enough that the file runs in seconds
/// in a debug build.
const CASES: u32 = 256;
