//! Money as the merchant reads it: `¥51,100`, `$1,234.50`, `1.234,50 €`, `₹12,34,567.00`.
//!
//! Policy: amounts stay decimal strings from Shopify to the screen; no floating point. The amount
//! is rounded to the currency's ISO 4217 minor digits, half away from zero (`0.005` USD → `$0.01`,
//! `-0.005` → `-$0.01`, `2.5` JPY → `¥3`), and a negative amount that rounds to zero loses its sign.
//! Nothing panics: an amount that is not a plain decimal is shown as given, then the code; an
//! unknown currency code gets the number in the locale's separators (two decimals), then the code.

use super::{currency, Grouping, Locale};

const NBSP: char = '\u{a0}';

/// Formats a Shopify amount (`"51100.00"`, `"1234.5"`, `"-12"`) in `currency` (an ISO 4217 code,
/// any case) the way `locale` writes money.
///
/// An amount is a plain decimal: an optional sign, digits, optionally `.` and digits (`"1e3"`,
/// `".5"`, `"1,234"` and `" 1"` are not). See the module's policy for rounding and the fallbacks.
pub fn format_money(amount: &str, currency: &str, locale: &Locale) -> String {
    let code = currency.trim();
    let code = if code.len() == 3 && code.bytes().all(|b| b.is_ascii_alphabetic()) {
        code.to_ascii_uppercase()
    } else {
        code.to_owned()
    };
    let Some(decimal) = Decimal::parse(amount) else {
        return with_code_after(amount.to_owned(), &code);
    };
    let known = currency::minor_digits(&code).zip(currency::symbol(&code, locale.tag));
    let Some((digits, symbol)) = known else {
        let number = number(&decimal.rounded(2), locale);
        let signed = if decimal.negative_after(2) {
            format!("{}{number}", locale.minus)
        } else {
            number
        };
        return with_code_after(signed, &code);
    };
    let (int, frac) = decimal.rounded(digits);
    let number = number(&(int, frac), locale);
    let pattern = if decimal.negative_after(digits) {
        locale.negative
    } else {
        locale.positive
    };
    fill(pattern, symbol, &number, locale.minus)
}

/// `text`, then a no-break space and `code` when there is one.
fn with_code_after(text: String, code: &str) -> String {
    if code.is_empty() {
        text
    } else {
        format!("{text}{NBSP}{code}")
    }
}

/// A parsed amount: its sign and its digits either side of the point.
struct Decimal<'a> {
    negative: bool,
    int: &'a str,
    frac: &'a str,
}

