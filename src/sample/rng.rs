//! Randomness: splitmix64, seeded per stream; the deal that spreads the indexes `0..N` over a
//! layer's groups by their shares; and the random times built on it.

use chrono::{DateTime, Utc};

/// splitmix64 (Steele, Lea & Flood): tiny, fast, and the same on every platform.
#[derive(Debug, Clone)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0), without modulo bias worth mentioning.
    pub(super) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A number in `lo..=hi`; `lo` when the range is empty.
    pub(super) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            lo + self.below((hi - lo) as u64 + 1) as i64
        }
    }

    /// True `percent` times in a hundred.
    pub(super) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }

    pub(super) fn digits(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
}

/// Derives an independent stream's seed.
pub(super) fn mix(a: u64, b: u64) -> u64 {
    Rng::new(a ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93)).next_u64()
}

pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01B3)
    })
}

/// Deals `n` slots over `table` (value, share in ‰): every entry but the last gets its share
/// rounded up while slots remain, the last the rest; then shuffles. Each slot comes with its rank
/// within its group (0, 1, 2… in index order).
pub(super) fn deal_out<T: Copy>(rng: &mut Rng, n: usize, table: &[(T, u32)]) -> Vec<(T, usize)> {
    let mut slots: Vec<usize> = Vec::with_capacity(n);
    for (k, (_, per_mille)) in table.iter().enumerate() {
        let room = n - slots.len();
        let want = if k + 1 == table.len() {
            room
        } else {
            (n * *per_mille as usize).div_ceil(1000).min(room)
        };
        slots.extend(std::iter::repeat_n(k, want));
    }
    rng.shuffle(&mut slots);
    let mut seen = vec![0usize; table.len()];
    slots
        .into_iter()
        .map(|k| {
            let rank = seen[k];
            seen[k] += 1;
            (table[k].0, rank)
        })
        .collect()
}

/// A time between `lo` and `hi` after `base`, squeezed so it is never after `now`.
pub(super) fn soon(rng: &mut Rng, base: i64, lo: i64, hi: i64, now: i64) -> i64 {
    let room = (now - base).max(0);
    base + rng.range(lo.min(room), hi.min(room))
}

/// Like `range`, but most values near `lo`.
pub(super) fn skewed(rng: &mut Rng, lo: i64, hi: i64) -> i64 {
    let u = rng.below(1_000) as i64;
    lo + (hi - lo) * u * u / 1_000_000
}

pub(super) fn at(ts: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(ts, 0).unwrap_or(DateTime::UNIX_EPOCH)
}
