//! The store end to end: the aggregating loader (files + legacy section),
//! tolerance of drift, broken input that loses nothing, ID allocation across
//! branches, migrate byte for byte, settings, and root discovery.

use crate::env::{ECOSYSTEM, TestEnv};

fn ids(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let mut full = args.to_vec();
    full.extend_from_slice(&["--format", "json"]);
    env.coord(&full).items().as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn invalid_yaml_in_one_file_is_reported_and_the_rest_still_load() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Good", "--repos", "oneiric"]).ok();
    env.write("coordination/issues/ISSUE-003.yaml", "id: ISSUE-003\ntitle: [unclosed\nstatus: pending\n");
    env.write("coordination/issues/ISSUE-004.yaml", "id: ISSUE-004\ntitle: Trunc");
    env.write("coordination/issues/ISSUE-005.yaml", "");
    let out = env.coord(&["list-issues", "--format", "json"]);
    let listed: Vec<String> =
        out.items().as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(listed, ["ISSUE-001", "ISSUE-002", "ISSUE-004"], "a truncated but parseable file still loads");
    assert!(out.stderr.contains("coordination/issues/ISSUE-003.yaml:3"), "names file and line: {}", out.stderr);
    assert!(out.stderr.contains("ISSUE-005.yaml:1"), "{}", out.stderr);
    let lint = env.coord(&["lint"]);
    let text = lint.stdout.clone();
    lint.fails(1);
    assert!(text.contains("error: coordination/issues/ISSUE-003.yaml:3"), "{text}");
    assert!(text.contains("ISSUE-004.yaml:1: ISSUE-004 repos: needs at least one repository"), "{text}");
    assert!(text.contains("ISSUE-005.yaml:1: ISSUE-005: the file is empty"), "{text}");
}

#[test]
fn a_wrong_type_names_file_line_and_field_and_blocks_writes() {
    let env = TestEnv::with_ecosystem();
    env.write(
        "coordination/issues/ISSUE-002.yaml",
        "id: ISSUE-002\ntitle: Typed wrong\nstatus: pending\nrepos: [oneiric]\nlabels:\n  nested: map\n",
    );
    let lint = env.coord(&["lint"]);
    assert!(
        lint.stdout.contains(
            "coordination/issues/ISSUE-002.yaml:5: ISSUE-002 labels: expected a list of text, found a mapping"
        ),
        "{}",
        lint.stdout
    );
    lint.fails(1);
    let before = env.read("coordination/issues/ISSUE-002.yaml");
    let err = env.coord(&["update-issue", "ISSUE-002", "--priority", "high"]).fails(1).to_string();
    assert!(err.contains("ISSUE-002 cannot be changed until its file is fixed"), "{err}");
    assert_eq!(env.read("coordination/issues/ISSUE-002.yaml"), before, "nothing lost");
}

#[test]
fn unmappable_values_load_and_lint_reports_them() {
    let env = TestEnv::with_ecosystem();
    env.write(
        "coordination/issues/ISSUE-002.yaml",
        "id: ISSUE-002\ntitle: Odd\nstatus: wontfix\npriority: P2\nrepos: [oneiric]\n",
    );
    let list = env.coord(&["list-issues", "--format", "json"]).items();
    assert_eq!(list[1]["status"], "wontfix", "kept verbatim, not replaced");
    assert_eq!(list[1]["priority"], "medium");
    let lint = env.coord(&["lint"]);
    assert!(
        lint.stdout.contains("ISSUE-002.yaml:3: ISSUE-002 status: unknown issue status `wontfix` (allowed: pending, in_progress, blocked, resolved, closed)"),
        "{}",
        lint.stdout
    );
    // Fixing the value through the CLI works and touches only that line.
    env.commit_all("odd");
    env.coord(&["update-issue", "ISSUE-002", "--status", "closed"]).ok();
    assert_eq!(env.changed_lines(), ["-status: wontfix", "+status: closed", "+updated: 2026-03-01"]);
}

