//! The page's markup as the server renders it, before any WASM: what a click or a submit then
//! sends.

use chrono::{DateTime, Duration};
use leptos::prelude::*;
use orders_core::{
    Customer, FinancialStatus, FulfillmentStatus, Order, OrderStatus, Priority, Tab,
};

use super::controls::Filters;
use super::{Embedding, FilterState};

/// The test order `n`: `gid://shopify/Order/{n}`, `#{1000 + n}`, placed `n` hours after the epoch,
/// unfulfilled and paid, $10.00, for Ada Byron. The views' tests build on it.
pub(super) fn order(n: usize) -> Order {
    let at = DateTime::UNIX_EPOCH + Duration::hours(n as i64);
    Order {
        id: format!("gid://shopify/Order/{n}"),
        order_number: format!("#{}", 1000 + n),
        customer: Customer {
            name: "Ada Byron".into(),
            email: None,
        },
        total_price: "10.00".into(),
        currency: "USD".into(),
        status: OrderStatus::Unfulfilled,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        financial_status: FinancialStatus::Paid,
        priority: Priority::Normal,
        assigned_to: None,
        tags: vec![],
        created_at: at,
        updated_at: at,
        shipments: vec![],
        return_: None,
        support_thread: None,
        alerts: vec![],
        timeline: vec![],
    }
}

fn filters(embedding: Embedding) -> FilterState {
    FilterState {
        shop: Some("acme.myshopify.com".into()),
        embedding,
        tab: Tab::Returns,
        statuses: vec![],
        priorities: vec![],
        assigned_to: String::new(),
        date_start: String::new(),
        date_end: String::new(),
        search: String::new(),
        page_size: 50,
        active: false,
        clear_href: "/orders?shop=acme.myshopify.com&tab=returns".into(),
    }
}

fn rendered(filters: FilterState) -> String {
    Owner::new().with(|| view! { <Filters filters mine=None/> }.to_html())
}

#[test]
fn the_filter_form_keeps_the_admins_host_and_embedded_as_hidden_inputs() {
    let html = rendered(filters(Embedding {
        host: Some("YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ".into()),
        embedded: Some("1".into()),
        locale: None,
    }));
    for (name, value) in [
        ("shop", "acme.myshopify.com"),
        ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ"),
        ("embedded", "1"),
        ("tab", "returns"),
    ] {
        assert!(
            html.contains(&format!(
                r#"<input type="hidden" name="{name}" value="{value}""#
            )),
            "no hidden {name} in {html}"
        );
    }
}

#[test]
fn the_filter_form_outside_the_admin_has_no_host_or_embedded() {
    let html = rendered(filters(Embedding::default()));
    assert!(html.contains(r#"name="shop""#), "{html}");
    assert!(!html.contains(r#"name="host""#), "{html}");
    assert!(!html.contains(r#"name="embedded""#), "{html}");
}

#[test]
fn a_page_size_the_url_gave_stays_chosen_in_the_filter_form() {
    let mut state = filters(Embedding::default());
    state.page_size = 10;
    let html = rendered(state);
    assert!(
        html.contains(r#"<option value="10" selected"#),
        "pageSize=10 is offered and chosen: {html}"
    );
    assert!(!html.contains(r#"<option value="25" selected"#), "{html}");
    // The usual sizes stay, in order.
    let at = |n: &str| html.find(&format!(r#"<option value="{n}""#)).unwrap();
    assert!(at("10") < at("25") && at("25") < at("50") && at("100") < at("250"));

    let html = rendered(filters(Embedding::default()));
    assert!(html.contains(r#"<option value="50" selected"#), "{html}");
    assert_eq!(html.matches(" rows</option>").count(), 4, "{html}");
}

#[test]
fn the_search_box_sends_query_and_shows_the_search_in_force() {
    let mut searched = filters(Embedding::default());
    searched.search = "dubois".into();
    let html = rendered(searched);
    assert!(html.contains(r#"type="search""#), "{html}");
    assert!(html.contains(r#"name="query""#), "{html}");
    assert!(html.contains(r#"value="dubois""#), "{html}");
}
