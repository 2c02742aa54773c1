//! From a selection to a run plan: which tasks, in what order, with which
//! command, pool and trust. Nothing runs here, so a dry run is exactly this
//! plan rendered, and a real run starts only from a plan that passed every
//! check (cycles are refused before anything starts).
//!
//! Order comes from the coordination graph ([`crate::graph`]): a selected
//! todo waits for its active blockers (the same rule as `ready`); a blocker
//! that is itself selected becomes an edge of the run, any other unfinished
//! blocker keeps the todo from starting (reported, never silently run). In
//! command mode the edges are the dependencies between the chosen
//! repositories: providers before consumers.

use super::config::{ExecConfig, glob};
use super::{RunOptions, Selection, Task, TaskKind};
use crate::deps::trust::{Place, TrustPolicy};
use crate::ecosystem::Registry;
use crate::error::Refusal;
use crate::error::{Error, FieldError, Result};
use crate::graph::{CoordGraph, NodeKind};
use crate::model::*;
use crate::store::{Loaded, Store, natural_key};
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

/// Environment variables the executor sets for every task (values differ
/// per task; the names are part of what an approval binds).
pub const ENV_NAMES: &[&str] = &[
    "COORD_ACTION",
    "COORD_ATTEMPT",
    "COORD_MILESTONE_ID",
    "COORD_PLAN_ID",
    "COORD_PROMPT_FILE",
    "COORD_REPO",
    "COORD_REPO_PATH",
    "COORD_RUN_ID",
    "COORD_TASK",
    "COORD_TODO_ID",
];

/// The text an execution approval binds (with the directory, through
/// [`crate::deps::trust::binding`]): the command, how it is started and the
/// names of the variables the executor sets. The same store and rules as
/// `check-deps`, one binding per use: a `validation.command` approval does
/// not let the same text run as a task, nor the other way round.
///
/// A pool that runs tasks elsewhere adds what decides where (for `ssh`:
/// the hosts and every client setting, [`super::config::Pool::binding`]),
/// so approving a command for the local pool does not let it run on a
/// host, and a pull request that adds a host withdraws the approval.
pub fn exec_subject(command: &str, pool: Option<&super::config::Pool>) -> String {
    let base = format!("git-coord exec v1: sh -c, task on stdin, env {}", ENV_NAMES.join(","));
    match pool.and_then(|p| p.binding()) {
        None => format!("{base}\0{command}"),
        Some(b) => format!("{base}; {b}\0{command}"),
    }
}

/// How a task's command was resolved, with what decided each part.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Resolved {
    pub action: String,
    pub command: String,
    pub pool: String,
    #[serde(with = "secs")]
    pub timeout: Duration,
    pub retries: u32,
    pub completes: bool,
    pub agent: bool,
    pub worktree: bool,
    /// Whether a local task's prompt is written to a file for it
    /// (`COORD_PROMPT_FILE`): the action's `prompt_file`, by default for
    /// agent actions, and whenever the command names the variable.
    pub prompt_file: bool,
    /// What decided the command (`--command`, `TODO-001 run.command`,
    /// `routing rule agents → action agent`, …).
    pub decided_by: String,
    /// Every step of the resolution, for `--explain`.
    pub explain: Vec<String>,
}

/// Durations as seconds (fractional) in records.
pub mod secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs_f64(f64::deserialize(d)?.max(0.0)))
    }
}

/// What routing looks at.
struct Facts<'a> {
    repo: &'a str,
    role: Option<&'a str>,
    capabilities: Vec<&'a str>,
    labels: &'a [String],
    assignee: Option<&'a str>,
}

fn rule_matches(r: &super::config::Rule, f: &Facts<'_>) -> bool {
    let any = |want: &[String], have: &dyn Fn(&str) -> bool| want.is_empty() || want.iter().any(|w| have(w));
    any(&r.when.role, &|w| f.role.is_some_and(|r| r.eq_ignore_ascii_case(w)))
        && any(&r.when.capability, &|w| f.capabilities.iter().any(|c| c.eq_ignore_ascii_case(w)))
        && any(&r.when.label, &|w| f.labels.iter().any(|l| l.eq_ignore_ascii_case(w)))
        && any(&r.when.assignee, &|w| f.assignee.is_some_and(|a| glob(w, a)))
        && any(&r.when.repo, &|w| glob(w, f.repo))
}

