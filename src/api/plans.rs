//! Plan and milestone operations: create, update and delete plans; add,
//! update and delete milestones. Milestone IDs are unique across all plans and every branch.

use super::entities::Deleted;
use super::fields::{day, edit, existing, ids, opt_text, repos, required, targets};
use super::groups::{RepoEdit, Rewrite};
use super::types::{Day, Id, NewMilestone, Settable};
use super::{FieldErrors, Operation, Written};
use crate::error::Refusal;
use crate::error::{FieldError, Result};
use crate::model::refs::{MILESTONE_REFS, PLAN_REFS};
use crate::model::*;
use crate::ops::{self, Refs};
use crate::store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

/// Create a plan (a roadmap), optionally with milestones.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct CreatePlan {
    /// One-line title.
    #[arg(long)]
    pub title: String,
    /// Longer description.
    #[arg(long)]
    #[serde(default)]
    pub description: Option<String>,
    /// Repositories taking part (names or nicknames).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub repos: Vec<String>,
    /// Initial status (default draft).
    #[arg(long)]
    #[serde(default)]
    pub status: Option<PlanStatus>,
    /// Target date (YYYY-MM-DD, or relative: `tomorrow`, `+2w`, `next monday`).
    #[arg(long)]
    #[serde(default)]
    pub target: Option<Day>,
    /// Issues this plan addresses.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub issues: Vec<Id>,
    /// Plans this one depends on.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub depends_on: Vec<Id>,
    /// Milestones to create, in order: `Name:YYYY-MM-DD` (or just `Name`);
    /// repeatable. In JSON also `{"name", "due", "description", "depends_on"}`,
    /// where `depends_on` may name milestones created earlier in this list.
    #[arg(long = "milestone", value_name = "NAME[:DUE]")]
    #[serde(default)]
    pub milestones: Vec<NewMilestone>,
}

/// Update a plan: only the given fields change (plus `updated`).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct UpdatePlan {
    /// Plan ID.
    pub id: Id,
    /// New title.
    #[arg(long)]
    #[serde(default)]
    pub title: Option<String>,
    /// New description (`""` clears it).
    #[arg(long)]
    #[serde(default)]
    pub description: Option<String>,
    /// New status.
    #[arg(long)]
    #[serde(default)]
    pub status: Option<PlanStatus>,
    /// Target date, YYYY-MM-DD or relative (`+2w`); `""` clears it.
    #[arg(long)]
    #[serde(default)]
    pub target: Option<Settable<Day>>,
    #[command(flatten)]
    #[serde(flatten)]
    pub repos: RepoEdit,
    /// Issues to add to the plan.
    #[arg(long = "add-issue", value_delimiter = ',')]
    #[serde(default)]
    pub add_issues: Vec<Id>,
    /// Issues to remove from the plan.
    #[arg(long = "remove-issue", value_delimiter = ',')]
    #[serde(default)]
    pub remove_issues: Vec<Id>,
    /// Plans to add to `depends_on`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub depends_on: Vec<Id>,
    /// Plans to remove from `depends_on`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub no_depends_on: Vec<Id>,
    #[command(flatten)]
    #[serde(flatten)]
    pub rewrite: Rewrite,
}

/// Add a milestone to a plan (its ID is unique across all plans).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct AddMilestone {
    /// The plan's ID.
    pub plan: Id,
    /// The milestone's name.
    #[arg(long)]
    pub name: String,
    /// Due date (YYYY-MM-DD, or relative: `tomorrow`, `+2w`, `next monday`).
    #[arg(long)]
    #[serde(default)]
    pub due: Option<Day>,
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: MilestoneFields,
    #[command(flatten)]
    #[serde(flatten)]
    pub rewrite: Rewrite,
}

