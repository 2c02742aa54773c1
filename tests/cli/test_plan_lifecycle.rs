//! Issue 11, point 11 (renumbering a milestone with a minimal diff, a
//! todo's milestone belonging to its plan, forced deletes naming what they
//! leave dangling, `delete-plan`/`delete-milestone`, cancelled milestones in
//! the roadmap, the direction of `blocking`/`blocked-by`) and the closed-pipe
//! part of point 10. Tests are named after their point.

use crate::env::TestEnv;

fn plan_with_three_milestones(env: &TestEnv) {
    env.coord(&[
        "create-plan",
        "--title",
        "Q2",
        "--milestone",
        "Alpha:2026-04-01",
        "--milestone",
        "Beta:2026-05-01",
        "--milestone",
        "Gamma:2026-06-01",
    ])
    .ok();
}

#[test]
fn point11_renumbering_a_milestone_changes_only_its_lines() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    plan_with_three_milestones(&env);
    env.coord(&["update-milestone", "MILESTONE-003", "--depends-on", "MILESTONE-002"]).ok();
    env.commit_all("plan");
    let r = env.coord(&["renumber", "MILESTONE-002", "--to", "MILESTONE-009", "--format", "json"]).json();
    assert_eq!(r["to"], "MILESTONE-009");
    let changed = env.changed_lines();
    // The milestone's own `id:` and the reference to it in MILESTONE-003's
    // dependencies: one line out, one in, each; the rest stays untouched.
    assert_eq!(changed.len(), 4, "{changed:#?}");
    assert!(changed.iter().any(|l| l.starts_with('-') && l.contains("MILESTONE-002")), "{changed:#?}");
    assert!(changed.iter().filter(|l| l.starts_with('+')).all(|l| l.contains("MILESTONE-009")), "{changed:#?}");
    env.coord(&["lint"]).ok();
}

#[test]
fn point11_a_todos_milestone_must_belong_to_its_plan() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    env.coord(&["create-plan", "--title", "One", "--milestone", "A:2026-04-01"]).ok();
    env.coord(&["create-plan", "--title", "Two", "--milestone", "B:2026-05-01"]).ok();
    // Another plan's milestone: refused, naming the flag and both plans.
    let err = env
        .coord(&["create-todo", "--task", "x", "--repo", "api", "--plan", "PLAN-001", "--milestone", "MILESTONE-002"])
        .fails(1)
        .to_string();
    assert!(err.contains("--milestone") && err.contains("PLAN-002") && err.contains("PLAN-001"), "{err}");
    assert!(!env.exists("coordination/todos/TODO-001.yaml"), "a refused todo was written");
    // A milestone without a plan: the todo joins the milestone's plan.
    let t =
        env.coord(&["create-todo", "--task", "y", "--repo", "api", "--milestone", "MILESTONE-002", "--format", "json"]);
    assert_eq!(t.entity()["plan_id"], "PLAN-002");
    // Moving it to the other plan without its milestone is refused too.
    let err = env.coord(&["update-todo", "TODO-001", "--plan", "PLAN-001"]).fails(1).to_string();
    assert!(err.contains("--milestone") && err.contains("MILESTONE-002"), "{err}");
    env.coord(&["update-todo", "TODO-001", "--plan", "PLAN-001", "--milestone", "MILESTONE-001"]).ok();
}

#[test]
fn point11_forced_delete_issue_lists_the_dangling_references() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    env.coord(&["create-issue", "--title", "Root", "--repos", "api"]).ok();
    env.coord(&["create-todo", "--task", "x", "--repo", "api", "--issue", "ISSUE-001"]).ok();
    env.coord(&["create-todo", "--task", "y", "--repo", "api", "--blocked-by", "ISSUE-001"]).ok();
    let err = env.coord(&["delete-issue", "ISSUE-001"]).fails(1).to_string();
    assert!(err.contains("TODO-001") && err.contains("TODO-002") && err.contains("--force"), "{err}");
    let run = env.coord(&["delete-issue", "ISSUE-001", "--force"]);
    assert!(run.ok().starts_with("deleted ISSUE-001"));
    assert!(run.stderr.contains("TODO-001.issue_id still refers to ISSUE-001"), "{}", run.stderr);
    assert!(run.stderr.contains("TODO-002.blocked_by still refers to ISSUE-001"), "{}", run.stderr);
}

