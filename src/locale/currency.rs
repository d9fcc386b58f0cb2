//! The currencies [`super::format_money`] knows: ISO 4217 minor digits and the symbol each
//! supported locale writes.
//!
//! Policy: a symbol is CLDR's for that locale, so a symbol that would be ambiguous there gets its
//! disambiguated form (USD is `$` in en-US, `US$` in en-CA, `$US` in fr-FR; CAD is `CA$` in en-US,
//! `$` in en-CA). The table was generated from ICU's CLDR data (through Node's `Intl`), and
//! `icu_money.tsv` checks it. A code missing here is formatted as unknown: number, then code.

/// One currency: its ISO 4217 code, its minor digits, its symbol in `en-US` (and in any locale not
/// listed), then the locales that write it otherwise, by tag (`fr-CA`) or by language (`fr`).
type Currency = (
    &'static str,
    u8,
    &'static str,
    &'static [(&'static str, &'static str)],
);

/// Minor digits are ISO 4217's (HUF has 2 there, though CLDR shows none).
#[rustfmt::skip]
const CURRENCIES: &[Currency] = &[
    ("USD", 2, "$", &[("en-GB", "US$"), ("en-CA", "US$"), ("en-AU", "USD"), ("fr-FR", "$US"),
        ("fr-CA", "$\u{a0}US"), ("fr-CH", "$US"), ("es-ES", "US$"), ("es-MX", "USD"),
        ("it", "USD"), ("nl", "US$"), ("pt", "US$"), ("sv", "US$"), ("da", "US$"), ("nb", "USD"),
        ("pl", "USD"), ("cs", "US$"), ("zh", "US$"), ("ko", "US$")]),
    ("CAD", 2, "CA$", &[("en-CA", "$"), ("en-AU", "CAD"), ("fr-FR", "$CA"), ("fr-CA", "$"),
        ("fr-CH", "$CA"), ("es", "CAD"), ("nl", "C$"), ("nb", "CAD"), ("fi", "CAD"),
        ("pl", "CAD")]),
    ("AUD", 2, "A$", &[("en-AU", "$"), ("fr-FR", "$AU"), ("fr-CA", "$\u{a0}AU"), ("fr-CH", "$AU"),
        ("de", "AU$"), ("es", "AUD"), ("nl", "AU$"), ("pt", "AU$"), ("sv", "AUD"), ("da", "AU$"),
        ("nb", "AUD"), ("fi", "AUD"), ("pl", "AUD"), ("cs", "AU$"), ("zh", "AU$"), ("ko", "AU$")]),
    ("NZD", 2, "NZ$", &[("en-AU", "NZD"), ("fr-FR", "$NZ"), ("fr-CA", "$\u{a0}NZ"),
        ("fr-CH", "$NZ"), ("es", "NZD"), ("sv", "NZD"), ("nb", "NZD"), ("fi", "NZD"),
        ("pl", "NZD")]),
    ("HKD", 2, "HK$", &[("en-AU", "HKD"), ("fr-FR", "HKD"), ("fr-CA", "$\u{a0}HK"),
        ("fr-CH", "HKD"), ("es", "HKD"), ("it", "HKD"), ("sv", "HKD"), ("nb", "HKD"),
        ("fi", "HKD"), ("pl", "HKD")]),
    ("SGD", 2, "SGD", &[("fr-FR", "$SG"), ("fr-CA", "$\u{a0}SG"), ("fr-CH", "$SG")]),
    ("MXN", 2, "MX$", &[("en-AU", "MXN"), ("fr-FR", "$MX"), ("fr-CA", "MXN"), ("fr-CH", "$MX"),
        ("es-ES", "MXN"), ("es-MX", "$"), ("it", "MXN"), ("nb", "MXN"), ("fi", "MXN"),
        ("pl", "MXN")]),
    ("BRL", 2, "R$", &[("en-AU", "BRL"), ("es", "BRL"), ("it", "BRL"), ("sv", "BR$"),
        ("nb", "BRL"), ("fi", "BRL")]),
    ("EUR", 2, "€", &[("en-AU", "EUR"), ("de-CH", "EUR"), ("es-MX", "EUR")]),
    ("GBP", 2, "£", &[("en-AU", "GBP"), ("fr-FR", "£GB"), ("fr-CH", "£GB"), ("es", "GBP"),
        ("sv", "GBP"), ("pl", "GBP")]),
    ("JPY", 0, "¥", &[("en-GB", "JP¥"), ("en-CA", "JP¥"), ("en-AU", "JPY"), ("en-IN", "JP¥"),
        ("fr-FR", "JPY"), ("fr-CH", "JPY"), ("es", "JPY"), ("it", "JPY"), ("nl", "JP¥"),
        ("pt", "JP¥"), ("sv", "JPY"), ("da", "JP¥"), ("nb", "JPY"), ("pl", "JPY"), ("cs", "JP¥"),
        ("ja", "￥"), ("zh", "JP¥"), ("ko", "JP¥"), ("hi", "JP¥")]),
    ("CNY", 2, "CN¥", &[("en-AU", "CNY"), ("fr-FR", "CNY"), ("fr-CH", "CNY"), ("es", "CNY"),
        ("sv", "CNY"), ("nb", "CNY"), ("fi", "CNY"), ("pl", "CNY"), ("ja", "元"), ("zh", "¥")]),
    ("INR", 2, "₹", &[("en-AU", "INR"), ("fr-CA", "INR"), ("es", "INR"), ("it", "INR"),
        ("sv", "INR"), ("nb", "INR"), ("fi", "INR"), ("pl", "INR"), ("cs", "INR")]),
    ("KRW", 0, "₩", &[("en-AU", "KRW"), ("fr-CA", "KRW"), ("es", "KRW"), ("it", "KRW"),
        ("sv", "KRW"), ("nb", "KRW"), ("fi", "KRW"), ("pl", "KRW")]),
    ("CHF", 2, "CHF", &[]),
    ("SEK", 2, "SEK", &[("sv", "kr")]),
    ("DKK", 2, "DKK", &[("sv", "Dkr"), ("da", "kr.")]),
    ("NOK", 2, "NOK", &[("sv", "Nkr"), ("nb", "kr")]),
    ("PLN", 2, "PLN", &[("pl", "zł")]),
    ("CZK", 2, "CZK", &[("cs", "Kč")]),
    ("HUF", 2, "HUF", &[]),
    ("ILS", 2, "₪", &[("en-AU", "ILS"), ("fr-CA", "ILS"), ("es", "ILS"), ("nb", "ILS"),
        ("fi", "ILS"), ("pl", "ILS"), ("cs", "ILS")]),
    ("TWD", 2, "NT$", &[("en-AU", "TWD"), ("fr", "TWD"), ("es", "TWD"), ("it", "TWD"),
        ("sv", "TWD"), ("nb", "TWD"), ("fi", "TWD"), ("pl", "TWD")]),
    ("ZAR", 2, "ZAR", &[]),
    ("TRY", 2, "TRY", &[]),
    ("AED", 2, "AED", &[]),
    ("SAR", 2, "SAR", &[]),
    ("KWD", 3, "KWD", &[]),
    ("BHD", 3, "BHD", &[]),
    ("OMR", 3, "OMR", &[]),
    ("JOD", 3, "JOD", &[]),
    ("TND", 3, "TND", &[]),
    ("CLP", 0, "CLP", &[("fr-FR", "$CL"), ("fr-CH", "$CL")]),
    ("ISK", 0, "ISK", &[("sv", "Ikr")]),
    ("VND", 0, "₫", &[("en-AU", "VND"), ("fr-CA", "VND"), ("es-MX", "VND"), ("it", "VND"),
        ("sv", "VND"), ("nb", "VND"), ("fi", "VND"), ("pl", "VND"), ("cs", "VND")]),
    ("THB", 2, "THB", &[("de", "฿"), ("es-ES", "฿"), ("it", "฿"), ("nl", "฿"), ("pt", "฿"),
        ("da", "฿"), ("hi", "฿")]),
    ("PHP", 2, "₱", &[("en-AU", "PHP"), ("fr", "PHP"), ("de", "PHP"), ("es", "PHP"),
        ("nl", "PHP"), ("pt", "PHP"), ("sv", "PHP"), ("da", "PHP"), ("nb", "PHP"), ("fi", "PHP"),
        ("pl", "PHP"), ("cs", "PHP"), ("ja", "PHP"), ("zh", "PHP"), ("ko", "PHP"), ("hi", "PHP")]),
];

