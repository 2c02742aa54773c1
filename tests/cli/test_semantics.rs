//! Issue 11, "Semantics that are wrong today", points 1–8: one black-box test
//! (or a few) per point, named `pointN_…` so they can be listed. Point 5 is in
//! `test_doctor` (`point5_doctor_accepts_one_sided_edges`).

use crate::env::{TestEnv, ids};
use serde_json::Value;
use std::path::{Path, PathBuf};

// ---- point 1: the pre-push hook refuses what is broken, warns about what is known

/// The example ecosystem pushed to a bare `origin`, with the hook installed.
fn pushed() -> (TestEnv, PathBuf) {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Fix auth", "--repos", "mahavishnu"]).ok();
    env.commit_all_at("work", "2026-03-02T09:00:00+00:00");
    let bare = env.root.parent().unwrap().join("origin.git");
    env.git(&["init", "-q", "--bare", bare.to_str().unwrap()]).ok();
    env.git(&["remote", "add", "origin", bare.to_str().unwrap()]).ok();
    env.git(&["push", "-q", "-u", "origin", "main"]).ok();
    env.coord(&["hook", "install"]).ok();
    (env, bare)
}

/// `../oneiric` released as 0.1.0 (a sibling checkout some developers have).
fn oneiric_checkout(env: &TestEnv) {
    let oneiric = env.root.parent().unwrap().join("oneiric");
    std::fs::create_dir_all(&oneiric).unwrap();
    env.git_in(&oneiric, &["init", "-q", "-b", "main"]).ok();
    env.git_in(&oneiric, &["commit", "-q", "--allow-empty", "-m", "init"]).ok();
    env.git_in(&oneiric, &["tag", "v0.1.0"]).ok();
}

fn remote_has_head(env: &TestEnv, bare: &Path) -> bool {
    env.git_in(bare, &["rev-parse", "main"]).ok().trim() == env.git(&["rev-parse", "HEAD"]).ok().trim()
}

#[test]
fn point1_hook_records_a_planned_dependency_whatever_checkouts_exist() {
    // Without the provider's checkout, and then with it: the same verdict.
    for with_checkout in [false, true] {
        let (env, bare) = pushed();
        if with_checkout {
            oneiric_checkout(&env);
        }
        env.coord(&[
            "create-dep",
            "--consumer",
            "vishnu",
            "--provider",
            "oneiric",
            "--version-constraint",
            ">=2.0",
            "--status",
            "unsatisfied",
        ])
        .ok();
        env.commit_all_at("plan: vishnu needs oneiric 2.0", "2026-03-03T09:00:00+00:00");
        let push = env.git(&["push", "origin", "main"]);
        push.ok();
        assert!(remote_has_head(&env, &bare), "checkout {with_checkout}: the planned dependency was pushed");
        assert!(push.stderr.contains("warning: DEP-001 mahavishnu → oneiric is unsatisfied"), "{}", push.stderr);
        assert!(!push.stderr.contains("push refused"), "{}", push.stderr);
    }
}

#[test]
fn point1_hook_refuses_a_dependency_the_push_breaks() {
    let (env, bare) = pushed();
    oneiric_checkout(&env);
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "oneiric", "--version-constraint", ">=0.1"]).ok();
    env.commit_all_at("vishnu needs oneiric 0.1", "2026-03-03T09:00:00+00:00");
    let push = env.git(&["push", "origin", "main"]);
    push.ok();
    assert!(!push.stderr.contains("unsatisfied"), "a satisfied dependency is quiet: {}", push.stderr);
    // The push raises the constraint past what the provider has: broken.
    env.coord(&["update-dep", "DEP-001", "--version-constraint", ">=0.5"]).ok();
    env.commit_all_at("raise", "2026-03-04T09:00:00+00:00");
    let err = env.git(&["push", "origin", "main"]).fails(1).to_string();
    assert!(err.contains("push refused"), "{err}");
    assert!(err.contains("DEP-001 mahavishnu → oneiric is unsatisfied"), "{err}");
    assert!(!remote_has_head(&env, &bare));
    // Acknowledging it (storing `unsatisfied`) turns the refusal into a warning.
    env.coord(&["update-dep", "DEP-001", "--status", "unsatisfied"]).ok();
    env.commit_all_at("known: oneiric 0.5 is not out yet", "2026-03-05T09:00:00+00:00");
    let push = env.git(&["push", "origin", "main"]);
    push.ok();
    assert!(push.stderr.contains("warning: DEP-001"), "{}", push.stderr);
}

