//! Entity IDs: validation (IDs become file names) and the `<PREFIX>-<NNN>` form.
//!
//! Numbers are bounded by [`MAX_ID_NUMBER`]: the allocator takes one more
//! than the highest number in use anywhere (every branch included), so a
//! single mention of `ISSUE-18446744073709551615` would otherwise overflow it
//! and break every later create. Larger numbers are not IDs git-coord
//! allocates or accepts on create/renumber; where they are found, they are
//! ignored with a warning.

/// The largest number an ID may carry (`ISSUE-999999999`).
pub const MAX_ID_NUMBER: u64 = 999_999_999;

/// Why an ID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Empty string.
    #[error("an ID cannot be empty")]
    Empty,
    /// Too long to be a sane file name.
    #[error("ID `{0}` is longer than 100 characters")]
    TooLong(String),
    /// Contains a character outside `[A-Za-z0-9_-]`.
    #[error("ID `{id}` contains `{ch}`; IDs may only use letters, digits, `-` and `_` (they become file names)")]
    BadChar {
        /// The refused ID.
        id: String,
        /// The first offending character.
        ch: char,
    },
    /// Starts with `-` or `.`, which git and shells treat specially.
    #[error("ID `{0}` must start with a letter or digit")]
    BadStart(String),
    /// Its number is above [`MAX_ID_NUMBER`].
    #[error("ID `{0}` has a number above 999,999,999, the largest git-coord allocates or accepts")]
    OutOfRange(String),
}

/// Validates an ID from a user or a file. Anything that could escape the
/// entity directory (`/`, `\`, `..`, NUL, …) is refused.
pub fn validate_id(id: &str) -> Result<(), IdError> {
    if id.is_empty() {
        return Err(IdError::Empty);
    }
    if id.len() > 100 {
        return Err(IdError::TooLong(id.to_string()));
    }
    if let Some(ch) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_')) {
        return Err(IdError::BadChar { id: id.to_string(), ch });
    }
    if !id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric()) {
        return Err(IdError::BadStart(id.to_string()));
    }
    Ok(())
}

/// The number of an ID with the given prefix (`ISSUE-042` → 42); `None` for
/// another form, or a number above [`MAX_ID_NUMBER`] (see [`out_of_range`]).
pub fn id_number(id: &str, prefix: &str) -> Option<u64> {
    number_text(id, prefix).and_then(parse_number)
}

fn number_text<'a>(id: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = id.strip_prefix(prefix)?.strip_prefix('-')?;
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())).then_some(rest)
}

/// A run of digits as an ID number, if it is at most [`MAX_ID_NUMBER`].
pub fn parse_number(digits: &str) -> Option<u64> {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > 9 {
        return None;
    }
    digits.parse().ok().filter(|n| *n <= MAX_ID_NUMBER)
}

/// True when `id` has the `<prefix>-<digits>` form with a number above
/// [`MAX_ID_NUMBER`].
pub fn out_of_range(id: &str, prefix: &str) -> bool {
    number_text(id, prefix).is_some_and(|d| parse_number(d).is_none())
}

/// Refuses an ID of the `<prefix>-<digits>` form whose number is above
/// [`MAX_ID_NUMBER`] (for create and renumber).
pub fn check_number(id: &str, prefix: &str) -> Result<(), IdError> {
    if out_of_range(id, prefix) { Err(IdError::OutOfRange(id.to_string())) } else { Ok(()) }
}

/// Formats `<PREFIX>-<NNN>` with at least three digits.
pub fn format_id(prefix: &str, n: u64) -> String {
    format!("{prefix}-{n:03}")
}

/// Normalises user input: `issue-7` and `ISSUE-7` find `ISSUE-007`.
pub fn canonical_lookup(id: &str, prefix: &str) -> Option<String> {
    let upper = id.to_ascii_uppercase();
    let n = id_number(&upper, &prefix.to_ascii_uppercase())?;
    Some(format_id(prefix, n))
}

