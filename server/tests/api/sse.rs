//! A reader of server-sent events over HTTP, for the live stream's tests.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use crate::helpers::*;

/// One server-sent event as the reader saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Sse {
    pub event: String,
    pub id: Option<String>,
    pub data: Value,
}

/// Reads server-sent events off a response body (the text/event-stream framing, comments and
/// `retry:` included).
pub struct SseReader {
    body: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
    pub retry: Option<u64>,
    pub comments: Vec<String>,
    /// Whether the body has ended.
    pub ended: bool,
}

impl SseReader {
    /// A stream of `SHOP` without credentials, from `last_event_id` if given.
    pub async fn connect(app: &TestApp, last_event_id: Option<&str>) -> SseReader {
        let mut request = Self::request(app, SHOP);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        Self::open(request).await
    }

    /// The request of a stream of `shop`, to add credentials or headers to.
    pub fn request(app: &TestApp, shop: &str) -> reqwest::RequestBuilder {
        app.client
            .get(format!("{}/sync/orders/alerts", app.address))
            .query(&[("shop_domain", shop)])
            .header("Accept", "text/event-stream")
    }

    /// Sends `request` and reads its stream; the answer must be one.
    pub async fn open(request: reqwest::RequestBuilder) -> SseReader {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        SseReader {
            body: response.bytes_stream().boxed(),
            buffer: String::new(),
            retry: None,
            comments: Vec::new(),
            ended: false,
        }
    }

    /// The next event (skipping comments and `retry:`), or `None` when the stream ends or nothing
    /// comes within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Sse> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut id = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(comment) = line.strip_prefix(':') {
                        self.comments.push(comment.trim().to_owned());
                    } else if let Some((field, value)) = line.split_once(':') {
                        let value = value.strip_prefix(' ').unwrap_or(value);
                        match field {
                            "event" => event = value.to_owned(),
                            "id" => id = Some(value.to_owned()),
                            "data" => data.push_str(value),
                            "retry" => self.retry = value.parse().ok(),
                            _ => {}
                        }
                    }
                }
                if !data.is_empty() {
                    return Some(Sse {
                        event,
                        id,
                        data: serde_json::from_str(&data).expect("event data is JSON"),
                    });
                }
            }
            if self.ended {
                return None;
            }
            let chunk = tokio::time::timeout_at(deadline, self.body.next()).await;
            match chunk {
                Ok(Some(Ok(bytes))) => self
                    .buffer
                    .push_str(std::str::from_utf8(&bytes).expect("UTF-8")),
                Ok(_) => self.ended = true,
                Err(_) => return None,
            }
        }
    }

    pub async fn next(&mut self) -> Sse {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("an event within 10 s")
    }

    /// Whether the stream ends within `wait` (events before its end are read and dropped).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        while !self.ended {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            self.next_within(left).await;
        }
        true
    }
}