#[test]
fn point1_hook_block_on_unsatisfied_refuses_known_ones_too() {
    let (env, bare) = pushed();
    env.write("settings/coord.yaml", "hook:\n  block_on: unsatisfied\n");
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "oneiric", "--status", "unsatisfied"]).ok();
    env.commit_all_at("planned", "2026-03-03T09:00:00+00:00");
    let err = env.git(&["push", "origin", "main"]).fails(1).to_string();
    assert!(err.contains("DEP-001 mahavishnu → oneiric is unsatisfied"), "{err}");
    assert!(!remote_has_head(&env, &bare));
    // A bad value is an error naming the key.
    env.write("settings/coord.yaml", "hook:\n  block_on: sometimes\n");
    let err = env.coord(&["list-issues"]).fails(1).to_string();
    assert!(err.contains("hook.block_on") && err.contains("`broken` or `unsatisfied`"), "{err}");
}

// ---- point 2: milestone and plan dependencies, one rule everywhere

/// PLAN-001 with MILESTONE-001 (TODO-001, 16h) and MILESTONE-002, which
/// depends on MILESTONE-001 (TODO-002, 8h, no direct blocker); PLAN-002
/// depends on PLAN-001 (TODO-003).
fn milestones() -> TestEnv {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    env.coord(&[
        "create-plan",
        "--title",
        "Q2",
        "--status",
        "active",
        "--milestone",
        "First:2026-06-01",
        "--milestone",
        "Second:2026-06-01",
    ])
    .ok();
    env.coord(&["update-milestone", "MILESTONE-002", "--depends-on", "MILESTONE-001"]).ok();
    env.coord(&["create-plan", "--title", "Q3", "--status", "active", "--depends-on", "PLAN-001"]).ok();
    let todo = |task: &str, repo: &str, est: &str, link: &[&str]| {
        let mut a = vec!["create-todo", "--task", task, "--repo", repo, "--estimate", est];
        a.extend_from_slice(link);
        env.coord(&a).ok();
    };
    todo("Build base", "oneiric", "16", &["--milestone", "MILESTONE-001"]);
    todo("Build on it", "oneiric", "8", &["--milestone", "MILESTONE-002"]);
    todo("Next quarter", "vishnu", "4", &["--plan", "PLAN-002"]);
    env
}

fn ready_ids(env: &TestEnv) -> Vec<String> {
    ids(&env.coord(&["ready", "--format", "json"]).json()["items"])
}

