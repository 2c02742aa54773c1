//! The four entity kinds (issues, plans with milestones, todos, dependencies):
//! their typed fields, how they are read from a raw mapping (with drift
//! aliases) and their canonical mapping (field order of new files, JSON output,
//! and the basis for minimal-diff writes).

use super::date::CoordDate;
use super::reader::{FieldProblem, FieldProblemKind, Reader, scalar_text};
use super::vocab::*;
use serde_yaml::{Mapping, Value};

/// Builds canonical mappings: fixed key order, empty values left out.
#[derive(Default)]
struct Out(Mapping);

impl Out {
    fn text(&mut self, k: &str, v: &str) {
        self.0.insert(k.into(), Value::String(v.to_string()));
    }
    fn opt(&mut self, k: &str, v: &Option<String>) {
        if let Some(v) = v {
            self.text(k, v);
        }
    }
    fn list(&mut self, k: &str, v: &[String]) {
        if !v.is_empty() {
            self.0.insert(k.into(), Value::Sequence(v.iter().map(|s| Value::String(s.clone())).collect()));
        }
    }
    fn date(&mut self, k: &str, v: &Option<Lenient<CoordDate>>) {
        if let Some(d) = v {
            let s = match d {
                Lenient::Known(d) => d.to_string(),
                Lenient::Invalid(s) => s.clone(),
            };
            self.text(k, &s);
        }
    }
    fn vocab<T: Vocab>(&mut self, k: &str, v: &Lenient<T>) {
        self.text(k, v.as_str());
    }
    fn num(&mut self, k: &str, v: Option<f64>) {
        if let Some(n) = v {
            self.0.insert(k.into(), number_value(n));
        }
    }
    fn map(&mut self, k: &str, v: &Mapping) {
        if !v.is_empty() {
            self.0.insert(k.into(), Value::Mapping(v.clone()));
        }
    }
    fn value(&mut self, k: &str, v: Value) {
        self.0.insert(k.into(), v);
    }
    fn extra(mut self, extra: &Mapping) -> Mapping {
        for (k, v) in extra {
            if !self.0.contains_key(k) {
                self.0.insert(k.clone(), v.clone());
            }
        }
        self.0
    }
}

/// Whole numbers are written without a fraction (`24`, not `24.0`).
pub fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 1e15 { Value::Number((n as i64).into()) } else { Value::Number(n.into()) }
}

fn date_known(d: &Option<Lenient<CoordDate>>) -> Option<CoordDate> {
    match d {
        Some(Lenient::Known(d)) => Some(*d),
        _ => None,
    }
}

/// A cross-repository issue.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    pub status: Lenient<IssueStatus>,
    pub priority: Lenient<Priority>,
    pub severity: String,
    pub repos: Vec<String>,
    pub created: Option<Lenient<CoordDate>>,
    pub updated: Option<Lenient<CoordDate>>,
    pub target: Option<Lenient<CoordDate>>,
    pub dependencies: Vec<String>,
    pub blocking: Vec<String>,
    pub assignee: Option<String>,
    pub labels: Vec<String>,
    pub metadata: Mapping,
    /// Keys this version does not know, kept in file order.
    pub extra: Mapping,
}

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
    pub extra: Mapping,
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
    pub extra: Mapping,
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

/// An atomic unit of work in one repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Todo {
    pub id: String,
    pub task: String,
    pub description: Option<String>,
    pub repo: String,
    pub status: Lenient<TodoStatus>,
    pub priority: Lenient<Priority>,
    pub created: Option<Lenient<CoordDate>>,
    pub updated: Option<Lenient<CoordDate>>,
    pub estimated_hours: Option<f64>,
    pub actual_hours: Option<f64>,
    pub blocked_by: Vec<String>,
    pub blocking: Vec<String>,
    pub assignee: Option<String>,
    pub labels: Vec<String>,
    pub acceptance_criteria: Vec<String>,
    pub issue_id: Option<String>,
    pub plan_id: Option<String>,
    pub milestone_id: Option<String>,
    pub extra: Mapping,
}

