//! Run records: `coordination/runs/RUN-<time>-<random>.yaml`, one file per
//! run, named so that two machines never pick the same name (no numbering,
//! so `sync` never renumbers them; the loader reads only entity kinds'
//! directories and the merge driver merges them like any other YAML file).
//! A record is rewritten atomically (temp file + rename) as the run changes;
//! full logs stay under the git directory (`git-coord/runs/<RUN>/`) and the
//! record keeps a tail.
//!
//! A record still `running` whose process is gone (same host, pid dead) is
//! shown as `interrupted`, and can be resumed.

use super::runner::AttemptEnd;
use super::{RunOptions, Selection, TaskKind, TaskStatus};
use crate::error::{Error, Result};
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The status of a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    Succeeded,
    Failed,
    Cancelled,
    /// Left `running` by a process that is gone (never written, derived).
    Interrupted,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelled => "cancelled",
            RunStatus::Interrupted => "interrupted",
        }
    }
}

/// One attempt of a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AttemptRecord {
    pub number: u32,
    pub started: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub timed_out: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cancelled: bool,
    pub duration_secs: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The pool member that ran it (`local`, an SSH host…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
}

impl AttemptRecord {
    pub fn of(number: u32, started: String, e: &AttemptEnd) -> AttemptRecord {
        AttemptRecord {
            number,
            started,
            exit_code: e.code,
            signal: e.signal,
            timed_out: e.timed_out,
            cancelled: e.cancelled,
            duration_secs: (e.duration.as_secs_f64() * 1000.0).round() / 1000.0,
            error: e.spawn_error.clone(),
            member: None,
        }
    }
}

/// A todo's status change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StatusChange {
    pub from: String,
    pub to: String,
}

/// Why a task was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipCause {
    /// A blocker in the same run did not succeed.
    BlockedInRun,
    /// A blocker outside the run is unfinished.
    BlockedOutsideRun,
    /// Another run had already finished the todo.
    DoneElsewhere,
}

/// One task of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TaskRecord {
    pub key: String,
    #[schemars(with = "String")]
    pub kind: TaskKind,
    pub repo: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    pub wave: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    #[schemars(with = "String")]
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why a skipped task was skipped, as a value (the `reason` is for
    /// people; decisions never read its text). Absent in records written
    /// before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub skip: Option<SkipCause>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub todo_status: Option<StatusChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<AttemptRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<String>,
}

/// Counts per final status.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Summary {
    pub total: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub skipped: usize,
    pub untrusted: usize,
    pub not_started: usize,
    pub cancelled: usize,
}

/// A run, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: String,
    pub status: RunStatus,
    pub selection: Selection,
    pub options: RunOptions,
    pub argv: Vec<String>,
    pub host: String,
    pub user: String,
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordination_commit: Option<String>,
    pub started: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed: Vec<String>,
    pub summary: Summary,
    pub tasks: Vec<TaskRecord>,
}

impl RunRecord {
    /// The status to show: `running` of a dead process is `interrupted`.
    pub fn effective_status(&self) -> RunStatus {
        if self.status == RunStatus::Running && self.host == hostname() && !pid_alive(self.pid) {
            RunStatus::Interrupted
        } else {
            self.status
        }
    }

    /// Recounts the summary from the tasks.
    pub fn recount(&mut self) {
        let mut s = Summary { total: self.tasks.len(), ..Summary::default() };
        for t in &self.tasks {
            match t.status {
                TaskStatus::Succeeded => s.succeeded += 1,
                TaskStatus::Failed => s.failed += 1,
                TaskStatus::Skipped => s.skipped += 1,
                TaskStatus::Untrusted => s.untrusted += 1,
                TaskStatus::NotStarted => s.not_started += 1,
                TaskStatus::Cancelled => s.cancelled += 1,
                TaskStatus::Pending | TaskStatus::Running => {}
            }
        }
        self.summary = s;
    }
}

pub use crate::process_group::{hostname, pid_alive};

/// The user running the process.
pub fn user() -> String {
    std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into())
}

/// A fresh run ID: `RUN-<UTC time>-<random>`.
pub fn new_id() -> String {
    let now = chrono::Utc::now();
    format!("RUN-{}-{:06x}", now.format("%Y%m%dT%H%M%SZ"), fastrand::u32(..0x100_0000))
}

/// Whether `id` looks like a run ID (no path tricks).
pub fn valid_id(id: &str) -> bool {
    id.starts_with("RUN-") && id.len() < 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `coordination/runs`.
pub fn runs_dir(store: &Store) -> PathBuf {
    store.coord_dir().join("runs")
}

/// The record file of `id`.
pub fn path_of(store: &Store, id: &str) -> Result<PathBuf> {
    if !valid_id(id) {
        return Err(Error::InvalidValue {
            field: "run_id".into(),
            value: crate::display::shown(id),
            expected: "a run ID (RUN-…)".into(),
        });
    }
    Ok(runs_dir(store).join(format!("{id}.yaml")))
}

/// Writes `rec` atomically. `durable` (fsync) for the first and the last
/// version; the versions in between are only atomic: a power loss can
/// bring back an older one, which a resume handles like any interruption.
pub fn write(path: &Path, rec: &RunRecord, durability: crate::store::Durability) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
    }
    let text = serde_yaml::to_string(rec).map_err(|e| Error::system(format!("encode the run record {}", rec.id), e))?;
    match durability {
        crate::store::Durability::Synced => crate::store::atomic_write(path, text.as_bytes()),
        crate::store::Durability::Unsynced => crate::store::atomic_write_unsynced(path, text.as_bytes()),
    }
}

/// Reads the record `id`.
pub fn load(store: &Store, id: &str) -> Result<RunRecord> {
    let path = path_of(store, id)?;
    let text = std::fs::read_to_string(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Unknown { what: "run", name: id.to_string(), suggestion: None },
        _ => Error::io(&path, e),
    })?;
    serde_yaml::from_str(&text).map_err(|e| Error::yaml(store.rel(&path), &e))
}

/// Every record, newest first (unreadable ones are skipped and returned as
/// problems).
pub fn list(store: &Store) -> Result<(Vec<RunRecord>, Vec<String>)> {
    let dir = runs_dir(store);
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let Ok(rd) = std::fs::read_dir(&dir) else { return Ok((out, problems)) };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(id) = name.strip_suffix(".yaml") else { continue };
        if !valid_id(id) {
            continue;
        }
        match load(store, id) {
            Ok(r) => out.push(r),
            Err(e) => problems.push(e.to_string()),
        }
    }
    out.sort_by(|a, b| b.started.cmp(&a.started).then(b.id.cmp(&a.id)));
    Ok((out, problems))
}

/// The directory holding a run's logs.
pub fn log_dir(common_dir: &Path, id: &str) -> PathBuf {
    common_dir.join("git-coord").join("runs").join(id)
}

/// A file-name-safe form of a task key.
pub fn log_name(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '_' }).collect()
}
