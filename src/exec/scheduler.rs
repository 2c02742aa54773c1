//! The dispatcher: one loop owns the run's state and its record; tasks run
//! as tokio tasks and report back over a channel. A task starts when every
//! in-run blocker succeeded and a slot is free on three counts — `--jobs`
//! overall, its pool's `max_parallel`, and its checkout (one task per
//! checkout unless the action runs each task in its own worktree). The
//! `--jobs` and pool slots are given back when a task's command succeeded,
//! the checkout when the task is done (HEAD read, todo released). A task
//! whose blocker failed or was skipped is skipped, naming the blocker;
//! independent work goes on unless `--fail-fast`.
//!
//! Cancellation comes in through a [`Cancel`] watch: `Soft` (a first
//! Ctrl-C) stops dispatching and terminates every running group (SIGTERM,
//! grace, SIGKILL); `Hard` (a second) kills them at once. Claimed todos go
//! back to the status they had, and the record says `cancelled`.
//!
//! It stays one file: the dispatch loop, the slot accounting and cancellation
//! work on one run state, which only this loop owns.

use super::config::ExecConfig;
use super::record::{self, AttemptRecord, RunRecord, RunStatus, StatusChange, TaskRecord};
use super::runner::{self, Attempt, AttemptEnd, Runner};
use super::{Event, RunOptions, Selection, Task, TaskKind, TaskStatus, claim, plan};
use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::model::Kind;
use crate::store::{Durability, Store};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};

/// A cancellation request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancel {
    None,
    /// Stop dispatching; terminate running groups (grace, then kill).
    Soft,
    /// Kill running groups at once.
    Hard,
}

/// How a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    New,
    /// Continue an interrupted, cancelled or failed run in its own record.
    Resume(String),
    /// A new run of what failed (and what it blocked) in a recorded run.
    RerunFailed(String),
}

/// A run ready to start (or to show as a dry run).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub id: String,
    pub selection: Selection,
    pub options: RunOptions,
    pub cfg: ExecConfig,
    pub tasks: Vec<Task>,
    pub warnings: Vec<String>,
    /// The record a resumed run continues.
    pub resumes: Option<RunRecord>,
}

/// Plans a run: settings, selection, order, resolution and trust. Cycles
/// are refused here, before anything starts.
pub fn prepare(store: &Store, selection: Option<Selection>, mut opts: RunOptions, start: Start) -> Result<Prepared> {
    let cfg = ExecConfig::from_settings(&store.settings)?;
    let mut resumes = None;
    let (id, selection) = match &start {
        Start::New => (
            record::new_id(),
            selection.ok_or_else(|| {
                Error::Fields(vec![crate::error::FieldError::new("todos", "choose what to run with one of").with(&[
                    "todos",
                    "plan",
                    "milestone",
                    "repo",
                    "label",
                ])])
            })?,
        ),
        Start::Resume(id) => {
            let old = record::load(store, id)?;
            let st = old.effective_status();
            if matches!(st, RunStatus::Running | RunStatus::Succeeded) {
                return Err(Refusal::NothingToResume { run: id.to_string(), status: st.as_str().into() }.into());
            }
            opts = merge_options(&old.options, opts);
            opts.resume_todos = old
                .tasks
                .iter()
                .filter(|t| t.kind == TaskKind::Todo && t.status != TaskStatus::Succeeded)
                .map(|t| t.key.clone())
                .collect();
            let sel = old.selection.clone();
            resumes = Some(old);
            (id.clone(), sel)
        }
        Start::RerunFailed(id) => {
            let old = record::load(store, id)?;
            opts = merge_options(&old.options, opts);
            let again: Vec<String> = old
                .tasks
                .iter()
                .filter(|t| match t.status {
                    TaskStatus::Failed | TaskStatus::Cancelled => true,
                    // Blocked outside the run: running it again would be skipped again.
                    TaskStatus::Skipped => t.skip != Some(record::SkipCause::BlockedOutsideRun),
                    _ => false,
                })
                .map(|t| t.key.clone())
                .collect();
            if again.is_empty() {
                return Err(Refusal::NoFailedTask { run: id.to_string() }.into());
            }
            let sel = match &old.selection {
                Selection::Command { command, .. } => {
                    Selection::Command { command: command.clone(), repos: again, role: Vec::new(), all: false }
                }
                _ => Selection::Todos { ids: again, with_deps: false },
            };
            (record::new_id(), sel)
        }
    };
    if let Selection::Command { command, .. } = &selection {
        opts.command = Some(command.clone());
    }
    let trust = crate::deps::trust::resolve(store, false)?;
    let kinds = Kind::ALL;
    let loaded = store.load(&kinds)?;
    // A resumed `execute TODO…` plans only what did not succeed: the todos
    // it completed are no longer open, and naming them would be refused. A
    // run killed between completing a todo and recording it left the todo
    // completed and its task unrecorded: the todo file decides.
    let open = |id: &String| match loaded.get(Kind::Todo, id).map(|r| &r.entity) {
        Some(crate::model::Entity::Todo(t)) => t.is_open(),
        _ => true,
    };
    let planned = match (&start, &selection) {
        (Start::Resume(_), Selection::Todos { ids, with_deps }) => {
            let left: Vec<String> =
                ids.iter().filter(|id| opts.resume_todos.contains(id) && open(id)).cloned().collect();
            if left.is_empty() { selection.clone() } else { Selection::Todos { ids: left, with_deps: *with_deps } }
        }
        _ => selection.clone(),
    };
    let tasks = plan::build(store, &loaded, &cfg, &trust.policy, &planned, &opts)?;
    Ok(Prepared { id, selection, options: opts, cfg, tasks, warnings: trust.warnings, resumes })
}

