//! Edges of the coordination graph beyond todo chains: issue `dependencies`
//! and `blocking`, plan `depends_on`, milestone `dependencies`, declared on
//! either side; finished issues, todos, milestones and satisfied
//! dependencies stop blocking; nicknames resolve everywhere; a 5,000-long
//! chain is answered without recursion. Every expected value is worked out
//! by hand from the fixture.

use crate::env::TestEnv;
use serde_json::json;

/// app (nickname `fe`) consumes lib (nickname `l`); ops consumes lib too,
/// satisfied. lib's open issue and todo hold up app's work.
fn fixture() -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "settings/ecosystem.yaml",
        "repos:\n  - {name: app, nickname: fe, path: app}\n  - {name: lib, nickname: l, path: lib}\n  - {name: ops, path: ops}\n",
    );
    let files = [
        (
            "issues/ISSUE-001",
            "id: ISSUE-001\ntitle: Lib crash\nstatus: pending\npriority: high\nrepos: [l]\nblocking: [TODO-002]\n",
        ),
        (
            "issues/ISSUE-002",
            "id: ISSUE-002\ntitle: App hang\nstatus: pending\npriority: medium\nrepos: [app]\ndependencies: [ISSUE-001]\n",
        ),
        (
            "todos/TODO-001",
            "id: TODO-001\ntask: Fix lib\nrepo: l\nstatus: pending\npriority: medium\nblocking: [TODO-003]\n",
        ),
        ("todos/TODO-002", "id: TODO-002\ntask: Patch app\nrepo: app\nstatus: pending\npriority: high\n"),
        (
            // Declared on both sides (TODO-001 `blocking`): still one edge.
            "todos/TODO-003",
            "id: TODO-003\ntask: Release app\nrepo: fe\nstatus: pending\npriority: high\nblocked_by: [TODO-001]\n",
        ),
        (
            "todos/TODO-004",
            "id: TODO-004\ntask: Ops job\nrepo: ops\nstatus: pending\npriority: low\nblocked_by: [TODO-005]\n",
        ),
        ("todos/TODO-005", "id: TODO-005\ntask: Old job\nrepo: ops\nstatus: cancelled\n"),
        (
            "plans/PLAN-001",
            "id: PLAN-001\ntitle: Lib 2.0\nstatus: active\nrepos: [lib]\nmilestones:\n- id: MILESTONE-001\n  name: Lib beta\n  due: 2026-03-10\n  status: pending\n",
        ),
        (
            "plans/PLAN-002",
            "id: PLAN-002\ntitle: App 2.0\nstatus: active\nrepos: [app]\ndepends_on: [PLAN-001]\nmilestones:\n- id: MILESTONE-002\n  name: App beta\n  status: pending\n  dependencies: [MILESTONE-001]\n",
        ),
        ("dependencies/DEP-001", "id: DEP-001\nconsumer: fe\nprovider: l\ntype: runtime\nstatus: unsatisfied\n"),
        ("dependencies/DEP-002", "id: DEP-002\nconsumer: ops\nprovider: lib\ntype: development\nstatus: satisfied\n"),
    ];
    for (path, text) in files {
        env.write(&format!("coordination/{path}.yaml"), text);
    }
    env.commit_all("fixture");
    env
}

/// The IDs of a list, or of a `{count, items}` report.
fn ids(v: &serde_json::Value) -> Vec<&str> {
    v.get("items").unwrap_or(v).as_array().expect("a list").iter().map(|e| e["id"].as_str().expect("an id")).collect()
}

