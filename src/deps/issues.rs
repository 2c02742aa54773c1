//! Issues raised by dependency checks (`check-deps --raise-issues`, `watch
//! --raise-issues`): one issue per unsatisfied dependency, linked to it by
//! `metadata.dependency: DEP-…`, kept up to date while the dependency stays
//! unsatisfied, resolved with a dated note once it is satisfied again, and
//! reopened (never duplicated) if it breaks again.
//!
//! Every change goes through [`crate::ops::create_with`] and
//! [`crate::ops::update_with`], the one write path: the files change by
//! ordinary minimal diffs, `enabled: false` refuses, and an issue that
//! already says what the check found is not written at all — running twice
//! changes nothing the second time. Nothing in an issue depends on the day
//! or on timings (no latency, no date in the text): only the notes of a
//! change of state are dated.
//!
//! What the tool owns: the description (the evidence, rewritten while the
//! dependency is unsatisfied and the issue open), the link, and the status
//! changes it makes. Title, priority and labels are set when the issue is
//! raised (and the title again when it is reopened); after that they are
//! people's to change. Repositories are only ever added. A `resolved` issue
//! whose dependency is unsatisfied is reopened (the evidence disagrees); a
//! `closed` one is left alone (a person decided, or the dependency was
//! deprecated).

use super::{CheckReport, DepResult, MethodResult, Verdict};
use crate::display::shown;
use crate::error::Refusal;
use crate::error::Result;
use crate::model::*;
use crate::ops;
use crate::store::{Loaded, Store, WriteMode, natural_key};
use schemars::JsonSchema;
use serde::Serialize;
use serde_yaml::Value;

/// The `metadata` key linking an issue to its dependency.
pub const LINK_KEY: &str = "dependency";
/// The `metadata` key holding the dated notes of the changes the tool made.
pub const NOTES_KEY: &str = "dependency_notes";
/// The label raised issues get.
pub const LABEL: &str = "dependency";

/// What was done to an issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum IssueAction {
    /// Raised for a newly unsatisfied dependency.
    Created,
    /// Its evidence changed (the dependency is still unsatisfied).
    Updated,
    /// It was resolved or closed, and the dependency is unsatisfied again.
    Reopened,
    /// The dependency is satisfied again.
    Resolved,
    /// The dependency is deprecated: no longer checked.
    Closed,
}

impl IssueAction {
    /// The word for messages.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueAction::Created => "created",
            IssueAction::Updated => "updated",
            IssueAction::Reopened => "reopened",
            IssueAction::Resolved => "resolved",
            IssueAction::Closed => "closed",
        }
    }
}

/// One issue written.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IssueChange {
    /// The issue's ID.
    pub issue: String,
    /// The dependency it is linked to.
    pub dependency: String,
    pub action: IssueAction,
    /// The issue's file, relative to the coordination root.
    pub path: String,
    /// The dependency's verdict and why.
    pub status: Verdict,
    pub reason: String,
}

/// The priority of an issue raised for a dependency of this type: a broken
/// runtime or MCP dependency breaks the consumer (`high`), a development or
/// test one its workflow (`medium`, `low`), documentation `low`. Never
/// `critical`: that is for people to decide (and `gate` fails on it).
pub fn priority_for(t: Option<DepType>) -> Priority {
    match t {
        Some(DepType::Runtime | DepType::Mcp) => Priority::High,
        Some(DepType::Development) | None => Priority::Medium,
        Some(DepType::Test | DepType::Documentation) => Priority::Low,
    }
}

/// The dependency an issue is linked to (`metadata.dependency`).
pub fn linked_dependency(issue: &Issue) -> Option<&str> {
    issue.metadata.get(LINK_KEY).and_then(Value::as_str).map(str::trim)
}

/// The issue linked to `dep`: an open one first, else the most recent
/// (highest ID) — so a dependency has one issue, reopened when it breaks
/// again.
fn linked<'l>(loaded: &'l Loaded, dep: &str) -> Option<&'l Issue> {
    let mut all: Vec<&Issue> =
        loaded.issues().filter(|i| linked_dependency(i).is_some_and(|d| d.eq_ignore_ascii_case(dep))).collect();
    all.sort_by_key(|i| natural_key(&i.id));
    all.iter().find(|i| i.is_open()).or(all.last()).copied()
}

