//! `man`: man pages generated from the CLI definition (clap_mangen):
//! git-coord.1 and one page per command (git-coord-list-issues.1, …).
//!
//! `git help coord` (and `git coord --help` run through git) is `man
//! git-coord`, so the pages must sit in a `man1` directory under a root man
//! searches. `--install` writes them there (default ~/.local/share/man, which
//! man-db searches when ~/.local/bin is on PATH) and then asks `man -w` whether
//! man finds them, saying how to set MANPATH when it does not.

use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write man pages (git-coord.1 and one per command).
///
/// `git coord man --install` puts them where `git help coord` finds them
/// (~/.local/share/man/man1; `--install DIR` for DIR/man1);
/// `git coord man --dir DIR` writes them into DIR as they are.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Directory to write into as is (created if missing).
    #[arg(long, default_value = "man", conflicts_with = "install")]
    pub dir: PathBuf,
    /// Install into the man root DIR (pages in DIR/man1, created), default
    /// ~/.local/share/man, and check that `man git-coord` finds them.
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub install: Option<Option<PathBuf>>,
}

/// `man`
pub fn run(_cx: &Context, a: &ManArgs) -> CmdResult {
    let Some(install) = &a.install else {
        write_pages(&a.dir)?;
        writeln!(crate::cli::render::out(), "wrote man pages to {}", a.dir.display())?;
        return Ok(());
    };
    let root = match install {
        Some(dir) => dir.clone(),
        None => default_root()?,
    };
    let section = root.join("man1");
    write_pages(&section)?;
    let page = section.join("git-coord.1");
    let mut out = crate::cli::render::out();
    writeln!(out, "installed man pages in {} ({})", section.display(), page.display())?;
    if man_finds(&page) {
        writeln!(out, "`git help coord` and `man git-coord` show it")?;
    } else {
        // A trailing colon keeps man's default search path after ours.
        let root = root.display();
        writeln!(out, "man does not search {root} yet: for `git help coord` (which runs `man git-coord`), add")?;
        writeln!(out, "    export MANPATH=\"{root}:$MANPATH\"")?;
        writeln!(out, "to your shell's startup file (the trailing `:` keeps the system pages)")?;
    }
    Ok(())
}

/// `~/.local/share/man` (XDG_DATA_HOME/man when that is set).
fn default_root() -> Result<PathBuf, CommandError> {
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(data).join("man"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(home) => Ok(PathBuf::from(home).join(".local/share/man")),
        None => Err(CommandError::Usage("HOME is not set: give the man directory, --install DIR".into())),
    }
}

fn write_pages(dir: &Path) -> Result<(), crate::Error> {
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
    clap_mangen::generate_to(crate::cli::command(), dir).map_err(|e| crate::Error::io(dir, e))
}

/// Whether `man -w git-coord` resolves to this page (false when man is
/// not installed).
fn man_finds(page: &Path) -> bool {
    let Ok(out) = std::process::Command::new("man").args(["-w", "git-coord"]).output() else {
        return false;
    };
    let found = String::from_utf8_lossy(&out.stdout);
    let found = Path::new(found.trim());
    out.status.success()
        && match (found.canonicalize(), page.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
}
