//! `sync`: commit local entity changes, fetch, renumber entities whose IDs
//! collide with ones created on the other side, merge the upstream branch
//! (through the field-level merge driver), lint, push — and when the push
//! loses a race with another clone's push, do it all again.
//!
//! Reading goes through gix (see [`crate::history`]); the writes — commit,
//! fetch, merge, push, reset — run the `git` binary.
//!
//! Why it is built the way it is:
//!
//! - **It never loses work it did not create.** Before it changes anything it
//!   writes the state it found — index, tracked work-tree files, untracked
//!   entity files — as a stash-like commit referenced by
//!   [`SNAPSHOT_REF`] (objects only: nothing in the work tree is touched). Any
//!   failure (a commit refused for lack of an identity or signature, a hook, a
//!   fetch, a conflict, a lint error, a rejected push) puts exactly that state
//!   back; a crash leaves the reference behind, and the next `sync` refuses
//!   until the user has looked at it. The snapshot is written with a fixed
//!   identity and unsigned, so it works where the user's own commit fails.
//! - **It holds the store lock from start to end**, so a CLI or MCP write
//!   waits for it instead of landing between a merge and a reset and being
//!   wiped. Renumbering, which locks too, nests (the lock is re-entrant on one
//!   thread).
//! - **It commits only entity files** (`coordination/<kind>/<ID>.yaml` and
//!   `settings/ecosystem.yaml`): temp files of killed writers and stray files
//!   stay untracked and untouched. Other uncommitted changes make it refuse.
//! - **It reads `git status --porcelain=v2 -z` completely** (renames carry
//!   their source path) and finds the git directory of linked work trees.
//! - **It retries a push that lost a race** (rejected as non-fast-forward, or
//!   a ref another push held locked): back to the local commit, fetch again,
//!   renumber again, merge again, push again, with jittered exponential
//!   backoff, up to [`DEFAULT_ATTEMPTS`] times; then it gives up with
//!   [`Error::SyncContended`], the repository as it was. A push refused for any
//!   other reason (a server hook) is not retried.
//!
//! It stays one file (its tests included): every step shares the snapshot
//! taken at the start and the restore on failure, and the invariants above
//! are only checkable with all the steps in view.

use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::gitcmd::{Git, StatusEntry, StatusKind, parse_status_v2};
use crate::history::changes::{Differ, Filter, Op};
use crate::history::{GitRepo, Side};
use crate::model::Kind;
use crate::ops::Renumbered;
use crate::store::Store;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The reference holding the state `sync` found, while it runs (per work
/// tree, so two linked work trees can sync at once).
pub const SNAPSHOT_REF: &str = "refs/worktree/git-coord/sync-snapshot";

/// How many times `sync` pushes before giving up when others keep pushing first.
pub const DEFAULT_ATTEMPTS: u32 = 30;

/// The longest pause between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3);

/// What to sync with.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// The remote (default: the branch's upstream remote, else `origin`).
    pub remote: Option<String>,
    /// Do not push at the end.
    pub no_push: bool,
    /// How many times to push when others keep pushing first (default
    /// [`DEFAULT_ATTEMPTS`]).
    pub attempts: Option<u32>,
}

/// What `sync` did.
#[derive(Debug, Clone, Default, serde::Serialize, schemars::JsonSchema)]
pub struct SyncReport {
    /// The remote synced with.
    pub remote: String,
    /// The branch synced.
    pub branch: String,
    /// The upstream merged (`origin/main`), if the remote has the branch.
    pub upstream: Option<String>,
    /// Uncommitted coordination changes were committed first.
    pub committed_local: bool,
    /// Entities renumbered because the other side created the same ID.
    pub renumbered: Vec<Renumbered>,
    /// Whether a merge (or fast-forward) brought changes in.
    pub merged: bool,
    /// Whether the branch was pushed.
    pub pushed: bool,
    /// Fetch-merge-push rounds it took (more than one when pushes raced).
    pub attempts: u32,
}

/// The coordination root's path in the work tree as a prefix (`""` or `sub/`).
fn root_prefix(prefix: &str) -> String {
    if prefix.is_empty() { String::new() } else { format!("{prefix}/") }
}

