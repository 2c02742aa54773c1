//! `diff`: coordination changes between revisions, field by field.

use super::common;
use crate::api::history::Diff;
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render;
use crate::history::render as hr;
use std::io::Write;

/// Output formats of `diff` and `review`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DiffFormat {
    /// Readable text, grouped by kind.
    #[default]
    Text,
    /// Markdown for a pull-request comment (a table per kind).
    Markdown,
    /// JSON (see docs/JSON.md).
    Json,
    /// The same data as YAML.
    Yaml,
}

/// Show the coordination changes between two revisions as field-level
/// changes per entity, grouped by kind.
///
/// REVSPEC: `A..B` (A to B), `A...B` (from the merge base of A and B to B),
/// a single revision (against the working tree); default: HEAD against the
/// working tree.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub req: Diff,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

/// `diff`
pub fn run(cx: &Context, a: &DiffArgs) -> CmdResult {
    let out = common::run_op::<DiffArgs, _>(&cx.store()?, &a.req)?;
    let d = &out.diff;
    for w in &d.warnings {
        eprintln!("warning: {w}");
    }
    let mut w = render::out();
    match a.format {
        DiffFormat::Json => render::json(&mut w, &out)?,
        DiffFormat::Yaml => render::yaml(&mut w, &out)?,
        DiffFormat::Markdown => write!(w, "{}", hr::markdown(&d.changes))?,
        DiffFormat::Text => {
            if d.changes.is_empty() {
                writeln!(w, "no coordination changes ({} → {})", d.range.from, d.range.to)?;
            } else {
                write!(w, "{}", hr::text(&d.changes))?;
            }
        }
    }
    Ok(())
}
