//! Todo operations: create, update, complete (list, show and delete are in
//! [`super::entities`]). A todo links to an issue, a plan and a milestone
//! through three separate fields, each checked against the kind the one map
//! of references gives it, whatever the IDs look like (custom `id_prefixes`).

use super::fields::{edit, existing, ids, link, not_self, opt_text, repo, required, targets};
use super::groups::{LabelEdit, Rewrite};
use super::types::{Estimate, Hours, Id, Settable};
use super::{FieldErrors, Operation, Written};
use crate::error::Refusal;
use crate::error::{Error, FieldError, Result};
use crate::model::refs::TODO_REFS;
use crate::model::*;
use crate::ops::{self, Refs};
use crate::store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

/// Create a todo: one unit of work in one repository.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct CreateTodo {
    /// What to do.
    #[arg(long)]
    pub task: String,
    /// The repository it is done in (name or nickname).
    #[arg(long)]
    pub repo: String,
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: TodoFields,
    /// Issues or todos that block this one.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub blocked_by: Vec<Id>,
    /// Issues or todos this one blocks.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub blocking: Vec<Id>,
    /// Labels (comma-separated or repeated).
    #[arg(long = "label", value_delimiter = ',')]
    #[serde(default)]
    pub labels: Vec<String>,
    /// Acceptance criteria (repeatable).
    #[arg(long = "criterion")]
    #[serde(default)]
    pub criteria: Vec<String>,
    /// The issue it is part of.
    #[arg(long = "issue", value_name = "ISSUE")]
    #[serde(default)]
    pub issue_id: Option<Id>,
    /// The plan it is part of.
    #[arg(long = "plan", value_name = "PLAN")]
    #[serde(default)]
    pub plan_id: Option<Id>,
    /// The milestone it is part of.
    #[arg(long = "milestone", value_name = "MILESTONE")]
    #[serde(default)]
    pub milestone_id: Option<Id>,
}

/// Update a todo: only the given fields change (plus `updated`).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct UpdateTodo {
    /// Todo ID.
    pub id: Id,
    /// New task.
    #[arg(long)]
    #[serde(default)]
    pub task: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: TodoFields,
    /// Move it to another repository.
    #[arg(long)]
    #[serde(default)]
    pub repo: Option<String>,
    /// Hours actually spent.
    #[arg(long, allow_hyphen_values = true)]
    #[serde(default)]
    pub actual_hours: Option<Hours>,
    #[command(flatten)]
    #[serde(flatten)]
    pub labels: LabelEdit,
    /// Issues or todos to add to `blocked_by`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub blocked_by: Vec<Id>,
    /// Blockers to remove from `blocked_by`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub unblock: Vec<Id>,
    /// Issues or todos to add to `blocking`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub blocking: Vec<Id>,
    /// Entities to remove from `blocking`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub no_blocking: Vec<Id>,
    /// Link to an issue (`""` clears the link).
    #[arg(long = "issue", value_name = "ISSUE")]
    #[serde(default)]
    pub issue_id: Option<Settable<Id>>,
    /// Link to a plan (`""` clears the link).
    #[arg(long = "plan", value_name = "PLAN")]
    #[serde(default)]
    pub plan_id: Option<Settable<Id>>,
    /// Link to a milestone (`""` clears the link).
    #[arg(long = "milestone", value_name = "MILESTONE")]
    #[serde(default)]
    pub milestone_id: Option<Settable<Id>>,
    /// Acceptance criteria to add (repeatable).
    #[arg(long = "criterion")]
    #[serde(default)]
    pub criteria: Vec<String>,
    /// Refuse to start or complete the todo while it has open blockers
    /// (without it that warns; `blocked_work: refuse` in the settings makes
    /// this the default).
    #[arg(long)]
    #[serde(default)]
    pub strict: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub rewrite: Rewrite,
}

/// Mark a todo completed.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct CompleteTodo {
    /// Todo ID.
    pub id: Id,
    /// Hours actually spent.
    #[arg(long, allow_hyphen_values = true)]
    #[serde(default)]
    pub actual_hours: Option<Hours>,
    /// Refuse while the todo has open blockers (without it that warns;
    /// `blocked_work: refuse` in the settings makes this the default).
    #[arg(long)]
    #[serde(default)]
    pub strict: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub rewrite: Rewrite,
}

/// The fields creating and updating a todo share (on update, only the
/// given ones change).
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct TodoFields {
    /// Longer description (on update `""` clears it).
    #[arg(long)]
    #[serde(default)]
    pub description: Option<String>,
    /// Status (aliases accepted; a new todo starts pending).
    #[arg(long)]
    #[serde(default)]
    pub status: Option<TodoStatus>,
    /// Priority (P0..P3 accepted; a new todo starts medium).
    #[arg(long)]
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Estimate: `2w` (5 days), `3d` (days × hours_per_day), `4h`, `90m` or hours.
    #[arg(long, allow_hyphen_values = true)]
    #[serde(default)]
    pub estimate: Option<Estimate>,
    /// Who does it (on update `""` clears it).
    #[arg(long)]
    #[serde(default)]
    pub assignee: Option<String>,
}

