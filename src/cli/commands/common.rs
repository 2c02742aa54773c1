//! Pieces shared by the entity commands: the output flag, running a typed
//! operation (its field errors named as flags), printing its result.

use crate::api::entities::{Deleted, Listed, Shown};
use crate::api::{Operation, Written};
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Format};
use crate::error::Error;
use crate::model::*;
use crate::store::Store;
use std::io::Write;

/// `--format` for entity commands.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// The answer to an update with no flags: nothing to update, exit 0. For
/// `json`/`yaml`, the unchanged result (`changed: false`), so a script gets
/// the same shape whatever it asked.
pub fn nothing_to_update(id: &str, unchanged: &crate::api::Written, format: Format) -> CmdResult {
    if format == Format::Table {
        writeln!(render::out(), "nothing to update for {id} (no change was asked for; see --help)")?;
        return Ok(());
    }
    eprintln!("nothing to update for {id}");
    written(unchanged, |_| String::new(), format)
}

/// Runs a typed operation for the command whose flags are `A`: a request
/// field named in an error is shown as the flag that sets it.
pub fn run_op<A: clap::Args, O: crate::api::Operation>(store: &Store, req: &O) -> Result<O::Output, CommandError> {
    req.run(store).map_err(op_error::<A, O>)
}

/// An operation's error, to be shown with the flags of the command whose
/// arguments are `A`.
pub fn op_error<A: clap::Args, O: crate::api::Operation>(error: Error) -> CommandError {
    CommandError::Op { error, cmd: Box::new(A::augment_args(clap::Command::new(O::COMMAND))) }
}

/// How the CLI names a request field: its long flag, or `<VALUE>` for a
/// positional argument.
pub fn flag_of(cmd: &clap::Command, field: &str) -> String {
    match cmd.get_arguments().find(|a| a.get_id() == field) {
        Some(a) => match a.get_long() {
            Some(l) => format!("--{l}"),
            None => format!(
                "<{}>",
                a.get_value_names().and_then(|v| v.first()).map_or(field.to_uppercase(), |v| v.to_string())
            ),
        },
        None => format!("--{}", field.replace('_', "-")),
    }
}

/// Prints an operation's warnings to stderr (control characters escaped:
/// they can quote data from a pull request).
pub fn warn(warnings: &[String]) {
    let mut err = crate::cli::render::err();
    for w in warnings {
        let _ = writeln!(err, "warning: {}", crate::display::escape_controls(w));
    }
}

/// Prints a write's result: a line for people (`created PLAN-003 (path)`),
/// the [`crate::api::Written`] value for `json`/`yaml`.
pub fn written(
    w: &crate::api::Written,
    line: impl FnOnce(&crate::api::Written) -> String,
    format: Format,
) -> CmdResult {
    warn(&w.warnings);
    let mut out = render::out();
    match format {
        Format::Table if !w.changed => writeln!(out, "{}: nothing to change", w.id)?,
        Format::Table => writeln!(out, "{}", line(w))?,
        Format::Json => render::json(&mut out, w)?,
        Format::Yaml => render::yaml(&mut out, w)?,
    }
    Ok(())
}

/// Prints a list: a table for people, the [`Listed`] value for `json`/`yaml`.
pub fn listed(kind: Kind, l: &Listed, format: Format) -> CmdResult {
    warn(&l.warnings);
    match format {
        Format::Table => {
            let entities =
                l.items.iter().map(|v| render::entity_of(kind, &v.value())).collect::<Result<Vec<_>, _>>()?;
            render::entities(&mut render::out(), kind, &entities.iter().collect::<Vec<_>>(), format)?
        }
        // Entities as JSON values and strings: nothing can fail midway.
        Format::Json => render::json_streamed(&mut render::out_data(), l)?,
        Format::Yaml => render::yaml(&mut render::out_data(), l)?,
    }
    Ok(())
}

/// Prints one entity: `key: value` lines for people, the [`Shown`] value for
/// `json`/`yaml`.
pub fn shown(kind: Kind, s: &Shown, format: Format) -> CmdResult {
    warn(&s.warnings);
    let mut out = render::out();
    match format {
        Format::Table => {
            render::entity(&mut out, &render::entity_of(kind, &s.entity)?, format)?;
            if let Some(r) = &s.relations {
                relations(&mut out, r)?;
            }
        }
        Format::Json => render::json(&mut out, s)?,
        Format::Yaml => render::yaml(&mut out, s)?,
    }
    Ok(())
}

