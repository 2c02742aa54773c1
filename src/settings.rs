//! Settings: `settings/coord.yaml` (or, when absent, the `coordination:`
//! section of `settings/mahavishnu.yaml`), parsed then resolved into one
//! validated value before any command runs. Unknown keys are warnings; a
//! wrong type is an error naming the key. The settings are tracked, so they
//! never grant trust: `trust_commands: all` is read only to warn that it is
//! ignored (see [`crate::deps::trust`]).

use crate::error::{Error, Result};
use crate::model::{DatePrecision, Kind};
use crate::problem::Problem;
use serde_yaml::{Mapping, Value};
use std::path::{Path, PathBuf};

/// ID prefixes per kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPrefixes {
    pub issue: String,
    pub plan: String,
    pub todo: String,
    pub dependency: String,
    pub milestone: String,
}

impl Default for IdPrefixes {
    fn default() -> Self {
        IdPrefixes {
            issue: "ISSUE".into(),
            plan: "PLAN".into(),
            todo: "TODO".into(),
            dependency: "DEP".into(),
            milestone: "MILESTONE".into(),
        }
    }
}

impl IdPrefixes {
    /// The prefix for a kind.
    pub fn for_kind(&self, kind: Kind) -> &str {
        match kind {
            Kind::Issue => &self.issue,
            Kind::Plan => &self.plan,
            Kind::Todo => &self.todo,
            Kind::Dependency => &self.dependency,
        }
    }
}

/// Bounds on the input git-coord parses, so one hostile or runaway file is
/// refused in milliseconds instead of stalling every command (the YAML
/// scanner is quadratic in nesting depth). Keys `max_file_bytes` and
/// `max_yaml_depth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest YAML file read, in bytes.
    pub max_file_bytes: u64,
    /// Deepest nesting of collections (block and flow together).
    pub max_yaml_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_file_bytes: 1024 * 1024, max_yaml_depth: 64 }
    }
}

/// What the pre-push hook refuses (`hook.block_on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BlockOn {
    /// Only what is broken; known-unsatisfied dependencies warn.
    #[default]
    Broken,
    /// Also every changed dependency that is unsatisfied.
    Unsatisfied,
}

/// Resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The master switch: `false` makes every write of coordination data
    /// refuse (enforced in [`crate::ops`], the one write path); reads work.
    pub enabled: bool,
    /// Whether coordination events are queued for delivery to the memory
    /// service (see [`crate::memory`]); events are derived either way.
    pub memory_enabled: bool,
    /// Where and how events are delivered (`memory:`).
    pub memory: MemorySettings,
    /// Reserved: read and ignored (a warning says so when it is turned on).
    pub pool_execution_enabled: bool,
    /// Whether the pre-push hook checks changed dependencies (offline).
    pub auto_dependency_check: bool,
    /// `hook.block_on`: what the pre-push hook refuses. `broken` (the
    /// default) refuses lint errors, cycles, ID collisions and dependencies
    /// the push turns from satisfied to unsatisfied, and only warns about
    /// dependencies known to be unsatisfied; `unsatisfied` refuses those too.
    pub hook_block_on: BlockOn,
    /// `blocked_work: refuse` makes starting or completing a todo that has
    /// open blockers an error (as `--strict` does); `warn` (the default)
    /// does it and warns.
    pub refuse_blocked_work: bool,
    /// The default interval of `git coord watch`, in minutes (≥ 1).
    pub dependency_check_interval_minutes: u64,
    pub id_prefixes: IdPrefixes,
    pub date_precision: DatePrecision,
    pub hours_per_day: f64,
    /// Input size and depth bounds.
    pub limits: Limits,
    /// `actions`, `pools`, `routing` and `execution` as written; validated
    /// by [`crate::exec::config`] when something runs.
    pub execution: Mapping,
    /// The file the settings came from, if any.
    pub source: Option<PathBuf>,
    /// How keys are named in that file: `` for `settings/coord.yaml`,
    /// `coordination.` for the legacy section.
    pub key_prefix: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: true,
            memory_enabled: false,
            memory: MemorySettings::default(),
            pool_execution_enabled: false,
            auto_dependency_check: true,
            hook_block_on: BlockOn::Broken,
            refuse_blocked_work: false,
            dependency_check_interval_minutes: 60,
            id_prefixes: IdPrefixes::default(),
            date_precision: DatePrecision::Date,
            hours_per_day: 8.0,
            limits: Limits::default(),
            execution: Mapping::new(),
            source: None,
            key_prefix: String::new(),
        }
    }
}