#[test]
fn drift_aliases_are_understood() {
    let env = TestEnv::with_ecosystem();
    env.write(
        "coordination/issues/ISSUE-002.yaml",
        "id: ISSUE-002\ntitle: Drift\nstatus: fixed\npriority: p0\nupdated_at: 2026-02-01 10:00:00\ntags: [a, b]\naffected_files: [oneiric/core.py, session-buddy/x.py]\n",
    );
    env.write(
        "coordination/issues/ISSUE-003.yaml",
        "id: ISSUE-003\ntitle: Pool\nstatus: In Progress\npool: mahavishnu\n",
    );
    let list = env.coord(&["list-issues", "--all", "--format", "json"]).items();
    let i2 = &list[1];
    assert_eq!(i2["status"], "resolved");
    assert_eq!(i2["priority"], "critical");
    assert_eq!(i2["updated"], "2026-02-01 10:00:00", "a datetime stays as written");
    assert_eq!(i2["labels"], serde_json::json!(["a", "b"]));
    assert_eq!(i2["repos"], serde_json::json!(["oneiric", "session-buddy"]));
    assert_eq!(list[2]["status"], "in_progress");
    assert_eq!(list[2]["repos"], serde_json::json!(["mahavishnu"]));
    env.coord(&["lint"]).ok();
}

#[test]
fn a_file_overrides_the_legacy_section_with_a_warning() {
    let env = TestEnv::with_ecosystem();
    env.write(
        "coordination/issues/ISSUE-001.yaml",
        "id: ISSUE-001\ntitle: From file\nrepos: [oneiric]\nstatus: pending\n",
    );
    let out = env.coord(&["list-issues", "--format", "json"]);
    assert_eq!(out.items()[0]["title"], "From file");
    assert!(
        out.stderr.contains("ISSUE-001: defined both in coordination/issues/ISSUE-001.yaml and in the legacy section of settings/ecosystem.yaml; the file wins"),
        "{}",
        out.stderr
    );
}

#[test]
fn ids_are_allocated_past_every_branch() {
    let env = TestEnv::with_ecosystem();
    env.git(&["checkout", "-q", "-b", "feature"]).ok();
    env.coord(&["create-issue", "--title", "On feature", "--repos", "oneiric"]).ok();
    env.coord(&["create-issue", "--title", "On feature 2", "--repos", "oneiric"]).ok();
    env.commit_all("feature work");
    env.git(&["checkout", "-q", "main"]).ok();
    assert!(!env.exists("coordination/issues/ISSUE-003.yaml"));
    let out = env.coord(&["create-issue", "--title", "On main", "--repos", "oneiric"]);
    assert!(out.ok().contains("ISSUE-004"), "ISSUE-002/003 exist on `feature`: {}", out.stdout);
    // A remote-tracking branch counts too.
    let remote = env.root.parent().unwrap().join("remote.git");
    env.git(&["init", "-q", "--bare", remote.to_str().unwrap()]).ok();
    env.git(&["remote", "add", "origin", remote.to_str().unwrap()]).ok();
    env.git(&["checkout", "-q", "-b", "other"]).ok();
    env.write("coordination/issues/ISSUE-041.yaml", "id: ISSUE-041\ntitle: Far\nrepos: [oneiric]\n");
    env.commit_all("issue 41");
    env.git(&["push", "-q", "origin", "other"]).ok();
    env.git(&["checkout", "-q", "main"]).ok();
    env.git(&["branch", "-q", "-D", "other"]).ok();
    let out = env.coord(&["create-issue", "--title", "Next", "--repos", "oneiric"]);
    assert!(out.ok().contains("ISSUE-042"), "origin/other holds ISSUE-041: {}", out.stdout);
}

