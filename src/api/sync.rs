//! `sync` as an operation: commit local entity changes, fetch, renumber
//! colliding IDs, merge, lint, push — see [`crate::sync`], which holds the
//! store lock throughout and puts the repository back exactly as it was on
//! any failure.

use super::Operation;
use crate::error::{Error, FieldError, Result};
use crate::store::Store;
use crate::sync::{SyncOptions, SyncReport};
use schemars::JsonSchema;
use serde::Deserialize;

fn default_attempts() -> u32 {
    crate::sync::DEFAULT_ATTEMPTS
}

/// Bring the branch up to date with its remote and publish it: fetch,
/// renumber entities whose IDs were also created on the other side (every
/// reference in your changes is rewritten), merge with the field-level merge
/// driver, lint, commit, push.
///
/// Uncommitted entity files are committed first (temp and stray files in
/// coordination/ are left alone); other uncommitted changes make it refuse.
/// When another clone pushed first, it fetches, renumbers, merges and pushes
/// again. On any failure the repository is left exactly as it was: HEAD,
/// index, work tree and untracked entity files. It holds the store lock
/// throughout: other git-coord writes wait for it.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sync {
    /// The remote, a configured remote's name (default: the branch's
    /// upstream remote, else origin).
    #[arg(long, value_name = "R")]
    #[serde(default)]
    pub remote: Option<String>,
    /// Stop after merging; do not push.
    #[arg(long)]
    #[serde(default)]
    pub no_push: bool,
    /// How many times to push when other clones keep pushing first (each
    /// time: fetch, renumber and merge again, after a random pause).
    #[arg(long, value_name = "N", default_value_t = crate::sync::DEFAULT_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..))]
    #[serde(default = "default_attempts")]
    #[schemars(range(min = 1))]
    pub attempts: u32,
}

impl Sync {
    /// Checks what clap checks for the CLI (MCP requests skip clap), and
    /// that `remote` names a configured remote: never a URL or an option.
    fn check(&self, store: &Store) -> Result<()> {
        if self.attempts == 0 {
            return Err(Error::Fields(vec![FieldError::new("attempts", "must be at least 1").value("0")]));
        }
        if let Some(r) = &self.remote {
            let wt = store.root.worktree.clone().ok_or(Error::NeedsRepo("sync"))?;
            let remotes = crate::gitcmd::Git::new(&wt).run(&["remote"])?;
            if r.starts_with('-') || !remotes.lines().any(|l| l.trim() == r) {
                let known: Vec<&str> = remotes.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
                let known = if known.is_empty() { "none".to_string() } else { known.join(", ") };
                return Err(Error::Fields(vec![
                    FieldError::new("remote", format!("not a configured remote (configured: {known})"))
                        .value(r.clone()),
                ]));
            }
        }
        Ok(())
    }
}

impl Operation for Sync {
    const COMMAND: &'static str = "sync";
    const TOOL: &'static str = "coord_sync";
    const SUMMARY: &'static str = "Commit local coordination changes, fetch, renumber colliding IDs, merge, lint and push (the repository is restored exactly on any failure)";
    const WRITES: bool = true;
    type Output = SyncReport;
    fn run(&self, store: &Store) -> Result<SyncReport> {
        self.run_with(store, &crate::progress::NoProgress)
    }
}

impl Sync {
    /// [`Operation::run`], reporting each step of the sync.
    pub fn run_with(&self, store: &Store, progress: &dyn crate::progress::Progress) -> Result<SyncReport> {
        crate::ops::ensure_enabled(store)?;
        self.check(store)?;
        let opts = SyncOptions { remote: self.remote.clone(), no_push: self.no_push, attempts: Some(self.attempts) };
        crate::sync::sync_with(store, &opts, progress)
    }
}
