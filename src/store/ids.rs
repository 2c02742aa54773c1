//! ID allocation: one more than the highest number in use in the working
//! tree, the legacy section, and the tree of every local and remote-tracking
//! branch (read with gix, nothing checked out). Never `count + 1`, so IDs
//! created on other branches are not reused.
//!
//! What one branch's directory tree (or legacy blob) holds is computed once
//! per object ID and kept in the index's memo ([`crate::index::memo`]): git
//! objects never change, so a branch that did not move costs one lookup.
//!
//! Numbers above [`MAX_ID_NUMBER`] are not counted — one such mention on any
//! branch would otherwise make every later allocation overflow — but they
//! are returned, with where they were seen, so the caller can warn.

use super::{Loaded, Store, StoreLock};
use crate::error::{Error, Result};
use crate::model::Kind;
#[cfg(doc)]
use crate::model::id::MAX_ID_NUMBER;
pub use crate::model::id::natural_key;
use crate::model::id::{id_number, out_of_range, parse_number};
use crate::problem::Problem;
use regex::Regex;
use std::collections::HashSet;

/// At most this many out-of-range mentions are kept for the warning.
const MAX_IGNORED: usize = 10;

/// The highest number in use, and the out-of-range IDs that were ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Highest {
    /// The highest number at most [`MAX_ID_NUMBER`].
    pub max: u64,
    /// `ISSUE-18446744073709551615 (branch feature, settings/ecosystem.yaml)`.
    pub ignored: Vec<String>,
}

impl Highest {
    /// Counts one number (or notes it as out of range, with where it was seen).
    pub fn see(&mut self, id_prefix: &str, digits: &str, place: impl FnOnce() -> String) {
        match parse_number(digits) {
            Some(n) => self.max = self.max.max(n),
            None => {
                let id = format!("{id_prefix}-{digits}");
                if self.ignored.len() < MAX_IGNORED && !self.ignored.iter().any(|s| s.starts_with(&format!("{id} "))) {
                    self.ignored.push(format!("{id} ({})", place()));
                }
            }
        }
    }

    /// Counts an entity name (file stem) with the prefix.
    pub fn see_name(&mut self, id_prefix: &str, name: &str, place: impl FnOnce() -> String) {
        if let Some(n) = id_number(name, id_prefix) {
            self.max = self.max.max(n);
        } else if out_of_range(name, id_prefix) {
            let digits = &name[id_prefix.len() + 1..];
            self.see(id_prefix, digits, place);
        }
    }

    /// Merges another result in.
    pub fn merge(&mut self, other: Highest) {
        self.max = self.max.max(other.max);
        for i in other.ignored {
            if self.ignored.len() < MAX_IGNORED && !self.ignored.contains(&i) {
                self.ignored.push(i);
            }
        }
    }
}

/// What to scan in each branch's tree.
pub struct BranchScan<'a> {
    /// Path of the coordination root inside the repository (`""` at top level).
    pub prefix: &'a str,
    /// Entity directory, e.g. `issues`.
    pub dir: &'a str,
    /// ID prefix, e.g. `ISSUE`.
    pub id_prefix: &'a str,
    /// Also scan file contents of this directory (milestones live in plans).
    pub scan_contents: bool,
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() { rest.to_string() } else { format!("{prefix}/{rest}") }
}

/// The highest number used by `id_prefix` on any branch of the repository.
/// `git_dir` holds the memo of per-object results (none: computed every time).
pub fn highest_on_branches(
    worktree: &std::path::Path,
    git_dir: Option<&std::path::Path>,
    scan: &BranchScan<'_>,
) -> Result<Highest> {
    let repo = gix::open(worktree).map_err(Error::git)?;
    let re = id_regex(scan.id_prefix);
    let mut best = Highest::default();
    let mut seen = HashSet::new();
    let refs = repo.references().map_err(Error::git)?;
    let mut tips = Vec::new();
    for r in refs.local_branches().map_err(Error::git)?.chain(refs.remote_branches().map_err(Error::git)?) {
        let Ok(mut r) = r else { continue };
        let name = r.name().shorten().to_string();
        if let Ok(id) = r.peel_to_id() {
            tips.push((name, id.detach()));
        }
    }
    let dir_path = join(scan.prefix, &format!("coordination/{}", scan.dir));
    let eco_path = join(scan.prefix, "settings/ecosystem.yaml");
    // What one object holds, from the memo or computed (and kept); places
    // name the path only, the branch is added per use.
    let per_object = |oid: gix::ObjectId, path: &str, what: &str, compute: &dyn Fn() -> Option<Highest>| {
        let key = format!("ids1|{oid}|{}|{what}|{path}", scan.id_prefix);
        if let Some(h) =
            git_dir.and_then(|g| crate::index::memo::get(g, &key)).and_then(|v| serde_json::from_str(&v).ok())
        {
            return Some(h);
        }
        let h = compute()?;
        if let (Some(g), Ok(v)) = (git_dir, serde_json::to_string(&h)) {
            crate::index::memo::put(g, &key, &v);
        }
        Some(h)
    };
    let on_branch = |h: Highest, branch: &str| Highest {
        max: h.max,
        ignored: h.ignored.into_iter().map(|i| i.replacen(" (", &format!(" (branch {branch}, "), 1)).collect(),
    };
    for (branch, tip) in tips {
        let Ok(commit) = repo.find_commit(tip) else {
            continue;
        };
        let Ok(tree) = commit.tree() else { continue };
        if let Ok(Some(entry)) = tree.lookup_entry_by_path(&dir_path)
            && seen.insert(entry.object_id())
        {
            let what = if scan.scan_contents { "tree+text" } else { "tree" };
            let found = per_object(entry.object_id(), &dir_path, what, &|| {
                let sub = entry.object().ok()?.into_tree();
                let decoded = sub.decode().ok()?;
                let mut h = Highest::default();
                let mut seen_blobs = HashSet::new();
                for e in &decoded.entries {
                    let name = e.filename.to_string();
                    let stem = name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml")).unwrap_or(&name);
                    h.see_name(scan.id_prefix, stem, || format!("{dir_path}/{name}"));
                    if scan.scan_contents
                        && seen_blobs.insert(e.oid.to_owned())
                        && let Ok(blob) = repo.find_object(e.oid)
                    {
                        let place = format!("{dir_path}/{name}");
                        h.merge(max_in_text(&re, scan.id_prefix, &String::from_utf8_lossy(&blob.data), &place));
                    }
                }
                Some(h)
            });
            if let Some(h) = found {
                best.merge(on_branch(h, &branch));
            }
        }
        if let Ok(Some(entry)) = tree.lookup_entry_by_path(&eco_path)
            && seen.insert(entry.object_id())
        {
            let found = per_object(entry.object_id(), &eco_path, "text", &|| {
                let blob = entry.object().ok()?;
                Some(max_in_text(&re, scan.id_prefix, &String::from_utf8_lossy(&blob.data), &eco_path))
            });
            if let Some(h) = found {
                best.merge(on_branch(h, &branch));
            }
        }
    }
    Ok(best)
}

