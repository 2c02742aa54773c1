//! Pool execution operations: `execute`, `sweep`, `run-status`,
//! `cancel-run` (and `validate --plan`, in [`crate::exec::validate`] when
//! present). The CLI runs a run in its own process with live progress; MCP
//! starts it as a detached `git coord` process (so it survives the client
//! disconnecting), waits a bounded time and returns the run ID to follow
//! with `coord_run_status`. Both build the run from the same request.
//!
//! It stays one file: the four operations share the request types and the
//! reports of a run, and splitting them would split one shape across files.

use super::Operation;
use super::types::Id;
use crate::error::Refusal;
use crate::error::{Error, FieldError, Result};
use crate::exec::record::{self, RunRecord, RunStatus, Summary, TaskRecord};
use crate::exec::scheduler::{Prepared, Start};
use crate::exec::{RunOptions, Selection, TaskStatus};
use crate::model::run::parse_duration;
use crate::store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::time::Duration;

macro_rules! run_request {
    ($(#[$m:meta])* $name:ident { $($body:tt)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, clap::Args, Deserialize, Serialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($body)*
            /// Tasks running at once (default: `execution.jobs`, else the CPUs).
            #[arg(long)]
            #[serde(default)]
            pub jobs: Option<usize>,
            /// Run every task in this pool.
            #[arg(long)]
            #[serde(default)]
            pub pool: Option<String>,
            /// Run this action for every task (over the todo's `run.action` and routing).
            #[arg(long)]
            #[serde(default)]
            pub action: Option<String>,
            /// Per attempt: `90s`, `10m`, `2h` or seconds.
            #[arg(long)]
            #[serde(default)]
            pub timeout: Option<String>,
            /// Attempts after the first failure.
            #[arg(long)]
            #[serde(default)]
            pub retries: Option<u32>,
            /// Delay before the first retry, doubled each time, with jitter.
            #[arg(long)]
            #[serde(default)]
            pub backoff: Option<String>,
            /// Stop starting tasks after the first failure.
            #[arg(long)]
            #[serde(default)]
            pub fail_fast: bool,
            /// Show the waves, commands, pools and trust; run and write nothing.
            #[arg(long)]
            #[serde(default)]
            pub dry_run: bool,
            /// Say which rule decided each task's action, command and pool.
            #[arg(long)]
            #[serde(default)]
            pub explain: bool,
            /// Continue an interrupted or cancelled run (RUN-…).
            #[arg(long, value_name = "RUN")]
            #[serde(default)]
            pub resume: Option<String>,
            /// Run again what failed in a recorded run, and what it blocked.
            #[arg(long, value_name = "RUN")]
            #[serde(default)]
            pub rerun_failed: Option<String>,
            /// MCP: seconds to wait for the run before returning its ID (default 5, at most 60).
            #[arg(skip)]
            #[serde(default)]
            pub wait_seconds: Option<u64>,
        }
    };
}

run_request!(
    /// Execute todos now, in dependency order, through their resolved
    /// commands (approved with `git coord trust --exec`).
    Execute {
        /// Todos to execute.
        #[arg(value_name = "TODO-…", required_unless_present_any = ["resume", "rerun_failed"])]
        #[serde(default)]
        pub todos: Vec<Id>,
        /// Also run their open blockers first.
        #[arg(long)]
        #[serde(default)]
        pub with_deps: bool,
    }
);

run_request!(
    /// Run a plan's, milestone's, repository's or label's open todos in
    /// dependency order — or, with `--command` and `--repos`/`--role`/`--all`,
    /// one command across repositories, providers before consumers.
    Sweep {
        /// The open todos of these plans (and of their milestones;
        /// repeatable, comma-separated).
        #[arg(long, value_delimiter = ',')]
        #[serde(default)]
        pub plan: Vec<Id>,
        /// The open todos of these milestones (repeatable, comma-separated).
        #[arg(long, value_delimiter = ',')]
        #[serde(default)]
        pub milestone: Vec<Id>,
        /// The open todos of these repositories (repeatable, comma-separated).
        #[arg(long, value_delimiter = ',')]
        #[serde(default, deserialize_with = "crate::api::types::terms")]
        pub repo: Vec<String>,
        /// The open todos with one of these labels (repeatable,
        /// comma-separated).
        #[arg(long, value_delimiter = ',')]
        #[serde(default, deserialize_with = "crate::api::types::terms")]
        pub label: Vec<String>,
        /// The command to run (for todos: instead of their resolved command;
        /// with --repos/--role/--all: in each repository, touching no todo).
        #[arg(long)]
        #[serde(default)]
        pub command: Option<String>,
        /// Command mode: these repositories (repeatable, comma-separated).
        #[arg(long, value_delimiter = ',')]
        #[serde(default, deserialize_with = "crate::api::types::terms")]
        pub repos: Vec<String>,
        /// Command mode: the repositories with one of these roles
        /// (repeatable, comma-separated).
        #[arg(long, value_delimiter = ',')]
        #[serde(default, deserialize_with = "crate::api::types::terms")]
        pub role: Vec<String>,
        /// Command mode: every repository.
        #[arg(long)]
        #[serde(default)]
        pub all: bool,
    }
);

