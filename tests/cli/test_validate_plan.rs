//! `validate --plan`: one failing fixture per readiness check (each breaks
//! exactly that check of an otherwise valid plan), and milestone completion
//! from todos, deliverables at HEAD and criteria (manual, trusted checks run
//! through the executor, untrusted ones never run), with `--update`.

use crate::env::TestEnv;
use serde_json::Value;

/// A valid plan over checkout `a` (registered, committed `src/lib.rs`) and
/// the provider `lib` it depends on: PLAN-001 with MILESTONE-001/002 and an
/// estimated open todo. `extra_todo`, `plan_extra`, `m2` tweak it.
fn fixture(env: &TestEnv, m2_due: &str, plan_extra: &str, todo_extra: &str) {
    let base = env.root.parent().unwrap().to_path_buf();
    for (r, file, text) in
        [("a", "src/lib.rs", "// lib\n"), ("lib", "Cargo.toml", "[package]\nname = \"lib\"\nversion = \"1.2.0\"\n")]
    {
        let d = base.join(r);
        std::fs::create_dir_all(d.join("src")).unwrap();
        std::fs::write(d.join(file), text).unwrap();
        env.git_in(&d, &["init", "-q", "-b", "main"]).ok();
        env.git_in(&d, &["add", "-A"]).ok();
        env.git_in(&d, &["commit", "-q", "-m", "init"]).ok();
    }
    env.write(
        "settings/ecosystem.yaml",
        "repos:\n  - {name: a, path: ../a}\n  - {name: lib, path: ../lib}\n  - {name: nocheckout, path: ../nowhere}\n",
    );
    env.write(
        "coordination/dependencies/DEP-001.yaml",
        "id: DEP-001\nconsumer: a\nprovider: lib\nversion_constraint: \">=1.0\"\nstatus: satisfied\n",
    );
    env.write(
        "coordination/plans/PLAN-001.yaml",
        &format!(
            "id: PLAN-001\ntitle: ship\nstatus: active\nrepos: [a]\ntarget: \"2099-01-01\"\n{plan_extra}milestones:\n  - id: MILESTONE-001\n    name: first\n    due: \"2030-01-01\"\n    deliverables: [src/lib.rs]\n  - id: MILESTONE-002\n    name: second\n    due: \"{m2_due}\"\n    dependencies: [MILESTONE-001]\n"
        ),
    );
    env.write(
        "coordination/todos/TODO-001.yaml",
        &format!("id: TODO-001\ntask: build it\nrepo: a\nstatus: pending\nmilestone_id: MILESTONE-002\nestimated_hours: 2\n{todo_extra}"),
    );
    env.commit_all("fixture");
}

fn validate(env: &TestEnv, args: &[&str], code: i32) -> Value {
    let mut a = vec!["validate", "--plan", "PLAN-001", "--format", "json"];
    a.extend(args);
    let r = env.coord(&a);
    assert_eq!(r.code, code, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}\nstderr: {}", r.stdout, r.stderr))
}

/// The checks that failed, by name.
fn failed(v: &Value) -> Vec<String> {
    v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] != "ok")
        .map(|c| c["check"].as_str().unwrap().to_string())
        .collect()
}

fn detail<'a>(v: &'a Value, check: &str) -> &'a str {
    v["checks"].as_array().unwrap().iter().find(|c| c["check"] == check).unwrap()["detail"].as_str().unwrap()
}

#[test]
fn the_fixture_is_valid() {
    let env = TestEnv::new();
    fixture(&env, "2030-02-01", "", "");
    let v = validate(&env, &[], 0);
    assert_eq!(v["valid"], true, "{v}");
    assert!(failed(&v).is_empty());
    // The table form exits 0 too and says so.
    let r = env.coord(&["validate", "--plan", "PLAN-001"]);
    assert!(r.stdout.contains("PLAN-001 is valid"), "{}", r.stdout);
}

#[test]
fn each_readiness_check_fails_on_its_fixture() {
    // (check, m2 due, plan extra, todo extra, a word the detail must name)
    let cases: &[(&str, &str, &str, &str, &str)] = &[
        ("lint", "2030-02-01", "", "priority: sky-high\n", "TODO-001"),
        ("dates", "2029-12-01", "", "", "MILESTONE-002"),
        ("projection", "2030-02-01", "", "", "target"),
        ("estimates", "2030-02-01", "", "", "TODO-001"),
        ("repos", "2030-02-01", "", "", "ghost"),
        ("repos", "2030-02-01", "", "", "not a git checkout"),
        ("cycles", "2030-02-01", "", "blocked_by: [TODO-002]\n", "TODO-002"),
        ("dependencies", "2030-02-01", "", "", "DEP-001"),
    ];
    for (i, (check, m2, plan_extra, todo_extra, word)) in cases.iter().enumerate() {
        let env = TestEnv::new();
        fixture(&env, m2, plan_extra, todo_extra);
        match (i, *check) {
            (_, "projection") => {
                let p = env.read("coordination/plans/PLAN-001.yaml").replace("2099-01-01", "2001-01-01");
                env.write("coordination/plans/PLAN-001.yaml", &p);
            }
            (_, "estimates") => {
                let t = env.read("coordination/todos/TODO-001.yaml").replace("estimated_hours: 2\n", "");
                env.write("coordination/todos/TODO-001.yaml", &t);
            }
            (4, _) => {
                let p = env.read("coordination/plans/PLAN-001.yaml").replace("repos: [a]", "repos: [a, ghost]");
                env.write("coordination/plans/PLAN-001.yaml", &p);
            }
            (5, _) => {
                let p = env.read("coordination/plans/PLAN-001.yaml").replace("repos: [a]", "repos: [a, nocheckout]");
                env.write("coordination/plans/PLAN-001.yaml", &p);
            }
            (_, "cycles") => env.write(
                "coordination/todos/TODO-002.yaml",
                "id: TODO-002\ntask: other\nrepo: a\nstatus: pending\nplan_id: PLAN-001\nestimated_hours: 1\nblocked_by: [TODO-001]\n",
            ),
            (_, "dependencies") => env.write(
                "coordination/dependencies/DEP-001.yaml",
                "id: DEP-001\nconsumer: a\nprovider: lib\nversion_constraint: \">=2.0\"\nstatus: satisfied\n",
            ),
            _ => {}
        }
        env.commit_all("break one check");
        let v = validate(&env, &[], 1);
        assert_eq!(v["valid"], false, "{check}: {v}");
        assert!(failed(&v).contains(&check.to_string()), "{check} did not fail: {v}");
        assert!(detail(&v, check).contains(word), "{check}: {}", detail(&v, check));
    }
}

