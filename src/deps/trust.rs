//! Trust for `validation.command`s: the one place that decides whether a
//! command may run, used by every entry point (`check-deps`, `review`, the
//! pre-push hook, the MCP server).
//!
//! Commands in YAML are other people's code arriving through pull requests,
//! and checks run in hooks and CI, so trust comes only from places a pull
//! request cannot write:
//!
//! - approvals recorded by `git coord trust` in the local repository's git
//!   config (`coord.trusted`, multi-valued);
//! - the local git config key `coord.trustCommands = all` (a CI job that has
//!   decided to trust its checkout);
//! - the environment variable [`ENV_TRUST_ALL`] (`GIT_COORD_TRUST_ALL=1`);
//! - an explicit `--trust-all` from the caller.
//!
//! Tracked files are never a source: `trust_commands: all` in
//! `settings/coord.yaml` is ignored with a warning saying where to put it.
//!
//! An approval binds everything that decides what runs: the exact command
//! text and the canonical directory it runs in (the consumer's checkout,
//! whose `path` comes from the tracked `settings/ecosystem.yaml`) — and,
//! when that directory is inside the coordination repository itself, where
//! a pull request can change the scripts a command calls, the committed
//! files under it (a [`Place`]'s `content`; coordination data excluded). Commands
//! run through `sh -c` with the caller's own environment and stdin closed;
//! the tool sets no variable, so the environment is not something a pull
//! request can change and is not part of the binding. Changing one byte of
//! the command, or where it runs, withdraws the approval, and the reason
//! says which. Approvals from before the binding (a hash of the text alone)
//! are recognised only to say so: they no longer let anything run.
//!
//! Pool execution (`git coord trust --exec`) uses this same store and
//! binding, with the command text wrapped by
//! [`crate::exec::plan::exec_subject`]: it adds how the task is started and
//! the *names* of the `COORD_*` variables the executor sets (their values
//! differ per task and are data, never code), so an approval for a
//! `validation.command` never lets the same text run as a task — and, for
//! a pool that runs elsewhere, the pool's hosts and client settings.

use crate::error::Result;
use crate::store::Store;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::Path;

/// The git config key holding approvals.
pub const CONFIG_KEY: &str = "coord.trusted";
/// The local git config key that trusts every command (`all`).
pub const CONFIG_TRUST_ALL: &str = "coord.trustCommands";
/// The environment variable that trusts every command (`1`).
pub const ENV_TRUST_ALL: &str = "GIT_COORD_TRUST_ALL";
/// What settings warnings about ignored trust requests are filed under.
pub const WARNING_CODE: &str = "trust";
/// Where to ask for trust instead of a tracked file, for messages.
pub const WHERE_INSTEAD: &str = "trust comes only from this machine: `git coord trust DEP-…` after reading \
     the command, or, for a checkout you already trust, `git config --local coord.trustCommands all`, \
     `GIT_COORD_TRUST_ALL=1` or the `trust_all` option";

/// Marks approvals that bind the command and its directory.
const V2: &str = "v2";

/// Why trust could not be read or recorded.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// Approvals live in a repository's local git config; there is none.
    #[error("trust is recorded in the local git config: run this inside a git repository")]
    NoRepository,
    /// git refused to record an approval.
    #[error("cannot record the approval in the local git config (`{key}`): {message}")]
    Record {
        /// The config key.
        key: &'static str,
        /// git's message.
        message: String,
    },
    /// The directory a command runs in cannot be resolved.
    #[error("cannot resolve the directory the command runs in ({})", dir.display())]
    Dir {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Where a command runs: its canonical directory and, when the directory is
/// tracked by the coordination repository, a digest of the committed files
/// under it (other than coordination data), since a pull request can change
/// those.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub dir: std::path::PathBuf,
    pub content: Option<String>,
}

impl Place {
    /// `dir` (canonical) as a place of `store`'s repository.
    pub fn of(store: &Store, dir: std::path::PathBuf) -> Result<Place> {
        let content = tracked_content(store, &dir)?;
        Ok(Place { dir, content })
    }
}

