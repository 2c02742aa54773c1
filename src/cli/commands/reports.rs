//! Graph commands: `ready`, `blocking`, `blocked-by`, `status`, `roadmap`,
//! `workload`, `dep-graph`, `validate-repo`. Each runs its typed operation
//! ([`crate::api::reports`]) and renders the report: `--format json|yaml`
//! prints the operation's output as it is, the table is for people.
//!
//! It stays one file: eight small renderers of the graph reports, each a few
//! lines, sharing the table helpers.

use super::common::{self, OutputArgs};
use crate::api::reports::{
    BlockedBy, Blocking, DepGraph, EcosystemStatus, Ready, RepoStatus, Roadmap, ValidateRepo, Workload,
};
use crate::api::types::GraphFormat;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Cell, DIM, Format, HEADER, styled};
use crate::graph::{self, WorkloadBy};
use serde::Serialize;
use std::io::Write;

fn structured(format: Format, v: &impl Serialize) -> Option<std::io::Result<()>> {
    match format {
        Format::Json => Some(render::json(&mut render::out(), v)),
        Format::Yaml => Some(render::yaml(&mut render::out(), v)),
        Format::Table => None,
    }
}

fn hours(h: Option<f64>) -> String {
    h.map(|h| format!("{h}h")).unwrap_or_default()
}

/// Pending todos nothing active blocks, best first: "what can I do now".
#[derive(Debug, clap::Args)]
pub struct ReadyArgs {
    #[command(flatten)]
    pub req: Ready,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `ready`
pub fn ready(cx: &Context, a: &ReadyArgs) -> CmdResult {
    let out = common::run_op::<ReadyArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&out.warnings);
    if let Some(r) = structured(a.out.format, &out) {
        return Ok(r?);
    }
    let list = &out.items;
    let mut w = render::out();
    if list.is_empty() {
        writeln!(w, "nothing is ready")?;
        return Ok(());
    }
    let rows = list
        .iter()
        .map(|r| {
            vec![
                Cell::from(r.todo.id.as_str()),
                styled(&r.todo.priority),
                r.todo.repo.as_str().into(),
                hours(r.todo.estimated_hours).into(),
                r.unblocks.to_string().into(),
                r.todo.assignee.clone().unwrap_or_default().into(),
                r.todo.task.as_str().into(),
            ]
        })
        .collect();
    render::table(&mut w, &["ID", "PRIORITY", "REPO", "EST", "UNBLOCKS", "ASSIGNEE", "TASK"], rows)?;
    Ok(())
}

/// What is blocking REPO — its own work that waits on something: open
/// issues naming it, unsatisfied dependencies it consumes, and its todos'
/// active blockers (with the chain to the root cause).
///
/// Read it as "what is blocking REPO". The other direction — what REPO is
/// blocking — is `git coord blocked-by REPO`. (Not the same word as the
/// entity field `blocking:`, which lists what an entity blocks.)
#[derive(Debug, clap::Args)]
pub struct BlockingArgs {
    #[command(flatten)]
    pub req: Blocking,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `blocking`
pub fn blocking(cx: &Context, a: &BlockingArgs) -> CmdResult {
    let out = common::run_op::<BlockingArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&out.warnings);
    if let Some(r) = structured(a.out.format, &out) {
        return Ok(r?);
    }
    let mut stdout = render::out();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut stdout);
    print_blocking(&mut w, &out.report)?;
    w.flush()?;
    Ok(())
}

fn print_blocking(w: &mut dyn Write, r: &graph::BlockingReport) -> std::io::Result<()> {
    if r.open_issues.is_empty() && r.unsatisfied_dependencies.is_empty() && r.blocked_todos.is_empty() {
        return writeln!(w, "nothing is blocking {}", r.repo);
    }
    writeln!(w, "{HEADER}What is blocking {} (its work waits on these){HEADER:#}", r.repo)?;
    if !r.open_issues.is_empty() {
        writeln!(w, "{HEADER}Open issues naming {}{HEADER:#}", r.repo)?;
        for i in &r.open_issues {
            writeln!(w, "  {}  {}  {}  {}", i.id, i.status, i.priority, i.title)?;
        }
    }
    if !r.unsatisfied_dependencies.is_empty() {
        writeln!(w, "{HEADER}Dependencies not satisfied{HEADER:#}")?;
        for d in &r.unsatisfied_dependencies {
            let c = d.version_constraint.as_deref().unwrap_or("");
            writeln!(w, "  {}  {} → {} {c}  {}", d.id, d.consumer, d.provider, d.status)?;
        }
    }
    if !r.blocked_todos.is_empty() {
        writeln!(w, "{HEADER}Blocked todos{HEADER:#}")?;
        for t in &r.blocked_todos {
            writeln!(w, "  {}  {}", t.todo.id, t.todo.task)?;
            for chain in &t.blockers {
                writeln!(w, "    {DIM}blocked by{DIM:#} {}", chain.join(" ← "))?;
            }
        }
    }
    Ok(())
}

