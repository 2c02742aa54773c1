//! Automatic dependency validation: `check-deps --raise-issues` and `watch`,
//! against a provider checkout whose version moves as tags are added and
//! removed between runs. `watch` runs as the real binary, stopped with a
//! real SIGTERM; rounds are counted by a loopback health-check endpoint, so
//! nothing depends on how fast a loaded machine is (every wait is bounded
//! by a generous timeout).

use crate::env::TestEnv;
use crate::test_check_deps::{dep, ecosystem, provider};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// Generous bound on anything a test waits for.
const PATIENCE: Duration = Duration::from_secs(60);

/// `app` (the coordination repo) needs `lib >=1.0`; lib is at v0.9.0.
/// DEP-002 (a test dependency on lib >=0.5) is satisfied throughout.
fn moving_provider() -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let lib = provider(&env, "lib", &[("README", "lib\n")], &["v0.9.0"]);
    ecosystem(&env, &["lib"]);
    dep(&env, "DEP-001", "provider: lib\ntype: runtime\nversion_constraint: \">=1.0\"\nstatus: satisfied\n");
    dep(&env, "DEP-002", "provider: lib\ntype: test\nversion_constraint: \">=0.5\"\nstatus: satisfied\n");
    env.commit_all("two dependencies on lib");
    (env, lib)
}

fn tag(env: &TestEnv, lib: &Path, t: &str) {
    env.git_in(lib, &["tag", t]).ok();
}

fn untag(env: &TestEnv, lib: &Path, t: &str) {
    env.git_in(lib, &["tag", "-d", t]).ok();
}

fn issue_files(env: &TestEnv) -> Vec<String> {
    let dir = env.root.join("coordination/issues");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|n| n.ends_with(".yaml"));
    names.sort();
    names
}

fn raise(env: &TestEnv, code: i32) -> String {
    let run = env.coord(&["check-deps", "--offline", "--raise-issues"]);
    run.fails(code);
    run.stdout
}

#[test]
fn raised_issues_are_created_once_updated_resolved_and_never_duplicated() {
    let (env, lib) = moving_provider();

    // Unsatisfied: one issue, with the evidence, linked to the dependency.
    let out = raise(&env, 1);
    assert!(out.contains("created ISSUE-001 for DEP-001 (coordination/issues/ISSUE-001.yaml)"), "{out}");
    assert_eq!(issue_files(&env), ["ISSUE-001.yaml"], "DEP-002 is satisfied: no issue for it");
    let issue = env.coord(&["show-issue", "ISSUE-001", "--format", "json"]).json()["entity"].clone();
    assert_eq!(issue["title"], "DEP-001 unsatisfied: app needs lib >=1.0");
    assert_eq!(issue["status"], "pending");
    assert_eq!(issue["priority"], "high", "a runtime dependency");
    assert_eq!(issue["repos"], serde_json::json!(["app", "lib"]));
    assert_eq!(issue["labels"], serde_json::json!(["dependency"]));
    assert_eq!(issue["metadata"], serde_json::json!({"dependency": "DEP-001"}));
    let description = issue["description"].as_str().expect("description");
    assert!(description.contains("Why: 0.9.0 (tag v0.9.0) does not satisfy >=1.0"), "{description}");
    assert!(description.contains("- version (unsatisfied):"), "{description}");
    env.commit_all("raised");

    // Idempotent: a second run writes nothing.
    let out = raise(&env, 1);
    assert!(!out.contains("ISSUE-"), "{out}");
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "", "a second run changed files");

    // Still unsatisfied, new evidence: the description follows, nothing else.
    tag(&env, &lib, "v0.9.5");
    let out = raise(&env, 1);
    assert!(out.contains("updated ISSUE-001 for DEP-001"), "{out}");
    let changed = env.changed_lines();
    assert_eq!(changed.len(), 4, "{changed:#?}");
    assert!(changed.iter().all(|l| l.contains("0.9.0") || l.contains("0.9.5")), "{changed:#?}");
    env.commit_all("new evidence");

    // Satisfied again: resolved, with a dated note saying why.
    tag(&env, &lib, "v1.0.0");
    let out = raise(&env, 0);
    assert!(out.contains("resolved ISSUE-001 for DEP-001"), "{out}");
    let issue = env.coord(&["show-issue", "ISSUE-001", "--format", "json"]).json()["entity"].clone();
    assert_eq!(issue["status"], "resolved");
    assert_eq!(
        issue["metadata"]["dependency_notes"],
        serde_json::json!([
            "2026-03-01: resolved by git coord check-deps: DEP-001 is satisfied: 1.0.0 (tag v1.0.0) satisfies >=1.0"
        ])
    );
    env.commit_all("resolved");

    // Ten runs with the version moving back and forth: one issue, reopened
    // and resolved in turn, each run idempotent.
    for i in 0..10 {
        let (code, word) = if i % 2 == 0 {
            untag(&env, &lib, "v1.0.0");
            (1, "reopened")
        } else {
            tag(&env, &lib, "v1.0.0");
            (0, "resolved")
        };
        let out = raise(&env, code);
        assert!(out.contains(&format!("{word} ISSUE-001 for DEP-001")), "run {i}: {out}");
        let text = env.read("coordination/issues/ISSUE-001.yaml");
        let again = raise(&env, code);
        assert!(!again.contains("ISSUE-"), "run {i} again: {again}");
        assert_eq!(env.read("coordination/issues/ISSUE-001.yaml"), text, "run {i}: the second run changed the issue");
    }
    assert_eq!(issue_files(&env), ["ISSUE-001.yaml"], "no duplicates");
    let issue = env.coord(&["show-issue", "ISSUE-001", "--format", "json"]).json()["entity"].clone();
    assert_eq!(issue["status"], "resolved");
    assert_eq!(issue["metadata"]["dependency_notes"].as_array().map(Vec::len), Some(11));

    // The JSON report lists what was written.
    untag(&env, &lib, "v1.0.0");
    let run = env.coord(&["check-deps", "--offline", "--raise-issues", "--format", "json"]);
    run.fails(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["issues"][0]["action"], "reopened", "{report}");
    assert_eq!(report["issues"][0]["issue"], "ISSUE-001", "{report}");
}

