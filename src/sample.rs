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

use chrono::{DateTime, Utc};

use crate::domain::{
    FinancialStatus, FulfillmentStatus, Priority, ReturnState, Shipment, ShipmentStatus,
    TimelineEntry, Tracking,
};
use crate::envelope::SUPPORT_ASSIGNEE;
use crate::record::{OrderRecord, ReturnRecord, SupportRecord};
use crate::returns::{self, ReturnAction};

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

// ---------------------------------------------------------------------------------------------
// Randomness: splitmix64, seeded per stream.

/// splitmix64 (Steele, Lea & Flood): tiny, fast, and the same on every platform.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0), without modulo bias worth mentioning.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`; `lo` when the range is empty.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64 + 1) as i64
        }
    }

    /// True `percent` times in a hundred.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// Derives an independent stream's seed.
fn mix(a: u64, b: u64) -> u64 {
    Rng::new(a ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93)).next_u64()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// Deals `n` slots over `table` (value, share in ‰): every entry but the last gets its share
/// rounded up while slots remain, the last the rest; then shuffles. Each slot comes with its rank
/// within its group (0, 1, 2… in index order).
fn deal_out<T: Copy>(rng: &mut Rng, n: usize, table: &[(T, u32)]) -> Vec<(T, usize)> {
    let mut slots: Vec<usize> = Vec::with_capacity(n);
    for (k, (_, per_mille)) in table.iter().enumerate() {
        let room = n - slots.len();
        let want = if k + 1 == table.len() {
            room
        } else {
            (n * *per_mille as usize).div_ceil(1000).min(room)
        };
        slots.extend(std::iter::repeat_n(k, want));
    }
    rng.shuffle(&mut slots);
    let mut seen = vec![0usize; table.len()];
    slots
        .into_iter()
        .map(|k| {
            let rank = seen[k];
            seen[k] += 1;
            (table[k].0, rank)
        })
        .collect()
}

/// A time between `lo` and `hi` after `base`, squeezed so it is never after `now`.
fn soon(rng: &mut Rng, base: i64, lo: i64, hi: i64, now: i64) -> i64 {
    let room = (now - base).max(0);
    base + rng.range(lo.min(room), hi.min(room))
}

/// Like `range`, but most values near `lo`.
fn skewed(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    let u = rng.below(1_000) as i64;
    lo + (hi - lo) * u * u / 1_000_000
}

fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap_or(DateTime::UNIX_EPOCH)
}

// ---------------------------------------------------------------------------------------------
// The layers.

/// What happens to an order; decides its status, parcels and return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Archetype {
    Unfulfilled,
    CancelledVoided,
    CancelledRefunded,
    Delayed,
    OnHold,
    PartialNoTracking,
    Fresh,
    OutForDelivery,
    DeliveryException,
    Returned(ReturnState),
    InTransit,
    PartialInTransit,
    LabelPrinted,
    Delivered,
}

/// In order of need: at tiny N the last entries get no slots first. `Delivered` takes the rest.
const ARCHETYPES: &[(Archetype, u32)] = &[
    (Archetype::Unfulfilled, 100),
    (Archetype::CancelledVoided, 40),
    (Archetype::CancelledRefunded, 20),
    (Archetype::Delayed, 60),
    (Archetype::OnHold, 40),
    (Archetype::PartialNoTracking, 25),
    (Archetype::Fresh, 15),
    (Archetype::OutForDelivery, 35),
    (Archetype::DeliveryException, 25),
    (Archetype::Returned(ReturnState::AwaitingLabel), 20),
    (Archetype::Returned(ReturnState::LabelGenerated), 15),
    (Archetype::Returned(ReturnState::InTransit), 20),
    (Archetype::Returned(ReturnState::Inspection), 20),
    (Archetype::Returned(ReturnState::AwaitingRefund), 15),
    (Archetype::Returned(ReturnState::Completed), 30),
    (Archetype::Returned(ReturnState::Denied), 15),
    (Archetype::Returned(ReturnState::Cancelled), 10),
    (Archetype::InTransit, 70),
    (Archetype::PartialInTransit, 30),
    (Archetype::LabelPrinted, 25),
    (Archetype::Delivered, 370),
];

/// Who looks after an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum People {
    OpenSupport,
    ClosedSupport,
    Team,
    Nobody,
}

const PEOPLE: &[(People, u32)] = &[
    (People::OpenSupport, 70),
    (People::ClosedSupport, 30),
    (People::Team, 350),
    (People::Nobody, 550),
];

const PRIORITIES: &[(Priority, u32)] = &[
    (Priority::Urgent, 100),
    (Priority::Low, 150),
    (Priority::High, 200),
    (Priority::Normal, 550),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TagGroup {
    Vip,
    Wholesale,
    Gift,
    Plain,
}

const TAG_GROUPS: &[(TagGroup, u32)] = &[
    (TagGroup::Vip, 80),
    (TagGroup::Wholesale, 50),
    (TagGroup::Gift, 70),
    (TagGroup::Plain, 800),
];

/// Whether the customer left an e-mail address.
const EMAILS: &[(bool, u32)] = &[(false, 80), (true, 920)];

/// A currency and the places its parcels travel through.
#[derive(Debug)]
struct Currency {
    code: &'static str,
    /// Minor units per US cent, in thousandths.
    rate: u64,
    decimals: bool,
    carriers: &'static [&'static str],
    cities: &'static [&'static str],
}

const USD: Currency = Currency {
    code: "USD",
    rate: 1_000,
    decimals: true,
    carriers: &["UPS", "UPS", "USPS", "USPS", "FedEx"],
    cities: &[
        "Louisville, KY",
        "Memphis, TN",
        "Chicago, IL",
        "Dallas, TX",
        "Ontario, CA",
        "Newark, NJ",
    ],
};
const EUR: Currency = Currency {
    code: "EUR",
    rate: 920,
    decimals: true,
    carriers: &["DHL", "DHL", "UPS", "FedEx"],
    cities: &["Leipzig", "Paris", "Amsterdam", "Milan", "Madrid"],
};
const GBP: Currency = Currency {
    code: "GBP",
    rate: 790,
    decimals: true,
    carriers: &["DHL", "DHL", "UPS", "FedEx"],
    cities: &["East Midlands", "London", "Manchester", "Glasgow"],
};
const CAD: Currency = Currency {
    code: "CAD",
    rate: 1_360,
    decimals: true,
    carriers: &["Canada Post", "Canada Post", "UPS", "FedEx"],
    cities: &[
        "Mississauga, ON",
        "Montreal, QC",
        "Calgary, AB",
        "Vancouver, BC",
    ],
};
const AUD: Currency = Currency {
    code: "AUD",
    rate: 1_520,
    decimals: true,
    carriers: &["DHL", "FedEx", "UPS"],
    cities: &["Sydney, NSW", "Melbourne, VIC", "Brisbane, QLD"],
};
const JPY: Currency = Currency {
    code: "JPY",
    rate: 1_500,
    decimals: false,
    carriers: &["DHL", "FedEx"],
    cities: &["Tokyo", "Osaka", "Nagoya"],
};

const CURRENCIES: &[(&Currency, u32)] = &[
    (&EUR, 150),
    (&GBP, 120),
    (&CAD, 100),
    (&AUD, 80),
    (&JPY, 100),
    (&USD, 450),
];

