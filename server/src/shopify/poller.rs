//! The reconciliation poller (SPEC §7): every `SYNC_POLL_INTERVAL`, each shop with an access token
//! is read through the Admin GraphQL API ([`super::graphql`]) for the orders updated since its last
//! tick, and what the webhooks missed is stored and reported. Here is what a round and a tick do;
//! the loop that runs the rounds is the poller worker, `crate::workers::poller`.
//!
//! # Policy
//!
//! - **The window.** A tick asks for orders with `updated_at` after the start of the shop's last
//!   whole tick minus [`OVERLAP`] (clocks differ; an order counted twice changes nothing), or, on
//!   a shop's very first tick, after [`FIRST_LOOK_BACK`] ago: older history is `orders-sync
//!   backfill`'s job. Only a tick that read its window whole moves `last_polled_at` and the
//!   `shopifyCursor`; any other tick leaves them, so the next one reads the same window again.
//! - **Throttling** is never a failure: a tick that stays throttled, or that Shopify asks to wait
//!   longer than [`MAX_THROTTLE_WAIT`], ends short and the next one tries again (the waits
//!   themselves are [`super::graphql`]'s).
//! - **Data gaps** (SPEC §6). A tick that fails (Shopify unreachable or silent, a non-2xx answer,
//!   a redirect, a GraphQL error, a page or an order that does not read, an order the database
//!   refuses) raises the shop's `data_gap` alert with what failed. A tick that stores orders the
//!   webhooks never delivered (new to Sync, though Shopify changed them more than [`GRACE`] before
//!   the tick began, so a webhook still in flight is no gap) raises it naming them; not on a shop's
//!   first tick, which has nothing to compare with. A clean tick clears it. With the database away
//!   nothing can be raised, and the tick ends short.
//! - **One poller per shop.** Processes on one database share the work through a lease on the
//!   shop row ([`Ingestion::claim_poll`]), renewed before each page and released when the tick
//!   ends.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use orders_core::alerts::{Refresh, RefreshReason};
use orders_core::record::to_micros;
use orders_core::shopify::payload::PayloadError;
use orders_core::shopify::{Ingest, ShopifyOrder};
use orders_core::text::plural;

pub use super::graphql::{FetchError, Pages, ShopifyClient, API_VERSION, MAX_THROTTLE_WAIT};
use crate::service::{Ingestion, Scope, Service};
use crate::store::postgres::shopify::{PollClaim, PollEnd, PollLease};
use crate::store::{IngestOutcome, StoreError};

/// How far back a shop's first tick looks (the `backfill` command reads the whole history).
pub const FIRST_LOOK_BACK: chrono::Duration = chrono::Duration::hours(24);

/// How far before the last tick's start the next one reads again, for clock skew between Sync and
/// Shopify and for changes committed while the last tick ran.
pub const OVERLAP: chrono::Duration = chrono::Duration::minutes(2);

/// An order Shopify changed this long before a tick began should have come by webhook: one that
/// the tick finds new is a gap. A younger one may have its webhook still on the way.
pub const GRACE: chrono::Duration = chrono::Duration::minutes(5);

/// Webhook ids are kept this long, then pruned by the tick (Shopify asks for 24 h at least).
pub const WEBHOOK_ID_RETENTION: chrono::Duration = chrono::Duration::days(7);

/// How long a tick holds a shop before another process may take it; renewed before each page.
pub const POLL_LEASE: chrono::Duration = chrono::Duration::minutes(10);

/// How many orders a data-gap message names.
const NAMED_IN_MESSAGE: usize = 5;

/// What a run of ingesting orders did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// Orders new to Sync.
    pub created: usize,
    /// Known orders that changed.
    pub updated: usize,
    /// Orders already up to date.
    pub unchanged: usize,
    /// Orders that did not read or could not be stored.
    pub failed: usize,
    /// The first few failures, each in a sentence.
    pub failures: Vec<String>,
    /// Orders new to Sync though Shopify changed them before the grace period: no webhook
    /// brought them.
    pub missed: usize,
    /// The names of the first few of them.
    pub missed_names: Vec<String>,
}

