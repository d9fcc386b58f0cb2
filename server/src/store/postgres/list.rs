//! The list's page (SPEC §2): how its rows are found (from the newest, from the day the tallies
//! place a deep page on, or the delayed tab's two ways), its counts (from this process's count
//! cache when they hold), and the plans of its statements.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use orders_core::query::PageWindow;
use orders_core::{ListQuery, Tab, TabCounts, Thresholds};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::count_cache::{CountKey, Counted, Kept};
use super::counts::PageStart;
use super::read::{hydrate, open_view, OrderRow, ShopRow, ViewRead, ORDER_COLUMNS, ORDER_FROM};
use super::search::{self, ShopFilter};
use super::{clamp_i64, classify, counts, push_filter, push_tab, Cutoffs, PgStore};
use crate::store::{Page, StoreError};

/// How a page's rows are found.
#[derive(Debug, Clone, Copy)]
enum PagePlan {
    /// Counted off in list order from the newest, through the tab's index (for `delayed`, the
    /// in-transit orders in list order, `orders_in_transit_list_idx`, index only).
    Newest,
    /// A deep page, from the day the tallies place it on (`counts::locate_offset`).
    From(PageStart),
    /// The delayed tab of a shop with few delayed orders: every one of them from the delayed
    /// index, sorted.
    DelayedSorted,
}

/// The statement of a list's page (`prefix`, such as `EXPLAIN `, before its `SELECT`): the rows of
/// `window` in `query.tab` under the view's filters, in list order, found as `plan` says.
fn page_statement(
    prefix: &str,
    shop_id: i64,
    query: &ListQuery,
    view: &ShopFilter<'_>,
    window: PageWindow,
    cut: &Cutoffs,
    plan: PagePlan,
) -> QueryBuilder<'static, Postgres> {
    let mut qb = QueryBuilder::<Postgres>::new(prefix);
    qb.push("SELECT ");
    qb.push(ORDER_COLUMNS).push(" FROM ").push(ORDER_FROM);
    if query.tab == Tab::Delayed {
        // The page's ids are chosen from an index alone, then their rows read. With few delayed
        // orders, from the delayed index, sorted (the inner OFFSET 0 keeps the planner from
        // walking the list order past every recent parcel); with many, by walking the in-transit
        // orders in list order (`orders_in_transit_list_idx`, which holds every column the rule
        // and the filters read).
        qb.push(
            " JOIN (SELECT id, created_at FROM (SELECT o.id, o.created_at FROM orders o WHERE o.shop_id = ",
        )
        .push_bind(shop_id)
        .push(" AND ");
        push_tab(&mut qb, query.tab, cut);
        push_filter(&mut qb, view);
        if let PagePlan::DelayedSorted = plan {
            qb.push(" OFFSET 0");
        }
        qb.push(") d ORDER BY d.created_at DESC, d.id DESC OFFSET ")
            .push_bind(clamp_i64(window.offset))
            .push(" LIMIT ")
            .push_bind(clamp_i64(window.limit))
            .push(") page ON page.id = o.id WHERE o.shop_id = ")
            .push_bind(shop_id)
            .push(" ORDER BY o.created_at DESC, o.id DESC");
    } else {
        qb.push(" WHERE o.shop_id = ").push_bind(shop_id);
        push_filter(&mut qb, view);
        if query.tab != Tab::All {
            qb.push(" AND ");
            push_tab(&mut qb, query.tab, cut);
        }
        let mut offset = window.offset;
        if let PagePlan::From(start) = plan {
            // A deep page, read from its day on (`counts::locate_offset`).
            qb.push(" AND o.created_at < ").push_bind(start.before);
            offset = start.skip;
        }
        qb.push(" ORDER BY o.created_at DESC, o.id DESC OFFSET ")
            .push_bind(clamp_i64(offset))
            .push(" LIMIT ")
            .push_bind(clamp_i64(window.limit));
    }
    qb
}

/// The rows of the orders `ids` of shop `shop_id`, in list order (newest first).
async fn rows_by_id(
    conn: &mut PgConnection,
    shop_id: i64,
    ids: &[String],
) -> Result<Vec<OrderRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    QueryBuilder::<Postgres>::new("SELECT ")
        .push(ORDER_COLUMNS)
        .push(" FROM ")
        .push(ORDER_FROM)
        .push(" WHERE o.shop_id = ")
        .push_bind(shop_id)
        .push(" AND o.id = ANY(")
        .push_bind(ids.to_vec())
        .push(") ORDER BY o.created_at DESC, o.id DESC")
        .build_query_as::<OrderRow>()
        .fetch_all(conn)
        .await
        .map_err(classify)
}

