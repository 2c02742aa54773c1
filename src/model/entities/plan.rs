//! Plans and their milestones: the typed fields, how they are read (a
//! milestone's completion criteria may carry a check `validate --plan`
//! runs) and their canonical mapping.

use super::{CREATED_KEYS, Out, UPDATED_KEYS, date_known, status_or_default};
use crate::model::date::CoordDate;
use crate::model::reader::{FieldProblem, FieldProblemKind, Reader, scalar_text};
use crate::model::vocab::*;
use serde_yaml::{Mapping, Value};

/// A plan (roadmap) with its milestones.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub status: Lenient<PlanStatus>,
    pub repos: Vec<String>,
    pub created: Option<Lenient<CoordDate>>,
    pub updated: Option<Lenient<CoordDate>>,
    pub target: Option<Lenient<CoordDate>>,
    pub issue_ids: Vec<String>,
    pub depends_on: Vec<String>,
    pub milestones: Vec<Milestone>,
    pub extra: crate::model::Extra,
}

/// A milestone inside a plan. IDs are unique across all plans.
#[derive(Debug, Clone, PartialEq)]
pub struct Milestone {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub due: Option<Lenient<CoordDate>>,
    pub status: Lenient<MilestoneStatus>,
    pub dependencies: Vec<String>,
    /// Plain-text criteria (judged by a person: `validate` reports them
    /// `manual`, never met by itself).
    pub completion_criteria: Vec<String>,
    /// Criteria written `{text, check: {action: A} | {command: C}}`: met
    /// when the check succeeds through the executor (in the same
    /// `completion_criteria` list; written after the plain ones).
    pub criteria_checks: Vec<CriterionCheck>,
    pub deliverables: Vec<String>,
    pub extra: crate::model::Extra,
}

/// A completion criterion with a check `validate --plan` runs.
#[derive(Debug, Clone, PartialEq)]
pub struct CriterionCheck {
    pub text: String,
    /// A named action (`test`, …) or a command (exactly one is set).
    pub action: Option<String>,
    pub command: Option<String>,
}

/// Why a completion criterion with a check cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CriterionError {
    /// Neither text nor a mapping.
    #[error("expected text or {{text, check}}")]
    NotMapping,
    /// No `text`.
    #[error("`text` is required")]
    NoText,
    /// No `check` mapping.
    #[error("`check` must be {{action: A}} or {{command: C}}")]
    NoCheck,
    /// A key other than `text` and `check`.
    #[error("unknown key `{0}`")]
    UnknownKey(String),
    /// Both or neither of `action` and `command`, or more keys.
    #[error("`check` must be exactly one of {{action: A}} or {{command: C}}")]
    NotOne,
}

impl CriterionCheck {
    /// Reads `{text, check: {action|command}}`; `Err` says what is wrong.
    fn read(v: &Value) -> Result<CriterionCheck, CriterionError> {
        let Value::Mapping(m) = v else { return Err(CriterionError::NotMapping) };
        let text = m.get("text").and_then(scalar_text).ok_or(CriterionError::NoText)?;
        let Some(Value::Mapping(check)) = m.get("check") else {
            return Err(CriterionError::NoCheck);
        };
        if let Some(k) = m.keys().filter_map(Value::as_str).find(|k| *k != "text" && *k != "check") {
            return Err(CriterionError::UnknownKey(k.to_string()));
        }
        let action = check.get("action").and_then(scalar_text);
        let command = check.get("command").and_then(scalar_text);
        if action.is_some() == command.is_some() || check.len() != 1 {
            return Err(CriterionError::NotOne);
        }
        Ok(CriterionCheck { text, action, command })
    }

    fn to_value(&self) -> Value {
        let mut check = Mapping::new();
        if let Some(a) = &self.action {
            check.insert("action".into(), Value::String(a.clone()));
        }
        if let Some(c) = &self.command {
            check.insert("command".into(), Value::String(c.clone()));
        }
        let mut m = Mapping::new();
        m.insert("text".into(), Value::String(self.text.clone()));
        m.insert("check".into(), Value::Mapping(check));
        Value::Mapping(m)
    }
}

