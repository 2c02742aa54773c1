//! `gate REPO`: the check a member repository's CI runs; exit 1 with a short
//! list of reasons when the repository should not ship
//! ([`crate::api::gate::Gate`], the same operation as the MCP tool).

use super::common;
use crate::api::Operation;
use crate::api::gate::Gate;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render;
use crate::display;
use std::io::Write;

/// Output formats of `gate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GateFormat {
    /// A short list of reasons.
    #[default]
    Text,
    /// A Markdown summary (for a CI job summary).
    Markdown,
    /// JSON for scripts.
    Json,
    /// The same data as YAML.
    Yaml,
}

/// Gate a member repository in its CI: exit 1 when it has open critical
/// issues, unsatisfied dependencies where it is the consumer, or (with
/// --blocking) open work that blocks other repositories and is overdue.
/// Run it from the member's checkout with --coord naming the coordination
/// repository (a directory, or a URL cloned shallowly into the cache).
#[derive(Debug, clap::Args)]
pub struct GateArgs {
    #[command(flatten)]
    pub req: Gate,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GateFormat::Text)]
    pub format: GateFormat,
}

/// `gate`
pub fn run(cx: &Context, a: &GateArgs) -> CmdResult {
    let store = a.req.open(&cx.dir)?;
    let report = common::run_op::<GateArgs, _>(&store, &a.req)?;
    for w in &report.warnings {
        eprintln!("warning: {}", display::shown(w));
    }
    let mut w = render::out();
    match a.format {
        GateFormat::Text => write!(w, "{}", crate::gate::text(&report))?,
        GateFormat::Markdown => write!(w, "{}", crate::gate::markdown(&report))?,
        GateFormat::Json => render::json(&mut w, &report)?,
        GateFormat::Yaml => render::yaml(&mut w, &report)?,
    }
    if !report.passed {
        return Err(CommandError::Failed);
    }
    Ok(())
}
