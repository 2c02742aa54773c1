//! The operations every kind has: list (with the filters of
//! [`crate::query`], checked before anything is loaded — by construction,
//! since each kind's request has only the filters that apply to it and its
//! values parse when the request is built), show (as it is, or at a
//! revision), delete (refused while referenced unless forced), and renumber
//! (entities and milestones).

use super::types::{Id, terms};
use super::{Operation, entity_json};
use crate::error::{Error, FieldError, Result};
use crate::model::id::{canonical_lookup, normalise_id};
use crate::model::*;
use crate::ops::Referrer;
use crate::problem::Problem;
use crate::store::{Loaded, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Entities found by a list operation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Listed {
    /// How many matched.
    pub count: usize,
    /// Every matching entity, with every field (the field names of its file).
    pub items: Vec<serde_json::Value>,
    /// Files that could not be read and were skipped, and other load warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One entity, with every field.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Shown {
    /// Its ID.
    pub id: String,
    /// Its kind (`issue`, `plan`, `todo`, `dependency`).
    pub kind: String,
    /// Its file, relative to the coordination root.
    pub path: String,
    /// The entity, with the field names of its file.
    pub entity: serde_json::Value,
    /// What is computed about it: blockers, what it blocks, ready/blocked,
    /// linked todos and progress, its plan/milestone, the last change
    /// (absent with `at`, which shows a past version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relations: Option<crate::graph::relations::Relations>,
    /// Problems found reading it (an unknown status, a bad date…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The result of a delete.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Deleted {
    /// The entity's ID.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// The file removed, relative to the coordination root.
    pub path: String,
    /// Always true: the file was removed.
    pub changed: bool,
    /// The entity as it was.
    pub entity: serde_json::Value,
    /// References to it that a forced delete left dangling (`lint` reports
    /// them until they are removed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dangling: Vec<Referrer>,
}

/// The result of a renumbering.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Renumbered {
    /// What was renumbered (`issue`, `milestone`, …).
    pub kind: String,
    /// The old ID.
    pub from: String,
    /// The new ID.
    pub to: String,
    /// Entities whose references were rewritten.
    pub rewritten: Vec<String>,
    /// Warnings (an out-of-range ID the allocator ignored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The load problems a reader should hear about: files skipped as unreadable,
/// and legacy items overridden by a file.
pub fn load_warnings(problems: &[Problem]) -> Vec<String> {
    let skipped = problems
        .iter()
        .filter(|p| matches!(p.code, "yaml" | "io" | "id" | "limit" | "key" | "file-type"))
        .map(|p| format!("skipped unreadable entity: {p}"));
    let overridden = problems.iter().filter(|p| p.code == "override").map(|p| p.to_string());
    skipped.chain(overridden).collect()
}

/// The registry's canonical name for a repository filter; an unknown one is
/// a problem with `field` (with a did-you-mean), never a silent empty list.
fn repo_filter(loaded: &Loaded, field: &str, names: &[String], errs: &mut super::FieldErrors) {
    for r in names {
        if !loaded.registry.is_empty()
            && let Err(e) = loaded.registry.resolve(r)
        {
            errs.push(e.on_field(field).value(r.clone()));
        }
    }
}

/// Loads `kind`, checks the repository filters, keeps what `keep` and the
/// list options accept (open items unless `all`; `@me` resolved), sorts and
/// truncates ([`super::listing`]).
fn list(
    store: &Store,
    kind: Kind,
    mut filters: crate::query::Filters,
    repo_fields: &[(&str, &Vec<String>)],
    opts: super::listing::ListOptions<'_>,
    keep: impl Fn(&Entity, &Loaded) -> bool,
) -> Result<Listed> {
    opts.check()?;
    // The assignee filter is applied here, where `@me` can stand for
    // several identities.
    let who = super::listing::assignees(store, "assignee", &std::mem::take(&mut filters.assignee))?;
    // With a status filter, the index leaves the other statuses undecoded.
    let loaded = match filters.status.is_empty() {
        true => store.load(&[kind])?,
        false => store.load_with_status(kind, &filters.status)?,
    };
    let mut errs = super::FieldErrors::default();
    for (field, value) in repo_fields {
        repo_filter(&loaded, field, value, &mut errs);
    }
    errs.finish()?;
    let mut items = Vec::new();
    for rec in loaded.records(kind) {
        let e = &rec.entity;
        if filters.matches(e, &loaded)?
            && who.as_deref().is_none_or(|w| super::listing::assigned_to(e, w))
            && opts.shows(e)
            && keep(e, &loaded)
        {
            items.push(entity_json(e)?);
        }
    }
    opts.finish(&mut items);
    Ok(Listed { count: items.len(), items, warnings: load_warnings(&loaded.problems) })
}

/// The list options of a request.
macro_rules! list_options {
    ($req:expr) => {
        super::listing::ListOptions {
            all: $req.all,
            status_given: !$req.status.is_empty(),
            sort: $req.sort.as_deref(),
            limit: $req.limit,
        }
    };
}

fn words<T: Vocab>(v: &[T]) -> Vec<String> {
    v.iter().map(|x| x.as_str().to_string()).collect()
}

/// List cross-repository issues; the filters combine with AND.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListIssues {
    /// Only these statuses (comma-separated; aliases accepted).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub status: Vec<IssueStatus>,
    /// Only these priorities (comma-separated; P0..P3 accepted).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub priority: Vec<Priority>,
    /// Only issues of these repositories (names or nicknames; repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub repo: Vec<String>,
    /// Only issues assigned to one of these people (repeatable,
    /// comma-separated; `@me`: `git config coord.user`, else your
    /// `user.email` or `user.name`).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub assignee: Vec<String>,
    /// Only issues with one of these labels (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub label: Vec<String>,
    /// Include finished items too (by default a list shows open items
    /// only, unless `status` names the statuses wanted).
    #[arg(long)]
    #[serde(default)]
    pub all: bool,
    /// Sort by this field (`priority`, `created`, `updated`, `target`, `id`,
    /// `status`, `title`, `task`, `repo`, `assignee`, `estimated_hours`,
    /// `consumer`, `provider`); `-FIELD` sorts descending.
    #[arg(long, allow_hyphen_values = true, value_name = "FIELD")]
    #[serde(default)]
    pub sort: Option<String>,
    /// Show at most N items (after sorting).
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub limit: Option<usize>,
}

