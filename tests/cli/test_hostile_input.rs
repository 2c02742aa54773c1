//! Hostile and broken input (issue 16, items 8b and 9–15): files crafted to
//! stall, crash or mislead the tool, and leftovers of crashed writers. Each
//! test reproduces the attack against the real binary and asserts that the
//! bad file is reported by name while everything else keeps working.

use crate::env::TestEnv;
use crate::test_mcp::Client;
use serde_json::json;

/// The IDs in a list command's JSON (`{count, items}`).
fn ids(v: &serde_json::Value) -> Vec<String> {
    v["items"].as_array().expect("a list result").iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

// ---- item 15: filters are validated before anything is loaded ----

#[test]
fn a_bad_filter_is_refused_whether_or_not_there_is_data() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    for (cmd, flag, value) in [
        ("list-issues", "--status", "bogus"),
        ("list-todos", "--status", "bogus"),
        ("list-plans", "--status", "resolvedd"),
        ("list-deps", "--status", "bogus"),
        ("list-issues", "--priority", "P9"),
        ("list-todos", "--priority", "urgent"),
        ("list-plans", "--priority", "high"),
        ("list-deps", "--label", "x"),
    ] {
        let empty = env.coord(&[cmd, flag, value]);
        let err = empty.fails(2).to_string();
        assert!(err.contains(value) || err.contains(flag), "{cmd} {flag} {value} on an empty store: {err}");
    }
    // The same answer with data.
    env.coord(&["create-issue", "--title", "A", "--repos", "x"]).ok();
    env.coord(&["create-todo", "--task", "T", "--repo", "x"]).ok();
    let err = env.coord(&["list-issues", "--status", "bogus"]).fails(2).to_string();
    assert!(err.contains("invalid issue status `bogus`"), "{err}");
    let err = env.coord(&["list-todos", "--plan", "PLAN-001", "--status", "bogus"]).fails(2).to_string();
    assert!(err.contains("invalid todo status `bogus`"), "{err}");
    // Aliases still work on an empty store and with data.
    assert_eq!(ids(&env.coord(&["list-issues", "--status", "open", "--format", "json"]).json()), ["ISSUE-001"]);
    let empty = TestEnv::new();
    empty.coord(&["init"]).ok();
    assert_eq!(ids(&empty.coord(&["list-todos", "--status", "done", "--format", "json"]).json()).len(), 0);
}

#[test]
fn mcp_list_tools_refuse_a_bad_filter_on_an_empty_store() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    let mut c = Client::start(&env);
    for (i, tool) in
        ["coord_list_issues", "coord_list_todos", "coord_list_plans", "coord_list_dependencies"].iter().enumerate()
    {
        let r = c.call(10 + i as u64, "tools/call", json!({"name": tool, "arguments": {"status": ["bogus"]}}));
        assert_eq!(r["result"]["isError"], true, "{tool}: {r}");
        assert!(r.to_string().contains("bogus"), "{tool}: {r}");
    }
    let ok = c.tool(20, "coord_list_issues", json!({"status": ["open"]}));
    assert_eq!(ok["count"], 0);
}

