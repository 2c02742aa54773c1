//! The ecosystem's pool services as runners, spoken to over MCP
//! (streamable HTTP, the shared client of [`crate::mcp_client`]):
//!
//! - `session-buddy`: `create_pool {pool_id}` once per run (the pool ID is
//!   the pool's `pool_selector`, else `git-coord-<pool>`), then per attempt
//!   `execute_on_pool {pool_id, prompt, context, timeout}`. Its answer is a
//!   sentence — `✅ Task executed on pool P by worker W` or
//!   `❌ Failed to execute task: …` — and that is all that is parsed (the
//!   mark and the worker); the raw text goes to the log.
//! - `mahavishnu`: `pool_spawn {pool_type, name, min_workers, max_workers}`
//!   once per run, then per attempt `pool_route_execute {prompt,
//!   pool_selector, timeout}` (`pool_selector` from settings, default
//!   `least_loaded`). Its answer is a JSON object; `status`
//!   (`completed`/`success`/`succeeded`), `exit_code` when present,
//!   `worker_id`, `output` and `error` are read.
//!
//! What is sent: the task text as the prompt (the command itself in
//! command mode), and — where the tool takes a context (Session-Buddy) — the
//! approved command, the checkout path and the `COORD_*` variables as data.
//! The scheduler only dispatches a task whose command is approved, so an
//! untrusted task is never sent. A service that cannot be reached, or a
//! pool it refuses, fails the attempt with the service's words.
//!
//! Timeout and Ctrl-C end the wait for the answer (the call is dropped);
//! the service receives `timeout` so it bounds the work on its side.

use super::config::{Pool, RunnerKind};
use super::runner::{Attempt, AttemptEnd, BoxFuture, LineSink, Outcome, Runner, TAIL_LINES};
use super::scheduler::Cancel;
use crate::mcp_client::{Connection, McpError};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::sync::{OnceCell, watch};

/// Where Session-Buddy answers MCP unless the pool says `endpoint`.
pub const SESSION_BUDDY_URL: &str = "http://127.0.0.1:8678/mcp";
/// Where Mahavishnu answers MCP unless the pool says `endpoint`.
pub const MAHAVISHNU_URL: &str = "http://127.0.0.1:8680/mcp";

/// How long setting a pool up may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a pool service cannot be used or did not run an attempt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    /// The pool's runner is not a pool service.
    #[error("pool `{pool}` is not served over MCP")]
    NotMcp {
        /// The pool.
        pool: String,
    },
    /// The pool's `endpoint` is not an http(s) URL.
    #[error("pool `{pool}`: endpoint must be an http(s) URL of an MCP server, not `{url}`")]
    Endpoint {
        /// The pool.
        pool: String,
        /// The endpoint as set.
        url: String,
    },
    /// The MCP call failed.
    #[error(transparent)]
    Mcp(#[from] McpError),
    /// The service answered, but not what was needed.
    #[error("{url}: {tool}: {problem}: {answer}")]
    Answer {
        /// The service.
        url: String,
        /// The tool called.
        tool: &'static str,
        /// What was wrong ("the pool is not there", "no JSON object", "failed").
        problem: String,
        /// The service's answer (or the reason it gave).
        answer: String,
    },
}

#[derive(Debug, Clone)]
enum Service {
    SessionBuddy { pool_id: String },
    Mahavishnu { name: String, selector: String, max_workers: usize },
}

/// A runner for a `session-buddy` or `mahavishnu` pool.
pub struct McpPool {
    service: Service,
    conn: Connection,
    /// The pool set up on the service (once per run), or why not.
    ready: OnceCell<std::result::Result<(), ServiceError>>,
}

