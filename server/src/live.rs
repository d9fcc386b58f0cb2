//! The live side of alerts (SPEC §6): one broadcast channel per shop that has listeners in this
//! process, fed by whoever learns of a change. The loops that keep the alerts current and follow
//! the database's notifications are workers (`crate::workers::alerts`, `crate::workers::listener`);
//! the catch-up from the table they call is here.
//!
//! - With PostgreSQL, changes reach every process through `LISTEN`: the notification names the shop
//!   only, and the process reads what changed from the table from its own mark (the greatest id and
//!   resolution number it has passed on), so a missed or merged notification loses nothing. After a
//!   lost connection the listener reconnects and catches every shop up from the table.
//! - With the in-memory store (one process), the service hands its changes to the hub directly.
//! - Channels are bounded: a client that falls behind by more than [`CHANNEL_CAPACITY`] events is
//!   dropped (its stream ends, and its browser reconnects with `Last-Event-ID` and catches up from
//!   the table) rather than holding memory.
//! - A channel lives while someone listens: it is removed when its last [`Subscription`] drops, so
//!   a stream of a shop nobody has registered leaves nothing behind when it ends.
//! - What one client may hold of the streams, and when a stream must end, is [`streams`]'s.
//! - On shutdown every stream ends, so a graceful shutdown does not wait for clients to leave.
//! - An event is encoded once, when it is published, as the SSE frame every stream sends
//!   ([`Frame`]); a stream only copies a reference to it.

pub mod streams;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use orders_core::alerts::{Alert, Refresh};
use tokio::sync::{broadcast, watch};

use crate::store::AlertMark;
use streams::Streams;

/// Events one shop's channel holds for a slow client before dropping it.
pub const CHANNEL_CAPACITY: usize = 1024;

/// What a stream passes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveEvent {
    Alert(Arc<Alert>),
    Resolved(u64),
    Refresh(Refresh),
}

/// A published event as the streams send it: encoded once for all of them.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The alert's id, if the event is an alert: a stream skips what its replay already sent.
    pub alert_id: Option<u64>,
    /// The SSE frame ([`encode`]).
    pub bytes: Bytes,
}

impl Frame {
    fn of(event: &LiveEvent) -> Frame {
        Frame {
            alert_id: match event {
                LiveEvent::Alert(a) => Some(a.id),
                _ => None,
            },
            bytes: encode(event),
        }
    }
}

/// One SSE frame: `event:`, `id:` (alerts only), one line of JSON `data:`, and the blank line.
pub fn encode(event: &LiveEvent) -> Bytes {
    let (name, id, data) = match event {
        LiveEvent::Alert(alert) => (
            "alert",
            Some(alert.id),
            serde_json::to_string(&alert.data()),
        ),
        LiveEvent::Resolved(id) => (
            "resolved",
            None,
            serde_json::to_string(&serde_json::json!({ "id": id })),
        ),
        LiveEvent::Refresh(refresh) => ("refresh", None, serde_json::to_string(refresh)),
    };
    let Ok(data) = data else {
        return Bytes::from_static(b": unencodable event\n\n");
    };
    let mut out = String::with_capacity(data.len() + 48);
    out.push_str("event: ");
    out.push_str(name);
    out.push('\n');
    if let Some(id) = id {
        out.push_str("id: ");
        out.push_str(&id.to_string());
        out.push('\n');
    }
    // Compact JSON has no line breaks, so one `data:` line carries it whole.
    out.push_str("data: ");
    out.push_str(&data);
    out.push_str("\n\n");
    Bytes::from(out)
}

struct Channel {
    sender: broadcast::Sender<Frame>,
    /// How far this process has passed the shop's alerts on (PostgreSQL only).
    mark: AlertMark,
    /// Counts the alerts and resolutions passed on: a replay read before one is stale.
    generation: u64,
    /// The encoded replay of the open alerts a new client starts with, shared by every client
    /// that connects before the next publication (read once, not once per client).
    replay: Option<SharedReplay>,
}