/// Resolves a task's command: `--command` > the todo's `run:` > routing >
/// the repo's `commands.<action>` > the action's command in settings.
/// Why a task's action, command or pool cannot be decided; the task is
/// not started, the rest of the run goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The todo's `run:` field cannot be used.
    #[error("{todo}: {source}")]
    RunSpec {
        /// The todo.
        todo: String,
        /// What is wrong with `run:`.
        source: crate::model::run::RunSpecError,
    },
    /// The action chosen does not exist.
    #[error("no action `{name}` (from {from}); known: {}", known.join(", "))]
    NoAction {
        /// The action asked for.
        name: String,
        /// What chose it.
        from: String,
        /// The configured actions.
        known: Vec<String>,
    },
    /// No command is configured for the action in this repository.
    #[error(
        "no command for action `{action}` in {repo}: set `actions.{action}.command` in settings/coord.yaml \
         or `commands: {{{action}: …}}` for the repo in settings/ecosystem.yaml"
    )]
    NoCommand {
        /// The action.
        action: String,
        /// The repository.
        repo: String,
    },
    /// The pool chosen does not exist.
    #[error("no pool `{name}` (from {from})")]
    NoPool {
        /// The pool asked for.
        name: String,
        /// What chose it.
        from: String,
    },
    /// Not resolved yet (a task is resolved once its todo is known).
    #[error("not resolved")]
    NotResolved,
}

fn resolve(
    cfg: &ExecConfig,
    reg: &Registry,
    opts: &RunOptions,
    facts: &Facts<'_>,
    todo: Option<&Todo>,
) -> std::result::Result<Resolved, ResolveError> {
    let mut explain = Vec::new();
    let spec = match todo.map(|t| t.run_spec()) {
        Some(Err(source)) => {
            return Err(ResolveError::RunSpec { todo: todo.map(|t| t.id.clone()).unwrap_or_default(), source });
        }
        Some(Ok(s)) => s.unwrap_or_default(),
        None => Default::default(),
    };
    let tid = todo.map(|t| t.id.clone()).unwrap_or_else(|| facts.repo.to_string());
    let rule = cfg.routing.iter().find(|r| rule_matches(r, facts));
    match rule {
        Some(r) => explain.push(format!(
            "routing: rule `{}` matched{}{}",
            r.name,
            r.action.as_ref().map(|a| format!(" → action {a}")).unwrap_or_default(),
            r.pool.as_ref().map(|p| format!(" → pool {p}")).unwrap_or_default()
        )),
        None if cfg.routing.is_empty() => {}
        None => explain.push(format!("routing: none of {} rules matched", cfg.routing.len())),
    }
    let (action_name, action_from) = if let Some(a) = &opts.action {
        (a.clone(), "the request's `action`".to_string())
    } else if let Some(a) = &spec.action {
        (a.clone(), format!("{tid} run.action"))
    } else if let Some(a) = rule.and_then(|r| r.action.clone()) {
        (a, format!("routing rule `{}`", rule.map(|r| r.name.as_str()).unwrap_or_default()))
    } else {
        (cfg.default_action.clone(), "execution.default_action".to_string())
    };
    let action = cfg.actions.get(&action_name).ok_or_else(|| ResolveError::NoAction {
        name: action_name.clone(),
        from: action_from.clone(),
        known: cfg.actions.keys().cloned().collect(),
    })?;
    explain.push(format!("action: {action_name} (from {action_from})"));
    let repo_override = reg
        .find(facts.repo)
        .and_then(|r| r.raw.get("commands"))
        .and_then(|c| c.get(action_name.as_str()))
        .and_then(crate::model::reader::scalar_text);
    let (command, decided_by) = if let Some(c) = &opts.command {
        (c.clone(), "the request's `command`".to_string())
    } else if let Some(c) = &spec.command {
        (c.clone(), format!("{tid} run.command"))
    } else if let Some(c) = repo_override {
        (c, format!("{} commands.{action_name} in settings/ecosystem.yaml (action from {action_from})", facts.repo))
    } else if let Some(c) = &action.command {
        (c.clone(), format!("actions.{action_name}.command (action from {action_from})"))
    } else {
        return Err(ResolveError::NoCommand { action: action_name, repo: facts.repo.to_string() });
    };
    explain.push(format!("command: {command} (decided by {decided_by})"));
    let (pool, pool_from) = if let Some(p) = &opts.pool {
        (p.clone(), "the request's `pool`".to_string())
    } else if let Some(p) = &spec.pool {
        (p.clone(), format!("{tid} run.pool"))
    } else if let Some(p) = rule.and_then(|r| r.pool.clone()) {
        (p, format!("routing rule `{}`", rule.map(|r| r.name.as_str()).unwrap_or_default()))
    } else if let Some(p) = &action.pool {
        (p.clone(), format!("actions.{action_name}.pool"))
    } else {
        ("local".to_string(), "default".to_string())
    };
    if !cfg.pools.contains_key(&pool) {
        return Err(ResolveError::NoPool { name: pool, from: pool_from });
    }
    explain.push(format!("pool: {pool} (from {pool_from})"));
    let timeout = opts.timeout.or(spec.timeout).or(action.timeout).unwrap_or(cfg.timeout);
    let retries = opts.retries.or(spec.retries).or(action.retries).unwrap_or(cfg.retries);
    let prompt_file = action.prompt_file.unwrap_or(action.agent) || command.contains("COORD_PROMPT_FILE");
    Ok(Resolved {
        action: action_name,
        command,
        pool,
        timeout,
        retries,
        completes: action.completes && opts.command.is_none() && todo.is_some(),
        agent: action.agent,
        worktree: action.worktree,
        prompt_file,
        decided_by,
        explain,
    })
}

