//! `sync`: fetch, renumber entities whose IDs collide with ones created on
//! the other side, merge the upstream branch (through the field-level merge
//! driver), lint, commit, push.
//!
//! Reading goes through gix (see [`crate::history`]); the writes — commit,
//! fetch, merge, push, reset — run the `git` binary. Any failure puts the
//! repository back as it was before: HEAD where it was and local
//! coordination changes uncommitted in the working tree, as they were.

use crate::error::{Error, Result};
use crate::gitcmd::Git;
use crate::history::changes::{Differ, Filter, Op};
use crate::history::{GitRepo, Side};
use crate::model::Kind;
use crate::ops::Renumbered;
use crate::store::Store;

/// What to sync with.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// The remote (default: the branch's upstream remote, else `origin`).
    pub remote: Option<String>,
    /// Do not push at the end.
    pub no_push: bool,
}

/// What `sync` did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SyncReport {
    pub remote: String,
    pub branch: String,
    /// The upstream merged (`origin/main`), if the remote has the branch.
    pub upstream: Option<String>,
    /// Uncommitted coordination changes were committed first.
    pub committed_local: bool,
    pub renumbered: Vec<Renumbered>,
    /// Whether a merge (or fast-forward) brought changes in.
    pub merged: bool,
    pub pushed: bool,
}

/// Paths (relative to the work tree) that belong to coordination data.
fn is_coordination_path(prefix: &str, path: &str) -> bool {
    let p = if prefix.is_empty() {
        path.to_string()
    } else {
        path.strip_prefix(&format!("{prefix}/")).unwrap_or("").to_string()
    };
    p.starts_with("coordination/") || p == "settings/ecosystem.yaml"
}

/// Runs `sync`.
pub fn sync(store: &Store, opts: &SyncOptions) -> Result<SyncReport> {
    // Sync commits, renumbers and merges coordination data: a write.
    crate::ops::ensure_enabled(store)?;
    let wt = store.root.worktree.clone().ok_or(Error::NeedsRepo("sync"))?;
    let prefix = store.root.prefix_in_repo().unwrap_or_default();
    let git = Git { dir: &wt };
    let branch = git
        .run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
        .map_err(|_| Error::Refused("sync needs a branch checked out (HEAD is detached)".into()))?
        .trim()
        .to_string();
    let before = git
        .run(&["rev-parse", "--verify", "HEAD"])
        .map_err(|_| Error::Refused("nothing is committed yet; commit once before syncing".into()))?
        .trim()
        .to_string();
    if wt.join(".git/MERGE_HEAD").exists() {
        return Err(Error::Refused("a merge is in progress; finish or abort it first".into()));
    }
    let status = git.run(&["status", "--porcelain=v1", "-z", "--untracked-files=all"])?;
    let mut coord_paths = Vec::new();
    let mut other = Vec::new();
    for entry in status.split('\0').filter(|e| e.len() > 3) {
        let path = &entry[3..];
        if is_coordination_path(&prefix, path) {
            coord_paths.push(path.to_string());
        } else if !entry.starts_with("R ") {
            other.push(path.to_string());
        }
    }
    if !other.is_empty() {
        other.truncate(5);
        return Err(Error::Refused(format!(
            "uncommitted changes outside the coordination data ({}); commit or stash them first",
            other.join(", ")
        )));
    }
    let remote = match &opts.remote {
        Some(r) => r.clone(),
        None => git
            .run(&["config", &format!("branch.{branch}.remote")])
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "origin".into()),
    };
    let mut report = SyncReport { remote: remote.clone(), branch: branch.clone(), ..SyncReport::default() };
    let mut guard =
        Restore { git: &git, before: before.clone(), restore_to: before.clone(), local_commit: false, armed: true };

    if !coord_paths.is_empty() {
        let mut args = vec!["add", "-A", "--"];
        args.extend(coord_paths.iter().map(String::as_str));
        git.run(&args)?;
        git.run(&["commit", "-q", "--no-verify", "-m", "git coord sync: local coordination changes"])?;
        report.committed_local = true;
        guard.local_commit = true;
        guard.restore_to = git.run(&["rev-parse", "HEAD"])?.trim().to_string();
    }

    git.run(&["fetch", "-q", &remote])?;
    let upstream = upstream_of(&git, &remote, &branch);
    if let Some(up) = &upstream {
        report.upstream = Some(up.clone());
        report.renumbered = renumber_collisions(store, &git, up)?;
        let head = git.run(&["rev-parse", "HEAD"])?.trim().to_string();
        let up_sha = git.run(&["rev-parse", up])?.trim().to_string();
        let already = git.ok(&["merge-base", "--is-ancestor", &up_sha, &head]);
        if !already {
            merge(&git, up)?;
            report.merged = true;
            check_merged(store, up)?;
        }
    }
    if !opts.no_push {
        let target = match &upstream {
            Some(up) => up.strip_prefix(&format!("{remote}/")).unwrap_or(&branch).to_string(),
            None => branch.clone(),
        };
        git.run(&["push", "-q", &remote, &format!("HEAD:refs/heads/{target}")])?;
        report.pushed = true;
    }
    guard.armed = false;
    Ok(report)
}