fn day() -> String {
    crate::model::date::now().date_naive().format("%Y-%m-%d").to_string()
}

fn first_line(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(line.chars().take(200).collect())
}

/// One line of evidence for a method, without anything that changes from
/// run to run by itself (latency).
fn evidence_line(m: &MethodResult) -> String {
    let e = &m.evidence;
    let mut parts = vec![shown(&m.reason)];
    if let Some(s) = e.syntax {
        parts.push(format!("{s} syntax"));
    }
    if let Some(c) = e.exit_code {
        parts.push(format!("exit code {c}"));
    }
    if let Some(o) = e.output.as_deref().and_then(first_line) {
        parts.push(format!("output: {}", shown(&o)));
    }
    if let Some(s) = e.http_status {
        parts.push(format!("HTTP {s}"));
    }
    format!("- {} ({}): {}", m.method, m.status.as_str(), parts.join("; "))
}

struct Subject<'a> {
    dep: &'a Dependency,
    result: &'a DepResult,
    consumer: String,
    provider: String,
}

impl Subject<'_> {
    fn needs(&self) -> String {
        match self.dep.version_constraint.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(c) => format!("{} {}", shown(&self.provider), shown(c)),
            None => shown(&self.provider),
        }
    }

    fn title(&self) -> String {
        format!("{} unsatisfied: {} needs {}", self.dep.id, shown(&self.consumer), self.needs())
    }

    fn description(&self) -> String {
        let mut s = format!(
            "{} needs {} ({} dependency {}), and `git coord check-deps` finds it unsatisfied.\n\nWhy: {}\n\nEvidence:\n",
            shown(&self.consumer),
            self.needs(),
            shown(self.dep.dep_type.as_str()),
            self.dep.id,
            shown(&self.result.reason)
        );
        for m in &self.result.methods {
            s.push_str(&evidence_line(m));
            s.push('\n');
        }
        s.push_str(
            "\nRaised by git-coord's dependency check (`raise_issues`), which keeps this evidence up to date and resolves \
             the issue once the dependency is satisfied again.",
        );
        s
    }

    fn note(&self, word: &str) -> Value {
        let why = match self.result.status {
            Verdict::Satisfied => format!("{} is satisfied: {}", self.dep.id, shown(&self.result.reason)),
            Verdict::Unsatisfied => format!("{} is unsatisfied again: {}", self.dep.id, shown(&self.result.reason)),
            Verdict::Deprecated => format!("{} is deprecated and no longer checked", self.dep.id),
            Verdict::Unknown => format!("{}: {}", self.dep.id, shown(&self.result.reason)),
        };
        Value::String(format!("{}: {word} by git coord check-deps: {why}", day()))
    }
}

fn add_note(issue: &mut Issue, note: Value) {
    match issue.metadata.get_mut(NOTES_KEY) {
        Some(Value::Sequence(list)) => list.push(note),
        _ => {
            issue.metadata.insert(NOTES_KEY.into(), Value::Sequence(vec![note]));
        }
    }
}

/// Opens, updates, reopens, resolves or closes the issue of every checked
/// dependency whose verdict calls for it (unknown verdicts change nothing).
/// Returns what was written, in dependency order.
pub fn raise_issues(store: &Store, report: &CheckReport) -> Result<Vec<IssueChange>> {
    ops::ensure_enabled(store)?;
    let loaded = store.load(&[Kind::Issue, Kind::Dependency])?;
    let reg = &loaded.registry;
    let mut changes = Vec::new();
    for result in &report.results {
        let Some(Entity::Dependency(dep)) = loaded.get(Kind::Dependency, &result.id).map(|r| &r.entity) else {
            continue;
        };
        let subject = Subject {
            dep,
            result,
            consumer: reg.canonical(&dep.consumer).to_string(),
            provider: reg.canonical(&dep.provider).to_string(),
        };
        let existing = linked(&loaded, &dep.id).map(|i| i.id.clone());
        let change = match (result.status, existing) {
            (Verdict::Unsatisfied, None) => create(store, &subject)?,
            (Verdict::Unsatisfied, Some(id)) => unsatisfied(store, &subject, &id)?,
            (Verdict::Satisfied, Some(id)) => finish(store, &subject, &id, IssueAction::Resolved)?,
            (Verdict::Deprecated, Some(id)) => finish(store, &subject, &id, IssueAction::Closed)?,
            _ => None,
        };
        changes.extend(change);
    }
    Ok(changes)
}

