//! The search (SPEC §2 `query`) reads through its indexes on a shop large enough for the planner
//! to care: the plans of a list's very statements (`PgStore::explain_list`), after `ANALYZE`, use
//! the shop's trigram index of its customers' names and emails, or the index of the order's name, and never
//! scan the orders (`VACUUM ANALYZE` first, as autovacuum would after the load).
//!
//! The sample data names its customers from a few dozen first and last names, so every trigram of
//! a name is in thousands of orders. A real shop's customers are nearly all different people: the
//! test gives them names (and emails) of their own.

use orders_core::query::PageWindow;
use orders_core::record::OrderRecord;
use orders_core::search::Search;
use orders_core::{ListQuery, Tab, Thresholds};

use crate::{now, TestDb, SHOP};

#[tokio::test]
async fn a_search_reads_through_its_indexes_not_a_scan() {
    let db = TestDb::new().await;
    let mut records = orders_core::sample::generate(SHOP, 30_000, 7, now());
    name_everyone(&mut records);
    db.store.replace_orders(SHOP, &records).await.unwrap();
    // What autovacuum does to a table after a load: the statistics of the rows, and of the GIN
    // indexes (whose metapage only VACUUM updates; without it the planner takes them for the
    // empty indexes the migration built and scales them up blindly).
    sqlx::query("VACUUM ANALYZE orders")
        .execute(db.store.pool())
        .await
        .unwrap();

    let some = &records[12_345];
    let email = some.customer_email.clone().unwrap_or_else(|| {
        let with_one = records.iter().find(|r| r.customer_email.is_some());
        with_one.unwrap().customer_email.clone().unwrap()
    });
    let cases = [
        // The customer's full name, in another case: a handful of orders.
        (
            some.customer_name.to_uppercase(),
            "orders_customer_search_idx",
        ),
        // An email's start, up to its `@`.
        (
            email.split('@').next().unwrap().to_owned(),
            "orders_customer_search_idx",
        ),
        // An order's name without its `#`.
        (
            some.order_number.trim_start_matches('#').to_owned(),
            "orders_order_name_lower_idx",
        ),
    ];
    let window = PageWindow {
        offset: 0,
        limit: 50,
        page_size: 50,
    };
    for (text, index) in cases {
        for tab in [Tab::All, Tab::Unfulfilled] {
            let mut q = ListQuery::for_shop(SHOP);
            q.tab = tab;
            q.filter.search = Some(Search::parse(&text).unwrap());
            let plan = db
                .store
                .explain_list(&q, window, now(), &Thresholds::default())
                .await
                .unwrap()
                .join("\n");
            assert!(plan.contains(index), "{text:?} in {tab}: {plan}");
            assert!(
                !plan.contains("Seq Scan on orders"),
                "{text:?} in {tab}: {plan}"
            );
        }
    }
    db.drop_database().await;
}

/// Gives the customers names of their own (made of syllables) and emails to match, as a shop's
/// real customers have.
fn name_everyone(records: &mut [OrderRecord]) {
    const SYLLABLES: &[&str] = &[
        "ka", "lo", "mi", "ren", "tas", "vu", "bel", "dor", "fi", "gan", "hu", "jes", "kor", "lin",
        "mar", "nok", "pel", "qui", "ros", "sun", "tev", "ul", "wim", "xan", "yor", "zed", "ab",
        "est", "ing", "oth",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut word = |syllables: u64| -> String {
        let mut out = String::new();
        for _ in 0..syllables {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            out.push_str(SYLLABLES[(state >> 33) as usize % SYLLABLES.len()]);
        }
        let mut chars = out.chars();
        chars
            .next()
            .map_or(String::new(), |c| c.to_uppercase().chain(chars).collect())
    };
    for r in records {
        let (first, last) = (word(2), word(3));
        if r.customer_email.is_some() {
            r.customer_email = Some(format!("{}.{}@example.com", first, last).to_lowercase());
        }
        r.customer_name = format!("{first} {last}");
    }
}
