//! Execution settings from `settings/coord.yaml`: named **actions**
//! (commands), **pools** (concurrency buckets with a runner) and ordered
//! **routing** rules, plus run defaults under `execution:`. Parsed and
//! validated in one place when something is about to run (or be shown as a
//! dry run), with errors naming the key, so a typo never silently falls back
//! to a default.

use crate::error::{Error, Result};
use crate::model::reader::scalar_text;
use crate::model::run::parse_duration;
use crate::settings::Settings;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A named command.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Action {
    pub name: String,
    /// The command (`sh -c`); a repo's `commands.<action>` wins over it.
    pub command: Option<String>,
    /// The pool this action runs in unless a rule or the todo says otherwise.
    pub pool: Option<String>,
    pub timeout: Option<Duration>,
    pub retries: Option<u32>,
    /// Whether success marks the todo completed (default true).
    pub completes: bool,
    /// An AI coding agent: `actual_hours` is recorded on success.
    pub agent: bool,
    /// Run each task in its own git worktree (so one checkout can run
    /// several tasks at once).
    pub worktree: bool,
    /// Whether a local task gets its prompt in a file (`COORD_PROMPT_FILE`);
    /// unset: for agent actions only (and any command naming the variable).
    pub prompt_file: Option<bool>,
}

impl Action {
    fn builtin(name: &str) -> Action {
        Action {
            name: name.into(),
            command: None,
            pool: None,
            timeout: None,
            retries: None,
            completes: true,
            agent: name == "agent",
            worktree: false,
            prompt_file: None,
        }
    }
}

/// What runs a pool's tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunnerKind {
    Local,
    Ssh,
    SessionBuddy,
    Mahavishnu,
}

impl RunnerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunnerKind::Local => "local",
            RunnerKind::Ssh => "ssh",
            RunnerKind::SessionBuddy => "session-buddy",
            RunnerKind::Mahavishnu => "mahavishnu",
        }
    }
}

/// A concurrency bucket with a runner.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Pool {
    pub name: String,
    pub runner: RunnerKind,
    pub max_parallel: usize,
    /// `ssh`: the hosts (`user@host:port`).
    pub hosts: Vec<String>,
    /// `ssh`: `least_loaded`, `round_robin` or `affinity`.
    pub select: Option<String>,
    /// `session-buddy`/`mahavishnu`: the MCP server command or URL, and the
    /// pool selector.
    pub endpoint: Option<String>,
    pub selector: Option<String>,
    /// `ssh`: the client settings (`ssh:` mapping).
    pub ssh: Option<super::ssh::settings::SshSettings>,
}

impl Pool {
    /// What an execution approval binds about the pool besides the command
    /// and the checkout: nothing for `local` (so local approvals stay as
    /// they were), the hosts and client settings for `ssh`.
    pub fn binding(&self) -> Option<String> {
        match self.runner {
            RunnerKind::Local => None,
            RunnerKind::Ssh => Some(self.ssh.clone().unwrap_or_default().binding(&self.name, &self.hosts)),
            RunnerKind::SessionBuddy | RunnerKind::Mahavishnu => Some(format!(
                "{} pool {}: endpoint {}; selector {}",
                self.runner.as_str(),
                self.name,
                self.endpoint.as_deref().unwrap_or_default(),
                self.selector.as_deref().unwrap_or_default()
            )),
        }
    }
}

/// What a routing rule matches; every given condition must hold, and a
/// condition given as a list holds when any of its values does.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Match {
    pub role: Vec<String>,
    pub capability: Vec<String>,
    pub label: Vec<String>,
    /// Glob patterns (`agent:*`).
    pub assignee: Vec<String>,
    /// Glob patterns over canonical repository names.
    pub repo: Vec<String>,
}

/// One routing rule.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rule {
    /// `name`, or `routing[i]`.
    pub name: String,
    pub when: Match,
    pub action: Option<String>,
    pub pool: Option<String>,
}

