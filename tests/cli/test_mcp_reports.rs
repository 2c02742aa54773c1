//! The read-only tools over MCP (reports, history, checks): each answers
//! with real content, errors name parameters (never flags), and a tool and
//! its CLI command's `--format json` give the same object on the same data.

use serde_json::{Value, json};

use crate::env::TestEnv;
use crate::test_mcp::Client;

/// The text of a tool error.
fn tool_error(r: &Value) -> String {
    assert_eq!(r["result"]["isError"], true, "expected a tool error: {r}");
    r["result"]["content"][0]["text"].as_str().unwrap_or_default().to_string()
}

/// The JSON a CLI command prints, whatever its exit code.
fn cli_json(env: &TestEnv, args: &[&str]) -> Value {
    let run = env.coord(args);
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {}{}", run.stdout, run.stderr))
}

/// Two repositories waiting on session-buddy, work of two people, a broken
/// reference for lint and a misnamed file for doctor.
fn data() -> TestEnv {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    env.write(
        "coordination/dependencies/DEP-001.yaml",
        "id: DEP-001\nconsumer: vishnu\nprovider: sb\ntype: runtime\nstatus: unsatisfied\nversion_constraint: '>=2.0'\n",
    );
    env.write(
        "coordination/issues/ISSUE-002.yaml",
        "id: ISSUE-002\ntitle: Memory API v2\nstatus: in_progress\npriority: high\nrepos: [session-buddy]\n",
    );
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: Ship the v2 API\nrepo: sb\nstatus: pending\npriority: high\nassignee: ana\nestimated_hours: 5\n",
    );
    env.write(
        "coordination/todos/TODO-003.yaml",
        "id: TODO-003\ntask: Use the v2 API\nrepo: vishnu\nstatus: pending\nassignee: ana\nestimated_hours: 3\nblocked_by: [TODO-002, ISSUE-002]\n",
    );
    env.write(
        "coordination/todos/TODO-004.yaml",
        "id: TODO-004\ntask: Tidy config\nrepo: oneiric\nstatus: in_progress\nissue_id: ISSUE-404\n",
    );
    env.commit_all("data");
    env
}