impl std::fmt::Display for Tally {
    /// `created 3, updated 1, unchanged 40, failed 0`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "created {}, updated {}, unchanged {}, failed {}",
            self.created, self.updated, self.unchanged, self.failed
        )
    }
}

impl Tally {
    /// Orders read.
    pub fn orders(&self) -> usize {
        self.created + self.updated + self.unchanged + self.failed
    }

    /// Whether the shop's data changed.
    pub fn changed(&self) -> bool {
        self.created + self.updated > 0
    }

    fn fail(&mut self, what: String) {
        self.failed += 1;
        if self.failures.len() < NAMED_IN_MESSAGE {
            self.failures.push(what);
        }
    }
}

/// Stores the orders of one page through the same path as webhooks. An order that does not read,
/// or that the database refuses, is logged and counted, and the rest still apply; only the database
/// being away (or the shop vanishing) stops the page. Orders new to Sync that Shopify changed
/// before `missed_before` are counted as missed by the webhooks.
pub async fn ingest_page(
    ingestion: &Ingestion,
    shop: &str,
    orders: Vec<Result<ShopifyOrder, PayloadError>>,
    now: DateTime<Utc>,
    missed_before: Option<DateTime<Utc>>,
    tally: &mut Tally,
) -> Result<(), StoreError> {
    for order in orders {
        let order = match order {
            Ok(order) => order,
            Err(e) => {
                tracing::warn!(shop = %shop, error = %e, "an order from Shopify does not read; skipped");
                tally.fail(format!("an order does not read ({e})"));
                continue;
            }
        };
        let name = order.order_number.clone();
        let updated_at = order.updated_at;
        match ingestion
            .ingest(shop, None, &Ingest::Order(order), now)
            .await
        {
            Ok(IngestOutcome::Created { .. }) => {
                tally.created += 1;
                if missed_before.is_some_and(|before| updated_at < before) {
                    tally.missed += 1;
                    if tally.missed_names.len() < NAMED_IN_MESSAGE {
                        tally.missed_names.push(name);
                    }
                }
            }
            Ok(IngestOutcome::Applied { .. }) => tally.updated += 1,
            Ok(_) => tally.unchanged += 1,
            Err(e @ (StoreError::Unavailable(_) | StoreError::UnknownShop(_))) => return Err(e),
            Err(e) => {
                tracing::error!(shop = %shop, order = %name, error = ?e, "a polled order could not be stored");
                tally.fail(format!("order {name} could not be stored ({e})"));
            }
        }
    }
    Ok(())
}

/// Where a tick's window starts: the last whole tick's start minus [`OVERLAP`], or
/// [`FIRST_LOOK_BACK`] before `now` on the first tick.
pub fn poll_since(last_polled_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
    match last_polled_at {
        Some(last) => last - OVERLAP,
        None => now - FIRST_LOOK_BACK,
    }
}

/// The search that selects the orders updated after `since` (to the second, rounded down, so the
/// window only widens).
pub fn updated_since_query(since: DateTime<Utc>) -> String {
    format!(
        "updated_at:>'{}'",
        since.to_rfc3339_opts(SecondsFormat::Secs, true)
    )
}

/// What one tick of one shop did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickReport {
    /// Orders updated after this were asked for.
    pub since: DateTime<Utc>,
    /// The search sent as the `query` variable.
    pub query: String,
    /// Whether this was the shop's first tick.
    pub first_tick: bool,
    /// Pages read.
    pub pages: u32,
    /// `THROTTLED` answers waited out.
    pub throttled: u32,
    /// The last `endCursor` reached.
    pub cursor: Option<String>,
    pub tally: Tally,
}

/// How a tick ended, when it did not fail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tick {
    /// The window was read whole; the shop's cursor and `last_polled_at` moved. A data gap was
    /// raised if `tally.missed` is not zero, else cleared.
    Whole(TickReport),
    /// The tick ended short without failing (Shopify kept throttling, or the lease was lost):
    /// nothing moved, and the next tick reads the window again.
    Short { report: TickReport, why: String },
    /// Another process is polling the shop.
    Busy,
    /// The shop is unknown or has no access token: webhooks only.
    NotPolled,
    /// The process is shutting down; the lease was released.
    Stopped,
}

