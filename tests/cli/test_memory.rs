//! Memory: events derived from history (exact lists and IDs with fixed
//! dates, incremental, rebuild, rewritten history), the outbox delivered to
//! a real HTTP webhook on 127.0.0.1 (order, idempotency keys, backoff, dead,
//! service down, kill -9 mid-push, unpublished commits) and to the real
//! Session-Buddy service.

use crate::env::TestEnv;
use crate::services::SessionBuddy;
use git_coord::memory::events::event_id;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// A repository with a todo's life in four commits on fixed dates.
pub(crate) fn history() -> TestEnv {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-todo", "--task", "Port CI", "--repo", "mahavishnu"]).ok();
    env.commit_all_at("add todo", "2026-03-02T09:00:00+00:00");
    env.coord(&["update-todo", "TODO-002", "--status", "in_progress", "--assignee", "les"]).ok();
    env.commit_all_at("start", "2026-03-03T09:00:00+00:00");
    env.coord(&["complete-todo", "TODO-002"]).ok();
    env.commit_all_at("done", "2026-03-04T09:00:00+00:00");
    env
}

fn events(env: &TestEnv, args: &[&str]) -> Value {
    let mut a = vec!["events", "--format", "json"];
    a.extend_from_slice(args);
    env.coord(&a).json()
}

fn summary(v: &Value) -> Vec<(String, String, String)> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["time"].as_str().unwrap()[..10].to_string(),
                e["type"].as_str().unwrap().into(),
                e["summary"].as_str().unwrap().into(),
            )
        })
        .collect()
}

fn rev(env: &TestEnv, r: &str) -> String {
    env.git(&["rev-parse", r]).ok().trim().to_string()
}

#[test]
fn events_are_derived_with_exact_types_sentences_and_ids() {
    let env = history();
    let v = events(&env, &["TODO-002"]);
    let t = |s: &str| s.to_string();
    assert_eq!(
        summary(&v),
        vec![
            (t("2026-03-02"), t("todo.created"), t("Created todo TODO-002: Port CI in mahavishnu")),
            (t("2026-03-03"), t("todo.started"), t("Started todo TODO-002: Port CI in mahavishnu")),
            (t("2026-03-03"), t("todo.assigned"), t("Assigned todo TODO-002 to les: Port CI in mahavishnu")),
            (t("2026-03-04"), t("todo.completed"), t("Completed todo TODO-002: Port CI in mahavishnu")),
        ]
    );
    // IDs are the hash of commit, entity, verb and field.
    let (c1, c2, c3) = (rev(&env, "HEAD~2"), rev(&env, "HEAD~1"), rev(&env, "HEAD"));
    let ids: Vec<&str> = v["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        vec![
            event_id(&c1, "todo", "TODO-002", "todo.created", ""),
            event_id(&c2, "todo", "TODO-002", "todo.started", "status"),
            event_id(&c2, "todo", "TODO-002", "todo.assigned", "assignee"),
            event_id(&c3, "todo", "TODO-002", "todo.completed", "status"),
        ]
    );
    let completed = &v["items"][3];
    assert_eq!(completed["commit"], c3);
    assert_eq!(completed["fields"][0]["old"], "in_progress");
    assert_eq!(completed["fields"][0]["new"], "completed");
    assert_eq!(completed["repos"], serde_json::json!(["mahavishnu"]));
    // Filters: by type (verb or kind) and date.
    assert_eq!(events(&env, &["--type", "completed"])["count"], 1);
    assert_eq!(events(&env, &["TODO-002", "--since", "2026-03-03"])["count"], 3);
    // Rebuilding gives the same events, and nothing is new the second time.
    let all = events(&env, &[]);
    let rebuilt = env.coord(&["events", "rebuild", "--format", "json"]).json();
    assert_eq!(rebuilt["new_events"], all["count"]);
    let again = events(&env, &[]);
    assert_eq!(again["items"], all["items"]);
    assert_eq!(again["updated"]["new_events"], 0);
}

#[test]
fn status_changes_are_named_by_meaning_for_every_kind() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Broken build", "--repos", "vishnu"]).ok();
    env.coord(&["create-plan", "--title", "Q2", "--milestone", "Beta:2026-04-01"]).ok();
    env.commit_all_at("create", "2026-03-02T09:00:00+00:00");
    env.coord(&["close-issue", "ISSUE-002"]).ok();
    env.coord(&["update-plan", "PLAN-001", "--status", "active"]).ok();
    env.coord(&["update-milestone", "MILESTONE-001", "--status", "completed"]).ok();
    env.commit_all_at("progress", "2026-03-03T09:00:00+00:00");
    env.coord(&["reopen-issue", "ISSUE-002"]).ok();
    env.commit_all_at("reopen", "2026-03-04T09:00:00+00:00");
    let v = events(&env, &["--since", "2026-03-03"]);
    let types: Vec<&str> = v["items"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["issue.closed", "plan.activated", "milestone.completed", "issue.reopened"], "{v:#}");
    assert_eq!(v["items"][2]["milestone"], "MILESTONE-001");
    assert_eq!(events(&env, &["MILESTONE-001", "--type", "milestone"])["count"], 1);
}

