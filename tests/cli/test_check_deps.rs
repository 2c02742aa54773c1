//! `check-deps` and `trust` for real, on loopback only: provider git
//! repositories with manifests and tags, HTTP servers in the test answering
//! 200, 503, slowly or never, and shell commands that pass, fail, hang and
//! print versions — with trust, exit codes, `--offline` and `--update`.

use crate::env::TestEnv;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How a test server answers.
#[derive(Clone, Copy)]
enum Answer {
    /// This status after this delay.
    Status(u16, Duration),
    /// Accepts and reads the request, then never answers.
    Never,
    /// 301 to another loopback address.
    Redirect(SocketAddr),
    /// Writes a plain HTTP response at once, without reading (what a TLS
    /// client gets from a plain HTTP port).
    Plain,
}

/// Serves on 127.0.0.1 until the test process ends.
fn serve(answer: Answer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || handle(stream, answer));
        }
    });
    addr
}

fn handle(mut stream: TcpStream, answer: Answer) {
    if let Answer::Plain = answer {
        let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        std::thread::sleep(Duration::from_millis(200));
        return;
    }
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    match answer {
        Answer::Status(code, delay) => {
            std::thread::sleep(delay);
            let _ = write!(stream, "HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
        Answer::Never => {
            std::thread::sleep(Duration::from_secs(60));
            drop(stream);
        }
        Answer::Plain => unreachable!("answered above"),
        Answer::Redirect(to) => {
            let _ = write!(
                stream,
                "HTTP/1.1 301 Moved\r\nLocation: http://{to}/health\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    }
}

/// A loopback port nothing listens on.
fn refused_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    l.local_addr().expect("addr").port()
}

/// A git repository next to the coordination repo, committed, with tags.
pub(crate) fn provider(env: &TestEnv, name: &str, files: &[(&str, &str)], tags: &[&str]) -> PathBuf {
    let dir = env.root.parent().expect("root has a parent").join(name);
    std::fs::create_dir_all(&dir).expect("mkdir provider");
    env.git_in(&dir, &["init", "-q", "-b", "main"]).ok();
    for (f, text) in files {
        std::fs::write(dir.join(f), text).expect("write provider file");
    }
    env.git_in(&dir, &["add", "-A"]).ok();
    env.git_in(&dir, &["commit", "-q", "--allow-empty", "-m", "init"]).ok();
    for t in tags {
        env.git_in(&dir, &["tag", t]).ok();
    }
    dir
}

/// An ecosystem where `app` (the consumer) is the coordination repo itself
/// and every other repo lives next to it.
pub(crate) fn ecosystem(env: &TestEnv, providers: &[&str]) {
    let mut text = String::from("repos:\n  - name: app\n    path: .\n");
    for p in providers {
        text.push_str(&format!("  - name: {p}\n    path: ../{p}\n"));
    }
    text.push_str("  - name: nowhere\n");
    env.write("settings/ecosystem.yaml", &text);
}

/// Writes `coordination/dependencies/<id>.yaml`.
pub(crate) fn dep(env: &TestEnv, id: &str, body: &str) {
    env.write(&format!("coordination/dependencies/{id}.yaml"), &format!("id: {id}\nconsumer: app\n{body}"));
}

fn check_json(env: &TestEnv, args: &[&str], code: i32) -> serde_json::Value {
    let mut full = vec!["check-deps", "--format", "json"];
    full.extend_from_slice(args);
    let run = env.coord(&full);
    run.fails(code);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", run.stdout))
}

/// `(status, reason)` of one dependency in a JSON report.
fn verdict(report: &serde_json::Value, id: &str) -> (String, String) {
    let r = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in report"));
    (r["status"].as_str().expect("status").to_string(), r["reason"].as_str().expect("reason").to_string())
}

fn method<'a>(report: &'a serde_json::Value, id: &str, m: &str) -> &'a serde_json::Value {
    report["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["id"] == id)
        .and_then(|r| r["methods"].as_array().expect("methods").iter().find(|x| x["method"] == m))
        .unwrap_or_else(|| panic!("{id} has no {m} method"))
}

#[test]
fn versions_come_from_manifests_at_head_and_from_tags() {
    let env = TestEnv::new();
    let rs = provider(&env, "lib-rs", &[("Cargo.toml", "[package]\nname = \"lib-rs\"\nversion = \"0.3.1\"\n")], &[]);
    provider(&env, "lib-py", &[("pyproject.toml", "[project]\nname = \"lib-py\"\nversion = \"2.1.post1\"\n")], &[]);
    provider(&env, "tagged", &[("README", "no manifest\n")], &["v0.9.0", "v1.2.0", "v1.10.0", "1.3.0-rc.1", "nightly"]);
    provider(&env, "pre", &[("package.json", r#"{"name": "pre", "version": "0.3.0-beta.1"}"#)], &[]);
    provider(&env, "bare", &[("README", "nothing\n")], &[]);
    ecosystem(&env, &["lib-rs", "lib-py", "tagged", "pre", "bare"]);
    dep(&env, "DEP-001", "provider: lib-rs\nversion_constraint: \">=0.2.0\"\nstatus: unknown\n");
    dep(&env, "DEP-002", "provider: lib-rs\nversion_constraint: \"^0.4\"\nstatus: satisfied\n");
    dep(&env, "DEP-003", "provider: lib-py\nversion_constraint: \"~=2.1\"\nstatus: unknown\n");
    dep(&env, "DEP-004", "provider: tagged\nversion_constraint: \">=1.0,<2\"\nstatus: unknown\n");
    dep(&env, "DEP-005", "provider: pre\nversion_constraint: \">=0.2.0\"\nstatus: unknown\n");
    dep(&env, "DEP-006", "provider: bare\nversion_constraint: \">=1\"\nstatus: unknown\n");
    dep(&env, "DEP-007", "provider: nowhere\nversion_constraint: \">=1\"\nstatus: unknown\n");
    dep(&env, "DEP-008", "provider: lib-rs\nversion_constraint: \">=9\"\nstatus: deprecated\n");
    dep(&env, "DEP-009", "provider: lib-rs\nstatus: unknown\n");
    // An uncommitted manifest edit is not a release: HEAD counts.
    std::fs::write(rs.join("Cargo.toml"), "[package]\nname = \"lib-rs\"\nversion = \"0.5.0\"\n").expect("edit");

    let report = check_json(&env, &["--offline"], 1);
    assert_eq!(
        verdict(&report, "DEP-001"),
        ("satisfied".into(), "0.3.1 (Cargo.toml at HEAD) satisfies >=0.2.0".into())
    );
    assert_eq!(
        verdict(&report, "DEP-002"),
        ("unsatisfied".into(), "0.3.1 (Cargo.toml at HEAD) does not satisfy ^0.4".into())
    );
    assert_eq!(
        verdict(&report, "DEP-003"),
        ("satisfied".into(), "2.1.post1 (pyproject.toml at HEAD) satisfies ~=2.1".into())
    );
    assert_eq!(method(&report, "DEP-003", "version")["evidence"]["syntax"], "pep440");
    // Highest release tag in semver order: v1.10.0 beats v1.2.0 and the rc.
    assert_eq!(verdict(&report, "DEP-004"), ("satisfied".into(), "1.10.0 (tag v1.10.0) satisfies >=1.0,<2".into()));
    // A pre-release does not satisfy a constraint that names no pre-release.
    assert_eq!(
        verdict(&report, "DEP-005"),
        ("unsatisfied".into(), "0.3.0-beta.1 (package.json at HEAD) does not satisfy >=0.2.0".into())
    );
    let (status, reason) = verdict(&report, "DEP-006");
    assert_eq!(status, "unknown");
    assert!(
        reason.starts_with("no provider version found: ")
            && reason.ends_with("has no manifest version and no release tag"),
        "{reason}"
    );
    assert_eq!(
        verdict(&report, "DEP-007"),
        ("unknown".into(), "no provider version found: the provider has no `path` in the ecosystem registry".into())
    );
    assert_eq!(verdict(&report, "DEP-008"), ("deprecated".into(), "deprecated: not checked".into()));
    assert_eq!(
        verdict(&report, "DEP-009").1,
        "nothing to check: no version_constraint, validation.command or validation.health_check"
    );
    assert_eq!(
        report["summary"],
        serde_json::json!({"total": 9, "satisfied": 3, "unsatisfied": 2, "unknown": 3, "deprecated": 1})
    );

    // Filters: only what is asked for; the exit code follows what was checked.
    let only = check_json(&env, &["--offline", "--id", "DEP-001,DEP-003"], 0);
    assert_eq!(only["summary"]["total"], 2);
    let by_provider = check_json(&env, &["--offline", "--provider", "lib-rs"], 1);
    let ids: Vec<&str> =
        by_provider["results"].as_array().expect("results").iter().map(|r| r["id"].as_str().expect("id")).collect();
    assert_eq!(ids, ["DEP-001", "DEP-002", "DEP-008", "DEP-009"]);
    let err = env.coord(&["check-deps", "--provider", "lib-rz"]);
    assert!(
        err.fails(1).contains("error: --provider: unknown repository `lib-rz` (did you mean `lib-rs`?)"),
        "{}",
        err.stderr
    );
    env.coord(&["check-deps", "--id", "DEP-404"]).fails(1);
}

#[test]
fn the_table_shows_verdicts_evidence_and_counts() {
    let env = TestEnv::new();
    provider(&env, "lib-rs", &[("Cargo.toml", "[package]\nname = \"lib-rs\"\nversion = \"0.3.1\"\n")], &[]);
    ecosystem(&env, &["lib-rs"]);
    dep(&env, "DEP-001", "provider: lib-rs\nversion_constraint: \">=0.2.0\"\nstatus: unknown\n");
    dep(&env, "DEP-002", "provider: lib-rs\nversion_constraint: \">=1\"\nstatus: deprecated\n");
    let run = env.coord(&["check-deps", "--offline"]);
    insta::assert_snapshot!(run.ok(), @r"
    ID       CONSUMER  PROVIDER  STATUS      METHODS  WHY
    DEP-001  app       lib-rs    satisfied   version  0.3.1 (Cargo.toml at HEAD) satisfies >=0.2.0
    DEP-002  app       lib-rs    deprecated  -        deprecated: not checked
      DEP-001 version: version 0.3.1 from Cargo.toml at HEAD
    2 checked: 1 satisfied, 0 unsatisfied, 0 unknown, 1 deprecated
    ");
}

#[test]
fn health_checks_classify_each_failure() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    let ok = serve(Answer::Status(200, Duration::ZERO));
    let down = serve(Answer::Status(503, Duration::ZERO));
    let slow = serve(Answer::Status(200, Duration::from_secs(30)));
    let never = serve(Answer::Never);
    let refused = refused_port();
    let hc = |url: String, extra: &str| {
        format!("provider: nowhere\nstatus: unknown\nvalidation:\n  health_check: {url}\n{extra}")
    };
    dep(&env, "DEP-001", &hc(format!("http://{ok}/health"), ""));
    dep(&env, "DEP-002", &hc(format!("http://{down}/health"), ""));
    dep(&env, "DEP-003", &hc(format!("http://{down}/health"), "  expected_status: 503\n"));
    dep(&env, "DEP-004", &hc(format!("http://{slow}/health"), ""));
    dep(&env, "DEP-005", &hc(format!("http://{never}/health"), ""));
    dep(&env, "DEP-006", &hc(format!("http://127.0.0.1:{refused}/health"), ""));

    // (That the two that time out wait concurrently is checked, without a
    // wall-clock bound, by many_hanging_health_checks_are_in_flight_at_once.)
    // A timeout that a loaded machine answering on loopback never reaches.
    let report = check_json(&env, &["--timeout", "3"], 1);
    assert_eq!(verdict(&report, "DEP-001"), ("satisfied".into(), format!("GET http://{ok}/health: HTTP 200")));
    assert_eq!(method(&report, "DEP-001", "health")["evidence"]["http_status"], 200);
    assert_eq!(
        verdict(&report, "DEP-002"),
        ("unsatisfied".into(), format!("GET http://{down}/health: HTTP 503, expected 200"))
    );
    assert_eq!(verdict(&report, "DEP-003").0, "satisfied");
    assert_eq!(
        verdict(&report, "DEP-004"),
        ("unsatisfied".into(), format!("GET http://{slow}/health: timeout after 3s"))
    );
    assert_eq!(
        verdict(&report, "DEP-005"),
        ("unsatisfied".into(), format!("GET http://{never}/health: timeout after 3s"))
    );
    assert_eq!(
        verdict(&report, "DEP-006"),
        ("unsatisfied".into(), format!("GET http://127.0.0.1:{refused}/health: connection refused"))
    );

    // Offline: every health check is unknown, nothing fails.
    let offline = check_json(&env, &["--offline"], 0);
    assert_eq!(verdict(&offline, "DEP-002"), ("unknown".into(), "offline: health check skipped".into()));
    assert_eq!(offline["summary"]["unknown"], 6);
}

#[test]
fn redirects_are_followed_only_when_asked() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    let ok = serve(Answer::Status(200, Duration::ZERO));
    let moved = serve(Answer::Redirect(ok));
    let hc = format!("provider: nowhere\nstatus: unknown\nvalidation:\n  health_check: http://{moved}/old\n");
    dep(&env, "DEP-001", &hc);
    dep(&env, "DEP-002", &format!("{hc}  follow_redirects: true\n"));
    let report = check_json(&env, &["--timeout", "2"], 1);
    assert_eq!(
        verdict(&report, "DEP-001"),
        ("unsatisfied".into(), format!("GET http://{moved}/old: HTTP 301, expected 200"))
    );
    assert_eq!(verdict(&report, "DEP-002"), ("satisfied".into(), format!("GET http://{moved}/old: HTTP 200")));
}

#[test]
fn tls_to_a_plain_http_server_is_a_tls_error() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    let plain = serve(Answer::Plain);
    dep(
        &env,
        "DEP-001",
        &format!("provider: nowhere\nstatus: unknown\nvalidation:\n  health_check: https://{plain}/\n"),
    );
    let report = check_json(&env, &["--timeout", "2"], 1);
    let (status, reason) = verdict(&report, "DEP-001");
    assert_eq!(status, "unsatisfied");
    assert!(reason.starts_with(&format!("GET https://{plain}/: TLS error: ")), "{reason}");
}

/// Serves on 127.0.0.1 and never answers; counts the connections open at
/// once (a connection ends when the client closes it) and returns the
/// highest count seen.
fn serve_never_counting() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let (open, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let seen = Arc::clone(&max);
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let now = open.fetch_add(1, Ordering::SeqCst) + 1;
            max.fetch_max(now, Ordering::SeqCst);
            let open = Arc::clone(&open);
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
                open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (addr, seen)
}

/// Serves on 127.0.0.1: reads the request, then answers 200 as soon as
/// `path` exists (giving up after a minute without answering).
fn serve_when_exists(path: PathBuf) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 1024];
                let _ = stream.read(&mut buf);
                let until = Instant::now() + Duration::from_secs(60);
                while !path.exists() && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if path.exists() {
                    let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                }
            });
        }
    });
    addr
}

