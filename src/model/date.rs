//! Dates as they appear in coordination files.
//!
//! Files written by git-coord carry plain dates (`2026-01-31`) by default, so
//! that two edits on the same day touch the `updated` line identically and git
//! merges them cleanly; precise times come from git history. Reading is
//! lenient: dates, RFC 3339, ISO datetimes without zone and space-separated
//! datetimes are all accepted.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};
use std::fmt;

/// A date or timestamp read from (or written to) a coordination file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoordDate {
    /// `YYYY-MM-DD`
    Date(NaiveDate),
    /// A datetime with a zone (RFC 3339).
    Zoned(DateTime<FixedOffset>),
    /// A datetime without zone, as found in hand-written files and written
    /// by the Python tool (`2026-01-15T00:00:00`, `…T10:20:30.123456`), with
    /// how it was written, so it is written back the same way.
    Naive(NaiveDateTime, NaiveForm),
}

/// How a datetime without zone was written: separator, seconds, and the
/// digits of its fractional seconds (kept, never dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct NaiveForm {
    /// `2026-01-15 10:00` rather than `2026-01-15T10:00`.
    pub space: bool,
    /// `10:20` without seconds.
    pub minutes_only: bool,
    /// Digits after the seconds' `.` (0: none).
    pub fraction: u8,
}

impl NaiveForm {
    /// The form of `s`, a datetime without zone that parsed with `fmt`.
    fn of(s: &str, fmt: &str) -> Self {
        let time = s.get(11..).unwrap_or_default();
        let fraction = time.split_once('.').map_or(0, |(_, f)| f.chars().take_while(char::is_ascii_digit).count());
        NaiveForm {
            space: s.as_bytes().get(10) == Some(&b' '),
            minutes_only: !fmt.contains("%S"),
            fraction: fraction.min(9) as u8,
        }
    }
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
        // The common form, `YYYY-MM-DD`, without chrono's format parser
        // (a report parses two dates per entity, 100,000s of them); an
        // impossible day falls through to the same parser as before.
        if let Some(d) = plain_day(s) {
            return Some(Self::Date(d));
        }
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
                return Some(Self::Naive(dt, NaiveForm::of(s, fmt)));
            }
        }
        None
    }

    /// The calendar day, for comparisons and reports.
    pub fn date(&self) -> NaiveDate {
        match self {
            Self::Date(d) => *d,
            Self::Zoned(dt) => dt.date_naive(),
            Self::Naive(dt, _) => dt.date(),
        }
    }

    /// A stamp for "now" written the way `like` is: a date, a zoned
    /// timestamp, or a datetime without zone in its form (separator,
    /// seconds, fraction digits) — how a write into the legacy section keeps
    /// the section's style of `updated`.
    pub fn stamp_like(now: DateTime<Utc>, like: &CoordDate) -> Self {
        match like {
            Self::Date(_) => Self::Date(now.date_naive()),
            Self::Zoned(dt) => Self::Zoned(now.with_timezone(&dt.timezone())),
            Self::Naive(_, form) => {
                let dt = now.naive_utc();
                let keep = 10u32.pow(9 - u32::from(form.fraction));
                let nanos = if form.minutes_only { 0 } else { dt.and_utc().timestamp_subsec_nanos() / keep * keep };
                let secs = if form.minutes_only { 0 } else { dt.time().second() };
                let dt = dt.date().and_hms_nano_opt(dt.time().hour(), dt.time().minute(), secs, nanos).unwrap_or(dt);
                Self::Naive(dt, *form)
            }
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
            Self::Naive(dt, form) => {
                let sep = if form.space { ' ' } else { 'T' };
                write!(f, "{}{sep}{}", dt.format("%Y-%m-%d"), dt.format("%H:%M"))?;
                if !form.minutes_only {
                    write!(f, ":{}", dt.format("%S"))?;
                    if form.fraction > 0 {
                        let digits = format!("{:09}", dt.and_utc().timestamp_subsec_nanos());
                        write!(f, ".{}", &digits[..usize::from(form.fraction)])?;
                    }
                }
                Ok(())
            }
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
            Some(CoordDate::Naive(dt, _)) => return dt.and_utc(),
            None => {}
        }
    }
    Utc::now()
}

/// `YYYY-MM-DD` exactly (ten ASCII characters), as a valid calendar day.
fn plain_day(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_day_path_agrees_with_the_format_parser() {
        for s in [
            "2026-03-01",
            "2024-02-29",
            "2026-02-29",
            "2026-02-30",
            "2026-13-01",
            "2026-00-10",
            "0000-01-01",
            "9999-12-31",
            "2026-1-01",
            "2026-01-1x",
            "+026-01-01",
            "2026/01/01",
            "20260-01-01",
        ] {
            let shaped = s.len() == 10 && s.bytes().enumerate().all(|(i, c)| (c == b'-') == (i == 4 || i == 7));
            let shaped = shaped && s.bytes().filter(|c| c.is_ascii_digit()).count() == 8;
            if shaped {
                assert_eq!(plain_day(s), NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(), "{s}");
            } else {
                assert_eq!(plain_day(s), None, "{s}");
            }
        }
        assert_eq!(plain_day("2026-02-30"), None);
        assert_eq!(CoordDate::parse("2026-02-30"), None, "an impossible day is no date either way");
    }

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
        for s in ["2026-01-15T00:00:00", "2026-01-31 10:20:30.123456", "2026-01-31T10:20:30.120", "2026-01-31T10:20"] {
            assert_eq!(CoordDate::parse(s).unwrap().to_string(), s, "kept as written");
        }
    }

    #[test]
    fn a_stamp_takes_the_form_of_the_value_it_replaces() {
        let now = DateTime::parse_from_rfc3339("2026-02-10T09:08:07.654321Z").unwrap().with_timezone(&Utc);
        let like = |s: &str| CoordDate::stamp_like(now, &CoordDate::parse(s).unwrap()).to_string();
        assert_eq!(like("2026-01-15T00:00:00"), "2026-02-10T09:08:07");
        assert_eq!(like("2026-01-15 00:00:00.000001"), "2026-02-10 09:08:07.654321");
        assert_eq!(like("2026-01-15T00:00:00.1"), "2026-02-10T09:08:07.6");
        assert_eq!(like("2026-01-15"), "2026-02-10");
    }
}
