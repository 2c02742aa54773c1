//! Pool services as runners, over MCP: the real Session-Buddy (its
//! `create_pool`/`execute_on_pool`, answered by its placeholder backend)
//! and, for Mahavishnu — which cannot be installed here — a stand-in MCP
//! server this test starts (`fixtures/mahavishnu_standin.py`, the same tool
//! names and shapes). Trust holds for both: an unapproved task is never sent.

use crate::env::TestEnv;
use crate::services;
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Three checkouts (a, b, c) and execution enabled with `pools`. Approvals
/// bind a command to where it runs: approving a todo of `a` approves the
/// action there, so the unapproved todos of these tests are in `c`.
fn setup(pools: &str) -> TestEnv {
    let env = TestEnv::new();
    env.sibling_checkouts(&["a", "b", "c"]);
    env.write(
        "settings/ecosystem.yaml",
        "repos:\n  - {name: a, path: ../a}\n  - {name: b, path: ../b}\n  - {name: c, path: ../c}\n",
    );
    env.write(
        "settings/coord.yaml",
        &format!("pool_execution_enabled: true\nactions:\n  test: \"make check\"\npools:\n{pools}"),
    );
    env
}

fn todo(env: &TestEnv, id: &str, repo: &str, task: &str, extra: &str) {
    env.write(
        &format!("coordination/todos/{id}.yaml"),
        &format!("id: {id}\ntask: \"{task}\"\nrepo: {repo}\nstatus: pending\n{extra}"),
    );
}

/// The newest run record.
/// The latest run's record, by its start time in milliseconds (run IDs
/// have one-second resolution, so two runs in one second do not sort).
fn last_record(env: &TestEnv) -> Value {
    let runs = env.root.join("coordination/runs");
    let mut recs: Vec<Value> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("RUN-"))
        .map(|p| serde_yaml::from_str::<Value>(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect();
    recs.sort_by_key(|r| r["started"].as_str().unwrap_or_default().to_string());
    recs.pop().expect("a run record")
}

fn task<'a>(rec: &'a Value, key: &str) -> &'a Value {
    rec["tasks"].as_sequence().unwrap().iter().find(|t| t["key"].as_str() == Some(key)).expect(key)
}

fn status_of(env: &TestEnv, id: &str) -> String {
    env.todo_status(id)
}

#[test]
fn session_buddy_pool_runs_on_the_real_service_and_never_sends_untrusted_work() {
    let Some((sb, _guard)) = services::SessionBuddy::lock() else { return };
    let pool_id = format!("gc-{}", std::process::id());
    let env = setup(&format!(
        "  sb: {{runner: session-buddy, endpoint: \"{}\", pool_selector: {pool_id}, max_parallel: 2}}\n",
        sb.url
    ));
    todo(&env, "TODO-001", "a", "first", "");
    todo(&env, "TODO-002", "b", "second", "blocked_by: [TODO-001]\n");
    todo(&env, "TODO-003", "c", "never approved", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002", "--pool", "sb"]).ok();
    let r = env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003", "--pool", "sb"]);
    r.fails(1);
    let rec = last_record(&env);
    for key in ["TODO-001", "TODO-002"] {
        let t = task(&rec, key);
        assert_eq!(t["status"].as_str(), Some("succeeded"), "{key}: {t:?}\n{}", r.stdout);
        assert_eq!(t["pool"].as_str(), Some("sb"));
        let member = t["member"].as_str().unwrap();
        assert!(member.starts_with(&format!("session-buddy:{pool_id}-worker-")), "{member}");
        assert_eq!(status_of(&env, key), "completed");
    }
    assert_eq!(task(&rec, "TODO-003")["status"].as_str(), Some("untrusted"));
    assert_eq!(status_of(&env, "TODO-003"), "pending");
    // The raw answer is in the log.
    let id = rec["id"].as_str().unwrap();
    let log = env.coord(&["run-log", id, "TODO-001"]).ok().to_string();
    assert!(log.contains(&format!("Task executed on pool {pool_id} by worker")), "{log}");
    // The service saw exactly the two approved tasks.
    let mut client = git_coord::memory::sinks::SessionBuddy::new(sb.url).unwrap();
    let st = client.call("get_pool_status", serde_json::json!({"pool_id": pool_id})).unwrap();
    assert!(st.contains("Tasks submitted: 2"), "{st}");
}

#[test]
fn a_pool_service_that_is_down_fails_the_task_and_restores_the_todo() {
    // Nothing listens on port 9 (discard) of the loopback.
    let env = setup("  sb: {runner: session-buddy, endpoint: \"http://127.0.0.1:9/mcp\"}\n");
    todo(&env, "TODO-001", "a", "first", "");
    env.commit_all("todos");
    // The approval binds the pool: approve for the one it will run in.
    env.coord(&["trust", "--exec", "TODO-001", "--pool", "sb"]).ok();
    let r = env.coord(&["execute", "TODO-001", "--pool", "sb"]);
    r.fails(1);
    let t = task(&last_record(&env), "TODO-001").clone();
    assert_eq!(t["status"].as_str(), Some("failed"), "{t:?}");
    assert!(t["reason"].as_str().unwrap().starts_with("session-buddy: http://127.0.0.1:9/mcp"), "{t:?}");
    assert_eq!(status_of(&env, "TODO-001"), "pending");
}

/// The stand-in Mahavishnu, killed (with its process group) on drop.
struct StandIn {
    child: Child,
    url: String,
    calls: PathBuf,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = rustix::process::kill_process_group(
            rustix::process::Pid::from_raw(self.child.id() as i32).unwrap(),
            rustix::process::Signal::KILL,
        );
        let _ = self.child.wait();
    }
}

