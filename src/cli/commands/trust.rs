//! `trust`: approves dependencies' validation commands after a person has
//! read them. Approval is the SHA-256 of the exact command text, kept in the
//! local repository's git config (`coord.trusted`), never in a tracked file.

use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render;
use crate::deps;
use crate::model::Kind;
use std::io::Write;

/// Approve validation commands so `check-deps` runs them. Read each command
/// first: it runs with your rights in pre-push hooks and CI. A changed
/// command needs a new approval.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// Dependencies whose commands to approve.
    #[arg(value_name = "DEP-…", required_unless_present = "all", conflicts_with = "all")]
    pub ids: Vec<String>,
    /// Approve the commands of every dependency.
    #[arg(long)]
    pub all: bool,
}

/// `trust`
pub fn run(cx: &Context, a: &TrustArgs) -> CmdResult {
    let store = cx.store()?;
    let loaded = store.load(&[Kind::Dependency])?;
    render::warn_load_problems(&loaded.problems);
    let commands = deps::commands(&store, &loaded, &a.ids)?;
    let mut w = render::out();
    if commands.is_empty() {
        writeln!(w, "no validation commands to trust")?;
        return Ok(());
    }
    let repo = deps::git_dir_of(&store);
    for id in &a.ids {
        if !commands.iter().any(|(c, _)| c.eq_ignore_ascii_case(id)) {
            return Err(CommandError::Usage(format!("{id} has no validation.command")));
        }
    }
    for (id, command) in &commands {
        if deps::trust::approve(repo, command)? {
            writeln!(w, "trusted {id}: {command}")?;
        } else {
            writeln!(w, "already trusted {id}: {command}")?;
        }
    }
    Ok(())
}
