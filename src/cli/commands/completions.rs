//! `completions`: shell completion scripts generated from the CLI definition
//! (clap_complete), so every command and flag — and the values of flags with
//! a fixed vocabulary (statuses, priorities, formats) — completes.
//!
//! The scripts complete the `git-coord` command; git's own bash and zsh
//! completion completes `git coord` subcommand names from `git-coord`'s
//! presence on PATH. IDs and repository names are data, not part of the CLI
//! definition, so they do not complete (docs: README, "Shell completion").

use crate::cli::Context;
use crate::cli::error::CmdResult;
use clap_complete::Shell;

/// Print a completion script for a shell, e.g.
/// `git coord completions bash > ~/.local/share/bash-completion/completions/git-coord`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// `completions`
pub fn run(_cx: &Context, a: &CompletionsArgs) -> CmdResult {
    let mut cmd = crate::cli::command();
    // Generated into memory and written like every other output, so a
    // closed pipe (`| head`) is no panic.
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut cmd, "git-coord", &mut script);
    std::io::Write::write_all(&mut crate::cli::render::out(), &script)?;
    Ok(())
}
