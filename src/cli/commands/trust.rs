//! `trust`: approves dependencies' validation commands after a person has
//! read them. An approval binds the exact command text and the canonical
//! directory it runs in (see [`crate::deps::trust`]), is kept in the local
//! repository's git config (`coord.trusted`), never in a tracked file, and
//! is printed with control characters escaped, so what is shown is what is
//! approved.

use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render;
use crate::deps;
use crate::display;
use crate::model::Kind;
use std::io::Write;

/// Approve validation commands so `check-deps` runs them. Read each command
/// first: it runs with your rights. An approval covers the command text and
/// the directory it runs in; a change to either needs a new approval.
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
        if !commands.iter().any(|r| r.id.eq_ignore_ascii_case(id)) {
            return Err(CommandError::Usage(format!("{id} has no validation.command")));
        }
    }
    for r in &commands {
        let verb = if deps::trust::approve(repo, &r.command, &r.place)? { "trusted" } else { "already trusted" };
        let command = display::escape_controls(&r.command);
        let dir = r.place.dir.display().to_string();
        writeln!(w, "{verb} {}: {command}", r.id)?;
        writeln!(w, "  runs in {}", display::escape_controls(&dir))?;
        if r.place.content.is_some() {
            writeln!(w, "  (a directory of this repository: the approval also covers its committed files)")?;
        }
        if command != r.command.as_str() {
            writeln!(w, "  (control characters in the command are shown escaped)")?;
        }
    }
    Ok(())
}
