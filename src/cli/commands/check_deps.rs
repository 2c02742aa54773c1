//! `check-deps`: judges every selected dependency (version constraint,
//! validation command, health check), prints the verdicts with their
//! evidence, optionally writes changed statuses back, and exits 1 when
//! anything is unsatisfied so hooks and CI can gate on it.

use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Cell, DIM, HEADER};
use crate::deps::{self, CheckOptions, CheckReport, DepResult, MethodResult, Verdict};
use crate::display;
use crate::model::Kind;
use std::io::Write;
use std::time::Duration;

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
    /// Only dependencies of this consumer (name or nickname).
    #[arg(long)]
    pub consumer: Option<String>,
    /// Only dependencies on this provider (name or nickname).
    #[arg(long)]
    pub provider: Option<String>,
    /// Only these dependencies (repeatable or comma-separated).
    #[arg(long = "id", value_name = "DEP-…", value_delimiter = ',')]
    pub ids: Vec<String>,
    /// No commands and no network: commands and health checks are reported
    /// unknown, versions come from the providers' checkouts.
    #[arg(long)]
    pub offline: bool,
    /// Timeout of each command and each HTTP request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_secs)]
    pub timeout: f64,
    /// Commands running at once; HTTP connections open at once are 4 × N (separately).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Write each judged status that differs from the stored one.
    #[arg(long)]
    pub update: bool,
    /// Run every validation command, approved or not (for CI on a checkout
    /// it already trusts; never on pull requests). Same as
    /// GIT_COORD_TRUST_ALL=1 or `git config --local coord.trustCommands all`.
    #[arg(long)]
    pub trust_all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v <= 86_400.0 => Ok(v),
        _ => Err(format!("`{s}` is not a number of seconds between 0 and 86400")),
    }
}

/// `check-deps`
pub fn run(cx: &Context, a: &CheckDepsArgs) -> CmdResult {
    let store = cx.store()?;
    let loaded = store.load(&[Kind::Dependency])?;
    render::warn_load_problems(&loaded.problems);
    let opts = CheckOptions {
        ids: a.ids.clone(),
        consumer: a.consumer.clone(),
        provider: a.provider.clone(),
        offline: a.offline,
        trust_all: a.trust_all,
        timeout: Duration::from_secs_f64(a.timeout),
        jobs: usize::from(a.jobs),
    };
    let report = deps::check(&store, &loaded, &opts)?;
    for w in &report.warnings {
        eprintln!("warning: {}", display::escape_controls(w));
    }
    let written = if a.update { deps::apply_updates(&store, &report)? } else { Vec::new() };
    let mut w = render::out();
    match a.format {
        CheckFormat::Json => render::json(
            &mut w,
            &serde_json::json!({
                "results": report.results, "summary": report.summary, "updated": written, "warnings": report.warnings,
            }),
        )?,
        CheckFormat::Table => {
            table(&mut w, &report)?;
            for u in &written {
                writeln!(w, "updated {}: {} → {}", u.id, u.from, u.to)?;
            }
        }
    }
    if !report.passed() {
        return Err(CommandError::Failed);
    }
    Ok(())
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