fn duration(field: &str, v: &Option<String>) -> Result<Option<Duration>> {
    v.as_deref().map(|t| parse_duration(t).map_err(|e| Error::Fields(vec![e.on_field(field)]))).transpose()
}

/// The common part of both requests.
pub trait RunRequest {
    /// What is selected (`None` with `--resume`/`--rerun-failed`).
    fn selection(&self) -> Result<Option<Selection>>;
    fn options(&self) -> Result<RunOptions>;
    fn start(&self) -> Result<Start>;
    fn dry_run(&self) -> bool;
    fn explain(&self) -> bool;
    fn wait_seconds(&self) -> Option<u64>;
}

macro_rules! common_impl {
    () => {
        fn options(&self) -> Result<RunOptions> {
            Ok(RunOptions {
                jobs: self.jobs,
                pool: self.pool.clone(),
                action: self.action.clone(),
                command: None,
                timeout: duration("timeout", &self.timeout)?,
                retries: self.retries,
                backoff: duration("backoff", &self.backoff)?,
                fail_fast: self.fail_fast,
                resume_todos: Vec::new(),
            })
        }
        fn start(&self) -> Result<Start> {
            match (&self.resume, &self.rerun_failed) {
                (Some(_), Some(_)) => Err(Error::Fields(vec![
                    FieldError::new("resume", "cannot be combined with").with(&["rerun_failed"]),
                ])),
                (Some(r), None) => Ok(Start::Resume(r.clone())),
                (None, Some(r)) => Ok(Start::RerunFailed(r.clone())),
                (None, None) => Ok(Start::New),
            }
        }
        fn dry_run(&self) -> bool {
            self.dry_run
        }
        fn explain(&self) -> bool {
            self.explain
        }
        fn wait_seconds(&self) -> Option<u64> {
            self.wait_seconds
        }
    };
}

impl RunRequest for Execute {
    fn selection(&self) -> Result<Option<Selection>> {
        if self.todos.is_empty() {
            return Ok(None);
        }
        Ok(Some(Selection::Todos { ids: self.todos.iter().map(|t| t.0.clone()).collect(), with_deps: self.with_deps }))
    }
    common_impl!();
}

impl RunRequest for Sweep {
    fn selection(&self) -> Result<Option<Selection>> {
        let command_mode = !self.repos.is_empty() || !self.role.is_empty() || self.all;
        // One kind of selection; several values of it are their union.
        let mut picked: Vec<Selection> = Vec::new();
        let mut pick = |sels: Vec<Selection>| match sels.len() {
            0 => {}
            1 => picked.extend(sels),
            _ => picked.push(Selection::Any(sels)),
        };
        pick(self.plan.iter().map(|p| Selection::Plan(p.0.clone())).collect());
        pick(self.milestone.iter().map(|m| Selection::Milestone(m.0.clone())).collect());
        pick(self.repo.iter().map(|r| Selection::Repo(r.clone())).collect());
        pick(self.label.iter().map(|l| Selection::Label(l.clone())).collect());
        if command_mode {
            let Some(command) = self.command.clone() else {
                return Err(Error::Fields(vec![
                    FieldError::new("command", "is needed to run one command across the repositories chosen with")
                        .with(&["repos", "role", "all"]),
                ]));
            };
            if !picked.is_empty() {
                return Err(Error::Fields(vec![
                    FieldError::new("repos", "choose repositories or todos, not both; todos were chosen with").with(&[
                        "plan",
                        "milestone",
                        "repo",
                        "label",
                    ]),
                ]));
            }
            return Ok(Some(Selection::Command {
                command,
                repos: self.repos.clone(),
                role: self.role.clone(),
                all: self.all,
            }));
        }
        if picked.len() > 1 {
            return Err(Error::Fields(vec![FieldError::new("plan", "choose only one of").with(&[
                "plan",
                "milestone",
                "repo",
                "label",
            ])]));
        }
        if picked.is_empty() && self.resume.is_none() && self.rerun_failed.is_none() {
            return Err(Error::Fields(vec![
                FieldError::new("plan", "choose what to sweep: todos with one of, or a command with one of").with(&[
                    "plan",
                    "milestone",
                    "repo",
                    "label",
                    "repos",
                    "role",
                    "all",
                ]),
            ]));
        }
        Ok(picked.pop())
    }
    fn options(&self) -> Result<RunOptions> {
        let mut o = RunOptions {
            jobs: self.jobs,
            pool: self.pool.clone(),
            action: self.action.clone(),
            command: self.command.clone(),
            timeout: duration("timeout", &self.timeout)?,
            retries: self.retries,
            backoff: duration("backoff", &self.backoff)?,
            fail_fast: self.fail_fast,
            resume_todos: Vec::new(),
        };
        if !self.repos.is_empty() || !self.role.is_empty() || self.all {
            o.command = self.command.clone();
        }
        Ok(o)
    }
    fn start(&self) -> Result<Start> {
        match (&self.resume, &self.rerun_failed) {
            (Some(_), Some(_)) => {
                Err(Error::Fields(vec![FieldError::new("resume", "cannot be combined with").with(&["rerun_failed"])]))
            }
            (Some(r), None) => Ok(Start::Resume(r.clone())),
            (None, Some(r)) => Ok(Start::RerunFailed(r.clone())),
            (None, None) => Ok(Start::New),
        }
    }
    fn dry_run(&self) -> bool {
        self.dry_run
    }
    fn explain(&self) -> bool {
        self.explain
    }
    fn wait_seconds(&self) -> Option<u64> {
        self.wait_seconds
    }
}

