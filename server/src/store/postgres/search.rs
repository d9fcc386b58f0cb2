//! The search (SPEC §2 `query`) in SQL. The rule is `orders_core::search`: an order's name wins
//! when the shop has an order of that name, otherwise the customer's name or email must contain
//! the text. Which half applies is decided first, in the read's snapshot, with one indexed lookup;
//! the view's statements then carry that half alone, so the planner sees one indexable condition:
//! `lower(order_number) = ANY(forms)` (`orders_order_name_lower_idx`) or `lower(…) LIKE` on the
//! customer's name and email (the trigram indexes of migration `20261205000001_search.sql`).
//!
//! A statement with a search is planned for its values (`persistent(false)`): a generic plan cannot
//! see the pattern, and so cannot use a trigram index.

use orders_core::query::OrderFilter;
use orders_core::search::{Search, SearchBy};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use super::{classify, StoreError};

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
                qb.push(" AND (lower(o.customer_name) LIKE lower(")
                    .push_bind(pattern.clone())
                    .push(") ESCAPE '\\' OR lower(o.customer_email) LIKE lower(")
                    .push_bind(pattern)
                    .push(") ESCAPE '\\')");
            }
        }
    }
}
