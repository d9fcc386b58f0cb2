//! How the server builds the page's view from what Sync answered: links, labels, ages and the
//! banners, worked out once so the browser renders exactly what the server rendered.

use chrono::{DateTime, Utc};
use orders_core::query::AssigneeFilter;
use orders_core::{Direction, ListQuery, Order, OrderList, Tab, TabCounts};

use super::super::format::Formats;
use super::super::links::{encode, with_param, Embedding, EXPORT_PATH, PATH};
use orders_core::alerts::Digest;
use orders_core::AlertKind;

use super::{
    Banner, BannerOrder, FilterState, GapNote, OrderDetail, OrderFacts, OrderRow, OrdersView,
    ShipmentLine, TabLink, TimelineLine,
};

/// The link to the view `query` describes. `shop` is carried only when the URL named one, so
/// links stay short for the configured shop.
pub fn page_href(query: &ListQuery, shop: Option<&str>) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(shop) = shop {
        pairs.push(("shop", shop.to_owned()));
    }
    pairs.extend(query.to_pairs());
    if pairs.is_empty() {
        return PATH.to_owned();
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    format!("{PATH}?{}", query.join("&"))
}

/// `45m`, `5h`, `3d`: the age of an order at a glance.
fn age(created_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (now - created_at).num_minutes().max(0);
    match minutes {
        m if m < 60 => format!("{m}m"),
        m if m < 48 * 60 => format!("{}h", m / 60),
        m => format!("{}d", m / (24 * 60)),
    }
}

/// `href` with the drawer of order `id` open.
pub fn with_order(href: &str, id: &str) -> String {
    with_param(href, "order", id)
}

impl OrderRow {
    fn new(order: Order, now: DateTime<Utc>, view_href: &str, formats: &Formats) -> Self {
        OrderRow {
            detail_href: with_order(view_href, &order.id),
            created_at: order.created_at.to_rfc3339(),
            created_label: formats.when(order.created_at),
            created_title: formats.when_in_zone(order.created_at),
            age: age(order.created_at, now),
            total: formats.money(&order.total_price, &order.currency),
            total_title: Formats::raw_money(&order.total_price, &order.currency),
            id: order.id,
            order_number: order.order_number,
            customer: order.customer.name,
            email: order.customer.email,
            status: order.status,
            financial_status: order.financial_status,
            priority: order.priority,
            assigned_to: order.assigned_to,
            alerts: order.alerts,
            return_state: order.return_.map(|r| r.state),
            support_thread: order.support_thread,
        }
    }
}

/// The order in Shopify's admin: `https://admin.shopify.com/store/{store}/orders/{number}`,
/// `store` being the shop's myshopify name and `number` the end of the order's GID.
pub fn admin_href(shop: &str, order_id: &str) -> Option<String> {
    let store = shop.strip_suffix(".myshopify.com")?;
    let number = order_id.strip_prefix("gid://shopify/Order/")?;
    let plain = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    (plain(store) && number.bytes().all(|b| b.is_ascii_digit()) && !number.is_empty())
        .then(|| format!("https://admin.shopify.com/store/{store}/orders/{number}"))
}

impl OrderDetail {
    /// The drawer's view of `order`, of the shop `shop`: its facts drawn as HTML.
    pub fn new(order: Order, shop: &str, formats: &Formats) -> Self {
        // What the drawer changes stays data; the rest of the order goes to its facts.
        let (id, order_number) = (order.id.clone(), order.order_number.clone());
        let (assigned_to, support_thread) =
            (order.assigned_to.clone(), order.support_thread.clone());
        let return_state = order.return_.as_ref().map(|r| r.state);
        let facts = OrderFacts::new(order, shop, formats);
        let (facts_html, shipments_html, timeline_html) = super::super::facts::to_html(facts);
        OrderDetail {
            id,
            order_number,
            assigned_to,
            return_state,
            support_thread,
            facts_html,
            shipments_html,
            timeline_html,
        }
    }
}

