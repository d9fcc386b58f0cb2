//! The dashboard's server side: the Leptos routes and server functions, the static site that
//! `cargo leptos build` writes (WASM, JS, CSS, assets), and the [`OrdersBackend`] port implemented
//! over the one service layer, so the dashboard reads orders exactly as the Sync API does.

use std::sync::Arc;

use anyhow::{bail, Context};
use app::backend::{Listing, OrdersBackend};
use axum::Router;
use leptos::config::{get_configuration, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use orders_core::ListQuery;

use crate::service::Service;
use crate::state::AppState;

/// The page routes, the server functions and, as the fallback, the static files.
pub fn router(state: AppState) -> Router {
    let backend: Arc<dyn OrdersBackend> = Arc::new(state.service.clone());
    let context = move || provide_context(backend.clone());
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

#[async_trait::async_trait]
impl OrdersBackend for Service {
    async fn list_orders(&self, query: ListQuery) -> Result<Listing, String> {
        let (list, sample) = self
            .dashboard_list(&query)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Listing { list, sample })
    }

    async fn shops(&self) -> (Vec<String>, bool) {
        self.dashboard_shops().await
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