/// The digest of the files committed at HEAD under `dir`, when `dir` is in
/// the coordination repository's work tree; coordination data (entity files
/// and the settings YAML) is left out, since it changes with every edit and
/// is never run.
fn tracked_content(store: &Store, dir: &Path) -> Result<Option<String>> {
    let Some(wt) = store.root.worktree.as_deref().and_then(|w| w.canonicalize().ok()) else { return Ok(None) };
    let Ok(rel) = dir.strip_prefix(&wt) else { return Ok(None) };
    let rel = rel.to_string_lossy().replace('\\', "/");
    let data = store.root.prefix_in_repo().unwrap_or_default();
    let data_prefix = |sub: &str| if data.is_empty() { sub.to_string() } else { format!("{data}/{sub}") };
    let (coordination, settings) = (data_prefix("coordination/"), data_prefix("settings/"));
    let mut args = vec!["ls-tree", "-r", "-z", "--full-tree", "HEAD"];
    if !rel.is_empty() {
        args.extend(["--", rel.as_str()]);
    }
    let out = crate::gitcmd::Git::new(&wt).output(&args)?;
    let mut h = Sha256::new();
    h.update(b"committed files\0");
    if out.status.success() {
        for entry in out.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
            let text = String::from_utf8_lossy(entry);
            let path = text.split_once('\t').map(|(_, p)| p).unwrap_or_default();
            let data_file = path.starts_with(&coordination)
                || (path.starts_with(&settings) && (path.ends_with(".yaml") || path.ends_with(".yml")));
            if !data_file {
                h.update(entry);
                h.update(b"\0");
            }
        }
    }
    Ok(Some(hex(&h.finalize())))
}

/// Why every command may run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AllFrom {
    /// `--trust-all`.
    Flag,
    /// [`ENV_TRUST_ALL`].
    Env,
    /// [`CONFIG_TRUST_ALL`] in the local git config.
    LocalConfig,
}

/// One approval: a command, bound to the directory it runs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// SHA-256 of the command text.
    pub command: String,
    /// SHA-256 of what runs: command text and canonical directory.
    pub binding: String,
    /// The directory, as shown when the approval was given.
    pub dir: String,
}

/// The approvals found in the local git config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approvals {
    pub bound: Vec<Approval>,
    /// Command-text hashes from before directory binding: never enough.
    pub legacy: HashSet<String>,
}

/// What an approval is for: a dependency's validation command, or the
/// command pool execution runs for a task (a todo, or a command in a
/// repository).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A dependency, by ID.
    Dependency(String),
    /// A task of a run, by its key.
    Task(String),
}

impl Subject {
    /// What a person does to approve it, in words that name no flag.
    fn approve(&self, again: bool) -> String {
        match self {
            Subject::Dependency(id) => format!("{}run git coord trust {id}", if again { "re-" } else { "" }),
            Subject::Task(key) => {
                format!("approve the execution of {key} {}with git coord trust", if again { "again " } else { "" })
            }
        }
    }
}

/// Why a command may not run (as data; each message names no flag).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    /// Commands are disabled here (`trust_commands: never`).
    #[error("command not run (commands are disabled here)")]
    Disabled,
    /// Approved here, but committed files next to it changed since.
    #[error(
        "untrusted command: the files it runs next to in {dir} changed in this repository since it was approved; {} after reading them",
        subject.approve(false)
    )]
    FilesChanged {
        /// What to approve.
        subject: Subject,
        /// The directory, escaped.
        dir: String,
    },
    /// Approved for other directories only.
    #[error("untrusted command: approved for {}, now runs in {dir}; {} after reading it", approved.join(" and "), subject.approve(false))]
    Moved {
        /// What to approve.
        subject: Subject,
        /// Where it was approved, escaped.
        approved: Vec<String>,
        /// Where it runs now, escaped.
        dir: String,
    },
    /// Approved before approvals were bound to a directory.
    #[error("untrusted command: approval predates directory binding; {} after reading it", subject.approve(true))]
    Legacy {
        /// What to approve.
        subject: Subject,
    },
    /// Never approved.
    #[error("untrusted command; {} after reading it", subject.approve(false))]
    NotApproved {
        /// What to approve.
        subject: Subject,
    },
    /// Not decided yet (a task whose command is not resolved).
    #[error("not checked")]
    NotChecked,
}

/// Whether commands may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustPolicy {
    /// Never run a command: commands report unknown.
    Never,
    /// Run commands approved for where they run.
    Approved(Approvals),
    /// Run every command.
    All(AllFrom),
}

