//! The everyday features users of other trackers expect: lists of open work
//! with sort, limit and `@me`; `show`/`edit`/`comment` on any ID; `add-repo`
//! and the README Quickstart run as written; relative dates and week
//! estimates (shell completions: test_tools).

use crate::env::{TODAY, TestEnv};
use crate::test_mcp::Client;
use serde_json::json;
use std::path::Path;

fn ids(v: &serde_json::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn lists_show_open_items_unless_all_or_a_status_is_asked_for() {
    let env = TestEnv::with_ecosystem();
    for t in ["A", "B", "C"] {
        env.coord(&["create-issue", "--title", t, "--repos", "vishnu"]).ok();
    }
    env.coord(&["close-issue", "ISSUE-003"]).ok();
    env.coord(&["close-issue", "ISSUE-004", "--resolved"]).ok();
    // ISSUE-001 (legacy, open), 002 (pending); 003 closed, 004 resolved.
    assert_eq!(ids(&env.coord(&["list-issues", "--format", "json"]).items()), ["ISSUE-001", "ISSUE-002"]);
    assert_eq!(ids(&env.coord(&["list-issues", "--all", "--format", "json"]).items()).len(), 4);
    assert_eq!(ids(&env.coord(&["list-issues", "--status", "closed", "--format", "json"]).items()), ["ISSUE-003"]);
    // The legacy TODO-001 is done: hidden, then shown with --all.
    env.coord(&["create-todo", "--repo", "buddy", "--task", "open one"]).ok();
    assert_eq!(ids(&env.coord(&["list-todos", "--format", "json"]).items()), ["TODO-002"]);
    assert_eq!(ids(&env.coord(&["list-todos", "--all", "--format", "json"]).items()), ["TODO-001", "TODO-002"]);
    // Plans and dependencies follow the same rule.
    env.coord(&["create-plan", "--title", "Done", "--status", "completed"]).ok();
    env.coord(&["create-plan", "--title", "Live"]).ok();
    assert_eq!(ids(&env.coord(&["list-plans", "--format", "json"]).items()), ["PLAN-002"]);
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "buddy", "--status", "satisfied"]).ok();
    assert_eq!(env.coord(&["list-deps", "--format", "json"]).items().as_array().unwrap().len(), 0);
    assert_eq!(env.coord(&["list-deps", "--all", "--format", "json"]).items().as_array().unwrap().len(), 1);
    // The table says nothing is open rather than listing closed work.
    let table = env.coord(&["list-issues", "--status", "resolved"]).ok().to_string();
    assert!(table.contains("ISSUE-004") && !table.contains("ISSUE-003"), "{table}");
}

#[test]
fn lists_sort_by_a_field_and_limit_and_refuse_an_unknown_field() {
    let env = TestEnv::with_ecosystem();
    for (t, p) in [("low one", "low"), ("crit", "P0"), ("mid", "medium"), ("high", "high")] {
        env.coord(&["create-issue", "--title", t, "--repos", "vishnu", "--priority", p]).ok();
    }
    let by_prio = ids(&env.coord(&["list-issues", "--sort", "priority", "--format", "json"]).items());
    // ISSUE-001 (legacy) is P1 = high; ties keep file order.
    assert_eq!(by_prio, ["ISSUE-003", "ISSUE-001", "ISSUE-005", "ISSUE-004", "ISSUE-002"]);
    let desc = ids(&env.coord(&["list-issues", "--sort", "-id", "--limit", "2", "--format", "json"]).items());
    assert_eq!(desc, ["ISSUE-005", "ISSUE-004"]);
    let title = ids(&env.coord(&["list-issues", "--sort", "title", "--limit", "1", "--format", "json"]).items());
    assert_eq!(title, ["ISSUE-003"]);
    let err = env.coord(&["list-issues", "--sort", "colour"]).fails(1).to_string();
    assert!(err.contains("--sort") && err.contains("priority"), "{err}");
    let err = env.coord(&["list-issues", "--limit", "0"]).fails(1).to_string();
    assert!(err.contains("--limit"), "{err}");
    // MCP takes the same parameters.
    let mut c = Client::start(&env);
    let r = c.tool(2, "coord_list_issues", json!({"sort": "-priority", "limit": 1, "all": true}));
    assert_eq!(ids(&r["items"]), ["ISSUE-002"]);
}

