//! `events`: coordination events derived from git history, and their
//! delivery to the memory service (`rebuild`, `push`, `status`, `retry`,
//! `search`). Each subcommand is a typed operation of [`crate::api::memory`].

use super::common;
use crate::api::memory::*;
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::progress::Bar;
use crate::cli::render::{self, Format, HEADER};
use crate::memory::Event;
use std::io::Write;

/// Coordination events derived from git history, oldest first:
/// `todo.completed`, `issue.reopened`, `milestone.completed`… each with its
/// commit, author, time and field changes. The log is updated from the
/// last commit seen, so this is fast after the first run.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EventsArgs {
    #[command(subcommand)]
    pub sub: Option<EventsCmd>,
    #[command(flatten)]
    pub req: Events,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,
}

/// `events` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum EventsCmd {
    /// Forget the derived events and derive them again (delivery state is kept).
    Rebuild(RebuildEvents),
    /// Deliver pending events (in order, once on the delivery ref).
    Push(MemoryPush),
    /// Pending, delivered and dead events per sink; the last error.
    Status(MemoryStatus),
    /// Make pending events due now; `--dead` revives dead ones.
    Retry(MemoryRetry),
    /// Search events (old values, titles, commit subjects); `--semantic`
    /// also asks the memory service.
    Search(SearchHistory),
}

fn event_line(w: &mut dyn Write, e: &Event) -> std::io::Result<()> {
    let date = e.time.get(..10).unwrap_or(&e.time);
    writeln!(
        w,
        "{date}  {HEADER}{}{HEADER:#}  {}  ({}, {})",
        e.event_type,
        e.summary,
        &e.commit[..e.commit.len().min(7)],
        e.id
    )?;
    for f in &e.fields {
        if let Some((old, new)) = f.set_values() {
            writeln!(
                w,
                "    {}: {} → {}",
                f.field,
                old.unwrap_or_else(|| "∅".into()),
                new.unwrap_or_else(|| "∅".into())
            )?;
        } else {
            writeln!(w, "    {} changed", f.field)?;
        }
    }
    Ok(())
}

/// History search results: matching events, then the memory service's
/// answer labelled remote.
pub fn history_hits(w: &mut dyn Write, h: &HistoryHits) -> std::io::Result<()> {
    if h.items.is_empty() {
        writeln!(w, "no events match")?;
    }
    for e in &h.items {
        event_line(w, e)?;
    }
    if let Some(r) = &h.remote {
        writeln!(w, "\n{HEADER}remote ({}){HEADER:#}", r.service)?;
        match (&r.text, &r.error) {
            (Some(t), _) => writeln!(w, "{}", crate::display::escape_controls(t))?,
            (None, Some(e)) => writeln!(w, "unavailable: {e}")?,
            _ => {}
        }
    }
    Ok(())
}

/// `events`
pub fn run(cx: &Context, a: &EventsArgs) -> CmdResult {
    let store = cx.store()?;
    let mut w = render::out();
    match &a.sub {
        None => {
            let l = a.req.run_with(&store, &Bar::new()).map_err(common::op_error::<Events, Events>)?;
            if render::data(&mut w, a.format, &l)? {
            } else if l.items.is_empty() {
                writeln!(w, "no events")?;
            } else {
                for e in &l.items {
                    event_line(&mut w, e)?;
                }
            }
        }
        Some(EventsCmd::Rebuild(r)) => {
            let u = r.run_with(&store, &Bar::new()).map_err(common::op_error::<RebuildEvents, RebuildEvents>)?;
            if render::data(&mut w, a.format, &u)? {
            } else {
                writeln!(w, "derived {} events", u.new_events)?;
            }
        }
        Some(EventsCmd::Push(r)) => {
            let p = r.run_with(&store, &Bar::new()).map_err(common::op_error::<MemoryPush, MemoryPush>)?;
            if render::data(&mut w, a.format, &p)? {
            } else {
                for s in &p.pushed.sinks {
                    write!(w, "{}: delivered {}", s.sink, s.delivered)?;
                    if s.dead > 0 {
                        write!(w, ", {} now dead", s.dead)?;
                    }
                    match &s.stopped {
                        Some(why) => writeln!(w, "; stopped: {why}")?,
                        None => writeln!(w, "; nothing left")?,
                    }
                }
            }
        }
        Some(EventsCmd::Status(r)) => {
            let s = r.run_with(&store, &Bar::new()).map_err(common::op_error::<MemoryStatus, MemoryStatus>)?;
            if render::data(&mut w, a.format, &s)? {
            } else {
                writeln!(w, "events: {} (memory {})", s.events, if s.memory_enabled { "on" } else { "off" })?;
                if let Some(r) = &s.delivery_ref {
                    writeln!(w, "delivered once on: {r}")?;
                }
                for k in &s.sinks {
                    write!(w, "{}: {} pending, {} delivered, {} dead", k.sink, k.pending, k.delivered, k.dead)?;
                    if let Some(age) = k.oldest_pending_age_seconds {
                        write!(w, ", oldest pending {age} s")?;
                    }
                    writeln!(w)?;
                    if let Some(e) = &k.last_error {
                        writeln!(w, "    last error: {e}")?;
                    }
                }
            }
        }
        Some(EventsCmd::Retry(r)) => {
            let n = common::run_op::<MemoryRetry, _>(&store, r)?;
            if render::data(&mut w, a.format, &n)? {
            } else {
                writeln!(w, "{} events made due", n.changed)?;
            }
        }
        Some(EventsCmd::Search(r)) => {
            let h = r.run_with(&store, &Bar::new()).map_err(common::op_error::<SearchHistory, SearchHistory>)?;
            if !render::data(&mut w, a.format, &h)? {
                history_hits(&mut w, &h)?;
            }
        }
    }
    Ok(())
}
