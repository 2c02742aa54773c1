//! The gate of a member repository's CI as an operation: `gate REPO` on the
//! CLI, `coord_gate` over MCP (see [`crate::gate`]).

use super::Operation;
use super::deps::{default_timeout, parse_secs, valid_secs};
use crate::coord_source::{self, Source};
use crate::deps::CheckOptions;
use crate::deps::trust::{self, TrustPolicy};
use crate::error::{FieldError, Result};
use crate::gate::{GateOptions, GateReport};
use crate::store::Store;
use schemars::JsonSchema;
use serde::Deserialize;
use std::path::Path;
use std::time::Duration;

/// Gate a member repository: fails when it has open critical issues,
/// unsatisfied dependencies where it is the consumer, or (with `blocking`)
/// open work that blocks other repositories and is overdue.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    /// The member repository (name or nickname in the ecosystem registry).
    #[arg(value_name = "REPO")]
    pub repo: String,
    /// The coordination repository: a checkout's directory, a bare
    /// repository, or a URL (https, ssh, git, file, or git@host:path),
    /// cloned shallowly into the user's cache and refreshed by fetch.
    /// Default: the coordination repository found from the current
    /// directory.
    #[arg(long, value_name = "DIR|URL")]
    #[serde(default)]
    pub coord: Option<String>,
    /// Also fail on the repository's open work that blocks other
    /// repositories and is past its date.
    #[arg(long)]
    #[serde(default)]
    pub blocking: bool,
    /// Check online: HTTP health checks and the validation commands trusted
    /// on this machine. Offline (the default here) runs no command and
    /// sends no request.
    #[arg(
        long = "offline",
        action = clap::ArgAction::SetFalse,
        help = "No commands and no network for the dependency checks (the clone of a URL is still fetched)",
        long_help = None
    )]
    #[serde(default)]
    pub online: bool,
    /// Timeout of each command and each HTTP request, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_secs)]
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    /// Run every validation command, approved or not: for a job that trusts
    /// the coordination repository (never on its pull requests). Same as
    /// GIT_COORD_TRUST_ALL=1.
    #[arg(long)]
    #[serde(skip)]
    pub trust_all: bool,
}

impl Gate {
    fn source(&self, dir: &Path) -> Result<Option<Source>> {
        self.coord.as_deref().map(|c| coord_source::resolve(c, dir)).transpose()
    }
}

impl Operation for Gate {
    const COMMAND: &'static str = "gate";
    const TOOL: &'static str = "coord_gate";
    const SUMMARY: &'static str = "Gate a member repository (for its CI): fails on open critical issues naming it, \
        its unsatisfied dependencies (as consumer) and, with blocking: true, its overdue work that blocks other \
        repositories; coord may name another coordination repository (directory or URL, cloned to a cache).";
    const WRITES: bool = false;
    type Output = GateReport;

    fn open(&self, dir: &Path) -> Result<Store> {
        match self.source(dir)? {
            Some(s) => Store::open(s.dir()),
            None => Store::open(dir),
        }
    }

    fn run(&self, store: &Store) -> Result<GateReport> {
        if !valid_secs(self.timeout) {
            return Err(crate::Error::Fields(vec![
                FieldError::new("timeout", "out of range")
                    .value(self.timeout.to_string())
                    .expected("a number of seconds between 0 and 86400"),
            ]));
        }
        let opts = GateOptions {
            repo: self.repo.clone(),
            blocking: self.blocking,
            check: CheckOptions {
                offline: !self.online,
                trust_all: self.trust_all,
                timeout: Duration::from_secs_f64(self.timeout),
                ..CheckOptions::default()
            },
            today: crate::model::date::now().date_naive(),
        };
        let mut report = crate::gate::gate(store, &opts)?;
        let clone = coord_source::cache_root().is_ok_and(|c| store.root.dir.starts_with(c.join("coord")));
        report.coordination = match (&self.coord, clone) {
            (Some(url), true) => crate::display::shown(url),
            _ => crate::display::escape_controls(&store.root.dir.display().to_string()).into_owned(),
        };
        let untrusted =
            report.dependencies.iter().flat_map(|d| &d.methods).any(|m| m.method == "command" && m.untrusted);
        if clone && untrusted && !matches!(trust::resolve(store, self.trust_all)?.policy, TrustPolicy::All(_)) {
            report.warnings.push(
                "the coordination data is a fresh clone, which carries no approvals: validation commands run \
                 only with GIT_COORD_TRUST_ALL=1 or `trust_all`, in a job that trusts the coordination repository"
                    .into(),
            );
        }
        Ok(report)
    }
}
