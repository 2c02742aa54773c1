//! `log`: the commits that changed coordination data (or one entity), newest
//! first, each with its field-level changes.
//!
//! Each commit is compared with its first parent; merge commits are skipped
//! (their changes are shown on the commits that made them, as `git log`
//! does). In a shallow clone the boundary commits are listed with a note
//! instead of showing everything they hold as created.

use super::changes::{Differ, EntityChange, Filter};
use super::repo::{CommitInfo, GitRepo, Side, State};
use crate::error::{Error, Result};
use crate::model::Kind;
use crate::model::id::canonical_lookup;
use crate::store::Store;
use gix::ObjectId;
use rayon::prelude::*;
use serde::Serialize;

/// What to show.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// One entity (any kind, or a milestone).
    pub id: Option<String>,
    /// A revision or range (`main`, `v1..HEAD`); default HEAD.
    pub rev: Option<String>,
    /// Only commits at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Only commits whose author name or email contains one of these (any
    /// case; empty: every author).
    pub author: Vec<String>,
    /// At most this many commits.
    pub limit: Option<usize>,
}

/// One commit and what it changed.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LogEntry {
    #[serde(flatten)]
    pub commit: CommitInfo,
    /// A shallow clone's boundary: its parents are not available, so its
    /// changes cannot be told.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub shallow_boundary: bool,
    pub changes: Vec<EntityChange>,
}

/// The log.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Log {
    /// The entity asked for (canonical ID).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub commits: Vec<LogEntry>,
    /// Versions that could not be parsed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Resolves a user-typed ID to (filter, canonical ID): `issue-7` → ISSUE-007;
/// a milestone ID selects plans and the milestone's fields.
pub fn entity_filter(store: &Store, id: &str) -> Result<(Filter, String)> {
    let p = &store.settings.id_prefixes;
    if let Some(ms) = canonical_lookup(id, &p.milestone) {
        return Ok((Filter { kinds: vec![Kind::Plan], id: None, milestone: Some(ms.clone()) }, ms));
    }
    for kind in Kind::ALL {
        if let Some(canon) = canonical_lookup(id, p.for_kind(kind)) {
            return Ok((Filter { kinds: vec![kind], id: Some(canon.clone()), milestone: None }, canon));
        }
    }
    crate::model::id::validate_id(id)?;
    // An ID outside the configured prefixes: look in every kind.
    Ok((Filter { kinds: Kind::ALL.to_vec(), id: Some(id.to_string()), milestone: None }, id.to_string()))
}

/// Whether a string looks like an entity ID (`ISSUE-001`, `todo-7`) rather
/// than a revision.
pub fn looks_like_id(store: &Store, s: &str) -> bool {
    let p = &store.settings.id_prefixes;
    Kind::ALL.iter().any(|k| canonical_lookup(s, p.for_kind(*k)).is_some())
        || canonical_lookup(s, &p.milestone).is_some()
}

/// Runs `log`.
pub fn log(store: &Store, opts: &LogOptions) -> Result<Log> {
    log_with(store, opts, &crate::progress::NoProgress)
}

/// The last commit reachable from HEAD that changed entity `id` (what
/// `show` gives as its last change): [`log`] with a limit of one. The
/// answer is kept in the index's memo ([`crate::index::memo`]) under HEAD's
/// commit ID, the root and the entity: the history below a commit never
/// changes, so a HEAD that did not move costs one lookup. Not kept in a
/// shallow repository, whose boundary a fetch can move.
pub fn last_change(store: &Store, id: &str) -> Result<Option<CommitInfo>> {
    let repo = GitRepo::open(store, "show")?;
    let Some(head) = repo.head()? else { return Ok(None) };
    let (_, canon) = entity_filter(store, id)?;
    let memo = match store.root.git_dir() {
        Some(g) if repo.shallow_boundary().is_empty() => Some(g),
        _ => None,
    };
    let key = format!("last1|{head}|{}|{canon}", store.root.prefix_in_repo().unwrap_or_default());
    if let Some(hit) = memo
        .as_deref()
        .and_then(|g| crate::index::memo::get(g, &key))
        .and_then(|v| serde_json::from_str::<Option<CommitInfo>>(&v).ok())
    {
        return Ok(hit);
    }
    let opts = LogOptions { id: Some(id.to_string()), limit: Some(1), ..Default::default() };
    let found = log(store, &opts)?.commits.into_iter().next().map(|e| e.commit);
    if let (Some(g), Ok(v)) = (memo.as_deref(), serde_json::to_string(&found)) {
        crate::index::memo::put(g, &key, &v);
    }
    Ok(found)
}

