//! Effort in requests: an estimate in weeks, days, hours or minutes (days
//! count `hours_per_day`), and hours actually spent; in JSON also a plain
//! number.

use crate::error::ValueError;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::str::FromStr;

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
