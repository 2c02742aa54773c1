//! `migrate`: legacy `coordination:` section → one file per entity.

use super::common::OutputArgs;
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render::{self, Format};
use serde::Serialize;
use std::io::Write;

/// What `migrate --format json|yaml` prints.
#[derive(Debug, Serialize)]
struct Migrated {
    /// True with --dry-run: nothing was written.
    dry_run: bool,
    /// Each entity written (or that would be), with its file.
    written: Vec<MigratedFile>,
    /// IDs whose file already held the same entity.
    already: Vec<String>,
    /// Whether the legacy section was (or would be) removed.
    section_removed: bool,
}

#[derive(Debug, Serialize)]
struct MigratedFile {
    id: String,
    path: String,
}

/// Move every entity of the legacy `coordination:` section of
/// settings/ecosystem.yaml into its own file, and remove only that section.
/// Idempotent; refuses (changing nothing) on conflicting files.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// Show what would be written without writing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `migrate`
pub fn run(cx: &Context, a: &MigrateArgs) -> CmdResult {
    let store = cx.store()?;
    let report = crate::ops::migrate::migrate_with(&store, a.dry_run, &crate::cli::progress::Bar::new())?;
    let mut w = render::out();
    if a.out.format != Format::Table {
        let m = Migrated {
            dry_run: a.dry_run,
            written: report
                .written
                .iter()
                .map(|(id, p)| MigratedFile { id: id.clone(), path: store.rel(p).display().to_string() })
                .collect(),
            already: report.already.clone(),
            section_removed: report.section_removed,
        };
        match a.out.format {
            Format::Json => render::json(&mut w, &m)?,
            _ => render::yaml(&mut w, &m)?,
        }
        return Ok(());
    }
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
