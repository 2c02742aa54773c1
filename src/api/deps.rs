//! Dependency checks as an operation: `check-deps` on the CLI,
//! `coord_check_dependencies` over MCP — judging dependencies, optionally
//! writing changed statuses back (`update`) and raising, updating and
//! resolving one issue per unsatisfied dependency (`raise_issues`).
//!
//! The two front ends differ in one default only, on purpose: the CLI
//! checks online unless `--offline`, MCP is offline unless `online: true`.
//! Trust is never a parameter: `--trust-all` exists on the command line
//! only (an MCP client cannot send it), and everything else about trust is
//! read by [`crate::deps::trust::resolve`] from this machine.

use super::{FieldErrors, Operation};
use crate::deps::issues::IssueChange;
use crate::deps::{self, CheckOptions, DepResult, Summary};
use crate::error::{FieldError, Result};
use crate::model::Kind;
use crate::store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub(crate) fn default_timeout() -> f64 {
    10.0
}

fn default_jobs() -> u16 {
    8
}

/// Seconds for `--timeout`: a positive number up to a day.
pub fn parse_secs(s: &str) -> std::result::Result<f64, crate::error::ValueError> {
    match s.parse::<f64>() {
        Ok(v) if valid_secs(v) => Ok(v),
        _ => Err(crate::error::ValueError::new(s, super::types::SECONDS)),
    }
}

pub(crate) fn valid_secs(v: f64) -> bool {
    v > 0.0 && v.is_finite() && v <= 86_400.0
}

/// Check dependencies for real: provider versions against constraints,
/// validation commands (only trusted ones, see `git coord trust`) and HTTP
/// health checks.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDeps {
    /// Only dependencies of these consumers (names or nicknames;
    /// repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub consumer: Vec<String>,
    /// Only dependencies on these providers (names or nicknames;
    /// repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub provider: Vec<String>,
    /// Only these dependencies (repeatable or comma-separated).
    #[arg(long = "id", value_name = "DEP-…", value_delimiter = ',')]
    #[serde(default)]
    pub ids: Vec<String>,
    /// Check online: HTTP health checks and the validation commands trusted
    /// on this machine (an untrusted command never runs). Offline (the
    /// default here) runs no command and sends no request: commands and
    /// health checks are reported unknown, versions come from the providers'
    /// checkouts.
    #[arg(
        long = "offline",
        action = clap::ArgAction::SetFalse,
        help = "No commands and no network: commands and health checks are reported unknown, versions come \
                from the providers' checkouts",
        long_help = None
    )]
    #[serde(default)]
    pub online: bool,
    /// Timeout of each command and each HTTP request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_secs)]
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    /// Commands running at once; HTTP connections open at once
    /// are 4 × N (separately).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    #[serde(default = "default_jobs")]
    pub jobs: u16,
    /// Write each judged status that differs from the stored one.
    #[arg(long)]
    #[serde(default)]
    pub update: bool,
    /// Open one issue per unsatisfied dependency (linked by
    /// `metadata.dependency`), keep its evidence up to date, and resolve it
    /// with a dated note once the dependency is satisfied again; never a
    /// duplicate, and a second run changes nothing.
    #[arg(long)]
    #[serde(default)]
    pub raise_issues: bool,
    /// Run every validation command, approved or not (for CI on a checkout
    /// it already trusts; never on pull requests). Same as
    /// GIT_COORD_TRUST_ALL=1 or `git config --local coord.trustCommands all`.
    #[arg(long)]
    #[serde(skip)]
    pub trust_all: bool,
}

/// What `check-deps` found and wrote.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CheckDepsOutput {
    /// One verdict per dependency, with each method's evidence.
    pub results: Vec<DepResult>,
    pub summary: Summary,
    /// Statuses written back (with `update`).
    pub updated: Vec<deps::Written>,
    /// Issues created, updated, reopened, resolved or closed (with
    /// `raise_issues`; only those that changed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issues: Option<Vec<IssueChange>>,
    /// Requests for trust that were ignored (a tracked setting, a bad value).
    pub warnings: Vec<String>,
}

impl CheckDeps {
    /// The check options this request asks for.
    pub fn options(&self) -> Result<CheckOptions> {
        let mut errs = FieldErrors::default();
        if !valid_secs(self.timeout) {
            errs.push(
                FieldError::new("timeout", "out of range")
                    .value(self.timeout.to_string())
                    .expected(super::types::SECONDS),
            );
        }
        if self.jobs == 0 {
            errs.push(FieldError::new("jobs", "must be at least 1").value("0"));
        }
        errs.finish()?;
        Ok(CheckOptions {
            ids: self.ids.clone(),
            consumer: self.consumer.clone(),
            provider: self.provider.clone(),
            offline: !self.online,
            trust_all: self.trust_all,
            timeout: Duration::from_secs_f64(self.timeout),
            jobs: usize::from(self.jobs),
        })
    }
}

impl Operation for CheckDeps {
    const COMMAND: &'static str = "check-deps";
    const TOOL: &'static str = "coord_check_dependencies";
    const SUMMARY: &'static str = "Check inter-repo dependencies (versions against constraints; offline — no \
        commands, no network — unless online: true, and then only commands trusted on this machine run); \
        optionally write statuses back (update) and raise, update and resolve one issue per unsatisfied \
        dependency (raise_issues).";
    const WRITES: bool = true;
    type Output = CheckDepsOutput;

    fn run(&self, store: &Store) -> Result<CheckDepsOutput> {
        self.run_with(store, &crate::progress::NoProgress)
    }
}

impl CheckDeps {
    /// [`Operation::run`], reporting the checks' progress.
    pub fn run_with(&self, store: &Store, progress: &dyn crate::progress::Progress) -> Result<CheckDepsOutput> {
        let opts = self.options()?;
        if self.update || self.raise_issues {
            // Refuse before checking, not after: nothing would be written.
            crate::ops::ensure_enabled(store)?;
        }
        let loaded = store.load(&[Kind::Dependency])?;
        let report = deps::check_with(store, &loaded, &opts, progress)?;
        // A selector that matches nothing is an error, not an empty success
        // (an unknown `--id` already is, in the selection).
        if report.results.is_empty() && (!opts.consumer.is_empty() || !opts.provider.is_empty()) {
            let reg = &loaded.registry;
            let given: Vec<(&str, String)> = [("consumer", &opts.consumer), ("provider", &opts.provider)]
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (k, v.iter().map(|v| reg.canonical(v).to_string()).collect::<Vec<_>>().join(", ")))
                .collect();
            let (field, value) = given[0].clone();
            let mut err = crate::error::FieldError::new(field, format!("no dependency matches `{value}`")).value(value);
            if given.len() > 1 {
                err.problem.push_str(" together with");
                err.others = vec![given[1].0.to_string()];
            }
            return Err(crate::Error::Fields(vec![err]));
        }
        let updated = if self.update { deps::apply_updates(store, &report)? } else { Vec::new() };
        let issues = if self.raise_issues { Some(deps::issues::raise_issues(store, &report)?) } else { None };
        Ok(CheckDepsOutput {
            results: report.results,
            summary: report.summary,
            updated,
            issues,
            warnings: report.warnings,
        })
    }
}
