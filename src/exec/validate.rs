//! `git coord validate --plan P`: is a plan ready to run, and which of its
//! milestones are done? The Python original marked every criterion met;
//! this checks each thing for real and says which check failed.
//!
//! Readiness (each an `ok`/`error` check): lint-clean plan entities, no
//! blocking cycle through the plan's work, every plan repository registered
//! and a git checkout, milestone dates ordered within the plan and after the
//! milestones they depend on, the roadmap projection within the target, no
//! unestimated open work, the plan repositories' dependencies satisfied
//! (`check-deps`, offline unless `online`), and — when execution is enabled —
//! every open todo resolving to a command trusted on this machine.
//!
//! Completion, per milestone: its linked todos finished, each `deliverables`
//! path present at HEAD of one of the plan's repositories (read with gix, not
//! the work tree), each plain-text criterion `manual` (never met by itself)
//! and each `{text, check}` criterion run through the executor (a one-task
//! command-mode run in the plan's first repository, so trust rules and run
//! records apply). `update` marks met milestones completed through the same
//! write path as `update-milestone`. The plan is valid when every readiness
//! check passes.

use crate::api::Operation;
use crate::api::types::Id;
use crate::error::{Error, Result};
use crate::exec::scheduler::{self, Cancel, Start};
use crate::exec::{RunOptions, Selection, TaskStatus};
use crate::graph::CoordGraph;
use crate::model::{Entity, Kind, Lenient, Plan, TodoStatus};
use crate::store::{Loaded, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;

/// Check a plan for real: readiness (lint, cycles, repositories, dates,
/// projection, estimates, dependencies, trust) and milestone completion.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidatePlan {
    /// The plan (PLAN-…).
    #[arg(long)]
    pub plan: Id,
    /// Check dependencies online (trusted commands, health checks).
    #[arg(long)]
    #[serde(default)]
    pub online: bool,
    /// Mark milestones whose completion is met `completed`.
    #[arg(long)]
    #[serde(default)]
    pub update: bool,
}

/// One readiness check.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanCheck {
    /// `lint`, `cycles`, `repos`, `dates`, `projection`, `estimates`,
    /// `dependencies`, `trust`.
    pub check: String,
    /// `ok` or `error`.
    pub status: String,
    /// What was found.
    pub detail: String,
}

/// One completion item of a milestone.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CompletionItem {
    /// `todos`, `deliverable`, `criterion`.
    pub kind: String,
    pub text: String,
    /// `met`, `unmet`, `manual`, or `untrusted`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A milestone's completion.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MilestoneCompletion {
    pub id: String,
    /// Its stored status.
    pub status: String,
    /// Every item met (no manual or unmet item).
    pub met: bool,
    pub items: Vec<CompletionItem>,
}

/// What `validate --plan` found.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlanValidation {
    pub plan: String,
    /// Every readiness check passed.
    pub valid: bool,
    pub checks: Vec<PlanCheck>,
    pub milestones: Vec<MilestoneCompletion>,
    /// Milestones marked completed (with `update`).
    pub updated: Vec<String>,
}

fn check(name: &str, problems: Vec<String>, ok: &str) -> PlanCheck {
    PlanCheck {
        check: name.into(),
        status: if problems.is_empty() { "ok" } else { "error" }.into(),
        detail: if problems.is_empty() { ok.into() } else { problems.join("; ") },
    }
}

impl Operation for ValidatePlan {
    const COMMAND: &'static str = "validate";
    const TOOL: &'static str = "coord_validate_plan";
    const SUMMARY: &'static str = "Check a plan for real: readiness (lint, cycles, repositories, milestone dates, \
        projection vs target, estimates, dependencies, trusted commands) and each milestone's completion \
        (todos, deliverables at HEAD, criteria checks); update marks met milestones completed.";
    const WRITES: bool = true;
    type Output = PlanValidation;