impl OrderFacts {
    /// What the drawer shows of `order`, of the shop `shop`, written for people.
    pub fn new(order: Order, shop: &str, formats: &Formats) -> Self {
        let when = |at: DateTime<Utc>| formats.when(at);
        OrderFacts {
            admin_href: admin_href(shop, &order.id),
            total: formats.money(&order.total_price, &order.currency),
            total_title: Formats::raw_money(&order.total_price, &order.currency),
            customer: order.customer.name,
            email: order.customer.email,
            status: order.status,
            financial_status: order.financial_status,
            priority: order.priority,
            tags: order.tags,
            created_at: order.created_at.to_rfc3339(),
            created_label: when(order.created_at),
            updated_at: order.updated_at.to_rfc3339(),
            updated_label: when(order.updated_at),
            alerts: order.alerts,
            shipments: order
                .shipments
                .into_iter()
                .map(|s| ShipmentLine {
                    id: s.id,
                    status: s.status,
                    tracking: s.tracking.map(|t| format!("{} · {}", t.carrier, t.number)),
                    updated_label: when(s.last_update_at),
                })
                .collect(),
            timeline: order
                .timeline
                .into_iter()
                .map(|e| TimelineLine {
                    at: e.ts.to_rfc3339(),
                    at_label: when(e.ts),
                    event: e.event,
                    details: e.details,
                })
                .collect(),
        }
    }
}

impl Banner {
    /// The banner of `digest` on the page `view` (the tabs' links and the drawer's come from
    /// it, keeping the admin's `embedding`); `next_poll` is when the server's poller runs next.
    pub fn of(
        digest: Digest,
        view: &OrdersView,
        embedding: &Embedding,
        next_poll: Option<DateTime<Utc>>,
        formats: &Formats,
    ) -> Self {
        let when = |at: DateTime<Utc>| formats.when(at);
        let tab = match digest.kind {
            AlertKind::TrackingPending => Some(Tab::TrackingPending),
            AlertKind::Delayed => Some(Tab::Delayed),
            AlertKind::DataGap => None,
        };
        let gap = (digest.kind == AlertKind::DataGap)
            .then(|| digest.first.first())
            .flatten()
            .map(|line| GapNote {
                what: line.message.clone(),
                since: when(line.created_at),
                next_poll: next_poll.map(when),
            });
        let view_href = tab.map(|tab| {
            let mut q = ListQuery::for_shop(view.shop.clone());
            q.tab = tab;
            embedding.keep_in(&page_href(&q, view.filters.shop.as_deref()))
        });
        let orders = digest
            .first
            .into_iter()
            .filter_map(|line| {
                Some(BannerOrder {
                    number: line.order_number?,
                    href: embedding.keep_in(&with_order(&view.self_href, &line.order_id?)),
                    message: line.message,
                })
            })
            .collect();
        let label = super::super::banners::banner_text(digest.kind, digest.count);
        let html = super::super::banners::body_html(
            digest.kind,
            digest.count,
            label.clone(),
            orders,
            view_href,
            gap,
        );
        Banner {
            kind: digest.kind,
            count: digest.count,
            label,
            html,
        }
    }
}

impl OrdersView {
    /// The view of one page in UTC and `en-US` (see [`OrdersView::build_in`]).
    pub fn build(
        query: &ListQuery,
        list: OrderList,
        sample: bool,
        shop: Option<&str>,
        now: DateTime<Utc>,
    ) -> Self {
        Self::build_in(
            query,
            list,
            sample,
            shop,
            now,
            &Formats::default(),
            &Embedding::default(),
        )
    }

