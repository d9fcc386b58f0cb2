//! The search (SPEC §2 `query`) in SQL. The rule is `orders_core::search`: an order's name wins
//! when the shop has an order of that name, otherwise the customer's name or email must contain
//! the text. Which half applies is decided first, in the read's snapshot, with one indexed lookup;
//! the view's statements then carry that half alone, so the planner sees one indexable condition:
//! `lower(order_number) = ANY(forms)` (`orders_order_name_lower_idx`) or [`CUSTOMER_TEXT`]` LIKE`
//! (the shop's trigram index, `orders_customer_search_idx` of migration
//! `20261209000001_search_per_shop.sql`).
//!
//! A statement with a search is planned for its values (`persistent(false)`): a generic plan cannot
//! see the pattern, and so cannot use a trigram index.
//!
//! A list with a search reads its matches once ([`counts_and_page`]): the counts and the page's ids
//! come from one pass over them, where two statements (the counts, then the page) each walked the
//! index. No tally can count a search, so the counts cost what the matches cost either way.

use orders_core::query::{OrderFilter, PageWindow};
use orders_core::search::{Search, SearchBy};
use orders_core::{Tab, TabCounts};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::counts::CountsRow;
use super::{classify, push_filter, push_tab, Cutoffs, StoreError};

/// The customer's name and email of the order `o` as one lowered text, a line break between them:
/// the expression `orders_customer_search_idx` holds, which a search must repeat to the letter.
const CUSTOMER_TEXT: &str = r"lower(o.customer_name || E'\n' || coalesce(o.customer_email, ''))";

/// A view's filters in one shop, with its search (if any) decided there.
pub(super) struct ShopFilter<'a> {
    pub(super) filter: &'a OrderFilter,
    search: Option<(&'a Search, SearchBy)>,
}

impl<'a> ShopFilter<'a> {
    /// Decides the search of `filter` in shop `shop_id`: whether some order of the shop has the
    /// text as its name.
    pub(super) async fn decide(
        conn: &mut PgConnection,
        shop_id: i64,
        filter: &'a OrderFilter,
    ) -> Result<ShopFilter<'a>, StoreError> {
        let search = match &filter.search {
            None => None,
            Some(s) => {
                let named: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM orders WHERE shop_id = $1 \
                     AND lower(order_number) = ANY($2))",
                )
                .bind(shop_id)
                .bind(s.name_forms())
                .fetch_one(conn)
                .await
                .map_err(classify)?;
                Some((s, s.by(named)))
            }
        };
        Ok(ShopFilter { filter, search })
    }

    /// Whether the view has a search (which no tally can count, and which wants a custom plan).
    pub(super) fn has_search(&self) -> bool {
        self.search.is_some()
    }

    /// Pushes the search, if any, as ` AND …` over the order `o`.
    pub(super) fn push_search(&self, qb: &mut QueryBuilder<'_, Postgres>) {
        let Some((s, by)) = self.search else {
            return;
        };
        match by {
            SearchBy::OrderName => {
                qb.push(" AND lower(o.order_number) = ANY(")
                    .push_bind(s.name_forms())
                    .push(")");
            }
            SearchBy::Customer => {
                let pattern = s.like_pattern();
                qb.push(" AND ")
                    .push(CUSTOMER_TEXT)
                    .push(" LIKE lower(")
                    .push_bind(pattern.clone())
                    .push(") ESCAPE '\\'");
                if s.text().contains('\n') {
                    // A text with a line break could span the name and the email in the index's
                    // text: it must be in one of them.
                    qb.push(" AND (lower(o.customer_name) LIKE lower(")
                        .push_bind(pattern.clone())
                        .push(") ESCAPE '\\' OR lower(o.customer_email) LIKE lower(")
                        .push_bind(pattern)
                        .push(") ESCAPE '\\')");
                }
            }
        }
    }
}

/// The row of [`counts_and_page_statement`]: the counts, and the ids of the page's orders (none
/// when the tab has no match).
#[derive(sqlx::FromRow)]
struct SearchedRow {
    #[sqlx(flatten)]
    counts: CountsRow,
    page_ids: Option<Vec<String>>,
}

/// The counts of a view with a search in shop `shop_id`, and the ids of the orders of `window` in
/// `tab`, in list order (newest first), from one pass over the matching orders.
pub(super) async fn counts_and_page(
    conn: &mut PgConnection,
    shop_id: i64,
    view: &ShopFilter<'_>,
    cut: &Cutoffs,
    tab: Tab,
    window: PageWindow,
) -> Result<(TabCounts, Vec<String>), StoreError> {
    let row = counts_and_page_statement("", shop_id, view, cut, Some((tab, window)))
        .build_query_as::<SearchedRow>()
        .persistent(false)
        .fetch_one(conn)
        .await
        .map_err(classify)?;
    Ok((row.counts.into_counts(), row.page_ids.unwrap_or_default()))
}

/// The statement of [`counts_and_page`] (`prefix`, such as `EXPLAIN `, before its `SELECT`): the
/// six counts, each tab's rule a `FILTER`, and with `page` the ids of its window in its tab as
/// `page_ids`.
pub(super) fn counts_and_page_statement(
    prefix: &str,
    shop_id: i64,
    view: &ShopFilter<'_>,
    cut: &Cutoffs,
    page: Option<(Tab, PageWindow)>,
) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new(prefix);
    qb.push("SELECT count(*) AS all_orders");
    for (tab, name) in [
        (Tab::Unfulfilled, "unfulfilled"),
        (Tab::TrackingPending, "tracking_pending"),
        (Tab::Delayed, "delayed"),
        (Tab::Returns, "returns"),
        (Tab::Support, "support"),
    ] {
        qb.push(", count(*) FILTER (WHERE ");
        push_tab(&mut qb, tab, cut);
        qb.push(format_args!(") AS {name}"));
    }
    if let Some((tab, window)) = page {
        // The tab's matches in list order, cut to the window (array subscripts count from 1; a
        // window past the end, or of no rows, is an empty slice).
        let bound = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
        qb.push(", (array_agg(o.id ORDER BY o.created_at DESC, o.id DESC) FILTER (WHERE ");
        push_tab(&mut qb, tab, cut);
        qb.push("))[")
            .push_bind(bound(window.offset.saturating_add(1)))
            .push(":")
            .push_bind(bound(window.offset.saturating_add(window.limit)))
            .push("] AS page_ids");
    }
    qb.push(" FROM orders o WHERE o.shop_id = ")
        .push_bind(shop_id);
    push_filter(&mut qb, view);
    qb
}
