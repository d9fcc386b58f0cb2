//! What the dashboard shows, formatted on the server for the merchant: money in the admin's
//! locale and times in the shop's time zone, so no locale data or time zone database goes into the
//! browser build (this module sits behind the `locale` feature, which the WASM build leaves off).
//!
//! Policy: everything here is pure and total. A request names a locale (Shopify admin's `locale`
//! parameter, else the browser's `Accept-Language`); [`negotiate`] always answers with one of the
//! supported [`Locale`]s, `en-US` when nothing matches. [`format_money`] never panics and never
//! uses floating point. [`ShopClock`] reads instants in the shop's IANA zone. The number rules are
//! CLDR's (checked against ICU, see `icu_money.tsv`); the date formats are English-like
//! (`Sep 27, 14:03`) whatever the locale.

mod clock;
mod currency;
mod money;

pub use clock::ShopClock;
pub use money::format_money;

/// How the digits of an integer part are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grouping {
    /// Groups of three: `1,234` and `1,234,567`.
    Three,
    /// Groups of three, but only from five digits on (CLDR's minimum grouping digits 2):
    /// `1234`, `12.345`.
    ThreeFromFive,
    /// Indian: three, then groups of two: `12,34,567`.
    Indian,
}

/// A supported formatting rule set: one BCP 47 tag and how money is written under it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locale {
    tag: &'static str,
    /// The decimal separator of money (fr-CH writes `1 234.50 CHF` though its plain numbers use `,`).
    decimal: &'static str,
    /// The grouping separator of money (de-AT writes `€ 1.234,50`, its plain numbers `1 234`).
    group: &'static str,
    grouping: Grouping,
    /// The minus sign: `-`, or U+2212 where CLDR says so (sv, nb, fi).
    minus: &'static str,
    /// The currency pattern of a positive amount: `¤` is the symbol, `#` the number.
    positive: &'static str,
    /// The currency pattern of a negative amount; `-` stands for the minus sign.
    negative: &'static str,
}

impl Locale {
    /// The BCP 47 tag of this rule set, e.g. `fr-FR`.
    pub fn tag(&self) -> &str {
        self.tag
    }

    /// The language subtag, e.g. `fr`.
    fn language(&self) -> &str {
        self.tag.split('-').next().unwrap_or(self.tag)
    }

    /// The supported locale with this exact tag (case-insensitive, `_` taken as `-`).
    pub fn find(tag: &str) -> Option<Locale> {
        let tag = tag.trim().replace('_', "-");
        LOCALES
            .iter()
            .find(|l| l.tag.eq_ignore_ascii_case(&tag))
            .copied()
    }

    /// Every supported locale; the first of each language is that language's default.
    pub fn all() -> &'static [Locale] {
        LOCALES
    }
}

impl Default for Locale {
    /// `en-US`, the fallback of [`negotiate`].
    fn default() -> Self {
        LOCALES[0]
    }
}

const NBSP: &str = "\u{a0}";
const NNBSP: &str = "\u{202f}";
const MINUS: &str = "\u{2212}";

/// Builds one table row; the patterns are CLDR's with the number reduced to `#`.
const fn row(
    tag: &'static str,
    (decimal, group, grouping): (&'static str, &'static str, Grouping),
    minus: &'static str,
    (positive, negative): (&'static str, &'static str),
) -> Locale {
    Locale {
        tag,
        decimal,
        group,
        grouping,
        minus,
        positive,
        negative,
    }
}

// The separators of money per locale.
const DOT_COMMA: (&str, &str, Grouping) = (".", ",", Grouping::Three);
const INDIAN: (&str, &str, Grouping) = (".", ",", Grouping::Indian);
const COMMA_DOT: (&str, &str, Grouping) = (",", ".", Grouping::Three);
const COMMA_DOT_FROM_FIVE: (&str, &str, Grouping) = (",", ".", Grouping::ThreeFromFive);
const COMMA_NBSP: (&str, &str, Grouping) = (",", NBSP, Grouping::Three);
const COMMA_NBSP_FROM_FIVE: (&str, &str, Grouping) = (",", NBSP, Grouping::ThreeFromFive);
const COMMA_NNBSP: (&str, &str, Grouping) = (",", NNBSP, Grouping::Three);
const DOT_NNBSP: (&str, &str, Grouping) = (".", NNBSP, Grouping::Three);
const DOT_APOSTROPHE: (&str, &str, Grouping) = (".", "'", Grouping::Three);

// The currency patterns (positive, negative).
/// `$1.00`, `-$1.00`.
const BEFORE: (&str, &str) = ("¤#", "-¤#");
/// `R$ 1,00`, `-R$ 1,00`.
const BEFORE_SPACED: (&str, &str) = ("¤\u{a0}#", "-¤\u{a0}#");
/// `€ 1,00`, `€ -1,00`.
const BEFORE_SPACED_SIGN_INSIDE: (&str, &str) = ("¤\u{a0}#", "¤\u{a0}-#");
/// `CHF 1.00`, `CHF-1.00`.
const BEFORE_SPACED_SIGN_TIGHT: (&str, &str) = ("¤\u{a0}#", "¤-#");
/// `1,00 €`, `-1,00 €`.
const AFTER: (&str, &str) = ("#\u{a0}¤", "-#\u{a0}¤");

