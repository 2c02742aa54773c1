//! How the CLI shows typed library errors: request fields as the command's
//! flags, `hint:` lines naming commands, and the cause chain as
//! `  caused by:` lines (the MCP side is in `test_mcp`).

use crate::env::TestEnv;

#[test]
fn field_errors_name_flags_including_the_fields_they_mention() {
    let env = TestEnv::with_ecosystem();
    let err = env.coord(&["sweep", "--resume", "RUN-1", "--rerun-failed", "RUN-2", "--dry-run"]).fails(1).to_string();
    assert!(err.contains("error: --resume: cannot be combined with --rerun-failed"), "{err}");
    let err = env.coord(&["sweep", "--repos", "vishnu", "--dry-run"]).fails(1).to_string();
    assert!(
        err.contains(
            "error: --command: is needed to run one command across the repositories chosen with --repos, --role, --all"
        ),
        "{err}"
    );
    let err = env.coord(&["list-todos", "--repo", "budy"]).fails(1).to_string();
    assert!(err.contains("error: --repo: unknown repository `budy` (did you mean `session-buddy`?)"), "{err}");
    assert!(!err.contains("`repo`"), "the CLI names the flag, not the request field: {err}");
}

#[test]
fn hints_name_commands_and_flags() {
    let env = TestEnv::with_ecosystem();
    let err = env.coord(&["show-issue", "ISSUE-009"]).fails(1).to_string();
    assert!(err.contains("hint: `git coord list-issues` lists the issues"), "{err}");
    let err = env.coord(&["gate", "onieric"]).fails(1).to_string();
    assert!(err.contains("error: unknown repository `onieric`; did you mean `oneiric`?"), "{err}");
    assert!(err.contains("hint: `git coord list-repos` lists the registered repositories"), "{err}");
    let err = env.coord(&["run-log", "RUN-nope", "TODO-001"]).fails(1).to_string();
    assert!(err.contains("error: no run `RUN-nope`") && err.contains("hint: `git coord runs`"), "{err}");

    // A refused lossy rewrite: the hint is the flag that allows it.
    let env = TestEnv::new();
    env.write("coordination/issues/ISSUE-001.yaml", "id: ISSUE-001\ntitle: A\nstatus: pending\nrepos: &r [x]\nx: *r\n");
    env.commit_all("anchored");
    let err = env.coord(&["update-issue", "ISSUE-001", "--add-repo", "y"]).fails(1).to_string();
    assert!(err.contains("hint: --rewrite rewrites the file canonically"), "{err}");
    assert!(!err.contains("`rewrite`"), "{err}");
}

/// Every error with a source prints it: `error:` then `  caused by:`.
#[test]
fn the_cause_chain_is_printed() {
    let env = TestEnv::with_ecosystem();
    let err = env.coord(&["diff", "nosuch..HEAD"]).fails(1).to_string();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.first(), Some(&"error: unknown revision `nosuch`"), "{err}");
    assert!(lines.get(1).is_some_and(|l| l.starts_with("  caused by: git: ")), "{err}");

    // A coordination repository that cannot be cloned: what, then why (git's own words).
    let missing = env.root.join("no-such-repo.git");
    let url = format!("file://{}", missing.display());
    let err = env.coord(&["gate", "oneiric", "--coord", &url]).fails(1).to_string();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some(format!("error: cannot fetch the coordination data from {url}").as_str()),
        "{err}"
    );
    assert!(lines.get(1).is_some_and(|l| l.starts_with("  caused by: git: `git clone")), "{err}");
    // An option that is not a URL or directory names the flag.
    let err = env.coord(&["gate", "oneiric", "--coord", "nope://x"]).fails(1).to_string();
    assert!(err.contains("error: --coord: `nope://x` is not valid (expected a transport git-coord clones"), "{err}");
}

/// Refusals that are about a request field name it as the flag.
#[test]
fn refusals_name_the_flag() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Auth", "--repos", "oneiric"]).ok();
    let issue = env.coord(&["list-issues", "--sort", "-id", "--limit", "1", "--format", "json"]).items()[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let todo =
        env.coord(&["create-todo", "--task", "Ship", "--repo", "oneiric", "--blocked-by", &issue, "--format", "json"]);
    let todo = todo.entity()["id"].as_str().unwrap().to_string();
    let err = env.coord(&["update-todo", &todo, "--status", "in_progress", "--strict"]).fails(1).to_string();
    assert!(err.contains("error: --strict: refused: starting"), "{err}");
    assert!(!err.contains("`strict`"), "the CLI names the flag: {err}");
    let err = env.coord(&["check-deps", "--consumer", "buddy", "--provider", "vishnu"]).fails(1).to_string();
    assert!(err.contains("error: --consumer: no dependency matches `session-buddy` together with --provider"), "{err}");
}
