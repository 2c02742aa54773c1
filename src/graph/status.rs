//! Status reports over the coordination graph: counts of todos by
//! effective status (a blocked todo counts as blocked whatever its stored
//! status), progress per plan, one repository's status and the ecosystem's.

use super::CoordGraph;
use super::queries::{BlockedByReport, BlockingReport, DepRef, IssueRef, TodoRef, blocked_by, blocking, names_repo};
use crate::model::*;
use serde::Serialize;

/// Counts of todos by *effective* status: an open todo with an active
/// blocker (see [`super::blockers`]) counts as `blocked` whatever its stored
/// status, so `pending` and `in_progress` count only unblocked work.
#[derive(Debug, Clone, Default, Serialize, schemars::JsonSchema)]
pub struct TodoCounts {
    pub pending: usize,
    pub in_progress: usize,
    /// Stored `blocked`, or open with an active blocker.
    pub blocked: usize,
    pub completed: usize,
    pub cancelled: usize,
    /// Todos whose status is not a known value.
    pub other: usize,
}

impl TodoCounts {
    /// Counts `t`; true when it is ready: pending, in the graph and with no
    /// active blocker (its blockers are looked for once, here).
    fn add(&mut self, cg: &CoordGraph<'_>, t: &Todo) -> bool {
        let node = cg.node(&t.id);
        if t.is_open() && node.is_some_and(|n| cg.is_blocked(n)) {
            self.blocked += 1;
            return false;
        }
        match t.status.known() {
            Some(TodoStatus::Pending) => {
                self.pending += 1;
                return node.is_some();
            }
            Some(TodoStatus::InProgress) => self.in_progress += 1,
            Some(TodoStatus::Blocked) => self.blocked += 1,
            Some(TodoStatus::Completed) => self.completed += 1,
            Some(TodoStatus::Cancelled) => self.cancelled += 1,
            None => self.other += 1,
        }
        false
    }
}

/// A plan with milestone progress.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanProgress {
    pub id: String,
    pub title: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub milestones_completed: usize,
    pub milestones_total: usize,
}

impl PlanProgress {
    fn of(p: &Plan) -> Self {
        PlanProgress {
            id: p.id.clone(),
            title: p.title.clone(),
            status: p.status.as_str().to_string(),
            target: p.target_date().map(|d| d.to_string()),
            milestones_completed: p.milestone_progress().0,
            milestones_total: p.milestone_progress().1,
        }
    }
}

/// One repository's coordination status.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RepoStatus {
    pub repo: String,
    pub open_issues: Vec<IssueRef>,
    pub todos: TodoCounts,
    pub open_todos: Vec<TodoRef>,
    /// Dependencies where it is the consumer.
    pub depends_on: Vec<DepRef>,
    /// Dependencies where it is the provider.
    pub depended_on_by: Vec<DepRef>,
    pub blocking: BlockingReport,
    pub blocked_by: BlockedByReport,
    pub plans: Vec<PlanProgress>,
}

/// The status of `repo` (canonical name).
pub fn repo_status(cg: &CoordGraph<'_>, repo: &str) -> RepoStatus {
    let reg = &cg.loaded.registry;
    let mut todos = TodoCounts::default();
    let mut open_todos = Vec::new();
    for t in cg.loaded.todos().filter(|t| reg.same(&t.repo, repo)) {
        let _ = todos.add(cg, t);
        if t.is_open() {
            open_todos.push(TodoRef::of(t, reg));
        }
    }
    // Plans with a todo here, found once (not a scan of every todo per plan).
    let todo_plans: rustc_hash::FxHashSet<&str> =
        cg.loaded.todos().filter(|t| reg.same(&t.repo, repo)).filter_map(|t| t.plan_id.as_deref()).collect();
    let plans = cg
        .loaded
        .plans()
        .filter(|p| names_repo(reg, &p.repos, repo) || todo_plans.contains(p.id.as_str()))
        .map(PlanProgress::of)
        .collect();
    RepoStatus {
        repo: repo.to_string(),
        open_issues: cg
            .loaded
            .issues()
            .filter(|i| i.is_open() && names_repo(reg, &i.repos, repo))
            .map(|x| IssueRef::of(x, reg))
            .collect(),
        todos,
        open_todos,
        depends_on: cg
            .loaded
            .dependencies()
            .filter(|d| reg.same(&d.consumer, repo))
            .map(|x| DepRef::of(x, reg))
            .collect(),
        depended_on_by: cg
            .loaded
            .dependencies()
            .filter(|d| reg.same(&d.provider, repo))
            .map(|x| DepRef::of(x, reg))
            .collect(),
        blocking: blocking(cg, repo),
        blocked_by: blocked_by(cg, repo),
        plans,
    }
}

/// The ecosystem view.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EcosystemStatus {
    /// `healthy` or `degraded`.
    pub health: &'static str,
    /// Why it is degraded (empty when healthy).
    pub reasons: Vec<String>,
    pub repos: usize,
    pub active_plans: Vec<PlanProgress>,
    /// Open critical and high-priority issues.
    pub critical_blockers: Vec<IssueRef>,
    /// Dependencies that are not satisfied (unsatisfied or unknown).
    pub unsatisfied_dependencies: Vec<DepRef>,
    pub todos: TodoCounts,
    /// Pending todos with no active blocker.
    pub ready_todos: usize,
    pub open_issues: usize,
}

/// The ecosystem's coordination status.
pub fn ecosystem_status(cg: &CoordGraph<'_>) -> EcosystemStatus {
    let loaded = cg.loaded;
    let reg = &loaded.registry;
    let mut todos = TodoCounts::default();
    let ready_todos = loaded.todos().filter(|t| todos.add(cg, t)).count();
    let critical_blockers: Vec<IssueRef> = loaded
        .issues()
        .filter(|i| i.is_open() && matches!(i.priority.known(), Some(Priority::Critical | Priority::High)))
        .map(|x| IssueRef::of(x, reg))
        .collect();
    let unsatisfied_dependencies: Vec<DepRef> =
        loaded.dependencies().filter(|d| d.is_open()).map(|x| DepRef::of(x, reg)).collect();
    let mut reasons = Vec::new();
    let critical = critical_blockers.iter().filter(|i| i.priority == "critical").count();
    if critical > 0 {
        reasons.push(format!("{critical} open critical issue(s)"));
    }
    let unsatisfied = unsatisfied_dependencies.iter().filter(|d| d.status == "unsatisfied").count();
    if unsatisfied > 0 {
        reasons.push(format!("{unsatisfied} unsatisfied dependenc{}", if unsatisfied == 1 { "y" } else { "ies" }));
    }
    let errors = loaded.problems.iter().filter(|p| p.is_error()).count();
    if errors > 0 {
        reasons.push(format!("{errors} data error(s) (run `git coord lint`)"));
    }
    EcosystemStatus {
        health: if reasons.is_empty() { "healthy" } else { "degraded" },
        reasons,
        repos: loaded.registry.repos.len(),
        active_plans: loaded.plans().filter(|p| p.status.is(PlanStatus::Active)).map(PlanProgress::of).collect(),
        critical_blockers,
        unsatisfied_dependencies,
        todos,
        ready_todos,
        open_issues: loaded.issues().filter(|i| i.is_open()).count(),
    }
}
