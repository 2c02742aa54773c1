//! `watch`: the dependency checks on an interval, reporting only changes of
//! verdict.
//!
//! Each round opens the store afresh (so pulled data and settings count),
//! optionally fetches the coordination repository and the providers'
//! checkouts first (`git fetch`: remote-tracking refs and tags only, no work
//! tree is touched — new release tags change provider versions, new remote
//! branches keep new IDs from colliding), runs [`super::check_async`] — the
//! same check, with the same trust resolution, as `check-deps` — and
//! compares each verdict with the previous one. Changes are handed to the
//! caller as [`WatchEvent`]s; nothing here prints.
//!
//! The previous verdicts persist between runs in the git directory
//! (`.git/git-coord/watch-*.json`, never tracked), so `watch --once` under a
//! timer or cron reports what changed since its last run. A dependency seen
//! for the first time is compared with its stored `status`.
//!
//! With `memory_enabled`, each round also brings the coordination event log
//! up to HEAD and pushes the outbox ([`crate::memory::outbox::update_and_push`],
//! the same pass as `events push`); deliveries and failed deliveries are
//! reported as [`WatchEvent::Memory`]. A service that fails or does not
//! answer only leaves its events pending (backing off): the loop goes on.
//!
//! A stop (the caller's future: SIGINT, SIGTERM) ends the loop between
//! rounds at once, and in the middle of a round's checks by abandoning them
//! (commands' process groups are killed, see [`super::command`]); writes
//! (`update`, `raise_issues`) are never cut short.

use super::issues::IssueChange;
use super::{CheckOptions, CheckReport, Verdict};
use crate::error::{Error, Result};
use crate::model::Kind;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// How long one `git fetch` may take before it is given up on.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(120);

/// What to watch and how.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// What to check, as for `check-deps`.
    pub check: CheckOptions,
    /// Time between the end of one round and the start of the next.
    pub interval: Duration,
    /// One round, then return.
    pub once: bool,
    /// `git fetch` the coordination repository and the providers first.
    pub fetch: bool,
    /// Write changed statuses back each round (as `check-deps --update`).
    pub update: bool,
    /// Raise and resolve issues each round (as `check-deps --raise-issues`).
    pub raise_issues: bool,
}

/// A verdict that changed.
#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    /// When the round that saw it ran (RFC 3339).
    pub at: String,
    pub id: String,
    pub consumer: String,
    pub provider: String,
    /// The previous verdict (for a dependency seen the first time, its
    /// stored status).
    pub from: String,
    pub to: Verdict,
    pub reason: String,
}

/// What a round reports.
#[derive(Debug, Clone)]
pub enum WatchEvent {
    /// A verdict changed.
    Changed(Transition),
    /// A status written back (`update`).
    Updated { at: String, written: super::Written },
    /// An issue written (`raise_issues`).
    Issue { at: String, change: IssueChange },
    /// Events delivered, or a delivery that failed (memory on).
    Memory { at: String, delivery: crate::memory::outbox::Delivery },
    /// Something this round could not do; the loop goes on. Each distinct
    /// warning is reported once, until it goes away.
    Warning(String),
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The one round of `once` is done.
    Once,
    /// The stop future completed.
    Stopped,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    version: u32,
    verdicts: BTreeMap<String, String>,
}

const STATE_VERSION: u32 = 1;

fn state_path(store: &Store) -> Option<PathBuf> {
    let git = store.root.git_dir()?;
    let root = match store.root.prefix_in_repo()?.as_str() {
        "" => "root".to_string(),
        p => p.replace(['/', '\\'], "%"),
    };
    Some(git.join("git-coord").join(format!("watch-{root}.json")))
}

fn load_state(path: Option<&Path>) -> BTreeMap<String, String> {
    path.and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<State>(&b).ok())
        .filter(|s| s.version == STATE_VERSION)
        .map(|s| s.verdicts)
        .unwrap_or_default()
}

