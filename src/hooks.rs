//! Git hooks: the pre-push hook and, optionally, the events hooks
//! (post-commit, post-merge, post-rewrite); installing them (chaining any
//! hook already there, never overwriting one silently), removing only what
//! was installed, and the pre-push check — the coordination data of every
//! pushed ref reviewed against what the remote already has (see
//! [`crate::history::review`]). The events hooks only start
//! `git coord hook events` in the background ([`crate::memory::hook`]), so
//! they never fail or slow the user's git command.

use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::history::GitRepo;
use crate::history::review::{Review, ReviewOptions, remote_default_branch, review_commits};
use crate::store::Store;
use std::path::{Path, PathBuf};

/// Marks a hook file as installed by git-coord.
pub const MARKER: &str = "# git-coord pre-push hook";
/// Where an existing hook is kept when ours is chained in front of it.
pub const CHAINED: &str = "pre-push.pre-coord";
/// Marks an events hook as installed by git-coord.
pub const EVENTS_MARKER: &str = "# git-coord events hook";
/// The hooks that bring the event log up to date and deliver it.
pub const EVENTS_HOOKS: [&str; 3] = ["post-commit", "post-merge", "post-rewrite"];

/// What `hook install` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Installed {
    /// A new hook.
    Fresh(PathBuf),
    /// Ours was there already (rewritten, in case the binary moved).
    Updated(PathBuf),
    /// An existing hook was kept as `pre-push.pre-coord` and runs first.
    Chained { hook: PathBuf, previous: PathBuf },
}

/// What `hook uninstall` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uninstalled {
    /// Removed ours.
    Removed(PathBuf),
    /// Removed ours and put the chained hook back.
    Restored(PathBuf),
    /// No hook there.
    NotInstalled,
    /// The hook there is not ours: left alone.
    Foreign(PathBuf),
}

/// The hooks directory: `core.hooksPath` when set, else `<common dir>/hooks`.
pub fn hooks_dir(worktree: &Path) -> Result<PathBuf> {
    let repo = gix::open(worktree).map_err(Error::git)?;
    if let Ok(Some(p)) = repo.config_snapshot().trusted_path("core.hooksPath") {
        return Ok(if p.is_absolute() { p } else { worktree.join(p) });
    }
    Ok(repo.common_dir().join("hooks"))
}

fn script(fallback: &Path) -> String {
    let fallback = fallback.display().to_string().replace('\'', "'\\''");
    format!(
        "#!/bin/sh\n\
{MARKER} (installed by `git coord hook install`; `git coord hook uninstall` removes it).\n\
# Refuses a push whose coordination data is broken; `git push --no-verify` skips it.\n\
input=$(cat)\n\
chained=\"$(dirname \"$0\")/{CHAINED}\"\n\
if [ -x \"$chained\" ]; then\n\
    printf '%s\\n' \"$input\" | \"$chained\" \"$@\" || exit $?\n\
fi\n\
if command -v git-coord >/dev/null 2>&1; then coord=git-coord; else coord='{fallback}'; fi\n\
printf '%s\\n' \"$input\" | \"$coord\" hook pre-push \"$@\"\n"
    )
}

/// An events hook: runs a chained hook (its failure ignored: these hooks
/// cannot stop git anyway), then starts `hook events` detached from git,
/// its output discarded, and exits 0 at once.
fn events_script(name: &str, fallback: &Path) -> String {
    let fallback = fallback.display().to_string().replace('\'', "'\\''");
    let chained = format!("{name}.pre-coord");
    // post-rewrite's stdin lists the rewritten commits: the chained hook gets it.
    let run_chained = if name == "post-rewrite" {
        "    cat | \"$chained\" \"$@\" || true\n"
    } else {
        "    \"$chained\" \"$@\" </dev/null || true\n"
    };
    format!(
        "#!/bin/sh\n\
{EVENTS_MARKER} (installed by `git coord hook install --events`; `git coord hook uninstall --events` removes it).\n\
# Derives coordination events and delivers them in the background, at low priority:\n\
# never fails or waits. (No subshells: every fork here is time added to git.)\n\
chained=\"${{0%/*}}/{chained}\"\n\
if [ -x \"$chained\" ]; then\n{run_chained}fi\n\
if command -v git-coord >/dev/null 2>&1; then coord=git-coord; else coord='{fallback}'; fi\n\
nice -n 10 \"$coord\" hook events </dev/null >/dev/null 2>&1 &\n\
exit 0\n"
    )
}

fn is_ours(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(MARKER) || t.contains(EVENTS_MARKER))
}

fn write_executable(path: &Path, text: &str) -> Result<()> {
    crate::store::atomic_write(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|e| Error::io(path, e))?;
    }
    Ok(())
}

/// Installs the pre-push hook. An existing hook of someone else's is kept
/// and chained (it runs first, with the same input); with `force` it is
/// replaced instead, after a copy is saved as `pre-push.backup`.
pub fn install(worktree: &Path, force: bool) -> Result<Installed> {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("git-coord"));
    install_one(worktree, "pre-push", &script(&exe), force)
}

/// Installs the events hooks (post-commit, post-merge, post-rewrite), each
/// as [`install`] does the pre-push hook.
pub fn install_events(worktree: &Path, force: bool) -> Result<Vec<Installed>> {
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("git-coord"));
    EVENTS_HOOKS.iter().map(|name| install_one(worktree, name, &events_script(name, &exe), force)).collect()
}