// ---------------------------------------------------------------------------------------------
// Word lists.

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Margaret",
    "Katherine",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Tim",
    "Radia",
    "Hedy",
    "Edsger",
    "Sophie",
    "Omar",
    "Aisha",
    "Mateo",
    "Lucia",
    "Hiroshi",
    "Yuki",
    "Chen",
    "Wei",
    "Priyanka",
    "Arjun",
    "Fatima",
    "Lars",
    "Ingrid",
    "Kofi",
    "Amara",
    "Diego",
    "Camila",
    "Noah",
    "Olivia",
    "Liam",
    "Emma",
    "Mohammed",
    "Zara",
    "Ethan",
    "Chloe",
];
const LAST_NAMES: &[&str] = &[
    "Byron",
    "Turing",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "Johnson",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Berners-Lee",
    "Perlman",
    "Lamarr",
    "Dijkstra",
    "Wilson",
    "Haddad",
    "Khan",
    "Garcia",
    "Rossi",
    "Tanaka",
    "Sato",
    "Li",
    "Wang",
    "Patel",
    "Sharma",
    "Okafor",
    "Nielsen",
    "Larsen",
    "Mensah",
    "Silva",
    "Santos",
    "Martin",
    "Brown",
    "Murphy",
    "O'Brien",
    "Dubois",
    "Kowalski",
    "Novak",
    "Anderson",
    "Nakamura",
];
const EMAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
];
/// Item prices, in US cents, before conversion and rounding.
const CATALOG: &[u64] = &[
    1200, 1495, 1895, 2450, 2900, 3495, 3900, 4500, 5495, 6800, 7900, 8900, 12900, 14950, 19900,
    24900,
];
const WAREHOUSES: &[&str] = &[
    "the main warehouse",
    "the east warehouse",
    "the west warehouse",
    "the retail store",
];
const PAYMENT_METHODS: &[&str] = &[
    "Shop Pay",
    "a Visa card",
    "a Mastercard",
    "PayPal",
    "Apple Pay",
    "an American Express card",
];
const OFFLINE_METHODS: &[&str] = &["bank transfer", "cash on delivery", "invoice (net 30)"];
const HOLD_REASONS: &[&str] = &[
    "awaiting stock from the supplier",
    "the shipping address could not be verified",
    "fraud review requested",
    "the customer asked to delay shipping",
];
const CANCEL_REASONS: &[&str] = &[
    "the customer changed their mind",
    "the payment was declined",
    "suspected fraud",
    "an item is out of stock",
    "a duplicate order",
];
const EXCEPTION_REASONS: &[&str] = &[
    "the address could not be found",
    "the parcel was damaged in transit",
    "nobody was available to sign",
    "customs clearance is delayed",
    "bad weather delayed the hub",
];
const DELIVERY_PLACES: &[&str] = &[
    "left at the front door",
    "signed for by the customer",
    "left in a parcel locker",
    "handed to a neighbour",
];
const RETURN_REASONS: &[&str] = &[
    "too small",
    "too large",
    "not as described",
    "arrived damaged",
    "the customer changed their mind",
    "the wrong item was sent",
];

// ---------------------------------------------------------------------------------------------
// One order.

struct IdBases {
    fulfillment: u64,
    return_: u64,
    conversation: u64,
}

struct Deal {
    archetype: Archetype,
    rank: usize,
    people: People,
    people_rank: usize,
    priority: Priority,
    currency: &'static Currency,
    group: TagGroup,
    has_email: bool,
}

/// A line of the order: unit price in the order's minor units, and quantity.
struct Line {
    unit: u64,
    qty: u64,
}

/// How the customer paid at checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Checkout {
    Pending,
    Authorized,
    Deposit,
    Paid,
    /// Authorized at checkout, captured when the goods ship.
    CaptureOnFulfillment,
}

/// When things happened to an order, in absolute seconds.
#[derive(Default)]
struct Plan {
    created: i64,
    /// When goods left, the fulfillment status after it, and how many items.
    fulfillments: Vec<(i64, FulfillmentStatus, u64)>,
    /// Each parcel's steps.
    parcels: Vec<Vec<(ShipmentStatus, i64)>>,
    on_hold: Option<i64>,
    cancelled: Option<i64>,
    return_steps: Vec<(ReturnState, i64)>,
}

impl Plan {
    fn shift(&mut self, by: i64) {
        self.created += by;
        for f in &mut self.fulfillments {
            f.0 += by;
        }
        for step in self.parcels.iter_mut().flatten() {
            step.1 += by;
        }
        for step in &mut self.return_steps {
            step.1 += by;
        }
    }

    fn last_parcel_step(&self) -> i64 {
        self.parcels
            .iter()
            .filter_map(|p| p.last())
            .map(|s| s.1)
            .max()
            .unwrap_or(0)
    }
}

/// Room for most timelines at once, and under 1 KiB: glibc's malloc consolidates its fast bins on
/// every request of 1 KiB or more, which made large sets several times slower.
const TIMELINE_CAPACITY: usize = 15;

/// The timeline as it is written: clamped to `created..=now`, sorted at the end.
struct Story {
    created: i64,
    now: i64,
    latest: i64,
    entries: Vec<TimelineEntry>,
}

impl Story {
    fn new(created: i64, now: i64) -> Self {
        Story {
            created,
            now,
            latest: created,
            entries: Vec::with_capacity(TIMELINE_CAPACITY),
        }
    }

    /// Records an entry and returns its (clamped) time.
    fn add(&mut self, ts: i64, event: impl Into<String>, details: String) -> i64 {
        let ts = ts.clamp(self.created, self.now.max(self.created));
        self.latest = self.latest.max(ts);
        self.entries.push(TimelineEntry {
            ts: at(ts),
            event: event.into(),
            details,
        });
        ts
    }

    /// Oldest first; entries at the same instant keep the order they were written in.
    fn finish(mut self) -> Vec<TimelineEntry> {
        self.entries.sort_by_key(|e| e.ts);
        self.entries.shrink_to_fit();
        self.entries
    }
}

