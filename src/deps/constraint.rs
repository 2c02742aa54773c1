//! Version constraints, evaluated by real constraint libraries: Cargo/npm
//! syntax (`^1.4`, `>=1.0, <2`) with `semver`, Python syntax (`~=2.1`,
//! `===`, `!=`, `.post`, `rc`) with `pep440_rs`. The provider's ecosystem
//! picks the library; when it is unknown, the constraint's syntax does.
//!
//! Pre-releases follow both ecosystems' rule: a pre-release satisfies a
//! constraint only when the constraint itself names a pre-release.

use serde::Serialize;
use std::str::FromStr;

/// Which versioning rules a provider follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ecosystem {
    /// Cargo (`Cargo.toml`): semver.
    Cargo,
    /// npm (`package.json`): semver.
    Npm,
    /// Python (`pyproject.toml`, `setup.cfg`): PEP 440.
    Python,
}

/// The outcome of evaluating a constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub satisfied: bool,
    /// `semver` or `pep440`.
    pub syntax: &'static str,
}

/// Syntax that only PEP 440 has.
fn looks_python(constraint: &str) -> bool {
    ["~=", "===", "==", "!=", ".post", ".dev"].iter().any(|t| constraint.contains(t))
        || constraint.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
            // `1.0rc1`, `2.0a1`, `2.0b2`: a pre-release glued to digits.
            let w = w.trim_start_matches(|c: char| c.is_ascii_digit());
            !w.is_empty()
                && ["rc", "a", "b"]
                    .iter()
                    .any(|p| w.strip_prefix(p).is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
                && w.len() < 6
        })
}

/// A constraint or version neither library accepts (the error of the
/// ecosystem's own library is kept).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConstraintError {
    /// The constraint does not parse.
    #[error("constraint `{constraint}`: {message}")]
    Constraint {
        /// The constraint as written.
        constraint: String,
        /// Which syntax was tried ("semver", "PEP 440").
        syntax: &'static str,
        /// The library's message.
        message: String,
    },
    /// An empty constraint.
    #[error("an empty constraint")]
    Empty,
    /// A constraint neither library reads (checked on write and by lint).
    #[error(
        "`{constraint}` is neither a semver constraint (`>=2.0`, `^1.4`, `>=1.0, <2`) nor a PEP 440 one (`~=2.1`, `>=1.0,!=1.3`): {semver}"
    )]
    Syntax {
        /// The constraint as written.
        constraint: String,
        /// The semver library's message.
        semver: String,
    },
    /// The provider's version does not parse.
    #[error("`{version}` is not a {syntax} version{}", message.as_ref().map(|m| format!(": {m}")).unwrap_or_default())]
    Version {
        /// The version found.
        version: String,
        /// Which syntax was tried.
        syntax: &'static str,
        /// The library's message, when it gives one.
        message: Option<String>,
    },
}

/// One library's evaluation: satisfied, or why it cannot tell.
type Evaluator = fn(&str, &str) -> Result<bool, ConstraintError>;