#[test]
fn watch_once_reports_the_changes_since_its_last_run() {
    let (env, lib) = moving_provider();
    let line = "2026-03-01T12:00:00Z DEP-001 app → lib: satisfied → unsatisfied \
                (0.9.0 (tag v0.9.0) does not satisfy >=1.0)\n";
    // First run: compared with the stored statuses.
    let run = env.coord(&["watch", "--once", "--offline"]);
    assert_eq!(run.ok(), line);
    assert_eq!(run.stderr, "", "--once says nothing else");
    // Nothing moved: nothing to say.
    assert_eq!(env.coord(&["watch", "--once", "--offline"]).ok(), "");
    // The provider is released: back to satisfied.
    tag(&env, &lib, "v1.0.0");
    assert_eq!(
        env.coord(&["watch", "--once", "--offline"]).ok(),
        "2026-03-01T12:00:00Z DEP-001 app → lib: unsatisfied → satisfied (1.0.0 (tag v1.0.0) satisfies >=1.0)\n"
    );
    assert_eq!(env.coord(&["watch", "--once", "--offline"]).ok(), "");
    // watch reads; the data is untouched.
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "");
}

/// A loopback endpoint answering 200 that counts the requests it gets: one
/// per `watch` round.
fn counting_health() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("addr");
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            seen.fetch_add(1, Ordering::SeqCst);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (addr, count)
}

