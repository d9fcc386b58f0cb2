//! Erasing one customer from what Sync keeps as free text or JSON (SPEC §10, `customers/redact`):
//! timeline details, support notes, outbox payloads, kept facts, alert messages.
//!
//! # Policy
//!
//! - **Two reaches.** The customer's e-mail is specific enough to be erased wherever it appears
//!   in the shop ([`Reach::Shop`]). Their names and phone number are not (two customers may share a
//!   name, and a phone's digits may occur in a tracking number), so they are erased only from the
//!   rows of the customer's own orders ([`Reach::CustomerOrders`]).
//! - **What counts as the customer.** The e-mail, case-insensitively; the phone as its digits with
//!   any spacing, dots, dashes or brackets between them (at least seven digits, and the national
//!   ten when a country code precedes them), not inside a longer run of letters or digits; each
//!   name the customer's orders carried, whole and word by word (words of two letters or more,
//!   whole words only, case-insensitively), names Sync gives itself excepted.
//! - **What replaces it.** [`ERASED`]. In JSON only string values change (keys and structure
//!   stay), so a payload stays the shape its receiver expects.
//! - **Names are read before they are erased**: the caller collects the orders' customer names, then
//!   erases the orders' own columns.

use regex::{Regex, RegexBuilder};
use serde_json::Value;

use orders_core::shopify::lifecycle::is_placeholder_name;

/// What an erased piece of text becomes.
pub const ERASED: &str = "[redacted]";

/// The fewest digits that count as a phone number.
const MIN_PHONE_DIGITS: usize = 7;

/// Where a piece of text was found, which decides what is erased from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Anywhere in the shop: only the e-mail is erased.
    Shop,
    /// In a row of one of the customer's orders: the e-mail, the phone and the names.
    CustomerOrders,
}

/// Finds one customer's e-mail, phone and names in text (see the module's policy).
#[derive(Debug, Clone)]
pub struct Scrubber {
    email: Option<Regex>,
    person: Option<Regex>,
    email_text: Option<String>,
}

impl Scrubber {
    /// A scrubber for the customer with this e-mail and phone, whose orders carried `names`; an
    /// error when the patterns are too large to build (a giant e-mail or name in the request).
    pub fn new(
        email: Option<&str>,
        phone: Option<&str>,
        names: &[String],
    ) -> Result<Scrubber, regex::Error> {
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        let email_pattern = email.map(regex::escape);
        let mut alternatives: Vec<String> = Vec::new();
        if let Some(p) = &email_pattern {
            alternatives.push(p.clone());
        }
        if let Some(p) = phone.and_then(phone_pattern) {
            alternatives.push(p);
        }
        let mut words: Vec<String> = Vec::new();
        for name in names.iter().filter(|n| !is_placeholder_name(n)) {
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            for word in std::iter::once(name.as_str()).chain(name.split(' ')) {
                if word.chars().count() >= 2 && !words.iter().any(|w| w == word) {
                    words.push(word.to_owned());
                }
            }
        }
        // Longer first, so that a whole name is erased before its words.
        words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        alternatives.extend(words.iter().map(|w| whole_words(w)));
        Ok(Scrubber {
            email: email_pattern.as_deref().map(insensitive).transpose()?,
            person: (!alternatives.is_empty())
                .then(|| insensitive(&alternatives.join("|")))
                .transpose()?,
            email_text: email.map(str::to_owned),
        })
    }

    /// Whether nothing would ever be erased.
    pub fn is_empty(&self) -> bool {
        self.person.is_none()
    }

    /// A `LIKE` pattern (with `\` escaping) that every text holding the e-mail matches, for finding
    /// candidates in the database; `None` without an e-mail.
    pub fn email_like(&self) -> Option<String> {
        let email = self.email_text.as_deref()?;
        let mut like = String::from("%");
        for c in email.chars() {
            if matches!(c, '%' | '_' | '\\') {
                like.push('\\');
            }
            like.push(c);
        }
        like.push('%');
        Some(like)
    }

    /// `text` with the customer erased, or `None` when it does not mention them.
    pub fn text(&self, text: &str, reach: Reach) -> Option<String> {
        let re = match reach {
            Reach::Shop => self.email.as_ref()?,
            Reach::CustomerOrders => self.person.as_ref()?,
        };
        match re.replace_all(text, ERASED) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(erased) => Some(erased),
        }
    }

    /// `value` with the customer erased from its strings, or `None` when none mentions them.
    pub fn json(&self, value: &Value, reach: Reach) -> Option<Value> {
        match value {
            Value::String(s) => self.text(s, reach).map(Value::String),
            Value::Array(items) => {
                let erased: Vec<Option<Value>> =
                    items.iter().map(|v| self.json(v, reach)).collect();
                erased.iter().any(Option::is_some).then(|| {
                    Value::Array(
                        erased
                            .into_iter()
                            .zip(items)
                            .map(|(e, v)| e.unwrap_or_else(|| v.clone()))
                            .collect(),
                    )
                })
            }
            Value::Object(map) => {
                let mut changed = false;
                let erased = map
                    .iter()
                    .map(|(k, v)| {
                        let v = match self.json(v, reach) {
                            Some(e) => {
                                changed = true;
                                e
                            }
                            None => v.clone(),
                        };
                        (k.clone(), v)
                    })
                    .collect();
                changed.then_some(Value::Object(erased))
            }
            _ => None,
        }
    }
}

