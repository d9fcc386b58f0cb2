//! The tab counts of a view (SPEC §2 `counts`, the tab rules of SPEC §4), from the tallies of
//! migration `20261203000001_tallies.sql` rather than from every order.
//!
//! The tallies count orders per UTC day of `createdAt` and per combination of the columns the
//! filters and tab rules read, so a whole day is either in a view or not, except on the days the
//! ends of a date filter split. Those days ("split days", at most two) are counted from the orders
//! themselves, through the list index; every other day from the tallies (the folded ones and the
//! changes not folded yet). The `tracking_pending` cut-off splits its day too, but only the orders
//! created after it, a couple of hours' worth, need reading: its day is tallied whole and they are
//! taken off. `delayed` compares `in_transit_since`, which no day holds, so it is counted from its
//! own partial index, which holds only the orders in transit and includes the filtered columns.
//!
//! A search (SPEC §2 `query`) is not a column of any tally: a view with one is counted from its
//! matching orders themselves, found through the search's index, in one statement that also picks
//! the page (`search.rs`).
//!
//! The sparkline's days are the shop's local days: in UTC they are the tallies' days; in any other
//! zone they are counted from the view's orders of the sparkline's window ([`local_days`]).
//!
//! The result equals counting the view row by row: `server/tests/pg_store/` holds the
//! counts and pictures to the in-memory store on every tab and filter, and the tallies to a direct
//! count of the orders after every kind of write.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use orders_core::query::{AssigneeFilter, OrderFilter};
use orders_core::record::to_micros;
use orders_core::{ReturnState, Tab, TabCounts};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::search::{self, ShopFilter};
use super::{
    ceil_micros, classify, push_filter, push_statuses_and_priorities, push_tab, word, Cutoffs,
    StoreError,
};

/// The six counts as a statement names them.
#[derive(sqlx::FromRow)]
pub(super) struct CountsRow {
    all_orders: i64,
    unfulfilled: i64,
    tracking_pending: i64,
    delayed: i64,
    returns: i64,
    support: i64,
}

/// A tally's newest return is open (the rule of `has_open_return`, over `return_state`, which is
/// '' without a return).
const TALLY_OPEN_RETURN: &str = "return_state NOT IN ('', 'completed', 'denied', 'cancelled')";

fn day_of(t: DateTime<Utc>) -> NaiveDate {
    t.date_naive()
}

