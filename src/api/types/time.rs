//! Times in requests: a starting point (`since`), a timeout in seconds and
//! a calendar day given absolutely or relative to today (resolved once, when
//! the request is built, so a file always stores an absolute date).

use super::from_text;
use crate::error::ValueError;
use crate::model::*;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;
use std::str::FromStr;

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
