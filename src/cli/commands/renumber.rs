//! `renumber`: give an entity or milestone a new ID, rewriting references
//! (the typed operation [`crate::api::entities::Renumber`]).

use super::common::{self, OpArgs};
use crate::api::entities::Renumber;
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render::{self, Format};
use std::io::Write;

/// `renumber ID [--to NEW]`
pub fn run(cx: &Context, a: &OpArgs<Renumber>) -> CmdResult {
    let done = common::run_op::<Renumber, _>(&cx.store()?, &a.req)?;
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Table => {
            for p in &done.warnings {
                eprintln!("warning: {p}");
            }
            write!(w, "renumbered {} {} → {}", done.kind, done.from, done.to)?;
            if !done.rewritten.is_empty() {
                write!(w, "; references rewritten in {}", done.rewritten.join(", "))?;
            }
            writeln!(w)?;
        }
        Format::Json => render::json(&mut w, &done)?,
        Format::Yaml => render::yaml(&mut w, &done)?,
    }
    Ok(())
}