/// The todo `id` of `loaded`.
pub fn todo_of<'a>(loaded: &'a Loaded, id: &str) -> Option<&'a Todo> {
    match &loaded.get(Kind::Todo, id)?.entity {
        Entity::Todo(t) => Some(t),
        _ => None,
    }
}

/// The prompt a task's process receives on stdin and in its prompt file.
pub fn prompt_of(t: &Todo) -> String {
    let mut p = format!("{}: {}\n", t.id, t.task);
    if let Some(d) = &t.description {
        p.push_str(&format!("\n{d}\n"));
    }
    if !t.acceptance_criteria.is_empty() {
        p.push_str("\nAcceptance criteria:\n");
        for c in &t.acceptance_criteria {
            p.push_str(&format!("- {c}\n"));
        }
    }
    p
}

/// Builds the run plan for `sel`.
pub fn build(
    store: &Store,
    loaded: &Loaded,
    cfg: &ExecConfig,
    trust: &TrustPolicy,
    sel: &Selection,
    opts: &RunOptions,
) -> Result<Vec<Task>> {
    let reg = &loaded.registry;
    let cg = CoordGraph::build(loaded);
    let mut tasks: Vec<Task> = Vec::new();
    fn facts_of<'a>(reg: &'a Registry, repo: &'a str, t: Option<&'a Todo>) -> Facts<'a> {
        let r = reg.find(repo);
        let role = r.and_then(|r| r.role.as_deref());
        let capabilities = role
            .and_then(|role| reg.roles.iter().find(|x| x.name.eq_ignore_ascii_case(role)))
            .map(|x| x.capabilities.iter().map(String::as_str).collect())
            .unwrap_or_default();
        Facts {
            repo,
            role,
            capabilities,
            labels: t.map(|t| t.labels.as_slice()).unwrap_or(&[]),
            assignee: t.and_then(|t| t.assignee.as_deref()),
        }
    }
    let mut edges: Vec<(String, String)> = Vec::new();
    match sel {
        Selection::Command { repos, role, all, .. } => {
            let mut names: BTreeSet<String> = BTreeSet::new();
            for r in repos {
                names.insert(reg.resolve(r).map_err(|e| Error::Fields(vec![e.on_field("repos")]))?);
            }
            for role in role {
                let n0 = names.len();
                names.extend(
                    reg.repos
                        .iter()
                        .filter(|r| r.role.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(role)))
                        .map(|r| r.name.clone()),
                );
                if names.len() == n0 {
                    let roles: BTreeSet<&str> = reg.repos.iter().filter_map(|r| r.role.as_deref()).collect();
                    return Err(Error::Fields(vec![
                        FieldError::new("role", format!("no repository has role `{role}`"))
                            .value(role.clone())
                            .expected(format!(
                                "one of the roles in settings/ecosystem.yaml: {}",
                                roles.into_iter().collect::<Vec<_>>().join(", ")
                            )),
                    ]));
                }
            }
            if *all {
                names.extend(reg.repos.iter().map(|r| r.name.clone()));
            }
            if names.is_empty() {
                return Err(Error::Fields(vec![
                    FieldError::new("repos", "choose repositories with one of").with(&["repos", "role", "all"]),
                ]));
            }
            for d in loaded.dependencies() {
                let (c, p) = (reg.canonical(&d.consumer).to_string(), reg.canonical(&d.provider).to_string());
                if names.contains(&c) && names.contains(&p) && c != p {
                    edges.push((p, c));
                }
            }
            for name in &names {
                let facts = facts_of(reg, name, None);
                tasks.push(Task::new(TaskKind::Repo, name.clone(), name.clone(), None));
                let t = tasks.last_mut().expect("just pushed");
                t.resolved = resolve(cfg, reg, opts, &facts, None);
            }
        }
        _ => {
            let ids = select_todos(store, loaded, &cg, sel)?;
            for id in &ids {
                let t = todo_of(loaded, id).expect("selected todo exists");
                let repo = reg.canonical(&t.repo).to_string();
                let facts = facts_of(reg, &repo, Some(t));
                let mut task = Task::new(TaskKind::Todo, t.id.clone(), repo.clone(), Some(t));
                task.resolved = resolve(cfg, reg, opts, &facts, Some(t));
                if let Some(n) = cg.node(id) {
                    for b in cg.active_blockers(n) {
                        let node = &cg.g[b];
                        if node.kind == NodeKind::Todo && ids.iter().any(|i| i == node.id) {
                            edges.push((node.id.to_string(), t.id.clone()));
                        } else {
                            task.external_blockers.push(node.id.to_string());
                        }
                    }
                }
                tasks.push(task);
            }
        }
    }
    // Cycles among the run's tasks: refused before anything starts.
    let cycles = crate::graph::find_cycles(edges.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    if let Some(c) = cycles.into_iter().next() {
        return Err(Error::Cycle(c));
    }
    let index: HashMap<String, usize> = tasks.iter().enumerate().map(|(i, t)| (t.key.clone(), i)).collect();
    for (a, b) in &edges {
        if let (Some(&ia), Some(&ib)) = (index.get(a), index.get(b))
            && !tasks[ib].deps.contains(&ia)
        {
            tasks[ib].deps.push(ia);
        }
    }
    // Waves: longest chain of in-run blockers before a task.
    let mut wave = vec![usize::MAX; tasks.len()];
    fn depth(i: usize, tasks: &[Task], wave: &mut [usize]) -> usize {
        if wave[i] != usize::MAX {
            return wave[i];
        }
        let d = tasks[i].deps.clone().into_iter().map(|j| depth(j, tasks, wave) + 1).max().unwrap_or(0);
        wave[i] = d;
        d
    }
    for i in 0..tasks.len() {
        let w = depth(i, &tasks, &mut wave);
        tasks[i].wave = w;
    }
    // Where each task runs, and whether its command is trusted there.
    for t in &mut tasks {
        let repo = reg.find(&t.repo);
        let dir = repo.and_then(|r| reg.repo_path(r, &store.root.dir));
        match dir.as_ref().map(|d| d.canonicalize()) {
            None => t.problem = Some(format!("{} has no `path` in settings/ecosystem.yaml", t.repo)),
            Some(Err(e)) => {
                t.problem = Some(format!("checkout of {} not found ({}: {e})", t.repo, dir.unwrap().display()))
            }
            Some(Ok(d)) => t.dir = Some(d),
        }
        if let (Some(dir), Ok(r)) = (&t.dir, &t.resolved) {
            let place = Place::of(store, dir.clone())?;
            let who = crate::deps::trust::Subject::Task(t.key.clone());
            t.trust = trust.decide(&who, &exec_subject(&r.command, cfg.pools.get(&r.pool)), &place);
        }
    }
    Ok(tasks)
}