/// Lines of a child's stream, as they come.
fn lines_of(r: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

#[track_caller]
fn next_line(rx: &Receiver<String>, what: &str) -> String {
    rx.recv_timeout(PATIENCE).unwrap_or_else(|e| panic!("no {what} within {PATIENCE:?}: {e}"))
}

/// Waits until the endpoint has seen `n` requests (rounds).
#[track_caller]
fn rounds(count: &AtomicUsize, n: usize) {
    let until = Instant::now() + PATIENCE;
    while count.load(Ordering::SeqCst) < n {
        assert!(Instant::now() < until, "fewer than {n} rounds within {PATIENCE:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Sends SIGTERM with `kill` and waits (bounded) for the exit code.
#[track_caller]
fn terminate(child: &mut Child) -> i32 {
    let pid = child.id().to_string();
    let kill = std::process::Command::new("kill").args(["-TERM", &pid]).status().expect("run kill");
    assert!(kill.success(), "kill -TERM {pid} failed");
    let until = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("watch did not stop within {PATIENCE:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn watch_reports_only_transitions_across_rounds_and_stops_on_sigterm() {
    let (env, lib) = moving_provider();
    let (health, count) = counting_health();
    dep(
        &env,
        "DEP-003",
        &format!("provider: lib\nstatus: satisfied\nvalidation:\n  health_check: http://{health}/health\n"),
    );
    env.write("settings/coord.yaml", "dependency_check_interval_minutes: 7\n");
    env.commit_all("a health check and a 7-minute interval");

    // The interval comes from the settings; SIGTERM ends the wait between rounds.
    let mut child = env.coord_spawn(&["watch"]);
    let out = lines_of(child.stdout.take().expect("stdout"));
    let err = lines_of(child.stderr.take().expect("stderr"));
    assert_eq!(
        next_line(&err, "start line"),
        "watching dependencies every 7m (dependency_check_interval_minutes in settings/coord.yaml); \
         SIGINT or SIGTERM stops"
    );
    assert_eq!(
        next_line(&out, "first transition"),
        "2026-03-01T12:00:00Z DEP-001 app → lib: satisfied → unsatisfied (0.9.0 (tag v0.9.0) does not satisfy >=1.0)"
    );
    rounds(&count, 1);
    assert_eq!(terminate(&mut child), 0, "a clean stop exits 0");
    assert_eq!(next_line(&err, "stop line"), "stopped");
    assert!(out.recv_timeout(PATIENCE).is_err(), "nothing else on stdout");

    // Rounds every second: only the two changes are printed, however many
    // rounds run (the verdict last seen carries over from the run above).
    let mut child = env.coord_spawn(&["watch", "--interval", "1s"]);
    let out = lines_of(child.stdout.take().expect("stdout"));
    let err = lines_of(child.stderr.take().expect("stderr"));
    assert!(next_line(&err, "start line").starts_with("watching dependencies every 1s (--interval)"));
    let start = count.load(Ordering::SeqCst);
    rounds(&count, start + 3);
    tag(&env, &lib, "v1.0.0");
    assert_eq!(
        next_line(&out, "the release"),
        "2026-03-01T12:00:00Z DEP-001 app → lib: unsatisfied → satisfied (1.0.0 (tag v1.0.0) satisfies >=1.0)"
    );
    let after = count.load(Ordering::SeqCst);
    rounds(&count, after + 3);
    untag(&env, &lib, "v1.0.0");
    assert_eq!(
        next_line(&out, "the withdrawn release"),
        "2026-03-01T12:00:00Z DEP-001 app → lib: satisfied → unsatisfied (0.9.0 (tag v0.9.0) does not satisfy >=1.0)"
    );
    let after = count.load(Ordering::SeqCst);
    rounds(&count, after + 3);
    assert_eq!(terminate(&mut child), 0, "a clean stop exits 0");
    assert!(out.recv_timeout(PATIENCE).is_err(), "only the two transitions are printed");
    assert_eq!(next_line(&err, "stop line"), "stopped");
    assert!(count.load(Ordering::SeqCst) >= start + 9, "rounds ran in between");
}

#[test]
fn watch_once_delivers_events_and_reports_only_deliveries_and_failures() {
    use crate::test_memory::{Hook, all_ids, status, webhook_env};
    let hook = Hook::start(500);
    let (env, _remote) = webhook_env(hook.port, "");
    let ids = all_ids(&env);
    // The service fails: watch still succeeds, says so, and the events wait.
    let run = env.coord(&["watch", "--once", "--offline"]);
    let out = run.ok();
    assert!(out.starts_with("2026-03-01T12:00:00Z events: webhook delivered 0, failed: webhook: "), "{out}");
    assert!(out.contains("HTTP 500"), "{out}");
    assert_eq!(hook.keys(), vec![ids[0].clone()]);
    assert_eq!(status(&env)["pending"], ids.len());
    // Backing off is no news: nothing said, no request.
    assert_eq!(env.coord(&["watch", "--once", "--offline"]).ok(), "");
    assert_eq!(hook.keys().len(), 1);
    // The service recovers: the next round delivers everything, in order.
    hook.set(200);
    env.coord(&["events", "retry"]).ok();
    assert_eq!(
        env.coord(&["watch", "--once", "--offline"]).ok(),
        format!("2026-03-01T12:00:00Z events: webhook delivered {}\n", ids.len())
    );
    assert_eq!(hook.keys()[1..], ids[..]);
    // A new commit is derived by the round but waits until published.
    env.coord(&["update-todo", "TODO-002", "--assignee", "kim"]).ok();
    env.commit_all_at("reassign", "2026-03-07T09:00:00+00:00");
    assert_eq!(env.coord(&["watch", "--once", "--offline"]).ok(), "");
    assert_eq!(status(&env)["pending"], 1);
    env.git(&["push", "-q"]).ok();
    assert_eq!(env.coord(&["watch", "--once", "--offline"]).ok(), "2026-03-01T12:00:00Z events: webhook delivered 1\n");
    assert_eq!(hook.keys().len(), ids.len() + 2);
}

#[test]
fn watch_goes_on_while_the_memory_service_fails_and_delivers_once_it_answers() {
    use crate::test_memory::{Hook, all_ids, webhook_env};
    let hook = Hook::start(503);
    // No backoff: every round tries again (and fails again) until it answers.
    let (env, _remote) = webhook_env(hook.port, "  backoff_seconds: 0\n  max_attempts: 1000\n");
    let ids = all_ids(&env);
    let mut child = env.coord_spawn(&["watch", "--interval", "1s", "--offline"]);
    let out = lines_of(child.stdout.take().expect("stdout"));
    let _err = lines_of(child.stderr.take().expect("stderr"));
    for round in 0..3 {
        let l = next_line(&out, "a failed delivery");
        assert!(l.contains("events: webhook delivered 0, failed: ") && l.contains("HTTP 503"), "round {round}: {l}");
    }
    hook.set(200);
    let mut l = next_line(&out, "the delivery");
    while l.contains("failed") {
        l = next_line(&out, "the delivery");
    }
    assert_eq!(l, format!("2026-03-01T12:00:00Z events: webhook delivered {}", ids.len()));
    assert_eq!(terminate(&mut child), 0, "a clean stop exits 0");
    let keys = hook.keys();
    assert_eq!(keys[keys.len() - ids.len()..], ids[..]);
    assert!(keys[..keys.len() - ids.len()].iter().all(|k| k == &ids[0]), "only the first event was retried");
}