/// Plans the run a request asks for.
pub fn prepare(store: &Store, req: &impl RunRequest) -> Result<Prepared> {
    crate::exec::prepare(store, req.selection()?, req.options()?, req.start()?)
}

/// One task of a planned run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlannedTask {
    pub key: String,
    pub repo: String,
    pub wave: usize,
    /// In-run blockers, then blockers outside the run.
    pub blocked_by: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    /// `trusted`, or why not.
    pub trust: String,
    /// Why it will not start, when it will not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_started: Option<String>,
    /// What decided the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    pub explain: Vec<String>,
}

/// A run's plan, for dry runs.
pub fn planned(p: &Prepared) -> Vec<PlannedTask> {
    p.tasks
        .iter()
        .map(|t| {
            let r = t.resolved.as_ref().ok();
            PlannedTask {
                key: t.key.clone(),
                repo: t.repo.clone(),
                wave: t.wave + 1,
                blocked_by: t.deps.iter().map(|d| p.tasks[*d].key.clone()).chain(t.external_blockers.clone()).collect(),
                action: r.map(|r| r.action.clone()),
                command: r.map(|r| r.command.clone()),
                pool: r.map(|r| r.pool.clone()),
                trust: match (&t.trust, &t.resolved, &t.problem) {
                    (_, _, Some(_)) | (_, Err(_), _) => "not resolved".into(),
                    (Ok(()), _, _) => "trusted".into(),
                    (Err(e), _, _) => e.to_string(),
                },
                not_started: t.blocked_reason(&p.cfg).map(|(_, r)| r),
                decided_by: r.map(|r| r.decided_by.clone()),
                explain: match &t.resolved {
                    Ok(r) => r.explain.clone(),
                    Err(e) => vec![e.to_string()],
                },
            }
        })
        .collect()
}

/// What `coord_execute`/`coord_sweep` return.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunStarted {
    /// The run (absent for a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// `planned` (dry run), or the run's status when the wait ended.
    pub status: String,
    pub dry_run: bool,
    /// The plan: waves, commands, pools, trust.
    pub tasks: Vec<PlannedTask>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    pub warnings: Vec<String>,
}

