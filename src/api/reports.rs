//! Read-only reports over the coordination graph: ready work, what blocks a
//! repository and what it blocks, repository and ecosystem status, the
//! roadmap, workload, the dependency graph, repository validation and the
//! registry. Each loads only the kinds it needs, builds the graph once and
//! returns a report object; entities that could not be loaded are named in
//! its `warnings`.

use super::Operation;
use super::types::{GraphFormat, Id};
use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::graph::{self, CoordGraph, DepGraphKind, DepGraphQuery, ReadyQuery, WorkloadBy};
use crate::model::Kind;
use crate::store::{Loaded, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Loads `kinds`, with the load warnings.
fn load(store: &Store, kinds: &[Kind]) -> Result<(DropLater<Loaded>, Vec<String>)> {
    // Slim entities from the index: no report reads the free text.
    let loaded = store.load_for_graph(kinds)?;
    let warnings = super::entities::load_warnings(&loaded.problems);
    Ok((DropLater::new(loaded), warnings))
}

/// A value freed on another thread once its owner is done with it: a
/// report over 100,000 entities answers without waiting for hundreds of
/// thousands of strings to be freed (a command line that exits meanwhile
/// leaves that to the system; a server frees them beside its next request).
pub(crate) struct DropLater<T: Send + 'static>(Option<T>);

impl<T: Send + 'static> DropLater<T> {
    pub(crate) fn new(value: T) -> Self {
        DropLater(Some(value))
    }
}

impl<T: Send + 'static> std::ops::Deref for DropLater<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_ref().expect("a value until dropped")
    }
}

/// Set by a front end that answers one request and exits (see
/// [`leave_to_exit`]).
static LEAVE_TO_EXIT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Tells [`DropLater`] that this process answers one request and exits:
/// values it would free are left to the exit, which returns the whole heap
/// at once (freeing them one by one would contend with the output for the
/// allocator). Never for a process that serves many requests.
pub fn leave_to_exit() {
    LEAVE_TO_EXIT.store(true, std::sync::atomic::Ordering::Relaxed);
}

impl<T: Send + 'static> Drop for DropLater<T> {
    fn drop(&mut self) {
        if LEAVE_TO_EXIT.load(std::sync::atomic::Ordering::Relaxed) {
            std::mem::forget(self.0.take());
            return;
        }
        if let Some(value) = self.0.take()
            && let Err(e) = std::thread::Builder::new().name("free".into()).spawn(move || drop(value))
        {
            // No thread to be had: the value was moved into the closure
            // that failed to start, and is freed with it, here.
            tracing::debug!(error = %e, "freeing in place");
        }
    }
}

/// The canonical name of the repository `name` given in `field`.
pub(crate) fn repo_field(loaded: &Loaded, field: &str, name: &str) -> Result<String> {
    loaded.registry.resolve(name).map_err(|e| Error::Fields(vec![e.on_field(field)]))
}

/// The loaded plans `ids` name, by their stored IDs (`plan-1` is
/// PLAN-001, as everywhere); an ID that names no plan is an error.
fn plan_ids(store: &Store, loaded: &Loaded, ids: &[Id]) -> Result<Vec<String>> {
    ids.iter().map(|p| crate::ops::resolve_loaded(store, loaded, Kind::Plan, &p.0)).collect()
}

/// A report and what loading skipped.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WithWarnings<T> {
    /// The report.
    #[serde(flatten)]
    pub report: T,
    /// Entities that could not be loaded (left out of the report), and
    /// overridden legacy entries.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn with<T>(report: T, warnings: Vec<String>) -> WithWarnings<T> {
    WithWarnings { report, warnings }
}

