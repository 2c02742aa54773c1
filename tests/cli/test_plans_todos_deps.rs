//! Plans with milestones, todos and dependencies end to end: creation with
//! generated IDs, estimates, links, aliases, minimal diffs and validation.

use crate::env::TestEnv;

fn json(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let mut full = args.to_vec();
    full.extend_from_slice(&["--format", "json"]);
    env.coord(&full).json()
}

#[test]
fn plans_get_milestones_with_ids_unique_across_plans() {
    let env = TestEnv::with_ecosystem();
    let out = env.coord(&[
        "create-plan",
        "--title",
        "Q2",
        "--repos",
        "vishnu",
        "--milestone",
        "Alpha:2026-04-01",
        "--milestone",
        "Beta",
    ]);
    assert_eq!(out.ok(), "created PLAN-001 (coordination/plans/PLAN-001.yaml)\n");
    insta::assert_snapshot!(env.read("coordination/plans/PLAN-001.yaml"), @r"
    id: PLAN-001
    title: Q2
    status: draft
    repos:
    - mahavishnu
    created: 2026-03-01
    updated: 2026-03-01
    milestones:
    - id: MILESTONE-001
      name: Alpha
      due: 2026-04-01
      status: pending
    - id: MILESTONE-002
      name: Beta
      status: pending
    ");
    env.coord(&["create-plan", "--title", "Q3", "--milestone", "Gamma:2026-07-01", "--depends-on", "PLAN-001"]).ok();
    let plan = json(&env, &["show-plan", "PLAN-002"]);
    assert_eq!(plan["milestones"][0]["id"], "MILESTONE-003");
    assert_eq!(plan["depends_on"], serde_json::json!(["PLAN-001"]));
    let err = env.coord(&["create-plan", "--title", "Bad", "--milestone", "X:2026-13-01"]).fails(1).to_string();
    assert!(err.contains("invalid milestone due date `2026-13-01`"), "{err}");
}

#[test]
fn milestones_are_added_and_updated_with_minimal_diffs() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-plan", "--title", "Q2", "--milestone", "Alpha:2026-04-01"]).ok();
    env.commit_all("plan");
    assert_eq!(
        env.coord(&[
            "add-milestone",
            "PLAN-001",
            "--name",
            "Beta",
            "--due",
            "2026-05-01",
            "--depends-on",
            "MILESTONE-001"
        ])
        .ok(),
        "added MILESTONE-002 to PLAN-001 (coordination/plans/PLAN-001.yaml)\n"
    );
    assert_eq!(
        env.changed_lines(),
        [
            "+- id: MILESTONE-002",
            "+  name: Beta",
            "+  due: 2026-05-01",
            "+  status: pending",
            "+  dependencies:",
            "+  - MILESTONE-001"
        ]
    );
    env.commit_all("beta");
    env.coord(&["update-milestone", "MILESTONE-001", "--status", "done"]).ok();
    assert_eq!(env.changed_lines(), ["-  status: pending", "+  status: completed"]);
    let err = env.coord(&["update-milestone", "MILESTONE-001", "--depends-on", "MILESTONE-009"]).fails(1).to_string();
    assert!(err.contains("unknown reference `MILESTONE-009`"), "{err}");
    assert!(env.coord(&["update-milestone", "MILESTONE-001"]).ok().contains("nothing to update"));
    let list = json(&env, &["list-plans", "--status", "pending"]);
    assert_eq!(list[0]["id"], "PLAN-001", "plan status alias pending → draft");
}

#[test]
fn todos_take_estimates_in_days_hours_and_minutes() {
    let env = TestEnv::with_ecosystem();
    for (est, hours) in [("3d", 24.0), ("4h", 4.0), ("90m", 1.5), ("2.5", 2.5)] {
        let t = json(&env, &["create-todo", "--task", "T", "--repo", "sb", "--estimate", est]);
        assert_eq!(t["estimated_hours"].as_f64(), Some(hours), "{est}");
        assert_eq!(t["repo"], "session-buddy", "nickname stored as the canonical name");
    }
    for bad in ["0", "-2h", "abc", "0d"] {
        let err = env.coord(&["create-todo", "--task", "T", "--repo", "sb", "--estimate", bad]).fails(1).to_string();
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
        ("--plan", "PLAN-404", "no plan with that ID"),
        ("--milestone", "MILESTONE-404", "no milestone with that ID"),
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
fn dependencies_are_created_validated_and_updated() {
    let env = TestEnv::with_ecosystem();
    let d = json(
        &env,
        &[
            "create-dep",
            "--consumer",
            "vishnu",
            "--provider",
            "sb",
            "--type",
            "mcp",
            "--version-constraint",
            ">=0.1.0",
            "--health-check",
            "http://127.0.0.1:9/health",
        ],
    );
    assert_eq!(d["consumer"], "mahavishnu");
    assert_eq!(d["provider"], "session-buddy");
    assert_eq!(d["status"], "unknown");
    assert_eq!(d["validation"]["health_check"], "http://127.0.0.1:9/health");
    let err = env.coord(&["create-dep", "--consumer", "oneiric", "--provider", "oneiric"]).fails(1).to_string();
    assert!(err.contains("cannot depend on itself"), "{err}");
    let err =
        env.coord(&["create-dep", "--consumer", "oneiric", "--provider", "sb", "--type", "peer"]).fails(1).to_string();
    assert!(err.contains("expected one of: runtime, development, mcp, test, documentation"), "{err}");
    let err = env
        .coord(&["create-dep", "--consumer", "oneiric", "--provider", "sb", "--expected-pattern", "("])
        .fails(1)
        .to_string();
    assert!(err.contains("invalid expected pattern"), "{err}");
    env.commit_all("dep");
    env.coord(&["update-dep", "DEP-001", "--status", "ok", "--notes", "checked"]).ok();
    assert_eq!(env.changed_lines(), ["-status: unknown", "+status: satisfied", "+notes: checked"]);
    let by_provider: Vec<String> = json(&env, &["list-deps", "--provider", "buddy"])
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(by_provider, ["DEP-001"]);
    assert!(json(&env, &["list-deps", "--consumer", "oneiric"]).as_array().unwrap().is_empty());
    env.coord(&["delete-dep", "DEP-001"]).ok();
    assert!(!env.exists("coordination/dependencies/DEP-001.yaml"));
}
