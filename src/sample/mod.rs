//! Sample data: the deterministic, realistic demo data set behind `orders-sync seed` (written to
//! PostgreSQL) and the in-memory sample store the dashboard falls back to (SPEC §8, §9).
//!
//! # Policy
//!
//! - **Pure and deterministic.** [`generate`] reads no clock and no global state: the same shop,
//!   count, seed and `now` give the same records on every platform (wasm32 included). Its numbers
//!   come from a splitmix64 generator written here, not from `rand`.
//! - **Relative to `now`.** Every time is `now` (truncated to whole seconds) minus something; nothing
//!   happens after `now`. Records are returned oldest first.
//! - **Proportions by construction, not by luck.** The indexes `0..N` are dealt into groups by
//!   shuffled position buckets, one deal per layer: archetype (below), people (support and
//!   assignment), priority, currency, tag group and e-mail. Every group but the last of its layer
//!   gets its share of N *rounded up*, in table order while slots remain; the last group takes the
//!   rest. So every minimum below holds for any N ≥ 20, and smaller sets degrade without panicking
//!   (the rarest, least needed groups go first). Finer variants (payment mode, denial point, split
//!   parcels…) follow an order's rank within its group, so they are deterministic too.
//! - **Ids.** Order ids are `gid://shopify/Order/<13 digits>`, increasing with creation time, and
//!   depend on the seed and N only: two shops seeded alike share ids, as Shopify's ids may (SPEC §2 keys
//!   an order by shop + id). Everything else also depends on the shop domain. Order numbers run
//!   `#1001`, `#1002`, … oldest first. Fulfillments (`gid://shopify/Fulfillment/<n>`), returns
//!   (`gid://shopify/Return/<n>`) and support threads (`conv_<n>`) are unique within the set.
//! - **Consistency.** The data obeys the contract it demonstrates: status and fulfillment agree;
//!   cancelled orders are voided or refunded and have no parcels; fulfilled orders ship with tracking
//!   (UPS, USPS, FedEx, DHL, Canada Post); returns follow a delivered parcel and walk the §5 state
//!   machine ([`crate::returns::apply`]); a completed return is refunded (fully or partly); an open
//!   support escalation hands the order to `assistant`; `priority:low` and `priority:urgent` come
//!   from tags (SPEC §7), `high` from a tag or express shipping; JPY totals have no decimals; each
//!   timeline is oldest first and its last entry is the order's `updated_at`.
//!
//! # Archetypes (share of N, rounded up; tabs at `now` under the default thresholds)
//!
//! | archetype | share | status | parcels | tabs |
//! |---|---|---|---|---|
//! | awaiting fulfillment, 3 h – 14 d old | 10 % | unfulfilled | none | unfulfilled, tracking_pending |
//! | cancelled, authorization voided | 4 % | cancelled | none | — |
//! | cancelled after payment, refunded | 2 % | cancelled | none | — |
//! | delayed (silent 25 h – 8 d; a fifth split, first parcel delivered) | 6 % | fulfilled | in_transit | delayed |
//! | on hold | 4 % | on_hold | none | tracking_pending |
//! | partly fulfilled, label without tracking | 2.5 % | partially_fulfilled | label_created | unfulfilled, tracking_pending |
//! | fresh, created in the last 2 h | 1.5 % | unfulfilled | none | unfulfilled |
//! | out for delivery | 3.5 % | fulfilled | out_for_delivery | — |
//! | delivery exception | 2.5 % | fulfilled | exception | — |
//! | returns: awaiting_label 2, label_generated 1.5, in_transit 2, inspection 2, awaiting_refund 1.5, completed 3, denied 1.5, cancelled 1 | 14.5 % | fulfilled | delivered | returns (open states) |
//! | in transit (scanned in the last 20 h) | 7 % | fulfilled | in_transit | — |
//! | partly fulfilled, in transit | 3 % | partially_fulfilled | in_transit | unfulfilled |
//! | label printed, with tracking | 2.5 % | fulfilled | label_created | — |
//! | delivered, 1 h – 89 d ago (the rest; a fifth split in two parcels) | 37 % | fulfilled | delivered | — |
//!
//! Other layers: people — open support escalation 7 % (assigned to `assistant`), closed escalation
//! 3 % (half of them assigned), assigned to `sam`, `alex`, `priya`, `jordan` or `mei` in turn 35 %,
//! unassigned the rest; priority — urgent 10 %, low 15 %, high 20 %, normal the rest; currency — EUR
//! 15 %, GBP 12 %, CAD 10 %, AUD 8 %, JPY 10 %, USD the rest; tags — `vip` 8 %, `wholesale` 5 %,
//! `gift` 7 %; e-mail missing 8 %.
//!
//! Payment: unshipped orders are mostly paid, with a tenth pending (bank transfer, cash on delivery,
//! invoice), a tenth authorized and a twentieth a pre-order deposit (`partially_paid`); a fifth of
//! the shipped ones are authorized at checkout and captured when the goods leave.
//!
//! Cost: linear in N; 300 000 orders take about a second in release mode (mostly allocation).
//!
//! The code: `rng` (splitmix64 and the deal), `layers` (the tables of shares), `words` (the word
//! lists), `order` (one order, built from its deal) and `parts` (its plan and walks, and the small
//! pieces it is written with).

