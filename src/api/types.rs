//! Typed request values shared by every operation: vocabularies (statuses,
//! priorities, dependency types), dates, IDs, "set or clear" values and
//! milestone specs. Each parses once, when a request is built — from a flag
//! or from JSON — with the loader's aliases, and carries its JSON schema and
//! its clap parser, so both front ends get the same rules and the same list
//! of accepted values. Times, effort and milestone specs are in their own
//! submodules.

mod effort;
mod milestone;
mod time;

pub use effort::{Estimate, Hours};
pub use milestone::{MilestoneSpec, NewMilestone};
pub use time::{Day, SECONDS, Seconds, Since};

use crate::error::ValueError;
use crate::graph::{DepGraphKind, WorkloadBy};
use crate::model::id::validate_id;
use crate::model::vocab::parse_strict;
use crate::model::*;
use clap::builder::{PossibleValue, TypedValueParser, ValueParserFactory};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::marker::PhantomData;
use std::str::FromStr;

/// Deserializes any `FromStr` value from a JSON string.
fn from_text<'de, D: Deserializer<'de>, T: FromStr<Err: std::fmt::Display>>(d: D) -> Result<T, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

/// A list filter from JSON: an array of strings or one string, each
/// comma-separated (`"bug,auth"` = `["bug", "auth"]`), as the CLI's
/// repeatable, comma-separated flags take it.
pub fn terms<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    let all = match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    };
    Ok(all.iter().flat_map(|s| s.split(',')).map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
}

/// clap's parser for a vocabulary: aliases accepted, canonical values listed
/// in `--help` and in the error.
#[derive(Clone)]
pub struct VocabParser<T>(PhantomData<T>);

impl<T: Vocab + Send + Sync + std::fmt::Debug> TypedValueParser for VocabParser<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_string_lossy();
        parse_strict::<T>(&text).map_err(|why| {
            // The library's message (`invalid issue status `x` (expected one
            // of: …)`), the same as MCP gives, with the flag in front.
            let flag = arg.map(|a| a.to_string()).unwrap_or_default();
            cmd.clone().error(clap::error::ErrorKind::ValueValidation, format!("invalid value for {flag}: {why}"))
        })
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(T::ALLOWED.iter().map(|s| PossibleValue::new(*s))))
    }
}

/// The request-value glue of a [`Vocab`]: `FromStr` and `Deserialize` with
/// the vocabulary's parsing, a JSON schema listing the canonical values, and
/// clap's parser (values listed in `--help`). `$describe` turns the
/// vocabulary's `WHAT` into the schema's description.
macro_rules! vocab_value {
    ($describe:expr; $($t:ty),+ $(,)?) => {$(
        impl FromStr for $t {
            type Err = crate::model::vocab::VocabError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_strict::<$t>(s)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                from_text(d)
            }
        }
        impl JsonSchema for $t {
            fn schema_name() -> Cow<'static, str> {
                stringify!($t).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let describe: fn(&str) -> String = $describe;
                json_schema!({
                    "type": "string",
                    "enum": <$t as Vocab>::ALLOWED,
                    "description": describe(<$t as Vocab>::WHAT),
                })
            }
        }
        impl ValueParserFactory for $t {
            type Parser = VocabParser<$t>;
            fn value_parser() -> Self::Parser {
                VocabParser(PhantomData)
            }
        }
    )+};
}

vocab_value!(|what| format!("{what} (the loader's aliases are accepted too)");
    IssueStatus, PlanStatus, MilestoneStatus, TodoStatus, DepStatus, DepType, Priority);

// A choice between a few named values (the graph's kind, how workload
// groups, a rendering) is a small [`Vocab`] too (`choice_vocab!`), with the
// same request-value glue.

/// A choice's values: `ALLOWED` in order, parsed case-insensitively.
macro_rules! choice_vocab {
    ($t:ty, $what:literal, [$($name:literal => $v:expr),+ $(,)?]) => {
        impl Vocab for $t {
            const ALLOWED: &'static [&'static str] = &[$($name),+];
            const WHAT: &'static str = $what;
            fn as_str(self) -> &'static str {
                match self { $(x if x == $v => $name,)+ _ => unreachable!("every value is listed") }
            }
            fn parse(s: &str) -> Option<Self> {
                match s.trim().to_ascii_lowercase().as_str() { $($name => Some($v),)+ _ => None }
            }
        }
    };
}

choice_vocab!(DepGraphKind, "graph kind: repos (dependencies between repositories) or entities (what blocks what)", [
    "repos" => DepGraphKind::Repos,
    "entities" => DepGraphKind::Entities,
]);
choice_vocab!(WorkloadBy, "grouping: by assignee or by repository", [
    "assignee" => WorkloadBy::Assignee,
    "repo" => WorkloadBy::Repo,
]);
choice_vocab!(GraphFormat, "graph rendering: text (one edge per line), dot (Graphviz), mermaid (a flowchart for Markdown), json or yaml (nodes and edges)", [
    "text" => GraphFormat::Text,
    "dot" => GraphFormat::Dot,
    "mermaid" => GraphFormat::Mermaid,
    "json" => GraphFormat::Json,
    "yaml" => GraphFormat::Yaml,
]);
vocab_value!(|what| what.to_string(); DepGraphKind, WorkloadBy, GraphFormat);

/// How a graph is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GraphFormat {
    /// One edge per line.
    #[default]
    Text,
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart (for pull requests and Markdown).
    Mermaid,
    /// Nodes and edges as data.
    Json,
    /// Nodes and edges as data, in YAML.
    Yaml,
}

