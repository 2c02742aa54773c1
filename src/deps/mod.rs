//! Dependency checks: judging each inter-repository dependency by what can
//! actually be observed — the provider's version against the constraint, a
//! trusted validation command, an HTTP health check — and reporting the
//! evidence and the reason for every verdict.
//!
//! All checks of a run go concurrently on one tokio runtime built for the
//! run ([`check`]) or on the caller's ([`check_async`], for the MCP server).
//! Two semaphores of `jobs` permits each bound the processes and the HTTP
//! connections in flight (`jobs` processes, [`CONNECTIONS_PER_JOB`] × `jobs`
//! connections: a connection waiting on a slow endpoint costs a socket, not
//! a core); they are separate so that hanging health checks
//! never hold up commands, nor the reverse. Nothing here writes: [`apply_updates`] writes judged statuses back
//! through [`crate::ops::update_with`], the one write path.
//!
//! Two decisions are made here once for every front end (CLI, review, the
//! pre-push hook, MCP): what "offline" means ([`CheckOptions::offline`]: no
//! command and no network), and whether a command may run
//! ([`trust::resolve`], read inside [`check_async`] so no caller can skip
//! it).
//!
//! It stays one file: the selection, the concurrent judging and the write-
//! back share the `Job` and the semaphores; the methods with their own
//! concerns (versions, constraints, trust, rules, issues, watch) are already
//! submodules.

pub mod command;
pub mod constraint;
pub mod health;
pub mod issues;
pub mod rules;
pub mod trust;
pub mod version;
pub mod watch;

use crate::error::{Error, Result};
use crate::model::{DepStatus, Dependency, Kind};
use crate::progress::Progress;
use crate::store::{Loaded, Store, WriteMode, natural_key};
use constraint::Ecosystem;
use regex::Regex;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
pub use trust::TrustPolicy;

/// HTTP connections allowed per `--jobs` slot. Waiting on an endpoint is
/// cheap (a socket and a timer), so 20 health checks against endpoints that
/// never answer cost one timeout at the default `--jobs 8`, not three.
pub const CONNECTIONS_PER_JOB: usize = 4;

/// What to check and how.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Only these IDs (empty: all).
    pub ids: Vec<String>,
    /// Only dependencies of these consumers (any spelling; empty: all).
    pub consumer: Vec<String>,
    /// Only dependencies on these providers (any spelling; empty: all).
    pub provider: Vec<String>,
    /// Offline: no command runs and no request goes out. Health checks and
    /// commands are reported unknown; versions come from checkouts.
    pub offline: bool,
    /// The caller's explicit request to run every command (`--trust-all`).
    /// Every other source of trust is read by [`trust::resolve`].
    pub trust_all: bool,
    /// Per command and per HTTP request.
    pub timeout: Duration,
    /// Processes in flight at once; HTTP connections get
    /// [`CONNECTIONS_PER_JOB`] times as many (separately).
    pub jobs: usize,
}

impl Default for CheckOptions {
    /// The safe defaults: offline, no command runs.
    fn default() -> Self {
        CheckOptions {
            ids: Vec::new(),
            consumer: Vec::new(),
            provider: Vec::new(),
            offline: true,
            trust_all: false,
            timeout: Duration::from_secs(10),
            jobs: 8,
        }
    }
}

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Satisfied,
    Unsatisfied,
    Unknown,
    Deprecated,
}

impl Verdict {
    /// The stored status word.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Satisfied => "satisfied",
            Verdict::Unsatisfied => "unsatisfied",
            Verdict::Unknown => "unknown",
            Verdict::Deprecated => "deprecated",
        }
    }
}

/// What a method observed.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Evidence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where the version came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_source: Option<String>,
    /// `semver` or `pep440`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub syntax: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Command output (stdout then stderr), truncated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
}

/// One method's result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MethodResult {
    /// `version`, `command` or `health`.
    pub method: &'static str,
    pub status: Verdict,
    pub evidence: Evidence,
    pub reason: String,
    /// The command was not run because it is not trusted here (a value,
    /// so callers never match the reason's text).
    #[serde(skip)]
    #[schemars(skip)]
    pub untrusted: bool,
}

/// One dependency's result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DepResult {
    pub id: String,
    pub consumer: String,
    pub provider: String,
    /// The status in the data before the check.
    pub stored: String,
    pub status: Verdict,
    pub methods: Vec<MethodResult>,
    pub reason: String,
}