/// Why a tick failed. Every failure but the database being away raises the shop's data gap.
#[derive(Debug, thiserror::Error)]
pub enum TickError {
    /// Reading Shopify failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// Some orders did not read or could not be stored (the rest were applied).
    #[error("Shopify sent {} Sync could not store: {}", plural(.report.tally.failed, "order", "orders"), .report.tally.failures.join("; "))]
    Orders { report: TickReport },
    /// The database is away (or the shop vanished): nothing could be recorded.
    #[error("the database could not record the poll: {0}")]
    Store(#[source] StoreError),
}

fn clock(at: DateTime<Utc>) -> String {
    at.format("%H:%M UTC").to_string()
}

fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The data-gap message of a tick that found orders the webhooks never delivered.
fn missed_message(tally: &Tally, started: DateTime<Utc>) -> String {
    let more = tally.missed.saturating_sub(tally.missed_names.len());
    let mut names = tally.missed_names.join(", ");
    if more > 0 {
        names.push_str(&format!(" and {more} more"));
    }
    format!(
        "The {} poll found {} the webhooks never delivered ({names}); they are stored now, but check the shop's webhook subscriptions.",
        clock(started),
        plural(tally.missed, "order", "orders"),
    )
}

/// One tick for one shop, started at `now`: claim the shop, read its window page by page, store
/// every order, record how far it got, and raise or clear its data gap (see the module's policy).
pub async fn tick(
    service: &Service,
    ingestion: &Ingestion,
    client: &ShopifyClient,
    shop: &str,
    now: DateTime<Utc>,
) -> Result<Tick, TickError> {
    tick_until(
        service,
        ingestion,
        client,
        shop,
        now,
        std::future::pending(),
    )
    .await
}

/// [`tick`], ended early (with the lease released) when `stop` completes.
#[tracing::instrument(name = "poll.tick", skip_all, fields(shop = %shop))]
pub async fn tick_until(
    service: &Service,
    ingestion: &Ingestion,
    client: &ShopifyClient,
    shop: &str,
    now: DateTime<Utc>,
    stop: impl Future<Output = ()>,
) -> Result<Tick, TickError> {
    let ticked = run_tick(service, ingestion, client, shop, now, stop).await;
    let outcome = match &ticked {
        Ok(Tick::Whole(_)) => "whole",
        Ok(Tick::Short { .. }) => "short",
        Ok(Tick::Busy) => "busy",
        Ok(Tick::NotPolled) => "not_polled",
        Ok(Tick::Stopped) => "stopped",
        Err(_) => "failed",
    };
    metrics::counter!("poller_ticks_total", "outcome" => outcome).increment(1);
    ticked
}

async fn run_tick(
    service: &Service,
    ingestion: &Ingestion,
    client: &ShopifyClient,
    shop: &str,
    now: DateTime<Utc>,
    stop: impl Future<Output = ()>,
) -> Result<Tick, TickError> {
    let now = to_micros(now);
    let claim = match ingestion.claim_poll(shop, POLL_LEASE).await {
        Ok(PollLease::Claimed(claim)) => claim,
        Ok(PollLease::Busy) => return Ok(Tick::Busy),
        Ok(PollLease::NotPolled) => return Ok(Tick::NotPolled),
        Err(e) => return Err(TickError::Store(e)),
    };
    let since = poll_since(claim.last_polled_at, now);
    let mut report = TickReport {
        since,
        query: updated_since_query(since),
        first_tick: claim.last_polled_at.is_none(),
        pages: 0,
        throttled: 0,
        cursor: None,
        tally: Tally::default(),
    };
    let mut lease = claim.lease_until;
    let read = {
        let read = read_window(
            ingestion,
            client,
            shop,
            &claim,
            &mut lease,
            now,
            &mut report,
        );
        tokio::select! {
            biased;
            _ = stop => None,
            read = read => Some(read),
        }
    };
    let Some(read) = read else {
        // Each order commits on its own, so what was stored stays; the window is read again.
        release(ingestion, &claim, lease).await;
        if report.tally.changed() {
            service.changed(shop, RefreshReason::Poller, Scope::Shop);
        }
        return Ok(Tick::Stopped);
    };
    if report.tally.changed() {
        service.changed(shop, RefreshReason::Poller, Scope::Shop);
    }
    let failure = match read {
        Ok(Read::Whole) if report.tally.failed == 0 => None,
        Ok(Read::Whole) => Some(TickError::Orders {
            report: report.clone(),
        }),
        Ok(Read::Short(why)) => {
            release(ingestion, &claim, lease).await;
            tracing::warn!(shop = %shop, why = %why, "the poll ended short; the next one reads the window again");
            return Ok(Tick::Short { report, why });
        }
        Err(e) => Some(e),
    };
    if let Some(e) = failure {
        release(ingestion, &claim, lease).await;
        if !matches!(e, TickError::Store(StoreError::Unavailable(_))) {
            let message = format!(
                "The {} poll of Shopify failed: {e}. Orders changed since {} may be missing; the next poll reads them again.",
                clock(now),
                iso(since)
            );
            raise_gap(service, shop, &message).await;
        }
        tracing::warn!(shop = %shop, error = %e, "the poll failed");
        return Err(e);
    }

    let end = PollEnd::Whole {
        cursor: report.cursor.as_deref(),
        polled_at: now,
    };
    match ingestion.finish_poll(claim.shop_id, lease, end).await {
        Ok(true) => {}
        Ok(false) => {
            return Ok(Tick::Short {
                report,
                why: "another process took the shop over while this tick ran".into(),
            })
        }
        Err(e) => return Err(TickError::Store(e)),
    }
    match ingestion.prune_webhooks(now - WEBHOOK_ID_RETENTION).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(pruned = n, "forgot webhook ids older than a week"),
        Err(e) => tracing::warn!(error = %e, "could not prune old webhook ids"),
    }
    if report.tally.missed > 0 {
        raise_gap(service, shop, &missed_message(&report.tally, now)).await;
    } else if let Err(e) = service.data_healthy(shop).await {
        tracing::warn!(shop = %shop, error = %e, "could not clear the shop's data gap");
    }
    tracing::info!(
        shop = %shop,
        pages = report.pages,
        created = report.tally.created,
        updated = report.tally.updated,
        unchanged = report.tally.unchanged,
        missed = report.tally.missed,
        "polled Shopify"
    );
    Ok(Tick::Whole(report))
}

