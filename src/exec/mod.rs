//! Pool execution: `execute`, `sweep` and command sweeps run real commands
//! for todos (or across repositories) in dependency order, on pools of
//! workers, with every run recorded.
//!
//! The seed of this tool simulated all of it; here each part is real and
//! separate so the front ends and the runners stay thin:
//!
//! - [`config`] — actions, pools and routing rules from `settings/coord.yaml`;
//! - [`plan`] — selection → tasks with their resolved command, pool, trust
//!   and in-run blockers (order from [`crate::graph`], cycles refused);
//! - [`scheduler`] — a tokio dispatcher: a loop that owns all run state and
//!   the record, starting tasks when their blockers succeeded and a slot is
//!   free (`--jobs`, the pool's `max_parallel`, one task per checkout), and
//!   receiving their results over a channel (the shape of nextest's runner);
//! - [`runner`] — the [`runner::Runner`] trait the scheduler dispatches each
//!   attempt through, one runner per pool;
//! - [`runner_mcp`] — the pool services' runners over MCP (`session-buddy`,
//!   `mahavishnu`);
//! - [`local`] — the `local` runner: one process group per attempt, task
//!   text only on stdin, in environment variables and a prompt file, timeout
//!   → SIGTERM to the group, grace, SIGKILL;
//! - [`ssh`] — the `ssh` runner: a pool of hosts reached with the system
//!   OpenSSH client, member selection, and a remote wrapper that ends the
//!   remote process group when the attempt ends;
//! - [`claim`] — a lock per todo, so two runs never run one todo twice;
//! - [`record`] — `coordination/runs/RUN-….yaml`, written atomically as the
//!   run changes, and the logs under the git directory.
//!
//! The library never prints: a run yields [`Event`]s that the CLI renders
//! (a progress bar on a terminal, `[repo] ` lines otherwise) and MCP ignores.

pub mod claim;
pub mod config;
pub mod local;
pub mod plan;
pub mod record;
pub mod runner;
pub mod runner_mcp;
pub mod scheduler;
pub mod ssh;
pub mod validate;

use crate::model::Todo;
use plan::Resolved;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

pub use scheduler::{Cancel, prepare, run};

/// What a run covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selection {
    /// `execute TODO…` (with `--with-deps`: their open blockers too).
    Todos { ids: Vec<String>, with_deps: bool },
    /// `sweep --plan P`: the plan's open todos (and its milestones').
    Plan(String),
    /// `sweep --milestone M`.
    Milestone(String),
    /// `sweep --repo R`: the repository's open todos.
    Repo(String),
    /// `sweep --label L`.
    Label(String),
    /// `sweep --command CMD --repos …|--role R|--all`: one command per
    /// repository, providers before consumers, no todo touched.
    Command { command: String, repos: Vec<String>, role: Vec<String>, all: bool },
    /// Several values of one of the above (`sweep --repo a,b`): the union
    /// of their todos.
    Any(Vec<Selection>),
}

impl Selection {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            Selection::Todos { ids, with_deps } => {
                format!("todos {}{}", ids.join(","), if *with_deps { " with their blockers" } else { "" })
            }
            Selection::Plan(p) => format!("plan {p}"),
            Selection::Milestone(m) => format!("milestone {m}"),
            Selection::Repo(r) => format!("todos of {r}"),
            Selection::Label(l) => format!("todos labelled {l}"),
            Selection::Command { command, .. } => format!("command `{command}` across repositories"),
            Selection::Any(sels) => sels.iter().map(Selection::describe).collect::<Vec<_>>().join(" + "),
        }
    }
}

/// How a run behaves (the common flags).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    pub jobs: Option<usize>,
    pub pool: Option<String>,
    pub action: Option<String>,
    /// Overrides every task's command (command mode sets it too).
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub backoff: Option<Duration>,
    pub fail_fast: bool,
    /// Todos a resumed run may take although they are `in_progress` (the
    /// interrupted run set them so).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resume_todos: Vec<String>,
}

mod opt_secs {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_f64(d.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.map(|s| Duration::from_secs_f64(s.max(0.0))))
    }
}

/// A todo or, in command mode, a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Todo,
    Repo,
}