/// A value to set, or `""` to clear the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settable<T> {
    To(T),
    Clear,
}

impl<T: FromStr<Err = ValueError>> FromStr for Settable<T> {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        if s.trim().is_empty() { Ok(Settable::Clear) } else { s.parse().map(Settable::To) }
    }
}

impl<'de, T: FromStr<Err = ValueError>> Deserialize<'de> for Settable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d)
    }
}

impl<T: JsonSchema> JsonSchema for Settable<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("Settable_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let inner = generator.subschema_for::<T>();
        json_schema!({ "anyOf": [inner, { "const": "", "description": "\"\" clears the field" }] })
    }
}

impl<T> Settable<T> {
    /// The value, `None` for a clear.
    pub fn into_option(self) -> Option<T> {
        match self {
            Settable::To(v) => Some(v),
            Settable::Clear => None,
        }
    }
}

/// An entity or milestone ID, checked for form (no path separators, no
/// traversal); whether it exists is checked when the operation runs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub String);

impl FromStr for Id {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let s = s.trim();
        validate_id(s).map_err(|e| ValueError::new(s, format!("a valid ID: {e}")))?;
        Ok(Id(s.to_string()))
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d)
    }
}

impl JsonSchema for Id {
    fn schema_name() -> Cow<'static, str> {
        "Id".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "description": "an ID such as ISSUE-001 or MILESTONE-002" })
    }
}

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A metadata entry `key=value`; `key=` removes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaEntry {
    pub key: String,
    pub value: String,
}

impl FromStr for MetaEntry {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        s.split_once('=')
            .map(|(k, v)| MetaEntry { key: k.trim().to_string(), value: v.to_string() })
            .filter(|m| !m.key.is_empty())
            .ok_or_else(|| ValueError::new(s, "key=value"))
    }
}

impl<'de> Deserialize<'de> for MetaEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d)
    }
}

impl JsonSchema for MetaEntry {
    fn schema_name() -> Cow<'static, str> {
        "MetaEntry".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "description": "key=value (`key=` removes the key)" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_parse_aliases_from_flags_and_json() {
        assert_eq!("P0".parse::<Priority>(), Ok(Priority::Critical));
        let s: PlanStatus = serde_json::from_str("\"in progress\"").unwrap();
        assert_eq!(s, PlanStatus::Active);
        let e = serde_json::from_str::<TodoStatus>("\"bogus\"").unwrap_err().to_string();
        assert!(e.contains("expected one of: pending, in_progress"), "{e}");
    }

    #[test]
    fn settable_dates_and_clears() {
        assert_eq!("".parse::<Settable<Day>>(), Ok(Settable::Clear));
        assert!(matches!("2026-03-01".parse::<Settable<Day>>(), Ok(Settable::To(_))));
        assert!("tomorrowish".parse::<Settable<Day>>().is_err());
    }

    #[test]
    fn ids_refuse_traversal() {
        assert!("../x".parse::<Id>().is_err());
        assert_eq!("ISSUE-001".parse::<Id>(), Ok(Id("ISSUE-001".into())));
    }

    #[test]
    fn milestones_from_text_or_objects() {
        let m: NewMilestone = serde_json::from_str("\"Beta:2026-04-01\"").unwrap();
        assert_eq!(m.0.name, "Beta");
        let m: NewMilestone =
            serde_json::from_str(r#"{"name": "GA", "due": "2026-05-01", "depends_on": ["MILESTONE-001"]}"#).unwrap();
        assert_eq!(m.0.depends_on, vec![Id("MILESTONE-001".into())]);
        assert!("Beta:2026-13-40".parse::<NewMilestone>().is_err());
        assert!(":2026-01-01".parse::<NewMilestone>().is_err());
    }

    #[test]
    fn choices_seconds_and_dates_parse_from_flags_and_json() {
        assert_eq!("Entities".parse::<DepGraphKind>(), Ok(DepGraphKind::Entities));
        let f: GraphFormat = serde_json::from_str("\"mermaid\"").unwrap();
        assert_eq!(f, GraphFormat::Mermaid);
        let e = serde_json::from_str::<WorkloadBy>("\"team\"").unwrap_err().to_string();
        assert!(e.contains("expected one of: assignee, repo"), "{e}");
        assert_eq!(serde_json::from_str::<Seconds>("2.5").unwrap(), Seconds(2.5));
        assert!(serde_json::from_str::<Seconds>("0").is_err() && "1e9".parse::<Seconds>().is_err());
        assert_eq!("2026-03-01".parse::<Since>().map(|s| s.0), Ok(1_772_323_200));
        assert!("someday".parse::<Since>().unwrap_err().to_string().contains("is not a date"));
    }

    #[test]
    fn estimates_hours_and_metadata() {
        assert_eq!("3d".parse::<Estimate>().unwrap().hours(8.0), 24.0);
        assert_eq!("90m".parse::<Estimate>().unwrap().hours(8.0), 1.5);
        assert_eq!(serde_json::from_str::<Estimate>("2.5").unwrap().hours(8.0), 2.5);
        for bad in ["0", "-2h", "abc", "0d"] {
            assert!(bad.parse::<Estimate>().unwrap_err().to_string().contains("estimate"), "{bad}");
        }
        assert_eq!(serde_json::from_str::<Hours>("\"5\"").unwrap(), Hours(5.0));
        assert!("-1".parse::<Hours>().is_err());
        assert_eq!("a=b=c".parse::<MetaEntry>().unwrap(), MetaEntry { key: "a".into(), value: "b=c".into() });
        assert!("=x".parse::<MetaEntry>().is_err());
    }
}