impl TodoFields {
    /// True when none is given.
    pub fn is_empty(&self) -> bool {
        self.description.is_none()
            && self.status.is_none()
            && self.priority.is_none()
            && self.estimate.is_none()
            && self.assignee.is_none()
    }

    /// Sets the fields given (an estimate in days counts `hours_per_day`).
    fn apply(&self, t: &mut Todo, hours_per_day: f64) {
        if let Some(d) = &self.description {
            t.description = opt_text(d);
        }
        if let Some(s) = self.status {
            t.status = Lenient::Known(s);
        }
        if let Some(p) = self.priority {
            t.priority = Lenient::Known(p);
        }
        if let Some(e) = self.estimate {
            t.estimated_hours = Some(e.hours(hours_per_day));
        }
        if let Some(a) = &self.assignee {
            t.assignee = opt_text(a);
        }
    }
}

fn todo(e: &mut Entity) -> &mut Todo {
    match e {
        Entity::Todo(t) => t,
        _ => unreachable!("a todo"),
    }
}

/// Sets a link field: an ID that exists as the field's targets, or cleared.
fn set_link(
    slot: &mut Option<String>,
    refs: &mut Refs<'_>,
    field: &str,
    map_field: &str,
    value: Option<&Id>,
    errs: &mut FieldErrors,
) -> Result<()> {
    *slot = match value {
        Some(id) => link(refs, field, id, targets(TODO_REFS, map_field), errs)?,
        None => None,
    };
    Ok(())
}

/// A todo's milestone belongs to its plan: a todo linked to a milestone
/// without a plan takes the milestone's plan; one whose plan is another
/// (`--plan PLAN-001 --milestone` of PLAN-002) is refused — it would count
/// toward one plan's progress and another's roadmap.
fn milestone_in_plan(t: &mut Todo, refs: &mut Refs<'_>, errs: &mut FieldErrors) -> Result<()> {
    let Some(m) = &t.milestone_id else { return Ok(()) };
    let Some(owner) = refs.plan_of_milestone(m)? else { return Ok(()) };
    match &t.plan_id {
        None => t.plan_id = Some(owner),
        Some(p) if p.eq_ignore_ascii_case(&owner) => {}
        Some(p) => errs.push(
            FieldError::new(
                "milestone_id",
                format!("{m} is a milestone of {owner}, not of the todo's plan {p}; link a milestone of {p}, or the plan {owner}"),
            )
            .value(m.clone()),
        ),
    }
    Ok(())
}

impl Operation for CreateTodo {
    const COMMAND: &'static str = "create-todo";
    const TOOL: &'static str = "coord_create_todo";
    const SUMMARY: &'static str =
        "Create a todo in one repository, optionally linked to an issue, plan and milestone; returns its allocated ID.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let hours_per_day = store.settings.hours_per_day;
        let o = ops::create_with(store, Kind::Todo, |entity, refs| {
            let t = todo(entity);
            let mut errs = FieldErrors::default();
            t.task = required("task", &self.task, &mut errs);
            if self.repo.trim().is_empty() {
                errs.push(FieldError::new("repo", "must not be empty"));
            } else {
                t.repo = repo(refs, "repo", &self.repo, &mut errs).unwrap_or_default();
            }
            self.fields.apply(t, hours_per_day);
            edit(&mut t.labels, self.labels.clone(), &[]);
            edit(&mut t.acceptance_criteria, self.criteria.clone(), &[]);
            t.blocked_by = existing(refs, "blocked_by", &self.blocked_by, targets(TODO_REFS, "blocked_by"), &mut errs)?;
            t.blocking = existing(refs, "blocking", &self.blocking, targets(TODO_REFS, "blocking"), &mut errs)?;
            set_link(&mut t.issue_id, refs, "issue_id", "issue_id", self.issue_id.as_ref(), &mut errs)?;
            set_link(&mut t.plan_id, refs, "plan_id", "plan_id", self.plan_id.as_ref(), &mut errs)?;
            set_link(&mut t.milestone_id, refs, "milestone_id", "milestone_id", self.milestone_id.as_ref(), &mut errs)?;
            milestone_in_plan(t, refs, &mut errs)?;
            errs.finish()
        })?;
        Written::from_outcome(store, &o)
    }
}

impl UpdateTodo {
    /// True when no change is asked for.
    pub fn is_empty(&self) -> bool {
        self.task.is_none()
            && self.fields.is_empty()
            && self.repo.is_none()
            && self.actual_hours.is_none()
            && self.labels.is_empty()
            && self.blocked_by.is_empty()
            && self.unblock.is_empty()
            && self.blocking.is_empty()
            && self.no_blocking.is_empty()
            && self.issue_id.is_none()
            && self.plan_id.is_none()
            && self.milestone_id.is_none()
            && self.criteria.is_empty()
    }
}