enum Read {
    Whole,
    Short(String),
}

/// Reads the tick's window into `report`, renewing the lease before each page after the first.
async fn read_window(
    ingestion: &Ingestion,
    client: &ShopifyClient,
    shop: &str,
    claim: &PollClaim,
    lease: &mut DateTime<Utc>,
    now: DateTime<Utc>,
    report: &mut TickReport,
) -> Result<Read, TickError> {
    let missed_before = (!report.first_tick).then(|| now - GRACE);
    let mut pages = Pages::new(
        client,
        shop,
        &claim.access_token,
        Some(report.query.clone()),
        None,
    );
    loop {
        if pages.pages > 0 {
            match ingestion
                .renew_poll(claim.shop_id, *lease, POLL_LEASE)
                .await
            {
                Ok(Some(renewed)) => *lease = renewed,
                Ok(None) => {
                    return Ok(Read::Short(
                        "the lease ran out and another process took the shop over".into(),
                    ))
                }
                Err(e) => return Err(TickError::Store(e)),
            }
        }
        let next = pages.next().await;
        report.pages = pages.pages;
        report.throttled = pages.throttled;
        let page = match next {
            Ok(Some(page)) => page,
            Ok(None) => return Ok(Read::Whole),
            Err(e @ (FetchError::Throttled { .. } | FetchError::WaitTooLong { .. })) => {
                return Ok(Read::Short(e.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        if page.end_cursor.is_some() {
            report.cursor.clone_from(&page.end_cursor);
        }
        ingest_page(
            ingestion,
            shop,
            page.orders,
            now,
            missed_before,
            &mut report.tally,
        )
        .await
        .map_err(TickError::Store)?;
    }
}

/// Releases the lease a tick holds, without moving anything (best effort: it runs out anyway).
async fn release(ingestion: &Ingestion, claim: &PollClaim, lease: DateTime<Utc>) {
    if let Err(e) = ingestion
        .finish_poll(claim.shop_id, lease, PollEnd::Short)
        .await
    {
        tracing::warn!(error = %e, "could not release the poll lease; it runs out by itself");
    }
}

async fn raise_gap(service: &Service, shop: &str, message: &str) {
    if let Err(e) = service.data_gap(shop, message).await {
        tracing::warn!(shop = %shop, error = %e, "could not raise the shop's data gap");
    }
}

/// Whether a shop last polled at `last` is due at `now`: never polled, or at least half an
/// interval ago (so several processes, each polling every interval, poll a shop about once an
/// interval between them, never twice in quick succession).
pub fn is_due(last: Option<DateTime<Utc>>, now: DateTime<Utc>, interval: Duration) -> bool {
    let half = chrono::Duration::from_std(interval / 2).unwrap_or(chrono::Duration::MAX);
    last.is_none_or(|last| now - last >= half)
}

/// One round over every shop with an access token that is due (the poller worker's,
/// `crate::workers::poller`): a tick for each, one shop after the other; `false` when shutdown
/// interrupted it.
///
/// A shop that could not be polled (another process holds it, or Shopify kept throttling) and was
/// last read more than two intervals ago raises its data gap: nothing was heard from Shopify.
pub async fn round(
    service: &Service,
    ingestion: &Ingestion,
    client: &ShopifyClient,
    interval: Duration,
) -> bool {
    let targets = match ingestion.shops_to_poll().await {
        Ok(targets) => targets,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list the shops to poll; trying again next round");
            return true;
        }
    };
    for target in targets {
        let now = to_micros(Utc::now());
        if !is_due(target.last_polled_at, now, interval) {
            continue;
        }
        let shop = target.domain.as_str();
        if let Some(installer) = &client.installer {
            // A token about to expire is refreshed first; if that fails, the tick reports it. A
            // shop whose time zone is not known yet has it read now.
            match installer.fresh_token(shop).await {
                Ok(Some(token)) => installer.fill_time_zone(shop, &token).await,
                Ok(None) => {}
                Err(e) => {
                    tracing::warn!(shop, error = %e, "could not refresh the shop's offline token")
                }
            }
        }
        let stop = service.live().closed();
        let unheard = match tick_until(service, ingestion, client, shop, now, stop).await {
            Ok(Tick::Stopped) => return false,
            Ok(Tick::Busy | Tick::Short { .. }) => true,
            Ok(Tick::Whole(_) | Tick::NotPolled) | Err(_) => false,
        };
        let silent_since = target.last_polled_at.filter(|last| {
            let limit = chrono::Duration::from_std(interval * 2).unwrap_or(chrono::Duration::MAX);
            now - *last > limit
        });
        if let (true, Some(last)) = (unheard, silent_since) {
            let message = format!(
                "Nothing was heard from Shopify since {}: the poller could not read the shop for more than two poll intervals, so orders may be missing.",
                iso(last)
            );
            raise_gap(service, shop, &message).await;
        }
    }
    true
}

/// What a backfill has done so far, for its progress display.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackfillProgress {
    pub pages: u32,
    pub tally: Tally,
    /// Where a new run would resume (`--after`).
    pub cursor: Option<String>,
}

/// Why a backfill stopped.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("the shop {0} is not registered; register it with `orders-sync shop add`")]
    UnknownShop(String),
    #[error("the shop {0} has no access token; add one with `orders-sync shop add --domain {0} --access-token …`")]
    NoToken(String),
    #[error("{source}{}", resume_hint(.progress))]
    Fetch {
        source: FetchError,
        progress: BackfillProgress,
    },
    #[error("{source}{}", resume_hint(.progress))]
    Store {
        source: StoreError,
        progress: BackfillProgress,
    },
}

fn resume_hint(progress: &BackfillProgress) -> String {
    match &progress.cursor {
        Some(cursor) => format!(
            " (stopped after {} pages; resume with --after '{cursor}')",
            progress.pages
        ),
        None => String::new(),
    }
}

/// Reads the shop's whole order history (no `updated_at` filter; from `after` when given) through
/// the same client, throttling and ingestion as the poller, calling `on_page` after each page. It
/// neither moves `last_polled_at` nor takes the poll lease (ingestion is safe beside a tick), and
/// raises no data gap: history is not a gap. Ends with a refresh ping when anything changed.
pub async fn backfill(
    ingestion: &Ingestion,
    client: &ShopifyClient,
    shop: &str,
    after: Option<String>,
    mut on_page: impl FnMut(&BackfillProgress),
) -> Result<BackfillProgress, BackfillError> {
    let token = match ingestion.access_token(shop).await {
        Ok(Some(Some(token))) => token,
        Ok(Some(None)) => return Err(BackfillError::NoToken(shop.to_owned())),
        Ok(None) => return Err(BackfillError::UnknownShop(shop.to_owned())),
        Err(source) => {
            return Err(BackfillError::Store {
                source,
                progress: BackfillProgress::default(),
            })
        }
    };
    let mut progress = BackfillProgress {
        cursor: after.clone(),
        ..BackfillProgress::default()
    };
    let mut pages = Pages::new(client, shop, &token, None, after);
    loop {
        let page = match pages.next().await {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(source) => return Err(BackfillError::Fetch { source, progress }),
        };
        let now = to_micros(Utc::now());
        if let Err(source) =
            ingest_page(ingestion, shop, page.orders, now, None, &mut progress.tally).await
        {
            return Err(BackfillError::Store { source, progress });
        }
        progress.pages = pages.pages;
        progress.cursor = pages.cursor().map(str::to_owned);
        on_page(&progress);
    }
    if progress.tally.changed() {
        let refresh = Refresh {
            reason: RefreshReason::Poller,
            at: to_micros(Utc::now()),
        };
        if let Err(e) = ingestion.notify_refresh(shop, refresh).await {
            tracing::warn!(shop = %shop, error = %e, "could not send a refresh ping");
        }
    }
    Ok(progress)
}
#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 10, 2, h, m, 0).unwrap()
    }

    #[test]
    fn a_tick_reads_from_the_last_tick_minus_the_overlap() {
        assert_eq!(poll_since(Some(at(10, 15)), at(10, 30)), at(10, 13));
        assert_eq!(
            updated_since_query(poll_since(Some(at(10, 15)), at(10, 30))),
            "updated_at:>'2025-10-02T10:13:00Z'"
        );
    }

    #[test]
    fn the_first_tick_looks_back_a_day() {
        assert_eq!(
            poll_since(None, at(10, 30)),
            Utc.with_ymd_and_hms(2025, 10, 1, 10, 30, 0).unwrap()
        );
    }

    #[test]
    fn the_search_rounds_down_to_the_second_so_the_window_only_widens() {
        let since = at(10, 13) + chrono::Duration::milliseconds(999);
        assert_eq!(
            updated_since_query(since),
            "updated_at:>'2025-10-02T10:13:00Z'"
        );
    }

    #[test]
    fn a_shop_is_due_after_half_an_interval() {
        let fifteen = Duration::from_secs(15 * 60);
        assert!(is_due(None, at(10, 0), fifteen));
        assert!(!is_due(Some(at(9, 53)), at(10, 0), fifteen));
        assert!(is_due(Some(at(9, 52)), at(10, 0), fifteen));
    }

    #[test]
    fn a_missed_orders_message_names_the_first_few() {
        let tally = Tally {
            created: 7,
            missed: 7,
            missed_names: ["#1", "#2", "#3", "#4", "#5"].map(String::from).to_vec(),
            ..Tally::default()
        };
        let message = missed_message(&tally, at(10, 15));
        assert!(
            message.starts_with("The 10:15 UTC poll found 7 orders the webhooks never delivered (#1, #2, #3, #4, #5 and 2 more)"),
            "{message}"
        );
    }
}
