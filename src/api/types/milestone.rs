//! A milestone to create inside another request (`create-plan
//! --milestone`): the short `Name:DUE` form of the command line, or the full
//! object in JSON.

use super::{Day, Id};
use crate::error::ValueError;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::str::FromStr;

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