/// `(from, to, active)` of every edge of the entity graph.
fn entity_edges(env: &TestEnv) -> Vec<(String, String, bool)> {
    let g = env.coord(&["dep-graph", "--kind", "entities", "--format", "json"]).json();
    g["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| (e["from"].as_str().unwrap().to_string(), e["to"].as_str().unwrap().to_string(), e["active"] == true))
        .collect()
}

#[test]
fn issue_plan_and_milestone_edges_from_either_side() {
    let env = fixture();
    env.coord(&["lint"]).ok();
    let e = |a: &str, b: &str, active: bool| (a.to_string(), b.to_string(), active);
    assert_eq!(
        entity_edges(&env),
        [
            e("ISSUE-001", "ISSUE-002", true),         // ISSUE-002 `dependencies`
            e("ISSUE-001", "TODO-002", true),          // ISSUE-001 `blocking`
            e("MILESTONE-001", "MILESTONE-002", true), // milestone `dependencies`
            e("PLAN-001", "PLAN-002", true),           // plan `depends_on`
            e("TODO-001", "TODO-003", true),           // declared on both sides, counted once
            e("TODO-005", "TODO-004", false),          // cancelled blocker
        ]
    );
    // Completing the milestone deactivates its edge; the plan file is the only one written.
    env.coord(&["update-milestone", "MILESTONE-001", "--status", "completed"]).ok();
    assert!(entity_edges(&env).contains(&e("MILESTONE-001", "MILESTONE-002", false)));
    let changed = env.git(&["status", "--porcelain"]).ok().to_string();
    assert_eq!(changed.trim(), "M coordination/plans/PLAN-001.yaml");
}

#[test]
fn ready_ignores_finished_blockers_and_counts_edges_once() {
    let env = fixture();
    let r = env.coord(&["ready", "--format", "json"]).json();
    // TODO-002 waits on ISSUE-001 (open); TODO-003 on TODO-001; TODO-004's
    // blocker is cancelled. TODO-001 unblocks TODO-003 only (one edge, two declarations).
    assert_eq!(ids(&r), ["TODO-001", "TODO-004"]);
    let items = &r["items"];
    assert_eq!((items[0]["unblocks"].as_u64(), items[1]["unblocks"].as_u64()), (Some(1), Some(0)));
    assert_eq!(items[0]["repo"], "lib", "canonical name, not the nickname `l`");
    assert_eq!(ids(&env.coord(&["ready", "--repo", "l", "--format", "json"]).json()), ["TODO-001"]);
    assert_eq!(env.coord(&["ready", "--repo", "fe"]).ok(), "nothing is ready\n");
    // Resolving the issue releases TODO-002, which is high priority.
    env.coord(&["close-issue", "ISSUE-001", "--resolved"]).ok();
    assert_eq!(ids(&env.coord(&["ready", "--format", "json"]).json()), ["TODO-002", "TODO-001", "TODO-004"]);
    // Adding a blocker writes only the blocked todo's file, never the blocker's.
    env.commit_all("resolved");
    env.coord(&["update-todo", "TODO-004", "--blocked-by", "TODO-002"]).ok();
    let changed = env.git(&["status", "--porcelain"]).ok().to_string();
    assert_eq!(changed.trim(), "M coordination/todos/TODO-004.yaml");
    assert_eq!(ids(&env.coord(&["ready", "--format", "json"]).json()), ["TODO-002", "TODO-001"]);
    assert_eq!(env.coord(&["ready", "--format", "json"]).json()["items"][0]["unblocks"], 1);
}

#[test]
fn blocking_and_blocked_by_across_repos_with_nicknames() {
    let env = fixture();
    let b = env.coord(&["blocking", "fe", "--format", "json"]).json();
    assert_eq!(b["repo"], "app");
    assert_eq!(ids(&b["open_issues"]), ["ISSUE-002"]);
    assert_eq!(ids(&b["unsatisfied_dependencies"]), ["DEP-001"]);
    assert_eq!(
        (b["unsatisfied_dependencies"][0]["consumer"].as_str(), b["unsatisfied_dependencies"][0]["provider"].as_str()),
        (Some("app"), Some("lib"))
    );
    assert_eq!(ids(&b["blocked_todos"]), ["TODO-002", "TODO-003"]);
    assert_eq!(b["blocked_todos"][0]["blockers"], json!([["ISSUE-001"]]));
    assert_eq!(b["blocked_todos"][1]["blockers"], json!([["TODO-001"]]));

    let by = env.coord(&["blocked-by", "l", "--format", "json"]).json();
    assert_eq!(by["repo"], "lib");
    assert_eq!(ids(&by["dependencies"]), ["DEP-001"], "DEP-002 is satisfied");
    assert_eq!(by["repos"], json!(["app"]));
    assert_eq!(ids(&by["entities"]), ["ISSUE-002", "TODO-002", "TODO-003"]);
    let waits: Vec<&serde_json::Value> = by["entities"].as_array().unwrap().iter().map(|e| &e["waits_on"]).collect();
    assert_eq!(waits, [&json!(["ISSUE-001"]), &json!(["ISSUE-001"]), &json!(["TODO-001"])]);
    assert_eq!(by["entities"][0]["kind"], "issue");
    assert_eq!(by["entities"][2]["repos"], json!(["app"]), "TODO-003 names its repo by nickname `fe`");

    // ops: its todo's blocker is cancelled and its dependency satisfied.
    assert_eq!(env.coord(&["blocking", "ops"]).ok(), "nothing is blocking ops\n");
    assert_eq!(env.coord(&["blocked-by", "ops"]).ok(), "ops is blocking nothing\n");

    // Satisfying the dependency and resolving the issue clear lib's hold on app,
    // except TODO-003, whose blocker TODO-001 is still pending.
    env.coord(&["update-dep", "DEP-001", "--status", "satisfied"]).ok();
    env.coord(&["close-issue", "ISSUE-001", "--resolved"]).ok();
    let by = env.coord(&["blocked-by", "lib", "--format", "json"]).json();
    assert!(by["dependencies"].as_array().unwrap().is_empty());
    assert_eq!(ids(&by["entities"]), ["TODO-003"]);
    env.coord(&["complete-todo", "TODO-001"]).ok();
    assert_eq!(env.coord(&["blocked-by", "lib"]).ok(), "lib is blocking nothing\n");
    let b = env.coord(&["blocking", "app", "--format", "json"]).json();
    assert!(b["blocked_todos"].as_array().unwrap().is_empty());
    assert_eq!(ids(&b["open_issues"]), ["ISSUE-002"], "still open, though no longer blocked");
}

#[test]
fn ecosystem_health_follows_blockers() {
    let env = fixture();
    let s = env.coord(&["status", "--format", "json"]).json();
    assert_eq!(s["health"], "degraded");
    // ISSUE-001 is high, not critical: a critical blocker, but no health reason.
    assert_eq!(s["reasons"], json!(["1 unsatisfied dependency"]));
    assert_eq!(ids(&s["critical_blockers"]), ["ISSUE-001"]);
    assert_eq!(ids(&s["active_plans"]), ["PLAN-001", "PLAN-002"]);
    assert_eq!(
        (s["ready_todos"].as_u64(), s["open_issues"].as_u64(), s["repos"].as_u64()),
        (Some(2), Some(2), Some(3))
    );
    assert_eq!(
        s["todos"],
        // Effective state: two pending todos wait on open blockers.
        json!({"pending": 2, "in_progress": 0, "blocked": 2, "completed": 0, "cancelled": 1, "other": 0})
    );
    env.coord(&["update-dep", "DEP-001", "--status", "satisfied"]).ok();
    let s = env.coord(&["status", "--format", "json"]).json();
    assert_eq!((s["health"].as_str(), s["reasons"].clone()), (Some("healthy"), json!([])));
    // A repo's status names its plans and both directions of dependencies.
    let lib = env.coord(&["status", "l", "--format", "json"]).json();
    assert_eq!(lib["repo"], "lib");
    assert_eq!(ids(&lib["plans"]), ["PLAN-001"]);
    assert_eq!(ids(&lib["depended_on_by"]), ["DEP-001", "DEP-002"]);
    assert!(lib["depends_on"].as_array().unwrap().is_empty());
}

/// The documented top-level fields (docs/JSON.md) of every graph command.
#[test]
fn json_shapes_match_the_documentation() {
    let env = fixture();
    fn keys(v: &serde_json::Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().expect("an object").keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }
    let ready = env.coord(&["ready", "--format", "json"]).json();
    assert_eq!(keys(&ready), ["count", "items"]);
    assert_eq!(keys(&ready["items"][0]), ["id", "priority", "repo", "status", "task", "unblocks"]);
    let blocking = env.coord(&["blocking", "app", "--format", "json"]).json();
    assert_eq!(keys(&blocking), ["blocked_todos", "open_issues", "repo", "unsatisfied_dependencies"]);
    assert_eq!(keys(&blocking["blocked_todos"][0]), ["blockers", "id", "priority", "repo", "status", "task"]);
    assert_eq!(keys(&blocking["open_issues"][0]), ["id", "priority", "repos", "status", "title"]);
    assert_eq!(keys(&blocking["unsatisfied_dependencies"][0]), ["consumer", "id", "provider", "status", "type"]);
    let by = env.coord(&["blocked-by", "lib", "--format", "json"]).json();
    assert_eq!(keys(&by), ["dependencies", "entities", "repo", "repos"]);
    assert_eq!(keys(&by["entities"][0]), ["id", "kind", "repos", "title", "waits_on"]);
    let st = env.coord(&["status", "app", "--format", "json"]).json();
    assert_eq!(
        keys(&st),
        [
            "blocked_by",
            "blocking",
            "depended_on_by",
            "depends_on",
            "open_issues",
            "open_todos",
            "plans",
            "repo",
            "todos"
        ]
    );
    assert_eq!(keys(&st["plans"][0]), ["id", "milestones_completed", "milestones_total", "status", "title"]);
    let eco = env.coord(&["status", "--format", "json"]).json();
    assert_eq!(
        keys(&eco),
        [
            "active_plans",
            "critical_blockers",
            "health",
            "open_issues",
            "ready_todos",
            "reasons",
            "repos",
            "todos",
            "unsatisfied_dependencies"
        ]
    );
    let rm = env.coord(&["roadmap", "--plan", "PLAN-001", "--format", "json"]).json();
    assert_eq!(keys(&rm), ["hours_per_day", "plans", "today"]);
    assert_eq!(
        keys(&rm["plans"][0]),
        [
            "critical_path",
            "critical_path_hours",
            "id",
            "late",
            "milestones",
            "milestones_completed",
            "milestones_total",
            "percent",
            "status",
            "title",
            "todos_done",
            "todos_total",
            "unestimated"
        ]
    );
    assert_eq!(
        keys(&rm["plans"][0]["milestones"][0]),
        ["due", "id", "late", "name", "remaining_hours", "status", "todos_done", "todos_total"]
    );
    let wl = env.coord(&["workload", "--format", "json"]).json();
    assert_eq!(keys(&wl), ["by", "rows"]);
    assert_eq!(keys(&wl["rows"][0]), ["blocked", "estimated_hours", "in_progress", "key", "open_todos", "unestimated"]);
    let g = env.coord(&["dep-graph", "--format", "json"]).json();
    assert_eq!(keys(&g), ["edges", "kind", "nodes"]);
    assert_eq!(keys(&g["nodes"][0]), ["id", "kind", "label"]);
    assert_eq!(keys(&g["edges"][0]), ["active", "from", "label", "status", "to"]);
    let v = env.coord(&["validate-repo", "ops", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&v.stdout).expect("json even on failure");
    assert_eq!(keys(&v), ["checks", "entities", "ok", "repo"]);
    assert_eq!(keys(&v["checks"][0]), ["check", "detail", "status"]);
    let lint = env.coord(&["lint", "--format", "json"]).json();
    assert_eq!(keys(&lint), ["entities", "errors", "problems", "warnings"]);
}

/// A 5,000-long blocking chain, one hour per todo, all in one plan.
fn long_chain(n: usize) -> TestEnv {
    let env = TestEnv::new();
    env.write("settings/ecosystem.yaml", "repos:\n  - {name: core, path: core}\n");
    env.write(
        "coordination/plans/PLAN-001.yaml",
        "id: PLAN-001\ntitle: Long haul\nstatus: active\ntarget: 2027-01-01\nrepos: [core]\n",
    );
    for i in 1..=n {
        let blocked_by = if i == 1 { String::new() } else { format!("blocked_by: [TODO-{:03}]\n", i - 1) };
        env.write(
            &format!("coordination/todos/TODO-{i:03}.yaml"),
            &format!(
                "id: TODO-{i:03}\ntask: Step {i}\nrepo: core\nstatus: pending\nestimated_hours: 1\nplan_id: PLAN-001\n{blocked_by}"
            ),
        );
    }
    env.commit_all("chain");
    env
}

#[test]
fn a_chain_five_thousand_long() {
    let env = long_chain(5000);
    let r = env.coord(&["ready", "--format", "json"]).json();
    assert_eq!(ids(&r), ["TODO-001"]);
    assert_eq!(r["items"][0]["unblocks"], 4999);
    let p = &env.coord(&["roadmap", "--format", "json"]).json()["plans"][0];
    let path = p["critical_path"].as_array().unwrap();
    assert_eq!((path.len(), path[0].as_str(), path[4999].as_str()), (5000, Some("TODO-001"), Some("TODO-5000")));
    assert_eq!(p["critical_path_hours"].as_f64(), Some(5000.0));
    // 5000 h / 8 h a day = 625 calendar days after 2026-03-01.
    assert_eq!(p["projected_finish"], "2027-11-16");
    assert_eq!(p["late"], true, "target 2027-01-01");
    env.coord(&["lint"]).ok();

    // Closing the chain is refused on write, naming the whole cycle…
    let err = env.coord(&["update-todo", "TODO-001", "--blocked-by", "TODO-5000"]).fails(1).to_string();
    assert!(err.contains("would create a cycle: TODO-001 → TODO-002 → TODO-003 → "), "{err}");
    assert!(err.contains(" → TODO-4999 → TODO-5000 → TODO-001"), "{err}");
    // …and found by lint when written by hand.
    env.write(
        "coordination/todos/TODO-001.yaml",
        "id: TODO-001\ntask: Step 1\nrepo: core\nstatus: pending\nestimated_hours: 1\nplan_id: PLAN-001\nblocked_by: [TODO-5000]\n",
    );
    let lint = env.coord(&["lint", "--format", "json"]);
    let out: serde_json::Value = serde_json::from_str(&lint.stdout).expect("json");
    let cycles: Vec<&str> = out["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "cycle")
        .map(|p| p["message"].as_str().unwrap())
        .collect();
    assert_eq!(cycles.len(), 1);
    assert_eq!(cycles[0].matches(" → ").count(), 5000, "5000 todos and back to the first");
    assert!(cycles[0].starts_with("blocking cycle: TODO-001 → TODO-002 → "), "{}", cycles[0]);
    lint.fails(1);
    assert_eq!(env.coord(&["ready"]).ok(), "nothing is ready\n");
    let p = &env.coord(&["roadmap", "--format", "json"]).json()["plans"][0];
    assert!(p["note"].as_str().unwrap().contains("blocking cycle"), "{p}");
    assert!(p.get("projected_finish").is_none());
}

#[test]
fn milestone_and_plan_cycles_are_refused() {
    let env = fixture();
    // MILESTONE-002 already depends on MILESTONE-001 (in PLAN-002).
    let err = env.coord(&["update-milestone", "MILESTONE-001", "--depends-on", "MILESTONE-002"]).fails(1).to_string();
    assert!(err.contains("would create a cycle: MILESTONE-001 → MILESTONE-002 → MILESTONE-001"), "{err}");
    // PLAN-002 already depends on PLAN-001.
    let err = env.coord(&["update-plan", "PLAN-001", "--depends-on", "PLAN-002"]).fails(1).to_string();
    assert!(err.contains("would create a cycle: PLAN-001 → PLAN-002 → PLAN-001"), "{err}");
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "", "nothing written");
}

#[test]
fn ecosystem_status_and_entity_graph_as_text() {
    let env = fixture();
    insta::assert_snapshot!(env.coord(&["status"]).ok(), @r"
    health: degraded (1 unsatisfied dependency)
    repos: 3   open issues: 2   ready todos: 2
    todos: 2 pending, 0 in progress, 2 blocked (stored or waiting on an open blocker), 0 completed, 1 cancelled
    Active plans
      PLAN-001  0/1 milestones  Lib 2.0
      PLAN-002  0/1 milestones  App 2.0
    Critical blockers
      ISSUE-001  high  lib  Lib crash
    Dependencies not satisfied
      DEP-001  app → lib  unsatisfied
    ");
    insta::assert_snapshot!(env.coord(&["dep-graph", "--kind", "entities"]).ok(), @r"
    ISSUE-001 blocks ISSUE-002
    ISSUE-001 blocks TODO-002
    MILESTONE-001 blocks MILESTONE-002
    PLAN-001 blocks PLAN-002
    TODO-001 blocks TODO-003
    TODO-005 blocks TODO-004  [done]
    ");
    env.coord(&["update-dep", "DEP-001", "--status", "satisfied"]).ok();
    let s = env.coord(&["status"]).ok().to_string();
    assert!(s.starts_with("health: healthy\n"), "{s}");
    assert!(s.ends_with("Dependencies not satisfied\n  none\n"), "{s}");
}

#[test]
fn dot_and_mermaid_escape_titles() {
    let env = TestEnv::new();
    env.write("settings/ecosystem.yaml", "repos:\n  - {name: core, path: core}\n");
    env.write(
        "coordination/todos/TODO-001.yaml",
        "id: TODO-001\ntask: \"Say \\\"hi\\\"\\nto C:\\\\tmp\"\nrepo: core\nstatus: pending\nblocking: [TODO-002]\n",
    );
    env.write("coordination/todos/TODO-002.yaml", "id: TODO-002\ntask: B\nrepo: core\nstatus: pending\n");
    insta::assert_snapshot!(env.coord(&["dep-graph", "--kind", "entities", "--format", "dot"]).ok(), @r#"
    digraph {
        0 [ label="TODO-001\nSay \"hi\" to C:\\tmp", shape=box]
        1 [ label="TODO-002\nB", shape=box]
        0 -> 1 [ label="blocks", color=red, style=dashed]
    }
    "#);
    insta::assert_snapshot!(env.coord(&["dep-graph", "--kind", "entities", "--format", "mermaid"]).ok(), @r#"
    flowchart LR
        TODO_001["TODO-001: Say #quot;hi#quot; to C:\tmp"]
        TODO_002["TODO-002: B"]
        TODO_001 ==>|blocks| TODO_002
    "#);
}

#[test]
fn validate_repo_expands_home_and_absolute_paths() {
    let env = TestEnv::new();
    // TestEnv sets HOME to the `home` directory beside the repository.
    let homey = env.root.parent().unwrap().join("home/src/homey");
    let abs = env.root.parent().unwrap().join("elsewhere/abs");
    for dir in [&homey, &abs] {
        std::fs::create_dir_all(dir).unwrap();
        env.git_in(dir, &["init", "-q"]).ok();
    }
    env.write(
        "settings/ecosystem.yaml",
        &format!("repos:\n  - {{name: homey, path: ~/src/homey}}\n  - {{name: abs, path: {}}}\n", abs.display()),
    );
    env.write(
        "coordination/dependencies/DEP-001.yaml",
        "id: DEP-001\nconsumer: homey\nprovider: ghost\ntype: runtime\nstatus: unsatisfied\n",
    );
    let run = env.coord(&["validate-repo", "homey", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let checks: Vec<(&str, &str)> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(checks, [("registered", "ok"), ("path", "ok"), ("git", "ok"), ("dependency", "error")]);
    assert_eq!(v["checks"][1]["detail"], format!("{} exists", homey.display()));
    assert_eq!(v["checks"][3]["detail"], "DEP-001: provider `ghost` is not in the registry");
    assert_eq!(v["entities"], json!(["DEP-001"]));
    run.fails(1);
    // A repository no entity mentions, at an absolute path: all good.
    let out = env.coord(&["validate-repo", "abs"]).ok().to_string();
    assert!(out.ends_with("entities naming abs: none\n"), "{out}");
    assert!(out.contains(&format!("ok  git: {} is a git repository", abs.display())), "{out}");
}