impl Operation for UpdateTodo {
    const COMMAND: &'static str = "update-todo";
    const TOOL: &'static str = "coord_update_todo";
    const SUMMARY: &'static str = "Update a todo: only the given fields change.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let hours_per_day = store.settings.hours_per_day;
        let mut warning = None;
        let o = ops::update_with(store, Kind::Todo, &self.id.0, self.rewrite.into(), |entity, refs| {
            let t = todo(entity);
            let mut errs = FieldErrors::default();
            if let Some(v) = &self.task {
                t.task = required("task", v, &mut errs);
            }
            if let Some(r) = &self.repo {
                if r.trim().is_empty() {
                    errs.push(FieldError::new("repo", "must not be empty"));
                } else if let Some(r) = repo(refs, "repo", r, &mut errs) {
                    t.repo = r;
                }
            }
            if let Some(s) = self.fields.status {
                warning = blocked_work(store, t, s, self.strict)?;
            }
            self.fields.apply(t, hours_per_day);
            if let Some(h) = self.actual_hours {
                t.actual_hours = Some(h.0);
            }
            edit(&mut t.labels, self.labels.add_labels.clone(), &self.labels.remove_labels);
            edit(&mut t.acceptance_criteria, self.criteria.clone(), &[]);
            let add = existing(refs, "blocked_by", &self.blocked_by, targets(TODO_REFS, "blocked_by"), &mut errs)?;
            not_self(&t.id, "blocked_by", &add, &mut errs);
            edit(&mut t.blocked_by, add, &ids(&self.unblock));
            let add = existing(refs, "blocking", &self.blocking, targets(TODO_REFS, "blocking"), &mut errs)?;
            not_self(&t.id, "blocking", &add, &mut errs);
            edit(&mut t.blocking, add, &ids(&self.no_blocking));
            for (slot, field, value) in [
                (&mut t.issue_id, "issue_id", &self.issue_id),
                (&mut t.plan_id, "plan_id", &self.plan_id),
                (&mut t.milestone_id, "milestone_id", &self.milestone_id),
            ] {
                if let Some(v) = value {
                    let v = match v {
                        Settable::To(id) => Some(id),
                        Settable::Clear => None,
                    };
                    set_link(slot, refs, field, field, v, &mut errs)?;
                }
            }
            if self.milestone_id.is_some() || self.plan_id.is_some() {
                milestone_in_plan(t, refs, &mut errs)?;
            }
            errs.finish()
        })?;
        let mut w = Written::from_outcome(store, &o)?;
        w.warnings.extend(warning);
        Ok(w)
    }
}

/// Starting or completing a todo with open blockers (the one rule of
/// [`crate::graph::blockers`]): refused when `strict` (or `blocked_work:
/// refuse`), else a warning for the result. Runs under the write lock,
/// before the status changes.
fn blocked_work(store: &Store, t: &Todo, to: TodoStatus, strict: bool) -> Result<Option<String>> {
    if t.status.is(to) || !matches!(to, TodoStatus::InProgress | TodoStatus::Completed) {
        return Ok(None);
    }
    let loaded = store.load(&[Kind::Issue, Kind::Plan, Kind::Todo])?;
    let blockers = crate::graph::blockers::blockers_of(&loaded, &t.id);
    if blockers.is_empty() {
        return Ok(None);
    }
    let verb = if to == TodoStatus::Completed { "completing" } else { "starting" };
    let what = format!("{verb} {} while it is blocked by {} (still open)", t.id, blockers.join(", "));
    if strict {
        return Err(Error::Fields(vec![FieldError::new("strict", format!("refused: {what}; finish those first"))]));
    }
    if store.settings.refuse_blocked_work {
        return Err(Refusal::BlockedWork { what }.into());
    }
    Ok(Some(what))
}

impl Operation for CompleteTodo {
    const COMMAND: &'static str = "complete-todo";
    const TOOL: &'static str = "coord_complete_todo";
    const SUMMARY: &'static str = "Mark a todo completed, optionally with the hours actually spent.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let mut warning = None;
        let o = ops::update_with(store, Kind::Todo, &self.id.0, self.rewrite.into(), |entity, _| {
            let t = todo(entity);
            warning = blocked_work(store, t, TodoStatus::Completed, self.strict)?;
            t.status = Lenient::Known(TodoStatus::Completed);
            if let Some(h) = self.actual_hours {
                t.actual_hours = Some(h.0);
            }
            Ok(())
        })?;
        let mut w = Written::from_outcome(store, &o)?;
        w.warnings.extend(warning);
        Ok(w)
    }
}
