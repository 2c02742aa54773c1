//! Entity IDs: validation (IDs become file names) and the `<PREFIX>-<NNN>` form.

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

/// The number of an ID with the given prefix (`ISSUE-042` → 42).
pub fn id_number(id: &str, prefix: &str) -> Option<u64> {
    let rest = id.strip_prefix(prefix)?.strip_prefix('-')?;
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok()
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

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
