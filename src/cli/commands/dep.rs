//! Dependency commands: `list-deps`, `show-dep`, `create-dep`, `update-dep`,
//! `delete-dep` — each the typed operation of [`crate::api`], printed.

use super::common::{self, OpArgs};
use crate::api::dependencies::{CreateDependency, UpdateDependency};
use crate::api::entities::{DeleteDependency, ListDependencies, ShowDependency};
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::model::Kind;

/// `list-deps`
pub fn list(cx: &Context, a: &OpArgs<ListDependencies>) -> CmdResult {
    common::list(cx, Kind::Dependency, a)
}

/// `show-dep`
pub fn show(cx: &Context, a: &OpArgs<ShowDependency>) -> CmdResult {
    common::show(cx, Kind::Dependency, a)
}

/// `create-dep`
pub fn create(cx: &Context, a: &OpArgs<CreateDependency>) -> CmdResult {
    common::write(cx, a, "created")
}

/// `update-dep`
pub fn update(cx: &Context, a: &OpArgs<UpdateDependency>) -> CmdResult {
    common::update(cx, Kind::Dependency, a, &a.req.id.0, a.req.is_empty())
}

/// `delete-dep`
pub fn delete(cx: &Context, a: &OpArgs<DeleteDependency>) -> CmdResult {
    common::delete(cx, a)
}