/// The encoded replay of a shop's open alerts, shared by the new clients of one generation.
#[derive(Debug, Clone)]
pub struct SharedReplay {
    /// The shop's publication count when the store was read.
    pub generation: u64,
    /// The `alert` frames, one buffer.
    pub frames: bytes::Bytes,
    /// The greatest alert id in it: live events up to it are already told.
    pub last_alert: u64,
    /// Whether open alerts were left out of it (a `replay_truncated` refresh follows it).
    pub truncated: bool,
}

/// The hub, cheap to clone.
#[derive(Clone)]
pub struct Live {
    inner: Arc<Inner>,
}

struct Inner {
    channels: Mutex<HashMap<String, Channel>>,
    shutdown: watch::Sender<bool>,
    streams: Streams,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            inner: Arc::new(Inner {
                channels: Mutex::new(HashMap::new()),
                shutdown: watch::channel(false).0,
                streams: Streams::default(),
            }),
        }
    }
}

/// A receiver on one shop's channel (it derefs to the [`broadcast::Receiver`]). Dropping the last
/// one of a shop removes the shop's channel.
pub struct Subscription {
    receiver: broadcast::Receiver<Frame>,
    live: Live,
    shop: String,
}

impl std::ops::Deref for Subscription {
    type Target = broadcast::Receiver<Frame>;

    fn deref(&self) -> &Self::Target {
        &self.receiver
    }
}

impl std::ops::DerefMut for Subscription {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.receiver
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        // This receiver is still counted: it is the last when the count is one. Subscribing
        // happens under the same lock, so a client subscribing meanwhile is either counted here or
        // finds no channel and makes a new one.
        let mut channels = self.live.channels();
        if channels
            .get(&self.shop)
            .is_some_and(|c| c.sender.receiver_count() <= 1)
        {
            channels.remove(&self.shop);
        }
    }
}

impl Live {
    fn channels(&self) -> std::sync::MutexGuard<'_, HashMap<String, Channel>> {
        self.inner
            .channels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn subscription(&self, shop: &str, receiver: broadcast::Receiver<Frame>) -> Subscription {
        Subscription {
            receiver,
            live: self.clone(),
            shop: shop.to_owned(),
        }
    }

    /// A receiver on the shop's channel, if the channel exists.
    pub fn try_subscribe(&self, shop: &str) -> Option<Subscription> {
        let receiver = self.channels().get(shop).map(|c| c.sender.subscribe())?;
        Some(self.subscription(shop, receiver))
    }

    /// A receiver on the shop's channel, creating the channel at `mark` if there is none.
    pub fn subscribe_at(&self, shop: &str, mark: AlertMark) -> Subscription {
        let receiver = self
            .channels()
            .entry(shop.to_owned())
            .or_insert_with(|| Channel {
                sender: broadcast::channel(CHANNEL_CAPACITY).0,
                mark,
                generation: 0,
                replay: None,
            })
            .sender
            .subscribe();
        self.subscription(shop, receiver)
    }

    /// How many shops have a channel in this process (for the tests and the logs).
    pub fn channel_count(&self) -> usize {
        self.channels().len()
    }

    /// What the streams may hold, and who holds them.
    pub fn streams(&self) -> &Streams {
        &self.inner.streams
    }

    /// The shops with listeners, and how far each has been passed on.
    pub fn marks(&self) -> Vec<(String, AlertMark)> {
        let mut channels = self.channels();
        channels.retain(|_, c| c.sender.receiver_count() > 0);
        channels
            .iter()
            .map(|(shop, c)| (shop.clone(), c.mark))
            .collect()
    }

    /// The shop's mark, if it has listeners.
    pub fn mark(&self, shop: &str) -> Option<AlertMark> {
        self.channels().get(shop).map(|c| c.mark)
    }

