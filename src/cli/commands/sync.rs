//! `sync`: fetch, renumber colliding IDs, merge, lint, commit, push.

use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render;
use crate::sync::SyncOptions;
use std::io::Write;

/// Bring the branch up to date with its remote and publish it: fetch,
/// renumber entities whose IDs were also created on the other side (every
/// reference in your changes is rewritten), merge with the field-level merge
/// driver, lint, commit, push.
///
/// Uncommitted coordination changes are committed first; other uncommitted
/// changes make it refuse. On any failure the repository is left as it was.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The remote (default: the branch's upstream remote, else origin).
    #[arg(long, value_name = "R")]
    pub remote: Option<String>,
    /// Stop after merging; do not push.
    #[arg(long)]
    pub no_push: bool,
}

/// `sync`
pub fn run(cx: &Context, a: &SyncArgs) -> CmdResult {
    let store = cx.store()?;
    let r = crate::sync::sync(&store, &SyncOptions { remote: a.remote.clone(), no_push: a.no_push })?;
    let mut w = render::out();
    if r.committed_local {
        writeln!(w, "committed local coordination changes")?;
    }
    for n in &r.renumbered {
        write!(
            w,
            "renumbered {} {} → {} (the ID was also created on {})",
            n.kind,
            n.from,
            n.to,
            r.upstream.as_deref().unwrap_or("the remote")
        )?;
        if n.rewritten.is_empty() {
            writeln!(w)?;
        } else {
            writeln!(w, "; references rewritten in {}", n.rewritten.join(", "))?;
        }
    }
    match (&r.upstream, r.merged) {
        (Some(up), true) => writeln!(w, "merged {up}")?,
        (Some(up), false) => writeln!(w, "up to date with {up}")?,
        (None, _) => writeln!(w, "{} has no branch {} yet", r.remote, r.branch)?,
    }
    if r.pushed {
        writeln!(w, "pushed {} to {}", r.branch, r.remote)?;
    }
    Ok(())
}