/// Counts per verdict.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, JsonSchema)]
pub struct Summary {
    pub total: usize,
    pub satisfied: usize,
    pub unsatisfied: usize,
    pub unknown: usize,
    pub deprecated: usize,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CheckReport {
    pub results: Vec<DepResult>,
    pub summary: Summary,
    /// Requests for trust that were ignored (a tracked setting, a bad value).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl CheckReport {
    /// True when nothing is unsatisfied (exit 0).
    pub fn passed(&self) -> bool {
        self.summary.unsatisfied == 0
    }
}

/// Everything one dependency's check needs, owned (tasks are `'static`).
#[derive(Debug, Clone)]
struct Job {
    dep: Dependency,
    stored: String,
    provider_path: Option<PathBuf>,
    /// Where its command runs (or why it cannot be found).
    run_dir: std::result::Result<trust::Place, Arc<Error>>,
}

/// Where a dependency's command runs: the consumer's checkout (its `path`
/// in the ecosystem registry) when that is a directory, else the
/// coordination root — canonical, because an approval binds it.
fn run_dir(store: &Store, loaded: &Loaded, consumer: &str) -> Result<trust::Place> {
    let reg = &loaded.registry;
    let root = &store.root.dir;
    let dir =
        reg.find(consumer).and_then(|r| reg.repo_path(r, root)).filter(|p| p.is_dir()).unwrap_or_else(|| root.clone());
    let dir = dir.canonicalize().map_err(|source| trust::TrustError::Dir { dir: dir.clone(), source })?;
    trust::Place::of(store, dir)
}

/// Selects the dependencies to check, in natural ID order.
fn select(store: &Store, loaded: &Loaded, opts: &CheckOptions) -> Result<Vec<Job>> {
    let reg = &loaded.registry;
    let mut errs: Vec<crate::error::FieldError> = Vec::new();
    let mut repo = |field: &str, names: &[String]| -> Vec<String> {
        names
            .iter()
            .filter_map(|n| match reg.resolve(n) {
                Err(e) => {
                    errs.push(e.on_field(field));
                    None
                }
                Ok(r) => Some(r),
            })
            .collect()
    };
    let (consumer, provider) = (repo("consumer", &opts.consumer), repo("provider", &opts.provider));
    if !errs.is_empty() {
        return Err(Error::Fields(errs));
    }
    let ids = opts
        .ids
        .iter()
        .map(|id| crate::ops::resolve_loaded(store, loaded, Kind::Dependency, id))
        .collect::<Result<Vec<_>>>()?;
    let mut deps: Vec<&Dependency> = loaded
        .dependencies()
        .filter(|d| ids.is_empty() || ids.contains(&d.id))
        .filter(|d| consumer.is_empty() || consumer.iter().any(|c| reg.same(&d.consumer, c)))
        .filter(|d| provider.is_empty() || provider.iter().any(|p| reg.same(&d.provider, p)))
        .collect();
    deps.sort_by_key(|d| natural_key(&d.id));
    let root = &store.root.dir;
    let path_of = |name: &str| reg.find(name).and_then(|r| reg.repo_path(r, root));
    Ok(deps
        .into_iter()
        .map(|d| Job {
            stored: d.status.to_string(),
            provider_path: path_of(&d.provider),
            run_dir: run_dir(store, loaded, &d.consumer).map_err(Arc::new),
            dep: d.clone(),
        })
        .collect())
}

/// The providers' checkouts of the selected dependencies (those with a
/// `path`), each once, for `watch --fetch`.
pub fn provider_checkouts(store: &Store, loaded: &Loaded, opts: &CheckOptions) -> Result<Vec<PathBuf>> {
    let mut paths: Vec<PathBuf> = select(store, loaded, opts)?.into_iter().filter_map(|j| j.provider_path).collect();
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// Checks the selected dependencies on a runtime built for this call.
pub fn check(store: &Store, loaded: &Loaded, opts: &CheckOptions) -> Result<CheckReport> {
    check_with(store, loaded, opts, &crate::progress::NoProgress)
}

/// [`check`], reporting one step per dependency judged.
pub fn check_with(store: &Store, loaded: &Loaded, opts: &CheckOptions, progress: &dyn Progress) -> Result<CheckReport> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::system("start the async runtime", e))?;
    rt.block_on(check_async_with(store, loaded, opts, progress))
}

/// Checks the selected dependencies on the caller's tokio runtime.
pub async fn check_async(store: &Store, loaded: &Loaded, opts: &CheckOptions) -> Result<CheckReport> {
    check_async_with(store, loaded, opts, &crate::progress::NoProgress).await
}