fn merge_options(old: &RunOptions, new: RunOptions) -> RunOptions {
    RunOptions {
        jobs: new.jobs.or(old.jobs),
        pool: new.pool.or(old.pool.clone()),
        action: new.action.or(old.action.clone()),
        command: new.command.or(old.command.clone()),
        timeout: new.timeout.or(old.timeout),
        retries: new.retries.or(old.retries),
        backoff: new.backoff.or(old.backoff),
        fail_fast: new.fail_fast || old.fail_fast,
        resume_todos: Vec::new(),
    }
}

enum Msg {
    /// Task i's command succeeded (its slot is free; the task is not done).
    Exited {
        i: usize,
    },
    Claimed {
        i: usize,
        from: String,
    },
    AttemptStarted {
        i: usize,
        attempt: u32,
    },
    Attempt {
        i: usize,
        rec: AttemptRecord,
    },
    Head {
        i: usize,
        before: bool,
        head: Option<String>,
    },
    Done {
        i: usize,
        status: TaskStatus,
        reason: Option<String>,
        tail: Option<String>,
        todo_to: Option<String>,
    },
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn head_of(dir: &std::path::Path) -> Option<String> {
    let repo = gix::open(dir).ok()?;
    repo.head_id().ok().map(|id| id.to_string())
}

/// The checkouts' repositories, each opened once per run: HEAD is read
/// before and after every task, and opening a repository (its config, its
/// object store) cost more file operations than the rest of a task's
/// bookkeeping. Reading HEAD then follows `HEAD` and its branch only.
#[derive(Default)]
struct Heads(std::sync::Mutex<HashMap<PathBuf, gix::ThreadSafeRepository>>);

impl Heads {
    /// The commit `dir`'s HEAD names; `None` when it is not a repository
    /// or its branch is unborn.
    fn of(&self, dir: &std::path::Path) -> Option<String> {
        let known = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(dir).cloned();
        let repo = match known {
            Some(r) => r,
            None => {
                let r = gix::open(dir).ok()?.into_sync();
                self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(dir.to_path_buf(), r.clone());
                r
            }
        };
        let repo = repo.to_thread_local();
        // HEAD names a commit: no peeling (which would read the object).
        repo.head().ok()?.id().map(|id| id.to_string())
    }
}

/// Whether todo `id` is completed now.
fn todo_completed(store: &Store, id: &str) -> bool {
    matches!(
        store.load_one(Kind::Todo, id),
        Ok(Some(r)) if matches!(&r.entity, crate::model::Entity::Todo(t) if t.status.known() == Some(crate::model::TodoStatus::Completed))
    )
}

fn task_record(t: &Task, log: Option<String>) -> TaskRecord {
    let r = t.resolved.as_ref().ok();
    TaskRecord {
        key: t.key.clone(),
        kind: t.kind,
        repo: t.repo.clone(),
        path: t.dir.as_ref().map(|d| d.display().to_string()),
        blocked_by: Vec::new(),
        wave: t.wave,
        action: r.map(|r| r.action.clone()),
        command: r.map(|r| r.command.clone()),
        command_sha256: r.map(|r| crate::deps::trust::hash(&r.command)),
        pool: r.map(|r| r.pool.clone()),
        member: None,
        status: TaskStatus::Pending,
        reason: None,
        skip: None,
        head_before: None,
        head_after: None,
        todo_status: None,
        attempts: Vec::new(),
        log,
        log_tail: None,
    }
}

/// Whether a run with these tasks succeeded: nothing failed, was refused or
/// cancelled, and nothing was skipped except work another run had done.
fn all_good(rec: &RunRecord) -> bool {
    rec.tasks.iter().all(|t| {
        t.status == TaskStatus::Succeeded
            || (t.status == TaskStatus::Skipped && t.skip == Some(record::SkipCause::DoneElsewhere))
    })
}

/// Runs a prepared run to its end. Refused when `pool_execution_enabled`
/// is off. `argv` is recorded as given.
pub async fn run(
    store: Arc<Store>,
    p: Prepared,
    argv: Vec<String>,
    events: mpsc::UnboundedSender<Event>,
    mut cancel: watch::Receiver<Cancel>,
) -> Result<RunRecord> {
    if !store.settings.pool_execution_enabled {
        return Err(Refusal::PoolExecutionDisabled.into());
    }
    let common = claim::common_dir(&store).ok_or(Error::NeedsRepo("pool execution"))?;
    let logs = record::log_dir(&common, &p.id);
    std::fs::create_dir_all(&logs).map_err(|e| Error::io(&logs, e))?;
    let path = record::path_of(&store, &p.id)?;
    let cfg = &p.cfg;
    let tasks = &p.tasks;
    let log_of = |t: &Task| logs.join(format!("{}.log", record::log_name(&t.key)));
    let mut rec = RunRecord {
        id: p.id.clone(),
        status: RunStatus::Running,
        selection: p.selection.clone(),
        options: p.options.clone(),
        argv,
        host: record::hostname(),
        user: record::user(),
        pid: std::process::id(),
        coordination_commit: store.root.worktree.as_deref().and_then(head_of),
        started: now(),
        finished: None,
        resumed: Vec::new(),
        summary: Default::default(),
        tasks: tasks.iter().map(|t| task_record(t, Some(log_of(t).display().to_string()))).collect(),
    };
    for (tr, t) in rec.tasks.iter_mut().zip(tasks) {
        tr.blocked_by = t.deps.iter().map(|d| tasks[*d].key.clone()).chain(t.external_blockers.clone()).collect();
    }
    let mut status: Vec<TaskStatus> = vec![TaskStatus::Pending; tasks.len()];
    let mut previous: HashMap<String, String> = HashMap::new();
    if let Some(old) = &p.resumes {
        rec.started = old.started.clone();
        rec.resumed = old.resumed.clone();
        rec.resumed.push(now());
        for (i, tr) in rec.tasks.iter_mut().enumerate() {
            if let Some(o) = old.tasks.iter().find(|o| o.key == tr.key) {
                tr.attempts = o.attempts.clone();
                tr.head_before = o.head_before.clone();
                if let Some(c) = &o.todo_status {
                    previous.insert(tr.key.clone(), c.from.clone());
                }
                if o.status == TaskStatus::Succeeded {
                    status[i] = TaskStatus::Succeeded;
                    tr.status = TaskStatus::Succeeded;
                    tr.reason = Some("succeeded before the resume".into());
                    tr.todo_status = o.todo_status.clone();
                    tr.head_after = o.head_after.clone();
                }
            }
        }
        // Tasks of the old run that are no longer selected (completed since)
        // stay in the record as they were.
        for o in &old.tasks {
            if !rec.tasks.iter().any(|t| t.key == o.key) {
                let mut o = o.clone();
                // Completed by the dead run after its record was last
                // written: the todo file says so.
                if !o.status.is_final() && o.kind == TaskKind::Todo && todo_completed(&store, &o.key) {
                    o.status = TaskStatus::Skipped;
                    o.skip = Some(record::SkipCause::DoneElsewhere);
                    o.reason = Some("completed before the resume (its todo says so)".into());
                    if let Some(c) = &mut o.todo_status {
                        c.to = "completed".into();
                    }
                }
                status.push(o.status);
                rec.tasks.push(o);
            }
        }
    }
    let n = tasks.len();
    let heads = Arc::new(Heads::default());
    let send = |e: Event| {
        let _ = events.send(e);
    };
    send(Event::Started { run_id: p.id.clone(), total: n, record: store.rel(&path) });
    // One runner per pool the run uses, shared by its tasks.
    let mut runners: HashMap<String, std::result::Result<Arc<dyn Runner>, runner::RunnerError>> = HashMap::new();
    for (i, t) in tasks.iter().enumerate() {
        if status[i] != TaskStatus::Pending {
            continue;
        }
        let no_runner = t.resolved.as_ref().ok().and_then(|r| {
            let pool = cfg.pools.get(&r.pool)?;
            runners
                .entry(r.pool.clone())
                .or_insert_with(|| runner::for_pool(pool))
                .as_ref()
                .err()
                .map(|e| e.to_string())
        });
        if let Some((st, reason)) = t.blocked_reason(cfg).or_else(|| no_runner.map(|why| (TaskStatus::NotStarted, why)))
        {
            status[i] = st;
            rec.tasks[i].status = st;
            rec.tasks[i].reason = Some(reason.clone());
            // The one skip `blocked_reason` gives: an unfinished blocker outside the run.
            rec.tasks[i].skip = (st == TaskStatus::Skipped).then_some(record::SkipCause::BlockedOutsideRun);
            send(Event::TaskFinished {
                index: i,
                key: t.key.clone(),
                repo: t.repo.clone(),
                status: st,
                reason: Some(reason),
            });
        }
    }
    rec.recount();
    record::write(&path, &rec, Durability::Synced)?;

    let jobs = p.options.jobs.unwrap_or(cfg.jobs).max(1);
    let backoff = p.options.backoff.unwrap_or(cfg.backoff);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (tasks[i].wave, i));
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    // Tasks holding a slot, and tasks started and not done.
    let mut running = 0usize;
    let mut in_flight = 0usize;
    let mut pool_running: HashMap<String, usize> = HashMap::new();
    // Whether task i still holds its `--jobs` and pool slot: given back
    // when its command succeeded (`Msg::Exited`), so the next task starts
    // while this one's bookkeeping (HEAD, the todo's release) goes on; the
    // checkout stays busy until the task is done.
    let mut holds_slot: Vec<bool> = vec![false; n];
    let mut busy: HashSet<PathBuf> = HashSet::new();
    let mut stopping: Option<String> = None;
    let mut cancelled = false;
    let mut dirty = false;
    let mut last_write = Instant::now();
    // A task that succeeded is written before anything it unblocks starts
    // (a resume must not run it again) — unless it completed its todo: the
    // todo file, written durably before the task reported back, already
    // keeps a resume from planning it. Other changes are coalesced, written
    // at most every FLUSH, so the dispatcher does not serialise the whole
    // record once or twice per task.
    let mut finished = false;
    const FLUSH: Duration = Duration::from_millis(200);
    loop {
        if finished {
            rec.recount();
            record::write(&path, &rec, Durability::Unsynced)?;
            (finished, dirty, last_write) = (false, false, Instant::now());
        }
        // Skips propagate along in-run edges.
        let mut changed = true;
        while changed {
            changed = false;
            for &i in &order {
                if status[i] != TaskStatus::Pending {
                    continue;
                }
                if let Some(&d) =
                    tasks[i].deps.iter().find(|&&d| status[d].is_final() && status[d] != TaskStatus::Succeeded)
                {
                    let reason = format!("blocked by {}, {}", tasks[d].key, status[d].as_str().replace('_', " "));
                    status[i] = TaskStatus::Skipped;
                    rec.tasks[i].status = TaskStatus::Skipped;
                    rec.tasks[i].reason = Some(reason.clone());
                    rec.tasks[i].skip = Some(record::SkipCause::BlockedInRun);
                    send(Event::TaskFinished {
                        index: i,
                        key: tasks[i].key.clone(),
                        repo: tasks[i].repo.clone(),
                        status: TaskStatus::Skipped,
                        reason: Some(reason),
                    });
                    changed = true;
                    dirty = true;
                }
            }
        }
        if let Some(why) = &stopping {
            // Ctrl-C: what did not start is cancelled (a resume runs it);
            // --fail-fast: it is skipped because of the failure.
            let (st, reason) = if cancelled {
                (TaskStatus::Cancelled, format!("not started: {why}"))
            } else {
                (TaskStatus::Skipped, why.clone())
            };
            for &i in &order {
                if status[i] == TaskStatus::Pending {
                    status[i] = st;
                    rec.tasks[i].status = st;
                    rec.tasks[i].reason = Some(reason.clone());
                    send(Event::TaskFinished {
                        index: i,
                        key: tasks[i].key.clone(),
                        repo: tasks[i].repo.clone(),
                        status: st,
                        reason: Some(reason.clone()),
                    });
                    dirty = true;
                }
            }
        } else {
            for &i in &order {
                if running >= jobs {
                    break;
                }
                if status[i] != TaskStatus::Pending
                    || !tasks[i].deps.iter().all(|&d| status[d] == TaskStatus::Succeeded)
                {
                    continue;
                }
                let t = &tasks[i];
                let r = t.resolved.as_ref().expect("blocked_reason passed");
                let pool_max = cfg.pools.get(&r.pool).map_or(1, |p| p.max_parallel);
                if pool_running.get(&r.pool).copied().unwrap_or(0) >= pool_max {
                    continue;
                }
                let dir = t.dir.clone().expect("blocked_reason passed");
                if !r.worktree && busy.contains(&dir) {
                    continue;
                }
                if !r.worktree {
                    busy.insert(dir.clone());
                }
                *pool_running.entry(r.pool.clone()).or_default() += 1;
                running += 1;
                holds_slot[i] = true;
                in_flight += 1;
                status[i] = TaskStatus::Running;
                rec.tasks[i].status = TaskStatus::Running;
                dirty = true;
                let ctx = TaskCtx {
                    store: store.clone(),
                    common: common.clone(),
                    run_id: p.id.clone(),
                    i,
                    task: t.clone(),
                    resolved: r.clone(),
                    dir,
                    log: log_of(t),
                    // Only a local process reads a prompt file here (an ssh
                    // host gets its own, a pool service the text), and only
                    // when its action asks for one: each file is an inode.
                    prompt_file: (r.prompt_file
                        && cfg.pools.get(&r.pool).is_some_and(|p| p.runner == super::config::RunnerKind::Local))
                    .then(|| logs.join(format!("{}.prompt", record::log_name(&t.key)))),
                    grace: cfg.grace,
                    backoff,
                    previous: previous.get(&t.key).cloned(),
                    events: events.clone(),
                    msgs: tx.clone(),
                    cancel: cancel.clone(),
                    runner: runners[&r.pool].clone().expect("runner built before dispatch"),
                    heads: heads.clone(),
                };
                tokio::spawn(run_task(ctx));
            }
        }
        if dirty && last_write.elapsed() >= FLUSH {
            rec.recount();
            record::write(&path, &rec, Durability::Unsynced)?;
            dirty = false;
            last_write = Instant::now();
        }
        if in_flight == 0 && !status.iter().take(n).any(|s| *s == TaskStatus::Pending) {
            break;
        }
        let flush_at = tokio::time::Instant::from_std(last_write + FLUSH);
        tokio::select! {
            m = rx.recv() => {
                let Some(m) = m else { break };
                dirty = true;
                match m {
                    Msg::Exited { i } => {
                        if std::mem::take(&mut holds_slot[i]) {
                            running -= 1;
                            let pool = &tasks[i].resolved.as_ref().expect("ran").pool;
                            if let Some(c) = pool_running.get_mut(pool) { *c -= 1; }
                        }
                    }
                    Msg::Claimed { i, from } => {
                        rec.tasks[i].todo_status = Some(StatusChange { from, to: "in_progress".into() });
                    }
                    Msg::AttemptStarted { i, attempt } => {
                        send(Event::TaskStarted { index: i, key: tasks[i].key.clone(), repo: tasks[i].repo.clone(), attempt });
                    }
                    Msg::Attempt { i, rec: a } => {
                        rec.tasks[i].member = a.member.clone();
                        rec.tasks[i].attempts.push(a);
                    }
                    Msg::Head { i, before, head } => {
                        if before && rec.tasks[i].head_before.is_none() { rec.tasks[i].head_before = head } else if !before { rec.tasks[i].head_after = head }
                    }
                    Msg::Done { i, status: st, reason, tail, todo_to } => {
                        let completed_todo = tasks[i].kind == TaskKind::Todo && todo_to.as_deref() == Some("completed");
                        finished |= st == TaskStatus::Succeeded && !completed_todo;
                        let r = tasks[i].resolved.as_ref().expect("ran");
                        if std::mem::take(&mut holds_slot[i]) {
                            running -= 1;
                            if let Some(c) = pool_running.get_mut(&r.pool) { *c -= 1; }
                        }
                        in_flight -= 1;
                        if let Some(d) = &tasks[i].dir && !r.worktree { busy.remove(d); }
                        status[i] = st;
                        let tr = &mut rec.tasks[i];
                        tr.status = st;
                        tr.reason = reason.clone();
                        // A task that ran skips only when another run had finished its todo.
                        tr.skip = (st == TaskStatus::Skipped).then_some(record::SkipCause::DoneElsewhere);
                        tr.log_tail = tail;
                        match (&mut tr.todo_status, todo_to) {
                            (Some(c), Some(to)) => c.to = to,
                            (None, Some(to)) => tr.todo_status = Some(StatusChange { from: to.clone(), to }),
                            _ => {}
                        }
                        send(Event::TaskFinished { index: i, key: tasks[i].key.clone(), repo: tasks[i].repo.clone(), status: st, reason });
                        if st == TaskStatus::Failed && p.options.fail_fast && stopping.is_none() {
                            let why = format!("stopping at the first failure (fail_fast): {} failed", tasks[i].key);
                            send(Event::Stopping { reason: why.clone() });
                            stopping = Some(why);
                        }
                    }
                }
            }
            c = cancel.changed() => {
                let level = if c.is_err() { Cancel::None } else { *cancel.borrow() };
                if level != Cancel::None && !cancelled {
                    cancelled = true;
                    let why = "run cancelled".to_string();
                    send(Event::Stopping { reason: why.clone() });
                    stopping = Some(why);
                }
                if c.is_err() {
                    // The sender is gone: nothing can cancel any more.
                    cancel = watch::channel(Cancel::None).1;
                }
            }
            _ = tokio::time::sleep_until(flush_at), if dirty => {}
        }
    }
    rec.status = if cancelled {
        RunStatus::Cancelled
    } else if all_good(&rec) {
        RunStatus::Succeeded
    } else {
        RunStatus::Failed
    };
    rec.finished = Some(now());
    rec.recount();
    record::write(&path, &rec, Durability::Synced)?;
    Ok(rec)
}

