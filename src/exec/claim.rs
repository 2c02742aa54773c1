//! Claims: one exclusive lock file per todo under the git directory
//! (`<git-common-dir>/git-coord/claims/TODO-….lock`), held for as long as a
//! run works on the todo. The lock belongs to the process (the OS drops it
//! when the process dies), so a crashed run never leaves a todo claimed,
//! and two runs over overlapping todos — in one clone, from any worktree —
//! run each todo once: the second finds the lock taken, or the todo already
//! completed once it gets the lock.
//!
//! Status changes go through the one write path ([`crate::ops`]) while the
//! claim is held: `in_progress` once the task has run for [`SHOW_AFTER`]
//! ([`Shower::show`]), then `completed` (or the status it had before, on
//! failure or cancellation). A task that ends sooner is written once: its
//! todo goes from its status straight to `completed`, and a quick failure
//! leaves the todo file untouched. A status shown for less than that tells
//! a reader next to nothing, while every todo write creates a file (the
//! atomic replace), which is most of what a quick task costs.
//! The claim itself — what keeps two runs apart — is the lock, taken
//! before the task starts either way.

use crate::error::{Error, Result};
use crate::model::Lenient;
use crate::model::{Entity, Kind, TodoStatus};
use crate::ops;
use crate::store::{Durability, Store};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The git directory shared by all worktrees of the coordination repo.
pub fn common_dir(store: &Store) -> Option<PathBuf> {
    let wt = store.root.worktree.as_deref()?;
    let out = crate::gitcmd::Git::new(wt).output(&["rev-parse", "--path-format=absolute", "--git-common-dir"]).ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// How long a claimed todo's task runs before the todo is set
/// `in_progress`.
pub const SHOW_AFTER: std::time::Duration = std::time::Duration::from_millis(100);

/// Whether a claimed todo shows `in_progress` yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    No,
    Yes,
    /// Released: a late [`Shower::show`] writes nothing.
    Released,
}

/// A held claim (released on drop).
#[derive(Debug)]
pub struct Claim {
    _file: File,
    pub todo: String,
    /// The status before the run set `in_progress`.
    pub previous: String,
    /// Held while `in_progress` or the release is written, so the two never
    /// cross.
    shown: Arc<Mutex<Shown>>,
}

impl Claim {
    /// What sets the todo `in_progress` later, from another task.
    pub fn shower(&self) -> Shower {
        Shower { todo: self.todo.clone(), shown: self.shown.clone() }
    }
}

/// Sets a claimed todo `in_progress` (see [`Claim::shower`]).
#[derive(Debug, Clone)]
pub struct Shower {
    todo: String,
    shown: Arc<Mutex<Shown>>,
}

impl Shower {
    /// Sets the todo `in_progress` unless the claim was released already.
    /// Not fsync'd: after a power loss the todo has its status from before
    /// the claim, which is what recovering an interrupted run restores anyway.
    pub fn show(&self, store: &Store) -> Result<()> {
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        if *shown != Shown::No {
            return Ok(());
        }
        ops::update_plain(store, Kind::Todo, &self.todo, Durability::Unsynced, |e| {
            if let Entity::Todo(t) = e
                && t.is_open()
            {
                t.status = Lenient::Known(TodoStatus::InProgress);
            }
            Ok(())
        })?;
        *shown = Shown::Yes;
        Ok(())
    }
}

/// Why a todo was not claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotClaimed {
    /// Another run holds it now.
    Busy,
    /// It is no longer open (another run finished it).
    Finished(String),
}

/// Tries to claim `todo`: takes its lock and reads its status (set
/// `in_progress` later, by [`Shower::show`]). `previous_hint` is the
/// status to restore when the todo is found `in_progress` because an
/// interrupted run of this record set it so.
pub fn claim(
    store: &Store,
    dir: &Path,
    todo: &str,
    previous_hint: Option<&str>,
) -> Result<std::result::Result<Claim, NotClaimed>> {
    // The todo is written later (in_progress, the release): a store whose
    // writes are off refuses the claim now, before the task runs.
    ops::ensure_enabled(store)?;
    let claims = dir.join("git-coord").join("claims");
    let path = claims.join(format!("{todo}.lock"));
    let open = || File::options().create(true).truncate(false).write(true).open(&path);
    // The directory is made once, the first time it is missing.
    let file = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(&claims).map_err(|e| Error::io(&claims, e))?;
            open()
        }
        r => r,
    }
    .map_err(|e| Error::io(&path, e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Ok(Err(NotClaimed::Busy)),
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
    }
    // Read under the claim (files are replaced atomically, so no store
    // lock is needed to read): a todo another run finished is left alone.
    let record = ops::find(store, Kind::Todo, todo)?;
    let Entity::Todo(t) = &record.entity else {
        return Err(Error::NotFound { kind: Kind::Todo, id: todo.to_string(), hint: None });
    };
    let status = t.status.as_str().to_string();
    if !t.is_open() {
        return Ok(Err(NotClaimed::Finished(status)));
    }
    let previous = match (t.status.known(), previous_hint) {
        (Some(TodoStatus::InProgress), Some(p)) => p.to_string(),
        _ => status,
    };
    // Found `in_progress` (left so by the interrupted run this one
    // resumes): it shows already, and the release puts it back.
    let shown = if t.status.known() == Some(TodoStatus::InProgress) { Shown::Yes } else { Shown::No };
    Ok(Ok(Claim { _file: file, todo: todo.to_string(), previous, shown: Arc::new(Mutex::new(shown)) }))
}

/// Ends a claim: `completed` (adding `hours` to `actual_hours` when given)
/// or back to the previous status. Returns the status the todo has now.
/// A todo that was never shown `in_progress` and goes back to its status
/// is not written.
pub fn release(store: &Store, claim: Claim, success: bool, completes: bool, hours: Option<f64>) -> Result<String> {
    let to = if success && completes { "completed".to_string() } else { claim.previous.clone() };
    let mut shown = claim.shown.lock().unwrap_or_else(|e| e.into_inner());
    let was = std::mem::replace(&mut *shown, Shown::Released);
    if was == Shown::No && to == claim.previous && !(success && hours.is_some()) {
        return Ok(to);
    }
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
    drop(shown);
    drop(claim);
    Ok(to)
}