/// [`check_async`], reporting one step per dependency judged (in the order
/// they finish).
pub async fn check_async_with(
    store: &Store,
    loaded: &Loaded,
    opts: &CheckOptions,
    progress: &dyn Progress,
) -> Result<CheckReport> {
    let _done = crate::progress::Finish(progress);
    let jobs = select(store, loaded, opts)?;
    progress.start(jobs.len() as u64, "checking dependencies");
    let trust = trust::resolve(store, opts.trust_all)?;
    let shared = Arc::new(Shared {
        policy: if opts.offline { TrustPolicy::Never } else { trust.policy },
        processes: Semaphore::new(opts.jobs.max(1)),
        connections: Semaphore::new(opts.jobs.max(1) * CONNECTIONS_PER_JOB),
        clients: if opts.offline {
            None
        } else {
            Some([health::client(opts.timeout, false)?, health::client(opts.timeout, true)?])
        },
        opts: opts.clone(),
    });
    // Each check says when it is done, so progress counts them as they
    // finish, not in the order they were started.
    let (finished, mut finishing) = tokio::sync::mpsc::unbounded_channel::<()>();
    let handles: Vec<_> = jobs
        .into_iter()
        .map(|job| {
            let shared = Arc::clone(&shared);
            let finished = finished.clone();
            tokio::spawn(async move {
                let r = judge(job, &shared).await;
                let _ = finished.send(());
                r
            })
        })
        .collect();
    drop(finished);
    while finishing.recv().await.is_some() {
        progress.inc(1);
    }
    let mut results = Vec::with_capacity(handles.len());
    for h in handles {
        results.push(h.await.map_err(|e| Error::system("finish a dependency check (it panicked)", e))?);
    }
    let mut summary = Summary { total: results.len(), ..Summary::default() };
    for r in &results {
        match r.status {
            Verdict::Satisfied => summary.satisfied += 1,
            Verdict::Unsatisfied => summary.unsatisfied += 1,
            Verdict::Unknown => summary.unknown += 1,
            Verdict::Deprecated => summary.deprecated += 1,
        }
    }
    Ok(CheckReport { results, summary, warnings: trust.warnings })
}

struct Shared {
    processes: Semaphore,
    connections: Semaphore,
    /// Not following redirects, following them; `None` offline.
    clients: Option<[reqwest::Client; 2]>,
    policy: TrustPolicy,
    opts: CheckOptions,
}

fn method(method: &'static str, status: Verdict, evidence: Evidence, reason: impl Into<String>) -> MethodResult {
    MethodResult { method, status, evidence, reason: reason.into(), untrusted: false }
}

async fn judge(job: Job, shared: &Shared) -> DepResult {
    let dep = &job.dep;
    let base = |status, methods, reason: String| DepResult {
        id: dep.id.clone(),
        consumer: dep.consumer.clone(),
        provider: dep.provider.clone(),
        stored: job.stored.clone(),
        status,
        methods,
        reason,
    };
    if dep.status.known() == Some(DepStatus::Deprecated) {
        return base(Verdict::Deprecated, Vec::new(), "deprecated: not checked".into());
    }
    let validation = dep.validation.clone().unwrap_or_default();
    let constraint = dep.version_constraint.clone().filter(|c| !c.trim().is_empty());
    let command = validation.command.clone().filter(|c| !c.trim().is_empty());
    let url = validation.health_check.clone().filter(|c| !c.trim().is_empty());
    if constraint.is_none() && command.is_none() && url.is_none() {
        return base(
            Verdict::Unknown,
            Vec::new(),
            "nothing to check: no version_constraint, validation.command or validation.health_check".into(),
        );
    }
    let cmd_and_version = async {
        let mut out = Vec::new();
        let ran = match &command {
            Some(c) => {
                let (m, output) = run_command(&dep.id, c, validation.expected_pattern.as_deref(), &job, shared).await;
                out.push(m);
                output
            }
            None => None,
        };
        if let Some(c) = &constraint {
            out.push(judge_version(c, ran, validation.expected_pattern.as_deref(), &job).await);
        }
        out
    };
    let health = async {
        match &url {
            Some(u) => {
                let follow = validation.extra.get("follow_redirects").and_then(serde_yaml::Value::as_bool);
                Some(run_health(u, validation.expected_status.unwrap_or(200), follow == Some(true), shared).await)
            }
            None => None,
        }
    };
    let (mut methods, health) = tokio::join!(cmd_and_version, health);
    methods.extend(health);
    let (status, reason) = combine(&methods);
    base(status, methods, reason)
}

