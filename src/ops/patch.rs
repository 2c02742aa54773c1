//! One patch type for every kind: the set of changes a create or update asks
//! for, validated strictly as it is applied (aliases accepted, unknown values
//! refused with the allowed ones listed, unknown references and repositories
//! refused with a did-you-mean). Creation is "apply a patch to an empty
//! entity", so create and update share every rule.

use super::Refs;
use crate::error::{Error, Result};
use crate::model::vocab::parse_strict;
use crate::model::*;

/// Requested changes. `Some("")` on an optional text field clears it.
#[derive(Debug, Clone, Default)]
pub struct Patch {
    /// Issue/plan title, todo task.
    pub title: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub priority: Option<String>,
    pub severity: Option<String>,
    pub assignee: Option<String>,
    /// Issue/plan target date.
    pub target: Option<String>,
    /// Todo repository.
    pub repo: Option<String>,
    pub add_repos: Vec<String>,
    pub remove_repos: Vec<String>,
    pub add_labels: Vec<String>,
    pub remove_labels: Vec<String>,
    /// Issue `dependencies`, todo `blocked_by`, plan `depends_on`.
    pub add_blockers: Vec<String>,
    pub remove_blockers: Vec<String>,
    /// `blocking` (issues and todos).
    pub add_blocking: Vec<String>,
    pub remove_blocking: Vec<String>,
    /// Plan `issue_ids`.
    pub add_issues: Vec<String>,
    pub remove_issues: Vec<String>,
    /// Todo estimate (`3d`, `4h`, `90m`, or hours).
    pub estimate: Option<String>,
    pub actual_hours: Option<String>,
    pub issue_id: Option<String>,
    pub plan_id: Option<String>,
    pub milestone_id: Option<String>,
    /// Todo acceptance criteria to add.
    pub add_criteria: Vec<String>,
    /// Issue metadata `key=value` to set (`key=` removes).
    pub metadata: Vec<(String, String)>,
    // Dependencies.
    pub consumer: Option<String>,
    pub provider: Option<String>,
    pub dep_type: Option<String>,
    pub version_constraint: Option<String>,
    pub notes: Option<String>,
    pub command: Option<String>,
    pub expected_pattern: Option<String>,
    pub health_check: Option<String>,
    pub expected_status: Option<u16>,
}

impl Patch {
    /// True when the patch asks for nothing.
    pub fn is_empty(&self) -> bool {
        let Patch {
            title,
            description,
            status,
            priority,
            severity,
            assignee,
            target,
            repo,
            add_repos,
            remove_repos,
            add_labels,
            remove_labels,
            add_blockers,
            remove_blockers,
            add_blocking,
            remove_blocking,
            add_issues,
            remove_issues,
            estimate,
            actual_hours,
            issue_id,
            plan_id,
            milestone_id,
            add_criteria,
            metadata,
            consumer,
            provider,
            dep_type,
            version_constraint,
            notes,
            command,
            expected_pattern,
            health_check,
            expected_status,
        } = self;
        [
            title,
            description,
            status,
            priority,
            severity,
            assignee,
            target,
            repo,
            estimate,
            actual_hours,
            issue_id,
            plan_id,
            milestone_id,
            consumer,
            provider,
            dep_type,
            version_constraint,
            notes,
            command,
            expected_pattern,
            health_check,
        ]
        .iter()
        .all(|o| o.is_none())
            && [
                add_repos,
                remove_repos,
                add_labels,
                remove_labels,
                add_blockers,
                remove_blockers,
                add_blocking,
                remove_blocking,
                add_issues,
                remove_issues,
                add_criteria,
            ]
            .iter()
            .all(|v| v.is_empty())
            && metadata.is_empty()
            && expected_status.is_none()
    }
}

/// Parses an estimate: `3d` (days × hours per day), `4h`, `90m`, or hours.
pub fn parse_estimate(s: &str, hours_per_day: f64) -> Result<f64> {
    let t = s.trim().to_ascii_lowercase();
    let (num, factor) = if let Some(n) = t.strip_suffix('d') {
        (n, hours_per_day)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 1.0 / 60.0)
    } else {
        (t.as_str(), 1.0)
    };
    let n: f64 = num.trim().parse().map_err(|_| {
        Error::Invalid(format!("invalid estimate `{s}` (expected e.g. `3d`, `4h`, `90m` or a number of hours)"))
    })?;
    let hours = n * factor;
    if !(hours > 0.0 && hours.is_finite()) {
        return Err(Error::Invalid(format!("estimate must be greater than 0, found `{s}`")));
    }
    Ok((hours * 100.0).round() / 100.0)
}

