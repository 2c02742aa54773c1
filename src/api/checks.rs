//! Checks of the coordination data: lint (every problem with file, line and
//! field) and doctor (what hand merges leave behind, and the repairs). The
//! dependency checks are [`super::deps::CheckDeps`].

use super::Operation;
use crate::doctor::Finding;
use crate::error::Result;
use crate::model::Kind;
use crate::problem::Problem;
use crate::store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
        // Slim entities from the index: the checks read no free text.
        let loaded = super::reports::DropLater::new(store.load_for_graph(&Kind::ALL)?);
        // The files read for lines are freed beside the answer too.
        let lines = super::reports::DropLater::new(crate::store::Locator::default());
        let mut problems = crate::lint::lint(&loaded, &*lines);
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
/// in a file and in the legacy section, dangling references and temp
/// files left by interrupted writes. Only the command line
/// repairs (`fix`).
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Doctor {
    /// Repair what is safe to repair: renames to a free name, identical
    /// legacy copies, stale temp files
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
    const SUMMARY: &'static str = "Find duplicate IDs, misnamed files, legacy copies, dangling references and stale temp files (read-only: repairs are a person's step).";
    const WRITES: bool = false;
    type Output = DoctorReport;

    fn run(&self, store: &Store) -> Result<DoctorReport> {
        let findings = crate::doctor::doctor(store, self.fix)?;
        let left = findings.iter().filter(|f| !f.fixed).count();
        Ok(DoctorReport { findings, left })
    }
}