const KNOWN: &[&str] = &[
    "enabled",
    "memory_enabled",
    "memory",
    "pool_execution_enabled",
    "auto_dependency_check",
    "hook",
    "blocked_work",
    "dependency_check_interval_minutes",
    "id_prefixes",
    "date_precision",
    "hours_per_day",
    "trust_commands",
    "max_file_bytes",
    "max_yaml_depth",
    "actions",
    "pools",
    "routing",
    "execution",
];

struct Ctx<'a> {
    path: &'a Path,
}

impl Ctx<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> Error {
        Error::Settings { path: self.path.to_path_buf(), key: key.to_string(), message: message.into() }
    }
    fn bool(&self, key: &str, v: &Value) -> Result<bool> {
        v.as_bool().ok_or_else(|| self.err(key, "expected true or false"))
    }
    fn uint(&self, key: &str, v: &Value) -> Result<u64> {
        v.as_u64().ok_or_else(|| self.err(key, "expected a whole number ≥ 0"))
    }
    fn str<'v>(&self, key: &str, v: &'v Value) -> Result<&'v str> {
        v.as_str().ok_or_else(|| self.err(key, "expected text"))
    }
}

impl Settings {
    /// How the settings file names `key` (`enabled`, or `coordination.enabled`
    /// in the legacy section).
    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.key_prefix)
    }

    /// Loads settings for a coordination root. Returns warnings alongside.
    pub fn load(root: &Path) -> Result<(Settings, Vec<Problem>)> {
        let coord = root.join("settings/coord.yaml");
        if coord.is_file() {
            let map = read_mapping(&coord)?;
            return Settings::resolve(&map, &coord, "");
        }
        let legacy = root.join("settings/mahavishnu.yaml");
        if legacy.is_file() {
            let map = read_mapping(&legacy)?;
            if let Some(Value::Mapping(section)) = map.get("coordination") {
                return Settings::resolve(section, &legacy, "coordination.");
            }
        }
        Ok((Settings::default(), Vec::new()))
    }

    /// Resolves a parsed mapping into settings.
    pub fn resolve(map: &Mapping, path: &Path, key_prefix: &str) -> Result<(Settings, Vec<Problem>)> {
        let cx = Ctx { path };
        let mut s =
            Settings { source: Some(path.to_path_buf()), key_prefix: key_prefix.to_string(), ..Settings::default() };
        let mut warnings = Vec::new();
        for (k, v) in map {
            let Some(key) = k.as_str() else {
                return Err(cx.err(&format!("{k:?}"), "keys must be text"));
            };
            let full = format!("{key_prefix}{key}");
            match key {
                "enabled" => s.enabled = cx.bool(&full, v)?,
                "pool_execution_enabled" => s.pool_execution_enabled = cx.bool(&full, v)?,
                "memory_enabled" => s.memory_enabled = cx.bool(&full, v)?,
                "memory" => s.memory = MemorySettings::resolve(&cx, &full, v, &mut warnings)?,
                "auto_dependency_check" => s.auto_dependency_check = cx.bool(&full, v)?,
                "blocked_work" => {
                    s.refuse_blocked_work = match cx.str(&full, v)? {
                        "warn" => false,
                        "refuse" => true,
                        other => return Err(cx.err(&full, format!("expected `warn` or `refuse`, found `{other}`"))),
                    }
                }
                "hook" => {
                    let Value::Mapping(m) = v else {
                        return Err(cx.err(&full, "expected a mapping (block_on)"));
                    };
                    for (hk, hv) in m {
                        let hkey = hk.as_str().unwrap_or_default();
                        let hfull = format!("{full}.{hkey}");
                        match hkey {
                            "block_on" => {
                                s.hook_block_on = match cx.str(&hfull, hv)? {
                                    "broken" => BlockOn::Broken,
                                    "unsatisfied" => BlockOn::Unsatisfied,
                                    other => {
                                        return Err(cx.err(
                                            &hfull,
                                            format!("expected `broken` or `unsatisfied`, found `{other}`"),
                                        ));
                                    }
                                }
                            }
                            _ => warnings.push(
                                Problem::warning("settings", format!("unknown setting `{hfull}` (ignored)"))
                                    .at(path, None),
                            ),
                        }
                    }
                }
                "dependency_check_interval_minutes" => {
                    let m = cx.uint(&full, v)?;
                    if m == 0 {
                        return Err(cx.err(&full, "expected a whole number of minutes ≥ 1"));
                    }
                    s.dependency_check_interval_minutes = m;
                }
                "hours_per_day" => {
                    let h = v.as_f64().ok_or_else(|| cx.err(&full, "expected a number of hours"))?;
                    if !(h > 0.0 && h <= 24.0) {
                        return Err(cx.err(&full, format!("expected hours between 0 and 24, found {h}")));
                    }
                    s.hours_per_day = h;
                }
                "date_precision" => {
                    s.date_precision = match cx.str(&full, v)? {
                        "date" => DatePrecision::Date,
                        "timestamp" | "rfc3339" | "datetime" => DatePrecision::Timestamp,
                        other => {
                            return Err(cx.err(&full, format!("expected `date` or `timestamp`, found `{other}`")));
                        }
                    }
                }
                "actions" | "pools" | "routing" | "execution" => {
                    s.execution.insert(k.clone(), v.clone());
                }
                // A tracked file must not be able to approve commands (a pull
                // request could write it): `all` is ignored, and said so.
                "trust_commands" => match cx.str(&full, v)? {
                    "approved" | "ask" => {}
                    "all" => warnings.push(
                        Problem::warning(
                            crate::deps::trust::WARNING_CODE,
                            format!(
                                "`{full}: all` is ignored: a tracked file cannot approve commands; {}",
                                crate::deps::trust::WHERE_INSTEAD
                            ),
                        )
                        .at(path, None),
                    ),
                    other => {
                        return Err(cx.err(&full, format!("expected `approved` or `all`, found `{other}`")));
                    }
                },
                "max_file_bytes" => {
                    let n = cx.uint(&full, v)?;
                    if n < 1024 {
                        return Err(cx.err(&full, format!("expected at least 1024 bytes, found {n}")));
                    }
                    s.limits.max_file_bytes = n;
                }
                "max_yaml_depth" => {
                    let n = cx.uint(&full, v)?;
                    if !(8..=128).contains(&n) {
                        return Err(cx.err(&full, format!("expected a depth between 8 and 128, found {n}")));
                    }
                    s.limits.max_yaml_depth = n as usize;
                }
                "id_prefixes" => {
                    let Value::Mapping(m) = v else {
                        return Err(cx.err(&full, "expected a mapping (issue, plan, todo, dependency, milestone)"));
                    };
                    for (pk, pv) in m {
                        let pkey = pk.as_str().unwrap_or_default();
                        let pfull = format!("{full}.{pkey}");
                        let prefix = cx.str(&pfull, pv)?.to_string();
                        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                            return Err(cx.err(&pfull, "expected letters, digits or `_`"));
                        }
                        match pkey {
                            "issue" => s.id_prefixes.issue = prefix,
                            "plan" => s.id_prefixes.plan = prefix,
                            "todo" => s.id_prefixes.todo = prefix,
                            "dependency" | "dep" => s.id_prefixes.dependency = prefix,
                            "milestone" => s.id_prefixes.milestone = prefix,
                            _ => warnings.push(
                                Problem::warning("settings", format!("unknown setting `{pfull}` (ignored)"))
                                    .at(path, None),
                            ),
                        }
                    }
                }
                _ => {
                    let hint = crate::suggest::did_you_mean(key, KNOWN.iter().copied())
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    warnings.push(
                        Problem::warning("settings", format!("unknown setting `{full}` (ignored){hint}"))
                            .at(path, None),
                    );
                }
            }
        }
        Ok((s, warnings))
    }
}