fn hours(s: &str, what: &str) -> Result<f64> {
    let h: f64 =
        s.trim().parse().map_err(|_| Error::Invalid(format!("invalid {what} `{s}` (expected a number of hours)")))?;
    if h < 0.0 || !h.is_finite() {
        return Err(Error::Invalid(format!("{what} cannot be negative, found `{s}`")));
    }
    Ok(h)
}

fn date(s: &str, field: &str) -> Result<Option<Lenient<CoordDate>>> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    CoordDate::parse(s)
        .map(|d| Some(Lenient::Known(d)))
        .ok_or_else(|| Error::Invalid(format!("invalid {field} date `{s}` (expected YYYY-MM-DD)")))
}

fn opt_text(s: &str) -> Option<String> {
    if s.trim().is_empty() { None } else { Some(s.to_string()) }
}

fn vocab<T: Vocab>(s: &str) -> Result<Lenient<T>> {
    parse_strict::<T>(s).map(Lenient::Known).map_err(Error::Invalid)
}

fn edit_list(list: &mut Vec<String>, add: &[String], remove: &[String]) {
    list.retain(|x| !remove.contains(x));
    for a in add {
        if !list.contains(a) {
            list.push(a.clone());
        }
    }
}

fn require_text(v: &str, what: &str) -> Result<String> {
    if v.trim().is_empty() { Err(Error::Invalid(format!("{what} cannot be empty"))) } else { Ok(v.trim().to_string()) }
}

/// Errors collected while applying, so the user sees every problem at once.
struct Errs(Vec<String>);

impl Errs {
    /// Sets `slot` when a value was given and is valid; records the error otherwise.
    fn set<T>(&mut self, slot: &mut T, value: Option<Result<T>>) {
        if let Some(v) = value.and_then(|r| self.check(r)) {
            *slot = v;
        }
    }

    fn check<T>(&mut self, r: Result<T>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(e.to_string());
                None
            }
        }
    }
    fn done(self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(Error::Invalid(self.0.into_iter().next().unwrap_or_default())),
            _ => Err(Error::InvalidMany(self.0)),
        }
    }
}

fn not_for(errs: &mut Errs, set: bool, flag: &str, kind: Kind) {
    if set {
        errs.0.push(format!("{flag} does not apply to a {kind}"));
    }
}