fn build(i: u64, d: &Deal, rng: &mut Rng, now: i64, bases: &IdBases) -> OrderRecord {
    use Archetype as A;
    let cur = d.currency;

    // Who.
    let first = rng.pick(FIRST_NAMES);
    let last = rng.pick(LAST_NAMES);
    let customer_name = format!("{first} {last}");
    let customer_email = if d.has_email {
        Some(email_for(rng, first, last))
    } else {
        None
    };

    // What: lines, prices and the total.
    let wholesale = d.group == TagGroup::Wholesale;
    let split_candidate = matches!(d.archetype, A::Delivered | A::Delayed) && d.rank % 5 == 2;
    let needs_two_lines = matches!(d.archetype, A::PartialNoTracking | A::PartialInTransit)
        || split_candidate
        || (d.archetype == A::Returned(ReturnState::Completed) && !d.rank.is_multiple_of(3));
    let line_count = if wholesale {
        rng.range(2, 4)
    } else {
        match rng.below(100) {
            0..=59 => 1,
            60..=87 => 2,
            _ => 3,
        }
    }
    .max(if needs_two_lines { 2 } else { 1 }) as usize;
    let ending = rng.pick(&[5, 5, 1, 0]);
    let mut usd_subtotal = 0;
    let lines: Vec<Line> = (0..line_count)
        .map(|_| {
            let usd = rng.pick(CATALOG);
            let qty = if wholesale {
                rng.range(6, 24) as u64
            } else if rng.chance(15) {
                2
            } else {
                1
            };
            usd_subtotal += usd * qty;
            Line {
                unit: convert(usd, cur, ending),
                qty,
            }
        })
        .collect();
    let shipping = if wholesale || usd_subtotal >= 7_500 {
        0
    } else {
        convert(rng.pick(&[595, 995, 1_495]), cur, 5)
    };
    let total_minor = lines.iter().map(|l| l.unit * l.qty).sum::<u64>() + shipping;
    let total = money(total_minor, cur);
    let items: u64 = lines.iter().map(|l| l.qty).sum();
    let split = split_candidate && lines.len() >= 2;

    let carrier = rng.pick(cur.carriers);
    let warehouse = rng.pick(WAREHOUSES);
    let home = rng.pick(cur.cities);

    // When.
    let plan = plan(rng, d, split, (lines[0].qty, items), now);
    let c = plan.created;
    let mut story = Story::new(c, now);

    // Payment and stock.
    let checkout = match d.archetype {
        A::Fresh | A::Unfulfilled | A::OnHold => match d.rank % 20 {
            3 | 13 => Checkout::Pending,
            6 | 16 => Checkout::Authorized,
            9 => Checkout::Deposit,
            _ => Checkout::Paid,
        },
        A::PartialNoTracking | A::PartialInTransit if d.rank % 10 == 3 => Checkout::Deposit,
        A::CancelledVoided => Checkout::Authorized,
        A::CancelledRefunded | A::PartialNoTracking | A::PartialInTransit => Checkout::Paid,
        _ if d.rank % 5 == 1 => Checkout::CaptureOnFulfillment,
        _ => Checkout::Paid,
    };
    let code = cur.code;
    let method = rng.pick(PAYMENT_METHODS);
    let paid_at = c + rng.range(0, 5);
    let mut financial = match checkout {
        Checkout::Pending => {
            let how = rng.pick(OFFLINE_METHODS);
            story.add(
                paid_at,
                "payment.pending",
                format!("Awaiting {total} {code} by {how}."),
            );
            FinancialStatus::Pending
        }
        Checkout::Authorized | Checkout::CaptureOnFulfillment => {
            story.add(
                paid_at,
                "payment.authorized",
                format!("Authorized {total} {code} via {method}."),
            );
            FinancialStatus::Authorized
        }
        Checkout::Deposit | Checkout::Paid => {
            story.add(
                paid_at,
                "payment.authorized",
                format!("Authorized {total} {code} via {method}."),
            );
            if checkout == Checkout::Deposit {
                let deposit = money(deposit(total_minor, cur), cur);
                story.add(
                    paid_at + rng.range(5, 90),
                    "payment.captured",
                    format!("Paid a deposit of {deposit} of {total} {code}."),
                );
                FinancialStatus::PartiallyPaid
            } else {
                story.add(
                    paid_at + rng.range(5, 90),
                    "payment.captured",
                    format!("Paid {total} {code}."),
                );
                FinancialStatus::Paid
            }
        }
    };
    story.add(
        c + rng.range(10, 300),
        "inventory.hold",
        format!("Reserved {} at {warehouse}.", plural(items, "item")),
    );

    // Fulfillment.
    let mut fulfillment_status = FulfillmentStatus::Unfulfilled;
    let mut fulfilled_so_far = 0;
    for &(ts, status, n) in &plan.fulfillments {
        let details = match status {
            FulfillmentStatus::PartiallyFulfilled => format!(
                "Fulfilled {n} of {items} items from {warehouse}; the rest is on backorder."
            ),
            _ if fulfilled_so_far > 0 && n == 1 => "Fulfilled the remaining item.".to_owned(),
            _ if fulfilled_so_far > 0 => format!("Fulfilled the remaining {n} items."),
            _ => format!("Fulfilled {} from {warehouse}.", plural(n, "item")),
        };
        story.add(ts, format!("fulfillment.{status}"), details);
        if checkout == Checkout::CaptureOnFulfillment && fulfilled_so_far == 0 {
            story.add(ts, "payment.captured", format!("Paid {total} {code}."));
            financial = FinancialStatus::Paid;
        }
        fulfilled_so_far += n;
        fulfillment_status = status;
    }
    if let Some(ts) = plan.on_hold {
        let reason = if checkout == Checkout::Pending {
            "awaiting payment"
        } else {
            rng.pick(HOLD_REASONS)
        };
        story.add(
            ts,
            "fulfillment.on_hold",
            format!("Fulfillment on hold: {reason}."),
        );
        fulfillment_status = FulfillmentStatus::OnHold;
    }

    // Parcels.
    let mut shipments = Vec::with_capacity(plan.parcels.len());
    for (k, steps) in plan.parcels.iter().enumerate() {
        let tracking = (d.archetype != A::PartialNoTracking).then(|| Tracking {
            number: tracking_number(rng, carrier),
            carrier: carrier.to_owned(),
        });
        let mut last_update = c;
        for &(status, ts) in steps {
            let details = match status {
                ShipmentStatus::LabelCreated => match &tracking {
                    Some(t) => format!("{carrier} label created, tracking number {}.", t.number),
                    None => "Label created; the tracking number is not assigned yet.".to_owned(),
                },
                ShipmentStatus::InTransit => {
                    let hub = rng.pick(cur.cities);
                    format!("In transit with {carrier}, last scanned in {hub}.")
                }
                ShipmentStatus::OutForDelivery => {
                    format!("Out for delivery with {carrier} in {home}.")
                }
                ShipmentStatus::Delivered => {
                    let place = rng.pick(DELIVERY_PLACES);
                    format!("Delivered by {carrier}, {place}.")
                }
                ShipmentStatus::Exception => {
                    let reason = rng.pick(EXCEPTION_REASONS);
                    format!("{carrier} reported an exception: {reason}.")
                }
            };
            last_update = story.add(ts, format!("shipment.{status}"), details);
        }
        if let Some(&(status, _)) = steps.last() {
            shipments.push(Shipment {
                id: format!(
                    "gid://shopify/Fulfillment/{}",
                    bases.fulfillment + i * 2 + k as u64
                ),
                status,
                tracking,
                last_update_at: at(last_update),
            });
        }
    }

    // Cancellation.
    let cancelled_at = plan.cancelled.map(|ts| {
        let reason = rng.pick(CANCEL_REASONS);
        let ts = story.add(
            ts,
            "inventory.release",
            format!(
                "Order cancelled ({reason}); released {} to stock.",
                plural(items, "item")
            ),
        );
        if financial == FinancialStatus::Authorized {
            story.add(
                ts + rng.range(1, 60),
                "payment.voided",
                format!("Voided the authorization of {total} {code}."),
            );
            financial = FinancialStatus::Voided;
        } else {
            story.add(
                ts + rng.range(1, 60),
                "payment.refunded",
                format!("Refunded {total} {code}."),
            );
            financial = FinancialStatus::Refunded;
        }
        at(ts)
    });

    // Return.
    let return_ = if plan.return_steps.is_empty() {
        None
    } else {
        // A full return refunds everything; a partial one the last line.
        let full = lines.len() == 1 || d.rank.is_multiple_of(3);
        let (returned, refund_minor) = if full {
            (items, total_minor)
        } else {
            let line = &lines[lines.len() - 1];
            (line.qty, line.unit * line.qty)
        };
        let refund = money(refund_minor, cur);
        let reason = rng.pick(RETURN_REASONS);
        let mut previous = ReturnState::AwaitingLabel;
        let mut first_ts = None;
        let mut last_ts = c;
        for &(state, ts) in &plan.return_steps {
            let details = match state {
                ReturnState::AwaitingLabel => format!(
                    "Return requested for {}: {reason}.",
                    plural(returned, "item")
                ),
                ReturnState::LabelGenerated => format!(
                    "Return label created with {carrier}, tracking number {}.",
                    tracking_number(rng, carrier)
                ),
                ReturnState::InTransit => format!("Return parcel in transit with {carrier}."),
                ReturnState::Inspection => {
                    "Return received at the warehouse; inspection started.".to_owned()
                }
                ReturnState::AwaitingRefund => {
                    format!("Inspection passed; a refund of {refund} {code} is approved.")
                }
                ReturnState::Completed => {
                    format!("Return completed; {refund} {code} refunded to the customer.")
                }
                ReturnState::Denied => format!("Return denied: {}.", denial_reason(previous)),
                ReturnState::Cancelled => {
                    "Return cancelled: the customer decided to keep the items.".to_owned()
                }
            };
            last_ts = story.add(ts, format!("return.{state}"), details);
            first_ts.get_or_insert(last_ts);
            previous = state;
        }
        if previous == ReturnState::Completed {
            let details = if full {
                format!("Refunded {total} {code}.")
            } else {
                format!("Refunded {refund} of {total} {code}.")
            };
            story.add(last_ts + rng.range(1, 60), "payment.refunded", details);
            financial = if full {
                FinancialStatus::Refunded
            } else {
                FinancialStatus::PartiallyRefunded
            };
        }
        Some(ReturnRecord {
            id: format!("gid://shopify/Return/{}", bases.return_ + i),
            state: previous,
            created_at: at(first_ts.unwrap_or(last_ts)),
            updated_at: at(last_ts),
        })
    };

    // People: support escalations and assignment.
    let mut support = Vec::new();
    let mut assigned_to = None;
    let thread = format!("conv_{}", bases.conversation + i * 10 + rng.below(10));
    match d.people {
        People::Team => {
            let who = TEAM[d.people_rank % TEAM.len()];
            story.add(
                soon(rng, c, 5 * MINUTE, DAY, now),
                "assignment.changed",
                format!("Assigned to {who}."),
            );
            assigned_to = Some(who.to_owned());
        }
        People::ClosedSupport => {
            if d.people_rank.is_multiple_of(2) {
                let who = TEAM[(d.people_rank / 2) % TEAM.len()];
                story.add(
                    soon(rng, c, 5 * MINUTE, DAY, now),
                    "assignment.changed",
                    format!("Assigned to {who}."),
                );
                assigned_to = Some(who.to_owned());
            }
            let note = support_note(rng, d.archetype);
            let ts = story.add(
                soon(rng, story.latest, 10 * MINUTE, 3 * DAY, now),
                "support.escalated",
                format!("Escalated to support ({thread}): {note}"),
            );
            support.push(SupportRecord {
                thread,
                note: note.to_owned(),
                open: false,
                created_at: at(ts),
            });
        }
        People::OpenSupport => {
            let before = d
                .people_rank
                .is_multiple_of(3)
                .then(|| TEAM[(d.people_rank / 3) % TEAM.len()]);
            if let Some(who) = before {
                story.add(
                    soon(rng, c, 5 * MINUTE, DAY, now),
                    "assignment.changed",
                    format!("Assigned to {who}."),
                );
            }
            let note = support_note(rng, d.archetype);
            let ts = story.add(
                soon(rng, story.latest, 10 * MINUTE, 3 * DAY, now),
                "support.escalated",
                format!("Escalated to support ({thread}): {note}"),
            );
            let details = match before {
                Some(who) => format!("Reassigned from {who} to {SUPPORT_ASSIGNEE}."),
                None => format!("Assigned to {SUPPORT_ASSIGNEE}."),
            };
            story.add(ts, "assignment.changed", details);
            support.push(SupportRecord {
                thread,
                note: note.to_owned(),
                open: true,
                created_at: at(ts),
            });
            assigned_to = Some(SUPPORT_ASSIGNEE.to_owned());
        }
        People::Nobody => {}
    }

    // Tags: the group, a customer tag, pre-order deposits, and the priority (SPEC §7).
    let mut tags = Vec::new();
    match d.group {
        TagGroup::Vip => tags.push("vip"),
        TagGroup::Wholesale => tags.push("wholesale"),
        TagGroup::Gift => tags.push("gift"),
        TagGroup::Plain => {}
    }
    match rng.below(100) {
        0..=11 => tags.push("repeat-customer"),
        12..=19 => tags.push("first-order"),
        20..=23 => tags.push("subscription"),
        _ => {}
    }
    if checkout == Checkout::Deposit {
        tags.push("pre-order");
    }
    let mut tags: Vec<String> = tags.into_iter().map(str::to_owned).collect();
    let priority_tag = match d.priority {
        Priority::Low | Priority::Urgent => true,
        Priority::High => rng.chance(50),
        Priority::Normal => false,
    };
    if priority_tag {
        tags.push(format!("priority:{}", d.priority));
    }

    let updated_at = at(story.latest);
    OrderRecord {
        id: String::new(),
        order_number: String::new(),
        customer_name,
        customer_email,
        total_price: total,
        currency: code.to_owned(),
        fulfillment_status,
        financial_status: financial,
        cancelled_at,
        priority: d.priority,
        tags,
        created_at: at(c),
        updated_at,
        shopify_updated_at: None,
        shipments,
        return_,
        support,
        assigned_to,
        timeline: story.finish(),
    }
}

