//! `lint`: checks every entity and prints every problem with file and field.

use super::common::OutputArgs;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Format};
use crate::model::Kind;
use std::io::Write;

/// Check all coordination data: schema, values, dates, references, file
/// names, duplicate IDs and cycles. Exits 1 if any error is found.
#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `lint`
pub fn run(cx: &Context, a: &LintArgs) -> CmdResult {
    let store = cx.store()?;
    let loaded = store.load(&Kind::ALL)?;
    let mut problems = crate::lint::lint(&loaded);
    for p in &mut problems {
        if let Some(f) = &p.file {
            p.file = Some(store.rel(f));
        }
    }
    problems.sort_by(|a, b| (&a.file, a.line, a.severity).cmp(&(&b.file, b.line, b.severity)));
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    let entities: usize = Kind::ALL.iter().map(|k| loaded.records(*k).len()).sum();
    let mut w = render::out();
    match a.out.format {
        Format::Json => render::json(
            &mut w,
            &serde_json::json!({
                "entities": entities, "errors": errors, "warnings": warnings, "problems": problems,
            }),
        )?,
        Format::Yaml => render::yaml(&mut w, &problems)?,
        Format::Table => {
            render::problems(&mut w, &problems)?;
            writeln!(w, "{entities} entities checked: {errors} error(s), {warnings} warning(s)")?;
        }
    }
    if errors > 0 || (a.strict && warnings > 0) {
        return Err(CommandError::Failed);
    }
    Ok(())
}
