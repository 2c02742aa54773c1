//! Why the library refused an operation, as data: one enum of the real
//! refusal kinds, grouped by domain, each with its sentence and its hints.
//! Nothing was changed when one of these is returned.

use super::{Error, Hint};
use std::path::PathBuf;

/// An operation refused because doing it would overwrite or lose data, or
/// because the state around it does not allow it. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    // ---- sync: the state of the working repository
    /// HEAD is not on a branch.
    #[error("sync needs a branch checked out (HEAD is detached)")]
    Detached,
    /// The repository has no commit yet.
    #[error("nothing is committed yet; commit once before syncing")]
    NothingCommitted,
    /// A merge, cherry-pick or revert is under way.
    #[error("{what} is in progress; finish or abort it first")]
    InProgress {
        /// "a merge", "a cherry-pick", "a revert".
        what: &'static str,
    },
    /// Files with unresolved merge conflicts (at most five named).
    #[error("unresolved merge conflicts ({}); resolve them and commit first", files.join(", "))]
    Unmerged {
        /// The conflicted files.
        files: Vec<String>,
    },
    /// Uncommitted changes outside the coordination data (at most five named).
    #[error("uncommitted changes outside the coordination data ({}); commit or stash them first", files.join(", "))]
    Uncommitted {
        /// The changed files.
        files: Vec<String>,
    },
    /// A snapshot reference left by a sync that never finished.
    #[error(
        "a previous `git coord sync` did not finish (it was killed or crashed); {}; \
         if the repository is fine as it is, just delete the reference",
        recovery(snapshot)
    )]
    Interrupted {
        /// The snapshot commit.
        snapshot: String,
    },
    /// A sync failed and putting the repository back failed too.
    #[error("{error}\nputting the repository back as it was failed too: {restore}\n{}", recovery(snapshot))]
    RestoreFailed {
        /// Why the sync failed.
        error: Box<Error>,
        /// Why the restore failed.
        restore: Box<Error>,
        /// The snapshot commit that holds the previous state.
        snapshot: String,
    },
    /// Merging upstream conflicts in fields the field-level merge cannot join.
    #[error(
        "merging {upstream} conflicts in {}; nothing was changed — merge it by hand (git merge {upstream}) to resolve the conflicting fields",
        files.join(", ")
    )]
    MergeConflicts {
        /// The upstream branch.
        upstream: String,
        /// The conflicted files.
        files: Vec<String>,
    },
    /// The merge result has lint errors that upstream did not have.
    #[error("the merged coordination data has errors, so nothing was changed:\n  {}", problems.join("\n  "))]
    MergedInvalid {
        /// The new errors, one per line.
        problems: Vec<String>,
    },
    // ---- migrate: the legacy `coordination:` section
    /// An item of the section that is not a mapping.
    #[error("coordination.{section} holds a non-mapping item; fix it before migrating")]
    LegacyNotMapping {
        /// The section (`issues`, …).
        section: &'static str,
    },
    /// An item of the section without an id.
    #[error("an item of coordination.{section} has no id; fix it before migrating")]
    LegacyNoId {
        /// The section (`issues`, …).
        section: &'static str,
    },
    /// An item with type errors.
    #[error("{id} has type errors in the legacy section; fix them first")]
    LegacyTypeErrors {
        /// The item's ID.
        id: String,
    },
    /// Items whose files already hold something else.
    #[error("migrate changed nothing:\n  {}", conflicts.join("\n  "))]
    MigrateConflicts {
        /// One line per conflicting ID.
        conflicts: Vec<String>,
    },
    /// The section could not be cut out leaving the rest intact.
    #[error("could not remove the coordination section safely; nothing was changed")]
    SectionNotRemovable,
    // ---- IDs and concurrent writers
    /// A renumber target already in use.
    #[error("{id} is already taken")]
    Taken {
        /// The target ID.
        id: String,
    },
    /// A milestone another writer moved to another plan meanwhile.
    #[error("{id} moved out of {from} while this {op} ran; run it again")]
    Moved {
        /// The milestone.
        id: String,
        /// The plan it was in.
        from: String,
        /// "delete", "update".
        op: &'static str,
    },
    /// A dependency that already has its issue (another writer made it).
    #[error("{dep} already has {issue}")]
    AlreadyLinked {
        /// The dependency.
        dep: String,
        /// Its issue.
        issue: String,
    },
    // ---- execution
    /// A todo that is not open.
    #[error("{id} is {status}: nothing to execute")]
    NothingToExecute {
        /// The todo.
        id: String,
        /// Its status.
        status: String,
    },
    /// A run that is running or succeeded.
    #[error("{run} is {status}: nothing to resume")]
    NothingToResume {
        /// The run.
        run: String,
        /// Its status.
        status: String,
    },
    /// A run without a failed task.
    #[error("{run} has no failed task to run again")]
    NoFailedTask {
        /// The run.
        run: String,
    },
    /// A run on another host.
    #[error("{run} runs on {host}: cancel it there")]
    RunsElsewhere {
        /// The run.
        run: String,
        /// Its host.
        host: String,
    },
    /// `pool_execution_enabled` is off.
    #[error(
        "pool execution is disabled: set `pool_execution_enabled: true` in settings/coord.yaml (dry runs and validation work without it)"
    )]
    PoolExecutionDisabled,
    /// Work on a blocked todo while the settings refuse it.
    #[error("refused: {what}; finish those first, or drop `blocked_work: refuse` in the settings")]
    BlockedWork {
        /// What blocks it ("TODO-002 waits for TODO-001").
        what: String,
    },
    // ---- memory
    /// Memory events are turned off.
    #[error("memory is off: set `{key}: true` in the settings to queue and deliver events")]
    MemoryOff {
        /// The setting as the file names it.
        key: String,
    },
    // ---- comments
    /// No author for a comment in the git configuration.
    #[error("a comment needs an author: set `git config user.name` and `user.email`")]
    NoAuthor,
    /// `comments:` of an entity that is not a list.
    #[error("`comments:` of {id} is not a list ({found}); fix the file first")]
    CommentsNotList {
        /// The entity.
        id: String,
        /// What it holds, as YAML.
        found: String,
    },
    // ---- hooks
    /// A foreign hook whose backup name is taken too.
    #[error("{} exists and is not git-coord's, and {} is taken too; move one of them, or overwrite it", hook.display(), previous.display())]
    HookTaken {
        /// The hook.
        hook: PathBuf,
        /// Where it would have been moved.
        previous: PathBuf,
    },
    // ---- output
    /// An entity that cannot be shown as JSON.
    #[error("{id} cannot be shown as JSON ({reason})")]
    NotJson {
        /// The entity.
        id: String,
        /// The encoder's message.
        reason: String,
    },
    /// A registered repository that cannot be shown as JSON.
    #[error("repository `{name}` cannot be shown as JSON ({reason}); check settings/ecosystem.yaml")]
    RepoNotJson {
        /// The repository.
        name: String,
        /// The encoder's message.
        reason: String,
    },
}

/// Where a sync's snapshot is and how to get it back.
fn recovery(snapshot: &str) -> String {
    crate::sync::recovery_hint(snapshot)
}

impl Refusal {
    /// What the user can do about it, as data.
    pub fn hints(&self) -> Vec<Hint> {
        let lint = Hint::Operation { command: "lint", field: None, effect: "lists every problem in the data" };
        match self {
            Refusal::LegacyTypeErrors { .. } | Refusal::NotJson { .. } => vec![lint],
            Refusal::HookTaken { .. } => {
                vec![Hint::SetField { field: "force", effect: "overwrites the hook (its backup is replaced)" }]
            }
            Refusal::NothingToResume { .. } | Refusal::NoFailedTask { .. } => {
                vec![Hint::Operation { command: "runs", field: None, effect: "lists the recorded runs" }]
            }
            Refusal::RestoreFailed { error, .. } => error.hints(),
            _ => Vec::new(),
        }
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Error::Refused(Box::new(r))
    }
}