impl Operation for ListIssues {
    const COMMAND: &'static str = "list-issues";
    const TOOL: &'static str = "coord_list_issues";
    const SUMMARY: &'static str =
        "List cross-repo issues (every field), filtered by status, priority, repo, assignee, label.";
    const WRITES: bool = false;
    type Output = Listed;

    fn run(&self, store: &Store) -> Result<Listed> {
        let filters = crate::query::Filters {
            status: words(&self.status),
            priority: words(&self.priority),
            repo: self.repo.clone(),
            assignee: self.assignee.clone(),
            label: self.label.clone(),
        };
        list(store, Kind::Issue, filters, &[("repo", &self.repo)], list_options!(self), |_, _| true)
    }
}

/// List plans; the filters combine with AND.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListPlans {
    /// Only these statuses (comma-separated; aliases accepted).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub status: Vec<PlanStatus>,
    /// Only plans naming one of these repositories (names or nicknames;
    /// repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub repo: Vec<String>,
    /// Include finished items too (by default a list shows open items
    /// only, unless `status` names the statuses wanted).
    #[arg(long)]
    #[serde(default)]
    pub all: bool,
    /// Sort by this field (`priority`, `created`, `updated`, `target`, `id`,
    /// `status`, `title`, `task`, `repo`, `assignee`, `estimated_hours`,
    /// `consumer`, `provider`); `-FIELD` sorts descending.
    #[arg(long, allow_hyphen_values = true, value_name = "FIELD")]
    #[serde(default)]
    pub sort: Option<String>,
    /// Show at most N items (after sorting).
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub limit: Option<usize>,
}

impl Operation for ListPlans {
    const COMMAND: &'static str = "list-plans";
    const TOOL: &'static str = "coord_list_plans";
    const SUMMARY: &'static str = "List plans with their milestones (every field), filtered by status and repo.";
    const WRITES: bool = false;
    type Output = Listed;

