//! `merge-driver`: git's merge-driver protocol for entity files.

use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::merge::{self, ConflictPart, FileOutcome};
use std::path::PathBuf;

/// Merge three versions of one entity file field by field (git calls this;
/// `git coord init` configures it as `merge.coord.driver`). Writes the result
/// to OURS; exits 0 when clean, 1 with conflicts marked around the
/// conflicting fields only.
#[derive(Debug, clap::Args)]
pub struct MergeDriverArgs {
    /// Conflict marker length (git's `%L`).
    #[arg(long, default_value_t = merge::DEFAULT_MARKER_SIZE)]
    pub marker_size: usize,
    /// The common ancestor's version (`%O`; empty when both sides added the file).
    pub base: PathBuf,
    /// Our version (`%A`), replaced with the result.
    pub ours: PathBuf,
    /// Their version (`%B`).
    pub theirs: PathBuf,
    /// The file's path in the repository (`%P`), for messages.
    pub path: Option<String>,
}

/// `merge-driver %O %A %B %P`
pub fn run(_cx: &Context, a: &MergeDriverArgs) -> CmdResult {
    let outcome = merge::merge_files(&a.base, &a.ours, &a.theirs, a.marker_size)?;
    let path = a.path.clone().unwrap_or_else(|| a.ours.display().to_string());
    // Git shows the driver's stderr among its own merge messages.
    match &outcome {
        FileOutcome::Clean => {}
        FileOutcome::Conflicts(conflicts) => {
            let n = conflicts.len();
            let comments = conflicts.iter().filter(|c| c.part != ConflictPart::Value).count();
            let what = match (comments, n == 1) {
                (0, true) => "conflicting field",
                (0, false) => "conflicting fields",
                (c, true) if c == n => "conflicting comment",
                (c, false) if c == n => "conflicting comments",
                _ => "conflicts (fields and comments)",
            };
            eprintln!("git coord: {path}: {n} {what}:");
            for c in conflicts {
                eprintln!("  {c}");
            }
        }
        FileOutcome::Collision { id, ours, theirs } => {
            eprintln!(
                "git coord: ID collision: {id} was created on both sides: \"{ours}\" (ours) and \"{theirs}\" (theirs)"
            );
            eprintln!(
                "  both versions are kept in {path} between conflict markers; give one of them a new ID: \
                 `git merge --abort`, then on one branch `git coord renumber {id}` (references are rewritten)"
            );
        }
        FileOutcome::LineMerge { reason, conflicts, unconfirmed: false } => {
            eprintln!("git coord: {path}: {reason}; merged line by line ({conflicts} conflict(s))");
        }
        FileOutcome::LineMerge { reason, unconfirmed: true, .. } => {
            eprintln!(
                "git coord: {path}: {reason}; merged line by line without conflict markers, but the result is not \
                 the field-level merge: check it, then `git add` it"
            );
        }
    }
    if outcome.is_conflicted() { Err(CommandError::Failed) } else { Ok(()) }
}
