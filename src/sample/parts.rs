//! The parts [`build`](super::order::build) writes an order with: when things happen (the plan,
//! the parcel and return walks), and the words and numbers of support notes, e-mails, tracking
//! numbers, prices and money.

use super::layers::{Archetype, Currency};
use super::order::{Deal, Plan};
use super::rng::{skewed, Rng};
use super::words::EMAIL_DOMAINS;
use super::{DAY, HOUR, MAX_AGE, MINUTE};
use crate::domain::{FulfillmentStatus, ReturnState, ShipmentStatus};
use crate::returns::{self, ReturnAction};

/// When things happen to an order of this deal: its shape decided first, then placed so that its
/// anchor (the last parcel scan, the last return step…) lands where the archetype needs it.
pub(super) fn plan(
    rng: &mut Rng,
    d: &Deal,
    split: bool,
    (first_part, items): (u64, u64),
    now: i64,
) -> Plan {
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

pub(super) fn denial_reason(from: ReturnState) -> &'static str {
    match from {
        ReturnState::AwaitingLabel | ReturnState::LabelGenerated => {
            "the 30-day return window has passed"
        }
        ReturnState::InTransit => "the parcel was sent back to the wrong address",
        _ => "the item shows signs of wear",
    }
}

pub(super) fn support_note(rng: &mut Rng, archetype: Archetype) -> &'static str {
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

pub(super) fn email_for(rng: &mut Rng, first: &str, last: &str) -> String {
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

pub(super) fn tracking_number(rng: &mut Rng, carrier: &str) -> String {
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
pub(super) fn convert(usd_cents: u64, cur: &Currency, ending: u64) -> u64 {
    let minor = usd_cents * cur.rate / 1_000;
    let whole = (minor + 50) / 100;
    if cur.decimals {
        whole.max(1) * 100 - ending
    } else {
        whole.max(1) * 100
    }
}

/// Three tenths of `total`, rounded like a price.
pub(super) fn deposit(total: u64, cur: &Currency) -> u64 {
    let third = total * 3 / 10;
    if cur.decimals {
        third
    } else {
        ((third + 50) / 100).max(1) * 100
    }
}

/// Minor units as Shopify writes the amount: "129.95", or "12995" for zero-decimal currencies.
pub(super) fn money(minor: u64, cur: &Currency) -> String {
    if cur.decimals {
        format!("{}.{:02}", minor / 100, minor % 100)
    } else {
        minor.to_string()
    }
}
