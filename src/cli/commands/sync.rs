//! `sync`: fetch, renumber colliding IDs, merge, lint, commit, push — the
//! typed operation [`crate::api::sync::Sync`], printed.

use super::common::OutputArgs;
use crate::api::sync::Sync;
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render::{self, Format};
use std::io::Write;

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
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub req: Sync,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `sync`
pub fn run(cx: &Context, a: &SyncArgs) -> CmdResult {
    let store = cx.store()?;
    let r =
        a.req.run_with(&store, &crate::cli::progress::Bar::new()).map_err(super::common::op_error::<SyncArgs, Sync>)?;
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => return Ok(render::json(&mut w, &r)?),
        Format::Yaml => return Ok(render::yaml(&mut w, &r)?),
        Format::Table => {}
    }
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
    if r.pushed && r.attempts > 1 {
        writeln!(w, "pushed {} to {} (on attempt {}: others had pushed first)", r.branch, r.remote, r.attempts)?;
    } else if r.pushed {
        writeln!(w, "pushed {} to {}", r.branch, r.remote)?;
    }
    Ok(())
}