/// Update a milestone (found in whichever plan holds it).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct UpdateMilestone {
    /// The milestone's ID.
    pub id: Id,
    /// New name.
    #[arg(long)]
    #[serde(default)]
    pub name: Option<String>,
    /// Due date, YYYY-MM-DD or relative (`+2w`); `""` clears it.
    #[arg(long)]
    #[serde(default)]
    pub due: Option<Settable<Day>>,
    /// New status.
    #[arg(long)]
    #[serde(default)]
    pub status: Option<MilestoneStatus>,
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: MilestoneFields,
    /// Milestones to remove from `dependencies`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub no_depends_on: Vec<Id>,
    #[command(flatten)]
    #[serde(flatten)]
    pub rewrite: Rewrite,
}

impl UpdateMilestone {
    /// Marks milestone `id` completed (what `validate --plan --update` writes).
    pub fn completed(id: &str) -> UpdateMilestone {
        UpdateMilestone {
            id: Id(id.to_string()),
            name: None,
            due: None,
            status: Some(MilestoneStatus::Completed),
            fields: MilestoneFields::default(),
            no_depends_on: Vec::new(),
            rewrite: Rewrite::default(),
        }
    }
}

/// The fields adding and updating a milestone share (on update, lists are
/// added to and only the given fields change).
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct MilestoneFields {
    /// Longer description (on update `""` clears it).
    #[arg(long)]
    #[serde(default)]
    pub description: Option<String>,
    /// Milestones this one depends on (added to `dependencies`).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub depends_on: Vec<Id>,
    /// Completion criteria to add (repeatable).
    #[arg(long = "criterion")]
    #[serde(default)]
    pub criteria: Vec<String>,
    /// Deliverables to add (repeatable).
    #[arg(long = "deliverable")]
    #[serde(default)]
    pub deliverables: Vec<String>,
}

impl MilestoneFields {
    /// True when none is given.
    pub fn is_empty(&self) -> bool {
        self.description.is_none()
            && self.depends_on.is_empty()
            && self.criteria.is_empty()
            && self.deliverables.is_empty()
    }

    /// Sets the fields given on `m`; `remove` leaves `dependencies`. A
    /// milestone cannot depend on itself.
    fn apply(&self, m: &mut Milestone, refs: &mut Refs<'_>, remove: &[Id], errs: &mut FieldErrors) -> Result<()> {
        if let Some(d) = &self.description {
            m.description = opt_text(d);
        }
        let add = existing(refs, "depends_on", &self.depends_on, targets(MILESTONE_REFS, "dependencies"), errs)?;
        if add.contains(&m.id) {
            errs.push(FieldError::new("depends_on", format!("{} cannot depend on itself", m.id)).value(m.id.clone()));
        }
        edit(&mut m.dependencies, add.into_iter().filter(|d| *d != m.id).collect(), &ids(remove));
        edit(&mut m.completion_criteria, self.criteria.clone(), &[]);
        edit(&mut m.deliverables, self.deliverables.clone(), &[]);
        Ok(())
    }
}

/// Builds a milestone; its `depends_on` may name existing milestones or ones
/// created before it in the same request (`known`).
fn build_milestone(
    id: String,
    field: &str,
    spec: &super::types::MilestoneSpec,
    refs: &mut Refs<'_>,
    known: &[String],
    errs: &mut FieldErrors,
) -> Result<Milestone> {
    let mut deps = Vec::new();
    for d in &spec.depends_on {
        if known.contains(&d.0) {
            deps.push(d.0.clone());
        } else {
            deps.extend(existing(refs, field, std::slice::from_ref(d), targets(MILESTONE_REFS, "dependencies"), errs)?);
        }
    }
    Ok(Milestone {
        id,
        name: required(field, &spec.name, errs),
        description: spec.description.clone(),
        due: spec.due.and_then(day),
        status: Lenient::Known(MilestoneStatus::Pending),
        dependencies: deps,
        completion_criteria: Vec::new(),
        criteria_checks: Vec::new(),
        deliverables: Vec::new(),
        extra: Default::default(),
    })
}

