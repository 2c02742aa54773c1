//! Claims: one exclusive lock file per todo under the git directory
//! (`<git-common-dir>/git-coord/claims/TODO-….lock`), held for as long as a
//! run works on the todo. The lock belongs to the process (the OS drops it
//! when the process dies), so a crashed run never leaves a todo claimed,
//! and two runs over overlapping todos — in one clone, from any worktree —
//! run each todo once: the second finds the lock taken, or the todo already
//! completed once it gets the lock.
//!
//! Status changes go through the one write path ([`crate::ops`]) while the
//! claim is held: `in_progress` when work starts, then `completed` (or the
//! status it had before, on failure or cancellation).

use crate::error::{Error, Result};
use crate::model::Lenient;
use crate::model::{Entity, Kind, TodoStatus};
use crate::ops;
use crate::store::{Durability, Store};
use std::fs::File;
use std::path::{Path, PathBuf};

/// The git directory shared by all worktrees of the coordination repo.
pub fn common_dir(store: &Store) -> Option<PathBuf> {
    let wt = store.root.worktree.as_deref()?;
    let out = crate::gitcmd::Git::new(wt).output(&["rev-parse", "--path-format=absolute", "--git-common-dir"]).ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// A held claim (released on drop).
#[derive(Debug)]
pub struct Claim {
    _file: File,
    pub todo: String,
    /// The status before the run set `in_progress`.
    pub previous: String,
}

/// Why a todo was not claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotClaimed {
    /// Another run holds it now.
    Busy,
    /// It is no longer open (another run finished it).
    Finished(String),
}

/// Tries to claim `todo` and set it `in_progress`. `previous_hint` is the
/// status to restore when the todo is found `in_progress` because an
/// interrupted run of this record set it so.
pub fn claim(
    store: &Store,
    dir: &Path,
    todo: &str,
    previous_hint: Option<&str>,
) -> Result<std::result::Result<Claim, NotClaimed>> {
    let claims = dir.join("git-coord").join("claims");
    std::fs::create_dir_all(&claims).map_err(|e| Error::io(&claims, e))?;
    let path = claims.join(format!("{todo}.lock"));
    let file = File::options().create(true).truncate(false).write(true).open(&path).map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(Err(NotClaimed::Busy)),
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
    }
    // One write under the store lock: read the todo, decide, set it
    // `in_progress` (or leave it, finished by another run, unwritten).
    let mut seen: std::result::Result<String, NotClaimed> = Err(NotClaimed::Busy);
    // Not fsync'd: after a power loss the todo has its status from before
    // the claim, which is what recovering an interrupted run restores anyway.
    ops::update_plain(store, Kind::Todo, todo, Durability::Unsynced, |e| {
        let Entity::Todo(t) = e else {
            return Err(Error::NotFound { kind: Kind::Todo, id: todo.to_string(), hint: None });
        };
        let status = t.status.as_str().to_string();
        if !t.is_open() {
            seen = Err(NotClaimed::Finished(status));
            return Ok(());
        }
        seen = Ok(match (t.status.known(), previous_hint) {
            (Some(TodoStatus::InProgress), Some(p)) => p.to_string(),
            _ => status,
        });
        t.status = Lenient::Known(TodoStatus::InProgress);
        Ok(())
    })?;
    let previous = match seen {
        Ok(p) => p,
        Err(n) => return Ok(Err(n)),
    };
    Ok(Ok(Claim { _file: file, todo: todo.to_string(), previous }))
}

/// Ends a claim: `completed` (adding `hours` to `actual_hours` when given)
/// or back to the previous status. Returns the status written.
pub fn release(store: &Store, claim: Claim, success: bool, completes: bool, hours: Option<f64>) -> Result<String> {
    let to = if success && completes { "completed".to_string() } else { claim.previous.clone() };
    // fsync'd: a completed todo is what keeps a resume from running it again.
    ops::update_plain(store, Kind::Todo, &claim.todo, Durability::Synced, |e| {
        if let Entity::Todo(t) = e {
            t.status = Lenient::from_text(&to);
            if success && let Some(h) = hours {
                let total = t.actual_hours.unwrap_or(0.0) + h;
                t.actual_hours = Some((total * 100.0).round() / 100.0);
            }
        }
        Ok(())
    })?;
    drop(claim);
    Ok(to)
}
