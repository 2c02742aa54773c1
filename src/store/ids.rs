//! ID allocation: one more than the highest number in use in the working
//! tree, the legacy section, and the tree of every local and remote-tracking
//! branch (read with gix, nothing checked out). Never `count + 1`, so IDs
//! created on other branches are not reused.
//!
//! Numbers above [`MAX_ID_NUMBER`] are not counted — one such mention on any
//! branch would otherwise make every later allocation overflow — but they
//! are returned, with where they were seen, so the caller can warn.

use super::{Loaded, Store};
use crate::error::{Error, Result};
use crate::model::Kind;
#[cfg(doc)]
use crate::model::id::MAX_ID_NUMBER;
use crate::model::id::{id_number, out_of_range, parse_number};
use crate::problem::Problem;
use regex::Regex;
use std::collections::HashSet;

/// At most this many out-of-range mentions are kept for the warning.
const MAX_IGNORED: usize = 10;

/// The highest number in use, and the out-of-range IDs that were ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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
pub fn highest_on_branches(worktree: &std::path::Path, scan: &BranchScan<'_>) -> Result<Highest> {
    let repo = gix::open(worktree).map_err(Error::git)?;
    let re = id_regex(scan.id_prefix);
    let mut best = Highest::default();
    let mut seen_trees = HashSet::new();
    let mut seen_blobs = HashSet::new();
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
    for (branch, tip) in tips {
        let Ok(commit) = repo.find_commit(tip) else {
            continue;
        };
        let Ok(tree) = commit.tree() else { continue };
        if let Ok(Some(entry)) = tree.lookup_entry_by_path(&dir_path)
            && seen_trees.insert(entry.object_id())
            && let Ok(obj) = entry.object()
        {
            let sub = obj.into_tree();
            if let Ok(decoded) = sub.decode() {
                for e in &decoded.entries {
                    let name = e.filename.to_string();
                    let stem = name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml")).unwrap_or(&name);
                    best.see_name(scan.id_prefix, stem, || format!("branch {branch}, {dir_path}/{name}"));
                    if scan.scan_contents
                        && seen_blobs.insert(e.oid.to_owned())
                        && let Ok(blob) = repo.find_object(e.oid)
                    {
                        let place = format!("branch {branch}, {dir_path}/{name}");
                        best.merge(max_in_text(&re, scan.id_prefix, &String::from_utf8_lossy(&blob.data), &place));
                    }
                }
            }
        }
        if let Ok(Some(entry)) = tree.lookup_entry_by_path(&eco_path)
            && seen_blobs.insert(entry.object_id())
            && let Ok(blob) = entry.object()
        {
            let place = format!("branch {branch}, {eco_path}");
            best.merge(max_in_text(&re, scan.id_prefix, &String::from_utf8_lossy(&blob.data), &place));
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
/// Sorts IDs naturally (`ISSUE-999` before `ISSUE-1000`).
pub fn natural_key(id: &str) -> (String, u64, String) {
    match id.rfind('-') {
        Some(i) if id[i + 1..].bytes().all(|b| b.is_ascii_digit()) && i + 1 < id.len() => {
            (id[..i].to_string(), id[i + 1..].parse().unwrap_or(u64::MAX), String::new())
        }
        _ => (id.to_string(), 0, id.to_string()),
    }
}

impl Store {
    /// The next free number for `kind`'s prefix across working tree, legacy
    /// section and every branch.
    /// `known` is what the caller already knows of (the legacy section).
    /// Numbers above [`crate::model::id::MAX_ID_NUMBER`] are ignored with a
    /// warning; when the next number would exceed it, allocation is refused.
    pub fn next_id(&self, kind: Kind, known: Highest) -> Result<Allocated> {
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
    pub fn next_milestone_id(&self, loaded: &Loaded, taken: &[String]) -> Result<Allocated> {
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
        highest_on_branches(wt, &BranchScan { prefix: &prefix, dir, id_prefix, scan_contents })
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
