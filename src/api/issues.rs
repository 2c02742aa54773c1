//! Issue operations: create, update, close, reopen (list, show and delete are
//! in [`super::entities`]).

use super::fields::{day, edit, existing, ids, not_self, opt_text, repos, required, targets};
use super::types::{Day, Id, MetaEntry, Settable};
use super::{FieldErrors, Operation, Written};
use crate::error::{FieldError, Result};
use crate::model::refs::ISSUE_REFS;
use crate::model::*;
use crate::ops::{self, Refs};
use crate::store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

/// Create a cross-repository issue.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIssue {
    /// One-line title.
    #[arg(long)]
    pub title: String,
    /// Longer description.
    #[arg(long)]
    #[serde(default)]
    pub description: Option<String>,
    /// Affected repositories (names or nicknames; at least one).
    #[arg(long, value_delimiter = ',', required = true)]
    pub repos: Vec<String>,
    /// Priority (default medium; P0..P3 accepted).
    #[arg(long)]
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Free-text severity (default `normal`).
    #[arg(long)]
    #[serde(default)]
    pub severity: Option<String>,
    /// Initial status (default pending).
    #[arg(long)]
    #[serde(default)]
    pub status: Option<IssueStatus>,
    /// Target date (YYYY-MM-DD, or relative: `tomorrow`, `+2w`, `next monday`).
    #[arg(long)]
    #[serde(default)]
    pub target: Option<Day>,
    /// Who owns it.
    #[arg(long)]
    #[serde(default)]
    pub assignee: Option<String>,
    /// Labels (comma-separated or repeated).
    #[arg(long = "label", value_delimiter = ',')]
    #[serde(default)]
    pub labels: Vec<String>,
    /// Issues this one depends on.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub depends_on: Vec<Id>,
    /// Issues, todos or plans this issue blocks.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub blocking: Vec<Id>,
    /// Metadata `key=value` (repeatable).
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    #[serde(default)]
    pub metadata: Vec<MetaEntry>,
}

/// Update an issue: only the given fields change (plus `updated`).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIssue {
    /// Issue ID.
    pub id: Id,
    /// New title.
    #[arg(long)]
    #[serde(default)]
    pub title: Option<String>,
    /// New description (`""` clears it).
    #[arg(long)]
    #[serde(default)]
    pub description: Option<String>,
    /// New status (aliases accepted).
    #[arg(long)]
    #[serde(default)]
    pub status: Option<IssueStatus>,
    /// New priority (P0..P3 accepted).
    #[arg(long)]
    #[serde(default)]
    pub priority: Option<Priority>,
    /// New severity (`""` resets it to `normal`).
    #[arg(long)]
    #[serde(default)]
    pub severity: Option<String>,
    /// New assignee (`""` clears it).
    #[arg(long)]
    #[serde(default)]
    pub assignee: Option<String>,
    /// Target date, YYYY-MM-DD or relative (`+2w`); `""` clears it.
    #[arg(long)]
    #[serde(default)]
    pub target: Option<Settable<Day>>,
    /// Labels to add.
    #[arg(long = "add-label", value_delimiter = ',')]
    #[serde(default)]
    pub add_labels: Vec<String>,
    /// Labels to remove.
    #[arg(long = "remove-label", value_delimiter = ',')]
    #[serde(default)]
    pub remove_labels: Vec<String>,
    /// Repositories to add.
    #[arg(long = "add-repo", value_delimiter = ',')]
    #[serde(default)]
    pub add_repos: Vec<String>,
    /// Repositories to remove (at least one must remain).
    #[arg(long = "remove-repo", value_delimiter = ',')]
    #[serde(default)]
    pub remove_repos: Vec<String>,
    /// Issues to add to `dependencies`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub depends_on: Vec<Id>,
    /// Issues to remove from `dependencies`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub no_depends_on: Vec<Id>,
    /// Entities to add to `blocking`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub blocking: Vec<Id>,
    /// Entities to remove from `blocking`.
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub unblock: Vec<Id>,
    /// Metadata `key=value` to set (`key=` removes the key).
    #[arg(long = "meta", value_name = "KEY=VALUE")]
    #[serde(default)]
    pub metadata: Vec<MetaEntry>,
    /// When no minimal edit is possible (the file uses YAML anchors/aliases,
    /// or a construct the line editor cannot handle), rewrite the file in
    /// canonical form even though that drops its comments and anchors.
    /// Without it such an update is refused and nothing changes.
    #[arg(long)]
    #[serde(default)]
    pub rewrite: bool,
}

/// Close an issue: status `closed`, or `resolved`.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseIssue {
    /// Issue ID.
    pub id: Id,
    /// Mark it resolved rather than closed.
    #[arg(long)]
    #[serde(default)]
    pub resolved: bool,
    /// Allow a canonical rewrite that drops comments or anchors (see
    /// `update-issue`).
    #[arg(long)]
    #[serde(default)]
    pub rewrite: bool,
}

/// Reopen an issue: status `pending`, or `in_progress`.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenIssue {
    /// Issue ID.
    pub id: Id,
    /// Reopen as in_progress instead of pending.
    #[arg(long)]
    #[serde(default)]
    pub in_progress: bool,
    /// Allow a canonical rewrite that drops comments or anchors (see
    /// `update-issue`).
    #[arg(long)]
    #[serde(default)]
    pub rewrite: bool,
}

fn issue(e: &mut Entity) -> &mut Issue {
    match e {
        Entity::Issue(i) => i,
        _ => unreachable!("an issue"),
    }
}

