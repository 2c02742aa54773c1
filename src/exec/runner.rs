//! The runner abstraction: what the scheduler dispatches an attempt
//! through, one [`Runner`] per pool of the run.
//!
//! The scheduler owns order, slots, claims, retries and the record; a
//! runner owns only *where and how* one attempt runs. It receives an
//! [`Attempt`] — the approved command text, the `COORD_*` environment, the
//! task text for stdin, the prompt file, the checkout, the timeout, grace
//! period and log — and returns an [`Outcome`]: how the attempt ended
//! ([`AttemptEnd`]: exit code or signal, timeout, cancellation, duration, a
//! start error), the last lines of its output and the member that ran it
//! (`local`, an SSH host, a pool service's worker).
//!
//! Every runner keeps the same promises, so the scheduler never needs to
//! know which one it talks to:
//!
//! - the command text is run unchanged; the task's words reach it only on
//!   stdin, in the environment and in the prompt file (never spliced into
//!   a command line);
//! - each whole line of output goes to the `line` callback *and* is appended
//!   to the attempt's log (`Attempt::log`), after `Attempt::header`, ending
//!   with a `--- ok` / `--- <reason>` line — the local and ssh runners
//!   create the log at the first line or at a failure ([`Output`]), so a
//!   silent success leaves none;
//! - the attempt ends by `Attempt::timeout` or a [`Cancel`] on the watch:
//!   `Soft` → terminate (grace, then kill), `Hard` → kill at once; nothing
//!   the attempt started outlives it (for remote runners: on the remote
//!   side too);
//! - a runner that cannot start the attempt returns an [`AttemptEnd`] with
//!   `spawn_error` set, never panics.
//!
//! Runners are built once per run ([`for_pool`]) and shared by the pool's
//! tasks, so member selection (round robin, least loaded) can keep state.

use super::config::{Pool, RunnerKind};
use super::scheduler::Cancel;
use crate::process_group::Group;
use rustix::process::Signal;
use std::collections::VecDeque;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Lines of output kept for the record's tail.
pub const TAIL_LINES: usize = 20;

/// One attempt of one task, as the scheduler hands it to a runner.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The todo ID, or the repository in command mode.
    pub key: String,
    /// Canonical repository name (affinity keys on it).
    pub repo: String,
    /// The approved command text (`sh -c`).
    pub command: String,
    /// The checkout (or the task's worktree) on this machine.
    pub dir: PathBuf,
    /// `COORD_*` variables (values are data, never code).
    pub env: Vec<(String, String)>,
    /// The task text, written to the process's stdin.
    pub stdin: String,
    /// The prompt file on this machine (already written; `COORD_PROMPT_FILE`),
    /// when the task has one.
    pub prompt_file: Option<PathBuf>,
    pub timeout: Duration,
    /// Between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// The full log, appended to.
    pub log: PathBuf,
    /// The first line written to the log for this attempt.
    pub header: String,
}

/// How an attempt ended.
#[derive(Debug, Clone, Default)]
pub struct AttemptEnd {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub cancelled: bool,
    pub duration: Duration,
    pub spawn_error: Option<String>,
}

impl AttemptEnd {
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out && !self.cancelled && self.spawn_error.is_none()
    }
    /// Why it failed, for people.
    pub fn reason(&self) -> String {
        if let Some(e) = &self.spawn_error {
            return e.clone();
        }
        if self.cancelled {
            return "cancelled".into();
        }
        if self.timed_out {
            return format!("timed out after {:.1}s", self.duration.as_secs_f64());
        }
        match (self.code, self.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "ended without a status".into(),
        }
    }
}

/// What a runner returns.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub end: AttemptEnd,
    /// The last [`TAIL_LINES`] lines of output.
    pub tail: VecDeque<String>,
    /// Which member ran it (`local`, `user@host:port`, a worker ID).
    pub member: String,
}

