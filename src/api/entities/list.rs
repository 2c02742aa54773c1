//! The list operation of each kind, with the filters of [`crate::query`]
//! checked before anything is loaded — by construction, since each kind's
//! request has only the filters that apply to it and its values parse when
//! the request is built — then the shared list options
//! ([`crate::api::listing`]).

use super::{ListItem, Listed, load_warnings};
use crate::api::groups::{Listing, People};
use crate::api::types::terms;
use crate::api::{Operation, entity_json};
use crate::error::{Error, Result};
use crate::model::id::{canonical_lookup, normalise_id};
use crate::model::*;
use crate::store::{Loaded, Store};
use schemars::JsonSchema;
use serde::Deserialize;

/// The registry's canonical name for a repository filter; an unknown one is
/// a problem with `field` (with a did-you-mean), never a silent empty list.
fn repo_filter(loaded: &Loaded, field: &str, names: &[String], errs: &mut crate::api::FieldErrors) {
    for r in names {
        if !loaded.registry.is_empty()
            && let Err(e) = loaded.registry.resolve(r)
        {
            errs.push(e.on_field(field).value(r.clone()));
        }
    }
}

/// A kind's own filter (a todo's plan, a dependency's sides).
type Keep<'a> = dyn Fn(&Entity, &Loaded) -> bool + 'a;

/// Loads `kind`, checks the repository filters, keeps what `keep` and the
/// list options accept (open items unless `all`; `@me` resolved), sorts and
/// truncates ([`super::listing`]).
///
/// `keep` is `None` when the kind's own filters are all empty: then, with
/// only status and priority filters, the index answers
/// ([`Store::list_from_index`]) without an entity built.
fn list(
    store: &Store,
    kind: Kind,
    mut filters: crate::query::Filters,
    repo_fields: &[(&str, &Vec<String>)],
    opts: crate::api::listing::ListOptions<'_>,
    keep: Option<&Keep>,
) -> Result<Listed> {
    opts.check()?;
    // The assignee filter is applied here, where `@me` can stand for
    // several identities.
    let who = crate::api::listing::assignees(store, "assignee", &std::mem::take(&mut filters.assignee))?;
    if keep.is_none()
        && who.is_none()
        && filters.repo.is_empty()
        && filters.label.is_empty()
        && let Some(listed) = list_from_index(store, kind, &filters, opts)?
    {
        return Ok(listed);
    }
    // With a status filter, the index leaves the other statuses undecoded.
    let loaded = match filters.status.is_empty() {
        true => store.load(&[kind])?,
        false => store.load_with_status(kind, &filters.status)?,
    };
    let mut errs = crate::api::FieldErrors::default();
    for (field, value) in repo_fields {
        repo_filter(&loaded, field, value, &mut errs);
    }
    errs.finish()?;
    let mut items = Vec::new();
    for rec in loaded.records(kind) {
        let e = &rec.entity;
        if filters.matches(e, &loaded)?
            && who.as_deref().is_none_or(|w| crate::api::listing::assigned_to(e, w))
            && opts.shows(e)
            && keep.is_none_or(|keep| keep(e, &loaded))
        {
            items.push(ListItem::Value(entity_json(e)?));
        }
    }
    opts.finish(&mut items);
    Ok(Listed { count: items.len(), items, warnings: load_warnings(&loaded.problems) })
}

