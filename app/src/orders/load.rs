//! The server function behind the `/orders` page: a thin door onto the [`OrdersBackend`] the
//! server provides through context. The server chooses the shop, admits the request, parses the
//! query and reads the page; this turns its answer into an [`OrdersView`] and a refusal into the
//! page's HTTP status and [`LoadError`].
//!
//! [`OrdersBackend`]: crate::backend::OrdersBackend

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use leptos::server_fn::codec::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::model::{LoadError, OrdersView};

/// How the page's data travels in the first HTML: JSON, as Leptos's default, but read from its
/// bytes, as the server function's answer is read on later navigations. Both then share one reader,
/// and the browser carries the page's decoding code once instead of twice (a tenth of the WASM).
pub struct JsonBytes;

impl<T: Serialize> Encoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// One page of the dashboard. `shop` is the `?shop=` of the URL; `query` the page's other
/// parameters, as given (`tab`, `pageSize`, `cursor`, `direction`, filters, `order`).
#[server(input = Json)]
pub async fn load_orders(
    shop: Option<String>,
    query: Vec<(String, String)>,
) -> Result<OrdersView, LoadError> {
    use std::sync::Arc;

    use crate::backend::OrdersBackend;

    let backend = use_context::<Arc<dyn OrdersBackend>>()
        .ok_or_else(|| LoadError::Unavailable("the dashboard has no orders backend".into()))?;
    let named = shop
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    // The admin's parameters, for the links the server draws as HTML (the last one wins).
    let embedding = super::links::Embedding::from_url(|name| {
        query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    });
    match backend.page(shop, query).await {
        Ok(Some(page)) => Ok(OrdersView::of_page(
            page,
            named.as_deref(),
            &embedding,
            chrono::Utc::now(),
        )),
        Ok(None) => Err(LoadError::NoShop),
        Err(refusal) => {
            ssr::set_status(refusal.status);
            Err(refusal.into())
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use chrono::{DateTime, Utc};
    use http::StatusCode;
    use leptos::prelude::use_context;

    use super::super::charts::Pictures;
    use super::super::format::Formats;
    use super::super::links::Embedding;
    use super::super::model::{Banner, Importing, LoadError, OrderDetail, OrdersView};
    use crate::backend::{Page, Refusal};

    impl OrdersView {
        /// The view of the page the server read; `named` is the shop the URL named (if any).
        pub(super) fn of_page(
            page: Page,
            named: Option<&str>,
            embedding: &Embedding,
            now: DateTime<Utc>,
        ) -> Self {
            let formats = Formats {
                clock: page.clock,
                locale: page.locale,
            };
            let mut view = OrdersView::build_in(
                &page.query,
                page.list,
                page.sample,
                named,
                now,
                &formats,
                embedding,
            );
            view.mock = page.mock;
            view.signed_in_as = page.signed_in_as;
            view.undelivered = page.undelivered;
            view.importing = page.importing.map(|p| Importing {
                orders: p.orders,
                stopped: p.stopped,
            });
            view.pictures = page
                .stats
                .map(|stats| super::super::charts::to_html(Pictures::of(stats, &formats)));
            let banners = page
                .alerts
                .into_iter()
                .map(|digest| Banner::of(digest, &view, embedding, page.next_poll, &formats))
                .collect();
            view.banners = banners;
            match page.detail {
                Some(Ok(order)) => {
                    view.detail = Some(OrderDetail::new(order, &view.shop, &formats));
                }
                Some(Err(why)) => view.detail_error = Some(why),
                None => {}
            }
            view
        }
    }

    impl From<Refusal> for LoadError {
        fn from(refusal: Refusal) -> Self {
            match refusal.param {
                Some(param) => LoadError::BadQuery(param, refusal.message),
                None => LoadError::Unavailable(refusal.message),
            }
        }
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
}
