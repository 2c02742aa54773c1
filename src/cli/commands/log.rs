//! `log`: the commits that changed coordination data (or one entity), with
//! their field-level changes.

use super::common;
use crate::api::history::Log;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Format, HEADER};
use crate::history::log::looks_like_id;
use crate::history::render::change_lines;
use std::io::Write;

/// Show the commits that changed coordination data, newest first, with the
/// field-level changes each made (`ISSUE-003 status: pending → in_progress`).
///
/// With an ID, only that entity's history (following it across `migrate`).
/// A revision or range limits the commits (`main`, `v1.0..HEAD`, `main...topic`).
/// Merge commits are not shown; their changes appear on the commits that made them.
#[derive(Debug, clap::Args)]
pub struct LogArgs {
    /// An entity ID and/or a revision or range, in either order.
    #[arg(value_name = "ID|REVSPEC", num_args = 0..=2)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub req: Log,
    #[command(flatten)]
    pub out: common::OutputArgs,
}

/// `log`
pub fn run(cx: &Context, a: &LogArgs) -> CmdResult {
    let store = cx.store()?;
    let mut req = a.req.clone();
    for arg in &a.args {
        if req.id.is_none() && looks_like_id(&store, arg) {
            req.id = Some(arg.clone());
        } else if req.rev.is_none() {
            req.rev = Some(arg.clone());
        } else {
            return Err(CommandError::Usage(format!(
                "unexpected argument `{arg}` (give at most one ID and one revision)"
            )));
        }
    }
    let log = req
        .run_with(&store, &crate::cli::progress::Bar::new())
        .map_err(common::op_error::<LogArgs, crate::api::history::Log>)?;
    for w in &log.warnings {
        eprintln!("warning: {w}");
    }
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => return Ok(render::json(&mut w, &log)?),
        Format::Yaml => return Ok(render::yaml(&mut w, &log)?),
        Format::Table => {}
    }
    if log.commits.is_empty() {
        match &log.id {
            Some(id) => writeln!(w, "no commits changed {id}")?,
            None => writeln!(w, "no commits changed coordination data")?,
        }
        return Ok(());
    }
    for (i, e) in log.commits.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        let c = &e.commit;
        writeln!(w, "{HEADER}commit {}{HEADER:#}  {}  {} <{}>", c.short, c.date, c.author, c.email)?;
        writeln!(w, "    {}", c.summary)?;
        if e.shallow_boundary {
            writeln!(w, "    (shallow clone boundary: earlier history is not available here)")?;
        }
        writeln!(w)?;
        for ch in &e.changes {
            for l in change_lines(ch) {
                writeln!(w, "    {}", l.replace('\n', "\n    "))?;
            }
        }
    }
    Ok(())
}
