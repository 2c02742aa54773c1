//! `hook install --events`: the post-commit hook never fails git and
//! leaves events pending when the service is down; with a webhook up (a
//! real HTTP server on 127.0.0.1) the events of a commit arrive without any
//! git-coord command being run by hand.

use crate::env::TestEnv;
use crate::test_memory::{Hook, history};
use serde_json::Value;
use std::time::{Duration, Instant};

/// `history()` with memory on, delivering to `port`, local commits
/// deliverable (`memory.ref: main`), and the events hooks installed.
fn hooked(port: u16) -> TestEnv {
    let env = history();
    env.write(
        "settings/coord.yaml",
        &format!(
            "memory_enabled: true\nmemory:\n  ref: main\n  backoff_seconds: 3600\n  webhook:\n    url: http://127.0.0.1:{port}/events\n"
        ),
    );
    env.commit_all_at("memory on", "2026-03-06T09:00:00+00:00");
    let out = env.coord(&["hook", "install", "--events"]).ok().to_string();
    assert!(out.contains("post-commit") && out.contains("post-merge") && out.contains("post-rewrite"), "{out}");
    env
}

fn status(env: &TestEnv) -> Value {
    env.coord(&["events", "status", "--format", "json"]).json()["sinks"][0].clone()
}

/// Waits (at most 30 s) for `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_commit_with_the_service_down_succeeds_and_leaves_events_pending() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let env = hooked(port);
    env.coord(&["update-todo", "TODO-002", "--assignee", "kim"]).ok();
    env.commit_all_at("reassign", "2026-03-07T09:00:00+00:00");
    // The background pass tried the service (the error is recorded) and
    // kept everything pending.
    eventually("the background push to fail", || status(&env)["last_error"].is_string());
    let s = status(&env);
    let all = env.coord(&["events", "--format", "json"]).json()["count"].as_u64().unwrap();
    assert_eq!(s["pending"].as_u64(), Some(all), "{s:#}");
    assert_eq!(s["delivered"], 0);
    // Uninstalling removes exactly the three hooks.
    let out = env.coord(&["hook", "uninstall", "--events"]).ok().to_string();
    assert_eq!(out.matches("removed").count(), 3, "{out}");
}

#[test]
fn with_the_hook_installed_a_commit_s_events_reach_the_webhook() {
    let hook = Hook::start(200);
    let env = hooked(hook.port);
    // A hook of the user's own stays in front of ours and still runs.
    let mine = env.root.join(".git/hooks/post-commit.pre-coord");
    std::fs::write(&mine, "#!/bin/sh\ntouch \"$(git rev-parse --git-dir)/user-hook-ran\"\nexit 3\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&mine, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.coord(&["complete-todo", "TODO-002"]).ok();
    env.coord(&["update-todo", "TODO-002", "--actual-hours", "3"]).ok();
    env.commit_all_at("actuals", "2026-03-07T09:00:00+00:00");
    let ids: Vec<String> = env.coord(&["events", "--format", "json"]).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    eventually("every event at the webhook", || hook.keys().len() >= ids.len());
    assert_eq!(hook.keys(), ids, "in order, once each");
    assert!(env.root.join(".git/user-hook-ran").exists());
    eventually("the outbox to show them delivered", || status(&env)["delivered"].as_u64() == Some(ids.len() as u64));
}
