//! The search of `GET /sync/orders` (SPEC §2, `query`): what text may be searched for, and which
//! orders a search matches.
//!
//! The rule, stated once: a search is 3 to 100 characters after trimming and reads case-insensitively.
//! When the text is the name of an order of the shop (`#1001`, `1001`, `WEB1346`: the `#` is
//! optional), the orders of that name match, and only they; otherwise an order matches when its
//! customer's name or email contains the text. Which half applies is decided over the whole shop,
//! before any tab or filter (`SearchBy`), so a tab's count says where the named order is.
//!
//! The in-memory store evaluates [`Search::matches`] directly. PostgreSQL asks whether the shop has
//! an order of one of [`Search::name_forms`] (its `lower(order_number)` index), then filters with
//! those forms or with [`Search::like_pattern`] against `lower()` of the customer's name and email
//! (trigram indexes); the contract suite holds both stores to the same answers.

use serde::{Deserialize, Serialize};

use crate::text::bounded;

/// The fewest characters a search may have (trigram indexes need three).
pub const MIN_SEARCH_CHARS: usize = 3;
/// The most characters a search may have.
pub const MAX_SEARCH_CHARS: usize = 100;

/// A search as the client wrote it, trimmed and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Search {
    text: String,
}

/// Which half of the rule a search follows in a shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchBy {
    /// Some order of the shop has the text as its name: the orders of that name match.
    OrderName,
    /// No order has that name: orders whose customer's name or email contains the text match.
    Customer,
}

/// An order's name without its one leading `#`.
fn without_hash(name: &str) -> &str {
    name.strip_prefix('#').unwrap_or(name)
}

impl Search {
    /// Reads the `query` parameter: trimmed, 3 to 100 characters (Unicode scalar values), no NUL.
    pub fn parse(raw: &str) -> Result<Search, String> {
        let text = bounded("query", raw, MIN_SEARCH_CHARS, MAX_SEARCH_CHARS)?;
        Ok(Search {
            text: text.to_owned(),
        })
    }

    /// The text, trimmed, as the client wrote it (for links).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether `order_number` is the name the text gives: equal ignoring case and one leading `#`
    /// on either side.
    pub fn names(&self, order_number: &str) -> bool {
        without_hash(&order_number.to_lowercase()) == without_hash(&self.text.to_lowercase())
    }

    /// Every lower-case `order_number` that [`Search::names`] accepts: the text's name with a `#`,
    /// and without one unless it starts with `#` itself (`1001` and `#1001` both give
    /// `["#1001", "1001"]`). PostgreSQL compares `lower(order_number)` with these.
    pub fn name_forms(&self) -> Vec<String> {
        let lower = self.text.to_lowercase();
        let bare = without_hash(&lower);
        let mut forms = vec![format!("#{bare}")];
        if !bare.starts_with('#') {
            forms.push(bare.to_owned());
        }
        forms
    }

    /// Whether the customer's name or email contains the text, ignoring case.
    pub fn in_customer(&self, name: &str, email: Option<&str>) -> bool {
        let needle = self.text.to_lowercase();
        name.to_lowercase().contains(&needle)
            || email.is_some_and(|e| e.to_lowercase().contains(&needle))
    }

