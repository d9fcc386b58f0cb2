//! The `ofs:` cursor: a page's position as an offset into the ordered list, written in base 36.
//!
//! `ofs:0` is the first row, `ofs:1e` the 51st. Parsing is strict about the prefix and the digits
//! (either case is read, lower case is written) and rejects values that do not fit in 64 bits, so a
//! cursor a client made up gets a 400 rather than a surprise.

use std::fmt;
use std::str::FromStr;

const PREFIX: &str = "ofs:";
const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// An offset into the ordered list of a tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cursor(pub u64);

/// Why a cursor string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("cursor must look like ofs:<base36 offset>, e.g. ofs:0 or ofs:1e")]
    Malformed,
    #[error("cursor offset is too large")]
    TooLarge,
}

impl Cursor {
    /// The offset as a number of rows.
    pub fn offset(self) -> u64 {
        self.0
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut n = self.0;
        let mut buf = [0u8; 13];
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = DIGITS[(n % 36) as usize];
            n /= 36;
            if n == 0 {
                break;
            }
        }
        f.write_str(PREFIX)?;
        // The digits are ASCII by construction.
        f.write_str(std::str::from_utf8(&buf[i..]).map_err(|_| fmt::Error)?)
    }
}

impl FromStr for Cursor {
    type Err = CursorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix(PREFIX).ok_or(CursorError::Malformed)?;
        if digits.is_empty() {
            return Err(CursorError::Malformed);
        }
        let mut n: u64 = 0;
        for c in digits.chars() {
            let d = c.to_digit(36).ok_or(CursorError::Malformed)?;
            n = n
                .checked_mul(36)
                .and_then(|n| n.checked_add(u64::from(d)))
                .ok_or(CursorError::TooLarge)?;
        }
        Ok(Cursor(n))
    }
}

impl serde::Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn fifty_is_written_as_1e() {
        assert_eq!(Cursor(50).to_string(), "ofs:1e");
        assert_eq!(Cursor(0).to_string(), "ofs:0");
        assert_eq!("ofs:1e".parse(), Ok(Cursor(50)));
        assert_eq!("ofs:2s".parse(), Ok(Cursor(100)));
    }

    #[test]
    fn upper_case_digits_are_read() {
        assert_eq!("ofs:1E".parse(), Ok(Cursor(50)));
    }

    #[test]
    fn malformed_cursors_are_refused() {
        for bad in [
            "", "ofs:", "1e", "ofs:-1", "ofs:1.5", "OFS:1", "ofs: 1", "ofs:1e ", "ofs:é",
        ] {
            assert_eq!(
                bad.parse::<Cursor>(),
                Err(CursorError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn offsets_beyond_64_bits_are_refused() {
        assert_eq!(Cursor(u64::MAX).to_string().parse(), Ok(Cursor(u64::MAX)));
        assert_eq!(
            "ofs:zzzzzzzzzzzzzzzz".parse::<Cursor>(),
            Err(CursorError::TooLarge)
        );
    }

    proptest! {
        #[test]
        fn every_offset_survives_a_round_trip(n in any::<u64>()) {
            let s = Cursor(n).to_string();
            prop_assert!(s.starts_with("ofs:"));
            prop_assert_eq!(s.parse::<Cursor>(), Ok(Cursor(n)));
        }

        #[test]
        fn parsing_any_string_never_panics(s in ".*") {
            let _ = s.parse::<Cursor>();
        }

        #[test]
        fn parsed_cursors_are_written_back_canonically(s in "ofs:[0-9a-z]{1,12}") {
            let c: Cursor = s.parse().unwrap();
            let back: Cursor = c.to_string().parse().unwrap();
            prop_assert_eq!(c, back);
        }
    }
}
