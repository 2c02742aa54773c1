//! The coordination graph on small hand-made ecosystems whose answers are
//! worked out by hand: finished blockers stop blocking, edges count from
//! either side, nicknames resolve, cycles are found and refused, critical
//! paths and projected dates use the fixed clock (2026-03-01, 8 h/day).

use crate::env::TestEnv;

/// api (nickname `a`) → db dependency (unsatisfied), web → api (satisfied);
/// `lonely` is mentioned by nothing.
fn fixture() -> TestEnv {
    let env = TestEnv::new();
    env.write(
        "settings/ecosystem.yaml",
        "repos:\n  - {name: api, nickname: a, path: api}\n  - {name: web, path: web}\n  - {name: db, path: db}\n  - {name: lonely, path: lonely}\n",
    );
    let files = [
        (
            "issues/ISSUE-001",
            "id: ISSUE-001\ntitle: DB outage\nstatus: pending\npriority: critical\nrepos: [db]\nblocking: [TODO-003]\n",
        ),
        ("issues/ISSUE-002", "id: ISSUE-002\ntitle: Old bug\nstatus: resolved\npriority: high\nrepos: [api]\n"),
        (
            "todos/TODO-001",
            "id: TODO-001\ntask: Schema\nrepo: a\nstatus: pending\npriority: high\nestimated_hours: 8\nblocked_by: [ISSUE-002]\nplan_id: PLAN-001\nmilestone_id: MILESTONE-002\n",
        ),
        (
            "todos/TODO-002",
            "id: TODO-002\ntask: Endpoints\nrepo: api\nstatus: pending\npriority: medium\nestimated_hours: 4\nblocked_by: [TODO-001]\nmilestone_id: MILESTONE-002\n",
        ),
        (
            "todos/TODO-003",
            "id: TODO-003\ntask: Status page\nrepo: web\nstatus: pending\npriority: high\nestimated_hours: 2\n",
        ),
        (
            "todos/TODO-004",
            "id: TODO-004\ntask: Redesign\nrepo: web\nstatus: pending\npriority: high\nestimated_hours: 16\ncreated: 2026-01-01\nblocking: [TODO-005]\nassignee: ana\nmilestone_id: MILESTONE-001\n",
        ),
        (
            "todos/TODO-005",
            "id: TODO-005\ntask: Polish\nrepo: web\nstatus: pending\npriority: low\nestimated_hours: 4\nmilestone_id: MILESTONE-001\n",
        ),
        (
            "todos/TODO-006",
            "id: TODO-006\ntask: Migrate\nrepo: db\nstatus: completed\nestimated_hours: 3\nblocking: [TODO-007]\n",
        ),
        (
            "todos/TODO-007",
            "id: TODO-007\ntask: Index\nrepo: db\nstatus: pending\npriority: high\nestimated_hours: 1\ncreated: 2026-02-01\n",
        ),
        (
            "todos/TODO-008",
            "id: TODO-008\ntask: Docs\nrepo: api\nstatus: pending\npriority: critical\nblocked_by: [TODO-002]\n",
        ),
        (
            "todos/TODO-009",
            "id: TODO-009\ntask: Backups\nrepo: db\nstatus: pending\npriority: high\nestimated_hours: 2\ncreated: 2025-12-01\nassignee: ana\n",
        ),
        (
            "plans/PLAN-001",
            "id: PLAN-001\ntitle: Launch\nstatus: active\ntarget: 2026-03-05\nrepos: [api, web]\nmilestones:\n- id: MILESTONE-001\n  name: Web ready\n  due: 2026-03-03\n  status: pending\n- id: MILESTONE-002\n  name: API ready\n  due: 2026-03-20\n  status: pending\n",
        ),
        (
            "dependencies/DEP-001",
            "id: DEP-001\nconsumer: a\nprovider: db\ntype: runtime\nversion_constraint: '>=2.0'\nstatus: unsatisfied\n",
        ),
        ("dependencies/DEP-002", "id: DEP-002\nconsumer: web\nprovider: api\ntype: runtime\nstatus: satisfied\n"),
    ];
    for (path, text) in files {
        env.write(&format!("coordination/{path}.yaml"), text);
    }
    env.commit_all("fixture");
    env
}