/// Starts the stand-in with the Python that has the `mcp` package (the
/// Session-Buddy installation's); `None` when that is not installed.
fn stand_in(dir: &Path) -> Option<StandIn> {
    let Ok(exe) = std::env::var("GIT_COORD_SESSION_BUDDY") else {
        services::missing(
            "the Mahavishnu stand-in needs Python's mcp package from the Session-Buddy installation (GIT_COORD_SESSION_BUDDY is unset; scripts/test installs it)",
        )?;
        unreachable!()
    };
    let python = Path::new(&exe).with_file_name("python");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let calls = dir.join("calls.jsonl");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/fixtures/mahavishnu_standin.py");
    let log = std::fs::File::create(dir.join("standin.log")).unwrap();
    use std::os::unix::process::CommandExt;
    let child = Command::new(&python)
        .arg(&script)
        .arg(port.to_string())
        .arg(&calls)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", python.display()));
    let s = StandIn { child, url: format!("http://127.0.0.1:{port}/mcp"), calls };
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{}", std::fs::read_to_string(dir.join("standin.log")).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(s)
}

fn calls(s: &StandIn) -> Vec<serde_json::Value> {
    std::fs::read_to_string(&s.calls).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn mahavishnu_pool_against_a_stand_in_server() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mv) = stand_in(dir.path()) else { return };
    let env = setup(&format!(
        "  mv: {{runner: mahavishnu, endpoint: \"{}\", pool_selector: round_robin, max_parallel: 2}}\n",
        mv.url
    ));
    todo(&env, "TODO-001", "a", "build the thing", "");
    todo(&env, "TODO-002", "b", "this one will FAIL", "");
    todo(&env, "TODO-003", "b", "after the failure", "blocked_by: [TODO-002]\n");
    todo(&env, "TODO-004", "c", "SECRET never approved", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002", "TODO-003", "--pool", "mv"]).ok();
    let r = env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003", "TODO-004", "--pool", "mv"]);
    r.fails(1);
    let rec = last_record(&env);
    let t1 = task(&rec, "TODO-001");
    assert_eq!(t1["status"].as_str(), Some("succeeded"), "{t1:?}\n{}", r.stdout);
    assert!(t1["member"].as_str().unwrap().starts_with("mahavishnu:pool_git-coord-mv-worker-"), "{t1:?}");
    assert!(t1["log_tail"].as_str().unwrap().contains("worker ran: TODO-001"), "{t1:?}");
    let t2 = task(&rec, "TODO-002");
    assert_eq!(t2["status"].as_str(), Some("failed"), "{t2:?}");
    assert_eq!(t2["attempts"][0]["exit_code"].as_i64(), Some(1), "{t2:?}");
    assert_eq!(task(&rec, "TODO-003")["status"].as_str(), Some("skipped"));
    assert_eq!(task(&rec, "TODO-004")["status"].as_str(), Some("untrusted"));
    assert_eq!(status_of(&env, "TODO-001"), "completed");
    assert_eq!(status_of(&env, "TODO-002"), "pending");
    // What the service received: one pool, two routed tasks, nothing unapproved.
    let c = calls(&mv);
    let spawns: Vec<_> = c.iter().filter(|c| c["tool"] == "pool_spawn").collect();
    assert_eq!(spawns.len(), 1, "{c:?}");
    assert_eq!(spawns[0]["args"]["name"], "git-coord-mv");
    assert_eq!(spawns[0]["args"]["max_workers"], 2);
    let routed: Vec<_> = c.iter().filter(|c| c["tool"] == "pool_route_execute").collect();
    assert_eq!(routed.len(), 2, "{c:?}");
    assert!(routed.iter().all(|c| c["args"]["pool_selector"] == "round_robin"));
    assert!(routed[0]["args"]["prompt"].as_str().unwrap().starts_with("TODO-00"));
    assert!(!c.iter().any(|c| c.to_string().contains("SECRET")), "{c:?}");

    // A service that does not answer in time: the attempt times out.
    todo(&env, "TODO-005", "a", "SLOW work", "");
    env.commit_all("slow");
    env.coord(&["trust", "--exec", "TODO-005", "--pool", "mv"]).ok();
    let started = Instant::now();
    env.coord(&["execute", "TODO-005", "--pool", "mv", "--timeout", "1"]).fails(1);
    assert!(started.elapsed() < Duration::from_secs(20));
    let t5 = task(&last_record(&env), "TODO-005").clone();
    assert_eq!(t5["status"].as_str(), Some("failed"), "{t5:?}");
    assert_eq!(t5["attempts"][0]["timed_out"].as_bool(), Some(true), "{t5:?}");
    assert_eq!(status_of(&env, "TODO-005"), "pending");
}