    fn run(&self, store: &Store) -> Result<Listed> {
        let filters =
            crate::query::Filters { status: words(&self.status), repo: self.repo.clone(), ..Default::default() };
        list(store, Kind::Plan, filters, &[("repo", &self.repo)], list_options!(self), |_, _| true)
    }
}

/// List todos; the filters combine with AND.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListTodos {
    /// Only these statuses (comma-separated; aliases accepted).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub status: Vec<TodoStatus>,
    /// Only these priorities (comma-separated; P0..P3 accepted).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub priority: Vec<Priority>,
    /// Only todos of these repositories (names or nicknames; repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub repo: Vec<String>,
    /// Only todos assigned to one of these people (repeatable,
    /// comma-separated; `@me`: `git config coord.user`, else your
    /// `user.email` or `user.name`).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub assignee: Vec<String>,
    /// Only todos with one of these labels (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub label: Vec<String>,
    /// Only todos of these plans (`plan-1` matches PLAN-001; repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub plan: Vec<String>,
    /// Only todos linked to one of these issues (repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub issue: Vec<String>,
    /// Include finished items too (by default a list shows open items
    /// only, unless `status` names the statuses wanted).
    #[arg(long)]
    #[serde(default)]
    pub all: bool,
    /// Sort by this field (`priority`, `created`, `updated`, `target`, `id`,
    /// `status`, `title`, `task`, `repo`, `assignee`, `estimated_hours`,
    /// `consumer`, `provider`); `-FIELD` sorts descending.
    #[arg(long, allow_hyphen_values = true, value_name = "FIELD")]
    #[serde(default)]
    pub sort: Option<String>,
    /// Show at most N items (after sorting).
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Whether a stored link names the ID asked for: case and zero padding do
/// not matter (`plan-1` matches `PLAN-001`), as for show.
fn same_id(link: Option<&str>, want: &str, prefix: &str) -> bool {
    let Some(link) = link else { return false };
    link.eq_ignore_ascii_case(want)
        || normalise_id(want, prefix).is_some_and(|w| canonical_lookup(link, prefix) == Some(w))
}

impl Operation for ListTodos {
    const COMMAND: &'static str = "list-todos";
    const TOOL: &'static str = "coord_list_todos";
    const SUMMARY: &'static str =
        "List todos (every field), filtered by status, priority, repo, assignee, label, plan, issue.";
    const WRITES: bool = false;
    type Output = Listed;

    fn run(&self, store: &Store) -> Result<Listed> {
        let filters = crate::query::Filters {
            status: words(&self.status),
            priority: words(&self.priority),
            repo: self.repo.clone(),
            assignee: self.assignee.clone(),
            label: self.label.clone(),
        };
        let (plan_prefix, issue_prefix) = (store.prefix(Kind::Plan), store.prefix(Kind::Issue));
        list(store, Kind::Todo, filters, &[("repo", &self.repo)], list_options!(self), |e, _| {
            let Entity::Todo(t) = e else { return false };
            (self.plan.is_empty() || self.plan.iter().any(|p| same_id(t.plan_id.as_deref(), p, plan_prefix)))
                && (self.issue.is_empty() || self.issue.iter().any(|i| same_id(t.issue_id.as_deref(), i, issue_prefix)))
        })
    }
}

/// List inter-repository dependencies; the filters combine with AND.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDependencies {
    /// Only these statuses (comma-separated; aliases accepted).
    #[arg(long, value_delimiter = ',')]
    #[serde(default)]
    pub status: Vec<DepStatus>,
    /// Only dependencies with one of these repositories on either side
    /// (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub repo: Vec<String>,
    /// Only dependencies of these consumers (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub consumer: Vec<String>,
    /// Only dependencies on these providers (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "terms")]
    pub provider: Vec<String>,
    /// Include finished items too (by default a list shows open items
    /// only, unless `status` names the statuses wanted).
    #[arg(long)]
    #[serde(default)]
    pub all: bool,
    /// Sort by this field (`priority`, `created`, `updated`, `target`, `id`,
    /// `status`, `title`, `task`, `repo`, `assignee`, `estimated_hours`,
    /// `consumer`, `provider`); `-FIELD` sorts descending.
    #[arg(long, allow_hyphen_values = true, value_name = "FIELD")]
    #[serde(default)]
    pub sort: Option<String>,
    /// Show at most N items (after sorting).
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub limit: Option<usize>,
}