/// Starts a run as a detached `git coord` process (its own session, so it
/// outlives the MCP client), after checking what the CLI would check, and
/// waits up to the request's bound for it to finish.
fn start_detached<R: RunRequest + Serialize>(store: &Store, req: &R, command: &str) -> Result<RunStarted> {
    let p = prepare(store, req)?;
    let tasks = planned(&p);
    if req.dry_run() {
        return Ok(RunStarted {
            run_id: None,
            status: "planned".into(),
            dry_run: true,
            tasks,
            summary: None,
            warnings: p.warnings,
        });
    }
    if !store.settings.pool_execution_enabled {
        return Err(Refusal::PoolExecutionDisabled.into());
    }
    let json = serde_json::to_string(req).map_err(|e| Error::system("encode the run request", e))?;
    let exe = std::env::current_exe().map_err(|e| Error::io("git-coord", e))?;
    let log = record::runs_dir(store);
    std::fs::create_dir_all(&log).map_err(|e| Error::io(&log, e))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.arg("-C")
        .arg(&store.root.dir)
        .args(["exec-request", "--operation", command, "--run-id", &p.id, "--json", &json])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0);
    use std::os::unix::process::CommandExt;
    // A session of its own: the client's hang-up does not reach it.
    // SAFETY: setsid is a single system call (async-signal-safe) and
    // touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            let _ = rustix::process::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(|e| Error::io("git-coord", e))?;
    let wait = Duration::from_secs(req.wait_seconds().unwrap_or(5).min(60));
    let deadline = std::time::Instant::now() + wait;
    let path = record::path_of(store, &p.id)?;
    let mut status = "starting".to_string();
    let mut summary = None;
    // Reap the child when it ends (a detached waiter), so it is no zombie.
    std::thread::spawn(move || child.wait());
    while std::time::Instant::now() < deadline {
        if path.is_file()
            && let Ok(r) = record::load(store, &p.id)
        {
            status = r.effective_status().as_str().to_string();
            summary = Some(r.summary.clone());
            if r.status != RunStatus::Running {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(RunStarted { run_id: Some(p.id), status, dry_run: false, tasks, summary, warnings: p.warnings })
}

impl Operation for Execute {
    const COMMAND: &'static str = "execute";
    const TOOL: &'static str = "coord_execute";
    const SUMMARY: &'static str = "Execute todos through their approved commands in dependency order (dry_run shows the plan); returns the run ID";
    const WRITES: bool = true;
    type Output = RunStarted;
    fn run(&self, store: &Store) -> Result<RunStarted> {
        start_detached(store, self, "execute")
    }
}

impl Operation for Sweep {
    const COMMAND: &'static str = "sweep";
    const TOOL: &'static str = "coord_sweep";
    const SUMMARY: &'static str = "Run a plan's, milestone's, repo's or label's open todos (or one command across repositories) in dependency order; returns the run ID";
    const WRITES: bool = true;
    type Output = RunStarted;
    fn run(&self, store: &Store) -> Result<RunStarted> {
        start_detached(store, self, "sweep")
    }
}

/// A recorded run, as shown.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunView {
    pub id: String,
    /// `running`, `succeeded`, `failed`, `cancelled` or `interrupted`.
    pub status: String,
    pub selection: String,
    pub started: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    pub host: String,
    pub user: String,
    pub summary: Summary,
    pub tasks: Vec<TaskRecord>,
}

impl RunView {
    pub fn of(r: &RunRecord) -> RunView {
        RunView {
            id: r.id.clone(),
            status: r.effective_status().as_str().into(),
            selection: r.selection.describe(),
            started: r.started.clone(),
            finished: r.finished.clone(),
            host: r.host.clone(),
            user: r.user.clone(),
            summary: r.summary.clone(),
            tasks: r.tasks.clone(),
        }
    }
}

/// A run's status, counts and tasks.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunStatusReq {
    /// The run (RUN-…).
    pub run_id: String,
}

impl Operation for RunStatusReq {
    const COMMAND: &'static str = "show-run";
    const TOOL: &'static str = "coord_run_status";
    const SUMMARY: &'static str =
        "A run's status (running/succeeded/failed/cancelled/interrupted), counts and per-task results";
    const WRITES: bool = false;
    type Output = RunView;
    fn run(&self, store: &Store) -> Result<RunView> {
        Ok(RunView::of(&record::load(store, &self.run_id)?))
    }
}

/// Cancel a running run: like Ctrl-C (running tasks are terminated, claimed
/// todos restored, the run recorded cancelled).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRun {
    /// The run (RUN-…).
    pub run_id: String,
}

/// What cancelling did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Cancelled {
    pub run_id: String,
    /// Whether the run's process was signalled.
    pub signalled: bool,
    pub status: String,
}