/// Receives each whole line of an attempt's output.
pub type LineSink = Box<dyn FnMut(String) + Send>;

/// A boxed future (runners are used as trait objects).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs attempts for one pool. See the module documentation for the
/// promises every implementation keeps.
pub trait Runner: Send + Sync {
    /// Runs one attempt to its end.
    fn run<'a>(
        &'a self,
        attempt: &'a Attempt,
        line: LineSink,
        cancel: watch::Receiver<Cancel>,
    ) -> BoxFuture<'a, Outcome>;
}

/// Why a pool's runner cannot be used; its tasks are not started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunnerError {
    /// This build has no such runner.
    #[error("pool `{pool}`: the {runner} runner is not available yet")]
    NotAvailable {
        /// The pool.
        pool: String,
        /// The runner's name.
        runner: &'static str,
    },
    /// A pool service's settings cannot be used.
    #[error(transparent)]
    Service(#[from] super::runner_mcp::ServiceError),
    /// An `ssh` pool's host is not `[user@]host[:port]`.
    #[error("pool `{pool}`: host {source}")]
    BadHost {
        /// The pool.
        pool: String,
        /// What is wrong with it.
        source: super::ssh::settings::HostError,
    },
}

/// Whether a pool's runner exists in this build (checked before a run
/// starts, so a dry run can say why a task would not start).
pub fn available(pool: &Pool) -> std::result::Result<(), RunnerError> {
    match pool.runner {
        RunnerKind::Local => Ok(()),
        RunnerKind::Ssh => Ok(()),
        RunnerKind::SessionBuddy | RunnerKind::Mahavishnu => {
            super::runner_mcp::McpPool::new(pool).map(|_| ()).map_err(RunnerError::Service)
        }
    }
}

/// The runner for `pool`, built once per run.
pub fn for_pool(pool: &Pool) -> std::result::Result<Arc<dyn Runner>, RunnerError> {
    available(pool)?;
    Ok(match pool.runner {
        RunnerKind::Local => Arc::new(super::local::Local),
        RunnerKind::Ssh => Arc::new(super::ssh::Ssh::new(pool)?),
        RunnerKind::SessionBuddy | RunnerKind::Mahavishnu => {
            Arc::new(super::runner_mcp::McpPool::new(pool).map_err(RunnerError::Service)?)
        }
    })
}

/// Where an attempt's output goes: the log file, the tail and the line
/// callback (shared by the runners that read a child's pipes).
///
/// The log is created at the attempt's first line of output, or at its end
/// when it did not succeed: an attempt that succeeded without a word leaves
/// no file (each file is an inode, and creating inodes is most of what a
/// run of quick tasks costs). `run-log` shows such an attempt from the
/// record as the file would have had it ([`silent_log`]). Once a task has a
/// log, every later attempt appends to it from its header on.
pub struct Output {
    log: Log,
    pub tail: VecDeque<String>,
    line: LineSink,
}

/// The log file of an attempt, opened when first needed.
enum Log {
    /// Not created yet: the path and the header it starts with.
    Pending(PathBuf, String),
    Open(std::fs::File),
    /// Could not be opened (output still reaches the tail and the callback).
    Failed,
}

impl Log {
    fn file(&mut self) -> Option<&mut std::fs::File> {
        use std::io::Write;
        if let Log::Pending(path, header) = self {
            let opened = std::fs::OpenOptions::new().create(true).append(true).open(&*path);
            *self = match opened {
                Ok(mut f) => {
                    let _ = writeln!(f, "{header}");
                    Log::Open(f)
                }
                Err(_) => Log::Failed,
            };
        }
        match self {
            Log::Open(f) => Some(f),
            _ => None,
        }
    }
}

impl Output {
    /// The attempt's log (appended to), with its header; created at once
    /// when the task already has a log, else when first needed.
    pub fn open(attempt: &Attempt, line: LineSink) -> Output {
        let mut log = Log::Pending(attempt.log.clone(), attempt.header.clone());
        if std::fs::symlink_metadata(&attempt.log).is_ok() {
            log.file();
        }
        Output { log, tail: VecDeque::new(), line }
    }

