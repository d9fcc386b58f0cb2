//! The writes and the proof that none acknowledged was lost.
//!
//! Policy: each write (an assignment, a fulfilment or a support escalation of one order) carries an
//! `Idempotency-Key` of its own; after a 5xx, a 429 or no answer it is sent again with the same key
//! (as a careful client does) for up to a minute. One order has at most one write in flight, so
//! the last acknowledged write of an order is the one its state must show. A write whose outcome
//! stays unknown (no 2xx and no 4xx in that minute) retires its order: its effect is then allowed
//! but not required, and the order is written no more.
//!
//! Afterwards every acknowledged write is checked twice: its effect is what `GET
//! /sync/orders/{id}` shows (the last acknowledged assignee, support thread and fulfilment of each
//! order), and sending it again with its key is answered as a replay (`Idempotent-Replayed: true`):
//! the key is stored in the write's own transaction, so a write whose key is not there was not
//! committed. A write that fails either check is lost.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;
use serde_json::{json, Value};

use crate::loads::send;
use crate::{mix, Ctx};

/// How long a write is retried with its key before its outcome is called unknown.
const PATIENCE: Duration = Duration::from_secs(60);
/// Requests of the check in flight at once.
const CHECK_CONCURRENCY: usize = 8;
/// Attempts at each request of the check.
const CHECK_ATTEMPTS: u32 = 5;

/// One write: what it does to its order.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Assign to someone, or unassign (`None`).
    Assign(Option<String>),
    /// Fulfil with a tracking number.
    Fulfill(String),
    /// Escalate to support: the thread and the note.
    Support(String, String),
}

impl Op {
    /// The i-th write's operation: seven in ten an assignment (one in seven of them an unassign),
    /// the rest fulfilments and escalations.
    pub fn nth(i: u64) -> Op {
        let r = mix(i ^ 0x3817E);
        match r % 20 {
            0..=13 if r.is_multiple_of(10) => Op::Assign(None),
            0..=13 => Op::Assign(Some(format!("soak-{i}"))),
            14..=16 => Op::Fulfill(format!("1ZSOAK{i}")),
            _ => Op::Support(format!("soak-thread-{i}"), format!("soak note {i}")),
        }
    }

    /// The endpoint and the body of this write on `order`.
    pub fn request(&self, shop: &str, order: &str) -> (&'static str, Value) {
        match self {
            Op::Assign(who) => (
                "/sync/orders/assign",
                json!({ "shop_domain": shop, "orderIds": [order], "assignee": who }),
            ),
            Op::Fulfill(number) => (
                "/sync/orders/fulfill",
                json!({ "shop_domain": shop, "orderIds": [order],
                        "tracking": { "number": number, "carrier": "UPS" } }),
            ),
            Op::Support(thread, note) => (
                "/sync/orders/support",
                json!({ "shop_domain": shop, "orderId": order, "conversationId": thread,
                        "note": note }),
            ),
        }
    }
}

/// What a write came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Answered 2xx.
    Acked,
    /// Answered 4xx: not applied.
    Refused,
    /// Neither in the time allowed: it may or may not have applied.
    Unknown,
}

/// An acknowledged write, kept to be checked.
#[derive(Debug, Clone)]
pub struct Acked {
    pub order: usize,
    pub path: &'static str,
    pub key: String,
    pub body: Value,
}

/// What an order must show, and what it may.
#[derive(Debug, Default, Clone)]
pub struct Expect {
    busy: bool,
    retired: bool,
    /// The last acknowledged assignee (`Some(None)`: unassigned) and that write.
    assignee: Option<(Option<String>, usize)>,
    /// The last acknowledged support thread and that write.
    thread: Option<(String, usize)>,
    /// The first acknowledged fulfilment.
    fulfilled: Option<usize>,
    /// Assignees and threads of writes whose outcome is unknown.
    maybe_assignees: Vec<Option<String>>,
    maybe_threads: Vec<String>,
}

impl Expect {
    fn apply(&mut self, op: &Op, write: usize) {
        match op {
            Op::Assign(who) => self.assignee = Some((who.clone(), write)),
            Op::Fulfill(_) => {
                self.fulfilled.get_or_insert(write);
            }
            Op::Support(thread, _) => {
                self.assignee = Some((Some("assistant".into()), write));
                self.thread = Some((thread.clone(), write));
            }
        }
    }

    fn allow(&mut self, op: &Op) {
        match op {
            Op::Assign(who) => self.maybe_assignees.push(who.clone()),
            Op::Fulfill(_) => {}
            Op::Support(thread, _) => {
                self.maybe_assignees.push(Some("assistant".into()));
                self.maybe_threads.push(thread.clone());
            }
        }
    }

    /// The acknowledged writes `order` (as `GET` answered it) does not show.
    pub fn missing(&self, order: &Value) -> Vec<usize> {
        let mut lost = Vec::new();
        if let Some((who, write)) = &self.assignee {
            let shown = order["assignedTo"].as_str().map(str::to_owned);
            if shown != *who && !self.maybe_assignees.contains(&shown) {
                lost.push(*write);
            }
        }
        if let Some((thread, write)) = &self.thread {
            let shown = order["supportThread"].as_str().unwrap_or_default();
            if shown != thread && !self.maybe_threads.iter().any(|t| t == shown) {
                lost.push(*write);
            }
        }
        if let Some(write) = self.fulfilled {
            if order["fulfillmentStatus"] != "fulfilled" {
                lost.push(write);
            }
        }
        lost
    }