/// When things happen to an order of this deal: its shape decided first, then placed so that its
/// anchor (the last parcel scan, the last return step…) lands where the archetype needs it.
fn plan(rng: &mut Rng, d: &Deal, split: bool, (first_part, items): (u64, u64), now: i64) -> Plan {
    use Archetype as A;
    let mut p = Plan::default();
    match d.archetype {
        A::Fresh => p.created = now - rng.range(5 * MINUTE, 110 * MINUTE),
        A::Unfulfilled => p.created = now - skewed(rng, 3 * HOUR, 14 * DAY),
        A::OnHold => {
            p.created = now - rng.range(6 * HOUR, 20 * DAY);
            let age = now - p.created;
            p.on_hold = Some(p.created + rng.range(10 * MINUTE, (age / 2).min(2 * DAY)));
        }
        A::CancelledVoided | A::CancelledRefunded => {
            p.created = now - rng.range(3 * HOUR, 88 * DAY);
            let age = now - p.created;
            p.cancelled = Some(p.created + rng.range(10 * MINUTE, (age / 2).min(3 * DAY)));
        }
        _ => {
            // Times relative to creation first.
            let (last_status, partial) = match d.archetype {
                A::PartialNoTracking => (ShipmentStatus::LabelCreated, true),
                A::PartialInTransit => (ShipmentStatus::InTransit, true),
                A::LabelPrinted => (ShipmentStatus::LabelCreated, false),
                A::InTransit | A::Delayed => (ShipmentStatus::InTransit, false),
                A::OutForDelivery => (ShipmentStatus::OutForDelivery, false),
                A::DeliveryException => (ShipmentStatus::Exception, false),
                _ => (ShipmentStatus::Delivered, false),
            };
            let fulfilled = rng.range(3 * HOUR, 2 * DAY);
            if partial {
                p.fulfillments
                    .push((fulfilled, FulfillmentStatus::PartiallyFulfilled, first_part));
                p.parcels.push(walk(rng, fulfilled, last_status));
            } else if split {
                let first = walk(rng, fulfilled, ShipmentStatus::Delivered);
                let rest = first.last().map_or(fulfilled, |s| s.1) + rng.range(2 * HOUR, 3 * DAY);
                p.fulfillments
                    .push((fulfilled, FulfillmentStatus::PartiallyFulfilled, first_part));
                p.fulfillments
                    .push((rest, FulfillmentStatus::Fulfilled, items - first_part));
                p.parcels.push(first);
                p.parcels.push(walk(rng, rest, last_status));
            } else {
                p.fulfillments
                    .push((fulfilled, FulfillmentStatus::Fulfilled, items));
                p.parcels.push(walk(rng, fulfilled, last_status));
            }
            let mut last = p.last_parcel_step();
            if let A::Returned(state) = d.archetype {
                p.return_steps = return_walk(rng, state, d.rank, last);
                last = p.return_steps.last().map_or(last, |s| s.1);
            }
            // How long ago the anchor was.
            let room = (MAX_AGE - last).max(HOUR);
            let quiet = match d.archetype {
                A::PartialNoTracking => rng.range(2 * HOUR, 5 * DAY),
                A::PartialInTransit | A::InTransit => rng.range(20 * MINUTE, 20 * HOUR),
                A::LabelPrinted => rng.range(30 * MINUTE, 20 * HOUR),
                A::Delayed => rng.range(25 * HOUR, 8 * DAY),
                A::OutForDelivery => rng.range(10 * MINUTE, 8 * HOUR),
                A::DeliveryException => rng.range(HOUR, 12 * DAY),
                A::Returned(state) if state.is_terminal() => rng.range(DAY, 45 * DAY).min(room),
                A::Returned(_) => rng.range(HOUR, 6 * DAY).min(room),
                _ => rng.range(HOUR, room),
            };
            p.shift(now - quiet - last);
        }
    }
    p
}

