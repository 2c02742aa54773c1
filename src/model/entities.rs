//! The four entity kinds (issues, plans with milestones, todos, dependencies):
//! their typed fields, how they are read from a raw mapping (with drift
//! aliases) and their canonical mapping (field order of new files, JSON output,
//! and the basis for minimal-diff writes). Plans with milestones and
//! dependencies with their validation are in their own submodules.

mod dependency;
mod plan;

pub use dependency::{Dependency, Validation};
pub use plan::{CriterionCheck, CriterionError, Milestone, Plan};

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
    pub metadata: crate::model::Extra,
    /// Keys this version does not know, kept in file order.
    pub extra: crate::model::Extra,
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
    pub extra: crate::model::Extra,
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
            metadata: metadata.into(),
            extra: extra.into(),
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
            extra: extra.into(),
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