/// Whether `path` (relative to the work tree) is a file `sync` carries: an
/// entity file `coordination/<kind>/<ID>.yaml` (or `.yml`) or
/// `settings/ecosystem.yaml`, under the coordination root.
fn is_entity_path(prefix: &str, path: &str) -> bool {
    let Some(p) = path.strip_prefix(&root_prefix(prefix)) else {
        return false;
    };
    if p == "settings/ecosystem.yaml" {
        return true;
    }
    let mut parts = p.split('/');
    let (Some("coordination"), Some(kind), Some(file), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let stem = file.strip_suffix(".yaml").or_else(|| file.strip_suffix(".yml"));
    Kind::from_dir_name(kind).is_some() && stem.is_some_and(|s| crate::model::id::validate_id(s).is_ok())
}

/// Whether `path` is inside the coordination directory.
fn in_coordination_dir(prefix: &str, path: &str) -> bool {
    path.strip_prefix(&root_prefix(prefix)).is_some_and(|p| p.starts_with("coordination/"))
}

/// The uncommitted state, as `sync` treats it.
#[derive(Debug, Default)]
struct LocalChanges {
    /// Entity changes (edits, new files, deletions, renames) are there to commit.
    any: bool,
    /// Entity files with changes not yet in the index, to `git add` (a path
    /// whose change is already staged — a staged deletion, the source of a
    /// staged rename — is left to the index as it is).
    stage: Vec<String>,
    /// The untracked ones among them (the snapshot keeps them separately).
    untracked_entities: Vec<String>,
    /// Every untracked path (entity files and others), as found.
    untracked: Vec<String>,
}

/// Sorts `git status` into what sync commits, what it leaves alone
/// (untracked non-entity files in `coordination/`), and what makes it refuse.
fn classify(prefix: &str, entries: &[StatusEntry]) -> Result<LocalChanges> {
    let mut local = LocalChanges::default();
    let mut other = Vec::new();
    let mut unmerged = Vec::new();
    for e in entries {
        match e.kind {
            StatusKind::Ignored => {}
            StatusKind::Unmerged => unmerged.push(e.path.clone()),
            StatusKind::Untracked => {
                local.untracked.push(e.path.clone());
                if is_entity_path(prefix, &e.path) {
                    local.any = true;
                    local.stage.push(e.path.clone());
                    local.untracked_entities.push(e.path.clone());
                } else if !in_coordination_dir(prefix, &e.path) {
                    other.push(e.path.clone());
                }
            }
            StatusKind::Changed => {
                if is_entity_path(prefix, &e.path) {
                    local.any = true;
                    if e.xy[1] != b'.' {
                        local.stage.push(e.path.clone());
                    }
                } else {
                    other.push(e.path.clone());
                }
            }
            StatusKind::Renamed => {
                let orig = e.orig_path.clone().unwrap_or_default();
                if is_entity_path(prefix, &e.path) && is_entity_path(prefix, &orig) {
                    local.any = true;
                    if e.xy[1] != b'.' {
                        local.stage.push(e.path.clone());
                    }
                } else {
                    other.push(format!("{orig} -> {}", e.path));
                }
            }
        }
    }
    if !unmerged.is_empty() {
        unmerged.truncate(5);
        return Err(Refusal::Unmerged { files: unmerged }.into());
    }
    if !other.is_empty() {
        other.truncate(5);
        return Err(Refusal::Uncommitted { files: other }.into());
    }
    Ok(local)
}

/// Runs `sync`.
pub fn sync(store: &Store, opts: &SyncOptions) -> Result<SyncReport> {
    sync_with(store, opts, &crate::progress::NoProgress)
}

/// [`sync`], reporting each step (commit, fetch, merge, push) as a phase of
/// unknown length: the time goes to git and the network, not to counted items.
pub fn sync_with(store: &Store, opts: &SyncOptions, progress: &dyn crate::progress::Progress) -> Result<SyncReport> {
    let _done = crate::progress::Finish(progress);
    progress.start(0, "syncing: checking the work tree");
    // Sync commits, renumbers and merges coordination data: a write.
    crate::ops::ensure_enabled(store)?;
    let wt = store.root.worktree.clone().ok_or(Error::NeedsRepo("sync"))?;
    // Held to the end: a write waits rather than land mid-merge and be reset away.
    let _lock = store.lock_for("sync")?;
    let prefix = store.root.prefix_in_repo().unwrap_or_default();
    let git = Git::new(&wt);
    let branch = git
        .run(&["symbolic-ref", "--quiet", "--short", "HEAD"])
        .map_err(|_| Error::from(Refusal::Detached))?
        .trim()
        .to_string();
    let before = git
        .run(&["rev-parse", "--verify", "HEAD"])
        .map_err(|_| Error::from(Refusal::NothingCommitted))?
        .trim()
        .to_string();
    let git_dir = store.root.git_dir().ok_or(Error::NeedsRepo("sync"))?;
    for (file, what) in [("MERGE_HEAD", "a merge"), ("CHERRY_PICK_HEAD", "a cherry-pick"), ("REVERT_HEAD", "a revert")]
    {
        if git_dir.join(file).exists() {
            return Err(Refusal::InProgress { what }.into());
        }
    }
    if let Ok(snap) = git.run(&["rev-parse", "--verify", "--quiet", SNAPSHOT_REF]) {
        return Err(interrupted(snap.trim()));
    }
    let status = git.output(&["status", "--porcelain=v2", "-z", "--untracked-files=all"])?;
    if !status.status.success() {
        return Err(Error::Git(format!("`git status` failed: {}", String::from_utf8_lossy(&status.stderr).trim())));
    }
    let local = classify(&prefix, &parse_status_v2(&status.stdout)?)?;
    let remote = match &opts.remote {
        Some(r) => r.clone(),
        None => git
            .run(&["config", &format!("branch.{branch}.remote")])
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "origin".into()),
    };
    let mut report = SyncReport { remote: remote.clone(), branch: branch.clone(), ..SyncReport::default() };
    let saved = Saved::take(&git, &branch, &before, &local)?;
    let mut touched = false;
    let result = run(store, &git, opts, &local, &mut report, &mut touched, progress);
    match result {
        Ok(()) => {
            // A reference left behind only makes the next sync ask about it.
            let _ = saved.forget(&git);
            Ok(report)
        }
        Err(e) if !touched => {
            let _ = saved.forget(&git);
            Err(e)
        }
        Err(e) => match saved.restore(&git, &git_dir, &prefix) {
            Ok(()) => Err(match e {
                Error::Git(msg) => {
                    Error::Git(format!("{msg}\nsync changed nothing: HEAD, the index and your files are as they were"))
                }
                e => e,
            }),
            Err(r) => {
                Err(Refusal::RestoreFailed { error: Box::new(e), restore: Box::new(r), snapshot: saved.commit.clone() }
                    .into())
            }
        },
    }
}

