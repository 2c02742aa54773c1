//! Todos end to end: estimates, links and blockers, completion, legacy
//! aliases, filters and deletion.

use crate::env::{TestEnv, ids, json};

#[test]
fn todos_take_estimates_in_days_hours_and_minutes() {
    let env = TestEnv::with_ecosystem();
    for (est, hours) in [("3d", 24.0), ("4h", 4.0), ("90m", 1.5), ("2.5", 2.5)] {
        let t = json(&env, &["create-todo", "--task", "T", "--repo", "sb", "--estimate", est]);
        assert_eq!(t["estimated_hours"].as_f64(), Some(hours), "{est}");
        assert_eq!(t["repo"], "session-buddy", "nickname stored as the canonical name");
    }
    for bad in ["0", "-2h", "abc", "0d"] {
        let err = env.coord(&["create-todo", "--task", "T", "--repo", "sb", "--estimate", bad]).fails(2).to_string();
        assert!(err.contains("estimate"), "{bad}: {err}");
    }
}

#[test]
fn todos_link_and_block_and_complete() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-plan", "--title", "P", "--milestone", "M1:2026-04-01"]).ok();
    let t = json(
        &env,
        &[
            "create-todo",
            "--task",
            "Build",
            "--repo",
            "oneiric",
            "--blocked-by",
            "ISSUE-001,TODO-001",
            "--plan",
            "PLAN-001",
            "--milestone",
            "MILESTONE-001",
            "--issue",
            "ISSUE-001",
            "--priority",
            "P0",
            "--criterion",
            "tests pass",
        ],
    );
    assert_eq!(t["id"], "TODO-002", "TODO-001 is in the legacy section");
    assert_eq!(t["blocked_by"], serde_json::json!(["ISSUE-001", "TODO-001"]));
    assert_eq!(t["priority"], "critical");
    assert_eq!(t["acceptance_criteria"], serde_json::json!(["tests pass"]));
    for (flag, bad, what) in [
        ("--blocked-by", "TODO-404", "unknown reference `TODO-404`"),
        ("--plan", "PLAN-404", "--plan: unknown reference `PLAN-404` (expected the ID of an existing plan"),
        ("--milestone", "MILESTONE-404", "expected the ID of an existing milestone"),
    ] {
        let err = env.coord(&["create-todo", "--task", "X", "--repo", "oneiric", flag, bad]).fails(1).to_string();
        assert!(err.contains(what), "{flag}: {err}");
    }
    env.commit_all("todo");
    assert_eq!(
        env.coord(&["complete-todo", "TODO-002", "--actual-hours", "5"]).ok(),
        "completed TODO-002 in 5h (coordination/todos/TODO-002.yaml)\n"
    );
    assert_eq!(env.changed_lines(), ["-status: pending", "+status: completed", "+actual_hours: 5"]);
    env.commit_all("done");
    env.coord(&["update-todo", "TODO-002", "--unblock", "TODO-001", "--add-label", "x"]).ok();
    assert_eq!(env.changed_lines(), ["-- TODO-001", "+labels:", "+- x"]);
    let err = env.coord(&["update-todo", "TODO-002", "--blocked-by", "TODO-002"]).fails(1).to_string();
    assert!(err.contains("TODO-002 cannot reference itself"), "{err}");
}

#[test]
fn legacy_todo_aliases_load() {
    let env = TestEnv::with_ecosystem();
    let t = json(&env, &["show-todo", "TODO-001"]);
    assert_eq!(t["task"], "Legacy todo", "title stands in for task");
    assert_eq!(t["status"], "completed", "done → completed");
    assert_eq!(t["estimated_hours"].as_f64(), Some(4.0), "estimate_hours → estimated_hours");
    let ids: Vec<String> = json(&env, &["list-todos", "--repo", "session-buddy", "--status", "complete"])
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["TODO-001"], "repo nickname in the file matches the canonical filter");
    env.write(
        "coordination/todos/TODO-005.yaml",
        "id: TODO-005\ntitle: Tagged\nrepo: oneiric\nstatus: todo\ntags: [a]\n",
    );
    let t = json(&env, &["show-todo", "TODO-005"]);
    assert_eq!(t["labels"], serde_json::json!(["a"]));
    assert_eq!(t["status"], "pending");
}

#[test]
fn todos_filter_by_plan_and_issue_and_delete_guarded() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-plan", "--title", "P"]).ok();
    env.coord(&["create-todo", "--task", "A", "--repo", "oneiric", "--plan", "PLAN-001", "--issue", "ISSUE-001"]).ok();
    env.coord(&["create-todo", "--task", "B", "--repo", "oneiric", "--blocked-by", "TODO-002", "--label", "ui"]).ok();
    assert_eq!(ids(&json(&env, &["list-todos", "--plan", "plan-1"])), ["TODO-002"], "IDs match like show-*");
    assert_eq!(ids(&json(&env, &["list-todos", "--issue", "ISSUE-001", "--repo", "oneiric"])), ["TODO-002"]);
    assert_eq!(ids(&json(&env, &["list-todos", "--label", "UI"])), ["TODO-003"]);
    assert_eq!(ids(&json(&env, &["list-todos", "--status", "todo", "--priority", "P2"])), ["TODO-002", "TODO-003"]);
    assert_eq!(env.coord(&["list-todos", "--plan", "PLAN-009"]).ok(), "no todos\n");
    let table = env.coord(&["list-todos", "--plan", "PLAN-001"]).ok().to_string();
    insta::assert_snapshot!(table, @r"
    ID        STATUS   PRIORITY  REPO     EST  ASSIGNEE  TASK
    TODO-002  pending  medium    oneiric                 A
    ");
    env.commit_all("todos");
    assert_eq!(
        env.coord(&["update-todo", "TODO-003"]).ok(),
        "nothing to update for TODO-003 (no change was asked for; see --help)\n"
    );
    let err = env.coord(&["delete-todo", "TODO-002"]).fails(1).to_string();
    assert!(err.contains("TODO-002 is referenced by TODO-003"), "{err}");
    assert!(env.exists("coordination/todos/TODO-002.yaml"));
    env.coord(&["delete-todo", "TODO-002", "--force"]).ok();
    assert!(!env.exists("coordination/todos/TODO-002.yaml"));
}
