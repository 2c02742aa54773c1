//! `sync` against a bare remote shared with a second clone.

use crate::env::TestEnv;
use std::path::PathBuf;

/// Ours (`env.root`) and theirs (a second clone), sharing `origin.git`.
fn two_clones() -> (TestEnv, PathBuf) {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Shared", "--repos", "mahavishnu"]).ok();
    env.commit_all_at("shared", "2026-03-02T09:00:00+00:00");
    let bare = env.add_origin();
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

// ---------------------------------------------------------------------------
// Never losing work (issue 16, item 6): every failure point puts back exactly
// the state found — work tree, index, HEAD, untracked coordination files.

const SNAPSHOT_REF: &str = "refs/worktree/git-coord/sync-snapshot";

/// Everything a failed sync must leave as it found it.
#[derive(Debug, PartialEq)]
struct RepoState {
    head: String,
    status: String,
    index: String,
    files: std::collections::BTreeMap<String, Vec<u8>>,
}

fn files_under(dir: &std::path::Path, rel: &str, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
    for e in std::fs::read_dir(dir.join(rel)).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
        if name == ".git" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            files_under(dir, &r, out);
        } else {
            out.insert(r, std::fs::read(e.path()).unwrap());
        }
    }
}

fn state_of(env: &TestEnv, dir: &std::path::Path) -> RepoState {
    let mut files = std::collections::BTreeMap::new();
    files_under(dir, "", &mut files);
    RepoState {
        head: env.git_in(dir, &["rev-parse", "HEAD"]).ok().to_string(),
        status: env.git_in(dir, &["status", "--porcelain", "--untracked-files=all"]).ok().to_string(),
        index: env.git_in(dir, &["ls-files", "-s"]).ok().to_string(),
        files,
    }
}

