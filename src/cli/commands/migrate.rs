//! `migrate`: legacy `coordination:` section → one file per entity.

use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render;
use std::io::Write;

/// Move every entity of the legacy `coordination:` section of
/// settings/ecosystem.yaml into its own file, and remove only that section.
/// Idempotent; refuses (changing nothing) on conflicting files.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Show what would be written without writing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `migrate`
pub fn run(cx: &Context, a: &MigrateArgs) -> CmdResult {
    let store = cx.store()?;
    let report = crate::cli::progress::with_spinner("migrating the legacy section", || {
        crate::ops::migrate::migrate(&store, a.dry_run)
    })?;
    let mut w = render::out();
    let verb = if a.dry_run { "would write" } else { "wrote" };
    for (id, path) in &report.written {
        writeln!(w, "{verb} {id} → {}", store.rel(path).display())?;
    }
    for id in &report.already {
        writeln!(w, "{id}: already migrated")?;
    }
    if report.section_removed {
        let verb = if a.dry_run { "would remove" } else { "removed" };
        writeln!(w, "{verb} the coordination section from settings/ecosystem.yaml")?;
    } else {
        writeln!(w, "nothing to migrate: settings/ecosystem.yaml has no coordination section")?;
    }
    Ok(())
}