/// The computed relations under a shown entity.
fn relations(w: &mut dyn Write, r: &crate::graph::relations::Relations) -> std::io::Result<()> {
    use crate::display::shown as esc;
    let item = |x: &crate::graph::relations::Related| {
        let via = x.via.as_ref().map(|v| format!(", via {v}")).unwrap_or_default();
        format!("{} {} ({}{via})", x.id, esc(&x.title), if x.status.is_empty() { "?" } else { &x.status })
    };
    writeln!(w, "\nrelations:")?;
    writeln!(w, "  state: {}", r.state)?;
    let (open, done): (Vec<_>, Vec<_>) = r.blocked_by.iter().partition(|b| b.open);
    for (label, list) in [("blocked by (open)", &open), ("blocked by (finished)", &done)] {
        if !list.is_empty() {
            writeln!(w, "  {label}: {}", list.iter().map(|x| item(x)).collect::<Vec<_>>().join("; "))?;
        }
    }
    if !r.blocks.is_empty() {
        writeln!(w, "  blocks: {}", r.blocks.iter().map(item).collect::<Vec<_>>().join("; "))?;
    }
    if let Some(p) = &r.progress {
        writeln!(w, "  todos: {}/{} done", p.done, p.total)?;
        for t in &r.todos {
            writeln!(w, "    {}", item(t))?;
        }
    }
    if !r.plans.is_empty() {
        writeln!(w, "  plan: {}", r.plans.join(", "))?;
    }
    if let Some(m) = &r.milestone {
        writeln!(w, "  milestone: {m}")?;
    }
    if let Some(i) = &r.issue {
        writeln!(w, "  issue: {i}")?;
    }
    if let Some(c) = &r.last_change {
        writeln!(w, "  last change: {} {} {} — {}", c.commit, c.date, esc(&c.author), esc(&c.summary))?;
    }
    Ok(())
}

/// Prints a delete: `deleted ID (path)` for people (and the references left
/// dangling, on stderr), the [`Deleted`] value for `json`/`yaml`.
pub fn deleted(d: &Deleted, format: Format) -> CmdResult {
    let mut out = render::out();
    match format {
        Format::Table => {
            writeln!(out, "deleted {} ({})", d.id, d.path)?;
            for r in &d.dangling {
                eprintln!("warning: {}.{} still refers to {} (git coord lint reports it)", r.holder, r.field, d.id);
            }
        }
        Format::Json => render::json(&mut out, d)?,
        Format::Yaml => render::yaml(&mut out, d)?,
    }
    Ok(())
}

/// A command whose flags are exactly an operation's request, plus `--format`.
#[derive(Debug, clap::Args)]
pub struct OpArgs<R: clap::Args> {
    #[command(flatten)]
    pub req: R,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `list-*`: runs the list operation, prints the result.
pub fn list<R: Operation<Output = Listed> + clap::Args>(cx: &Context, kind: Kind, a: &OpArgs<R>) -> CmdResult {
    // Tens of thousands of values are freed beside the exit, not before it.
    let l = crate::api::DropLater::new(run_op::<R, R>(&cx.store()?, &a.req)?);
    listed(kind, &l, a.out.format)
}

/// `show-*`: runs the show operation, prints the result.
pub fn show<R: Operation<Output = Shown> + clap::Args>(cx: &Context, kind: Kind, a: &OpArgs<R>) -> CmdResult {
    let s = run_op::<R, R>(&cx.store()?, &a.req)?;
    shown(kind, &s, a.out.format)
}

/// `delete-*`: runs the delete operation, prints the result.
pub fn delete<R: Operation<Output = Deleted> + clap::Args>(cx: &Context, a: &OpArgs<R>) -> CmdResult {
    let d = run_op::<R, R>(&cx.store()?, &a.req)?;
    deleted(&d, a.out.format)
}

/// A write: runs it, prints `VERB ID (path)` for people.
pub fn write<R: Operation<Output = Written> + clap::Args>(cx: &Context, a: &OpArgs<R>, verb: &str) -> CmdResult {
    let w = run_op::<R, R>(&cx.store()?, &a.req)?;
    written(&w, |w| format!("{verb} {} ({})", w.id, w.path), a.out.format)
}

/// An update: with no change asked for, says so (after checking that the
/// entity exists) and writes nothing; otherwise as [`write`].
pub fn update<R: Operation<Output = Written> + clap::Args>(
    cx: &Context,
    kind: Kind,
    a: &OpArgs<R>,
    id: &str,
    empty: bool,
) -> CmdResult {
    if empty {
        let store = cx.store()?;
        let rec = crate::ops::find(&store, kind, id)?;
        return nothing_to_update(id, &Written::unchanged(&store, &rec, None)?, a.out.format);
    }
    write(cx, a, "updated")
}
