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

#[test]
fn point10_nicknames_in_legacy_data_are_reported_by_canonical_name() {
    let env = env();
    env.write(
        "settings/ecosystem.yaml",
        &format!(
            "{LEGACY}  dependencies:\n    - id: DEP-001\n      consumer: lh\n      provider: hb\n      status: satisfied\n"
        ),
    );
    env.commit_all("a legacy dependency by nicknames");
    // JSON of show and list, and the table.
    let issue = env.coord(&["show-issue", "ISSUE-001", "--format", "json"]).entity();
    assert_eq!(issue["repos"], serde_json::json!(["lighthouse", "harbor"]));
    let listed = env.coord(&["list-issues", "--format", "json"]).items();
    assert_eq!(listed[0]["repos"], serde_json::json!(["lighthouse", "harbor"]));
    let table = env.coord(&["list-issues"]).ok().to_string();
    assert!(table.contains("lighthouse") && !table.contains("lh,"), "{table}");
    let dep = env.coord(&["show-dep", "DEP-001", "--format", "json"]).entity();
    assert_eq!((dep["consumer"].as_str(), dep["provider"].as_str()), (Some("lighthouse"), Some("harbor")));
    let yaml = env.coord(&["list-deps", "--all", "--format", "yaml"]).ok().to_string();
    assert!(yaml.contains("consumer: lighthouse") && yaml.contains("provider: harbor"), "{yaml}");
    // status by the canonical name finds the issue.
    let st = env.coord(&["status", "lighthouse", "--format", "json"]).json();
    assert!(st.to_string().contains("ISSUE-001"), "{st}");
    // An unrelated write leaves the nicknames as written, and it is a
    // minimal edit: only the status line and `updated`.
    let run = env.coord(&["update-issue", "ISSUE-001", "--status", "in_progress"]);
    run.ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
    let eco = env.read("settings/ecosystem.yaml");
    assert!(eco.contains("repos: [lh, harbor]"), "{eco}");
    let changed = env.changed_lines();
    assert!(changed.iter().all(|l| !l.contains("repos") && !l.contains("lighthouse")), "{changed:#?}");
    env.coord(&["update-dep", "DEP-001", "--status", "unsatisfied"]).ok();
    let eco = env.read("settings/ecosystem.yaml");
    assert!(eco.contains("consumer: lh\n") && eco.contains("provider: hb\n"), "{eco}");
    // migrate writes the canonical names.
    let snapshot = env.read("settings/ecosystem.yaml");
    env.coord(&["migrate"]).ok();
    let i = env.read("coordination/issues/ISSUE-001.yaml");
    assert!(i.contains("- lighthouse\n") && !i.contains("- lh\n"), "{i}");
    let d = env.read("coordination/dependencies/DEP-001.yaml");
    assert!(d.contains("consumer: lighthouse\n") && d.contains("provider: harbor\n"), "{d}");
    // A change of the list itself edits it item by item, in its flow style:
    // the nickname that stays is left as written.
    env.write("settings/ecosystem.yaml", &snapshot);
    std::fs::remove_dir_all(env.root.join("coordination")).unwrap();
    env.coord(&["update-issue", "ISSUE-001", "--remove-repo", "harbor"]).ok();
    assert!(env.read("settings/ecosystem.yaml").contains("repos: [lh]\n"), "{}", env.read("settings/ecosystem.yaml"));
}

/// Line of the first line of `text` containing `needle` (1-based).
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).expect(needle) as u64 + 1
}

