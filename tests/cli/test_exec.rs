//! Pool execution with the local pool: real processes in real checkouts,
//! ordering and parallelism proven by timestamps the tasks write.

use crate::env::TestEnv;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Three checkouts (a, b: role core with capability dispatch; c: role app)
/// next to the coordination repo, and settings with execution enabled.
fn setup(settings_extra: &str) -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let marks = env.sibling_checkouts(&["a", "b", "c"]);
    env.write(
        "settings/ecosystem.yaml",
        "repos:\n  - {name: a, path: ../a, role: core}\n  - {name: b, path: ../b, role: core}\n  - {name: c, path: ../c, role: app}\nroles:\n  - {name: core, capabilities: [dispatch]}\n  - {name: app}\n",
    );
    env.write("settings/coord.yaml", &format!("pool_execution_enabled: true\n{settings_extra}"));
    (env, marks)
}

fn todo(env: &TestEnv, id: &str, repo: &str, extra: &str) {
    env.pending_todo(id, repo, extra);
}

/// A command that records its start and end (seconds, fractional) in MARKS.
fn stamp_cmd(marks: &Path, sleep: &str) -> String {
    format!(
        "date +%s.%N > {m}/$COORD_TODO_ID.start; sleep {sleep}; date +%s.%N > {m}/$COORD_TODO_ID.end",
        m = marks.display()
    )
}

fn read_f(p: &Path) -> f64 {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).trim().parse().unwrap()
}

fn span(marks: &Path, id: &str) -> (f64, f64) {
    (read_f(&marks.join(format!("{id}.start"))), read_f(&marks.join(format!("{id}.end"))))
}

fn overlap(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

fn run_id(env: &TestEnv) -> String {
    let runs = env.root.join("coordination/runs");
    let mut names: Vec<String> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".yaml").to_string())
        .collect();
    names.sort();
    names.pop().expect("a run record")
}

fn status_of(env: &TestEnv, id: &str) -> String {
    env.todo_status(id)
}

#[test]
fn dry_run_shows_waves_and_writes_nothing() {
    let (env, marks) = setup(&format!("actions:\n  test: \"{}\"\n", stamp_cmd(Path::new("/nonexistent"), "0")));
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "blocked_by: [TODO-001]\n");
    todo(&env, "TODO-003", "c", "blocked_by: [TODO-002]\n");
    todo(&env, "TODO-004", "c", "");
    env.commit_all("todos");
    let v =
        env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003", "TODO-004", "--dry-run", "--format", "json"]).json();
    let waves: Vec<(String, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap().into(), t["wave"].as_u64().unwrap()))
        .collect();
    let wave = |k: &str| waves.iter().find(|(x, _)| x == k).unwrap().1;
    assert_eq!((wave("TODO-001"), wave("TODO-002"), wave("TODO-003"), wave("TODO-004")), (1, 2, 3, 1), "{v}");
    assert_eq!(
        v[0]["trust"].as_str().unwrap(),
        "untrusted command; approve the execution of TODO-001 with git coord trust after reading it"
    );
    let out = env.coord(&["sweep", "--repo", "c", "--dry-run"]).ok().to_string();
    assert!(out.contains("wave 1") && out.contains("TODO-004") && out.contains("after TODO-002"), "{out}");
    assert!(!env.exists("coordination/runs"));
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "");
    assert!(std::fs::read_dir(&marks).unwrap().next().is_none());
}