impl Milestone {
    /// Reads a milestone from a plan's `milestones` list.
    pub fn read(map: Mapping, index: usize) -> (Self, Vec<FieldProblem>) {
        let id = map.get("id").and_then(scalar_text).unwrap_or_default();
        let label = if id.is_empty() { format!("milestones[{index}].") } else { format!("milestones[{id}].") };
        let mut r = Reader::new(map, label);
        r.take_any(&["id"]);
        if id.is_empty() {
            r.report("id", FieldProblemKind::Missing, "is required".into());
        } else if let Err(e) = crate::model::id::validate_id(&id) {
            r.report("id", FieldProblemKind::Value, e.to_string());
        }
        let name = r.required_text(&["name", "title"]);
        let description = r.text(&["description"]);
        let due = r.date(&["due", "target"]);
        let status = status_or_default(&mut r, MilestoneStatus::Pending);
        let dependencies = r.list(&["dependencies"]);
        let mut completion_criteria = Vec::new();
        let mut criteria_checks = Vec::new();
        match r.take_any(&["completion_criteria"]) {
            None | Some((_, Value::Null)) => {}
            Some((k, Value::Sequence(items))) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(t) = scalar_text(item) {
                        completion_criteria.push(t);
                    } else {
                        match CriterionCheck::read(item) {
                            Ok(c) => criteria_checks.push(c),
                            Err(e) => r.report(&format!("{k}[{i}]"), FieldProblemKind::Type, e.to_string()),
                        }
                    }
                }
            }
            Some((k, v)) => match scalar_text(&v) {
                Some(t) => completion_criteria.push(t),
                None => r.report(&k, FieldProblemKind::Type, "expected a list".into()),
            },
        }
        let deliverables = r.list(&["deliverables"]);
        let (extra, problems) = r.finish();
        (
            Milestone {
                id,
                name,
                description,
                due,
                status,
                dependencies,
                completion_criteria,
                criteria_checks,
                deliverables,
                extra: extra.into(),
            },
            problems,
        )
    }

    /// Canonical mapping.
    pub fn to_mapping(&self) -> Mapping {
        let mut o = Out::default();
        o.text("id", &self.id);
        o.text("name", &self.name);
        o.opt("description", &self.description);
        o.date("due", &self.due);
        o.vocab("status", &self.status);
        o.list("dependencies", &self.dependencies);
        let criteria: Vec<Value> = self
            .completion_criteria
            .iter()
            .map(|t| Value::String(t.clone()))
            .chain(self.criteria_checks.iter().map(CriterionCheck::to_value))
            .collect();
        if !criteria.is_empty() {
            o.0.insert("completion_criteria".into(), Value::Sequence(criteria));
        }
        o.list("deliverables", &self.deliverables);
        o.extra(&self.extra)
    }

    /// The due date, if valid.
    pub fn due_date(&self) -> Option<CoordDate> {
        date_known(&self.due)
    }
}

impl Plan {
    /// Reads a plan and its milestones.
    pub fn read(id: String, map: Mapping) -> (Self, Vec<FieldProblem>) {
        let mut r = Reader::new(map, "");
        r.take_any(&["id"]);
        let title = r.required_text(&["title", "name"]);
        let description = r.text(&["description"]);
        let status = status_or_default(&mut r, PlanStatus::Draft);
        let repos = r.list(&["repos"]);
        let created = r.date(CREATED_KEYS);
        let updated = r.date(UPDATED_KEYS);
        let target = r.date(&["target"]);
        let issue_ids = r.list(&["issue_ids", "issues"]);
        let depends_on = r.list(&["depends_on"]);
        let mut milestones = Vec::new();
        match r.raw(&["milestones"]) {
            None | Some(Value::Null) => {}
            Some(Value::Sequence(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    match item {
                        Value::Mapping(m) => {
                            let (ms, problems) = Milestone::read(m, i);
                            r.absorb(problems);
                            milestones.push(ms);
                        }
                        other => r.report(
                            &format!("milestones[{i}]"),
                            FieldProblemKind::Type,
                            format!(
                                "expected a milestone mapping, found `{}`",
                                scalar_text(&other).unwrap_or_else(|| "a list".into())
                            ),
                        ),
                    }
                }
            }
            Some(_) => r.report("milestones", FieldProblemKind::Type, "expected a list of milestones".into()),
        }
        let (extra, problems) = r.finish();
        (
            Plan {
                id,
                title,
                description,
                status,
                repos,
                created,
                updated,
                target,
                issue_ids,
                depends_on,
                milestones,
                extra: extra.into(),
            },
            problems,
        )
    }

    /// Canonical mapping.
    pub fn to_mapping(&self) -> Mapping {
        let mut o = Out::default();
        o.text("id", &self.id);
        o.text("title", &self.title);
        o.opt("description", &self.description);
        o.vocab("status", &self.status);
        o.list("repos", &self.repos);
        o.date("created", &self.created);
        o.date("updated", &self.updated);
        o.date("target", &self.target);
        o.list("issue_ids", &self.issue_ids);
        o.list("depends_on", &self.depends_on);
        if !self.milestones.is_empty() {
            o.value(
                "milestones",
                Value::Sequence(self.milestones.iter().map(|m| Value::Mapping(m.to_mapping())).collect()),
            );
        }
        o.extra(&self.extra)
    }

    /// Progress by milestones: (completed, counted). A cancelled milestone
    /// is not work left, so it is not counted (else a plan with one could
    /// never reach 100%).
    pub fn milestone_progress(&self) -> (usize, usize) {
        let counted = self.milestones.iter().filter(|m| !m.status.is(MilestoneStatus::Cancelled));
        let done = counted.clone().filter(|m| m.status.is(MilestoneStatus::Completed)).count();
        (done, counted.count())
    }

    /// The target date, if valid.
    pub fn target_date(&self) -> Option<CoordDate> {
        date_known(&self.target)
    }
}
