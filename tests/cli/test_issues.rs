//! Issue commands end to end: create, list with filters and aliases, show,
//! update with minimal diffs, close/reopen, delete, validation errors.

use crate::env::TestEnv;

#[test]
fn create_list_show_round_trip() {
    let env = TestEnv::with_ecosystem();
    let out = env.coord(&[
        "create-issue",
        "--title",
        "Python 3.13",
        "--repos",
        "vishnu,buddy",
        "--priority",
        "P0",
        "--label",
        "migration",
    ]);
    assert_eq!(out.ok(), "created ISSUE-002 (coordination/issues/ISSUE-002.yaml)\n");
    insta::assert_snapshot!(env.read("coordination/issues/ISSUE-002.yaml"), @r"
    id: ISSUE-002
    title: Python 3.13
    status: pending
    priority: critical
    severity: normal
    repos:
    - mahavishnu
    - session-buddy
    created: 2026-03-01
    updated: 2026-03-01
    labels:
    - migration
    ");
    let list = env.coord(&["list-issues", "--format", "json"]).items();
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ISSUE-001", "ISSUE-002"]);
    assert_eq!(list[0]["status"], "pending", "legacy `open` maps to pending");
    assert_eq!(list[0]["priority"], "high", "legacy `P1` maps to high");
    assert_eq!(list[0]["created"], "2026-01-05", "created_at maps to created");
    let shown = env.coord(&["show-issue", "ISSUE-002", "--format", "json"]).entity();
    assert_eq!(shown["repos"], serde_json::json!(["mahavishnu", "session-buddy"]));
}

#[test]
fn list_filters_combine_with_and_and_accept_aliases() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "A", "--repos", "oneiric", "--priority", "high", "--assignee", "les"]).ok();
    env.coord(&["create-issue", "--title", "B", "--repos", "sb", "--priority", "low", "--label", "docs"]).ok();
    let ids = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["list-issues", "--format", "json"];
        full.extend_from_slice(args);
        env.coord(&full).items().as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(ids(&["--priority", "P1"]), ["ISSUE-001", "ISSUE-002"]);
    assert_eq!(ids(&["--priority", "p1", "--assignee", "les"]), ["ISSUE-002"]);
    assert_eq!(ids(&["--repo", "buddy"]), ["ISSUE-003"]);
    assert_eq!(ids(&["--label", "docs"]), ["ISSUE-003"]);
    assert_eq!(ids(&["--status", "open"]), ["ISSUE-001", "ISSUE-002", "ISSUE-003"]);
    assert!(ids(&["--status", "resolved"]).is_empty());
    let err = env.coord(&["list-issues", "--status", "bogus"]).fails(2).to_string();
    assert!(err.contains("expected one of: pending, in_progress, blocked, resolved, closed"), "{err}");
    let err = env.coord(&["list-issues", "--repo", "sesion-buddy"]).fails(1).to_string();
    assert!(err.contains("did you mean `session-buddy`"), "{err}");
}

#[test]
fn update_changes_only_the_touched_lines() {
    let env = TestEnv::with_ecosystem();
    env.write(
        "coordination/issues/ISSUE-007.yaml",
        "# Keep this comment\nid: ISSUE-007\ntitle: Hand written   # trailing comment\nstatus: pending\npriority: medium\nrepos: [mahavishnu]\ndescription: |\n  First line.\n  Second line.\ncustom_field: {keep: me}\nlabels:\n  - a\nupdated: 2026-01-01\n",
    );
    env.commit_all("hand-written issue");
    env.coord(&["update-issue", "ISSUE-007", "--status", "in progress", "--add-label", "b"]).ok();
    assert_eq!(
        env.changed_lines(),
        // `- b` and the `updated` line are adjacent, so git shows them as one hunk.
        ["-status: pending", "+status: in_progress", "-updated: 2026-01-01", "+  - b", "+updated: 2026-03-01"]
    );
}

#[test]
fn update_without_flags_writes_nothing() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "A", "--repos", "oneiric"]).ok();
    env.commit_all("a");
    let out = env.coord(&["update-issue", "ISSUE-002"]);
    assert!(out.ok().contains("nothing to update"));
    assert!(env.changed_lines().is_empty());
}

#[test]
fn legacy_entities_are_edited_in_place() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["close-issue", "ISSUE-001"]).ok();
    assert_eq!(env.changed_lines(), ["-      status: open", "+      status: closed", "+      updated: 2026-03-01"]);
    env.coord(&["reopen-issue", "ISSUE-001"]).ok();
    let shown = env.coord(&["show-issue", "ISSUE-001", "--format", "json"]).entity();
    assert_eq!(shown["status"], "pending");
}