impl Operation for CreatePlan {
    const COMMAND: &'static str = "create-plan";
    const TOOL: &'static str = "coord_create_plan";
    const SUMMARY: &'static str = "Create a plan, optionally with milestones; returns its allocated ID and file.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let o = ops::create_with(store, Kind::Plan, |entity, refs| {
            let Entity::Plan(p) = entity else { unreachable!("a blank plan") };
            let mut errs = FieldErrors::default();
            p.title = required("title", &self.title, &mut errs);
            p.description = self.description.as_deref().and_then(opt_text);
            if let Some(s) = self.status {
                p.status = Lenient::Known(s);
            }
            p.target = self.target.and_then(day);
            p.repos = repos(refs, "repos", &self.repos, &mut errs);
            p.issue_ids = existing(refs, "issues", &self.issues, targets(PLAN_REFS, "issue_ids"), &mut errs)?;
            p.depends_on = existing(refs, "depends_on", &self.depends_on, targets(PLAN_REFS, "depends_on"), &mut errs)?;
            let mut created: Vec<String> = Vec::new();
            for m in &self.milestones {
                let mid = refs.next_milestone_id(&created)?;
                p.milestones.push(build_milestone(mid.clone(), "milestones", &m.0, refs, &created, &mut errs)?);
                created.push(mid);
            }
            errs.finish()
        })?;
        Written::from_outcome(store, &o)
    }
}

impl Operation for UpdatePlan {
    const COMMAND: &'static str = "update-plan";
    const TOOL: &'static str = "coord_update_plan";
    const SUMMARY: &'static str = "Update a plan: only the given fields change.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let o = ops::update_with(store, Kind::Plan, &self.id.0, self.rewrite.into(), |entity, refs| {
            let Entity::Plan(p) = entity else { unreachable!("a plan") };
            let mut errs = FieldErrors::default();
            if let Some(t) = &self.title {
                p.title = required("title", t, &mut errs);
            }
            if let Some(d) = &self.description {
                p.description = opt_text(d);
            }
            if let Some(s) = self.status {
                p.status = Lenient::Known(s);
            }
            if let Some(t) = &self.target {
                p.target = t.clone().into_option().and_then(day);
            }
            let add = repos(refs, "add_repos", &self.repos.add_repos, &mut errs);
            let remove: Vec<String> = self.repos.remove_repos.iter().map(|r| refs.canonical_repo(r)).collect();
            edit(&mut p.repos, add, &remove);
            let add = existing(refs, "add_issues", &self.add_issues, targets(PLAN_REFS, "issue_ids"), &mut errs)?;
            edit(&mut p.issue_ids, add, &ids(&self.remove_issues));
            let add = existing(refs, "depends_on", &self.depends_on, targets(PLAN_REFS, "depends_on"), &mut errs)?;
            edit(&mut p.depends_on, add, &ids(&self.no_depends_on));
            errs.finish()
        })?;
        Written::from_outcome(store, &o)
    }
}

impl Operation for AddMilestone {
    const COMMAND: &'static str = "add-milestone";
    const TOOL: &'static str = "coord_add_milestone";
    const SUMMARY: &'static str = "Add a milestone to a plan; returns the milestone's allocated ID.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let mut added = String::new();
        let o = ops::update_with(store, Kind::Plan, &self.plan.0, self.rewrite.into(), |entity, refs| {
            let Entity::Plan(p) = entity else { unreachable!("a plan") };
            let mut errs = FieldErrors::default();
            let mid = refs.next_milestone_id(&[])?;
            let spec = super::types::MilestoneSpec {
                name: self.name.clone(),
                due: self.due,
                description: None,
                depends_on: Vec::new(),
            };
            let mut m = build_milestone(mid.clone(), "name", &spec, refs, &[], &mut errs)?;
            self.fields.apply(&mut m, refs, &[], &mut errs)?;
            p.milestones.push(m);
            added = mid;
            errs.finish()
        })?;
        let mut w = Written::from_outcome(store, &o)?;
        w.milestone = Some(added);
        Ok(w)
    }
}