fn change(store: &Store, s: &Subject<'_>, o: &ops::Outcome, action: IssueAction) -> Option<IssueChange> {
    (o.mode != WriteMode::Unchanged).then(|| IssueChange {
        issue: o.entity.id().to_string(),
        dependency: s.dep.id.clone(),
        action,
        path: store.rel(&o.path).display().to_string(),
        status: s.result.status,
        reason: shown(&s.result.reason),
    })
}

fn create(store: &Store, s: &Subject<'_>) -> Result<Option<IssueChange>> {
    // Another run may have raised it since this one looked: under the lock,
    // look again, and update that one instead of raising a second.
    let mut raced = None;
    let created = ops::create_with(store, Kind::Issue, |entity, _refs| {
        if let Some(i) = linked(&store.load(&[Kind::Issue])?, &s.dep.id) {
            raced = Some(i.id.clone());
            return Err(Refusal::AlreadyLinked { dep: s.dep.id.clone(), issue: i.id.clone() }.into());
        }
        let Entity::Issue(i) = entity else { unreachable!("a blank issue") };
        i.title = s.title();
        i.description = Some(s.description());
        i.priority = Lenient::Known(priority_for(s.dep.dep_type.known()));
        i.repos = vec![s.consumer.clone()];
        if !s.provider.eq_ignore_ascii_case(&s.consumer) {
            i.repos.push(s.provider.clone());
        }
        i.labels = vec![LABEL.to_string()];
        i.metadata.insert(LINK_KEY.into(), Value::String(s.dep.id.clone()));
        Ok(())
    });
    match (created, raced) {
        (Ok(o), _) => Ok(change(store, s, &o, IssueAction::Created)),
        (Err(_), Some(id)) => unsatisfied(store, s, &id),
        (Err(e), None) => Err(e),
    }
}

/// Keeps an open issue's evidence current; reopens a finished one.
fn unsatisfied(store: &Store, s: &Subject<'_>, id: &str) -> Result<Option<IssueChange>> {
    let mut action = IssueAction::Updated;
    let o = ops::update_with(store, Kind::Issue, id, ops::Rewrite::Refused, |entity, refs| {
        let Entity::Issue(i) = entity else { unreachable!("an issue") };
        if i.status.known() == Some(IssueStatus::Closed) {
            // Closed (not resolved) by a person: a decision to leave it be.
            return Ok(());
        }
        if !i.is_open() {
            action = IssueAction::Reopened;
            i.status = Lenient::Known(IssueStatus::Pending);
            i.title = s.title();
            add_note(i, s.note("reopened"));
        }
        i.description = Some(s.description());
        for r in [&s.consumer, &s.provider] {
            if !i.repos.iter().any(|x| refs.registry().same(x, r)) {
                i.repos.push(r.clone());
            }
        }
        Ok(())
    })?;
    Ok(change(store, s, &o, action))
}

/// Resolves (satisfied) or closes (deprecated) an open issue, with a note.
fn finish(store: &Store, s: &Subject<'_>, id: &str, action: IssueAction) -> Result<Option<IssueChange>> {
    let o = ops::update_with(store, Kind::Issue, id, ops::Rewrite::Refused, |entity, _refs| {
        let Entity::Issue(i) = entity else { unreachable!("an issue") };
        if i.is_open() {
            let (status, word) = match action {
                IssueAction::Closed => (IssueStatus::Closed, "closed"),
                _ => (IssueStatus::Resolved, "resolved"),
            };
            i.status = Lenient::Known(status);
            add_note(i, s.note(word));
        }
        Ok(())
    })?;
    Ok(change(store, s, &o, action))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_follow_the_dependency_type() {
        assert_eq!(priority_for(Some(DepType::Runtime)), Priority::High);
        assert_eq!(priority_for(Some(DepType::Mcp)), Priority::High);
        assert_eq!(priority_for(Some(DepType::Development)), Priority::Medium);
        assert_eq!(priority_for(Some(DepType::Test)), Priority::Low);
        assert_eq!(priority_for(Some(DepType::Documentation)), Priority::Low);
        assert_eq!(priority_for(None), Priority::Medium);
    }
}