impl TrustPolicy {
    /// `Ok` when `command` may run at `place`, else why not.
    pub fn decide(&self, subject: &Subject, command: &str, place: &Place) -> std::result::Result<(), Untrusted> {
        let dir = place.dir.as_path();
        let approvals = match self {
            TrustPolicy::All(_) => return Ok(()),
            TrustPolicy::Never => return Err(Untrusted::Disabled),
            TrustPolicy::Approved(a) => a,
        };
        let binding = binding(command, place);
        if approvals.bound.iter().any(|a| a.binding == binding) {
            return Ok(());
        }
        let text = hash(command);
        let shown_dir = dir.display().to_string();
        let subject = subject.clone();
        if place.content.is_some() && approvals.bound.iter().any(|a| a.command == text && a.dir == shown_dir) {
            return Err(Untrusted::FilesChanged {
                subject,
                dir: crate::display::escape_controls(&shown_dir).to_string(),
            });
        }
        let elsewhere: Vec<String> = approvals
            .bound
            .iter()
            .filter(|a| a.command == text)
            .map(|a| crate::display::escape_controls(&a.dir).to_string())
            .collect();
        if !elsewhere.is_empty() {
            return Err(Untrusted::Moved {
                subject,
                approved: elsewhere,
                dir: crate::display::escape_controls(&shown_dir).to_string(),
            });
        }
        if approvals.legacy.contains(&text) {
            return Err(Untrusted::Legacy { subject });
        }
        Err(Untrusted::NotApproved { subject })
    }
}

/// The trust of a run, with warnings about requests that were ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    pub policy: TrustPolicy,
    pub warnings: Vec<String>,
}

/// Decides the trust of a run for `store`: `trust_all` is the caller's
/// explicit request (`--trust-all`); the environment and the local git
/// config are read here; tracked settings asking for trust are reported in
/// the warnings and ignored.
pub fn resolve(store: &Store, trust_all: bool) -> Result<Trust> {
    let mut warnings: Vec<String> =
        store.settings_warnings.iter().filter(|p| p.code == WARNING_CODE).map(|p| p.to_string()).collect();
    let config = read_config(store.root.worktree.as_deref())?;
    let from_env = match std::env::var(ENV_TRUST_ALL) {
        Ok(v) => match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => true,
            "" | "0" | "false" | "no" | "off" => false,
            other => {
                warnings.push(format!("{ENV_TRUST_ALL}={other} is not 1 or 0: ignored (commands need approval)"));
                false
            }
        },
        Err(_) => false,
    };
    let from_config = match config.trust_commands.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("approved") => false,
        Some("all") => true,
        Some(other) => {
            warnings.push(format!(
                "git config {CONFIG_TRUST_ALL}={other} is not `all` or `approved`: ignored (commands need approval)"
            ));
            false
        }
    };
    let policy = if trust_all {
        TrustPolicy::All(AllFrom::Flag)
    } else if from_env {
        TrustPolicy::All(AllFrom::Env)
    } else if from_config {
        TrustPolicy::All(AllFrom::LocalConfig)
    } else {
        TrustPolicy::Approved(config.approvals)
    };
    Ok(Trust { policy, warnings })
}

/// The hex SHA-256 of a command string.
pub fn hash(command: &str) -> String {
    hex(&Sha256::digest(command.as_bytes()))
}

/// The hex SHA-256 of what runs: the command text, the directory and, for
/// a directory tracked by the coordination repository, its committed files.
pub fn binding(command: &str, place: &Place) -> String {
    let mut h = Sha256::new();
    h.update(b"git-coord approval v2: sh -c, stdin closed, caller's environment\0");
    h.update((command.len() as u64).to_le_bytes());
    h.update(command.as_bytes());
    h.update(place.dir.as_os_str().as_encoded_bytes());
    if let Some(c) = &place.content {
        h.update(b"\0tracked content\0");
        h.update(c.as_bytes());
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn git(repo: &Path, args: &[&str]) -> Result<std::process::Output> {
    crate::gitcmd::Git::new(repo).output(args)
}

#[derive(Debug, Default)]
struct LocalConfig {
    approvals: Approvals,
    trust_commands: Option<String>,
}

/// Reads approvals and `coord.trustCommands` from the local git config
/// only (never global, system or included files; nothing outside a
/// repository).
fn read_config(repo: Option<&Path>) -> Result<LocalConfig> {
    let mut cfg = LocalConfig::default();
    let Some(repo) = repo else { return Ok(cfg) };
    let out = git(repo, &["config", "--local", "--null", "--get-regexp", r"^coord\.(trusted|trustcommands)$"])?;
    // Exit 1 means "no such key": nothing configured.
    for entry in out.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let (key, value) = entry.split_once('\n').unwrap_or((&entry, ""));
        if key.eq_ignore_ascii_case(CONFIG_TRUST_ALL) {
            cfg.trust_commands = Some(value.trim().to_string());
        } else if let Some(a) = parse_approval(value) {
            cfg.approvals.bound.push(a);
        } else {
            let v = value.trim();
            if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                cfg.approvals.legacy.insert(v.to_ascii_lowercase());
            }
        }
    }
    Ok(cfg)
}