impl UpdatePlan {
    /// True when no change is asked for.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.status.is_none()
            && self.target.is_none()
            && self.repos.is_empty()
            && self.add_issues.is_empty()
            && self.remove_issues.is_empty()
            && self.depends_on.is_empty()
            && self.no_depends_on.is_empty()
    }
}

impl UpdateMilestone {
    /// True when no change is asked for.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.fields.is_empty()
            && self.due.is_none()
            && self.status.is_none()
            && self.no_depends_on.is_empty()
    }
}

impl Operation for UpdateMilestone {
    const COMMAND: &'static str = "update-milestone";
    const TOOL: &'static str = "coord_update_milestone";
    const SUMMARY: &'static str = "Update a milestone (in whichever plan holds it): only the given fields change.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let plan_id = ops::plan_of_milestone(store, &self.id.0)?;
        let mid = self.id.0.clone();
        let empty = self.is_empty();
        let o = ops::update_with(store, Kind::Plan, &plan_id, self.rewrite.into(), |entity, refs| {
            if empty {
                return Ok(());
            }
            let Entity::Plan(p) = entity else { unreachable!("a plan") };
            let mut errs = FieldErrors::default();
            let m = p.milestones.iter_mut().find(|m| m.id == mid).ok_or_else(|| {
                crate::Error::from(Refusal::Moved { id: mid.to_string(), from: plan_id.to_string(), op: "update" })
            })?;
            if let Some(n) = &self.name {
                m.name = required("name", n, &mut errs);
            }
            if let Some(d) = &self.due {
                m.due = d.clone().into_option().and_then(day);
            }
            if let Some(s) = self.status {
                m.status = Lenient::Known(s);
            }
            self.fields.apply(m, refs, &self.no_depends_on, &mut errs)?;
            errs.finish()
        })?;
        let mut w = Written::from_outcome(store, &o)?;
        w.milestone = Some(self.id.0.clone());
        Ok(w)
    }
}

/// Delete a plan with its milestones. Refused while others reference it or
/// one of its milestones (todos' `plan_id`/`milestone_id`, other plans'
/// `depends_on`, …) unless forced; forced, the references left dangling are
/// listed.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeletePlan {
    /// The plan's ID.
    pub id: Id,
    /// Delete even if other entities reference it or its milestones (the
    /// references are left dangling and returned).
    #[arg(long)]
    #[serde(default)]
    pub force: bool,
}

impl Operation for DeletePlan {
    const COMMAND: &'static str = "delete-plan";
    const TOOL: &'static str = "coord_delete_plan";
    const SUMMARY: &'static str =
        "Delete a plan with its milestones (refused while others reference it or its milestones, unless forced).";
    const WRITES: bool = true;
    type Output = Deleted;

    fn run(&self, store: &Store) -> Result<Deleted> {
        super::entities::delete(store, Kind::Plan, &self.id, self.force)
    }
}

/// Delete a milestone from whichever plan holds it. Refused while others
/// reference it (todos' `milestone_id`, other milestones' `dependencies`)
/// unless forced; forced, the references left dangling are listed.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMilestone {
    /// The milestone's ID.
    pub id: Id,
    /// Delete even if others reference it (the references are left dangling
    /// and returned).
    #[arg(long)]
    #[serde(default)]
    pub force: bool,
}

impl Operation for DeleteMilestone {
    const COMMAND: &'static str = "delete-milestone";
    const TOOL: &'static str = "coord_delete_milestone";
    const SUMMARY: &'static str =
        "Delete a milestone from its plan (refused while todos or milestones reference it, unless forced).";
    const WRITES: bool = true;
    type Output = Deleted;

    fn run(&self, store: &Store) -> Result<Deleted> {
        let (o, gone, dangling) = ops::delete_milestone(store, &self.id.0, self.force)?;
        let plan = Written::from_outcome(store, &o)?;
        let entity = serde_json::to_value(gone.to_mapping())
            .map_err(|e| crate::Error::system("encode the deleted milestone as JSON", e))?;
        Ok(Deleted { id: gone.id.clone(), kind: "milestone".into(), path: plan.path, changed: true, entity, dangling })
    }
}
