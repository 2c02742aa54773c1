//! A todo's optional `run:` field: how pool execution should run it when
//! the command line does not say otherwise (`action`, `command`, `pool`,
//! `timeout`, `retries`). It is kept in the todo's unknown keys by the
//! reader (so writes preserve it byte for byte) and parsed here, on demand,
//! by the executor and lint: a malformed `run:` refuses that todo, never the
//! whole load.

use super::Todo;
use super::reader::scalar_text;
use serde_yaml::Value;
use std::time::Duration;

/// A todo's `run:` field, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunSpec {
    /// A named action of the settings (`test`, `agent`, …).
    pub action: Option<String>,
    /// A command (through `sh -c`), instead of the action's.
    pub command: Option<String>,
    /// The pool to run in.
    pub pool: Option<String>,
    /// Per attempt (`30s`, `10m`, `2h`, or seconds).
    pub timeout: Option<Duration>,
    /// Attempts after the first.
    pub retries: Option<u32>,
}

/// A text that is not a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a duration (e.g. 90s, 10m, 2h)")]
pub struct DurationError {
    /// The text given.
    pub text: String,
}

impl DurationError {
    /// This error as a problem with the request field `field`.
    pub fn on_field(self, field: &str) -> crate::error::FieldError {
        crate::error::FieldError::new(field, format!("`{}` is not a duration", self.text))
            .value(self.text)
            .expected("a duration such as 90s, 10m, 2h, 1h30m, or seconds")
    }
}

/// A todo's `run:` field that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunSpecError {
    /// `run:` is not a mapping.
    #[error("`run` must be a mapping (action, command, pool, timeout, retries)")]
    NotMapping,
    /// A key of `run:` has a value of the wrong type.
    #[error("`run.{key}` must be {expected}")]
    Value {
        /// The key (`retries`).
        key: String,
        /// What it must be ("text").
        expected: &'static str,
    },
    /// `run.timeout` is not a duration.
    #[error("`run.timeout`: {0}")]
    Timeout(#[from] DurationError),
    /// A key `run:` does not have.
    #[error("unknown key `run.{0}` (action, command, pool, timeout, retries)")]
    UnknownKey(String),
}

/// Parses a duration: `90`, `90s`, `10m`, `2h`, `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let t = text.trim();
    let bad = || DurationError { text: t.to_string() };
    if let Ok(secs) = t.parse::<f64>() {
        return if secs.is_finite() && secs >= 0.0 { Ok(Duration::from_secs_f64(secs)) } else { Err(bad()) };
    }
    let mut total = 0f64;
    let mut num = String::new();
    for c in t.chars() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let n: f64 = num.parse().map_err(|_| bad())?;
        num.clear();
        total += n * match c {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            'd' => 86400.0,
            _ => return Err(bad()),
        };
    }
    if !num.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(total))
}

impl Todo {
    /// The `run:` field, when present; an error names what is wrong.
    pub fn run_spec(&self) -> Result<Option<RunSpec>, RunSpecError> {
        let Some(v) = self.extra.get("run") else { return Ok(None) };
        let Value::Mapping(m) = v else {
            return Err(RunSpecError::NotMapping);
        };
        let mut spec = RunSpec::default();
        for (k, v) in m {
            let key = k.as_str().unwrap_or_default();
            let text = || scalar_text(v).ok_or_else(|| RunSpecError::Value { key: key.to_string(), expected: "text" });
            match key {
                "action" => spec.action = Some(text()?),
                "command" => spec.command = Some(text()?),
                "pool" => spec.pool = Some(text()?),
                "timeout" => spec.timeout = Some(parse_duration(&text()?)?),
                "retries" => {
                    spec.retries = Some(v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                        RunSpecError::Value { key: "retries".into(), expected: "a whole number ≥ 0" }
                    })?)
                }
                other => return Err(RunSpecError::UnknownKey(other.to_string())),
            }
        }
        Ok(Some(spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("0.5s").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("10x").is_err());
        assert!(parse_duration("m").is_err());
    }
}