    fn run(&self, store: &Store) -> Result<PlanValidation> {
        if self.update {
            crate::ops::ensure_enabled(store)?;
        }
        let loaded = store.load(&Kind::ALL)?;
        let plan = match loaded.get(Kind::Plan, &self.plan.0).map(|r| &r.entity) {
            Some(Entity::Plan(p)) => p.clone(),
            _ => return Err(Error::NotFound { kind: Kind::Plan, id: self.plan.0.clone(), hint: None }),
        };
        let milestone_ids: BTreeSet<&str> = plan.milestones.iter().map(|m| m.id.as_str()).collect();
        let in_plan = |t: &crate::model::Todo| {
            t.plan_id.as_deref() == Some(plan.id.as_str())
                || t.milestone_id.as_deref().is_some_and(|m| milestone_ids.contains(m))
        };
        let todos: Vec<&crate::model::Todo> = loaded.todos().filter(|t| in_plan(t)).collect();
        let open = |t: &&crate::model::Todo| !matches!(t.status, Lenient::Known(s) if s.is_finished());
        let mut members: BTreeSet<String> = todos.iter().map(|t| t.id.clone()).collect();
        members.insert(plan.id.clone());
        members.extend(milestone_ids.iter().map(|s| s.to_string()));

        let mut checks = Vec::new();
        // Lint: problems of the plan, its milestones and its todos.
        let lint: Vec<String> = crate::lint::lint(&loaded, &crate::store::Locator::default())
            .into_iter()
            .filter(|p| p.severity == crate::problem::Severity::Error)
            .filter(|p| p.id.as_deref().is_some_and(|id| members.contains(id)))
            .map(|p| format!("{}: {}", p.id.clone().unwrap_or_default(), p.message))
            .collect();
        checks.push(check("lint", lint, "no lint errors in the plan, its milestones and todos"));
        // Cycles through the plan's work.
        let cg = CoordGraph::build(&loaded);
        let cycles: Vec<String> = cg
            .blocking_cycles()
            .into_iter()
            .filter(|c| c.iter().any(|id| members.contains(id)))
            .map(|c| format!("cycle {}", c.join(" → ")))
            .collect();
        checks.push(check("cycles", cycles, "no blocking cycle"));
        // Repositories.
        let mut repos = Vec::new();
        let mut checkouts = Vec::new();
        for name in &plan.repos {
            match loaded.registry.find(name) {
                None => repos.push(format!("{name} is not registered")),
                Some(r) => match loaded.registry.repo_path(r, &store.root.dir) {
                    None => repos.push(format!("{name} has no path")),
                    Some(p) => match gix::open(&p) {
                        Ok(repo) => checkouts.push((name.clone(), repo)),
                        Err(_) => repos.push(format!("{name}: {} is not a git checkout", p.display())),
                    },
                },
            }
        }
        checks.push(check("repos", repos, "every repository registered and checked out"));
        checks.push(check("dates", date_problems(&loaded, &plan), "milestone dates ordered"));
        // Projection vs target.
        let today = crate::model::date::now().date_naive();
        let rm = crate::graph::roadmap(&cg, today, store.settings.hours_per_day, std::slice::from_ref(&plan.id));
        let mut late = Vec::new();
        let mut unestimated = Vec::new();
        if let Some(p) = rm.plans.first() {
            if p.late {
                late.push(format!(
                    "projected to finish {} after the target {}",
                    p.projected_finish.as_deref().unwrap_or("?"),
                    p.target.as_deref().unwrap_or("?")
                ));
            }
            late.extend(p.note.clone());
        }
        checks.push(check("projection", late, "projected within the target"));
        unestimated
            .extend(todos.iter().filter(|t| open(t)).filter(|t| t.estimated_hours.is_none()).map(|t| t.id.clone()));
        let unestimated = if unestimated.is_empty() {
            vec![]
        } else {
            vec![format!("open todos without estimated_hours: {}", unestimated.join(", "))]
        };
        checks.push(check("estimates", unestimated, "all open work estimated"));
        // Dependencies of the plan's repositories.
        let mut deps = Vec::new();
        let recorded = store.load(&[Kind::Dependency])?;
        for name in &plan.repos {
            // Only repositories that consume something: check-deps refuses a
            // selector that matches nothing.
            if loaded.registry.find(name).is_none()
                || !recorded.dependencies().any(|d| recorded.registry.same(&d.consumer, name))
            {
                continue;
            }
            let req = crate::api::deps::CheckDeps {
                consumer: vec![name.clone()],
                provider: Vec::new(),
                ids: Vec::new(),
                online: self.online,
                timeout: 10.0,
                jobs: 8,
                update: false,
                raise_issues: false,
                trust_all: false,
            };
            for r in req.run(store)?.results {
                if r.status == crate::deps::Verdict::Unsatisfied {
                    deps.push(format!("{} ({} → {}): {}", r.id, r.consumer, r.provider, r.reason));
                }
            }
        }
        checks.push(check("dependencies", deps, "dependencies satisfied"));
        // Trusted commands.
        if store.settings.pool_execution_enabled {
            let p =
                scheduler::prepare(store, Some(Selection::Plan(plan.id.clone())), RunOptions::default(), Start::New)?;
            let untrusted: Vec<String> = crate::api::exec::planned(&p)
                .into_iter()
                .filter(|t| t.trust != "trusted")
                .map(|t| format!("{}: {}", t.key, t.trust))
                .collect();
            checks.push(check("trust", untrusted, "every open todo resolves to a trusted command"));
        }

        // Completion.
        let mut milestones = Vec::new();
        for m in &plan.milestones {
            let mut items = Vec::new();
            let linked: Vec<&&crate::model::Todo> =
                todos.iter().filter(|t| t.milestone_id.as_deref() == Some(m.id.as_str())).collect();
            let unfinished: Vec<String> = linked
                .iter()
                .filter(|t| !matches!(t.status, Lenient::Known(TodoStatus::Completed)))
                .map(|t| t.id.clone())
                .collect();
            items.push(CompletionItem {
                kind: "todos".into(),
                text: format!("{} linked todos finished", linked.len()),
                status: if unfinished.is_empty() { "met" } else { "unmet" }.into(),
                detail: (!unfinished.is_empty()).then(|| format!("not completed: {}", unfinished.join(", "))),
            });
            for d in &m.deliverables {
                let at = checkouts.iter().find(|(_, repo)| present_at_head(repo, d)).map(|(n, _)| n.clone());
                items.push(CompletionItem {
                    kind: "deliverable".into(),
                    text: d.clone(),
                    status: if at.is_some() { "met" } else { "unmet" }.into(),
                    detail: Some(match at {
                        Some(n) => format!("at HEAD of {n}"),
                        None => "not at HEAD of any plan repository".into(),
                    }),
                });
            }
            for c in &m.completion_criteria {
                items.push(CompletionItem {
                    kind: "criterion".into(),
                    text: c.clone(),
                    status: "manual".into(),
                    detail: Some("judged by a person: never met automatically".into()),
                });
            }
            for c in &m.criteria_checks {
                items.push(run_check(store, &plan, c));
            }
            let met = items.iter().all(|i| i.status == "met");
            milestones.push(MilestoneCompletion {
                id: m.id.clone(),
                status: m.status.as_str().to_string(),
                met,
                items,
            });
        }
        let mut updated = Vec::new();
        if self.update {
            for m in &milestones {
                if m.met && m.status != "completed" {
                    let req = crate::api::plans::UpdateMilestone::completed(&m.id);
                    req.run(store)?;
                    updated.push(m.id.clone());
                }
            }
        }
        let valid = checks.iter().all(|c| c.status == "ok");
        Ok(PlanValidation { plan: plan.id.clone(), valid, checks, milestones, updated })
    }
}

