//! Checks of the coordination data: lint (every problem with file, line and
//! field), doctor (what hand merges leave behind, and the repairs), and the
//! dependency checks (versions, trusted commands, health checks).

use super::Operation;
use super::reports::repo_field;
use super::types::{Id, Seconds};
use crate::deps::{self, CheckOptions};
use crate::doctor::Finding;
use crate::error::{Error, FieldError, Result};
use crate::model::Kind;
use crate::problem::Problem;
use crate::store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Check all coordination data: schema, values, dates, references, file
/// names, duplicate IDs and cycles.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lint {
    /// Treat warnings as errors (the exit code; command line only).
    #[arg(long)]
    #[serde(skip)]
    pub strict: bool,
}

/// Every problem found, by file and line.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LintReport {
    /// Entities checked.
    pub entities: usize,
    /// How many problems are errors.
    pub errors: usize,
    /// How many are warnings.
    pub warnings: usize,
    /// The problems, by file, line and severity; files relative to the root.
    pub problems: Vec<Problem>,
}

impl LintReport {
    /// True when the data passes (no errors; no warnings either when `strict`).
    pub fn passed(&self, strict: bool) -> bool {
        self.errors == 0 && !(strict && self.warnings > 0)
    }
}

impl Operation for Lint {
    const COMMAND: &'static str = "lint";
    const TOOL: &'static str = "coord_lint";
    const SUMMARY: &'static str = "Check all coordination data (schema, values, dates, references, file names, duplicate IDs, cycles); every problem with file, line and field.";
    const WRITES: bool = false;
    type Output = LintReport;

    fn run(&self, store: &Store) -> Result<LintReport> {
        let loaded = store.load(&Kind::ALL)?;
        let mut problems = crate::lint::lint(&loaded);
        for p in &mut problems {
            if let Some(f) = &p.file {
                p.file = Some(store.rel(f));
            }
        }
        problems.sort_by(|a, b| (&a.file, a.line, a.severity).cmp(&(&b.file, b.line, b.severity)));
        let errors = problems.iter().filter(|p| p.is_error()).count();
        let entities = Kind::ALL.iter().map(|k| loaded.records(*k).len()).sum();
        Ok(LintReport { entities, errors, warnings: problems.len() - errors, problems })
    }
}

/// Find duplicate IDs, files named differently from their ID, entities both
/// in a file and in the legacy section, dangling references, one-sided
/// links and temp files left by interrupted writes. Only the command line
/// repairs (`fix`).
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Doctor {
    /// Repair what is safe to repair: renames to a free name, identical
    /// legacy copies, the missing side of a link, stale temp files
    /// (command line only).
    #[arg(long)]
    #[serde(skip)]
    pub fix: bool,
}

/// What doctor found (and repaired).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DoctorReport {
    /// Every finding; `fixable` ones the command line can repair.
    pub findings: Vec<Finding>,
    /// Findings not repaired in this run.
    pub left: usize,
}

impl Operation for Doctor {
    const COMMAND: &'static str = "doctor";
    const TOOL: &'static str = "coord_doctor";
    const SUMMARY: &'static str = "Find duplicate IDs, misnamed files, legacy copies, dangling references, one-sided links and stale temp files (read-only: repairs are a person's step).";
    const WRITES: bool = false;
    type Output = DoctorReport;

    fn run(&self, store: &Store) -> Result<DoctorReport> {
        let findings = crate::doctor::doctor(store, self.fix)?;
        let left = findings.iter().filter(|f| !f.fixed).count();
        Ok(DoctorReport { findings, left })
    }
}

fn default_jobs() -> u16 {
    8
}