impl Operation for CancelRun {
    const COMMAND: &'static str = "cancel-run";
    const TOOL: &'static str = "coord_cancel_run";
    const SUMMARY: &'static str = "Cancel a running run (its tasks are terminated and claimed todos restored)";
    const WRITES: bool = true;
    type Output = Cancelled;
    fn run(&self, store: &Store) -> Result<Cancelled> {
        let r = record::load(store, &self.run_id)?;
        let st = r.effective_status();
        if st != RunStatus::Running {
            return Ok(Cancelled { run_id: r.id, signalled: false, status: st.as_str().into() });
        }
        if r.host != record::hostname() {
            return Err(Refusal::RunsElsewhere { run: r.id, host: r.host }.into());
        }
        let ok = crate::process_group::interrupt(r.pid);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut status = st.as_str().to_string();
        while ok && std::time::Instant::now() < deadline {
            if let Ok(r) = record::load(store, &self.run_id) {
                status = r.effective_status().as_str().into();
                if r.status != RunStatus::Running {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Cancelled { run_id: r.id, signalled: ok, status })
    }
}

/// Whether a task status counts as done in a summary line.
pub fn is_success(s: TaskStatus) -> bool {
    s == TaskStatus::Succeeded
}

impl serde::Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// List recorded runs, newest first.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Runs {}

/// What `runs` returns.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunsListed {
    /// How many runs are recorded.
    pub count: usize,
    /// The runs, newest first.
    pub items: Vec<RunView>,
    /// Run records that could not be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Operation for Runs {
    const COMMAND: &'static str = "runs";
    const TOOL: &'static str = "coord_runs";
    const SUMMARY: &'static str = "List recorded runs, newest first: status, selection, counts and tasks";
    const WRITES: bool = false;
    type Output = RunsListed;
    fn run(&self, store: &Store) -> Result<RunsListed> {
        let (list, warnings) = record::list(store)?;
        let items: Vec<RunView> = list.iter().map(RunView::of).collect();
        Ok(RunsListed { count: items.len(), items, warnings })
    }
}

/// Print a task's full log from a recorded run.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunLog {
    /// The run (RUN-…).
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
    /// The todo (or repository, for a command sweep).
    #[arg(value_name = "TASK")]
    pub todo: String,
}

/// What `run-log` returns.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RunLogOutput {
    /// The run.
    pub run: String,
    /// The task's key (the todo, or the repository of a command sweep).
    pub todo: String,
    /// The log text (invalid UTF-8 replaced).
    pub log: String,
    /// False when the full log is gone and `log` is the record's tail.
    pub complete: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Operation for RunLog {
    const COMMAND: &'static str = "run-log";
    const TOOL: &'static str = "coord_run_log";
    const SUMMARY: &'static str = "A task's full log (output of every attempt) from a recorded run";
    const WRITES: bool = false;
    type Output = RunLogOutput;
    fn run(&self, store: &Store) -> Result<RunLogOutput> {
        let rec = record::load(store, &self.run_id)?;
        let t = rec.tasks.iter().find(|t| t.key.eq_ignore_ascii_case(&self.todo)).ok_or_else(|| {
            let keys = rec.tasks.iter().map(|t| t.key.as_str());
            let suggestion = match crate::suggest::did_you_mean(&self.todo, keys) {
                Some(k) => format!("in {}; did you mean {k}?", rec.id),
                None => format!("in {}", rec.id),
            };
            Error::Unknown { what: "task", name: self.todo.clone(), suggestion: Some(suggestion) }
        })?;
        if t.log.is_none() {
            return Err(Error::Unknown {
                what: "log of task",
                name: t.key.clone(),
                suggestion: Some("it has not run".into()),
            });
        }
        // Read where runs write logs (under the git directory), never a path
        // the record names: a record is data another clone may have written.
        let common = crate::exec::claim::common_dir(store).ok_or(Error::NeedsRepo("run-log"))?;
        let path = record::log_dir(&common, &rec.id).join(format!("{}.log", record::log_name(&t.key)));
        // A task whose one attempt succeeded without output leaves no file:
        // the record says all the file would have said. (A task with
        // output, or a failed attempt, has a file; if that is gone, the
        // tail below is all there is.)
        let one = if t.attempts.len() == 1 && t.log_tail.is_none() { t.attempts.first() } else { None };
        let silent = one.filter(|a| a.exit_code == Some(0) && a.error.is_none()).and_then(|a| {
            let command = t.command.as_deref()?;
            Some(crate::exec::runner::silent_log(&t.key, a.number, &a.started, command))
        });
        let (log, complete, warnings) = match std::fs::read(&path) {
            Ok(bytes) => (String::from_utf8_lossy(&bytes).into_owned(), true, Vec::new()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && silent.is_some() => {
                (silent.unwrap_or_default(), true, Vec::new())
            }
            Err(e) => (
                t.log_tail.clone().unwrap_or_default(),
                false,
                vec![format!("the full log is gone ({}: {e}); the record's tail:", path.display())],
            ),
        };
        Ok(RunLogOutput { run: rec.id.clone(), todo: t.key.clone(), log, complete, warnings })
    }
}