/// Runs `git-coord ARGS` and fails the test (instead of hanging) if it has
/// not finished within 20 s; output is drained on threads so a full pipe
/// cannot stall the child.
fn coord_within(env: &TestEnv, args: &[&str]) -> crate::env::Run {
    use std::io::Read;
    let mut child = env.coord_spawn(args);
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("git coord {args:?} did not finish within 20 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    crate::env::Run { code: status.code().unwrap_or(-1), stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

fn issue(id: &str) -> String {
    format!("id: {id}\ntitle: Issue {id}\nstatus: pending\nrepos: [x]\n")
}

// ---- item 10: size and nesting bounds ----

#[test]
fn nesting_bombs_are_refused_by_name_and_everything_else_still_loads() {
    let env = TestEnv::new();
    env.write("coordination/issues/ISSUE-001.yaml", &issue("ISSUE-001"));
    // 200 KB of flow brackets: minutes of parsing before the bound.
    env.write(
        "coordination/issues/ISSUE-002.yaml",
        &format!("id: ISSUE-002\ntitle: flow\nrepos: [x]\nx: {}\n", "[".repeat(100_000) + &"]".repeat(100_000)),
    );
    // Block nesting, indentation and compact sequences.
    let block: String = (0..400).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
    env.write("coordination/issues/ISSUE-003.yaml", &format!("id: ISSUE-003\ntitle: block\nrepos: [x]\nx:\n{block}"));
    env.write(
        "coordination/issues/ISSUE-004.yaml",
        &format!("id: ISSUE-004\ntitle: dashes\nrepos: [x]\nx:\n{}a\n", "- ".repeat(50_000)),
    );
    env.write("coordination/issues/ISSUE-005.yaml", &issue("ISSUE-005"));
    let list = coord_within(&env, &["list-issues", "--format", "json"]);
    assert_eq!(ids(&list.json()), ["ISSUE-001", "ISSUE-005"]);
    for expected in [
        "coordination/issues/ISSUE-002.yaml:4: ISSUE-002: nested deeper than max_yaml_depth (64 levels",
        "coordination/issues/ISSUE-003.yaml:",
        "coordination/issues/ISSUE-004.yaml:5: ISSUE-004: nested deeper than max_yaml_depth",
    ] {
        assert!(list.stderr.contains(expected), "missing `{expected}` in:\n{}", list.stderr);
    }
    let lint = coord_within(&env, &["lint"]);
    assert_eq!(lint.code, 1, "{}", lint.stdout);
    assert!(lint.stdout.contains("error: coordination/issues/ISSUE-002.yaml:4:"), "{}", lint.stdout);
    assert!(lint.stdout.contains("2 entities checked: 3 error(s)"), "{}", lint.stdout);
    let show = coord_within(&env, &["show-issue", "ISSUE-002"]);
    assert_eq!(show.code, 1);
    assert!(show.stderr.contains("ISSUE-002.yaml:4: nested deeper than max_yaml_depth"), "{}", show.stderr);
    let before = env.read("coordination/issues/ISSUE-003.yaml");
    let upd = coord_within(&env, &["update-issue", "ISSUE-003", "--status", "closed"]);
    assert_eq!(upd.code, 1, "{}", upd.stderr);
    assert_eq!(env.read("coordination/issues/ISSUE-003.yaml"), before, "nothing changed");
    // Every other command keeps working.
    assert!(coord_within(&env, &["status"]).code == 0);
}

#[test]
fn the_limits_are_settings_and_a_large_file_is_refused_without_being_parsed() {
    let env = TestEnv::new();
    env.write("settings/coord.yaml", "max_file_bytes: 2048\nmax_yaml_depth: 8\n");
    env.write("coordination/issues/ISSUE-001.yaml", &issue("ISSUE-001"));
    let big = format!("{}description: {}\n", issue("ISSUE-002"), "x".repeat(4000));
    env.write("coordination/issues/ISSUE-002.yaml", &big);
    env.write(
        "coordination/issues/ISSUE-003.yaml",
        &format!("{}metadata: {{a: {{b: {{c: {{d: {{e: {{f: {{g: {{h: 1}}}}}}}}}}}}}}}}\n", issue("ISSUE-003")),
    );
    let list = coord_within(&env, &["list-issues", "--format", "json"]);
    assert_eq!(ids(&list.json()), ["ISSUE-001"]);
    assert!(list.stderr.contains("ISSUE-002.yaml: ISSUE-002: the file is 4"), "{}", list.stderr);
    assert!(list.stderr.contains("more than max_file_bytes (2048"), "{}", list.stderr);
    assert!(
        list.stderr.contains("ISSUE-003.yaml:5: ISSUE-003: nested deeper than max_yaml_depth (8 levels"),
        "{}",
        list.stderr
    );
    let err = env.coord(&["show-issue", "ISSUE-002"]).fails(1).to_string();
    assert!(err.contains("coordination/issues/ISSUE-002.yaml: the file is 4"), "{err}");
    // A nonsensical limit is a settings error naming the key.
    env.write("settings/coord.yaml", "max_yaml_depth: 2\n");
    let err = env.coord(&["list-issues"]).fails(1).to_string();
    assert!(err.contains("setting `max_yaml_depth`: expected a depth between 8 and 128, found 2"), "{err}");
}

#[test]
fn an_update_of_a_file_with_thousands_of_keys_is_linear_and_minimal() {
    let env = TestEnv::new();
    let keys: String = (0..20_000).map(|i| format!("k{i}: v\n")).collect();
    env.write("coordination/issues/ISSUE-001.yaml", &format!("{}{keys}", issue("ISSUE-001")));
    env.commit_all("many keys");
    // Quadratic in the editor: over ten minutes before the fix.
    let out = coord_within(&env, &["update-issue", "ISSUE-001", "--status", "closed"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(env.changed_lines(), ["-status: pending", "+status: closed", "+updated: 2026-03-01"]);
}

// ---- item 8(b): a rewrite that would drop comments or anchors is refused ----

#[test]
fn an_update_that_cannot_be_minimal_refuses_to_drop_comments_and_anchors() {
    let env = TestEnv::new();
    let text = "# Owned by the platform team\nid: ISSUE-001\ntitle: Anchored # keep me\nstatus: pending\nrepos: &r [x]\nmetadata:\n  also: *r\n";
    env.write("coordination/issues/ISSUE-001.yaml", text);
    env.commit_all("anchored");
    // Changing the anchored list would change its alias too: no minimal edit.
    let err = env.coord(&["update-issue", "ISSUE-001", "--add-repo", "y"]).fails(1).to_string();
    assert!(err.contains("coordination/issues/ISSUE-001.yaml:5: ISSUE-001"), "{err}");
    assert!(err.contains("anchor `&r`"), "{err}");
    assert!(err.contains("would drop its 2 comments and its anchors/aliases"), "{err}");
    assert!(err.contains("--rewrite"), "{err}");
    assert_eq!(env.read("coordination/issues/ISSUE-001.yaml"), text, "nothing lost");
    // Edits the editor can make minimally still work on the same file.
    env.coord(&["update-issue", "ISSUE-001", "--status", "blocked"]).ok();
    assert_eq!(env.changed_lines(), ["-status: pending", "+status: blocked", "+updated: 2026-03-01"]);
    // With --rewrite, the user chose the canonical rewrite; it is said.
    let out = env.coord(&["update-issue", "ISSUE-001", "--add-repo", "y", "--rewrite"]);
    out.ok();
    assert!(out.stderr.contains("ISSUE-001 was rewritten in canonical form"), "{}", out.stderr);
    let now = env.read("coordination/issues/ISSUE-001.yaml");
    assert!(!now.contains('#') && !now.contains('&') && now.contains("- y"), "{now}");
}

#[test]
fn without_comments_or_anchors_the_canonical_rewrite_loses_nothing_and_proceeds() {
    let env = TestEnv::new();
    // A directive and an explicit document start: the line editor gives up.
    env.write("coordination/issues/ISSUE-001.yaml", "%YAML 1.2\n---\nid: ISSUE-001\ntitle: Plain\nrepos: [x]\n");
    let out = env.coord(&["update-issue", "ISSUE-001", "--title", "Renamed"]);
    out.ok();
    assert!(out.stderr.contains("rewritten in canonical form"), "{}", out.stderr);
    assert!(env.read("coordination/issues/ISSUE-001.yaml").contains("title: Renamed"));
    // The same file with a comment is refused, naming the comment's line.
    let text = "%YAML 1.2\n---\nid: ISSUE-002\ntitle: Plain\n# why x\nrepos: [x]\n";
    env.write("coordination/issues/ISSUE-002.yaml", text);
    let err = env.coord(&["update-issue", "ISSUE-002", "--title", "Renamed"]).fails(1).to_string();
    assert!(err.contains("coordination/issues/ISSUE-002.yaml:5: ISSUE-002: no minimal edit is possible"), "{err}");
    assert!(err.contains("would drop its comment"), "{err}");
    assert_eq!(env.read("coordination/issues/ISSUE-002.yaml"), text);
}

// ---- item 9: temp files of killed writers ----

fn age(env: &TestEnv, rel: &str, secs: u64) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
    std::fs::File::options().write(true).open(env.root.join(rel)).unwrap().set_modified(t).unwrap();
}

#[test]
fn temp_files_of_killed_writers_are_reported_removed_and_ignored() {
    let env = TestEnv::new();
    let init = env.coord(&["init"]).ok().to_string();
    assert!(init.contains("added `coordination/**/.coord-*.tmp` to .gitignore"), "{init}");
    assert!(!env.coord(&["init"]).ok().contains(".gitignore"), "init is idempotent");
    assert_eq!(env.read(".gitignore").matches(".coord-*.tmp").count(), 1);
    env.coord(&["create-issue", "--title", "A", "--repos", "x"]).ok();
    let stale = "coordination/issues/.coord-AbC123.tmp";
    let fresh = "coordination/issues/.coord-Xyz789.tmp";
    let lookalike = "coordination/issues/.coord-AbC123.tmp.keep";
    for f in [stale, fresh, lookalike] {
        env.write(f, "id: ISSUE-0");
    }
    age(&env, stale, 3600);
    age(&env, lookalike, 3600);
    let check = env.git(&["check-ignore", stale]).ok().to_string();
    assert_eq!(check.trim(), stale, "git ignores the temp files");
    let lint = env.coord(&["lint"]);
    assert!(
        lint.stdout.contains(&format!("warning: {stale}: leftover temp file of an interrupted write (")),
        "{}",
        lint.stdout
    );
    assert!(!lint.stdout.contains("Xyz789") && !lint.stdout.contains(".keep"), "{}", lint.stdout);
    let doctor = env.coord(&["doctor"]);
    assert!(doctor.stdout.contains(&format!("{stale}: [temp-file]")), "{}", doctor.stdout);
    doctor.fails(1);
    let fixed = env.coord(&["doctor", "--fix"]).ok().to_string();
    assert!(fixed.contains("fixed: removed"), "{fixed}");
    assert!(!env.exists(stale) && env.exists(fresh) && env.exists(lookalike), "only the stale temp file goes");
    // The next write cleans stale temp files in its directory too.
    env.write(stale, "partial");
    age(&env, stale, 3600);
    env.coord(&["update-issue", "ISSUE-001", "--status", "closed"]).ok();
    assert!(!env.exists(stale) && env.exists(fresh) && env.exists(lookalike));
}

// ---- item 11: ID numbers are bounded ----

#[test]
fn an_out_of_range_id_anywhere_warns_and_never_breaks_the_allocator() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    env.commit_all("init");
    env.git(&["checkout", "-q", "-b", "evil"]).ok();
    env.write("settings/ecosystem.yaml", "repos: []\n# see ISSUE-18446744073709551615\n");
    env.write("coordination/todos/TODO-99999999999.yaml", "id: TODO-99999999999\ntask: x\nrepo: y\n");
    env.commit_all("evil");
    env.git(&["checkout", "-q", "main"]).ok();
    for expected in ["ISSUE-001", "ISSUE-002"] {
        let out = env.coord(&["create-issue", "--title", "T", "--repos", "x"]);
        assert_eq!(out.ok(), format!("created {expected} (coordination/issues/{expected}.yaml)\n"));
        assert!(
            out.stderr.contains("warning: ignored ISSUE-18446744073709551615 (branch evil, settings/ecosystem.yaml)"),
            "{}",
            out.stderr
        );
    }
    let out = env.coord(&["create-todo", "--task", "T", "--repo", "x"]);
    assert!(out.ok().contains("TODO-001"), "{}", out.stdout);
    assert!(out.stderr.contains("ignored TODO-99999999999 (branch evil"), "{}", out.stderr);
    // In the working tree too.
    env.write("coordination/issues/ISSUE-5000000000.yaml", "id: ISSUE-5000000000\ntitle: big\nrepos: [x]\n");
    let out = env.coord(&["create-issue", "--title", "T", "--repos", "x"]);
    assert!(out.ok().contains("ISSUE-003"), "{}", out.stdout);
    assert!(
        out.stderr.contains("ignored ISSUE-5000000000 (coordination/issues/ISSUE-5000000000.yaml)"),
        "{}",
        out.stderr
    );
    // renumber refuses such a target, and gives the big one a sane number.
    let err = env.coord(&["renumber", "ISSUE-001", "--to", "ISSUE-1000000000"]).fails(1).to_string();
    assert!(err.contains("ID `ISSUE-1000000000` has a number above 999,999,999"), "{err}");
    let out = env.coord(&["renumber", "ISSUE-5000000000"]);
    assert!(out.ok().contains("renumbered issue ISSUE-5000000000 → ISSUE-004"), "{}", out.stdout);
    // The last number is taken: a clear refusal, not a wrap to ISSUE-000.
    env.write("coordination/issues/ISSUE-999999999.yaml", "id: ISSUE-999999999\ntitle: last\nrepos: [x]\n");
    let err = env.coord(&["create-issue", "--title", "T", "--repos", "x"]).fails(1).to_string();
    assert!(err.contains("ID `ISSUE-1000000000` has a number above 999,999,999"), "{err}");
}

// ---- item 12: a key that is not text ----

#[test]
fn a_key_that_is_not_text_is_reported_and_json_output_stays_valid() {
    let env = TestEnv::new();
    env.write("coordination/issues/ISSUE-001.yaml", &issue("ISSUE-001"));
    env.write("coordination/issues/ISSUE-002.yaml", "id: ISSUE-002\ntitle: b\nrepos: [x]\n? [a, b]\n: 1\n");
    env.write("coordination/issues/ISSUE-003.yaml", &format!("{}metadata:\n  ~: null key\n", issue("ISSUE-003")));
    env.write("coordination/issues/ISSUE-004.yaml", &issue("ISSUE-004"));
    let list = env.coord(&["list-issues", "--format", "json"]);
    assert_eq!(ids(&list.json()), ["ISSUE-001", "ISSUE-004"], "valid JSON with every other entity");
    assert!(list.stderr.contains("ISSUE-002.yaml:4: ISSUE-002: a mapping key is a list, not text"), "{}", list.stderr);
    assert!(list.stderr.contains("ISSUE-003.yaml:6: ISSUE-003: a mapping key is empty (null)"), "{}", list.stderr);
    let lint = env.coord(&["lint"]);
    assert!(lint.stdout.contains("error: coordination/issues/ISSUE-002.yaml:4: ISSUE-002: a mapping key is a list"));
    assert!(lint.stdout.contains("2 entities checked: 2 error(s)"), "{}", lint.stdout);
    lint.fails(1);
    let show = env.coord(&["show-issue", "ISSUE-002", "--format", "json"]);
    assert!(show.stdout.is_empty(), "no partial JSON: {}", show.stdout);
    assert!(show.fails(1).contains("coordination/issues/ISSUE-002.yaml:4: a mapping key is a list"));
    let mut c = Client::start(&env);
    let r = c.call(2, "tools/call", json!({"name": "coord_get_issue", "arguments": {"id": "ISSUE-002"}}));
    assert_eq!(r["result"]["isError"], true, "{r}");
    assert!(r.to_string().contains("ISSUE-002.yaml:4: a mapping key is a list"), "{r}");
    let all = c.tool(3, "coord_list_issues", json!({}));
    assert_eq!(all["count"], 2, "{all}");
    assert_eq!(all["items"][1]["id"], "ISSUE-004");
}

// ---- item 13: a file named differently from its id ----

#[test]
fn a_misnamed_file_is_neither_shown_nor_written_under_either_id() {
    let env = TestEnv::new();
    let text = "id: ISSUE-002\ntitle: Misnamed\nrepos: [x]\n";
    env.write("coordination/issues/ISSUE-001.yaml", text);
    for id in ["ISSUE-001", "ISSUE-002"] {
        let err = env.coord(&["show-issue", id]).fails(1).to_string();
        assert!(
            err.contains("coordination/issues/ISSUE-001.yaml: the file is named `ISSUE-001` but holds id `ISSUE-002`"),
            "{id}: {err}"
        );
    }
    let err = env.coord(&["update-issue", "ISSUE-001", "--status", "closed"]).fails(1).to_string();
    assert!(err.contains("holds id `ISSUE-002`"), "{err}");
    env.coord(&["update-issue", "ISSUE-002", "--status", "closed"]).fails(1);
    env.coord(&["close-issue", "ISSUE-001"]).fails(1);
    assert_eq!(env.read("coordination/issues/ISSUE-001.yaml"), text, "nothing written");
    let lint = env.coord(&["lint"]);
    assert!(
        lint.stdout.contains("ISSUE-001.yaml:1: ISSUE-002 id: file name `ISSUE-001` does not match id `ISSUE-002`"),
        "{}",
        lint.stdout
    );
    lint.fails(1);
    // doctor's rename repairs it; then both commands work.
    assert!(env.coord(&["doctor", "--fix"]).ok().contains("renamed to coordination/issues/ISSUE-002.yaml"));
    env.coord(&["update-issue", "ISSUE-002", "--status", "closed"]).ok();
    assert_eq!(env.coord(&["show-issue", "ISSUE-002", "--format", "json"]).entity()["status"], "closed");
}

// ---- item 14: links, FIFOs and directories in coordination/ ----

#[cfg(unix)]
#[test]
fn links_fifos_and_directories_are_reported_and_never_followed_or_opened() {
    let env = TestEnv::new();
    env.write("coordination/issues/ISSUE-001.yaml", &issue("ISSUE-001"));
    env.commit_all("one issue");
    let outside = env.root.parent().unwrap().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    let secret = outside.join("secret.yaml");
    let secret_text = "id: ISSUE-002\ntitle: SECRET from outside the repository\nrepos: [x]\n";
    std::fs::write(&secret, secret_text).unwrap();
    let issues = env.root.join("coordination/issues");
    std::os::unix::fs::symlink(&secret, issues.join("ISSUE-002.yaml")).unwrap();
    let fifo = issues.join("ISSUE-003.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    std::fs::create_dir_all(issues.join("ISSUE-004.yaml")).unwrap();
    // A whole kind directory that is a link.
    std::fs::create_dir_all(outside.join("todos")).unwrap();
    std::fs::write(outside.join("todos/TODO-001.yaml"), "id: TODO-001\ntask: SECRET todo\nrepo: x\n").unwrap();
    std::os::unix::fs::symlink(outside.join("todos"), env.root.join("coordination/todos")).unwrap();

    let show = coord_within(&env, &["show-issue", "ISSUE-002"]);
    assert_eq!(show.code, 1);
    assert!(!show.stdout.contains("SECRET"), "{}", show.stdout);
    assert!(show.stderr.contains("coordination/issues/ISSUE-002.yaml is a symbolic link"), "{}", show.stderr);
    let show = coord_within(&env, &["show-issue", "ISSUE-003"]);
    assert_eq!(show.code, 1);
    assert!(show.stderr.contains("ISSUE-003.yaml is a FIFO"), "{}", show.stderr);
    let upd = coord_within(&env, &["update-issue", "ISSUE-002", "--title", "pwned"]);
    assert_eq!(upd.code, 1);
    assert_eq!(std::fs::read_to_string(&secret).unwrap(), secret_text, "the link's target is untouched");
    let show = coord_within(&env, &["show-todo", "TODO-001"]);
    assert_eq!(show.code, 1);
    assert!(show.stderr.contains("coordination/todos is a symbolic link"), "{}", show.stderr);
    let create = coord_within(&env, &["create-todo", "--task", "T", "--repo", "x"]);
    assert_eq!(create.code, 1, "nothing is written through the link");
    assert!(create.stderr.contains("coordination/todos is a symbolic link"), "{}", create.stderr);
    assert_eq!(std::fs::read_dir(outside.join("todos")).unwrap().count(), 1);

    let list = coord_within(&env, &["list-issues", "--format", "json"]);
    assert_eq!(ids(&list.json()), ["ISSUE-001"]);
    for expected in [
        "warning: skipped unreadable entity: coordination/issues/ISSUE-002.yaml: is a symbolic link",
        "warning: skipped unreadable entity: coordination/issues/ISSUE-003.yaml: is a FIFO",
        "warning: skipped unreadable entity: coordination/issues/ISSUE-004.yaml: is a directory",
    ] {
        assert!(list.stderr.contains(expected), "missing `{expected}` in:\n{}", list.stderr);
    }
    let todos = coord_within(&env, &["list-todos", "--format", "json"]);
    assert_eq!(ids(&todos.json()).len(), 0);
    assert!(todos.stderr.contains("coordination/todos: is a symbolic link"), "{}", todos.stderr);
    let lint = coord_within(&env, &["lint"]);
    assert_eq!(lint.code, 1);
    for f in ["issues/ISSUE-002.yaml", "issues/ISSUE-003.yaml", "issues/ISSUE-004.yaml", "todos"] {
        assert!(lint.stdout.contains(&format!("error: coordination/{f}: is ")), "{f}:\n{}", lint.stdout);
    }
    assert!(!lint.stdout.contains("SECRET"));
    assert_eq!(coord_within(&env, &["doctor"]).code, 0, "doctor does not hang on the FIFO either");
    for args in [&["diff"][..], &["log", "ISSUE-003"], &["status"]] {
        let out = coord_within(&env, args);
        assert!(!out.stdout.contains("SECRET") && !out.stderr.contains("SECRET"), "{args:?}: {}", out.stdout);
    }
}
