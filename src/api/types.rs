//! Typed request values shared by every operation: vocabularies (statuses,
//! priorities, dependency types), dates, IDs, "set or clear" values and
//! milestone specs. Each parses once, when a request is built — from a flag
//! or from JSON — with the loader's aliases, and carries its JSON schema and
//! its clap parser, so both front ends get the same rules and the same list
//! of accepted values.

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

/// A point in time to start from: a date (`2026-03-01`), a relative time
/// (`2 weeks ago`) or RFC 3339; held as seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Since(pub i64);

impl FromStr for Since {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        if let Ok(d) = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
            return Ok(Since(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp()));
        }
        gix::date::parse(s, Some(gix::date::Zoned::now()))
            .map(|t| Since(t.seconds))
            .map_err(|_| ValueError::new(s, "a date (try 2026-03-01 or \"2 weeks ago\")"))
    }
}

impl<'de> Deserialize<'de> for Since {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d)
    }
}

impl JsonSchema for Since {
    fn schema_name() -> Cow<'static, str> {
        "Since".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "description": "a date (2026-03-01), a relative time (\"2 weeks ago\") or RFC 3339" })
    }
}

/// What a timeout must be.
pub const SECONDS: &str = "a number of seconds between 0 and 86400";

/// A timeout in seconds: more than 0, at most a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(pub f64);

impl Seconds {
    fn check(v: f64) -> Result<Self, ValueError> {
        if v > 0.0 && v.is_finite() && v <= 86_400.0 {
            Ok(Seconds(v))
        } else {
            Err(ValueError::new(v.to_string(), SECONDS))
        }
    }
}

impl Default for Seconds {
    fn default() -> Self {
        Seconds(10.0)
    }
}

impl FromStr for Seconds {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        match s.trim().parse::<f64>() {
            Ok(v) => Seconds::check(v).map_err(|_| ValueError::new(s, SECONDS)),
            Err(_) => Err(ValueError::new(s, SECONDS)),
        }
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Seconds::check(f64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Seconds {
    fn schema_name() -> Cow<'static, str> {
        "Seconds".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "exclusiveMinimum": 0, "maximum": 86400, "description": "seconds" })
    }
}

/// A calendar date given by a user: `YYYY-MM-DD`, or relative to today
/// (the clock of [`crate::model::date::now`], so `GIT_COORD_NOW` pins it):
/// `today`, `tomorrow`, `yesterday`, `+3d`, `+2w`, `-1w`, a weekday
/// (`monday`, the next one after today) or `next monday`. The relative
/// forms resolve here, once, so a file always stores an absolute date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub CoordDate);

/// `s` as a date relative to `today`, when it is one of the relative forms.
fn relative_day(s: &str, today: chrono::NaiveDate) -> Option<chrono::NaiveDate> {
    use chrono::{Datelike, Days, Weekday};
    let t = s.trim().to_ascii_lowercase();
    match t.as_str() {
        "today" => return Some(today),
        "tomorrow" => return today.checked_add_days(Days::new(1)),
        "yesterday" => return today.checked_sub_days(Days::new(1)),
        _ => {}
    }
    if let Some(rest) = t.strip_prefix('+').map(|r| (r, true)).or_else(|| t.strip_prefix('-').map(|r| (r, false))) {
        let (body, forward) = rest;
        let (num, per) = if let Some(n) = body.strip_suffix('d') {
            (n, 1)
        } else if let Some(n) = body.strip_suffix('w') {
            (n, 7)
        } else {
            return None;
        };
        let n: u64 = num.trim().parse().ok()?;
        let days = Days::new(n.checked_mul(per)?);
        return if forward { today.checked_add_days(days) } else { today.checked_sub_days(days) };
    }
    let day = t.strip_prefix("next ").unwrap_or(&t).trim();
    let wd: Weekday = day.parse().ok()?;
    // The next such weekday strictly after today (a week ahead on that day).
    let ahead = (wd.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    today.checked_add_days(Days::new(if ahead == 0 { 7 } else { ahead as u64 }))
}

impl FromStr for Day {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        match CoordDate::parse(s) {
            Some(d @ CoordDate::Date(_)) => Ok(Day(d)),
            _ => match relative_day(s, crate::model::date::now().date_naive()) {
                Some(d) => Ok(Day(CoordDate::Date(d))),
                None => Err(ValueError::new(
                    s,
                    "a date (YYYY-MM-DD, today, tomorrow, +3d, +2w or a weekday like `next monday`)",
                )),
            },
        }
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d)
    }
}

impl JsonSchema for Day {
    fn schema_name() -> Cow<'static, str> {
        "Day".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "description": "a date: YYYY-MM-DD, or relative to today: today, tomorrow, +3d, +2w, next monday" })
    }
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

/// A milestone to create: `Name:YYYY-MM-DD` (or just `Name`) on the command
/// line; a string of that form or an object in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MilestoneSpec {
    /// The milestone's name.
    pub name: String,
    /// When it is due.
    #[serde(default)]
    pub due: Option<Day>,
    /// Longer description.
    #[serde(default)]
    pub description: Option<String>,
    /// Milestones this one depends on.
    #[serde(default)]
    pub depends_on: Vec<Id>,
}