#[test]
fn many_hanging_health_checks_are_in_flight_at_once() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    let (never, max_open) = serve_never_counting();
    for i in 1..=20 {
        dep(
            &env,
            &format!("DEP-{i:03}"),
            &format!("provider: nowhere\nstatus: unknown\nvalidation:\n  health_check: http://{never}/h{i}\n"),
        );
    }
    // At the default --jobs 8 there are 32 connections: all 20 requests are
    // open at the same time, so the run costs one timeout, not three. The
    // server counts them, so no wall-clock bound is needed: a timeout of a
    // few seconds leaves a loaded machine plenty of time to open 20.
    let report = check_json(&env, &["--timeout", "3"], 1);
    assert_eq!(report["summary"]["unsatisfied"], 20);
    assert_eq!(max_open.load(Ordering::SeqCst), 20, "requests open at once");
}

#[test]
fn hanging_health_checks_do_not_hold_up_commands() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    // The health check gets its answer only once the command has run: if
    // the command waited for the health check (one job), the health check
    // would time out instead.
    let ran = env.root.join("command-ran");
    let waiting = serve_when_exists(ran);
    dep(
        &env,
        "DEP-001",
        &format!("provider: nowhere\nstatus: unknown\nvalidation:\n  health_check: http://{waiting}/\n"),
    );
    dep(&env, "DEP-002", "provider: nowhere\nstatus: unknown\nvalidation:\n  command: touch command-ran\n");
    let report = check_json(&env, &["--jobs", "1", "--timeout", "20", "--trust-all"], 0);
    assert_eq!(verdict(&report, "DEP-002"), ("satisfied".into(), "command exited 0".into()));
    assert_eq!(verdict(&report, "DEP-001"), ("satisfied".into(), format!("GET http://{waiting}/: HTTP 200")));
}