/// [`log`], reporting one step per commit compared (the commits of the
/// range are counted first; `--limit` ends it early).
pub fn log_with(store: &Store, opts: &LogOptions, progress: &dyn crate::progress::Progress) -> Result<Log> {
    let _done = crate::progress::Finish(progress);
    let repo = GitRepo::open(store, "log")?;
    let (filter, id) = match &opts.id {
        Some(id) => {
            let (f, canon) = entity_filter(store, id)?;
            (f, Some(canon))
        }
        None => (Filter::default(), None),
    };
    let (tips, hidden) = walk_bounds(&repo, opts.rev.as_deref())?;
    let mut out = Log { id, commits: Vec::new(), warnings: Vec::new() };
    if tips.is_empty() {
        return Ok(out);
    }
    let shallow = repo.shallow_boundary();
    let sorting = match opts.since {
        Some(seconds) => gix::revision::walk::Sorting::ByCommitTimeCutoff {
            order: gix::traverse::commit::simple::CommitTimeOrder::NewestFirst,
            seconds,
        },
        None => gix::revision::walk::Sorting::ByCommitTime(gix::traverse::commit::simple::CommitTimeOrder::NewestFirst),
    };
    let walk = repo.repo.rev_walk(tips).with_hidden(hidden).sorting(sorting).all().map_err(Error::git)?;
    // The walk itself is cheap; comparing trees is not. Commits are compared
    // with their parents in parallel, in contiguous runs (a run reuses each
    // parent's state and trees for the next commit, its parent in a linear
    // history), batch by batch so that `--limit` stops early.
    let mut todo: Vec<(ObjectId, Option<ObjectId>)> = Vec::new();
    for info in walk {
        let info = info.map_err(Error::git)?;
        if info.parent_ids.len() > 1 {
            continue;
        }
        todo.push((info.id, info.parent_ids.first().copied()));
    }
    let cx = Cx {
        store,
        opts,
        filter: &filter,
        shallow: &shallow,
        author: opts.author.iter().map(|a| a.to_lowercase()).collect(),
        progress,
        oldest_first: oldest_first(&repo, &todo)?,
    };
    let threads = rayon::current_num_threads().max(1);
    // A run starts with cold object caches, and a tree version not cached
    // costs its whole delta chain (up to 50 deltas in a packed repository),
    // while the next tree in a run is usually one delta away from the last:
    // without `--limit` the history is cut into a few long runs per thread.
    let run = match opts.limit {
        Some(_) => RUN,
        None => todo.len().div_ceil(threads * RUNS_PER_THREAD).max(RUN),
    };
    let batch = run * threads * RUNS_PER_THREAD;
    progress.start(todo.len() as u64, "reading history");
    for commits in todo.chunks(batch) {
        let runs: Vec<Result<(Vec<LogEntry>, Vec<String>)>> =
            commits.par_chunks(run).map(|run| compare_run(&cx, run)).collect();
        for r in runs {
            let (entries, warnings) = r?;
            out.warnings.extend(warnings);
            out.commits.extend(entries);
        }
        if opts.limit.is_some_and(|l| out.commits.len() >= l) {
            break;
        }
    }
    if let Some(l) = opts.limit {
        out.commits.truncate(l);
    }
    out.warnings.dedup();
    Ok(out)
}

/// Commits compared in one run on one thread (with `--limit`: the walk
/// stops after the batch that reaches it).
const RUN: usize = 48;

/// Runs per thread in a batch (without `--limit`, one batch: the whole
/// history; more than one run per thread balances the load).
const RUNS_PER_THREAD: usize = 2;

/// What every run needs.
struct Cx<'a> {
    store: &'a Store,
    opts: &'a LogOptions,
    filter: &'a Filter,
    shallow: &'a [ObjectId],
    author: Vec<String>,
    /// Told of each commit compared.
    progress: &'a dyn crate::progress::Progress,
    /// Compare each run's commits oldest first (see [`oldest_first`]).
    oldest_first: bool,
}

