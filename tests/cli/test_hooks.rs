//! The pre-push hook, through real `git push` to a bare repository.

use crate::env::TestEnv;
use std::path::PathBuf;

/// The example ecosystem plus ISSUE-002 and TODO-002 (blocked by it),
/// pushed to a bare `origin`.
fn with_remote() -> (TestEnv, PathBuf) {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Fix auth", "--repos", "mahavishnu"]).ok();
    env.coord(&["create-todo", "--task", "Rotate keys", "--repo", "vishnu", "--blocked-by", "ISSUE-002"]).ok();
    env.commit_all_at("work", "2026-03-02T09:00:00+00:00");
    let bare = env.root.parent().unwrap().join("origin.git");
    env.git(&["init", "-q", "--bare", bare.to_str().unwrap()]).ok();
    env.git(&["remote", "add", "origin", bare.to_str().unwrap()]).ok();
    env.git(&["push", "-q", "-u", "origin", "main"]).ok();
    (env, bare)
}

fn hook_path(env: &TestEnv) -> PathBuf {
    env.root.join(".git/hooks/pre-push")
}

#[test]
fn install_update_uninstall() {
    let (env, _) = with_remote();
    let out = env.coord(&["hook", "install"]).ok().to_string();
    assert!(out.starts_with("installed "), "{out}");
    let text = std::fs::read_to_string(hook_path(&env)).unwrap();
    assert!(text.starts_with("#!/bin/sh\n# git-coord pre-push hook"), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(hook_path(&env)).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "the hook must be executable");
    }
    assert!(env.coord(&["hook", "install"]).ok().starts_with("updated "));
    assert!(env.coord(&["hook", "uninstall"]).ok().starts_with("removed "));
    assert!(!hook_path(&env).exists());
    assert_eq!(env.coord(&["hook", "uninstall"]).ok(), "no pre-push hook installed\n");
}