#[test]
fn lint_doctor_and_the_registry_over_mcp() {
    let env = data();
    let mut c = Client::start(&env);

    let lint = c.tool(2, "coord_lint", json!({}));
    assert_eq!(lint["errors"], 1, "{lint}");
    let p = &lint["problems"][0];
    assert_eq!((p["code"].as_str(), p["id"].as_str()), (Some("reference"), Some("TODO-004")), "{lint}");
    assert_eq!(p["file"], "coordination/todos/TODO-004.yaml");
    assert_eq!(p["value"], "ISSUE-404");
    let e = tool_error(&c.call(3, "tools/call", json!({"name": "coord_lint", "arguments": {"strict": true}})));
    assert!(e.contains("unknown field `strict`") && !e.contains("--"), "strict is the CLI's exit code: {e}");

    // A misnamed file: found, and over MCP never repaired.
    env.write(
        "coordination/issues/ISSUE-7.yaml",
        "id: ISSUE-007\ntitle: Misnamed\nstatus: pending\nrepos: [oneiric]\n",
    );
    let doc = c.tool(4, "coord_doctor", json!({}));
    let f = doc["findings"].as_array().unwrap().iter().find(|f| f["code"] == "filename").cloned();
    let f = f.unwrap_or_else(|| panic!("no filename finding: {doc}"));
    assert_eq!(
        (f["id"].as_str(), f["fixable"].as_bool(), f["fixed"].as_bool()),
        (Some("ISSUE-007"), Some(true), Some(false))
    );
    assert!(doc["left"].as_u64() >= Some(1), "{doc}");
    assert!(env.exists("coordination/issues/ISSUE-7.yaml"), "MCP repaired a file");
    let e = tool_error(&c.call(5, "tools/call", json!({"name": "coord_doctor", "arguments": {"fix": true}})));
    assert!(e.contains("unknown field `fix`"), "{e}");

    let repos = c.tool(6, "coord_list_repos", json!({}));
    assert_eq!(repos["count"], 3);
    let names: Vec<&str> = repos["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["mahavishnu", "session-buddy", "oneiric"]);
    assert_eq!(repos["items"][1]["nicknames"], json!(["buddy", "sb"]));
    let memory = c.tool(7, "coord_list_repos", json!({"role": "memory"}));
    assert_eq!((memory["count"].as_u64(), memory["items"][0]["name"].as_str()), (Some(1), Some("session-buddy")));
    let core = c.tool(8, "coord_list_repos", json!({"tag": "core"}));
    assert_eq!(core["items"][0]["name"], "mahavishnu");
}

#[test]
fn blocked_by_workload_and_validate_repo_over_mcp() {
    let env = data();
    let mut c = Client::start(&env);

    let by = c.tool(2, "coord_blocked_by", json!({"repo": "buddy"}));
    assert_eq!(by["repo"], "session-buddy");
    assert_eq!(by["repos"], json!(["mahavishnu"]), "{by}");
    assert_eq!(by["dependencies"][0]["id"], "DEP-001");
    let waits = &by["entities"][0];
    assert_eq!((waits["id"].as_str(), waits["waits_on"].clone()), (Some("TODO-003"), json!(["ISSUE-002", "TODO-002"])));
    let e = tool_error(&c.call(3, "tools/call", json!({"name": "coord_blocked_by", "arguments": {"repo": "budy"}})));
    assert!(e.contains("error: repo: unknown repository `budy` (did you mean `session-buddy`?)"), "{e}");
    assert!(!e.contains("--"), "MCP errors name parameters: {e}");

    let wl = c.tool(4, "coord_workload", json!({}));
    assert_eq!(wl["by"], "assignee");
    assert_eq!(wl["rows"][0]["key"], "ana");
    assert_eq!((wl["rows"][0]["open_todos"].as_u64(), wl["rows"][0]["estimated_hours"].as_f64()), (Some(2), Some(8.0)));
    assert_eq!(wl["rows"][1]["key"], Value::Null, "unassigned last: {wl}");
    let by_repo = c.tool(5, "coord_workload", json!({"by": "repo"}));
    let keys: Vec<&str> = by_repo["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["session-buddy", "mahavishnu", "oneiric"], "{by_repo}");
    let e = tool_error(&c.call(6, "tools/call", json!({"name": "coord_workload", "arguments": {"by": "team"}})));
    assert!(e.contains("expected one of: assignee, repo"), "{e}");

    // No checkout at ../oneiric: a result with ok false, not a tool error.
    let v = c.tool(7, "coord_validate_repo", json!({"name": "oneiric"}));
    assert_eq!((v["repo"].as_str(), v["ok"].as_bool()), (Some("oneiric"), Some(false)), "{v}");
    let path = v["checks"].as_array().unwrap().iter().find(|c| c["check"] == "path").cloned().expect("a path check");
    assert_eq!(path["status"], "error");
    assert!(path["detail"].as_str().unwrap().ends_with("does not exist"), "{path}");
    assert!(v["entities"].as_array().unwrap().contains(&json!("TODO-004")), "{v}");
    let ghost = c.tool(8, "coord_validate_repo", json!({"name": "ghost"}));
    assert_eq!(ghost["checks"][0]["check"], "registered");
    assert_eq!(ghost["ok"], false);
}

#[test]
fn log_of_an_entity_and_review_of_a_change_over_mcp() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Config reload", "--repos", "oneiric"]).ok();
    env.commit_all_at("file the reload issue", "2026-03-02T09:00:00+00:00");
    env.git(&["checkout", "-q", "-b", "topic"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--status", "in_progress"]).ok();
    env.commit_all_at("start on reload", "2026-03-03T09:00:00+00:00");
    let mut c = Client::start(&env);

    let log = c.tool(2, "coord_log", json!({"id": "issue-2"}));
    assert_eq!(log["id"], "ISSUE-002", "{log}");
    let commits = log["commits"].as_array().unwrap();
    let summaries: Vec<&str> = commits.iter().map(|c| c["summary"].as_str().unwrap()).collect();
    assert_eq!(summaries, ["start on reload", "file the reload issue"]);
    assert_eq!(
        commits[0]["changes"][0]["fields"][0],
        json!({"field": "status", "type": "set", "old": "pending", "new": "in_progress"})
    );
    assert_eq!(commits[1]["changes"][0]["change"], "created");
    let limited = c.tool(3, "coord_log", json!({"limit": 1, "rev": "main"}));
    assert_eq!(limited["commits"][0]["summary"], "file the reload issue", "{limited}");
    let e = tool_error(&c.call(4, "tools/call", json!({"name": "coord_log", "arguments": {"since": "someday"}})));
    assert!(e.contains("`someday` is not a date"), "{e}");

    // A clean change, then one that breaks a reference.
    let ok = c.tool(5, "coord_review", json!({"base": "main"}));
    assert_eq!((ok["errors"].as_u64(), ok["base"].as_str()), (Some(0), Some("main")), "{ok}");
    assert_eq!(ok["changes"][0]["id"], "ISSUE-002");
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: Reload on change\nrepo: oneiric\nstatus: pending\nblocked_by: [ISSUE-099]\n",
    );
    env.commit_all_at("a todo waiting on a typo", "2026-03-04T09:00:00+00:00");
    let bad = c.tool(6, "coord_review", json!({"base": "main"}));
    assert_eq!(bad["errors"], 1, "{bad}");
    assert_eq!(
        (bad["introduced"][0]["code"].as_str(), bad["introduced"][0]["id"].as_str()),
        (Some("reference"), Some("TODO-002"))
    );
    let e = tool_error(&c.call(7, "tools/call", json!({"name": "coord_review", "arguments": {"trust_all": true}})));
    assert!(e.contains("unknown field `trust_all`"), "an agent cannot run unapproved commands: {e}");
}

#[test]
fn mcp_and_cli_give_the_same_json_for_the_same_operation() {
    let env = data();
    let mut c = Client::start(&env);
    let same = |c: &mut Client, id: u64, tool: &str, args: Value, cli: &[&str]| {
        let mcp = c.tool(id, tool, args);
        let mut cli = cli.to_vec();
        cli.extend(["--format", "json"]);
        assert_eq!(mcp, cli_json(&env, &cli), "{tool} and `{}` differ", cli.join(" "));
    };
    same(&mut c, 2, "coord_ready_todos", json!({}), &["ready"]);
    same(&mut c, 3, "coord_ready_todos", json!({"repo": "sb", "limit": 1}), &["ready", "--repo", "sb", "--limit", "1"]);
    same(&mut c, 4, "coord_ecosystem_status", json!({}), &["status"]);
    same(&mut c, 5, "coord_get_repo_status", json!({"repo": "vishnu"}), &["status", "vishnu"]);
    same(&mut c, 6, "coord_get_blocking_issues", json!({"repo": "vishnu"}), &["blocking", "vishnu"]);
    same(&mut c, 7, "coord_blocked_by", json!({"repo": "sb"}), &["blocked-by", "sb"]);
    same(&mut c, 8, "coord_lint", json!({}), &["lint"]);
    same(&mut c, 9, "coord_workload", json!({"by": "repo"}), &["workload", "--by", "repo"]);
    same(&mut c, 10, "coord_roadmap", json!({}), &["roadmap"]);
    same(&mut c, 11, "coord_dependency_graph", json!({"format": "json"}), &["dep-graph"]);
    same(&mut c, 12, "coord_validate_repo", json!({"name": "oneiric"}), &["validate-repo", "oneiric"]);
    same(&mut c, 13, "coord_list_repos", json!({}), &["list-repos"]);
    same(&mut c, 14, "coord_doctor", json!({}), &["doctor"]);
    same(&mut c, 15, "coord_log", json!({}), &["log"]);
    same(&mut c, 16, "coord_diff", json!({"revspec": "HEAD~1..HEAD"}), &["diff", "HEAD~1..HEAD"]);
    same(&mut c, 17, "coord_check_dependencies", json!({}), &["check-deps", "--offline"]);
    same(
        &mut c,
        18,
        "coord_search",
        json!({"query": "api repo:sb", "kind": ["todo"], "limit": 5}),
        &["search", "api repo:sb", "--kind", "todo", "--limit", "5"],
    );
    let found = c.tool(19, "coord_search", json!({"query": "v2 api"}));
    assert_eq!(found["count"], 3, "{found}");
}