struct TaskCtx {
    store: Arc<Store>,
    common: PathBuf,
    run_id: String,
    i: usize,
    task: Task,
    resolved: plan::Resolved,
    dir: PathBuf,
    log: PathBuf,
    prompt_file: Option<PathBuf>,
    grace: Duration,
    backoff: Duration,
    previous: Option<String>,
    events: mpsc::UnboundedSender<Event>,
    msgs: mpsc::UnboundedSender<Msg>,
    cancel: watch::Receiver<Cancel>,
    runner: Arc<dyn Runner>,
    heads: Arc<Heads>,
}

/// Aborts a spawned task when dropped (a deferred write no longer wanted;
/// one already under way finishes, and the claim orders it before the
/// release).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Exponential backoff with jitter: between half and all of `base · 2^(n-1)`.
pub fn backoff_delay(base: Duration, retry: u32) -> Duration {
    let full = base.saturating_mul(1u32 << retry.saturating_sub(1).min(16));
    full.mul_f64(0.5 + fastrand::f64() * 0.5)
}

async fn run_task(cx: TaskCtx) {
    let i = cx.i;
    let done = |status: TaskStatus, reason: Option<String>, tail: Option<String>, todo_to: Option<String>| {
        let _ = cx.msgs.send(Msg::Done { i, status, reason, tail, todo_to });
    };
    // Claim the todo (its lock; its status is read), read the checkout's
    // HEAD and write the prompt file (when it has one): one trip to the
    // blocking pool.
    let mut held = None;
    let dir = cx.dir.clone();
    let (store, common, key, prev, kind) =
        (cx.store.clone(), cx.common.clone(), cx.task.key.clone(), cx.previous.clone(), cx.task.kind);
    let (d2, prompt_file, prompt) = (dir.clone(), cx.prompt_file.clone(), cx.task.prompt.clone());
    let heads = cx.heads.clone();
    let r = tokio::task::spawn_blocking(move || {
        let claimed = (kind == TaskKind::Todo).then(|| claim::claim(&store, &common, &key, prev.as_deref()));
        if !matches!(claimed, None | Some(Ok(Ok(_)))) {
            return (claimed, None);
        }
        if let Some(f) = &prompt_file {
            let _ = std::fs::write(f, prompt);
        }
        (claimed, heads.of(&d2))
    })
    .await;
    let before = match r {
        Err(e) => return done(TaskStatus::NotStarted, Some(format!("cannot claim: {e}")), None, None),
        Ok((claimed, before)) => {
            match claimed {
                None => {}
                Some(Ok(Ok(c))) => {
                    let _ = cx.msgs.send(Msg::Claimed { i, from: c.previous.clone() });
                    held = Some(c);
                }
                Some(Ok(Err(claim::NotClaimed::Busy))) => {
                    return done(TaskStatus::NotStarted, Some("claimed by another run".into()), None, None);
                }
                Some(Ok(Err(claim::NotClaimed::Finished(s)))) => {
                    return done(TaskStatus::Skipped, Some(format!("already {s} (by another run)")), None, None);
                }
                Some(Err(e)) => return done(TaskStatus::NotStarted, Some(format!("cannot claim: {e}")), None, None),
            }
            before
        }
    };
    let _ = cx.msgs.send(Msg::Head { i, before: true, head: before });
    // The todo shows `in_progress` once the task has run for a moment
    // (`claim::SHOW_AFTER`); a quick task's todo is written once, at the end.
    let show = held.as_ref().map(|c| {
        let (shower, store) = (c.shower(), cx.store.clone());
        AbortOnDrop(tokio::spawn(async move {
            tokio::time::sleep(claim::SHOW_AFTER).await;
            let _ = tokio::task::spawn_blocking(move || shower.show(&store)).await;
        }))
    });
    // A worktree of its own, when the action asks for one.
    let mut worktree = None;
    let mut run_dir = dir.clone();
    if cx.resolved.worktree {
        let wt = cx.common.join("git-coord").join("worktrees").join(&cx.run_id).join(record::log_name(&cx.task.key));
        let out = crate::gitcmd::Git::new(&dir).output(&["worktree", "add", "--detach", &wt.to_string_lossy(), "HEAD"]);
        match out {
            Ok(o) if o.status.success() => {
                run_dir = wt.clone();
                worktree = Some(wt);
            }
            Ok(o) => {
                let msg = format!("cannot create a worktree: {}", String::from_utf8_lossy(&o.stderr).trim());
                let to = release(&cx, held, false, 0.0).await;
                return done(TaskStatus::NotStarted, Some(msg), None, to);
            }
            Err(e) => {
                let to = release(&cx, held, false, 0.0).await;
                return done(TaskStatus::NotStarted, Some(format!("cannot create a worktree: {e}")), None, to);
            }
        }
    }
    let t = &cx.task;
    let mut env = vec![
        ("COORD_RUN_ID".to_string(), cx.run_id.clone()),
        ("COORD_TODO_ID".into(), if t.kind == TaskKind::Todo { t.key.clone() } else { String::new() }),
        ("COORD_REPO".into(), t.repo.clone()),
        ("COORD_REPO_PATH".into(), run_dir.display().to_string()),
        ("COORD_PLAN_ID".into(), t.plan_id.clone().unwrap_or_default()),
        ("COORD_MILESTONE_ID".into(), t.milestone_id.clone().unwrap_or_default()),
        ("COORD_ACTION".into(), cx.resolved.action.clone()),
        ("COORD_TASK".into(), t.title.clone()),
        ("COORD_PROMPT_FILE".into(), cx.prompt_file.as_ref().map(|f| f.display().to_string()).unwrap_or_default()),
    ];
    let mut job = Attempt {
        key: t.key.clone(),
        repo: t.repo.clone(),
        command: cx.resolved.command.clone(),
        dir: run_dir.clone(),
        env: Vec::new(),
        stdin: t.prompt.clone(),
        prompt_file: cx.prompt_file.clone(),
        timeout: cx.resolved.timeout,
        grace: cx.grace,
        log: cx.log.clone(),
        header: String::new(),
    };
    let mut last = AttemptEnd::default();
    let mut tail = Default::default();
    let mut hours = 0.0;
    let attempts = cx.resolved.retries + 1;
    for attempt in 1..=attempts {
        if *cx.cancel.borrow() != Cancel::None {
            last.cancelled = true;
            break;
        }
        let _ = cx.msgs.send(Msg::AttemptStarted { i, attempt });
        env.retain(|(k, _)| k != "COORD_ATTEMPT");
        env.push(("COORD_ATTEMPT".into(), attempt.to_string()));
        job.env = env.clone();
        let started = now();
        job.header = runner::log_header(&t.key, attempt, &started, &job.command);
        let (events, idx, repo) = (cx.events.clone(), i, t.repo.clone());
        let line = Box::new(move |line| {
            let _ = events.send(Event::Output { index: idx, repo: repo.clone(), line });
        });
        let out = cx.runner.run(&job, line, cx.cancel.clone()).await;
        let end = out.end;
        let mut rec = AttemptRecord::of(attempt, started, &end);
        rec.member = Some(out.member);
        let _ = cx.msgs.send(Msg::Attempt { i, rec });
        hours += end.duration.as_secs_f64() / 3600.0;
        tail = out.tail;
        last = end;
        if last.success() || last.cancelled || attempt == attempts {
            break;
        }
        let delay = backoff_delay(cx.backoff, attempt);
        let _ = cx.events.send(Event::Retrying { index: i, key: t.key.clone(), attempt, delay, reason: last.reason() });
        let mut c = cx.cancel.clone();
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = c.wait_for(|v| *v != Cancel::None) => { last.cancelled = true; break; }
        }
    }
    let ok = last.success();
    // The command succeeded: its slot can take the next task while this one
    // removes its worktree, reads HEAD and releases its todo. (A failure
    // keeps the slot until it is reported, so `--fail-fast` starts nothing
    // after it.)
    if ok {
        let _ = cx.msgs.send(Msg::Exited { i });
    }
    if let Some(wt) = worktree {
        let _ = crate::gitcmd::Git::new(&dir).output(&["worktree", "remove", "--force", &wt.to_string_lossy()]);
    }
    drop(show);
    let (after, to) = finish(&cx, held, ok, if cx.resolved.agent { hours } else { 0.0 }).await;
    let _ = cx.msgs.send(Msg::Head { i, before: false, head: after });
    let tail: Vec<String> = tail.into_iter().collect();
    let tail = (!tail.is_empty()).then(|| tail.join("\n"));
    let (status, reason) = if ok {
        (TaskStatus::Succeeded, None)
    } else if last.cancelled {
        (TaskStatus::Cancelled, Some("cancelled".to_string()))
    } else {
        let n = attempts.min(cx.resolved.retries + 1);
        let tries = if n > 1 { format!(" (after {n} attempts)") } else { String::new() };
        (TaskStatus::Failed, Some(format!("{}{tries}", last.reason())))
    };
    done(status, reason, tail, to);
}

async fn release(cx: &TaskCtx, held: Option<claim::Claim>, ok: bool, hours: f64) -> Option<String> {
    let c = held?;
    let store = cx.store.clone();
    let completes = cx.resolved.completes;
    let hours = (cx.resolved.agent && ok).then_some(hours);
    match tokio::task::spawn_blocking(move || claim::release(&store, c, ok, completes, hours)).await {
        Ok(Ok(to)) => Some(to),
        _ => None,
    }
}

/// The checkout's HEAD after the task, and the claim released (the status
/// written): one trip to the blocking pool.
async fn finish(cx: &TaskCtx, held: Option<claim::Claim>, ok: bool, hours: f64) -> (Option<String>, Option<String>) {
    let (store, dir, heads) = (cx.store.clone(), cx.dir.clone(), cx.heads.clone());
    let completes = cx.resolved.completes;
    let hours = (cx.resolved.agent && ok).then_some(hours);
    tokio::task::spawn_blocking(move || {
        let head = heads.of(&dir);
        let to = held.and_then(|c| claim::release(&store, c, ok, completes, hours).ok());
        (head, to)
    })
    .await
    .unwrap_or((None, None))
}