/// Execution settings, validated.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExecConfig {
    pub actions: BTreeMap<String, Action>,
    pub pools: BTreeMap<String, Pool>,
    pub routing: Vec<Rule>,
    /// `execution.default_action` (default `test`).
    pub default_action: String,
    /// `execution.jobs` (default: the number of CPUs).
    pub jobs: usize,
    /// `execution.timeout` per attempt (default 1h).
    pub timeout: Duration,
    /// `execution.grace` between SIGTERM and SIGKILL (default 5s).
    pub grace: Duration,
    /// `execution.backoff`: the first retry's delay, doubled each time (default 1s).
    pub backoff: Duration,
    /// `execution.retries` (default 0).
    pub retries: u32,
}

struct Cx<'a> {
    path: &'a Path,
}

impl Cx<'_> {
    fn err(&self, key: &str, message: impl Into<String>) -> Error {
        Error::Settings { path: self.path.to_path_buf(), key: key.into(), message: message.into() }
    }
    fn text(&self, key: &str, v: &Value) -> Result<String> {
        scalar_text(v).ok_or_else(|| self.err(key, "expected text"))
    }
    fn texts(&self, key: &str, v: &Value) -> Result<Vec<String>> {
        match v {
            Value::Sequence(s) => s.iter().map(|x| self.text(key, x)).collect(),
            v => Ok(vec![self.text(key, v)?]),
        }
    }
    fn duration(&self, key: &str, v: &Value) -> Result<Duration> {
        parse_duration(&self.text(key, v)?).map_err(|e| self.err(key, e.to_string()))
    }
    fn uint(&self, key: &str, v: &Value) -> Result<u64> {
        v.as_u64().ok_or_else(|| self.err(key, "expected a whole number ≥ 0"))
    }
    fn bool(&self, key: &str, v: &Value) -> Result<bool> {
        v.as_bool().ok_or_else(|| self.err(key, "expected true or false"))
    }
    fn map<'v>(&self, key: &str, v: &'v Value) -> Result<&'v Mapping> {
        match v {
            Value::Mapping(m) => Ok(m),
            _ => Err(self.err(key, "expected a mapping")),
        }
    }
}

fn key_of(k: &Value) -> String {
    scalar_text(k).unwrap_or_default()
}

/// The number of CPUs (at least 1).
pub fn cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

impl ExecConfig {
    /// The execution settings of `settings`.
    pub fn from_settings(settings: &Settings) -> Result<ExecConfig> {
        let path = settings.source.clone().unwrap_or_else(|| PathBuf::from("settings/coord.yaml"));
        ExecConfig::parse(&settings.execution, &path)
    }

