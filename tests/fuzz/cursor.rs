//! Part 1, the cursor codec: any `ofs:` tail parses to what its digits say or is refused, is
//! written back canonically, and survives JSON.

use proptest::prelude::*;
use serde_json::json;

use orders_core::cursor::CursorError;
use orders_core::Cursor;

use super::strategies::json_value;
use super::CASES;

const BASE36: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

pub(super) fn base36(mut n: u128) -> String {
    if n == 0 {
        return "0".into();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(BASE36[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

/// The value of base-36 digits (ASCII letters in either case), `None` beyond `u128`.
fn value_of(digits: &str) -> Option<u128> {
    digits
        .trim_start_matches('0')
        .chars()
        .try_fold(0u128, |n, c| {
            n.checked_mul(36)?.checked_add(u128::from(c.to_digit(36)?))
        })
}

/// What `ofs:<tail>` must parse to: digits are read until the first character that is not an ASCII
/// base-36 digit, and the first of an overflow or that character decides the error.
fn expected_cursor(tail: &str) -> Result<Cursor, CursorError> {
    if tail.is_empty() {
        return Err(CursorError::Malformed);
    }
    let end = tail
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(tail.len());
    let fits = value_of(&tail[..end])
        .and_then(|n| u64::try_from(n).ok())
        .map(Cursor);
    match fits {
        None => Err(CursorError::TooLarge),
        Some(_) if end < tail.len() => Err(CursorError::Malformed),
        Some(c) => Ok(c),
    }
}

/// Mixes the case of base-36 digits.
pub(super) fn mixed_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// What may follow `ofs:`: junk, Unicode digits and letters, long runs of zeros, values at the edge
/// of 64 bits and far beyond.
pub(super) fn cursor_tail() -> BoxedStrategy<String> {
    let edge = u128::from(u64::MAX);
    prop_oneof![
        ".{0,40}",
        "[0-9a-zA-Z]{0,40}",
        "0{0,300}[0-9a-zA-Z]{0,14}",
        "[0-9a-zA-Z]{0,14}[^0-9a-zA-Z][0-9a-zA-Z]{0,14}",
        "[-+ _.]{0,2}[0-9a-z]{1,12}[ \t]{0,2}",
        "[０-９٠-٩߀-߉ⅰ-ⅿＡ-Ｚ]{1,6}",
        ((edge - 2000)..=(edge + 2000), any::<u64>())
            .prop_map(|(n, mask)| mixed_case(&base36(n), mask)),
        (0u32..=24, -1i8..=1)
            .prop_map(|(k, d)| base36(36u128.pow(k).saturating_add_signed(i128::from(d)))),
        ("z{13,40}", "[^0-9a-zA-Z]{0,2}").prop_map(|(z, junk)| format!("{z}{junk}")),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    /// Whatever follows the prefix, the answer is exactly the one the digits call for: a cursor, a
    /// malformed one at the first stray character, or too large at the first digit that overflows.
    #[test]
    fn a_cursor_tail_of_any_kind_parses_to_what_its_digits_say(tail in cursor_tail()) {
        let s = format!("ofs:{tail}");
        prop_assert_eq!(s.parse::<Cursor>(), expected_cursor(&tail), "{:?}", s);
    }

    /// A value that parses is written back in the one canonical form: lower case, no leading zeros.
    #[test]
    fn a_parsed_cursor_is_written_back_canonically(tail in cursor_tail()) {
        if let Ok(c) = format!("ofs:{tail}").parse::<Cursor>() {
            let lower = tail.to_ascii_lowercase();
            let digits = lower.trim_start_matches('0');
            let want = format!("ofs:{}", if digits.is_empty() { "0" } else { digits });
            prop_assert_eq!(c.to_string(), want);
            prop_assert!(c.to_string().len() <= "ofs:".len() + 13);
        }
    }

    /// Only the exact, lower-case `ofs:` prefix is a cursor, whatever the digits.
    #[test]
    fn anything_but_the_exact_prefix_is_malformed(
        prefix in prop_oneof![
            Just(String::new()),
            prop::sample::select(vec!["OFS:", "Ofs:", "ofs", "ofs;", "ofs::", " ofs:", "\u{feff}ofs:", "оfs:", "ofs\u{0}:", "offset:"])
                .prop_map(str::to_owned),
            "[a-z]{0,4}:?",
        ],
        n in any::<u64>(),
    ) {
        let digits = base36(u128::from(n));
        let s = format!("{prefix}{digits}");
        match s.strip_prefix("ofs:") {
            Some(tail) => prop_assert_eq!(s.parse::<Cursor>(), expected_cursor(tail)),
            None => prop_assert_eq!(s.parse::<Cursor>(), Err(CursorError::Malformed), "{:?}", s),
        }
    }

    /// Offsets at the edges (0, powers of 36 and their neighbours, the top of 64 bits) survive the
    /// trip through JSON, where serde and `FromStr` must agree.
    #[test]
    fn edge_offsets_survive_json_and_serde_agrees_with_from_str(
        n in prop_oneof![
            (0u32..=12, -1i8..=1).prop_map(|(k, d)| 36u64.pow(k).saturating_add_signed(i64::from(d))),
            (u64::MAX - 1000)..=u64::MAX,
            any::<u64>(),
        ],
        tail in cursor_tail(),
        junk in json_value(),
    ) {
        let c = Cursor(n);
        let v = serde_json::to_value(c).unwrap();
        prop_assert_eq!(&v, &json!(c.to_string()));
        prop_assert_eq!(serde_json::from_value::<Cursor>(v).unwrap(), c);
        let s = format!("ofs:{tail}");
        prop_assert_eq!(serde_json::from_value::<Cursor>(json!(s)).ok(), s.parse::<Cursor>().ok());
        if !junk.is_string() {
            prop_assert!(serde_json::from_value::<Cursor>(junk).is_err());
        }
    }
}

#[test]
fn huge_cursors_are_refused_or_read_without_trouble() {
    let zeros = "0".repeat(100_000);
    assert_eq!(format!("ofs:{zeros}").parse(), Ok(Cursor(0)));
    assert_eq!(format!("ofs:{zeros}1e").parse(), Ok(Cursor(50)));
    assert_eq!(
        format!("ofs:{}", "z".repeat(100_000)).parse::<Cursor>(),
        Err(CursorError::TooLarge)
    );
    assert_eq!(
        format!("ofs:1e{}", "é".repeat(100_000)).parse::<Cursor>(),
        Err(CursorError::Malformed)
    );
    // One past the largest offset, in both cases.
    let past = base36(u128::from(u64::MAX) + 1);
    assert_eq!(
        format!("ofs:{past}").parse::<Cursor>(),
        Err(CursorError::TooLarge)
    );
    assert_eq!(
        format!("ofs:{}", past.to_ascii_uppercase()).parse::<Cursor>(),
        Err(CursorError::TooLarge)
    );
}