    /// One line of output (with or without its newline).
    pub fn take(&mut self, bytes: &[u8]) {
        use std::io::Write;
        if let Some(l) = self.log.file() {
            let _ = l.write_all(bytes);
            if !bytes.ends_with(b"\n") {
                let _ = l.write_all(b"\n");
            }
        }
        let text = String::from_utf8_lossy(bytes).trim_end_matches(['\n', '\r']).to_string();
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(text.clone());
        (self.line)(text);
    }

    /// Ends the attempt's log with `--- ok` or `--- <reason>` (a silent
    /// success that created no log writes nothing).
    pub fn finish(&mut self, end: &AttemptEnd) {
        use std::io::Write;
        if end.success() && matches!(self.log, Log::Pending(..)) {
            return;
        }
        if let Some(l) = self.log.file() {
            let _ = writeln!(l, "--- {}", if end.success() { "ok".to_string() } else { end.reason() });
        }
    }
}

/// The first line of an attempt's log.
pub fn log_header(key: &str, attempt: u32, started: &str, command: &str) -> String {
    format!("=== {key} attempt {attempt} at {started}: {command}")
}

/// What the log of a task whose attempt succeeded without output would
/// hold, had it been written: its header and `--- ok`.
pub fn silent_log(key: &str, attempt: u32, started: &str, command: &str) -> String {
    format!("{}\n--- ok\n", log_header(key, attempt, started, command))
}

/// Which pipe a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Output lines of a child, tagged with their pipe.
pub type Lines = tokio::sync::mpsc::UnboundedReceiver<(Stream, Vec<u8>)>;

/// Reads a child's stdout and stderr as whole lines (bytes, newline kept)
/// into one channel; the channel closes when both pipes are at their end.
fn pump(child: &mut tokio::process::Child) -> Lines {
    use tokio::io::AsyncBufReadExt;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let streams = [
        child.stdout.take().map(|s| (Stream::Stdout, Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>)),
        child.stderr.take().map(|s| (Stream::Stderr, Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>)),
    ];
    for (which, stream) in streams.into_iter().flatten() {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut r = tokio::io::BufReader::new(stream);
            let mut buf = Vec::new();
            while let Ok(n) = r.read_until(b'\n', &mut buf).await {
                if n == 0 {
                    break;
                }
                let _ = tx.send((which, std::mem::take(&mut buf)));
            }
        });
    }
    rx
}

/// Resolves when the cancel level becomes `Hard` (or nobody can cancel
/// any more): cuts a grace period short.
async fn hard_cancel(mut watch: watch::Receiver<Cancel>) {
    loop {
        if *watch.borrow_and_update() == Cancel::Hard || watch.changed().await.is_err() {
            return;
        }
    }
}

/// Resolves at the first cancellation of either level (or when nobody can
/// cancel any more).
async fn any_cancel(mut watch: watch::Receiver<Cancel>) {
    loop {
        if *watch.borrow_and_update() != Cancel::None || watch.changed().await.is_err() {
            return;
        }
    }
}

/// How long a group may take to go after it was told to die (SIGKILL, or an
/// SSH pool's remote `kill`) before it is killed here and waited for
/// without a limit. For an SSH attempt this is the time the client gets to
/// bring back the remote status.
pub const KILL_MARGIN: Duration = Duration::from_secs(5);

/// How [`supervise`] ended an attempt's group.
#[derive(Debug, Default)]
pub struct Supervised {
    /// The group leader's exit status (`None`: it could not be waited for).
    pub status: Option<std::process::ExitStatus>,
    pub timed_out: bool,
    pub cancelled: bool,
}