impl<'a> Decimal<'a> {
    /// `[+-]digits[.digits]`, else `None`.
    fn parse(amount: &'a str) -> Option<Self> {
        let (negative, unsigned) = match amount.as_bytes().first() {
            Some(b'-') => (true, &amount[1..]),
            Some(b'+') => (false, &amount[1..]),
            _ => (false, amount),
        };
        let (int, frac) = match unsigned.split_once('.') {
            Some((int, frac)) if !frac.is_empty() => (int, frac),
            Some(_) => return None,
            None => (unsigned, ""),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        (!int.is_empty() && digits(int) && digits(frac)).then_some(Decimal {
            negative,
            int,
            frac,
        })
    }

    /// The magnitude rounded to `digits` decimals, half away from zero: the integer digits (no
    /// leading zeros, at least `0`) and exactly `digits` decimals.
    fn rounded(&self, digits: u8) -> (String, String) {
        let digits = usize::from(digits);
        let int = self.int.trim_start_matches('0');
        let kept = self.frac.get(..digits).unwrap_or(self.frac);
        // The first dropped digit decides: 5 or more means at least half a unit, so round up.
        let round_up = self.frac.as_bytes().get(digits).is_some_and(|d| *d >= b'5');
        let mut all: Vec<u8> = format!("0{int}{kept:0<digits$}").into_bytes();
        if round_up {
            for d in all.iter_mut().rev() {
                if *d == b'9' {
                    *d = b'0';
                } else {
                    *d += 1;
                    break;
                }
            }
        }
        let split = all.len() - digits;
        let int: String = all[..split].iter().map(|&b| char::from(b)).collect();
        let frac: String = all[split..].iter().map(|&b| char::from(b)).collect();
        let int = int.trim_start_matches('0');
        (if int.is_empty() { "0" } else { int }.to_owned(), frac)
    }

    /// Whether the amount shows a minus once rounded to `digits` decimals (`-0.001` does not).
    fn negative_after(&self, digits: u8) -> bool {
        let (int, frac) = self.rounded(digits);
        self.negative && (int != "0" || frac.bytes().any(|b| b != b'0'))
    }
}

/// The unsigned number in the locale's separators: `1,234.50`, `1 234,50`, `12,34,567.00`.
fn number((int, frac): &(String, String), locale: &Locale) -> String {
    let mut out = group(int, locale.grouping, locale.group);
    if !frac.is_empty() {
        out.push_str(locale.decimal);
        out.push_str(frac);
    }
    out
}

/// The integer digits with `sep` between groups.
fn group(int: &str, grouping: Grouping, sep: &str) -> String {
    let len = int.len();
    let grouped = match grouping {
        Grouping::Three | Grouping::Indian => len > 3,
        Grouping::ThreeFromFive => len > 4,
    };
    if !grouped {
        return int.to_owned();
    }
    // Where each separator goes, counted in digits from the right: 3, 6, 9… or 3, 5, 7….
    let step = if grouping == Grouping::Indian { 2 } else { 3 };
    let mut out = String::with_capacity(len + len / 2 * sep.len());
    for (i, c) in int.chars().enumerate() {
        let from_right = len - i;
        if i > 0 && from_right >= 3 && (from_right - 3).is_multiple_of(step) {
            out.push_str(sep);
        }
        out.push(c);
    }
    out
}

/// A CLDR currency pattern filled in: `¤` the symbol, `#` the number, `-` the minus sign. A symbol
/// ending (or starting) in a letter gets a no-break space where it touches the number
/// (CLDR's currency spacing: `CHF 12.00`, `KWD 1.000`, but `$12.00`).
fn fill(pattern: &str, symbol: &str, number: &str, minus: &str) -> String {
    let letter_at = |c: Option<char>| c.is_some_and(char::is_alphabetic);
    let mut out = String::new();
    let mut previous = None;
    for c in pattern.chars() {
        match c {
            '¤' => {
                if previous == Some('#') && letter_at(symbol.chars().next()) {
                    out.push(NBSP);
                }
                out.push_str(symbol);
            }
            '#' => {
                if previous == Some('¤') && letter_at(symbol.chars().next_back()) {
                    out.push(NBSP);
                }
                out.push_str(number);
            }
            '-' => out.push_str(minus),
            other => out.push(other),
        }
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locale(tag: &str) -> Locale {
        Locale::find(tag).unwrap()
    }

    fn money(amount: &str, currency: &str, tag: &str) -> String {
        format_money(amount, currency, &locale(tag))
    }

    #[test]
    fn the_briefs_examples() {
        assert_eq!(money("51100.00", "JPY", "en-US"), "¥51,100");
        assert_eq!(money("1234.5", "USD", "en-US"), "$1,234.50");
        assert_eq!(money("1234.5", "EUR", "de-DE"), "1.234,50\u{a0}€");
        assert_eq!(money("1234.5", "EUR", "fr-FR"), "1\u{202f}234,50\u{a0}€");
        assert_eq!(money("-12", "USD", "en-US"), "-$12.00");
        assert_eq!(
            money("1234567.891", "KWD", "en-US"),
            "KWD\u{a0}1,234,567.891"
        );
        assert_eq!(money("1234567", "INR", "en-IN"), "₹12,34,567.00");
        assert_eq!(money("0.005", "USD", "en-US"), "$0.01");
    }

    #[test]
    fn an_ambiguous_symbol_is_disambiguated_in_the_locale() {
        assert_eq!(money("1", "USD", "en-CA"), "US$1.00");
        assert_eq!(money("1", "CAD", "en-CA"), "$1.00");
        assert_eq!(money("1", "CAD", "en-US"), "CA$1.00");
        assert_eq!(money("1", "USD", "fr-FR"), "1,00\u{a0}$US");
        assert_eq!(money("1", "CNY", "en-US"), "CN¥1.00");
        assert_eq!(money("51100", "JPY", "ja-JP"), "\u{ffe5}51,100");
        assert_eq!(money("1", "MXN", "es-MX"), "$1.00");
        assert_eq!(money("1", "AUD", "en-AU"), "$1.00");
    }

    #[test]
    fn rounding_is_half_away_from_zero_on_the_decimal_digits() {
        assert_eq!(money("0.004", "USD", "en-US"), "$0.00");
        assert_eq!(money("-0.005", "USD", "en-US"), "-$0.01");
        assert_eq!(
            money("-0.004", "USD", "en-US"),
            "$0.00",
            "no minus on a zero"
        );
        assert_eq!(money("2.5", "JPY", "en-US"), "¥3");
        assert_eq!(money("-2.5", "JPY", "en-US"), "-¥3");
        assert_eq!(money("999.995", "USD", "en-US"), "$1,000.00");
        assert_eq!(money("9.9999", "KWD", "en-US"), "KWD\u{a0}10.000");
        assert_eq!(money("0.1", "KRW", "ko-KR"), "₩0");
        assert_eq!(money("007.10", "USD", "en-US"), "$7.10");
        assert_eq!(money("+3", "EUR", "de-DE"), "3,00\u{a0}€");
        assert_eq!(
            money("12345678901234567890123.456", "USD", "en-US"),
            "$12,345,678,901,234,567,890,123.46"
        );
    }

    #[test]
    fn negative_amounts_follow_the_locales_pattern_and_minus_sign() {
        assert_eq!(money("-12", "EUR", "de-DE"), "-12,00\u{a0}€");
        assert_eq!(money("-12", "EUR", "nl-NL"), "€\u{a0}-12,00");
        assert_eq!(money("-12", "CHF", "de-CH"), "CHF-12.00");
        assert_eq!(money("-12", "BRL", "pt-BR"), "-R$\u{a0}12,00");
        assert_eq!(money("-12", "SEK", "sv-SE"), "\u{2212}12,00\u{a0}kr");
    }

    #[test]
    fn grouping_follows_the_locale() {
        assert_eq!(money("1234567.5", "CHF", "de-CH"), "CHF\u{a0}1'234'567.50");
        assert_eq!(money("1234", "EUR", "es-ES"), "1234,00\u{a0}€");
        assert_eq!(money("12345", "EUR", "es-ES"), "12.345,00\u{a0}€");
        assert_eq!(money("123", "INR", "hi-IN"), "₹123.00");
        assert_eq!(money("1234", "INR", "hi-IN"), "₹1,234.00");
        assert_eq!(money("123456789", "INR", "en-IN"), "₹12,34,56,789.00");
        assert_eq!(money("1234.5", "CHF", "fr-CH"), "1\u{202f}234.50\u{a0}CHF");
        assert_eq!(money("1234.5", "DKK", "da-DK"), "1.234,50\u{a0}kr.");
    }

    #[test]
    fn an_unknown_currency_shows_its_code_after_the_number() {
        assert_eq!(money("1234.5", "XYZ", "en-US"), "1,234.50\u{a0}XYZ");
        assert_eq!(money("1234.5", "xyz", "de-DE"), "1.234,50\u{a0}XYZ");
        assert_eq!(money("-1234.567", "XYZ", "en-US"), "-1,234.57\u{a0}XYZ");
        assert_eq!(
            money("1234.5", "US Dollar", "en-US"),
            "1,234.50\u{a0}US Dollar"
        );
        assert_eq!(money("1234.5", "", "en-US"), "1,234.50");
        assert_eq!(money("5", "usd", "en-US"), "$5.00");
    }

    #[test]
    fn a_malformed_amount_is_shown_as_given_with_the_code() {
        for garbage in [
            "1e3", "", "-", ".5", "5.", "1,234.50", " 12", "1.2.3", "--1", "NaN", "١٢",
        ] {
            assert_eq!(
                money(garbage, "USD", "en-US"),
                format!("{garbage}\u{a0}USD")
            );
        }
        assert_eq!(money("abc", "", "en-US"), "abc");
    }

    /// Every supported locale × every known currency, as ICU formats them (`icu_money.tsv`).
    #[test]
    fn agrees_with_icu() {
        let mut checked = 0;
        for line in include_str!("icu_money.tsv").lines() {
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split('\t').collect();
            let [tag, currency, amount, expected] = fields[..] else {
                panic!("bad fixture line {line:?}");
            };
            assert_eq!(
                money(amount, currency, tag),
                expected,
                "{tag} {currency} {amount}"
            );
            checked += 1;
        }
        assert!(checked > 1000, "{checked}");
    }
}