#[test]
fn commands_run_only_when_trusted() {
    let env = TestEnv::new();
    provider(&env, "lib-rs", &[("Cargo.toml", "[package]\nname = \"lib-rs\"\nversion = \"0.3.1\"\n")], &[]);
    ecosystem(&env, &["lib-rs"]);
    let cmd =
        |c: &str, extra: &str| format!("provider: lib-rs\nstatus: unknown\n{extra}validation:\n  command: '{c}'\n");
    env.write("marker.txt", "consumer dir\n");
    dep(&env, "DEP-001", &cmd("cat marker.txt", ""));
    dep(&env, "DEP-002", &cmd("echo broken >&2; exit 3", ""));
    dep(&env, "DEP-003", &format!("{}  expected_pattern: \"ready\"\n", cmd("echo starting", "")));
    dep(&env, "DEP-004", &cmd("echo tool v0.5.0", "version_constraint: \">=1.0\"\n"));
    dep(&env, "DEP-005", &cmd("echo tool 1.4.2", "version_constraint: \"^1.4\"\n"));
    env.commit_all("deps");

    // Untrusted: nothing runs, each says how to approve it; the version
    // still comes from the provider's checkout.
    let report = check_json(&env, &[], 1);
    assert_eq!(
        verdict(&report, "DEP-001"),
        ("unknown".into(), "untrusted command; run git coord trust DEP-001 after reading it".into())
    );
    assert_eq!(method(&report, "DEP-004", "version")["evidence"]["version_source"], "Cargo.toml at HEAD");
    assert_eq!(verdict(&report, "DEP-004").0, "unsatisfied");

    // `trust` shows what it approves: the command and where it runs (here
    // the repository itself, so its committed files too).
    let root = env.root.display();
    let inside = "  (a directory of this repository: the approval also covers its committed files)\n";
    let trusted = env.coord(&["trust", "DEP-001", "DEP-002"]);
    assert_eq!(
        trusted.ok(),
        format!(
            "trusted DEP-001: cat marker.txt\n  runs in {root}\n{inside}trusted DEP-002: echo broken >&2; exit 3\n  runs in {root}\n{inside}"
        )
    );
    assert_eq!(
        env.coord(&["trust", "DEP-001"]).ok(),
        format!("already trusted DEP-001: cat marker.txt\n  runs in {root}\n{inside}")
    );
    env.coord(&["trust", "--all"]).ok();
    // Approvals are in the local git config, not in any tracked file: the
    // command's hash, the hash binding it to its directory, the directory.
    let approvals = env.git(&["config", "--local", "--get-all", "coord.trusted"]).ok().to_string();
    assert_eq!(approvals.lines().count(), 5);
    for a in approvals.lines() {
        let f: Vec<&str> = a.splitn(4, ' ').collect();
        assert_eq!(f[0], "v2", "{a}");
        assert!(f[1..3].iter().all(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())), "{a}");
        assert_eq!(f[3], root.to_string(), "{a}");
    }
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "");

    let report = check_json(&env, &[], 1);
    let c1 = method(&report, "DEP-001", "command");
    assert_eq!(c1["status"], "satisfied");
    assert_eq!(c1["evidence"]["output"], "consumer dir", "runs in the consumer's directory");
    let c2 = method(&report, "DEP-002", "command");
    assert_eq!(verdict(&report, "DEP-002"), ("unsatisfied".into(), "command exited with 3".into()));
    assert_eq!(c2["evidence"]["output"], "broken");
    assert_eq!(verdict(&report, "DEP-003"), ("unsatisfied".into(), "command output does not match /ready/".into()));
    // The version comes from the trusted command's output.
    assert_eq!(
        verdict(&report, "DEP-004"),
        ("unsatisfied".into(), "0.5.0 (command output) does not satisfy >=1.0".into())
    );
    assert_eq!(verdict(&report, "DEP-005").0, "satisfied");
    assert_eq!(method(&report, "DEP-005", "version")["evidence"]["version"], "1.4.2");

    // A changed command loses its approval.
    dep(&env, "DEP-001", &cmd("cat marker.txt; true", ""));
    let report = check_json(&env, &["--id", "DEP-001"], 0);
    assert_eq!(verdict(&report, "DEP-001").0, "unknown");
    // --trust-all (CI on a trusted checkout) runs it anyway.
    let report = check_json(&env, &["--id", "DEP-001", "--trust-all"], 0);
    assert_eq!(verdict(&report, "DEP-001").0, "satisfied");

    env.coord(&["trust", "DEP-404"]).fails(1);
    env.coord(&["trust"]).fails(2);
}