#[test]
fn assignee_me_is_coord_user_or_git_identity() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-todo", "--repo", "vishnu", "--task", "mine by mail", "--assignee", "test@example.com"]).ok();
    env.coord(&["create-todo", "--repo", "vishnu", "--task", "mine by name", "--assignee", "Test User"]).ok();
    env.coord(&["create-todo", "--repo", "vishnu", "--task", "theirs", "--assignee", "alice"]).ok();
    let mine = ids(&env.coord(&["list-todos", "--assignee", "@me", "--format", "json"]).items());
    assert_eq!(mine, ["TODO-002", "TODO-003"]);
    env.git(&["config", "coord.user", "alice"]).ok();
    assert_eq!(ids(&env.coord(&["list-todos", "--assignee", "@me", "--format", "json"]).items()), ["TODO-004"]);
    let mut c = Client::start(&env);
    assert_eq!(ids(&c.tool(2, "coord_list_todos", json!({"assignee": "@me"}))["items"]), ["TODO-004"]);
    drop(c);
    // Nobody configured: an error naming the flag, not an empty list.
    env.git(&["config", "--unset", "coord.user"]).ok();
    let cfg = env.root.parent().unwrap().join("home/.gitconfig");
    std::fs::write(&cfg, "[init]\n\tdefaultBranch = main\n").unwrap();
    let err = env.coord(&["list-todos", "--assignee", "@me"]).fails(1).to_string();
    assert!(err.contains("--assignee") && err.contains("user.email"), "{err}");
}

#[test]
fn relative_dates_resolve_against_now_and_weeks_estimate_five_days() {
    let env = TestEnv::with_ecosystem();
    assert_eq!(TODAY, "2026-03-01"); // a Sunday
    let cases = [
        ("tomorrow", "2026-03-02"),
        ("today", "2026-03-01"),
        ("+2w", "2026-03-15"),
        ("+3d", "2026-03-04"),
        ("next monday", "2026-03-02"),
        ("sunday", "2026-03-08"),
        ("2026-12-24", "2026-12-24"),
    ];
    for (given, want) in cases {
        let e =
            env.coord(&["create-issue", "--title", given, "--repos", "vishnu", "--target", given, "--format", "json"]);
        assert_eq!(e.entity()["target"], want, "--target {given}");
    }
    let err = env
        .coord(&["create-issue", "--title", "x", "--repos", "vishnu", "--target", "tomorrowish"])
        .fails(2)
        .to_string();
    assert!(err.contains("tomorrowish") && err.contains("+2w"), "{err}");
    let w = env.coord(&["create-todo", "--repo", "vishnu", "--task", "w", "--estimate", "2w", "--format", "json"]);
    assert_eq!(w.entity()["estimated_hours"], 80); // 2 × 5 days × 8 hours
    let p = env.coord(&["create-plan", "--title", "P", "--milestone", "M1:+1w", "--format", "json"]).entity();
    assert_eq!(p["milestones"][0]["due"], "2026-03-08");
    let mut c = Client::start(&env);
    let r = c.tool(2, "coord_update_issue", json!({"id": "ISSUE-002", "target": "+1w"}));
    assert_eq!(r["entity"]["target"], "2026-03-08");
}

