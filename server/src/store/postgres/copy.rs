//! Bulk writes with `COPY … FROM STDIN` in PostgreSQL's text format, for the seed.
//!
//! A row is its fields separated by tabs and ended by a newline. In a text field a backslash,
//! tab, newline and carriage return are escaped (`\\`, `\t`, `\n`, `\r`) and `\N` alone is NULL,
//! so a value that merely *looks* like `\N` is written `\\N` and stays text. Every value reaches
//! the column's own input function, as a bound text value cast to the column type would:
//! `numeric` reads the decimal string as written, `text[]` reads an array literal whose elements
//! are always quoted, `timestamptz` reads an ISO instant with an explicit `+00` offset (so the
//! session's time zone does not matter) to the microsecond.
//!
//! The rows are sent in pieces of about [`FLUSH_BYTES`] while they are being encoded, so the
//! memory a `COPY` needs stays bounded whatever the number of rows, and the server inserts one
//! piece while the next is encoded.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeDelta, Timelike, Utc};
use sqlx::PgConnection;

use super::classify;
use crate::store::StoreError;

/// Encoded bytes sent to the server at a time.
pub(super) const FLUSH_BYTES: usize = 1 << 20;

/// Rows being encoded in `COPY`'s text format.
#[derive(Debug, Default)]
pub(super) struct CopyText {
    buf: Vec<u8>,
    /// No field written yet on the current row.
    row_started: bool,
    /// Reused for array literals, which are escaped twice.
    scratch: String,
}

impl CopyText {
    pub(super) fn new() -> Self {
        CopyText {
            buf: Vec::with_capacity(FLUSH_BYTES + FLUSH_BYTES / 4),
            ..Default::default()
        }
    }

    /// What has been encoded so far.
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Forgets what has been encoded (after it was sent).
    pub(super) fn clear(&mut self) {
        self.buf.clear();
    }

    fn field(&mut self) -> &mut Vec<u8> {
        if self.row_started {
            self.buf.push(b'\t');
        }
        self.row_started = true;
        &mut self.buf
    }

    /// Ends the current row.
    pub(super) fn end_row(&mut self) {
        self.buf.push(b'\n');
        self.row_started = false;
    }

    pub(super) fn null(&mut self) {
        self.field().extend_from_slice(b"\\N");
    }

    pub(super) fn text(&mut self, s: &str) {
        let buf = self.field();
        escape_into(buf, s);
    }

    pub(super) fn opt_text(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub(super) fn int(&mut self, n: i64) {
        let buf = self.field();
        if n < 0 {
            buf.push(b'-');
        }
        push_uint(buf, n.unsigned_abs(), 1);
    }

    pub(super) fn bool(&mut self, b: bool) {
        self.field().push(if b { b't' } else { b'f' });
    }

    /// A `timestamptz`, to the microsecond.
    pub(super) fn timestamp(&mut self, t: DateTime<Utc>) {
        let buf = self.field();
        push_timestamp(buf, t);
    }

    pub(super) fn opt_timestamp(&mut self, t: Option<DateTime<Utc>>) {
        match t {
            Some(t) => self.timestamp(t),
            None => self.null(),
        }
    }

    /// A `text[]`: an array literal with every element quoted (so that `NULL`, an empty string,
    /// braces, commas and spaces are plain text), then escaped for `COPY`.
    pub(super) fn text_array(&mut self, items: &[String]) {
        let mut literal = std::mem::take(&mut self.scratch);
        literal.clear();
        literal.push('{');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                literal.push(',');
            }
            literal.push('"');
            for c in item.chars() {
                if c == '"' || c == '\\' {
                    literal.push('\\');
                }
                literal.push(c);
            }
            literal.push('"');
        }
        literal.push('}');
        self.text(&literal);
        self.scratch = literal;
    }
}

/// Appends `s` escaped for a text-format field.
fn escape_into(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut plain = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[plain..i]);
        buf.extend_from_slice(escaped);
        plain = i + 1;
    }
    buf.extend_from_slice(&bytes[plain..]);
}

/// Appends `n` in decimal, with at least `width` digits (zero-padded).
fn push_uint(buf: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for _ in (digits.len() - at)..width {
        buf.push(b'0');
    }
    buf.extend_from_slice(&digits[at..]);
}

/// PostgreSQL's epoch, from which a bound `timestamptz` counts its microseconds.
fn pg_epoch() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("2000-01-01 00:00:00 exists")
}