/// The supported locales, `en-US` first; the first row of each language is its default region.
const LOCALES: &[Locale] = &[
    row("en-US", DOT_COMMA, "-", BEFORE),
    row("en-GB", DOT_COMMA, "-", BEFORE),
    row("en-CA", DOT_COMMA, "-", BEFORE),
    row("en-AU", DOT_COMMA, "-", BEFORE),
    row("en-IN", INDIAN, "-", BEFORE),
    row("fr-FR", COMMA_NNBSP, "-", AFTER),
    row("fr-CA", COMMA_NBSP, "-", AFTER),
    row("fr-CH", DOT_NNBSP, "-", AFTER),
    row("de-DE", COMMA_DOT, "-", AFTER),
    row("de-CH", DOT_APOSTROPHE, "-", BEFORE_SPACED_SIGN_TIGHT),
    row("de-AT", COMMA_DOT, "-", BEFORE_SPACED),
    row("es-ES", COMMA_DOT_FROM_FIVE, "-", AFTER),
    row("es-MX", DOT_COMMA, "-", BEFORE),
    row("it-IT", COMMA_DOT_FROM_FIVE, "-", AFTER),
    row("nl-NL", COMMA_DOT, "-", BEFORE_SPACED_SIGN_INSIDE),
    row("pt-BR", COMMA_DOT, "-", BEFORE_SPACED),
    row("pt-PT", COMMA_NBSP_FROM_FIVE, "-", AFTER),
    row("sv-SE", COMMA_NBSP, MINUS, AFTER),
    row("da-DK", COMMA_DOT, "-", AFTER),
    row("nb-NO", COMMA_NBSP, MINUS, AFTER),
    row("fi-FI", COMMA_NBSP, MINUS, AFTER),
    row("pl-PL", COMMA_NBSP_FROM_FIVE, "-", AFTER),
    row("cs-CZ", COMMA_NBSP, "-", AFTER),
    row("ja-JP", DOT_COMMA, "-", BEFORE),
    row("zh-CN", DOT_COMMA, "-", BEFORE),
    row("ko-KR", DOT_COMMA, "-", BEFORE),
    row("hi-IN", INDIAN, "-", BEFORE),
];

/// Chooses the locale of a request.
///
/// Shopify's admin passes its `locale` URL parameter (`en`, `fr`, `de-DE`, `pt-BR`…) to an embedded
/// app; it wins when it matches. Otherwise the browser's `Accept-Language` header is read in
/// q-value order (highest first, ties in header order); malformed parts, `q=0` and `*` are
/// skipped. Each candidate, in that order, matches a supported locale by its exact language and
/// region, else by its language alone (`fr-BE` → `fr-FR`, `de` → `de-DE`); the first candidate that
/// matches either way wins. Nothing matching gives `en-US`.
pub fn negotiate(admin_locale: Option<&str>, accept_language: Option<&str>) -> Locale {
    admin_locale
        .and_then(match_tag)
        .or_else(|| {
            accept_language
                .map(accept_language_tags)
                .unwrap_or_default()
                .into_iter()
                .find_map(match_tag)
        })
        .unwrap_or_default()
}

/// The supported locale for one language tag: by language and region, else by language.
fn match_tag(tag: &str) -> Option<Locale> {
    let mut subtags = tag.trim().split(['-', '_']);
    let language = subtags.next()?.to_ascii_lowercase();
    if !(2..=3).contains(&language.len()) || !language.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    // Norwegian: `no` and Nynorsk `nn` write numbers as Bokmål does.
    let language = match language.as_str() {
        "no" | "nn" => "nb".to_owned(),
        _ => language,
    };
    // The region is the first two-letter subtag after the language (a script subtag has four).
    let region = subtags.find(|s| s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()));
    if let Some(region) = region {
        if let Some(exact) = Locale::find(&format!("{language}-{region}")) {
            return Some(exact);
        }
    }
    LOCALES.iter().find(|l| l.language() == language).copied()
}