    /// The view of one page: `query` is what was asked, `list` what Sync answered, `shop` the
    /// shop the URL named (if any), `now` the instant ages are measured from, `formats` how
    /// times and money are written, `embedding` the admin's parameters every link keeps.
    pub fn build_in(
        query: &ListQuery,
        list: OrderList,
        sample: bool,
        shop: Option<&str>,
        now: DateTime<Utc>,
        formats: &Formats,
        embedding: &Embedding,
    ) -> Self {
        let self_href = page_href(query, shop);
        let export_href = format!(
            "{EXPORT_PATH}{}",
            self_href.strip_prefix(PATH).unwrap_or_default()
        );
        let info = list.page_info;
        // Another tab, or another page of this one: same filters and page size, first page.
        let at = |tab: Tab, cursor, direction| {
            let mut q = query.clone();
            q.tab = tab;
            q.cursor = cursor;
            q.direction = direction;
            page_href(&q, shop)
        };
        let tabs_html =
            super::super::controls::tabs_html(tab_links(query, &list.counts, shop, embedding));
        let filters = FilterState {
            shop: shop.map(str::to_owned),
            embedding: Embedding::default(),
            tab: query.tab,
            statuses: query.filter.statuses.clone(),
            priorities: query.filter.priorities.clone(),
            assigned_to: match &query.filter.assigned_to {
                None => String::new(),
                Some(AssigneeFilter::Unassigned) => orders_core::query::UNASSIGNED.to_owned(),
                Some(AssigneeFilter::Person(p)) => p.clone(),
            },
            date_start: query.date_start.clone().unwrap_or_default(),
            date_end: query.date_end.clone().unwrap_or_default(),
            search: query
                .filter
                .search
                .as_ref()
                .map(|s| s.text().to_owned())
                .unwrap_or_default(),
            page_size: query.page_size,
            active: query.filter != Default::default(),
            clear_href: {
                let mut q = ListQuery::for_shop(query.shop_domain.clone());
                q.tab = query.tab;
                q.page_size = query.page_size;
                page_href(&q, shop)
            },
        };
        let offset = info.cursor.offset();
        let shown = list.orders.len() as u64;
        OrdersView {
            shop: query.shop_domain.clone(),
            sample,
            mock: false,
            tabs_html,
            first_row: if shown == 0 { 0 } else { offset + 1 },
            last_row: offset + shown,
            total: list.counts.get(query.tab),
            filters,
            previous_href: info
                .previous_cursor
                .filter(|_| info.has_previous_page)
                .map(|c| at(query.tab, Some(c), Direction::Previous)),
            next_href: info
                .next_cursor
                .filter(|_| info.has_next_page)
                .map(|c| at(query.tab, Some(c), Direction::Next)),
            rows: list
                .orders
                .into_iter()
                .map(|o| OrderRow::new(o, now, &self_href, formats))
                .collect(),
            self_href,
            export_href,
            pictures: None,
            detail: None,
            detail_error: None,
            undelivered: 0,
            importing: None,
            signed_in_as: None,
            banners: Vec::new(),
            time_zone: formats.clock.name().to_owned(),
        }
        .with_embedding(embedding)
    }
}