/// Pending todos nothing active blocks, best first: "what can I do now".
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ready {
    /// Only todos of these repositories (names or nicknames; repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub repo: Vec<String>,
    /// Only todos assigned to one of these people (repeatable,
    /// comma-separated; `@me` as for the lists).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub assignee: Vec<String>,
    /// At most this many.
    #[arg(long)]
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Ready todos: by priority, then by how much each unblocks, then oldest.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReadyList {
    /// How many todos are listed.
    pub count: usize,
    /// The todos.
    pub items: Vec<graph::ReadyTodo>,
    /// Entities that could not be loaded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Operation for Ready {
    const COMMAND: &'static str = "ready";
    const TOOL: &'static str = "coord_ready_todos";
    const SUMMARY: &'static str =
        "Todos that can start now (no unfinished blocker), most urgent and most unblocking first.";
    const WRITES: bool = false;
    type Output = ReadyList;

    fn run(&self, store: &Store) -> Result<ReadyList> {
        // Only issues and todos block todos.
        let (loaded, warnings) = load(store, &[Kind::Issue, Kind::Plan, Kind::Todo])?;
        let repo = self.repo.iter().map(|r| repo_field(&loaded, "repo", r)).collect::<Result<Vec<_>>>()?;
        let assignee = super::listing::assignees(store, "assignee", &self.assignee)?.unwrap_or_default();
        let cg = CoordGraph::build(&loaded);
        let items = graph::ready(&cg, &ReadyQuery { repo, assignee, limit: self.limit });
        Ok(ReadyList { count: items.len(), items, warnings })
    }
}

/// What is blocking a repository: open issues naming it, unsatisfied
/// dependencies it consumes, and its todos' active blockers (each with the
/// chain to the root cause).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Blocking {
    /// Repository name or nickname.
    #[arg(value_name = "REPO")]
    pub repo: String,
}

impl Operation for Blocking {
    const COMMAND: &'static str = "blocking";
    const TOOL: &'static str = "coord_get_blocking_issues";
    const SUMMARY: &'static str = "What is blocking a repository: open issues naming it, dependencies it waits on, its blocked todos with their blocker chains.";
    const WRITES: bool = false;
    type Output = WithWarnings<graph::BlockingReport>;

    fn run(&self, store: &Store) -> Result<Self::Output> {
        let (loaded, warnings) = load(store, &Kind::ALL)?;
        let repo = repo_field(&loaded, "repo", &self.repo)?;
        Ok(with(graph::blocking(&CoordGraph::build(&loaded), &repo), warnings))
    }
}

/// What a repository blocks: consumers of its unsatisfied dependencies and
/// entities of other repositories waiting on its open work.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockedBy {
    /// Repository name or nickname.
    #[arg(value_name = "REPO")]
    pub repo: String,
}

impl Operation for BlockedBy {
    const COMMAND: &'static str = "blocked-by";
    const TOOL: &'static str = "coord_blocked_by";
    const SUMMARY: &'static str =
        "What a repository blocks: its unsatisfied dependencies' consumers and other repositories' work waiting on it.";
    const WRITES: bool = false;
    type Output = WithWarnings<graph::BlockedByReport>;

    fn run(&self, store: &Store) -> Result<Self::Output> {
        let (loaded, warnings) = load(store, &Kind::ALL)?;
        let repo = repo_field(&loaded, "repo", &self.repo)?;
        Ok(with(graph::blocked_by(&CoordGraph::build(&loaded), &repo), warnings))
    }
}

/// Coordination status of one repository: todo counts, open issues and
/// todos, dependencies both ways, plans, what blocks it and what it blocks.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoStatus {
    /// Repository name or nickname.
    #[arg(long)]
    pub repo: String,
}

impl Operation for RepoStatus {
    const COMMAND: &'static str = "status";
    const TOOL: &'static str = "coord_get_repo_status";
    const SUMMARY: &'static str =
        "Status of one repository: todo counts, open issues, dependencies, plans, blockers and what it blocks.";
    const WRITES: bool = false;
    type Output = WithWarnings<graph::RepoStatus>;

    fn run(&self, store: &Store) -> Result<Self::Output> {
        let (loaded, warnings) = load(store, &Kind::ALL)?;
        let repo = repo_field(&loaded, "repo", &self.repo)?;
        Ok(with(graph::repo_status(&CoordGraph::build(&loaded), &repo), warnings))
    }
}

/// Coordination status of the whole ecosystem: health (with reasons),
/// counts, active plans, critical blockers, unsatisfied dependencies.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EcosystemStatus {}

impl Operation for EcosystemStatus {
    const COMMAND: &'static str = "status";
    const TOOL: &'static str = "coord_ecosystem_status";
    const SUMMARY: &'static str = "Status of the whole ecosystem: health with reasons, counts, active plans, critical blockers, unsatisfied dependencies.";
    const WRITES: bool = false;
    type Output = WithWarnings<graph::EcosystemStatus>;

    fn run(&self, store: &Store) -> Result<Self::Output> {
        let (loaded, warnings) = load(store, &Kind::ALL)?;
        Ok(with(graph::ecosystem_status(&CoordGraph::build(&loaded)), warnings))
    }
}

