//! `sync` against a bare remote shared with a second clone.

use crate::env::TestEnv;
use std::path::PathBuf;

/// Ours (`env.root`) and theirs (a second clone), sharing `origin.git`.
fn two_clones() -> (TestEnv, PathBuf) {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Shared", "--repos", "mahavishnu"]).ok();
    env.commit_all_at("shared", "2026-03-02T09:00:00+00:00");
    let bare = env.root.parent().unwrap().join("origin.git");
    env.git(&["init", "-q", "--bare", bare.to_str().unwrap()]).ok();
    env.git(&["remote", "add", "origin", bare.to_str().unwrap()]).ok();
    env.git(&["push", "-q", "-u", "origin", "main"]).ok();
    let theirs = env.root.parent().unwrap().join("theirs");
    env.git(&["clone", "-q", bare.to_str().unwrap(), theirs.to_str().unwrap()]).ok();
    (env, theirs)
}

fn commit_in(env: &TestEnv, dir: &std::path::Path, msg: &str) {
    env.git_in(dir, &["add", "-A"]).ok();
    env.git_in(dir, &["commit", "-q", "-m", msg]).ok();
}

#[test]
fn sync_renumbers_a_collision_and_rewrites_references() {
    let (env, theirs) = two_clones();
    // They create ISSUE-003 and push.
    env.coord_in(&theirs, &["create-issue", "--title", "Their issue", "--repos", "oneiric"]).ok();
    commit_in(&env, &theirs, "their issue");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    // We create our own ISSUE-003 (we had not fetched) and a todo blocked by it.
    env.coord(&["create-issue", "--title", "Our issue", "--repos", "mahavishnu"]).ok();
    env.coord(&["create-todo", "--task", "Follow up", "--repo", "vishnu", "--blocked-by", "ISSUE-003"]).ok();
    env.commit_all_at("our issue", "2026-03-03T09:00:00+00:00");

    let out = env.coord(&["sync"]).ok().to_string();
    assert!(
        out.contains("renumbered issue ISSUE-003 → ISSUE-004 (the ID was also created on origin/main); references rewritten in TODO-002"),
        "{out}"
    );
    assert!(out.contains("merged origin/main"), "{out}");
    assert!(out.contains("pushed main to origin"), "{out}");
    // Both issues exist, ours under its new ID, and the todo follows it.
    let theirs_issue = env.coord(&["show-issue", "ISSUE-003", "--format", "json"]).entity();
    assert_eq!(theirs_issue["title"], "Their issue");
    let ours = env.coord(&["show-issue", "ISSUE-004", "--format", "json"]).entity();
    assert_eq!(ours["title"], "Our issue");
    let todo = env.coord(&["show-todo", "TODO-002", "--format", "json"]).entity();
    assert_eq!(todo["blocked_by"], serde_json::json!(["ISSUE-004"]));
    env.coord(&["lint"]).ok();
    // The remote has it all; the working tree is clean.
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "");
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok(), env.git(&["rev-parse", "origin/main"]).ok(), "pushed");
    let log = env.git(&["log", "--format=%s", "-3"]).ok().to_string();
    assert!(log.contains("git coord sync: renumber ISSUE-003 → ISSUE-004 (also created on origin/main)"), "{log}");
}

#[test]
fn sync_commits_local_coordination_changes_and_can_skip_the_push() {
    let (env, theirs) = two_clones();
    env.coord_in(&theirs, &["update-issue", "ISSUE-002", "--priority", "high"]).ok();
    commit_in(&env, &theirs, "bump");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    env.coord(&["create-todo", "--task", "Local todo", "--repo", "oneiric"]).ok();
    let remote_before = env.git(&["ls-remote", "origin", "main"]).ok().to_string();
    let out = env.coord(&["sync", "--no-push"]).ok().to_string();
    assert!(out.contains("committed local coordination changes"), "{out}");
    assert!(out.contains("merged origin/main"), "{out}");
    assert!(!out.contains("pushed"), "{out}");
    assert_eq!(env.git(&["ls-remote", "origin", "main"]).ok(), remote_before);
    assert_eq!(env.coord(&["show-issue", "ISSUE-002", "--format", "json"]).entity()["priority"], "high");
    assert_eq!(env.coord(&["show-todo", "TODO-002", "--format", "json"]).entity()["task"], "Local todo");
    // Again: nothing new upstream.
    let again = env.coord(&["sync"]).ok().to_string();
    assert!(again.contains("up to date with origin/main"), "{again}");
    assert!(again.contains("pushed main to origin"), "{again}");
}

#[test]
fn sync_refuses_unrelated_uncommitted_changes() {
    let (env, _) = two_clones();
    env.write("README.md", "draft\n");
    env.coord(&["create-todo", "--task", "Local todo", "--repo", "oneiric"]).ok();
    let head = env.git(&["rev-parse", "HEAD"]).ok().to_string();
    let err = env.coord(&["sync"]).fails(1).to_string();
    assert!(err.contains("uncommitted changes outside the coordination data (README.md)"), "{err}");
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok(), head);
    assert!(env.exists("coordination/todos/TODO-002.yaml"));
    assert!(env.git(&["status", "--porcelain", "-uall"]).ok().contains("?? coordination/todos/TODO-002.yaml"));
}