    fn touched(&self) -> bool {
        self.assignee.is_some() || self.thread.is_some() || self.fulfilled.is_some()
    }
}

#[derive(Default)]
struct State {
    orders: Vec<Expect>,
    acked: Vec<Acked>,
    refused: u64,
    unknown: u64,
    skipped: u64,
}

/// The writable orders, what each must show, and every acknowledged write.
pub struct Writes {
    ids: Vec<String>,
    state: Mutex<State>,
}

/// The check's result.
#[derive(Debug, Default, Serialize)]
pub struct Check {
    pub sent: u64,
    pub acknowledged: u64,
    pub refused: u64,
    pub unknown_outcome: u64,
    pub skipped_all_orders_busy: u64,
    pub checked: u64,
    pub lost: u64,
    pub unverified: u64,
    pub lost_examples: Vec<String>,
}

impl Writes {
    pub fn new(ids: Vec<String>) -> Self {
        let orders = vec![Expect::default(); ids.len()];
        Writes {
            ids,
            state: Mutex::new(State {
                orders,
                ..State::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An order with no write in flight and not retired, near a random one; marks it busy.
    fn take(&self, i: u64) -> Option<usize> {
        let mut state = self.lock();
        let n = state.orders.len();
        let start = (mix(i ^ 0x7A4E) as usize) % n.max(1);
        let found = (0..n)
            .map(|k| (start + k) % n)
            .find(|&o| !state.orders[o].busy && !state.orders[o].retired);
        match found {
            Some(o) => state.orders[o].busy = true,
            None => state.skipped += 1,
        }
        found
    }

    /// Records what the write `op` on `order` came to.
    pub fn finish(&self, order: usize, op: &Op, outcome: Outcome, acked: Acked) {
        let mut state = self.lock();
        match outcome {
            Outcome::Acked => {
                let write = state.acked.len();
                state.acked.push(acked);
                state.orders[order].apply(op, write);
            }
            Outcome::Refused => state.refused += 1,
            Outcome::Unknown => {
                state.unknown += 1;
                state.orders[order].allow(op);
                state.orders[order].retired = true;
            }
        }
        state.orders[order].busy = false;
    }
}

/// Sends one write, retrying with its key after a 5xx, a 429 or no answer.
async fn send_write(ctx: &Ctx, path: &str, key: &str, body: &Value) -> Outcome {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let request = ctx
            .api
            .post(format!("{}{path}", ctx.base))
            .bearer_auth(&ctx.token)
            .header("Idempotency-Key", key)
            .json(body);
        let wait = match send(ctx, "write", request).await {
            Some(a) if a.is_success() => return Outcome::Acked,
            Some(a) if a.status < 500 && a.status != 429 => return Outcome::Refused,
            Some(a) => Duration::from_secs(a.retry_after.unwrap_or(1).clamp(1, 5)),
            None => Duration::from_secs(1),
        };
        if Instant::now() + wait > deadline {
            return Outcome::Unknown;
        }
        ctx.tally.event("write", "sent again with the same key");
        tokio::time::sleep(wait).await;
    }
}

/// The i-th write.
pub async fn write(ctx: Arc<Ctx>, writes: Arc<Writes>, i: u64) {
    let Some(order) = writes.take(i) else {
        return;
    };
    let op = Op::nth(i);
    let (path, body) = op.request(&ctx.shop, &writes.ids[order]);
    let key = format!("soak-{}-{i}", ctx.run);
    let outcome = send_write(&ctx, path, &key, &body).await;
    let acked = Acked {
        order,
        path,
        key,
        body,
    };
    writes.finish(order, &op, outcome, acked);
}

/// One order as `GET` shows it, with a few attempts.
async fn fetch_order(ctx: &Ctx, id: &str) -> Option<Value> {
    for _ in 0..CHECK_ATTEMPTS {
        let url = format!(
            "{}/sync/orders/{}?shop_domain={}",
            ctx.base,
            percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC),
            ctx.shop
        );
        match send(ctx, "verify", ctx.api.get(url).bearer_auth(&ctx.token)).await {
            Some(a) if a.status == 200 => return serde_json::from_slice(&a.body).ok(),
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    None
}

/// Sends an acknowledged write again with its key: `Some(true)` when answered as a replay,
/// `Some(false)` when it applied now (it had been lost), `None` when it could not be told.
async fn replayed(ctx: &Ctx, write: &Acked) -> Option<bool> {
    for _ in 0..CHECK_ATTEMPTS {
        let request = ctx
            .api
            .post(format!("{}{}", ctx.base, write.path))
            .bearer_auth(&ctx.token)
            .header("Idempotency-Key", &write.key)
            .json(&write.body);
        match send(ctx, "verify", request).await {
            Some(a) if a.is_success() => return Some(a.replayed),
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    }
    None
}

/// Checks every acknowledged write: first each touched order's state, then each write's key.
pub async fn check(ctx: &Ctx, writes: &Writes, sent: u64) -> Check {
    let (orders, acked, refused, unknown, skipped) = {
        let state = writes.lock();
        (
            state.orders.clone(),
            state.acked.clone(),
            state.refused,
            state.unknown,
            state.skipped,
        )
    };
    let mut lost = BTreeSet::new();
    let mut unverified = BTreeSet::new();

    let touched: Vec<usize> = (0..orders.len()).filter(|&o| orders[o].touched()).collect();
    let states: Vec<(usize, Option<Value>)> = futures::stream::iter(touched)
        .map(|o| async move { (o, fetch_order(ctx, &writes.ids[o]).await) })
        .buffer_unordered(CHECK_CONCURRENCY)
        .collect()
        .await;
    for (o, shown) in states {
        match shown {
            Some(order) => lost.extend(orders[o].missing(&order)),
            None => unverified.extend((0..acked.len()).filter(|&w| acked[w].order == o)),
        }
    }

    // Replays after the state check: a lost write sent again applies now.
    let replays: Vec<(usize, Option<bool>)> = futures::stream::iter(0..acked.len())
        .map(|w| {
            let write = &acked[w];
            async move { (w, replayed(ctx, write).await) }
        })
        .buffer_unordered(CHECK_CONCURRENCY)
        .collect()
        .await;
    for (w, replay) in replays {
        match replay {
            Some(true) => {}
            Some(false) => {
                lost.insert(w);
            }
            None => {
                unverified.insert(w);
            }
        }
    }
    unverified.retain(|w| !lost.contains(w));

    Check {
        sent,
        acknowledged: acked.len() as u64,
        refused,
        unknown_outcome: unknown,
        skipped_all_orders_busy: skipped,
        checked: (acked.len() - unverified.len()) as u64,
        lost: lost.len() as u64,
        unverified: unverified.len() as u64,
        lost_examples: lost
            .iter()
            .take(5)
            .map(|&w| format!("{} {} (key {})", acked[w].path, acked[w].body, acked[w].key))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(assigned: Option<&str>, thread: Option<&str>, fulfillment: &str) -> Value {
        json!({ "assignedTo": assigned, "supportThread": thread, "fulfillmentStatus": fulfillment })
    }

    #[test]
    fn the_last_acknowledged_write_of_an_order_is_the_one_it_must_show() {
        let mut e = Expect::default();
        e.apply(&Op::Assign(Some("ann".into())), 0);
        e.apply(&Op::Support("t1".into(), "n".into()), 1);
        e.apply(&Op::Assign(Some("bob".into())), 2);
        assert!(e
            .missing(&order(Some("bob"), Some("t1"), "unfulfilled"))
            .is_empty());
        // The assignment to bob lost: ann's, or the assistant, shows instead.
        assert_eq!(
            e.missing(&order(Some("assistant"), Some("t1"), "unfulfilled")),
            vec![2]
        );
        // The escalation lost.
        assert_eq!(e.missing(&order(Some("bob"), None, "unfulfilled")), vec![1]);
    }

    #[test]
    fn an_unassign_must_show_as_no_assignee() {
        let mut e = Expect::default();
        e.apply(&Op::Assign(Some("ann".into())), 0);
        e.apply(&Op::Assign(None), 1);
        assert!(e.missing(&order(None, None, "unfulfilled")).is_empty());
        assert_eq!(e.missing(&order(Some("ann"), None, "unfulfilled")), vec![1]);
    }

    #[test]
    fn an_acknowledged_fulfilment_must_show_as_fulfilled() {
        let mut e = Expect::default();
        e.apply(&Op::Fulfill("1Z".into()), 4);
        assert!(e.missing(&order(None, None, "fulfilled")).is_empty());
        assert_eq!(e.missing(&order(None, None, "unfulfilled")), vec![4]);
    }

    #[test]
    fn a_write_of_unknown_outcome_is_allowed_but_not_required() {
        let mut e = Expect::default();
        e.apply(&Op::Assign(Some("ann".into())), 0);
        e.allow(&Op::Assign(Some("bob".into())));
        assert!(e
            .missing(&order(Some("ann"), None, "unfulfilled"))
            .is_empty());
        assert!(e
            .missing(&order(Some("bob"), None, "unfulfilled"))
            .is_empty());
        assert_eq!(e.missing(&order(Some("cy"), None, "unfulfilled")), vec![0]);
    }

    #[test]
    fn busy_and_retired_orders_are_not_written() {
        let writes = Writes::new(vec!["a".into(), "b".into()]);
        let first = writes.take(1).expect("a free order");
        let second = writes.take(2).expect("the other order");
        assert_ne!(first, second);
        assert_eq!(writes.take(3), None);
        let acked = Acked {
            order: first,
            path: "/sync/orders/assign",
            key: "k".into(),
            body: Value::Null,
        };
        writes.finish(first, &Op::Assign(None), Outcome::Unknown, acked);
        assert_eq!(writes.take(4), None, "a retired order is not written again");
    }
}