#[test]
fn point2_milestone_and_plan_dependencies_block_their_todos() {
    let env = milestones();
    // TODO-001 (legacy, done) aside, only the work of the first milestone is ready.
    assert_eq!(ready_ids(&env), ["TODO-002"], "create-todo numbering: TODO-002 is 'Build base'");
    // blocking: the repo's blocked todos name the milestone / plan.
    let b = env.coord(&["blocking", "oneiric", "--format", "json"]).json();
    let blocked: Vec<(String, String)> = b["blocked_todos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap().to_string(), t["blockers"][0][0].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(blocked, [("TODO-003".to_string(), "MILESTONE-001".to_string())], "{b}");
    let b = env.coord(&["blocking", "vishnu", "--format", "json"]).json();
    assert_eq!(ids(&b["blocked_todos"]), ["TODO-004"], "{b}");
    assert_eq!(b["blocked_todos"][0]["blockers"][0][0], "PLAN-001", "{b}");
    // blocked-by: the other direction, by the same rule — mahavishnu's
    // TODO-004 waits on PLAN-001, whose open work is oneiric's.
    let by = env.coord(&["blocked-by", "oneiric", "--format", "json"]).json();
    assert_eq!(ids(&by["entities"]), ["TODO-004"], "{by}");
    assert_eq!(by["entities"][0]["waits_on"], serde_json::json!(["PLAN-001"]), "{by}");
    assert_eq!(by["repos"], serde_json::json!(["mahavishnu"]), "{by}");
    // status counts them as blocked (effective state).
    let s = env.coord(&["status", "--format", "json"]).json();
    assert_eq!(s["todos"]["blocked"], 2, "{s}");
    assert_eq!(s["ready_todos"], 1, "{s}");
    // Finishing the first milestone frees the second; the plan still blocks PLAN-002.
    env.coord(&["complete-todo", "TODO-002"]).ok();
    env.coord(&["update-milestone", "MILESTONE-001", "--status", "completed"]).ok();
    assert_eq!(ready_ids(&env), ["TODO-003"]);
    env.coord(&["complete-todo", "TODO-003"]).ok();
    env.coord(&["update-plan", "PLAN-001", "--status", "completed"]).ok();
    assert_eq!(ready_ids(&env), ["TODO-004"]);
}

#[test]
fn point2_roadmap_projects_a_milestone_after_those_it_depends_on() {
    let env = milestones();
    let r = env.coord(&["roadmap", "--plan", "PLAN-001", "--format", "json"]).json();
    let plan = &r["plans"][0];
    let ms = plan["milestones"].as_array().unwrap();
    let projected = |i: usize| ms[i]["projected"].as_str().unwrap().to_string();
    assert!(projected(1) > projected(0), "MILESTONE-002 after MILESTONE-001: {r}");
    assert_eq!(ms[1]["remaining_hours"], 24.0, "its own 8h after the 16h it waits for: {r}");
    assert_eq!(plan["critical_path"], serde_json::json!(["TODO-002", "TODO-003"]), "{r}");
    // PLAN-002 waits for all of PLAN-001.
    let r2 = env.coord(&["roadmap", "--plan", "PLAN-002", "--format", "json"]).json();
    assert_eq!(r2["plans"][0]["critical_path_hours"], 28.0, "{r2}");
}

#[test]
fn point2_the_shipped_example_projects_milestone_002_after_001() {
    let env = TestEnv::new();
    env.write("settings/ecosystem.yaml", include_str!("../../settings/ecosystem.yaml"));
    let r = env.coord(&["roadmap", "--format", "json"]).json();
    let plan = r["plans"].as_array().unwrap().iter().find(|p| p["id"] == "PLAN-001").expect("PLAN-001").clone();
    let ms = plan["milestones"].as_array().unwrap();
    let at = |id: &str| {
        ms.iter().find(|m| m["id"] == id).and_then(|m| m["projected"].as_str()).unwrap_or_default().to_string()
    };
    assert!(!at("MILESTONE-001").is_empty(), "{plan}");
    assert!(at("MILESTONE-002") >= at("MILESTONE-001"), "MILESTONE-002 depends on MILESTONE-001: {plan}");
}

#[test]
fn point2_dep_graph_marks_inherited_blocks() {
    let env = milestones();
    let g = env.coord(&["dep-graph", "--kind", "entities", "--format", "json"]).json();
    let blocked: Vec<&str> = g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["blocked"] == true)
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(blocked, ["MILESTONE-002", "PLAN-002", "TODO-003", "TODO-004"], "{g}");
    let via: Vec<(&str, &str, &str)> = g["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["label"].as_str().unwrap().starts_with("blocks via"))
        .map(|e| (e["from"].as_str().unwrap(), e["to"].as_str().unwrap(), e["label"].as_str().unwrap()))
        .collect();
    assert_eq!(
        via,
        [("MILESTONE-001", "TODO-003", "blocks via MILESTONE-002"), ("PLAN-001", "TODO-004", "blocks via PLAN-002")]
    );
}

// ---- point 3: starting or completing blocked work

#[test]
fn point3_starting_or_completing_blocked_work_warns_or_is_refused() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    env.coord(&["create-issue", "--title", "Auth broken", "--repos", "oneiric"]).ok();
    env.coord(&["create-todo", "--task", "Ship", "--repo", "oneiric", "--blocked-by", "ISSUE-002"]).ok();
    let path = "coordination/todos/TODO-002.yaml";
    let before = env.read(path);
    // --strict refuses and writes nothing.
    let err = env.coord(&["update-todo", "TODO-002", "--status", "in_progress", "--strict"]).fails(1).to_string();
    assert!(err.contains("starting TODO-002 while it is blocked by ISSUE-002"), "{err}");
    assert_eq!(env.read(path), before);
    let err = env.coord(&["complete-todo", "TODO-002", "--strict"]).fails(1).to_string();
    assert!(err.contains("completing TODO-002"), "{err}");
    // The setting makes that the default.
    env.write("settings/coord.yaml", "blocked_work: refuse\n");
    env.coord(&["update-todo", "TODO-002", "--status", "in_progress"]).fails(1);
    assert_eq!(env.read(path), before);
    env.write("settings/coord.yaml", "blocked_work: warn\n");
    // Without: done, with a warning on stderr and in the JSON.
    let run = env.coord(&["update-todo", "TODO-002", "--status", "in_progress", "--format", "json"]);
    let j = run.json();
    assert!(run.stderr.contains("warning: starting TODO-002 while it is blocked by ISSUE-002"), "{}", run.stderr);
    assert!(j["warnings"][0].as_str().unwrap().contains("blocked by ISSUE-002"), "{j}");
    assert_eq!(j["entity"]["status"], "in_progress");
    // status and workload count it blocked although stored in_progress, and say so.
    let s = env.coord(&["status", "--format", "json"]).json();
    assert_eq!((s["todos"]["blocked"].as_u64(), s["todos"]["in_progress"].as_u64()), (Some(1), Some(0)), "{s}");
    assert!(env.coord(&["status"]).ok().contains("1 blocked (stored or waiting on an open blocker)"));
    let w = env.coord(&["workload", "--format", "json"]).json();
    assert_eq!(w["rows"][0]["blocked"], 1, "{w}");
    assert!(env.coord(&["workload"]).ok().contains("waiting on an open blocker"));
    let run = env.coord(&["complete-todo", "TODO-002"]);
    run.ok();
    assert!(run.stderr.contains("warning: completing TODO-002"), "{}", run.stderr);
    // Once the blocker is finished, no warning.
    env.coord(&["create-todo", "--task", "Next", "--repo", "oneiric", "--blocked-by", "ISSUE-002"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--status", "resolved"]).ok();
    let run = env.coord(&["update-todo", "TODO-003", "--status", "in_progress", "--strict"]);
    run.ok();
    assert!(!run.stderr.contains("warning"), "{}", run.stderr);
}

// ---- point 6: IDs normalised the same way everywhere

#[test]
fn point6_ids_are_normalised_and_an_empty_selection_is_an_error() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    for _ in 0..3 {
        env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "oneiric", "--status", "deprecated"]).ok();
    }
    for sel in ["DEP-3", "dep-3", "DEP-003", "3"] {
        let j = env.coord(&["check-deps", "--id", sel, "--format", "json"]).json();
        assert_eq!(ids(&j["results"]), ["DEP-003"], "--id {sel}: {j}");
    }
    for sel in ["issue-1", "ISSUE-1", "1", "ISSUE-001"] {
        assert_eq!(env.coord(&["show-issue", sel, "--format", "json"]).json()["id"], "ISSUE-001", "{sel}");
    }
    assert_eq!(env.coord(&["show-todo", "1", "--format", "json"]).json()["id"], "TODO-001");
    let err = env.coord(&["check-deps", "--id", "DEP-9"]).fails(1).to_string();
    assert!(err.contains("DEP-9"), "{err}");
    let err = env.coord(&["check-deps", "--consumer", "buddy"]).fails(1).to_string();
    assert!(err.contains("--consumer: no dependency matches `session-buddy`"), "{err}");
    env.coord(&["check-deps", "--consumer", "vishnu"]).ok();
}