/// Whether process `pid` is gone (a zombie counts as gone: it runs nothing
/// and waits only for its parent to reap it).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // `pid (comm) S …`: the state follows the last `)`.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// Waits (up to a generous bound) for the process whose pid the command
/// wrote to `file` to be gone.
#[track_caller]
fn assert_ends(env: &TestEnv, file: &str) {
    let pid = env.read(file).trim().to_string();
    assert!(!pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()), "no pid in {file}: {pid:?}");
    let until = Instant::now() + Duration::from_secs(20);
    while !gone(&pid) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = gone(&pid);
    if !left {
        // Do not leave it behind for the other tests.
        // A pid this test's command started.
        let pid = rustix::process::Pid::from_raw(pid.parse().expect("pid")).expect("a pid");
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
    assert!(left, "the command's background child {pid} ({file}) outlived the check");
}

#[test]
fn a_hanging_command_is_killed_with_its_whole_process_group() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    // The background child outlives `sh` unless the group is killed.
    dep(
        &env,
        "DEP-001",
        "provider: nowhere\nstatus: unknown\nvalidation:\n  command: 'sleep 120 & echo $! > bg.pid; wait'\n",
    );
    let started = Instant::now();
    let report = check_json(&env, &["--trust-all", "--timeout", "0.5"], 1);
    // Generous: without the kill this would take two minutes.
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());
    assert_eq!(
        verdict(&report, "DEP-001"),
        ("unsatisfied".into(), "command timed out after 0.5s (process group killed)".into())
    );
    assert_ends(&env, "bg.pid");
}