/// Check dependencies: provider versions against constraints, validation
/// commands (only those approved on this machine, see `git coord trust`) and
/// HTTP health checks.
///
/// Over MCP the check is offline unless `online` is true: offline runs no
/// command and sends no request (commands and health checks are reported
/// unknown; versions come from the providers' checkouts). The command line
/// checks online unless told `offline`, and alone can write the verdicts
/// back (`update`) or run unapproved commands (`trust_all`).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDeps {
    /// Only dependencies of this consumer (name or nickname).
    #[arg(long)]
    #[serde(default)]
    pub consumer: Option<String>,
    /// Only dependencies on this provider (name or nickname).
    #[arg(long)]
    #[serde(default)]
    pub provider: Option<String>,
    /// Only these dependencies.
    #[arg(long = "id", value_name = "DEP-…", value_delimiter = ',')]
    #[serde(default)]
    pub ids: Vec<Id>,
    /// Check online: health checks (HTTP) and the commands trusted on this
    /// machine (untrusted commands never run). Offline by default.
    #[arg(skip = true)]
    #[serde(default)]
    pub online: bool,
    /// No commands and no network: commands and health checks are reported
    /// unknown, versions come from the providers' checkouts.
    #[arg(long)]
    #[serde(skip)]
    pub offline: bool,
    /// Timeout of each command and each HTTP request, in seconds.
    #[arg(long, value_name = "SECS", default_value = "10")]
    #[serde(default)]
    pub timeout: Seconds,
    /// Commands running at once; HTTP connections open at once are 4 × N
    /// (separately).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    #[serde(default = "default_jobs")]
    pub jobs: u16,
    /// Write each judged status that differs from the stored one.
    #[arg(long)]
    #[serde(skip)]
    pub update: bool,
    /// Run every validation command, approved or not (for CI on a checkout
    /// it already trusts; never on pull requests). Same as
    /// GIT_COORD_TRUST_ALL=1 or `git config --local coord.trustCommands all`.
    #[arg(long)]
    #[serde(skip)]
    pub trust_all: bool,
}

/// The verdicts, with their evidence.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CheckDepsReport {
    /// One result per dependency checked, in ID order.
    pub results: Vec<deps::DepResult>,
    /// Counts per verdict.
    pub summary: deps::Summary,
    /// Statuses written back (command line `update` only).
    pub updated: Vec<deps::Written>,
    /// Requests for trust that were ignored (a tracked setting, a bad value).
    pub warnings: Vec<String>,
}

impl CheckDepsReport {
    /// True when nothing is unsatisfied.
    pub fn passed(&self) -> bool {
        self.summary.unsatisfied == 0
    }
}

impl Operation for CheckDeps {
    const COMMAND: &'static str = "check-deps";
    const TOOL: &'static str = "coord_check_dependencies";
    const SUMMARY: &'static str = "Check inter-repo dependencies: versions against constraints, and online (`online: true`) health checks and the commands approved on this machine; offline by default.";
    const WRITES: bool = false;
    type Output = CheckDepsReport;

    fn run(&self, store: &Store) -> Result<CheckDepsReport> {
        if self.jobs == 0 {
            return Err(Error::Fields(vec![FieldError::new("jobs", "must be at least 1").value("0")]));
        }
        let loaded = store.load(&[Kind::Dependency])?;
        let consumer = self.consumer.as_deref().map(|c| repo_field(&loaded, "consumer", c)).transpose()?;
        let provider = self.provider.as_deref().map(|p| repo_field(&loaded, "provider", p)).transpose()?;
        let opts = CheckOptions {
            ids: self.ids.iter().map(|i| i.0.clone()).collect(),
            consumer,
            provider,
            offline: self.offline || !self.online,
            trust_all: self.trust_all,
            timeout: Duration::from_secs_f64(self.timeout.0),
            jobs: usize::from(self.jobs),
        };
        let report = deps::check(store, &loaded, &opts)?;
        let updated = if self.update { deps::apply_updates(store, &report)? } else { Vec::new() };
        let mut warnings = super::reports::load_warnings(&loaded.problems);
        warnings.extend(report.warnings);
        Ok(CheckDepsReport { results: report.results, summary: report.summary, updated, warnings })
    }
}
