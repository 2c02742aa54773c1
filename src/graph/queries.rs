//! Queries over the coordination graph: ready work, what blocks a repository
//! and what it blocks, workload, and repository validation (status reports
//! are in [`super::status`]). Each returns a serialisable report.

use super::{CoordGraph, NodeKind};
use crate::ecosystem::Registry;
use crate::model::Loaded;
use crate::model::id::natural_key;
use crate::model::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// A compact view of a todo in reports.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TodoRef {
    pub id: String,
    pub task: String,
    pub repo: String,
    pub status: String,
    pub priority: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_hours: Option<f64>,
}

impl TodoRef {
    pub(super) fn of(t: &Todo, reg: &Registry) -> Self {
        TodoRef {
            id: t.id.clone(),
            task: t.task.clone(),
            repo: reg.canonical(&t.repo).to_string(),
            status: t.status.as_str().to_string(),
            priority: t.priority.as_str().to_string(),
            assignee: t.assignee.clone(),
            estimated_hours: t.estimated_hours,
        }
    }
}

/// A compact view of an issue in reports.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct IssueRef {
    pub id: String,
    pub title: String,
    pub status: String,
    pub priority: String,
    pub repos: Vec<String>,
}

impl IssueRef {
    pub(super) fn of(i: &Issue, reg: &Registry) -> Self {
        IssueRef {
            id: i.id.clone(),
            title: i.title.clone(),
            status: i.status.as_str().to_string(),
            priority: i.priority.as_str().to_string(),
            repos: i.repos.iter().map(|r| reg.canonical(r).to_string()).collect(),
        }
    }
}

/// A compact view of a dependency in reports.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct DepRef {
    pub id: String,
    pub consumer: String,
    pub provider: String,
    #[serde(rename = "type")]
    pub dep_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_constraint: Option<String>,
    pub status: String,
}

impl DepRef {
    pub(super) fn of(d: &Dependency, reg: &Registry) -> Self {
        DepRef {
            id: d.id.clone(),
            consumer: reg.canonical(&d.consumer).to_string(),
            provider: reg.canonical(&d.provider).to_string(),
            dep_type: d.dep_type.as_str().to_string(),
            version_constraint: d.version_constraint.clone(),
            status: d.status.as_str().to_string(),
        }
    }
}

/// `ready` filters.
#[derive(Debug, Clone, Default)]
pub struct ReadyQuery {
    /// Any of these repositories (none: all).
    pub repo: Vec<String>,
    /// Assigned to any of these people (none: anyone).
    pub assignee: Vec<String>,
    pub limit: Option<usize>,
}

/// One ready todo.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReadyTodo {
    #[serde(flatten)]
    pub todo: TodoRef,
    /// Open todos and issues waiting on it, directly or transitively.
    pub unblocks: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
}

fn created_key(t: &Todo) -> (u8, String) {
    match &t.created {
        Some(Lenient::Known(d)) => (0, d.date().to_string()),
        _ => (1, String::new()),
    }
}

/// Pending todos with no active blocker: by priority, then by how much work
/// each unblocks, then oldest first.
pub fn ready(cg: &CoordGraph<'_>, q: &ReadyQuery) -> Vec<ReadyTodo> {
    let reg = &cg.loaded.registry;
    let want_repo: Vec<String> = q.repo.iter().map(|r| reg.canonical(r).to_string()).collect();
    let mut stamp = vec![0u32; cg.g.node_count()];
    let mut round = 0;
    let mut out: Vec<(u8, usize, (u8, String), &Todo)> = Vec::new();
    for t in cg.loaded.todos() {
        if !t.status.is(TodoStatus::Pending) {
            continue;
        }
        if !want_repo.is_empty() && !want_repo.iter().any(|r| reg.canonical(&t.repo).eq_ignore_ascii_case(r)) {
            continue;
        }
        if !q.assignee.is_empty()
            && !t.assignee.as_deref().is_some_and(|x| q.assignee.iter().any(|a| x.trim().eq_ignore_ascii_case(a)))
        {
            continue;
        }
        let Some(n) = cg.node(&t.id) else { continue };
        if cg.is_blocked(n) {
            continue;
        }
        round += 1;
        let unblocks = cg.unblocks_count(n, &mut stamp, round);
        out.push((t.priority.known().map_or(4, Priority::rank), unblocks, created_key(t), t));
    }
    out.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.1.cmp(&a.1))
            .then(a.2.cmp(&b.2))
            .then_with(|| natural_key(&a.3.id).cmp(&natural_key(&b.3.id)))
    });
    out.into_iter()
        .take(q.limit.unwrap_or(usize::MAX))
        .map(|(_, unblocks, _, t)| ReadyTodo {
            todo: TodoRef::of(t, reg),
            unblocks,
            created: t.created.as_ref().map(|c| match c {
                Lenient::Known(d) => d.to_string(),
                Lenient::Invalid(s) => s.clone(),
            }),
        })
        .collect()
}