/// The minor digits of a known currency, `None` for an unknown code.
pub(super) fn minor_digits(code: &str) -> Option<u8> {
    CURRENCIES.iter().find(|c| c.0 == code).map(|c| c.1)
}

/// The symbol `tag` (a supported locale's tag) writes for a known currency: the exact tag's entry,
/// else the language's, else the default.
pub(super) fn symbol(code: &str, tag: &str) -> Option<&'static str> {
    let (_, _, default, by_locale) = CURRENCIES.iter().find(|c| c.0 == code)?;
    let language = tag.split('-').next().unwrap_or(tag);
    let local = |key: &str| by_locale.iter().find(|(k, _)| *k == key).map(|(_, s)| *s);
    Some(local(tag).or_else(|| local(language)).unwrap_or(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_iso_shaped_and_their_locales_supported() {
        for (i, (code, digits, _, by_locale)) in CURRENCIES.iter().enumerate() {
            assert!(
                code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()),
                "{code}"
            );
            assert!(*digits <= 3, "{code}");
            assert!(CURRENCIES[..i].iter().all(|c| c.0 != *code), "{code} twice");
            for (key, _) in *by_locale {
                let known = crate::locale::Locale::all()
                    .iter()
                    .any(|l| l.tag() == *key || l.tag().split('-').next() == Some(*key));
                assert!(known, "{code}: {key} is no supported locale or language");
            }
        }
    }

    #[test]
    fn the_exact_tag_wins_over_the_language_and_the_default() {
        assert_eq!(symbol("USD", "en-US"), Some("$"));
        assert_eq!(symbol("USD", "en-CA"), Some("US$"));
        assert_eq!(symbol("USD", "fr-FR"), Some("$US"));
        assert_eq!(symbol("JPY", "ja-JP"), Some("\u{ffe5}"));
        assert_eq!(symbol("JPY", "en-US"), Some("¥"));
        assert_eq!(symbol("CNY", "zh-CN"), Some("¥"));
        assert_eq!(symbol("XYZ", "en-US"), None);
        assert_eq!(minor_digits("KWD"), Some(3));
        assert_eq!(minor_digits("JPY"), Some(0));
        assert_eq!(minor_digits("HUF"), Some(2));
        assert_eq!(minor_digits("XYZ"), None);
    }
}