// ---- point 7: dependencies validated on write and in lint

#[test]
fn point7_dependencies_are_validated_on_write() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    let create = |c: &str, p: &str, extra: &[&str]| {
        let mut a = vec!["create-dep", "--consumer", c, "--provider", p];
        a.extend_from_slice(extra);
        env.coord(&a)
    };
    let err = create("vishnu", "oneiric", &["--version-constraint", "banana"]).fails(1).to_string();
    assert!(err.contains("--version-constraint") && err.contains("banana"), "{err}");
    assert!(!env.exists("coordination/dependencies/DEP-001.yaml"));
    for good in [">=2.0", "~=2.1"] {
        let run = create("vishnu", if good == ">=2.0" { "oneiric" } else { "buddy" }, &["--version-constraint", good]);
        run.ok();
    }
    // The same consumer → provider again (by nickname): a duplicate.
    let err = create("mahavishnu", "oneiric", &[]).fails(1).to_string();
    assert!(err.contains("DEP-001 already records mahavishnu → oneiric"), "{err}");
    // oneiric → mahavishnu closes a repository cycle.
    let err = create("oneiric", "vishnu", &[]).fails(1).to_string();
    assert!(err.contains("repository cycle") && err.contains("mahavishnu ↔ oneiric"), "{err}");
    let err = env.coord(&["update-dep", "DEP-002", "--version-constraint", ">=>1"]).fails(1).to_string();
    assert!(err.contains("--version-constraint"), "{err}");
    // A deprecated one is history: neither a duplicate nor part of a cycle.
    env.coord(&["update-dep", "DEP-001", "--status", "deprecated"]).ok();
    create("oneiric", "vishnu", &[]).ok();
    assert_eq!(env.coord(&["lint", "--format", "json"]).json()["errors"], 0);
}