    /// Passes `events` on to the shop's listeners; `mark`, if given, is how far they go. Events at
    /// or below the channel's mark were passed on already and are skipped. A channel nobody
    /// listens to any more is removed.
    pub fn publish(&self, shop: &str, events: Vec<LiveEvent>, mark: Option<AlertMark>) {
        let mut channels = self.channels();
        let Some(channel) = channels.get_mut(shop) else {
            return;
        };
        if channel.sender.receiver_count() == 0 {
            channels.remove(shop);
            return;
        }
        for event in events {
            if let LiveEvent::Alert(a) = &event {
                if mark.is_some() && a.id <= channel.mark.alert_id {
                    continue;
                }
            }
            // An alert or a resolution changes what a new client must be told first.
            if !matches!(event, LiveEvent::Refresh(_)) {
                channel.generation += 1;
                channel.replay = None;
            }
            // Encoded here, once for every listener. An error only means nobody listens right now.
            if let Ok(listeners) = channel.sender.send(Frame::of(&event)) {
                metrics::counter!("sse_events_sent_total").increment(listeners as u64);
            }
        }
        if let Some(mark) = mark {
            channel.mark.alert_id = channel.mark.alert_id.max(mark.alert_id);
            channel.mark.resolved_seq = channel.mark.resolved_seq.max(mark.resolved_seq);
        }
    }

    /// The shop's publication count, to stamp a replay read from the store (`None` without a channel).
    pub fn generation(&self, shop: &str) -> Option<u64> {
        self.channels().get(shop).map(|c| c.generation)
    }

    /// The shared replay of open alerts, if nothing was published since it was read.
    pub fn shared_replay(&self, shop: &str) -> Option<SharedReplay> {
        let channels = self.channels();
        let channel = channels.get(shop)?;
        channel
            .replay
            .as_ref()
            .filter(|r| r.generation == channel.generation)
            .cloned()
    }

    /// Keeps `replay`, read from the store after the shop's publication count was `generation`,
    /// (its `generation`) for the next new clients — unless something was published meanwhile (then the store may
    /// have been read before that change, and the next client reads it again).
    ///
    /// Why this is safe: a client subscribes before it takes the replay, so every publication
    /// after its subscription reaches it live; a replay is used only while no publication happened
    /// since its read began, so every change published before the subscription is in it.
    pub fn share_replay(&self, shop: &str, replay: SharedReplay) {
        if let Some(channel) = self.channels().get_mut(shop) {
            if channel.generation == replay.generation {
                channel.replay = Some(replay);
            }
        }
    }