#[test]
fn jobs_bound_parallelism_and_one_task_per_checkout() {
    let (env, marks) = setup("");
    let cmd = stamp_cmd(&marks, "0.4");
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nactions:\n  test: {{command: \"{cmd}\", completes: false}}\n"),
    );
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "");
    todo(&env, "TODO-003", "c", "");
    todo(&env, "TODO-004", "c", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002", "TODO-003", "TODO-004"]).ok();
    env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003", "--jobs", "1"]).ok();
    let s: Vec<_> = ["TODO-001", "TODO-002", "TODO-003"].iter().map(|i| span(&marks, i)).collect();
    for i in 0..3 {
        for j in i + 1..3 {
            assert!(!overlap(s[i], s[j]), "--jobs 1 overlapped: {s:?}");
        }
    }
    // Not completing: they stay pending and can run again.
    assert_eq!(status_of(&env, "TODO-001"), "pending");
    env.coord(&["execute", "TODO-001", "TODO-002", "--jobs", "2"]).ok();
    assert!(overlap(span(&marks, "TODO-001"), span(&marks, "TODO-002")), "--jobs 2 did not overlap");
    // Two todos of one checkout never overlap, even with free slots.
    env.coord(&["execute", "TODO-003", "TODO-004", "--jobs", "4"]).ok();
    assert!(!overlap(span(&marks, "TODO-003"), span(&marks, "TODO-004")), "one checkout ran two tasks at once");
    // A pool's max_parallel bounds its tasks whatever --jobs says.
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nactions:\n  test: {{command: \"{cmd}\", completes: false, pool: narrow}}\npools:\n  narrow: {{runner: local, max_parallel: 1}}\n"),
    );
    env.commit_all("narrow pool");
    env.coord(&["execute", "TODO-001", "TODO-002", "--jobs", "4"]).ok();
    assert!(!overlap(span(&marks, "TODO-001"), span(&marks, "TODO-002")), "pool max_parallel 1 overlapped");
}

#[test]
fn order_failure_propagation_and_summary() {
    let (env, marks) = setup("");
    let m = marks.display();
    env.write(
        "settings/coord.yaml",
        &format!(
            "pool_execution_enabled: true\nactions:\n  test: \"date +%s.%N > {m}/$COORD_TODO_ID.start; sleep 0.2; date +%s.%N > {m}/$COORD_TODO_ID.end; test $COORD_TODO_ID != TODO-003\"\n"
        ),
    );
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "blocked_by: [TODO-001]\n");
    todo(&env, "TODO-003", "a", "");
    todo(&env, "TODO-004", "c", "blocked_by: [TODO-003]\n");
    todo(&env, "TODO-005", "c", "blocked_by: [TODO-004]\n");
    env.commit_all("todos");
    let ids = ["TODO-001", "TODO-002", "TODO-003", "TODO-004", "TODO-005"];
    let mut args = vec!["trust", "--exec"];
    args.extend(ids);
    env.coord(&args).ok();
    let mut args = vec!["execute", "--jobs", "4"];
    args.extend(ids);
    let r = env.coord(&args);
    r.fails(1);
    let id = run_id(&env);
    assert!(r.stdout.starts_with(&format!("{id} failed: 5 tasks, 2 succeeded, 1 failed, 2 skipped\n")), "{}", r.stdout);
    assert!(r.stdout.contains("[a] TODO-003 failed: exit 1"), "{}", r.stdout);
    assert!(r.stdout.contains("[c] TODO-004 skipped (blocked by TODO-003, failed)"), "{}", r.stdout);
    assert!(r.stdout.contains("[c] TODO-005 skipped (blocked by TODO-004, skipped)"), "{}", r.stdout);
    // The blocker finished before its dependent started.
    assert!(span(&marks, "TODO-001").1 <= span(&marks, "TODO-002").0);
    assert!(!marks.join("TODO-004.start").exists());
    // Statuses: success completed, failure back to what it was.
    assert_eq!(status_of(&env, "TODO-001"), "completed");
    assert_eq!(status_of(&env, "TODO-003"), "pending");
    let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
    assert_eq!(rec["status"], "failed");
    let t3 = rec["tasks"].as_array().unwrap().iter().find(|t| t["key"] == "TODO-003").unwrap();
    assert_eq!(t3["attempts"][0]["exit_code"], 1);
    assert_eq!(t3["todo_status"]["from"], "pending");
    assert_eq!(t3["todo_status"]["to"], "pending");
    assert!(t3["head_before"].as_str().unwrap().len() == 40, "{t3}");
    let log = env.coord(&["run-log", &id, "TODO-001"]).ok().to_string();
    assert!(log.contains("=== TODO-001 attempt 1"), "{log}");
    // The record does not disturb lint.
    env.coord(&["lint"]).ok();
    let runs = env.coord(&["runs"]).ok().to_string();
    assert!(runs.contains(&id), "{runs}");
}