#[test]
fn show_finds_any_kind_by_id() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-plan", "--title", "Q2", "--milestone", "M1:2026-04-01"]).ok();
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "buddy"]).ok();
    for (id, kind) in [("issue-1", "issue"), ("TODO-001", "todo"), ("plan-1", "plan"), ("DEP-001", "dependency")] {
        let v = env.coord(&["show", id, "--format", "json"]).json();
        assert_eq!(v["kind"], kind, "{id}: {v}");
    }
    let table = env.coord(&["show", "TODO-001"]).ok().to_string();
    assert!(table.contains("Legacy todo"), "{table}");
    let err = env.coord(&["show", "ISSUE-042"]).fails(1).to_string();
    assert!(err.contains("ISSUE-042"), "{err}");
    let err = env.coord(&["show", "nothing-here"]).fails(1).to_string();
    assert!(err.contains("nothing-here"), "{err}");
}

#[test]
fn comment_appends_a_dated_attributed_note_shown_by_show() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["init"]).ok();
    env.coord(&["create-issue", "--title", "A", "--repos", "vishnu"]).ok();
    env.commit_all("issue");
    env.coord(&["comment", "issue-2", "-m", "first: with a colon"]).ok();
    // Only lines are added (plus nothing else: `updated` is already today).
    let changed = env.changed_lines();
    assert!(changed.iter().all(|l| l.starts_with('+')), "{changed:?}");
    env.coord(&["comment", "ISSUE-002", "--message", "second"]).ok();
    let v = env.coord(&["show", "ISSUE-002", "--format", "json"]).entity();
    let comments = v["comments"].as_array().expect("comments");
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[0]["text"], "first: with a colon");
    assert_eq!(comments[0]["author"], "Test User <test@example.com>");
    assert!(comments[0]["date"].as_str().unwrap().starts_with(TODAY), "{v}");
    let table = env.coord(&["show", "ISSUE-002"]).ok().to_string();
    assert!(table.contains("comments:") && table.contains("second"), "{table}");
    env.coord(&["lint"]).ok();
    // Todos and plans take comments; dependencies and empty notes do not.
    env.coord(&["create-todo", "--repo", "vishnu", "--task", "t"]).ok();
    env.coord(&["comment", "TODO-002", "-m", "on a todo"]).ok();
    env.coord(&["create-plan", "--title", "P"]).ok();
    env.coord(&["comment", "PLAN-001", "-m", "on a plan"]).ok();
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "buddy"]).ok();
    let err = env.coord(&["comment", "DEP-001", "-m", "x"]).fails(1).to_string();
    assert!(err.contains("dependencies"), "{err}");
    env.coord(&["comment", "TODO-002", "-m", "  "]).fails(1);
    // MCP
    let mut c = Client::start(&env);
    let r = c.tool(2, "coord_comment", json!({"id": "PLAN-001", "message": "from an agent"}));
    assert_eq!(r["entity"]["comments"][1]["text"], "from an agent");
    let r = c.tool(3, "coord_show", json!({"id": "todo-2"}));
    assert_eq!(r["entity"]["comments"][0]["text"], "on a todo");
}