/// Evaluates `constraint` against `version`. `Err` explains a constraint or
/// version neither library accepts.
pub fn evaluate(constraint: &str, version: &str, eco: Option<Ecosystem>) -> Result<Verdict, ConstraintError> {
    let python_first = match eco {
        Some(Ecosystem::Python) => true,
        Some(Ecosystem::Cargo | Ecosystem::Npm) => false,
        None => looks_python(constraint),
    };
    let order: [(Evaluator, &'static str); 2] =
        if python_first { [(pep440, "pep440"), (semver, "semver")] } else { [(semver, "semver"), (pep440, "pep440")] };
    let [(first, first_name), (second, second_name)] = order;
    match first(constraint, version) {
        Ok(satisfied) => Ok(Verdict { satisfied, syntax: first_name }),
        // The ecosystem's syntax did not fit: the constraint may be written
        // in the other one (a `^1.4` on a Python package).
        Err(e1) => match second(constraint, version) {
            Ok(satisfied) => Ok(Verdict { satisfied, syntax: second_name }),
            Err(_) => Err(e1),
        },
    }
}

/// Checks that a constraint is written in semver (Cargo/npm) or PEP 440
/// syntax, as [`evaluate`] will read it; returns which, or why neither
/// library accepts it. Dependencies are checked with it when written and by
/// `lint`.
pub fn check_syntax(constraint: &str) -> Result<&'static str, ConstraintError> {
    let c = constraint.trim();
    if c.is_empty() {
        return Err(ConstraintError::Empty);
    }
    let semver_err = match semver::VersionReq::parse(&normalise_npm(c)) {
        Ok(_) => return Ok("semver"),
        Err(e) => e.to_string(),
    };
    match pep440_rs::VersionSpecifiers::from_str(c) {
        Ok(_) => Ok("pep440"),
        Err(_) => Err(ConstraintError::Syntax { constraint: constraint.to_string(), semver: semver_err }),
    }
}

/// A lenient semver parse: `v1.2` → `1.2.0`, `1` → `1.0.0`.
pub fn parse_semver(v: &str) -> Option<semver::Version> {
    let v = v.trim().trim_start_matches('v');
    if let Ok(x) = semver::Version::parse(v) {
        return Some(x);
    }
    // Pad a short release part, keeping any `-pre`/`+build` suffix.
    let split = v.find(['-', '+']).unwrap_or(v.len());
    let (release, rest) = v.split_at(split);
    let parts: Vec<&str> = release.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut padded = parts.join(".");
    for _ in parts.len()..3 {
        padded.push_str(".0");
    }
    semver::Version::parse(&format!("{padded}{rest}")).ok()
}

fn semver(constraint: &str, version: &str) -> Result<bool, ConstraintError> {
    // npm writes `>=1.0 <2`; semver wants commas.
    let normalised = normalise_npm(constraint);
    let req = semver::VersionReq::parse(&normalised).map_err(|e| ConstraintError::Constraint {
        constraint: constraint.to_string(),
        syntax: "semver",
        message: e.to_string(),
    })?;
    let v = parse_semver(version).ok_or_else(|| ConstraintError::Version {
        version: version.to_string(),
        syntax: "semver",
        message: None,
    })?;
    Ok(req.matches(&v))
}

/// Inserts commas between space-separated comparators (`>=1.0 <2`).
fn normalise_npm(c: &str) -> String {
    if c.contains(',') || c.contains("||") {
        return c.to_string();
    }
    let words: Vec<&str> = c.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    for w in words {
        // `>= 1.0`: an operator alone joins the next word.
        match out.last_mut() {
            Some(last) if last.chars().all(|ch| "<>=~^".contains(ch)) => last.push_str(w),
            _ => out.push(w.to_string()),
        }
    }
    out.join(", ")
}

fn pep440(constraint: &str, version: &str) -> Result<bool, ConstraintError> {
    let specs = pep440_rs::VersionSpecifiers::from_str(constraint).map_err(|e| ConstraintError::Constraint {
        constraint: constraint.to_string(),
        syntax: "PEP 440",
        message: e.to_string(),
    })?;
    let v = pep440_rs::Version::from_str(version.trim().trim_start_matches('v')).map_err(|e| {
        ConstraintError::Version { version: version.to_string(), syntax: "PEP 440", message: Some(e.to_string()) }
    })?;
    if v.any_prerelease() && !specs.iter().any(|s| s.version().any_prerelease()) {
        return Ok(false);
    }
    Ok(specs.contains(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(c: &str, v: &str, eco: Option<Ecosystem>) -> bool {
        evaluate(c, v, eco).expect("valid").satisfied
    }

    #[test]
    fn cargo_syntax() {
        assert!(ok(">=0.2.0", "0.3.1", Some(Ecosystem::Cargo)));
        assert!(!ok(">=0.2.0", "0.1.9", Some(Ecosystem::Cargo)));
        assert!(ok("^1.4", "1.9.0", None));
        assert!(!ok("^1.4", "2.0.0", None));
        assert!(ok(">=1.0,<2", "1.5.0", None));
        assert!(!ok(">=1.0,<2", "2.0.0", None));
        assert!(ok(">=1.0 <2", "1.2.3", Some(Ecosystem::Npm)));
        assert!(ok("^1.4", "v1.4", None));
    }

    #[test]
    fn prereleases_need_a_prerelease_constraint() {
        assert!(!ok(">=0.2.0", "0.3.0-beta.1", Some(Ecosystem::Cargo)));
        assert!(ok(">=0.3.0-alpha", "0.3.0-beta.1", Some(Ecosystem::Cargo)));
        assert!(!ok(">=2.0", "2.1rc1", Some(Ecosystem::Python)));
        assert!(ok(">=2.1rc1", "2.1rc2", Some(Ecosystem::Python)));
    }

    #[test]
    fn python_syntax() {
        assert!(ok("~=2.1", "2.5", None));
        assert!(!ok("~=2.1", "3.0", None));
        assert!(ok("!=1.3,>=1.0", "1.4.post1", None));
        assert!(!ok("!=1.3", "1.3", None));
        assert!(ok("===1.0", "1.0", None));
        assert_eq!(evaluate("~=2.1", "2.5", None).expect("valid").syntax, "pep440");
        // A Cargo-style constraint on a Python provider falls back to semver.
        assert_eq!(evaluate("^1.4", "1.5", Some(Ecosystem::Python)).expect("valid").syntax, "semver");
    }

    #[test]
    fn syntax_check() {
        for good in [">=2.0", "^1.4", ">=1.0, <2", ">=1.0 <2", "~=2.1", "!=1.3,>=1.0", "===1.0", "1.2.3"] {
            assert!(check_syntax(good).is_ok(), "{good}");
        }
        for bad in ["banana", "", ">=", "1.0 or 2.0"] {
            assert!(check_syntax(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nonsense_is_an_error() {
        assert!(evaluate("banana", "1.0", None).is_err());
        assert!(evaluate(">=1.0", "not-a-version", None).is_err());
    }
}
