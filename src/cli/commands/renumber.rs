//! `renumber`: give an entity or milestone a new ID, rewriting references.

use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render;
use crate::error::Error;
use crate::model::Kind;
use std::io::Write;

/// Give an entity (or milestone) a new ID — by default the next one free on
/// every branch — and rewrite every reference to it. The way out of an ID
/// collision between two branches.
#[derive(Debug, clap::Args)]
pub struct RenumberArgs {
    /// The ID to renumber (ISSUE-007, TODO-012, MILESTONE-003, …).
    pub id: String,
    /// The new ID (default: the next free one).
    #[arg(long)]
    pub to: Option<String>,
}

/// `renumber ID [--to NEW]`
pub fn run(cx: &Context, a: &RenumberArgs) -> CmdResult {
    let store = cx.store()?;
    crate::model::id::validate_id(&a.id).map_err(Error::from)?;
    let loaded = store.load(&Kind::ALL)?;
    let done = if let Some(kind) = Kind::ALL.into_iter().find(|k| loaded.get(*k, &a.id).is_some()) {
        drop(loaded);
        crate::ops::renumber(&store, kind, &a.id, a.to.as_deref())?
    } else if loaded.milestone(&a.id).is_some() {
        drop(loaded);
        crate::ops::renumber::renumber_milestone(&store, &a.id, a.to.as_deref())?
    } else {
        return Err(Error::Invalid(format!("no issue, plan, todo, dependency or milestone `{}`", a.id)).into());
    };
    for p in &done.warnings {
        eprintln!("warning: {p}");
    }
    let mut w = render::out();
    write!(w, "renumbered {} {} → {}", done.kind, done.from, done.to)?;
    if !done.rewritten.is_empty() {
        write!(w, "; references rewritten in {}", done.rewritten.join(", "))?;
    }
    writeln!(w)?;
    Ok(())
}