mod layers;
mod order;
mod parts;
mod rng;
#[cfg(test)]
mod tests;
mod words;

use chrono::{DateTime, Utc};

use crate::record::OrderRecord;
use layers::{ARCHETYPES, CURRENCIES, EMAILS, PEOPLE, PRIORITIES, TAG_GROUPS};
use order::{build, Deal, IdBases};
use rng::{deal_out, fnv1a, mix, Rng};

/// The seed `orders-sync seed` and the sample store use unless told otherwise.
pub const DEFAULT_SEED: u64 = 42;

const MINUTE: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// The oldest an order may be: created within the last 90 days, with a day to spare.
const MAX_AGE: i64 = 89 * DAY;

/// The people who triage orders, assigned in turn.
pub const TEAM: &[&str] = &["sam", "alex", "priya", "jordan", "mei"];
/// The carriers parcels travel with.
pub const CARRIERS: &[&str] = &["UPS", "USPS", "FedEx", "DHL", "Canada Post"];

/// `orders` orders of `shop_domain`, oldest first, as they stand at `now` (truncated to whole
/// seconds). The same arguments always give the same records; see the module documentation.
pub fn generate(
    shop_domain: &str,
    orders: usize,
    seed: u64,
    now: DateTime<Utc>,
) -> Vec<OrderRecord> {
    if orders == 0 {
        return Vec::new();
    }
    let now = now.timestamp();
    let content = mix(seed, fnv1a(shop_domain.as_bytes()));
    let mut dealer = Rng::new(mix(content, 1));
    let archetypes = deal_out(&mut dealer, orders, ARCHETYPES);
    let people = deal_out(&mut dealer, orders, PEOPLE);
    let priorities = deal_out(&mut dealer, orders, PRIORITIES);
    let currencies = deal_out(&mut dealer, orders, CURRENCIES);
    let groups = deal_out(&mut dealer, orders, TAG_GROUPS);
    let emails = deal_out(&mut dealer, orders, EMAILS);

    // Ids depend on the seed alone (and on creation order), not on the shop.
    let mut ids = Rng::new(mix(seed, 2));
    let bases = IdBases {
        fulfillment: 4_100_000_000_000 + ids.below(800_000_000_000),
        return_: 10_000_000_000 + ids.below(80_000_000_000),
        conversation: 100_000 + ids.below(800_000),
    };

    let mut records: Vec<OrderRecord> = (0..orders)
        .map(|i| {
            let deal = Deal {
                archetype: archetypes[i].0,
                rank: archetypes[i].1,
                people: people[i].0,
                people_rank: people[i].1,
                priority: priorities[i].0,
                currency: currencies[i].0,
                group: groups[i].0,
                has_email: emails[i].0,
            };
            let mut rng = Rng::new(mix(content, 16 + i as u64));
            build(i as u64, &deal, &mut rng, now, &bases)
        })
        .collect();

    // Oldest first (stable, so equal instants keep their deal order); numbers and ids follow.
    records.sort_by_cached_key(|r| r.created_at);
    let mut next_id = 5_000_000_000_000 + ids.below(1_000_000_000_000);
    for (k, record) in records.iter_mut().enumerate() {
        next_id += ids.below(1_984) + 17;
        record.id = format!("gid://shopify/Order/{next_id}");
        record.order_number = format!("#{}", 1001 + k);
    }
    records
}