#[test]
fn a_transient_failure_is_retried() {
    let (env, marks) = setup("");
    let m = marks.display();
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nactions:\n  test: \"echo $COORD_ATTEMPT >> {m}/attempts; test $COORD_ATTEMPT -ge 2\"\n"),
    );
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    env.coord(&["execute", "TODO-001", "--retries", "2", "--backoff", "0.1s"]).ok();
    assert_eq!(std::fs::read_to_string(marks.join("attempts")).unwrap(), "1\n2\n");
    let rec = env.coord(&["show-run", &run_id(&env), "--format", "json"]).json();
    assert_eq!(rec["tasks"][0]["attempts"].as_array().unwrap().len(), 2);
    assert_eq!(status_of(&env, "TODO-001"), "completed");
}

/// Sends `sig` to process `pid` (a child of this test).
fn signal(pid: u32, sig: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(pid as i32).expect("a pid");
    rustix::process::kill_process(pid, sig).expect("signal the run");
}

fn alive(pid: &str) -> bool {
    Path::new(&format!("/proc/{}", pid.trim())).exists()
        && !std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default().contains(") Z ")
}

fn wait_for(p: &Path) {
    for _ in 0..200 {
        if p.exists() && !std::fs::read_to_string(p).unwrap_or_default().trim().is_empty() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{} never appeared", p.display());
}

#[test]
fn a_timeout_kills_the_whole_group() {
    let (env, marks) = setup("");
    let m = marks.display();
    // A grandchild that ignores nothing and would live for five minutes.
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nexecution: {{grace: 1s}}\nactions:\n  test: \"sh -c 'sleep 300' & echo $! > {m}/pid; wait\"\n"),
    );
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let r = env.coord(&["execute", "TODO-001", "--timeout", "1s"]);
    r.fails(1);
    assert!(r.stdout.contains("TODO-001 failed: timed out"), "{}", r.stdout);
    let pid = std::fs::read_to_string(marks.join("pid")).unwrap();
    assert!(!alive(&pid), "grandchild {pid} survived the timeout");
    assert_eq!(status_of(&env, "TODO-001"), "pending");
}

