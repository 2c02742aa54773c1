//! `diff`: the coordination changes between two revisions (or a revision and
//! the working tree), field by field.

use super::changes::{Differ, EntityChange, Filter};
use super::repo::{GitRepo, Side};
use crate::error::Result;
use crate::store::{Loaded, Store};
use serde::Serialize;

/// The two sides of a revspec, described for output.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Range {
    /// The old side (`(empty)` before the first commit).
    pub from: String,
    /// The new side (`(working tree)` for files on disk).
    pub to: String,
    #[serde(skip)]
    pub a: Side,
    #[serde(skip)]
    pub b: Side,
}

/// A semantic diff.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Diff {
    #[serde(flatten)]
    pub range: Range,
    pub changes: Vec<EntityChange>,
    /// Versions that could not be parsed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn side_label(repo: &GitRepo, s: &Side) -> String {
    match s {
        Side::Empty => "(empty)".into(),
        Side::WorkTree => "(working tree)".into(),
        Side::Commit(id) => repo.commit_info(*id).map(|c| c.short).unwrap_or_else(|_| id.to_string()),
    }
}

/// Resolves a revspec: `A..B`, `A...B` (from the merge base), a single rev
/// (against the working tree), or nothing (HEAD against the working tree).
/// An empty side of a range is HEAD.
pub fn resolve_range(repo: &GitRepo, spec: Option<&str>) -> Result<Range> {
    let head_side = || -> Result<Side> { Ok(repo.head()?.map(Side::Commit).unwrap_or(Side::Empty)) };
    let rev = |s: &str| -> Result<Side> { if s.is_empty() { head_side() } else { Ok(Side::Commit(repo.resolve(s)?)) } };
    let (a, b) = match spec {
        None => (head_side()?, Side::WorkTree),
        Some(s) => {
            if let Some((x, y)) = s.split_once("...") {
                let (x, y) = (rev(x)?, rev(y)?);
                let base = match (&x, &y) {
                    (Side::Commit(p), Side::Commit(q)) => repo.merge_base(*p, *q)?.map(Side::Commit),
                    _ => None,
                };
                (base.unwrap_or(Side::Empty), y)
            } else if let Some((x, y)) = s.split_once("..") {
                (rev(x)?, rev(y)?)
            } else {
                (rev(s)?, Side::WorkTree)
            }
        }
    };
    Ok(Range { from: side_label(repo, &a), to: side_label(repo, &b), a, b })
}

/// Runs `diff` over an already-resolved range.
pub fn diff_range(repo: &GitRepo, range: Range, filter: &Filter) -> Result<Diff> {
    let (sa, sb) = (repo.state(&range.a)?, repo.state(&range.b)?);
    let mut differ = Differ::new(repo);
    let changes = differ.changes(&sa, &sb, filter)?;
    Ok(Diff { range, changes, warnings: differ.warnings })
}

/// Runs `diff SPEC`.
pub fn diff(store: &Store, spec: Option<&str>) -> Result<Diff> {
    let repo = GitRepo::open(store, "diff")?;
    let range = resolve_range(&repo, spec)?;
    diff_range(&repo, range, &Filter::default())
}

/// Loads the coordination data as it was at a revision, with the loader's
/// rules (for `show-* --at REV` and `review`).
pub fn load_at(store: &Store, rev: &str, kinds: &[crate::model::Kind]) -> Result<Loaded> {
    let repo = GitRepo::open(store, "reading data at a revision")?;
    let id = repo.resolve(rev)?;
    let snap = repo.snapshot(&Side::Commit(id))?;
    store.load_snapshot(&snap, kinds)
}

/// Looks up one entity as it was at a revision (`issue-7` finds ISSUE-007).
pub fn find_at(store: &Store, kind: crate::model::Kind, id: &str, rev: &str) -> Result<crate::store::Record> {
    crate::model::id::validate_id(id)?;
    let mut loaded = load_at(store, rev, &[kind])?;
    let canon = crate::model::id::normalise_id(id, store.prefix(kind));
    for candidate in std::iter::once(id.to_string()).chain(canon) {
        if let Some(r) = loaded.take(kind, &candidate) {
            return Ok(r);
        }
    }
    Err(crate::Error::NotFound { kind, id: id.to_string(), hint: Some(format!("not present at {rev}")) })
}