impl McpPool {
    /// The runner for `pool` (a `session-buddy` or `mahavishnu` pool).
    pub fn new(pool: &Pool) -> std::result::Result<McpPool, ServiceError> {
        let (service, default_url) = match pool.runner {
            RunnerKind::SessionBuddy => (
                Service::SessionBuddy {
                    pool_id: pool.selector.clone().unwrap_or_else(|| format!("git-coord-{}", pool.name)),
                },
                SESSION_BUDDY_URL,
            ),
            RunnerKind::Mahavishnu => (
                Service::Mahavishnu {
                    name: format!("git-coord-{}", pool.name),
                    selector: pool.selector.clone().unwrap_or_else(|| "least_loaded".into()),
                    max_workers: pool.max_parallel.max(1),
                },
                MAHAVISHNU_URL,
            ),
            _ => return Err(ServiceError::NotMcp { pool: pool.name.clone() }),
        };
        let url = pool.endpoint.clone().unwrap_or_else(|| default_url.to_string());
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(ServiceError::Endpoint { pool: pool.name.clone(), url });
        }
        Ok(McpPool { service, conn: Connection::new(&url), ready: OnceCell::new() })
    }

    fn name(&self) -> &'static str {
        match self.service {
            Service::SessionBuddy { .. } => "session-buddy",
            Service::Mahavishnu { .. } => "mahavishnu",
        }
    }

    /// Creates the pool on the service (once).
    async fn setup(&self) -> std::result::Result<(), ServiceError> {
        self.ready
            .get_or_init(|| async {
                match &self.service {
                    Service::SessionBuddy { pool_id } => {
                        let created = self.conn.call("create_pool", json!({"pool_id": pool_id}), SETUP_TIMEOUT).await;
                        // "already exists" (another run made it) is fine, and
                        // 0.23.0 creates the pool but then fails to report it
                        // (`'status'`): whether the pool is there decides.
                        let status =
                            self.conn.call("get_pool_status", json!({"pool_id": pool_id}), SETUP_TIMEOUT).await;
                        match status {
                            Ok(t) if !t.trim_start().starts_with('❌') => Ok(()),
                            Ok(t) => Err(ServiceError::Answer {
                                url: self.conn.url().to_string(),
                                tool: "get_pool_status",
                                problem: format!("pool {pool_id} is not there"),
                                answer: t.trim().to_string(),
                            }),
                            Err(e) => Err(created.err().unwrap_or(e).into()),
                        }
                    }
                    Service::Mahavishnu { name, max_workers, .. } => {
                        let args = json!({"pool_type": "mahavishnu", "name": name, "min_workers": 1,
                                          "max_workers": max_workers});
                        let text = self.conn.call("pool_spawn", args, SETUP_TIMEOUT).await?;
                        let v: Value = serde_json::from_str(&text).map_err(|e| ServiceError::Answer {
                            url: self.conn.url().to_string(),
                            tool: "pool_spawn",
                            problem: format!("no JSON object ({e})"),
                            answer: text.clone(),
                        })?;
                        match v.get("status").and_then(Value::as_str) {
                            Some("failed") | Some("error") => Err(ServiceError::Answer {
                                url: self.conn.url().to_string(),
                                tool: "pool_spawn",
                                problem: "failed".into(),
                                answer: v.get("error").and_then(Value::as_str).unwrap_or("no reason given").to_string(),
                            }),
                            _ => Ok(()),
                        }
                    }
                }
            })
            .await
            .clone()
    }

    /// One call for the attempt; (success, member, lines of the answer, why not).
    async fn execute(&self, a: &Attempt, wait: Duration) -> std::result::Result<Answer, ServiceError> {
        let prompt = if a.stdin.trim().is_empty() { a.command.clone() } else { a.stdin.clone() };
        let secs = a.timeout.as_secs_f64();
        match &self.service {
            Service::SessionBuddy { pool_id } => {
                let env: serde_json::Map<String, Value> =
                    a.env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
                let context = json!({"command": a.command, "cwd": a.dir.display().to_string(), "env": env,
                                     "key": a.key, "repo": a.repo});
                let args = json!({"pool_id": pool_id, "prompt": prompt, "context": context, "timeout": secs});
                let text = self.conn.call("execute_on_pool", args, wait).await?;
                Ok(session_buddy_answer(&text))
            }
            Service::Mahavishnu { selector, .. } => {
                let args = json!({"prompt": prompt, "pool_selector": selector, "timeout": secs.ceil() as u64});
                let text = self.conn.call("pool_route_execute", args, wait).await?;
                Ok(mahavishnu_answer(&text))
            }
        }
    }
}

/// What a service answered to one attempt.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Answer {
    pub success: bool,
    /// The worker that ran it, when the answer names one.
    pub worker: Option<String>,
    /// Why it failed, in the service's words.
    pub error: Option<String>,
    pub exit_code: Option<i32>,
    /// What to show and keep in the tail: the output, line by line.
    pub lines: Vec<String>,
    /// The answer as received (for the log).
    pub raw: String,
}

/// Reads Session-Buddy's `execute_on_pool` sentence.
pub fn session_buddy_answer(text: &str) -> Answer {
    let t = text.trim();
    let success = t.starts_with('✅');
    let worker = t.split_once(" by worker ").map(|(_, w)| w.split_whitespace().next().unwrap_or("").to_string());
    let error = (!success).then(|| {
        let e = t.trim_start_matches('❌').trim();
        let e = e.strip_prefix("Failed to execute task:").map(str::trim).unwrap_or(e);
        if e.is_empty() { "no answer text".to_string() } else { e.to_string() }
    });
    Answer {
        success,
        worker: worker.filter(|w| !w.is_empty()),
        error,
        exit_code: None,
        lines: text.lines().map(str::to_string).collect(),
        raw: text.to_string(),
    }
}