#[test]
fn ctrl_c_cancels_restores_and_kills() {
    let (env, marks) = setup("");
    let m = marks.display();
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nactions:\n  test: \"sh -c 'sleep 300' & echo $! > {m}/pid; wait\"\n"),
    );
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "blocked_by: [TODO-001]\n");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002"]).ok();
    let child = env.coord_spawn(&["execute", "TODO-001", "TODO-002"]);
    wait_for(&marks.join("pid"));
    assert_eq!(env.wait_todo_status("TODO-001", "in_progress"), "in_progress");
    signal(child.id(), rustix::process::Signal::INT);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stdout));
    let pid = std::fs::read_to_string(marks.join("pid")).unwrap();
    assert!(!alive(&pid), "grandchild {pid} survived Ctrl-C");
    assert_eq!(status_of(&env, "TODO-001"), "pending");
    let rec = env.coord(&["show-run", &run_id(&env), "--format", "json"]).json();
    assert_eq!(rec["status"], "cancelled");
    assert_eq!(rec["tasks"][1]["status"], "cancelled");
    // Resume continues the same record and runs what is left.
    env.write("settings/coord.yaml", "pool_execution_enabled: true\nactions:\n  test: \"true\"\n");
    env.commit_all("quick");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002"]).ok();
    let id = run_id(&env);
    env.coord(&["execute", "--resume", &id]).ok();
    let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
    assert_eq!(rec["status"], "succeeded", "{rec}");
    assert_eq!(status_of(&env, "TODO-002"), "completed");
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let (env, marks) = setup("");
    let m = marks.display();
    // The task and its grandchild ignore SIGTERM and the grace period is an
    // hour: only the second Ctrl-C's immediate SIGKILL can end them.
    env.write(
        "settings/coord.yaml",
        &format!(
            "pool_execution_enabled: true\nexecution: {{grace: 1h}}\nactions:\n  test: \"trap 'echo term > {m}/term' TERM; sh -c \\\"trap '' TERM; sleep 300\\\" & echo $! > {m}/pid; while :; do sleep 0.2; done\"\n"
        ),
    );
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let mut child = env.coord_spawn(&["execute", "TODO-001"]);
    wait_for(&marks.join("pid"));
    signal(child.id(), rustix::process::Signal::INT);
    // The first Ctrl-C reached the group as SIGTERM, which it shrugged off.
    wait_for(&marks.join("term"));
    assert!(child.try_wait().unwrap().is_none(), "the run ended on the first Ctrl-C despite an hour of grace");
    signal(child.id(), rustix::process::Signal::INT);
    // Not a budget: the alternative is the hour of grace.
    let mut waited = 0;
    while child.try_wait().unwrap().is_none() && waited < 600 {
        std::thread::sleep(Duration::from_millis(100));
        waited += 1;
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
        panic!("the second Ctrl-C did not end the run");
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    let pid = std::fs::read_to_string(marks.join("pid")).unwrap();
    assert!(!alive(&pid), "grandchild {pid} survived the second Ctrl-C");
    let rec = env.coord(&["show-run", &run_id(&env), "--format", "json"]).json();
    assert_eq!(rec["status"], "cancelled");
    assert_eq!(rec["tasks"][0]["attempts"][0]["signal"], 9, "{rec}");
    assert_eq!(status_of(&env, "TODO-001"), "pending");
}

#[test]
fn fail_fast_stops_dispatching_and_skips_the_rest() {
    let (env, marks) = setup("");
    let m = marks.display();
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nactions:\n  test: \"touch {m}/$COORD_TODO_ID; false\"\n"),
    );
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "");
    todo(&env, "TODO-003", "c", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002", "TODO-003"]).ok();
    let r = env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003", "--jobs", "1", "--fail-fast"]);
    r.fails(1);
    let id = run_id(&env);
    assert!(r.stdout.starts_with(&format!("{id} failed: 3 tasks, 1 failed, 2 skipped\n")), "{}", r.stdout);
    let ran: Vec<_> = ["TODO-001", "TODO-002", "TODO-003"].into_iter().filter(|t| marks.join(t).exists()).collect();
    assert_eq!(ran.len(), 1, "only the first task ran: {ran:?}");
    let failed = ran[0];
    let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
    for t in rec["tasks"].as_array().unwrap() {
        if t["key"] == failed {
            assert_eq!(t["status"], "failed");
        } else {
            assert_eq!(t["status"], "skipped", "{t}");
            assert_eq!(t["reason"], format!("stopping at the first failure (fail_fast): {failed} failed"), "{t}");
            assert!(
                r.stdout.contains(&format!(
                    "{} skipped (stopping at the first failure (fail_fast): {failed} failed)",
                    t["key"].as_str().unwrap()
                )),
                "{}",
                r.stdout
            );
        }
    }
    // Without --fail-fast the independent tasks all run.
    std::thread::sleep(Duration::from_millis(1100)); // a new run ID second
    env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003", "--jobs", "1"]).fails(1);
    assert!(["TODO-001", "TODO-002", "TODO-003"].iter().all(|t| marks.join(t).exists()));
}

