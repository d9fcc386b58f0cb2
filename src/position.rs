//! A position in the database's write-ahead log: how Sync keeps reads causally consistent across
//! read replicas (SPEC-silent; docs/DECISIONS.md "Read replicas").
//!
//! A write answers with the position of its commit (`X-Sync-Position`); a read that sends one
//! back (`X-Sync-Min-Position`) is served only by a copy of the database that has replayed at
//! least that far. The text is PostgreSQL's own `pg_lsn` form, two hexadecimal halves of a 64-bit
//! number (`16/B374D848`), so an operator can paste it into `pg_last_wal_replay_lsn() >= …`.

use std::fmt;
use std::str::FromStr;

/// A write-ahead log position; later positions compare greater. Travels as its text.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(into = "String", try_from = "String")]
pub struct Position(pub u64);

impl From<Position> for String {
    fn from(p: Position) -> String {
        p.to_string()
    }
}

impl TryFrom<String> for Position {
    type Error = BadPosition;

    fn try_from(s: String) -> Result<Self, BadPosition> {
        s.parse()
    }
}

/// Why a position's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a position is two hexadecimal numbers of 1 to 8 digits around a slash, such as 16/B374D848"
)]
pub struct BadPosition;

impl FromStr for Position {
    type Err = BadPosition;

    fn from_str(s: &str) -> Result<Self, BadPosition> {
        value_of(s).map(Position).ok_or(BadPosition)
    }
}

/// The number a position's text stands for (`None`: the text is not a position). Light enough for
/// the browser, which keeps positions as text and only ever compares them ([`later_text`]).
pub fn value_of(text: &str) -> Option<u64> {
    let (hi, lo) = text.trim().split_once('/')?;
    let half = |h: &str| {
        if h.is_empty() || h.len() > 8 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(h, 16).ok()
    };
    Some(u64::from(half(hi)?) << 32 | u64::from(half(lo)?))
}

/// Of two positions kept as text, the later (a text that is not a position counts as none).
pub fn later_text(a: Option<String>, b: Option<String>) -> Option<String> {
    let key = |t: &Option<String>| t.as_deref().and_then(value_of);
    if key(&b) >= key(&a) && key(&b).is_some() {
        b
    } else if key(&a).is_some() {
        a
    } else {
        None
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// The later of two optional positions (the one a page keeps after two writes answer out of order).
pub fn later(a: Option<Position>, b: Option<Position>) -> Option<Position> {
    a.max(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_read_and_print_as_postgresql_does() {
        let p: Position = "16/B374D848".parse().unwrap();
        assert_eq!(p, Position(0x16_B374_D848));
        assert_eq!(p.to_string(), "16/B374D848");
        assert_eq!("0/0".parse::<Position>().unwrap(), Position(0));
        assert_eq!(" a/1 ".parse::<Position>().unwrap().to_string(), "A/1");
        assert_eq!(
            Position(u64::MAX).to_string().parse::<Position>().unwrap(),
            Position(u64::MAX)
        );
    }

    #[test]
    fn malformed_positions_are_refused() {
        for bad in [
            "",
            "/",
            "1/",
            "/1",
            "1",
            "1/2/3",
            "g/1",
            "1/123456789",
            "-1/1",
            "+1/1",
            "1 /1",
        ] {
            assert_eq!(bad.parse::<Position>(), Err(BadPosition), "{bad:?}");
        }
    }

    #[test]
    fn positions_kept_as_text_compare_as_numbers() {
        let text = |s: &str| Some(s.to_owned());
        assert_eq!(later_text(text("1/FFFFFFFF"), text("2/0")), text("2/0"));
        assert_eq!(later_text(text("2/0"), text("1/FFFFFFFF")), text("2/0"));
        assert_eq!(later_text(text("A/10"), text("A/9")), text("A/10"));
        assert_eq!(later_text(None, text("0/1")), text("0/1"));
        assert_eq!(later_text(text("0/1"), None), text("0/1"));
        assert_eq!(later_text(text("0/1"), text("junk")), text("0/1"));
        assert_eq!(later_text(text("junk"), None), None);
    }

    #[test]
    fn positions_order_by_both_halves() {
        let a: Position = "1/FFFFFFFF".parse().unwrap();
        let b: Position = "2/0".parse().unwrap();
        assert!(a < b);
        assert_eq!(later(Some(a), Some(b)), Some(b));
        assert_eq!(later(None, Some(a)), Some(a));
        assert_eq!(later(None, None), None);
    }
}