/// One unit of a run.
#[derive(Debug, Clone)]
pub struct Task {
    pub kind: TaskKind,
    /// The todo ID, or the repository in command mode.
    pub key: String,
    /// Canonical repository name.
    pub repo: String,
    /// The checkout (canonical), when found.
    pub dir: Option<PathBuf>,
    pub plan_id: Option<String>,
    pub milestone_id: Option<String>,
    pub title: String,
    /// What the process receives on stdin and in its prompt file.
    pub prompt: String,
    pub priority: Option<String>,
    /// In-run blockers (task indices).
    pub deps: Vec<usize>,
    /// Unfinished blockers outside the run: the task cannot start.
    pub external_blockers: Vec<String>,
    /// Wave (longest chain of in-run blockers before it).
    pub wave: usize,
    pub resolved: std::result::Result<Resolved, plan::ResolveError>,
    /// Whether its command may run where it runs.
    pub trust: std::result::Result<(), crate::deps::trust::Untrusted>,
    /// Why it cannot run at all (no checkout…).
    pub problem: Option<String>,
}

impl Task {
    fn new(kind: TaskKind, key: String, repo: String, todo: Option<&Todo>) -> Task {
        Task {
            kind,
            key,
            repo,
            dir: None,
            plan_id: todo.and_then(|t| t.plan_id.clone()),
            milestone_id: todo.and_then(|t| t.milestone_id.clone()),
            title: todo.map(|t| t.task.clone()).unwrap_or_default(),
            prompt: todo.map(plan::prompt_of).unwrap_or_default(),
            priority: todo.and_then(|t| t.priority.known()).map(|p| crate::model::vocab::Vocab::as_str(p).to_string()),
            deps: Vec::new(),
            external_blockers: Vec::new(),
            wave: 0,
            resolved: Err(plan::ResolveError::NotResolved),
            trust: Err(crate::deps::trust::Untrusted::NotChecked),
            problem: None,
        }
    }

    /// Why it will not start, before anything runs (`None`: it can).
    pub fn blocked_reason(&self, cfg: &config::ExecConfig) -> Option<(TaskStatus, String)> {
        if let Some(p) = &self.problem {
            return Some((TaskStatus::NotStarted, p.clone()));
        }
        let r = match &self.resolved {
            Err(e) => return Some((TaskStatus::NotStarted, e.to_string())),
            Ok(r) => r,
        };
        if let Some(pool) = cfg.pools.get(&r.pool)
            && let Err(why) = runner::available(pool)
        {
            return Some((TaskStatus::NotStarted, why.to_string()));
        }
        if r.worktree
            && let Some(pool) = cfg.pools.get(&r.pool)
            && pool.runner != config::RunnerKind::Local
        {
            return Some((
                TaskStatus::NotStarted,
                format!(
                    "action `{}` runs each task in a git worktree, which only the local runner makes (pool `{}` is {})",
                    r.action,
                    pool.name,
                    pool.runner.as_str()
                ),
            ));
        }
        if let Err(e) = &self.trust {
            return Some((TaskStatus::Untrusted, e.to_string()));
        }
        if !self.external_blockers.is_empty() {
            return Some((
                TaskStatus::Skipped,
                format!("blocked by {} (not in this run)", self.external_blockers.join(", ")),
            ));
        }
        None
    }
}

/// Where a task ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
    /// Its blockers did not succeed (or are outside the run).
    Skipped,
    /// Its command is not approved here: never started.
    Untrusted,
    /// It could not be started (no command, no checkout, runner missing,
    /// claimed by another run).
    NotStarted,
    Cancelled,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Running => "running",
            TaskStatus::Succeeded => "succeeded",
            TaskStatus::Failed => "failed",
            TaskStatus::Skipped => "skipped",
            TaskStatus::Untrusted => "untrusted",
            TaskStatus::NotStarted => "not_started",
            TaskStatus::Cancelled => "cancelled",
        }
    }
    pub fn is_final(self) -> bool {
        !matches!(self, TaskStatus::Pending | TaskStatus::Running)
    }
}

/// What happens during a run, for a front end to show.
#[derive(Debug, Clone)]
pub enum Event {
    /// The run began (its record exists).
    Started { run_id: String, total: usize, record: PathBuf },
    /// An attempt of task `index` started.
    TaskStarted { index: usize, key: String, repo: String, attempt: u32 },
    /// A whole line of a task's output.
    Output { index: usize, repo: String, line: String },
    /// An attempt failed and will be retried after `delay`.
    Retrying { index: usize, key: String, attempt: u32, delay: Duration, reason: String },
    /// A task reached its final status.
    TaskFinished { index: usize, key: String, repo: String, status: TaskStatus, reason: Option<String> },
    /// The run stops dispatching (Ctrl-C, `--fail-fast`).
    Stopping { reason: String },
}
