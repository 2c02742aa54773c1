//! `check-deps`: judges every selected dependency (version constraint,
//! validation command, health check), prints the verdicts with their
//! evidence, optionally writes changed statuses back, and exits 1 when
//! anything is unsatisfied so hooks and CI can gate on it.

use super::common;
use crate::api::checks::{CheckDeps, CheckDepsReport};
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Cell, DIM, HEADER};
use crate::deps::{DepResult, MethodResult, Verdict};
use crate::display;
use std::io::Write;

/// Output formats of `check-deps`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CheckFormat {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON for scripts and CI.
    Json,
}

/// Check dependencies for real: provider versions against constraints,
/// validation commands (only trusted ones, see `git coord trust`) and HTTP
/// health checks. Exits 1 when any dependency is unsatisfied.
#[derive(Debug, clap::Args)]
pub struct CheckDepsArgs {
    #[command(flatten)]
    pub req: CheckDeps,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
}

/// `check-deps`
pub fn run(cx: &Context, a: &CheckDepsArgs) -> CmdResult {
    let report = common::run_op::<CheckDepsArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&report.warnings);
    let mut w = render::out();
    match a.format {
        CheckFormat::Json => render::json(&mut w, &report)?,
        CheckFormat::Table => {
            table(&mut w, &report)?;
            for u in &report.updated {
                writeln!(w, "updated {}: {} → {}", u.id, u.from, u.to)?;
            }
        }
    }
    if !report.passed() {
        return Err(CommandError::Failed);
    }
    Ok(())
}

fn table(w: &mut dyn Write, report: &CheckDepsReport) -> std::io::Result<()> {
    if report.results.is_empty() {
        writeln!(w, "no dependencies to check")?;
    } else {
        let rows = report
            .results
            .iter()
            .map(|r| {
                vec![
                    Cell::from(r.id.as_str()),
                    Cell::from(r.consumer.as_str()),
                    Cell::from(r.provider.as_str()),
                    render::styled(r.status.as_str()),
                    Cell::from(methods(r)),
                    Cell::from(display::shown(&r.reason)),
                ]
            })
            .collect();
        render::table(w, &["ID", "CONSUMER", "PROVIDER", "STATUS", "METHODS", "WHY"], rows)?;
        for r in &report.results {
            for m in &r.methods {
                if let Some(line) = evidence(m) {
                    writeln!(w, "{DIM}  {} {}: {}{DIM:#}", r.id, m.method, display::shown(&line))?;
                }
            }
        }
    }
    let s = &report.summary;
    writeln!(
        w,
        "{HEADER}{} checked{HEADER:#}: {} satisfied, {} unsatisfied, {} unknown, {} deprecated",
        s.total, s.satisfied, s.unsatisfied, s.unknown, s.deprecated
    )
}

fn methods(r: &DepResult) -> String {
    if r.status == Verdict::Deprecated || r.methods.is_empty() {
        return "-".into();
    }
    r.methods.iter().map(|m| m.method).collect::<Vec<_>>().join(",")
}

/// One line of evidence for a method, when there is any.
fn evidence(m: &MethodResult) -> Option<String> {
    let e = &m.evidence;
    let mut parts = Vec::new();
    if let Some(v) = &e.version {
        parts.push(format!("version {v} from {}", e.version_source.as_deref().unwrap_or("?")));
    }
    if let Some(c) = e.exit_code {
        parts.push(format!("exit {c}"));
    }
    if let Some(o) = &e.output
        && let Some(first) = o.lines().find(|l| !l.trim().is_empty())
    {
        let first: String = first.chars().take(80).collect();
        parts.push(format!("output {first:?}"));
    }
    if let Some(s) = e.http_status {
        parts.push(format!("HTTP {s}"));
    }
    if let Some(ms) = e.latency_ms {
        parts.push(format!("{ms} ms"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}