/// A blocker of a todo, with its chain to the root cause.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BlockedTodo {
    #[serde(flatten)]
    pub todo: TodoRef,
    /// Active blockers, each as a chain `[blocker, its blocker, …, root]`.
    pub blockers: Vec<Vec<String>>,
}

/// What is blocking a repository.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BlockingReport {
    pub repo: String,
    /// Open issues that name the repository.
    pub open_issues: Vec<IssueRef>,
    /// Dependencies where it is the consumer and which are not satisfied.
    pub unsatisfied_dependencies: Vec<DepRef>,
    /// Its todos that have active blockers.
    pub blocked_todos: Vec<BlockedTodo>,
}

pub(super) fn names_repo(reg: &crate::ecosystem::Registry, list: &[String], repo: &str) -> bool {
    list.iter().any(|r| reg.same(r, repo))
}

/// What is blocking `repo` (canonical name).
pub fn blocking(cg: &CoordGraph<'_>, repo: &str) -> BlockingReport {
    let reg = &cg.loaded.registry;
    let open_issues = cg
        .loaded
        .issues()
        .filter(|i| i.is_open() && names_repo(reg, &i.repos, repo))
        .map(|x| IssueRef::of(x, reg))
        .collect();
    let unsatisfied_dependencies = cg
        .loaded
        .dependencies()
        .filter(|d| d.is_open() && reg.same(&d.consumer, repo))
        .map(|x| DepRef::of(x, reg))
        .collect();
    let mut blocked_todos = Vec::new();
    let mut first = crate::graph::FirstBlockers::default();
    for t in cg.loaded.todos().filter(|t| t.is_open() && reg.same(&t.repo, repo)) {
        let Some(n) = cg.node(&t.id) else { continue };
        let blockers: Vec<Vec<String>> =
            cg.active_blockers(n).into_iter().map(|b| cg.chain_to_root(b, &mut first)).collect();
        if !blockers.is_empty() {
            blocked_todos.push(BlockedTodo { todo: TodoRef::of(t, reg), blockers });
        }
    }
    BlockingReport { repo: repo.to_string(), open_issues, unsatisfied_dependencies, blocked_todos }
}

/// An entity of another repository waiting on this one.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Waiting {
    /// The waiting entity.
    pub id: String,
    pub kind: NodeKind,
    pub title: String,
    /// Its repositories.
    pub repos: Vec<String>,
    /// The open entities of this repository it waits on.
    pub waits_on: Vec<String>,
}

/// What a repository blocks.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct BlockedByReport {
    pub repo: String,
    /// Unsatisfied dependencies where it is the provider.
    pub dependencies: Vec<DepRef>,
    /// Repositories waiting on it (consumers of those dependencies and owners
    /// of the waiting entities).
    pub repos: Vec<String>,
    /// Entities of other repositories blocked by its open entities.
    pub entities: Vec<Waiting>,
}

fn entity_repos(loaded: &Loaded, id: &str) -> Vec<String> {
    if let Some(rec) = loaded.find_any(id) {
        match &rec.entity {
            Entity::Issue(i) => return i.repos.clone(),
            Entity::Todo(t) => return vec![t.repo.clone()],
            Entity::Plan(p) => return p.repos.clone(),
            Entity::Dependency(d) => return vec![d.consumer.clone()],
        }
    }
    Vec::new()
}

fn entity_title(loaded: &Loaded, id: &str) -> String {
    loaded
        .find_any(id)
        .map(|r| r.entity.title())
        .or_else(|| loaded.milestone(id).map(|(_, m)| m.name.clone()))
        .unwrap_or_default()
}