#[test]
fn migrate_moves_the_section_and_keeps_every_other_byte() {
    let env = TestEnv::with_ecosystem();
    let out = env.coord(&["migrate"]);
    assert_eq!(
        out.ok(),
        "wrote ISSUE-001 → coordination/issues/ISSUE-001.yaml\nwrote TODO-001 → coordination/todos/TODO-001.yaml\nremoved the coordination section from settings/ecosystem.yaml\n"
    );
    let expected = &ECOSYSTEM[..ECOSYSTEM.find("coordination:").unwrap()];
    assert_eq!(env.read("settings/ecosystem.yaml"), expected, "only the section is removed, byte for byte");
    insta::assert_snapshot!(env.read("coordination/todos/TODO-001.yaml"), @r"
    id: TODO-001
    task: Legacy todo
    repo: session-buddy
    status: completed
    priority: medium
    estimated_hours: 4
    ");
    // Idempotent.
    env.commit_all("migrated");
    assert!(env.coord(&["migrate"]).ok().contains("nothing to migrate"));
    assert!(env.changed_lines().is_empty());
}

#[test]
fn migrate_refuses_conflicting_files_and_changes_nothing() {
    let env = TestEnv::with_ecosystem();
    env.write("coordination/issues/ISSUE-001.yaml", "id: ISSUE-001\ntitle: Different\nrepos: [oneiric]\n");
    env.commit_all("conflict");
    let err = env.coord(&["migrate"]).fails(1).to_string();
    assert!(err.contains("ISSUE-001: coordination/issues/ISSUE-001.yaml exists with different content"), "{err}");
    assert!(env.changed_lines().is_empty(), "nothing changed");
    assert!(!env.exists("coordination/todos/TODO-001.yaml"));
}

#[test]
fn settings_warn_on_unknown_keys_and_fail_on_wrong_types() {
    let env = TestEnv::with_ecosystem();
    env.write("settings/coord.yaml", "enabled: true\nhours_per_dya: 6\n");
    let out = env.coord(&["list-issues"]);
    out.ok();
    let lint = env.coord(&["lint"]).stdout;
    assert!(lint.contains("unknown setting `hours_per_dya` (ignored); did you mean `hours_per_day`?"), "{lint}");
    env.write("settings/coord.yaml", "hours_per_day: lots\n");
    let err = env.coord(&["list-issues"]).fails(1).to_string();
    assert!(err.contains("settings/coord.yaml: setting `hours_per_day`: expected a number of hours"), "{err}");
    // Fallback: the coordination section of mahavishnu.yaml.
    std::fs::remove_file(env.root.join("settings/coord.yaml")).unwrap();
    env.write("settings/mahavishnu.yaml", "coordination:\n  date_precision: timestamp\n  id_prefixes: {issue: BUG}\n");
    let out = env.coord(&["create-issue", "--title", "T", "--repos", "oneiric"]);
    assert!(out.ok().contains("BUG-001"), "{}", out.stdout);
    let text = env.read("coordination/issues/BUG-001.yaml");
    assert!(text.contains("created: 2026-03-01T12:00:00Z"), "{text}");
}

#[test]
fn the_root_can_be_a_subfolder_of_the_repository() {
    let env = TestEnv::new();
    env.write("platform/settings/ecosystem.yaml", "repos:\n  - name: api\n");
    env.write("platform/src/main.rs", "");
    env.commit_all("monorepo");
    let sub = env.root.join("platform/src");
    let out = env.coord_in(&sub, &["create-issue", "--title", "Sub", "--repos", "api"]);
    assert_eq!(out.ok(), "created ISSUE-001 (coordination/issues/ISSUE-001.yaml)\n");
    assert!(env.exists("platform/coordination/issues/ISSUE-001.yaml"));
    env.commit_all("issue");
    env.git(&["checkout", "-q", "-b", "b2"]).ok();
    env.coord_in(&sub, &["create-issue", "--title", "Sub 2", "--repos", "api"]).ok();
    env.commit_all("issue 2");
    env.git(&["checkout", "-q", "main"]).ok();
    let out = env.coord(&["-C", "platform", "create-issue", "--title", "Sub 3", "--repos", "api"]);
    assert!(out.ok().contains("ISSUE-003"), "branch trees are read under the subfolder: {}", out.stdout);
}

#[test]
fn outside_a_repository_file_commands_use_the_current_directory() {
    let env = TestEnv::new();
    let outside = env.root.parent().unwrap().join("plain");
    std::fs::create_dir_all(&outside).unwrap();
    env.coord_in(&outside, &["init"]).ok();
    let out = env.coord_in(&outside, &["create-issue", "--title", "No git", "--repos", "x"]);
    assert_eq!(out.ok(), "created ISSUE-001 (coordination/issues/ISSUE-001.yaml)\n");
    assert!(outside.join("coordination/issues/ISSUE-001.yaml").is_file());
    assert_eq!(ids(&env, &["-C", outside.to_str().unwrap(), "list-issues"]), ["ISSUE-001"]);
}

#[test]
fn help_works_every_way() {
    let env = TestEnv::new();
    assert!(env.coord(&["--help"]).ok().contains("list-issues"));
    assert!(env.coord(&["-h"]).ok().contains("Usage: git coord"));
    let err = env.coord(&["no-such-command"]).fails(2).to_string();
    assert!(err.contains("unrecognized subcommand"), "{err}");
    let dir = env.root.join("man1");
    env.coord(&["man", "--dir", dir.to_str().unwrap()]).ok();
    let page = std::fs::read_to_string(dir.join("git-coord.1")).unwrap();
    assert!(page.contains(".TH git-coord 1"), "{page}");
    assert!(dir.join("git-coord-list-issues.1").is_file());
}

#[test]
fn every_status_and_date_alias_maps_for_every_kind() {
    let env = TestEnv::with_ecosystem();
    env.write(
        "coordination/issues/ISSUE-010.yaml",
        "id: ISSUE-010\ntitle: a\nrepos: [oneiric]\nstatus: planned\nfixed_at: 2026-02-02\n",
    );
    env.write(
        "coordination/issues/ISSUE-011.yaml",
        "id: ISSUE-011\ntitle: b\nrepos: [oneiric]\nstatus: in-progress\npriority: P3\n",
    );
    env.write(
        "coordination/todos/TODO-010.yaml",
        "id: TODO-010\ntask: c\nrepo: oneiric\nstatus: fixed\ncompleted_at: 2026-02-03\ncreated_at: 2026-01-03\n",
    );
    env.write("coordination/todos/TODO-011.yaml", "id: TODO-011\ntask: d\nrepo: oneiric\nstatus: open\npriority: P2\n");
    env.write(
        "coordination/plans/PLAN-010.yaml",
        "id: PLAN-010\ntitle: e\nstatus: In Progress\nmilestones:\n- id: MILESTONE-010\n  name: m\n  status: done\n",
    );
    env.write(
        "coordination/dependencies/DEP-010.yaml",
        "id: DEP-010\nconsumer: vishnu\nprovider: sb\nstatus: ok\ntype: dev\n",
    );
    let i = |id: &str| env.coord(&["show-issue", id, "--format", "json"]).entity();
    assert_eq!(i("ISSUE-010")["status"], "pending");
    assert_eq!(i("ISSUE-010")["updated"], "2026-02-02");
    assert_eq!(i("ISSUE-011")["status"], "in_progress");
    assert_eq!(i("ISSUE-011")["priority"], "low");
    let t = env.coord(&["show-todo", "TODO-010", "--format", "json"]).entity();
    assert_eq!(
        (t["status"].as_str(), t["updated"].as_str(), t["created"].as_str()),
        (Some("completed"), Some("2026-02-03"), Some("2026-01-03"))
    );
    let t = env.coord(&["show-todo", "TODO-011", "--format", "json"]).entity();
    assert_eq!((t["status"].as_str(), t["priority"].as_str()), (Some("pending"), Some("medium")));
    let p = env.coord(&["show-plan", "PLAN-010", "--format", "json"]).entity();
    assert_eq!((p["status"].as_str(), p["milestones"][0]["status"].as_str()), (Some("active"), Some("completed")));
    let d = env.coord(&["show-dep", "DEP-010", "--format", "json"]).entity();
    assert_eq!((d["status"].as_str(), d["type"].as_str()), (Some("satisfied"), Some("development")));
    env.coord(&["lint"]).ok();
}

#[test]
fn lint_reports_duplicates_mismatched_names_and_missing_references() {
    let env = TestEnv::with_ecosystem();
    env.write("coordination/issues/ISSUE-002.yaml", "id: ISSUE-002\ntitle: a\nrepos: [oneiric]\n");
    env.write("coordination/issues/ISSUE-003.yaml", "id: ISSUE-002\ntitle: copy\nrepos: [oneiric]\n");
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: t\nrepo: nowhere\nblocked_by: [TODO-099, TODO-002]\nmilestone_id: MILESTONE-404\n",
    );
    env.write(
        "settings/ecosystem.yaml",
        &format!("{}    - id: TODO-001\n      task: twice\n      repo: oneiric\n", crate::env::ECOSYSTEM),
    );
    let lint = env.coord(&["lint"]);
    let out = lint.stdout.clone();
    lint.fails(1);
    for expected in [
        "coordination/issues/ISSUE-003.yaml:1: ISSUE-002 id: file name `ISSUE-003` does not match id `ISSUE-002`",
        "coordination/issues/ISSUE-003.yaml:1: ISSUE-002: duplicate ID: also defined in coordination/issues/ISSUE-002.yaml",
        "TODO-002.yaml:4: TODO-002 blocked_by: unknown reference `TODO-099` (no issue or todo with that ID)",
        "TODO-002.yaml:4: TODO-002 blocked_by: TODO-002 references itself",
        "TODO-002.yaml:5: TODO-002 milestone_id: unknown milestone `MILESTONE-404`",
        "TODO-002.yaml:3: TODO-002 repo: unknown repository `nowhere`",
        "settings/ecosystem.yaml:40: TODO-001: duplicate ID in the legacy section",
    ] {
        assert!(out.contains(expected), "missing `{expected}` in:\n{out}");
    }
}