/// Escaped literals always make a valid pattern; only its size can refuse it.
fn insensitive(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern).case_insensitive(true).build()
}

/// `word` as a whole word: not inside a longer word on either side.
fn whole_words(word: &str) -> String {
    let escaped = regex::escape(word);
    let first = word.chars().next().is_some_and(is_word_char);
    let last = word.chars().last().is_some_and(is_word_char);
    format!(
        "{}{escaped}{}",
        if first { r"\b" } else { "" },
        if last { r"\b" } else { "" }
    )
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The pattern of a phone number's digits, however they are spaced; `None` when too short.
fn phone_pattern(phone: &str) -> Option<String> {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < MIN_PHONE_DIGITS {
        return None;
    }
    let spaced = |ds: &[char]| {
        let body = ds
            .iter()
            .map(char::to_string)
            .collect::<Vec<_>>()
            .join(r"[\s().\-]*");
        format!(r"\b{body}\b")
    };
    let mut forms = vec![format!(r"\+?{}", spaced(&digits))];
    if digits.len() > 10 {
        forms.push(spaced(&digits[digits.len() - 10..]));
    }
    Some(forms.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ada() -> Scrubber {
        Scrubber::new(
            Some("Ada@Example.com"),
            Some("+1 555-625-1199"),
            &["Ada Byron".to_owned(), "Redacted".to_owned()],
        )
        .unwrap()
    }

    #[test]
    fn the_email_is_erased_everywhere_whatever_its_case() {
        let s = ada();
        assert_eq!(
            s.text("Wrote from ada@example.COM twice", Reach::Shop)
                .as_deref(),
            Some("Wrote from [redacted] twice")
        );
        // Names and phones are not erased shop-wide.
        assert_eq!(s.text("Ada Byron called", Reach::Shop), None);
        assert_eq!(s.email_like().as_deref(), Some("%Ada@Example.com%"));
        let s = Scrubber::new(Some("a_b%c@x.io"), None, &[]).unwrap();
        assert_eq!(s.email_like().as_deref(), Some(r"%a\_b\%c@x.io%"));
    }

    #[test]
    fn names_and_phones_are_erased_from_the_customers_orders() {
        let s = ada();
        assert_eq!(
            s.text(
                "ADA BYRON called on (555) 625 1199, then Ada again; Byronic prose; 5556251199",
                Reach::CustomerOrders
            )
            .as_deref(),
            Some("[redacted] called on ([redacted], then [redacted] again; Byronic prose; [redacted]")
        );
        assert_eq!(
            s.text("Call +1.555.625.1199 now", Reach::CustomerOrders)
                .as_deref(),
            Some("Call [redacted] now")
        );
        // A placeholder name is not the customer's; digits inside a tracking number stay.
        assert_eq!(
            s.text("Redacted. Tracking 1Z5556251199X", Reach::CustomerOrders),
            None
        );
    }

    #[test]
    fn short_words_and_numbers_are_left_alone() {
        let s = Scrubber::new(None, Some("12-34"), &["A Li".to_owned()]).unwrap();
        assert_eq!(
            s.text("A parcel for Li, ref 12-34", Reach::CustomerOrders)
                .as_deref(),
            Some("A parcel for [redacted], ref 12-34")
        );
        assert!(Scrubber::new(None, None, &[]).unwrap().is_empty());
        assert!(Scrubber::new(None, None, &["Redacted".to_owned()])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn json_keeps_its_keys_and_shape() {
        let s = Scrubber::new(Some("ada@example.com"), None, &["Note Taker".to_owned()]).unwrap();
        let payload = json!({
            "orderId": "gid://shopify/Order/1", "note": "Note Taker asked: mail ada@example.com",
            "items": [1, "ada@example.com", null], "at": "2025-01-01T00:00:00Z"
        });
        let erased = s.json(&payload, Reach::CustomerOrders).unwrap();
        assert_eq!(
            erased,
            json!({
                "orderId": "gid://shopify/Order/1", "note": "[redacted] asked: mail [redacted]",
                "items": [1, "[redacted]", null], "at": "2025-01-01T00:00:00Z"
            })
        );
        assert_eq!(s.json(&json!({ "a": [1, "b"] }), Reach::Shop), None);
    }

    #[test]
    fn a_customer_too_large_to_search_for_is_an_error_not_a_panic() {
        let giant = format!("{}@example.com", "a".repeat(1 << 18));
        assert!(Scrubber::new(Some(&giant), None, &[]).is_err());
    }
}