/// All methods must pass; one failure fails the dependency, else one unknown
/// makes it unknown.
fn combine(methods: &[MethodResult]) -> (Verdict, String) {
    let pick = |v: Verdict| methods.iter().filter(|m| m.status == v).map(|m| m.reason.clone()).collect::<Vec<_>>();
    let failed = pick(Verdict::Unsatisfied);
    if !failed.is_empty() {
        return (Verdict::Unsatisfied, failed.join("; "));
    }
    let unknown = pick(Verdict::Unknown);
    if !unknown.is_empty() {
        return (Verdict::Unknown, unknown.join("; "));
    }
    (Verdict::Satisfied, pick(Verdict::Satisfied).join("; "))
}

/// Runs a trusted command; returns its method result and, when it ran and
/// exited 0, its output (a version source).
async fn run_command(
    id: &str,
    command: &str,
    pattern: Option<&str>,
    job: &Job,
    shared: &Shared,
) -> (MethodResult, Option<String>) {
    let unknown = |reason: String| (method("command", Verdict::Unknown, Evidence::default(), reason), None);
    if shared.opts.offline {
        return unknown("offline: command not run".into());
    }
    let dir = match &job.run_dir {
        Ok(d) => d,
        Err(e) => return unknown(e.one_line()),
    };
    if let Err(reason) = shared.policy.decide(&trust::Subject::Dependency(id.to_string()), command, dir) {
        let (mut m, out) = unknown(reason.to_string());
        m.untrusted = true;
        return (m, out);
    }
    let re = match pattern.map(Regex::new).transpose() {
        Ok(re) => re,
        Err(e) => {
            let reason = format!("expected_pattern is not a valid regex: {e}");
            return (method("command", Verdict::Unknown, Evidence::default(), reason), None);
        }
    };
    let run = {
        let _permit = shared.processes.acquire().await.expect("the semaphore is never closed");
        command::run(command, &dir.dir, shared.opts.timeout).await
    };
    let mut ev = Evidence {
        exit_code: run.code,
        output: Some(command::truncate(&run.output)),
        latency_ms: Some(run.elapsed.as_millis() as u64),
        ..Evidence::default()
    };
    if let Some(e) = run.spawn_error {
        ev.output = None;
        return (method("command", Verdict::Unknown, ev, e), None);
    }
    if run.timed_out {
        let reason = format!("command timed out after {}s (process group killed)", secs(shared.opts.timeout));
        return (method("command", Verdict::Unsatisfied, ev, reason), None);
    }
    match run.code {
        Some(0) => {}
        Some(c) => return (method("command", Verdict::Unsatisfied, ev, format!("command exited with {c}")), None),
        None => return (method("command", Verdict::Unsatisfied, ev, "command was killed by a signal"), None),
    }
    if let Some(re) = &re
        && !re.is_match(&run.output)
    {
        let reason = format!("command output does not match /{}/", re.as_str());
        return (method("command", Verdict::Unsatisfied, ev, reason), None);
    }
    let reason = match &re {
        Some(re) => format!("command exited 0 and matched /{}/", re.as_str()),
        None => "command exited 0".to_string(),
    };
    (method("command", Verdict::Satisfied, ev, reason), Some(run.output))
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 { format!("{s:.0}") } else { format!("{s}") }
}

async fn judge_version(constraint: &str, output: Option<String>, pattern: Option<&str>, job: &Job) -> MethodResult {
    let re = pattern.and_then(|p| Regex::new(p).ok());
    let path = job.provider_path.clone();
    // The ecosystem picks the constraint syntax even when the version comes
    // from a command, so the checkout is consulted for it either way.
    let from_repo = tokio::task::spawn_blocking(move || match path {
        Some(p) => (version::ecosystem_of(&p), version::from_checkout(&p)),
        None => (None, Err(version::NoVersion::NoPath)),
    })
    .await
    .unwrap_or_else(|e| (None, Err(version::NoVersion::Worker(e.to_string()))));
    let (eco, repo_found): (Option<Ecosystem>, _) = from_repo;
    let found = match output.as_deref().and_then(|o| version::from_output(o, re.as_ref())) {
        Some(v) => Ok(version::Found { version: v, source: "command output".into(), ecosystem: eco }),
        None => repo_found,
    };
    let found = match found {
        Ok(f) => f,
        Err(why) => {
            return method(
                "version",
                Verdict::Unknown,
                Evidence::default(),
                format!("no provider version found: {why}"),
            );
        }
    };
    let mut ev = Evidence {
        version: Some(found.version.clone()),
        version_source: Some(found.source.clone()),
        ..Evidence::default()
    };
    match constraint::evaluate(constraint, &found.version, found.ecosystem) {
        Ok(v) => {
            ev.syntax = Some(v.syntax);
            let (status, word) = if v.satisfied {
                (Verdict::Satisfied, "satisfies")
            } else {
                (Verdict::Unsatisfied, "does not satisfy")
            };
            let reason = format!("{} ({}) {word} {constraint}", found.version, found.source);
            method("version", status, ev, reason)
        }
        Err(e) => method("version", Verdict::Unknown, ev, format!("cannot evaluate: {e}")),
    }
}

