//! Finding the coordination root: the nearest directory, from the current one
//! up to the work-tree root (outside a repository: up to `/`), that holds
//! `coordination/`, `settings/ecosystem.yaml` or `settings/coord.yaml`. When
//! there is none, the root is where `init` would create one (the work-tree
//! root, else the current directory) and `found` is false: every command but
//! `init` then refuses ([`crate::store::Store::open`]), so nothing but
//! `init` ever creates `coordination/`.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Where coordination data lives and which repository holds it.
#[derive(Debug, Clone)]
pub struct Root {
    /// The coordination root (holds `coordination/` and `settings/`).
    pub dir: PathBuf,
    /// The git work tree containing it, if any.
    pub worktree: Option<PathBuf>,
    /// Whether coordination data (or its settings) was found there.
    pub found: bool,
}

fn has_markers(dir: &Path) -> bool {
    dir.join("coordination").is_dir()
        || dir.join("settings/ecosystem.yaml").is_file()
        || dir.join("settings/coord.yaml").is_file()
}

impl Root {
    /// Discovers the root from `start`.
    pub fn discover(start: &Path) -> Result<Root> {
        let start = start.canonicalize().map_err(|e| Error::io(start, e))?;
        let worktree = start.ancestors().find(|d| d.join(".git").exists()).map(Path::to_path_buf);
        let Some(wt) = worktree else {
            return Ok(match start.ancestors().find(|d| has_markers(d)) {
                Some(d) => Root { dir: d.to_path_buf(), worktree: None, found: true },
                None => Root { dir: start, worktree: None, found: false },
            });
        };
        let marked = start.ancestors().take_while(|d| d.starts_with(&wt)).find(|d| has_markers(d));
        let found = marked.is_some();
        let dir = marked.unwrap_or(&wt).to_path_buf();
        Ok(Root { dir, worktree: Some(wt), found })
    }

    /// The git directory of the work tree (see [`git_dir`]).
    pub fn git_dir(&self) -> Option<PathBuf> {
        git_dir(self.worktree.as_deref()?)
    }

    /// The coordination root relative to the work tree (empty at top level),
    /// with `/` separators, as git trees name it.
    pub fn prefix_in_repo(&self) -> Option<String> {
        let wt = self.worktree.as_ref()?;
        let rel = self.dir.strip_prefix(wt).ok()?;
        Some(rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/"))
    }
}

/// The git directory of a work tree: `.git` itself, or for a linked work
/// tree (`git worktree add`) and a submodule the directory its `.git` file
/// names (`gitdir: …`, relative to the work tree when not absolute). That is
/// the per-worktree directory holding `HEAD`, `index` and `MERGE_HEAD`, not
/// the common directory shared by all work trees; state that belongs to one
/// checkout (a merge in progress, the index) lives there.
pub fn git_dir(worktree: &Path) -> Option<PathBuf> {
    let dot = worktree.join(".git");
    if dot.is_dir() {
        return Some(dot);
    }
    gix::discover::path::from_gitdir_file(&dot).ok()
}