#[test]
fn rerun_failed_runs_only_what_failed() {
    let (env, marks) = setup("");
    let m = marks.display();
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nactions:\n  test: \"echo x >> {m}/$COORD_TODO_ID; test ! -e {m}/broken || test $COORD_TODO_ID != TODO-002\"\n"),
    );
    std::fs::write(marks.join("broken"), "").unwrap();
    env.write("settings/coord.yaml", &env.read("settings/coord.yaml").replace("completes_never", ""));
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "");
    todo(&env, "TODO-003", "c", "blocked_by: [TODO-002]\n");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002", "TODO-003"]).ok();
    env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003"]).fails(1);
    let first = run_id(&env);
    std::fs::remove_file(marks.join("broken")).unwrap();
    std::thread::sleep(Duration::from_millis(1100)); // a new run ID second
    env.coord(&["execute", "--rerun-failed", &first]).ok();
    let count = |id: &str| std::fs::read_to_string(marks.join(id)).map(|s| s.lines().count()).unwrap_or(0);
    assert_eq!((count("TODO-001"), count("TODO-002"), count("TODO-003")), (1, 2, 1));
}

#[test]
fn untrusted_commands_never_start_and_disabled_execution_refuses() {
    let (env, marks) = setup("");
    let m = marks.display();
    env.write("settings/coord.yaml", &format!("pool_execution_enabled: true\nactions:\n  test: \"touch {m}/ran\"\n"));
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    let r = env.coord(&["execute", "TODO-001"]);
    r.fails(1);
    assert!(
        r.stdout
            .contains("TODO-001 untrusted: untrusted command; approve the execution of TODO-001 with git coord trust"),
        "{}",
        r.stdout
    );
    assert!(!marks.join("ran").exists());
    assert_eq!(status_of(&env, "TODO-001"), "pending");
    // An approval for check-deps-style text does not cover the task, and a
    // changed command withdraws the approval.
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    env.write("settings/coord.yaml", &format!("pool_execution_enabled: true\nactions:\n  test: \"touch {m}/ran \"\n"));
    env.coord(&["execute", "TODO-001"]).fails(1);
    assert!(!marks.join("ran").exists());
    // Execution off: refused; the dry run still works.
    env.write("settings/coord.yaml", &format!("pool_execution_enabled: false\nactions:\n  test: \"touch {m}/ran\"\n"));
    let err = env.coord(&["execute", "TODO-001"]).fails(1).to_string();
    assert!(err.contains("pool execution is disabled"), "{err}");
    env.coord(&["execute", "TODO-001", "--dry-run"]).ok();
    assert!(!marks.join("ran").exists());
}

#[test]
fn task_text_never_reaches_the_shell_string() {
    let (env, marks) = setup("");
    let m = marks.display();
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nactions:\n  test: \"cat > {m}/stdin; printenv COORD_TASK > {m}/task; cp \\\"$COORD_PROMPT_FILE\\\" {m}/prompt\"\n"),
    );
    env.write(
        "coordination/todos/TODO-001.yaml",
        &format!("id: TODO-001\ntask: \"evil $(touch {m}/pwned) `touch {m}/pwned2`\"\nrepo: a\nstatus: pending\n"),
    );
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    env.coord(&["execute", "TODO-001"]).ok();
    assert!(!marks.join("pwned").exists() && !marks.join("pwned2").exists());
    let stdin = std::fs::read_to_string(marks.join("stdin")).unwrap();
    assert!(stdin.starts_with("TODO-001: evil $(touch"), "{stdin}");
    assert!(std::fs::read_to_string(marks.join("task")).unwrap().contains("$(touch"));
    assert_eq!(std::fs::read_to_string(marks.join("prompt")).unwrap(), stdin);
}

