//! The dashboard's server side: the Leptos routes and server functions, the static site that
//! `cargo leptos build` writes (WASM, JS, CSS, assets), and the [`OrdersBackend`] port implemented
//! over the one service layer, so the dashboard reads orders exactly as the Sync API does.

use std::sync::Arc;

use anyhow::{bail, Context};
use app::backend::{ImportProgress, Listing, OrdersBackend, SignedIn};
use app::sync::{SyncFailure, SyncWrite};
use axum::Router;
use leptos::config::{get_configuration, LeptosOptions};
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use orders_core::envelope::{AssignBody, FulfillBody, ReturnBody, SupportBody};
use orders_core::query::parse_shop_domain;
use orders_core::stats::OrderStats;
use orders_core::{Envelope, ListQuery, Order, OrderRef};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::body_from_value;
use crate::service::Service;
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
    /// The shop this request was admitted to, once it was.
    admitted: std::sync::Mutex<Option<String>>,
}

impl Dashboard {
    /// 401 or 403 unless the credential may see `shop` through the dashboard. A page asks for
    /// its shop several times (the page, its pictures, the outbox badge, the import); the rule
    /// is asked once, and the shop it admitted remembered for the rest of the request.
    async fn check_shop(&self, shop: &str) -> Result<(), ApiError> {
        let admitted = |s: &Option<String>| s.as_deref() == Some(shop);
        if admitted(&self.admitted.lock().unwrap_or_else(|p| p.into_inner())) {
            return Ok(());
        }
        self.trust
            .admit(&self.service, &self.credential, shop, Door::Dashboard)
            .await?;
        *self.admitted.lock().unwrap_or_else(|p| p.into_inner()) = Some(shop.to_owned());
        Ok(())
    }
}

fn failure(e: ApiError) -> SyncFailure {
    SyncFailure {
        status: e.status_code().as_u16(),
        message: e.to_string(),
    }
}

#[async_trait::async_trait]
impl OrdersBackend for Dashboard {
    async fn admit(&self, shop: &str) -> Result<(), SyncFailure> {
        self.check_shop(shop).await.map_err(failure)
    }

    async fn list_orders(&self, query: ListQuery) -> Result<Listing, String> {
        self.check_shop(&query.shop_domain)
            .await
            .map_err(|e| e.to_string())?;
        OrdersBackend::list_orders(&self.service, query).await
    }

    async fn stats(&self, query: ListQuery) -> Result<(OrderStats, bool), String> {
        self.check_shop(&query.shop_domain)
            .await
            .map_err(|e| e.to_string())?;
        OrdersBackend::stats(&self.service, query).await
    }

    async fn undelivered(&self, shop: &str) -> u64 {
        if self.check_shop(shop).await.is_err() {
            return 0;
        }
        OrdersBackend::undelivered(&self.service, shop).await
    }

    async fn shops(&self) -> (Vec<String>, bool) {
        match self.credential.session() {
            Some(s) => (vec![s.shop.clone()], false),
            None => OrdersBackend::shops(&self.service).await,
        }
    }

    async fn order(&self, shop: &str, id: &str) -> Result<Option<Order>, SyncFailure> {
        self.check_shop(shop).await.map_err(failure)?;
        OrdersBackend::order(&self.service, shop, id).await
    }

    async fn write(&self, write: SyncWrite, body: Value) -> (u16, Value) {
        let shop = body
            .get("shop_domain")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if let Err(e) = self.check_shop(shop).await {
            return (
                e.status_code().as_u16(),
                json(Envelope::<Value>::failure(e.to_string())),
            );
        }
        OrdersBackend::write(&self.service, write, body).await
    }

    async fn import_progress(&self, shop: &str) -> Option<ImportProgress> {
        self.check_shop(shop).await.ok()?;
        self.trust.import_progress(shop)
    }

    fn signed_in(&self) -> Option<SignedIn> {
        self.credential.session().map(|s| SignedIn {
            shop: s.shop.clone(),
            staff: s.staff.clone(),
        })
    }
}

#[async_trait::async_trait]
impl OrdersBackend for Service {
    async fn list_orders(&self, query: ListQuery) -> Result<Listing, String> {
        let (list, sample) = self
            .dashboard_list(&query)
            .await
            .map_err(|e| e.to_string())?;
        // The fallback shows the sample shop's orders, whatever shop was asked for.
        let shop = if sample && !self.store().is_sample() {
            self.sample_shop().to_owned()
        } else {
            query.shop_domain
        };
        Ok(Listing { list, sample, shop })
    }

    async fn stats(&self, query: ListQuery) -> Result<(OrderStats, bool), String> {
        self.dashboard_stats(&query)
            .await
            .map_err(|e| e.to_string())
    }

    async fn undelivered(&self, shop: &str) -> u64 {
        // A badge, not the page: if the count cannot be read, the page shows without it.
        self.outbox_summary(shop).await.map(|c| c.dead).unwrap_or(0)
    }

    async fn shops(&self) -> (Vec<String>, bool) {
        self.dashboard_shops().await
    }

    async fn order(&self, shop: &str, id: &str) -> Result<Option<Order>, SyncFailure> {
        let shop = parse_shop_domain(shop).map_err(|m| SyncFailure {
            status: 400,
            message: format!("invalid shop_domain: {m}"),
        })?;
        let order = OrderRef::parse(id).map_err(|m| SyncFailure {
            status: 400,
            message: format!("invalid id: {m}"),
        })?;
        match self.dashboard_order(&shop, &order).await {
            Ok(order) => Ok(Some(order)),
            Err(ApiError::NotFound(_)) => Ok(None),
            Err(e) => Err(failure(e)),
        }
    }

    async fn write(&self, write: SyncWrite, body: Value) -> (u16, Value) {
        let answer = match write {
            SyncWrite::Assign => {
                self.door(body, |s, b: AssignBody| async move {
                    s.assign(&b.validate()?, None).await.map(|a| a.body)
                })
                .await
            }
            SyncWrite::Fulfill => {
                self.door(body, |s, b: FulfillBody| async move {
                    s.fulfill(&b.validate()?, None).await.map(|a| a.body)
                })
                .await
            }
            SyncWrite::Support => {
                self.door(body, |s, b: SupportBody| async move {
                    s.escalate(&b.validate()?, None).await.map(|a| a.body)
                })
                .await
            }
            SyncWrite::Returns => {
                self.door(body, |s, b: ReturnBody| async move {
                    s.apply_return_action(&b.validate()?, None)
                        .await
                        .map(|a| a.body)
                })
                .await
            }
        };
        match answer {
            Ok(envelope) => (200, envelope),
            Err(e) => (
                e.status_code().as_u16(),
                json(Envelope::<Value>::failure(e.to_string())),
            ),
        }
    }
}

fn json<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Service {
    /// A write as its `POST /sync/orders/*` handler does it: the body read as the endpoint reads
    /// it, then validated and applied by the service.
    async fn door<B, F, Fut>(&self, body: Value, apply: F) -> Result<Value, ApiError>
    where
        B: serde::de::DeserializeOwned,
        F: FnOnce(Service, B) -> Fut,
        Fut: std::future::Future<Output = Result<Value, ApiError>>,
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