fn start_of(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

/// The days a date filter's ends split.
fn split_days(filter: &OrderFilter) -> Vec<NaiveDate> {
    let mut days = Vec::new();
    if let Some(from) = filter.created_from {
        days.push(day_of(ceil_micros(from)));
    }
    if let Some(until) = filter.created_until {
        days.push(day_of(to_micros(until)));
    }
    days.sort_unstable();
    days.dedup();
    days
}

/// Pushes the rows of both tally tables (folded and not) on the view's whole days: each as the
/// select list `select` pushes (over a tally's columns), where `rule` (a predicate) holds.
fn push_tallied<'a>(
    qb: &mut QueryBuilder<'a, Postgres>,
    shop_id: i64,
    filter: &OrderFilter,
    split: &[NaiveDate],
    select: impl Fn(&mut QueryBuilder<'a, Postgres>),
    rule: impl Fn(&mut QueryBuilder<'a, Postgres>),
) {
    for (i, table) in ["order_tallies", "order_tally_changes"]
        .into_iter()
        .enumerate()
    {
        if i > 0 {
            qb.push(" UNION ALL ");
        }
        qb.push("SELECT ");
        select(qb);
        qb.push(" FROM ")
            .push(table)
            .push(" WHERE shop_id = ")
            .push_bind(shop_id)
            .push(" AND day <> ALL(")
            .push_bind(split.to_vec())
            .push(") AND ");
        rule(qb);
        push_tally_filter(qb, filter);
    }
}

/// Pushes ` FROM orders o WHERE …` for the shop's orders of the view that the tracking rule would
/// hold but for their age: created from the cut-off to the end of its day. Tallied with that day
/// as if they met it, they are taken off again.
fn push_after_cutoff(
    qb: &mut QueryBuilder<'_, Postgres>,
    shop_id: i64,
    view: &ShopFilter<'_>,
    cut: &Cutoffs,
) {
    qb.push(" FROM orders o WHERE o.shop_id = ")
        .push_bind(shop_id)
        .push(" AND o.status <> 'cancelled' AND NOT o.has_tracking AND o.created_at >= ")
        .push_bind(cut.tracking_pending)
        .push(" AND o.created_at < ")
        .push_bind(start_of(day_of(cut.tracking_pending) + Duration::days(1)));
    push_filter(qb, view);
}

/// Pushes the filters over a tally table's columns, each as ` AND …`; the days of a date filter's
/// ends must be left out by the caller (they are split).
fn push_tally_filter(qb: &mut QueryBuilder<'_, Postgres>, filter: &OrderFilter) {
    push_statuses_and_priorities(qb, "", filter);
    match &filter.assigned_to {
        None => {}
        Some(AssigneeFilter::Unassigned) => {
            qb.push(" AND assignee = ''");
        }
        Some(AssigneeFilter::Person(p)) => {
            qb.push(" AND assignee = ").push_bind(p.clone());
        }
    }
    // Split days are excluded above, so whole days compare by date exactly.
    if let Some(from) = filter.created_from {
        qb.push(" AND day >= ").push_bind(day_of(ceil_micros(from)));
    }
    if let Some(until) = filter.created_until {
        qb.push(" AND day <= ").push_bind(day_of(to_micros(until)));
    }
}

/// The six counts of the view `view` describes in shop `shop_id`, at the cut-offs `cut`, in one
/// statement (so from one snapshot, whatever the caller's transaction).
pub(super) async fn tab_counts(
    conn: &mut PgConnection,
    shop_id: i64,
    view: &ShopFilter<'_>,
    cut: &Cutoffs,
) -> Result<TabCounts, StoreError> {
    // Planned for its own values every time (a custom plan): the generic plan of a prepared
    // statement cannot see which days are split or how large the shop is, and took 9 ms where
    // this takes 5; nor the search's pattern, without which no trigram index serves.
    let c = counts_statement("", shop_id, view, cut)
        .build_query_as::<CountsRow>()
        .persistent(false)
        .fetch_one(conn)
        .await
        .map_err(classify)?;
    Ok(c.into_counts())
}

/// The first instant after the one `cut` was taken at when a time rule moves one of the shop's
/// orders between tabs (with no write in between): the youngest order not yet
/// `tracking_pending` that will be, or the freshest parcel not yet `delayed`, comes of age. Counts
/// taken at `cut` hold until then (`count_cache`). Read through the two rules' partial indexes.
pub(super) async fn stable_until(
    conn: &mut PgConnection,
    shop_id: i64,
    cut: &Cutoffs,
) -> Result<DateTime<Utc>, StoreError> {
    let (pending, transit): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = sqlx::query_as(
        "SELECT (SELECT min(created_at) FROM orders \
                 WHERE shop_id = $1 AND status <> 'cancelled' AND NOT has_tracking \
                   AND created_at >= $2), \
                (SELECT min(in_transit_since) FROM orders \
                 WHERE shop_id = $1 AND in_transit_since IS NOT NULL AND in_transit_since >= $3)",
    )
    .bind(shop_id)
    .bind(cut.tracking_pending)
    .bind(cut.delayed)
    .fetch_one(conn)
    .await
    .map_err(classify)?;
    let comes_of_age = |at: Option<DateTime<Utc>>, after: Duration| {
        at.and_then(|at| at.checked_add_signed(after))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    };
    Ok(comes_of_age(pending, cut.th.tracking_pending_after)
        .min(comes_of_age(transit, cut.th.delayed_after)))
}

/// Whether the tallies place the pages of `tab` under the view: where they count every day of the
/// view exactly. Not for `delayed` (no day holds it), a search, or a date filter (its end days are
/// split). For `tracking_pending` the days from the cut-off's on are not exact; they are the
/// newest, so [`tab_days`] leaves them out and [`locate_offset`] counts them as the rest.
pub(super) fn tallies_place(tab: Tab, view: &ShopFilter<'_>) -> bool {
    tab != Tab::Delayed && !view.has_search() && split_days(view.filter).is_empty()
}

/// The rows of `tab` under the view on each day the tallies count exactly, newest day first (for a
/// view [`tallies_place`]).
pub(super) async fn tab_days(
    conn: &mut PgConnection,
    shop_id: i64,
    tab: Tab,
    view: &ShopFilter<'_>,
    cut: &Cutoffs,
) -> Result<Vec<(NaiveDate, i64)>, StoreError> {
    let cut_day = day_of(cut.tracking_pending);
    let mut qb = QueryBuilder::<Postgres>::new("SELECT day, sum(n)::int8 FROM (");
    push_tallied(
        &mut qb,
        shop_id,
        view.filter,
        &[],
        |qb| {
            qb.push("day, n");
        },
        |qb| push_tally_tab(qb, tab, cut_day),
    );
    qb.push(") t GROUP BY day");
    if tab == Tab::TrackingPending {
        qb.push(" HAVING day < ").push_bind(cut_day);
    }
    qb.push(" ORDER BY day DESC");
    qb.build_query_as()
        .persistent(false)
        .fetch_all(conn)
        .await
        .map_err(classify)
}

/// Where the row at `offset` of a tab falls, given its rows per day ([`tab_days`]) and `total`
/// rows in this snapshot: the day it was created on and how many of that day's rows come before
/// it ([`PageStart`]), so that a deep page is read from the list index at that day rather than
/// counted off row by row from the newest (SPEC §2's `ofs:` cursors are unchanged). `None` for an
/// offset among the newest rows no exact day holds, or past the end.
pub(super) fn locate_offset(
    days: &[(NaiveDate, i64)],
    total: u64,
    offset: u64,
) -> Option<PageStart> {
    locate(days, total, offset).map(|(day, skip)| PageStart {
        before: start_of(day + Duration::days(1)),
        skip,
    })
}

/// Where a deep page starts: after `skip` rows of those created before `before`, in list order.
#[derive(Debug, Clone, Copy)]
pub(super) struct PageStart {
    pub(super) before: DateTime<Utc>,
    pub(super) skip: u64,
}

/// The day of the row at `offset` and the rows of that day before it, given the exact rows of
/// each day, newest day first, and `total` rows in all (the rest on days newer than any listed).
fn locate(days: &[(NaiveDate, i64)], total: u64, offset: u64) -> Option<(NaiveDate, u64)> {
    let listed: i64 = days.iter().map(|(_, n)| *n).sum();
    let mut newer = i64::try_from(total).ok()? - listed;
    let offset = i64::try_from(offset).ok()?;
    if newer < 0 || offset < newer {
        return None;
    }
    for (day, n) in days {
        if newer + n > offset {
            return u64::try_from(offset - newer).ok().map(|skip| (*day, skip));
        }
        newer += n;
    }
    None
}

/// The statement of [`tab_counts`] (`prefix`, such as `EXPLAIN `, before its `SELECT`).
pub(super) fn counts_statement(
    prefix: &str,
    shop_id: i64,
    view: &ShopFilter<'_>,
    cut: &Cutoffs,
) -> QueryBuilder<'static, Postgres> {
    if view.has_search() {
        return search::counts_and_page_statement(prefix, shop_id, view, cut, None);
    }
    let filter = view.filter;
    let split = split_days(filter);
    let cut_day = day_of(cut.tracking_pending);

    let mut qb = QueryBuilder::<Postgres>::new(prefix);
    qb.push(
        "SELECT coalesce(sum(n), 0)::int8 AS all_orders, \
         coalesce(sum(n) FILTER (WHERE status IN ('unfulfilled', 'partially_fulfilled')), 0)::int8 AS unfulfilled, \
         coalesce(sum(n) FILTER (WHERE status <> 'cancelled' AND NOT has_tracking AND tp), 0)::int8",
    );
    if !split.contains(&cut_day) {
        // The cut-off's day counted whole: take off its orders from the cut-off on (a couple of
        // hours' worth, through the tracking tab's index).
        qb.push(" - (SELECT count(*)");
        push_after_cutoff(&mut qb, shop_id, view, cut);
        qb.push(")");
    }
    qb.push(
        " AS tracking_pending, \
         coalesce(sum(n) FILTER (WHERE has_open_return), 0)::int8 AS returns, \
         coalesce(sum(n) FILTER (WHERE has_support), 0)::int8 AS support, \
         (SELECT count(*) FROM orders o WHERE o.shop_id = ",
    );
    qb.push_bind(shop_id)
        .push(" AND o.in_transit_since < ")
        .push_bind(cut.delayed);
    push_filter(&mut qb, view);
    qb.push(") AS delayed FROM (");
    push_tallied(
        &mut qb,
        shop_id,
        filter,
        &split,
        |qb| {
            qb.push("status, has_tracking, ")
                .push(TALLY_OPEN_RETURN)
                .push(" AS has_open_return, has_support, n, day <= ")
                .push_bind(cut_day)
                .push(" AS tp");
        },
        |qb| push_tally_tab(qb, Tab::All, cut_day),
    );
    if !split.is_empty() {
        // The split days, order by order.
        qb.push(
            " UNION ALL SELECT o.status, o.has_tracking, o.has_open_return, \
             o.support_thread IS NOT NULL, 1::int8, o.created_at < ",
        )
        .push_bind(cut.tracking_pending)
        .push(" FROM orders o WHERE o.shop_id = ")
        .push_bind(shop_id)
        .push(" AND (");
        push_day_ranges(&mut qb, &split);
        qb.push(")");
        push_filter(&mut qb, view);
    }
    qb.push(") c");
    qb
}

impl CountsRow {
    pub(super) fn into_counts(self) -> TabCounts {
        let c = self;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        TabCounts {
            all: count(c.all_orders),
            unfulfilled: count(c.unfulfilled),
            tracking_pending: count(c.tracking_pending),
            delayed: count(c.delayed),
            returns: count(c.returns),
            support: count(c.support),
        }
    }
}

/// Pushes `o.created_at` within any of `days`, as OR-ed ranges the list index serves.
fn push_day_ranges(qb: &mut QueryBuilder<'_, Postgres>, days: &[NaiveDate]) {
    for (i, day) in days.iter().enumerate() {
        if i > 0 {
            qb.push(" OR ");
        }
        qb.push("(o.created_at >= ")
            .push_bind(start_of(*day))
            .push(" AND o.created_at < ")
            .push_bind(start_of(*day + Duration::days(1)))
            .push(")");
    }
}

/// Folds the tally changes into the tallies (see the migration); answers how many change rows
/// were moved (0 when another fold is running).
pub(super) async fn fold(conn: &mut PgConnection) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT fold_order_tallies()")
        .fetch_one(conn)
        .await
        .map_err(classify)
}

