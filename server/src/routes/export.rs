//! `GET /orders/export.csv`: every order of a dashboard view (its tab, filters and search, all
//! pages) as CSV, streamed in keyset batches so a shop of any size is exported in constant memory.
//!
//! Behind the dashboard's door: the credential (Shopify's session token as a bearer or as
//! `id_token=` in the link, or the development cookie) must be admitted to the shop.
//! The query is the dashboard's own: `shop` (chosen by the dashboard's one shop rule,
//! [`Trust::dashboard_shop`]), `tab`, the filters and the search (`query`); `cursor`, `direction`
//! and `pageSize` are checked like the page's and ignored. A plain date of `date_start`/`date_end` is
//! the shop's local day, as on the page (the Sync API's dates stay UTC days).
//! The first batch is read before the answer starts, so a bad query is a 400 and an unreachable
//! database a 503, each in the v1.2 envelope. Should the database fail mid-stream, the transfer is
//! cut short (no final chunk), and the client sees an incomplete download rather than a short file.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use futures::{stream, StreamExt};
use orders_core::{csv, ListQuery, Order, QueryError};

use crate::error::ApiError;
use crate::extract::{MinPosition, QueryPairs};
use crate::service::Service;
use crate::store::ExportKey;
use crate::trust::gate::Viewer;
use crate::trust::{Credential, Trust};

/// Orders per batch: one query each.
pub const EXPORT_BATCH: u32 = 1000;

fn bad_query(e: QueryError) -> ApiError {
    let param = if e.param == "shop_domain" {
        "shop"
    } else {
        e.param
    };
    ApiError::BadRequest(format!("invalid {param}: {}", e.message))
}

/// The CSV text of a batch.
fn batch_text(orders: &[Order], with_header: bool) -> String {
    let mut out = String::with_capacity(orders.len() * 200 + 256);
    if with_header {
        out.push_str(&csv::header());
    }
    for order in orders {
        csv::push_row(&mut out, order);
    }
    out
}

/// `GET /orders/export.csv`
pub async fn export_csv(
    State(service): State<Service>,
    State(trust): State<Trust>,
    viewer: Option<axum::Extension<Viewer>>,
    MinPosition(at): MinPosition,
    pairs: QueryPairs,
) -> Result<Response, ApiError> {
    let credential = viewer.map_or(Credential::Anonymous, |v| v.0 .0);
    let named = pairs.get("shop").or_else(|| pairs.get("shop_domain"));
    // The dashboard's shop rule, admitted before anything of the shop is read.
    let shop = trust
        .dashboard_shop(&service, &credential, named)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound("there is no shop to export yet: name one with ?shop=".into())
        })?;
    // The page's dates are the shop's local days, as on the page the link came from.
    let clock = service.shop_clock(&shop).await;
    let query = ListQuery::parse(pairs.0.iter().cloned(), Some(&shop))
        .and_then(|q| q.with_local_days(|day| clock.day_range(day)))
        .map_err(bad_query)?;

    let first = service.export_batch(&query, None, EXPORT_BATCH, at).await?;
    let filename = format!(
        "orders-{}-{}-{}.csv",
        query.shop_domain.replace('.', "-"),
        query.tab,
        chrono::Utc::now().format("%Y%m%d")
    );
    let head = batch_text(&first, true);
    let after = (first.len() == EXPORT_BATCH as usize).then(|| first.last().map(ExportKey::of));
    let rest = stream::unfold(
        (service, query, after.flatten()),
        move |(service, query, after)| async move {
            let key = after?;
            match service
                .export_batch(&query, Some(&key), EXPORT_BATCH, at)
                .await
            {
                Ok(batch) => {
                    let next = (batch.len() == EXPORT_BATCH as usize)
                        .then(|| batch.last().map(ExportKey::of))
                        .flatten();
                    let text = batch_text(&batch, false);
                    Some((Ok::<_, std::io::Error>(text), (service, query, next)))
                }
                Err(e) => {
                    tracing::warn!(error = %e, shop = %query.shop_domain, "the export stopped mid-way");
                    Some((
                        Err(std::io::Error::other(e.to_string())),
                        (service, query, None),
                    ))
                }
            }
        },
    );
    let body = stream::iter([Ok::<_, std::io::Error>(head)]).chain(rest);
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