/// Sorts IDs naturally (`ISSUE-999` before `ISSUE-1000`).
pub fn natural_key(id: &str) -> (String, u64, String) {
    let (text, number, rest) = natural_parts(id);
    (text.to_string(), number, rest.to_string())
}

/// [`natural_key`] borrowed from the ID (no allocation): what sorting tens
/// of thousands of records by ID compares.
pub fn natural_parts(id: &str) -> (&str, u64, &str) {
    match id.rfind('-') {
        Some(i) if id[i + 1..].bytes().all(|b| b.is_ascii_digit()) && i + 1 < id.len() => {
            (&id[..i], id[i + 1..].parse().unwrap_or(u64::MAX), "")
        }
        _ => (id, 0, id),
    }
}

/// How every command reads an ID a person typed for an entity of a known
/// kind: `issue-7`, `ISSUE-7` and `ISSUE-007` are `ISSUE-007`, and so is a
/// bare `7` (the kind is known, so the number is unambiguous). None when it
/// is not an ID of that prefix.
pub fn normalise_id(id: &str, prefix: &str) -> Option<String> {
    let t = id.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return parse_number(t).filter(|n| *n <= MAX_ID_NUMBER).map(|n| format_id(prefix, n));
    }
    canonical_lookup(t, prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_parts_order_numbers_as_numbers() {
        let mut ids = vec!["ISSUE-10", "ISSUE-9", "X", "ISSUE-010", "A-b", "ISSUE-99999999999999999999"];
        ids.sort_by_key(|id| natural_parts(id));
        assert_eq!(ids, ["A-b", "ISSUE-9", "ISSUE-10", "ISSUE-010", "ISSUE-99999999999999999999", "X"]);
    }

    #[test]
    fn refuses_traversal_and_separators() {
        for bad in ["../etc/passwd", "a/b", "a\\b", "..", ".hidden", "-rf", "x y", "ISSUE-1\0", ""] {
            assert!(validate_id(bad).is_err(), "{bad:?} must be refused");
        }
        for good in ["ISSUE-001", "todo_7", "DEP-12345", "a"] {
            validate_id(good).unwrap();
        }
    }

    #[test]
    fn numbers_and_formatting() {
        assert_eq!(id_number("ISSUE-042", "ISSUE"), Some(42));
        assert_eq!(id_number("ISSUE-1234", "ISSUE"), Some(1234));
        assert_eq!(id_number("ISSUEX-1", "ISSUE"), None);
        assert_eq!(id_number("ISSUE-1a", "ISSUE"), None);
        assert_eq!(format_id("TODO", 7), "TODO-007");
        assert_eq!(format_id("TODO", 1234), "TODO-1234");
        assert_eq!(canonical_lookup("issue-7", "ISSUE").as_deref(), Some("ISSUE-007"));
        assert_eq!(normalise_id("7", "ISSUE").as_deref(), Some("ISSUE-007"));
        assert_eq!(normalise_id("Dep-3", "DEP").as_deref(), Some("DEP-003"));
        assert_eq!(normalise_id("PLAN-3", "DEP"), None);
    }

    #[test]
    fn numbers_above_the_bound_are_not_ids() {
        assert_eq!(id_number("ISSUE-999999999", "ISSUE"), Some(MAX_ID_NUMBER));
        assert_eq!(id_number("ISSUE-0000000000042", "ISSUE"), Some(42));
        for big in ["ISSUE-1000000000", "ISSUE-18446744073709551615", "ISSUE-99999999999999999999999999"] {
            assert_eq!(id_number(big, "ISSUE"), None, "{big}");
            assert!(out_of_range(big, "ISSUE"), "{big}");
            assert_eq!(check_number(big, "ISSUE"), Err(IdError::OutOfRange(big.to_string())));
        }
        assert!(!out_of_range("ISSUE-12", "ISSUE") && !out_of_range("TODO-99999999999", "ISSUE"));
    }
}