/// Reads Mahavishnu's `pool_route_execute` object.
pub fn mahavishnu_answer(text: &str) -> Answer {
    let raw = text.to_string();
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        let lines = text.lines().map(str::to_string).collect();
        return Answer { error: Some(format!("not a JSON object: {}", text.trim())), lines, raw, ..Answer::default() };
    };
    let status = v.get("status").and_then(Value::as_str).unwrap_or("");
    let exit_code = v.get("exit_code").and_then(Value::as_i64).and_then(|c| i32::try_from(c).ok());
    let success = matches!(status, "completed" | "success" | "succeeded") && exit_code.unwrap_or(0) == 0;
    let error = (!success).then(|| match v.get("error").and_then(Value::as_str) {
        Some(e) if !e.is_empty() => e.to_string(),
        _ => match exit_code {
            Some(c) => format!("exit {c}"),
            None => format!("status {}", if status.is_empty() { "missing" } else { status }),
        },
    });
    let lines = match v.get("output") {
        Some(Value::String(s)) => s.lines().map(str::to_string).collect(),
        _ => Vec::new(),
    };
    Answer {
        success,
        worker: v.get("worker_id").and_then(Value::as_str).map(str::to_string),
        error,
        exit_code,
        lines,
        raw,
    }
}

impl Runner for McpPool {
    fn run<'a>(
        &'a self,
        a: &'a Attempt,
        mut line: LineSink,
        cancel: watch::Receiver<Cancel>,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let start = Instant::now();
            let mut log = std::fs::OpenOptions::new().create(true).append(true).open(&a.log).ok();
            let mut write_log = |s: &str| {
                if let Some(l) = log.as_mut() {
                    let _ = writeln!(l, "{s}");
                }
            };
            write_log(&a.header);
            let mut end = AttemptEnd::default();
            let mut tail = VecDeque::new();
            let mut member = self.name().to_string();
            let work = async {
                self.setup().await?;
                self.execute(a, a.timeout + Duration::from_secs(10)).await
            };
            let mut c = cancel.clone();
            let answer = tokio::select! {
                r = work => Some(r),
                _ = tokio::time::sleep(a.timeout) => { end.timed_out = true; None }
                _ = c.wait_for(|v| *v != Cancel::None) => { end.cancelled = true; None }
            };
            match answer {
                Some(Ok(ans)) => {
                    write_log(&format!("{} answered:", self.name()));
                    write_log(ans.raw.trim_end());
                    for l in &ans.lines {
                        if tail.len() == TAIL_LINES {
                            tail.pop_front();
                        }
                        tail.push_back(l.clone());
                        line(l.clone());
                    }
                    if let Some(w) = &ans.worker {
                        member = format!("{}:{w}", self.name());
                    }
                    if ans.success {
                        end.code = Some(0);
                    } else {
                        end.code = ans.exit_code.filter(|c| *c != 0);
                        if end.code.is_none() {
                            end.spawn_error = Some(format!("{}: {}", self.name(), ans.error.unwrap_or_default()));
                        }
                    }
                }
                Some(Err(e)) => end.spawn_error = Some(format!("{}: {e}", self.name())),
                None => {}
            }
            end.duration = start.elapsed();
            write_log(&format!("--- {}", if end.success() { "ok".to_string() } else { end.reason() }));
            Outcome { end, tail, member }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_buddy_sentences() {
        let a = session_buddy_answer("✅ Task executed on pool git-coord-sb by worker git-coord-sb-worker-0");
        assert!(a.success);
        assert_eq!(a.worker.as_deref(), Some("git-coord-sb-worker-0"));
        let b = session_buddy_answer("❌ Failed to execute task: Pool nope not found");
        assert!(!b.success);
        assert_eq!(b.error.as_deref(), Some("Pool nope not found"));
        assert!(!session_buddy_answer("something else").success);
    }

    #[test]
    fn mahavishnu_objects() {
        let a = mahavishnu_answer(r#"{"status": "completed", "worker_id": "w1", "output": "hi\nthere"}"#);
        assert!(a.success);
        assert_eq!(a.worker.as_deref(), Some("w1"));
        assert_eq!(a.lines, ["hi", "there"]);
        let b = mahavishnu_answer(r#"{"status": "completed", "exit_code": 3}"#);
        assert!(!b.success);
        assert_eq!(b.exit_code, Some(3));
        let c = mahavishnu_answer(r#"{"status": "failed", "error": "no pool"}"#);
        assert_eq!(c.error.as_deref(), Some("no pool"));
        assert!(!mahavishnu_answer("plain words").success);
    }
}