impl Patch {
    /// Applies the patch to `entity`, validating every value against `refs`.
    pub fn apply(&self, entity: &mut Entity, refs: &mut Refs<'_>) -> Result<()> {
        let mut errs = Errs(Vec::new());
        let repos = |refs: &mut Refs<'_>, errs: &mut Errs, names: &[String]| -> Vec<String> {
            names.iter().filter_map(|n| errs.check(refs.repo(n))).collect()
        };
        let kind = entity.kind();
        match entity {
            Entity::Issue(e) => {
                if let Some(v) = &self.title {
                    e.title = errs.check(require_text(v, "title")).unwrap_or_default();
                }
                if let Some(v) = &self.description {
                    e.description = opt_text(v);
                }
                errs.set(&mut e.status, self.status.as_deref().map(vocab));
                errs.set(&mut e.priority, self.priority.as_deref().map(vocab));
                if let Some(v) = &self.severity {
                    e.severity = if v.trim().is_empty() { "normal".into() } else { v.clone() };
                }
                if let Some(v) = &self.assignee {
                    e.assignee = opt_text(v);
                }
                errs.set(&mut e.target, self.target.as_deref().map(|v| date(v, "target")));
                let add = repos(refs, &mut errs, &self.add_repos);
                let rm: Vec<String> = self.remove_repos.iter().map(|r| refs.canonical_repo(r)).collect();
                edit_list(&mut e.repos, &add, &rm);
                if e.repos.is_empty() {
                    errs.0.push("an issue needs at least one repository (--repos)".into());
                }
                edit_list(&mut e.labels, &self.add_labels, &self.remove_labels);
                let add = refs.existing(&self.add_blockers, &[Kind::Issue], &mut errs.0);
                edit_list(&mut e.dependencies, &add, &self.remove_blockers);
                let add = refs.existing(&self.add_blocking, &[Kind::Issue, Kind::Todo, Kind::Plan], &mut errs.0);
                edit_list(&mut e.blocking, &add, &self.remove_blocking);
                for (k, v) in &self.metadata {
                    if v.is_empty() {
                        e.metadata.remove(k.as_str());
                    } else {
                        e.metadata.insert(k.as_str().into(), serde_yaml::Value::String(v.clone()));
                    }
                }
                not_for(&mut errs, self.repo.is_some(), "--repo", kind);
                not_for(
                    &mut errs,
                    self.estimate.is_some() || self.actual_hours.is_some(),
                    "--estimate/--actual-hours",
                    kind,
                );
            }
            Entity::Plan(e) => {
                if let Some(v) = &self.title {
                    e.title = errs.check(require_text(v, "title")).unwrap_or_default();
                }
                if let Some(v) = &self.description {
                    e.description = opt_text(v);
                }
                errs.set(&mut e.status, self.status.as_deref().map(vocab));
                errs.set(&mut e.target, self.target.as_deref().map(|v| date(v, "target")));
                let add = repos(refs, &mut errs, &self.add_repos);
                let rm: Vec<String> = self.remove_repos.iter().map(|r| refs.canonical_repo(r)).collect();
                edit_list(&mut e.repos, &add, &rm);
                let add = refs.existing(&self.add_issues, &[Kind::Issue], &mut errs.0);
                edit_list(&mut e.issue_ids, &add, &self.remove_issues);
                let add = refs.existing(&self.add_blockers, &[Kind::Plan], &mut errs.0);
                edit_list(&mut e.depends_on, &add, &self.remove_blockers);
                not_for(&mut errs, self.priority.is_some(), "--priority", kind);
                not_for(&mut errs, self.assignee.is_some(), "--assignee", kind);
                not_for(
                    &mut errs,
                    !self.add_labels.is_empty() || !self.remove_labels.is_empty(),
                    "--add-label/--remove-label",
                    kind,
                );
            }
            Entity::Todo(e) => {
                if let Some(v) = &self.title {
                    e.task = errs.check(require_text(v, "task")).unwrap_or_default();
                }
                if let Some(v) = &self.description {
                    e.description = opt_text(v);
                }
                errs.set(&mut e.repo, self.repo.as_deref().map(|v| refs.repo(v)));
                errs.set(&mut e.status, self.status.as_deref().map(vocab));
                errs.set(&mut e.priority, self.priority.as_deref().map(vocab));
                if let Some(v) = &self.assignee {
                    e.assignee = opt_text(v);
                }
                errs.set(
                    &mut e.estimated_hours,
                    self.estimate.as_deref().map(|v| parse_estimate(v, refs.hours_per_day()).map(Some)),
                );
                errs.set(&mut e.actual_hours, self.actual_hours.as_deref().map(|v| hours(v, "actual hours").map(Some)));
                edit_list(&mut e.labels, &self.add_labels, &self.remove_labels);
                let add = refs.existing(&self.add_blockers, &[Kind::Issue, Kind::Todo], &mut errs.0);
                edit_list(&mut e.blocked_by, &add, &self.remove_blockers);
                let add = refs.existing(&self.add_blocking, &[Kind::Issue, Kind::Todo], &mut errs.0);
                edit_list(&mut e.blocking, &add, &self.remove_blocking);
                edit_list(&mut e.acceptance_criteria, &self.add_criteria, &[]);
                if let Some(v) = &self.issue_id {
                    e.issue_id = errs.check(refs.link(v, Kind::Issue)).flatten();
                }
                if let Some(v) = &self.plan_id {
                    e.plan_id = errs.check(refs.link(v, Kind::Plan)).flatten();
                }
                if let Some(v) = &self.milestone_id {
                    e.milestone_id = errs.check(refs.milestone_link(v)).flatten();
                }
                if e.repo.is_empty() {
                    errs.0.push("a todo needs a repository (--repo)".into());
                }
                not_for(&mut errs, self.target.is_some(), "--target", kind);
            }
            Entity::Dependency(e) => {
                errs.set(&mut e.consumer, self.consumer.as_deref().map(|v| refs.repo(v)));
                errs.set(&mut e.provider, self.provider.as_deref().map(|v| refs.repo(v)));
                errs.set(&mut e.dep_type, self.dep_type.as_deref().map(vocab));
                errs.set(&mut e.status, self.status.as_deref().map(vocab));
                if let Some(v) = &self.version_constraint {
                    e.version_constraint = opt_text(v);
                }
                if let Some(v) = &self.notes {
                    e.notes = opt_text(v);
                }
                if self.command.is_some()
                    || self.expected_pattern.is_some()
                    || self.health_check.is_some()
                    || self.expected_status.is_some()
                {
                    let val = e.validation.get_or_insert_with(Validation::default);
                    if let Some(v) = &self.command {
                        val.command = opt_text(v);
                    }
                    if let Some(v) = &self.expected_pattern {
                        if !v.is_empty()
                            && let Err(err) = regex::Regex::new(v)
                        {
                            errs.0.push(format!("invalid expected pattern `{v}`: {err}"));
                        }
                        val.expected_pattern = opt_text(v);
                    }
                    if let Some(v) = &self.health_check {
                        val.health_check = opt_text(v);
                    }
                    if let Some(v) = self.expected_status {
                        if !(100..=599).contains(&v) {
                            errs.0.push(format!("expected status {v} is not an HTTP status (100–599)"));
                        }
                        val.expected_status = Some(v);
                    }
                }
                if e.consumer.is_empty() || e.provider.is_empty() {
                    errs.0.push("a dependency needs --consumer and --provider".into());
                } else if e.consumer == e.provider {
                    errs.0.push(format!("a repository cannot depend on itself (`{}`)", e.consumer));
                }
                not_for(&mut errs, self.priority.is_some(), "--priority", kind);
                not_for(&mut errs, self.assignee.is_some(), "--assignee", kind);
            }
        }
        let id = entity.id().to_string();
        for list in self_refs(entity) {
            if list.contains(&id) {
                errs.0.push(format!("{id} cannot reference itself"));
                break;
            }
        }
        errs.done()
    }
}