/// The `memory:` settings: where events go and how delivery retries.
///
/// ```yaml
/// memory_enabled: true
/// memory:
///   ref: origin/main          # deliver events once reachable from this (default: the upstream)
///   max_attempts: 8           # then the event is dead (kept; `events retry --dead`)
///   backoff_seconds: 30       # first retry delay, doubled per attempt (capped at 6 h)
///   session_buddy: http://127.0.0.1:8678/mcp
///   webhook:
///     url: https://example.org/hooks/coord
///     token_env: COORD_WEBHOOK_TOKEN   # sent as `Authorization: Bearer …`
/// ```
/// Without `session_buddy` and `webhook`, events go to Session-Buddy at
/// [`MemorySettings::DEFAULT_SESSION_BUDDY`]; `session_buddy: false` turns it off.
#[derive(Debug, Clone, PartialEq)]
pub struct MemorySettings {
    /// The ref events must be reachable from before delivery (`None`: the
    /// upstream of the current branch).
    pub delivery_ref: Option<String>,
    pub max_attempts: u32,
    pub backoff_seconds: u64,
    /// The Session-Buddy MCP endpoint, if that sink is on.
    pub session_buddy: Option<String>,
    pub webhook: Option<Webhook>,
}

/// A generic webhook sink.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub url: String,
    /// The environment variable holding a bearer token (never the token itself).
    pub token_env: Option<String>,
}