#[test]
fn point11_delete_plan_and_delete_milestone() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    plan_with_three_milestones(&env);
    env.coord(&["create-plan", "--title", "Other", "--depends-on", "PLAN-001"]).ok();
    env.coord(&["update-milestone", "MILESTONE-003", "--depends-on", "MILESTONE-002"]).ok();
    env.coord(&["create-todo", "--task", "x", "--repo", "api", "--milestone", "MILESTONE-002"]).ok();
    env.commit_all("plans");

    // A referenced milestone: refused, unless forced; forced, it names what dangles.
    let err = env.coord(&["delete-milestone", "MILESTONE-002"]).fails(1).to_string();
    assert!(err.contains("MILESTONE-003") && err.contains("TODO-001") && err.contains("--force"), "{err}");
    let free = env.coord(&["delete-milestone", "MILESTONE-001", "--format", "json"]).json();
    assert_eq!(free["kind"], "milestone");
    assert_eq!(free["entity"]["name"], "Alpha");
    assert_eq!(free["path"], "coordination/plans/PLAN-001.yaml");
    let changed = env.changed_lines();
    assert!(changed.iter().all(|l| l.starts_with('-')), "removing a milestone only removes lines: {changed:#?}");
    let forced = env.coord(&["delete-milestone", "MILESTONE-002", "--force", "--format", "json"]).json();
    let dangling: Vec<String> =
        forced["dangling"].as_array().unwrap().iter().map(|d| format!("{} {}", d["holder"], d["field"])).collect();
    assert_eq!(
        dangling,
        [r#""MILESTONE-003" "milestones[MILESTONE-003].dependencies""#, r#""TODO-001" "milestone_id""#]
    );
    let plan = env.coord(&["show-plan", "PLAN-001", "--format", "json"]).entity();
    let left: Vec<&str> = plan["milestones"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(left, ["MILESTONE-003"]);
    env.coord(&["delete-milestone", "MILESTONE-002"]).fails(1);

    // A plan: refused while referenced (by PLAN-002, by the todo's plan_id).
    let err = env.coord(&["delete-plan", "PLAN-001"]).fails(1).to_string();
    assert!(err.contains("PLAN-002") && err.contains("TODO-001"), "{err}");
    env.coord(&["delete-plan", "PLAN-002"]).ok();
    let run = env.coord(&["delete-plan", "PLAN-001", "--force"]);
    assert!(run.ok().starts_with("deleted PLAN-001"));
    assert!(run.stderr.contains("TODO-001.plan_id still refers to PLAN-001"), "{}", run.stderr);
    assert!(!env.exists("coordination/plans/PLAN-001.yaml"));
}

#[test]
fn point11_delete_plan_counts_references_to_its_milestones() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    env.coord(&["create-plan", "--title", "One", "--milestone", "A:2026-04-01"]).ok();
    env.coord(&["create-plan", "--title", "Two", "--milestone", "B:2026-05-01"]).ok();
    env.coord(&["update-milestone", "MILESTONE-002", "--depends-on", "MILESTONE-001"]).ok();
    let err = env.coord(&["delete-plan", "PLAN-001"]).fails(1).to_string();
    assert!(err.contains("MILESTONE-002"), "a milestone of another plan depends on PLAN-001's: {err}");
}

#[test]
fn point11_delete_plan_and_milestone_are_mcp_tools() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    plan_with_three_milestones(&env);
    let mut c = crate::test_mcp::Client::start(&env);
    let m = c.tool(2, "coord_delete_milestone", serde_json::json!({"id": "MILESTONE-003"}));
    assert_eq!(m["id"], "MILESTONE-003");
    let p = c.tool(3, "coord_delete_plan", serde_json::json!({"id": "PLAN-001"}));
    assert_eq!(p["id"], "PLAN-001");
    assert!(!env.exists("coordination/plans/PLAN-001.yaml"));
}

