//! Dates as they appear in coordination files.
//!
//! Files written by git-coord carry plain dates (`2026-01-31`) by default, so
//! that two edits on the same day touch the `updated` line identically and git
//! merges them cleanly; precise times come from git history. Reading is
//! lenient: dates, RFC 3339, ISO datetimes without zone and space-separated
//! datetimes are all accepted.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use std::fmt;

/// A date or timestamp read from (or written to) a coordination file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoordDate {
    /// `YYYY-MM-DD`
    Date(NaiveDate),
    /// A datetime with a zone (RFC 3339).
    Zoned(DateTime<FixedOffset>),
    /// A datetime without zone, as found in hand-written files.
    Naive(NaiveDateTime),
}

/// How `created`/`updated` are stamped on write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DatePrecision {
    /// `YYYY-MM-DD` (merge-friendly, the default).
    #[default]
    Date,
    /// Full RFC 3339 timestamps.
    Timestamp,
}

impl CoordDate {
    /// Parses every form the loader accepts.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Some(Self::Date(d));
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Some(Self::Zoned(dt));
        }
        for fmt in
            ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f %:z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f %z"]
        {
            if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
                return Some(Self::Zoned(dt));
            }
        }
        if let Some(stripped) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
            for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
                if let Ok(dt) = NaiveDateTime::parse_from_str(stripped, fmt) {
                    return Some(Self::Zoned(dt.and_utc().fixed_offset()));
                }
            }
        }
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
                return Some(Self::Naive(dt));
            }
        }
        None
    }

    /// The calendar day, for comparisons and reports.
    pub fn date(&self) -> NaiveDate {
        match self {
            Self::Date(d) => *d,
            Self::Zoned(dt) => dt.date_naive(),
            Self::Naive(dt) => dt.date(),
        }
    }

    /// A stamp for "now" at the configured precision.
    pub fn stamp(now: DateTime<Utc>, precision: DatePrecision) -> Self {
        match precision {
            DatePrecision::Date => Self::Date(now.date_naive()),
            DatePrecision::Timestamp => Self::Zoned(now.fixed_offset()),
        }
    }
}

impl fmt::Display for CoordDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Date(d) => write!(f, "{}", d.format("%Y-%m-%d")),
            Self::Zoned(dt) => f.write_str(&dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Self::Naive(dt) => write!(f, "{}", dt.format("%Y-%m-%dT%H:%M:%S")),
        }
    }
}

/// The clock used for stamps. `GIT_COORD_NOW` (RFC 3339 or a date) pins it,
/// which tests and reproducible reports use.
pub fn now() -> DateTime<Utc> {
    if let Ok(s) = std::env::var("GIT_COORD_NOW") {
        match CoordDate::parse(&s) {
            Some(CoordDate::Date(d)) => {
                return d.and_hms_opt(12, 0, 0).expect("noon exists").and_utc();
            }
            Some(CoordDate::Zoned(dt)) => return dt.with_timezone(&Utc),
            Some(CoordDate::Naive(dt)) => return dt.and_utc(),
            None => {}
        }
    }
    Utc::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_every_documented_form() {
        for s in [
            "2026-01-31",
            "2026-01-31T10:20:30Z",
            "2026-01-31T10:20:30+02:00",
            "2026-01-31T10:20:30",
            "2026-01-31 10:20:30",
            "2026-01-31 10:20:30.123456",
            "2026-01-31 10:20:30 +00:00",
        ] {
            let d = CoordDate::parse(s).unwrap_or_else(|| panic!("{s} should parse"));
            assert_eq!(d.date(), NaiveDate::from_ymd_opt(2026, 1, 31).unwrap(), "{s}");
        }
        assert!(CoordDate::parse("31/01/2026").is_none());
        assert!(CoordDate::parse("2026-02-30").is_none());
    }

    #[test]
    fn round_trips_dates_verbatim() {
        assert_eq!(CoordDate::parse("2026-01-31").unwrap().to_string(), "2026-01-31");
        assert_eq!(CoordDate::parse("2026-01-31T10:20:30+02:00").unwrap().to_string(), "2026-01-31T10:20:30+02:00");
    }
}