/// What `repo` (canonical name) blocks.
pub fn blocked_by(cg: &CoordGraph<'_>, repo: &str) -> BlockedByReport {
    let reg = &cg.loaded.registry;
    let dependencies: Vec<DepRef> = cg
        .loaded
        .dependencies()
        .filter(|d| d.is_open() && reg.same(&d.provider, repo))
        .map(|x| DepRef::of(x, reg))
        .collect();
    let mut repos: Vec<String> = dependencies.iter().map(|d| reg.canonical(&d.consumer).to_string()).collect();
    let mut waiting: BTreeMap<(String, u64, String), Waiting> = BTreeMap::new();
    let mut own: Vec<&str> = cg
        .loaded
        .issues()
        .filter(|i| i.is_open() && names_repo(reg, &i.repos, repo))
        .map(|i| i.id.as_str())
        .chain(cg.loaded.todos().filter(|t| t.is_open() && reg.same(&t.repo, repo)).map(|t| t.id.as_str()))
        .collect();
    // A milestone or plan with open work here blocks (the todos of what
    // depends on it) as long as that work is open: the inherited rule of
    // `active_blockers`, seen from the blocking side.
    let mut containers: Vec<&str> = Vec::new();
    for t in cg.loaded.todos().filter(|t| t.is_open() && reg.same(&t.repo, repo)) {
        if let Some((plan, m)) = t.milestone_id.as_deref().and_then(|m| cg.loaded.milestone(m)) {
            containers.extend([m.id.as_str(), plan.id.as_str()]);
        }
        containers.extend(t.plan_id.as_deref());
    }
    containers.extend(cg.loaded.plans().filter(|p| names_repo(reg, &p.repos, repo)).map(|p| p.id.as_str()));
    containers.sort_unstable();
    containers.dedup();
    own.extend(containers.iter().copied());
    for id in own {
        let Some(n) = cg.node(id) else { continue };
        let container = containers.binary_search(&id).is_ok();
        for b in cg.blocked(n) {
            let node = &cg.g[b];
            // From a milestone or plan, the waiting work is the todos it
            // holds back (listed themselves), not the milestone or plan.
            if node.finished || (container && matches!(node.kind, NodeKind::Milestone | NodeKind::Plan)) {
                continue;
            }
            let their: Vec<String> =
                entity_repos(cg.loaded, node.id).iter().map(|r| reg.canonical(r).to_string()).collect();
            if names_repo(reg, &their, repo) {
                continue; // waiting inside the same repository
            }
            repos.extend(their.iter().cloned());
            let (p, num, rest) = natural_key(node.id);
            waiting
                .entry((p, num, rest))
                .or_insert_with(|| Waiting {
                    id: node.id.to_string(),
                    kind: node.kind,
                    title: entity_title(cg.loaded, node.id),
                    repos: their.clone(),
                    waits_on: Vec::new(),
                })
                .waits_on
                .push(id.to_string());
        }
    }
    repos.sort();
    repos.dedup();
    BlockedByReport { repo: repo.to_string(), dependencies, repos, entities: waiting.into_values().collect() }
}

/// How `workload` groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkloadBy {
    #[default]
    Assignee,
    Repo,
}

/// One row of the workload.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WorkloadRow {
    /// Assignee or repository; `null` for unassigned work.
    pub key: Option<String>,
    pub open_todos: usize,
    pub in_progress: usize,
    /// Open todos stored `blocked` or with an active blocker (effective
    /// state; such a todo does not count as `in_progress`).
    pub blocked: usize,
    pub estimated_hours: f64,
    /// Open todos without an estimate.
    pub unestimated: usize,
}