#[test]
fn derivation_is_incremental_and_survives_a_rewritten_history() {
    let env = history();
    let before = events(&env, &[]);
    env.coord(&["update-todo", "TODO-002", "--estimate", "3"]).ok();
    env.commit_all_at("estimate", "2026-03-05T09:00:00+00:00");
    let after = events(&env, &[]);
    assert_eq!(after["updated"]["new_events"], 1);
    assert_eq!(after["updated"]["rewritten"], false);
    assert_eq!(after["items"][after["count"].as_u64().unwrap() as usize - 1]["type"], "todo.estimated");
    // Rewrite the last commit (as a rebase or force-push would): its events
    // are replaced, the others kept, nothing duplicated.
    env.coord(&["update-todo", "TODO-002", "--estimate", "5"]).ok();
    env.git(&["add", "-A"]).ok();
    env.git(&["commit", "-q", "--amend", "-m", "estimate (amended)"]).ok();
    let rewritten = events(&env, &[]);
    assert_eq!(rewritten["updated"]["rewritten"], true);
    assert_eq!(rewritten["count"], after["count"]);
    let last = &rewritten["items"][rewritten["count"].as_u64().unwrap() as usize - 1];
    assert_eq!(last["fields"][0]["new"].as_f64(), Some(5.0), "{last}");
    assert_eq!(last["commit"], rev(&env, "HEAD"));
    let n = before["count"].as_u64().unwrap() as usize;
    assert_eq!(rewritten["items"].as_array().unwrap()[..n], before["items"].as_array().unwrap()[..]);
}

/// A webhook on 127.0.0.1 recording each request's Idempotency-Key and
/// body, answering with the status currently set (0: accept and never answer).
pub(crate) struct Hook {
    pub(crate) port: u16,
    status: Arc<Mutex<u16>>,
    got: Arc<Mutex<Vec<(String, Value)>>>,
}

impl Hook {
    pub(crate) fn start(status: u16) -> Hook {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let (st, got) = (Arc::new(Mutex::new(status)), Arc::new(Mutex::new(Vec::new())));
        let (st2, got2) = (st.clone(), got.clone());
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut conn) = conn else { continue };
                let (st, got) = (st2.clone(), got2.clone());
                std::thread::spawn(move || {
                    let mut r = BufReader::new(conn.try_clone().unwrap());
                    let (mut key, mut len) = (String::new(), 0usize);
                    loop {
                        let mut line = String::new();
                        if r.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end().to_string();
                        if l.is_empty() {
                            break;
                        }
                        let lower = l.to_ascii_lowercase();
                        if let Some(v) = lower.strip_prefix("idempotency-key:") {
                            key = v.trim().to_string();
                        }
                        if let Some(v) = lower.strip_prefix("content-length:") {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; len];
                    r.read_exact(&mut body).unwrap();
                    let status = *st.lock().unwrap();
                    got.lock().unwrap().push((key, serde_json::from_slice(&body).unwrap_or(Value::Null)));
                    if status == 0 {
                        std::thread::sleep(std::time::Duration::from_secs(120));
                        return;
                    }
                    let _ = write!(conn, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                });
            }
        });
        Hook { port, status: st, got }
    }
    pub(crate) fn keys(&self) -> Vec<String> {
        self.got.lock().unwrap().iter().map(|g| g.0.clone()).collect()
    }
    pub(crate) fn set(&self, s: u16) {
        *self.status.lock().unwrap() = s;
    }
}

/// `history()` with memory on, delivering to a webhook on `port`, published
/// to a bare remote (the upstream).
pub(crate) fn webhook_env(port: u16, extra: &str) -> (TestEnv, tempfile::TempDir) {
    let env = history();
    env.write(
        "settings/coord.yaml",
        &format!("memory_enabled: true\nmemory:\n  webhook:\n    url: http://127.0.0.1:{port}/events\n{extra}"),
    );
    env.commit_all_at("memory on", "2026-03-06T09:00:00+00:00");
    let remote = tempfile::tempdir().unwrap();
    env.git(&["init", "-q", "--bare", remote.path().to_str().unwrap()]).ok();
    env.git(&["remote", "add", "origin", remote.path().to_str().unwrap()]).ok();
    env.git(&["push", "-q", "-u", "origin", "main"]).ok();
    (env, remote)
}