async fn run_health(url: &str, expected: u16, follow: bool, shared: &Shared) -> MethodResult {
    let Some(clients) = &shared.clients else {
        return method("health", Verdict::Unknown, Evidence::default(), "offline: health check skipped");
    };
    let client = &clients[usize::from(follow)];
    let shown = crate::display::redact_urls(url);
    let probe = {
        let _permit = shared.connections.acquire().await.expect("the semaphore is never closed");
        health::probe(client, url).await
    };
    let ev = Evidence {
        http_status: probe.status,
        latency_ms: Some(probe.latency.as_millis() as u64),
        ..Evidence::default()
    };
    match (probe.status, probe.failure) {
        (Some(s), _) if s == expected => method("health", Verdict::Satisfied, ev, format!("GET {shown}: HTTP {s}")),
        (Some(s), _) => {
            method("health", Verdict::Unsatisfied, ev, format!("GET {shown}: HTTP {s}, expected {expected}"))
        }
        (None, Some(f)) => {
            let f = if f == "timeout" { format!("timeout after {}s", secs(shared.opts.timeout)) } else { f };
            // Error messages may quote the URL, credentials and all.
            method("health", Verdict::Unsatisfied, ev, format!("GET {shown}: {}", crate::display::redact_urls(&f)))
        }
        (None, None) => method("health", Verdict::Unsatisfied, ev, format!("GET {shown}: no response")),
    }
}

/// One status written back.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Written {
    pub id: String,
    pub from: String,
    pub to: String,
}

/// Writes each judged status that differs from the stored one, through
/// [`crate::ops::update_with`]. Deprecated dependencies are never touched.
pub fn apply_updates(store: &Store, report: &CheckReport) -> Result<Vec<Written>> {
    let mut written = Vec::new();
    for r in &report.results {
        if r.status == Verdict::Deprecated || r.stored == r.status.as_str() {
            continue;
        }
        let status = crate::model::vocab::parse_strict::<crate::model::DepStatus>(r.status.as_str())
            .map_err(|e| crate::Error::Fields(vec![e.on_field("status")]))?;
        let outcome = crate::ops::update_with(store, Kind::Dependency, &r.id, crate::ops::Rewrite::Refused, |e, _| {
            if let crate::model::Entity::Dependency(d) = e {
                d.status = crate::model::Lenient::Known(status);
            }
            Ok(())
        })?;
        if outcome.mode != WriteMode::Unchanged {
            written.push(Written { id: r.id.clone(), from: r.stored.clone(), to: r.status.as_str().to_string() });
        }
    }
    Ok(written)
}

/// The repository whose local config holds approvals.
pub fn git_dir_of(store: &Store) -> Option<&Path> {
    store.root.worktree.as_deref()
}

/// A command `git coord trust` approves: what runs and where.
#[derive(Debug, Clone)]
pub struct Runnable {
    pub id: String,
    pub command: String,
    /// Where it runs, as [`check`] resolves it.
    pub place: trust::Place,
}

/// Dependencies with a command, for `git coord trust`.
pub fn commands(store: &Store, loaded: &Loaded, ids: &[String]) -> Result<Vec<Runnable>> {
    let ids = ids
        .iter()
        .map(|id| crate::ops::resolve_loaded(store, loaded, Kind::Dependency, id))
        .collect::<Result<Vec<_>>>()?;
    let mut out = Vec::new();
    for d in loaded.dependencies().filter(|d| ids.is_empty() || ids.contains(&d.id)) {
        let Some(command) = d.validation.as_ref().and_then(|v| v.command.clone()).filter(|c| !c.trim().is_empty())
        else {
            continue;
        };
        let place = run_dir(store, loaded, &d.consumer)
            .map_err(|e| e.context(format!("{}: cannot place its command", d.id)))?;
        out.push(Runnable { id: d.id.clone(), command, place });
    }
    out.sort_by_key(|r| natural_key(&r.id));
    Ok(out)
}