/// A parcel's steps, relative times, from its label (just after `start`) to `last`.
fn walk(rng: &mut Rng, start: i64, last: ShipmentStatus) -> Vec<(ShipmentStatus, i64)> {
    use ShipmentStatus as S;
    let path: &[ShipmentStatus] = match last {
        S::LabelCreated => &[S::LabelCreated],
        S::InTransit => &[S::LabelCreated, S::InTransit],
        S::OutForDelivery => &[S::LabelCreated, S::InTransit, S::OutForDelivery],
        S::Delivered => &[
            S::LabelCreated,
            S::InTransit,
            S::OutForDelivery,
            S::Delivered,
        ],
        S::Exception => &[S::LabelCreated, S::InTransit, S::Exception],
    };
    let mut t = start + rng.range(0, 15 * MINUTE);
    path.iter()
        .map(|&status| {
            t += match status {
                S::LabelCreated => 0,
                S::InTransit => rng.range(2 * HOUR, 30 * HOUR),
                S::OutForDelivery => rng.range(DAY, 4 * DAY),
                S::Delivered => rng.range(HOUR, 9 * HOUR),
                S::Exception => rng.range(DAY, 3 * DAY),
            };
            (status, t)
        })
        .collect()
}

/// The states a return to `target` walks through, with relative times, starting some days after
/// `delivered`. Each step is a legal action of the state machine (SPEC §5).
fn return_walk(
    rng: &mut Rng,
    target: ReturnState,
    rank: usize,
    delivered: i64,
) -> Vec<(ReturnState, i64)> {
    use ReturnAction as Act;
    const HAPPY: &[ReturnAction] = &[
        Act::GenerateLabel,
        Act::MarkInTransit,
        Act::RequestInspection,
        Act::ApproveRefund,
        Act::Complete,
    ];
    let actions: &[ReturnAction] = match target {
        ReturnState::AwaitingLabel => &[],
        ReturnState::LabelGenerated => &HAPPY[..1],
        ReturnState::InTransit => &HAPPY[..2],
        ReturnState::Inspection => &HAPPY[..3],
        ReturnState::AwaitingRefund => &HAPPY[..4],
        ReturnState::Completed => HAPPY,
        ReturnState::Denied => match rank % 4 {
            1 => &[Act::Deny],
            2 => &[Act::GenerateLabel, Act::MarkInTransit, Act::Deny],
            _ => &[
                Act::GenerateLabel,
                Act::MarkInTransit,
                Act::RequestInspection,
                Act::Deny,
            ],
        },
        ReturnState::Cancelled => {
            if rank.is_multiple_of(2) {
                &[Act::Cancel]
            } else {
                &[Act::GenerateLabel, Act::Cancel]
            }
        }
    };
    let mut state = ReturnState::AwaitingLabel;
    let mut t = delivered + rng.range(DAY, 20 * DAY);
    let mut steps = vec![(state, t)];
    for &action in actions {
        let Ok(next) = returns::apply(state, action) else {
            break;
        };
        t += match next {
            ReturnState::AwaitingLabel => 0,
            ReturnState::LabelGenerated => rng.range(10 * MINUTE, 2 * DAY),
            ReturnState::InTransit => rng.range(6 * HOUR, 4 * DAY),
            ReturnState::Inspection => rng.range(DAY, 6 * DAY),
            ReturnState::AwaitingRefund => rng.range(2 * HOUR, 3 * DAY),
            ReturnState::Completed => rng.range(HOUR, 3 * DAY),
            ReturnState::Denied => rng.range(HOUR, 3 * DAY),
            ReturnState::Cancelled => rng.range(HOUR, 10 * DAY),
        };
        state = next;
        steps.push((state, t));
    }
    steps
}

fn denial_reason(from: ReturnState) -> &'static str {
    match from {
        ReturnState::AwaitingLabel | ReturnState::LabelGenerated => {
            "the 30-day return window has passed"
        }
        ReturnState::InTransit => "the parcel was sent back to the wrong address",
        _ => "the item shows signs of wear",
    }
}

fn support_note(rng: &mut Rng, archetype: Archetype) -> &'static str {
    use Archetype as A;
    let notes: &[&str] = match archetype {
        A::Delayed | A::InTransit | A::PartialInTransit => &[
            "Customer asks where the parcel is; tracking has not moved for days.",
            "Customer needs the order before a trip and asks for an update.",
        ],
        A::DeliveryException => &[
            "Carrier reported a delivery exception; customer asks for a reshipment.",
            "Customer asks us to correct the shipping address with the carrier.",
        ],
        A::Returned(ReturnState::Denied) => &["Customer disputes the denied return."],
        A::Returned(_) => &[
            "Customer asks when the refund will arrive.",
            "Customer wants to exchange the item instead of a refund.",
        ],
        A::CancelledVoided | A::CancelledRefunded => &[
            "Customer asks when the money will be back on their statement.",
            "Customer cancelled by mistake and wants to order again.",
        ],
        A::OnHold => &["Customer asks why the order is on hold."],
        A::Delivered | A::OutForDelivery => &[
            "Customer reports a damaged item in the parcel.",
            "Customer says the parcel never arrived although it shows as delivered.",
        ],
        _ => &[
            "Customer wants to change the shipping address.",
            "Customer asks when the order will ship.",
            "Customer wants to add an item to the order.",
        ],
    };
    rng.pick(notes)
}

