//! `search`: full-text search ([`crate::api::search`]); a table of results
//! with the matching passage, the match in bold on a terminal. With
//! `--history` (or `--semantic`) it searches coordination history instead
//! ([`crate::api::memory::SearchHistory`]): events, naming their commits,
//! and with `--semantic` the memory service's answer, labelled remote.

use super::common::{self, OutputArgs};
use crate::api::memory::SearchHistory;
use crate::api::search::Search;
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render::{self, Cell, Format, HEADER, styled};
use std::io::{IsTerminal, Write};

/// Search titles, descriptions, tasks, notes, comments and labels; `field:value`
/// terms filter (`git coord search "timeout status:pending repo:api"`).
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    #[command(flatten)]
    pub req: Search,
    #[command(flatten)]
    pub out: OutputArgs,
    /// Search coordination history instead: events (old and new field
    /// values, titles, commit subjects), each naming its commit.
    #[arg(long)]
    pub history: bool,
    /// Search history and also ask the memory service (Session-Buddy's own
    /// search); its answer is shown labelled as remote.
    #[arg(long)]
    pub semantic: bool,
}

/// The snippet for the screen: `**match**` in bold on a terminal, plain
/// otherwise; control characters escaped (snippets quote data).
fn highlight(snippet: &str, terminal: bool) -> String {
    let text = crate::display::escape_controls(snippet).replace('\n', " ");
    let mut out = String::new();
    for (i, part) in text.split("**").enumerate() {
        if i % 2 == 1 && terminal {
            out.push_str(&format!("{HEADER}{part}{HEADER:#}"));
        } else {
            out.push_str(part);
        }
    }
    out
}

/// `search`
pub fn run(cx: &Context, a: &SearchArgs) -> CmdResult {
    if a.history || a.semantic {
        let req = SearchHistory { query: a.req.query.clone(), semantic: a.semantic, limit: a.req.limit };
        let h = common::run_op::<SearchArgs, _>(&cx.store()?, &req)?;
        let mut w = render::out();
        if !render::data(&mut w, a.out.format, &h)? {
            super::events::history_hits(&mut w, &h)?;
        }
        return Ok(());
    }
    let r = common::run_op::<SearchArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&r.warnings);
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => render::json(&mut w, &r)?,
        Format::Yaml => render::yaml(&mut w, &r)?,
        Format::Table => {
            if r.items.is_empty() {
                writeln!(w, "no match")?;
                return Ok(());
            }
            let terminal = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let rows = r
                .items
                .iter()
                .map(|h| {
                    vec![
                        Cell::from(h.id.as_str()),
                        styled(h.status.as_deref().unwrap_or("")),
                        Cell::from(h.title.as_str()),
                        Cell::from(highlight(&h.snippet, terminal)),
                    ]
                })
                .collect();
            render::table(&mut w, &["ID", "STATUS", "TITLE", "MATCH"], rows)?;
        }
    }
    Ok(())
}
