//! `check-deps`: judges every selected dependency (version constraint,
//! validation command, health check), prints the verdicts with their
//! evidence, optionally writes changed statuses back and raises issues
//! ([`crate::api::deps::CheckDeps`], the same operation as the MCP tool),
//! and exits 1 when anything is unsatisfied so hooks and CI can gate on it.

use super::common;
use crate::api::deps::CheckDeps;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Cell, DIM, Format, HEADER};
use crate::deps::issues::IssueChange;
use crate::deps::{CheckReport, DepResult, MethodResult, Verdict};
use crate::display;
use crate::model::Kind;
use std::io::Write;

/// Check dependencies for real: provider versions against constraints,
/// validation commands (only trusted ones, see `git coord trust`) and HTTP
/// health checks. Exits 1 when any dependency is unsatisfied.
#[derive(Debug, clap::Args)]
pub struct CheckDepsArgs {
    #[command(flatten)]
    pub req: CheckDeps,
    #[command(flatten)]
    pub out: common::OutputArgs,
}

/// `check-deps`
pub fn run(cx: &Context, a: &CheckDepsArgs) -> CmdResult {
    let store = cx.store()?;
    render::warn_load_problems(&store.load(&[Kind::Dependency])?.problems);
    let out = a
        .req
        .run_with(&store, &crate::cli::progress::Bar::new())
        .map_err(common::op_error::<CheckDepsArgs, CheckDeps>)?;
    for w in &out.warnings {
        eprintln!("warning: {}", display::escape_controls(w));
    }
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => render::json(&mut w, &out)?,
        Format::Yaml => render::yaml(&mut w, &out)?,
        Format::Table => {
            let report =
                CheckReport { results: out.results.clone(), summary: out.summary.clone(), warnings: Vec::new() };
            table(&mut w, &report)?;
            for u in &out.updated {
                writeln!(w, "updated {}: {} → {}", u.id, u.from, u.to)?;
            }
            for i in out.issues.iter().flatten() {
                writeln!(w, "{}", issue_line(i))?;
            }
        }
    }
    if out.summary.unsatisfied > 0 {
        return Err(CommandError::Failed);
    }
    Ok(())
}

/// `created ISSUE-004 for DEP-001 (coordination/issues/ISSUE-004.yaml)`
pub fn issue_line(i: &IssueChange) -> String {
    format!("{} {} for {} ({})", i.action.as_str(), i.issue, i.dependency, i.path)
}

fn table(w: &mut dyn Write, report: &CheckReport) -> std::io::Result<()> {
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