/// Where one wait of [`supervise`] stopped.
enum Waited {
    Exited(Option<std::process::ExitStatus>),
    /// The time was up.
    Late,
    /// The `cut` future resolved.
    Cut,
}

/// Waits for `group` until `until` or until `cut` resolves, passing its
/// output lines to `take` meanwhile.
async fn wait_pumping(
    group: &mut Group,
    rx: &mut Lines,
    lines_open: &mut bool,
    take: &mut impl FnMut(Stream, Vec<u8>),
    until: tokio::time::Instant,
    cut: impl Future<Output = ()>,
) -> Waited {
    tokio::pin!(cut);
    loop {
        tokio::select! {
            s = group.wait() => return Waited::Exited(s),
            l = rx.recv(), if *lines_open => match l {
                Some((w, b)) => take(w, b),
                None => *lines_open = false,
            },
            _ = tokio::time::sleep_until(until) => return Waited::Late,
            _ = &mut cut => return Waited::Cut,
        }
    }
}

/// The one wait loop of every runner that runs an attempt as a local
/// process group (the `local` runner's shell, the `ssh` runner's client):
/// reads the group's output into `take` until the leader exits, the
/// `deadline` passes or the run is cancelled, and makes sure nothing of the
/// group outlives the attempt.
///
/// - The leader exits by itself: whatever it left in its group is killed.
/// - Timeout or a first Ctrl-C: `stop(group, TERM)`, up to `grace` for the
///   leader to exit (cut short by a second Ctrl-C), then
///   `stop(group, KILL)`. A hard cancel skips the TERM.
/// - Still there [`KILL_MARGIN`] after that: the local group gets SIGKILL
///   and is waited for.
///
/// `stop` is how the runner delivers TERM and KILL: to the local group
/// (`Group::signal`) or, for a remote task, down the wire to the remote
/// group. Output still in the pipes afterwards is read for up to half a
/// second (a process that escaped the group and holds them is given up on).
pub async fn supervise(
    group: &mut Group,
    mut take: impl FnMut(Stream, Vec<u8>),
    deadline: tokio::time::Instant,
    cancel: watch::Receiver<Cancel>,
    grace: Duration,
    mut stop: impl FnMut(&Group, Signal),
) -> Supervised {
    let mut rx = pump(group.child());
    let mut lines_open = true;
    let mut end = Supervised::default();
    let first = wait_pumping(group, &mut rx, &mut lines_open, &mut take, deadline, any_cancel(cancel.clone())).await;
    let exited = match first {
        Waited::Exited(s) => Some(s),
        Waited::Late => {
            end.timed_out = true;
            None
        }
        Waited::Cut => {
            end.cancelled = true;
            None
        }
    };
    end.status = match exited {
        Some(s) => s,
        None => {
            let mut status = None;
            if *cancel.borrow() != Cancel::Hard {
                stop(group, Signal::TERM);
                let until = tokio::time::Instant::now() + grace;
                let cut = hard_cancel(cancel.clone());
                if let Waited::Exited(s) = wait_pumping(group, &mut rx, &mut lines_open, &mut take, until, cut).await {
                    status = Some(s);
                }
            }
            if status.is_none() {
                stop(group, Signal::KILL);
                let until = tokio::time::Instant::now() + KILL_MARGIN;
                let never = std::future::pending();
                if let Waited::Exited(s) = wait_pumping(group, &mut rx, &mut lines_open, &mut take, until, never).await
                {
                    status = Some(s);
                }
            }
            match status {
                Some(s) => s,
                None => {
                    group.signal(Signal::KILL);
                    group.wait().await
                }
            }
        }
    };
    // Whatever the leader left in its group does not outlive it.
    group.kill_rest();
    let drain_until = tokio::time::Instant::now() + Duration::from_millis(500);
    while lines_open {
        match tokio::time::timeout_at(drain_until, rx.recv()).await {
            Ok(Some((w, b))) => take(w, b),
            _ => lines_open = false,
        }
    }
    end
}
