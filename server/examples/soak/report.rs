//! The soak's report: a table on standard output, the same figures as JSON, and the verdict.
//!
//! Policy: the verdict fails when an acknowledged write was lost or could not be checked, when a
//! non-2xx answer lacked the envelope, when the server was not healthy at the end (process alive,
//! `/healthz` and `/readyz` 200), when the database restart did not happen, or when the memory kept
//! at the end (end less start) is 10 % or more of the memory the run took (peak less start).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};

use crate::tally::{ProcSample, ReadSample, Unenveloped, KINDS};
use crate::writes::Check;

/// How long after the database is back reads still count as its recovery.
pub const RECOVERY_GRACE_SECS: f64 = 10.0;
/// The share of the run's memory the end may keep.
const RSS_KEPT_LIMIT: f64 = 0.10;

/// The database restart: when it began and when the database answered again (seconds from the
/// start), and whether the command succeeded.
#[derive(Debug, Clone, Serialize)]
pub struct Restart {
    pub at: f64,
    pub back: f64,
    pub ok: bool,
}

/// The server's health at the end.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    pub process_alive: bool,
    pub healthz: u16,
    pub readyz: u16,
}

/// Latency of the reads of one phase.
#[derive(Debug, Clone, Serialize)]
pub struct Phase {
    pub name: &'static str,
    pub from_s: f64,
    pub to_s: f64,
    pub reads: usize,
    pub ok: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// The nearest-rank percentile `p` (0‥100) of sorted values; NaN for none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The reads before the restart, during the database's absence and recovery, and after.
pub fn phases(reads: &[ReadSample], restart: Option<&Restart>, end: f64) -> Vec<Phase> {
    let bounds = match restart {
        Some(r) => vec![
            ("before the restart", 0.0, r.at),
            (
                "database away + recovery",
                r.at,
                r.back + RECOVERY_GRACE_SECS,
            ),
            ("after", r.back + RECOVERY_GRACE_SECS, end),
        ],
        None => vec![("whole run (no restart)", 0.0, end)],
    };
    bounds
        .into_iter()
        .map(|(name, from, to)| {
            let of: Vec<&ReadSample> = reads
                .iter()
                .filter(|r| r.sent >= from && r.sent < to)
                .collect();
            let mut ms: Vec<f64> = of.iter().map(|r| r.ms).collect();
            ms.sort_by(f64::total_cmp);
            Phase {
                name,
                from_s: from,
                to_s: to,
                reads: of.len(),
                ok: of.iter().filter(|r| (200..300).contains(&r.status)).count(),
                p50_ms: percentile(&ms, 50.0),
                p99_ms: percentile(&ms, 99.0),
                max_ms: percentile(&ms, 100.0),
            }
        })
        .collect()
}

/// Memory and descriptors: start, peak, end.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Span {
    pub start: u64,
    pub peak: u64,
    pub end: u64,
}

impl Span {
    pub fn of(
        samples: &[ProcSample],
        start: ProcSample,
        end: ProcSample,
        f: fn(&ProcSample) -> u64,
    ) -> Span {
        Span {
            start: f(&start),
            peak: samples
                .iter()
                .map(f)
                .chain([f(&start), f(&end)])
                .max()
                .unwrap_or(0),
            end: f(&end),
        }
    }

    /// End less start as a share of peak less start (0 when the end is not above the start).
    pub fn kept(&self) -> f64 {
        if self.end <= self.start {
            return 0.0;
        }
        (self.end - self.start) as f64 / (self.peak - self.start).max(1) as f64
    }
}

/// Everything the report says.
pub struct Figures {
    pub config: Value,
    pub rss_kib: Span,
    pub fds: Span,
    pub restart: Option<Restart>,
    pub phases: Vec<Phase>,
    pub answers: BTreeMap<&'static str, BTreeMap<String, u64>>,
    pub events: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    pub unenveloped: BTreeMap<&'static str, u64>,
    pub unenveloped_examples: Vec<Unenveloped>,
    pub writes: Check,
    pub health: Health,
    /// CPU seconds the server and this generator used during the loads.
    pub cpu: Cpu,
    pub samples: Vec<ProcSample>,
}

/// CPU seconds used during the loads, and how long they ran.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Cpu {
    pub server_s: f64,
    pub generator_s: f64,
    pub wall_s: f64,
}

