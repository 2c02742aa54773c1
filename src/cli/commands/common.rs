//! Pieces shared by the entity commands: output and filter flags, printing
//! write outcomes.

use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Format};
use crate::error::Error;
use crate::model::*;
use crate::ops::Outcome;
use crate::store::{Loaded, Store, WriteMode};
use std::io::Write;

/// `--format` for entity commands.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// `--rewrite`, for commands that change an existing entity.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RewriteArg {
    /// When no minimal edit is possible (the file uses YAML anchors/aliases,
    /// or a construct the line editor cannot handle), rewrite the file in
    /// canonical form even though that drops its comments and anchors.
    /// Without it such an update is refused and nothing changes.
    #[arg(long)]
    pub rewrite: bool,
}

/// Filters shared by list commands, combined with AND. Each accepts the same
/// aliases as the loader (`--priority P0`, `--status done`) and several
/// comma-separated values.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Filters {
    /// Only these statuses (comma-separated; aliases accepted).
    #[arg(long, value_delimiter = ',')]
    pub status: Vec<String>,
    /// Only these priorities (comma-separated; `P0`..`P3` accepted).
    #[arg(long, value_delimiter = ',')]
    pub priority: Vec<String>,
    /// Only entities of this repository (name or nickname).
    #[arg(long)]
    pub repo: Option<String>,
    /// Only entities assigned to this person.
    #[arg(long)]
    pub assignee: Option<String>,
    /// Only entities with this label.
    #[arg(long)]
    pub label: Option<String>,
}

impl Filters {
    /// The library filters these flags ask for.
    pub fn to_query(&self) -> crate::query::Filters {
        crate::query::Filters {
            status: self.status.clone(),
            priority: self.priority.clone(),
            repo: self.repo.clone(),
            assignee: self.assignee.clone(),
            label: self.label.clone(),
        }
    }

    /// Applies the filters to one entity (see [`crate::query::Filters`]).
    pub fn matches(&self, e: &Entity, loaded: &Loaded) -> Result<bool, Error> {
        self.to_query().matches(e, loaded)
    }
}

/// `list-*`: loads one kind, filters, prints.
pub fn list(store: &Store, kind: Kind, filters: &Filters, format: Format) -> CmdResult {
    let query = filters.to_query();
    query.validate(kind)?;
    let loaded = store.load(&[kind])?;
    render::warn_load_problems(&loaded.problems);
    query.check(&loaded)?;
    let mut out = Vec::new();
    for rec in loaded.records(kind) {
        if query.matches(&rec.entity, &loaded)? {
            out.push(&rec.entity);
        }
    }
    render::entities(&mut render::out(), kind, &out, format)?;
    Ok(())
}

/// `show-*`: one entity (as it is, or as it was at `--at REV`).
pub fn show(store: &Store, kind: Kind, a: &ShowArgs) -> CmdResult {
    let (id, format) = (a.id.as_str(), a.out.format);
    let rec = match &a.at {
        Some(rev) => crate::history::diff::find_at(store, kind, id, rev)?,
        None => crate::ops::find(store, kind, id)?,
    };
    let mut err = anstream::stderr();
    for p in &rec.problems {
        let _ = writeln!(err, "warning: {p}");
    }
    render::entity(&mut render::out(), &rec.entity, format)?;
    Ok(())
}

/// Prints the outcome of a write.
pub fn outcome(store: &Store, o: &Outcome, verb: &str, format: Format) -> CmdResult {
    for p in &o.warnings {
        eprintln!("warning: {p}");
    }
    if o.mode == WriteMode::Canonical {
        eprintln!(
            "note: {} was rewritten in canonical form ({}): no minimal edit was possible",
            o.entity.id(),
            store.rel(&o.path).display()
        );
    }
    let mut w = render::out();
    match format {
        Format::Table => {
            if o.mode == WriteMode::Unchanged {
                writeln!(w, "{}: nothing to change", o.entity.id())?;
            } else {
                writeln!(w, "{verb} {} ({})", o.entity.id(), store.rel(&o.path).display())?;
            }
        }
        f => render::entity(&mut w, &o.entity, f)?,
    }
    Ok(())
}

/// The answer to an update with no flags: nothing to update, exit 0.
pub fn nothing_to_update(id: &str, format: Format) -> CmdResult {
    if format == Format::Table {
        writeln!(render::out(), "nothing to update for {id} (no change was asked for; see --help)")?;
    } else {
        eprintln!("nothing to update for {id}");
    }
    Ok(())
}

/// Show one entity.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The ID (e.g. ISSUE-001; `issue-1` finds ISSUE-001).
    pub id: String,
    /// Show it as it was at this revision (`HEAD~3`, `main`, a tag, a commit).
    #[arg(long, value_name = "REV")]
    pub at: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `update-*`: applies a patch; with no flags, says so and writes nothing.
pub fn update(store: &Store, kind: Kind, id: &str, patch: &crate::ops::Patch, format: Format) -> CmdResult {
    if patch.is_empty() {
        crate::ops::find(store, kind, id)?;
        return nothing_to_update(id, format);
    }
    let o = crate::ops::update(store, kind, id, patch)?;
    outcome(store, &o, "updated", format)
}

/// Delete an entity (refused while others reference it).
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// The ID.
    pub id: String,
    /// Delete even if other entities reference it.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `delete-issue`, `delete-todo`, `delete-dep`
pub fn delete(store: &Store, kind: Kind, a: &DeleteArgs) -> CmdResult {
    let rec = crate::ops::delete(store, kind, &a.id, a.force)?;
    let o = Outcome {
        entity: rec.entity,
        path: rec.origin.path().to_path_buf(),
        mode: WriteMode::Minimal,
        warnings: Vec::new(),
    };
    outcome(store, &o, "deleted", a.out.format)
}

/// Runs a typed operation for the command whose flags are `A`: a request
/// field named in an error is shown as the flag that sets it.
pub fn run_op<A: clap::Args, O: crate::api::Operation>(store: &Store, req: &O) -> Result<O::Output, CommandError> {
    req.run(store).map_err(|e| match e {
        Error::Fields(fields) => {
            let cmd = A::augment_args(clap::Command::new(O::COMMAND));
            CommandError::Fields(fields.iter().map(|f| f.render(&flag_of(&cmd, &f.field))).collect())
        }
        e => CommandError::Lib(e),
    })
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
        None => field.to_string(),
    }
}

/// Prints an operation's warnings to stderr (control characters escaped:
/// they can quote data from a pull request).
pub fn warn(warnings: &[String]) {
    let mut err = anstream::stderr();
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
    let mut out = render::out();
    match format {
        Format::Table if !w.changed => writeln!(out, "{}: nothing to change", w.id)?,
        Format::Table => writeln!(out, "{}", line(w))?,
        Format::Json => render::json(&mut out, w)?,
        Format::Yaml => render::yaml(&mut out, w)?,
    }
    Ok(())
}