#[test]
fn routing_by_role_capability_and_label_with_explain() {
    let (env, _marks) = setup("");
    env.write(
        "settings/coord.yaml",
        "pool_execution_enabled: true\nactions:\n  test: \"echo test\"\n  lint: \"echo lint\"\n  build: \"echo build\"\n  agent: {command: \"echo agent\", completes: false}\nrouting:\n  - {name: agents, match: {assignee: \"agent:*\"}, action: agent}\n  - {name: docs, match: {label: docs}, action: lint}\n  - {name: dispatchers, match: {capability: dispatch, role: core}, action: build}\n",
    );
    env.write(
        "settings/ecosystem.yaml",
        &(env.read("settings/ecosystem.yaml") + "")
            .replace("role: app}", "role: app, commands: {test: \"make check\"}}"),
    );
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "c", "labels: [docs]\n");
    todo(&env, "TODO-003", "c", "assignee: \"agent:claude\"\n");
    todo(&env, "TODO-004", "c", "");
    todo(&env, "TODO-005", "c", "run: {command: \"echo mine\", timeout: 5s}\n");
    env.commit_all("todos");
    let v = env
        .coord(&[
            "execute",
            "TODO-001",
            "TODO-002",
            "TODO-003",
            "TODO-004",
            "TODO-005",
            "--dry-run",
            "--explain",
            "--format",
            "json",
        ])
        .json();
    let get = |k: &str| v.as_array().unwrap().iter().find(|t| t["key"] == k).unwrap().clone();
    assert_eq!(get("TODO-001")["command"], "echo build");
    assert!(get("TODO-001")["explain"][0].as_str().unwrap().contains("rule `dispatchers` matched"));
    assert_eq!(get("TODO-002")["command"], "echo lint");
    assert_eq!(get("TODO-003")["command"], "echo agent");
    // No rule: the default action, with the repo's own command for it.
    assert_eq!(get("TODO-004")["command"], "make check");
    assert!(get("TODO-004")["decided_by"].as_str().unwrap().contains("c commands.test"), "{}", get("TODO-004"));
    assert_eq!(get("TODO-005")["command"], "echo mine");
    assert_eq!(get("TODO-005")["decided_by"], "TODO-005 run.command");
    let out = env.coord(&["execute", "TODO-001", "--dry-run", "--explain"]).ok().to_string();
    assert!(out.contains("action: build (from routing rule `dispatchers`)"), "{out}");
    // Another pool: it can start there, but needs its own approval (the
    // binding covers the pool; tests/cli/test_ssh_pool.rs runs it).
    env.write(
        "settings/coord.yaml",
        &(env.read("settings/coord.yaml") + "pools:\n  farm: {runner: ssh, hosts: [h1]}\n"),
    );
    let v = env.coord(&["execute", "TODO-004", "--pool", "farm", "--dry-run", "--format", "json"]).json();
    assert!(!v[0]["not_started"].as_str().unwrap_or_default().contains("not available"), "{v}");
    assert_eq!(v[0]["pool"], "farm");
    assert!(v[0]["trust"].as_str().unwrap().starts_with("untrusted"), "{v}");
}

#[test]
fn command_sweep_runs_providers_before_consumers() {
    let (env, marks) = setup("");
    env.write(
        "coordination/dependencies/DEP-001.yaml",
        "id: DEP-001\nconsumer: c\nprovider: b\ntype: runtime\nstatus: satisfied\n",
    );
    env.write(
        "coordination/dependencies/DEP-002.yaml",
        "id: DEP-002\nconsumer: b\nprovider: a\ntype: runtime\nstatus: satisfied\n",
    );
    env.commit_all("deps");
    let cmd = format!("echo $COORD_REPO >> {}/order", marks.display());
    let v = env.coord(&["sweep", "--command", &cmd, "--all", "--dry-run", "--format", "json"]).json();
    let waves: Vec<(String, u64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap().into(), t["wave"].as_u64().unwrap()))
        .collect();
    assert_eq!(waves, vec![("a".into(), 1), ("b".into(), 2), ("c".into(), 3)]);
    env.coord(&["trust", "--exec", "--command", &cmd, "--repos", "a,b,c"]).ok();
    env.coord(&["sweep", "--command", &cmd, "--all", "--jobs", "3"]).ok();
    assert_eq!(std::fs::read_to_string(marks.join("order")).unwrap(), "a\nb\nc\n");
    assert_eq!(env.git(&["status", "--porcelain", "coordination/dependencies"]).ok(), "");
}