/// What REPO is blocking — other work that waits on REPO: consumers of its
/// unsatisfied dependencies and entities of other repositories waiting on
/// its open work.
///
/// Read it as "what is blocked by REPO". The other direction — what is
/// blocking REPO — is `git coord blocking REPO`.
#[derive(Debug, clap::Args)]
pub struct BlockedByArgs {
    #[command(flatten)]
    pub req: BlockedBy,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `blocked-by`
pub fn blocked_by(cx: &Context, a: &BlockedByArgs) -> CmdResult {
    let out = common::run_op::<BlockedByArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&out.warnings);
    if let Some(r) = structured(a.out.format, &out) {
        return Ok(r?);
    }
    let mut stdout = render::out();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut stdout);
    print_blocked_by(&mut w, &out.report)?;
    w.flush()?;
    Ok(())
}

fn print_blocked_by(w: &mut dyn Write, r: &graph::BlockedByReport) -> std::io::Result<()> {
    if r.dependencies.is_empty() && r.entities.is_empty() {
        return writeln!(w, "{} is blocking nothing", r.repo);
    }
    writeln!(
        w,
        "{HEADER}What {} is blocking (this work waits on {}):{HEADER:#} {}",
        r.repo,
        r.repo,
        r.repos.join(", ")
    )?;
    for d in &r.dependencies {
        writeln!(
            w,
            "  {}  {} needs {} {}  {}",
            d.id,
            d.consumer,
            d.provider,
            d.version_constraint.as_deref().unwrap_or(""),
            d.status
        )?;
    }
    for e in &r.entities {
        writeln!(w, "  {}  {}  ({}) waits on {}", e.id, e.title, e.repos.join(","), e.waits_on.join(", "))?;
    }
    Ok(())
}

/// Coordination status of one repository, or of the whole ecosystem.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Repository name or nickname (same as --repo).
    pub repo_pos: Option<String>,
    /// Repository name or nickname.
    #[arg(long = "repo", conflicts_with = "repo_pos")]
    pub repo: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `status`
