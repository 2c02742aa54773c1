//! The typed operation API: one request type per operation, the single
//! definition that both front ends are built from.
//!
//! A request type derives `clap::Args` (the CLI's flags, help from its doc
//! comments) and `Deserialize + JsonSchema` (the MCP tool's parameters and
//! schema), with one field name for both: the flag is the field name in
//! kebab-case, the parameter is the field name. Values parse once, when the
//! request is built, through the types in [`types`] (aliases, dates, IDs).
//! [`Operation::run`] does the work through [`crate::ops`], the one write
//! path, and returns a serialisable output that the CLI renders and MCP
//! returns as structured content — so a field or an operation added here
//! appears in both front ends at once.
//!
//! Errors about request fields are [`crate::error::FieldError`]s naming the
//! field; the CLI shows it as its flag, MCP as its parameter.

pub mod checks;
pub mod dependencies;
pub mod deps;
pub mod entities;
pub mod exec;
pub mod fields;
pub mod gate;
pub mod groups;
pub mod history;
pub mod issues;
pub mod listing;
pub mod memory;
pub mod notes;
pub mod plans;
pub mod registry;
pub mod reports;
pub(crate) use reports::DropLater;
pub use reports::leave_to_exit;
pub mod search;
pub mod sync;
pub mod todos;
pub mod trends;
pub mod types;

use crate::error::Refusal;
use crate::error::{Error, FieldError, Result};
use crate::model::Entity;
use crate::ops::Outcome;
use crate::store::{Store, WriteMode};
use schemars::JsonSchema;
use serde::Serialize;

/// One operation: its request type is `Self`.
pub trait Operation: for<'de> serde::Deserialize<'de> + JsonSchema + Send + Sync + 'static {
    /// The CLI command (`create-plan`).
    const COMMAND: &'static str;
    /// The MCP tool (`coord_create_plan`).
    const TOOL: &'static str;
    /// One line saying what it does (the tool's description).
    const SUMMARY: &'static str;
    /// Whether it changes coordination data.
    const WRITES: bool;
    /// What it returns (one shape for CLI `--format json` and MCP).
    type Output: Serialize + JsonSchema + Send + 'static;
    /// Opens the store the operation works on, from the front end's
    /// directory (the CLI's `-C` or current directory, the MCP server's):
    /// the coordination repository found there, unless the request names
    /// another (`gate --coord`).
    fn open(&self, dir: &std::path::Path) -> Result<Store> {
        Store::open(dir)
    }
    /// Runs the operation on `store`.
    fn run(&self, store: &Store) -> Result<Self::Output>;
}

/// The result of a write, for every kind: what was written and where.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Written {
    /// The entity's ID.
    pub id: String,
    /// Its kind (`issue`, `plan`, `todo`, `dependency`).
    pub kind: String,
    /// Its file, relative to the coordination root.
    pub path: String,
    /// False when nothing had to change.
    pub changed: bool,
    /// A milestone the operation created or changed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    /// The entity as written, with the field names of its file.
    pub entity: serde_json::Value,
    /// Warnings about the write (an out-of-range ID seen while allocating).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Written {
    /// The answer to a write that had nothing to do: the entity as it is,
    /// `changed: false` (so `--format json` always prints the one shape).
    pub fn unchanged(store: &Store, rec: &crate::store::Record, milestone: Option<String>) -> Result<Written> {
        Ok(Written {
            id: rec.entity.id().to_string(),
            kind: rec.entity.kind().noun().to_string(),
            path: store.rel(rec.origin.path()).display().to_string(),
            changed: false,
            milestone,
            entity: entity_json(&rec.entity)?,
            warnings: Vec::new(),
        })
    }

    /// From a write's outcome.
    pub fn from_outcome(store: &Store, o: &Outcome) -> Result<Written> {
        let mut warnings: Vec<String> = o.warnings.iter().map(|w| w.to_string()).collect();
        if o.mode == WriteMode::Canonical {
            warnings.push(format!(
                "{} was rewritten in canonical form ({}): no minimal edit was possible",
                o.entity.id(),
                store.rel(&o.path).display()
            ));
        }
        Ok(Written {
            id: o.entity.id().to_string(),
            kind: o.entity.kind().noun().to_string(),
            path: store.rel(&o.path).display().to_string(),
            changed: o.mode != WriteMode::Unchanged,
            milestone: None,
            entity: entity_json(&o.entity)?,
            warnings,
        })
    }
}

