//! `lint`: checks every entity and prints every problem with file and field.

use super::common::{self, OutputArgs};
use crate::api::checks::Lint;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Format};
use std::io::Write;

/// Check all coordination data: schema, values, dates, references, file
/// names, duplicate IDs and cycles. Exits 1 if any error is found.
#[derive(Debug, clap::Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub req: Lint,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `lint`
pub fn run(cx: &Context, a: &LintArgs) -> CmdResult {
    let r = common::run_op::<LintArgs, _>(&cx.store()?, &a.req)?;
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => render::json(&mut w, &r)?,
        Format::Yaml => render::yaml(&mut w, &r)?,
        Format::Table => {
            render::problems(&mut w, &r.problems)?;
            writeln!(w, "{} entities checked: {} error(s), {} warning(s)", r.entities, r.errors, r.warnings)?;
        }
    }
    if !r.passed(a.req.strict) {
        return Err(CommandError::Failed);
    }
    Ok(())
}