#[test]
fn concurrent_sweeps_run_each_todo_once() {
    let (env, marks) = setup("");
    let m = marks.display();
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nactions:\n  test: \"echo $COORD_TODO_ID >> {m}/ran; sleep 0.3\"\n"),
    );
    for (i, r) in ["a", "b", "c", "a", "b", "c"].iter().enumerate() {
        todo(&env, &format!("TODO-00{}", i + 1), r, "labels: [x]\n");
    }
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002", "TODO-003", "TODO-004", "TODO-005", "TODO-006"]).ok();
    let one = env.coord_spawn(&["sweep", "--label", "x", "--jobs", "3"]);
    let two = env.coord_spawn(&["sweep", "--label", "x", "--jobs", "3"]);
    one.wait_with_output().unwrap();
    two.wait_with_output().unwrap();
    let ran = std::fs::read_to_string(marks.join("ran")).unwrap();
    let mut lines: Vec<&str> = ran.lines().collect();
    lines.sort();
    assert_eq!(lines, vec!["TODO-001", "TODO-002", "TODO-003", "TODO-004", "TODO-005", "TODO-006"], "{ran}");
    for i in 1..=6 {
        assert_eq!(status_of(&env, &format!("TODO-00{i}")), "completed");
    }
}

#[test]
fn cycles_are_refused_before_anything_starts() {
    let (env, marks) = setup(&format!("actions:\n  test: \"touch {}/ran\"\n", "/nonexistent"));
    todo(&env, "TODO-001", "a", "blocked_by: [TODO-002]\n");
    todo(&env, "TODO-002", "b", "blocked_by: [TODO-001]\n");
    env.commit_all("todos");
    let err = env.coord(&["execute", "TODO-001", "TODO-002"]).fails(1).to_string();
    assert!(err.contains("cycle"), "{err}");
    assert!(!env.exists("coordination/runs"));
    let _ = marks;
    let _: Option<Value> = None;
}

/// A task that ends within moments is written once: its todo goes from
/// pending straight to completed, and a quick failure leaves the todo file
/// as it was (the same file, not rewritten). A task that succeeds without
/// output leaves no log file; `run-log` shows it from the record.
#[test]
fn a_quick_task_writes_its_todo_once_and_a_quick_failure_not_at_all() {
    let (env, _marks) = setup("actions:\n  test: \"[ $COORD_TODO_ID != TODO-002 ]\"\n");
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002"]).ok();
    use std::os::unix::fs::MetadataExt;
    let file = env.root.join("coordination/todos/TODO-002.yaml");
    let (ino, text) = (std::fs::metadata(&file).unwrap().ino(), env.read("coordination/todos/TODO-002.yaml"));
    env.coord(&["execute", "TODO-001", "TODO-002"]).fails(1);
    assert_eq!(std::fs::metadata(&file).unwrap().ino(), ino, "the failed todo's file was rewritten");
    assert_eq!(env.read("coordination/todos/TODO-002.yaml"), text);
    assert_eq!(status_of(&env, "TODO-001"), "completed");
    let id = run_id(&env);
    let rec = env.coord(&["show-run", &id, "--format", "json"]).json();
    let task = |k: &str| rec["tasks"].as_array().unwrap().iter().find(|t| t["key"] == k).unwrap().clone();
    assert_eq!(task("TODO-001")["todo_status"], serde_json::json!({"from": "pending", "to": "completed"}));
    assert_eq!(task("TODO-002")["todo_status"], serde_json::json!({"from": "pending", "to": "pending"}));
    // Logs: none for the silent success, the failure's from its file.
    let logs = env.root.join(".git/git-coord/runs").join(&id);
    assert!(!logs.join("TODO-001.log").exists());
    let started = task("TODO-001")["attempts"][0]["started"].as_str().unwrap().to_string();
    let log = env.coord(&["run-log", &id, "TODO-001", "--format", "json"]).json();
    assert_eq!(
        log["log"],
        format!("=== TODO-001 attempt 1 at {started}: [ $COORD_TODO_ID != TODO-002 ]\n--- ok\n"),
        "{log}"
    );
    assert_eq!(log["complete"], true);
    let failed = std::fs::read_to_string(logs.join("TODO-002.log")).unwrap();
    assert!(failed.starts_with("=== TODO-002 attempt 1 at ") && failed.ends_with("--- exit 1\n"), "{failed}");
    // No prompt files: the action does not ask for them.
    let names: Vec<String> =
        std::fs::read_dir(&logs).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.ends_with(".prompt")), "{names:?}");
}

