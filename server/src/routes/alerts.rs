//! `GET /sync/orders/alerts` (SPEC §6): the SSE stream with `Last-Event-ID` replay when the client
//! accepts `text/event-stream`, else the JSON polling fallback with `since`.
//!
//! A stream takes its place among the client's and the shop's streams before anything is read for
//! it, and holds it, with its channel, until its body is dropped; it ends when its credential
//! lapses or the server shuts down ([`crate::live::streams`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use bytes::{Bytes, BytesMut};
use futures::{stream, StreamExt};
use orders_core::alerts::{AlertPage, Refresh, RefreshReason};
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, MissedTickBehavior};

use crate::error::ApiError;
use crate::extract::QueryPairs;
use crate::live::streams::{Holder, Standing};
use crate::live::{encode, LiveEvent, SharedReplay};
use crate::openapi::{AlertsParams, ReadErrors, ShopParam};
use crate::service::Service;

/// How often an idle stream sends a comment, so proxies and clients know it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long a client waits before reconnecting (the `retry:` hint).
pub const RETRY: Duration = Duration::from_secs(3);

fn wants_stream(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("text/event-stream"))
}

/// Whether `request` asks this door for the event stream, which ends when its data does (the
/// request deadline of [`crate::layers`] does not bound it).
pub fn asks_for_stream(request: &Request) -> bool {
    let route = <__path_alerts as utoipa::Path>::path();
    request.method() == Method::GET
        && request
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|matched| matched.as_str() == route)
        && wants_stream(request.headers())
}

/// The greatest alert id among `events`.
fn last_alert(events: &[LiveEvent]) -> Option<u64> {
    events
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Alert(a) => Some(a.id),
            _ => None,
        })
        .max()
}

/// The frames of a replay, as one buffer.
fn frames(events: &[LiveEvent]) -> Bytes {
    let mut out = BytesMut::new();
    for event in events {
        out.extend_from_slice(&encode(event));
    }
    out.freeze()
}