/// The pattern of `PREFIX-N` mentions.
pub fn id_regex(id_prefix: &str) -> Regex {
    Regex::new(&format!(r"\b{}-(\d+)\b", regex::escape(id_prefix))).expect("valid regex")
}

/// The highest `PREFIX-N` number mentioned in a text (`place` says where,
/// for out-of-range mentions).
pub fn max_in_text(re: &Regex, id_prefix: &str, text: &str, place: &str) -> Highest {
    let mut h = Highest::default();
    for c in re.captures_iter(text) {
        h.see(id_prefix, &c[1], || place.to_string());
    }
    h
}

impl Store {
    /// The next free number for `kind`'s prefix across working tree, legacy
    /// section and every branch.
    /// `known` is what the caller already knows of (the legacy section).
    /// Numbers above [`crate::model::id::MAX_ID_NUMBER`] are ignored with a
    /// warning; when the next number would exceed it, allocation is refused.
    ///
    /// Only under the store lock: an ID is free only until the lock is released.
    pub(crate) fn next_id(&self, lock: &StoreLock, kind: Kind, known: Highest) -> Result<Allocated> {
        self.check_lock(lock)?;
        let prefix = self.prefix(kind).to_string();
        let mut best = known;
        // File names count, even for files whose content fails to parse.
        if let Ok(rd) = std::fs::read_dir(self.kind_dir(kind)) {
            for e in rd.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                let stem = name.split('.').next().unwrap_or_default();
                best.see_name(&prefix, stem, || self.rel(&e.path()).display().to_string());
            }
        }
        best.merge(self.highest_on_branches(kind.dir_name(), &prefix, false)?);
        allocate(&prefix, best)
    }

    /// The next free milestone ID (unique across all plans and branches).
    /// Only under the store lock, like [`Store::next_id`].
    pub(crate) fn next_milestone_id(&self, lock: &StoreLock, loaded: &Loaded, taken: &[String]) -> Result<Allocated> {
        self.check_lock(lock)?;
        let prefix = self.settings.id_prefixes.milestone.clone();
        let mut best = Highest::default();
        for p in loaded.plans() {
            for m in &p.milestones {
                best.see_name(&prefix, &m.id, || format!("in {}", p.id));
            }
        }
        for id in taken {
            best.see_name(&prefix, id, String::new);
        }
        best.merge(self.highest_on_branches("plans", &prefix, true)?);
        allocate(&prefix, best)
    }

    fn highest_on_branches(&self, dir: &str, id_prefix: &str, scan_contents: bool) -> Result<Highest> {
        let (Some(wt), Some(prefix)) = (&self.root.worktree, self.root.prefix_in_repo()) else {
            return Ok(Highest::default());
        };
        let git_dir = self.root.git_dir();
        highest_on_branches(wt, git_dir.as_deref(), &BranchScan { prefix: &prefix, dir, id_prefix, scan_contents })
    }
}

/// A newly allocated ID, and warnings about IDs the allocation ignored.
#[derive(Debug, Clone)]
pub struct Allocated {
    pub id: String,
    pub warnings: Vec<Problem>,
}

fn allocate(prefix: &str, best: Highest) -> Result<Allocated> {
    let next = best.max.checked_add(1).filter(|n| *n <= crate::model::id::MAX_ID_NUMBER);
    let Some(next) = next else {
        return Err(crate::model::id::IdError::OutOfRange(crate::model::id::format_id(prefix, best.max + 1)).into());
    };
    let id = crate::model::id::format_id(prefix, next);
    let warnings = best
        .ignored
        .iter()
        .map(|i| {
            Problem::warning(
                "id-range",
                format!(
                    "ignored {i} while allocating {id}: its number is above 999,999,999, the largest git-coord uses, so it does not count (rename or renumber it)"
                ),
            )
        })
        .collect();
    Ok(Allocated { id, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_mentions_are_ignored_and_reported() {
        let re = id_regex("ISSUE");
        let h = max_in_text(&re, "ISSUE", "see ISSUE-18446744073709551615 and ISSUE-041, ISSUE-1000000000", "here");
        assert_eq!(h.max, 41);
        assert_eq!(h.ignored, ["ISSUE-18446744073709551615 (here)", "ISSUE-1000000000 (here)"]);
    }
}