/// An entity as JSON (its canonical mapping). A value JSON cannot hold (a
/// mapping key that is not a string) is an error naming the entity, never
/// a `null` or a truncated document.
pub fn entity_json(e: &Entity) -> Result<serde_json::Value> {
    serde_json::to_value(e.to_mapping())
        .map_err(|err| Error::from(Refusal::NotJson { id: e.id().to_string(), reason: err.to_string() }))
}

/// Collects field errors; `finish` turns them into one [`Error::Fields`].
#[derive(Debug, Default)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Records a problem.
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    /// Ok when nothing was recorded.
    pub fn finish(self) -> Result<()> {
        if self.0.is_empty() { Ok(()) } else { Err(Error::Fields(self.0)) }
    }
}

/// The MCP tool of the operation whose CLI command is `command` (the first,
/// when two share a command), so a hint can name an operation either way.
pub fn tool_of(command: &str) -> Option<&'static str> {
    let mut found: Option<&'static str> = None;
    macro_rules! find {
        ($($t:ty),+ $(,)?) => { $(
            if found.is_none() && <$t as Operation>::COMMAND == command {
                found = Some(<$t as Operation>::TOOL);
            }
        )+ };
    }
    crate::for_each_operation!(find);
    found
}

/// Calls `$m!` with every operation type, so the front ends and the parity
/// test enumerate the same list.
#[macro_export]
macro_rules! for_each_operation {
    ($m:ident) => {
        $m!(
            $crate::api::entities::ListIssues,
            $crate::api::entities::ShowIssue,
            $crate::api::issues::CreateIssue,
            $crate::api::issues::UpdateIssue,
            $crate::api::issues::CloseIssue,
            $crate::api::issues::ReopenIssue,
            $crate::api::entities::DeleteIssue,
            $crate::api::entities::ListPlans,
            $crate::api::entities::ShowPlan,
            $crate::api::plans::CreatePlan,
            $crate::api::plans::UpdatePlan,
            $crate::api::plans::AddMilestone,
            $crate::api::plans::UpdateMilestone,
            $crate::api::entities::ListTodos,
            $crate::api::entities::ShowTodo,
            $crate::api::todos::CreateTodo,
            $crate::api::todos::UpdateTodo,
            $crate::api::todos::CompleteTodo,
            $crate::api::entities::DeleteTodo,
            $crate::api::plans::DeletePlan,
            $crate::api::plans::DeleteMilestone,
            $crate::api::entities::ListDependencies,
            $crate::api::entities::ShowDependency,
            $crate::api::dependencies::CreateDependency,
            $crate::api::dependencies::UpdateDependency,
            $crate::api::entities::DeleteDependency,
            $crate::api::entities::Renumber,
            $crate::api::notes::Show,
            $crate::api::notes::Comment,
            $crate::api::registry::AddRepo,
            $crate::api::deps::CheckDeps,
            $crate::api::gate::Gate,
            $crate::api::exec::Execute,
            $crate::api::exec::Sweep,
            $crate::api::exec::RunStatusReq,
            $crate::api::exec::CancelRun,
            $crate::api::exec::Runs,
            $crate::api::exec::RunLog,
            $crate::api::sync::Sync,
            // Reports, history and checks (read-only).
            $crate::api::reports::Ready,
            $crate::api::reports::Blocking,
            $crate::api::reports::BlockedBy,
            $crate::api::reports::RepoStatus,
            $crate::api::reports::EcosystemStatus,
            $crate::api::reports::Roadmap,
            $crate::api::reports::Workload,
            $crate::api::reports::DepGraph,
            $crate::api::reports::ValidateRepo,
            $crate::exec::validate::ValidatePlan,
            $crate::api::reports::ListRepos,
            $crate::api::history::Log,
            $crate::api::history::Diff,
            $crate::api::history::Review,
            $crate::api::checks::Lint,
            $crate::api::checks::Doctor,
            // Memory: events, delivery, history search.
            $crate::api::memory::Events,
            $crate::api::memory::RebuildEvents,
            $crate::api::memory::MemoryPush,
            $crate::api::memory::MemoryStatus,
            $crate::api::memory::MemoryRetry,
            $crate::api::memory::SearchHistory,
            $crate::api::trends::GetTrends,
            $crate::api::search::Search,
        )
    };
}
