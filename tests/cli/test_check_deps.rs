//! `check-deps` and `trust` for real, on loopback only: provider git
//! repositories with manifests and tags, HTTP servers in the test answering
//! 200, 503, slowly or never, and shell commands that pass, fail, hang and
//! print versions — with trust, exit codes, `--offline` and `--update`.

use crate::env::TestEnv;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
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
fn provider(env: &TestEnv, name: &str, files: &[(&str, &str)], tags: &[&str]) -> PathBuf {
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
fn ecosystem(env: &TestEnv, providers: &[&str]) {
    let mut text = String::from("repos:\n  - name: app\n    path: .\n");
    for p in providers {
        text.push_str(&format!("  - name: {p}\n    path: ../{p}\n"));
    }
    text.push_str("  - name: nowhere\n");
    env.write("settings/ecosystem.yaml", &text);
}

/// Writes `coordination/dependencies/<id>.yaml`.
fn dep(env: &TestEnv, id: &str, body: &str) {
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
    assert!(err.fails(1).contains("unknown repository `lib-rz`; did you mean `lib-rs`?"), "{}", err.stderr);
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
    let slow = serve(Answer::Status(200, Duration::from_secs(5)));
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

    let started = Instant::now();
    let report = check_json(&env, &["--timeout", "1"], 1);
    let wall = started.elapsed();
    assert_eq!(verdict(&report, "DEP-001"), ("satisfied".into(), format!("GET http://{ok}/health: HTTP 200")));
    assert_eq!(method(&report, "DEP-001", "health")["evidence"]["http_status"], 200);
    assert_eq!(
        verdict(&report, "DEP-002"),
        ("unsatisfied".into(), format!("GET http://{down}/health: HTTP 503, expected 200"))
    );
    assert_eq!(verdict(&report, "DEP-003").0, "satisfied");
    assert_eq!(
        verdict(&report, "DEP-004"),
        ("unsatisfied".into(), format!("GET http://{slow}/health: timeout after 1s"))
    );
    assert_eq!(
        verdict(&report, "DEP-005"),
        ("unsatisfied".into(), format!("GET http://{never}/health: timeout after 1s"))
    );
    assert_eq!(
        verdict(&report, "DEP-006"),
        ("unsatisfied".into(), format!("GET http://127.0.0.1:{refused}/health: connection refused"))
    );
    // The two that time out wait concurrently: about one timeout, not two.
    assert!(wall < Duration::from_millis(1900), "took {wall:?}");

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

#[test]
fn the_setting_trust_commands_all_runs_unapproved_commands() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    dep(&env, "DEP-001", "provider: nowhere\nstatus: unknown\nvalidation:\n  command: echo ok\n");
    env.write("settings/coord.yaml", "trust_commands: all\n");
    let report = check_json(&env, &[], 0);
    assert_eq!(verdict(&report, "DEP-001"), ("satisfied".into(), "command exited 0".into()));
    env.write("settings/coord.yaml", "trust_commands: approved\n");
    let report = check_json(&env, &[], 0);
    assert_eq!(verdict(&report, "DEP-001").0, "unknown");
}

#[test]
fn many_hanging_health_checks_take_about_one_timeout() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    let never = serve(Answer::Never);
    for i in 1..=20 {
        dep(
            &env,
            &format!("DEP-{i:03}"),
            &format!("provider: nowhere\nstatus: unknown\nvalidation:\n  health_check: http://{never}/h{i}\n"),
        );
    }
    let started = Instant::now();
    let report = check_json(&env, &["--timeout", "0.5"], 1);
    let wall = started.elapsed();
    assert_eq!(report["summary"]["unsatisfied"], 20);
    assert!(wall < Duration::from_millis(1200), "20 hanging checks took {wall:?}");
}

#[test]
fn hanging_health_checks_do_not_hold_up_commands() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    let never = serve(Answer::Never);
    dep(
        &env,
        "DEP-001",
        &format!("provider: nowhere\nstatus: unknown\nvalidation:\n  health_check: http://{never}/\n"),
    );
    dep(&env, "DEP-002", "provider: nowhere\nstatus: unknown\nvalidation:\n  command: sleep 0.8\n");
    // One job: if a command waited for the hanging connection, this would
    // take a timeout plus the command.
    let started = Instant::now();
    let report = check_json(&env, &["--jobs", "1", "--timeout", "1", "--trust-all"], 1);
    assert!(started.elapsed() < Duration::from_millis(1600), "took {:?}", started.elapsed());
    assert_eq!(verdict(&report, "DEP-002"), ("satisfied".into(), "command exited 0".into()));
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

    let trusted = env.coord(&["trust", "DEP-001", "DEP-002"]);
    assert_eq!(trusted.ok(), "trusted DEP-001: cat marker.txt\ntrusted DEP-002: echo broken >&2; exit 3\n");
    assert_eq!(env.coord(&["trust", "DEP-001"]).ok(), "already trusted DEP-001: cat marker.txt\n");
    env.coord(&["trust", "--all"]).ok();
    // Approvals are hashes in the local git config, not in any tracked file.
    let hashes = env.git(&["config", "--local", "--get-all", "coord.trusted"]).ok().to_string();
    assert_eq!(hashes.lines().count(), 5);
    assert!(hashes.lines().all(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())), "{hashes}");
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

#[test]
fn a_hanging_command_is_killed_with_its_whole_process_group() {
    let env = TestEnv::new();
    ecosystem(&env, &[]);
    // The background subshell outlives `sh` unless the group is killed.
    dep(
        &env,
        "DEP-001",
        "provider: nowhere\nstatus: unknown\nvalidation:\n  command: '(sleep 2; touch late) & wait'\n",
    );
    let started = Instant::now();
    let report = check_json(&env, &["--trust-all", "--timeout", "0.5"], 1);
    assert!(started.elapsed() < Duration::from_millis(1800), "took {:?}", started.elapsed());
    assert_eq!(
        verdict(&report, "DEP-001"),
        ("unsatisfied".into(), "command timed out after 0.5s (process group killed)".into())
    );
    std::thread::sleep(Duration::from_millis(2500));
    assert!(!env.exists("late"), "a grandchild survived the timeout");
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