/// `<remote>/<branch>` when the remote has the branch (the configured
/// upstream when there is one).
fn upstream_of(git: &Git<'_>, remote: &str, branch: &str) -> Option<String> {
    if let Ok(u) = git.run(&["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"]) {
        let u = u.trim().to_string();
        if u.starts_with(&format!("{remote}/")) {
            return Some(u);
        }
    }
    let candidate = format!("{remote}/{branch}");
    git.ok(&["rev-parse", "--verify", "--quiet", &format!("refs/remotes/{candidate}")]).then_some(candidate)
}

/// Entities created both here and upstream (since the merge base) under one
/// ID with different content: ours get the next free ID, with every
/// reference in our data rewritten, committed as one commit.
fn renumber_collisions(store: &Store, git: &Git<'_>, upstream: &str) -> Result<Vec<Renumbered>> {
    let repo = GitRepo::open(store, "sync")?;
    let head = repo.resolve("HEAD")?;
    let up = repo.resolve(upstream)?;
    let mb = repo.merge_base(head, up)?;
    let base = mb.map(Side::Commit).unwrap_or(Side::Empty);
    let mut differ = Differ::new(&repo);
    let sb = repo.state(&base)?;
    let ours = differ.changes(&sb, &repo.state(&Side::Commit(head))?, &Filter::default())?;
    let theirs = differ.changes(&sb, &repo.state(&Side::Commit(up))?, &Filter::default())?;
    let mut collisions: Vec<(Kind, String)> = Vec::new();
    for o in ours.iter().filter(|c| c.change == Op::Created) {
        if let Some(t) = theirs.iter().find(|t| t.change == Op::Created && t.kind == o.kind && t.id == o.id)
            && t.after != o.after
        {
            collisions.push((o.kind, o.id.clone()));
        }
    }
    let mut done = Vec::new();
    for (kind, id) in collisions {
        done.push(crate::ops::renumber(store, kind, &id, None)?);
    }
    // Milestones live inside plans: one created on both sides (in any plan)
    // with different content is renumbered on ours too.
    let milestones = |side: &Side| -> Result<std::collections::HashMap<String, String>> {
        let loaded = store.load_snapshot(&repo.snapshot(side)?, &[Kind::Plan])?;
        Ok(loaded
            .plans()
            .flat_map(|p| {
                p.milestones.iter().map(|m| (m.id.clone(), serde_yaml::to_string(&m.to_mapping()).unwrap_or_default()))
            })
            .collect())
    };
    if ours.iter().chain(&theirs).any(|c| c.kind == Kind::Plan) {
        let at_base = milestones(&base)?;
        let on_theirs = milestones(&Side::Commit(up))?;
        let mut on_ours: Vec<(String, String)> = milestones(&Side::Commit(head))?.into_iter().collect();
        on_ours.sort_by_cached_key(|(id, _)| crate::store::natural_key(id));
        for (id, body) in on_ours {
            if !at_base.contains_key(&id) && on_theirs.get(&id).is_some_and(|t| *t != body) {
                done.push(crate::ops::renumber::renumber_milestone(store, &id, None)?);
            }
        }
    }
    if !done.is_empty() {
        let what: Vec<String> = done.iter().map(|r| format!("{} → {}", r.from, r.to)).collect();
        git.run(&["add", "-A", "--", &store.root.dir.join("coordination").display().to_string()])?;
        let mut msg = format!("git coord sync: renumber {} (also created on {upstream})", what.join(", "));
        let rewritten: Vec<String> = done.iter().flat_map(|r| r.rewritten.iter().cloned()).collect();
        if !rewritten.is_empty() {
            msg.push_str(&format!("\n\nReferences rewritten in: {}", rewritten.join(", ")));
        }
        git.run(&["commit", "-q", "--no-verify", "-m", &msg])?;
    }
    Ok(done)
}