/// Pushes the tab rule of `tab` over a tally table's columns (not for `delayed`, which no tally
/// holds): `(TRUE)` for `all`.
fn push_tally_tab(qb: &mut QueryBuilder<'_, Postgres>, tab: Tab, cut_day: NaiveDate) {
    match tab {
        Tab::All | Tab::Delayed => {
            qb.push("(TRUE)");
        }
        Tab::Unfulfilled => {
            qb.push("(status IN ('unfulfilled', 'partially_fulfilled'))");
        }
        Tab::TrackingPending => {
            qb.push("(status <> 'cancelled' AND NOT has_tracking AND day <= ")
                .push_bind(cut_day)
                .push(")");
        }
        Tab::Returns => {
            qb.push("(").push(TALLY_OPEN_RETURN).push(")");
        }
        Tab::Support => {
            qb.push("(has_support)");
        }
    }
}

/// The returns funnel (the state of each order's newest return) and the orders per day of the
/// view (`tab` and `view`), all pages: per-day counts from `since` on. From the tallies as the
/// counts are, in one statement; the `delayed` tab from its own index, and a search from its
/// matching orders.
pub(super) async fn view_stats(
    conn: &mut PgConnection,
    shop_id: i64,
    tab: Tab,
    view: &ShopFilter<'_>,
    cut: &Cutoffs,
    since: NaiveDate,
) -> Result<(Vec<(ReturnState, u64)>, Vec<(NaiveDate, u64)>), StoreError> {
    let filter = view.filter;
    let mut qb =
        QueryBuilder::<Postgres>::new("SELECT day, return_state, sum(n)::int8 AS n FROM (");
    let exact = |qb: &mut QueryBuilder<'_, Postgres>, n: &str| {
        qb.push("SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day, coalesce(o.return_state, '') AS return_state, ")
            .push(n)
            .push("::int8 AS n FROM orders o WHERE o.shop_id = ")
            .push_bind(shop_id)
            .push(" AND ");
        push_tab(qb, tab, cut);
        push_filter(qb, view);
    };
    if tab == Tab::Delayed || view.has_search() {
        exact(&mut qb, "1");
    } else {
        let split = split_days(filter);
        let cut_day = day_of(cut.tracking_pending);
        push_tallied(
            &mut qb,
            shop_id,
            filter,
            &split,
            |qb| {
                qb.push("day, return_state, n");
            },
            |qb| push_tally_tab(qb, tab, cut_day),
        );
        if !split.is_empty() {
            qb.push(" UNION ALL ");
            exact(&mut qb, "1");
            qb.push(" AND (");
            push_day_ranges(&mut qb, &split);
            qb.push(")");
        }
        if tab == Tab::TrackingPending && !split.contains(&cut_day) {
            // The cut-off's day was tallied whole: take off its orders from the cut-off on.
            qb.push(
                " UNION ALL SELECT (o.created_at AT TIME ZONE 'UTC')::date, \
                 coalesce(o.return_state, ''), -1::int8",
            );
            push_after_cutoff(&mut qb, shop_id, view, cut);
        }
    }
    qb.push(") v GROUP BY day, return_state");
    let rows = qb
        .build_query_as::<(NaiveDate, String, i64)>()
        .persistent(false)
        .fetch_all(conn)
        .await
        .map_err(classify)?;
    let mut funnel: HashMap<ReturnState, u64> = HashMap::new();
    let mut days: HashMap<NaiveDate, u64> = HashMap::new();
    for (day, state, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        if n == 0 {
            continue;
        }
        if !state.is_empty() {
            *funnel
                .entry(word("orders.return_state", &state)?)
                .or_default() += n;
        }
        if day >= since {
            *days.entry(day).or_default() += n;
        }
    }
    Ok((funnel.into_iter().collect(), days.into_iter().collect()))
}

