//! The dashboard's server side: the Leptos routes and server functions, the static site that
//! `cargo leptos build` writes (WASM, JS, CSS, assets), and the [`OrdersBackend`] port implemented
//! over the one service layer, so the dashboard reads orders exactly as the Sync API does.

use std::sync::Arc;

use anyhow::{bail, Context};
use app::backend::{OrdersBackend, Page, Refusal, WriteAnswer};
use app::orders::POSITION_PARAM;
use app::sync::{SyncFailure, SyncWrite};
use axum::Router;
use leptos::config::{get_configuration, LeptosOptions};
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use orders_core::envelope::{AssignBody, FulfillBody, ReturnBody, SupportBody};
use orders_core::position::Position;
use orders_core::query::parse_shop_domain;
use orders_core::{ListQuery, Order, OrderRef};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::body_from_value;
use crate::service::{Answer, ReadAt, Service, ServiceError};
use crate::state::AppState;
use crate::trust::gate::Viewer;
use crate::trust::headers::ScriptNonce;
use crate::trust::{Credential, Door, Trust};

/// The page routes, the server functions and, as the fallback, the static files.
pub fn router(state: AppState) -> Router {
    let service = state.service.clone();
    let trust = state.trust.clone();
    // App Bridge in every page's head, with the app's client id (SPEC §10).
    let app_bridge = trust
        .settings()
        .shopify_api_key
        .clone()
        .map(|api_key| app::AppBridge {
            api_key,
            script_url: trust.settings().app_bridge_url.clone(),
        });
    // Per request: the page's script nonce (see `trust::headers`) and a backend that knows who is
    // signed in (see `trust::gate`), both read from the request the door let through.
    let context = move || {
        let parts = use_context::<axum::http::request::Parts>();
        let extension = |p: &axum::http::request::Parts| {
            (
                p.extensions.get::<ScriptNonce>().cloned(),
                p.extensions.get::<Viewer>().cloned(),
            )
        };
        let (nonce, viewer) = parts.as_ref().map(extension).unwrap_or_default();
        if let Some(ScriptNonce(nonce)) = nonce {
            provide_context(Nonce::from_value(nonce));
        }
        if let Some(app_bridge) = app_bridge.clone() {
            provide_context(app_bridge);
        }
        let backend: Arc<dyn OrdersBackend> = Arc::new(Dashboard {
            service: service.clone(),
            trust: trust.clone(),
            // The door put the request's credential here; a request it did not see has none.
            credential: viewer.map_or(Credential::Anonymous, |v| v.0),
            accept_language: parts
                .as_ref()
                .and_then(|p| p.headers.get(axum::http::header::ACCEPT_LANGUAGE))
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            admitted: std::sync::Mutex::new(None),
        });
        provide_context(backend);
    };
    let routes = generate_route_list(app::App);
    Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = state.leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context,
            app::shell,
        ))
        .with_state(state)
}

/// The dashboard's backend for one request: the service, seen through the request's credential.
/// Every shop it touches is first admitted by the one access rule ([`Trust::admit`]).
struct Dashboard {
    service: Service,
    trust: Trust,
    credential: Credential,
    /// The request's `Accept-Language`: how money is written when the admin names no `locale`.
    accept_language: Option<String>,
    /// The shop this request was admitted to, once it was.
    admitted: std::sync::Mutex<Option<String>>,
}

impl Dashboard {
    /// 401 or 403 unless the credential may see `shop` through the dashboard. The page is
    /// admitted to its shop by the shop rule ([`Trust::dashboard_shop`]); the drawer's order and
    /// the writes then name a shop again, and the rule is asked only for another shop than the
    /// one already admitted.
    async fn check_shop(&self, shop: &str) -> Result<(), ApiError> {
        if self.admitted().as_deref() == Some(shop) {
            return Ok(());
        }
        self.trust
            .admit(&self.service, &self.credential, shop, Door::Dashboard)
            .await?;
        *self.admitted() = Some(shop.to_owned());
        Ok(())
    }