#[test]
fn untrusted_commands_fail_validation_when_execution_is_enabled() {
    let env = TestEnv::new();
    fixture(&env, "2030-02-01", "", "");
    env.write("settings/coord.yaml", "pool_execution_enabled: true\nactions:\n  test: \"true\"\n");
    env.commit_all("enable");
    let v = validate(&env, &[], 1);
    assert_eq!(failed(&v), vec!["trust".to_string()], "{v}");
    assert!(detail(&v, "trust").contains("TODO-001"));
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let v = validate(&env, &[], 0);
    assert!(failed(&v).is_empty(), "{v}");
}

fn items(v: &Value, m: &str) -> Vec<(String, String)> {
    let ms = v["milestones"].as_array().unwrap();
    let m = ms.iter().find(|x| x["id"] == m).unwrap();
    m["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["text"].as_str().unwrap().to_string(), i["status"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn completion_from_todos_deliverables_and_criteria_with_update() {
    let env = TestEnv::new();
    let marks = env.root.parent().unwrap().join("ran");
    fixture(&env, "2030-02-01", "", "");
    env.write("settings/coord.yaml", "pool_execution_enabled: true\nactions:\n  test: \"true\"\n");
    // MILESTONE-001: a deliverable at HEAD, a missing one, a manual and a checked criterion.
    let p = env.read("coordination/plans/PLAN-001.yaml").replace(
        "    deliverables: [src/lib.rs]\n",
        "    deliverables: [src/lib.rs, docs/missing.md]\n    completion_criteria:\n      - reviewed by a person\n      - {text: tests pass, check: {command: \"touch MARK\"}}\n",
    ).replace("MARK", &marks.display().to_string());
    env.write("coordination/plans/PLAN-001.yaml", &p);
    env.commit_all("criteria");
    // An uncommitted file is not a deliverable at HEAD.
    std::fs::create_dir_all(env.root.parent().unwrap().join("a/docs")).unwrap();
    std::fs::write(env.root.parent().unwrap().join("a/docs/missing.md"), "draft").unwrap();
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    // The check's command is not approved: reported untrusted, never run.
    let v = validate(&env, &[], 0);
    let it = items(&v, "MILESTONE-001");
    assert!(it.contains(&("src/lib.rs".into(), "met".into())), "{it:?}");
    assert!(it.contains(&("docs/missing.md".into(), "unmet".into())), "{it:?}");
    assert!(it.contains(&("reviewed by a person".into(), "manual".into())), "{it:?}");
    assert!(it.contains(&("tests pass".into(), "untrusted".into())), "{it:?}");
    assert!(!marks.exists(), "an untrusted check ran");
    // Approved: the check runs through the executor (a run record) and is met.
    let cmd = format!("touch {}", marks.display());
    env.coord(&["trust", "--exec", "--command", &cmd, "--repos", "a"]).ok();
    let v = validate(&env, &[], 0);
    assert!(items(&v, "MILESTONE-001").contains(&("tests pass".into(), "met".into())), "{v}");
    assert!(marks.exists(), "the trusted check did not run");
    assert!(env.root.join("coordination/runs").read_dir().unwrap().count() >= 1);
    // Still not met (missing deliverable, manual criterion): --update writes nothing.
    let v = validate(&env, &["--update"], 0);
    assert_eq!(v["updated"].as_array().unwrap().len(), 0, "{v}");
    // A milestone whose todos are done and which has nothing manual is met and marked.
    env.coord(&["complete-todo", "TODO-001"]).ok();
    let v = validate(&env, &["--update"], 0);
    assert_eq!(v["updated"], serde_json::json!(["MILESTONE-002"]), "{v}");
    let plan = env.read("coordination/plans/PLAN-001.yaml");
    assert!(plan.contains("status: completed"), "{plan}");
    assert!(plan.contains("reviewed by a person"), "the criteria survived the write: {plan}");
    assert!(plan.contains("command: \"touch") || plan.contains("command: touch"), "{plan}");
    // A second run changes nothing.
    let v = validate(&env, &["--update"], 0);
    assert_eq!(v["updated"].as_array().unwrap().len(), 0);
}
