//! Runs that outlive their starter: a run whose process is killed (kill -9)
//! shows as `interrupted` and is resumed in its own record; a run started
//! over MCP answers within its bounded wait with the run ID and goes on
//! after the client disconnects.

use crate::env::TestEnv;
use crate::test_mcp::Client;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Checkouts a and b, execution enabled with `test` = `action`.
fn setup(action: &str) -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let marks = env.sibling_checkouts(&["a", "b"]);
    env.write("settings/ecosystem.yaml", "repos:\n  - {name: a, path: ../a}\n  - {name: b, path: ../b}\n");
    let action = action.replace("{m}", &marks.display().to_string());
    env.write("settings/coord.yaml", &format!("pool_execution_enabled: true\nactions:\n  test: '{action}'\n"));
    (env, marks)
}

fn todo(env: &TestEnv, id: &str, repo: &str, extra: &str) {
    env.pending_todo(id, repo, extra);
}

fn status_of(env: &TestEnv, id: &str) -> String {
    env.todo_status(id)
}

/// Waits until `p` exists with a whole line in it (a shell's `echo … > p`
/// creates the file before it writes).
fn wait_for(p: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(p).is_ok_and(|t| t.ends_with('\n')) {
        assert!(Instant::now() < deadline, "{} never appeared", p.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn only_run(env: &TestEnv) -> String {
    let names: Vec<String> = std::fs::read_dir(env.root.join("coordination/runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".yaml").to_string())
        // A process killed in the middle of an atomic write leaves its
        // temporary file (`.coord-*.tmp`) beside the records; it is no run.
        .filter(|n| n.starts_with("RUN-"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    names[0].clone()
}

fn ran(marks: &Path) -> Vec<String> {
    std::fs::read_to_string(marks.join("ran")).unwrap_or_default().lines().map(str::to_string).collect()
}

#[test]
fn a_killed_run_shows_interrupted_and_resumes_in_its_own_record() {
    // TODO-002 holds (sleeps) while the `hold` file exists.
    let (env, marks) = setup(
        "echo $COORD_TODO_ID >> {m}/ran; if [ $COORD_TODO_ID = TODO-002 ] && [ -e {m}/hold ]; then echo $$ > {m}/holding; exec sleep 60; fi",
    );
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "blocked_by: [TODO-001]\n");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002"]).ok();
    std::fs::write(marks.join("hold"), "").unwrap();
    let mut child = env.coord_spawn(&["execute", "TODO-001", "TODO-002"]);
    wait_for(&marks.join("holding"));
    assert_eq!(env.wait_todo_status("TODO-002", "in_progress"), "in_progress");
    // The run's process dies without a chance to clean up; its task's
    // process group is left behind (ended here, as a machine reboot would).
    let pid = |n: u32| rustix::process::Pid::from_raw(n as i32).unwrap();
    rustix::process::kill_process(pid(child.id()), rustix::process::Signal::KILL).unwrap();
    child.wait().unwrap();
    let sleeper: u32 = std::fs::read_to_string(marks.join("holding")).unwrap().trim().parse().unwrap();
    let _ = rustix::process::kill_process_group(pid(sleeper), rustix::process::Signal::KILL);
    let id = only_run(&env);
    let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
    assert_eq!(rec["status"], "interrupted", "{rec}");
    assert!(env.coord(&["runs"]).ok().contains("interrupted"));
    assert_eq!(status_of(&env, "TODO-001"), "completed");
    // Set `in_progress` a moment after it started (checked before the kill
    // above, so it is the dead run's write).
    assert_eq!(status_of(&env, "TODO-002"), "in_progress");
    // Resumed: the same record; what succeeded is not run again, the todo
    // the dead run left in progress is taken back and finished.
    std::fs::remove_file(marks.join("hold")).unwrap();
    env.coord(&["execute", "--resume", &id]).ok();
    assert_eq!(only_run(&env), id);
    let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
    assert_eq!(rec["status"], "succeeded", "{rec}");
    let yaml: serde_yaml::Value = serde_yaml::from_str(&env.read(&format!("coordination/runs/{id}.yaml"))).unwrap();
    assert_eq!(yaml["resumed"].as_sequence().map(Vec::len), Some(1), "{yaml:?}");
    assert_eq!(ran(&marks), ["TODO-001", "TODO-002", "TODO-002"]);
    assert_eq!(status_of(&env, "TODO-002"), "completed");
    // A finished run has nothing to resume.
    let err = env.coord(&["execute", "--resume", &id]).fails(1).to_string();
    assert!(err.contains("nothing to resume"), "{err}");
}

#[test]
fn an_mcp_run_answers_within_its_wait_and_survives_the_client_disconnecting() {
    let (env, marks) = setup("sleep 3; echo $COORD_TODO_ID >> {m}/ran");
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let mut c = Client::start(&env);
    let started = Instant::now();
    let r = c.tool(2, "coord_sweep", json!({"repo": "a", "wait_seconds": 1}));
    assert!(started.elapsed() < Duration::from_secs(3), "the wait is bounded");
    assert_eq!(r["status"], "running", "{r}");
    let id = r["run_id"].as_str().unwrap().to_string();
    // The client goes away (its server process is killed) mid-run.
    drop(c);
    assert!(ran(&marks).is_empty());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
        if rec["status"] == "succeeded" {
            break;
        }
        assert_eq!(rec["status"], "running", "{rec}");
        assert!(Instant::now() < deadline, "{rec}");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(ran(&marks), ["TODO-001"]);
    assert_eq!(status_of(&env, "TODO-001"), "completed");
}

/// The README's "Running work across repositories" walk-through: a plan
/// swept with the test action, a failure that skips its dependent, the full
/// log, the fix, and `--rerun-failed` running the failed task and then
/// what it blocked.
#[test]
fn the_readme_walkthrough_sweep_fail_log_fix_rerun() {
    // The test action fails in a checkout holding a `broken` file.
    let (env, _marks) = setup("if [ -e broken ]; then echo \"assertion failed in $COORD_REPO\"; exit 101; fi");
    let base = env.root.parent().unwrap().to_path_buf();
    std::fs::write(base.join("b/broken"), "").unwrap();
    env.write(
        "coordination/plans/PLAN-001.yaml",
        "id: PLAN-001\ntitle: ship\nstatus: active\nrepos: [a, b]\nmilestones: []\n",
    );
    todo(&env, "TODO-001", "a", "plan_id: PLAN-001\n");
    todo(&env, "TODO-002", "a", "plan_id: PLAN-001\nblocked_by: [TODO-001]\n");
    todo(&env, "TODO-003", "b", "plan_id: PLAN-001\n");
    todo(&env, "TODO-004", "a", "plan_id: PLAN-001\nblocked_by: [TODO-003]\n");
    env.commit_all("plan");
    let dry = env.coord(&["sweep", "--plan", "PLAN-001", "--dry-run"]).ok().to_string();
    assert!(dry.contains("untrusted"), "{dry}");
    env.coord(&["trust", "--exec", "--plan", "PLAN-001"]).ok();
    let r = env.coord(&["sweep", "--plan", "PLAN-001", "--jobs", "4"]);
    r.fails(1);
    let first = r.stdout.lines().next().unwrap();
    assert!(first.ends_with("failed: 4 tasks, 2 succeeded, 1 failed, 1 skipped"), "{}", r.stdout);
    assert!(r.stdout.contains("[b] TODO-003 failed: exit 101"), "{}", r.stdout);
    assert!(r.stdout.contains("TODO-004 skipped (blocked by TODO-003, failed)"), "{}", r.stdout);
    let id = first.split_whitespace().next().unwrap().to_string();
    let log = env.coord(&["run-log", &id, "TODO-003"]).ok().to_string();
    assert!(log.contains("assertion failed in b"), "{log}");
    assert_eq!((status_of(&env, "TODO-001"), status_of(&env, "TODO-003")), ("completed".into(), "pending".into()));
    // …fix the test…
    std::fs::remove_file(base.join("b/broken")).unwrap();
    let r = env.coord(&["sweep", "--rerun-failed", &id]);
    r.ok();
    let again = r.stdout.lines().next().unwrap();
    assert!(again.ends_with("succeeded: 2 tasks, 2 succeeded"), "{}", r.stdout);
    // TODO-003 ran before TODO-004, in a new record.
    let new_id = again.split_whitespace().next().unwrap();
    assert_ne!(new_id, id);
    let rec: serde_yaml::Value = serde_yaml::from_str(&env.read(&format!("coordination/runs/{new_id}.yaml"))).unwrap();
    let tasks = rec["tasks"].as_sequence().unwrap();
    let span = |k: &str| {
        let t = tasks.iter().find(|t| t["key"].as_str() == Some(k)).unwrap_or_else(|| panic!("{k}: {rec:?}"));
        t["attempts"][0]["started"].as_str().unwrap().to_string()
    };
    assert!(span("TODO-003") < span("TODO-004"), "{rec:?}");
    for t in ["TODO-002", "TODO-003", "TODO-004"] {
        assert_eq!(status_of(&env, t), "completed");
    }
}

#[test]
fn a_todo_completed_but_not_recorded_by_a_dead_run_counts_as_done_on_resume() {
    // The record of a run is not rewritten after every completed todo (the
    // todo file is the witness): a run killed in between leaves the todo
    // completed and its task `running` in the record.
    let (env, marks) = setup("echo $COORD_TODO_ID >> {m}/ran; [ $COORD_TODO_ID = TODO-001 ] || [ -e {m}/go ]");
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002"]).ok();
    env.coord(&["execute", "TODO-001", "TODO-002", "--jobs", "1"]).fails(1);
    assert_eq!(status_of(&env, "TODO-001"), "completed");
    let id = only_run(&env);
    // As a process killed before its record caught up leaves it.
    let rel = format!("coordination/runs/{id}.yaml");
    let mut rec: serde_yaml::Value = serde_yaml::from_str(&env.read(&rel)).unwrap();
    rec["status"] = "running".into();
    rec["finished"] = serde_yaml::Value::Null;
    rec["pid"] = 999_999_999u64.into();
    for t in rec["tasks"].as_sequence_mut().unwrap() {
        if t["key"] == "TODO-001" {
            t["status"] = "running".into();
        }
    }
    env.write(&rel, &serde_yaml::to_string(&rec).unwrap());
    assert_eq!(env.coord(&["show-run", &id, "--format", "json"]).json()["status"], "interrupted");
    std::fs::write(marks.join("go"), "").unwrap();
    env.coord(&["execute", "--resume", &id]).ok();
    let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
    assert_eq!(rec["status"], "succeeded", "{rec}");
    let t1 = rec["tasks"].as_array().unwrap().iter().find(|t| t["key"] == "TODO-001").unwrap();
    assert_eq!(t1["status"], "skipped", "{t1}");
    assert_eq!(t1["reason"], "completed before the resume (its todo says so)", "{t1}");
    assert_eq!(ran(&marks), ["TODO-001", "TODO-002", "TODO-002"], "TODO-001 is not run again");
    assert_eq!(status_of(&env, "TODO-002"), "completed");
}

/// A sweep of quick tasks killed (kill -9) at an arbitrary point, then
/// resumed: every todo ends completed; a todo that was completed when the
/// run died is not run again, and each one that was not runs once more at
/// most (the task in flight at the kill may have run without being
/// recorded). Quick tasks' todos are written once, at the end, so the
/// dead run leaves them pending or completed, never half-claimed.
#[test]
fn a_sweep_killed_mid_way_resumes_without_running_finished_work_again() {
    let (env, marks) = setup("echo $COORD_TODO_ID >> {m}/ran");
    let ids: Vec<String> = (1..=60).map(|i| format!("TODO-{i:03}")).collect();
    for (i, id) in ids.iter().enumerate() {
        todo(&env, id, if i % 2 == 0 { "a" } else { "b" }, "labels: [crash]\n");
    }
    env.commit_all("todos");
    let mut trust = vec!["trust", "--exec"];
    trust.extend(ids.iter().map(String::as_str));
    env.coord(&trust).ok();
    let mut child = env.coord_spawn(&["sweep", "--label", "crash", "--jobs", "2"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while ran(&marks).len() < 10 {
        assert!(Instant::now() < deadline, "the sweep never got going");
        std::thread::sleep(Duration::from_millis(2));
    }
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::KILL).unwrap();
    child.wait().unwrap();
    let id = only_run(&env);
    let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
    assert_eq!(rec["status"], "interrupted", "{rec}");
    let done_before: Vec<&String> = ids.iter().filter(|t| status_of(&env, t) == "completed").collect();
    assert!(done_before.len() < ids.len(), "the kill came after the end");
    for t in &ids {
        let s = status_of(&env, t);
        assert!(["completed", "pending", "in_progress"].contains(&s.as_str()), "{t}: {s}");
    }
    let before = ran(&marks).len();
    env.coord(&["sweep", "--resume", &id]).ok();
    let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
    assert_eq!(rec["status"], "succeeded", "{rec}");
    let all = ran(&marks);
    let after = &all[before..];
    for t in &ids {
        assert_eq!(status_of(&env, t), "completed", "{t}");
        assert!(all.contains(t), "{t} never ran");
        let again = after.iter().filter(|r| *r == t).count();
        if done_before.contains(&t) {
            assert_eq!(again, 0, "{t} was completed before the resume and ran again");
        } else {
            assert_eq!(again, 1, "{t} was not completed before the resume: it runs once more");
        }
    }
}
