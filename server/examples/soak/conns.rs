//! The connections held for the whole run: idle live-alert streams, and slow clients that send half
//! a request line and wait. Each reconnects when the server closes it, as real clients do.
//!
//! Policy: a stream's opening answer is counted like any other (its status; the envelope checked
//! when it is not 2xx); a slow client's connection counts what the server did with it: an answer
//! (parsed from the raw bytes, status and envelope), or a close without one.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::tally::no_answer_label;
use crate::{mix, Ctx};

/// How long a stream waits before reconnecting (the server's `retry:` hint), plus up to a second.
const STREAM_RECONNECT: Duration = Duration::from_secs(3);
/// How long a slow client waits before reconnecting, plus up to a second.
const SLOW_RECONNECT: Duration = Duration::from_secs(1);
/// The most of an answer a slow client keeps.
const SLOW_ANSWER_MAX: usize = 64 * 1024;

/// Counts one live connection while it lives.
struct Held<'a>(&'a AtomicUsize);

impl<'a> Held<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Held(count)
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn jitter(n: u64, round: u64) -> Duration {
    Duration::from_millis(mix(n << 20 ^ round) % 1000)
}

/// Reads the `id:` lines out of a stream's bytes; `line` keeps a line cut between two chunks.
fn scan_ids(line: &mut Vec<u8>, chunk: &[u8], last_id: &mut Option<u64>) {
    for &b in chunk {
        if b == b'\n' {
            if let Some(id) = line.strip_prefix(b"id: ") {
                if let Some(id) = std::str::from_utf8(id)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                {
                    *last_id = Some(id);
                }
            }
            line.clear();
        } else if line.len() < 64 {
            // Only `id:` lines matter, and they are short.
            line.push(b);
        }
    }
}

/// The n-th idle stream: opens after `delay`, reads and discards what comes, and reconnects
/// (with `Last-Event-ID`) whenever it ends.
pub async fn stream(ctx: Arc<Ctx>, n: u64, delay: Duration, live: Arc<AtomicUsize>) {
    tokio::time::sleep(delay).await;
    let mut last_id: Option<u64> = None;
    for round in 0.. {
        let mut request = ctx
            .streams
            .get(format!("{}/sync/orders/alerts", ctx.base))
            .query(&[("shop_domain", ctx.shop.as_str())])
            .header("Accept", "text/event-stream")
            .bearer_auth(&ctx.token);
        if let Some(id) = last_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        match request.send().await {
            Ok(mut response) => {
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    ctx.tally.answer("stream", status, b"");
                    let _held = Held::new(&live);
                    let mut line = Vec::new();
                    let end = loop {
                        match response.chunk().await {
                            Ok(Some(chunk)) => scan_ids(&mut line, &chunk, &mut last_id),
                            Ok(None) => break "ended by the server",
                            Err(_) => break "cut off",
                        }
                    };
                    ctx.tally.event("stream", end);
                } else {
                    let body = response.bytes().await.unwrap_or_default();
                    ctx.tally.answer("stream", status, &body);
                }
            }
            Err(e) => ctx.tally.no_answer("stream", no_answer_label(&e)),
        }
        tokio::time::sleep(STREAM_RECONNECT + jitter(n, round)).await;
    }
}

/// The n-th slow client: opens after `delay`, sends half a request line and waits for the server
/// to answer or close; then again.
pub async fn slow_client(ctx: Arc<Ctx>, n: u64, delay: Duration, live: Arc<AtomicUsize>) {
    tokio::time::sleep(delay).await;
    let half = format!("GET /sync/orders?shop_domain={} HT", ctx.shop);
    for round in 0.. {
        match TcpStream::connect(&ctx.host).await {
            Ok(mut socket) => {
                ctx.tally.event("slow", "connections opened");
                let _held = Held::new(&live);
                if socket.write_all(half.as_bytes()).await.is_ok() {
                    let mut got = Vec::new();
                    let mut buf = [0u8; 4096];
                    let cut = loop {
                        match socket.read(&mut buf).await {
                            Ok(0) => break false,
                            Ok(k) if got.len() < SLOW_ANSWER_MAX => {
                                got.extend_from_slice(&buf[..k])
                            }
                            Ok(_) => {}
                            Err(_) => break true,
                        }
                    };
                    match parse_response(&got) {
                        Some((status, body)) => {
                            ctx.tally.answer("slow", status, &body);
                        }
                        None if got.is_empty() && cut => {
                            ctx.tally.no_answer("slow", "reset without an answer")
                        }
                        None if got.is_empty() => {
                            ctx.tally.no_answer("slow", "closed without an answer")
                        }
                        None => ctx.tally.no_answer("slow", "an answer that is not HTTP"),
                    }
                } else {
                    ctx.tally.no_answer("slow", "no answer: connection lost");
                }
            }
            Err(_) => ctx.tally.no_answer("slow", "no answer: connect error"),
        }
        tokio::time::sleep(SLOW_RECONNECT + jitter(n, round)).await;
    }
}

/// The status and body of a raw HTTP/1.1 answer (`Content-Length` or chunked), or `None` when the
/// bytes are not one.
pub fn parse_response(raw: &[u8]) -> Option<(u16, Vec<u8>)> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines
        .next()?
        .strip_prefix("HTTP/1.")?
        .get(2..5)?
        .parse()
        .ok()?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let (name, value) = line.split_once(':')?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        }
    }
    let body = if chunked {
        dechunk(rest)
    } else {
        rest[..length.unwrap_or(rest.len()).min(rest.len())].to_vec()
    };
    Some((status, body))
}

/// The body of a chunked transfer (as much of it as arrived).
fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else {
            break;
        };
        let data = &rest[end + 2..];
        body.extend_from_slice(&data[..size.min(data.len())]);
        rest = data.get(size + 2..).unwrap_or_default();
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_answer_gives_its_status_and_body() {
        let raw = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
            content-length: 13\r\nretry-after: 5\r\n\r\n{\"a\":1}\r\nxxxxxx";
        assert_eq!(
            parse_response(raw),
            Some((503, b"{\"a\":1}\r\nxxxx".to_vec()))
        );
        let chunked = b"HTTP/1.1 408 Request Timeout\r\nTransfer-Encoding: chunked\r\n\r\n\
            4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked), Some((408, b"{\"a\":1}".to_vec())));
        assert_eq!(parse_response(b""), None);
        assert_eq!(parse_response(b"garbage\r\n\r\n"), None);
    }

    #[test]
    fn the_last_alert_id_is_read_across_chunks() {
        let mut line = Vec::new();
        let mut last = None;
        scan_ids(&mut line, b"event: alert\nid: 4", &mut last);
        assert_eq!(last, None);
        scan_ids(
            &mut line,
            b"2\ndata: {}\n\nevent: refresh\ndata: {}\n\n",
            &mut last,
        );
        assert_eq!(last, Some(42));
    }
}
