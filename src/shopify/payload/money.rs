//! Money, in integer millionths: decimal text and JSON numbers read without a float, summed
//! exactly, and written with each currency's decimals.

use serde_json::{Number, Value};

use super::fields::invalid;
use super::PayloadError;

/// Fraction digits kept while summing: beyond every currency's minor unit.
const SCALE: u32 = 6;

/// How many decimals a currency's amounts are written with: 0 for currencies without minor units
/// (JPY, KRW…), 3 for the dinar-style ones (BHD, KWD…), else 2.
pub fn minor_digits(currency: &str) -> u32 {
    const NONE: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF",
    ];
    const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    let code = currency.trim().to_ascii_uppercase();
    if NONE.contains(&code.as_str()) {
        0
    } else if THREE.contains(&code.as_str()) {
        3
    } else {
        2
    }
}

/// A money field (decimal string or JSON number) in millionths; absent or null is zero.
pub(super) fn millionths(value: Option<&Value>, field: &'static str) -> Result<i128, PayloadError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(0),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(other) => return Err(invalid(field, other)),
    };
    parse_decimal(&text).ok_or(PayloadError::Invalid {
        field,
        value: format!("'{text}' (expected a decimal amount)"),
    })
}

/// Adds a money field to a running sum; a sum beyond what millionths can hold is refused rather
/// than overflowing.
pub(super) fn add_money(
    total: &mut i128,
    value: Option<&Value>,
    field: &'static str,
) -> Result<(), PayloadError> {
    let amount = millionths(value, field)?;
    *total = total
        .checked_add(amount)
        .ok_or_else(|| PayloadError::Invalid {
            field,
            value: format!(
                "'{}' (the refund's total would be too large)",
                format_amount(amount, SCALE)
            ),
        })?;
    Ok(())
}

/// A JSON number as an amount with the currency's decimals.
pub(super) fn amount_of_number(
    n: &Number,
    currency: &str,
    field: &'static str,
) -> Result<String, PayloadError> {
    let text = n.to_string();
    parse_decimal(&text)
        .map(|m| format_amount(m, minor_digits(currency)))
        .ok_or(PayloadError::Invalid { field, value: text })
}

/// Parses decimal text (`"10.00"`, `"-3.5"`, `"199.0"`, `"1e-7"` as serde writes small floats)
/// into integer millionths, rounding half away from zero beyond the sixth decimal. `None` for text
/// that is not a number or does not fit.
pub fn parse_decimal(raw: &str) -> Option<i128> {
    let s = raw.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], s[at + 1..].parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    // Digits beyond what i128 holds do not parse: no separate limit, so that every amount
    // `format_amount` writes (up to 39 digits) reads back.
    let value: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().ok()?
    };
    // value × 10^power millionths
    let power = i64::from(exponent) - frac.len() as i64 + i64::from(SCALE);
    let scaled = if power >= 0 {
        value.checked_mul(10i128.checked_pow(u32::try_from(power).ok()?)?)?
    } else if -power > 38 {
        0
    } else {
        let divisor = 10i128.pow(u32::try_from(-power).ok()?);
        let (q, r) = (value / divisor, value % divisor);
        if r >= divisor - r {
            q + 1
        } else {
            q
        }
    };
    Some(if negative { -scaled } else { scaled })
}

/// Writes millionths with `digits` decimals (at most six), rounding half away from zero.
pub fn format_amount(millionths: i128, digits: u32) -> String {
    let digits = digits.min(SCALE);
    let unit = 10i128.pow(SCALE - digits);
    let magnitude = millionths.unsigned_abs();
    let unit_u = unit.unsigned_abs();
    let (q, r) = (magnitude / unit_u, magnitude % unit_u);
    let minor = if r >= unit_u - r { q + 1 } else { q };
    let sign = if millionths < 0 && minor > 0 { "-" } else { "" };
    if digits == 0 {
        return format!("{sign}{minor}");
    }
    let per = 10u128.pow(digits);
    format!(
        "{sign}{}.{:0width$}",
        minor / per,
        minor % per,
        width = digits as usize
    )
}
