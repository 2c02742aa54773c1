//! Full-text search ([`crate::index::search`]) as an operation: the query's
//! `field:value` terms and the list filters (`--status`, `--repo`, …)
//! combine with AND. It runs on the on-disk index, brought up to date with
//! the files first (only changed files are read); when the index is off
//! (`GIT_COORD_NO_CACHE=1`) or there is no git directory, on an index built
//! in memory from a full load — the same query, the same answer.
//!
//! Entities of the legacy `coordination:` section of `settings/ecosystem.yaml`
//! are not searched (they have no file of their own; `migrate` moves them).

use super::Operation;
use crate::error::{Error, FieldError, Result};
use crate::index::search::{self, MARK_END, MARK_START, Query};
use crate::model::Kind;
use crate::store::{Origin, Store};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Search titles, descriptions, tasks, notes, comments and labels.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Search {
    /// Words to find (all of them; `word*` matches a prefix), with optional
    /// `field:value` filters: status, repo, label, kind, priority, assignee
    /// (`login timeout status:pending repo:api`).
    pub query: String,
    /// Only these kinds (issue, plan, todo, dependency; comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub kind: Vec<String>,
    /// Only these statuses (comma-separated; aliases accepted).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub status: Vec<String>,
    /// Only entities of any of these repositories (names or nicknames;
    /// repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub repo: Vec<String>,
    /// Only entities with any of these labels (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub label: Vec<String>,
    /// Only these priorities (comma-separated; P0..P3 accepted).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub priority: Vec<String>,
    /// Only entities assigned to any of these people (repeatable,
    /// comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub assignee: Vec<String>,
    /// At most this many results (default 20).
    #[arg(long)]
    #[serde(default)]
    pub limit: Option<usize>,
}

/// One result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchHit {
    /// The entity's ID.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Its file, relative to the coordination root.
    pub path: String,
    /// Its title (a todo's task, a dependency's edge).
    pub title: String,
    /// Its status as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Its repositories as written.
    pub repos: Vec<String>,
    /// The best-matching passage; matches are between `**`.
    pub snippet: String,
    /// Relevance (BM25; higher is better, 0 without words to find).
    pub score: f64,
}

/// Search results, best first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SearchResults {
    /// How many results are listed.
    pub count: usize,
    /// The results.
    pub items: Vec<SearchHit>,
    /// Files that could not be read (not searched).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl Search {
    fn query(&self) -> Result<Query> {
        let mut q = Query::parse(&self.query).map_err(|e| {
            Error::Fields(vec![
                FieldError::new("query", format!("unknown filter `{}` (filters: {})", e.0, search::FIELDS.join(", ")))
                    .value(self.query.clone()),
            ])
        })?;
        for k in &self.kind {
            match Kind::ALL.iter().find(|x| x.noun() == k || x.dir_name() == k) {
                Some(x) => q.kinds.push(*x),
                None => {
                    return Err(Error::Fields(vec![
                        FieldError::new("kind", "expected issue, plan, todo or dependency").value(k.clone()),
                    ]));
                }
            }
        }
        q.status.extend(self.status.iter().cloned());
        q.priority.extend(self.priority.iter().cloned());
        // Values of one flag are alternatives (any of them), as in every
        // list filter; `field:value` terms of the query text each must hold.
        q.any_repo.extend(self.repo.iter().cloned());
        q.any_label.extend(self.label.iter().cloned());
        q.assignee.extend(self.assignee.iter().cloned());
        Ok(q)
    }
}

impl Operation for Search {
    const COMMAND: &'static str = "search";
    const TOOL: &'static str = "coord_search";
    const SUMMARY: &'static str = "Full-text search over issues, plans, todos and dependencies (BM25-ranked, \
                                   field:value filters), with a snippet of each match.";
    const WRITES: bool = false;
    type Output = SearchResults;

    fn run(&self, store: &Store) -> Result<SearchResults> {
        let q = self.query()?;
        let kinds: Vec<Kind> = if q.kinds.is_empty() { Kind::ALL.to_vec() } else { q.kinds.clone() };
        let limit = self.limit.unwrap_or(20);
        // The registry resolves repository names; nothing else is loaded here.
        let base = store.load(&[])?;
        for r in q.repo.iter().chain(&q.any_repo) {
            if !base.registry.is_empty() {
                base.registry.resolve(r).map_err(|e| Error::Fields(vec![e.on_field("repo").value(r)]))?;
            }
        }
        let reg = &base.registry;
        let has = |repos: &[String], want: &String| {
            let want = reg.canonical(want);
            repos.iter().any(|x| reg.canonical(x).eq_ignore_ascii_case(want))
        };
        let repo_ok = |repos: &[String]| {
            q.repo.iter().all(|want| has(repos, want))
                && (q.any_repo.is_empty() || q.any_repo.iter().any(|want| has(repos, want)))
        };
        let on_disk = match (store.root.git_dir(), store.root.prefix_in_repo()) {
            (Some(g), Some(prefix)) if !crate::index::disabled() => {
                // An index that could not be brought up to date (a busy or
                // unwritable file) must not answer: then the one in memory does.
                store.refresh_index(&kinds).and_then(|problems| {
                    crate::index::db::open(&g)
                        .and_then(|conn| search::run(&conn, &crate::index::root_key(&prefix), &q, limit, &repo_ok))
                        .map_err(|e| tracing::debug!(error = %e, "search falls back to an index in memory"))
                        .ok()
                        .map(|hits| (hits, problems))
                })
            }
            _ => None,
        };
        let (hits, problems) = match on_disk {
            Some(found) => found,
            None => {
                let loaded = store.load(&kinds)?;
                let files = kinds.iter().flat_map(|k| loaded.records(*k)).filter_map(|r| match &r.origin {
                    Origin::File(p) => Some((&r.entity, p.file_name()?.to_string_lossy().into_owned())),
                    Origin::Legacy(_) => None,
                });
                let hits = search::in_memory(files)
                    .and_then(|conn| search::run(&conn, "/", &q, limit, &repo_ok))
                    .map_err(|e| Error::system("search the entities in memory", e))?;
                (hits, loaded.problems)
            }
        };
        let items = hits
            .into_iter()
            .map(|h| SearchHit {
                path: store.rel(&store.kind_dir(h.kind).join(&h.name)).display().to_string(),
                id: h.id,
                kind: h.kind.noun().to_string(),
                title: h.title,
                status: h.status,
                repos: h.repos,
                snippet: h.snippet.replace([MARK_START, MARK_END], "**"),
                score: (h.score * 1000.0).round() / 1000.0,
            })
            .collect::<Vec<_>>();
        // Legacy items are not searched, so their overrides are no news here.
        let problems: Vec<_> = problems.into_iter().filter(|p| p.code != "override").collect();
        Ok(SearchResults { count: items.len(), items, warnings: super::entities::load_warnings(&problems) })
    }
}
