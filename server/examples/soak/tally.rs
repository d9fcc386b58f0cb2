//! What the soak saw, shared by every load: answers counted by kind of request and status, the
//! answers that lack the envelope, the reads' latencies, and the server's memory and descriptors.
//!
//! Policy: every answer is counted, whatever its status; a non-2xx answer whose body is not the
//! v1.2 envelope (`{ success: false, message, updatedOrders: [] }`) is also counted as one without
//! an envelope, with its first few bodies kept for the report. A request that got no answer at all
//! (no connection, a reset, a timeout) is counted under a label that says so, never as a status.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

/// How many bodies without an envelope the report quotes.
const EXAMPLES_KEPT: usize = 5;
/// How much of each quoted body is kept.
const EXAMPLE_BYTES: usize = 300;

/// The kinds of request, in the order the report lists them.
pub const KINDS: [&str; 8] = [
    "read", "write", "webhook", "stream", "slow", "unknown", "verify", "health",
];

/// One non-2xx answer that was not the envelope.
#[derive(Debug, Clone, Serialize)]
pub struct Unenveloped {
    pub kind: &'static str,
    pub status: u16,
    pub body: String,
}

/// One read: when it was sent (seconds from the start), how long it took, and its status
/// (0: no answer).
#[derive(Debug, Clone, Copy)]
pub struct ReadSample {
    pub sent: f64,
    pub ms: f64,
    pub status: u16,
}

/// One sample of the server process: seconds from the start, resident memory (KiB), open
/// descriptors.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ProcSample {
    pub t: f64,
    pub rss_kib: u64,
    pub fds: u64,
}

#[derive(Default)]
struct Inner {
    answers: BTreeMap<&'static str, BTreeMap<String, u64>>,
    unenveloped: BTreeMap<&'static str, u64>,
    examples: Vec<Unenveloped>,
    reads: Vec<ReadSample>,
    events: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
}

/// The soak's shared record.
pub struct Tally {
    pub started: Instant,
    inner: Mutex<Inner>,
}

/// Whether `body` is the v1.2 envelope of a failure.
pub fn is_envelope(body: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return false;
    };
    v.get("success").and_then(Value::as_bool) == Some(false)
        && v.get("message").is_some_and(Value::is_string)
        && v.get("updatedOrders").is_some_and(Value::is_array)
}

/// The label of a request that got no answer.
pub fn no_answer_label(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "no answer: timeout"
    } else if e.is_connect() {
        "no answer: connect error"
    } else {
        "no answer: connection lost"
    }
}

impl Tally {
    pub fn new() -> Self {
        Tally {
            started: Instant::now(),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Seconds since the soak started.
    pub fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts an answer of `kind` with `status`; `body` is checked for the envelope when the
    /// status is not 2xx. Answers whether the answer was acceptable (2xx, or the envelope).
    pub fn answer(&self, kind: &'static str, status: u16, body: &[u8]) -> bool {
        let enveloped = (200..300).contains(&status) || is_envelope(body);
        let mut inner = self.lock();
        *inner
            .answers
            .entry(kind)
            .or_default()
            .entry(status.to_string())
            .or_default() += 1;
        if !enveloped {
            *inner.unenveloped.entry(kind).or_default() += 1;
            if inner.examples.len() < EXAMPLES_KEPT {
                let text = String::from_utf8_lossy(&body[..body.len().min(EXAMPLE_BYTES)]);
                inner.examples.push(Unenveloped {
                    kind,
                    status,
                    body: text.into_owned(),
                });
            }
        }
        enveloped
    }

    /// Counts a request of `kind` that got no answer, under `label`.
    pub fn no_answer(&self, kind: &'static str, label: &str) {
        *self
            .lock()
            .answers
            .entry(kind)
            .or_default()
            .entry(label.to_owned())
            .or_default() += 1;
    }

    /// Counts something that happened to a connection of `kind` (opened, closed by the server…).
    pub fn event(&self, kind: &'static str, what: &'static str) {
        *self
            .lock()
            .events
            .entry(kind)
            .or_default()
            .entry(what)
            .or_default() += 1;
    }

    /// Records one read's latency.
    pub fn read(&self, sent: Instant, took: Duration, status: u16) {
        let sample = ReadSample {
            sent: sent.duration_since(self.started).as_secs_f64(),
            ms: took.as_secs_f64() * 1000.0,
            status,
        };
        self.lock().reads.push(sample);
    }

    pub fn answers(&self) -> BTreeMap<&'static str, BTreeMap<String, u64>> {
        self.lock().answers.clone()
    }

    pub fn events(&self) -> BTreeMap<&'static str, BTreeMap<&'static str, u64>> {
        self.lock().events.clone()
    }

    pub fn unenveloped(&self) -> (BTreeMap<&'static str, u64>, Vec<Unenveloped>) {
        let inner = self.lock();
        (inner.unenveloped.clone(), inner.examples.clone())
    }

    pub fn reads(&self) -> Vec<ReadSample> {
        self.lock().reads.clone()
    }
}

/// The server process's resident memory (KiB) and open descriptors, or `None` once it is gone.
pub fn sample_process(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some((rss, fds))
}

/// The CPU time (user and system, seconds) a process has used: `/proc/PID/stat`'s `utime` and
/// `stime`, in the kernel's clock ticks (100 a second on Linux).
pub fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The fields after the command name (which may hold spaces), from the state (field 3) on.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_failure_envelope_counts_as_one() {
        assert!(is_envelope(
            br#"{"success":false,"message":"the database is unavailable","updatedOrders":[]}"#
        ));
        assert!(!is_envelope(b"Service Unavailable"));
        assert!(!is_envelope(br#"{"error":"timeout"}"#));
        assert!(!is_envelope(br#"{"success":false,"message":"m"}"#));
        assert!(!is_envelope(b""));
    }

    #[test]
    fn a_non_2xx_answer_without_the_envelope_is_counted_and_quoted() {
        let tally = Tally::new();
        assert!(tally.answer("read", 200, b"{}"));
        assert!(tally.answer(
            "read",
            503,
            br#"{"success":false,"message":"busy","updatedOrders":[]}"#
        ));
        assert!(!tally.answer("slow", 408, b""));
        tally.no_answer("read", "no answer: timeout");
        let answers = tally.answers();
        assert_eq!(answers["read"]["200"], 1);
        assert_eq!(answers["read"]["503"], 1);
        assert_eq!(answers["read"]["no answer: timeout"], 1);
        let (unenveloped, examples) = tally.unenveloped();
        assert_eq!(unenveloped.get("read"), None);
        assert_eq!(unenveloped["slow"], 1);
        assert_eq!((examples[0].kind, examples[0].status), ("slow", 408));
    }
}
