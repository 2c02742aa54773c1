//! Plans and milestones end to end: generated IDs (milestones unique across
//! plans), minimal-diff updates, filters and JSON shapes.

use crate::env::{TestEnv, ids, json};

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
    // A malformed value is refused while the request is built: a usage error.
    let err = env.coord(&["create-plan", "--title", "Bad", "--milestone", "X:2026-13-01"]).fails(2).to_string();
    assert!(err.contains("--milestone") && err.contains("`2026-13-01` is not a due date"), "{err}");
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
fn plans_are_updated_filtered_and_listed_as_json() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-plan", "--title", "P", "--repos", "oneiric", "--target", "2026-06-01"]).ok();
    env.coord(&["create-plan", "--title", "Q", "--repos", "vishnu", "--status", "active"]).ok();
    env.commit_all("plans");
    env.coord(&[
        "update-plan",
        "PLAN-001",
        "--add-repo",
        "sb",
        "--remove-repo",
        "oneiric",
        "--add-issue",
        "ISSUE-001",
        "--depends-on",
        "PLAN-002",
    ])
    .ok();
    assert_eq!(
        env.changed_lines(),
        ["-- oneiric", "+- session-buddy", "+issue_ids:", "+- ISSUE-001", "+depends_on:", "+- PLAN-002"],
        "replacing the only repo keeps the file's list indentation"
    );
    env.commit_all("update");
    assert_eq!(
        env.coord(&["update-plan", "PLAN-001"]).ok(),
        "nothing to update for PLAN-001 (no change was asked for; see --help)\n"
    );
    assert!(env.changed_lines().is_empty(), "no flags writes nothing");
    env.coord(&["update-plan", "PLAN-001", "--no-depends-on", "PLAN-002", "--remove-issue", "ISSUE-001"]).ok();
    assert_eq!(env.changed_lines(), ["-issue_ids:", "-- ISSUE-001", "-depends_on:", "-- PLAN-002"]);
    assert_eq!(ids(&json(&env, &["list-plans", "--repo", "buddy"])), ["PLAN-001"]);
    assert_eq!(ids(&json(&env, &["list-plans", "--status", "active"])), ["PLAN-002"]);
    let all = json(&env, &["list-plans"]);
    assert_eq!(
        all[0],
        serde_json::json!({
            "id": "PLAN-001",
            "title": "P",
            "status": "draft",
            "repos": ["session-buddy"],
            "created": "2026-03-01",
            "updated": "2026-03-01",
            "target": "2026-06-01"
        }),
        "YAML field names, canonical values"
    );
    let err = env.coord(&["update-plan", "PLAN-001", "--depends-on", "PLAN-009"]).fails(1).to_string();
    assert!(err.contains("PLAN-009"), "{err}");
}

#[test]
fn renumber_moves_a_milestone_and_its_references() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-plan", "--title", "Q2", "--milestone", "Alpha:2026-04-01"]).ok();
    env.coord(&["add-milestone", "PLAN-001", "--name", "Beta", "--due", "2026-05-01", "--depends-on", "MILESTONE-001"])
        .ok();
    env.coord(&["create-todo", "--task", "Ship alpha", "--repo", "vishnu", "--milestone", "MILESTONE-001"]).ok();
    let todos = env.coord(&["list-todos", "--format", "json"]).items();
    let todo = todos.as_array().unwrap().iter().find(|t| t["task"] == "Ship alpha").unwrap();
    let todo_id = todo["id"].as_str().unwrap().to_string();

    let err = env.coord(&["renumber", "MILESTONE-001", "--to", "MILESTONE-002"]).fails(1).to_string();
    assert!(err.contains("MILESTONE-002 is already taken"), "{err}");
    let err = env.coord(&["renumber", "MILESTONE-404"]).fails(1).to_string();
    assert!(err.contains("no issue, plan, todo, dependency or milestone `MILESTONE-404`"), "{err}");
    env.coord(&["renumber", "../x"]).fails(2);

    let out = env.coord(&["renumber", "MILESTONE-001", "--to", "MILESTONE-010"]).ok().to_string();
    assert!(out.starts_with("renumbered milestone MILESTONE-001 → MILESTONE-010"), "{out}");
    let plan = env.coord(&["show-plan", "PLAN-001", "--format", "json"]).entity();
    assert_eq!(plan["milestones"][0]["id"], "MILESTONE-010");
    assert_eq!(plan["milestones"][1]["dependencies"], serde_json::json!(["MILESTONE-010"]));
    let todo = env.coord(&["show-todo", &todo_id, "--format", "json"]).entity();
    assert_eq!(todo["milestone_id"], "MILESTONE-010");
    env.coord(&["lint"]).ok();
}
