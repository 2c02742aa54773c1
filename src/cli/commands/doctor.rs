//! `doctor`: finds (and with --fix repairs) what hand merges leave behind.

use super::common::{self, OutputArgs};
use crate::api::checks::Doctor;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Format};
use std::io::Write;

/// Find duplicate IDs, files named differently from their ID, entities both
/// in a file and in the legacy section, dangling references and temp
/// files left by interrupted writes; with --fix, repair what
/// is safe (renames to a free name, identical legacy copies, removing
/// stale temp files), printing each change.
/// Exits 1 while anything is left to fix.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub req: Doctor,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `doctor`
pub fn run(cx: &Context, a: &DoctorArgs) -> CmdResult {
    let r = common::run_op::<DoctorArgs, _>(&cx.store()?, &a.req)?;
    let (findings, left) = (&r.findings, r.left);
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => render::json(&mut w, &r)?,
        Format::Yaml => render::yaml(&mut w, &r)?,
        Format::Table => {
            for f in findings {
                let file = f.file.as_ref().map(|p| format!("{}: ", p.display())).unwrap_or_default();
                let tag = if f.fixed {
                    "fixed"
                } else if f.fixable {
                    "fixable"
                } else {
                    "to do"
                };
                let id = if f.id.is_empty() { String::new() } else { format!("{} ", f.id) };
                writeln!(w, "{file}{id}[{}] {}", f.code, f.message)?;
                writeln!(w, "    {tag}: {}", f.remedy)?;
            }
            if findings.is_empty() {
                writeln!(w, "no problems found")?;
            } else {
                let fixable = findings.iter().filter(|f| f.fixable && !f.fixed).count();
                write!(w, "{} finding(s), {} fixed, {left} left", findings.len(), findings.len() - left)?;
                if fixable > 0 {
                    write!(w, " ({fixable} repairable with --fix)")?;
                }
                writeln!(w)?;
            }
        }
    }
    if left > 0 {
        return Err(CommandError::Failed);
    }
    Ok(())
}