/// `t` as `YYYY-MM-DD HH:MM:SS.ffffff+00` (with ` BC` before year 1), holding exactly the
/// microseconds a bound value holds: sqlx counts whole microseconds from 2000-01-01, dropping
/// any nanoseconds toward that instant, and so does this.
fn push_timestamp(buf: &mut Vec<u8>, t: DateTime<Utc>) {
    let epoch = pg_epoch();
    let t = t.naive_utc();
    let t = (t - epoch)
        .num_microseconds()
        .map(|micros| epoch + TimeDelta::microseconds(micros))
        .unwrap_or(t);
    let year = t.year();
    let bc = year <= 0;
    let shown_year = if bc {
        1 - i64::from(year)
    } else {
        i64::from(year)
    };
    push_uint(buf, shown_year.unsigned_abs(), 4);
    buf.push(b'-');
    push_uint(buf, u64::from(t.month()), 2);
    buf.push(b'-');
    push_uint(buf, u64::from(t.day()), 2);
    buf.push(b' ');
    push_uint(buf, u64::from(t.hour()), 2);
    buf.push(b':');
    push_uint(buf, u64::from(t.minute()), 2);
    buf.push(b':');
    push_uint(buf, u64::from(t.second()), 2);
    buf.push(b'.');
    push_uint(buf, u64::from(t.nanosecond() / 1_000), 6);
    buf.extend_from_slice(b"+00");
    if bc {
        buf.extend_from_slice(b" BC");
    }
}

/// Runs `statement` (a `COPY … FROM STDIN` in text format) with one row per item, written by
/// `row`, and returns how many rows the server stored. Nothing is run when there are no items.
/// On error the caller's transaction is left failed: roll it back.
pub(super) async fn copy_rows<T>(
    conn: &mut PgConnection,
    statement: &str,
    buf: &mut CopyText,
    items: impl IntoIterator<Item = T>,
    mut row: impl FnMut(&mut CopyText, T),
) -> Result<u64, StoreError> {
    let mut items = items.into_iter().peekable();
    if items.peek().is_none() {
        return Ok(0);
    }
    buf.clear();
    let mut copy = conn.copy_in_raw(statement).await.map_err(classify)?;
    for item in items {
        row(buf, item);
        buf.end_row();
        if buf.as_bytes().len() >= FLUSH_BYTES {
            copy.send(buf.as_bytes()).await.map_err(classify)?;
            buf.clear();
        }
    }
    if !buf.as_bytes().is_empty() {
        copy.send(buf.as_bytes()).await.map_err(classify)?;
        buf.clear();
    }
    copy.finish().await.map_err(classify)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(write: impl FnOnce(&mut CopyText)) -> String {
        let mut c = CopyText::new();
        write(&mut c);
        c.end_row();
        String::from_utf8(c.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn text_escapes_what_the_format_reads_and_nothing_else() {
        let row = encoded(|c| {
            c.text("a\tb\nc\rd\\e");
            c.text("\\N");
            c.text("");
            c.opt_text(None);
            c.text("\"quoted\" 'single' é 🚚 \u{7f}\u{1}");
        });
        assert_eq!(
            row,
            "a\\tb\\nc\\rd\\\\e\t\\\\N\t\t\\N\t\"quoted\" 'single' é 🚚 \u{7f}\u{1}\n"
        );
    }

    #[test]
    fn arrays_quote_every_element_then_escape_for_copy() {
        let row = encoded(|c| {
            c.text_array(&[]);
            c.text_array(&["NULL".into(), "".into(), "a,b {c}".into()]);
            c.text_array(&[
                "say \"hi\"".into(),
                "back\\slash".into(),
                "tab\there".into(),
            ]);
        });
        assert_eq!(
            row,
            "{}\t{\"NULL\",\"\",\"a,b {c}\"}\t{\"say \\\\\"hi\\\\\"\",\"back\\\\\\\\slash\",\"tab\\there\"}\n"
        );
    }

    #[test]
    fn integers_and_booleans() {
        assert_eq!(
            encoded(|c| {
                c.int(0);
                c.int(-42);
                c.int(i64::MIN);
                c.int(i64::MAX);
                c.bool(true);
                c.bool(false);
            }),
            "0\t-42\t-9223372036854775808\t9223372036854775807\tt\tf\n"
        );
    }

    fn ts(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn timestamps_keep_the_microseconds_a_bound_value_keeps() {
        let row = encoded(|c| {
            c.timestamp(ts("2025-09-27T12:00:00.123456Z"));
            c.timestamp(ts("2025-09-27T12:00:00Z"));
            // Nanoseconds are dropped toward 2000-01-01: down after it, up before it.
            c.timestamp(ts("2025-09-27T12:00:00.123456789Z"));
            c.timestamp(ts("1999-12-31T23:59:59.999998999Z"));
            c.opt_timestamp(None);
        });
        assert_eq!(
            row,
            "2025-09-27 12:00:00.123456+00\t2025-09-27 12:00:00.000000+00\t\
             2025-09-27 12:00:00.123456+00\t1999-12-31 23:59:59.999999+00\t\\N\n"
        );
    }

    #[test]
    fn timestamps_far_from_now_are_written_as_postgresql_reads_them() {
        let far = |y: i32| {
            NaiveDate::from_ymd_opt(y, 3, 4)
                .unwrap()
                .and_hms_micro_opt(5, 6, 7, 8)
                .unwrap()
                .and_utc()
        };
        assert_eq!(
            encoded(|c| {
                c.timestamp(far(1));
                c.timestamp(far(0));
                c.timestamp(far(-99));
                c.timestamp(far(12345));
            }),
            "0001-03-04 05:06:07.000008+00\t0001-03-04 05:06:07.000008+00 BC\t\
             0100-03-04 05:06:07.000008+00 BC\t12345-03-04 05:06:07.000008+00\n"
        );
    }
}