/// Removes the events hooks that are ours.
pub fn uninstall_events(worktree: &Path) -> Result<Vec<Uninstalled>> {
    EVENTS_HOOKS.iter().map(|name| uninstall_one(worktree, name)).collect()
}

fn install_one(worktree: &Path, name: &str, text: &str, force: bool) -> Result<Installed> {
    let dir = hooks_dir(worktree)?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let hook = dir.join(name);
    if !hook.exists() {
        write_executable(&hook, text)?;
        return Ok(Installed::Fresh(hook));
    }
    if is_ours(&hook) {
        write_executable(&hook, text)?;
        return Ok(Installed::Updated(hook));
    }
    if force {
        let backup = dir.join(format!("{name}.backup"));
        std::fs::copy(&hook, &backup).map_err(|e| Error::io(&backup, e))?;
        write_executable(&hook, text)?;
        return Ok(Installed::Updated(hook));
    }
    let previous = dir.join(format!("{name}.pre-coord"));
    if previous.exists() {
        return Err(Refusal::HookTaken { hook: hook.clone(), previous }.into());
    }
    std::fs::rename(&hook, &previous).map_err(|e| Error::io(&hook, e))?;
    if let Err(e) = write_executable(&hook, text) {
        let _ = std::fs::rename(&previous, &hook);
        return Err(e);
    }
    Ok(Installed::Chained { hook, previous })
}

/// Removes the hook if it is ours, putting a chained hook back.
pub fn uninstall(worktree: &Path) -> Result<Uninstalled> {
    uninstall_one(worktree, "pre-push")
}

fn uninstall_one(worktree: &Path, name: &str) -> Result<Uninstalled> {
    let dir = hooks_dir(worktree)?;
    let hook = dir.join(name);
    if !hook.exists() {
        return Ok(Uninstalled::NotInstalled);
    }
    if !is_ours(&hook) {
        return Ok(Uninstalled::Foreign(hook));
    }
    let previous = dir.join(format!("{name}.pre-coord"));
    if previous.exists() {
        std::fs::rename(&previous, &hook).map_err(|e| Error::io(&previous, e))?;
        return Ok(Uninstalled::Restored(hook));
    }
    std::fs::remove_file(&hook).map_err(|e| Error::io(&hook, e))?;
    Ok(Uninstalled::Removed(hook))
}

/// One line of git's pre-push input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRef {
    pub local_ref: String,
    pub local_sha: String,
    pub remote_ref: String,
    pub remote_sha: String,
}

fn is_zero(sha: &str) -> bool {
    sha.bytes().all(|b| b == b'0')
}

/// Parses git's pre-push input (`<local ref> <local sha> <remote ref> <remote sha>` lines).
pub fn parse_push_lines(input: &str) -> Result<Vec<PushRef>> {
    let mut out = Vec::new();
    for line in input.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [local_ref, local_sha, remote_ref, remote_sha] = f[..] else {
            return Err(Error::system(
                "read git's pre-push input",
                format!(
                    "unexpected line `{}` (expected `<local ref> <local sha> <remote ref> <remote sha>`)",
                    crate::display::shown(line)
                ),
            ));
        };
        out.push(PushRef {
            local_ref: local_ref.into(),
            local_sha: local_sha.into(),
            remote_ref: remote_ref.into(),
            remote_sha: remote_sha.into(),
        });
    }
    Ok(out)
}

/// The check of one pushed ref.
#[derive(Debug, Clone)]
pub struct RefCheck {
    pub push: PushRef,
    pub review: Review,
}

/// Checks every pushed ref (deletions are skipped). Each is reviewed
/// against what the remote has: the remote ref's current commit when it is
/// known here, else the remote's default branch (so IDs created on it are
/// caught as collisions), else nothing (every error at the pushed commit
/// counts). With `auto_dependency_check` on, changed dependencies get an
/// offline check: no validation command runs in a hook, whatever the
/// settings or approvals (see [`crate::deps::CheckOptions::offline`]).
/// What refuses the push is what the push breaks; dependencies known to be
/// unsatisfied only warn unless `hook.block_on: unsatisfied` (docs/GIT.md).
pub fn pre_push(store: &Store, remote: &str, refs: &[PushRef]) -> Result<Vec<RefCheck>> {
    let repo = GitRepo::open(store, "hook pre-push")?;
    let opts = ReviewOptions {
        online: false,
        skip_dependency_checks: !store.settings.auto_dependency_check,
        block_on_unsatisfied: store.settings.hook_block_on == crate::settings::BlockOn::Unsatisfied,
        ..ReviewOptions::default()
    };
    let mut out = Vec::new();
    for push in refs {
        if is_zero(&push.local_sha) {
            continue;
        }
        let head = repo.resolve(&push.local_sha)?;
        let known_remote = (!is_zero(&push.remote_sha)).then(|| repo.resolve(&push.remote_sha).ok()).flatten();
        let (base_name, base_tip) = match known_remote {
            Some(tip) => {
                let branch = push.remote_ref.strip_prefix("refs/heads/").unwrap_or(&push.remote_ref);
                (format!("{remote}/{branch}"), Some(tip))
            }
            None => match remote_default_branch(&repo, remote) {
                Some(b) => {
                    let tip = repo.resolve(&b)?;
                    (b, Some(tip))
                }
                None => ("(nothing on the remote)".to_string(), None),
            },
        };
        let review = review_commits(store, &repo, &base_name, base_tip, head, &opts)?;
        out.push(RefCheck { push: push.clone(), review });
    }
    Ok(out)
}