/// Active plans with milestones, progress, the critical path and projected
/// finish dates (flagging plans and milestones that will miss their date).
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Roadmap {
    /// Only these plans, whatever their status (repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub plan: Vec<Id>,
}

impl Operation for Roadmap {
    const COMMAND: &'static str = "roadmap";
    const TOOL: &'static str = "coord_roadmap";
    const SUMMARY: &'static str =
        "Roadmap of active plans (or one plan): milestones, progress, critical path, projected dates.";
    const WRITES: bool = false;
    type Output = WithWarnings<graph::Roadmap>;

    fn run(&self, store: &Store) -> Result<Self::Output> {
        // Critical paths run through todos only; milestones live in plan files.
        let (loaded, warnings) = load(store, &[Kind::Issue, Kind::Plan, Kind::Todo])?;
        let plans = plan_ids(store, &loaded, &self.plan)?;
        let cg = CoordGraph::build(&loaded);
        let today = crate::model::date::now().date_naive();
        Ok(with(graph::roadmap(&cg, today, store.settings.hours_per_day, &plans), warnings))
    }
}

/// Open todos and estimated hours per assignee or repository, plus
/// unassigned work.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// Group by `assignee` (default) or `repo`.
    #[arg(long, default_value = "assignee")]
    #[serde(default)]
    pub by: WorkloadBy,
    /// Only todos of these repositories (names or nicknames; repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub repo: Vec<String>,
    /// Only todos assigned to one of these people (repeatable,
    /// comma-separated; `@me` as for the lists).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub assignee: Vec<String>,
}

/// Open work per assignee or repository, heaviest first, unassigned last.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WorkloadReport {
    /// How the rows are grouped.
    pub by: WorkloadBy,
    /// One row per assignee (`key` null for unassigned work) or repository.
    pub rows: Vec<graph::WorkloadRow>,
    /// Entities that could not be loaded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Operation for Workload {
    const COMMAND: &'static str = "workload";
    const TOOL: &'static str = "coord_workload";
    const SUMMARY: &'static str =
        "Open todos and estimated hours per assignee (or per repository), unassigned work last.";
    const WRITES: bool = false;
    type Output = WorkloadReport;

    fn run(&self, store: &Store) -> Result<WorkloadReport> {
        let (loaded, warnings) = load(store, &[Kind::Issue, Kind::Plan, Kind::Todo])?;
        let repos = self.repo.iter().map(|r| repo_field(&loaded, "repo", r)).collect::<Result<Vec<_>>>()?;
        let who = super::listing::assignees(store, "assignee", &self.assignee)?;
        let reg = &loaded.registry;
        let keep = |t: &crate::model::Todo| {
            (repos.is_empty() || repos.iter().any(|r| reg.same(&t.repo, r)))
                && who.as_ref().is_none_or(|w| {
                    t.assignee.as_deref().is_some_and(|a| w.iter().any(|x| x.eq_ignore_ascii_case(a.trim())))
                })
        };
        let rows = graph::workload(&CoordGraph::build(&loaded), self.by, &keep);
        Ok(WorkloadReport { by: self.by, rows, warnings })
    }
}

/// The repository dependency graph (consumer → provider) or the entity
/// blocking graph (blocker → blocked), as text, DOT, Mermaid or data.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DepGraph {
    /// `repos` (dependencies between repositories, the default) or
    /// `entities` (what blocks what).
    #[arg(long, default_value = "repos")]
    #[serde(default)]
    pub kind: DepGraphKind,
    /// Only what touches one of these repositories (repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub repo: Vec<String>,
    /// Only what belongs to one of these plans (repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub plan: Vec<Id>,
    /// `text` (one edge per line, the default), `dot`, `mermaid`, or `json`
    /// / `yaml` for the nodes and edges as data.
    #[arg(long, default_value = "text")]
    #[serde(default)]
    pub format: GraphFormat,
}