#[test]
fn background_children_end_when_the_command_exits() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    let cmd = |c: &str| format!("provider: nowhere\nstatus: unknown\nvalidation:\n  command: '{c}'\n");
    // Output redirected: the child holds no pipe, so nothing waits for it.
    dep(&env, "DEP-001", &cmd("sleep 120 >/dev/null 2>&1 & echo $! > bg1.pid; echo 1.0.0"));
    // Output not redirected: the child holds the pipes open.
    dep(&env, "DEP-002", &cmd("sleep 120 & echo $! > bg2.pid; echo 1.0.0"));
    let report = check_json(&env, &["--trust-all"], 0);
    assert_eq!(verdict(&report, "DEP-001"), ("satisfied".into(), "command exited 0".into()));
    assert_eq!(verdict(&report, "DEP-002"), ("satisfied".into(), "command exited 0".into()));
    assert_eq!(method(&report, "DEP-001", "command")["evidence"]["output"], "1.0.0");
    assert_eq!(method(&report, "DEP-002", "command")["evidence"]["output"], "1.0.0");
    assert_ends(&env, "bg1.pid");
    assert_ends(&env, "bg2.pid");
}

#[test]
fn update_writes_only_changed_statuses_with_a_minimal_diff() {
    let env = TestEnv::new();
    provider(&env, "lib-rs", &[("Cargo.toml", "[package]\nname = \"lib-rs\"\nversion = \"0.3.1\"\n")], &[]);
    ecosystem(&env, &["lib-rs"]);
    dep(
        &env,
        "DEP-001",
        "provider: lib-rs # the core library\nversion_constraint: \">=0.2.0\"\nstatus: unknown\nupdated: 2026-01-01\n",
    );
    dep(&env, "DEP-002", "provider: lib-rs\nversion_constraint: \"^0.4\"\nstatus: unsatisfied\nupdated: 2026-01-01\n");
    dep(&env, "DEP-003", "provider: lib-rs\nversion_constraint: \"^0.4\"\nstatus: deprecated\nupdated: 2026-01-01\n");
    env.commit_all("deps");

    // Without --update nothing is written.
    check_json(&env, &["--offline"], 1);
    assert!(env.changed_lines().is_empty());

    let report = check_json(&env, &["--offline", "--update"], 1);
    assert_eq!(report["updated"], serde_json::json!([{"id": "DEP-001", "from": "unknown", "to": "satisfied"}]));
    assert_eq!(
        env.changed_lines(),
        ["-status: unknown", "-updated: 2026-01-01", "+status: satisfied", "+updated: 2026-03-01"]
    );
    let table = env.coord(&["check-deps", "--offline", "--update", "--id", "DEP-001"]);
    assert!(!table.ok().contains("updated DEP-001"), "an unchanged status is not written again");
}

