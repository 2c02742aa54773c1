//! `trust`: approves dependencies' validation commands after a person has
//! read them. An approval binds the exact command text and the canonical
//! directory it runs in (see [`crate::deps::trust`]), is kept in the local
//! repository's git config (`coord.trusted`), never in a tracked file, and
//! is printed with control characters escaped, so what is shown is what is
//! approved.

use super::common::OutputArgs;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Format};
use crate::deps;
use crate::display;
use crate::model::Kind;
use std::io::Write;

/// Approve validation commands so `check-deps` runs them. Read each command
/// first: it runs with your rights. An approval covers the command text and
/// the directory it runs in; a change to either needs a new approval.
#[derive(Debug, clap::Args)]
pub struct TrustArgs {
    /// Dependencies whose commands to approve.
    #[arg(value_name = "DEP-…", required_unless_present_any = ["all", "exec"], conflicts_with = "all")]
    pub ids: Vec<String>,
    /// Approve the commands of every dependency.
    #[arg(long)]
    pub all: bool,
    /// Approve what pool execution would run instead: the resolved command
    /// of each todo named (`trust --exec TODO-…`), of a plan's todos
    /// (`--plan`), or a command across repositories (`--command CMD
    /// --repos …`). Same store and binding as dependency commands, plus the
    /// names of the variables the executor sets.
    #[arg(long)]
    pub exec: bool,
    /// With --exec: the open todos of this plan.
    #[arg(long, requires = "exec")]
    pub plan: Option<String>,
    /// With --exec: a command to approve in --repos.
    #[arg(long, requires = "exec")]
    pub command: Option<String>,
    /// With --exec --command: the repositories.
    #[arg(long, value_delimiter = ',', requires = "command")]
    pub repos: Vec<String>,
    /// With --exec: approve for this pool (as `execute --pool`); an
    /// approval binds the pool a task runs in.
    #[arg(long, requires = "exec")]
    pub pool: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// One approval, as `--format json|yaml` prints it.
#[derive(Debug, serde::Serialize)]
struct Approval {
    /// The dependency or todo (or `repo:command`) whose command it is.
    id: String,
    /// The command approved (exactly as it runs).
    command: String,
    /// The directory it runs in.
    dir: String,
    /// False when it was already trusted.
    newly_trusted: bool,
    /// For `--exec`: the action and where its command came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    via: Option<String>,
    /// The directory belongs to this repository: the approval also covers
    /// its committed files.
    covers_committed_files: bool,
}

/// The approvals, as a list (`{count, items}`) for json/yaml, or the lines
/// for people.
fn print(approvals: &[Approval], format: Format) -> std::io::Result<()> {
    #[derive(serde::Serialize)]
    struct List<'a> {
        count: usize,
        items: &'a [Approval],
    }
    let mut w = render::out();
    let list = List { count: approvals.len(), items: approvals };
    match format {
        Format::Json => return render::json(&mut w, &list),
        Format::Yaml => return render::yaml(&mut w, &list),
        Format::Table => {}
    }
    for a in approvals {
        let verb = if a.newly_trusted { "trusted" } else { "already trusted" };
        let command = display::escape_controls(&a.command);
        let via = a.via.as_deref().map(|v| format!(" ({v})")).unwrap_or_default();
        writeln!(w, "{verb} {}{via}: {command}", a.id)?;
        writeln!(w, "  runs in {}", display::escape_controls(&a.dir))?;
        if a.covers_committed_files {
            writeln!(w, "  (a directory of this repository: the approval also covers its committed files)")?;
        }
        if a.via.is_none() && command != a.command.as_str() {
            writeln!(w, "  (control characters in the command are shown escaped)")?;
        }
    }
    Ok(())
}

/// `trust`
pub fn run(cx: &Context, a: &TrustArgs) -> CmdResult {
    if a.exec {
        return exec(cx, a);
    }
    let store = cx.store()?;
    let loaded = store.load(&[Kind::Dependency])?;
    render::warn_load_problems(&loaded.problems);
    let commands = deps::commands(&store, &loaded, &a.ids)?;
    if commands.is_empty() && a.out.format == Format::Table {
        writeln!(render::out(), "no validation commands to trust")?;
        return Ok(());
    }
    let repo = deps::git_dir_of(&store);
    for id in &a.ids {
        if !commands.iter().any(|r| r.id.eq_ignore_ascii_case(id)) {
            return Err(CommandError::Usage(format!("{id} has no validation.command")));
        }
    }
    let mut approvals = Vec::new();
    for r in &commands {
        approvals.push(Approval {
            newly_trusted: deps::trust::approve(repo, &r.command, &r.place)?,
            id: r.id.clone(),
            command: r.command.clone(),
            dir: r.place.dir.display().to_string(),
            via: None,
            covers_committed_files: r.place.content.is_some(),
        });
    }
    Ok(print(&approvals, a.out.format)?)
}

/// `trust --exec`: approves the commands a run would start, each in its
/// checkout, after printing them.
fn exec(cx: &Context, a: &TrustArgs) -> CmdResult {
    use crate::exec::Selection;
    let store = cx.store()?;
    let sel = if let Some(c) = &a.command {
        Selection::Command { command: c.clone(), repos: a.repos.clone(), role: Vec::new(), all: false }
    } else if let Some(p) = &a.plan {
        Selection::Plan(p.clone())
    } else if !a.ids.is_empty() {
        Selection::Todos { ids: a.ids.clone(), with_deps: false }
    } else {
        return Err(CommandError::Usage("--exec needs todos, --plan, or --command with --repos".into()));
    };
    let opts = crate::exec::RunOptions { pool: a.pool.clone(), ..Default::default() };
    let p = crate::exec::prepare(&store, Some(sel), opts, crate::exec::scheduler::Start::New)?;
    let repo = deps::git_dir_of(&store);
    let mut approvals = Vec::new();
    let mut unresolved = false;
    for t in &p.tasks {
        let (r, dir) = match (&t.resolved, &t.dir, &t.problem) {
            (Ok(r), Some(d), None) => (r, d),
            (Err(_), _, _) | (_, _, Some(_)) => {
                let why = t.resolved.as_ref().err().map(|e| e.to_string()).or_else(|| t.problem.clone());
                eprintln!("error: {}: {}", t.key, why.unwrap_or_default());
                unresolved = true;
                continue;
            }
            (Ok(_), None, None) => continue,
        };
        let place = deps::trust::Place::of(&store, dir.clone())?;
        let subject = crate::exec::plan::exec_subject(&r.command, p.cfg.pools.get(&r.pool));
        approvals.push(Approval {
            newly_trusted: deps::trust::approve(repo, &subject, &place)?,
            id: t.key.to_string(),
            command: r.command.clone(),
            dir: dir.display().to_string(),
            via: Some(format!("{} via {}", r.action, r.decided_by)),
            covers_committed_files: place.content.is_some(),
        });
    }
    print(&approvals, a.out.format)?;
    if unresolved { Err(CommandError::Failed) } else { Ok(()) }
}