#[test]
fn point7_lint_reports_bad_constraints_duplicates_and_repo_cycles() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    let dep = |id: &str, c: &str, p: &str, v: &str| {
        env.write(
            &format!("coordination/dependencies/{id}.yaml"),
            &format!(
                "id: {id}\nconsumer: {c}\nprovider: {p}\ntype: runtime\nversion_constraint: '{v}'\nstatus: unknown\n"
            ),
        );
    };
    dep("DEP-001", "mahavishnu", "oneiric", "banana");
    dep("DEP-002", "vishnu", "oneiric", ">=1.0");
    dep("DEP-003", "oneiric", "session-buddy", ">=1.0");
    dep("DEP-004", "buddy", "mahavishnu", "~=2.1");
    let run = env.coord(&["lint", "--format", "json"]);
    run.fails(1);
    let j: Value = serde_json::from_str(&run.stdout).unwrap();
    let codes: Vec<(String, String)> = j["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .map(|p| (p["code"].as_str().unwrap().to_string(), p["id"].as_str().unwrap_or_default().to_string()))
        .collect();
    assert!(codes.contains(&("constraint".into(), "DEP-001".into())), "{codes:?}");
    assert!(codes.contains(&("duplicate-dependency".into(), "DEP-002".into())), "{codes:?}");
    assert!(codes.iter().any(|c| c.0 == "repo-cycle"), "{codes:?}");
    assert_eq!(codes.len(), 3, "{codes:?}");
}

// ---- point 8: outside a coordination repository

#[test]
fn point8_commands_outside_a_coordination_repository_fail() {
    let env = TestEnv::new(); // a code repository: git, no coordination data
    for args in [
        &["list-issues"][..],
        &["create-issue", "--title", "x", "--repos", "a"][..],
        &["status"][..],
        &["lint"][..],
        &["ready"][..],
    ] {
        let err = env.coord(args).fails(1).to_string();
        assert!(err.contains("not a git-coord repository") && err.contains("run git coord init"), "{args:?}: {err}");
    }
    assert!(!env.exists("coordination"), "nothing but init creates coordination/");
    // Outside any git repository too.
    let plain = env.root.parent().unwrap().join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    let err = env.coord_in(&plain, &["list-todos"]).fails(1).to_string();
    assert!(err.contains("not a git-coord repository"), "{err}");
    assert!(!plain.join("coordination").exists());
    // init makes one; then commands work.
    env.coord(&["init"]).ok();
    assert!(env.exists("coordination/issues"));
    assert_eq!(env.coord(&["list-issues", "--format", "json"]).json()["count"], 0);
}

