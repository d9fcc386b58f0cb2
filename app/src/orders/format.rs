//! How the page writes times and money for the merchant, on the server only: times in the shop's
//! time zone, amounts in the request's locale (`orders_core::locale`).
//!
//! Policy: the view model (`model.rs`) writes every time label and every amount through
//! [`Formats`], so a label never says UTC by accident and no locale data or time zone database goes
//! into the WASM (this module, like the view model's builder, is `ssr` only). The raw amount and
//! instant stay beside the formatted ones (a cell's `title`, `<time datetime>`).

use chrono::{DateTime, NaiveDate, Utc};
use orders_core::locale::{format_money, Locale, ShopClock};
use orders_core::stats::OrderStats;

/// The shop's clock and the request's locale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Formats {
    pub clock: ShopClock,
    pub locale: Locale,
}

impl Default for Formats {
    /// UTC and `en-US`.
    fn default() -> Self {
        Formats {
            clock: ShopClock::utc(),
            locale: Locale::default(),
        }
    }
}

impl Formats {
    /// An instant for people, in the shop's zone: `Sep 27, 14:03`.
    pub fn when(&self, at: DateTime<Utc>) -> String {
        self.clock.when(at)
    }

    /// An instant with its zone named, for a `title`: `Dec 2, 00:30 (Asia/Tokyo)`.
    pub fn when_in_zone(&self, at: DateTime<Utc>) -> String {
        format!("{} ({})", self.clock.when(at), self.clock.name())
    }

    /// A local day as a label: `Sep 27`.
    pub fn day(&self, day: NaiveDate) -> String {
        self.clock.day_label(day)
    }

    /// An amount as the locale writes it: `¥51,100`, `1.234,50 €`.
    pub fn money(&self, amount: &str, currency: &str) -> String {
        format_money(amount, currency, &self.locale)
    }

    /// The amount as Sync keeps it: `51100.00 JPY`.
    pub fn raw_money(amount: &str, currency: &str) -> String {
        format!("{amount} {currency}")
    }
}

impl super::charts::Pictures {
    /// The pictures of `stats`, whose days are the shop's local days.
    pub fn of(stats: OrderStats, formats: &Formats) -> Self {
        super::charts::Pictures {
            returns: stats.returns_by_state,
            days: stats
                .per_day
                .into_iter()
                .map(|(day, n)| (formats.day(day), n))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use orders_core::alerts::{Digest, DigestLine};
    use orders_core::locale::negotiate;
    use orders_core::{AlertKind, ListQuery, Order, OrderList, TabCounts};

    use super::super::model::{Banner, OrderDetail, OrderFacts, OrdersView};
    use super::*;

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339)
            .expect("a test instant")
            .with_timezone(&Utc)
    }

    /// The test order #1007, of `total` in `currency`, placed at `created` and updated an hour later.
    fn order(total: &str, currency: &str, created: DateTime<Utc>) -> Order {
        Order {
            total_price: total.into(),
            currency: currency.into(),
            created_at: created,
            updated_at: created + Duration::hours(1),
            ..crate::orders::tests::order(7)
        }
    }

    fn view_of(order: Order, formats: &Formats) -> OrdersView {
        let query = ListQuery::for_shop("acme.myshopify.com");
        let list = OrderList {
            orders: vec![order],
            page_info: query.window().page_info(1, 1),
            counts: TabCounts {
                all: 1,
                ..TabCounts::default()
            },
            shopify_cursor: None,
        };
        OrdersView::build_in(
            &query,
            list,
            false,
            None,
            Utc::now(),
            formats,
            &super::super::links::Embedding::default(),
        )
    }

    fn tokyo(locale: Locale) -> Formats {
        Formats {
            clock: ShopClock::parse("Asia/Tokyo").expect("a known zone"),
            locale,
        }
    }

    #[test]
    fn a_yen_row_shows_the_symbol_no_decimals_and_the_raw_amount_as_its_title() {
        let formats = tokyo(negotiate(None, Some("en-US")));
        let view = view_of(
            order("51100.00", "JPY", at("2026-12-01T15:30:00Z")),
            &formats,
        );
        let row = &view.rows[0];
        assert_eq!(row.total, "¥51,100");
        assert_eq!(row.total_title, "51100.00 JPY");
        assert_eq!(row.created_label, "Dec 2, 00:30");
        assert_eq!(row.created_title, "Dec 2, 00:30 (Asia/Tokyo)");
        assert_eq!(view.time_zone, "Asia/Tokyo");
        // Japanese writes the yen sign full width, as CLDR says.
        let japanese = view_of(
            order("51100.00", "JPY", at("2026-12-01T15:30:00Z")),
            &tokyo(negotiate(Some("ja"), Some("en-US"))),
        );
        assert_eq!(japanese.rows[0].total, "\u{ffe5}51,100");
    }

    #[test]
    fn a_euro_row_in_german_groups_with_dots_and_puts_the_symbol_after() {
        let formats = Formats {
            clock: ShopClock::utc(),
            locale: negotiate(None, Some("de-DE,de;q=0.9,en;q=0.5")),
        };
        let view = view_of(
            order("1234.50", "EUR", at("2026-12-01T15:30:00Z")),
            &formats,
        );
        assert_eq!(view.rows[0].total, "1.234,50\u{a0}€");
        assert_eq!(view.rows[0].created_label, "Dec 1, 15:30");
        assert_eq!(view.rows[0].created_title, "Dec 1, 15:30 (UTC)");
        let dollars = view_of(
            order("1234.5", "USD", at("2026-12-01T15:30:00Z")),
            &Formats::default(),
        );
        assert_eq!(dollars.rows[0].total, "$1,234.50");
    }

    #[test]
    fn the_drawer_and_a_gap_banner_tell_time_in_the_shops_zone() {
        let formats = tokyo(Locale::default());
        let placed = at("2026-12-01T15:30:00Z");
        let mut o = order("51100.00", "JPY", placed);
        o.timeline = vec![orders_core::TimelineEntry {
            ts: placed,
            event: "order.created".into(),
            details: String::new(),
        }];
        let facts = OrderFacts::new(o.clone(), "acme.myshopify.com", &formats);
        assert_eq!(facts.created_label, "Dec 2, 00:30");
        assert_eq!(facts.updated_label, "Dec 2, 01:30");
        assert_eq!(facts.timeline[0].at_label, "Dec 2, 00:30");
        assert_eq!(facts.total, "¥51,100");
        // The drawer shows them as the server wrote them.
        let detail = OrderDetail::new(o.clone(), "acme.myshopify.com", &formats);
        assert!(detail.facts_html.contains("¥51,100"));
        assert!(detail.facts_html.contains(">Dec 2, 00:30</time>"));
        assert!(detail.timeline_html.contains(">Dec 2, 00:30</time>"));
        let view = view_of(o, &formats);
        let digest = Digest {
            kind: AlertKind::DataGap,
            count: 1,
            first: vec![DigestLine {
                order_id: None,
                order_number: None,
                message: "the poller failed".into(),
                created_at: placed,
            }],
        };
        let banner = Banner::of(
            digest,
            &view,
            &Default::default(),
            Some(at("2026-12-01T16:00:00Z")),
            &formats,
        );
        assert!(
            banner.html.contains("Noticed Dec 2, 00:30."),
            "{}",
            banner.html
        );
        assert!(banner
            .html
            .contains("The next poll of Shopify runs at Dec 2, 01:00."));
    }
}
