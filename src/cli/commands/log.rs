//! `log`: the commits that changed coordination data (or one entity), with
//! their field-level changes.

use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, HEADER};
use crate::history::log::{LogOptions, looks_like_id};
use crate::history::render::change_lines;
use std::io::Write;

/// Output formats of the history commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable text.
    #[default]
    Table,
    /// JSON (see docs/JSON.md).
    Json,
}

/// Show the commits that changed coordination data, newest first, with the
/// field-level changes each made (`ISSUE-003 status: pending → in_progress`).
///
/// With an ID, only that entity's history (following it across `migrate`).
/// A revision or range limits the commits (`main`, `v1.0..HEAD`, `main...topic`).
/// Merge commits are not shown; their changes appear on the commits that made them.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// An entity ID and/or a revision or range, in either order.
    #[arg(value_name = "ID|REVSPEC", num_args = 0..=2)]
    pub args: Vec<String>,
    /// Only commits at or after this date (`2026-03-01`, `2 weeks ago`, RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only commits whose author name or email contains this (any case).
    #[arg(long, value_name = "A")]
    pub author: Option<String>,
    /// At most N commits.
    #[arg(long, short = 'n', value_name = "N")]
    pub limit: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LogFormat::Table)]
    pub format: LogFormat,
}

/// Parses a `--since` date with git's date parser (absolute or relative).
pub fn parse_since(s: &str) -> Result<i64, CommandError> {
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp());
    }
    gix::date::parse(s, Some(gix::date::Zoned::now()))
        .map(|t| t.seconds)
        .map_err(|_| CommandError::Usage(format!("--since: `{s}` is not a date (try 2026-03-01 or \"2 weeks ago\")")))
}

/// `log`
pub fn run(cx: &Context, a: &LogArgs) -> CmdResult {
    let store = cx.store()?;
    let mut opts = LogOptions { author: a.author.clone(), limit: a.limit, ..LogOptions::default() };
    for arg in &a.args {
        if opts.id.is_none() && looks_like_id(&store, arg) {
            opts.id = Some(arg.clone());
        } else if opts.rev.is_none() {
            opts.rev = Some(arg.clone());
        } else {
            return Err(CommandError::Usage(format!(
                "unexpected argument `{arg}` (give at most one ID and one revision)"
            )));
        }
    }
    if let Some(s) = &a.since {
        opts.since = Some(parse_since(s)?);
    }
    let log = crate::history::log(&store, &opts)?;
    for w in &log.warnings {
        eprintln!("warning: {w}");
    }
    let mut w = render::out();
    if a.format == LogFormat::Json {
        render::json(&mut w, &log)?;
        return Ok(());
    }
    if log.commits.is_empty() {
        match &log.id {
            Some(id) => writeln!(w, "no commits changed {id}")?,
            None => writeln!(w, "no commits changed coordination data")?,
        }
        return Ok(());
    }
    for (i, e) in log.commits.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        let c = &e.commit;
        writeln!(w, "{HEADER}commit {}{HEADER:#}  {}  {} <{}>", c.short, c.date, c.author, c.email)?;
        writeln!(w, "    {}", c.summary)?;
        if e.shallow_boundary {
            writeln!(w, "    (shallow clone boundary: earlier history is not available here)")?;
        }
        writeln!(w)?;
        for ch in &e.changes {
            for l in change_lines(ch) {
                writeln!(w, "    {}", l.replace('\n', "\n    "))?;
            }
        }
    }
    Ok(())
}
