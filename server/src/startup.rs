//! Start-up as a sentence: open the stores (running migrations), build the application (binding its
//! listener), and serve it until Ctrl-C or SIGTERM, draining in-flight requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use leptos::config::LeptosOptions;
use orders_core::record::to_micros;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

use crate::service::{Database, Service};
use crate::settings::{redact, Settings, SAMPLE_ORDERS};
use crate::state::AppState;
use crate::store::postgres::replicas::Replicas;
use crate::store::postgres::DEFAULT_MAX_CONNECTIONS;
use crate::store::{MemoryStore, PgStore, Store};
use crate::trust::{gate, headers, Trust};
use crate::workers::Workers;

/// The in-memory sample data the dashboard falls back to.
pub fn sample_store(settings: &Settings) -> MemoryStore {
    let shop = settings.sample_shop();
    let records = orders_core::sample::generate(
        &shop,
        SAMPLE_ORDERS,
        orders_core::sample::DEFAULT_SEED,
        to_micros(chrono::Utc::now()),
    );
    MemoryStore::with_orders(&shop, records)
}

/// Connects to PostgreSQL and applies pending migrations, then gives the services over it (the
/// command line's way in); fails with a message saying which step failed.
pub async fn open_database(settings: &Settings) -> Result<Database> {
    Ok(Database::new(connect(settings).await?))
}

/// Connects to PostgreSQL and applies pending migrations; fails with a message saying which.
async fn connect(settings: &Settings) -> Result<PgStore> {
    let url = redact(&settings.database_url);
    let store = PgStore::connect_lazy(&settings.database_url)
        .with_context(|| format!("DATABASE_URL '{url}' is not a valid PostgreSQL URL"))?
        .with_secrets(settings.secrets.clone())
        .with_count_cache(settings.count_cache_bytes);
    store
        .migrate()
        .await
        .with_context(|| format!("could not apply the database migrations to {url}"))?;
    // Secrets stored before SECRETS_KEY was set are encrypted at the first start with it.
    let sealed = store
        .encrypt_plaintext_secrets()
        .await
        .with_context(|| format!("could not encrypt the stored secrets in {url}"))?;
    if sealed > 0 {
        tracing::info!(sealed, "stored secrets encrypted with SECRETS_KEY");
    }
    Ok(store)
}

/// The service with its stores: the sample store alone under `USE_MOCK_DATA`, else PostgreSQL with
/// the sample store as the dashboard's fallback.
pub async fn build_service(settings: &Settings) -> Result<Service> {
    let sample = sample_store(settings);
    if !settings.secrets.encrypts() && !settings.use_mock_data {
        tracing::warn!(
            "SECRETS_KEY is not set: shops' access tokens and webhook secrets are stored in \
             plaintext (development only; required with SHOPIFY_API_SECRET)"
        );
    }
    let (primary, replicas) = if settings.use_mock_data {
        tracing::warn!("USE_MOCK_DATA is set: serving the in-memory sample data, no database");
        (Store::Memory(sample.clone()), None)
    } else {
        let pg = connect(settings).await?;
        let replicas = (!settings.replica_urls.is_empty())
            .then(|| {
                Replicas::new(
                    &pg,
                    &settings.replica_urls,
                    settings.replica_max_lag,
                    DEFAULT_MAX_CONNECTIONS,
                )
                .context("DATABASE_REPLICA_URLS holds a URL that is not a PostgreSQL URL")
            })
            .transpose()?;
        if let Some(replicas) = &replicas {
            tracing::info!(
                replicas = replicas.len(),
                max_lag = ?settings.replica_max_lag,
                "reads of the list, one order and the export may go to replicas"
            );
        }
        (Store::Postgres(pg), replicas)
    };
    let service = Service::new(
        primary,
        Some(sample),
        settings.sample_shop(),
        settings.thresholds(),
    );
    if let Some(replicas) = replicas {
        service.set_replicas(Arc::new(replicas));
    }
    Ok(service)
}

/// The application, bound to its address and ready to serve.
pub struct Application {
    listener: TcpListener,
    router: Router,
    service: Service,
    settings: Settings,
    workers: Workers,
    /// The metrics listener, when `METRICS_ADDR` is set.
    metrics: Option<crate::metrics::MetricsServer>,
}