/// `GET /sync/orders/alerts`
#[utoipa::path(
    get,
    path = "/sync/orders/alerts",
    tag = "alerts",
    operation_id = "alerts",
    summary = "A shop's live alerts: an event stream, or the polling answer",
    description = "With `Accept: text/event-stream`: a Server-Sent Events stream that does not \
        end. It starts with `retry: 3000`, then replays the open alerts (or, with \
        `Last-Event-ID`, every `alert` with a greater id and the `resolved` events since), at \
        most 500 alerts and 500 older resolutions, the newest, followed by a `refresh` with \
        reason `replay_truncated` when there were more; then goes on live: `event: alert` \
        (`id:` the alert's id, data an `Alert` without `resolvedAt`), `event: resolved` (data \
        `{ id }`), `event: refresh` (data a `Refresh`), and a comment after every 10 s of \
        silence. The stream ends when its API token is revoked, or, opened with a session \
        token, when the shop is uninstalled. One client may hold 100 streams at once and a \
        shop 10,000 (configurable); beyond, 429.\n\n\
        Otherwise the polling answer (JSON): without `since`, the open alerts; with it, every \
        alert with a greater id, open or cleared; oldest first, at most 500 (ask again from \
        `lastEventId`).",
    params(ShopParam, AlertsParams),
    responses(
        (status = 200, description = "The polling answer, or the event stream", content(
            (AlertPage = "application/json"),
            (String = "text/event-stream"),
        )),
        ReadErrors,
    ),
    security((), ("bearer" = [])),
)]
pub async fn alerts(
    State(service): State<Service>,
    caller: crate::trust::ApiCaller,
    address: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let shop = query.shop_domain()?;
    caller.authorize(&shop).await?;

    if !wants_stream(&headers) {
        let since = match query.get("since") {
            None => None,
            Some(raw) => Some(raw.trim().parse::<u64>().map_err(|_| {
                ApiError::BadRequest(format!(
                    "invalid since: '{raw}' is not an alert id (a whole number from 0)"
                ))
            })?),
        };
        return Ok(Json(service.poll_alerts(&shop, since).await?).into_response());
    }

    let live = service.live();
    let address = address.map(|Extension(ConnectInfo(a))| a.ip());
    let slot = live
        .streams()
        .admit(Holder::of(&caller.credential, address), &shop)?;
    let lapsed = Standing::of(&caller.credential, &shop).lapsed(
        service.database().map(|db| db.tokens().clone()),
        live.streams().recheck_every(),
    );

    // A Last-Event-ID that is not an id cannot name a position: the client starts afresh (a 400
    // would only make its EventSource retry forever).
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let receiver = service.subscribe_alerts(&shop).await?;
    let (replay, seen, truncated) = match last {
        // A new client starts with the open alerts: read once and shared by every new client
        // until the next change, so a reconnect storm neither queries nor encodes them per client.
        None => match live.shared_replay(&shop) {
            Some(shared) => (shared.frames, shared.last_alert, shared.truncated),
            None => {
                let generation = live.generation(&shop);
                let replay = service.alert_replay(&shop, None).await?;
                let last_alert = last_alert(&replay.events).unwrap_or(0);
                let frames = frames(&replay.events);
                if let Some(generation) = generation {
                    live.share_replay(
                        &shop,
                        SharedReplay {
                            generation,
                            frames: frames.clone(),
                            last_alert,
                            truncated: replay.truncated,
                        },
                    );
                }
                (frames, last_alert, replay.truncated)
            }
        },
        Some(last) => {
            let replay = service.alert_replay(&shop, Some(last)).await?;
            let seen = last_alert(&replay.events).unwrap_or(last);
            (frames(&replay.events), seen, replay.truncated)
        }
    };
    // Alerts were left out: the client takes its counts from the list instead (SPEC §6).
    let truncated = truncated.then(|| {
        encode(&LiveEvent::Refresh(Refresh {
            reason: RefreshReason::ReplayTruncated,
            at: crate::service::now(),
        }))
    });

    let hint = Bytes::from(format!("retry: {}\n: connected\n\n", RETRY.as_millis()));
    let mut heartbeat = tokio::time::interval_at(Instant::now() + HEARTBEAT, HEARTBEAT);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The slot rides with the receiver: both go when the body is dropped, however it ends.
    let live_events = stream::unfold(
        (receiver, seen, heartbeat, slot),
        |(mut receiver, mut seen, mut heartbeat, slot)| async move {
            loop {
                tokio::select! {
                    _ = heartbeat.tick() => {
                        return Some((Bytes::from_static(b": heartbeat\n\n"), (receiver, seen, heartbeat, slot)));
                    }
                    got = receiver.recv() => match got {
                        // Sent during the replay, or passed on twice: already seen.
                        Ok(frame) if frame.alert_id.is_some_and(|id| id <= seen) => continue,
                        Ok(frame) => {
                            seen = frame.alert_id.unwrap_or(seen);
                            heartbeat.reset();
                            // Encoded once for every stream of the shop (`Live::publish`).
                            return Some((frame.bytes, (receiver, seen, heartbeat, slot)));
                        }
                        // Too slow to keep up: end the stream; the client reconnects and replays.
                        Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
                    },
                }
            }
        },
    );
    let closed = live.closed();
    let end = async move {
        tokio::select! {
            _ = closed => {}
            _ = lapsed => {}
        }
    };
    let events = stream::iter([Some(hint), Some(replay), truncated])
        .filter_map(std::future::ready)
        .chain(live_events)
        .map(Ok::<_, Infallible>)
        .take_until(end);
    Ok((
        // No Cache-Control here: every answer is `no-store` (see `trust::headers`).
        [(header::CONTENT_TYPE, "text/event-stream")],
        Body::from_stream(events),
    )
        .into_response())
}
