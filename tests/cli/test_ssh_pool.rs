//! SSH pools against real OpenSSH servers (two `sshd` on two 127.0.0.1
//! ports play two hosts; see `sshd`). Where a task ran is proven by the
//! task itself: sshd sets `SSH_CONNECTION`, whose fourth field is the port
//! of the server that ran it.

use crate::env::TestEnv;
use crate::sshd::Farm;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Checkouts a, b, c next to the coordination repo, a marks directory, and
/// settings with an ssh pool `farm` over `hosts` running action `test`.
fn setup(farm: &Farm, hosts: &[String], pool_extra: &str, command: &str) -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let marks = env.sibling_checkouts(&["a", "b", "c"]);
    env.write(
        "settings/ecosystem.yaml",
        "repos:\n  - {name: a, path: ../a}\n  - {name: b, path: ../b}\n  - {name: c, path: ../c}\n",
    );
    let command = command.replace("MARKS", &marks.display().to_string());
    env.write(
        "settings/coord.yaml",
        &format!(
            "pool_execution_enabled: true\nexecution: {{grace: 1s}}\nactions:\n  test: {{command: '{command}', pool: farm, completes: false}}\n\
             pools:\n  farm:\n    runner: ssh\n    max_parallel: 4\n    hosts: [{}]\n    ssh: {}\n{pool_extra}",
            hosts.join(", "),
            farm.ssh_settings()
        ),
    );
    (env, marks)
}

fn todo(env: &TestEnv, id: &str, repo: &str, extra: &str) {
    env.pending_todo(id, repo, extra);
}

/// The server port that ran `id` (from the `SSH_CONNECTION` it wrote).
fn port_of(marks: &Path, id: &str) -> u16 {
    let c = std::fs::read_to_string(marks.join(format!("{id}.conn")))
        .unwrap_or_else(|e| panic!("{id} did not run over ssh: {e}"));
    c.split_whitespace().nth(3).unwrap_or_else(|| panic!("SSH_CONNECTION: {c:?}")).parse().unwrap()
}

/// Records where each task ran and in which directory.
const WHERE: &str = "echo $SSH_CONNECTION > MARKS/$COORD_TODO_ID.conn; pwd -P > MARKS/$COORD_TODO_ID.pwd";

fn record(env: &TestEnv) -> serde_yaml::Value {
    let runs = env.root.join("coordination/runs");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&runs).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    serde_yaml::from_str(&std::fs::read_to_string(names.last().expect("a run record")).unwrap()).unwrap()
}

fn task<'a>(rec: &'a serde_yaml::Value, key: &str) -> &'a serde_yaml::Value {
    rec["tasks"].as_sequence().unwrap().iter().find(|t| t["key"].as_str() == Some(key)).unwrap()
}

fn pid_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default().contains(") Z ")
}