/// The steps of a sync after the snapshot; `touched` is set before the first
/// step that changes the repository.
fn run(
    store: &Store,
    git: &Git<'_>,
    opts: &SyncOptions,
    local: &LocalChanges,
    report: &mut SyncReport,
    touched: &mut bool,
    progress: &dyn crate::progress::Progress,
) -> Result<()> {
    let remote = report.remote.clone();
    let branch = report.branch.clone();
    if local.any {
        progress.start(0, "syncing: committing local coordination changes");
        *touched = true;
        if !local.stage.is_empty() {
            let mut args = vec!["add", "-A", "--"];
            args.extend(local.stage.iter().map(String::as_str));
            git.run(&args)?;
        }
        // The user's work: their commit hooks judge it as any commit of theirs.
        git.run(&["commit", "-q", "-m", "git coord sync: local coordination changes"])?;
        report.committed_local = true;
    }
    let base = git.run(&["rev-parse", "HEAD"])?.trim().to_string();
    let attempts = opts.attempts.unwrap_or(DEFAULT_ATTEMPTS).max(1);
    for attempt in 1..=attempts {
        report.attempts = attempt;
        progress.start(0, &format!("syncing: fetching {remote}"));
        git.run(&["fetch", "-q", &remote])?;
        *touched = true;
        let upstream = upstream_of(git, &remote, &branch);
        report.upstream = upstream.clone();
        report.renumbered.clear();
        report.merged = false;
        if let Some(up) = &upstream {
            progress.start(0, &format!("syncing: merging {up}"));
            report.renumbered = renumber_collisions(store, git, up)?;
            let head = git.run(&["rev-parse", "HEAD"])?.trim().to_string();
            let up_sha = git.run(&["rev-parse", up])?.trim().to_string();
            let already = git.ok(&["merge-base", "--is-ancestor", &up_sha, &head]);
            if !already {
                merge(git, up)?;
                report.merged = true;
                check_merged(store, up)?;
            }
        }
        if opts.no_push {
            return Ok(());
        }
        let target = match &upstream {
            Some(up) => up.strip_prefix(&format!("{remote}/")).unwrap_or(&branch).to_string(),
            None => branch.clone(),
        };
        progress.start(0, &format!("syncing: pushing to {remote}"));
        match push(git, &remote, &target)? {
            Push::Done => {
                report.pushed = true;
                return Ok(());
            }
            Push::Raced(reason) if attempt == attempts => {
                return Err(Error::SyncContended { remote, attempts, reason });
            }
            Push::Raced(_) => {
                // Start over from the local commit against what is there now.
                git.run(&["reset", "-q", "--hard", &base])?;
                std::thread::sleep(backoff(attempt));
            }
        }
    }
    unreachable!("the last attempt returns")
}

