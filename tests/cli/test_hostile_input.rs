//! Hostile and broken input (issue 16, items 8b and 9–15): files crafted to
//! stall, crash or mislead the tool, and leftovers of crashed writers. Each
//! test reproduces the attack against the real binary and asserts that the
//! bad file is reported by name while everything else keeps working.

use crate::env::TestEnv;
use crate::test_mcp::Client;
use serde_json::json;

fn ids(v: &serde_json::Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_string()).collect()
}

// ---- item 15: filters are validated before anything is loaded ----

#[test]
fn a_bad_filter_is_refused_whether_or_not_there_is_data() {
    let env = TestEnv::new();
    for (cmd, flag, value) in [
        ("list-issues", "--status", "bogus"),
        ("list-todos", "--status", "bogus"),
        ("list-plans", "--status", "resolvedd"),
        ("list-deps", "--status", "bogus"),
        ("list-issues", "--priority", "P9"),
        ("list-todos", "--priority", "urgent"),
        ("list-plans", "--priority", "high"),
        ("list-deps", "--label", "x"),
    ] {
        let empty = env.coord(&[cmd, flag, value]);
        let err = empty.fails(1).to_string();
        assert!(err.contains(value) || err.contains(flag), "{cmd} {flag} {value} on an empty store: {err}");
    }
    // The same answer with data.
    env.coord(&["create-issue", "--title", "A", "--repos", "x"]).ok();
    env.coord(&["create-todo", "--task", "T", "--repo", "x"]).ok();
    let err = env.coord(&["list-issues", "--status", "bogus"]).fails(1).to_string();
    assert!(err.contains("invalid issue status `bogus`"), "{err}");
    let err = env.coord(&["list-todos", "--plan", "PLAN-001", "--status", "bogus"]).fails(1).to_string();
    assert!(err.contains("invalid todo status `bogus`"), "{err}");
    // Aliases still work on an empty store and with data.
    assert_eq!(ids(&env.coord(&["list-issues", "--status", "open", "--format", "json"]).json()), ["ISSUE-001"]);
    assert_eq!(ids(&TestEnv::new().coord(&["list-todos", "--status", "done", "--format", "json"]).json()).len(), 0);
}

#[test]
fn mcp_list_tools_refuse_a_bad_filter_on_an_empty_store() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    let mut c = Client::start(&env);
    for (i, tool) in
        ["coord_list_issues", "coord_list_todos", "coord_list_plans", "coord_list_dependencies"].iter().enumerate()
    {
        let r = c.call(10 + i as u64, "tools/call", json!({"name": tool, "arguments": {"status": ["bogus"]}}));
        assert_eq!(r["result"]["isError"], true, "{tool}: {r}");
        assert!(r.to_string().contains("bogus"), "{tool}: {r}");
    }
    let ok = c.tool(20, "coord_list_issues", json!({"status": ["open"]}));
    assert_eq!(ok["count"], 0);
}