impl Figures {
    /// Why the run failed; empty when it passed.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if self.writes.lost > 0 {
            failures.push(format!("{} acknowledged writes lost", self.writes.lost));
        }
        if self.writes.unverified > 0 {
            failures.push(format!(
                "{} acknowledged writes could not be checked",
                self.writes.unverified
            ));
        }
        let unenveloped: u64 = self.unenveloped.values().sum();
        if unenveloped > 0 {
            failures.push(format!("{unenveloped} answers without the envelope"));
        }
        let h = &self.health;
        if !(h.process_alive && h.healthz == 200 && h.readyz == 200) {
            failures.push(format!(
                "not healthy at the end (process alive: {}, /healthz {}, /readyz {})",
                h.process_alive, h.healthz, h.readyz
            ));
        }
        match &self.restart {
            Some(r) if r.ok => {}
            _ => failures.push("the database restart did not happen".into()),
        }
        if self.rss_kib.kept() >= RSS_KEPT_LIMIT {
            failures.push(format!(
                "memory kept at the end: {:.1} % of what the run took (limit {:.0} %)",
                self.rss_kib.kept() * 100.0,
                RSS_KEPT_LIMIT * 100.0
            ));
        }
        failures
    }

    pub fn json(&self) -> Value {
        let failures = self.failures();
        json!({
            "config": self.config,
            "passed": failures.is_empty(),
            "failures": failures,
            "rss_kib": self.rss_kib,
            "rss_kept_share": self.rss_kib.kept(),
            "fds": self.fds,
            "restart": self.restart,
            "reads": self.phases,
            "answers": self.answers,
            "connections": self.events,
            "without_envelope": {
                "total": self.unenveloped.values().sum::<u64>(),
                "by_kind": self.unenveloped,
                "examples": self.unenveloped_examples,
            },
            "writes": self.writes,
            "health": self.health,
            "cpu": self.cpu,
            "samples": self.samples.iter().map(|s| [s.t, s.rss_kib as f64, s.fds as f64]).collect::<Vec<_>>(),
        })
    }

    /// The table.
    pub fn table(&self) -> String {
        let mib = |kib: u64| kib as f64 / 1024.0;
        let mut out = String::new();
        let mut line = |s: String| {
            out.push_str(&s);
            out.push('\n');
        };
        let r = &self.rss_kib;
        line(format!(
            "server memory (RSS)   start {:.1} MiB, peak {:.1} MiB, end {:.1} MiB: end kept {:.1} % of (peak - start) (limit {:.0} %)",
            mib(r.start), mib(r.peak), mib(r.end), r.kept() * 100.0, RSS_KEPT_LIMIT * 100.0
        ));
        line(format!(
            "open descriptors      start {}, peak {}, end {}",
            self.fds.start, self.fds.peak, self.fds.end
        ));
        let c = &self.cpu;
        line(format!(
            "CPU during loads      server {:.0} s, this generator {:.0} s, over {:.0} s (2 cores: {:.0} s)",
            c.server_s, c.generator_s, c.wall_s, c.wall_s * 2.0
        ));
        match &self.restart {
            Some(x) => line(format!(
                "database restart      at {:.1} s, back at {:.1} s (away {:.1} s){}",
                x.at,
                x.back,
                x.back - x.at,
                if x.ok { "" } else { ": the command FAILED" }
            )),
            None => line("database restart      none".into()),
        }
        line(String::new());
        line(format!(
            "{:<36} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "reads (ms)", "reads", "2xx", "p50", "p99", "max"
        ));
        for p in &self.phases {
            line(format!(
                "{:<36} {:>9} {:>9} {:>9.1} {:>9.1} {:>9.1}",
                format!("{} ({:.0}-{:.0} s)", p.name, p.from_s, p.to_s),
                p.reads,
                p.ok,
                p.p50_ms,
                p.p99_ms,
                p.max_ms
            ));
        }
        line(String::new());
        line("answers by status".into());
        for kind in KINDS {
            let Some(by) = self.answers.get(kind) else {
                continue;
            };
            let total: u64 = by.values().sum();
            let parts: Vec<String> = by.iter().map(|(s, n)| format!("{s}: {n}")).collect();
            line(format!("  {kind:<8} {total:>8}   {}", parts.join(", ")));
        }
        for (kind, by) in &self.events {
            let parts: Vec<String> = by.iter().map(|(s, n)| format!("{s}: {n}")).collect();
            line(format!("  {kind:<8} {:>8}   {}", "", parts.join(", ")));
        }
        line(format!(
            "answers without the envelope: {}",
            self.unenveloped.values().sum::<u64>()
        ));
        for e in &self.unenveloped_examples {
            line(format!("  {} {}: {}", e.kind, e.status, e.body));
        }
        let w = &self.writes;
        line(format!(
            "writes: {} due, {} skipped (every order had a write in flight), {} acknowledged, {} refused (4xx), {} of unknown outcome; {} checked, {} LOST, {} not checkable",
            w.sent, w.skipped_all_orders_busy, w.acknowledged, w.refused, w.unknown_outcome, w.checked, w.lost, w.unverified
        ));
        for e in &w.lost_examples {
            line(format!("  lost: {e}"));
        }
        let h = &self.health;
        line(format!(
            "health at the end: process {}, /healthz {}, /readyz {}",
            if h.process_alive { "alive" } else { "GONE" },
            h.healthz,
            h.readyz
        ));
        let failures = self.failures();
        if failures.is_empty() {
            line("verdict: PASS".into());
        } else {
            line(format!("verdict: FAIL: {}", failures.join("; ")));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(t: f64, rss_kib: u64) -> ProcSample {
        ProcSample {
            t,
            rss_kib,
            fds: 10,
        }
    }

    #[test]
    fn memory_kept_is_the_end_over_what_the_run_took() {
        let samples = [sample(1.0, 300), sample(2.0, 1100)];
        let span = Span::of(&samples, sample(0.0, 100), sample(3.0, 250), |s| s.rss_kib);
        assert_eq!((span.start, span.peak, span.end), (100, 1100, 250));
        assert!((span.kept() - 0.15).abs() < 1e-9);
        let back = Span::of(&samples, sample(0.0, 100), sample(3.0, 90), |s| s.rss_kib);
        assert_eq!(back.kept(), 0.0);
    }

    #[test]
    fn reads_fall_in_the_phase_of_when_they_were_sent() {
        let read = |sent, ms| ReadSample {
            sent,
            ms,
            status: 200,
        };
        let reads = [
            read(1.0, 2.0),
            read(10.0, 900.0),
            read(23.0, 3.0),
            read(40.0, 4.0),
        ];
        let restart = Restart {
            at: 5.0,
            back: 12.0,
            ok: true,
        };
        let p = phases(&reads, Some(&restart), 60.0);
        let counts: Vec<usize> = p.iter().map(|p| p.reads).collect();
        assert_eq!(counts, vec![1, 1, 2]);
        assert_eq!(p[1].p99_ms, 900.0);
    }

    fn figures() -> Figures {
        let span = |start, peak, end| Span { start, peak, end };
        Figures {
            config: Value::Null,
            rss_kib: span(100, 1100, 150),
            fds: span(10, 20, 10),
            restart: Some(Restart {
                at: 1.0,
                back: 5.0,
                ok: true,
            }),
            phases: Vec::new(),
            answers: BTreeMap::new(),
            events: BTreeMap::new(),
            unenveloped: BTreeMap::new(),
            unenveloped_examples: Vec::new(),
            writes: Check::default(),
            health: Health {
                process_alive: true,
                healthz: 200,
                readyz: 200,
            },
            cpu: Cpu {
                server_s: 1.0,
                generator_s: 1.0,
                wall_s: 10.0,
            },
            samples: Vec::new(),
        }
    }

    #[test]
    fn the_verdict_names_each_failure() {
        assert_eq!(figures().failures(), Vec::<String>::new());
        let mut f = figures();
        f.rss_kib.end = 200;
        f.writes.lost = 2;
        f.unenveloped.insert("slow", 3);
        f.health.readyz = 503;
        f.restart = None;
        let failures = f.failures().join("; ");
        for part in [
            "2 acknowledged writes lost",
            "3 answers without the envelope",
            "/readyz 503",
            "the database restart did not happen",
            "memory kept at the end: 10.0 %",
        ] {
            assert!(failures.contains(part), "{failures}");
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert!(percentile(&[], 99.0).is_nan());
    }
}