/// How a push ended.
enum Push {
    Done,
    /// Another push got there first (the reason as git gave it).
    Raced(String),
}

/// Pushes HEAD; a rejection because the remote moved on (or a ref another
/// push held locked) is [`Push::Raced`], any other failure an error.
fn push(git: &Git<'_>, remote: &str, target: &str) -> Result<Push> {
    let refspec = format!("HEAD:refs/heads/{target}");
    let args = ["push", "--porcelain", remote, refspec.as_str()];
    let out = git.output(&args)?;
    if out.status.success() {
        return Ok(Push::Done);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = format!("{stdout}\n{stderr}");
    let raced = ["(fetch first)", "(non-fast-forward)", "(stale info)", "cannot lock ref", "failed to update ref"];
    // A server hook that declines is a decision, not a race.
    if !text.contains("hook declined")
        && let Some(reason) = raced.iter().find(|r| text.contains(*r))
    {
        return Ok(Push::Raced(reason.trim_matches(['(', ')']).to_string()));
    }
    let msg = stderr
        .lines()
        .chain(stdout.lines())
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "Done" && !l.starts_with("To "))
        .collect::<Vec<_>>()
        .join("\n");
    Err(Error::Git(format!("`git push {remote} {refspec}` failed: {msg}")))
}

/// The pause before attempt `attempt + 1`: a random time up to a ceiling
/// that doubles from 200 ms to [`MAX_BACKOFF`] ("full jitter"), so that
/// clones that lost together spread out instead of retrying in lockstep.
fn backoff(attempt: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let cap = backoff_cap(attempt);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    cap.mul_f64((h.finish() % 10_000) as f64 / 10_000.0)
}

/// The ceiling of [`backoff`].
fn backoff_cap(attempt: u32) -> Duration {
    Duration::from_millis(100).saturating_mul(1 << attempt.min(10)).min(MAX_BACKOFF)
}

/// The state `sync` found, written as objects before anything changes: a
/// commit shaped like `git stash` makes it (work tree, with the index as its
/// second parent and the untracked entity files as its third), referenced by
/// [`SNAPSHOT_REF`] until the sync ends.
struct Saved {
    /// The snapshot commit (the work tree).
    commit: String,
    /// HEAD when sync started.
    head: String,
    /// Trees of the index, the tracked work-tree files, the untracked entity files.
    index_tree: String,
    worktree_tree: String,
    untracked_tree: Option<String>,
    /// Untracked paths when sync started (any other untracked file in the
    /// coordination data afterwards was left by sync and is removed).
    untracked: Vec<String>,
    /// Holds the temp index files.
    tmp: tempfile::TempDir,
}