#[test]
fn an_existing_hook_is_chained_and_restored() {
    let (env, _) = with_remote();
    let marker = env.root.parent().unwrap().join("theirs-ran");
    let theirs = format!("#!/bin/sh\ncat > '{}'\nexit 0\n", marker.display());
    std::fs::write(hook_path(&env), &theirs).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(hook_path(&env), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = env.coord(&["hook", "install"]).ok().to_string();
    assert!(out.contains("kept as") && out.contains("pre-push.pre-coord"), "{out}");
    env.coord(&["update-issue", "ISSUE-002", "--priority", "high"]).ok();
    env.commit_all_at("bump", "2026-03-03T09:00:00+00:00");
    env.git(&["push", "-q", "origin", "main"]).ok();
    // Their hook ran, with git's ref lines on its stdin.
    let got = std::fs::read_to_string(&marker).unwrap();
    assert!(got.starts_with("refs/heads/main "), "{got}");
    // Uninstall puts theirs back, byte for byte.
    assert!(env.coord(&["hook", "uninstall"]).ok().contains("previous hook again"));
    assert_eq!(std::fs::read_to_string(hook_path(&env)).unwrap(), theirs);
    // A hook that is not ours is never removed.
    assert!(env.coord(&["hook", "uninstall"]).ok().contains("not installed by git-coord; left alone"));
    assert!(hook_path(&env).exists());
}

#[test]
fn pre_push_refuses_a_broken_reference_and_allows_a_clean_push() {
    let (env, bare) = with_remote();
    env.coord(&["hook", "install"]).ok();

    // Clean: passes quietly.
    env.coord(&["update-issue", "ISSUE-002", "--status", "in_progress"]).ok();
    env.commit_all_at("start", "2026-03-03T09:00:00+00:00");
    let push = env.git(&["push", "origin", "main"]);
    push.ok();
    assert!(!push.stderr.contains("git coord"), "a clean push is quiet:\n{}", push.stderr);

    // Broken: a hand edit points TODO-002 at an issue that does not exist.
    let path = "coordination/todos/TODO-002.yaml";
    env.write(path, &env.read(path).replace("- ISSUE-002", "- ISSUE-099"));
    env.commit_all_at("typo", "2026-03-04T09:00:00+00:00");
    let refused = env.git(&["push", "origin", "main"]);
    let err = refused.fails(1);
    assert!(
        err.contains(
            "git coord: push refused: refs/heads/main has 1 coordination error(s) (compared with origin/main)"
        ),
        "{err}"
    );
    assert!(err.contains("ISSUE-099"), "{err}");
    assert!(err.contains("--no-verify"), "{err}");
    let remote_head = env.git_in(&bare, &["rev-parse", "main"]).ok().trim().to_string();
    let local_prev = env.git(&["rev-parse", "HEAD~1"]).ok().trim().to_string();
    assert_eq!(remote_head, local_prev, "the broken commit must not reach the remote");

    // git's own bypass still works.
    env.git(&["push", "-q", "--no-verify", "origin", "main"]).ok();
}

#[test]
fn pre_push_refuses_a_cycle_and_an_id_the_remote_already_has() {
    let (env, _) = with_remote();
    env.coord(&["hook", "install"]).ok();
    // Someone else pushes ISSUE-003 to main.
    let other = env.root.parent().unwrap().join("other");
    let url = env.root.parent().unwrap().join("origin.git");
    env.git(&["clone", "-q", url.to_str().unwrap(), other.to_str().unwrap()]).ok();
    env.coord_in(&other, &["create-issue", "--title", "Theirs", "--repos", "oneiric"]).ok();
    env.git_in(&other, &["add", "-A"]).ok();
    env.git_in(&other, &["commit", "-q", "-m", "theirs"]).ok();
    env.git_in(&other, &["push", "-q", "origin", "main"]).ok();
    env.git(&["fetch", "-q", "origin"]).ok();

    // Locally, a topic branch (from before the fetch) creates its own ISSUE-003.
    env.git(&["checkout", "-q", "-b", "topic"]).ok();
    env.write(
        "coordination/issues/ISSUE-003.yaml",
        "id: ISSUE-003\ntitle: Mine\nstatus: pending\npriority: low\nrepos: [oneiric]\n",
    );
    env.commit_all_at("mine", "2026-03-03T09:00:00+00:00");
    let err = env.git(&["push", "origin", "topic"]).fails(1).to_string();
    assert!(err.contains("issue ISSUE-003 also exists on origin/main: \"Theirs\" there, \"Mine\" here"), "{err}");

    // A cycle is refused too.
    env.git(&["checkout", "-q", "main"]).ok();
    env.git(&["merge", "-q", "--ff-only", "origin/main"]).ok();
    let path = "coordination/issues/ISSUE-002.yaml";
    env.write(path, &format!("{}dependencies: [ISSUE-003]\n", env.read(path)));
    let path = "coordination/issues/ISSUE-003.yaml";
    env.write(path, &format!("{}dependencies: [ISSUE-002]\n", env.read(path)));
    env.commit_all_at("cycle", "2026-03-04T09:00:00+00:00");
    let err = env.git(&["push", "origin", "main"]).fails(1).to_string();
    assert!(err.contains("cycle"), "{err}");
}

#[test]
fn pre_push_input_from_the_pre_commit_framework() {
    let (mut env, _) = with_remote();
    let path = "coordination/todos/TODO-002.yaml";
    env.write(path, &env.read(path).replace("- ISSUE-002", "- ISSUE-099"));
    env.commit_all_at("typo", "2026-03-04T09:00:00+00:00");
    let head = env.git(&["rev-parse", "HEAD"]).ok().trim().to_string();
    let from = env.git(&["rev-parse", "HEAD~1"]).ok().trim().to_string();
    env.set_env("PRE_COMMIT_TO_REF", &head);
    env.set_env("PRE_COMMIT_FROM_REF", &from);
    env.set_env("PRE_COMMIT_REMOTE_NAME", "origin");
    let err = env.coord(&["hook", "pre-push"]).fails(1).to_string();
    assert!(err.contains("ISSUE-099"), "{err}");
}

#[test]
fn pre_push_runs_no_validation_command() {
    let (env, _) = with_remote();
    env.coord(&["hook", "install"]).ok();
    // A branch (someone's pull request, checked out here) that approves its
    // own command in the tracked settings.
    env.git(&["checkout", "-q", "-b", "theirs"]).ok();
    let ran = env.root.parent().unwrap().join("hook-ran-a-command");
    env.write("settings/coord.yaml", "trust_commands: all\n");
    env.write(
        "coordination/dependencies/DEP-001.yaml",
        &format!(
            "id: DEP-001\nconsumer: mahavishnu\nprovider: oneiric\nstatus: unknown\nvalidation:\n  command: 'touch {}'\n",
            ran.display()
        ),
    );
    env.commit_all_at("a dependency check", "2026-03-03T09:00:00+00:00");
    env.git(&["push", "-q", "origin", "theirs"]).ok();
    assert!(!ran.exists(), "the pre-push hook ran a command the tracked settings approved");

    // The hook's check is offline: even an approved command does not run.
    env.coord(&["trust", "DEP-001"]).ok();
    env.coord(&["update-dep", "DEP-001", "--status", "satisfied"]).ok();
    env.commit_all_at("status", "2026-03-04T09:00:00+00:00");
    env.git(&["push", "-q", "origin", "theirs"]).ok();
    assert!(!ran.exists(), "the pre-push hook ran a command");
    // Yet the same command runs where it is asked for: check-deps, online.
    env.coord(&["check-deps"]).ok();
    assert!(ran.exists());
}

#[test]
fn auto_dependency_check_decides_whether_the_hook_checks_dependencies() {
    let (env, bare) = with_remote();
    env.coord(&["hook", "install"]).ok();
    // oneiric (../oneiric in the registry) is released as 0.1.0.
    let oneiric = env.root.parent().unwrap().join("oneiric");
    std::fs::create_dir_all(&oneiric).unwrap();
    env.git_in(&oneiric, &["init", "-q", "-b", "main"]).ok();
    env.git_in(&oneiric, &["commit", "-q", "--allow-empty", "-m", "init"]).ok();
    env.git_in(&oneiric, &["tag", "v0.1.0"]).ok();
    // A push adding a dependency that an offline check finds unsatisfied,
    // with the hook set to refuse known-unsatisfied ones too (by default a
    // new dependency only warns: test_semantics point 1).
    env.write("settings/coord.yaml", "hook:\n  block_on: unsatisfied\n");
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "oneiric", "--version-constraint", ">=1.0"]).ok();
    env.commit_all_at("needs oneiric 1.0", "2026-03-03T09:00:00+00:00");
    let err = env.git(&["push", "origin", "main"]).fails(1).to_string();
    assert!(
        err.contains("DEP-001 mahavishnu → oneiric is unsatisfied: 0.1.0 (tag v0.1.0) does not satisfy >=1.0"),
        "{err}"
    );
    // Turned off in the settings: the hook no longer checks dependencies.
    env.write("settings/coord.yaml", "auto_dependency_check: false\n");
    env.commit_all_at("no dependency checks in the hook", "2026-03-04T09:00:00+00:00");
    let push = env.git(&["push", "origin", "main"]);
    push.ok();
    assert!(!push.stderr.contains("git coord"), "{}", push.stderr);
    let remote_head = env.git_in(&bare, &["rev-parse", "main"]).ok().trim().to_string();
    assert_eq!(remote_head, env.git(&["rev-parse", "HEAD"]).ok().trim());
    // Other checks still run: a broken reference is refused.
    let path = "coordination/todos/TODO-002.yaml";
    env.write(path, &env.read(path).replace("- ISSUE-002", "- ISSUE-099"));
    env.commit_all_at("typo", "2026-03-05T09:00:00+00:00");
    assert!(env.git(&["push", "origin", "main"]).fails(1).contains("ISSUE-099"));
}