fn save_state(path: Option<&Path>, verdicts: &BTreeMap<String, String>) -> Result<()> {
    let Some(path) = path else { return Ok(()) };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let state = State { version: STATE_VERSION, verdicts: verdicts.clone() };
    let bytes = serde_json::to_vec_pretty(&state).map_err(|e| Error::system("encode the watch state", e))?;
    crate::store::atomic_write(path, &bytes)
}

fn now() -> String {
    crate::model::date::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Runs the watch loop from the coordination root found from `dir` until
/// `stop` completes (or after one round with `once`), handing every change
/// to `on_event`. A round that fails is reported as a warning and the loop
/// goes on; with `once` it is the error returned.
pub async fn watch(
    dir: &Path,
    opts: &WatchOptions,
    stop: impl Future<Output = ()>,
    mut on_event: impl FnMut(WatchEvent),
) -> Result<Ended> {
    tokio::pin!(stop);
    let mut seen_warnings: BTreeSet<String> = BTreeSet::new();
    loop {
        let mut warnings = Vec::new();
        let checked = tokio::select! {
            biased;
            () = &mut stop => return Ok(Ended::Stopped),
            r = check_round(dir, opts, &mut warnings) => r,
        };
        // From here on the round writes: it is not cut short.
        let outcome = checked.and_then(|(store, report)| finish_round(&store, &report, opts, &mut on_event));
        if let Err(e) = outcome {
            if opts.once {
                return Err(e);
            }
            warnings.push(e.to_string());
        }
        // Memory: never cut short, never an error of the round.
        match memory_round(dir).await {
            Ok(Some(delivery)) if delivery.is_news() => on_event(WatchEvent::Memory { at: now(), delivery }),
            Ok(_) => {}
            Err(e) => warnings.push(format!("events: {e}")),
        }
        // A warning is news once; it is said again only after it went away.
        let current: BTreeSet<String> = warnings.into_iter().collect();
        for w in current.difference(&seen_warnings) {
            on_event(WatchEvent::Warning(w.clone()));
        }
        seen_warnings = current;
        if opts.once {
            return Ok(Ended::Once);
        }
        tokio::select! {
            biased;
            () = &mut stop => return Ok(Ended::Stopped),
            () = tokio::time::sleep(opts.interval) => {}
        }
    }
}

/// With memory on, derives new events and pushes the outbox (on a blocking
/// thread: the sinks drive their own runtimes); `None` with memory off.
async fn memory_round(dir: &Path) -> Result<Option<crate::memory::outbox::Delivery>> {
    let dir = dir.to_path_buf();
    let pass = tokio::task::spawn_blocking(move || {
        let store = Store::open(&dir)?;
        if !store.settings.memory_enabled {
            return Ok(None);
        }
        crate::memory::outbox::update_and_push(&store, &crate::progress::NoProgress).map(Some)
    });
    pass.await.map_err(|e| Error::system("deliver events", e))?
}

/// Fetches (if asked) and checks; cancellable.
async fn check_round(dir: &Path, opts: &WatchOptions, warnings: &mut Vec<String>) -> Result<(Store, CheckReport)> {
    let store = Store::open(dir)?;
    if opts.fetch {
        let loaded = store.load(&[Kind::Dependency])?;
        let mut repos = Vec::new();
        repos.extend(store.root.worktree.clone());
        repos.extend(super::provider_checkouts(&store, &loaded, &opts.check)?);
        for repo in repos {
            if let Err(e) = fetch(&repo).await {
                warnings.push(format!("git fetch in {}: {e}", repo.display()));
            }
        }
    }
    let loaded = store.load(&[Kind::Dependency])?;
    for p in loaded.problems.iter().filter(|p| p.is_error()) {
        warnings.push(p.to_string());
    }
    let report = super::check_async(&store, &loaded, &opts.check).await?;
    warnings.extend(report.warnings.iter().cloned());
    Ok((store, report))
}

/// Reports the changes of verdict, records the verdicts, writes back.
fn finish_round(
    store: &Store,
    report: &CheckReport,
    opts: &WatchOptions,
    on_event: &mut impl FnMut(WatchEvent),
) -> Result<()> {
    let at = now();
    let path = state_path(store);
    let mut verdicts = load_state(path.as_deref());
    for r in &report.results {
        let before = verdicts.get(&r.id).cloned().unwrap_or_else(|| r.stored.clone());
        if before != r.status.as_str() {
            on_event(WatchEvent::Changed(Transition {
                at: at.clone(),
                id: r.id.clone(),
                consumer: r.consumer.clone(),
                provider: r.provider.clone(),
                from: before,
                to: r.status,
                reason: r.reason.clone(),
            }));
        }
        verdicts.insert(r.id.clone(), r.status.as_str().to_string());
    }
    // Dependencies that no longer exist are forgotten.
    let all = store.load(&[Kind::Dependency])?;
    verdicts.retain(|id, _| all.get(Kind::Dependency, id).is_some());
    save_state(path.as_deref(), &verdicts)?;
    if opts.update {
        for written in super::apply_updates(store, report)? {
            on_event(WatchEvent::Updated { at: at.clone(), written });
        }
    }
    if opts.raise_issues {
        for change in super::issues::raise_issues(store, report)? {
            on_event(WatchEvent::Issue { at: at.clone(), change });
        }
    }
    Ok(())
}

/// `git fetch --tags` in a repository that has a remote; nothing when it has
/// none. Never prompts; killed if it takes longer than [`FETCH_TIMEOUT`] or
/// when the round is abandoned.
async fn fetch(repo: &Path) -> std::result::Result<(), FetchError> {
    let git = |args: &[&str]| {
        let mut cmd = tokio::process::Command::new("git");
        cmd.args(args)
            .current_dir(repo)
            .env("GIT_TERMINAL_PROMPT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    };
    if !repo.join(".git").exists() {
        return Ok(());
    }
    let remotes = git(&["remote"]).output().await.map_err(FetchError::Spawn)?;
    if String::from_utf8_lossy(&remotes.stdout).trim().is_empty() {
        return Ok(());
    }
    let run = tokio::time::timeout(FETCH_TIMEOUT, git(&["fetch", "--quiet", "--tags"]).output()).await;
    match run {
        Err(_) => Err(FetchError::Timeout { secs: FETCH_TIMEOUT.as_secs() }),
        Ok(Err(e)) => Err(FetchError::Spawn(e)),
        Ok(Ok(out)) if out.status.success() => Ok(()),
        Ok(Ok(out)) => Err(FetchError::Failed {
            last_line: String::from_utf8_lossy(&out.stderr).trim().lines().last().unwrap_or("failed").to_string(),
        }),
    }
}

/// Why a `git fetch` of a watched checkout failed (a warning of the round).
#[derive(Debug, thiserror::Error)]
enum FetchError {
    /// git could not be started.
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
    /// It took longer than [`FETCH_TIMEOUT`] and was killed.
    #[error("gave up after {secs}s")]
    Timeout {
        /// The timeout.
        secs: u64,
    },
    /// git failed; the last line it printed.
    #[error("{last_line}")]
    Failed {
        /// git's last line of stderr.
        last_line: String,
    },
}

/// Parses an interval: `30s`, `5m`, `2h`, or a plain number of minutes.
pub fn parse_interval(text: &str) -> std::result::Result<Duration, crate::error::ValueError> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, "m"),
    };
    let bad = || crate::error::ValueError::new(text, "an interval (30s, 5m, 2h, or a number of minutes)");
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" | "sec" | "secs" => Some(n),
        "m" | "min" | "mins" => n.checked_mul(60),
        "h" | "hour" | "hours" => n.checked_mul(3600),
        _ => return Err(bad()),
    }
    .ok_or_else(bad)?;
    if secs == 0 {
        return Err(crate::error::ValueError::new(text, "an interval of at least one second"));
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_interval("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_interval("15"), Ok(Duration::from_secs(900)));
        assert!(parse_interval("0").is_err());
        assert!(parse_interval("5x").is_err());
        assert!(parse_interval("m").is_err());
        assert!(parse_interval("-3").is_err());
    }
}
