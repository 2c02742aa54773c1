//! Todo commands: `list-todos`, `show-todo`, `create-todo`, `update-todo`,
//! `complete-todo` (`delete-todo` is shared, see `common::delete`).

use super::common::{self, Filters, OutputArgs};
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render;
use crate::model::id;
use crate::model::{Entity, Kind};
use crate::ops::{self, Patch};

/// List todos.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filters: Filters,
    /// Only todos of this plan (PLAN-…).
    #[arg(long)]
    pub plan: Option<String>,
    /// Only todos linked to this issue (ISSUE-…).
    #[arg(long)]
    pub issue: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Whether a stored link names the ID the user typed: case and zero padding
/// do not matter (`plan-1` matches `PLAN-001`), as for `show-*`.
fn same_id(link: Option<&str>, want: &str, prefix: &str) -> bool {
    let Some(link) = link else { return false };
    link.eq_ignore_ascii_case(want)
        || id::canonical_lookup(want, prefix).is_some_and(|w| id::canonical_lookup(link, prefix) == Some(w))
}

/// `list-todos`
pub fn list(cx: &Context, a: &ListArgs) -> CmdResult {
    let store = cx.store()?;
    if a.plan.is_none() && a.issue.is_none() {
        return common::list(&store, Kind::Todo, &a.filters, a.out.format);
    }
    a.filters.to_query().validate(Kind::Todo)?;
    let loaded = store.load(&[Kind::Todo])?;
    render::warn_load_problems(&loaded.problems);
    if let Some(r) = &a.filters.repo
        && !loaded.registry.is_empty()
        && let Err(e) = loaded.registry.resolve(r)
    {
        return Err(crate::Error::Invalid(e).into());
    }
    let (plan_prefix, issue_prefix) = (store.prefix(Kind::Plan), store.prefix(Kind::Issue));
    let mut out = Vec::new();
    for rec in loaded.records(Kind::Todo) {
        let Entity::Todo(t) = &rec.entity else { continue };
        let linked = a.plan.as_deref().is_none_or(|p| same_id(t.plan_id.as_deref(), p, plan_prefix))
            && a.issue.as_deref().is_none_or(|i| same_id(t.issue_id.as_deref(), i, issue_prefix));
        if linked && a.filters.matches(&rec.entity, &loaded)? {
            out.push(&rec.entity);
        }
    }
    render::entities(&mut render::out(), Kind::Todo, &out, a.out.format)?;
    Ok(())
}

/// `show-todo`
pub fn show(cx: &Context, a: &common::ShowArgs) -> CmdResult {
    common::show(&cx.store()?, Kind::Todo, a)
}

/// Create a todo: one unit of work in one repository.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// What to do.
    #[arg(long)]
    pub task: String,
    /// The repository (name or nickname).
    #[arg(long)]
    pub repo: String,
    #[arg(long)]
    pub description: Option<String>,
    /// critical, high, medium (default) or low; P0..P3 accepted.
    #[arg(long)]
    pub priority: Option<String>,
    /// Initial status (default pending).
    #[arg(long)]
    pub status: Option<String>,
    /// Estimate: `3d` (days × hours_per_day), `4h`, `90m` or a number of hours.
    #[arg(long, allow_hyphen_values = true)]
    pub estimate: Option<String>,
    /// Issues or todos that block this one.
    #[arg(long = "blocked-by", value_delimiter = ',')]
    pub blocked_by: Vec<String>,
    /// Issues or todos this one blocks.
    #[arg(long, value_delimiter = ',')]
    pub blocking: Vec<String>,
    #[arg(long)]
    pub assignee: Option<String>,
    #[arg(long = "label", value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Acceptance criterion (repeatable).
    #[arg(long = "criterion")]
    pub criteria: Vec<String>,
    /// Link to an issue.
    #[arg(long)]
    pub issue: Option<String>,
    /// Link to a plan.
    #[arg(long)]
    pub plan: Option<String>,
    /// Link to a milestone.
    #[arg(long)]
    pub milestone: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `create-todo`
