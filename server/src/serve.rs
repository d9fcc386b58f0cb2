//! The accept loop: what a connection may take of the process before a request reaches the router.
//!
//! # Policy
//! - A connection has [`LimitSettings::header_read_timeout`] (10 s at most) to send a request's
//!   headers; a client that sends half a request line and waits is closed then, and so is a
//!   connection that sends nothing, or a keep-alive connection left idle. Live streams are past their headers and are not touched by it.
//! - At most [`LimitSettings::max_connections`] connections are served at once. The one beyond is
//!   answered `503` with the v1.2 envelope and `Retry-After`, and closed: the process refuses
//!   rather than running out of file descriptors. Its soft descriptor limit is raised at start-up
//!   to cover the ceiling, and a failing `accept` (out of descriptors after all) waits a moment
//!   instead of spinning.
//! - Every request carries its peer's address (`ConnectInfo<SocketAddr>`), which the stream caps
//!   count anonymous clients by.
//! - On shutdown the listener closes first, idle connections are closed, and in-flight requests
//!   finish (the live streams end by themselves: `Live::shut_down`).
//!
//! Request deadlines and the catch-panic layer wrap the router (`crate::layers`), not here.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::error::ApiError;
use crate::settings::LimitSettings;

/// How long a refused connection is given to read the 503 before it is closed.
const REFUSAL_GRACE: Duration = Duration::from_secs(1);
/// How long `accept` rests after failing (descriptors exhausted, say).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);
/// Descriptors the process keeps beyond its connections (database pool, listeners, files).
const DESCRIPTOR_RESERVE: u64 = 256;

/// Serves `router` on `listener` under `limits` until `shutdown` completes, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &LimitSettings,
    shutdown: impl Future<Output = ()> + Send,
) {
    raise_descriptor_limit(limits.max_connections);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; resting a moment");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            tokio::spawn(refuse(stream));
            continue;
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(request)
        });
        let (builder, watcher) = (builder.clone(), graceful.watcher());
        let first_byte = limits.header_read_timeout;
        tokio::spawn(async move {
            // The protocol is told by the first bytes, and hyper's header timer starts after them:
            // a connection that sends nothing is closed at the same timeout.
            let mut byte = [0u8; 1];
            if !matches!(
                tokio::time::timeout(first_byte, stream.peek(&mut byte)).await,
                Ok(Ok(1..))
            ) {
                drop(permit);
                return;
            }
            let connection = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .into_owned();
            // Errors are the client's (a reset, a header timeout): nothing to report.
            let _ = watcher.watch(connection).await;
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// Answers a connection beyond the ceiling with the envelope's 503, then closes it.
async fn refuse(mut stream: TcpStream) {
    let body = axum::body::to_bytes(
        axum::response::IntoResponse::into_response(ApiError::Busy(
            "the server is at its connection limit".into(),
        ))
        .into_body(),
        4096,
    )
    .await
    .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        crate::error::RETRY_AFTER_SECS,
        body.len()
    );
    let refused = async {
        // Read what the client sent first, so that closing does not reset the answer away.
        let mut buffer = [0u8; 4096];
        let _ = tokio::time::timeout(Duration::from_millis(100), stream.read(&mut buffer)).await;
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await?;
        while stream.read(&mut buffer).await? > 0 {}
        Ok::<_, std::io::Error>(())
    };
    let _ = tokio::time::timeout(REFUSAL_GRACE, refused).await;
}

/// Raises the soft limit on open descriptors towards the hard one, so that `max_connections` (and
/// the reserve) fit; warns when they cannot.
fn raise_descriptor_limit(max_connections: usize) {
    let wanted = max_connections as u64 + DESCRIPTOR_RESERVE;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(got) if got < wanted => tracing::warn!(
            descriptors = got,
            max_connections,
            "the process may open fewer files than MAX_CONNECTIONS needs; lower \
             MAX_CONNECTIONS or raise the hard limit (ulimit -Hn)"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "could not read or raise the open file limit"),
    }
}
