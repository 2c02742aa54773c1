//! Todo commands: `list-todos`, `show-todo`, `create-todo`, `update-todo`,
//! `complete-todo`, `delete-todo` — each the typed operation of
//! [`crate::api`], printed.

use super::common::{self, OpArgs};
use crate::api::entities::{DeleteTodo, ListTodos, ShowTodo};
use crate::api::todos::{CompleteTodo, CreateTodo, UpdateTodo};
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::model::Kind;

/// `list-todos`
pub fn list(cx: &Context, a: &OpArgs<ListTodos>) -> CmdResult {
    common::list(cx, Kind::Todo, a)
}

/// `show-todo`
pub fn show(cx: &Context, a: &OpArgs<ShowTodo>) -> CmdResult {
    common::show(cx, Kind::Todo, a)
}

/// `create-todo`
pub fn create(cx: &Context, a: &OpArgs<CreateTodo>) -> CmdResult {
    common::write(cx, a, "created")
}

/// `update-todo`
pub fn update(cx: &Context, a: &OpArgs<UpdateTodo>) -> CmdResult {
    common::update(cx, Kind::Todo, a, &a.req.id.0, a.req.is_empty())
}

/// `complete-todo`: `completed TODO-002 in 5h (path)` for people.
pub fn complete(cx: &Context, a: &OpArgs<CompleteTodo>) -> CmdResult {
    let w = common::run_op::<CompleteTodo, _>(&cx.store()?, &a.req)?;
    let line = |w: &crate::api::Written| {
        let spent = w.entity["actual_hours"].as_f64().map(|h| format!(" in {h}h")).unwrap_or_default();
        format!("completed {}{spent} ({})", w.id, w.path)
    };
    common::written(&w, line, a.out.format)
}

/// `delete-todo`
pub fn delete(cx: &Context, a: &OpArgs<DeleteTodo>) -> CmdResult {
    common::delete(cx, a)
}