    /// Parses the raw `actions`, `pools`, `routing` and `execution` keys.
    pub fn parse(raw: &Mapping, path: &Path) -> Result<ExecConfig> {
        let cx = Cx { path };
        let mut c = ExecConfig {
            actions: ["test", "lint", "build", "agent"].iter().map(|n| (n.to_string(), Action::builtin(n))).collect(),
            pools: BTreeMap::new(),
            routing: Vec::new(),
            default_action: "test".into(),
            jobs: cpus(),
            timeout: Duration::from_secs(3600),
            grace: Duration::from_secs(5),
            backoff: Duration::from_secs(1),
            retries: 0,
        };
        c.pools.insert(
            "local".into(),
            Pool {
                name: "local".into(),
                runner: RunnerKind::Local,
                max_parallel: cpus(),
                hosts: vec![],
                select: None,
                endpoint: None,
                selector: None,
                ssh: None,
            },
        );
        if let Some(v) = raw.get("execution") {
            for (k, v) in cx.map("execution", v)? {
                let key = format!("execution.{}", key_of(k));
                match key_of(k).as_str() {
                    "default_action" => c.default_action = cx.text(&key, v)?,
                    "jobs" => c.jobs = (cx.uint(&key, v)? as usize).max(1),
                    "timeout" => c.timeout = cx.duration(&key, v)?,
                    "grace" => c.grace = cx.duration(&key, v)?,
                    "backoff" => c.backoff = cx.duration(&key, v)?,
                    "retries" => c.retries = cx.uint(&key, v)? as u32,
                    _ => {
                        return Err(
                            cx.err(&key, "unknown key (default_action, jobs, timeout, grace, backoff, retries)")
                        );
                    }
                }
            }
        }
        if let Some(v) = raw.get("actions") {
            for (k, v) in cx.map("actions", v)? {
                let name = key_of(k);
                let base = format!("actions.{name}");
                let mut a = c.actions.remove(&name).unwrap_or_else(|| Action::builtin(&name));
                match v {
                    Value::String(s) => a.command = Some(s.clone()),
                    Value::Mapping(m) => {
                        for (k, v) in m {
                            let key = format!("{base}.{}", key_of(k));
                            match key_of(k).as_str() {
                                "command" => a.command = Some(cx.text(&key, v)?),
                                "pool" => a.pool = Some(cx.text(&key, v)?),
                                "timeout" => a.timeout = Some(cx.duration(&key, v)?),
                                "retries" => a.retries = Some(cx.uint(&key, v)? as u32),
                                "completes" => a.completes = cx.bool(&key, v)?,
                                "agent" => a.agent = cx.bool(&key, v)?,
                                "worktree" => a.worktree = cx.bool(&key, v)?,
                                "prompt_file" => a.prompt_file = Some(cx.bool(&key, v)?),
                                "description" => {}
                                _ => {
                                    return Err(cx.err(
                                        &key,
                                        "unknown key (command, pool, timeout, retries, completes, agent, worktree, prompt_file, description)",
                                    ));
                                }
                            }
                        }
                    }
                    _ => return Err(cx.err(&base, "expected a command or a mapping")),
                }
                c.actions.insert(name, a);
            }
        }
        if let Some(v) = raw.get("pools") {
            for (k, v) in cx.map("pools", v)? {
                let name = key_of(k);
                let base = format!("pools.{name}");
                let m = cx.map(&base, v)?;
                let mut p = Pool {
                    name: name.clone(),
                    runner: RunnerKind::Local,
                    max_parallel: cpus(),
                    hosts: vec![],
                    select: None,
                    endpoint: None,
                    selector: None,
                    ssh: None,
                };
                let mut runner_given = false;
                for (k, v) in m {
                    let key = format!("{base}.{}", key_of(k));
                    match key_of(k).as_str() {
                        "runner" | "type" => {
                            runner_given = true;
                            p.runner = match cx.text(&key, v)?.as_str() {
                                "local" => RunnerKind::Local,
                                "ssh" => RunnerKind::Ssh,
                                "session-buddy" | "session_buddy" => RunnerKind::SessionBuddy,
                                "mahavishnu" => RunnerKind::Mahavishnu,
                                other => {
                                    return Err(cx.err(
                                        &key,
                                        format!("unknown runner `{other}` (local, ssh, session-buddy, mahavishnu)"),
                                    ));
                                }
                            }
                        }
                        "max_parallel" => p.max_parallel = (cx.uint(&key, v)? as usize).max(1),
                        "hosts" => p.hosts = cx.texts(&key, v)?,
                        "select" | "selection" => {
                            let s = cx.text(&key, v)?;
                            if !matches!(s.as_str(), "least_loaded" | "round_robin" | "affinity") {
                                return Err(cx.err(&key, "expected least_loaded, round_robin or affinity"));
                            }
                            p.select = Some(s);
                        }
                        "endpoint" | "server" => p.endpoint = Some(cx.text(&key, v)?),
                        "pool_selector" | "selector" => p.selector = Some(cx.text(&key, v)?),
                        "ssh" => {
                            let err = |k: &str, m: String| cx.err(k, m);
                            p.ssh = Some(super::ssh::settings::SshSettings::parse(&key, v, &err)?);
                        }
                        "description" => {}
                        _ => {
                            return Err(cx.err(
                                &key,
                                "unknown key (runner, max_parallel, hosts, select, ssh, endpoint, pool_selector)",
                            ));
                        }
                    }
                }
                if !runner_given && name != "local" {
                    return Err(cx.err(&format!("{base}.runner"), "missing (local, ssh, session-buddy, mahavishnu)"));
                }
                if p.runner == RunnerKind::Ssh && p.hosts.is_empty() {
                    return Err(cx.err(&format!("{base}.hosts"), "an ssh pool needs at least one host"));
                }
                if p.runner == RunnerKind::Ssh {
                    for h in &p.hosts {
                        super::ssh::settings::Host::parse(h)
                            .map_err(|e| cx.err(&format!("{base}.hosts"), e.to_string()))?;
                    }
                } else if p.ssh.is_some() {
                    return Err(cx.err(&format!("{base}.ssh"), "only an ssh pool takes ssh settings"));
                }
                c.pools.insert(name, p);
            }
        }
        if let Some(v) = raw.get("routing") {
            let Value::Sequence(rules) = v else { return Err(cx.err("routing", "expected a list of rules")) };
            for (i, r) in rules.iter().enumerate() {
                let base = format!("routing[{i}]");
                let m = cx.map(&base, r)?;
                let mut rule = Rule { name: base.clone(), when: Match::default(), action: None, pool: None };
                for (k, v) in m {
                    let key = format!("{base}.{}", key_of(k));
                    match key_of(k).as_str() {
                        "name" => rule.name = cx.text(&key, v)?,
                        "action" => rule.action = Some(cx.text(&key, v)?),
                        "pool" => rule.pool = Some(cx.text(&key, v)?),
                        "match" => {
                            for (mk, mv) in cx.map(&key, v)? {
                                let mkey = format!("{key}.{}", key_of(mk));
                                let vals = cx.texts(&mkey, mv)?;
                                match key_of(mk).as_str() {
                                    "role" => rule.when.role = vals,
                                    "capability" | "capabilities" => rule.when.capability = vals,
                                    "label" | "labels" => rule.when.label = vals,
                                    "assignee" => rule.when.assignee = vals,
                                    "repo" | "repos" => rule.when.repo = vals,
                                    _ => {
                                        return Err(cx.err(
                                            &mkey,
                                            "unknown condition (role, capability, label, assignee, repo)",
                                        ));
                                    }
                                }
                            }
                        }
                        _ => return Err(cx.err(&key, "unknown key (name, match, action, pool)")),
                    }
                }
                if rule.action.is_none() && rule.pool.is_none() {
                    return Err(cx.err(&base, "a rule must pick an action or a pool"));
                }
                c.routing.push(rule);
            }
        }
        // References between the sections.
        for (i, r) in c.routing.iter().enumerate() {
            if let Some(a) = &r.action
                && !c.actions.contains_key(a)
            {
                return Err(cx.err(&format!("routing[{i}].action"), format!("no action `{a}`")));
            }
            if let Some(p) = &r.pool
                && !c.pools.contains_key(p)
            {
                return Err(cx.err(&format!("routing[{i}].pool"), format!("no pool `{p}`")));
            }
        }
        for a in c.actions.values() {
            if let Some(p) = &a.pool
                && !c.pools.contains_key(p)
            {
                return Err(cx.err(&format!("actions.{}.pool", a.name), format!("no pool `{p}`")));
            }
        }
        if !c.actions.contains_key(&c.default_action) {
            return Err(cx.err("execution.default_action", format!("no action `{}`", c.default_action)));
        }
        Ok(c)
    }
}