/// Due dates: in list order within the plan, and each after the milestones
/// it depends on (in any plan).
fn date_problems(loaded: &Loaded, plan: &Plan) -> Vec<String> {
    let mut out = Vec::new();
    let mut prev: Option<(&str, chrono::NaiveDate)> = None;
    for m in &plan.milestones {
        if let Some(d) = m.due_date().map(|d| d.date()) {
            if let Some((pid, pd)) = prev
                && d < pd
            {
                out.push(format!("{} is due {d}, before {pid} ({pd}) listed above it", m.id));
            }
            prev = Some((m.id.as_str(), d));
        }
    }
    let all: Vec<&crate::model::Milestone> = loaded.plans().flat_map(|p| p.milestones.iter()).collect();
    for m in &plan.milestones {
        let Some(d) = m.due_date().map(|d| d.date()) else { continue };
        for dep in &m.dependencies {
            if let Some(dd) = all.iter().find(|x| &x.id == dep).and_then(|x| x.due_date()).map(|d| d.date())
                && d < dd
            {
                out.push(format!("{} is due {d}, before {dep} ({dd}) it depends on", m.id));
            }
        }
    }
    out
}

/// Whether `path` exists in the tree of HEAD.
fn present_at_head(repo: &gix::Repository, path: &str) -> bool {
    let Ok(tree) = repo.head_commit().and_then(|c| c.tree()) else { return false };
    let path = path.trim_start_matches("./").trim_end_matches('/');
    matches!(tree.lookup_entry_by_path(path), Ok(Some(_)))
}