pub(crate) fn all_ids(env: &TestEnv) -> Vec<String> {
    events(env, &[])["items"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

pub(crate) fn status(env: &TestEnv) -> Value {
    env.coord(&["events", "status", "--format", "json"]).json()["sinks"][0].clone()
}

#[test]
fn webhook_receives_every_event_once_in_order_with_idempotency_keys() {
    let hook = Hook::start(200);
    let (env, _remote) = webhook_env(hook.port, "");
    let ids = all_ids(&env);
    let p = env.coord(&["events", "push", "--format", "json"]).json();
    assert_eq!(p["sinks"][0]["delivered"], ids.len(), "{p:#}");
    assert_eq!(hook.keys(), ids);
    // The body is a JSON array holding the event.
    let got = hook.got.lock().unwrap().clone();
    assert_eq!(got[0].1[0]["id"], ids[0]);
    assert_eq!(got[0].1.as_array().unwrap().len(), 1);
    // A second push sends nothing; a new local commit waits until published.
    env.coord(&["events", "push"]).ok();
    assert_eq!(hook.keys().len(), ids.len());
    env.coord(&["update-todo", "TODO-002", "--assignee", "kim"]).ok();
    env.commit_all_at("reassign", "2026-03-07T09:00:00+00:00");
    let p = env.coord(&["events", "push", "--format", "json"]).json();
    assert_eq!(p["sinks"][0]["delivered"], 0);
    assert!(p["sinks"][0]["stopped"].as_str().unwrap().contains("not yet on refs/remotes/origin/main"), "{p:#}");
    assert_eq!(status(&env)["pending"], 1);
    env.git(&["push", "-q"]).ok();
    env.coord(&["events", "push"]).ok();
    let keys = hook.keys();
    assert_eq!(keys.len(), ids.len() + 1);
    assert_eq!(keys.last(), all_ids(&env).last());
    assert_eq!(status(&env)["delivered"], ids.len() + 1);
}

#[test]
fn a_failing_webhook_backs_off_then_delivers_in_order_and_dead_events_can_be_retried() {
    let hook = Hook::start(500);
    let (env, _remote) = webhook_env(hook.port, "  max_attempts: 2\n  backoff_seconds: 60\n");
    let ids = all_ids(&env);
    // 500: the first event fails, the circuit opens, the rest wait.
    let p = env.coord(&["events", "push", "--format", "json"]).json();
    assert_eq!(p["sinks"][0]["delivered"], 0);
    assert_eq!(hook.keys(), vec![ids[0].clone()]);
    let s = status(&env);
    assert_eq!(s["pending"], ids.len());
    assert!(s["last_error"].as_str().unwrap().contains("HTTP 500"), "{s}");
    assert_eq!(s["next_attempt"], "2026-03-01T12:01:00+00:00");
    // Backing off: no request.
    let p = env.coord(&["events", "push", "--format", "json"]).json();
    assert!(p["sinks"][0]["stopped"].as_str().unwrap().contains("backing off"), "{p:#}");
    assert_eq!(hook.keys().len(), 1);
    // The second failure makes it dead; later events then flow once the
    // service recovers, and the dead one comes back with retry --dead.
    env.coord(&["events", "retry"]).ok();
    env.coord(&["events", "push"]).ok();
    assert_eq!(status(&env)["dead"], 1);
    hook.set(200);
    env.coord(&["events", "retry"]).ok();
    env.coord(&["events", "push"]).ok();
    let s = status(&env);
    assert_eq!((s["pending"].as_u64(), s["dead"].as_u64()), (Some(0), Some(1)), "{s}");
    assert_eq!(hook.keys()[2..], ids[1..]);
    env.coord(&["events", "retry", "--dead"]).ok();
    env.coord(&["events", "push"]).ok();
    assert_eq!(hook.keys().last(), Some(&ids[0]));
    assert_eq!(status(&env)["delivered"], ids.len());
}

#[test]
fn service_down_keeps_events_pending_and_commands_succeed() {
    // A port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (env, _remote) = webhook_env(port, "");
    let n = all_ids(&env).len();
    let p = env.coord(&["events", "push", "--format", "json"]).json();
    assert_eq!(p["sinks"][0]["delivered"], 0);
    let s = status(&env);
    assert_eq!(s["pending"], n);
    assert!(s["last_error"].as_str().unwrap().contains(&port.to_string()), "{s}");
    env.coord(&["list-todos"]).ok();
}

#[test]
fn kill_9_in_the_middle_of_a_push_loses_nothing() {
    let hook = Hook::start(200);
    let (env, _remote) = webhook_env(hook.port, "");
    let ids = all_ids(&env);
    // Accept two events, then hang on the third; kill the push there.
    hook.set(200);
    let stall_after = 2;
    let got = hook.got.clone();
    let status = hook.status.clone();
    std::thread::spawn(move || {
        loop {
            if got.lock().unwrap().len() >= stall_after {
                *status.lock().unwrap() = 0;
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    });
    let mut child = env.coord_spawn(&["events", "push"]);
    // Not a time budget: a guard so that a broken push fails instead of hanging.
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while hook.keys().len() < stall_after + 1 {
        assert!(std::time::Instant::now() < give_up, "the push never reached the third event: {:?}", hook.keys());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    hook.set(200);
    env.coord(&["events", "push"]).ok();
    let keys = hook.keys();
    // Every event arrived, in order; the only repeat is the one in flight.
    let mut dedup = keys.clone();
    dedup.dedup();
    assert_eq!(dedup, ids, "{keys:?}");
    assert!(keys.len() <= ids.len() + 1);
    assert_eq!(crate::test_memory::status(&env)["delivered"], ids.len());
}

#[test]
fn memory_off_derives_but_queues_nothing_and_push_says_why() {
    let env = history();
    assert!(events(&env, &[])["count"].as_u64().unwrap() > 0);
    let err = env.coord(&["events", "push"]).fails(1).to_string();
    assert!(err.contains("memory is off"), "{err}");
    assert_eq!(status(&env)["pending"], 0);
}

#[test]
fn session_buddy_stores_events_and_finds_them_with_its_own_search() {
    let Some((sb, _guard)) = SessionBuddy::lock() else { return };
    let env = TestEnv::with_ecosystem();
    let word = format!("Zanzibar{}", std::process::id());
    env.coord(&["create-todo", "--task", &format!("Port {word} pipeline"), "--repo", "mahavishnu"]).ok();
    env.commit_all_at("add todo", "2026-03-02T09:00:00+00:00");
    env.coord(&["complete-todo", "TODO-002"]).ok();
    env.commit_all_at("done", "2026-03-03T09:00:00+00:00");
    env.write(
        "settings/coord.yaml",
        &format!("memory_enabled: true\nmemory:\n  ref: main\n  session_buddy: {}\n", sb.url),
    );
    env.commit_all_at("memory on", "2026-03-04T09:00:00+00:00");
    let p = env.coord(&["events", "push", "--format", "json"]).json();
    let n = all_ids(&env).len();
    assert_eq!(p["sinks"][0]["sink"], "session_buddy");
    assert_eq!(p["sinks"][0]["delivered"], n, "{p:#}");
    let h = env.coord(&["events", "search", &word, "--semantic", "--format", "json"]).json();
    assert_eq!(h["count"], 2, "{h:#}");
    let text = h["remote"]["text"].as_str().unwrap_or_else(|| panic!("no remote answer: {h:#}"));
    assert!(text.contains(&format!("Completed todo TODO-002: Port {word} pipeline")), "{text}");
    // `search --semantic` is the same search, labelled remote on screen.
    let same = env.coord(&["search", &word, "--semantic", "--format", "json"]).json();
    assert_eq!(same["count"], 2);
    let table = env.coord(&["search", &word, "--semantic"]).ok().to_string();
    assert!(table.contains(&format!("remote ({})", sb.url)) && table.contains("Completed todo TODO-002"), "{table}");
}

#[test]
fn search_history_finds_old_values_and_commit_subjects_naming_the_commit() {
    let env = history();
    env.coord(&["update-todo", "TODO-002", "--task", "Port CD"]).ok();
    env.commit_all_at("rename the pipeline task", "2026-03-05T09:00:00+00:00");
    // "Port CI" is no longer in the data: the index search misses it, history finds it.
    assert_eq!(env.coord(&["search", "Port CI", "--format", "json"]).json()["count"], 0);
    let h = env.coord(&["search", "--history", "CI", "--format", "json"]).json();
    let last = &h["items"][h["count"].as_u64().unwrap() as usize - 1];
    assert_eq!(last["type"], "todo.updated", "{h:#}");
    assert_eq!(last["fields"][0]["old"], "Port CI");
    assert_eq!(last["commit"], rev(&env, "HEAD"));
    // Commit subjects are searched too; the table names the commit.
    let table = env.coord(&["search", "--history", "pipeline"]).ok().to_string();
    let short = &rev(&env, "HEAD")[..7];
    assert!(table.contains("todo.updated") && table.contains(short), "{table}");
    assert!(table.contains("task: Port CI → Port CD"), "{table}");
    // --semantic with the memory service down: local hits, the remote labelled unavailable.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    env.write("settings/coord.yaml", &format!("memory:\n  session_buddy: http://127.0.0.1:{port}/mcp\n"));
    let table = env.coord(&["search", "--semantic", "pipeline"]).ok().to_string();
    assert!(
        table.contains(&format!("remote (http://127.0.0.1:{port}/mcp)")) && table.contains("unavailable"),
        "{table}"
    );
    assert!(table.contains("todo.updated"), "{table}");
}
