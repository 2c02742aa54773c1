//! Plan and milestone commands: `list-plans`, `show-plan`, `create-plan`,
//! `update-plan`, `add-milestone`, `update-milestone` — each the typed
//! operation of [`crate::api`], printed.

use super::common::{self, OpArgs};
use crate::api::Written;
use crate::api::entities::{ListPlans, ShowPlan};
use crate::api::plans::{AddMilestone, CreatePlan, UpdateMilestone, UpdatePlan};
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::model::Kind;

/// `list-plans`
pub fn list(cx: &Context, a: &OpArgs<ListPlans>) -> CmdResult {
    common::list(cx, Kind::Plan, a)
}

/// `show-plan`
pub fn show(cx: &Context, a: &OpArgs<ShowPlan>) -> CmdResult {
    common::show(cx, Kind::Plan, a)
}

/// `create-plan`
pub fn create(cx: &Context, a: &OpArgs<CreatePlan>) -> CmdResult {
    common::write(cx, a, "created")
}

/// `update-plan`
pub fn update(cx: &Context, a: &OpArgs<UpdatePlan>) -> CmdResult {
    common::update(cx, Kind::Plan, a, &a.req.id.0, a.req.is_empty())
}

/// `add-milestone`
pub fn add_milestone(cx: &Context, a: &OpArgs<AddMilestone>) -> CmdResult {
    let w = common::run_op::<AddMilestone, _>(&cx.store()?, &a.req)?;
    let line = |w: &Written| format!("added {} to {} ({})", w.milestone.as_deref().unwrap_or(""), w.id, w.path);
    common::written(&w, line, a.out.format)
}

/// `update-milestone`
pub fn update_milestone(cx: &Context, a: &OpArgs<UpdateMilestone>) -> CmdResult {
    let store = cx.store()?;
    if a.req.is_empty() {
        let plan = crate::ops::plan_of_milestone(&store, &a.req.id.0)?;
        let rec = crate::ops::find(&store, Kind::Plan, &plan)?;
        let unchanged = Written::unchanged(&store, &rec, Some(a.req.id.0.clone()))?;
        return common::nothing_to_update(&a.req.id.0, &unchanged, a.out.format);
    }
    let w = common::run_op::<UpdateMilestone, _>(&store, &a.req)?;
    let id = a.req.id.0.clone();
    common::written(&w, move |w| format!("updated {id} in {} ({})", w.id, w.path), a.out.format)
}
