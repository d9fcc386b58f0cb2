//! `GET /sync/orders/alerts` (SPEC §6): the SSE stream with `Last-Event-ID` replay when the client
//! accepts `text/event-stream`, else the JSON polling fallback with `since`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::{stream, StreamExt};
use orders_core::query::parse_shop_domain;
use tokio::sync::broadcast::error::RecvError;

use crate::error::ApiError;
use crate::extract::QueryPairs;
use crate::live::LiveEvent;
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

fn to_event(event: &LiveEvent) -> Event {
    match event {
        LiveEvent::Alert(alert) => Event::default()
            .event("alert")
            .id(alert.id.to_string())
            .json_data(alert.data())
            .unwrap_or_else(|_| Event::default().comment("unencodable alert")),
        LiveEvent::Resolved(id) => Event::default()
            .event("resolved")
            .json_data(serde_json::json!({ "id": id }))
            .unwrap_or_else(|_| Event::default().comment("unencodable resolution")),
        LiveEvent::Refresh(refresh) => Event::default()
            .event("refresh")
            .json_data(refresh)
            .unwrap_or_else(|_| Event::default().comment("unencodable refresh")),
    }
}

/// `GET /sync/orders/alerts`
pub async fn alerts(
    State(service): State<Service>,
    headers: HeaderMap,
    query: QueryPairs,
) -> Result<Response, ApiError> {
    let shop = query.get("shop_domain").ok_or_else(|| {
        ApiError::BadRequest("invalid shop_domain: shop_domain is required".into())
    })?;
    let shop = parse_shop_domain(shop)
        .map_err(|m| ApiError::BadRequest(format!("invalid shop_domain: {m}")))?;

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

    // A Last-Event-ID that is not an id cannot name a position: the client starts afresh (a 400
    // would only make its EventSource retry forever).
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let receiver = service.subscribe_alerts(&shop).await?;
    let replay = service.alert_replay(&shop, last).await?;
    let seen = replay
        .iter()
        .filter_map(|e| match e {
            LiveEvent::Alert(a) => Some(a.id),
            _ => None,
        })
        .max()
        .or(last)
        .unwrap_or(0);

    let hint = stream::once(async { Event::default().retry(RETRY).comment("connected") });
    let replayed = stream::iter(replay.iter().map(to_event).collect::<Vec<_>>());
    let live = stream::unfold((receiver, seen), |(mut receiver, mut seen)| async move {
        loop {
            match receiver.recv().await {
                // Sent during the replay, or passed on twice: already seen.
                Ok(LiveEvent::Alert(a)) if a.id <= seen => continue,
                Ok(event) => {
                    if let LiveEvent::Alert(a) = &event {
                        seen = a.id;
                    }
                    return Some((to_event(&event), (receiver, seen)));
                }
                // Too slow to keep up: end the stream; the client reconnects and replays.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
            }
        }
    });
    let events = hint
        .chain(replayed)
        .chain(live)
        .map(Ok::<_, Infallible>)
        .take_until(service.live().closed());
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(HEARTBEAT).text("heartbeat"))
        .into_response())
}