/// The view's orders per local day of the zone `tz` (an IANA name) from the instant `since` on,
/// counted from the orders themselves: the tallies are kept per UTC day, which a local day does
/// not line up with.
pub(super) async fn local_days(
    conn: &mut PgConnection,
    shop_id: i64,
    tab: Tab,
    view: &ShopFilter<'_>,
    cut: &Cutoffs,
    since: DateTime<Utc>,
    tz: &str,
) -> Result<Vec<(NaiveDate, u64)>, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new("SELECT (o.created_at AT TIME ZONE ");
    qb.push_bind(tz.to_owned())
        .push(")::date AS day, count(*)::int8 FROM orders o WHERE o.shop_id = ")
        .push_bind(shop_id)
        .push(" AND ");
    push_tab(&mut qb, tab, cut);
    push_filter(&mut qb, view);
    qb.push(" AND o.created_at >= ")
        .push_bind(since)
        .push(" GROUP BY 1");
    let rows = qb
        .build_query_as::<(NaiveDate, i64)>()
        .persistent(false)
        .fetch_all(conn)
        .await
        .map_err(classify)?;
    Ok(rows
        .into_iter()
        .map(|(day, n)| (day, u64::try_from(n).unwrap_or(0)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn an_offset_is_found_on_its_day_with_the_rows_before_it() {
        // 3 rows on the 9th, 5 on the 8th, 2 on the 6th; 4 more on newer days no tally lists.
        let days = [(day(9), 3), (day(8), 5), (day(6), 2)];
        let total = 14;
        assert_eq!(
            locate(&days, total, 3),
            None,
            "among the unlisted newest rows"
        );
        assert_eq!(locate(&days, total, 4), Some((day(9), 0)));
        assert_eq!(locate(&days, total, 6), Some((day(9), 2)));
        assert_eq!(locate(&days, total, 7), Some((day(8), 0)));
        assert_eq!(locate(&days, total, 11), Some((day(8), 4)));
        assert_eq!(locate(&days, total, 12), Some((day(6), 0)));
        assert_eq!(locate(&days, total, 13), Some((day(6), 1)));
        assert_eq!(locate(&days, total, 14), None, "past the end");
        // A day whose orders all moved away sums to 0 and is passed over.
        assert_eq!(locate(&[(day(9), 0), (day(8), 2)], 2, 0), Some((day(8), 0)));
        // Tallies that list more than the total are not trusted.
        assert_eq!(locate(&days, 5, 4), None);
    }
}
