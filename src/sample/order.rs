//! One order: what its deal says of it, the plan of its times, the story its timeline tells, and
//! [`build`], which writes the record.

use super::layers::{Archetype, Currency, People, TagGroup};
use super::parts::{
    convert, denial_reason, deposit, email_for, money, plan, support_note, tracking_number,
};
use super::rng::{at, soon, Rng};
use super::words::{
    CANCEL_REASONS, CATALOG, DELIVERY_PLACES, EXCEPTION_REASONS, FIRST_NAMES, HOLD_REASONS,
    LAST_NAMES, OFFLINE_METHODS, PAYMENT_METHODS, RETURN_REASONS, WAREHOUSES,
};
use super::{DAY, MINUTE, TEAM};
use crate::domain::{
    FinancialStatus, FulfillmentStatus, Priority, ReturnState, Shipment, ShipmentStatus,
    TimelineEntry, Tracking,
};
use crate::envelope::SUPPORT_ASSIGNEE;
use crate::record::{OrderRecord, ReturnRecord, SupportRecord};
use crate::text::plural;

pub(super) struct IdBases {
    pub(super) fulfillment: u64,
    pub(super) return_: u64,
    pub(super) conversation: u64,
}

pub(super) struct Deal {
    pub(super) archetype: Archetype,
    pub(super) rank: usize,
    pub(super) people: People,
    pub(super) people_rank: usize,
    pub(super) priority: Priority,
    pub(super) currency: &'static Currency,
    pub(super) group: TagGroup,
    pub(super) has_email: bool,
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
pub(super) struct Plan {
    pub(super) created: i64,
    /// When goods left, the fulfillment status after it, and how many items.
    pub(super) fulfillments: Vec<(i64, FulfillmentStatus, u64)>,
    /// Each parcel's steps.
    pub(super) parcels: Vec<Vec<(ShipmentStatus, i64)>>,
    pub(super) on_hold: Option<i64>,
    pub(super) cancelled: Option<i64>,
    pub(super) return_steps: Vec<(ReturnState, i64)>,
}

impl Plan {
    pub(super) fn shift(&mut self, by: i64) {
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

    pub(super) fn last_parcel_step(&self) -> i64 {
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

pub(super) fn build(i: u64, d: &Deal, rng: &mut Rng, now: i64, bases: &IdBases) -> OrderRecord {
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
        format!(
            "Reserved {} at {warehouse}.",
            plural(items, "item", "items")
        ),
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
            _ => format!("Fulfilled {} from {warehouse}.", plural(n, "item", "items")),
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
                plural(items, "item", "items")
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
                    plural(returned, "item", "items")
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