fn email_for(rng: &mut Rng, first: &str, last: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let (first, last) = (clean(first), clean(last));
    let domain = rng.pick(EMAIL_DOMAINS);
    match rng.below(3) {
        0 => format!("{first}.{last}@{domain}"),
        1 => format!("{first}{last}{}@{domain}", rng.range(1, 99)),
        _ => format!("{}{last}@{domain}", &first[..1]),
    }
}

fn tracking_number(rng: &mut Rng, carrier: &str) -> String {
    match carrier {
        "UPS" => {
            const ALNUM: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
            let shipper: String = (0..6).map(|_| char::from(rng.pick(ALNUM))).collect();
            format!("1Z{shipper}03{}", rng.digits(8))
        }
        "USPS" => format!("9400{}", rng.digits(18)),
        "FedEx" => rng.digits(12),
        "DHL" => rng.digits(10),
        _ => rng.digits(16),
    }
}

/// A US price in cents as this currency's minor units, rounded the way shops price: to the whole
/// unit minus `ending` (5 → .95, 1 → .99, 0 → .00), and to the hundred yen.
fn convert(usd_cents: u64, cur: &Currency, ending: u64) -> u64 {
    let minor = usd_cents * cur.rate / 1_000;
    let whole = (minor + 50) / 100;
    if cur.decimals {
        whole.max(1) * 100 - ending
    } else {
        whole.max(1) * 100
    }
}

/// Three tenths of `total`, rounded like a price.
fn deposit(total: u64, cur: &Currency) -> u64 {
    let third = total * 3 / 10;
    if cur.decimals {
        third
    } else {
        ((third + 50) / 100).max(1) * 100
    }
}