/// How long shutdown waits for the workers to return: the poller to release the shop it is
/// polling, the outbox worker to give back the events it was delivering.
const WORKER_STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

impl Application {
    /// Binds the listener (port 0 picks a free port) and assembles the routes. Refuses an address
    /// other machines reach without the app's secret (SPEC §11, [`TrustSettings::check_address`]).
    ///
    /// [`TrustSettings::check_address`]: crate::settings::TrustSettings::check_address
    pub async fn build(
        settings: &Settings,
        service: Service,
        leptos_options: LeptosOptions,
    ) -> Result<Self> {
        settings.trust.check_address(&settings.site_addr)?;
        let listener = TcpListener::bind(settings.site_addr)
            .await
            .with_context(|| format!("could not listen on {}", settings.site_addr))?;
        let dashboard = settings.trust.serves_dashboard(&settings.site_addr);
        if !dashboard {
            tracing::warn!(
                addr = %settings.site_addr,
                "API-only: no SHOPIFY_API_SECRET on an address other machines reach, so the \
                 dashboard is not served (SYNC_API_AUTH=required)"
            );
        }
        // What one client, and one shop, may hold of this process's live streams.
        service.live().streams().limit(&settings.limits);
        // The zone of the dashboard's shops whose own Shopify has not told yet.
        service.set_default_clock(settings.shop_time_zone);
        let mut trust = Trust::new(&settings.trust);
        if let Some(database) = service.database() {
            if let Some(installer) =
                crate::shopify::install::Installer::from_settings(settings, database)
            {
                trust = trust.with_installer(Arc::new(installer));
            }
        }
        let workers = Workers::default();
        let state = AppState {
            service: service.clone(),
            leptos_options,
            trust: trust.clone(),
            workers: workers.clone(),
        };
        let mut router = crate::routes::router(state.clone(), dashboard).with_state(state.clone());
        if dashboard {
            router = router.merge(crate::dashboard::router(state.clone()).layer(
                axum::middleware::from_fn_with_state(state, gate::dashboard_gate),
            ));
        }
        let router = crate::layers::guard(router, &settings.limits)
            .layer(axum::middleware::from_fn(crate::metrics::track))
            .layer(axum::middleware::from_fn_with_state(
                trust,
                headers::security_headers,
            ))
            .layer(TraceLayer::new_for_http().make_span_with(crate::layers::request_span))
            .layer(axum::middleware::from_fn(crate::layers::request_id));
        let metrics = match settings.metrics_addr {
            Some(addr) if addr == settings.site_addr && addr.port() != 0 => {
                anyhow::bail!("METRICS_ADDR must not be the site's address ({addr})")
            }
            Some(addr) => Some(crate::metrics::MetricsServer::bind(addr).await?),
            None => None,
        };
        Ok(Application {
            listener,
            router,
            service,
            settings: settings.clone(),
            workers,
            metrics,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The metrics listener's address, when `METRICS_ADDR` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().and_then(|m| m.local_addr())
    }

    /// Serves, with the background workers (`crate::workers`), until `shutdown` completes; then
    /// ends the live streams, stops the workers and lets in-flight requests finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        tracing::info!(addr = %self.local_addr(), "serving");
        crate::workers::start(&self.workers, &self.service, &self.settings);
        if let Some(metrics) = self.metrics {
            let closed = self.service.live().clone();
            tracing::info!(addr = ?metrics.local_addr(), "serving metrics");
            tokio::spawn(
                metrics.run(self.service.clone(), self.workers.clone(), async move {
                    closed.closed().await
                }),
            );
        }
        let live = self.service.live().clone();
        let shutdown = async move {
            shutdown.await;
            live.shut_down();
        };
        // Routes are finalised once here: a router with state left to give would be rebuilt
        // (cloned, routing table and all) for every connection.
        let router = self.router.with_state(());
        crate::serve::serve(self.listener, router, &self.settings.limits, shutdown).await;
        self.service.live().shut_down();
        // The workers stop at the shutdown signal; give them the moment they need to release the
        // shop being polled and the outbox events being delivered (their leases would run out by
        // themselves otherwise).
        self.workers.stop(WORKER_STOP_WAIT).await;
        Ok(())
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
