//! A rate limit per token: the generic cell rate algorithm, one "theoretical arrival time" per
//! token. A token may make `rate` requests a second on average and `2 × rate` in a burst; beyond
//! that a request is refused with the seconds to wait.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;

/// Tokens not seen for this long are forgotten when the table is swept.
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// The table is swept once it holds this many tokens.
const SWEEP_AT: usize = 10_000;

pub struct Limiter {
    /// Time between two requests at the average rate; `None` when unlimited.
    interval: Option<Duration>,
    /// How far ahead of now a token's arrival time may run: the burst.
    burst: Duration,
    tats: Mutex<HashMap<i64, Instant>>,
}

impl Limiter {
    pub fn new(rate: Option<u32>) -> Self {
        let interval = rate.map(|r| Duration::from_secs(1) / r.max(1));
        Limiter {
            interval,
            burst: interval
                .map(|i| i * 2 * rate.unwrap_or(1))
                .unwrap_or_default(),
            tats: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of token `id`: `Ok` to serve it, or 429 with the seconds to wait.
    pub fn check(&self, id: i64) -> Result<(), ApiError> {
        self.check_at(id, Instant::now())
    }

    fn check_at(&self, id: i64, now: Instant) -> Result<(), ApiError> {
        let Some(interval) = self.interval else {
            return Ok(());
        };
        let mut tats = self.tats.lock().unwrap_or_else(|p| p.into_inner());
        if tats.len() >= SWEEP_AT {
            tats.retain(|_, tat| *tat + FORGET_AFTER > now);
        }
        let tat = tats.get(&id).copied().unwrap_or(now).max(now);
        let next = tat + interval;
        let allowed_from = next.checked_sub(self.burst).unwrap_or(now);
        if allowed_from > now {
            let wait = allowed_from - now;
            return Err(ApiError::TooManyRequests(wait.as_secs() + 1));
        }
        tats.insert(id, next);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_twice_the_rate_then_the_rate() {
        let limiter = Limiter::new(Some(10));
        let start = Instant::now();
        let allowed = (0..100)
            .filter(|_| limiter.check_at(1, start).is_ok())
            .count();
        assert_eq!(allowed, 20, "a burst of 2 × 10");
        let refused = limiter.check_at(1, start).unwrap_err();
        assert!(matches!(refused, ApiError::TooManyRequests(1)));
        // Another token has its own budget.
        assert!(limiter.check_at(2, start).is_ok());
        // A second later, ten more.
        let later = start + Duration::from_secs(1);
        let allowed = (0..100)
            .filter(|_| limiter.check_at(1, later).is_ok())
            .count();
        assert_eq!(allowed, 10);
    }

    #[test]
    fn no_rate_no_limit() {
        let limiter = Limiter::new(None);
        let now = Instant::now();
        assert!((0..10_000).all(|_| limiter.check_at(1, now).is_ok()));
    }
}