/// Ours with every kind of uncommitted state, and something new upstream to
/// merge: a staged new entity, an entity staged with further unstaged edits,
/// an untracked new entity, an unstaged deletion, a temp file of a killed
/// writer and a stray file.
fn messy_clones() -> (TestEnv, PathBuf) {
    let (env, theirs) = two_clones();
    env.coord_in(&theirs, &["update-issue", "ISSUE-002", "--priority", "low"]).ok();
    commit_in(&env, &theirs, "their edit");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    env.coord(&["create-todo", "--task", "Tracked todo", "--repo", "oneiric"]).ok();
    env.commit_all_at("our todo", "2026-03-03T09:00:00+00:00");
    env.coord(&["create-issue", "--title", "Staged issue", "--repos", "oneiric"]).ok();
    env.git(&["add", "coordination/issues/ISSUE-003.yaml"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--add-label", "staged"]).ok();
    env.git(&["add", "coordination/issues/ISSUE-002.yaml"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--status", "in_progress"]).ok();
    env.coord(&["create-todo", "--task", "Untracked todo", "--repo", "vishnu"]).ok();
    std::fs::remove_file(env.root.join("coordination/todos/TODO-002.yaml")).unwrap();
    env.write("coordination/issues/.coord-Xy12Ab.tmp", "id: ISSUE-0");
    env.write("coordination/notes.txt", "scratch\n");
    (env, theirs)
}

/// Runs a sync that must fail, and checks it changed nothing.
#[track_caller]
fn assert_sync_fails_and_changes_nothing(env: &TestEnv, expected: &str) {
    let before = state_of(env, &env.root);
    assert!(before.status.contains("A  coordination/issues/ISSUE-003.yaml"), "{}", before.status);
    assert!(before.status.contains("MM coordination/issues/ISSUE-002.yaml"), "{}", before.status);
    assert!(before.status.contains(" D coordination/todos/TODO-002.yaml"), "{}", before.status);
    assert!(before.status.contains("?? coordination/todos/TODO-003.yaml"), "{}", before.status);
    let err = env.coord(&["sync"]).fails(1).to_string();
    assert!(err.contains(expected), "expected `{expected}` in:\n{err}");
    let after = state_of(env, &env.root);
    assert_eq!(after.head, before.head, "HEAD");
    assert_eq!(after.index, before.index, "index (git ls-files -s)");
    assert_eq!(after.status, before.status, "git status");
    assert_eq!(after.files.keys().collect::<Vec<_>>(), before.files.keys().collect::<Vec<_>>(), "files");
    assert!(after.files == before.files, "file contents changed");
    assert!(env.git(&["rev-parse", "--verify", "--quiet", SNAPSHOT_REF]).code != 0, "snapshot reference dropped");
    assert!(!env.root.join(".git/MERGE_HEAD").exists());
}

#[test]
fn a_sync_whose_commit_fails_for_lack_of_an_identity_loses_nothing() {
    let (mut env, _) = messy_clones();
    let global = env.root.parent().unwrap().join("no-identity.gitconfig");
    std::fs::write(&global, "[user]\n\tuseConfigOnly = true\n[commit]\n\tgpgsign = false\n").unwrap();
    env.set_env("GIT_CONFIG_GLOBAL", global.to_str().unwrap());
    assert_sync_fails_and_changes_nothing(&env, "Author identity unknown");
}

#[test]
fn a_sync_whose_commit_signing_fails_loses_nothing() {
    let (env, _) = messy_clones();
    env.git(&["config", "commit.gpgsign", "true"]).ok();
    env.git(&["config", "gpg.program", "false"]).ok();
    assert_sync_fails_and_changes_nothing(&env, "gpg failed to sign");
}

#[test]
fn a_sync_whose_pre_commit_hook_fails_loses_nothing() {
    let (env, _) = messy_clones();
    write_hook(&env.root.join(".git/hooks"), "pre-commit", "echo 'pre-commit: no, not today' >&2\nexit 1\n");
    assert_sync_fails_and_changes_nothing(&env, "pre-commit: no, not today");
}

#[test]
fn a_sync_whose_push_the_remote_rejects_loses_nothing() {
    let (env, _) = messy_clones();
    let bare = env.root.parent().unwrap().join("origin.git");
    write_hook(&bare.join("hooks"), "pre-receive", "echo 'policy: pushes are closed' >&2\nexit 1\n");
    assert_sync_fails_and_changes_nothing(&env, "policy: pushes are closed");
}

#[test]
fn a_sync_whose_remote_vanishes_loses_nothing() {
    let (env, _) = messy_clones();
    let bare = env.root.parent().unwrap().join("origin.git");
    std::fs::rename(&bare, env.root.parent().unwrap().join("gone.git")).unwrap();
    assert_sync_fails_and_changes_nothing(&env, "git fetch");
}

#[test]
fn a_sync_whose_fetch_drops_midway_loses_nothing() {
    let (env, _) = messy_clones();
    // The connection drops after 50 bytes: the remote side dies mid-exchange.
    let script = env.root.parent().unwrap().join("dropping-upload-pack");
    std::fs::write(&script, "#!/bin/bash\nhead -c 50 < <(git-upload-pack \"$@\")\nkill -9 $PPID\nexit 1\n").unwrap();
    make_executable(&script);
    env.git(&["config", "remote.origin.uploadpack", script.to_str().unwrap()]).ok();
    assert_sync_fails_and_changes_nothing(&env, "git fetch");
}

#[test]
fn a_sync_whose_merge_conflicts_loses_nothing() {
    let (env, theirs) = messy_clones();
    env.write_in(&theirs, "notes.txt", "theirs\n");
    commit_in(&env, &theirs, "their notes");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    env.write("notes.txt", "ours\n");
    env.git(&["add", "notes.txt"]).ok();
    env.git(&["commit", "-q", "-m", "our notes", "--", "notes.txt"]).ok();
    assert_sync_fails_and_changes_nothing(&env, "conflicts in notes.txt");
}

fn make_executable(p: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn write_hook(dir: &std::path::Path, name: &str, body: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
    make_executable(&p);
}

/// Polls for a file to appear.
#[track_caller]
fn wait_for(path: &std::path::Path) {
    let start = std::time::Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < std::time::Duration::from_secs(120), "{} never appeared", path.display());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_killed_sync_leaves_its_snapshot_and_the_next_sync_says_how_to_get_it_back() {
    let (env, _) = messy_clones();
    let before = state_of(&env, &env.root);
    let bare = env.root.parent().unwrap().join("origin.git");
    let started = env.root.parent().unwrap().join("push-started");
    let done = env.root.parent().unwrap().join("push-done");
    write_hook(
        &bare.join("hooks"),
        "pre-receive",
        &format!("touch '{}'\nsleep 2\ntouch '{}'\nexit 1\n", started.display(), done.display()),
    );
    let mut child = env.coord_spawn(&["sync"]);
    wait_for(&started);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    wait_for(&done);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_ne!(env.git(&["rev-parse", "HEAD"]).ok(), before.head, "killed after committing");

    let err = env.coord(&["sync"]).fails(1).to_string();
    assert!(err.contains("a previous `git coord sync` did not finish"), "{err}");
    assert!(err.contains(SNAPSHOT_REF), "{err}");
    // Following the instructions gives back exactly what there was.
    let reset = format!("{SNAPSHOT_REF}^1");
    env.git(&["reset", "-q", "--hard", &reset]).ok();
    env.git(&["stash", "apply", "-q", "--index", SNAPSHOT_REF]).ok();
    env.git(&["update-ref", "-d", SNAPSHOT_REF]).ok();
    let after = state_of(&env, &env.root);
    assert_eq!(after.head, before.head);
    assert_eq!(after.index, before.index);
    assert_eq!(after.status, before.status);
    assert!(after.files == before.files, "file contents differ");
}

// ---------------------------------------------------------------------------
// What sync commits (issue 16, item 9): entity files only.

#[test]
fn sync_commits_entity_files_only_never_temp_or_stray_files() {
    let (env, _) = two_clones();
    env.coord(&["create-issue", "--title", "New", "--repos", "oneiric"]).ok();
    env.write("coordination/issues/.coord-Kq93Zt.tmp", "id: ISSUE-00");
    env.write("coordination/todos/draft.txt", "thoughts\n");
    env.write("coordination/README", "about\n");
    let out = env.coord(&["sync"]).ok().to_string();
    assert!(out.contains("committed local coordination changes"), "{out}");
    assert!(out.contains("pushed main to origin"), "{out}");
    let pushed = env.git(&["ls-tree", "-r", "--name-only", "origin/main"]).ok().to_string();
    assert!(pushed.contains("coordination/issues/ISSUE-003.yaml"), "{pushed}");
    for stray in ["coordination/issues/.coord-Kq93Zt.tmp", "coordination/todos/draft.txt", "coordination/README"] {
        assert!(!pushed.contains(stray), "{stray} was pushed:\n{pushed}");
        assert!(env.exists(stray), "{stray} is left in place");
    }
    assert_eq!(env.read("coordination/issues/.coord-Kq93Zt.tmp"), "id: ISSUE-00");
    assert_eq!(
        env.git(&["status", "--porcelain", "--untracked-files=all"]).ok(),
        "?? coordination/README\n?? coordination/issues/.coord-Kq93Zt.tmp\n?? coordination/todos/draft.txt\n"
    );
}

#[test]
fn sync_refuses_a_changed_tracked_file_in_coordination_that_is_not_an_entity() {
    let (env, _) = two_clones();
    env.write("coordination/README", "about\n");
    env.commit_all("readme");
    env.write("coordination/README", "changed\n");
    let head = env.git(&["rev-parse", "HEAD"]).ok().to_string();
    let err = env.coord(&["sync"]).fails(1).to_string();
    assert!(err.contains("uncommitted changes outside the coordination data (coordination/README)"), "{err}");
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok(), head);
}

// ---------------------------------------------------------------------------
// Status parsing and linked work trees (issue 16, item 16).

#[test]
fn sync_commits_a_staged_rename_of_an_entity_file() {
    let (env, _) = two_clones();
    env.coord(&["create-issue", "--title", "Renamed later", "--repos", "oneiric"]).ok();
    env.coord(&["create-todo", "--task", "Deleted later", "--repo", "oneiric"]).ok();
    env.commit_all_at("our issue", "2026-03-03T09:00:00+00:00");
    env.git(&["mv", "coordination/issues/ISSUE-003.yaml", "coordination/issues/ISSUE-007.yaml"]).ok();
    let text = env.read("coordination/issues/ISSUE-007.yaml").replace("id: ISSUE-003", "id: ISSUE-007");
    env.write("coordination/issues/ISSUE-007.yaml", &text);
    let status = env.git(&["status", "--porcelain"]).ok().to_string();
    assert!(
        status.starts_with("RM coordination/issues/ISSUE-003.yaml -> coordination/issues/ISSUE-007.yaml"),
        "{status}"
    );

    // And a staged deletion: nothing left in the work tree to add.
    env.git(&["rm", "-q", "coordination/todos/TODO-002.yaml"]).ok();

    let out = env.coord(&["sync"]).ok().to_string();
    assert!(out.contains("committed local coordination changes"), "{out}");
    let pushed = env.git(&["ls-tree", "-r", "--name-only", "origin/main", "coordination"]).ok().to_string();
    assert_eq!(pushed, "coordination/issues/ISSUE-002.yaml\ncoordination/issues/ISSUE-007.yaml\n");
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "");
    assert_eq!(env.coord(&["show-issue", "ISSUE-007", "--format", "json"]).entity()["title"], "Renamed later");
}

#[test]
fn sync_names_both_paths_of_a_staged_rename_out_of_the_coordination_data() {
    let (env, _) = two_clones();
    env.write("docs/plan.yaml", "x: 1\n");
    env.commit_all("docs");
    env.git(&["mv", "docs/plan.yaml", "coordination/issues/ISSUE-009.yaml"]).ok();
    let err = env.coord(&["sync"]).fails(1).to_string();
    assert!(
        err.contains(
            "uncommitted changes outside the coordination data (docs/plan.yaml -> coordination/issues/ISSUE-009.yaml)"
        ),
        "{err}"
    );
}

/// Ours on branch `side`, and `main` checked out in a linked work tree.
fn linked_worktree() -> (TestEnv, PathBuf, PathBuf) {
    let (env, theirs) = two_clones();
    env.git(&["checkout", "-q", "-b", "side"]).ok();
    let linked = env.root.parent().unwrap().join("linked");
    env.git(&["worktree", "add", "-q", linked.to_str().unwrap(), "main"]).ok();
    assert!(linked.join(".git").is_file(), "a linked work tree has a .git file");
    (env, theirs, linked)
}

#[test]
fn sync_works_in_a_linked_worktree() {
    let (env, theirs, linked) = linked_worktree();
    env.coord_in(&theirs, &["create-issue", "--title", "Their issue", "--repos", "oneiric"]).ok();
    commit_in(&env, &theirs, "their issue");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    env.coord_in(&linked, &["create-issue", "--title", "Linked issue", "--repos", "mahavishnu"]).ok();
    env.write_in(&linked, "coordination/issues/.coord-Zz11Yy.tmp", "junk");

    let out = env.coord_in(&linked, &["sync"]).ok().to_string();
    assert!(out.contains("renumbered issue ISSUE-003 → ISSUE-004"), "{out}");
    assert!(out.contains("pushed main to origin"), "{out}");
    let issue = env.coord_in(&linked, &["show-issue", "ISSUE-004", "--format", "json"]).entity();
    assert_eq!(issue["title"], "Linked issue");
    assert_eq!(
        env.git_in(&linked, &["rev-parse", "HEAD"]).ok(),
        env.git_in(&linked, &["rev-parse", "origin/main"]).ok()
    );
    assert_eq!(
        env.git_in(&linked, &["status", "--porcelain", "-uall"]).ok(),
        "?? coordination/issues/.coord-Zz11Yy.tmp\n"
    );
    // The main work tree was not touched.
    assert_eq!(env.git(&["status", "--porcelain", "-uall"]).ok(), "");
    assert_eq!(env.git(&["symbolic-ref", "--short", "HEAD"]).ok(), "side\n");
}

#[test]
fn sync_refuses_a_merge_in_progress_in_a_linked_worktree() {
    let (env, theirs, linked) = linked_worktree();
    env.coord_in(&theirs, &["update-issue", "ISSUE-002", "--status", "blocked"]).ok();
    commit_in(&env, &theirs, "their edit");
    env.git_in(&theirs, &["push", "-q", "origin", "main"]).ok();
    env.coord_in(&linked, &["update-issue", "ISSUE-002", "--status", "resolved"]).ok();
    commit_in(&env, &linked, "our edit");
    env.git_in(&linked, &["fetch", "-q", "origin"]).ok();
    // A plain git merge (no merge driver configured) stops on the conflict.
    env.git_in(&linked, &["merge", "-q", "origin/main"]).fails(1);
    let before = state_of(&env, &linked);
    assert!(before.status.contains("UU coordination/issues/ISSUE-002.yaml"), "{}", before.status);

    let err = env.coord_in(&linked, &["sync"]).fails(1).to_string();
    assert!(err.contains("a merge is in progress; finish or abort it first"), "{err}");
    let after = state_of(&env, &linked);
    assert_eq!(after.head, before.head);
    assert_eq!(after.index, before.index);
    assert!(after.files == before.files);
    assert!(env.read_in(&linked, "coordination/issues/ISSUE-002.yaml").contains("<<<<<<<"));
}

// ---------------------------------------------------------------------------
// The store lock (issue 16, item 7): writes during a sync wait and survive.

/// Ours with a local change, and a remote whose pre-receive hook signals it
/// started, sleeps, then accepts or rejects.
fn sync_with_a_slow_push(env: &TestEnv, accept: bool) -> (std::process::Child, PathBuf) {
    let bare = env.root.parent().unwrap().join("origin.git");
    let started = env.root.parent().unwrap().join("push-started");
    let verdict = if accept { "exit 0" } else { "echo 'policy: rejected' >&2; exit 1" };
    write_hook(&bare.join("hooks"), "pre-receive", &format!("touch '{}'\nsleep 3\n{verdict}\n", started.display()));
    env.coord(&["create-todo", "--task", "Local todo", "--repo", "oneiric"]).ok();
    let child = env.coord_spawn(&["sync"]);
    wait_for(&started);
    (child, started)
}

/// Three writers, each adding four labels to ISSUE-002 one by one while the
/// sync runs; returns the labels whose write reported success, and every
/// writer's stderr.
fn write_labels_meanwhile(env: &TestEnv) -> (Vec<String>, String) {
    let results: Vec<(Vec<String>, String)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|w| {
                s.spawn(move || {
                    let mut ok = Vec::new();
                    let mut stderr = String::new();
                    for i in 0..4 {
                        let label = format!("w{w}-{i}");
                        let run = env.coord(&["update-issue", "ISSUE-002", "--add-label", &label]);
                        stderr.push_str(&run.stderr);
                        if run.code == 0 {
                            ok.push(label);
                        }
                    }
                    (ok, stderr)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let labels = results.iter().flat_map(|(l, _)| l.iter().cloned()).collect();
    let stderr = results.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>().join("\n");
    (labels, stderr)
}

fn labels_of_issue_002(env: &TestEnv) -> Vec<String> {
    let issue = env.coord(&["show-issue", "ISSUE-002", "--format", "json"]).entity();
    issue["labels"].as_array().unwrap().iter().map(|l| l.as_str().unwrap().to_string()).collect()
}

#[test]
fn writes_during_a_sync_whose_push_is_rejected_wait_and_are_kept() {
    let (env, _) = two_clones();
    let head = env.git(&["rev-parse", "HEAD"]).ok().to_string();
    let (child, _) = sync_with_a_slow_push(&env, false);
    let (written, stderr) = write_labels_meanwhile(&env);
    let out = child.wait_with_output().unwrap();
    let sync_err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{sync_err}");
    assert!(sync_err.contains("policy: rejected"), "{sync_err}");
    assert_eq!(written.len(), 12, "every write succeeded:\n{stderr}");
    assert!(stderr.contains("waiting for another git-coord process (sync, pid "), "{stderr}");
    let labels = labels_of_issue_002(&env);
    for l in &written {
        assert!(labels.contains(l), "{l} was reported written but is gone: {labels:?}");
    }
    assert_eq!(env.git(&["rev-parse", "HEAD"]).ok(), head);
    let status = env.git(&["status", "--porcelain"]).ok().to_string();
    assert_eq!(status, " M coordination/issues/ISSUE-002.yaml\n?? coordination/todos/\n");
}

#[test]
fn writes_during_a_sync_whose_push_is_slow_wait_for_it_and_are_kept() {
    let (env, _) = two_clones();
    let (child, _) = sync_with_a_slow_push(&env, true);
    let (written, stderr) = write_labels_meanwhile(&env);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(written.len(), 12, "every write succeeded:\n{stderr}");
    assert!(stderr.contains("waiting for another git-coord process (sync, pid "), "writes waited:\n{stderr}");
    let labels = labels_of_issue_002(&env);
    for l in &written {
        assert!(labels.contains(l), "{l} was reported written but is gone: {labels:?}");
    }
    // The writes came after the sync: uncommitted, not in what was pushed.
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), " M coordination/issues/ISSUE-002.yaml\n");
    let pushed = env.git(&["show", "origin/main:coordination/issues/ISSUE-002.yaml"]).ok().to_string();
    assert!(!pushed.contains("w0-0"), "{pushed}");
    assert!(env.git(&["ls-tree", "--name-only", "origin/main", "coordination/todos/"]).ok().contains("TODO-002.yaml"));
}

// ---------------------------------------------------------------------------
// Contention (issue 16, item 17): clones that sync at the same moment all land.

/// `n` clones of `origin.git`, each with five changes made and not committed:
/// two issues (the second depending on the first), two todos (the first
/// blocked by the second issue, the next blocked by the first todo), and a
/// label `cK` added to the shared ISSUE-002. Every clone allocates the same
/// IDs, so all but one must renumber, and rewrite their references.
fn clones_with_colliding_changes(env: &TestEnv, n: usize) -> Vec<PathBuf> {
    let bare = env.root.parent().unwrap().join("origin.git");
    (0..n)
        .map(|k| {
            let dir = env.root.parent().unwrap().join(format!("clone{k}"));
            env.git(&["clone", "-q", bare.to_str().unwrap(), dir.to_str().unwrap()]).ok();
            let c = |args: &[&str]| env.coord_in(&dir, args).ok().to_string();
            c(&["create-issue", "--title", &format!("c{k} first"), "--repos", "oneiric"]);
            c(&["create-issue", "--title", &format!("c{k} second"), "--repos", "oneiric", "--depends-on", "ISSUE-003"]);
            c(&["create-todo", "--task", &format!("c{k} task"), "--repo", "oneiric", "--blocked-by", "ISSUE-004"]);
            c(&["create-todo", "--task", &format!("c{k} follow"), "--repo", "oneiric", "--blocked-by", "TODO-002"]);
            c(&["update-issue", "ISSUE-002", "--add-label", &format!("c{k}")]);
            dir
        })
        .collect()
}

#[test]
fn twenty_clones_syncing_at_once_all_land_with_distinct_ids_and_rewritten_references() {
    const N: usize = 20;
    let (env, _) = two_clones();
    let clones = clones_with_colliding_changes(&env, N);
    let children: Vec<_> = clones.iter().map(|d| env.coord_spawn_in(d, &["sync"])).collect();
    for (k, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "clone{k}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Everything is on the remote.
    let check = env.root.parent().unwrap().join("check");
    let bare = env.root.parent().unwrap().join("origin.git");
    env.git(&["clone", "-q", bare.to_str().unwrap(), check.to_str().unwrap()]).ok();
    let list =
        |kind: &str| env.coord_in(&check, &[kind, "--all", "--format", "json"]).items().as_array().unwrap().clone();
    let issues = list("list-issues");
    let todos = list("list-todos");
    assert_eq!(issues.len(), 2 + 2 * N, "every issue landed");
    assert_eq!(todos.len(), 1 + 2 * N, "every todo landed");
    let id_of = |items: &[serde_json::Value], field: &str, text: &str| -> String {
        let found: Vec<_> = items.iter().filter(|i| i[field] == text).collect();
        assert_eq!(found.len(), 1, "exactly one `{text}`");
        found[0]["id"].as_str().unwrap().to_string()
    };
    let mut ids = std::collections::HashSet::new();
    for k in 0..N {
        let first = id_of(&issues, "title", &format!("c{k} first"));
        let second = id_of(&issues, "title", &format!("c{k} second"));
        let task = id_of(&todos, "task", &format!("c{k} task"));
        let follow = id_of(&todos, "task", &format!("c{k} follow"));
        for id in [&first, &second, &task, &follow] {
            assert!(ids.insert(id.clone()), "{id} used twice");
        }
        let show = |cmd: &str, id: &str| env.coord_in(&check, &[cmd, id, "--format", "json"]).entity();
        assert_eq!(show("show-issue", &second)["dependencies"], serde_json::json!([first]), "c{k}");
        assert_eq!(show("show-todo", &task)["blocked_by"], serde_json::json!([second]), "c{k}");
        assert_eq!(show("show-todo", &follow)["blocked_by"], serde_json::json!([task]), "c{k}");
    }
    let shared = env.coord_in(&check, &["show-issue", "ISSUE-002", "--format", "json"]).entity();
    let labels = shared["labels"].as_array().unwrap();
    for k in 0..N {
        assert!(labels.contains(&serde_json::json!(format!("c{k}"))), "label c{k} kept: {labels:?}");
    }
    env.coord_in(&check, &["lint"]).ok();
}

#[test]
fn sync_gives_up_after_its_attempts_with_a_clear_error_and_changes_nothing() {
    let (env, _) = messy_clones();
    // The remote always moves on while our push is in flight: its update hook
    // adds a commit to the branch, so our push can never land.
    let bare = env.root.parent().unwrap().join("origin.git");
    write_hook(
        &bare.join("hooks"),
        "update",
        "unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n\
         c=$(git commit-tree -p \"$2\" -m 'meanwhile' \"$2^{tree}\")\n\
         git update-ref \"$1\" \"$c\" \"$2\"\nexit 0\n",
    );
    let before = state_of(&env, &env.root);
    let err = env.coord(&["sync", "--attempts", "3"]).fails(1).to_string();
    assert!(err.contains("the push to origin was rejected 3 times because others kept pushing first"), "{err}");
    let after = state_of(&env, &env.root);
    assert_eq!(after.head, before.head);
    assert_eq!(after.index, before.index);
    assert_eq!(after.status, before.status);
    assert!(after.files == before.files);
    // Three pushes reached the remote (each made its hook add a commit).
    let meanwhile = env.git_in(&bare, &["log", "--format=%s", "main"]).ok().matches("meanwhile").count();
    assert_eq!(meanwhile, 3, "three pushes were tried");
}
