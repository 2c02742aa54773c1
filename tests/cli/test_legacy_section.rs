//! Issue 11, point 10: the legacy `coordination:` section read as the
//! Python tool that wrote it reads it — a todo without `repo` takes its
//! issue's (or its `pool`), a todo without `task`/`title` takes its
//! `description` — in lint, reports, `migrate` and writes alike. Tests are
//! named `point10_*`.

use crate::env::TestEnv;

const LEGACY: &str = r#"repos:
  - name: harbor
    nicknames: [hb]
    path: ../harbor
  - name: lighthouse
    nickname: lh
    path: ../lighthouse

coordination:
  issues:
    - id: ISSUE-001
      title: Legacy issue
      status: open
      priority: P1
      repos: [lh, harbor]
  todos:
    - id: TODO-001
      title: Repo from the issue
      issue_id: ISSUE-001
      status: pending
    - id: TODO-002
      description: Only a description
      pool: hb
      status: pending
    - id: TODO-003
      task: Nowhere to take a repo from
      status: pending
"#;

fn env() -> TestEnv {
    let env = TestEnv::new();
    env.write("settings/ecosystem.yaml", LEGACY);
    env.commit_all("legacy ecosystem");
    env
}

#[test]
fn point10_a_legacy_todo_takes_its_repo_from_its_issue_or_pool() {
    let env = env();
    let todos = env.coord(&["list-todos", "--format", "json"]).items();
    let repo = |id: &str| todos.as_array().unwrap().iter().find(|t| t["id"] == id).unwrap()["repo"].clone();
    // The issue says `lh`: reported by its canonical name.
    assert_eq!(repo("TODO-001"), "lighthouse");
    assert_eq!(repo("TODO-002"), "harbor");

    // Lint: only the todo with no way to a repository lacks one.
    let lint = env.coord(&["lint", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&lint.stdout).unwrap();
    let repo_errors: Vec<String> = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["field"] == "repo")
        .map(|p| p["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(repo_errors, ["TODO-003"], "{report}");

    // status REPO counts them (by name or nickname).
    let st = env.coord(&["status", "lh", "--format", "json"]).json();
    assert!(st.to_string().contains("TODO-001"), "status lighthouse misses TODO-001: {st}");
    let st = env.coord(&["status", "harbor", "--format", "json"]).json();
    assert!(st.to_string().contains("TODO-002"), "status harbor misses TODO-002: {st}");

    // complete-todo works on them, in place: a minimal edit of the item (no
    // `repo:` written into it, no rewrite warning).
    let run = env.coord(&["complete-todo", "TODO-001"]);
    run.ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let changed = env.changed_lines();
    assert!(changed.iter().all(|l| !l.contains("repo")), "{changed:#?}");
    assert!(changed.contains(&"+      status: completed".to_string()), "{changed:#?}");
    assert!(changed.len() <= 3, "status changed and `updated` added: {changed:#?}");
}

#[test]
fn point10_a_legacy_todo_without_task_or_title_takes_its_description() {
    let env = env();
    let t = env.coord(&["show-todo", "TODO-002", "--format", "json"]).entity();
    assert_eq!(t["task"], "Only a description");
    let lint = env.coord(&["lint", "--format", "json"]).stdout;
    assert!(!lint.contains("TODO-002"), "TODO-002 is fine as written: {lint}");
    // A todo with none of them is still an error.
    env.write("settings/ecosystem.yaml", &LEGACY.replace("      description: Only a description\n", ""));
    let lint = env.coord(&["lint", "--format", "json"]).stdout;
    assert!(lint.contains("TODO-002") && lint.contains("task"), "{lint}");
}

#[test]
fn point10_migrate_writes_the_taken_repo_never_an_empty_one() {
    let env = env();
    env.write(
        "settings/ecosystem.yaml",
        &LEGACY.replace("    - id: TODO-003\n      task: Nowhere to take a repo from\n      status: pending\n", ""),
    );
    env.coord(&["migrate"]).ok();
    let t1 = env.read("coordination/todos/TODO-001.yaml");
    let t2 = env.read("coordination/todos/TODO-002.yaml");
    assert!(t1.contains("repo: lighthouse\n"), "{t1}");
    assert!(t2.contains("repo: harbor\n") && t2.contains("task: Only a description\n"), "{t2}");
    for text in [&t1, &t2] {
        assert!(!text.contains("repo: ''") && !text.contains("repo: \"\""), "{text}");
    }
    env.coord(&["lint"]).ok();
}
