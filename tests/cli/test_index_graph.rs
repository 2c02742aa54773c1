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

/// Rewrites text inside the kinds' images (the same length: the image is a
/// binary document), so a test can tell whether an image was served.
fn plant_image(env: &TestEnv, from: &str, to: &str) -> usize {
    assert_eq!(from.len(), to.len());
    let conn = rusqlite::Connection::open(index_file(env)).unwrap();
    let images: Vec<(String, String, Vec<u8>)> = conn
        .prepare("SELECT root, kind, data FROM idx_image_data")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut planted = 0;
    for (root, kind, mut data) in images {
        let Some(at) = data.windows(from.len()).position(|w| w == from.as_bytes()) else { continue };
        data[at..at + from.len()].copy_from_slice(to.as_bytes());
        conn.execute(
            "UPDATE idx_image_data SET data = ?3 WHERE root = ?1 AND kind = ?2",
            rusqlite::params![root, kind, data],
        )
        .unwrap();
        planted += 1;
    }
    planted
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
    // Served from the kind's image, checked against the sheet of stamps
    // (no monitor runs here)...
    assert_eq!(plant_image(&env, "Fix the timeout handler", "From the image document"), 1);
    assert!(ready_text(&env).contains("From the image document"), "an aged, unchanged kind is served from its image");
    // ... and without an image, from the graph rows.
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    conn.execute("DELETE FROM idx_image", []).unwrap();
    drop(conn);
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

/// Plans, milestones and todos with every kind of relation `show-*`
/// computes: inherited blockers (a todo in a milestone that depends on
/// another plan's milestone; a plan that depends on a plan), blockers
/// declared on either side, finished blockers, an issue's todos and plans,
/// and links to the legacy section's items (ISSUE-001, TODO-001).
fn relations_fixture(env: &TestEnv) {
    let files = [
        (
            "issues/ISSUE-010",
            "id: ISSUE-010\ntitle: Outage\nstatus: pending\npriority: high\nrepos: [oneiric]\nblocking: [TODO-023]\n",
        ),
        (
            "issues/ISSUE-011",
            "id: ISSUE-011\ntitle: Done bug\nstatus: resolved\npriority: low\nrepos: [oneiric]\ndependencies: [ISSUE-010]\n",
        ),
        (
            "plans/PLAN-010",
            "id: PLAN-010\ntitle: First\nstatus: active\nrepos: [oneiric]\nissue_ids: [ISSUE-010]\nmilestones:\n- id: MILESTONE-010\n  name: Base\n  status: pending\n- id: MILESTONE-011\n  name: Done part\n  status: completed\n",
        ),
        (
            "plans/PLAN-011",
            "id: PLAN-011\ntitle: Second\nstatus: active\nrepos: [oneiric]\ndepends_on: [PLAN-010]\nmilestones:\n- id: MILESTONE-012\n  name: Later\n  status: pending\n  dependencies: [MILESTONE-010]\n",
        ),
        (
            "todos/TODO-020",
            "id: TODO-020\ntask: Base work\nrepo: oneiric\nstatus: pending\nplan_id: PLAN-010\nmilestone_id: MILESTONE-010\nissue_id: ISSUE-010\n",
        ),
        (
            "todos/TODO-021",
            "id: TODO-021\ntask: Later work\nrepo: oneiric\nstatus: pending\nmilestone_id: MILESTONE-012\nblocked_by: [TODO-020, TODO-001]\n",
        ),
        (
            "todos/TODO-022",
            "id: TODO-022\ntask: Second plan work\nrepo: oneiric\nstatus: in_progress\nplan_id: PLAN-011\nissue_id: ISSUE-010\n",
        ),
        (
            "todos/TODO-023",
            "id: TODO-023\ntask: Waits on the issue\nrepo: oneiric\nstatus: pending\nblocking: [TODO-024]\n",
        ),
        (
            "todos/TODO-024",
            "id: TODO-024\ntask: Tail\nrepo: oneiric\nstatus: completed\nmilestone_id: MILESTONE-011\nissue_id: ISSUE-001\n",
        ),
    ];
    for (path, text) in files {
        env.write(&format!("coordination/{path}.yaml"), text);
    }
}

/// `show` of every entity: the neighbourhood the index gives equals the
/// whole graph's answer, with the index fresh, served, and with a twin ID
/// (where the index steps back and everything is loaded).
#[test]
fn show_relations_from_the_neighbourhood_equal_the_whole_graph() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    relations_fixture(&env);
    env.commit_all("relations");
    age_all(&env);
    let ids = [
        "ISSUE-002",
        "ISSUE-003",
        "ISSUE-010",
        "ISSUE-011",
        "PLAN-001",
        "PLAN-010",
        "PLAN-011",
        "TODO-002",
        "TODO-003",
        "TODO-020",
        "TODO-021",
        "TODO-022",
        "TODO-023",
        "TODO-024",
        "DEP-001",
        "ISSUE-001",
        "TODO-001",
    ];
    let shows = |no_index: bool| -> Vec<String> {
        ids.iter()
            .map(|id| {
                let mut cmd = env.coord_command(&["show", id, "--format", "json"]);
                if no_index {
                    cmd.env("GIT_COORD_NO_CACHE", "1");
                }
                let out = cmd.output().unwrap();
                format!("{id}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
            })
            .collect()
    };
    let plain = shows(true);
    assert!(plain[9].contains("MILESTONE-010") && plain[10].contains("blocked"), "the fixture inherits: {}", plain[10]);
    for pass in ["building", "served", "served again"] {
        for (a, b) in plain.iter().zip(shows(false)) {
            assert_eq!(*a, b, "{pass}: the neighbourhood changed an answer");
        }
    }
    // Served from the rows: a planted title in a neighbour's graph row
    // shows, and only the neighbourhood was loaded.
    assert_eq!(plant_graph(&env, "Base work", "From the neighbourhood"), 1);
    let out = env
        .coord_command(&["show", "TODO-021", "--format", "json"])
        .env("GIT_COORD_LOG", "git_coord::store=debug")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("From the neighbourhood"));
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log.lines().find(|l| l.contains("neighbourhood")).unwrap_or_else(|| panic!("not loaded around: {log}"));
    assert!(!line.contains("files=25"), "fewer files than all: {line}");
    // A file overriding a legacy item (the file wins, also when it is not
    // near the entity shown).
    env.write(
        "coordination/issues/ISSUE-001.yaml",
        "id: ISSUE-001\ntitle: Overrides legacy\nstatus: resolved\npriority: low\nrepos: [oneiric]\n",
    );
    age_all(&env);
    let plain = shows(true);
    assert!(plain.iter().any(|s| s.contains("Overrides legacy")));
    for (a, b) in plain.iter().zip(shows(false)) {
        assert_eq!(*a, b, "with an override: the neighbourhood changed an answer");
    }
    // A twin: two files hold TODO-020; the whole load decides, as without the index.
    env.write("coordination/todos/TODO-020.yml", "id: TODO-020\ntask: Twin\nrepo: oneiric\nstatus: completed\n");
    age_all(&env);
    let plain = shows(true);
    for (a, b) in plain.iter().zip(shows(false)) {
        assert_eq!(*a, b, "with a twin: the neighbourhood changed an answer");
    }
}