/// A path next to the repository (outside anything a command's directory
/// or a pull request covers) whose existence says a command ran.
fn marker(env: &TestEnv, name: &str) -> PathBuf {
    env.root.parent().expect("root has a parent").join(name)
}

/// A dependency whose command creates `marker`.
fn touching(env: &TestEnv, id: &str, marker: &std::path::Path) {
    dep(
        env,
        id,
        &format!("provider: nowhere\nstatus: unknown\nvalidation:\n  command: 'touch {}'\n", marker.display()),
    );
}

#[test]
fn a_tracked_setting_cannot_trust_commands() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    let ran = marker(&env, "ran");
    touching(&env, "DEP-001", &ran);
    // What a hostile pull request adds.
    env.write("settings/coord.yaml", "trust_commands: all\n");
    env.commit_all("a pull request approves its own command");

    let run = env.coord(&["check-deps", "--format", "json"]);
    run.ok();
    assert!(!ran.exists(), "check-deps ran a command the tracked settings approved");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(
        verdict(&report, "DEP-001"),
        ("unknown".into(), "untrusted command; run git coord trust DEP-001 after reading it".into())
    );
    // Ignored, and said so: where trust comes from instead.
    for needle in [
        "`trust_commands: all` is ignored: a tracked file cannot approve commands",
        "git config --local coord.trustCommands all",
        "GIT_COORD_TRUST_ALL=1",
        "`trust_all`",
    ] {
        assert!(run.stderr.contains(needle), "no `{needle}` in:\n{}", run.stderr);
        assert!(report["warnings"][0].as_str().expect("a warning").contains(needle), "{report}");
    }
    // The table and --update do not run it either.
    let table = env.coord(&["check-deps"]);
    assert!(table.ok().contains("untrusted command"), "{}", table.stdout);
    assert!(table.stderr.contains("is ignored"), "{}", table.stderr);
    dep(
        &env,
        "DEP-001",
        &format!("provider: nowhere\nstatus: satisfied\nvalidation:\n  command: 'touch {}'\n", ran.display()),
    );
    let updated = check_json(&env, &["--update"], 0);
    assert_eq!(updated["updated"], serde_json::json!([{"id": "DEP-001", "from": "satisfied", "to": "unknown"}]));
    assert!(!ran.exists(), "check-deps --update ran a command the tracked settings approved");
    // lint reports the ignored setting too.
    let lint = env.coord(&["lint"]);
    assert!(lint.ok().contains("`trust_commands: all` is ignored"), "{}", lint.stdout);
}

#[test]
fn trust_comes_from_this_machine() {
    let mut env = TestEnv::new();
    ecosystem(&env, &[]);
    let ran = marker(&env, "ran");
    touching(&env, "DEP-001", &ran);
    env.commit_all("a dependency with a command");
    let ran_now = |env: &TestEnv, args: &[&str]| -> bool {
        let _ = std::fs::remove_file(&ran);
        let mut full = vec!["check-deps"];
        full.extend_from_slice(args);
        env.coord(&full).ok();
        ran.exists()
    };
    assert!(!ran_now(&env, &[]), "nothing approved yet");

    // The local git config key, for a CI job that trusts its checkout.
    env.git(&["config", "--local", "coord.trustCommands", "all"]).ok();
    assert!(ran_now(&env, &[]), "git config --local coord.trustCommands all");
    env.git(&["config", "--local", "coord.trustCommands", "approved"]).ok();
    assert!(!ran_now(&env, &[]), "coord.trustCommands approved");
    env.git(&["config", "--local", "--unset", "coord.trustCommands"]).ok();
    // Global config is not the repository's: it does not count.
    env.git(&["config", "--global", "coord.trustCommands", "all"]).ok();
    assert!(!ran_now(&env, &[]), "global config must not trust commands");
    env.git(&["config", "--global", "--unset", "coord.trustCommands"]).ok();

    // The flag.
    assert!(ran_now(&env, &["--trust-all"]), "--trust-all");

    // An approval.
    env.coord(&["trust", "DEP-001"]).ok();
    assert!(ran_now(&env, &[]), "git coord trust");
    env.git(&["config", "--local", "--unset-all", "coord.trusted"]).ok();
    assert!(!ran_now(&env, &[]), "approval withdrawn");

    // The environment variable.
    env.set_env("GIT_COORD_TRUST_ALL", "1");
    assert!(ran_now(&env, &[]), "GIT_COORD_TRUST_ALL=1");
    env.set_env("GIT_COORD_TRUST_ALL", "0");
    assert!(!ran_now(&env, &[]), "GIT_COORD_TRUST_ALL=0");
    env.set_env("GIT_COORD_TRUST_ALL", "please");
    let run = env.coord(&["check-deps"]);
    assert!(run.stderr.contains("GIT_COORD_TRUST_ALL=please is not 1 or 0: ignored"), "{}", run.stderr);
    assert!(!ran.exists());
}