    /// The shop this request was admitted to, if any.
    fn admitted(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.admitted.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A refusal of the dashboard, from the service's error; `param` names the page parameter at
/// fault, if one is.
fn refusal(param: Option<&str>) -> impl FnOnce(ApiError) -> Refusal + '_ {
    move |e| Refusal {
        status: e.status_code().as_u16(),
        param: param.map(str::to_owned),
        message: e.to_string(),
    }
}

#[async_trait::async_trait]
impl OrdersBackend for Dashboard {
    async fn page(
        &self,
        shop: Option<String>,
        mut query: Vec<(String, String)>,
    ) -> Result<Option<Page>, Refusal> {
        let (service, me) = (&self.service, self.credential.session());
        // The one shop rule: nothing of a shop is read before this request is admitted to it.
        let shop = self
            .trust
            .dashboard_shop(service, &self.credential, shop.as_deref())
            .await
            .map_err(refusal(Some("shop")))?;
        let Some(shop) = shop else {
            return Ok(None);
        };
        *self.admitted() = Some(shop.clone());
        // `assigned_to=mine`: the signed-in staff member's orders.
        for (k, v) in query.iter_mut() {
            if k == "assigned_to" && v.trim().eq_ignore_ascii_case("mine") {
                *v = me.map(|me| me.staff.clone()).ok_or_else(|| Refusal {
                    status: 400,
                    param: Some("assigned_to".into()),
                    message: "\"mine\" needs a sign-in: there is no signed-in staff member".into(),
                })?;
            }
        }
        let order = query
            .iter()
            .find(|(k, v)| k == "order" && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned());
        // The page's last write, if it made one: its reads are served by a copy that has it.
        let position = match query
            .iter()
            .rfind(|(k, v)| k == POSITION_PARAM && !v.trim().is_empty())
        {
            None => None,
            Some((_, v)) => Some(v.parse::<Position>().map_err(|e| Refusal {
                status: 400,
                param: Some(POSITION_PARAM.into()),
                message: e.to_string(),
            })?),
        };
        let at = service.page_read_at(&shop, position);
        // Shopify's admin adds `locale=` to the page's URL; the query ignores it.
        let admin_locale = query
            .iter()
            .rfind(|(k, _)| k == "locale")
            .map(|(_, v)| v.clone());
        let bad_query = |e: orders_core::QueryError| Refusal {
            status: 400,
            param: Some(
                if e.param == "shop_domain" {
                    "shop"
                } else {
                    e.param
                }
                .into(),
            ),
            message: e.message,
        };
        let mut query = ListQuery::parse(query, Some(&shop)).map_err(bad_query)?;
        // The page's dates are the shop's local days (the Sync API's stay UTC days, SPEC §2).
        let clock = service.shop_clock(&query.shop_domain).await;
        query = query
            .with_local_days(|day| clock.day_range(day))
            .map_err(bad_query)?;
        // The page, its pictures, the undelivered events and the banners are read at once.
        let (listing, stats, undelivered, alerts) = futures::future::join4(
            service.dashboard_list(&query, at),
            service.dashboard_stats(&query, &clock, at),
            service.outbox_summary(&query.shop_domain),
            service.alert_digests(&query.shop_domain),
        )
        .await;
        // The service's errors as the door answers them.
        let (listing, stats, undelivered) = (
            listing.map_err(ApiError::from),
            stats.map_err(ApiError::from),
            undelivered.map_err(ApiError::from),
        );
        let (list, sample) = listing.map_err(|e| {
            tracing::warn!(shop = %query.shop_domain, error = %e, "the dashboard could not list orders");
            Refusal {
                status: 503,
                param: None,
                message: e.to_string(),
            }
        })?;
        // The fallback shows the sample shop's orders, whatever shop was asked for.
        if sample && !service.is_sample() {
            query.shop_domain = service.sample_shop().to_owned();
        }
        // The pictures are a bonus: if they cannot be counted, or were counted on other data than
        // the rows (the database came or went in between), the page shows the orders without them.
        let stats = match stats {
            Ok((stats, counted_on_sample)) if counted_on_sample == sample => Some(stats),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "the dashboard could not count the view's stats");
                None
            }
        };
        // The banners, like the pictures, only from the data the rows came from.
        let alerts = match alerts {
            Ok((alerts, counted_on_sample)) if counted_on_sample == sample => alerts,
            Ok(_) => Vec::new(),
            Err(e) => {
                tracing::warn!(error = %e, "the dashboard could not read the shop's open alerts");
                Vec::new()
            }
        };
        // Sample data has no outbox, nor an import, worth showing.
        let (undelivered, importing) = if sample {
            (0, None)
        } else {
            // A badge, not the page: if the count cannot be read, the page shows without it.
            let dead = undelivered.map(|c| c.dead).unwrap_or(0);
            (dead, self.trust.import_progress(&query.shop_domain))
        };
        // The order is looked up in the shop whose rows are on screen (the sample shop, too).
        let detail = match order {
            None => None,
            Some(id) => Some(self.order(&query.shop_domain, &id, at).await),
        };
        Ok(Some(Page {
            query,
            list,
            sample,
            mock: service.is_sample(),
            signed_in_as: me.map(|me| me.staff.clone()),
            undelivered,
            importing,
            stats,
            detail,
            alerts,
            next_poll: service.next_poll(),
            clock,
            locale: orders_core::locale::negotiate(
                admin_locale.as_deref(),
                self.accept_language.as_deref(),
            ),
        }))
    }

    async fn write(
        &self,
        write: SyncWrite,
        body: Value,
        key: Option<String>,
    ) -> Result<WriteAnswer, Refusal> {
        let shop = body
            .get("shop_domain")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.check_shop(shop).await.map_err(refusal(None))?;
        // The dashboard's key counts as the endpoint's `Idempotency-Key`: a retry of the same
        // write gets the first answer, and is never applied twice.
        let key = key
            .map(|k| crate::trust::idempotency::keyed(&k, endpoint(write), &body))
            .transpose()
            .map_err(refusal(None))?;
        let key = key.as_ref();
        let service = &self.service;
        match write {
            SyncWrite::Assign => {
                service
                    .door(body, |s, b: AssignBody| async move {
                        Ok(s.assign(&b.validate()?, key).await?)
                    })
                    .await
            }
            SyncWrite::Fulfill => {
                service
                    .door(body, |s, b: FulfillBody| async move {
                        Ok(s.fulfill(&b.validate()?, key).await?)
                    })
                    .await
            }
            SyncWrite::Support => {
                service
                    .door(body, |s, b: SupportBody| async move {
                        Ok(s.escalate(&b.validate()?, key).await?)
                    })
                    .await
            }
            SyncWrite::Returns => {
                service
                    .door(body, |s, b: ReturnBody| async move {
                        Ok(s.apply_return_action(&b.validate()?, key).await?)
                    })
                    .await
            }
        }
        .map(|answer| WriteAnswer {
            envelope: answer.body,
            position: answer.position,
        })
        .map_err(refusal(None))
    }
}

