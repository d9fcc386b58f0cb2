//! Times in the shop's time zone: `Dec 2, 00:30` for an order placed at 2026-12-01T15:30Z in a
//! Tokyo shop, and the UTC bounds of the shop's local days for the API's date filters.
//!
//! Policy: instants stay `DateTime<Utc>`; only what is shown or what bounds a local day goes
//! through the shop's IANA zone (chrono-tz's copy of the tz database). Dates are written in English
//! (`Sep 27`) whatever the locale. A local day starts at its first instant: midnight, or when
//! midnight is skipped by a DST change, the first local time after the gap. Its inclusive end is
//! one microsecond before the next day starts, as `date_end` of a date is read in `query`.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A shop's time zone, for showing instants and cutting local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopClock {
    tz: Tz,
}

impl ShopClock {
    /// The clock of an IANA zone name as Shopify gives it (`iana_timezone`: `Asia/Tokyo`,
    /// `America/New_York`); an unknown name is an error saying so.
    pub fn parse(iana: &str) -> Result<ShopClock, String> {
        iana.trim()
            .parse::<Tz>()
            .map(|tz| ShopClock { tz })
            .map_err(|_| {
                format!(
                    "unknown time zone {iana:?}: expected an IANA name such as America/New_York"
                )
            })
    }

    /// The clock of UTC, for a shop whose zone is not known.
    pub fn utc() -> ShopClock {
        ShopClock { tz: Tz::UTC }
    }

    /// The zone's IANA name, e.g. `Asia/Tokyo`.
    pub fn name(&self) -> &str {
        self.tz.name()
    }

