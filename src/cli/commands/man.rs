//! `man`: writes man pages generated from the CLI definition (clap_mangen), so
//! that `git coord --help` (which git turns into `git help coord`, i.e.
//! `man git-coord`) finds one.

use crate::cli::Context;
use crate::cli::error::CmdResult;
use std::path::PathBuf;

/// Write man pages (git-coord.1 and one per command) into a directory, e.g.
/// `git coord man --dir ~/.local/share/man/man1`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Directory to write into (created if missing).
    #[arg(long, default_value = "man")]
    pub dir: PathBuf,
}

/// `man`
pub fn run(_cx: &Context, a: &ManArgs) -> CmdResult {
    let cmd = crate::cli::command();
    std::fs::create_dir_all(&a.dir).map_err(|e| crate::Error::io(&a.dir, e))?;
    clap_mangen::generate_to(cmd, &a.dir).map_err(|e| crate::Error::io(&a.dir, e))?;
    println!("wrote man pages to {}", a.dir.display());
    Ok(())
}