pub fn status(cx: &Context, a: &StatusArgs) -> CmdResult {
    let store = cx.store()?;
    // Thousands of lines at 100,000 entities: written in a few system
    // calls, not one per line; flushed (its errors reported) at the end.
    let mut out = render::out();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut out);
    match a.repo.as_ref().or(a.repo_pos.as_ref()) {
        Some(name) => {
            let out = common::run_op::<StatusArgs, _>(&store, &RepoStatus { repo: name.clone() })?;
            common::warn(&out.warnings);
            if let Some(r) = structured(a.out.format, &out) {
                return Ok(r?);
            }
            let s = &out.report;
            writeln!(w, "{HEADER}{}{HEADER:#}", s.repo)?;
            let t = &s.todos;
            writeln!(
                w,
                "todos: {} pending, {} in progress, {} blocked (stored or waiting on an open blocker), {} completed, {} cancelled",
                t.pending, t.in_progress, t.blocked, t.completed, t.cancelled
            )?;
            writeln!(w, "open issues: {}", s.open_issues.len())?;
            for i in &s.open_issues {
                writeln!(w, "  {}  {}  {}  {}", i.id, i.status, i.priority, i.title)?;
            }
            writeln!(w, "depends on:")?;
            if s.depends_on.is_empty() {
                writeln!(w, "  none")?;
            }
            for d in &s.depends_on {
                writeln!(
                    w,
                    "  {}  {} {}  {}",
                    d.id,
                    d.provider,
                    d.version_constraint.as_deref().unwrap_or(""),
                    d.status
                )?;
            }
            writeln!(w, "depended on by:")?;
            if s.depended_on_by.is_empty() {
                writeln!(w, "  none")?;
            }
            for d in &s.depended_on_by {
                writeln!(
                    w,
                    "  {}  {} {}  {}",
                    d.id,
                    d.consumer,
                    d.version_constraint.as_deref().unwrap_or(""),
                    d.status
                )?;
            }
            writeln!(w, "plans:")?;
            if s.plans.is_empty() {
                writeln!(w, "  none")?;
            }
            for p in &s.plans {
                writeln!(
                    w,
                    "  {}  {}  {}/{} milestones  {}",
                    p.id, p.status, p.milestones_completed, p.milestones_total, p.title
                )?;
            }
            print_blocking(&mut w, &s.blocking)?;
            print_blocked_by(&mut w, &s.blocked_by)?;
        }
        None => {
            let out = common::run_op::<StatusArgs, _>(&store, &EcosystemStatus {})?;
            common::warn(&out.warnings);
            if let Some(r) = structured(a.out.format, &out) {
                return Ok(r?);
            }
            let s = &out.report;
            let style = render::value_style(if s.health == "healthy" { "completed" } else { "critical" });
            write!(w, "health: {style}{}{style:#}", s.health)?;
            if !s.reasons.is_empty() {
                write!(w, " ({})", s.reasons.join("; "))?;
            }
            writeln!(w)?;
            let t = &s.todos;
            writeln!(w, "repos: {}   open issues: {}   ready todos: {}", s.repos, s.open_issues, s.ready_todos)?;
            writeln!(
                w,
                "todos: {} pending, {} in progress, {} blocked (stored or waiting on an open blocker), {} completed, {} cancelled",
                t.pending, t.in_progress, t.blocked, t.completed, t.cancelled
            )?;
            writeln!(w, "{HEADER}Active plans{HEADER:#}")?;
            if s.active_plans.is_empty() {
                writeln!(w, "  none")?;
            }
            for p in &s.active_plans {
                writeln!(w, "  {}  {}/{} milestones  {}", p.id, p.milestones_completed, p.milestones_total, p.title)?;
            }
            writeln!(w, "{HEADER}Critical blockers{HEADER:#}")?;
            if s.critical_blockers.is_empty() {
                writeln!(w, "  none")?;
            }
            for i in &s.critical_blockers {
                writeln!(w, "  {}  {}  {}  {}", i.id, i.priority, i.repos.join(","), i.title)?;
            }
            writeln!(w, "{HEADER}Dependencies not satisfied{HEADER:#}")?;
            if s.unsatisfied_dependencies.is_empty() {
                writeln!(w, "  none")?;
            }
            for d in &s.unsatisfied_dependencies {
                writeln!(w, "  {}  {} → {}  {}", d.id, d.consumer, d.provider, d.status)?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

/// Active plans with milestones, progress, the critical path and projected
/// finish dates (flagging plans and milestones that will miss their date).
#[derive(Debug, clap::Args)]
pub struct RoadmapArgs {
    #[command(flatten)]
    pub req: Roadmap,
    #[command(flatten)]
    pub out: OutputArgs,
}

fn bar(percent: u8) -> String {
    let filled = usize::from(percent) / 10;
    format!("[{}{}] {percent:>3}%", "#".repeat(filled), "-".repeat(10 - filled))
}

/// `roadmap`
pub fn roadmap(cx: &Context, a: &RoadmapArgs) -> CmdResult {
    let out = common::run_op::<RoadmapArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&out.warnings);
    if let Some(res) = structured(a.out.format, &out) {
        return Ok(res?);
    }
    let r = &out.report;
    // Tens of thousands of lines at 100,000 entities (see `status`).
    let mut stdout = render::out();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut stdout);
    if r.plans.is_empty() {
        writeln!(w, "no active plans")?;
    }
    let late = render::value_style("critical");
    for p in &r.plans {
        let target = p.target.as_deref().map(|t| format!("  target {t}")).unwrap_or_default();
        writeln!(w, "{HEADER}{}  {}{HEADER:#}  [{}]{target}", p.id, p.title, p.status)?;
        writeln!(
            w,
            "  {}  {}/{} milestones, {}/{} todos",
            bar(p.percent),
            p.milestones_completed,
            p.milestones_total,
            p.todos_done,
            p.todos_total
        )?;
        if let Some(note) = &p.note {
            writeln!(w, "  {note}")?;
        } else if !p.critical_path.is_empty() {
            write!(w, "  critical path: {} ({}h)", p.critical_path.join(" → "), p.critical_path_hours)?;
            if let Some(f) = &p.projected_finish {
                write!(w, ", projected {f}")?;
            }
            if p.late {
                write!(w, "  {late}WILL MISS TARGET{late:#}")?;
            }
            writeln!(w)?;
        }
        if !p.unestimated.is_empty() {
            writeln!(w, "  {DIM}unestimated (counted as 0h): {}{DIM:#}", p.unestimated.join(", "))?;
        }
        for m in &p.milestones {
            let due = m.due.as_deref().map(|d| format!("due {d}")).unwrap_or_else(|| "no due date".into());
            let proj = m.projected.as_deref().map(|d| format!(", projected {d}")).unwrap_or_default();
            let flag = if m.late { format!("  {late}LATE{late:#}") } else { String::new() };
            writeln!(
                w,
                "  {}  {}  {}  {}  {}/{} todos{proj}{flag}",
                m.id, m.name, due, m.status, m.todos_done, m.todos_total
            )?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Open todos and estimated hours per assignee or repository, plus
/// unassigned work.
#[derive(Debug, clap::Args)]
pub struct WorkloadArgs {
    #[command(flatten)]
    pub req: Workload,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `workload`
pub fn workload(cx: &Context, a: &WorkloadArgs) -> CmdResult {
    let out = common::run_op::<WorkloadArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&out.warnings);
    if let Some(r) = structured(a.out.format, &out) {
        return Ok(r?);
    }
    let rows = &out.rows;
    let mut w = render::out();
    let head = if out.by == WorkloadBy::Assignee { "ASSIGNEE" } else { "REPO" };
    let cells = rows
        .iter()
        .map(|r| {
            vec![
                Cell::from(r.key.clone().unwrap_or_else(|| "(unassigned)".into())),
                r.open_todos.to_string().into(),
                r.in_progress.to_string().into(),
                r.blocked.to_string().into(),
                format!("{}h", r.estimated_hours).into(),
                r.unestimated.to_string().into(),
            ]
        })
        .collect();
    render::table(&mut w, &[head, "OPEN", "IN_PROGRESS", "BLOCKED", "HOURS", "UNESTIMATED"], cells)?;
    if rows.iter().any(|r| r.blocked > 0) {
        writeln!(w, "BLOCKED: stored `blocked` or waiting on an open blocker (effective state)")?;
    }
    Ok(())
}

/// The repository dependency graph (default) or the entity blocking graph.
#[derive(Debug, clap::Args)]
pub struct DepGraphArgs {
    #[command(flatten)]
    pub req: DepGraph,
}

/// `dep-graph`: the rendering as it is, or the nodes and edges as JSON.
pub fn dep_graph(cx: &Context, a: &DepGraphArgs) -> CmdResult {
    let out = common::run_op::<DepGraphArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&out.warnings);
    let mut w = render::out();
    match (&out.text, a.req.format) {
        (_, GraphFormat::Yaml) => render::yaml(&mut w, &out)?,
        (_, GraphFormat::Json) | (None, _) => render::json(&mut w, &out)?,
        (Some(text), _) => write!(w, "{text}")?,
    }
    Ok(())
}

/// Check a repository: registered, its path exists and is a git repository,
/// every dependency naming it has a known counterpart. Exit 1 on problems.
#[derive(Debug, clap::Args)]
pub struct ValidateRepoArgs {
    #[command(flatten)]
    pub req: ValidateRepo,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `validate-repo`
pub fn validate_repo(cx: &Context, a: &ValidateRepoArgs) -> CmdResult {
    let out = common::run_op::<ValidateRepoArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&out.warnings);
    let v = &out.report;
    if let Some(r) = structured(a.out.format, &out) {
        r?;
    } else {
        let mut w = render::out();
        for c in &v.checks {
            let (mark, style) = if c.status == "ok" {
                ("ok", render::value_style("completed"))
            } else {
                ("error", render::value_style("critical"))
            };
            writeln!(w, "{style}{mark:>5}{style:#}  {}: {}", c.check, c.detail)?;
        }
        let ents = if v.entities.is_empty() { "none".to_string() } else { v.entities.join(", ") };
        writeln!(w, "entities naming {}: {ents}", v.repo)?;
    }
    if v.ok { Ok(()) } else { Err(CommandError::Failed) }
}

/// `validate --plan P`: readiness checks and milestone completion; exit 1
/// unless every readiness check passes.
#[derive(Debug, clap::Args)]
pub struct ValidatePlanArgs {
    #[command(flatten)]
    pub req: crate::exec::validate::ValidatePlan,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `validate`
pub fn validate_plan(cx: &Context, a: &ValidatePlanArgs) -> CmdResult {
    let v = common::run_op::<ValidatePlanArgs, _>(&cx.store()?, &a.req)?;
    if let Some(r) = structured(a.out.format, &v) {
        r?;
    } else {
        let mut w = render::out();
        for c in &v.checks {
            let (mark, style) = if c.status == "ok" {
                ("ok", render::value_style("completed"))
            } else {
                ("error", render::value_style("critical"))
            };
            writeln!(w, "{style}{mark:>5}{style:#}  {}: {}", c.check, c.detail)?;
        }
        for m in &v.milestones {
            writeln!(w, "{} ({}): {}", m.id, m.status, if m.met { "complete" } else { "not complete" })?;
            for i in &m.items {
                let detail = i.detail.as_deref().map(|d| format!(" — {d}")).unwrap_or_default();
                writeln!(w, "  {:>9}  {} {}{detail}", i.status, i.kind, i.text)?;
            }
        }
        for u in &v.updated {
            writeln!(w, "marked {u} completed")?;
        }
        writeln!(w, "{} is {}", v.plan, if v.valid { "valid" } else { "not valid" })?;
    }
    if v.valid { Ok(()) } else { Err(CommandError::Failed) }
}