impl FromStr for MilestoneSpec {
    type Err = ValueError;
    fn from_str(spec: &str) -> Result<Self, ValueError> {
        let (name, due) = match spec.rsplit_once(':') {
            Some((n, d)) if d.trim().chars().next().is_some_and(|c| c.is_ascii_digit() || c == '+') => {
                let due: Day = d.trim().parse().map_err(|_| {
                    ValueError::new(d.trim(), format!("a due date in `{spec}` (expected Name:YYYY-MM-DD or Name:+2w)"))
                })?;
                (n.trim(), Some(due))
            }
            // A relative date in words (`Ship:tomorrow`, `Ship:next friday`).
            Some((n, d)) if d.trim().parse::<Day>().is_ok() => (n.trim(), d.trim().parse::<Day>().ok()),
            _ => (spec.trim(), None),
        };
        if name.is_empty() {
            return Err(ValueError::new(spec, "a milestone: it has no name (expected Name:YYYY-MM-DD)"));
        }
        Ok(MilestoneSpec { name: name.to_string(), due, description: None, depends_on: Vec::new() })
    }
}

/// A milestone spec in a request: the short string form or the full object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMilestone(pub MilestoneSpec);

impl FromStr for NewMilestone {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        s.parse().map(NewMilestone)
    }
}

impl<'de> Deserialize<'de> for NewMilestone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Full(MilestoneSpec),
        }
        match Either::deserialize(d)? {
            Either::Text(s) => s.parse().map(NewMilestone).map_err(serde::de::Error::custom),
            Either::Full(m) => Ok(NewMilestone(m)),
        }
    }
}

impl JsonSchema for NewMilestone {
    fn schema_name() -> Cow<'static, str> {
        "NewMilestone".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let full = generator.subschema_for::<MilestoneSpec>();
        json_schema!({ "anyOf": [
            { "type": "string", "description": "Name:YYYY-MM-DD, or just Name" },
            full,
        ]})
    }
}

/// An estimate of effort: `2w` (weeks of five days), `3d` (days of
/// `hours_per_day`), `4h`, `90m`, or a number of hours; in JSON also a plain
/// number of hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    amount: f64,
    unit: EstimateUnit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EstimateUnit {
    /// Working weeks: five days of `hours_per_day`.
    Weeks,
    Days,
    Hours,
    Minutes,
}

impl Estimate {
    /// The estimate in hours (days count `hours_per_day`), rounded to 0.01.
    pub fn hours(self, hours_per_day: f64) -> f64 {
        let factor = match self.unit {
            EstimateUnit::Weeks => 5.0 * hours_per_day,
            EstimateUnit::Days => hours_per_day,
            EstimateUnit::Hours => 1.0,
            EstimateUnit::Minutes => 1.0 / 60.0,
        };
        (self.amount * factor * 100.0).round() / 100.0
    }
}

impl FromStr for Estimate {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let t = s.trim().to_ascii_lowercase();
        let (num, unit) = if let Some(n) = t.strip_suffix('w') {
            (n, EstimateUnit::Weeks)
        } else if let Some(n) = t.strip_suffix('d') {
            (n, EstimateUnit::Days)
        } else if let Some(n) = t.strip_suffix('h') {
            (n, EstimateUnit::Hours)
        } else if let Some(n) = t.strip_suffix('m') {
            (n, EstimateUnit::Minutes)
        } else {
            (t.as_str(), EstimateUnit::Hours)
        };
        let amount: f64 = num
            .trim()
            .parse()
            .map_err(|_| ValueError::new(s, "an estimate (e.g. `2w`, `3d`, `4h`, `90m` or a number of hours)"))?;
        if !(amount > 0.0 && amount.is_finite()) {
            return Err(ValueError::new(s, "an estimate greater than 0"));
        }
        Ok(Estimate { amount, unit })
    }
}

/// A number given as JSON text or as a JSON number.
#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for Estimate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match NumberOrText::deserialize(d)? {
            NumberOrText::Number(n) => n.to_string().parse(),
            NumberOrText::Text(s) => s.parse(),
        }
        .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Estimate {
    fn schema_name() -> Cow<'static, str> {
        "Estimate".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "anyOf": [
            { "type": "number", "exclusiveMinimum": 0, "description": "hours" },
            { "type": "string", "description": "`2w` (weeks of 5 days), `3d` (days of hours_per_day), `4h`, `90m`, or hours" },
        ]})
    }
}

/// A number of hours actually spent (0 or more); in JSON a number or text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hours(pub f64);

impl FromStr for Hours {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let h: f64 = s.trim().parse().map_err(|_| ValueError::new(s, "a number of hours"))?;
        if h < 0.0 || !h.is_finite() {
            return Err(ValueError::new(s, "a number of hours (0 or more)"));
        }
        Ok(Hours(h))
    }
}

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match NumberOrText::deserialize(d)? {
            NumberOrText::Number(n) => n.to_string().parse(),
            NumberOrText::Text(s) => s.parse(),
        }
        .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Hours {
    fn schema_name() -> Cow<'static, str> {
        "Hours".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "minimum": 0, "description": "a number of hours" })
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
