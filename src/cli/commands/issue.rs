//! Issue commands: `list-issues`, `show-issue`, `create-issue`,
//! `update-issue`, `close-issue`, `reopen-issue`, `delete-issue` — each the
//! typed operation of [`crate::api`] of the same name, printed.

use super::common::{self, OpArgs};
use crate::api::entities::{DeleteIssue, ListIssues, ShowIssue};
use crate::api::issues::{CloseIssue, CreateIssue, ReopenIssue, UpdateIssue};
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::model::Kind;

/// `list-issues`
pub fn list(cx: &Context, a: &OpArgs<ListIssues>) -> CmdResult {
    common::list(cx, Kind::Issue, a)
}

/// `show-issue`
pub fn show(cx: &Context, a: &OpArgs<ShowIssue>) -> CmdResult {
    common::show(cx, Kind::Issue, a)
}

/// `create-issue`
pub fn create(cx: &Context, a: &OpArgs<CreateIssue>) -> CmdResult {
    common::write(cx, a, "created")
}

/// `update-issue`
pub fn update(cx: &Context, a: &OpArgs<UpdateIssue>) -> CmdResult {
    common::update(cx, Kind::Issue, a, &a.req.id.0, a.req.is_empty())
}

/// `close-issue`
pub fn close(cx: &Context, a: &OpArgs<CloseIssue>) -> CmdResult {
    common::write(cx, a, if a.req.resolved { "resolved" } else { "closed" })
}

/// `reopen-issue`
pub fn reopen(cx: &Context, a: &OpArgs<ReopenIssue>) -> CmdResult {
    common::write(cx, a, "reopened")
}

/// `delete-issue`
pub fn delete(cx: &Context, a: &OpArgs<DeleteIssue>) -> CmdResult {
    common::delete(cx, a)
}