/// A fixed identity for the snapshot commits, so they can be written where the
/// user has none configured.
const SNAPSHOT_IDENT: [(&str, &str); 4] = [
    ("GIT_AUTHOR_NAME", "git-coord"),
    ("GIT_AUTHOR_EMAIL", "git-coord@localhost"),
    ("GIT_COMMITTER_NAME", "git-coord"),
    ("GIT_COMMITTER_EMAIL", "git-coord@localhost"),
];

impl Saved {
    fn take(git: &Git<'_>, branch: &str, head: &str, local: &LocalChanges) -> Result<Saved> {
        let tmp = tempfile::Builder::new()
            .prefix("git-coord-sync-")
            .tempdir()
            .map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let index_tree = git.run(&["write-tree"])?.trim().to_string();
        // The tracked work-tree files: the index, copied, with every tracked
        // file's current content added.
        let w_index = tmp.path().join("index-worktree");
        let real_index = git_path(git, "index")?;
        let have_index = match std::fs::copy(&real_index, &w_index) {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::io(&real_index, e)),
        };
        let w_env = [("GIT_INDEX_FILE", w_index.as_os_str())];
        if !have_index {
            git.run_with(&w_env, &["read-tree", &index_tree])?;
        }
        git.run_with(&w_env, &["add", "-u", "--", ":/"])?;
        let worktree_tree = git.run_with(&w_env, &["write-tree"])?.trim().to_string();
        let untracked_tree = if local.untracked_entities.is_empty() {
            None
        } else {
            let u_index = tmp.path().join("index-untracked");
            let u_env = [("GIT_INDEX_FILE", u_index.as_os_str())];
            let mut args = vec!["add", "--"];
            args.extend(local.untracked_entities.iter().map(String::as_str));
            git.run_with(&u_env, &args)?;
            Some(git.run_with(&u_env, &["write-tree"])?.trim().to_string())
        };
        let ident: Vec<(&str, &OsStr)> = SNAPSHOT_IDENT.iter().map(|(k, v)| (*k, OsStr::new(*v))).collect();
        let commit_tree = |tree: &str, parents: &[&str], msg: &str| -> Result<String> {
            let mut args = vec!["-c", "commit.gpgSign=false", "commit-tree", "--no-gpg-sign", "-m", msg];
            for p in parents {
                args.extend(["-p", p]);
            }
            args.push(tree);
            Ok(git.run_with(&ident, &args)?.trim().to_string())
        };
        let short = &head[..head.len().min(7)];
        let i = commit_tree(&index_tree, &[head], &format!("index on {branch}: {short} before git coord sync"))?;
        let mut parents = vec![head, i.as_str()];
        let u = match &untracked_tree {
            Some(t) => {
                Some(commit_tree(t, &[], &format!("untracked files on {branch}: {short} before git coord sync"))?)
            }
            None => None,
        };
        if let Some(u) = &u {
            parents.push(u);
        }
        let commit = commit_tree(&worktree_tree, &parents, &format!("On {branch}: before git coord sync"))?;
        git.run(&[
            "update-ref",
            "--create-reflog",
            "-m",
            &format!("git coord sync: state of {branch} before syncing"),
            SNAPSHOT_REF,
            &commit,
        ])?;
        Ok(Saved {
            commit,
            head: head.to_string(),
            index_tree,
            worktree_tree,
            untracked_tree,
            untracked: local.untracked.clone(),
            tmp,
        })
    }

    /// Drops the reference (the sync is over; nothing needs the snapshot).
    fn forget(&self, git: &Git<'_>) -> Result<()> {
        git.run(&["update-ref", "-d", SNAPSHOT_REF, &self.commit]).map(drop)
    }

    /// Puts back exactly the state found: HEAD (and the branch) where it was,
    /// the tracked files as they were in the work tree, the untracked entity
    /// files, the index; removes untracked files sync left in the
    /// coordination data. Untracked files it never touched stay as they are.
    fn restore(&self, git: &Git<'_>, git_dir: &Path, prefix: &str) -> Result<()> {
        if git_dir.join("MERGE_HEAD").exists() {
            let _ = git.run(&["merge", "--abort"]);
        }
        git.run(&["reset", "-q", "--hard", &self.head])?;
        let root = root_prefix(prefix);
        let dirs = [format!("{root}coordination"), format!("{root}settings")];
        let mut args = vec!["ls-files", "-z", "--others", "--exclude-standard", "--"];
        args.extend(dirs.iter().map(String::as_str));
        let left = git.run(&args)?;
        for path in left.split('\0').filter(|p| !p.is_empty()) {
            if !self.untracked.iter().any(|u| u == path) {
                let p = git.dir.join(path);
                std::fs::remove_file(&p).map_err(|e| Error::io(p, e))?;
            }
        }
        git.run(&["read-tree", "--reset", "-u", &self.worktree_tree])?;
        if let Some(u) = &self.untracked_tree {
            let u_index = self.tmp.path().join("index-restore");
            let env = [("GIT_INDEX_FILE", u_index.as_os_str())];
            git.run_with(&env, &["read-tree", u])?;
            git.run_with(&env, &["checkout-index", "-a", "-f"])?;
        }
        git.run(&["read-tree", &self.index_tree])?;
        // Fresh stat data, so the next status does not re-read every file.
        let _ = git.output(&["update-index", "-q", "--refresh"]);
        self.forget(git)
    }
}