#[test]
fn comments_from_both_branches_survive_a_real_merge() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["init"]).ok();
    env.coord(&["create-issue", "--title", "A", "--repos", "vishnu"]).ok();
    env.coord(&["comment", "ISSUE-002", "-m", "base note"]).ok();
    env.commit_all("base");
    env.git(&["checkout", "-q", "-b", "side"]).ok();
    env.coord(&["comment", "ISSUE-002", "-m", "theirs note"]).ok();
    env.commit_all("theirs");
    env.git(&["checkout", "-q", "main"]).ok();
    env.coord(&["comment", "ISSUE-002", "-m", "ours note"]).ok();
    env.commit_all("ours");
    env.git(&["merge", "--no-edit", "side"]).ok();
    let v = env.coord(&["show", "ISSUE-002", "--format", "json"]).entity();
    let texts: Vec<&str> = v["comments"].as_array().unwrap().iter().map(|c| c["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["base note", "ours note", "theirs note"]);
    assert!(!env.read("coordination/issues/ISSUE-002.yaml").contains("<<<<<<<"));
}

/// A scripted editor: `sh` run by `edit` as `$EDITOR FILE`.
fn editor(env: &TestEnv, name: &str, body: &str) -> String {
    let p = env.root.parent().unwrap().join(name);
    std::fs::write(&p, format!("#!/bin/sh\nset -e\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p.display().to_string()
}

#[test]
fn edit_opens_the_file_validates_and_reopens_with_the_error() {
    let mut env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Before", "--repos", "vishnu"]).ok();
    let path = "coordination/issues/ISSUE-002.yaml";
    let before = env.read(path);
    // 1. A valid change is written as saved.
    let ed = editor(&env, "ok.sh", r#"sed -i 's/^title: Before$/title: After # edited/' "$1""#);
    env.set_env("EDITOR", &ed);
    env.coord(&["edit", "issue-2"]).ok();
    assert!(env.read(path).contains("title: After # edited"));
    // 2. Invalid first (a list where a text goes), fixed on the second
    //    round; the second round sees the error on top.
    let log = env.root.parent().unwrap().join("seen.txt");
    let body = format!(
        r#"n=$(cat "{c}" 2>/dev/null || echo 0); echo $((n+1)) > "{c}"
cat "$1" >> "{log}"
if [ "$n" = 0 ]; then sed -i 's/^title: .*/title: [a, b]/' "$1"; else sed -i -e '/^# git-coord: /d' -e 's/^title: .*/title: Fixed/' "$1"; fi"#,
        c = env.root.parent().unwrap().join("count").display(),
        log = log.display()
    );
    env.set_env("EDITOR", &editor(&env, "twice.sh", &body));
    env.coord(&["edit", "ISSUE-002"]).ok();
    assert!(env.read(path).contains("title: Fixed"));
    let seen = std::fs::read_to_string(&log).unwrap();
    assert!(seen.contains("# git-coord: ISSUE-002 was not saved") && seen.contains("title"), "{seen}");
    // 3. Saved unchanged: cancelled, nothing written.
    let now = env.read(path);
    env.set_env("EDITOR", &editor(&env, "noop.sh", "true"));
    let r = env.coord(&["edit", "ISSUE-002"]);
    assert!(r.ok().is_empty() && r.stderr.contains("no changes"), "{r:?}");
    assert_eq!(env.read(path), now);
    // 4. Emptied: aborted.
    env.set_env("EDITOR", &editor(&env, "empty.sh", r#": > "$1""#));
    assert!(env.coord(&["edit", "ISSUE-002"]).stderr.contains("aborted"));
    assert_eq!(env.read(path), now);
    // 5. Always invalid (and saved unchanged after the error): aborted, exit 1.
    env.set_env(
        "EDITOR",
        &editor(&env, "bad.sh", r#"sed -i -e '/^# git-coord: /d' -e 's/^status: .*/status: [x]/' "$1""#),
    );
    let err = env.coord(&["edit", "ISSUE-002"]).fails(1).to_string();
    assert!(err.contains("aborted"), "{err}");
    assert_eq!(env.read(path), now);
    // 6. The ID may not change; core.editor comes before EDITOR, as in git.
    let renamer = editor(&env, "rename.sh", r#"sed -i -e '/^# git-coord: /d' -e 's/^id: .*/id: ISSUE-099/' "$1""#);
    env.git(&["config", "core.editor", &renamer]).ok();
    let err = env.coord(&["edit", "ISSUE-002"]).fails(1).to_string();
    assert!(err.contains("aborted"), "{err}");
    assert_eq!(env.read(path), now);
    assert_ne!(before, now);
}

#[test]
fn add_repo_appends_with_a_minimal_diff_and_refuses_taken_names() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["add-repo", "crackerjack", "--path", "../crackerjack", "--role", "memory", "--nickname", "cj"]).ok();
    let changed = env.changed_lines();
    assert!(changed.iter().all(|l| l.starts_with('+')), "only added lines: {changed:?}");
    assert!(changed.iter().any(|l| l.contains("name: crackerjack")), "{changed:?}");
    assert!(env.read("settings/ecosystem.yaml").starts_with("# The example ecosystem\n"));
    let repos = env.coord(&["list-repos", "--format", "json"]).json();
    assert!(repos.to_string().contains("crackerjack"), "{repos}");
    env.coord(&["create-issue", "--title", "x", "--repos", "cj"]).ok();
    env.coord(&["lint"]).ok();
    let err = env.coord(&["add-repo", "Vishnu"]).fails(1).to_string();
    assert!(err.contains("mahavishnu"), "{err}");
    let err = env.coord(&["add-repo", "new", "--nickname", "sb"]).fails(1).to_string();
    assert!(err.contains("--nickname") && err.contains("session-buddy"), "{err}");
    env.coord(&["add-repo", "bad name"]).fails(1);
    let mut c = Client::start(&env);
    let r = c.tool(2, "coord_add_repo", json!({"name": "oneiric-2", "path": "../o2"}));
    assert_eq!(r["name"], "oneiric-2");
    assert!(env.read("settings/ecosystem.yaml").contains("name: oneiric-2"));
}

/// The README's Quickstart code block, as written.
fn quickstart() -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let at = readme.find("## Quickstart").expect("README has a Quickstart");
    let rest = &readme[at..];
    let start = rest.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let end = rest[start..].find("```").expect("closed block");
    rest[start..start + end].to_string()
}

#[test]
fn readme_quickstart_runs_as_written() {
    let env = TestEnv::new();
    let block = quickstart();
    assert!(block.contains("git coord sync"), "{block}");
    // What the Quickstart assumes: a clone of a (here empty) shared repository.
    env.git(&["init", "-q", "--bare", "remote.git"]).ok();
    env.git(&["clone", "-q", "remote.git", "my-ecosystem-repo"]).ok();
    let r = env.sh(&format!("set -e\n{block}"), &[]);
    assert_eq!(r.code, 0, "the Quickstart failed\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    // The sync pushed the work to the shared repository.
    let shown =
        env.git(&["--git-dir", "remote.git", "show", "main:coordination/issues/ISSUE-001.yaml"]).ok().to_string();
    assert!(shown.contains("Python 3.13") && shown.contains("CI images need 3.13 first"), "{shown}");
    let eco = env.git(&["--git-dir", "remote.git", "show", "main:settings/ecosystem.yaml"]).ok().to_string();
    assert!(eco.contains("name: session-buddy"), "{eco}");
}

#[test]
fn colour_follows_git_color_ui_and_no_color_wins() {
    let mut env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "x", "--repos", "vishnu", "--priority", "P0"]).ok();
    env.set_env("NO_COLOR", "");
    // Piped, color.ui unset: no escape codes.
    assert!(!env.coord(&["list-issues"]).ok().contains('\x1b'));
    env.git(&["config", "color.ui", "always"]).ok();
    assert!(env.coord(&["list-issues"]).ok().contains("\x1b["), "color.ui=always colours a pipe too");
    env.set_env("NO_COLOR", "1");
    assert!(!env.coord(&["list-issues"]).ok().contains('\x1b'), "NO_COLOR wins");
    env.set_env("NO_COLOR", "");
    env.git(&["config", "color.ui", "never"]).ok();
    env.set_env("CLICOLOR_FORCE", "1");
    assert!(!env.coord(&["list-issues"]).ok().contains('\x1b'), "color.ui=never");
}

#[test]
fn tables_measure_wide_characters_in_terminal_cells() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-todo", "--repo", "vishnu", "--task", "移行 🚀", "--assignee", "山田太郎"]).ok();
    env.coord(&["create-todo", "--repo", "vishnu", "--task", "plain", "--assignee", "bob"]).ok();
    let out = env.coord(&["list-todos"]).ok().to_string();
    // The TASK column starts at the same terminal column on every line.
    let starts: Vec<usize> = out
        .lines()
        .map(|l| {
            let at = ["TASK", "移行", "plain"].iter().find_map(|w| l.find(w)).unwrap_or_else(|| panic!("{l}"));
            unicode_width::UnicodeWidthStr::width(&l[..at])
        })
        .collect();
    assert!(starts.windows(2).all(|w| w[0] == w[1]), "{starts:?}\n{out}");
}

#[test]
fn slow_commands_draw_no_progress_when_not_on_a_terminal() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "buddy", "--version-constraint", ">=1"]).ok();
    env.commit_all("dep");
    let runs: [&[&str]; 3] = [&["log"], &["check-deps"], &["migrate", "--dry-run"]];
    for args in runs {
        let r = env.coord(args);
        // A spinner redraws with `\r` and escape codes; a pipe gets neither.
        assert!(!r.stderr.contains('\r') && !r.stderr.contains('\x1b'), "{args:?}: {:?}", r.stderr);
        assert!(!r.stdout.contains('\r'), "{args:?}: {:?}", r.stdout);
    }
}