#[test]
fn point10_lint_names_each_legacy_entitys_own_line() {
    let env = TestEnv::new();
    // TODO-001: `priority` sorted before `id:` and bad; `task` missing.
    // TODO-002, right after, has both a task and a priority: its lines must
    // never be reported for TODO-001.
    let eco = "repos:\n  - name: api\n    path: ../api\n\ncoordination:\n  todos:\n    - priority: urgent-ish\n      id: TODO-001\n      repo: api\n      status: pending\n    - id: TODO-002\n      task: Second\n      priority: high\n      repo: api\n      status: pending\n    - status: nonsense\n      id: TODO-003\n      task: Third\n      repo: api\n";
    env.write("settings/ecosystem.yaml", eco);
    env.commit_all("legacy");
    let run = env.coord(&["lint", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let problems = report["problems"].as_array().unwrap();
    let line = |id: &str, field: &str| -> u64 {
        problems
            .iter()
            .find(|p| p["id"] == id && p["field"] == field)
            .unwrap_or_else(|| panic!("no {id}.{field} problem: {report}"))["line"]
            .as_u64()
            .unwrap_or_else(|| panic!("{id}.{field} has no line: {report}"))
    };
    assert_eq!(line("TODO-001", "priority"), line_of(eco, "priority: urgent-ish"), "a field before `id:`");
    assert_eq!(line("TODO-001", "task"), line_of(eco, "id: TODO-001"), "a missing field: the entity's own line");
    assert_eq!(line("TODO-003", "status"), line_of(eco, "status: nonsense"));
    // The text report says the same.
    let text = env.coord(&["lint"]).stdout;
    assert!(text.contains(&format!("settings/ecosystem.yaml:{}", line_of(eco, "id: TODO-001"))), "{text}");
}

const PYTHON_STYLE: &str = r#"repos:
  - name: api
    path: ../api
  - name: infra
    path: ../infra
  - name: db
    path: ../db

coordination:
  plans:
    - id: PLAN-001
      title: Legacy plan
      status: active
      created: '2026-01-10T09:30:00'
      updated: '2026-01-15T00:00:00'
  dependencies:
    - id: DEP-001
      consumer: api
      provider: infra
      version_constraint: '>=2.0'
      status: unsatisfied
      created_at: '2026-01-05T08:00:00.123456'
    - id: DEP-002
      consumer: api
      provider: db
      status: satisfied
      created_at: '2026-01-06T08:00:00.5'
      updated_at: "2026-01-07T10:11:12.250000"
"#;

#[test]
fn point10_a_write_into_the_legacy_section_keeps_its_timestamp_style() {
    let env = TestEnv::new();
    env.write("settings/ecosystem.yaml", PYTHON_STYLE);
    env.commit_all("python-written ecosystem");
    // `updated` replaced: still a quoted string timestamp of the same form
    // (never the bare date `updated: 2026-03-01`).
    env.coord(&["update-plan", "PLAN-001", "--status", "completed"]).ok();
    let changed = env.changed_lines();
    assert!(changed.contains(&"+      updated: '2026-03-01T12:00:00'".to_string()), "{changed:#?}");
    assert!(changed.iter().all(|l| !l.contains("created")), "created untouched: {changed:#?}");
    // `updated` added to an item without one: under the key, quotes and
    // form its section uses (DEP-002's `updated_at`, double quotes, six
    // fraction digits).
    env.coord(&["update-dep", "DEP-001", "--status", "satisfied"]).ok();
    let eco = env.read("settings/ecosystem.yaml");
    assert!(eco.contains("created_at: '2026-01-05T08:00:00.123456'"), "fraction kept:\n{eco}");
    let dep1 = &eco[eco.find("id: DEP-001").unwrap()..eco.find("id: DEP-002").unwrap()];
    assert!(dep1.contains("updated_at: \"2026-03-01T12:00:00.000000\""), "{dep1}");
    // A replaced double-quoted value keeps its quotes and fraction digits.
    env.coord(&["update-dep", "DEP-002", "--status", "unsatisfied"]).ok();
    let eco = env.read("settings/ecosystem.yaml");
    assert!(eco.contains("updated_at: \"2026-03-01T12:00:00.000000\""), "{eco}");
    assert!(eco.contains("created_at: '2026-01-06T08:00:00.5'"), "{eco}");
    // Read back: fractional seconds are reported, not dropped.
    let dep = env.coord(&["show-dep", "DEP-001", "--format", "json"]).entity();
    assert_eq!(dep["created"], "2026-01-05T08:00:00.123456", "{dep}");
    // migrate keeps them too.
    env.coord(&["migrate"]).ok();
    let d1 = env.read("coordination/dependencies/DEP-001.yaml");
    assert!(d1.contains("2026-01-05T08:00:00.123456"), "{d1}");
    let d2 = env.read("coordination/dependencies/DEP-002.yaml");
    assert!(d2.contains("2026-01-06T08:00:00.5"), "{d2}");
    env.coord(&["lint"]).ok();
}

#[test]
fn point10_legacy_reports_into_a_closed_pipe_are_success() {
    let env = TestEnv::new();
    let mut eco = String::from("repos:\n  - name: api\n    nickname: a\n    path: ../api\ncoordination:\n  todos:\n");
    for i in 1..=1200 {
        eco.push_str(&format!(
            "    - id: TODO-{i:04}\n      task: Legacy todo {i} with a task long enough to fill a pipe buffer\n      pool: a\n      status: pending\n"
        ));
    }
    env.write("settings/ecosystem.yaml", &eco);
    env.commit_all("many legacy todos");
    for cmd in ["list-todos", "list-todos --format json", "lint", "status a"] {
        let run = env.sh(&format!("{{ git coord {cmd}; echo $? > rc; }} | head -1"), &[]);
        assert_eq!(run.code, 0, "{cmd}: {run:?}");
        assert!(!run.stderr.contains("Broken pipe") && !run.stderr.contains("error"), "{cmd}: {}", run.stderr);
        assert_eq!(env.read("rc").trim(), "0", "{cmd}: git coord exited non-zero");
    }
}

#[test]
fn point11_renumbering_a_legacy_milestone_is_a_minimal_edit_in_the_sections_style() {
    let env = TestEnv::new();
    env.write("settings/ecosystem.yaml", include_str!("../../settings/ecosystem.yaml"));
    env.commit_all("the shipped example");
    env.coord(&["renumber", "MILESTONE-002", "--to", "MILESTONE-009"]).ok();
    let changed = env.changed_lines();
    // The milestone's id, the todo that names it, and `updated` of both
    // items that changed — quoted like the section's other dates.
    assert_eq!(changed.len(), 7, "{changed:#?}");
    for line in ["-        - id: MILESTONE-002", "+        - id: MILESTONE-009", "+      milestone_id: MILESTONE-009"] {
        assert!(changed.contains(&line.to_string()), "{line}: {changed:#?}");
    }
    let stamps: Vec<&String> = changed.iter().filter(|l| l.starts_with('+') && l.contains("updated:")).collect();
    assert_eq!(stamps.len(), 2, "{changed:#?}");
    assert!(stamps.iter().all(|l| l.ends_with("updated: \"2026-03-01\"")), "{changed:#?}");
    env.coord(&["lint"]).ok();
}

#[test]
fn point10_a_write_never_adds_completed_at_to_an_open_item() {
    let env = TestEnv::new();
    env.write(
        "settings/ecosystem.yaml",
        "repos:\n  - name: api\n    path: ../api\ncoordination:\n  todos:\n    - id: TODO-001\n      task: Done\n      repo: api\n      status: completed\n      completed_at: '2026-01-15T10:00:00'\n    - id: TODO-002\n      task: Open\n      repo: api\n      status: pending\n",
    );
    env.commit_all("legacy");
    env.coord(&["update-todo", "TODO-002", "--priority", "high"]).ok();
    let changed = env.changed_lines();
    // `completed_at` says the todo was completed: its form and quotes are
    // the section's, its name is not.
    assert!(changed.contains(&"+      updated: '2026-03-01T12:00:00'".to_string()), "{changed:#?}");
    assert!(changed.iter().all(|l| !l.contains("completed_at")), "{changed:#?}");
}