/// The prompt file (`COORD_PROMPT_FILE`) is written for agent actions,
/// actions with `prompt_file: true` and commands naming the variable; other
/// local tasks get the variable empty (the text is on their stdin).
#[test]
fn the_prompt_file_is_written_when_the_action_uses_it() {
    let (env, marks) = setup("");
    let m = marks.display();
    env.write(
        "settings/coord.yaml",
        &format!(
            "pool_execution_enabled: true\nactions:\n  test: \"env > {m}/$COORD_TODO_ID.env\"\n  check: {{command: \"env > {m}/$COORD_TODO_ID.env\", prompt_file: true}}\n  agent: {{command: \"env > {m}/$COORD_TODO_ID.env\"}}\n  named: \"cp \\\"$COORD_PROMPT_FILE\\\" {m}/$COORD_TODO_ID.prompt\"\n"
        ),
    );
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "run: {action: check}\n");
    todo(&env, "TODO-003", "c", "run: {action: agent}\n");
    todo(&env, "TODO-004", "a", "run: {action: named}\n");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002", "TODO-003", "TODO-004"]).ok();
    env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003", "TODO-004"]).ok();
    let var = |id: &str| {
        let env = std::fs::read_to_string(marks.join(format!("{id}.env"))).unwrap();
        env.lines().find_map(|l| l.strip_prefix("COORD_PROMPT_FILE=")).map(str::to_string).unwrap()
    };
    assert_eq!(var("TODO-001"), "");
    for id in ["TODO-002", "TODO-003"] {
        let text = std::fs::read_to_string(var(id)).unwrap();
        assert!(text.starts_with(&format!("{id}: task {id}")), "{id}: {text}");
    }
    let copied = std::fs::read_to_string(marks.join("TODO-004.prompt")).unwrap();
    assert!(copied.starts_with("TODO-004: task TODO-004"), "{copied}");
}

/// With coordination data read-only (`enabled: false`), a todo cannot be
/// claimed: its task is not started (the todo is written only later, so
/// the refusal comes before the command runs, not after).
#[test]
fn read_only_data_refuses_the_claim_before_the_task_runs() {
    let (env, marks) = setup("");
    let m = marks.display();
    todo(&env, "TODO-001", "a", "");
    env.write("settings/coord.yaml", &format!("pool_execution_enabled: true\nactions:\n  test: \"touch {m}/ran\"\n"));
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    env.write(
        "settings/coord.yaml",
        &format!("enabled: false\npool_execution_enabled: true\nactions:\n  test: \"touch {m}/ran\"\n"),
    );
    env.commit_all("read-only");
    let r = env.coord(&["execute", "TODO-001"]);
    r.fails(1);
    assert!(r.stdout.contains("TODO-001 not started: cannot claim"), "{}", r.stdout);
    assert!(r.stdout.contains("read-only"), "{}", r.stdout);
    assert!(!marks.join("ran").exists(), "the command ran");
    assert_eq!(status_of(&env, "TODO-001"), "pending");
}
