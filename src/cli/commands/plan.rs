//! Plan and milestone commands: `list-plans`, `show-plan`, `create-plan`,
//! `update-plan`, `add-milestone`, `update-milestone`.

use super::common::{self, Filters, OutputArgs};
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render::{self, Format};
use crate::model::Kind;
use crate::ops::{self, MilestonePatch, NewMilestone, Patch};
use std::io::Write;

/// List plans.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// `--status` and `--repo` apply to plans.
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `list-plans`
pub fn list(cx: &Context, a: &ListArgs) -> CmdResult {
    common::list(&cx.store()?, Kind::Plan, &a.filters, a.out.format)
}

/// `show-plan`
pub fn show(cx: &Context, a: &common::ShowArgs) -> CmdResult {
    common::show(&cx.store()?, Kind::Plan, a)
}

/// Create a plan (roadmap) with milestones.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[arg(long)]
    pub title: String,
    #[arg(long)]
    pub description: Option<String>,
    /// Repositories taking part (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub repos: Vec<String>,
    /// draft (default), active, on_hold, completed or cancelled.
    #[arg(long)]
    pub status: Option<String>,
    /// Target date (YYYY-MM-DD).
    #[arg(long)]
    pub target: Option<String>,
    /// Issues this plan addresses.
    #[arg(long, value_delimiter = ',')]
    pub issues: Vec<String>,
    /// Plans this one depends on.
    #[arg(long = "depends-on", value_delimiter = ',')]
    pub depends_on: Vec<String>,
    /// A milestone as `Name:YYYY-MM-DD` (or just `Name`); repeatable.
    #[arg(long = "milestone")]
    pub milestones: Vec<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `create-plan`
pub fn create(cx: &Context, a: &CreateArgs) -> CmdResult {
    let store = cx.store()?;
    let milestones = a.milestones.iter().map(|m| ops::parse_milestone_spec(m)).collect::<Result<Vec<_>, _>>()?;
    let patch = Patch {
        title: Some(a.title.clone()),
        description: a.description.clone(),
        add_repos: a.repos.clone(),
        status: a.status.clone(),
        target: a.target.clone(),
        add_issues: a.issues.clone(),
        add_blockers: a.depends_on.clone(),
        ..Patch::default()
    };
    let o = ops::create_plan(&store, &patch, &milestones)?;
    common::outcome(&store, &o, "created", a.out.format)
}

/// Update a plan: only the given fields change (plus `updated`).
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Plan ID.
    pub id: String,
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// draft, active, on_hold, completed or cancelled (aliases accepted).
    #[arg(long)]
    pub status: Option<String>,
    /// Target date (`""` clears it).
    #[arg(long)]
    pub target: Option<String>,
    #[arg(long = "add-repo", value_delimiter = ',')]
    pub add_repos: Vec<String>,
    #[arg(long = "remove-repo", value_delimiter = ',')]
    pub remove_repos: Vec<String>,
    #[arg(long = "add-issue", value_delimiter = ',')]
    pub add_issues: Vec<String>,
    #[arg(long = "remove-issue", value_delimiter = ',')]
    pub remove_issues: Vec<String>,
    /// Add plans this one depends on.
    #[arg(long = "depends-on", value_delimiter = ',')]
    pub depends_on: Vec<String>,
    /// Remove plans from `depends_on`.
    #[arg(long = "no-depends-on", value_delimiter = ',')]
    pub no_depends_on: Vec<String>,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `update-plan`
pub fn update(cx: &Context, a: &UpdateArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let patch = Patch {
        title: a.title.clone(),
        description: a.description.clone(),
        status: a.status.clone(),
        target: a.target.clone(),
        add_repos: a.add_repos.clone(),
        remove_repos: a.remove_repos.clone(),
        add_issues: a.add_issues.clone(),
        remove_issues: a.remove_issues.clone(),
        add_blockers: a.depends_on.clone(),
        remove_blockers: a.no_depends_on.clone(),
        ..Patch::default()
    };
    common::update(&store, Kind::Plan, &a.id, &patch, a.out.format)
}

/// Add a milestone to a plan (its ID is unique across all plans).
#[derive(Debug, clap::Args)]
pub struct AddMilestoneArgs {
    /// Plan ID.
    pub plan: String,
    #[arg(long)]
    pub name: String,
    /// Due date (YYYY-MM-DD).
    #[arg(long)]
    pub due: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Milestones this one depends on.
    #[arg(long = "depends-on", value_delimiter = ',')]
    pub depends_on: Vec<String>,
    /// Completion criterion (repeatable).
    #[arg(long = "criterion")]
    pub criteria: Vec<String>,
    /// Deliverable (repeatable).
    #[arg(long = "deliverable")]
    pub deliverables: Vec<String>,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `add-milestone`
pub fn add_milestone(cx: &Context, a: &AddMilestoneArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let m = NewMilestone {
        name: a.name.clone(),
        due: a.due.clone(),
        description: a.description.clone(),
        dependencies: a.depends_on.clone(),
        completion_criteria: a.criteria.clone(),
        deliverables: a.deliverables.clone(),
    };
    let (o, mid) = ops::add_milestone(&store, &a.plan, &m)?;
    if a.out.format == Format::Table {
        writeln!(render::out(), "added {mid} to {} ({})", o.entity.id(), store.rel(&o.path).display())?;
        return Ok(());
    }
    common::outcome(&store, &o, "added", a.out.format)
}

/// Update a milestone (found in whichever plan holds it).
#[derive(Debug, clap::Args)]
pub struct UpdateMilestoneArgs {
    /// Milestone ID.
    pub id: String,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// Due date (`""` clears it).
    #[arg(long)]
    pub due: Option<String>,
    /// pending, in_progress, blocked, completed or cancelled (aliases accepted).
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long = "depends-on", value_delimiter = ',')]
    pub depends_on: Vec<String>,
    #[arg(long = "no-depends-on", value_delimiter = ',')]
    pub no_depends_on: Vec<String>,
    #[arg(long = "criterion")]
    pub criteria: Vec<String>,
    #[arg(long = "deliverable")]
    pub deliverables: Vec<String>,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `update-milestone`
pub fn update_milestone(cx: &Context, a: &UpdateMilestoneArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let patch = MilestonePatch {
        name: a.name.clone(),
        description: a.description.clone(),
        due: a.due.clone(),
        status: a.status.clone(),
        add_dependencies: a.depends_on.clone(),
        remove_dependencies: a.no_depends_on.clone(),
        add_criteria: a.criteria.clone(),
        add_deliverables: a.deliverables.clone(),
    };
    if patch.is_empty() {
        return common::nothing_to_update(&a.id, a.out.format);
    }
    let o = ops::update_milestone(&store, &a.id, &patch)?;
    common::outcome(&store, &o, &format!("updated {} in", a.id), a.out.format)
}