/// Sort key: priority rank, what it unblocks (more first), natural ID, ID.
type OrderKey = (u8, std::cmp::Reverse<usize>, (String, u64, String), String);

/// The todos a selection names: open ones only (completed and cancelled
/// todos are done; `in_progress` ones belong to someone unless named).
fn select_todos(store: &Store, loaded: &Loaded, cg: &CoordGraph<'_>, sel: &Selection) -> Result<Vec<String>> {
    let reg = &loaded.registry;
    let runnable = |t: &Todo, named: bool| {
        matches!(t.status.known(), Some(TodoStatus::Pending | TodoStatus::Blocked))
            || (named && t.status.is(TodoStatus::InProgress))
    };
    let mut ids: Vec<String> = match sel {
        Selection::Todos { ids, with_deps } => {
            let mut out: Vec<String> = Vec::new();
            for id in ids {
                let rec = loaded.get(Kind::Todo, id).ok_or_else(|| Error::NotFound {
                    kind: Kind::Todo,
                    id: id.clone(),
                    hint: crate::suggest::did_you_mean(id, loaded.todos().map(|t| t.id.as_str()))
                        .map(|s| format!("did you mean {s}?")),
                })?;
                let Entity::Todo(t) = &rec.entity else { unreachable!("a todo record") };
                if !t.is_open() {
                    return Err(Refusal::NothingToExecute { id: t.id.clone(), status: t.status.as_str().into() }.into());
                }
                out.push(t.id.clone());
            }
            if *with_deps {
                let mut stack = out.clone();
                while let Some(id) = stack.pop() {
                    let Some(n) = cg.node(&id) else { continue };
                    for b in cg.active_blockers(n) {
                        let node = &cg.g[b];
                        if node.kind == NodeKind::Todo
                            && !out.iter().any(|o| o == node.id)
                            && let Some(t) = todo_of(loaded, node.id)
                            && runnable(t, false)
                        {
                            out.push(node.id.to_string());
                            stack.push(node.id.to_string());
                        }
                    }
                }
            }
            out
        }
        Selection::Plan(p) => {
            let plan = loaded
                .get(Kind::Plan, p)
                .and_then(|r| if let Entity::Plan(p) = &r.entity { Some(p) } else { None })
                .ok_or_else(|| Error::NotFound { kind: Kind::Plan, id: p.clone(), hint: None })?;
            let milestones: Vec<&str> = plan.milestones.iter().map(|m| m.id.as_str()).collect();
            loaded
                .todos()
                .filter(|t| {
                    t.plan_id.as_deref() == Some(plan.id.as_str())
                        || t.milestone_id.as_deref().is_some_and(|m| milestones.contains(&m))
                })
                .filter(|t| runnable(t, false))
                .map(|t| t.id.clone())
                .collect()
        }
        Selection::Milestone(m) => {
            if loaded.milestone(m).is_none() {
                return Err(Error::NotFoundMilestone { id: m.clone(), hint: None });
            }
            loaded
                .todos()
                .filter(|t| t.milestone_id.as_deref() == Some(m.as_str()) && runnable(t, false))
                .map(|t| t.id.clone())
                .collect()
        }
        Selection::Repo(r) => {
            let r = reg.resolve(r).map_err(|e| Error::Fields(vec![e.on_field("repo")]))?;
            loaded.todos().filter(|t| reg.same(&t.repo, &r) && runnable(t, false)).map(|t| t.id.clone()).collect()
        }
        Selection::Label(l) => loaded
            .todos()
            .filter(|t| t.labels.iter().any(|x| x.eq_ignore_ascii_case(l)) && runnable(t, false))
            .map(|t| t.id.clone())
            .collect(),
        Selection::Command { .. } => unreachable!("command mode has no todos"),
        Selection::Any(sels) => {
            let mut out: Vec<String> = Vec::new();
            for s in sels {
                for id in select_todos(store, loaded, cg, s)? {
                    if !out.contains(&id) {
                        out.push(id);
                    }
                }
            }
            out
        }
    };
    let _ = store;
    // Best first, as `ready` orders: priority, then what it unblocks, then ID.
    let mut stamp = vec![0u32; cg.g.node_count()];
    let mut keyed: Vec<OrderKey> = ids
        .drain(..)
        .enumerate()
        .map(|(round, id)| {
            let t = todo_of(loaded, &id).expect("exists");
            let unblocks = cg.node(&id).map_or(0, |n| cg.unblocks_count(n, &mut stamp, round as u32 + 1));
            (t.priority.known().map_or(4, Priority::rank), std::cmp::Reverse(unblocks), natural_key(&id), id)
        })
        .collect();
    keyed.sort();
    Ok(keyed.into_iter().map(|k| k.3).collect())
}