#[test]
fn offline_runs_no_command() {
    let env = TestEnv::new();
    provider(&env, "lib-rs", &[("Cargo.toml", "[package]\nname = \"lib-rs\"\nversion = \"0.3.1\"\n")], &[]);
    ecosystem(&env, &["lib-rs"]);
    let ran = marker(&env, "ran");
    dep(
        &env,
        "DEP-001",
        &format!(
            "provider: lib-rs\nstatus: unknown\nversion_constraint: \">=0.2\"\nvalidation:\n  command: 'touch {}; echo 9.9.9'\n",
            ran.display()
        ),
    );
    env.coord(&["trust", "DEP-001"]).ok();
    for args in [&["--offline"][..], &["--offline", "--trust-all"], &["--offline", "--update"]] {
        let report = check_json(&env, args, 0);
        assert!(!ran.exists(), "check-deps {args:?} ran a command");
        let c = method(&report, "DEP-001", "command");
        assert_eq!(c["status"], "unknown");
        assert_eq!(c["reason"], "offline: command not run");
        // The version comes from the checkout instead.
        assert_eq!(method(&report, "DEP-001", "version")["evidence"]["version_source"], "Cargo.toml at HEAD");
    }
    let report = check_json(&env, &[], 0);
    assert!(ran.exists(), "online, the approved command runs");
    assert_eq!(method(&report, "DEP-001", "version")["evidence"]["version"], "9.9.9");
}

#[test]
fn an_approval_binds_the_directory_the_command_runs_in() {
    let env = TestEnv::new();
    let ran = marker(&env, "other-script-ran");
    env.write("a/ver.sh", "echo 1.0.0\n");
    env.write("b/ver.sh", &format!("touch '{}'\necho 6.6.6\n", ran.display()));
    std::os::unix::fs::symlink(env.root.join("a"), env.root.join("link")).expect("symlink");
    let eco = |path: &str| env.write("settings/ecosystem.yaml", &format!("repos:\n  - name: app\n    path: {path}\n"));
    eco("./a");
    dep(&env, "DEP-001", "provider: nowhere\nstatus: unknown\nvalidation:\n  command: 'sh ./ver.sh'\n");
    let (a, b) = (env.root.join("a"), env.root.join("b"));

    let trusted = env.coord(&["trust", "DEP-001"]).ok().to_string();
    let inside = "  (a directory of this repository: the approval also covers its committed files)\n";
    assert_eq!(trusted, format!("trusted DEP-001: sh ./ver.sh\n  runs in {}\n{inside}", a.display()));
    assert_eq!(check_json(&env, &[], 0)["results"][0]["status"], "satisfied");

    // The same text in another directory is another command.
    eco("./b");
    let report = check_json(&env, &[], 0);
    assert!(!ran.exists(), "the approval of ./a/ver.sh ran ./b/ver.sh");
    assert_eq!(
        verdict(&report, "DEP-001"),
        (
            "unknown".into(),
            format!(
                "untrusted command: approved for {}, now runs in {}; run git coord trust DEP-001 after reading it",
                a.display(),
                b.display()
            )
        )
    );
    // Directories are compared canonical: a link to the approved one is it…
    eco("./link");
    assert_eq!(check_json(&env, &[], 0)["results"][0]["status"], "satisfied");
    // …and a link moved elsewhere is not.
    std::fs::remove_file(env.root.join("link")).expect("unlink");
    std::os::unix::fs::symlink(&b, env.root.join("link")).expect("symlink");
    let report = check_json(&env, &[], 0);
    assert!(!ran.exists(), "a moved link ran the other script");
    assert!(verdict(&report, "DEP-001").1.contains(&format!("now runs in {}", b.display())), "{report}");
    // A path that is no directory falls back to the root: another place too.
    eco("./missing");
    let report = check_json(&env, &[], 0);
    assert!(verdict(&report, "DEP-001").1.contains(&format!("now runs in {};", env.root.display())), "{report}");

    // An approval of the text alone (from before the binding) is not enough.
    eco("./b");
    env.git(&["config", "--local", "--unset-all", "coord.trusted"]).ok();
    let legacy: String = {
        use sha2::Digest;
        sha2::Sha256::digest(b"sh ./ver.sh").iter().map(|b| format!("{b:02x}")).collect()
    };
    env.git(&["config", "--local", "--add", "coord.trusted", &legacy]).ok();
    let report = check_json(&env, &[], 0);
    assert!(!ran.exists(), "a text-only approval ran the command");
    assert_eq!(
        verdict(&report, "DEP-001").1,
        "untrusted command: approval predates directory binding; re-run git coord trust DEP-001 after reading it"
    );
    // Re-trusting replaces it with a bound approval, which shows the directory.
    let trusted = env.coord(&["trust", "DEP-001"]).ok().to_string();
    assert_eq!(trusted, format!("trusted DEP-001: sh ./ver.sh\n  runs in {}\n{inside}", b.display()));
    let values = env.git(&["config", "--local", "--get-all", "coord.trusted"]).ok().to_string();
    assert_eq!(values.lines().count(), 1, "{values}");
    assert!(values.starts_with("v2 "), "{values}");
    let report = check_json(&env, &[], 0);
    assert!(ran.exists(), "approved for ./b, the command runs there");
    assert_eq!(verdict(&report, "DEP-001").0, "satisfied");
}