/// A path inside the git directory, as git resolves it.
fn git_path(git: &Git<'_>, name: &str) -> Result<PathBuf> {
    let p = PathBuf::from(git.run(&["rev-parse", "--git-path", name])?.trim());
    Ok(if p.is_absolute() { p } else { git.dir.join(p) })
}

/// How to get back what a snapshot holds.
pub(crate) fn recovery_hint(snapshot: &str) -> String {
    format!(
        "what you had before it is saved in {SNAPSHOT_REF} ({snapshot}), as a stash: \
         `git stash show --include-untracked {SNAPSHOT_REF}` shows it; \
         `git reset --hard {SNAPSHOT_REF}^1 && git stash apply --index {SNAPSHOT_REF}` puts it back; \
         then `git update-ref -d {SNAPSHOT_REF}`"
    )
}

/// A snapshot reference left by a sync that never finished.
fn interrupted(snapshot: &str) -> Error {
    Refusal::Interrupted { snapshot: snapshot.to_string() }.into()
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
        // Only the entity files the renumbering wrote, never a stray file.
        let prefix = store.root.prefix_in_repo().unwrap_or_default();
        let status = git.output(&["status", "--porcelain=v2", "-z", "--untracked-files=all", "--", "."])?;
        let changed: Vec<String> = parse_status_v2(&status.stdout)?
            .into_iter()
            .filter(|e| matches!(e.kind, StatusKind::Changed | StatusKind::Untracked))
            .map(|e| e.path)
            .filter(|p| is_entity_path(&prefix, p))
            .collect();
        let mut args = vec!["add", "-A", "--"];
        args.extend(changed.iter().map(String::as_str));
        git.run(&args)?;
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
            Refusal::MergeConflicts {
                upstream: upstream.to_string(),
                files: files.iter().map(|f| f.to_string()).collect(),
            }
            .into()
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
    Err(Refusal::MergedInvalid { problems: new }.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_paths_are_entity_files_under_the_root_only() {
        assert!(is_entity_path("", "coordination/issues/ISSUE-001.yaml"));
        assert!(is_entity_path("", "coordination/todos/TODO-001.yml"));
        assert!(is_entity_path("", "settings/ecosystem.yaml"));
        assert!(is_entity_path("sub/dir", "sub/dir/coordination/plans/PLAN-002.yaml"));
        assert!(!is_entity_path("sub/dir", "coordination/plans/PLAN-002.yaml"));
        assert!(!is_entity_path("", "coordination/issues/.coord-AbC123.tmp"));
        assert!(!is_entity_path("", "coordination/issues/notes.txt"));
        assert!(!is_entity_path("", "coordination/issues/.hidden.yaml"));
        assert!(!is_entity_path("", "coordination/other/ISSUE-001.yaml"));
        assert!(!is_entity_path("", "coordination/issues/sub/ISSUE-001.yaml"));
        assert!(!is_entity_path("", "settings/coord.yaml"));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 1..30 {
            let d = backoff(attempt);
            assert!(d <= backoff_cap(attempt), "{attempt}: {d:?}");
            assert!(backoff_cap(attempt) <= MAX_BACKOFF);
        }
    }
}