#[test]
fn edit_picks_the_editor_in_gits_order() {
    let mut env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Start", "--repos", "vishnu"]).ok();
    let path = "coordination/issues/ISSUE-002.yaml";
    let setter = |env: &TestEnv, who: &str| {
        editor(env, &format!("{who}.sh"), &format!(r#"sed -i 's/^title: .*/title: by {who}/' "$1""#))
    };
    // git's order (`git var GIT_EDITOR`): EDITOR, VISUAL over it, then
    // core.editor, then GIT_EDITOR.
    let ed = setter(&env, "editor");
    env.set_env("EDITOR", &ed);
    env.coord(&["edit", "ISSUE-002"]).ok();
    assert!(env.read(path).contains("title: by editor"));
    // git reads VISUAL only on a terminal that is not dumb (TERM set).
    let visual = setter(&env, "visual");
    env.set_env("VISUAL", &visual);
    env.coord(&["edit", "ISSUE-002"]).ok();
    assert!(env.read(path).contains("title: by editor"), "no TERM: VISUAL is not read, as in git");
    env.set_env("TERM", "xterm");
    env.coord(&["edit", "ISSUE-002"]).ok();
    assert!(env.read(path).contains("title: by visual"));
    let core = setter(&env, "core");
    env.git(&["config", "core.editor", &core]).ok();
    env.coord(&["edit", "ISSUE-002"]).ok();
    assert!(env.read(path).contains("title: by core"));
    let git_editor = setter(&env, "git-editor");
    env.set_env("GIT_EDITOR", &git_editor);
    env.coord(&["edit", "ISSUE-002"]).ok();
    assert!(env.read(path).contains("title: by git-editor"));
}

#[test]
fn init_writes_a_starter_ecosystem_and_says_what_to_commit() {
    let env = TestEnv::new();
    let out = env.coord(&["init"]).ok().to_string();
    assert!(out.contains("created settings/ecosystem.yaml"), "{out}");
    assert!(
        out.contains("git add .gitattributes .gitignore settings coordination && git commit"),
        "init tells the user to commit the setup:\n{out}"
    );
    let eco = env.read("settings/ecosystem.yaml");
    assert!(eco.contains("repos: []") && eco.contains("git coord add-repo"), "{eco}");
    // The starter file is valid and add-repo fills it.
    env.coord(&["lint"]).ok();
    env.coord(&["add-repo", "api", "--path", "../api"]).ok();
    assert_eq!(env.coord(&["list-repos", "--format", "json"]).json()["items"][0]["name"], "api");
    // A second init keeps the file (and says nothing is left to do for it).
    env.coord(&["init"]).ok();
    assert!(env.read("settings/ecosystem.yaml").contains("name: api"));
}