#[test]
fn a_failed_sync_leaves_the_repository_as_it_was() {
    let (env, theirs) = two_clones();
    // Both sides change one non-coordination file: the merge cannot be done.
    env.write_in(&theirs, "notes.txt", "theirs\n");
    commit_in(&env, &theirs, "their notes");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    env.write("notes.txt", "ours\n");
    env.commit_all_at("our notes", "2026-03-03T09:00:00+00:00");
    // And a local coordination change, uncommitted.
    env.coord(&["update-issue", "ISSUE-002", "--status", "in_progress"]).ok();
    let head = env.git(&["rev-parse", "HEAD"]).ok().to_string();
    let err = env.coord(&["sync"]).fails(1).to_string();
    assert!(err.contains("conflicts in notes.txt"), "{err}");
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok(), head, "HEAD is back where it was");
    assert!(!env.root.join(".git/MERGE_HEAD").exists(), "no merge left in progress");
    assert_eq!(env.read("notes.txt"), "ours\n");
    // The local change is still there, still uncommitted.
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), " M coordination/issues/ISSUE-002.yaml\n");
    assert!(env.read("coordination/issues/ISSUE-002.yaml").contains("status: in_progress"));
}

#[test]
fn sync_renumbers_plans_and_milestones_created_on_both_sides() {
    let (env, theirs) = two_clones();
    env.coord_in(
        &theirs,
        &["create-plan", "--title", "Their plan", "--repos", "oneiric", "--milestone", "Beta:2026-05-01"],
    )
    .ok();
    commit_in(&env, &theirs, "their plan");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    env.coord(&["create-plan", "--title", "Our plan", "--repos", "mahavishnu", "--milestone", "Alpha:2026-04-01"]).ok();
    env.coord(&["create-todo", "--task", "Ship alpha", "--repo", "vishnu", "--milestone", "MILESTONE-001"]).ok();
    env.commit_all_at("our plan", "2026-03-03T09:00:00+00:00");

    let out = env.coord(&["sync", "--no-push"]).ok().to_string();
    assert!(out.contains("renumbered plan PLAN-001 → PLAN-002"), "{out}");
    assert!(out.contains("renumbered milestone MILESTONE-001 → MILESTONE-002"), "{out}");
    let ours = env.coord(&["show-plan", "PLAN-002", "--format", "json"]).entity();
    assert_eq!(ours["title"], "Our plan");
    assert_eq!(ours["milestones"][0]["id"], "MILESTONE-002");
    assert_eq!(ours["milestones"][0]["name"], "Alpha");
    let theirs_plan = env.coord(&["show-plan", "PLAN-001", "--format", "json"]).entity();
    assert_eq!(theirs_plan["milestones"][0]["id"], "MILESTONE-001");
    let todo = env.coord(&["show-todo", "TODO-002", "--format", "json"]).entity();
    assert_eq!(todo["milestone_id"], "MILESTONE-002");
    env.coord(&["lint"]).ok();
}

#[test]
fn sync_merges_edits_of_different_fields_of_one_entity() {
    let (env, theirs) = two_clones();
    env.coord_in(&theirs, &["update-issue", "ISSUE-002", "--status", "in_progress", "--add-label", "api"]).ok();
    commit_in(&env, &theirs, "their edit");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--priority", "critical", "--add-label", "urgent"]).ok();
    env.commit_all_at("our edit", "2026-03-03T09:00:00+00:00");

    let out = env.coord(&["sync"]).ok().to_string();
    assert!(out.contains("merged origin/main"), "{out}");
    let issue = env.coord(&["show-issue", "ISSUE-002", "--format", "json"]).entity();
    assert_eq!(issue["status"], "in_progress");
    assert_eq!(issue["priority"], "critical");
    assert_eq!(issue["labels"], serde_json::json!(["urgent", "api"]));
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "");
}

#[test]
fn sync_refuses_a_field_conflict_and_changes_nothing() {
    let (env, theirs) = two_clones();
    env.coord_in(&theirs, &["update-issue", "ISSUE-002", "--status", "blocked"]).ok();
    commit_in(&env, &theirs, "their edit");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--status", "resolved"]).ok();
    env.commit_all_at("our edit", "2026-03-03T09:00:00+00:00");
    let head = env.git(&["rev-parse", "HEAD"]).ok().to_string();

    let err = env.coord(&["sync"]).fails(1).to_string();
    assert!(err.contains("conflicts in coordination/issues/ISSUE-002.yaml"), "{err}");
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok(), head);
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "");
    assert!(env.read("coordination/issues/ISSUE-002.yaml").contains("status: resolved"));
}
