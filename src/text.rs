//! Small, shared rules for strings that people type (trimming and length limits counted in
//! characters) and for the counts written to them ("1 order", "2 orders").

/// Checks that `value`, trimmed, is between `min` and `max` characters long and has no NUL
/// character (which no PostgreSQL text can hold), and returns it trimmed.
///
/// Lengths count Unicode scalar values, not bytes, so "Zoë" is three characters.
pub fn bounded<'a>(field: &str, value: &'a str, min: usize, max: usize) -> Result<&'a str, String> {
    let trimmed = value.trim();
    if trimmed.contains('\0') {
        return Err(format!("{field} must not contain NUL characters"));
    }
    let len = trimmed.chars().count();
    if len < min {
        if min == 1 {
            return Err(format!("{field} must not be empty"));
        }
        return Err(format!("{field} must be at least {min} characters"));
    }
    if len > max {
        return Err(format!(
            "{field} must be at most {max} characters (got {len})"
        ));
    }
    Ok(trimmed)
}

/// A count with its noun, as messages write it: `1 order`, `2 orders`, `0 orders`. `one` is the
/// noun for exactly one, `many` for every other count.
pub fn plural<N>(n: N, one: &str, many: &str) -> String
where
    N: std::fmt::Display + PartialEq + From<u8>,
{
    let noun = if n == N::from(1) { one } else { many };
    format!("{n} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_trims_and_counts_characters_not_bytes() {
        assert_eq!(bounded("note", "  Zoë ", 1, 3), Ok("Zoë"));
        assert!(bounded("note", "Zoëy", 1, 3).is_err());
    }

    #[test]
    fn bounded_rejects_nul_characters() {
        let err = bounded("note", "a\0b", 1, 100).unwrap_err();
        assert!(err.contains("note") && err.contains("NUL"), "{err}");
    }

    #[test]
    fn bounded_rejects_blank_values_with_the_field_name() {
        let err = bounded("assignee", "   ", 1, 100).unwrap_err();
        assert!(err.contains("assignee"), "{err}");
    }
}