/// The six tabs of `query`'s view, with `counts` as their badges. Each link keeps the filters and
/// the page size, starts at the first page, and keeps the admin's `embedding`.
pub(crate) fn tab_links(
    query: &ListQuery,
    counts: &TabCounts,
    shop: Option<&str>,
    embedding: &Embedding,
) -> Vec<TabLink> {
    Tab::ALL
        .iter()
        .map(|&tab| {
            let mut q = query.clone();
            q.tab = tab;
            q.cursor = None;
            q.direction = Direction::Next;
            TabLink {
                tab,
                count: counts.get(tab),
                href: embedding.keep_in(&page_href(&q, shop)),
                active: tab == query.tab,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::tests::order;
    use chrono::Duration;
    use orders_core::{Cursor, PageWindow, TabCounts};

    fn query(pairs: &[(&str, &str)]) -> ListQuery {
        ListQuery::parse(pairs.iter().copied(), Some("acme.myshopify.com")).unwrap()
    }

    fn list(query: &ListQuery, rows: usize, total: u64) -> OrderList {
        OrderList {
            orders: (0..rows).map(order).collect(),
            page_info: query.window().page_info(rows, total),
            counts: TabCounts {
                all: total,
                returns: 7,
                ..TabCounts::default()
            },
            shopify_cursor: None,
        }
    }

    #[test]
    fn the_first_page_links_to_the_next_and_not_to_a_previous_one() {
        let q = query(&[]);
        let view = OrdersView::build(&q, list(&q, 50, 120), false, None, Utc::now());
        assert_eq!(view.previous_href, None);
        assert_eq!(view.next_href.as_deref(), Some("/orders?cursor=ofs%3A1e"));
        assert_eq!(view.total, 120);
    }

    #[test]
    fn page_links_keep_the_shop_the_tab_the_size_and_the_filters() {
        let q = query(&[
            ("tab", "returns"),
            ("pageSize", "25"),
            ("cursor", "ofs:p"),
            ("assigned_to", "Sam Lee"),
        ]);
        let mut l = list(&q, 25, 100);
        l.page_info = PageWindow::new(Cursor(25), Direction::Next, 25).page_info(25, 100);
        let view = OrdersView::build(&q, l, false, Some("acme.myshopify.com"), Utc::now());
        assert_eq!(
            view.previous_href.as_deref(),
            Some("/orders?shop=acme.myshopify.com&tab=returns&pageSize=25&cursor=ofs%3Ap&direction=previous&assigned_to=Sam%20Lee")
        );
        assert_eq!(
            view.next_href.as_deref(),
            Some("/orders?shop=acme.myshopify.com&tab=returns&pageSize=25&cursor=ofs%3A1e&assigned_to=Sam%20Lee")
        );
        assert_eq!((view.first_row, view.last_row), (26, 50));
    }

    #[test]
    fn tab_page_and_export_links_keep_the_search() {
        let q = query(&[("query", " Ada #1 "), ("tab", "returns")]);
        let l = list(&q, 50, 120);
        let tabs = tab_links(&q, &l.counts, None, &Embedding::default());
        let all = tabs.iter().find(|t| t.tab == Tab::All).unwrap();
        assert_eq!(all.href, "/orders?query=Ada%20%231");
        let view = OrdersView::build(&q, l, false, None, Utc::now());
        assert!(view.tabs_html.contains("href=\"/orders?query=Ada%20%231\""));
        assert_eq!(
            view.next_href.as_deref(),
            Some("/orders?tab=returns&cursor=ofs%3A1e&query=Ada%20%231")
        );
        assert_eq!(
            view.export_href,
            "/orders/export.csv?tab=returns&query=Ada%20%231"
        );
        assert!(view.filters.active);
        assert_eq!(view.filters.search, "Ada #1");
    }

    #[test]
    fn tab_links_start_at_the_first_page_and_mark_the_current_tab() {
        let q = query(&[("tab", "returns"), ("cursor", "ofs:1e")]);
        let l = list(&q, 0, 3);
        let tabs = tab_links(&q, &l.counts, None, &Embedding::default());
        let returns = tabs.iter().find(|t| t.tab == Tab::Returns).unwrap();
        assert!(returns.active);
        assert_eq!(returns.count, 7);
        assert_eq!(returns.href, "/orders?tab=returns");
        let all = tabs.iter().find(|t| t.tab == Tab::All).unwrap();
        assert!(!all.active);
        assert_eq!(all.href, "/orders");
        assert_eq!(tabs.len(), 6);
        // As the page shows them: the current tab marked, each with its count.
        let html = OrdersView::build(&q, l, false, None, Utc::now()).tabs_html;
        assert_eq!(html.matches("data-tab=").count(), 6, "{html}");
        assert!(
            html.contains("href=\"/orders?tab=returns\"") && html.contains("aria-current=\"page\""),
            "{html}"
        );
    }

    #[test]
    fn an_empty_page_shows_no_rows_and_no_range() {
        let q = query(&[]);
        let view = OrdersView::build(&q, list(&q, 0, 0), true, None, Utc::now());
        assert_eq!((view.first_row, view.last_row, view.total), (0, 0, 0));
        assert!(view.sample && view.next_href.is_none());
    }

    fn inside_the_admin() -> Embedding {
        Embedding {
            host: Some("YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ==".into()),
            embedded: Some("1".into()),
            locale: None,
        }
    }

    /// Every link the view holds, the tabs' from their HTML.
    fn links(view: &OrdersView) -> Vec<String> {
        let mut links: Vec<String> = view
            .tabs_html
            .split("href=\"")
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .map(|href| href.replace("&amp;", "&"))
            .collect();
        let mut rest: Vec<&str> = view.rows.iter().map(|r| r.detail_href.as_str()).collect();
        links.extend(view.previous_href.iter().cloned());
        links.extend(view.next_href.iter().cloned());
        rest.extend([
            view.self_href.as_str(),
            view.export_href.as_str(),
            view.filters.clear_href.as_str(),
        ]);
        links.extend(rest.into_iter().map(str::to_owned));
        links
    }

    #[test]
    fn every_link_and_the_filter_form_keep_the_admins_host_and_embedded() {
        let q = query(&[
            ("tab", "returns"),
            ("cursor", "ofs:p"),
            ("priority", "high"),
        ]);
        let mut l = list(&q, 2, 100);
        l.page_info = PageWindow::new(Cursor(25), Direction::Next, 25).page_info(2, 100);
        let view = OrdersView::build_in(
            &q,
            l,
            false,
            Some("acme.myshopify.com"),
            Utc::now(),
            &Formats::default(),
            &inside_the_admin(),
        );
        let kept = "host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ%3D%3D&embedded=1";
        let links = links(&view);
        assert_eq!(links.len(), 6 + 2 + 2 + 3);
        for link in links {
            assert!(link.starts_with("/orders"), "{link}");
            assert!(link.contains("shop=acme.myshopify.com"), "{link}");
            assert_eq!(link.matches(kept).count(), 1, "{link}");
        }
        assert_eq!(
            view.next_href.as_deref(),
            Some(
                "/orders?shop=acme.myshopify.com&tab=returns&cursor=ofs%3Ar&priority=high\
                 &host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ%3D%3D&embedded=1"
            )
        );
        assert_eq!(
            view.export_href,
            "/orders/export.csv?shop=acme.myshopify.com&tab=returns&cursor=ofs%3Ap\
             &priority=high&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ%3D%3D&embedded=1"
        );
        assert_eq!(
            view.rows[0].detail_href,
            "/orders?shop=acme.myshopify.com&tab=returns&cursor=ofs%3Ap&priority=high\
             &order=gid%3A%2F%2Fshopify%2FOrder%2F0\
             &host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ%3D%3D&embedded=1"
        );
        assert_eq!(view.filters.embedding, inside_the_admin());
    }

    #[test]
    fn a_page_without_host_or_embedded_does_not_grow_them() {
        let q = query(&[("tab", "returns"), ("cursor", "ofs:p")]);
        let mut l = list(&q, 2, 100);
        l.page_info = PageWindow::new(Cursor(25), Direction::Next, 25).page_info(2, 100);
        let built = OrdersView::build(&q, l, false, None, Utc::now());
        let view = built.clone().with_embedding(&Embedding::default());
        assert_eq!(view, built);
        for link in links(&view) {
            assert!(
                !link.contains("host=") && !link.contains("embedded="),
                "{link}"
            );
        }
        assert_eq!(view.filters.embedding, Embedding::default());
    }

    #[test]
    fn the_admin_link_names_the_store_and_the_orders_number() {
        assert_eq!(
            admin_href("acme-eu.myshopify.com", "gid://shopify/Order/5001").as_deref(),
            Some("https://admin.shopify.com/store/acme-eu/orders/5001")
        );
        assert_eq!(
            admin_href("acme.example.com", "gid://shopify/Order/5001"),
            None
        );
        assert_eq!(
            admin_href("acme.myshopify.com", "gid://shopify/Product/5"),
            None
        );
        assert_eq!(
            admin_href("acme.myshopify.com", "gid://shopify/Order/5?x"),
            None
        );
        let facts = OrderFacts::new(order(3), "acme.myshopify.com", &Formats::default());
        assert_eq!(
            facts.admin_href.as_deref(),
            Some("https://admin.shopify.com/store/acme/orders/3")
        );
        assert_eq!(facts.created_label, "Jan 1, 03:00");
        let detail = OrderDetail::new(order(3), "acme.myshopify.com", &Formats::default());
        assert!(detail
            .facts_html
            .contains("href=\"https://admin.shopify.com/store/acme/orders/3\""));
        assert!(detail.facts_html.contains("Jan 1, 03:00"));
    }

    #[test]
    fn ages_read_in_minutes_then_hours_then_days() {
        let now = Utc::now();
        assert_eq!(age(now - Duration::minutes(45), now), "45m");
        assert_eq!(age(now - Duration::hours(5), now), "5h");
        assert_eq!(age(now - Duration::hours(47), now), "47h");
        assert_eq!(age(now - Duration::days(3), now), "3d");
        assert_eq!(age(now + Duration::minutes(5), now), "0m");
    }
}