impl PgStore {
    #[tracing::instrument(name = "pg.list_orders", skip_all, fields(shop = %query.shop_domain, tab = %query.tab))]
    pub async fn list_orders(
        &self,
        query: &ListQuery,
        window: PageWindow,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Page, StoreError> {
        let Some(ViewRead {
            mut tx,
            shop,
            cut,
            view,
        }) = open_view(&self.pool, query, now, th).await?
        else {
            return Ok(Page {
                orders: Vec::new(),
                counts: TabCounts::default(),
                shopify_cursor: None,
            });
        };

        let (counts, rows) = if view.has_search() {
            let (counts, ids) =
                search::counts_and_page(&mut tx, shop.id, &view, &cut, query.tab, window).await?;
            (counts, rows_by_id(&mut tx, shop.id, &ids).await?)
        } else {
            let counts = self
                .cached_counts(&mut tx, &shop, query, &view, &cut)
                .await?;
            let rows = if window.limit == 0 || window.offset >= counts.get(query.tab) {
                Vec::new()
            } else {
                let plan = self
                    .page_plan(&mut tx, &shop, query, &view, window, &cut, &counts)
                    .await?;
                page_statement("", shop.id, query, &view, window, &cut, plan)
                    .build_query_as::<OrderRow>()
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(classify)?
            };
            (counts, rows)
        };
        let orders = hydrate(&mut tx, shop.id, rows, now, th).await?;
        tx.commit().await.map_err(classify)?;
        Ok(Page {
            orders,
            counts,
            shopify_cursor: shop.shopify_cursor,
        })
    }

    /// The tab counts of a view without a search, from this process's cache when it holds them for
    /// this snapshot and instant (`count_cache`), else counted and kept.
    async fn cached_counts(
        &self,
        tx: &mut PgConnection,
        shop: &ShopRow,
        query: &ListQuery,
        view: &ShopFilter<'_>,
        cut: &Cutoffs,
    ) -> Result<TabCounts, StoreError> {
        let Some(key) = CountKey::new(shop.id, &query.filter, &cut.th) else {
            return counts::tab_counts(tx, shop.id, view, cut).await;
        };
        if let Some(counts) = self.counts.counts(&key, shop.changes, cut.at) {
            return Ok(counts);
        }
        let counts = counts::tab_counts(&mut *tx, shop.id, view, cut).await?;
        let until = counts::stable_until(tx, shop.id, cut).await?;
        let counted = Counted {
            changes: shop.changes,
            from: cut.at,
            until,
            kept: Kept::Counts(counts),
        };
        self.counts.keep(key, counted);
        Ok(counts)
    }

    /// How the page's rows are found ([`PagePlan`]): the delayed tab sorted when it holds fewer
    /// than [`PgStore::with_delayed_walk_from`] orders, else walked in list order; a page at least
    /// [`PgStore::with_deep_pages_from`] rows deep from the day the tallies place it on
    /// (`counts::locate_offset`); any other from the newest.
    #[expect(
        clippy::too_many_arguments,
        reason = "the parts of one view's read, borrowed from it"
    )]
    async fn page_plan(
        &self,
        tx: &mut PgConnection,
        shop: &ShopRow,
        query: &ListQuery,
        view: &ShopFilter<'_>,
        window: PageWindow,
        cut: &Cutoffs,
        counts: &TabCounts,
    ) -> Result<PagePlan, StoreError> {
        if query.tab == Tab::Delayed && counts.delayed < self.delayed_walk_from {
            return Ok(PagePlan::DelayedSorted);
        }
        if window.offset < self.deep_pages_from || !counts::tallies_place(query.tab, view) {
            return Ok(PagePlan::Newest);
        }
        let key = CountKey::new(shop.id, &query.filter, &cut.th).map(|k| k.days_of(query.tab));
        let kept = key
            .as_ref()
            .and_then(|key| self.counts.days(key, shop.changes, cut.at));
        let days = match kept {
            Some(days) => days,
            None => {
                let days: Arc<[_]> = counts::tab_days(&mut *tx, shop.id, query.tab, view, cut)
                    .await?
                    .into();
                if let Some(key) = key {
                    let until = counts::stable_until(tx, shop.id, cut).await?;
                    let counted = Counted {
                        changes: shop.changes,
                        from: cut.at,
                        until,
                        kept: Kept::Days(days.clone()),
                    };
                    self.counts.keep(key, counted);
                }
                days
            }
        };
        let start = counts::locate_offset(&days, counts.get(query.tab), window.offset);
        Ok(start.map_or(PagePlan::Newest, PagePlan::From))
    }

    /// The plans PostgreSQL chooses, at `now`, for the statements of a list read of `query`: its
    /// counts, then its page of `window` (one statement for both with a search), each as `EXPLAIN`
    /// writes it (one line a row). It runs
    /// the very statements [`PgStore::list_orders`] runs, planned the same way; the tests and
    /// benchmarks hold the search to its indexes with it.
    pub async fn explain_list(
        &self,
        query: &ListQuery,
        window: PageWindow,
        now: DateTime<Utc>,
        th: &Thresholds,
    ) -> Result<Vec<String>, StoreError> {
        let Some(ViewRead {
            mut tx,
            shop,
            cut,
            view,
        }) = open_view(&self.pool, query, now, th).await?
        else {
            return Ok(Vec::new());
        };
        let statements = if view.has_search() {
            let page = Some((query.tab, window));
            vec![search::counts_and_page_statement(
                "EXPLAIN ", shop.id, &view, &cut, page,
            )]
        } else {
            let counts = counts::tab_counts(&mut tx, shop.id, &view, &cut).await?;
            let plan = self
                .page_plan(&mut tx, &shop, query, &view, window, &cut, &counts)
                .await?;
            vec![
                counts::counts_statement("EXPLAIN ", shop.id, &view, &cut),
                page_statement("EXPLAIN ", shop.id, query, &view, window, &cut, plan),
            ]
        };
        let mut lines = Vec::new();
        for mut qb in statements {
            let plan: Vec<String> = qb
                .build_query_scalar()
                .persistent(false)
                .fetch_all(&mut *tx)
                .await
                .map_err(classify)?;
            lines.extend(plan);
        }
        tx.commit().await.map_err(classify)?;
        Ok(lines)
    }
}
