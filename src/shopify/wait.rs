//! How long Sync waits when Shopify tells it to: the one rule for turning a number of seconds read
//! from an answer (a `Retry-After` header, a cost report's refill time) into a [`Duration`].
//!
//! # Policy
//!
//! A wait is a finite number of seconds from zero to [`LONGEST_WAIT`], taken as it is. Anything
//! else (negative, not a number, infinite, or longer) is [`LONGEST_WAIT`]: an answer that makes
//! no sense, or asks for an age, is waited out as long as Sync ever waits for Shopify, and never
//! panics (`Duration::from_secs_f64` does on such values) nor turns into a retry at once. Callers
//! that will not wait that long (the poller waits at most a minute within a tick) end their work
//! short instead.

use std::time::Duration;

/// The longest Sync waits on Shopify's word.
pub const LONGEST_WAIT: Duration = Duration::from_secs(5 * 60);

/// `seconds` as a wait, under the module's rule.
pub fn wait_from_seconds(seconds: f64) -> Duration {
    if seconds.is_finite() && (0.0..=LONGEST_WAIT.as_secs_f64()).contains(&seconds) {
        Duration::from_secs_f64(seconds)
    } else {
        LONGEST_WAIT
    }
}

/// A `Retry-After` header's wait, when it is a number of seconds (as Shopify sends it), under the
/// module's rule; `None` when it is not a number at all (an HTTP date, or garbage), so the caller
/// falls back on what else the answer says.
pub fn retry_after(header: &str) -> Option<Duration> {
    header.trim().parse::<f64>().ok().map(wait_from_seconds)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sensible_wait_is_taken_as_it_is() {
        assert_eq!(wait_from_seconds(0.0), Duration::ZERO);
        assert_eq!(wait_from_seconds(2.5), Duration::from_millis(2500));
        assert_eq!(wait_from_seconds(300.0), LONGEST_WAIT);
    }

    #[test]
    fn a_wait_that_makes_no_sense_is_the_longest_and_never_panics() {
        for nonsense in [
            1e20,
            f64::MAX,
            300.001,
            -1.0,
            -0.5,
            f64::MIN,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(wait_from_seconds(nonsense), LONGEST_WAIT, "{nonsense}");
        }
    }

    #[test]
    fn a_cost_report_asking_for_an_age_waits_the_longest() {
        let empty = crate::shopify::payload::Throttle {
            requested_cost: 1e300,
            actual_cost: None,
            maximum_available: 2000.0,
            currently_available: -1e308,
            restore_rate: 1e-300,
        };
        assert_eq!(empty.wait_before(1e300), LONGEST_WAIT);
        assert_eq!(empty.wait_before(f64::MAX), LONGEST_WAIT);
    }

    #[test]
    fn retry_after_reads_seconds_and_leaves_other_forms_to_the_caller() {
        assert_eq!(retry_after(" 2 "), Some(Duration::from_secs(2)));
        assert_eq!(retry_after("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(retry_after("1e20"), Some(LONGEST_WAIT));
        assert_eq!(retry_after("-3"), Some(LONGEST_WAIT));
        assert_eq!(retry_after("NaN"), Some(LONGEST_WAIT));
        assert_eq!(retry_after("inf"), Some(LONGEST_WAIT));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(retry_after(""), None);
    }
}