/// How a dependency is validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Validation {
    pub command: Option<String>,
    pub expected_pattern: Option<String>,
    pub health_check: Option<String>,
    pub expected_status: Option<u16>,
    pub extra: Mapping,
}

/// A dependency of one repository (consumer) on another (provider).
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub id: String,
    pub consumer: String,
    pub provider: String,
    pub dep_type: Lenient<DepType>,
    pub version_constraint: Option<String>,
    pub status: Lenient<DepStatus>,
    pub created: Option<Lenient<CoordDate>>,
    pub updated: Option<Lenient<CoordDate>>,
    pub notes: Option<String>,
    pub validation: Option<Validation>,
    pub extra: Mapping,
}

/// Aliases accepted for `created`.
pub const CREATED_KEYS: &[&str] = &["created", "created_at"];
/// Aliases accepted for `updated`.
pub const UPDATED_KEYS: &[&str] = &["updated", "updated_at", "fixed_at", "completed_at"];

/// Key aliases per canonical key, used by the writer to edit a field in place
/// when a file spells it the old way.
pub fn key_aliases(key: &str) -> &'static [&'static str] {
    match key {
        "created" => &["created_at"],
        "updated" => &["updated_at", "fixed_at", "completed_at"],
        "labels" => &["tags"],
        "estimated_hours" => &["estimate_hours"],
        _ => &[],
    }
}

fn status_or_default<T: Vocab>(r: &mut Reader, default: T) -> Lenient<T> {
    if !r.has("status") {
        r.report("status", FieldProblemKind::Missing, format!("is missing (`{}` assumed)", default.as_str()));
    }
    r.vocab::<T>(&["status"]).unwrap_or(Lenient::Known(default))
}

fn labels(r: &mut Reader) -> Vec<String> {
    if r.has("labels") { r.list(&["labels"]) } else { r.list(&["tags"]) }
}

impl Issue {
    /// Reads an issue, tolerating drift. `id` is the already-validated ID.
    pub fn read(id: String, map: Mapping) -> (Self, Vec<FieldProblem>) {
        let mut r = Reader::new(map, "");
        r.take_any(&["id"]);
        let title = r.required_text(&["title"]);
        let description = r.text(&["description"]);
        let status = status_or_default(&mut r, IssueStatus::Pending);
        let priority = r.vocab::<Priority>(&["priority"]).unwrap_or(Lenient::Known(Priority::Medium));
        let severity = r.text(&["severity"]).unwrap_or_else(|| "normal".into());
        let mut repos = r.list(&["repos"]);
        if repos.is_empty() {
            repos = infer_repos(&r);
            if repos.is_empty() {
                r.report("repos", FieldProblemKind::Missing, "needs at least one repository".into());
            }
        }
        let created = r.date(CREATED_KEYS);
        let updated = r.date(UPDATED_KEYS);
        let target = r.date(&["target"]);
        let dependencies = r.list(&["dependencies"]);
        let blocking = r.list(&["blocking"]);
        let assignee = r.text(&["assignee"]);
        let labels = labels(&mut r);
        let metadata = r.mapping(&["metadata"]);
        let (extra, problems) = r.finish();
        let issue = Issue {
            id,
            title,
            description,
            status,
            priority,
            severity,
            repos,
            created,
            updated,
            target,
            dependencies,
            blocking,
            assignee,
            labels,
            metadata,
            extra,
        };
        (issue, problems)
    }

    /// Canonical mapping: field order of new files and JSON output.
    pub fn to_mapping(&self) -> Mapping {
        let mut o = Out::default();
        o.text("id", &self.id);
        o.text("title", &self.title);
        o.opt("description", &self.description);
        o.vocab("status", &self.status);
        o.vocab("priority", &self.priority);
        o.text("severity", &self.severity);
        o.list("repos", &self.repos);
        o.date("created", &self.created);
        o.date("updated", &self.updated);
        o.date("target", &self.target);
        o.list("dependencies", &self.dependencies);
        o.list("blocking", &self.blocking);
        o.opt("assignee", &self.assignee);
        o.list("labels", &self.labels);
        o.map("metadata", &self.metadata);
        o.extra(&self.extra)
    }