/// Minor units as Shopify writes the amount: "129.95", or "12995" for zero-decimal currencies.
fn money(minor: u64, cur: &Currency) -> String {
    if cur.decimals {
        format!("{}.{:02}", minor / 100, minor % 100)
    } else {
        minor.to_string()
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::OrderStatus;
    use crate::tabs::{Tab, Thresholds};
    use std::collections::{BTreeSet, HashSet};

    const SHOP: &str = "acme.myshopify.com";

    /// With a fraction of a second, to show that the data set uses whole seconds.
    fn now() -> DateTime<Utc> {
        "2025-09-27T12:00:00.654321Z".parse().unwrap()
    }

    fn set(n: usize) -> Vec<OrderRecord> {
        generate(SHOP, n, DEFAULT_SEED, now())
    }

    fn in_tab(r: &OrderRecord, tab: Tab) -> bool {
        r.facts().in_tab(tab, now(), &Thresholds::default())
    }

    fn count(records: &[OrderRecord], pred: impl Fn(&OrderRecord) -> bool) -> usize {
        records.iter().filter(|r| pred(r)).count()
    }

    /// Asserts `count ≥ percent % of the set`, naming what fell short.
    fn at_least(records: &[OrderRecord], percent: usize, what: &str, n: usize) {
        assert!(
            n * 100 >= percent * records.len(),
            "{what}: {n} of {} is under {percent} %",
            records.len()
        );
    }

    /// The shares the issue asks for.
    fn assert_shares(records: &[OrderRecord]) {
        let returns = count(records, |r| r.return_.is_some());
        at_least(records, 10, "orders with returns", returns);
        let cancelled = count(records, |r| r.status() == OrderStatus::Cancelled);
        at_least(records, 5, "cancelled", cancelled);
        let pending = count(records, |r| {
            in_tab(r, Tab::TrackingPending) && !in_tab(r, Tab::Delayed)
        });
        at_least(records, 10, "tracking pending, not delayed", pending);
        let delayed = count(records, |r| in_tab(r, Tab::Delayed));
        at_least(records, 5, "delayed", delayed);
        let support = count(records, |r| in_tab(r, Tab::Support));
        at_least(records, 5, "open support", support);
        let team = |r: &OrderRecord| {
            r.assigned_to
                .as_deref()
                .is_some_and(|a| a != SUPPORT_ASSIGNEE)
        };
        at_least(records, 30, "assigned to people", count(records, team));
        let people: HashSet<&str> = records
            .iter()
            .filter(|r| team(r))
            .filter_map(|r| r.assigned_to.as_deref())
            .collect();
        assert!(people.len() >= 4, "assigned over {people:?}");
    }

    fn assert_every_value_occurs(records: &[OrderRecord]) {
        let statuses: HashSet<OrderStatus> = records.iter().map(|r| r.status()).collect();
        assert_eq!(statuses.len(), OrderStatus::ALL.len(), "{statuses:?}");
        let shipments: HashSet<ShipmentStatus> = records
            .iter()
            .flat_map(|r| r.shipments.iter().map(|s| s.status))
            .collect();
        assert_eq!(shipments.len(), ShipmentStatus::ALL.len(), "{shipments:?}");
        let states: HashSet<ReturnState> = records
            .iter()
            .filter_map(|r| r.return_.as_ref().map(|x| x.state))
            .collect();
        assert_eq!(states.len(), ReturnState::ALL.len(), "{states:?}");
        let priorities: HashSet<Priority> = records.iter().map(|r| r.priority).collect();
        assert_eq!(priorities.len(), Priority::ALL.len(), "{priorities:?}");
    }

    #[test]
    fn no_orders_give_an_empty_list() {
        assert!(set(0).is_empty());
    }

    #[test]
    fn the_same_shop_count_seed_and_now_give_the_same_orders() {
        assert_eq!(set(1000), set(1000));
    }

    #[test]
    fn a_different_seed_gives_different_orders() {
        let a = set(200);
        let b = generate(SHOP, 200, DEFAULT_SEED + 1, now());
        assert_ne!(a, b);
        assert_ne!(a[0].id, b[0].id);
    }

    #[test]
    fn two_shops_seeded_alike_share_order_ids_but_not_customers() {
        let a = set(200);
        let b = generate("other.myshopify.com", 200, DEFAULT_SEED, now());
        let ids = |s: &[OrderRecord]| s.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(&b));
        assert_ne!(
            a.iter().map(|r| &r.customer_name).collect::<Vec<_>>(),
            b.iter().map(|r| &r.customer_name).collect::<Vec<_>>()
        );
    }

    #[test]
    fn every_status_priority_shipment_status_and_return_state_occurs_in_a_thousand_orders() {
        assert_every_value_occurs(&set(1000));
    }

    #[test]
    fn the_required_shares_hold_in_a_thousand_orders() {
        let records = set(1000);
        assert_shares(&records);
        // Returns spread over all eight states, each state at least 1 %.
        for state in ReturnState::ALL {
            let n = count(&records, |r| {
                r.return_.as_ref().is_some_and(|x| x.state == *state)
            });
            at_least(&records, 1, state.as_str(), n);
        }
    }

    #[test]
    fn the_required_shares_hold_for_every_size_from_twenty_up() {
        for seed in [DEFAULT_SEED, 7, 2025] {
            for n in (20..=160).chain([333, 1001, 2500]) {
                let records = generate(SHOP, n, seed, now());
                assert_eq!(records.len(), n);
                assert_shares(&records);
            }
        }
    }

    #[test]
    fn twenty_orders_still_cover_every_status_and_return_state() {
        let records = set(20);
        assert_eq!(records.len(), 20);
        assert_every_value_occurs(&records);
        assert_shares(&records);
        assert!(records.iter().any(|r| in_tab(r, Tab::Unfulfilled)));
    }

    #[test]
    fn tiny_sets_do_not_panic_and_have_the_size_asked_for() {
        for n in 1..20 {
            let records = set(n);
            assert_eq!(records.len(), n);
            assert_eq!(records[0].order_number, "#1001");
        }
    }

    #[test]
    fn ids_are_unique_thirteen_digit_gids_and_numbers_follow_creation_order() {
        let records = set(1000);
        let ids: HashSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), records.len());
        for (k, r) in records.iter().enumerate() {
            let numeric = r.id.strip_prefix("gid://shopify/Order/").unwrap();
            assert_eq!(numeric.len(), 13, "{}", r.id);
            assert!(numeric.bytes().all(|b| b.is_ascii_digit()), "{}", r.id);
            assert_eq!(r.order_number, format!("#{}", 1001 + k));
        }
        for pair in records.windows(2) {
            assert!(pair[0].created_at <= pair[1].created_at, "oldest is #1001");
            let (a, b): (u64, u64) = (
                pair[0].id[20..].parse().unwrap(),
                pair[1].id[20..].parse().unwrap(),
            );
            assert!(a < b, "ids grow with creation");
        }
        let shipment_ids: HashSet<&str> = records
            .iter()
            .flat_map(|r| r.shipments.iter().map(|s| s.id.as_str()))
            .collect();
        assert_eq!(
            shipment_ids.len(),
            records.iter().map(|r| r.shipments.len()).sum::<usize>()
        );
        let returns: Vec<&str> = records
            .iter()
            .filter_map(|r| r.return_.as_ref().map(|x| x.id.as_str()))
            .collect();
        assert_eq!(returns.iter().collect::<HashSet<_>>().len(), returns.len());
        assert!(returns
            .iter()
            .all(|id| id.starts_with("gid://shopify/Return/")));
        let threads: Vec<&str> = records
            .iter()
            .flat_map(|r| r.support.iter().map(|s| s.thread.as_str()))
            .collect();
        assert_eq!(threads.iter().collect::<HashSet<_>>().len(), threads.len());
        assert!(threads
            .iter()
            .all(|t| t.starts_with("conv_") && t[5..].bytes().all(|b| b.is_ascii_digit())));
    }

    #[test]
    fn timelines_are_oldest_first_in_whole_seconds_and_never_after_now() {
        let records = set(1000);
        let whole = |t: DateTime<Utc>| t.timestamp_subsec_nanos() == 0;
        for r in &records {
            assert!(
                r.created_at <= r.updated_at && r.updated_at <= now(),
                "{}",
                r.id
            );
            assert!(whole(r.created_at) && whole(r.updated_at));
            assert!(!r.timeline.is_empty());
            for pair in r.timeline.windows(2) {
                assert!(pair[0].ts <= pair[1].ts, "{} is out of order", r.id);
            }
            for e in &r.timeline {
                assert!(e.ts >= r.created_at && e.ts <= now() && whole(e.ts));
                assert!(!e.details.is_empty() && e.details.ends_with('.'), "{e:?}");
            }
            assert_eq!(r.timeline.last().unwrap().ts, r.updated_at, "{}", r.id);
            for s in &r.shipments {
                assert!(whole(s.last_update_at) && s.last_update_at <= r.updated_at);
            }
        }
        let long = count(&records, |r| r.timeline.len() > 10);
        assert!(
            long >= 50,
            "only {long} timelines are longer than ten entries"
        );
    }

    #[test]
    fn timeline_events_use_the_contract_vocabulary() {
        let records = set(1000);
        let shipment_events: HashSet<String> = ShipmentStatus::ALL
            .iter()
            .map(|s| format!("shipment.{s}"))
            .collect();
        let return_events: HashSet<String> = ReturnState::ALL
            .iter()
            .map(|s| format!("return.{s}"))
            .collect();
        let mut seen = BTreeSet::new();
        for r in &records {
            for e in &r.timeline {
                let known = [
                    "payment.pending",
                    "payment.authorized",
                    "payment.captured",
                    "payment.voided",
                    "payment.refunded",
                    "inventory.hold",
                    "inventory.release",
                    "fulfillment.on_hold",
                    "fulfillment.partially_fulfilled",
                    "fulfillment.fulfilled",
                    "support.escalated",
                    "assignment.changed",
                ]
                .contains(&e.event.as_str())
                    || shipment_events.contains(&e.event)
                    || return_events.contains(&e.event);
                assert!(known, "unexpected event {e:?}");
                seen.insert(e.event.clone());
            }
        }
        for event in [
            "payment.authorized",
            "payment.captured",
            "payment.voided",
            "payment.refunded",
            "inventory.hold",
            "inventory.release",
            "fulfillment.on_hold",
            "fulfillment.partially_fulfilled",
            "fulfillment.fulfilled",
            "support.escalated",
            "assignment.changed",
        ] {
            assert!(seen.contains(event), "{event} never occurs");
        }
        assert!(shipment_events.is_subset(&seen.iter().cloned().collect()));
        assert!(return_events.is_subset(&seen.iter().cloned().collect()));
        let captured = records
            .iter()
            .flat_map(|r| &r.timeline)
            .find(|e| e.event == "payment.captured" && e.details.starts_with("Paid "))
            .unwrap();
        assert!(captured.details.contains(' '), "{captured:?}");
    }

    #[test]
    fn created_at_spreads_over_ninety_days_with_a_few_in_the_last_two_hours() {
        let records = set(1000);
        let age = |r: &OrderRecord| now() - r.created_at;
        assert!(records.iter().all(|r| age(r) <= chrono::Duration::days(90)));
        let fresh: Vec<&OrderRecord> = records
            .iter()
            .filter(|r| age(r) < chrono::Duration::hours(2))
            .collect();
        assert!(
            !fresh.is_empty() && fresh.len() <= 50,
            "{} fresh",
            fresh.len()
        );
        assert!(fresh.iter().all(|r| !in_tab(r, Tab::TrackingPending)));
        for month in 0..3 {
            let lo = chrono::Duration::days(30 * month);
            let hi = chrono::Duration::days(30 * (month + 1));
            let n = count(&records, |r| age(r) >= lo && age(r) < hi);
            assert!(n >= 100, "only {n} orders created {month} months ago");
        }
    }

    #[test]
    fn prices_are_decimal_strings_and_yen_has_no_decimals() {
        let records = set(1000);
        let currencies: HashSet<&str> = records.iter().map(|r| r.currency.as_str()).collect();
        for code in ["USD", "EUR", "GBP", "CAD", "AUD", "JPY"] {
            assert!(currencies.contains(code), "{code} missing");
        }
        for r in &records {
            let (whole, cents) = match r.total_price.split_once('.') {
                Some((w, c)) => (w, Some(c)),
                None => (r.total_price.as_str(), None),
            };
            assert!(!whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()));
            if r.currency == "JPY" {
                assert_eq!(cents, None, "{}", r.total_price);
            } else {
                let cents = cents.unwrap_or_else(|| panic!("{} has no cents", r.total_price));
                assert!(cents.len() == 2 && cents.bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }

    #[test]
    fn financial_status_agrees_with_cancellation_and_refunds() {
        let records = set(1000);
        let mut seen = HashSet::new();
        for r in &records {
            let f = r.financial_status;
            seen.insert(f);
            let completed = r
                .return_
                .as_ref()
                .is_some_and(|x| x.state == ReturnState::Completed);
            if r.status() == OrderStatus::Cancelled {
                assert!(matches!(
                    f,
                    FinancialStatus::Voided | FinancialStatus::Refunded
                ));
            } else if completed {
                assert!(matches!(
                    f,
                    FinancialStatus::Refunded | FinancialStatus::PartiallyRefunded
                ));
            } else {
                assert!(!matches!(
                    f,
                    FinancialStatus::Voided
                        | FinancialStatus::Refunded
                        | FinancialStatus::PartiallyRefunded
                ));
            }
            if r.fulfillment_status == FulfillmentStatus::Fulfilled && !completed {
                assert_eq!(f, FinancialStatus::Paid, "{}", r.id);
            }
        }
        assert_eq!(seen.len(), FinancialStatus::ALL.len(), "{seen:?}");
        let paid = count(&records, |r| r.financial_status == FinancialStatus::Paid);
        assert!(paid * 2 > records.len(), "mostly paid");
    }

    #[test]
    fn shipments_agree_with_fulfillment() {
        let records = set(1000);
        for r in &records {
            match r.status() {
                OrderStatus::Unfulfilled | OrderStatus::OnHold | OrderStatus::Cancelled => {
                    assert!(r.shipments.is_empty(), "{}", r.id)
                }
                OrderStatus::PartiallyFulfilled => assert!(!r.shipments.is_empty()),
                OrderStatus::Fulfilled => {
                    assert!(!r.shipments.is_empty());
                    for s in &r.shipments {
                        let t = s.tracking.as_ref().expect("fulfilled parcels are tracked");
                        assert!(CARRIERS.contains(&t.carrier.as_str()) && !t.number.is_empty());
                    }
                }
            }
            for s in &r.shipments {
                assert!(s.id.starts_with("gid://shopify/Fulfillment/"));
                assert!(s.last_update_at > r.created_at);
                if s.status != ShipmentStatus::LabelCreated {
                    assert!(s.tracking.is_some(), "{} moves without tracking", r.id);
                }
                let last_event = r
                    .timeline
                    .iter()
                    .filter(|e| e.event.starts_with("shipment."))
                    .any(|e| {
                        e.ts == s.last_update_at && e.event == format!("shipment.{}", s.status)
                    });
                assert!(last_event, "{}: no entry for its {} parcel", r.id, s.status);
            }
        }
        let carriers: HashSet<&str> = records
            .iter()
            .flat_map(|r| r.shipments.iter().filter_map(|s| s.tracking.as_ref()))
            .map(|t| t.carrier.as_str())
            .collect();
        assert_eq!(carriers.len(), CARRIERS.len(), "{carriers:?}");
        assert!(records
            .iter()
            .flat_map(|r| &r.shipments)
            .any(|s| s.status == ShipmentStatus::LabelCreated && s.tracking.is_none()));
        assert!(
            count(&records, |r| r.shipments.len() == 2) > 0,
            "some split parcels"
        );
    }

    #[test]
    fn returns_follow_a_delivered_shipment_and_a_legal_walk() {
        let records = set(1000);
        for r in records.iter().filter(|r| r.return_.is_some()) {
            let ret = r.return_.as_ref().unwrap();
            assert_eq!(r.status(), OrderStatus::Fulfilled);
            let delivered = r
                .shipments
                .iter()
                .filter(|s| s.status == ShipmentStatus::Delivered)
                .map(|s| s.last_update_at)
                .max()
                .expect("a delivered parcel");
            assert!(ret.created_at > delivered && ret.updated_at >= ret.created_at);
            let walk: Vec<ReturnState> = r
                .timeline
                .iter()
                .filter_map(|e| e.event.strip_prefix("return."))
                .map(|s| s.parse().unwrap())
                .collect();
            assert_eq!(walk[0], ReturnState::AwaitingLabel);
            assert_eq!(*walk.last().unwrap(), ret.state);
            for pair in walk.windows(2) {
                assert!(
                    returns::legal_actions(pair[0])
                        .any(|a| returns::apply(pair[0], a) == Ok(pair[1])),
                    "{}: {} → {} is not a move",
                    r.id,
                    pair[0],
                    pair[1]
                );
            }
        }
        let refunded: HashSet<FinancialStatus> = records
            .iter()
            .filter(|r| {
                r.return_
                    .as_ref()
                    .is_some_and(|x| x.state == ReturnState::Completed)
            })
            .map(|r| r.financial_status)
            .collect();
        assert_eq!(refunded.len(), 2, "full and partial refunds: {refunded:?}");
    }

    #[test]
    fn open_support_threads_belong_to_the_assistant() {
        let records = set(1000);
        for r in &records {
            if r.support_thread().is_some() {
                assert_eq!(r.assigned_to.as_deref(), Some(SUPPORT_ASSIGNEE), "{}", r.id);
                let last = r
                    .timeline
                    .iter()
                    .rev()
                    .find(|e| e.event == "assignment.changed")
                    .unwrap();
                assert!(last.details.ends_with("to assistant."), "{last:?}");
            }
            for s in &r.support {
                assert!(
                    !s.note.is_empty() && s.created_at >= r.created_at && s.created_at <= now()
                );
            }
        }
        assert!(
            count(&records, |r| r.support.iter().any(|s| !s.open)) > 0,
            "some closed"
        );
    }

    #[test]
    fn priority_tags_agree_with_priority_and_tags_are_varied() {
        let records = set(1000);
        for r in &records {
            let tagged: Vec<&String> = r
                .tags
                .iter()
                .filter(|t| t.starts_with("priority:"))
                .collect();
            assert!(tagged.len() <= 1);
            if let Some(tag) = tagged.first() {
                assert_eq!(**tag, format!("priority:{}", r.priority));
            }
            if matches!(r.priority, Priority::Low | Priority::Urgent) {
                assert_eq!(
                    tagged.len(),
                    1,
                    "{} is {} without its tag",
                    r.id,
                    r.priority
                );
            }
        }
        let tags: HashSet<&str> = records
            .iter()
            .flat_map(|r| r.tags.iter().map(String::as_str))
            .collect();
        for tag in [
            "vip",
            "wholesale",
            "gift",
            "priority:high",
            "priority:urgent",
        ] {
            assert!(tags.contains(tag), "{tag} missing");
        }
    }

    #[test]
    fn most_customers_have_an_email_and_a_name() {
        let records = set(1000);
        let without = count(&records, |r| r.customer_email.is_none());
        assert!(
            without > 0 && without * 10 < records.len(),
            "{without} without e-mail"
        );
        for r in &records {
            assert!(r.customer_name.contains(' '));
            if let Some(email) = &r.customer_email {
                assert!(
                    email.contains('@') && email.is_ascii() && !email.contains('\''),
                    "{email}"
                );
            }
        }
    }

    #[test]
    fn the_records_serve_as_orders_with_their_alerts() {
        let records = set(300);
        let th = Thresholds::default();
        for r in &records {
            let order = r.to_order(now(), &th);
            assert_eq!(order.alerts, r.facts().alerts(now(), &th));
            assert!(order.timeline.len() <= crate::domain::TIMELINE_LIMIT);
            assert_eq!(order.support_thread.as_deref(), r.support_thread());
        }
    }

    /// Run with `cargo test --release -p orders-core -- --ignored`.
    #[test]
    #[ignore = "timing; meaningful in release mode only"]
    fn three_hundred_thousand_orders_generate_within_seconds() {
        let started = std::time::Instant::now();
        let records = set(300_000);
        let took = started.elapsed();
        assert_eq!(records.len(), 300_000);
        assert_shares(&records);
        assert!(took < std::time::Duration::from_secs(5), "took {took:?}");
    }
}
