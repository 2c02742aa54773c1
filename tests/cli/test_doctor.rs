//! `doctor`: what hand merges leave behind, found and (safely) repaired.

use crate::env::TestEnv;

#[test]
fn a_clean_repository_has_nothing_to_report() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    assert_eq!(env.coord(&["doctor"]).ok(), "no problems found\n");
}

#[test]
fn finds_and_fixes_a_misnamed_file_and_a_legacy_copy() {
    let env = TestEnv::with_ecosystem();
    // A file whose name is not its ID (a hand rename gone wrong).
    env.write(
        "coordination/issues/ISSUE-9.yaml",
        "id: ISSUE-010\ntitle: Misnamed\nstatus: pending\nrepos: [oneiric]\n",
    );
    // ISSUE-001 both in its file and, identical, in the legacy section.
    env.write(
        "coordination/issues/ISSUE-001.yaml",
        "id: ISSUE-001\ntitle: Legacy issue\nstatus: pending\npriority: high\nrepos: [mahavishnu]\ncreated: 2026-01-05\n",
    );
    let run = env.coord(&["doctor"]);
    run.fails(1);
    insta::assert_snapshot!("doctor_report", run.stdout);

    let fixed = env.coord(&["doctor", "--fix"]).ok().to_string();
    assert!(fixed.contains("fixed: renamed to coordination/issues/ISSUE-010.yaml"), "{fixed}");
    assert!(fixed.contains("fixed: removed the identical legacy item"), "{fixed}");
    assert!(env.exists("coordination/issues/ISSUE-010.yaml") && !env.exists("coordination/issues/ISSUE-9.yaml"));
    assert!(!env.read("settings/ecosystem.yaml").contains("Legacy issue"));
    assert!(env.read("settings/ecosystem.yaml").contains("Legacy todo"), "only the copy goes");
    assert_eq!(env.coord(&["doctor"]).ok(), "no problems found\n");
    env.coord(&["lint"]).ok();
}

#[test]
fn duplicates_and_dangling_references_are_left_to_a_person() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    env.write("coordination/issues/ISSUE-002.yaml", "id: ISSUE-002\ntitle: A\nstatus: pending\nrepos: [oneiric]\n");
    env.write("coordination/issues/ISSUE-003.yaml", "id: ISSUE-002\ntitle: B\nstatus: pending\nrepos: [oneiric]\n");
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: T\nrepo: oneiric\nstatus: pending\nblocked_by: [ISSUE-02]\n",
    );
    let before = env.read("coordination/issues/ISSUE-003.yaml");
    let run = env.coord(&["doctor", "--fix", "--format", "json"]);
    run.fails(1);
    let j: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let codes: Vec<_> =
        j["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect();
    assert!(codes.contains(&"filename".to_string()), "{codes:?}");
    assert!(codes.contains(&"duplicate".to_string()), "{codes:?}");
    let dangling = j["findings"].as_array().unwrap().iter().find(|f| f["code"] == "dangling").unwrap();
    assert_eq!(dangling["id"], "TODO-002");
    assert!(dangling["remedy"].as_str().unwrap().contains("did you mean ISSUE-002?"), "{dangling}");
    assert_eq!(dangling["fixed"], false);
    // Nothing that needs a decision was touched.
    assert_eq!(env.read("coordination/issues/ISSUE-003.yaml"), before);
}

/// Issue 11, point 5: an edge declared on one side only is valid data;
/// doctor does not report it, `--fix` does not touch it, and the graph
/// still sees it.
#[test]
fn point5_doctor_accepts_one_sided_edges() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    // TODO-002 says it blocks TODO-003, whose own (non-empty) blocker list leaves it out.
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: First\nrepo: oneiric\nstatus: pending\nblocking: [TODO-003]\n",
    );
    env.write(
        "coordination/todos/TODO-003.yaml",
        "id: TODO-003\ntask: Second\nrepo: oneiric\nstatus: pending\nblocked_by: [TODO-001]\n",
    );
    // And the documented way: declare the edge on the blocker only.
    env.coord(&["create-todo", "--task", "Third", "--repo", "oneiric", "--blocking", "TODO-002"]).ok();
    let before = env.read("coordination/todos/TODO-003.yaml");
    assert_eq!(env.coord(&["doctor"]).ok(), "no problems found\n");
    assert_eq!(env.coord(&["doctor", "--fix"]).ok(), "no problems found\n");
    assert_eq!(env.read("coordination/todos/TODO-003.yaml"), before, "doctor --fix leaves valid data alone");
    let j = env.coord(&["blocking", "oneiric", "--format", "json"]).json();
    let blocked: Vec<String> =
        j["blocked_todos"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    assert!(blocked.contains(&"TODO-003".to_string()), "{j}");
}