/// The reference lists of an issue: `dependencies` and `blocking` edits.
fn references(
    i: &mut Issue,
    refs: &mut Refs<'_>,
    (add_deps, rm_deps): (&[Id], &[Id]),
    (add_blocking, rm_blocking): (&[Id], &[Id]),
    errs: &mut FieldErrors,
) -> Result<()> {
    let add = existing(refs, "depends_on", add_deps, targets(ISSUE_REFS, "dependencies"), errs)?;
    not_self(&i.id, "depends_on", &add, errs);
    edit(&mut i.dependencies, add, &ids(rm_deps));
    let add = existing(refs, "blocking", add_blocking, targets(ISSUE_REFS, "blocking"), errs)?;
    not_self(&i.id, "blocking", &add, errs);
    edit(&mut i.blocking, add, &ids(rm_blocking));
    Ok(())
}

fn metadata(i: &mut Issue, entries: &[MetaEntry]) {
    for m in entries {
        if m.value.is_empty() {
            i.metadata.remove(m.key.as_str());
        } else {
            i.metadata.insert(m.key.as_str().into(), serde_yaml::Value::String(m.value.clone()));
        }
    }
}

impl Operation for CreateIssue {
    const COMMAND: &'static str = "create-issue";
    const TOOL: &'static str = "coord_create_issue";
    const SUMMARY: &'static str = "Create an issue; returns its allocated ID and file.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let o = ops::create_with(store, Kind::Issue, |entity, refs| {
            let i = issue(entity);
            let mut errs = FieldErrors::default();
            i.title = required("title", &self.title, &mut errs);
            i.description = self.description.as_deref().and_then(opt_text);
            i.repos = repos(refs, "repos", &self.repos, &mut errs);
            if self.repos.is_empty() {
                errs.push(FieldError::new("repos", "an issue needs at least one repository"));
            }
            if let Some(p) = self.priority {
                i.priority = Lenient::Known(p);
            }
            if let Some(s) = &self.severity
                && !s.trim().is_empty()
            {
                i.severity = s.clone();
            }
            if let Some(s) = self.status {
                i.status = Lenient::Known(s);
            }
            i.target = self.target.and_then(day);
            i.assignee = self.assignee.as_deref().and_then(opt_text);
            edit(&mut i.labels, self.labels.clone(), &[]);
            references(i, refs, (&self.depends_on, &[]), (&self.blocking, &[]), &mut errs)?;
            metadata(i, &self.metadata);
            errs.finish()
        })?;
        Written::from_outcome(store, &o)
    }
}

impl UpdateIssue {
    /// True when no change is asked for.
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.status.is_none()
            && self.priority.is_none()
            && self.severity.is_none()
            && self.assignee.is_none()
            && self.target.is_none()
            && self.add_labels.is_empty()
            && self.remove_labels.is_empty()
            && self.add_repos.is_empty()
            && self.remove_repos.is_empty()
            && self.depends_on.is_empty()
            && self.no_depends_on.is_empty()
            && self.blocking.is_empty()
            && self.unblock.is_empty()
            && self.metadata.is_empty()
    }
}

impl Operation for UpdateIssue {
    const COMMAND: &'static str = "update-issue";
    const TOOL: &'static str = "coord_update_issue";
    const SUMMARY: &'static str = "Update an issue: only the given fields change.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let o = ops::update_with(store, Kind::Issue, &self.id.0, self.rewrite.into(), |entity, refs| {
            let i = issue(entity);
            let mut errs = FieldErrors::default();
            if let Some(t) = &self.title {
                i.title = required("title", t, &mut errs);
            }
            if let Some(d) = &self.description {
                i.description = opt_text(d);
            }
            if let Some(s) = self.status {
                i.status = Lenient::Known(s);
            }
            if let Some(p) = self.priority {
                i.priority = Lenient::Known(p);
            }
            if let Some(s) = &self.severity {
                i.severity = if s.trim().is_empty() { "normal".into() } else { s.clone() };
            }
            if let Some(a) = &self.assignee {
                i.assignee = opt_text(a);
            }
            if let Some(t) = &self.target {
                i.target = t.clone().into_option().and_then(day);
            }
            edit(&mut i.labels, self.add_labels.clone(), &self.remove_labels);
            let add = repos(refs, "add_repos", &self.add_repos, &mut errs);
            let remove: Vec<String> = self.remove_repos.iter().map(|r| refs.canonical_repo(r)).collect();
            edit(&mut i.repos, add, &remove);
            if i.repos.is_empty() {
                errs.push(FieldError::new("remove_repos", "an issue needs at least one repository"));
            }
            references(i, refs, (&self.depends_on, &self.no_depends_on), (&self.blocking, &self.unblock), &mut errs)?;
            metadata(i, &self.metadata);
            errs.finish()
        })?;
        Written::from_outcome(store, &o)
    }
}

fn set_status(store: &Store, id: &Id, status: IssueStatus, rewrite: bool) -> Result<Written> {
    let o = ops::update_with(store, Kind::Issue, &id.0, rewrite.into(), |entity, _| {
        issue(entity).status = Lenient::Known(status);
        Ok(())
    })?;
    Written::from_outcome(store, &o)
}

impl Operation for CloseIssue {
    const COMMAND: &'static str = "close-issue";
    const TOOL: &'static str = "coord_close_issue";
    const SUMMARY: &'static str = "Close an issue (or mark it resolved with resolved: true).";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let status = if self.resolved { IssueStatus::Resolved } else { IssueStatus::Closed };
        set_status(store, &self.id, status, self.rewrite)
    }
}

impl Operation for ReopenIssue {
    const COMMAND: &'static str = "reopen-issue";
    const TOOL: &'static str = "coord_reopen_issue";
    const SUMMARY: &'static str = "Reopen an issue: status pending (or in_progress with in_progress: true).";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let status = if self.in_progress { IssueStatus::InProgress } else { IssueStatus::Pending };
        set_status(store, &self.id, status, self.rewrite)
    }
}