/// The graph: rendered (`format` and `text`) or as data (`nodes`, `edges`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DepGraphOutput {
    /// Which graph.
    pub kind: DepGraphKind,
    /// The rendering, unless the graph was asked for as data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<GraphFormat>,
    /// The rendered graph (text, DOT or Mermaid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The nodes (format `json`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<graph::export::GraphNode>>,
    /// The edges (format `json`); `active` marks unsatisfied dependencies and
    /// edges whose blocker is unfinished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edges: Option<Vec<graph::export::GraphEdge>>,
    /// Entities that could not be loaded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Operation for DepGraph {
    const COMMAND: &'static str = "dep-graph";
    const TOOL: &'static str = "coord_dependency_graph";
    const SUMMARY: &'static str =
        "The repository dependency graph (or the entity blocking graph) as text, DOT, Mermaid or nodes and edges.";
    const WRITES: bool = false;
    type Output = DepGraphOutput;

    fn run(&self, store: &Store) -> Result<DepGraphOutput> {
        let (loaded, warnings) = load(store, &Kind::ALL)?;
        let repo = self.repo.iter().map(|r| repo_field(&loaded, "repo", r)).collect::<Result<Vec<_>>>()?;
        let plan = plan_ids(store, &loaded, &self.plan)?;
        let cg = CoordGraph::build(&loaded);
        let q = DepGraphQuery { kind: self.kind, repo, plan };
        let g = graph::dep_graph(&cg, &q);
        let text = match self.format {
            GraphFormat::Json | GraphFormat::Yaml => None,
            GraphFormat::Text => Some(g.to_text()),
            GraphFormat::Dot => Some(g.to_dot()),
            GraphFormat::Mermaid => Some(g.to_mermaid()),
        };
        Ok(match text {
            Some(text) => DepGraphOutput {
                kind: g.kind,
                format: Some(self.format),
                text: Some(text),
                nodes: None,
                edges: None,
                warnings,
            },
            None => DepGraphOutput {
                kind: g.kind,
                format: None,
                text: None,
                nodes: Some(g.nodes),
                edges: Some(g.edges),
                warnings,
            },
        })
    }
}

/// Check a repository: registered, its path exists and is a git repository,
/// every dependency naming it has a known counterpart (`ok` false otherwise).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateRepo {
    /// Repository name or nickname.
    #[arg(value_name = "NAME")]
    pub name: String,
}

impl Operation for ValidateRepo {
    const COMMAND: &'static str = "validate-repo";
    const TOOL: &'static str = "coord_validate_repo";
    const SUMMARY: &'static str =
        "Check a repository's registration, path, git checkout and dependencies; `ok` is false on any problem.";
    const WRITES: bool = false;
    type Output = WithWarnings<graph::RepoValidation>;

    fn run(&self, store: &Store) -> Result<Self::Output> {
        let (loaded, warnings) = load(store, &Kind::ALL)?;
        Ok(with(graph::validate_repo(&loaded, &store.root.dir, &self.name), warnings))
    }
}

/// The repositories of the ecosystem registry (settings/ecosystem.yaml).
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRepos {
    /// Only repositories with one of these roles (repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub role: Vec<String>,
    /// Only repositories with one of these tags (repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub tag: Vec<String>,
}

/// Registered repositories, in registry order.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RepoList {
    /// How many repositories are listed.
    pub count: usize,
    /// Each repository's registry entry with its `name` and `nicknames`
    /// (always a list, `nickname` merged in), and `role`, `path`, `tags`,
    /// `description`, … as written.
    pub items: Vec<serde_json::Value>,
    /// Problems loading the registry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Operation for ListRepos {
    const COMMAND: &'static str = "list-repos";
    const TOOL: &'static str = "coord_list_repos";
    const SUMMARY: &'static str =
        "List the ecosystem's repositories (names, nicknames, roles, paths), optionally by role or tag.";
    const WRITES: bool = false;
    type Output = RepoList;

    fn run(&self, store: &Store) -> Result<RepoList> {
        let (loaded, warnings) = load(store, &[])?;
        let mut items = Vec::new();
        for r in &loaded.registry.repos {
            if (!self.role.is_empty() && !self.role.iter().any(|role| r.role.as_deref() == Some(role.as_str())))
                || (!self.tag.is_empty() && !self.tag.iter().any(|t| r.tags.contains(t)))
            {
                continue;
            }
            // One shape whatever was written: `nickname: sb` and
            // `nicknames: [sb]` both come out as `nicknames`.
            let mut m = r.raw.clone();
            m.remove("nickname");
            m.insert("name".into(), r.name.clone().into());
            m.insert("nicknames".into(), r.nicknames.clone().into());
            items.push(
                serde_json::to_value(&m)
                    .map_err(|e| Error::from(Refusal::RepoNotJson { name: r.name.clone(), reason: e.to_string() }))?,
            );
        }
        Ok(RepoList { count: items.len(), items, warnings })
    }
}
