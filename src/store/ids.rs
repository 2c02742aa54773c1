//! ID allocation: one more than the highest number in use in the working
//! tree, the legacy section, and the tree of every local and remote-tracking
//! branch (read with gix, nothing checked out). Never `count + 1`, so IDs
//! created on other branches are not reused.

use crate::error::{Error, Result};
use crate::model::id::id_number;
use regex::Regex;
use std::collections::HashSet;

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
pub fn highest_on_branches(worktree: &std::path::Path, scan: &BranchScan<'_>) -> Result<u64> {
    let repo = gix::open(worktree).map_err(Error::git)?;
    let re = Regex::new(&format!(r"\b{}-(\d+)\b", regex::escape(scan.id_prefix))).expect("valid regex");
    let mut best = 0u64;
    let mut seen_trees = HashSet::new();
    let mut seen_blobs = HashSet::new();
    let refs = repo.references().map_err(Error::git)?;
    let mut tips = Vec::new();
    for r in refs.local_branches().map_err(Error::git)?.chain(refs.remote_branches().map_err(Error::git)?) {
        let Ok(mut r) = r else { continue };
        if let Ok(id) = r.peel_to_id() {
            tips.push(id.detach());
        }
    }
    let dir_path = join(scan.prefix, &format!("coordination/{}", scan.dir));
    let eco_path = join(scan.prefix, "settings/ecosystem.yaml");
    for tip in tips {
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
                    if let Some(n) = id_number(stem, scan.id_prefix) {
                        best = best.max(n);
                    }
                    if scan.scan_contents
                        && seen_blobs.insert(e.oid.to_owned())
                        && let Ok(blob) = repo.find_object(e.oid)
                    {
                        best = best.max(max_in_text(&re, &String::from_utf8_lossy(&blob.data)));
                    }
                }
            }
        }
        if let Ok(Some(entry)) = tree.lookup_entry_by_path(&eco_path)
            && seen_blobs.insert(entry.object_id())
            && let Ok(blob) = entry.object()
        {
            best = best.max(max_in_text(&re, &String::from_utf8_lossy(&blob.data)));
        }
    }
    Ok(best)
}

/// The highest `PREFIX-N` number mentioned in a text.
pub fn max_in_text(re: &Regex, text: &str) -> u64 {
    re.captures_iter(text).filter_map(|c| c[1].parse::<u64>().ok()).max().unwrap_or(0)
}