// ---- point 4: show-* shows the computed relations

#[test]
fn point4_show_includes_computed_relations() {
    let env = milestones();
    env.coord(&["create-issue", "--title", "Root cause", "--repos", "oneiric"]).ok();
    env.coord(&["create-issue", "--title", "Symptom", "--repos", "oneiric", "--depends-on", "ISSUE-002"]).ok();
    // Declared on the blocker's side only: ISSUE-002 blocks TODO-002.
    env.coord(&["update-issue", "ISSUE-002", "--blocking", "TODO-002"]).ok();
    env.coord(&["update-todo", "TODO-002", "--issue", "ISSUE-003"]).ok();
    env.coord(&["update-todo", "TODO-004", "--blocked-by", "TODO-002"]).ok();
    env.commit_all_at("relations", "2026-03-02T09:00:00+00:00");

    let s = env.coord(&["show-issue", "ISSUE-003", "--format", "json"]).json();
    let r = &s["relations"];
    assert_eq!(s["entity"]["id"], "ISSUE-003", "the entity is still there: {s}");
    assert_eq!(r["state"], "blocked", "{s}");
    assert_eq!(ids(&r["blocked_by"]), ["ISSUE-002"], "{s}");
    assert_eq!(r["blocked_by"][0]["open"], true);
    assert_eq!(ids(&r["todos"]), ["TODO-002"], "{s}");
    assert_eq!(r["progress"], serde_json::json!({"done": 0, "total": 1}));
    assert_eq!(r["last_change"]["summary"], "relations", "{s}");

    let t = env.coord(&["show-todo", "TODO-003", "--format", "json"]).json();
    let r = &t["relations"];
    assert_eq!(r["state"], "blocked");
    assert_eq!(r["blocked_by"][0]["id"], "MILESTONE-001", "{t}");
    assert_eq!(r["blocked_by"][0]["via"], "MILESTONE-002", "{t}");
    assert_eq!((r["milestone"].as_str(), r["plans"][0].as_str()), (Some("MILESTONE-002"), Some("PLAN-001")));

    let b = env.coord(&["show-issue", "ISSUE-002", "--format", "json"]).json();
    assert_eq!(ids(&b["relations"]["blocks"]), ["ISSUE-003", "TODO-002"], "{b}");
    let p = env.coord(&["show-plan", "PLAN-001", "--format", "json"]).json();
    assert_eq!(ids(&p["relations"]["blocks"]), ["PLAN-002", "TODO-004"], "{p}");
    assert_eq!(p["relations"]["progress"]["total"], 2, "{p}");

    // Finished blockers are listed as finished; the state follows.
    env.coord(&["update-issue", "ISSUE-002", "--status", "resolved"]).ok();
    let text = env.coord(&["show-issue", "ISSUE-003"]).ok().to_string();
    assert!(text.contains("state: open"), "{text}");
    assert!(text.contains("blocked by (finished): ISSUE-002 Root cause (resolved)"), "{text}");
    assert!(text.contains("todos: 0/1 done"), "{text}");
    let text = env.coord(&["show-todo", "TODO-002"]).ok().to_string();
    assert!(text.contains("state: ready"), "{text}");
    assert!(text.contains("blocks: TODO-004 Next quarter (pending)"), "{text}");
    assert!(text.contains("milestone: MILESTONE-001") && text.contains("issue: ISSUE-003"), "{text}");
    assert!(text.contains("last change: ") && text.contains("relations"), "{text}");
    // A past version has no computed relations.
    let old = env.coord(&["show-issue", "ISSUE-003", "--at", "HEAD", "--format", "json"]).json();
    assert!(old.get("relations").is_none(), "{old}");
}