impl Default for MemorySettings {
    fn default() -> Self {
        MemorySettings {
            delivery_ref: None,
            max_attempts: 8,
            backoff_seconds: 30,
            session_buddy: Some(Self::DEFAULT_SESSION_BUDDY.to_string()),
            webhook: None,
        }
    }
}

impl MemorySettings {
    /// Where Session-Buddy listens by default.
    pub const DEFAULT_SESSION_BUDDY: &str = "http://127.0.0.1:8678/mcp";

    fn resolve(cx: &Ctx<'_>, full: &str, v: &Value, warnings: &mut Vec<Problem>) -> Result<MemorySettings> {
        let Value::Mapping(m) = v else {
            return Err(cx.err(full, "expected a mapping (ref, max_attempts, backoff_seconds, session_buddy, webhook)"));
        };
        let mut out = MemorySettings::default();
        let mut explicit_sb = false;
        for (k, v) in m {
            let key = k.as_str().unwrap_or_default();
            let kf = format!("{full}.{key}");
            match key {
                "ref" => out.delivery_ref = Some(cx.str(&kf, v)?.to_string()),
                "max_attempts" => {
                    let n = cx.uint(&kf, v)?;
                    if !(1..=1000).contains(&n) {
                        return Err(cx.err(&kf, format!("expected 1 to 1000 attempts, found {n}")));
                    }
                    out.max_attempts = n as u32;
                }
                "backoff_seconds" => out.backoff_seconds = cx.uint(&kf, v)?,
                "session_buddy" => {
                    explicit_sb = true;
                    out.session_buddy = match v {
                        Value::Bool(false) => None,
                        Value::Bool(true) => Some(Self::DEFAULT_SESSION_BUDDY.to_string()),
                        other => Some(cx.str(&kf, other)?.to_string()),
                    }
                }
                "webhook" => {
                    let Value::Mapping(w) = v else { return Err(cx.err(&kf, "expected a mapping (url, token_env)")) };
                    let url = w.get("url").ok_or_else(|| cx.err(&kf, "`url` is missing"))?;
                    let url = cx.str(&format!("{kf}.url"), url)?.to_string();
                    let token_env = match w.get("token_env") {
                        Some(t) => Some(cx.str(&format!("{kf}.token_env"), t)?.to_string()),
                        None => None,
                    };
                    out.webhook = Some(Webhook { url, token_env });
                }
                _ => warnings
                    .push(Problem::warning("settings", format!("unknown setting `{kf}` (ignored)")).at(cx.path, None)),
            }
        }
        if out.webhook.is_some() && !explicit_sb {
            out.session_buddy = None;
        }
        Ok(out)
    }
}

/// Reads a settings file within the default [`Limits`] (they cannot come
/// from the file being read).
fn read_mapping(path: &Path) -> Result<Mapping> {
    let limits = Limits::default();
    let text = crate::store::files::read_text_following(path, limits.max_file_bytes)?;
    if text.trim().is_empty() {
        return Ok(Mapping::new());
    }
    crate::store::scan::scan(&text, &limits)
        .map_err(|e| crate::store::ParseError::Limit(e).into_error(path.to_path_buf()))?;
    match serde_yaml::from_str::<Value>(&text) {
        Ok(Value::Mapping(m)) => Ok(m),
        Ok(Value::Null) => Ok(Mapping::new()),
        Ok(_) => {
            Err(Error::Settings { path: path.into(), key: "(top level)".into(), message: "expected a mapping".into() })
        }
        Err(e) => Err(Error::yaml(path, &e)),
    }
}