impl Operation for ListDependencies {
    const COMMAND: &'static str = "list-deps";
    const TOOL: &'static str = "coord_list_dependencies";
    const SUMMARY: &'static str =
        "List inter-repo dependencies (every field), filtered by status, repo (either side), consumer, provider.";
    const WRITES: bool = false;
    type Output = Listed;

    fn run(&self, store: &Store) -> Result<Listed> {
        let filters =
            crate::query::Filters { status: words(&self.status), repo: self.repo.clone(), ..Default::default() };
        let sides = [("repo", &self.repo), ("consumer", &self.consumer), ("provider", &self.provider)];
        list(store, Kind::Dependency, filters, &sides, list_options!(self), |e, loaded| {
            let Entity::Dependency(d) = e else { return false };
            let reg = &loaded.registry;
            let side_ok =
                |want: &[String], have: &str| want.is_empty() || want.iter().any(|w| reg.same(have, reg.canonical(w)));
            side_ok(&self.consumer, &d.consumer) && side_ok(&self.provider, &d.provider)
        })
    }
}

pub(crate) fn show(store: &Store, kind: Kind, id: &Id, at: Option<&str>) -> Result<Shown> {
    let rec = match at {
        Some(rev) => crate::history::diff::find_at(store, kind, &id.0, rev)?,
        None => crate::ops::find(store, kind, &id.0)?,
    };
    let relations = match at {
        Some(_) => None,
        None => relations(store, rec.entity.id())?,
    };
    Ok(Shown {
        id: rec.entity.id().to_string(),
        kind: kind.noun().to_string(),
        path: store.rel(rec.origin.path()).display().to_string(),
        entity: entity_json(&rec.entity)?,
        relations,
        warnings: rec.problems.iter().map(|p| p.to_string()).collect(),
    })
}

/// The computed relations of an entity, with its last change from history
/// when the root is in a git repository with commits (else none).
fn relations(store: &Store, id: &str) -> Result<Option<crate::graph::relations::Relations>> {
    // Slim entities from the index: relations read no free text.
    let loaded = store.load_for_graph(&Kind::ALL)?;
    let Some(mut r) = crate::graph::CoordGraph::build(&loaded).relations(id) else { return Ok(None) };
    if store.root.worktree.is_some() {
        let opts = crate::history::LogOptions { id: Some(id.to_string()), limit: Some(1), ..Default::default() };
        // No history (no commits yet, a shallow or odd repository) is not
        // an error for `show`: the relation is just absent.
        if let Ok(log) = crate::history::log(store, &opts)
            && let Some(c) = log.commits.into_iter().next()
        {
            r.last_change = Some(crate::graph::relations::LastChange {
                commit: c.commit.short,
                author: c.commit.author,
                date: c.commit.date,
                summary: c.commit.summary,
            });
        }
    }
    Ok(Some(r))
}

pub(super) fn delete(store: &Store, kind: Kind, id: &Id, force: bool) -> Result<Deleted> {
    let (rec, dangling) = crate::ops::delete(store, kind, &id.0, force)?;
    Ok(Deleted {
        id: rec.entity.id().to_string(),
        kind: kind.noun().to_string(),
        path: store.rel(rec.origin.path()).display().to_string(),
        changed: true,
        entity: entity_json(&rec.entity)?,
        dangling,
    })
}

macro_rules! show_op {
    ($name:ident, $kind:expr, $cmd:literal, $tool:literal, $summary:literal) => {
        #[doc = $summary]
        #[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The ID (`issue-1` finds ISSUE-001).
            pub id: Id,
            /// Show it as it was at this revision (`HEAD~3`, `main`, a tag, a commit).
            #[arg(long, value_name = "REV")]
            #[serde(default)]
            pub at: Option<String>,
        }

        impl Operation for $name {
            const COMMAND: &'static str = $cmd;
            const TOOL: &'static str = $tool;
            const SUMMARY: &'static str = $summary;
            const WRITES: bool = false;
            type Output = Shown;

            fn run(&self, store: &Store) -> Result<Shown> {
                show(store, $kind, &self.id, self.at.as_deref())
            }
        }
    };
}