/// The IDs of a list, or of a `{count, items}` report.
fn ids(v: &serde_json::Value) -> Vec<String> {
    let list = v.get("items").unwrap_or(v);
    if v.is_object() {
        assert_eq!(v["count"].as_u64(), list.as_array().map(|a| a.len() as u64), "{v}");
    }
    list.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn ready_orders_by_priority_then_unblocked_work_then_age() {
    let env = fixture();
    env.coord(&["lint"]).ok();
    let ready = env.coord(&["ready", "--format", "json"]).json();
    // TODO-001: its blocker ISSUE-002 is resolved; it unblocks TODO-002 and TODO-008.
    // TODO-004 unblocks TODO-005 (declared on TODO-004's side only).
    // TODO-009 and TODO-007 unblock nothing; TODO-009 is older.
    // TODO-007's blocker TODO-006 is completed. TODO-003 waits on ISSUE-001 (declared on the issue).
    assert_eq!(ids(&ready), ["TODO-001", "TODO-004", "TODO-009", "TODO-007"]);
    assert_eq!(ready["items"][0]["unblocks"], 2);
    assert_eq!(ready["items"][1]["unblocks"], 1);
    assert_eq!(ids(&env.coord(&["ready", "--repo", "a", "--format", "json"]).json()), ["TODO-001"]);
    assert_eq!(ids(&env.coord(&["ready", "--assignee", "ana", "--format", "json"]).json()), ["TODO-004", "TODO-009"]);
    assert_eq!(ids(&env.coord(&["ready", "--limit", "2", "--format", "json"]).json()), ["TODO-001", "TODO-004"]);
    insta::assert_snapshot!(env.coord(&["ready", "--limit", "2"]).ok(), @r"
    ID        PRIORITY  REPO  EST  UNBLOCKS  ASSIGNEE  TASK
    TODO-001  high      api   8h   2                   Schema
    TODO-004  high      web   16h  1         ana       Redesign
    ");
    // Finishing a blocker releases what it blocked.
    env.coord(&["complete-todo", "TODO-001"]).ok();
    assert_eq!(ids(&env.coord(&["ready", "--repo", "api", "--format", "json"]).json()), ["TODO-002"]);
}

#[test]
fn blocking_and_blocked_by_follow_chains_to_the_root() {
    let env = fixture();
    let b = env.coord(&["blocking", "a", "--format", "json"]).json();
    assert_eq!(b["repo"], "api");
    assert!(b["open_issues"].as_array().unwrap().is_empty(), "ISSUE-002 is resolved");
    assert_eq!(ids(&b["unsatisfied_dependencies"]), ["DEP-001"]);
    assert_eq!(ids(&b["blocked_todos"]), ["TODO-002", "TODO-008"]);
    assert_eq!(b["blocked_todos"][1]["blockers"], serde_json::json!([["TODO-002", "TODO-001"]]));
    insta::assert_snapshot!(env.coord(&["blocking", "api"]).ok(), @r"
    What is blocking api (its work waits on these)
    Dependencies not satisfied
      DEP-001  api → db >=2.0  unsatisfied
    Blocked todos
      TODO-002  Endpoints
        blocked by TODO-001
      TODO-008  Docs
        blocked by TODO-002 ← TODO-001
    ");
    let by = env.coord(&["blocked-by", "db", "--format", "json"]).json();
    assert_eq!(ids(&by["dependencies"]), ["DEP-001"]);
    assert_eq!(by["repos"], serde_json::json!(["api", "web"]));
    assert_eq!(ids(&by["entities"]), ["TODO-003"]);
    assert_eq!(by["entities"][0]["waits_on"], serde_json::json!(["ISSUE-001"]));
    assert_eq!(env.coord(&["blocking", "lonely"]).ok(), "nothing is blocking lonely\n");
    assert_eq!(env.coord(&["blocked-by", "lonely"]).ok(), "lonely is blocking nothing\n");
    let err = env.coord(&["blocking", "nope"]).fails(1).to_string();
    assert!(err.contains("unknown repository `nope`"), "{err}");
}

#[test]
fn status_of_a_repo_and_of_the_ecosystem() {
    let env = fixture();
    let s = env.coord(&["status", "web", "--format", "json"]).json();
    // Effective state: TODO-003 and TODO-005 are pending but wait on open blockers.
    assert_eq!((s["todos"]["pending"].as_u64(), s["todos"]["blocked"].as_u64()), (Some(1), Some(2)));
    assert_eq!(ids(&s["depends_on"]), ["DEP-002"]);
    assert_eq!(ids(&s["plans"]), ["PLAN-001"]);
    assert_eq!(ids(&s["blocking"]["blocked_todos"]), ["TODO-003", "TODO-005"]);
    let same = env.coord(&["status", "--repo", "web", "--format", "json"]).json();
    assert_eq!(s, same);
    let e = env.coord(&["status", "--format", "json"]).json();
    assert_eq!(e["health"], "degraded");
    assert_eq!(e["reasons"], serde_json::json!(["1 open critical issue(s)", "1 unsatisfied dependency"]));
    assert_eq!(ids(&e["critical_blockers"]), ["ISSUE-001"]);
    assert_eq!(ids(&e["active_plans"]), ["PLAN-001"]);
    assert_eq!(e["ready_todos"], 4);
    assert_eq!(e["todos"]["completed"], 1);
    let lonely = env.coord(&["status", "lonely", "--format", "json"]).json();
    assert!(lonely["open_todos"].as_array().unwrap().is_empty());
    assert!(lonely["plans"].as_array().unwrap().is_empty());
}

#[test]
fn roadmap_finds_the_critical_path_and_flags_late_milestones() {
    let env = fixture();
    let r = env.coord(&["roadmap", "--format", "json"]).json();
    assert_eq!(r["today"], "2026-03-01");
    let p = &r["plans"][0];
    // Chains: TODO-004 (16h) → TODO-005 (4h) = 20h; TODO-001 (8h) → TODO-002 (4h) = 12h.
    assert_eq!(p["critical_path"], serde_json::json!(["TODO-004", "TODO-005"]));
    assert_eq!(p["critical_path_hours"].as_f64(), Some(20.0));
    // ceil(20 / 8) = 3 days after 2026-03-01.
    assert_eq!(p["projected_finish"], "2026-03-04");
    assert_eq!(p["late"], false, "target 2026-03-05");
    let m1 = &p["milestones"][0];
    assert_eq!((m1["projected"].as_str(), m1["late"].as_bool()), (Some("2026-03-04"), Some(true)), "due 2026-03-03");
    let m2 = &p["milestones"][1];
    assert_eq!((m2["projected"].as_str(), m2["late"].as_bool()), (Some("2026-03-03"), Some(false)));
    insta::assert_snapshot!(env.coord(&["roadmap"]).ok(), @r"
    PLAN-001  Launch  [active]  target 2026-03-05
      [----------]   0%  0/2 milestones, 0/4 todos
      critical path: TODO-004 → TODO-005 (20h), projected 2026-03-04
      MILESTONE-001  Web ready  due 2026-03-03  pending  0/2 todos, projected 2026-03-04  LATE
      MILESTONE-002  API ready  due 2026-03-20  pending  0/2 todos, projected 2026-03-03
    ");
    // Work logged shortens the remaining chain: 16h − 10h = 6h, + 4h = 10h < 12h.
    env.coord(&["update-todo", "TODO-004", "--actual-hours", "10"]).ok();
    let p = &env.coord(&["roadmap", "--plan", "PLAN-001", "--format", "json"]).json()["plans"][0];
    assert_eq!(p["critical_path"], serde_json::json!(["TODO-001", "TODO-002"]));
    assert_eq!(p["projected_finish"], "2026-03-03");
}

#[test]
fn workload_by_assignee_and_repo() {
    let env = fixture();
    let w = env.coord(&["workload", "--format", "json"]).json();
    assert_eq!(w["by"], "assignee");
    let w = &w["rows"];
    assert_eq!(w[0]["key"], "ana");
    assert_eq!((w[0]["open_todos"].as_u64(), w[0]["estimated_hours"].as_f64()), (Some(2), Some(18.0)));
    assert_eq!(w[1]["key"], serde_json::Value::Null, "unassigned last");
    assert_eq!((w[1]["open_todos"].as_u64(), w[1]["unestimated"].as_u64()), (Some(6), Some(1)));
    let by_repo = env.coord(&["workload", "--by", "repo", "--format", "json"]).json();
    assert_eq!(by_repo["by"], "repo");
    let keys: Vec<&str> = by_repo["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["web", "api", "db"], "by hours: web 22, api 12, db 3");
}

#[test]
fn cycles_are_reported_by_lint_and_refused_on_write() {
    let env = fixture();
    let err = env.coord(&["update-todo", "TODO-001", "--blocked-by", "TODO-008"]).fails(1).to_string();
    assert!(err.contains("this change would create a cycle: TODO-001 → TODO-002 → TODO-008 → TODO-001"), "{err}");
    let err = env
        .coord(&["create-todo", "--task", "x", "--repo", "web", "--blocked-by", "TODO-005", "--blocking", "TODO-004"])
        .fails(1)
        .to_string();
    assert!(err.contains("would create a cycle"), "{err}");
    // Edges declared on both sides: 012 → 010 (blocked_by), 010 → 011 (blocked_by), 011 → 012 (blocking).
    env.write(
        "coordination/todos/TODO-010.yaml",
        "id: TODO-010\ntask: a\nrepo: api\nstatus: pending\nblocked_by: [TODO-012]\n",
    );
    env.write(
        "coordination/todos/TODO-011.yaml",
        "id: TODO-011\ntask: b\nrepo: api\nstatus: pending\nblocked_by: [TODO-010]\nblocking: [TODO-012]\n",
    );
    env.write("coordination/todos/TODO-012.yaml", "id: TODO-012\ntask: c\nrepo: api\nstatus: pending\n");
    let lint = env.coord(&["lint"]);
    assert!(lint.stdout.contains("blocking cycle: TODO-010 → TODO-011 → TODO-012 → TODO-010"), "{}", lint.stdout);
    lint.fails(1);
    let r = env.coord(&["ready", "--format", "json"]).json();
    assert!(!ids(&r).contains(&"TODO-010".to_string()), "members of a cycle are never ready");
}

#[test]
fn dep_graph_in_every_format() {
    let env = fixture();
    insta::assert_snapshot!(env.coord(&["dep-graph"]).ok(), @r"
    api depends on db (DEP-001 >=2.0)  [unsatisfied]
    web depends on api (DEP-002)
    ");
    insta::assert_snapshot!(env.coord(&["dep-graph", "--format", "mermaid"]).ok(), @r#"
    flowchart LR
        api["api"]
        db["db"]
        lonely["lonely"]
        web["web"]
        api -. "DEP-001 >=2.0 (unsatisfied)" .-> db
        web -- "DEP-002" --> api
    "#);
    insta::assert_snapshot!(env.coord(&["dep-graph", "--format", "dot", "--repo", "db"]).ok(), @r#"
    digraph {
        0 [ label="api", shape=box]
        1 [ label="db", shape=box]
        0 -> 1 [ label="DEP-001 >=2.0 (unsatisfied)", color=red, style=dashed]
    }
    "#);
    insta::assert_snapshot!(env.coord(&["dep-graph", "--kind", "entities", "--format", "mermaid", "--plan", "PLAN-001"]).ok(), @r#"
    flowchart LR
        ISSUE_002["ISSUE-002: Old bug"]
        MILESTONE_001["MILESTONE-001: Web ready"]
        MILESTONE_002["MILESTONE-002: API ready"]
        PLAN_001["PLAN-001: Launch"]
        TODO_001["TODO-001: Schema"]
        TODO_002["TODO-002: Endpoints"]
        TODO_004["TODO-004: Redesign"]
        TODO_005["TODO-005: Polish"]
        TODO_008["TODO-008: Docs"]
        ISSUE_002 -.->|done| TODO_001
        TODO_001 ==>|blocks| TODO_002
        TODO_002 ==>|blocks| TODO_008
        TODO_004 ==>|blocks| TODO_005
    "#);
    let j = env.coord(&["dep-graph", "--format", "json"]).json();
    assert_eq!(j["edges"][0]["active"], true);
    assert_eq!(j["edges"][1]["active"], false);
}

#[test]
fn validate_repo_checks_registry_path_and_counterparts() {
    let env = fixture();
    std::fs::create_dir_all(env.root.join("api")).unwrap();
    env.git_in(&env.root.join("api"), &["init", "-q"]).ok();
    let v = env.coord(&["validate-repo", "a", "--format", "json"]).json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["repo"], "api");
    assert_eq!(
        v["entities"],
        serde_json::json!(["ISSUE-002", "PLAN-001", "TODO-001", "TODO-002", "TODO-008", "DEP-001", "DEP-002"])
    );
    let out = env.coord(&["validate-repo", "web"]);
    assert!(out.stdout.contains("error  path:") && out.stdout.contains("web does not exist"), "{}", out.stdout);
    out.fails(1);
    std::fs::create_dir_all(env.root.join("db")).unwrap();
    let out = env.coord(&["validate-repo", "db"]);
    assert!(out.stdout.contains("is not a git repository"), "{}", out.stdout);
    out.fails(1);
    let out = env.coord(&["validate-repo", "ghost"]);
    assert!(out.stdout.contains("error  registered: unknown repository `ghost`"), "{}", out.stdout);
    out.fails(1);
}

#[test]
fn an_empty_ecosystem_answers_every_question() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    assert_eq!(env.coord(&["ready"]).ok(), "nothing is ready\n");
    assert_eq!(env.coord(&["roadmap"]).ok(), "no active plans\n");
    assert_eq!(env.coord(&["dep-graph"]).ok(), "(no edges)\n");
    let s = env.coord(&["status", "--format", "json"]).json();
    assert_eq!((s["health"].as_str(), s["repos"].as_u64()), (Some("healthy"), Some(0)));
    assert_eq!(env.coord(&["workload", "--format", "json"]).json(), serde_json::json!({"by": "assignee", "rows": []}));
}