/// [`list`] answered from the index: only status and priority filters (and
/// the list options); `None` when the index does not answer.
fn list_from_index(
    store: &Store,
    kind: Kind,
    filters: &crate::query::Filters,
    opts: crate::api::listing::ListOptions<'_>,
) -> Result<Option<Listed>> {
    use crate::index::listing::Statuses;
    let finished = crate::api::listing::finished_statuses(kind);
    let statuses = match (filters.status.is_empty(), opts.all) {
        (false, _) => Statuses::Only(&filters.status),
        (true, true) => Statuses::Any,
        (true, false) => Statuses::Not(&finished),
    };
    let Some((loaded, found)) = store.list_from_index(kind, statuses, &filters.priority) else { return Ok(None) };
    // Each item: `Some(item)` listed, `None` filtered out. A row's JSON is
    // kept as stored (checked, not built into a tree) unless the list is
    // sorted by a field; a row that does not parse (never expected: the
    // index wrote it) is `Err(None)`, and then the files answer.
    let sorted = opts.sort.is_some();
    let item = |item: crate::store::IndexListed| -> std::result::Result<Option<ListItem>, Option<Error>> {
        match item {
            crate::store::IndexListed::Row(row) if sorted => {
                serde_json::from_str(&row.json).map(|v| Some(ListItem::Value(v))).map_err(|_| None)
            }
            crate::store::IndexListed::Row(row) => {
                serde_json::value::RawValue::from_string(row.json).map(|r| Some(ListItem::Stored(r))).map_err(|_| None)
            }
            crate::store::IndexListed::Legacy(rec) => {
                let shown = filters.matches(&rec.entity, &loaded).map_err(Some)? && opts.shows(&rec.entity);
                if shown { entity_json(&rec.entity).map(|v| Some(ListItem::Value(v))).map_err(Some) } else { Ok(None) }
            }
        }
    };
    // On every core, in order.
    use rayon::prelude::*;
    let parsed: Vec<_> = found.into_par_iter().map(item).collect();
    let mut items = Vec::with_capacity(parsed.len());
    for p in parsed {
        match p {
            Ok(v) => items.extend(v),
            Err(Some(e)) => return Err(e),
            Err(None) => return Ok(None),
        }
    }
    opts.finish(&mut items);
    Ok(Some(Listed { count: items.len(), items, warnings: load_warnings(&loaded.problems) }))
}

/// The list options of a request.
macro_rules! list_options {
    ($req:expr) => {
        crate::api::listing::ListOptions {
            all: $req.list.all,
            status_given: !$req.status.is_empty(),
            sort: $req.list.sort.as_deref(),
            limit: $req.list.limit,
        }
    };
}

fn words<T: Vocab>(v: &[T]) -> Vec<String> {
    v.iter().map(|x| x.as_str().to_string()).collect()
}

/// List cross-repository issues; the filters combine with AND.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
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
    #[command(flatten)]
    #[serde(flatten)]
    pub people: People,
    #[command(flatten)]
    #[serde(flatten)]
    pub list: Listing,
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
            assignee: self.people.assignee.clone(),
            label: self.people.label.clone(),
        };
        list(store, Kind::Issue, filters, &[("repo", &self.repo)], list_options!(self), None)
    }
}

/// List plans; the filters combine with AND.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
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
    #[command(flatten)]
    #[serde(flatten)]
    pub list: Listing,
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
        list(store, Kind::Plan, filters, &[("repo", &self.repo)], list_options!(self), None)
    }
}

/// List todos; the filters combine with AND.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
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
    #[command(flatten)]
    #[serde(flatten)]
    pub people: People,
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
    #[command(flatten)]
    #[serde(flatten)]
    pub list: Listing,
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
            assignee: self.people.assignee.clone(),
            label: self.people.label.clone(),
        };
        let (plan_prefix, issue_prefix) = (store.prefix(Kind::Plan), store.prefix(Kind::Issue));
        let keep = |e: &Entity, _: &Loaded| {
            let Entity::Todo(t) = e else { return false };
            (self.plan.is_empty() || self.plan.iter().any(|p| same_id(t.plan_id.as_deref(), p, plan_prefix)))
                && (self.issue.is_empty() || self.issue.iter().any(|i| same_id(t.issue_id.as_deref(), i, issue_prefix)))
        };
        let plain = self.plan.is_empty() && self.issue.is_empty();
        list(store, Kind::Todo, filters, &[("repo", &self.repo)], list_options!(self), (!plain).then_some(&keep))
    }
}

/// List inter-repository dependencies; the filters combine with AND.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
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
    #[command(flatten)]
    #[serde(flatten)]
    pub list: Listing,
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
        let keep = |e: &Entity, loaded: &Loaded| {
            let Entity::Dependency(d) = e else { return false };
            let reg = &loaded.registry;
            let side_ok =
                |want: &[String], have: &str| want.is_empty() || want.iter().any(|w| reg.same(have, reg.canonical(w)));
            side_ok(&self.consumer, &d.consumer) && side_ok(&self.provider, &d.provider)
        };
        let plain = self.consumer.is_empty() && self.provider.is_empty();
        list(store, Kind::Dependency, filters, &sides, list_options!(self), (!plain).then_some(&keep))
    }
}
