//! Issue 11, point 9: one `--format table|json|yaml` on every command (text
//! where the output is prose), `update-*` with nothing to update still
//! printing its result as data, repeatable and comma-separated list
//! filters, and one JSON shape per kind (`nicknames`, a repo node's
//! `role`). Tests are named `point9_*` so the closing note can list
//! them.

use crate::env::TestEnv;

/// Commands that have no `--format`, each for a reason (a protocol or a
/// file format that someone else defines, or a stream).
const NO_FORMAT: &[(&str, &str)] = &[
    ("help", "clap's help"),
    ("mcp", "speaks MCP on stdio"),
    ("merge-driver", "git's merge-driver interface: it writes the merged file"),
    ("man", "writes man pages (roff)"),
    ("hook", "installs the hook, or is the hook (git reads its exit code)"),
    ("watch", "a stream: one line per change of verdict, as it happens"),
    ("edit", "interactive: opens the entity in your editor"),
    ("completions", "writes a shell's completion script"),
    ("fsmonitor", "controls a daemon; `fsmonitor status --format json|yaml` for scripts"),
];

fn commands(env: &TestEnv) -> Vec<String> {
    let help = env.coord(&["--help"]).ok().to_string();
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

#[test]
fn point9_every_command_accepts_format_table_json_yaml() {
    let env = TestEnv::new();
    let all = commands(&env);
    assert!(all.len() > 40, "the command list was not read: {all:?}");
    for cmd in &all {
        if NO_FORMAT.iter().any(|(c, _)| c == cmd) {
            continue;
        }
        let help = env.coord(&[cmd, "--help"]).ok().to_string();
        assert!(help.contains("--format"), "`{cmd}` has no --format");
        assert!(help.contains("json") && help.contains("yaml"), "`{cmd} --format` lacks json or yaml:\n{help}");
    }
    for (cmd, _) in NO_FORMAT {
        assert!(all.iter().any(|c| c == cmd), "`{cmd}` is excused from --format but is no command");
    }
}

#[test]
fn point9_init_migrate_trust_renumber_log_check_deps_print_yaml_and_json() {
    let env = TestEnv::with_ecosystem();
    let init: serde_yaml::Value = serde_yaml::from_str(env.coord(&["init", "--format", "yaml"]).ok()).unwrap();
    assert!(init["root"].as_str().is_some_and(|r| !r.is_empty()), "{init:?}");
    assert!(
        init["changes"].as_sequence().unwrap().iter().any(|c| c.as_str().unwrap().contains("coordination/issues")),
        "{init:?}"
    );
    // Run again: nothing left to do, the same shape.
    let again = env.coord(&["init", "--format", "json"]).json();
    assert_eq!(again["changes"], serde_json::json!([]));

    let dry = env.coord(&["migrate", "--dry-run", "--format", "json"]).json();
    assert_eq!(dry["dry_run"], true);
    let ids: Vec<&str> = dry["written"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ISSUE-001", "TODO-001"]);
    assert!(!env.exists("coordination/issues/ISSUE-001.yaml"), "a dry run wrote a file");
    let done: serde_yaml::Value = serde_yaml::from_str(env.coord(&["migrate", "--format", "yaml"]).ok()).unwrap();
    assert_eq!(done["section_removed"], serde_yaml::Value::Bool(true));
    assert!(env.exists("coordination/issues/ISSUE-001.yaml"));
    env.commit_all("migrated");

    let r = env.coord(&["renumber", "ISSUE-001", "--to", "ISSUE-007", "--format", "yaml"]);
    let r: serde_yaml::Value = serde_yaml::from_str(r.ok()).unwrap();
    assert_eq!(r["to"].as_str(), Some("ISSUE-007"));
    env.commit_all("renumbered");

    let log: serde_yaml::Value = serde_yaml::from_str(env.coord(&["log", "--format", "yaml"]).ok()).unwrap();
    assert!(!log["commits"].as_sequence().unwrap().is_empty(), "{log:?}");

    env.coord(&["create-dep", "--consumer", "mahavishnu", "--provider", "oneiric", "--format", "json"]).ok();
    let checked: serde_yaml::Value =
        serde_yaml::from_str(&env.coord(&["check-deps", "--format", "yaml"]).stdout).expect("check-deps yaml");
    assert!(checked["results"].as_sequence().is_some_and(|r| r.len() == 1), "{checked:?}");

    // trust with nothing to trust: an empty list, not a sentence.
    let t = env.coord(&["trust", "--all", "--format", "json"]).json();
    assert_eq!(t["count"], 0);
    assert_eq!(env.coord(&["trust", "--all"]).ok(), "no validation commands to trust\n");
}

#[test]
fn point9_trust_lists_approvals_as_data() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-dep", "--consumer", "mahavishnu", "--provider", "oneiric"]).ok();
    let dep = env.read("coordination/dependencies/DEP-001.yaml");
    env.write("coordination/dependencies/DEP-001.yaml", &format!("{dep}validation:\n  command: 'true'\n"));
    let t = env.coord(&["trust", "DEP-001", "--format", "json"]).json();
    assert_eq!(t["count"], 1, "{t}");
    assert_eq!(t["items"][0]["id"], "DEP-001");
    assert_eq!(t["items"][0]["command"], "true");
    assert_eq!(t["items"][0]["newly_trusted"], true);
    let again: serde_yaml::Value =
        serde_yaml::from_str(env.coord(&["trust", "DEP-001", "--format", "yaml"]).ok()).unwrap();
    assert_eq!(again["items"][0]["newly_trusted"], serde_yaml::Value::Bool(false));
}

#[test]
fn point9_update_with_nothing_to_update_prints_the_unchanged_result() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    env.coord(&["create-issue", "--title", "T", "--repos", "api"]).ok();
    env.coord(&["create-todo", "--task", "Do", "--repo", "api"]).ok();
    env.coord(&["create-plan", "--title", "P", "--milestone", "M:2026-04-01"]).ok();
    env.coord(&["create-dep", "--consumer", "api", "--provider", "db"]).ok();
    for (cmd, id) in [
        ("update-issue", "ISSUE-001"),
        ("update-todo", "TODO-001"),
        ("update-plan", "PLAN-001"),
        ("update-dep", "DEP-001"),
        ("update-milestone", "MILESTONE-001"),
    ] {
        let before = env.git(&["status", "--porcelain"]).ok().to_string();
        let run = env.coord(&[cmd, id, "--format", "json"]);
        let v = run.json();
        assert_eq!(v["changed"], false, "{cmd}: {v}");
        assert!(v["entity"]["id"].is_string(), "{cmd}: {v}");
        assert!(v["path"].as_str().unwrap().starts_with("coordination/"), "{cmd}: {v}");
        let y: serde_yaml::Value = serde_yaml::from_str(env.coord(&[cmd, id, "--format", "yaml"]).ok()).unwrap();
        assert_eq!(y["changed"], serde_yaml::Value::Bool(false), "{cmd}");
        assert_eq!(env.git(&["status", "--porcelain"]).ok(), before, "{cmd} wrote something");
    }
    assert_eq!(
        env.coord(&["update-milestone", "MILESTONE-001", "--format", "json"]).json()["milestone"],
        "MILESTONE-001"
    );
    // Not found stays an error in every format.
    env.coord(&["update-issue", "ISSUE-009", "--format", "json"]).fails(1);
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    v["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn point9_list_filters_are_repeatable_and_comma_separated() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    env.coord(&["create-issue", "--title", "A", "--repos", "api", "--label", "bug", "--assignee", "ana"]).ok();
    env.coord(&["create-issue", "--title", "B", "--repos", "web", "--label", "auth", "--assignee", "bo"]).ok();
    env.coord(&["create-issue", "--title", "C", "--repos", "db", "--label", "docs"]).ok();
    let comma = env.coord(&["list-issues", "--label", "bug,auth", "--format", "json"]).json();
    let repeated = env.coord(&["list-issues", "--label", "bug", "--label", "auth", "--format", "json"]).json();
    assert_eq!(ids(&comma), ["ISSUE-001", "ISSUE-002"]);
    assert_eq!(comma, repeated);
    assert_eq!(
        ids(&env.coord(&["list-issues", "--repo", "api,db", "--format", "json"]).json()),
        ["ISSUE-001", "ISSUE-003"]
    );
    assert_eq!(
        ids(&env.coord(&["list-issues", "--assignee", "ana", "--assignee", "bo", "--format", "json"]).json()),
        ["ISSUE-001", "ISSUE-002"]
    );
    // Different filters still combine with AND.
    assert_eq!(
        ids(&env.coord(&["list-issues", "--label", "bug,auth", "--repo", "web", "--format", "json"]).json()),
        ["ISSUE-002"]
    );

    env.coord(&["create-todo", "--task", "x", "--repo", "api", "--label", "a"]).ok();
    env.coord(&["create-todo", "--task", "y", "--repo", "web", "--label", "b"]).ok();
    env.coord(&["create-todo", "--task", "z", "--repo", "db", "--label", "c"]).ok();
    assert_eq!(ids(&env.coord(&["list-todos", "--label", "a,c", "--format", "json"]).json()), ["TODO-001", "TODO-003"]);
    assert_eq!(
        ids(&env.coord(&["list-todos", "--repo", "web", "--repo", "db", "--format", "json"]).json()),
        ["TODO-002", "TODO-003"]
    );

    env.coord(&["create-dep", "--consumer", "api", "--provider", "db"]).ok();
    env.coord(&["create-dep", "--consumer", "web", "--provider", "api"]).ok();
    assert_eq!(
        ids(&env.coord(&["list-deps", "--consumer", "api,web", "--format", "json"]).json()),
        ["DEP-001", "DEP-002"]
    );
}

#[test]
fn point9_report_run_and_check_filters_are_repeatable_and_comma_separated() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    for r in ["api", "web", "db"] {
        env.coord(&["add-repo", r, "--path", &format!("../{r}")]).ok();
    }
    env.coord(&["create-todo", "--task", "x", "--repo", "api", "--label", "a", "--assignee", "ana"]).ok();
    env.coord(&["create-todo", "--task", "y", "--repo", "web", "--label", "b", "--assignee", "bo"]).ok();
    env.coord(&["create-todo", "--task", "z", "--repo", "db", "--label", "c"]).ok();
    let run = |args: &[&str]| env.coord(&[args, &["--format", "json"]].concat()).json();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    // ready
    for args in [&["ready", "--repo", "api,db"][..], &["ready", "--repo", "api", "--repo", "db"]] {
        assert_eq!(ids(&run(args)), ["TODO-001", "TODO-003"], "{args:?}");
    }
    assert_eq!(ids(&run(&["ready", "--assignee", "ana,bo"])), ["TODO-001", "TODO-002"]);
    // workload
    let keys = |v: serde_json::Value| -> Vec<String> {
        sorted(v["rows"].as_array().unwrap().iter().map(|r| r["key"].as_str().unwrap_or("-").to_string()).collect())
    };
    assert_eq!(keys(run(&["workload", "--by", "repo", "--repo", "api,web"])), ["api", "web"]);
    assert_eq!(keys(run(&["workload", "--repo", "db", "--repo", "web"])), ["-", "bo"]);
    assert_eq!(keys(run(&["workload", "--assignee", "ana", "--assignee", "bo"])), ["ana", "bo"]);
    // sweep (planned only)
    let tasks = |v: serde_json::Value| -> Vec<String> {
        sorted(v.as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap().to_string()).collect())
    };
    for args in [
        &["sweep", "--repo", "api,db", "--dry-run"][..],
        &["sweep", "--repo", "api", "--repo", "db", "--dry-run"],
        &["sweep", "--label", "a,c", "--dry-run"],
    ] {
        assert_eq!(tasks(run(args)), ["TODO-001", "TODO-003"], "{args:?}");
    }
    // Different kinds of selection are still refused together.
    env.coord(&["sweep", "--repo", "api", "--label", "b", "--dry-run"]).fails(1);
    // check-deps
    env.coord(&["create-dep", "--consumer", "api", "--provider", "db"]).ok();
    env.coord(&["create-dep", "--consumer", "web", "--provider", "api"]).ok();
    let checked = |args: &[&str]| run(args)["results"].as_array().unwrap().len();
    assert_eq!(checked(&["check-deps", "--consumer", "api,web"]), 2);
    assert_eq!(checked(&["check-deps", "--consumer", "api", "--consumer", "web"]), 2);
    assert_eq!(checked(&["check-deps", "--provider", "db"]), 1);
    // dep-graph
    let edges = |args: &[&str]| run(args)["edges"].as_array().unwrap().len();
    assert_eq!(edges(&["dep-graph", "--repo", "db"]), 1);
    assert_eq!(edges(&["dep-graph", "--repo", "db,web"]), 2);
    assert_eq!(edges(&["dep-graph", "--repo", "db", "--repo", "web"]), 2);
    // roadmap
    env.coord(&["create-plan", "--title", "P1", "--status", "active"]).ok();
    env.coord(&["create-plan", "--title", "P2", "--status", "draft"]).ok();
    env.coord(&["create-plan", "--title", "P3", "--status", "draft"]).ok();
    let plans = |args: &[&str]| ids(&serde_json::json!({ "items": run(args)["plans"] }));
    assert_eq!(plans(&["roadmap"]), ["PLAN-001"]);
    assert_eq!(plans(&["roadmap", "--plan", "PLAN-002,plan-3"]), ["PLAN-002", "PLAN-003"]);
    // log --author
    env.commit_all_by("by ann", "2026-03-02T09:00:00+00:00", "Ann", "ann@example.com");
    env.coord(&["update-todo", "TODO-003", "--assignee", "cy"]).ok();
    env.commit_all_by("by bob", "2026-03-03T09:00:00+00:00", "Bob", "bob@example.com");
    let summaries = |v: serde_json::Value| -> Vec<String> {
        v["commits"].as_array().unwrap().iter().map(|c| c["summary"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(summaries(run(&["log", "--author", "ann,bob"])), ["by bob", "by ann"]);
    assert_eq!(summaries(run(&["log", "--author", "bob"])), ["by bob"]);
}

#[test]
fn point9_list_filters_take_a_list_or_a_comma_separated_string_over_mcp() {
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    env.coord(&["create-issue", "--title", "A", "--repos", "api", "--label", "bug"]).ok();
    env.coord(&["create-issue", "--title", "B", "--repos", "web", "--label", "auth"]).ok();
    env.coord(&["create-issue", "--title", "C", "--repos", "db", "--label", "docs"]).ok();
    let mut c = crate::test_mcp::Client::start(&env);
    for (n, label) in [(2, serde_json::json!("bug,auth")), (3, serde_json::json!(["bug", "auth"]))] {
        let out = c.tool(n, "coord_list_issues", serde_json::json!({ "label": label }));
        let got: Vec<&str> = out["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(got, ["ISSUE-001", "ISSUE-002"], "label {label}");
    }
    // Search's filters too (its words are `query`; `label:x` terms there each must hold).
    for (n, label) in [(4, serde_json::json!("bug,auth")), (5, serde_json::json!(["bug", "auth"]))] {
        let out = c.tool(n, "coord_search", serde_json::json!({ "query": "", "label": label }));
        let got: Vec<&str> = out["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
        assert_eq!(got, ["ISSUE-001", "ISSUE-002"], "search label {label}");
    }
}

#[test]
fn point9_list_repos_json_gives_canonical_nicknames() {
    let env = TestEnv::with_ecosystem();
    let v = env.coord(&["list-repos", "--format", "json"]).json();
    for item in v["items"].as_array().unwrap() {
        assert!(item.get("nickname").is_none(), "`nickname` passed through: {item}");
        assert!(item["nicknames"].is_array(), "no `nicknames` list: {item}");
    }
    let by_name = |n: &str| v["items"].as_array().unwrap().iter().find(|i| i["name"] == n).unwrap().clone();
    assert_eq!(by_name("mahavishnu")["nicknames"], serde_json::json!(["vishnu"]));
    assert_eq!(by_name("session-buddy")["nicknames"], serde_json::json!(["buddy", "sb"]));
    assert_eq!(by_name("oneiric")["nicknames"], serde_json::json!([]));
    // Role filters are lists too.
    let roles = env.coord(&["list-repos", "--role", "memory,config", "--format", "json"]).json();
    let names: Vec<&str> = roles["items"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["session-buddy", "oneiric"]);
}

#[test]
fn point9_dep_graph_json_puts_a_repos_role_in_role() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "oneiric"]).ok();
    let g = env.coord(&["dep-graph", "--format", "json"]).json();
    let nodes = g["nodes"].as_array().unwrap();
    let node = |id: &str| nodes.iter().find(|n| n["id"] == id).unwrap_or_else(|| panic!("no {id}: {g}")).clone();
    assert_eq!(node("mahavishnu")["role"], "orchestrator");
    assert_eq!(node("oneiric")["role"], "config");
    for n in nodes {
        assert!(n.get("status").is_none(), "a repo node has a status: {n}");
    }
    assert_eq!(g["edges"][0]["status"], "unknown", "an edge's status is the dependency's");
    let y: serde_yaml::Value = serde_yaml::from_str(env.coord(&["dep-graph", "--format", "yaml"]).ok()).unwrap();
    assert_eq!(y["nodes"].as_sequence().unwrap().len(), nodes.len());
    // Entity graphs keep the entity's status.
    // (TODO-001 is the legacy section's, completed.)
    env.coord(&["create-todo", "--task", "b", "--repo", "vishnu", "--blocked-by", "TODO-001"]).ok();
    let e = env.coord(&["dep-graph", "--kind", "entities", "--format", "json"]).json();
    let statuses: Vec<&str> = e["nodes"].as_array().unwrap().iter().map(|n| n["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["completed", "pending"], "{e}");
    assert!(e["nodes"].as_array().unwrap().iter().all(|n| n.get("role").is_none()), "{e}");
}