/// The endpoint of the Sync API a dashboard write stands for: its idempotency keys are that
/// endpoint's.
fn endpoint(write: SyncWrite) -> &'static str {
    match write {
        SyncWrite::Assign => "/sync/orders/assign",
        SyncWrite::Fulfill => "/sync/orders/fulfill",
        SyncWrite::Support => "/sync/orders/support",
        SyncWrite::Returns => "/sync/orders/returns",
    }
}

impl Dashboard {
    /// The order of the drawer, or what the drawer says instead.
    async fn order(&self, shop: &str, id: &str, at: ReadAt) -> Result<Order, String> {
        let not_found = || format!("There is no order {id} in {shop}.");
        let failed = |status: u16, message: String| SyncFailure { status, message }.to_string();
        self.check_shop(shop)
            .await
            .map_err(|e| failed(e.status_code().as_u16(), e.to_string()))?;
        let shop_domain = parse_shop_domain(shop)
            .map_err(|m| failed(400, format!("invalid shop_domain: {m}")))?;
        let order = OrderRef::parse(id).map_err(|m| failed(400, format!("invalid id: {m}")))?;
        match self.service.dashboard_order(&shop_domain, &order, at).await {
            Ok(order) => Ok(order),
            Err(ServiceError::NotFound(_)) => Err(not_found()),
            Err(e) => {
                let e = ApiError::from(e);
                Err(failed(e.status_code().as_u16(), e.to_string()))
            }
        }
    }
}

impl Service {
    /// A write as its `POST /sync/orders/*` handler does it: the body read as the endpoint reads
    /// it, then validated and applied by the service.
    async fn door<B, F, Fut>(&self, body: Value, apply: F) -> Result<Answer, ApiError>
    where
        B: serde::de::DeserializeOwned,
        F: FnOnce(Service, B) -> Fut,
        Fut: std::future::Future<Output = Result<Answer, ApiError>>,
    {
        let body: B = body_from_value(body)?;
        apply(self.clone(), body).await
    }
}

/// The Leptos options for `serve`: where the site `cargo leptos build` wrote is, and what its
/// files are called.
///
/// Leptos reads them from `LEPTOS_*` variables at run time, with defaults (site root
/// `target/site`, package dir `pkg`), except the output name, which it also takes from
/// `LEPTOS_OUTPUT_NAME` as it was when the binary was compiled: cargo-leptos sets it for its
/// builds. So a binary from `cargo leptos build` needs nothing but the working directory (the
/// repository root, for `target/site`). A binary built by plain `cargo build` has no output name;
/// then the `[[workspace.metadata.leptos]]` section of `./Cargo.toml` is read instead, with
/// `LEPTOS_*` variables still overriding it.
pub fn leptos_options() -> anyhow::Result<LeptosOptions> {
    let named_at_build = option_env!("LEPTOS_OUTPUT_NAME").is_some_and(|n| !n.is_empty());
    let named_now = std::env::var("LEPTOS_OUTPUT_NAME").is_ok_and(|n| !n.is_empty());
    if named_at_build || named_now {
        return Ok(get_configuration(None)
            .context("invalid LEPTOS_* environment variable")?
            .leptos_options);
    }
    let manifest = std::path::Path::new("Cargo.toml");
    if !manifest.exists() {
        bail!(
            "no Leptos configuration: this binary was not built by cargo-leptos and there is no \
             Cargo.toml in the working directory; run it from the repository root, or set \
             LEPTOS_OUTPUT_NAME and LEPTOS_SITE_ROOT"
        );
    }
    let options = get_configuration(Some("Cargo.toml"))
        .context("could not read [[workspace.metadata.leptos]] from ./Cargo.toml")?
        .leptos_options;
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workspace_manifest_names_the_site_the_release_build_writes() {
        // `cargo test` runs in `server/`; `serve` falls back to the root manifest the same way.
        let options = get_configuration(Some("../Cargo.toml"))
            .expect("[[workspace.metadata.leptos]] parses")
            .leptos_options;
        assert_eq!(&*options.output_name, "orders-sync");
        assert_eq!(&*options.site_root, "target/site");
        assert_eq!(&*options.site_pkg_dir, "pkg");
    }
}