#[test]
fn point11_roadmap_leaves_cancelled_milestones_out_of_the_denominator() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    plan_with_three_milestones(&env);
    env.coord(&["update-plan", "PLAN-001", "--status", "active"]).ok();
    env.coord(&["update-milestone", "MILESTONE-001", "--status", "completed"]).ok();
    env.coord(&["update-milestone", "MILESTONE-002", "--status", "cancelled"]).ok();
    let r = env.coord(&["roadmap", "--format", "json"]).json();
    let p = &r["plans"][0];
    assert_eq!((p["milestones_completed"].as_u64(), p["milestones_total"].as_u64()), (Some(1), Some(2)), "{p}");
    assert_eq!(p["percent"], 50);
    env.coord(&["update-milestone", "MILESTONE-003", "--status", "completed"]).ok();
    assert_eq!(env.coord(&["roadmap", "--format", "json"]).json()["plans"][0]["percent"], 100);
    let list = env.coord(&["list-plans"]).ok().to_string();
    assert!(list.contains(" 2/2 "), "list-plans counts the same way: {list}");
    let status = env.coord(&["status", "--format", "json"]).json();
    assert_eq!(status["active_plans"][0]["milestones_total"], 2, "{status}");
}

#[test]
fn point11_blocking_and_blocked_by_say_their_direction() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    env.coord(&["create-todo", "--task", "provide", "--repo", "db"]).ok();
    env.coord(&["create-todo", "--task", "consume", "--repo", "api", "--blocked-by", "TODO-001"]).ok();
    let help = env.coord(&["--help"]).ok().to_string();
    let line = |cmd: &str| help.lines().find(|l| l.trim_start().starts_with(cmd)).unwrap().to_string();
    assert!(line("blocking ").contains("What is blocking REPO"), "{help}");
    assert!(line("blocked-by ").contains("What REPO is blocking"), "{help}");
    let long = env.coord(&["blocking", "--help"]).ok().to_string();
    assert!(long.contains("blocked-by REPO"), "the help names the other direction: {long}");
    let long = env.coord(&["blocked-by", "--help"]).ok().to_string();
    assert!(long.contains("blocking REPO"), "the help names the other direction: {long}");

    let out = env.coord(&["blocking", "api"]).ok().to_string();
    assert!(out.starts_with("What is blocking api (its work waits on these)\n"), "{out}");
    assert!(out.contains("TODO-002") && out.contains("blocked by TODO-001"), "{out}");
    let out = env.coord(&["blocked-by", "db"]).ok().to_string();
    assert!(out.starts_with("What db is blocking (this work waits on db): api\n"), "{out}");
    assert_eq!(env.coord(&["blocked-by", "api"]).ok(), "api is blocking nothing\n");
    assert_eq!(env.coord(&["blocking", "db"]).ok(), "nothing is blocking db\n");
}

#[test]
fn point10_a_closed_pipe_is_success() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    // More than a pipe's buffer (64 KiB) in every format, so the writer
    // does meet the closed pipe.
    for i in 1..=1500 {
        env.write(
            &format!("coordination/issues/ISSUE-{i:04}.yaml"),
            &format!("id: ISSUE-{i:04}\ntitle: Issue number {i} with a title long enough to fill the pipe\nstatus: pending\nrepos: [api]\n"),
        );
    }
    for format in ["table", "json", "yaml"] {
        let script = format!("{{ git coord list-issues --format {format}; echo $? > rc; }} | head -1");
        let run = env.sh(&script, &[]);
        assert_eq!(run.code, 0, "{format}: {run:?}");
        assert!(!run.stderr.contains("Broken pipe") && !run.stderr.contains("error"), "{format}: {}", run.stderr);
        assert_eq!(run.stdout.lines().count(), 1, "{format}");
        assert_eq!(env.read("rc").trim(), "0", "{format}: git coord exited non-zero");
    }
}
