//! The server function behind the `/orders` page: a thin door onto the [`OrdersBackend`] the
//! server provides through context. It chooses the shop, validates the page's query with the
//! core's own rules (the read API's parameters) and turns the answer into an [`OrdersView`].
//!
//! [`OrdersBackend`]: crate::backend::OrdersBackend

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::model::{LoadError, OrdersView};

/// One page of the dashboard. `shop` is the `?shop=` of the URL; `query` the page's other
/// parameters, as given (`tab`, `pageSize`, `cursor`, `direction`, filters).
#[server(input = Json)]
pub async fn load_orders(
    shop: Option<String>,
    query: Vec<(String, String)>,
) -> Result<OrdersView, LoadError> {
    use std::sync::Arc;

    use crate::backend::OrdersBackend;

    let backend = use_context::<Arc<dyn OrdersBackend>>()
        .ok_or_else(|| LoadError::Unavailable("the dashboard has no orders backend".into()))?;
    let named = shop.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let signed_in = backend.signed_in();
    let chosen = match (&signed_in, named) {
        // A signed-in staff member sees their own shop, and no other.
        (Some(me), Some(named)) if !named.eq_ignore_ascii_case(&me.shop) => {
            ssr::set_status(403);
            return Err(LoadError::BadQuery {
                param: "shop".into(),
                message: format!("you are signed in to {}, not to {named}", me.shop),
            });
        }
        (Some(me), _) => me.shop.clone(),
        (None, _) => {
            let configured = std::env::var("DASHBOARD_SHOP").ok();
            match ssr::choose_shop(named, configured.as_deref()) {
                Some(shop) => shop,
                None => {
                    let (known, _) = backend.shops().await;
                    known.into_iter().next().ok_or(LoadError::NoShop)?
                }
            }
        }
    };
    // Nothing of a shop is read before the access rule has admitted this request to it.
    if let Err(refused) = backend.admit(&chosen).await {
        ssr::set_status(refused.status);
        return Err(LoadError::BadQuery {
            param: "shop".into(),
            message: refused.message,
        });
    }
    // `assigned_to=mine`: the signed-in staff member's orders.
    let mut query = query;
    for (k, v) in query.iter_mut() {
        if k == "assigned_to" && v.trim().eq_ignore_ascii_case("mine") {
            match &signed_in {
                Some(me) => *v = me.staff.clone(),
                None => {
                    ssr::set_status(400);
                    return Err(LoadError::BadQuery {
                        param: "assigned_to".into(),
                        message: "\"mine\" needs a sign-in: there is no signed-in staff member"
                            .into(),
                    });
                }
            }
        }
    }
    let order = query
        .iter()
        .find(|(k, v)| k == "order" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_owned());
    let query = orders_core::ListQuery::parse(query, Some(&chosen)).map_err(|e| {
        ssr::set_status(400);
        LoadError::BadQuery {
            param: if e.param == "shop_domain" {
                "shop".into()
            } else {
                e.param.into()
            },
            message: e.message,
        }
    })?;
    // The page, its pictures and the undelivered events are counted at once, side by side.
    let (listing, stats, undelivered) = futures::future::join3(
        backend.list_orders(query.clone()),
        backend.stats(query.clone()),
        backend.undelivered(&query.shop_domain),
    )
    .await;
    let listing = listing.map_err(|e| {
        tracing::warn!(shop = %query.shop_domain, error = %e, "the dashboard could not list orders");
        ssr::set_status(503);
        LoadError::Unavailable(e)
    })?;
    let mut shown = query.clone();
    shown.shop_domain = listing.shop;
    let mut view = OrdersView::build(
        &shown,
        listing.list,
        listing.sample,
        named,
        chrono::Utc::now(),
    );
    view.signed_in_as = signed_in.map(|me| me.staff);
    // Sample data has no outbox, nor an import, worth showing.
    if !view.sample {
        view.undelivered = undelivered;
        view.importing =
            backend
                .import_progress(&view.shop)
                .await
                .map(|p| super::model::Importing {
                    orders: p.orders,
                    stopped: p.stopped,
                });
    }
    // The pictures are a bonus: if they cannot be counted, or were counted on other data than the
    // rows (the database came or went in between), the page shows the orders without them.
    match stats {
        Ok((stats, sample)) if sample == view.sample => {
            view.pictures = Some(super::charts::to_html(stats.into()))
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "the dashboard could not count the view's stats"),
    }
    if let Some(id) = order {
        // The order is looked up in the shop whose rows are on screen (the sample shop, too).
        match backend.order(&view.shop, &id).await {
            Ok(Some(order)) => view.detail = Some(order.into()),
            Ok(None) => {
                view.detail_error = Some(format!("There is no order {id} in {}.", view.shop))
            }
            Err(failure) => view.detail_error = Some(failure.to_string()),
        }
    }
    Ok(view)
}

#[cfg(feature = "ssr")]
mod ssr {
    use http::StatusCode;
    use leptos::prelude::use_context;

    /// The shop named in the URL wins, then `DASHBOARD_SHOP`; `None` means "the first known shop".
    pub fn choose_shop(named: Option<&str>, configured: Option<&str>) -> Option<String> {
        named
            .or(configured.map(str::trim).filter(|s| !s.is_empty()))
            .map(str::to_owned)
    }

    /// Gives the server-rendered page the HTTP status of what went wrong (no-op in other calls).
    pub fn set_status(code: u16) {
        if let (Some(options), Ok(status)) = (
            use_context::<leptos_axum::ResponseOptions>(),
            StatusCode::from_u16(code),
        ) {
            options.set_status(status);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::choose_shop;

        #[test]
        fn the_url_wins_over_the_configured_shop_which_wins_over_the_first_known() {
            assert_eq!(
                choose_shop(Some("a.myshopify.com"), Some("b.myshopify.com")).as_deref(),
                Some("a.myshopify.com")
            );
            assert_eq!(
                choose_shop(None, Some(" b.myshopify.com ")).as_deref(),
                Some("b.myshopify.com")
            );
            assert_eq!(choose_shop(None, Some("")), None);
            assert_eq!(choose_shop(None, None), None);
        }
    }
}