pub fn create(cx: &Context, a: &CreateArgs) -> CmdResult {
    let store = cx.store()?;
    let patch = Patch {
        title: Some(a.task.clone()),
        repo: Some(a.repo.clone()),
        description: a.description.clone(),
        priority: a.priority.clone(),
        status: a.status.clone(),
        estimate: a.estimate.clone(),
        add_blockers: a.blocked_by.clone(),
        add_blocking: a.blocking.clone(),
        assignee: a.assignee.clone(),
        add_labels: a.labels.clone(),
        add_criteria: a.criteria.clone(),
        issue_id: a.issue.clone(),
        plan_id: a.plan.clone(),
        milestone_id: a.milestone.clone(),
        ..Patch::default()
    };
    let o = ops::create(&store, Kind::Todo, &patch)?;
    common::outcome(&store, &o, "created", a.out.format)
}

/// Update a todo: only the given fields change (plus `updated`).
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Todo ID.
    pub id: String,
    #[arg(long)]
    pub task: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Move to another repository.
    #[arg(long)]
    pub repo: Option<String>,
    /// pending, in_progress, blocked, completed or cancelled (aliases accepted).
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub priority: Option<String>,
    /// New assignee (`""` clears it).
    #[arg(long)]
    pub assignee: Option<String>,
    /// `3d`, `4h`, `90m` or hours.
    #[arg(long, allow_hyphen_values = true)]
    pub estimate: Option<String>,
    /// Hours actually spent.
    #[arg(long = "actual-hours", allow_hyphen_values = true)]
    pub actual_hours: Option<String>,
    #[arg(long = "add-label", value_delimiter = ',')]
    pub add_labels: Vec<String>,
    #[arg(long = "remove-label", value_delimiter = ',')]
    pub remove_labels: Vec<String>,
    /// Add blockers (issues or todos).
    #[arg(long = "blocked-by", value_delimiter = ',')]
    pub blocked_by: Vec<String>,
    /// Remove blockers from `blocked_by`.
    #[arg(long = "unblock", value_delimiter = ',')]
    pub unblock: Vec<String>,
    /// Add entities this todo blocks.
    #[arg(long, value_delimiter = ',')]
    pub blocking: Vec<String>,
    /// Remove entities from `blocking`.
    #[arg(long = "no-blocking", value_delimiter = ',')]
    pub no_blocking: Vec<String>,
    /// Link to an issue (`""` clears).
    #[arg(long)]
    pub issue: Option<String>,
    /// Link to a plan (`""` clears).
    #[arg(long)]
    pub plan: Option<String>,
    /// Link to a milestone (`""` clears).
    #[arg(long)]
    pub milestone: Option<String>,
    /// Add an acceptance criterion.
    #[arg(long = "criterion")]
    pub criteria: Vec<String>,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `update-todo`
pub fn update(cx: &Context, a: &UpdateArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let patch = Patch {
        title: a.task.clone(),
        description: a.description.clone(),
        repo: a.repo.clone(),
        status: a.status.clone(),
        priority: a.priority.clone(),
        assignee: a.assignee.clone(),
        estimate: a.estimate.clone(),
        actual_hours: a.actual_hours.clone(),
        add_labels: a.add_labels.clone(),
        remove_labels: a.remove_labels.clone(),
        add_blockers: a.blocked_by.clone(),
        remove_blockers: a.unblock.clone(),
        add_blocking: a.blocking.clone(),
        remove_blocking: a.no_blocking.clone(),
        issue_id: a.issue.clone(),
        plan_id: a.plan.clone(),
        milestone_id: a.milestone.clone(),
        add_criteria: a.criteria.clone(),
        ..Patch::default()
    };
    common::update(&store, Kind::Todo, &a.id, &patch, a.out.format)
}

/// Mark a todo completed.
#[derive(Debug, clap::Args)]
pub struct CompleteArgs {
    /// Todo ID.
    pub id: String,
    /// Hours actually spent.
    #[arg(long = "actual-hours", allow_hyphen_values = true)]
    pub actual_hours: Option<String>,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `complete-todo`
pub fn complete(cx: &Context, a: &CompleteArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let patch = Patch { status: Some("completed".into()), actual_hours: a.actual_hours.clone(), ..Patch::default() };
    let o = ops::update(&store, Kind::Todo, &a.id, &patch)?;
    if let Entity::Todo(t) = &o.entity
        && a.out.format == crate::cli::render::Format::Table
        && o.mode != crate::store::WriteMode::Unchanged
    {
        let spent = t.actual_hours.map(|h| format!(" in {h}h")).unwrap_or_default();
        use std::io::Write;
        writeln!(crate::cli::render::out(), "completed {}{spent} ({})", t.id, store.rel(&o.path).display())?;
        return Ok(());
    }
    common::outcome(&store, &o, "completed", a.out.format)
}