    /// Whether this issue still blocks what depends on it.
    pub fn is_open(&self) -> bool {
        !self.status.known().is_some_and(IssueStatus::is_finished)
    }

    /// The `target` date, if valid.
    pub fn target_date(&self) -> Option<CoordDate> {
        date_known(&self.target)
    }
}

/// Issues without `repos` take them from `affected_files` (first path
/// component) or `pool`, as older ecosystem files did.
fn infer_repos(r: &Reader) -> Vec<String> {
    let mut repos: Vec<String> = Vec::new();
    if let Some(Value::Sequence(files)) = r.peek("affected_files") {
        for f in files.iter().filter_map(scalar_text) {
            let first = f.trim_start_matches("./").split(['/', '\\']).next().unwrap_or("").to_string();
            if !first.is_empty() && !repos.contains(&first) {
                repos.push(first);
            }
        }
    }
    if repos.is_empty() {
        match r.peek("pool") {
            Some(Value::Sequence(items)) => repos.extend(items.iter().filter_map(scalar_text)),
            Some(v) => repos.extend(scalar_text(v)),
            None => {}
        }
    }
    repos
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
        } else if let Err(e) = super::id::validate_id(&id) {
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
                extra,
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
                extra,
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

impl Todo {
    /// Reads a todo (`title` stands in for a missing `task`, and
    /// `description` for both).
    pub fn read(id: String, map: Mapping) -> (Self, Vec<FieldProblem>) {
        // Neither `task` nor `title`: the description stands in (legacy data
        // written by the Python tool has todos like that).
        let titled = ["task", "title"].iter().any(|k| map.contains_key(*k)) || !map.contains_key("description");
        let mut r = Reader::new(map, "");
        r.take_any(&["id"]);
        let task = if titled { r.required_text(&["task", "title"]) } else { String::new() };
        let description = r.text(&["description"]);
        let task = match (titled, &description) {
            (false, Some(d)) => d.clone(),
            (false, None) => r.required_text(&["task", "title"]),
            (true, _) => task,
        };
        let repo = r.required_text(&["repo"]);
        let status = status_or_default(&mut r, TodoStatus::Pending);
        let priority = r.vocab::<Priority>(&["priority"]).unwrap_or(Lenient::Known(Priority::Medium));
        let created = r.date(CREATED_KEYS);
        let updated = r.date(UPDATED_KEYS);
        let estimated_hours = r.number(&["estimated_hours", "estimate_hours"]);
        if let Some(h) = estimated_hours
            && h <= 0.0
        {
            r.report("estimated_hours", FieldProblemKind::Value, format!("must be greater than 0, found {h}"));
        }
        let actual_hours = r.number(&["actual_hours"]);
        let blocked_by = r.list(&["blocked_by"]);
        let blocking = r.list(&["blocking"]);
        let assignee = r.text(&["assignee"]);
        let labels = labels(&mut r);
        let acceptance_criteria = r.list(&["acceptance_criteria"]);
        let issue_id = r.text(&["issue_id"]);
        let plan_id = r.text(&["plan_id"]);
        let milestone_id = r.text(&["milestone_id"]);
        let (extra, problems) = r.finish();
        let todo = Todo {
            id,
            task,
            description,
            repo,
            status,
            priority,
            created,
            updated,
            estimated_hours,
            actual_hours,
            blocked_by,
            blocking,
            assignee,
            labels,
            acceptance_criteria,
            issue_id,
            plan_id,
            milestone_id,
            extra,
        };
        (todo, problems)
    }

    /// Canonical mapping.
    pub fn to_mapping(&self) -> Mapping {
        let mut o = Out::default();
        o.text("id", &self.id);
        o.text("task", &self.task);
        o.opt("description", &self.description);
        o.text("repo", &self.repo);
        o.vocab("status", &self.status);
        o.vocab("priority", &self.priority);
        o.date("created", &self.created);
        o.date("updated", &self.updated);
        o.num("estimated_hours", self.estimated_hours);
        o.num("actual_hours", self.actual_hours);
        o.list("blocked_by", &self.blocked_by);
        o.list("blocking", &self.blocking);
        o.opt("assignee", &self.assignee);
        o.list("labels", &self.labels);
        o.list("acceptance_criteria", &self.acceptance_criteria);
        o.opt("issue_id", &self.issue_id);
        o.opt("plan_id", &self.plan_id);
        o.opt("milestone_id", &self.milestone_id);
        o.extra(&self.extra)
    }

    /// Whether this todo still blocks what depends on it.
    pub fn is_open(&self) -> bool {
        !self.status.known().is_some_and(TodoStatus::is_finished)
    }
}

impl Validation {
    fn read(map: Mapping, r: &mut Reader) -> Self {
        let mut v = Reader::new(map, "validation.");
        let command = v.text(&["command"]);
        let expected_pattern = v.text(&["expected_pattern"]);
        let health_check = v.text(&["health_check"]);
        let expected_status = match v.number(&["expected_status"]) {
            Some(n) if (100.0..=599.0).contains(&n) && n.fract() == 0.0 => Some(n as u16),
            Some(n) => {
                v.report("expected_status", FieldProblemKind::Value, format!("`{n}` is not an HTTP status (100–599)"));
                None
            }
            None => None,
        };
        let (extra, problems) = v.finish();
        r.absorb(problems);
        Validation { command, expected_pattern, health_check, expected_status, extra }
    }

    fn to_mapping(&self) -> Mapping {
        let mut o = Out::default();
        o.opt("command", &self.command);
        o.opt("expected_pattern", &self.expected_pattern);
        o.opt("health_check", &self.health_check);
        if let Some(s) = self.expected_status {
            o.value("expected_status", Value::Number(u64::from(s).into()));
        }
        o.extra(&self.extra)
    }
}

impl Dependency {
    /// Reads a dependency.
    pub fn read(id: String, map: Mapping) -> (Self, Vec<FieldProblem>) {
        let mut r = Reader::new(map, "");
        r.take_any(&["id"]);
        let consumer = r.required_text(&["consumer"]);
        let provider = r.required_text(&["provider"]);
        let dep_type = r.vocab::<DepType>(&["type"]).unwrap_or(Lenient::Known(DepType::Runtime));
        let version_constraint = r.text(&["version_constraint", "version"]);
        let status = r.vocab::<DepStatus>(&["status"]).unwrap_or(Lenient::Known(DepStatus::Unknown));
        let created = r.date(CREATED_KEYS);
        let updated = r.date(UPDATED_KEYS);
        let notes = r.text(&["notes"]);
        let validation = match r.raw(&["validation"]) {
            None | Some(Value::Null) => None,
            Some(Value::Mapping(m)) => Some(Validation::read(m, &mut r)),
            Some(_) => {
                r.report(
                    "validation",
                    FieldProblemKind::Type,
                    "expected a mapping with command/expected_pattern/health_check/expected_status".into(),
                );
                None
            }
        };
        let (extra, problems) = r.finish();
        (
            Dependency {
                id,
                consumer,
                provider,
                dep_type,
                version_constraint,
                status,
                created,
                updated,
                notes,
                validation,
                extra,
            },
            problems,
        )
    }

    /// Canonical mapping.
    pub fn to_mapping(&self) -> Mapping {
        let mut o = Out::default();
        o.text("id", &self.id);
        o.text("consumer", &self.consumer);
        o.text("provider", &self.provider);
        o.vocab("type", &self.dep_type);
        o.opt("version_constraint", &self.version_constraint);
        o.vocab("status", &self.status);
        o.date("created", &self.created);
        o.date("updated", &self.updated);
        o.opt("notes", &self.notes);
        if let Some(v) = &self.validation {
            let m = v.to_mapping();
            if !m.is_empty() {
                o.value("validation", Value::Mapping(m));
            }
        }
        o.extra(&self.extra)
    }

    /// Satisfied (or deprecated) dependencies no longer block.
    pub fn is_open(&self) -> bool {
        !matches!(self.status.known(), Some(DepStatus::Satisfied) | Some(DepStatus::Deprecated))
    }
}