/// Shell-style glob with `*` and `?` only.
pub fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<ExecConfig> {
        let m: Mapping = serde_yaml::from_str(yaml).unwrap();
        ExecConfig::parse(&m, Path::new("settings/coord.yaml"))
    }

    #[test]
    fn parses_and_checks_references() {
        let c = parse(
            "actions:\n  test: cargo test\n  agent: {command: claude -p, completes: false}\npools:\n  local: {max_parallel: 2}\n  farm: {runner: ssh, hosts: [a, b], select: affinity}\nrouting:\n  - match: {assignee: 'agent:*'}\n    action: agent\n",
        )
        .unwrap();
        assert_eq!(c.actions["test"].command.as_deref(), Some("cargo test"));
        assert!(!c.actions["agent"].completes && c.actions["agent"].agent);
        assert_eq!(c.pools["local"].max_parallel, 2);
        assert_eq!(c.pools["farm"].runner, RunnerKind::Ssh);
        let e = parse("routing:\n  - action: nope\n").unwrap_err().to_string();
        assert!(e.contains("routing[0].action") && e.contains("no action `nope`"), "{e}");
        let e = parse("pools:\n  x: {max_parallel: 1}\n").unwrap_err().to_string();
        assert!(e.contains("pools.x.runner"), "{e}");
    }

    #[test]
    fn globs() {
        assert!(glob("agent:*", "agent:claude"));
        assert!(!glob("agent:*", "alice"));
        assert!(glob("*", ""));
        assert!(glob("a?c", "abc"));
    }
}