fn read_pid(p: &Path) -> u32 {
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(s) = std::fs::read_to_string(p)
            && let Ok(n) = s.trim().parse()
        {
            return n;
        }
        assert!(Instant::now() < until, "{} never written", p.display());
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn gone_soon(pid: u32) -> bool {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if !pid_alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn round_robin_spreads_a_sweep_over_both_hosts_in_the_repo_path() {
    let Some(farm) = Farm::start(2) else { return };
    let hosts = [farm.host(0), farm.host(1)];
    let (env, marks) = setup(&farm, &hosts, "    select: round_robin\n", WHERE);
    for (id, repo) in [("TODO-001", "a"), ("TODO-002", "b"), ("TODO-003", "c"), ("TODO-004", "a")] {
        todo(&env, id, repo, "");
    }
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002", "TODO-003", "TODO-004"]).ok();
    let out = env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003", "TODO-004", "--jobs", "1"]);
    out.ok();
    let rec = record(&env);
    let ports = farm.ports();
    let mut used = std::collections::BTreeSet::new();
    for id in ["TODO-001", "TODO-002", "TODO-003", "TODO-004"] {
        let t = task(&rec, id);
        assert_eq!(t["status"].as_str(), Some("succeeded"), "{t:?}");
        let port = port_of(&marks, id);
        assert!(ports.contains(&port));
        used.insert(port);
        // The record names the member that ran it, per attempt too.
        let member = format!("127.0.0.1:{port}");
        assert_eq!(t["member"].as_str(), Some(member.as_str()), "{t:?}");
        assert_eq!(t["attempts"][0]["member"].as_str(), Some(member.as_str()));
        // In the repository's path on that host.
        let repo = t["repo"].as_str().unwrap();
        let pwd = std::fs::read_to_string(marks.join(format!("{id}.pwd"))).unwrap();
        assert_eq!(Path::new(pwd.trim()), env.root.parent().unwrap().join(repo), "{id}");
    }
    assert_eq!(used.len(), 2, "round robin used both hosts: {used:?}");
    let shown = env.coord(&["show-run", rec["id"].as_str().unwrap()]).ok().to_string();
    assert!(shown.contains(&format!(" on 127.0.0.1:{}", port_of(&marks, "TODO-001"))), "{shown}");
    // Turn by turn with one job: 1, 2, 1, 2.
    let order: Vec<u16> = ["TODO-001", "TODO-002", "TODO-003", "TODO-004"].iter().map(|i| port_of(&marks, i)).collect();
    assert!(order[0] != order[1] && order[0] == order[2] && order[1] == order[3], "{order:?}");
}

#[test]
fn affinity_keeps_a_repository_on_one_host() {
    let Some(farm) = Farm::start(2) else { return };
    let hosts = [farm.host(0), farm.host(1)];
    let (env, marks) = setup(&farm, &hosts, "    select: affinity\n", WHERE);
    let ids: Vec<String> = (1..=6).map(|n| format!("TODO-{n:03}")).collect();
    for (n, id) in ids.iter().enumerate() {
        todo(&env, id, ["a", "b", "c"][n % 3], "");
    }
    env.commit_all("todos");
    let args: Vec<&str> = ids.iter().map(String::as_str).collect();
    env.coord(&[&["trust", "--exec"][..], &args].concat()).ok();
    env.coord(&[&["execute"][..], &args, &["--jobs", "3"]].concat()).ok();
    let port = |id: &str| port_of(&marks, id);
    // a: 1 and 4; b: 2 and 5; c: 3 and 6 — each repository on one host.
    assert_eq!(port("TODO-001"), port("TODO-004"));
    assert_eq!(port("TODO-002"), port("TODO-005"));
    assert_eq!(port("TODO-003"), port("TODO-006"));
    // And again in a later run: the hash is stable.
    todo(&env, "TODO-007", "a", "");
    env.commit_all("one more");
    env.coord(&["trust", "--exec", "TODO-007"]).ok();
    env.coord(&["execute", "TODO-007"]).ok();
    assert_eq!(port("TODO-007"), port("TODO-001"));
}

#[test]
fn least_loaded_sends_work_to_the_idle_host() {
    let Some(farm) = Farm::start(2) else { return };
    let hosts = [farm.host(0), farm.host(1)];
    // TODO-001 (first: high priority) holds its host until TODO-003 has run;
    // TODO-003 waits for TODO-002. Round robin would send TODO-003 back to
    // TODO-001's host (the turn after TODO-002's); least loaded sends it to
    // the idle one.
    let cmd = format!(
        "{WHERE}; if [ $COORD_TODO_ID = TODO-001 ]; then n=0; while [ ! -e MARKS/TODO-003.pwd ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done; fi"
    );
    let (env, marks) = setup(&farm, &hosts, "    select: least_loaded\n", &cmd);
    todo(&env, "TODO-001", "a", "priority: high\n");
    todo(&env, "TODO-002", "b", "priority: low\n");
    todo(&env, "TODO-003", "c", "priority: low\nblocked_by: [TODO-002]\n");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002", "TODO-003"]).ok();
    env.coord(&["execute", "TODO-001", "TODO-002", "TODO-003", "--jobs", "2"]).ok();
    let (p1, p2, p3) = (port_of(&marks, "TODO-001"), port_of(&marks, "TODO-002"), port_of(&marks, "TODO-003"));
    assert_ne!(p1, p2, "two at once go to two hosts");
    assert_eq!(p3, p2, "the idle host, not the busy one ({p1})");
}

#[test]
fn a_failing_remote_command_fails_the_task() {
    let Some(farm) = Farm::start(1) else { return };
    let (env, _marks) = setup(&farm, &[farm.host(0)], "", "echo about to fail >&2; exit 3");
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "blocked_by: [TODO-001]\n");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002"]).ok();
    let out = env.coord(&["execute", "TODO-001", "TODO-002"]);
    out.fails(1);
    let rec = record(&env);
    let t = task(&rec, "TODO-001");
    assert_eq!(t["status"].as_str(), Some("failed"));
    assert_eq!(t["reason"].as_str(), Some("exit 3"), "{t:?}");
    assert_eq!(t["attempts"][0]["exit_code"].as_i64(), Some(3));
    assert!(t["log_tail"].as_str().unwrap().contains("about to fail"), "{t:?}");
    let log = std::fs::read_to_string(t["log"].as_str().unwrap()).unwrap();
    assert!(log.contains("about to fail") && log.contains("--- exit 3"), "{log}");
    assert!(!log.contains("git-coord-ssh"), "the wrapper's own lines are not task output: {log}");
    assert_eq!(task(&rec, "TODO-002")["status"].as_str(), Some("skipped"));
    assert_eq!(rec["status"].as_str(), Some("failed"));
}

#[test]
fn timeout_kills_the_remote_processes() {
    let Some(farm) = Farm::start(1) else { return };
    // The task, a child it left in the background, and one that ignores
    // SIGTERM (killed after the grace period).
    let cmd = "echo $$ > MARKS/$COORD_TODO_ID.pid; sleep 300 & echo $! > MARKS/$COORD_TODO_ID.bg; \
               (trap \"\" TERM; sleep 301) & echo $! > MARKS/$COORD_TODO_ID.stubborn; sleep 302";
    let (env, marks) = setup(&farm, &[farm.host(0)], "", cmd);
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let start = Instant::now();
    let out = env.coord(&["execute", "TODO-001", "--timeout", "2s"]);
    out.fails(1);
    assert!(start.elapsed() < Duration::from_secs(30), "{:?}", start.elapsed());
    let t = task(&record(&env), "TODO-001").clone();
    assert_eq!(t["attempts"][0]["timed_out"].as_bool(), Some(true), "{t:?}");
    for f in ["pid", "bg", "stubborn"] {
        let pid = read_pid(&marks.join(format!("TODO-001.{f}")));
        assert!(gone_soon(pid), "remote {f} process {pid} survived the timeout");
    }
}

#[test]
fn killing_git_coord_still_ends_the_remote_task() {
    let Some(farm) = Farm::start(1) else { return };
    let (env, marks) = setup(&farm, &[farm.host(0)], "", "echo $$ > MARKS/$COORD_TODO_ID.pid; sleep 300");
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let mut child = env.coord_spawn(&["execute", "TODO-001"]);
    let pid = read_pid(&marks.join("TODO-001.pid"));
    assert!(pid_alive(pid));
    // SIGKILL: no cleanup runs here. The client's stdin closes with us, the
    // remote watcher sees it and ends the task.
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(gone_soon(pid), "remote task {pid} survived its client");
}

#[test]
fn an_unreachable_host_is_skipped_and_none_reachable_fails_clearly() {
    let Some(farm) = Farm::start(1) else { return };
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("127.0.0.1:{}", l.local_addr().unwrap().port())
    };
    let hosts = [dead.clone(), farm.host(0)];
    let (env, marks) = setup(&farm, &hosts, "    select: round_robin\n", WHERE);
    todo(&env, "TODO-001", "a", "");
    todo(&env, "TODO-002", "b", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001", "TODO-002"]).ok();
    env.coord(&["execute", "TODO-001", "TODO-002", "--jobs", "1"]).ok();
    let rec = record(&env);
    for id in ["TODO-001", "TODO-002"] {
        assert_eq!(port_of(&marks, id), farm.ports()[0]);
        assert_eq!(task(&rec, id)["member"].as_str(), Some(farm.host(0).as_str()));
    }
    let log = std::fs::read_to_string(task(&rec, "TODO-001")["log"].as_str().unwrap()).unwrap();
    assert!(log.contains(&format!("git-coord: {dead} is unreachable")) && log.contains("Connection refused"), "{log}");

    // Only the dead host: the task fails naming it and why.
    let (env, _marks) = setup(&farm, std::slice::from_ref(&dead), "", WHERE);
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let out = env.coord(&["execute", "TODO-001"]);
    out.fails(1);
    let t = task(&record(&env), "TODO-001").clone();
    let reason = t["reason"].as_str().unwrap();
    assert!(
        reason.contains("no host of ssh pool `farm` is reachable")
            && reason.contains(&dead)
            && reason.contains("Connection refused"),
        "{reason}"
    );
    assert!(env.read("coordination/todos/TODO-001.yaml").contains("status: pending"));
}

#[test]
fn task_text_with_shell_metacharacters_arrives_intact_and_is_not_run() {
    let Some(farm) = Farm::start(1) else { return };
    let cmd = "printf %s \"$COORD_TASK\" > MARKS/task; cat > MARKS/stdin; cp \"$COORD_PROMPT_FILE\" MARKS/prompt; \
               echo \"$COORD_PROMPT_FILE\" > MARKS/prompt_path";
    let (env, marks) = setup(&farm, &[farm.host(0)], "", cmd);
    let title = "$(touch PWNED1) `touch PWNED2`; touch PWNED3 'q' \"d\" \\ && touch PWNED4 | x";
    env.write(
        "coordination/todos/TODO-001.yaml",
        &format!(
            "id: TODO-001\ntask: {}\nrepo: a\nstatus: pending\ndescription: \"line one\\n$(touch PWNED5)\\n'; touch PWNED6; '\"\n",
            serde_json::to_string(title).unwrap()
        ),
    );
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    env.coord(&["execute", "TODO-001"]).ok();
    assert_eq!(std::fs::read_to_string(marks.join("task")).unwrap(), title);
    let stdin = std::fs::read_to_string(marks.join("stdin")).unwrap();
    assert!(stdin.starts_with(&format!("TODO-001: {title}\n")), "{stdin:?}");
    assert!(stdin.contains("$(touch PWNED5)") && stdin.contains("'; touch PWNED6; '"), "{stdin:?}");
    assert_eq!(std::fs::read_to_string(marks.join("prompt")).unwrap(), stdin);
    // The prompt file was private to the attempt and is gone.
    let prompt_path = std::fs::read_to_string(marks.join("prompt_path")).unwrap();
    assert!(!Path::new(prompt_path.trim()).exists(), "{prompt_path}");
    let base = env.root.parent().unwrap();
    for dir in [base.to_path_buf(), base.join("a"), marks.clone(), env.root.clone(), farm.dir.clone()] {
        for n in 1..=6 {
            assert!(!dir.join(format!("PWNED{n}")).exists(), "PWNED{n} in {}", dir.display());
        }
    }
    assert!(!Path::new("/root/PWNED1").exists() && !Path::new("/tmp/PWNED1").exists());
}

#[test]
fn approvals_bind_the_pool_and_its_hosts() {
    let Some(farm) = Farm::start(2) else { return };
    let (env, marks) = setup(&farm, &[farm.host(0)], "", WHERE);
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let trust =
        |env: &TestEnv| env.coord(&["execute", "TODO-001", "--dry-run", "--format", "json"]).json()[0]["trust"].clone();
    assert_eq!(trust(&env), serde_json::json!("trusted"), "approved for this pool");
    // The same command in the local pool is another approval…
    let local = || env.coord(&["execute", "TODO-001", "--pool", "local", "--dry-run", "--format", "json"]).json();
    assert!(local()[0]["trust"].as_str().unwrap().contains("untrusted"), "{}", local());
    env.coord(&["trust", "--exec", "TODO-001", "--pool", "local"]).ok();
    assert_eq!(local()[0]["trust"], serde_json::json!("trusted"));
    // …and a pull request adding a host withdraws it.
    let settings = env.read("settings/coord.yaml");
    env.write("settings/coord.yaml", &settings.replace(&farm.host(0), &format!("{}, {}", farm.host(0), farm.host(1))));
    assert!(trust(&env).as_str().unwrap().contains("untrusted"));
    let out = env.coord(&["execute", "TODO-001"]);
    out.fails(1);
    assert!(!marks.join("TODO-001.conn").exists(), "an untrusted task never starts");
    // Options that would run a local program are refused outright.
    env.write(
        "settings/coord.yaml",
        &settings.replace("connect_timeout: 5s", "options: ['ProxyCommand=touch /tmp/x']"),
    );
    let out = env.coord(&["execute", "TODO-001", "--dry-run"]);
    assert!(out.stderr.contains("pools.farm.ssh.options") && out.stderr.contains("ProxyCommand"), "{}", out.stderr);
}

#[test]
fn ctrl_c_terminates_the_remote_task_and_a_second_kills_it_at_once() {
    let Some(farm) = Farm::start(1) else { return };
    // The task notes SIGTERM and keeps going; its child ignores SIGTERM. With
    // an hour of grace only the second Ctrl-C's SIGKILL can end them.
    let cmd = "trap \"echo term > MARKS/$COORD_TODO_ID.term\" TERM; echo $$ > MARKS/$COORD_TODO_ID.pid; \
               (trap \"\" TERM; sleep 300) & echo $! > MARKS/$COORD_TODO_ID.stubborn; while :; do sleep 0.2; done";
    let (env, marks) = setup(&farm, &[farm.host(0)], "", cmd);
    let settings = env.read("settings/coord.yaml").replace("grace: 1s", "grace: 1h");
    env.write("settings/coord.yaml", &settings);
    todo(&env, "TODO-001", "a", "");
    env.commit_all("todos");
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let child = env.coord_spawn(&["execute", "TODO-001"]);
    let pid = read_pid(&marks.join("TODO-001.pid"));
    let stubborn = read_pid(&marks.join("TODO-001.stubborn"));
    let int = || {
        let p = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
        rustix::process::kill_process(p, rustix::process::Signal::INT).unwrap();
    };
    int();
    let until = Instant::now() + Duration::from_secs(20);
    while !marks.join("TODO-001.term").exists() {
        assert!(Instant::now() < until, "the first Ctrl-C did not reach the remote task");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(pid_alive(pid) && pid_alive(stubborn), "TERM alone does not end them");
    let start = Instant::now();
    int();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(start.elapsed() < Duration::from_secs(15), "{:?}", start.elapsed());
    assert!(gone_soon(pid) && gone_soon(stubborn), "remote processes survived the second Ctrl-C");
    let rec = record(&env);
    assert_eq!(rec["status"].as_str(), Some("cancelled"));
    assert!(env.read("coordination/todos/TODO-001.yaml").contains("status: pending"));
}