/// Runs a criterion's check as a one-task command-mode run in the plan's
/// first repository.
fn run_check(store: &Store, plan: &Plan, c: &crate::model::entities::CriterionCheck) -> CompletionItem {
    let item = |status: &str, detail: String| CompletionItem {
        kind: "criterion".into(),
        text: c.text.clone(),
        status: status.into(),
        detail: Some(detail),
    };
    let command = match (&c.command, &c.action) {
        (Some(cmd), _) => cmd.clone(),
        (None, Some(a)) => match crate::exec::config::ExecConfig::from_settings(&store.settings)
            .ok()
            .and_then(|cfg| cfg.actions.get(a).and_then(|x| x.command.clone()))
        {
            Some(cmd) => cmd,
            None => return item("unmet", format!("action `{a}` has no command")),
        },
        (None, None) => return item("unmet", "no check".into()),
    };
    let Some(repo) = plan.repos.first() else { return item("unmet", "the plan names no repository".into()) };
    let sel = Selection::Command { command: command.clone(), repos: vec![repo.clone()], role: Vec::new(), all: false };
    let opts = RunOptions { command: Some(command.clone()), ..RunOptions::default() };
    let p = match scheduler::prepare(store, Some(sel), opts, Start::New) {
        Ok(p) => p,
        Err(e) => return item("unmet", e.to_string()),
    };
    if let Some(t) = p.tasks.first()
        && let Err(why) = &t.trust
    {
        return item("untrusted", why.to_string());
    }
    if !store.settings.pool_execution_enabled {
        return item("unmet", "not run: pool execution is disabled".into());
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return item("unmet", e.to_string()),
    };
    let store = Arc::new(store.clone());
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let (_ctx, crx) = tokio::sync::watch::channel(Cancel::None);
    let argv = vec!["validate".into(), "--plan".into(), plan.id.clone()];
    match rt.block_on(scheduler::run(store, p, argv, tx, crx)) {
        Ok(rec) => match rec.tasks.first() {
            Some(t) if t.status == TaskStatus::Succeeded => item("met", format!("`{command}` succeeded ({})", rec.id)),
            Some(t) => item(
                "unmet",
                format!("`{command}` {}: {} ({})", t.status.as_str(), t.reason.clone().unwrap_or_default(), rec.id),
            ),
            None => item("unmet", "nothing ran".into()),
        },
        Err(e) => item("unmet", e.to_string()),
    }
}