/// Open todos and estimated hours per assignee or repository (unassigned
/// work last), heaviest first, of the open todos `keep` accepts. Blocked
/// is the effective state.
pub fn workload(cg: &CoordGraph<'_>, by: WorkloadBy, keep: &dyn Fn(&Todo) -> bool) -> Vec<WorkloadRow> {
    let loaded = cg.loaded;
    let mut rows: BTreeMap<Option<String>, WorkloadRow> = BTreeMap::new();
    for t in loaded.todos().filter(|t| t.is_open() && keep(t)) {
        let key = match by {
            WorkloadBy::Assignee => t.assignee.clone(),
            WorkloadBy::Repo => Some(loaded.registry.canonical(&t.repo).to_string()),
        };
        let row = rows.entry(key.clone()).or_insert(WorkloadRow {
            key,
            open_todos: 0,
            in_progress: 0,
            blocked: 0,
            estimated_hours: 0.0,
            unestimated: 0,
        });
        row.open_todos += 1;
        let waits = cg.node(&t.id).is_some_and(|n| cg.is_blocked(n));
        match t.status.known() {
            _ if waits => row.blocked += 1,
            Some(TodoStatus::InProgress) => row.in_progress += 1,
            Some(TodoStatus::Blocked) => row.blocked += 1,
            _ => {}
        }
        match t.estimated_hours {
            Some(h) => row.estimated_hours += h,
            None => row.unestimated += 1,
        }
    }
    let mut out: Vec<WorkloadRow> = rows.into_values().collect();
    out.sort_by(|a, b| {
        a.key
            .is_none()
            .cmp(&b.key.is_none())
            .then(b.estimated_hours.total_cmp(&a.estimated_hours))
            .then(a.key.cmp(&b.key))
    });
    out
}

/// One finding of `validate-repo`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RepoCheck {
    /// `ok` or `error`.
    pub status: &'static str,
    pub check: String,
    pub detail: String,
}

/// The result of `validate-repo`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RepoValidation {
    pub repo: String,
    pub ok: bool,
    pub checks: Vec<RepoCheck>,
    /// Entities that name the repository.
    pub entities: Vec<String>,
}

/// Validates a repository: registered, path exists and is a git repository,
/// every dependency naming it has a known counterpart.
pub fn validate_repo(loaded: &Loaded, root: &std::path::Path, name: &str) -> RepoValidation {
    let reg = &loaded.registry;
    let mut checks = Vec::new();
    let mut push = |ok: bool, check: &str, detail: String| {
        checks.push(RepoCheck { status: if ok { "ok" } else { "error" }, check: check.to_string(), detail })
    };
    let canonical = match reg.find(name) {
        Some(r) => {
            push(true, "registered", format!("`{}` is in settings/ecosystem.yaml", r.name));
            match reg.repo_path(r, root) {
                None => push(false, "path", "no `path` in the registry".into()),
                Some(p) if !p.exists() => push(false, "path", format!("{} does not exist", p.display())),
                Some(p) => {
                    push(true, "path", format!("{} exists", p.display()));
                    let is_git = p.join(".git").exists() || gix::open(&p).is_ok();
                    push(
                        is_git,
                        "git",
                        if is_git {
                            format!("{} is a git repository", p.display())
                        } else {
                            format!("{} is not a git repository", p.display())
                        },
                    );
                }
            }
            r.name.clone()
        }
        None => {
            push(
                false,
                "registered",
                reg.resolve(name).err().map_or_else(|| format!("`{name}` is not registered"), |e| e.to_string()),
            );
            name.to_string()
        }
    };
    for d in loaded.dependencies() {
        let (mine, other, role) = if reg.same(&d.consumer, &canonical) {
            (true, &d.provider, "provider")
        } else if reg.same(&d.provider, &canonical) {
            (true, &d.consumer, "consumer")
        } else {
            (false, &d.provider, "")
        };
        if !mine {
            continue;
        }
        let known = reg.is_empty() || reg.find(other).is_some();
        push(
            known,
            "dependency",
            format!("{}: {role} `{other}` {}", d.id, if known { "is registered" } else { "is not in the registry" }),
        );
    }
    let mut entities = Vec::new();
    for i in loaded.issues().filter(|i| names_repo(reg, &i.repos, &canonical)) {
        entities.push(i.id.clone());
    }
    for p in loaded.plans().filter(|p| names_repo(reg, &p.repos, &canonical)) {
        entities.push(p.id.clone());
    }
    for t in loaded.todos().filter(|t| reg.same(&t.repo, &canonical)) {
        entities.push(t.id.clone());
    }
    for d in loaded.dependencies().filter(|d| reg.same(&d.consumer, &canonical) || reg.same(&d.provider, &canonical)) {
        entities.push(d.id.clone());
    }
    let ok = checks.iter().all(|c| c.status == "ok");
    RepoValidation { repo: canonical, ok, checks, entities }
}