    /// An instant in the shop's local time: `Sep 27, 14:03` (`%b %-d, %H:%M`).
    pub fn when(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.tz)
            .format("%b %-d, %H:%M")
            .to_string()
    }

    /// A local day as a label: `Sep 27`.
    pub fn day_label(&self, day: NaiveDate) -> String {
        day.format("%b %-d").to_string()
    }

    /// The shop's local date at an instant.
    pub fn local_day(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// The UTC bounds of a local day, both inclusive: its first instant, and one microsecond before
    /// the next local day's first instant. A day is 24 hours long, or 23 or 25 on a DST change.
    pub fn day_range(&self, day: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let next = day
            .succ_opt()
            .map_or(DateTime::<Utc>::MAX_UTC, |d| self.day_start(d));
        (self.day_start(day), next - Duration::microseconds(1))
    }

    /// The offset from UTC at an instant, always as `UTC±HH:MM` (`UTC+09:00`, `UTC-05:00`,
    /// `UTC+00:00`; `UTC+05:45` for Kathmandu).
    pub fn offset_label(&self, at: DateTime<Utc>) -> String {
        let seconds = self
            .tz
            .offset_from_utc_datetime(&at.naive_utc())
            .fix()
            .local_minus_utc();
        let sign = if seconds < 0 { '-' } else { '+' };
        let minutes = seconds.unsigned_abs() / 60;
        format!("UTC{sign}{:02}:{:02}", minutes / 60, minutes % 60)
    }

    /// The last `n` local days, oldest first, ending with today in the shop's zone.
    pub fn last_days(&self, now: DateTime<Utc>, n: usize) -> Vec<NaiveDate> {
        let today = self.local_day(now);
        let mut days: Vec<NaiveDate> = std::iter::successors(Some(today), |d| d.pred_opt())
            .take(n)
            .collect();
        days.reverse();
        days
    }

    /// The first instant of a local day: its midnight, or, when a DST change skips midnight, the
    /// first local time after the gap (found minute by minute: tz offsets are whole minutes).
    fn day_start(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_time(NaiveTime::MIN);
        (0..=24 * 60)
            .find_map(|minute| {
                let local = midnight.checked_add_signed(Duration::minutes(minute))?;
                self.tz.from_local_datetime(&local).earliest()
            })
            .map_or_else(|| midnight.and_utc(), |local| local.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn clock(name: &str) -> ShopClock {
        ShopClock::parse(name).unwrap()
    }

    #[test]
    fn parses_iana_names_and_refuses_unknown_ones() {
        assert_eq!(clock("Asia/Tokyo").name(), "Asia/Tokyo");
        assert_eq!(clock(" America/New_York ").name(), "America/New_York");
        assert_eq!(ShopClock::utc().name(), "UTC");
        let error = ShopClock::parse("Mars/Olympus_Mons").unwrap_err();
        assert!(
            error.contains("unknown time zone \"Mars/Olympus_Mons\""),
            "{error}"
        );
        assert!(ShopClock::parse("").is_err());
    }

    #[test]
    fn shows_an_instant_in_the_shops_local_time() {
        let tokyo = clock("Asia/Tokyo");
        let at = utc("2026-12-01T15:30:00Z");
        assert_eq!(tokyo.when(at), "Dec 2, 00:30");
        assert_eq!(tokyo.local_day(at), date(2026, 12, 2));
        assert_eq!(ShopClock::utc().when(at), "Dec 1, 15:30");
        assert_eq!(ShopClock::utc().local_day(at), date(2026, 12, 1));
        assert_eq!(
            clock("America/New_York").when(utc("2026-09-27T18:03:59Z")),
            "Sep 27, 14:03"
        );
        assert_eq!(tokyo.day_label(date(2026, 9, 27)), "Sep 27");
    }

    #[test]
    fn a_day_range_covers_the_local_day() {
        let (start, end) = clock("Asia/Tokyo").day_range(date(2026, 12, 2));
        assert_eq!(start, utc("2026-12-01T15:00:00Z"));
        assert_eq!(end, utc("2026-12-02T14:59:59.999999Z"));
        let (start, end) = ShopClock::utc().day_range(date(2026, 12, 2));
        assert_eq!(start, utc("2026-12-02T00:00:00Z"));
        assert_eq!(end, utc("2026-12-02T23:59:59.999999Z"));
    }

    #[test]
    fn dst_days_are_23_and_25_hours_long() {
        let new_york = clock("America/New_York");
        let (start, end) = new_york.day_range(date(2026, 3, 8));
        assert_eq!(start, utc("2026-03-08T05:00:00Z"));
        assert_eq!(end, utc("2026-03-09T03:59:59.999999Z"));
        assert_eq!(end - start + Duration::microseconds(1), Duration::hours(23));
        let (start, end) = new_york.day_range(date(2026, 11, 1));
        assert_eq!(start, utc("2026-11-01T04:00:00Z"));
        assert_eq!(end - start + Duration::microseconds(1), Duration::hours(25));
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_after_the_gap() {
        // Santiago springs forward at 24:00 (-04 → -03): 2022-09-11 starts at 01:00 local.
        let santiago = clock("America/Santiago");
        let (start, _) = santiago.day_range(date(2022, 9, 11));
        assert_eq!(start, utc("2022-09-11T04:00:00Z"));
        assert_eq!(santiago.when(start), "Sep 11, 01:00");
        let (_, end_before) = santiago.day_range(date(2022, 9, 10));
        assert_eq!(end_before + Duration::microseconds(1), start);
        // Beirut springs forward at midnight too (+02 → +03): 2022-03-27 started at 01:00 local.
        let (start, _) = clock("Asia/Beirut").day_range(date(2022, 3, 27));
        assert_eq!(start, utc("2022-03-26T22:00:00Z"));
    }

    #[test]
    fn consecutive_day_ranges_tile_time() {
        let new_york = clock("America/New_York");
        let mut day = date(2026, 1, 1);
        while day < date(2027, 1, 1) {
            let (start, end) = new_york.day_range(day);
            let next = day.succ_opt().unwrap();
            assert_eq!(end + Duration::microseconds(1), new_york.day_range(next).0);
            assert_eq!(new_york.local_day(start), day);
            assert_eq!(new_york.local_day(end), day);
            day = next;
        }
    }

    #[test]
    fn offset_labels_are_utc_plus_minus_hours_and_minutes() {
        let at = utc("2026-12-01T15:30:00Z");
        assert_eq!(clock("Asia/Tokyo").offset_label(at), "UTC+09:00");
        assert_eq!(clock("America/New_York").offset_label(at), "UTC-05:00");
        assert_eq!(
            clock("America/New_York").offset_label(utc("2026-07-01T12:00:00Z")),
            "UTC-04:00"
        );
        assert_eq!(clock("Asia/Kathmandu").offset_label(at), "UTC+05:45");
        assert_eq!(clock("America/St_Johns").offset_label(at), "UTC-03:30");
        assert_eq!(ShopClock::utc().offset_label(at), "UTC+00:00");
    }

    #[test]
    fn last_days_end_today_in_the_shops_zone() {
        let now = utc("2026-12-01T15:30:00Z");
        assert_eq!(
            clock("Asia/Tokyo").last_days(now, 3),
            [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
        );
        assert_eq!(
            ShopClock::utc().last_days(now, 2),
            [date(2026, 11, 30), date(2026, 12, 1)]
        );
        assert_eq!(
            clock("Pacific/Honolulu").last_days(now, 1),
            [date(2026, 12, 1)]
        );
        assert!(ShopClock::utc().last_days(now, 0).is_empty());
        let (start, end) = ShopClock::utc().day_range(NaiveDate::MAX);
        assert!(
            start < end,
            "the last representable day neither panics nor inverts"
        );
        assert_eq!(ShopClock::utc().last_days(now, 30).len(), 30);
    }
}