fn merge(git: &Git<'_>, upstream: &str) -> Result<()> {
    // The driver as `init` configures it, for clones where `init` never ran.
    let driver = crate::merge::setup::driver_command();
    let attrs = tempfile::NamedTempFile::new().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    std::fs::write(attrs.path(), "**/coordination/**/*.yaml merge=coord\n").map_err(|e| Error::io(attrs.path(), e))?;
    let attrs_cfg = format!("core.attributesFile={}", attrs.path().display());
    let driver_cfg = format!("merge.coord.driver={driver}");
    let msg = format!("git coord sync: merge {upstream}");
    let result = git.run(&[
        "-c",
        &attrs_cfg,
        "-c",
        &driver_cfg,
        "-c",
        "merge.coord.name=git-coord field-level merge",
        "merge",
        "-q",
        "--no-edit",
        "--no-verify",
        "-m",
        &msg,
        upstream,
    ]);
    if let Err(e) = result {
        let conflicted = git.run(&["diff", "--name-only", "--diff-filter=U"]).unwrap_or_default();
        let files: Vec<&str> = conflicted.lines().collect();
        return Err(if files.is_empty() {
            e
        } else {
            Error::Refused(format!(
                "merging {upstream} conflicts in {}; nothing was changed — merge it by hand (git merge {upstream}) to resolve the conflicting fields",
                files.join(", ")
            ))
        });
    }
    Ok(())
}

/// Refuses a merge result with lint errors that upstream did not have.
fn check_merged(store: &Store, upstream: &str) -> Result<()> {
    let merged = store.load(&Kind::ALL)?;
    let theirs = crate::history::load_at(store, upstream, &Kind::ALL)?;
    let new: Vec<String> = crate::history::review::introduced_problems(store, &theirs, &merged)
        .into_iter()
        .filter(|p| p.is_error())
        .map(|p| p.to_string())
        .collect();
    if new.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "the merged coordination data has errors, so nothing was changed:\n  {}",
        new.join("\n  ")
    )))
}

/// Puts the repository back as it was unless disarmed: aborts a merge,
/// resets to the last commit holding the local changes, then (if sync
/// committed them) un-commits them so they are uncommitted again.
struct Restore<'a> {
    git: &'a Git<'a>,
    before: String,
    restore_to: String,
    local_commit: bool,
    armed: bool,
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let _ = self.git.run(&["merge", "--abort"]);
        let _ = self.git.run(&["reset", "-q", "--hard", &self.restore_to]);
        if self.local_commit {
            let _ = self.git.run(&["reset", "-q", &self.before]);
        }
    }
}