#[test]
fn invalid_values_are_refused_with_the_allowed_ones() {
    let env = TestEnv::with_ecosystem();
    let err = env
        .coord(&["create-issue", "--title", "x", "--repos", "mahavishnu", "--priority", "urgent"])
        .fails(2)
        .to_string();
    assert!(err.contains("invalid priority `urgent` (expected one of: critical, high, medium, low)"), "{err}");
    let err = env.coord(&["create-issue", "--title", "x", "--repos", "nope"]).fails(1).to_string();
    assert!(err.contains("unknown repository `nope`"), "{err}");
    let err = env
        .coord(&["create-issue", "--title", "x", "--repos", "oneiric", "--target", "31/12/2026"])
        .fails(2)
        .to_string();
    assert!(err.contains("--target") && err.contains("`31/12/2026` is not a date"), "{err}");
    let err = env
        .coord(&["create-issue", "--title", "x", "--repos", "oneiric", "--depends-on", "ISSUE-099"])
        .fails(1)
        .to_string();
    assert!(err.contains("unknown reference `ISSUE-099`"), "{err}");
    assert!(!env.exists("coordination/issues/ISSUE-002.yaml"), "nothing written on error");
    let err = env.coord(&["create-issue", "--title", "x"]).fails(2).to_string();
    assert!(err.contains("--repos"), "{err}");
}

#[test]
fn path_traversal_ids_are_refused() {
    let env = TestEnv::with_ecosystem();
    for bad in ["../../etc/passwd", "ISSUE-001/..", "..", "a\\b"] {
        let err = env.coord(&["show-issue", bad]).fails(2).to_string();
        assert!(err.contains("IDs may only use letters, digits") || err.contains("must start with"), "{bad}: {err}");
    }
}

#[test]
fn delete_refuses_while_referenced() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "A", "--repos", "oneiric"]).ok();
    env.coord(&["create-issue", "--title", "B", "--repos", "oneiric", "--depends-on", "ISSUE-002"]).ok();
    let err = env.coord(&["delete-issue", "ISSUE-002"]).fails(1).to_string();
    assert!(err.contains("referenced by ISSUE-003"), "{err}");
    env.coord(&["delete-issue", "ISSUE-003"]).ok();
    env.coord(&["delete-issue", "ISSUE-002"]).ok();
    assert!(!env.exists("coordination/issues/ISSUE-002.yaml"));
}

#[test]
fn concurrent_creates_get_distinct_ids_and_lose_nothing() {
    let env = TestEnv::with_ecosystem();
    let children: Vec<_> = (0..8)
        .map(|i| env.coord_spawn(&["create-issue", "--title", &format!("Parallel {i}"), "--repos", "oneiric"]))
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let list = env.coord(&["list-issues", "--format", "json"]).items();
    let mut titles: Vec<String> =
        list.as_array().unwrap().iter().skip(1).map(|i| i["title"].as_str().unwrap().to_string()).collect();
    titles.sort();
    assert_eq!(titles, (0..8).map(|i| format!("Parallel {i}")).collect::<Vec<_>>());
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 9);
    assert_eq!(ids[8], "ISSUE-009");
}

#[test]
fn concurrent_updates_of_one_issue_keep_every_label() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Shared", "--repos", "oneiric"]).ok();
    let children: Vec<_> =
        (0..6).map(|i| env.coord_spawn(&["update-issue", "ISSUE-002", "--add-label", &format!("l{i}")])).collect();
    for c in children {
        assert!(c.wait_with_output().unwrap().status.success());
    }
    let issue = env.coord(&["show-issue", "ISSUE-002", "--format", "json"]).entity();
    let mut labels: Vec<String> =
        issue["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect();
    labels.sort();
    assert_eq!(labels, ["l0", "l1", "l2", "l3", "l4", "l5"]);
}

#[test]
fn crlf_files_keep_their_line_endings() {
    let env = TestEnv::with_ecosystem();
    env.write(
        "coordination/issues/ISSUE-002.yaml",
        "id: ISSUE-002\r\ntitle: Windows\r\nrepos: [oneiric]\r\nstatus: pending\r\n",
    );
    env.commit_all("crlf");
    env.coord(&["update-issue", "ISSUE-002", "--status", "blocked"]).ok();
    assert_eq!(
        env.read("coordination/issues/ISSUE-002.yaml"),
        "id: ISSUE-002\r\ntitle: Windows\r\nrepos: [oneiric]\r\nupdated: 2026-03-01\r\nstatus: blocked\r\n"
    );
}
