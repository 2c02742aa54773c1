//! Issue operations: create, update, close, reopen (list, show and delete are
//! in [`super::entities`]).

use super::fields::{day, edit, existing, ids, not_self, opt_text, repos, required, targets};
use super::groups::{LabelEdit, RepoEdit, Rewrite};
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
pub struct CreateIssue {
    /// One-line title.
    #[arg(long)]
    pub title: String,
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: IssueFields,
    /// Affected repositories (names or nicknames; at least one).
    #[arg(long, value_delimiter = ',', required = true)]
    pub repos: Vec<String>,
    /// Target date (YYYY-MM-DD, or relative: `tomorrow`, `+2w`, `next monday`).
    #[arg(long)]
    #[serde(default)]
    pub target: Option<Day>,
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
pub struct UpdateIssue {
    /// Issue ID.
    pub id: Id,
    /// New title.
    #[arg(long)]
    #[serde(default)]
    pub title: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: IssueFields,
    /// Target date, YYYY-MM-DD or relative (`+2w`); `""` clears it.
    #[arg(long)]
    #[serde(default)]
    pub target: Option<Settable<Day>>,
    #[command(flatten)]
    #[serde(flatten)]
    pub labels: LabelEdit,
    #[command(flatten)]
    #[serde(flatten)]
    pub repos: RepoEdit,
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
    #[command(flatten)]
    #[serde(flatten)]
    pub rewrite: Rewrite,
}

/// Close an issue: status `closed`, or `resolved`.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct CloseIssue {
    /// Issue ID.
    pub id: Id,
    /// Mark it resolved rather than closed.
    #[arg(long)]
    #[serde(default)]
    pub resolved: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub rewrite: Rewrite,
}

/// Reopen an issue: status `pending`, or `in_progress`.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct ReopenIssue {
    /// Issue ID.
    pub id: Id,
    /// Reopen as in_progress instead of pending.
    #[arg(long)]
    #[serde(default)]
    pub in_progress: bool,
    #[command(flatten)]
    #[serde(flatten)]
    pub rewrite: Rewrite,
}

/// The fields creating and updating an issue share (on update, only the
/// given ones change).
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct IssueFields {
    /// Longer description (on update `""` clears it).
    #[arg(long)]
    #[serde(default)]
    pub description: Option<String>,
    /// Status (aliases accepted; a new issue starts pending).
    #[arg(long)]
    #[serde(default)]
    pub status: Option<IssueStatus>,
    /// Priority (P0..P3 accepted; a new issue starts medium).
    #[arg(long)]
    #[serde(default)]
    pub priority: Option<Priority>,
    /// Free-text severity (default `normal`; `""` resets it to that).
    #[arg(long)]
    #[serde(default)]
    pub severity: Option<String>,
    /// Who owns it (on update `""` clears it).
    #[arg(long)]
    #[serde(default)]
    pub assignee: Option<String>,
}

impl IssueFields {
    /// True when none is given.
    pub fn is_empty(&self) -> bool {
        self.description.is_none()
            && self.status.is_none()
            && self.priority.is_none()
            && self.severity.is_none()
            && self.assignee.is_none()
    }

    /// Sets the fields given.
    fn apply(&self, i: &mut Issue) {
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
    }
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
            self.fields.apply(i);
            i.repos = repos(refs, "repos", &self.repos, &mut errs);
            if self.repos.is_empty() {
                errs.push(FieldError::new("repos", "an issue needs at least one repository"));
            }
            i.target = self.target.and_then(day);
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
            && self.fields.is_empty()
            && self.target.is_none()
            && self.labels.is_empty()
            && self.repos.is_empty()
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
            self.fields.apply(i);
            if let Some(t) = &self.target {
                i.target = t.clone().into_option().and_then(day);
            }
            edit(&mut i.labels, self.labels.add_labels.clone(), &self.labels.remove_labels);
            let add = repos(refs, "add_repos", &self.repos.add_repos, &mut errs);
            let remove: Vec<String> = self.repos.remove_repos.iter().map(|r| refs.canonical_repo(r)).collect();
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

fn set_status(store: &Store, id: &Id, status: IssueStatus, rewrite: crate::ops::Rewrite) -> Result<Written> {
    let o = ops::update_with(store, Kind::Issue, &id.0, rewrite, |entity, _| {
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
        set_status(store, &self.id, status, self.rewrite.into())
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
        set_status(store, &self.id, status, self.rewrite.into())
    }
}