/// Whether to read history oldest first. Reading a tree not cached costs
/// its whole delta chain (up to 50 deltas, each a full copy of the tree),
/// but only one delta when its base was just read; whether bases are the
/// older or the newer versions depends on how the pack was made (git
/// fast-import and a repack reusing its deltas: older; a fresh `gc`:
/// usually newer). The trees of the newest and the oldest commit say which:
/// the side stored behind fewer deltas is read first.
fn oldest_first(repo: &GitRepo, todo: &[(ObjectId, Option<ObjectId>)]) -> Result<bool> {
    let (Some(newest), Some(oldest)) = (todo.first(), todo.last()) else { return Ok(false) };
    let depth = |id: ObjectId| -> Result<u32> {
        let st = repo.state(&Side::Commit(id))?;
        Ok(st.kind_trees.values().map(|t| repo.delta_depth(*t)).sum())
    };
    Ok(depth(newest.0)? > depth(oldest.0)?)
}

/// Compares each commit of a run with its first parent, on this thread's
/// own repository handle.
fn compare_run(cx: &Cx<'_>, run: &[(ObjectId, Option<ObjectId>)]) -> Result<(Vec<LogEntry>, Vec<String>)> {
    let repo = GitRepo::open(cx.store, "log")?;
    let mut differ = Differ::new(&repo);
    let mut out = Vec::new();
    // In a linear history the state just read is needed next: newest first,
    // a commit's parent is the next commit; oldest first, the commit is the
    // next one's parent.
    let mut cached: Option<(ObjectId, State)> = None;
    let order: Box<dyn Iterator<Item = &(ObjectId, Option<ObjectId>)>> =
        if cx.oldest_first { Box::new(run.iter().rev()) } else { Box::new(run.iter()) };
    for &(id, parent) in order {
        cx.progress.inc(1);
        let commit = repo.commit_info(id)?;
        if cx.opts.since.is_some_and(|s| commit.seconds < s) {
            continue;
        }
        let (name, email) = (commit.author.to_lowercase(), commit.email.to_lowercase());
        if !cx.author.is_empty() && !cx.author.iter().any(|a| name.contains(a) || email.contains(a)) {
            continue;
        }
        let mut take = |want: ObjectId| -> Result<State> {
            match cached.take() {
                Some((cid, st)) if cid == want => Ok(st),
                other => {
                    cached = other;
                    repo.state(&Side::Commit(want))
                }
            }
        };
        let state = take(id)?;
        let boundary = cx.shallow.contains(&id);
        let parent_state = match parent {
            _ if boundary => None,
            Some(p) => Some((p, take(p)?)),
            None => Some((id, State::default())),
        };
        let changes = match &parent_state {
            Some((_, ps)) => differ.changes(ps, &state, cx.filter)?,
            None => Vec::new(),
        };
        cached = if cx.oldest_first { Some((id, state)) } else { parent_state.filter(|(p, _)| Some(*p) == parent) };
        if changes.is_empty() && !boundary {
            continue;
        }
        out.push(LogEntry { commit, shallow_boundary: boundary, changes });
    }
    if cx.oldest_first {
        out.reverse();
    }
    Ok((out, std::mem::take(&mut differ.warnings)))
}

/// Tips to walk from and commits to hide, from a revision or range.
fn walk_bounds(repo: &GitRepo, rev: Option<&str>) -> Result<(Vec<ObjectId>, Vec<ObjectId>)> {
    let head_or =
        |s: &str| -> Result<Option<ObjectId>> { if s.is_empty() { repo.head() } else { repo.resolve(s).map(Some) } };
    match rev {
        None => Ok((repo.head()?.into_iter().collect(), Vec::new())),
        Some(r) => {
            if let Some((a, b)) = r.split_once("...") {
                let (a, b) = (head_or(a)?, head_or(b)?);
                let (Some(a), Some(b)) = (a, b) else { return Ok((Vec::new(), Vec::new())) };
                let hidden = repo.merge_base(a, b)?.into_iter().collect();
                Ok((vec![a, b], hidden))
            } else if let Some((a, b)) = r.split_once("..") {
                let (a, b) = (head_or(a)?, head_or(b)?);
                Ok((b.into_iter().collect(), a.into_iter().collect()))
            } else {
                Ok((vec![repo.resolve(r)?], Vec::new()))
            }
        }
    }
}