    /// The text as a `LIKE … ESCAPE '\'` pattern for "contains": `%`, `_` and `\` escaped, `%`
    /// around. Its case is left alone: PostgreSQL lowers it with the column (`lower(…) LIKE
    /// lower(pattern)`), so both sides are lowered by the same rule.
    pub fn like_pattern(&self) -> String {
        let mut out = String::with_capacity(self.text.len() + 2);
        out.push('%');
        for c in self.text.chars() {
            if matches!(c, '%' | '_' | '\\') {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('%');
        out
    }

    /// Which half of the rule applies, given whether the shop has an order of this name.
    pub fn by(&self, shop_has_the_name: bool) -> SearchBy {
        if shop_has_the_name {
            SearchBy::OrderName
        } else {
            SearchBy::Customer
        }
    }

    /// Which half of the rule applies in a shop whose orders have these names.
    pub fn by_names<'a>(&self, mut order_numbers: impl Iterator<Item = &'a str>) -> SearchBy {
        self.by(order_numbers.any(|n| self.names(n)))
    }

    /// Whether an order matches, once it is known which half of the rule applies.
    pub fn matches(
        &self,
        by: SearchBy,
        order_number: &str,
        customer_name: &str,
        customer_email: Option<&str>,
    ) -> bool {
        match by {
            SearchBy::OrderName => self.names(order_number),
            SearchBy::Customer => self.in_customer(customer_name, customer_email),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn search(text: &str) -> Search {
        Search::parse(text).unwrap()
    }

    #[test]
    fn a_search_is_three_to_a_hundred_characters_after_trimming() {
        assert_eq!(search("  ada ").text(), "ada");
        assert_eq!(search("Zoë").text(), "Zoë");
        for bad in ["", "ab", "  ab  ", "     ", "a\0b", &"x".repeat(101)] {
            let err = Search::parse(bad).unwrap_err();
            assert!(err.contains("query"), "{bad:?}: {err}");
        }
        assert!(Search::parse(&"x".repeat(100)).is_ok());
        assert!(Search::parse(&format!("  {}  ", "é".repeat(100))).is_ok());
    }

    #[test]
    fn a_name_matches_with_or_without_its_hash_in_any_case() {
        assert!(search("#1001").names("#1001"));
        assert!(search("1001").names("#1001"));
        assert!(search("WEB1346").names("WEB1346"));
        assert!(search("web1346").names("WEB1346"));
        assert!(search("#WEB1346").names("WEB1346"));
        assert!(!search("100").names("#1001"));
        assert!(!search("10011").names("#1001"));
        assert!(!search("##1001").names("#1001"));
        assert!(search("##1001").names("##1001"));
    }

    #[test]
    fn name_forms_are_the_lowered_names_a_search_accepts() {
        assert_eq!(search("1001").name_forms(), ["#1001", "1001"]);
        assert_eq!(search("#1001").name_forms(), ["#1001", "1001"]);
        assert_eq!(search("WEB1").name_forms(), ["#web1", "web1"]);
        assert_eq!(search("##12").name_forms(), ["##12"]);
    }

    #[test]
    fn the_customer_half_is_contains_on_name_or_email_ignoring_case() {
        let s = search("BYRON");
        assert!(s.in_customer("Ada Byron", None));
        assert!(!s.in_customer("Ada", Some("ada@example.com")));
        assert!(search("@EXAMPLE.").in_customer("Ada", Some("ada@example.com")));
    }

    #[test]
    fn a_name_in_the_shop_wins_over_contains() {
        let s = search("1001");
        let names = ["#1001", "#1002"];
        let by = s.by_names(names.iter().copied());
        assert_eq!(by, SearchBy::OrderName);
        assert!(s.matches(by, "#1001", "x", None));
        assert!(!s.matches(by, "#1002", "Customer 1001", None));
        let by = s.by_names(["#2001"].into_iter());
        assert_eq!(by, SearchBy::Customer);
        assert!(s.matches(by, "#2001", "Customer 1001", None));
    }

    #[test]
    fn like_patterns_escape_the_wildcards() {
        assert_eq!(search("a%b_c\\d").like_pattern(), "%a\\%b\\_c\\\\d%");
        assert_eq!(search("Ada").like_pattern(), "%Ada%");
    }

    /// What `lower(x) LIKE lower(pattern) ESCAPE '\'` answers, for a pattern `like_pattern` made.
    fn like(haystack: &str, pattern: &str) -> bool {
        let inner = &pattern[1..pattern.len() - 1];
        let mut needle = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            needle.push(if c == '\\' { chars.next().unwrap() } else { c });
        }
        haystack.to_lowercase().contains(&needle.to_lowercase())
    }

    proptest! {
        /// The SQL forms say what the rule says: a name is among `name_forms` exactly when `names`
        /// accepts it, and the LIKE pattern finds what `in_customer` finds.
        #[test]
        fn the_sql_forms_agree_with_the_rule(
            text in "#?[#a-zA-Z0-9%_\\\\ ]{3,12}",
            hay in "#?[#a-zA-Z0-9%_\\\\ ]{0,16}",
        ) {
            prop_assume!(text.trim().chars().count() >= 3);
            let s = search(&text);
            prop_assert_eq!(s.name_forms().contains(&hay.to_lowercase()), s.names(&hay));
            prop_assert_eq!(like(&hay, &s.like_pattern()), s.in_customer(&hay, None));
            let with_text = format!("{hay}{}{hay}", text.trim().to_uppercase());
            prop_assert!(s.in_customer("", Some(&with_text)));
        }
    }
}
