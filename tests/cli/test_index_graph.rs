//! The graph rows of the index (`idx_files.g`): the graph reports and lint
//! are served from them when a file's row is current, never when the file
//! changed, and answer exactly as without the index — also on data with
//! lint problems, after an editor's in-place write, a checkout of another
//! branch and a deleted file.

use crate::env::TestEnv;
use crate::test_index::{age_all, compare, corpus, hour_ago, index_file, set_mtime};
use std::time::Duration;

/// Rewrites text inside the graph rows, so a test can tell whether a row
/// was served (the files never say "From the graph row").
fn plant_graph(env: &TestEnv, from: &str, to: &str) -> usize {
    let conn = rusqlite::Connection::open(index_file(env)).unwrap();
    conn.execute("UPDATE idx_files SET g = replace(g, ?1, ?2) WHERE instr(g, ?1) > 0", [from, to]).unwrap()
}

/// Lint's JSON (it exits 1: the data has errors).
fn lint_json(env: &TestEnv) -> String {
    let run = env.coord(&["lint", "--format", "json"]);
    run.fails(1);
    run.stdout.clone()
}

fn ready_text(env: &TestEnv) -> String {
    env.coord(&["ready", "--format", "json"]).ok().to_string()
}

#[test]
fn reports_are_served_from_current_graph_rows_only() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    env.coord(&["ready"]).ok();
    assert_eq!(plant_graph(&env, "Fix the timeout handler", "From the graph row"), 1);
    assert!(ready_text(&env).contains("From the graph row"), "an aged, unchanged file is served from its row");
    // Listing reads the full mapping, never the graph row.
    let todos = env.coord(&["list-todos", "--format", "json"]).ok().to_string();
    assert!(!todos.contains("From the graph row"), "{todos}");
    // An editor writing in place: the changed file is read, its row replaced.
    let p = env.root.join("coordination/todos/TODO-002.yaml");
    let text = std::fs::read_to_string(&p).unwrap().replace("Fix the timeout handler", "Fix the timeout handlers");
    std::fs::write(&p, text).unwrap();
    set_mtime(&p, hour_ago() + Duration::from_secs(5));
    let ready = ready_text(&env);
    assert!(ready.contains("Fix the timeout handlers") && !ready.contains("From the graph row"), "{ready}");
}

/// Data with every kind of lint problem, in files the index keeps rows for
/// (cross-entity problems) and files it re-reads (field problems).
fn problems(env: &TestEnv) {
    env.write(
        "coordination/todos/TODO-010.yaml",
        "id: TODO-010\ntask: Cycle A\nrepo: oneiric\nstatus: pending\nblocked_by: [TODO-011]\ndescription: free text\n",
    );
    env.write(
        "coordination/todos/TODO-011.yaml",
        "id: TODO-011\ntask: Cycle B\nrepo: oneiric\nstatus: pending\nblocked_by: [TODO-010]\nlabels: [x]\n",
    );
    env.write(
        "coordination/todos/TODO-012.yaml",
        "id: TODO-012\ntask: Dangling\nrepo: nowhere\nstatus: pending\nissue_id: ISSUE-404\nmilestone_id: MILESTONE-404\n",
    );
    env.write("coordination/todos/TODO-013.yaml", "id: TODO-013\ntask: [not, text]\nrepo: oneiric\nstatus: someday\n");
    env.write(
        "coordination/dependencies/DEP-002.yaml",
        "id: DEP-002\nconsumer: oneiric\nprovider: session-buddy\ntype: runtime\nversion_constraint: '>>1'\nstatus: unsatisfied\nvalidation:\n  command: 'true'\n",
    );
    env.write(
        "coordination/plans/PLAN-002.yaml",
        "id: PLAN-002\ntitle: Twin milestone\nstatus: active\nrepos: [oneiric]\nmilestones:\n  - id: MILESTONE-001\n    name: Again\n    status: pending\n    completion_criteria: [done]\n    deliverables: [a]\n",
    );
    env.commit_all("problems");
}

#[test]
fn lint_and_reports_answer_as_without_the_index_after_edits() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    problems(&env);
    age_all(&env);
    compare(&env, &env.root, "aged files with problems", true);
    let lint = lint_json(&env);
    for code in ["cycle", "reference", "repo", "constraint", "duplicate"] {
        assert!(lint.contains(&format!("\"{code}\"")), "lint reports {code}: {lint}");
    }
    // An editor writing in place: the cycle is broken, a new dangling
    // reference appears.
    let p = env.root.join("coordination/todos/TODO-011.yaml");
    std::fs::write(&p, "id: TODO-011\ntask: Cycle B\nrepo: oneiric\nstatus: pending\nblocked_by: [TODO-404]\n")
        .unwrap();
    set_mtime(&p, hour_ago() + Duration::from_secs(5));
    compare(&env, &env.root, "after an in-place edit", true);
    let lint = lint_json(&env);
    assert!(!lint.contains("\"cycle\"") && lint.contains("TODO-404"), "{lint}");
    // A checkout of another branch with other files.
    env.commit_all("edit");
    env.git(&["checkout", "-q", "-b", "other"]).ok();
    env.write(
        "coordination/todos/TODO-014.yaml",
        "id: TODO-014\ntask: Only here\nrepo: oneiric\nstatus: pending\nblocked_by: [TODO-010]\n",
    );
    std::fs::remove_file(env.root.join("coordination/todos/TODO-012.yaml")).unwrap();
    env.commit_all("other");
    compare(&env, &env.root, "on another branch", true);
    env.git(&["checkout", "-q", "main"]).ok();
    compare(&env, &env.root, "back on main", true);
    // A deleted file whose ID others still reference.
    // (TODO-003 is blocked by TODO-002.)
    std::fs::remove_file(env.root.join("coordination/todos/TODO-002.yaml")).unwrap();
    compare(&env, &env.root, "after a delete", true);
    let lint = lint_json(&env);
    assert!(lint.contains("unknown reference `TODO-002`"), "the reference to the deleted todo dangles: {lint}");
}