show_op!(
    ShowIssue,
    Kind::Issue,
    "show-issue",
    "coord_get_issue",
    "Show one issue with every field (optionally as it was at a revision)."
);
show_op!(
    ShowPlan,
    Kind::Plan,
    "show-plan",
    "coord_get_plan",
    "Show one plan with its milestones (optionally as it was at a revision)."
);
show_op!(
    ShowTodo,
    Kind::Todo,
    "show-todo",
    "coord_get_todo",
    "Show one todo with every field (optionally as it was at a revision)."
);
show_op!(
    ShowDependency,
    Kind::Dependency,
    "show-dep",
    "coord_get_dependency",
    "Show one dependency with every field (optionally as it was at a revision)."
);

macro_rules! delete_op {
    ($name:ident, $kind:expr, $cmd:literal, $tool:literal, $summary:literal) => {
        #[doc = $summary]
        #[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The ID.
            pub id: Id,
            /// Delete even if other entities reference it (the references are
            /// left dangling and returned).
            #[arg(long)]
            #[serde(default)]
            pub force: bool,
        }

        impl Operation for $name {
            const COMMAND: &'static str = $cmd;
            const TOOL: &'static str = $tool;
            const SUMMARY: &'static str = $summary;
            const WRITES: bool = true;
            type Output = Deleted;

            fn run(&self, store: &Store) -> Result<Deleted> {
                delete(store, $kind, &self.id, self.force)
            }
        }
    };
}

delete_op!(
    DeleteIssue,
    Kind::Issue,
    "delete-issue",
    "coord_delete_issue",
    "Delete an issue (refused while others reference it, unless forced)."
);
delete_op!(
    DeleteTodo,
    Kind::Todo,
    "delete-todo",
    "coord_delete_todo",
    "Delete a todo (refused while others reference it, unless forced)."
);
delete_op!(
    DeleteDependency,
    Kind::Dependency,
    "delete-dep",
    "coord_delete_dependency",
    "Delete a dependency (refused while others reference it, unless forced)."
);

/// Give an entity (or milestone) a new ID — by default the next one free on
/// every branch — and rewrite every reference to it. The way out of an ID
/// collision between two branches.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Renumber {
    /// The ID to renumber (an issue, plan, todo, dependency or milestone).
    pub id: Id,
    /// The new ID (default: the next free one).
    #[arg(long)]
    #[serde(default)]
    pub to: Option<Id>,
}

impl Operation for Renumber {
    const COMMAND: &'static str = "renumber";
    const TOOL: &'static str = "coord_renumber";
    const SUMMARY: &'static str =
        "Give an entity or milestone a new ID (default: the next free one) and rewrite every reference to it.";
    const WRITES: bool = true;
    type Output = Renumbered;

    fn run(&self, store: &Store) -> Result<Renumbered> {
        let (id, to) = (self.id.0.as_str(), self.to.as_ref().map(|t| t.0.as_str()));
        let loaded = store.load(&Kind::ALL)?;
        let done = if let Some(kind) = Kind::ALL.into_iter().find(|k| loaded.get(*k, id).is_some()) {
            drop(loaded);
            crate::ops::renumber(store, kind, id, to)?
        } else if loaded.milestone(id).is_some() {
            drop(loaded);
            crate::ops::renumber::renumber_milestone(store, id, to)?
        } else {
            return Err(Error::Fields(vec![
                FieldError::new("id", format!("no issue, plan, todo, dependency or milestone `{id}`"))
                    .value(id.to_string()),
            ]));
        };
        Ok(Renumbered {
            kind: done.kind.to_string(),
            from: done.from,
            to: done.to,
            rewritten: done.rewritten,
            warnings: done.warnings.iter().map(|w| w.to_string()).collect(),
        })
    }
}