/// The language tags of an `Accept-Language` header, best first: `q` descending, ties in header
/// order, without malformed parts, `q=0` and `*`.
fn accept_language_tags(header: &str) -> Vec<&str> {
    let mut weighted: Vec<(u16, &str)> = header
        .split(',')
        .filter_map(|part| {
            let mut pieces = part.split(';');
            let tag = pieces.next()?.trim();
            let well_formed = !tag.is_empty()
                && tag.split('-').all(|s| {
                    (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
                });
            if !well_formed {
                return None; // `*` lands here too: it names no language.
            }
            let mut q = 1000;
            for param in pieces {
                let (name, value) = param.split_once('=')?;
                if name.trim().eq_ignore_ascii_case("q") {
                    q = parse_q(value.trim())?;
                }
            }
            (q > 0).then_some((q, tag))
        })
        .collect();
    weighted.sort_by_key(|(q, _)| std::cmp::Reverse(*q)); // stable: ties keep header order
    weighted.into_iter().map(|(_, tag)| tag).collect()
}

/// An RFC 9110 q-value (`0`, `0.8`, `1.000`) in thousandths; anything else is `None`.
fn parse_q(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(admin: Option<&str>, accept: Option<&str>) -> &'static str {
        negotiate(admin, accept).tag
    }

    #[test]
    fn shopify_admin_locale_wins_over_the_browser() {
        assert_eq!(tag(Some("fr"), Some("de-DE")), "fr-FR");
        assert_eq!(tag(Some("de-DE"), None), "de-DE");
        assert_eq!(tag(Some("ja"), None), "ja-JP");
        assert_eq!(tag(Some("pt-BR"), None), "pt-BR");
        assert_eq!(tag(Some("pt-PT"), None), "pt-PT");
        assert_eq!(tag(Some("en"), Some("fr")), "en-US");
        assert_eq!(tag(Some("zh-CN"), None), "zh-CN");
    }

    #[test]
    fn an_unsupported_admin_locale_falls_through_to_the_browser() {
        assert_eq!(tag(Some("xx"), Some("de-CH")), "de-CH");
        assert_eq!(tag(Some(""), Some("it")), "it-IT");
        assert_eq!(tag(Some("???"), None), "en-US");
    }

    #[test]
    fn accept_language_is_read_in_q_order() {
        let header = "fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5";
        assert_eq!(tag(None, Some(header)), "fr-CH");
        assert_eq!(tag(None, Some("en;q=0.5, de-AT;q=0.9")), "de-AT");
        assert_eq!(
            tag(None, Some("sv;q=0.7,da;q=0.7")),
            "sv-SE",
            "ties keep header order"
        );
        assert_eq!(
            accept_language_tags("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5"),
            ["fr-CH", "fr", "en"]
        );
    }

    #[test]
    fn the_first_candidate_matching_by_language_beats_a_later_exact_match() {
        assert_eq!(tag(None, Some("fr-BE, en-GB;q=0.8")), "fr-FR");
        assert_eq!(tag(None, Some("es-419")), "es-ES");
    }

    #[test]
    fn malformed_parts_zero_q_and_star_are_skipped() {
        assert_eq!(tag(None, Some("*")), "en-US");
        assert_eq!(tag(None, Some("de;q=0, nl")), "nl-NL");
        assert_eq!(tag(None, Some("de;q=2, nl")), "nl-NL");
        assert_eq!(tag(None, Some("de;q=abc, fi")), "fi-FI");
        assert_eq!(tag(None, Some("de;q, pl")), "pl-PL");
        assert_eq!(tag(None, Some("d e, ,, 日本, cs")), "cs-CZ");
        assert_eq!(tag(None, Some("")), "en-US");
        assert_eq!(tag(None, None), "en-US");
        assert_eq!(
            accept_language_tags("a;q=0.1234, b;q=1.0, c;q=0.001"),
            ["b", "c"]
        );
    }

    #[test]
    fn language_only_tags_map_to_their_default_region() {
        for (language, expected) in [
            ("en", "en-US"),
            ("fr", "fr-FR"),
            ("de", "de-DE"),
            ("es", "es-ES"),
            ("it", "it-IT"),
            ("nl", "nl-NL"),
            ("pt", "pt-BR"),
            ("sv", "sv-SE"),
            ("da", "da-DK"),
            ("nb", "nb-NO"),
            ("no", "nb-NO"),
            ("nn", "nb-NO"),
            ("fi", "fi-FI"),
            ("pl", "pl-PL"),
            ("cs", "cs-CZ"),
            ("ja", "ja-JP"),
            ("zh", "zh-CN"),
            ("ko", "ko-KR"),
            ("hi", "hi-IN"),
        ] {
            assert_eq!(tag(Some(language), None), expected, "{language}");
        }
    }

    #[test]
    fn tags_match_whatever_their_case_script_or_separator() {
        assert_eq!(tag(Some("EN-gb"), None), "en-GB");
        assert_eq!(tag(Some("en_IN"), None), "en-IN");
        assert_eq!(tag(Some("zh-Hans-CN"), None), "zh-CN");
        assert_eq!(tag(Some("zh-Hant-TW"), None), "zh-CN");
        assert_eq!(tag(Some("fr-CA-u-nu-latn"), None), "fr-CA");
    }

    #[test]
    fn every_supported_tag_is_found_and_unique() {
        for locale in Locale::all() {
            assert_eq!(Locale::find(locale.tag()), Some(*locale));
            assert_eq!(negotiate(Some(locale.tag()), None), *locale);
        }
        assert_eq!(Locale::all().len(), 27);
        assert_eq!(Locale::default().tag(), "en-US");
    }
}