fn self_refs(e: &Entity) -> Vec<&Vec<String>> {
    match e {
        Entity::Issue(i) => vec![&i.dependencies, &i.blocking],
        Entity::Plan(p) => vec![&p.depends_on],
        Entity::Todo(t) => vec![&t.blocked_by, &t.blocking],
        Entity::Dependency(_) => vec![],
    }
}

/// An empty entity of `kind` with `id`, stamped `created`/`updated`.
pub fn blank(kind: Kind, id: String, today: CoordDate) -> Entity {
    let stamp = Some(Lenient::Known(today));
    match kind {
        Kind::Issue => Entity::Issue(Issue {
            id,
            title: String::new(),
            description: None,
            status: Lenient::Known(IssueStatus::Pending),
            priority: Lenient::Known(Priority::Medium),
            severity: "normal".into(),
            repos: vec![],
            created: stamp.clone(),
            updated: stamp,
            target: None,
            dependencies: vec![],
            blocking: vec![],
            assignee: None,
            labels: vec![],
            metadata: Default::default(),
            extra: Default::default(),
        }),
        Kind::Plan => Entity::Plan(Plan {
            id,
            title: String::new(),
            description: None,
            status: Lenient::Known(PlanStatus::Draft),
            repos: vec![],
            created: stamp.clone(),
            updated: stamp,
            target: None,
            issue_ids: vec![],
            depends_on: vec![],
            milestones: vec![],
            extra: Default::default(),
        }),
        Kind::Todo => Entity::Todo(Todo {
            id,
            task: String::new(),
            description: None,
            repo: String::new(),
            status: Lenient::Known(TodoStatus::Pending),
            priority: Lenient::Known(Priority::Medium),
            created: stamp.clone(),
            updated: stamp,
            estimated_hours: None,
            actual_hours: None,
            blocked_by: vec![],
            blocking: vec![],
            assignee: None,
            labels: vec![],
            acceptance_criteria: vec![],
            issue_id: None,
            plan_id: None,
            milestone_id: None,
            extra: Default::default(),
        }),
        Kind::Dependency => Entity::Dependency(Dependency {
            id,
            consumer: String::new(),
            provider: String::new(),
            dep_type: Lenient::Known(DepType::Runtime),
            version_constraint: None,
            status: Lenient::Known(DepStatus::Unknown),
            created: stamp.clone(),
            updated: stamp,
            notes: None,
            validation: None,
            extra: Default::default(),
        }),
    }
}