    /// Ends every stream, now and from now on.
    pub fn shut_down(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Whether the server is shutting down.
    pub fn is_shut_down(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    /// Completes when the server shuts down.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.inner.shutdown.subscribe();
        async move {
            let _ = rx.wait_for(|down| *down).await;
        }
    }

    /// How many clients listen, over all shops (for the benchmark and the logs).
    pub fn listeners(&self) -> usize {
        self.channels()
            .values()
            .map(|c| c.sender.receiver_count())
            .sum()
    }
}

/// Passes on what the table says changed for `shop` since this process's mark.
pub(crate) async fn catch_up(
    service: &crate::service::Service,
    feed: &crate::service::AlertFeed,
    shop: &str,
) {
    let live = service.live();
    let Some(mark) = live.mark(shop) else {
        return;
    };
    match feed.alerts_since_mark(shop, mark).await {
        Ok((changes, next)) => {
            let mut events: Vec<LiveEvent> = changes
                .raised
                .into_iter()
                .map(|a| LiveEvent::Alert(Arc::new(a)))
                .collect();
            events.extend(changes.resolved.into_iter().map(LiveEvent::Resolved));
            live.publish(shop, events, Some(next));
        }
        Err(e) => {
            tracing::warn!(shop = %shop, error = %e, "could not read the shop's alert changes")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use orders_core::alerts::RefreshReason;
    use std::time::Duration;

    fn refresh() -> LiveEvent {
        LiveEvent::Refresh(Refresh {
            reason: RefreshReason::Action,
            at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
        })
    }

    #[tokio::test]
    async fn a_client_that_falls_behind_is_told_so_and_the_channel_stays_bounded() {
        let live = Live::default();
        let mut slow = live.subscribe_at("a.myshopify.com", AlertMark::default());
        let mut quick = live.subscribe_at("a.myshopify.com", AlertMark::default());
        for _ in 0..CHANNEL_CAPACITY + 10 {
            live.publish("a.myshopify.com", vec![refresh()], None);
            assert!(quick.recv().await.is_ok());
        }
        assert!(matches!(
            slow.recv().await,
            Err(broadcast::error::RecvError::Lagged(10))
        ));
        let sender_len = live.channels()["a.myshopify.com"].sender.len();
        assert!(sender_len <= CHANNEL_CAPACITY);
    }

    #[tokio::test]
    async fn an_event_is_encoded_once_for_every_listener() {
        let live = Live::default();
        let mut one = live.subscribe_at("a.myshopify.com", AlertMark::default());
        let mut other = live.try_subscribe("a.myshopify.com").expect("the channel");
        live.publish("a.myshopify.com", vec![refresh()], None);
        let (a, b) = (one.recv().await.unwrap(), other.recv().await.unwrap());
        assert_eq!(a.bytes.as_ptr(), b.bytes.as_ptr(), "one buffer, shared");
        assert!(
            a.bytes.starts_with(b"event: refresh\ndata: {"),
            "{:?}",
            a.bytes
        );
        assert_eq!(a.alert_id, None);
    }

    #[tokio::test]
    async fn alerts_already_passed_on_are_not_sent_twice_and_empty_channels_go() {
        let live = Live::default();
        let mut rx = live.subscribe_at("a.myshopify.com", AlertMark::default());
        let alert = |id| {
            LiveEvent::Alert(Arc::new(Alert {
                id,
                kind: orders_core::AlertKind::Delayed,
                severity: orders_core::alerts::Severity::Warning,
                order_id: None,
                message: String::new(),
                created_at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
                resolved_at: None,
            }))
        };
        let mark = |id| AlertMark {
            alert_id: id,
            resolved_seq: 0,
        };
        live.publish("a.myshopify.com", vec![alert(1), alert(2)], Some(mark(2)));
        live.publish("a.myshopify.com", vec![alert(2), alert(3)], Some(mark(3)));
        let mut ids = Vec::new();
        while let Ok(frame) = rx.try_recv() {
            ids.push(frame.alert_id.expect("an alert"));
            let head = format!("event: alert\nid: {}\ndata: {{", ids.last().unwrap());
            assert!(
                frame.bytes.starts_with(head.as_bytes()),
                "{:?}",
                frame.bytes
            );
            assert!(frame.bytes.ends_with(b"}\n\n"), "{:?}", frame.bytes);
        }
        assert_eq!(ids, vec![1, 2, 3]);
        drop(rx);
        live.publish("a.myshopify.com", vec![refresh()], None);
        assert!(
            live.mark("a.myshopify.com").is_none(),
            "a channel nobody hears is removed"
        );
        live.shut_down();
        tokio::time::timeout(Duration::from_secs(1), live.closed())
            .await
            .expect("closed completes after shut_down");
    }

    #[test]
    fn a_channel_goes_with_its_last_subscription() {
        let live = Live::default();
        for n in 0..2000 {
            drop(live.subscribe_at(&format!("s{n}.myshopify.com"), AlertMark::default()));
        }
        assert_eq!(
            live.channel_count(),
            0,
            "no shop keeps a channel nobody hears"
        );

        let first = live.subscribe_at("a.myshopify.com", AlertMark::default());
        let second = live.try_subscribe("a.myshopify.com").expect("the channel");
        drop(first);
        assert_eq!(
            live.channel_count(),
            1,
            "the other subscription still hears it"
        );
        drop(second);
        assert_eq!(live.channel_count(), 0);
        assert!(live.try_subscribe("a.myshopify.com").is_none());
    }
}