#[test]
fn an_approval_in_this_repository_covers_the_scripts_a_pull_request_can_change() {
    let env = TestEnv::new();
    let ran = marker(&env, "changed-script-ran");
    env.write("tools/ver.sh", "echo 1.0.0\n");
    env.write("settings/ecosystem.yaml", "repos:\n  - name: app\n    path: ./tools\n");
    dep(&env, "DEP-001", "provider: nowhere\nstatus: unknown\nvalidation:\n  command: 'sh ./ver.sh'\n");
    env.commit_all("a command next to its script");
    env.coord(&["trust", "DEP-001"]).ok();
    assert_eq!(check_json(&env, &[], 0)["results"][0]["status"], "satisfied");

    // Coordination data changing does not touch the approval…
    env.coord(&["create-issue", "--title", "x", "--repos", "app"]).ok();
    env.commit_all("data");
    assert_eq!(check_json(&env, &[], 0)["results"][0]["status"], "satisfied");

    // …but a commit (a pull request checked out) changing the script does.
    env.write("tools/ver.sh", &format!("touch '{}'\necho 6.6.6\n", ran.display()));
    env.commit_all("a pull request edits the approved script");
    let report = check_json(&env, &[], 0);
    assert!(!ran.exists(), "the approval of the old script ran the new one");
    let (status, reason) = verdict(&report, "DEP-001");
    assert_eq!(status, "unknown");
    assert!(reason.contains("changed in this repository since it was approved"), "{reason}");
    // Approving again after reading it lets it run.
    env.coord(&["trust", "DEP-001"]).ok();
    check_json(&env, &[], 0);
    assert!(ran.exists(), "re-approved, the script runs");
}

#[test]
fn commands_and_urls_are_shown_escaped_and_redacted() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    let ok = serve(Answer::Status(200, Duration::ZERO));
    let refused = refused_port();
    let hc = |url: String, extra: &str| {
        format!("provider: nowhere\nstatus: unknown\nvalidation:\n  health_check: {url}\n{extra}")
    };
    dep(&env, "DEP-001", &hc(format!("http://user:s3cret@{ok}/health"), "  command: \"echo ok\\r# harmless\"\n"));
    dep(&env, "DEP-002", &hc(format!("http://tok3n@127.0.0.1:{refused}/health"), ""));
    env.commit_all("deps");

    // `trust` shows a carriage return as `\r`, never raw (which would let the
    // rest of the line overwrite what came before).
    let trusted = env.coord(&["trust", "DEP-001"]).ok().to_string();
    assert!(!trusted.contains('\r'), "{trusted:?}");
    assert!(trusted.starts_with("trusted DEP-001: echo ok\\r# harmless\n"), "{trusted}");
    assert!(trusted.contains("(control characters in the command are shown escaped)"), "{trusted}");

    // Reading the command before trusting it: `show-dep` escapes too.
    let shown = env.coord(&["show-dep", "DEP-001"]).ok().to_string();
    assert!(shown.contains("command: \"echo ok\\r# harmless\""), "{shown}");
    assert!(shown.contains(&format!("health_check: http://user:***@{ok}/health")), "{shown}");

    let table = env.coord(&["check-deps", "--timeout", "5"]);
    let json = env.coord(&["check-deps", "--timeout", "5", "--format", "json"]);
    for run in [&table, &json] {
        run.fails(1);
        for secret in ["s3cret", "tok3n"] {
            assert!(!run.stdout.contains(secret), "{secret} shown:\n{}", run.stdout);
        }
        assert!(!run.stdout.contains('\r'), "{:?}", run.stdout);
    }
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(
        verdict(&report, "DEP-001"),
        ("satisfied".into(), format!("command exited 0; GET http://user:***@{ok}/health: HTTP 200"))
    );
    assert_eq!(
        verdict(&report, "DEP-002"),
        ("unsatisfied".into(), format!("GET http://***@127.0.0.1:{refused}/health: connection refused"))
    );
    assert!(table.stdout.contains(&format!("GET http://user:***@{ok}/health: HTTP 200")), "{}", table.stdout);

    // A pull request changing them: the review (a PR comment) and the diff
    // show neither the secret nor a raw control character.
    env.git(&["checkout", "-q", "-b", "topic"]).ok();
    dep(
        &env,
        "DEP-001",
        &hc(format!("http://user:n3wsecret@{ok}/health"), "  command: \"echo ok\\r\\e[2K# sneaky\"\n"),
    );
    env.commit_all("change the check");
    for args in [&["review", "main", "--format", "markdown"][..], &["review", "main"], &["diff", "main..topic"]] {
        let run = env.coord(args);
        run.ok();
        for bad in ["s3cret", "n3wsecret", "\r", "\u{1b}"] {
            assert!(!run.stdout.contains(bad), "{args:?} shows {bad:?}:\n{}", run.stdout);
        }
        assert!(run.stdout.contains("user:***@"), "{args:?}:\n{}", run.stdout);
        assert!(run.stdout.contains("echo ok\\r\\u{1b}[2K# sneaky"), "{args:?}:\n{}", run.stdout);
    }
}
