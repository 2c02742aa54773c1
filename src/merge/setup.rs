//! Wiring the driver into a clone: the `.gitattributes` line (committed, so
//! shared) and `merge.coord.*` in the local git config (per clone, which is
//! why each clone runs `git coord init` once).

use crate::error::{Error, Result};
use crate::gitcmd::Git;
use crate::store::{Store, atomic_write};
use std::path::PathBuf;

/// The attribute line, relative to the coordination root.
pub const ATTRIBUTE_LINE: &str = "coordination/**/*.yaml merge=coord";

/// What `configure` changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupChange {
    /// The `.gitattributes` file got the line (created if needed).
    Attributes(PathBuf),
    /// `merge.coord.driver` was set (or updated) in the local config.
    Driver(String),
}

/// The command git should run: plain `git-coord` when that is this binary
/// on PATH, else this binary's absolute path.
pub fn driver_command() -> String {
    let exe = std::env::current_exe().ok().and_then(|p| p.canonicalize().ok());
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|d| d.join("git-coord")).find(|p| p.is_file())?.canonicalize().ok()
    });
    let program = match (&exe, &on_path) {
        (Some(e), Some(p)) if e == p => "git-coord".to_string(),
        (Some(e), _) => format!("'{}'", e.display().to_string().replace('\'', "'\\''")),
        (None, _) => "git-coord".to_string(),
    };
    format!("{program} merge-driver --marker-size %L %O %A %B %P")
}

fn has_line(text: &str) -> bool {
    text.lines().any(|l| {
        let mut parts = l.split_whitespace();
        parts.next() == Some("coordination/**/*.yaml") && parts.any(|a| a == "merge=coord")
    })
}

/// Adds the attribute line and the local driver config where missing.
/// Does nothing outside a git repository.
pub fn configure(store: &Store) -> Result<Vec<SetupChange>> {
    let Some(worktree) = store.root.worktree.clone() else {
        return Ok(Vec::new());
    };
    let mut changes = Vec::new();
    let attrs = store.root.dir.join(".gitattributes");
    let current = match std::fs::read_to_string(&attrs) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(&attrs, e)),
    };
    if !has_line(&current) {
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# Entity files merge field by field (git coord merge-driver; `git coord init` sets it up).\n");
        text.push_str(ATTRIBUTE_LINE);
        text.push('\n');
        atomic_write(&attrs, text.as_bytes())?;
        changes.push(SetupChange::Attributes(store.rel(&attrs)));
    }
    let wanted = driver_command();
    let git = Git::new(&worktree);
    let out = git.output(&["config", "--local", "--get", "merge.coord.driver"])?;
    let driver = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if driver != wanted {
        for (key, value) in [("merge.coord.name", "git-coord field-level merge"), ("merge.coord.driver", &wanted)] {
            git.run(&["config", "--local", key, value])?;
        }
        changes.push(SetupChange::Driver(wanted));
    }
    Ok(changes)
}