/// `v2 <command sha256> <binding sha256> <directory>`.
fn parse_approval(value: &str) -> Option<Approval> {
    let mut parts = value.splitn(4, ' ');
    (parts.next()? == V2).then_some(())?;
    let command = parts.next()?.to_string();
    let binding = parts.next()?.to_string();
    let dir = parts.next()?.to_string();
    Some(Approval { command, binding, dir })
}

/// Records approval of `command` running in `dir` (canonical) in the local
/// git config, replacing an approval of the same command from before
/// directory binding. Returns false when it was already approved.
pub fn approve(repo: Option<&Path>, command: &str, place: &Place) -> Result<bool> {
    let dir = place.dir.as_path();
    let repo = repo.ok_or(TrustError::NoRepository)?;
    let cfg = read_config(Some(repo))?;
    let binding = binding(command, place);
    if cfg.approvals.bound.iter().any(|a| a.binding == binding) {
        return Ok(false);
    }
    let text = hash(command);
    if cfg.approvals.legacy.contains(&text) {
        // The value regex is hex only: nothing to escape.
        let _ = git(repo, &["config", "--local", "--unset-all", CONFIG_KEY, &format!("^{text}$")])?;
    }
    let value = format!("{V2} {text} {binding} {}", dir.display());
    let out = git(repo, &["config", "--local", "--add", CONFIG_KEY, &value])?;
    if !out.status.success() {
        return Err(TrustError::Record {
            key: CONFIG_KEY,
            message: crate::display::shown(String::from_utf8_lossy(&out.stderr).trim()),
        }
        .into());
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_of_the_exact_text() {
        assert_eq!(hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_ne!(hash("echo 1"), hash("echo 1 "));
    }

    fn at(dir: &str) -> Place {
        Place { dir: dir.into(), content: None }
    }

    #[test]
    fn bindings_cover_the_text_the_directory_and_tracked_content() {
        let (a, b) = (at("/a/b"), at("/c/d"));
        assert_ne!(binding("sh ./ver.sh", &a), binding("sh ./ver.sh", &b));
        assert_ne!(binding("sh ./ver.sh", &a), binding("sh ./ver.sh ", &a));
        // The length prefix keeps text and directory from sliding into each other.
        assert_ne!(binding("x", &at("/y")), binding("x/", &at("y")));
        let tracked = |c: &str| Place { dir: "/a/b".into(), content: Some(c.into()) };
        assert_ne!(binding("sh ./ver.sh", &tracked("1")), binding("sh ./ver.sh", &tracked("2")));
        assert_ne!(binding("sh ./ver.sh", &tracked("1")), binding("sh ./ver.sh", &a));
    }

    #[test]
    fn policies() {
        let (a, b) = (at("/a/b"), at("/c/d"));
        let approvals = Approvals {
            bound: vec![Approval { command: hash("true"), binding: binding("true", &a), dir: "/a/b".into() }],
            legacy: [hash("old")].into_iter().collect(),
        };
        let p = TrustPolicy::Approved(approvals);
        let dep = |id: &str| Subject::Dependency(id.into());
        assert_eq!(p.decide(&dep("DEP-1"), "true", &a), Ok(()));
        assert_eq!(
            p.decide(&dep("DEP-1"), "true", &b).unwrap_err().to_string(),
            "untrusted command: approved for /a/b, now runs in /c/d; run git coord trust DEP-1 after reading it"
        );
        let changed = Place { dir: "/a/b".into(), content: Some("other".into()) };
        assert!(
            p.decide(&dep("DEP-1"), "true", &changed).unwrap_err().to_string().contains("changed in this repository")
        );
        assert!(
            p.decide(&dep("DEP-1"), "old", &a).unwrap_err().to_string().contains("approval predates directory binding")
        );
        assert_eq!(
            p.decide(&dep("DEP-1"), "rm -rf /", &a).unwrap_err().to_string(),
            "untrusted command; run git coord trust DEP-1 after reading it"
        );
        let task = Subject::Task("TODO-001".into());
        let refused = p.decide(&task, "rm -rf /", &a).unwrap_err().to_string();
        assert_eq!(
            refused,
            "untrusted command; approve the execution of TODO-001 with git coord trust after reading it"
        );
        assert!(!refused.contains("--"), "no flag in a library message: {refused}");
        assert_eq!(TrustPolicy::All(AllFrom::Flag).decide(&dep("D"), "x", &a), Ok(()));
        assert!(TrustPolicy::Never.decide(&dep("D"), "true", &a).is_err());
    }

    #[test]
    fn approvals_parse_with_spaces_in_the_directory() {
        let a = parse_approval("v2 c b /x/with space").unwrap();
        assert_eq!(a.dir, "/x/with space");
        assert!(parse_approval(&hash("x")).is_none());
    }
}
