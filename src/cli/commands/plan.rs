//! Plan and milestone commands: `list-plans`, `show-plan`, `create-plan`,
//! `update-plan`, `add-milestone`, `update-milestone`.

use super::common::{self, Filters, OutputArgs};
use crate::api::plans::{AddMilestone, CreatePlan, UpdateMilestone, UpdatePlan};
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::model::Kind;

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

/// `create-plan`
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    #[command(flatten)]
    pub req: CreatePlan,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `create-plan`
pub fn create(cx: &Context, a: &CreateArgs) -> CmdResult {
    let w = common::run_op::<CreateArgs, _>(&cx.store()?, &a.req)?;
    common::written(&w, |w| format!("created {} ({})", w.id, w.path), a.out.format)
}

/// `update-plan`
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    #[command(flatten)]
    pub req: UpdatePlan,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `update-plan`
pub fn update(cx: &Context, a: &UpdateArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    if a.req.is_empty() {
        crate::ops::find(&store, Kind::Plan, &a.req.id.0)?;
        return common::nothing_to_update(&a.req.id.0, a.out.format);
    }
    let w = common::run_op::<UpdateArgs, _>(&store, &a.req)?;
    common::written(&w, |w| format!("updated {} ({})", w.id, w.path), a.out.format)
}

/// `add-milestone`
#[derive(Debug, clap::Args)]
pub struct AddMilestoneArgs {
    #[command(flatten)]
    pub req: AddMilestone,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `add-milestone`
pub fn add_milestone(cx: &Context, a: &AddMilestoneArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let w = common::run_op::<AddMilestoneArgs, _>(&store, &a.req)?;
    let line =
        |w: &crate::api::Written| format!("added {} to {} ({})", w.milestone.as_deref().unwrap_or(""), w.id, w.path);
    common::written(&w, line, a.out.format)
}

/// `update-milestone`
#[derive(Debug, clap::Args)]
pub struct UpdateMilestoneArgs {
    #[command(flatten)]
    pub req: UpdateMilestone,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `update-milestone`
pub fn update_milestone(cx: &Context, a: &UpdateMilestoneArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    if a.req.is_empty() {
        crate::ops::plan_of_milestone(&store, &a.req.id.0)?;
        return common::nothing_to_update(&a.req.id.0, a.out.format);
    }
    let w = common::run_op::<UpdateMilestoneArgs, _>(&store, &a.req)?;
    let id = a.req.id.0.clone();
    common::written(&w, move |w| format!("updated {id} in {} ({})", w.id, w.path), a.out.format)
}
