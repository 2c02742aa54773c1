//! `git coord mcp` end to end: the real binary speaks MCP (JSON-RPC lines)
//! over its stdin/stdout; the test is the client. Covers the handshake, the
//! tool list with schemas, writes that land in files, tool errors that leave
//! the server serving, concurrent creates, and the agent's whole loop
//! (create todo → ready → complete → status).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Stdio};

use serde_json::{Value, json};

use crate::env::TestEnv;

/// A raw JSON-RPC client over the server's pipes (also used by other test modules).
pub(crate) struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    /// Responses read while waiting for another ID.
    early: HashMap<u64, Value>,
}

impl Client {
    pub(crate) fn start(env: &TestEnv) -> Client {
        let mut child = env
            .coord_command(&["mcp"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn git-coord mcp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut c = Client { child, stdin, stdout, early: HashMap::new() };
        let init = c.call(
            1,
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "test", "version": "0"}}),
        );
        assert_eq!(init["result"]["serverInfo"]["name"], "git-coord", "{init}");
        assert!(init["result"]["capabilities"]["tools"].is_object(), "{init}");
        c.send(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        c
    }

    fn send(&mut self, v: &Value) {
        writeln!(self.stdin, "{v}").expect("write to server");
        self.stdin.flush().expect("flush");
    }

    fn request(&mut self, id: u64, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
    }

    /// Reads until the response with `id` arrives; every line must be JSON.
    fn response(&mut self, id: u64) -> Value {
        if let Some(v) = self.early.remove(&id) {
            return v;
        }
        loop {
            let mut line = String::new();
            let n = self.stdout.read_line(&mut line).expect("read from server");
            assert!(n > 0, "server closed stdout while waiting for response {id}");
            let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            match v["id"].as_u64() {
                Some(got) if got == id => return v,
                Some(got) => {
                    self.early.insert(got, v);
                }
                None => {} // a notification
            }
        }
    }

    pub(crate) fn call(&mut self, id: u64, method: &str, params: Value) -> Value {
        self.request(id, method, params);
        self.response(id)
    }

    /// Calls a tool that must succeed; returns its structured content.
    pub(crate) fn tool(&mut self, id: u64, name: &str, args: Value) -> Value {
        let r = self.call(id, "tools/call", json!({"name": name, "arguments": args}));
        assert_eq!(r["result"]["isError"], false, "{name} failed: {r}");
        r["result"]["structuredContent"].clone()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const TOOLS: &[&str] = &[
    "coord_add_milestone",
    "coord_add_repo",
    "coord_blocked_by",
    "coord_cancel_run",
    "coord_check_dependencies",
    "coord_close_issue",
    "coord_comment",
    "coord_complete_todo",
    "coord_create_dependency",
    "coord_create_issue",
    "coord_create_plan",
    "coord_create_todo",
    "coord_delete_dependency",
    "coord_delete_issue",
    "coord_delete_milestone",
    "coord_delete_plan",
    "coord_delete_todo",
    "coord_dependency_graph",
    "coord_diff",
    "coord_doctor",
    "coord_ecosystem_status",
    "coord_events",
    "coord_execute",
    "coord_gate",
    "coord_get_blocking_issues",
    "coord_get_dependency",
    "coord_get_issue",
    "coord_get_plan",
    "coord_get_repo_status",
    "coord_get_todo",
    "coord_get_trends",
    "coord_lint",
    "coord_list_dependencies",
    "coord_list_issues",
    "coord_list_plans",
    "coord_list_repos",
    "coord_list_todos",
    "coord_log",
    "coord_memory_push",
    "coord_memory_retry",
    "coord_memory_status",
    "coord_ready_todos",
    "coord_rebuild_events",
    "coord_renumber",
    "coord_reopen_issue",
    "coord_review",
    "coord_roadmap",
    "coord_run_log",
    "coord_run_status",
    "coord_runs",
    "coord_search",
    "coord_search_history",
    "coord_show",
    "coord_sweep",
    "coord_sync",
    "coord_update_dependency",
    "coord_update_issue",
    "coord_update_milestone",
    "coord_update_plan",
    "coord_update_todo",
    "coord_validate_plan",
    "coord_validate_repo",
    "coord_workload",
];

#[test]
fn tools_are_listed_with_input_and_output_schemas() {
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    let r = c.call(2, "tools/list", json!({}));
    let tools = r["result"]["tools"].as_array().expect("tools");
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, TOOLS);
    for t in tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert_eq!(t["outputSchema"]["type"], "object", "{t}");
        assert!(t["description"].as_str().is_some_and(|d| !d.is_empty()), "{t}");
    }
    let create = tools.iter().find(|t| t["name"] == "coord_create_issue").expect("create tool");
    let required: Vec<&str> =
        create["inputSchema"]["required"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(required, ["title", "repos"]);
}

#[test]
fn create_issue_writes_the_file_and_lists_it_back() {
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    let out = c.tool(
        2,
        "coord_create_issue",
        json!({"title": "Python 3.13", "repos": ["vishnu", "buddy"], "priority": "P0", "labels": ["migration"]}),
    );
    assert_eq!(out["id"], "ISSUE-002");
    assert_eq!(out["path"], "coordination/issues/ISSUE-002.yaml");
    assert_eq!(out["changed"], true);
    insta::assert_snapshot!(env.read("coordination/issues/ISSUE-002.yaml"), @r"
    id: ISSUE-002
    title: Python 3.13
    status: pending
    priority: critical
    severity: normal
    repos:
    - mahavishnu
    - session-buddy
    created: 2026-03-01
    updated: 2026-03-01
    labels:
    - migration
    ");

    let raw = c.call(30, "tools/call", json!({"name": "coord_list_issues", "arguments": {}}));
    assert_eq!(raw["result"]["content"][0]["text"], "2 found: ISSUE-001, ISSUE-002", "a short text summary");
    let list = c.tool(3, "coord_list_issues", json!({}));
    assert_eq!(list["count"], 2);
    assert_eq!(
        list["items"][1],
        json!({"id": "ISSUE-002", "title": "Python 3.13", "status": "pending", "priority": "critical",
               "severity": "normal", "repos": ["mahavishnu", "session-buddy"], "created": "2026-03-01",
               "updated": "2026-03-01", "labels": ["migration"]}),
        "every field, as `list-issues --format json` prints it"
    );
    let filtered = c.tool(4, "coord_list_issues", json!({"priority": ["critical"]}));
    assert_eq!(filtered["count"], 1);
    assert_eq!(filtered["items"][0]["labels"], json!(["migration"]));

    let got = c.tool(5, "coord_get_issue", json!({"id": "ISSUE-002"}));
    assert_eq!(got["entity"]["severity"], "normal");
    assert_eq!(
        (got["kind"].as_str(), got["path"].as_str()),
        (Some("issue"), Some("coordination/issues/ISSUE-002.yaml"))
    );

    let closed = c.tool(6, "coord_close_issue", json!({"id": "ISSUE-002"}));
    assert_eq!(closed["entity"]["status"], "closed");
    assert!(env.read("coordination/issues/ISSUE-002.yaml").contains("status: closed\n"));
}

#[test]
fn bad_input_is_a_tool_error_and_the_server_keeps_serving() {
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    let r = c.call(
        2,
        "tools/call",
        json!({"name": "coord_create_issue", "arguments": {"title": "x", "repos": ["vishnu"], "priority": "urgent"}}),
    );
    assert_eq!(r["result"]["isError"], true, "{r}");
    let text = r["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("urgent"), "the message names the bad value: {text}");
    assert!(!env.exists("coordination/issues/ISSUE-002.yaml"), "nothing written");

    let r = c.call(3, "tools/call", json!({"name": "coord_get_issue", "arguments": {"id": "ISSUE-999"}}));
    assert_eq!(r["result"]["isError"], true, "{r}");

    let r =
        c.call(4, "tools/call", json!({"name": "coord_create_todo", "arguments": {"task": "x", "repo": "nowhere"}}));
    assert_eq!(r["result"]["isError"], true, "unknown repo: {r}");

    // A parameter of the wrong JSON type never reaches the tool.
    let r = c.call(6, "tools/call", json!({"name": "coord_create_issue", "arguments": {"title": 5, "repos": "x"}}));
    assert_eq!(r["result"]["isError"], true, "{r}");
    let text = r["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("invalid parameters: invalid type"), "{text}");

    let r = c.call(7, "tools/call", json!({"name": "coord_list_todos", "arguments": {"repo": "budy"}}));
    assert_eq!(r["result"]["isError"], true, "{r}");
    let text = r["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("buddy"), "did-you-mean like the CLI: {text}");

    // Still serving.
    let list = c.tool(5, "coord_list_issues", json!({}));
    assert_eq!(list["count"], 1);
}

#[test]
fn concurrent_creates_get_different_ids() {
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    // Both requests are in flight before either answer is read.
    for id in [10, 11] {
        c.request(
            id,
            "tools/call",
            json!({"name": "coord_create_issue", "arguments": {"title": format!("issue {id}"), "repos": ["oneiric"]}}),
        );
    }
    let a = c.response(10);
    let b = c.response(11);
    let ids = |r: &Value| r["result"]["structuredContent"]["id"].as_str().expect("id").to_string();
    let mut got = vec![ids(&a), ids(&b)];
    got.sort();
    assert_eq!(got, ["ISSUE-002", "ISSUE-003"]);
    assert!(env.exists("coordination/issues/ISSUE-002.yaml"));
    assert!(env.exists("coordination/issues/ISSUE-003.yaml"));

    // Two servers (two agents) at once: the store lock serialises them.
    let mut d = Client::start(&env);
    let args = |t: &str| json!({"name": "coord_create_issue", "arguments": {"title": t, "repos": ["oneiric"]}});
    c.request(20, "tools/call", args("from c"));
    d.request(20, "tools/call", args("from d"));
    let mut got = vec![ids(&c.response(20)), ids(&d.response(20))];
    got.sort();
    assert_eq!(got, ["ISSUE-004", "ISSUE-005"]);
}

#[test]
fn agent_loop_create_todo_ready_complete_status() {
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    let first = c.tool(
        2,
        "coord_create_todo",
        json!({"task": "Bump the API", "repo": "buddy", "estimate": 3, "priority": "high"}),
    );
    assert_eq!(first["id"], "TODO-002");
    let second = c.tool(
        3,
        "coord_create_todo",
        json!({"task": "Use the new API", "repo": "vishnu", "blocked_by": ["TODO-002"], "issue_id": "ISSUE-001"}),
    );
    assert_eq!(second["id"], "TODO-003");
    assert_eq!(second["entity"]["blocked_by"], json!(["TODO-002"]));
    assert_eq!(second["entity"]["issue_id"], "ISSUE-001");

    let ready = c.tool(4, "coord_ready_todos", json!({}));
    let ids: Vec<&str> = ready["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["TODO-002"], "TODO-003 waits on TODO-002: {ready}");
    assert_eq!(ready["count"], 1);

    let done = c.tool(5, "coord_complete_todo", json!({"id": "TODO-002", "actual_hours": 2.5}));
    assert_eq!(done["entity"]["status"], "completed");
    assert_eq!(done["entity"]["actual_hours"], 2.5);

    let ready = c.tool(6, "coord_ready_todos", json!({}));
    let ids: Vec<&str> = ready["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["TODO-003"], "unblocked once TODO-002 is done");

    let status = c.tool(7, "coord_get_repo_status", json!({"repo": "sb"}));
    assert_eq!(status["repo"], "session-buddy");
    assert_eq!(status["todos"]["completed"], 2, "the legacy TODO-001 and TODO-002: {status}");

    let todos = c.tool(8, "coord_list_todos", json!({"status": ["pending"]}));
    assert_eq!(todos["count"], 1);
    assert_eq!(todos["items"][0]["id"], "TODO-003");
    assert_eq!(todos["items"][0]["repo"], "mahavishnu");
    assert_eq!(todos["items"][0]["issue_id"], "ISSUE-001");
}

#[test]
fn graphs_dependency_checks_and_resources() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "sb", "--type", "mcp"]).ok();
    let mut c = Client::start(&env);

    let deps = c.tool(2, "coord_list_dependencies", json!({}));
    assert_eq!(deps["count"], 1);
    assert_eq!(deps["items"][0]["consumer"], "mahavishnu");
    assert_eq!(deps["items"][0]["provider"], "session-buddy");
    let id = deps["items"][0]["id"].as_str().unwrap().to_string();

    let g = c.tool(3, "coord_dependency_graph", json!({"format": "json"}));
    let edges = g["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 1, "{g}");
    assert_eq!(g["kind"], "repos");
    let m = c.tool(4, "coord_dependency_graph", json!({"format": "mermaid"}));
    assert_eq!(m["format"], "mermaid", "{m}");
    let text = m["text"].as_str().expect("mermaid text");
    assert!(text.starts_with("flowchart") && text.contains("mahavishnu") && text.contains("session-buddy"), "{text}");
    let t = c.tool(41, "coord_dependency_graph", json!({"kind": "entities"}));
    assert_eq!((t["kind"].as_str(), t["format"].as_str()), (Some("entities"), Some("text")), "{t}");

    // Offline: nothing is run, the one dependency is still reported.
    let checked = c.tool(5, "coord_check_dependencies", json!({"consumer": "vishnu"}));
    assert_eq!(checked["results"].as_array().map(Vec::len), Some(1), "{checked}");

    let roadmap = c.tool(6, "coord_roadmap", json!({}));
    assert_eq!(roadmap["plans"], json!([]), "no plans yet: {roadmap}");
    let r = c.call(7, "tools/call", json!({"name": "coord_roadmap", "arguments": {"plan": "PLAN-999"}}));
    assert_eq!(r["result"]["isError"], true, "{r}");

    let list = c.call(8, "resources/list", json!({}));
    let uris: Vec<&str> =
        list["result"]["resources"].as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap()).collect();
    let dep_uri = format!("coord://dependencies/{id}");
    assert_eq!(uris, ["coord://issues/ISSUE-001", "coord://todos/TODO-001", dep_uri.as_str()]);
    let read = c.call(9, "resources/read", json!({"uri": "coord://issues/ISSUE-001"}));
    let text = read["result"]["contents"][0]["text"].as_str().expect("text");
    assert!(text.starts_with("id: ISSUE-001\ntitle: Legacy issue\n"), "{text}");
    let missing = c.call(10, "resources/read", json!({"uri": "coord://issues/ISSUE-404"}));
    assert!(missing["error"].is_object(), "{missing}");
    // Still serving after a protocol error.
    assert_eq!(c.tool(11, "coord_list_issues", json!({}))["count"], 1);
}

#[test]
fn diff_shows_field_level_changes_against_head() {
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    let none = c.tool(2, "coord_diff", json!({}));
    assert_eq!(none["changes"], json!([]), "{none}");
    c.tool(3, "coord_create_issue", json!({"title": "From an agent", "repos": ["oneiric"]}));
    c.tool(4, "coord_update_todo", json!({"id": "TODO-001", "status": "in_progress"}));
    let raw = c.call(5, "tools/call", json!({"name": "coord_diff", "arguments": {"markdown": true}}));
    let summary = raw["result"]["content"][0]["text"].as_str().expect("a summary").to_string();
    let d = raw["result"]["structuredContent"].clone();
    let changes = d["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2, "{d}");
    assert_eq!(changes[0]["id"], "ISSUE-002");
    assert_eq!(changes[0]["change"], "created");
    assert_eq!(
        changes[1]["fields"][0],
        json!({"field": "status", "type": "set", "old": "completed", "new": "in_progress"})
    );
    assert!(summary.contains("TODO-001 status: completed → in_progress"), "{summary}");
    assert!(d["markdown"].as_str().unwrap().contains("| `ISSUE-002` | From an agent | 🆕 created"), "{d}");
    let bad = c.call(6, "tools/call", json!({"name": "coord_diff", "arguments": {"revspec": "nosuch..HEAD"}}));
    assert_eq!(bad["result"]["isError"], true, "{bad}");
    assert_eq!(c.tool(7, "coord_diff", json!({"revspec": "HEAD..HEAD"}))["changes"], json!([]));
}

#[test]
fn check_dependencies_runs_commands_only_online_and_only_when_trusted_here() {
    let env = TestEnv::with_ecosystem();
    let ran = env.root.parent().unwrap().join("mcp-ran-a-command");
    // A health check with credentials in its URL, on a loopback server.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 2048];
            let _ = std::io::Read::read(&mut s, &mut buf);
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    env.write("settings/coord.yaml", "trust_commands: all\n");
    env.write(
        "coordination/dependencies/DEP-001.yaml",
        &format!(
            "id: DEP-001\nconsumer: mahavishnu\nprovider: oneiric\nstatus: unknown\nvalidation:\n  command: 'touch {}'\n  health_check: http://agent:s3cret@{addr}/health\n",
            ran.display()
        ),
    );
    env.commit_all("a pull request approves its own command");
    let mut c = Client::start(&env);
    let command = |report: &Value| {
        report["results"][0]["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["method"] == "command")
            .cloned()
            .unwrap_or_else(|| panic!("no command method: {report}"))
    };

    // Offline (the default): nothing runs, no request goes out.
    let r = c.tool(2, "coord_check_dependencies", json!({}));
    assert!(!ran.exists(), "an offline check ran a command");
    assert_eq!(command(&r)["reason"], "offline: command not run");
    let health = &r["results"][0]["methods"][1];
    assert_eq!(health["reason"], "offline: health check skipped", "{r}");
    // Online: the tracked setting approves nothing, and says so.
    let r = c.tool(3, "coord_check_dependencies", json!({"online": true}));
    assert!(!ran.exists(), "MCP ran a command the tracked settings approved");
    assert_eq!(command(&r)["reason"], "untrusted command; run git coord trust DEP-001 after reading it");
    assert!(r["warnings"][0].as_str().unwrap().contains("`trust_commands: all` is ignored"), "{r}");
    let text = r.to_string();
    assert!(!text.contains("s3cret") && text.contains("agent:***@"), "{text}");

    // Approved on this machine: offline still runs nothing; online runs it.
    env.coord(&["trust", "DEP-001"]).ok();
    c.tool(4, "coord_check_dependencies", json!({"online": false}));
    assert!(!ran.exists(), "an offline check ran an approved command");
    let r = c.tool(5, "coord_check_dependencies", json!({"online": true}));
    assert!(ran.exists(), "an approved command runs online: {r}");
    assert_eq!(command(&r)["status"], "satisfied");
}

/// The text of a tool error.
fn tool_error(r: &Value) -> String {
    assert_eq!(r["result"]["isError"], true, "expected a tool error: {r}");
    r["result"]["content"][0]["text"].as_str().unwrap_or_default().to_string()
}

#[test]
fn an_agent_plans_with_milestones_and_errors_name_parameters() {
    let mut env = TestEnv::with_ecosystem();
    // Custom prefixes: nothing may guess kinds from `PLAN-`/`MILESTONE-`.
    env.write("settings/coord.yaml", "id_prefixes:\n  plan: RM\n  milestone: MS\n");
    env.commit_all("prefixes");
    env.set_env("GIT_COORD_NO_CACHE", "1");
    let mut c = Client::start(&env);
    let w = c.tool(
        2,
        "coord_create_plan",
        json!({"title": "Q2", "repos": ["vishnu"], "status": "in progress", "target": "2026-06-30",
               "milestones": ["Alpha:2026-04-01", {"name": "Beta", "due": "2026-05-01", "depends_on": ["MS-001"]}]}),
    );
    assert_eq!(
        (w["id"].as_str(), w["kind"].as_str(), w["changed"].as_bool()),
        (Some("RM-001"), Some("plan"), Some(true))
    );
    assert_eq!(w["entity"]["status"], "active", "alias resolved once, when the request was built");
    assert_eq!(w["entity"]["repos"], json!(["mahavishnu"]), "nickname stored canonically");
    assert_eq!(w["entity"]["milestones"][1]["dependencies"], json!(["MS-001"]));
    let text = std::fs::read_to_string(env.root.join("coordination/plans/RM-001.yaml")).unwrap();
    assert!(text.contains("id: MS-002"), "{text}");

    let w = c.tool(3, "coord_add_milestone", json!({"plan": "RM-001", "name": "GA", "depends_on": ["MS-002"]}));
    assert_eq!(w["milestone"], "MS-003");
    let w = c.tool(4, "coord_update_milestone", json!({"id": "MS-001", "status": "done"}));
    assert_eq!(w["entity"]["milestones"][0]["status"], "completed");
    let w = c.tool(5, "coord_update_plan", json!({"id": "RM-001", "target": ""}));
    assert!(w["entity"].get("target").is_none(), "\"\" clears: {w}");

    // Errors name parameters, never flags, and carry a did-you-mean.
    let e = tool_error(&c.call(
        6,
        "tools/call",
        json!({"name": "coord_update_plan", "arguments": {"id": "RM-001", "depends_on": ["RM-01"]}}),
    ));
    assert!(e.contains("depends_on: unknown reference `RM-01`"), "{e}");
    assert!(e.contains("did you mean RM-001?"), "{e}");
    assert!(!e.contains("--"), "no flag in an MCP error: {e}");
    let e = tool_error(&c.call(7, "tools/call", json!({"name": "coord_create_plan", "arguments": {"title": " "}})));
    assert!(e.contains("title: must not be empty") && !e.contains("--"), "{e}");
    let e = tool_error(&c.call(
        8,
        "tools/call",
        json!({"name": "coord_update_milestone", "arguments": {"id": "MS-001", "status": "bogus"}}),
    ));
    assert!(e.contains("expected one of: pending, in_progress"), "{e}");
    let e = tool_error(&c.call(
        9,
        "tools/call",
        json!({"name": "coord_create_plan", "arguments": {"title": "x", "colour": "red"}}),
    ));
    assert!(e.contains("unknown field `colour`"), "{e}");
    let e = tool_error(&c.call(
        10,
        "tools/call",
        json!({"name": "coord_update_milestone", "arguments": {"id": "MS-009", "name": "x"}}),
    ));
    assert!(e.contains("no milestone `MS-009`"), "{e}");

    // The CLI names the same problems as flags.
    let err = env.coord(&["update-plan", "RM-001", "--depends-on", "RM-01"]).fails(1).to_string();
    assert!(err.contains("error: --depends-on: unknown reference `RM-01`"), "{err}");
    let err = env.coord(&["create-plan", "--title", " "]).fails(1).to_string();
    assert!(err.contains("error: --title: must not be empty"), "{err}");
}

/// How each CLI command is reachable over MCP. An omission is a decision
/// made here, with its reason, never an accident: a new command fails the
/// test below until it is added to this table.
enum Parity {
    /// The MCP tool doing what the command does.
    Tool(&'static str),
    /// Deliberately not a tool.
    No(&'static str),
}

const PARITY: &[(&str, Parity)] = {
    use Parity::*;
    &[
        ("init", No("sets up a clone: local git config, .gitattributes; a person's one-time step")),
        ("add-repo", Tool("coord_add_repo")),
        ("show", Tool("coord_show")),
        ("edit", No("opens a person's editor; an agent writes through the typed update tools")),
        ("comment", Tool("coord_comment")),
        ("list-issues", Tool("coord_list_issues")),
        ("show-issue", Tool("coord_get_issue")),
        ("create-issue", Tool("coord_create_issue")),
        ("update-issue", Tool("coord_update_issue")),
        ("close-issue", Tool("coord_close_issue")),
        ("reopen-issue", Tool("coord_reopen_issue")),
        ("delete-issue", Tool("coord_delete_issue")),
        ("list-plans", Tool("coord_list_plans")),
        ("show-plan", Tool("coord_get_plan")),
        ("create-plan", Tool("coord_create_plan")),
        ("update-plan", Tool("coord_update_plan")),
        ("add-milestone", Tool("coord_add_milestone")),
        ("update-milestone", Tool("coord_update_milestone")),
        ("list-todos", Tool("coord_list_todos")),
        ("show-todo", Tool("coord_get_todo")),
        ("create-todo", Tool("coord_create_todo")),
        ("update-todo", Tool("coord_update_todo")),
        ("complete-todo", Tool("coord_complete_todo")),
        ("delete-todo", Tool("coord_delete_todo")),
        ("delete-plan", Tool("coord_delete_plan")),
        ("delete-milestone", Tool("coord_delete_milestone")),
        ("list-deps", Tool("coord_list_dependencies")),
        ("show-dep", Tool("coord_get_dependency")),
        ("create-dep", Tool("coord_create_dependency")),
        ("update-dep", Tool("coord_update_dependency")),
        ("delete-dep", Tool("coord_delete_dependency")),
        ("check-deps", Tool("coord_check_dependencies")),
        ("trust", No("approving a command is a person's decision on their machine; an agent must not approve code")),
        ("execute", Tool("coord_execute")),
        ("sweep", Tool("coord_sweep")),
        ("runs", Tool("coord_runs")),
        ("show-run", Tool("coord_run_status")),
        ("run-log", Tool("coord_run_log")),
        ("cancel-run", Tool("coord_cancel_run")),
        ("exec-request", No("internal: how coord_execute/coord_sweep start a detached run")),
        ("ready", Tool("coord_ready_todos")),
        ("blocking", Tool("coord_get_blocking_issues")),
        ("blocked-by", Tool("coord_blocked_by")),
        ("status", Tool("coord_ecosystem_status")),
        ("roadmap", Tool("coord_roadmap")),
        ("workload", Tool("coord_workload")),
        ("dep-graph", Tool("coord_dependency_graph")),
        ("validate-repo", Tool("coord_validate_repo")),
        ("validate", Tool("coord_validate_plan")),
        ("list-repos", Tool("coord_list_repos")),
        ("migrate", No("a one-off rewrite of the legacy section, reviewed by a person")),
        ("lint", Tool("coord_lint")),
        ("search", Tool("coord_search")),
        ("log", Tool("coord_log")),
        ("diff", Tool("coord_diff")),
        ("review", Tool("coord_review")),
        ("events", Tool("coord_events")),
        ("trends", Tool("coord_get_trends")),
        ("hook", No("installs a git hook in a clone")),
        ("sync", Tool("coord_sync")),
        ("doctor", Tool("coord_doctor")),
        ("renumber", Tool("coord_renumber")),
        ("merge-driver", No("called by git during a merge")),
        ("man", No("writes man pages")),
        ("completions", No("prints a shell completion script")),
        ("mcp", No("the server itself")),
        ("watch", No("a long-running loop for a terminal or a timer; an agent calls coord_check_dependencies")),
        ("fsmonitor", No("a local daemon that only makes the index faster; tools answer the same")),
        ("gate", Tool("coord_gate")),
    ]
};

#[test]
fn every_cli_command_is_a_tool_or_a_decision() {
    use clap::CommandFactory;
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    let r = c.call(2, "tools/list", json!({}));
    let tools: Vec<String> =
        r["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect();
    let cli = git_coord::cli::Cli::command();
    let commands: Vec<&str> = cli.get_subcommands().map(|s| s.get_name()).collect();
    for cmd in &commands {
        let Some((_, p)) = PARITY.iter().find(|(c, _)| c == cmd) else {
            panic!("`{cmd}` is not in the MCP parity table: add its tool, or say why it has none");
        };
        match p {
            Parity::Tool(t) => {
                assert!(tools.iter().any(|x| x == t), "`{cmd}` maps to `{t}`, which the server does not list")
            }
            Parity::No(why) => assert!(!why.is_empty(), "`{cmd}`: say why it has no tool"),
        }
    }
    for (cmd, _) in PARITY {
        assert!(commands.contains(cmd), "the parity table names `{cmd}`, which is no CLI command");
    }
}

#[test]
fn enabled_false_refuses_every_write_tool_and_keeps_reads() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Before", "--repos", "vishnu"]).ok();
    env.coord(&["create-plan", "--title", "Q2"]).ok();
    env.write("settings/coord.yaml", "enabled: false\n");
    env.commit_all("read-only");
    let mut c = Client::start(&env);
    let refusal = "coordination data is read-only here: `enabled: false` in settings/coord.yaml";
    let writes = [
        ("coord_create_issue", json!({"title": "After", "repos": ["vishnu"]})),
        ("coord_update_issue", json!({"id": "ISSUE-002", "priority": "high"})),
        ("coord_close_issue", json!({"id": "ISSUE-002"})),
        ("coord_create_todo", json!({"task": "T", "repo": "vishnu"})),
        ("coord_create_plan", json!({"title": "P"})),
        ("coord_update_plan", json!({"id": "PLAN-001", "status": "active"})),
        ("coord_check_dependencies", json!({"raise_issues": true})),
        ("coord_check_dependencies", json!({"update": true})),
    ];
    for (n, (tool, args)) in writes.into_iter().enumerate() {
        let e = tool_error(&c.call(10 + n as u64, "tools/call", json!({"name": tool, "arguments": args})));
        assert!(e.contains(refusal), "{tool}: {e}");
    }
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "", "a refused write changed files");
    // Reads still work, and trust cannot be asked for over MCP.
    assert_eq!(c.tool(30, "coord_list_issues", json!({}))["count"], 2);
    c.tool(31, "coord_get_plan", json!({"id": "PLAN-001"}));
    c.tool(32, "coord_check_dependencies", json!({}));
    c.tool(33, "coord_gate", json!({"repo": "vishnu"}));
    let e = tool_error(&c.call(
        34,
        "tools/call",
        json!({"name": "coord_check_dependencies", "arguments": {"trust_all": true}}),
    ));
    assert!(e.contains("unknown field `trust_all`"), "{e}");
}

#[test]
fn execution_tools_plan_refuse_untrusted_and_run_detached() {
    let env = TestEnv::new();
    let base = env.root.parent().unwrap().to_path_buf();
    let a = base.join("a");
    std::fs::create_dir_all(&a).unwrap();
    env.git_in(&a, &["init", "-q", "-b", "main"]).ok();
    let marks = base.join("marks");
    std::fs::create_dir_all(&marks).unwrap();
    env.write("settings/ecosystem.yaml", "repos:\n  - {name: a, path: ../a}\n");
    env.write(
        "settings/coord.yaml",
        &format!(
            "pool_execution_enabled: true\nactions:\n  test: \"echo $COORD_TODO_ID >> {}/ran\"\n",
            marks.display()
        ),
    );
    env.write("coordination/todos/TODO-001.yaml", "id: TODO-001\ntask: t\nrepo: a\nstatus: pending\n");
    env.commit_all("setup");
    let mut c = Client::start(&env);
    let plan = c.tool(2, "coord_sweep", json!({"repo": "a", "dry_run": true}));
    assert_eq!(plan["status"], "planned");
    assert_eq!(
        plan["tasks"][0]["trust"],
        "untrusted command; approve the execution of TODO-001 with git coord trust after reading it"
    );
    // Not approved: the run is recorded, the command never starts.
    let r = c.tool(3, "coord_execute", json!({"todos": ["TODO-001"], "wait_seconds": 20}));
    assert_eq!(r["status"], "failed", "{r}");
    assert_eq!(r["summary"]["untrusted"], 1, "{r}");
    assert!(!marks.join("ran").exists());
    // Approved by a person: the detached run does the work.
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    let r = c.tool(4, "coord_execute", json!({"todos": ["TODO-001"], "wait_seconds": 20}));
    let id = r["run_id"].as_str().unwrap().to_string();
    assert_eq!(r["status"], "succeeded", "{r}");
    let s = c.tool(5, "coord_run_status", json!({"run_id": id}));
    assert_eq!(s["summary"]["succeeded"], 1, "{s}");
    assert_eq!(std::fs::read_to_string(marks.join("ran")).unwrap(), "TODO-001\n");
}

/// An agent's whole session over MCP, with custom `id_prefixes` for every
/// kind: nothing may guess a kind from an ID's prefix.
#[test]
fn an_agent_session_plans_links_completes_deletes_and_renumbers() {
    let mut env = TestEnv::with_ecosystem();
    env.write(
        "settings/coord.yaml",
        "id_prefixes:\n  issue: BUG\n  plan: RM\n  milestone: MS\n  todo: TASK\n  dependency: LINK\n",
    );
    env.commit_all("prefixes");
    env.set_env("GIT_COORD_NO_CACHE", "1");
    let mut c = Client::start(&env);

    let issue = c.tool(
        2,
        "coord_create_issue",
        json!({"title": "Python 3.13", "repos": ["vishnu"], "priority": "P1", "metadata": ["jira=PY-7"]}),
    );
    assert_eq!((issue["id"].as_str(), issue["kind"].as_str()), (Some("BUG-001"), Some("issue")), "{issue}");
    assert_eq!(issue["entity"]["priority"], "high");
    assert_eq!(issue["entity"]["metadata"], json!({"jira": "PY-7"}));

    let plan = c.tool(
        3,
        "coord_create_plan",
        json!({"title": "Migrate", "issues": ["BUG-001"], "milestones": ["Alpha:2026-04-01", "Beta"]}),
    );
    assert_eq!(plan["id"], "RM-001");

    // Todos link to a milestone, a plan and an issue through separate fields.
    let a = c.tool(
        4,
        "coord_create_todo",
        json!({"task": "Bump the API", "repo": "buddy", "estimate": "1d", "milestone_id": "MS-001",
               "plan_id": "RM-001", "issue_id": "BUG-001"}),
    );
    assert_eq!(a["id"], "TASK-001");
    assert_eq!(a["entity"]["milestone_id"], "MS-001");
    assert_eq!(a["entity"]["estimated_hours"], 8);
    let b = c.tool(
        5,
        "coord_create_todo",
        json!({"task": "Use the new API", "repo": "vishnu", "blocked_by": ["TASK-001"], "milestone_id": "MS-002"}),
    );
    assert_eq!(b["id"], "TASK-002");
    let spare = c.tool(6, "coord_create_todo", json!({"task": "Spare", "repo": "oneiric", "estimate": 2}));
    assert_eq!(spare["entity"]["estimated_hours"], 2);

    // A milestone ID is refused as a plan, and a plan ID as a milestone.
    let e = tool_error(&c.call(
        7,
        "tools/call",
        json!({"name": "coord_create_todo", "arguments": {"task": "x", "repo": "oneiric", "plan_id": "MS-001"}}),
    ));
    assert!(e.contains("plan_id: unknown reference `MS-001`") && !e.contains("--"), "{e}");
    let e = tool_error(&c.call(
        8,
        "tools/call",
        json!({"name": "coord_update_todo", "arguments": {"id": "TASK-002", "milestone_id": "RM-001"}}),
    ));
    assert!(e.contains("milestone_id: unknown reference `RM-001`"), "{e}");
    let e = tool_error(&c.call(
        9,
        "tools/call",
        json!({"name": "coord_create_todo", "arguments": {"task": "x", "repo": "oneiric", "links": ["MS-001"]}}),
    ));
    assert!(e.contains("unknown field `links`"), "the guessing parameter is gone: {e}");

    let dep = c.tool(
        10,
        "coord_create_dependency",
        json!({"consumer": "vishnu", "provider": "buddy", "type": "mcp", "version_constraint": ">=1.0",
               "command": "echo 1.2.0", "expected_pattern": "^1\\."}),
    );
    assert_eq!(dep["id"], "LINK-001");
    assert_eq!(dep["entity"]["type"], "mcp");
    assert_eq!(dep["entity"]["validation"]["expected_pattern"], "^1\\.");
    let dep = c.tool(11, "coord_update_dependency", json!({"id": "LINK-001", "status": "ok", "notes": "checked"}));
    assert_eq!(dep["entity"]["status"], "satisfied");
    let got = c.tool(12, "coord_get_dependency", json!({"id": "LINK-001"}));
    assert_eq!(
        (got["kind"].as_str(), got["path"].as_str()),
        (Some("dependency"), Some("coordination/dependencies/LINK-001.yaml"))
    );
    let e = tool_error(&c.call(
        13,
        "tools/call",
        json!({"name": "coord_update_dependency", "arguments": {"id": "LINK-001", "expected_status": 42}}),
    ));
    assert!(e.contains("expected_status: 42 is not an HTTP status") && !e.contains("--"), "{e}");
    let e = tool_error(&c.call(
        14,
        "tools/call",
        json!({"name": "coord_create_dependency", "arguments": {"consumer": "buddy", "provider": "sb"}}),
    ));
    assert!(e.contains("provider: a repository cannot depend on itself"), "{e}");
    let e = tool_error(&c.call(
        15,
        "tools/call",
        json!({"name": "coord_list_dependencies", "arguments": {"priority": ["high"]}}),
    ));
    assert!(e.contains("unknown field `priority`"), "a dependency has no priority, by construction: {e}");

    // Complete the work; the blocked todo becomes ready.
    let done = c.tool(16, "coord_complete_todo", json!({"id": "TASK-001", "actual_hours": 6}));
    assert_eq!(done["entity"]["status"], "completed");
    let ready = c.tool(17, "coord_ready_todos", json!({}));
    let ids: Vec<&str> = ready["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["TASK-002", "TASK-003"], "{ready}");
    let listed = c.tool(18, "coord_list_todos", json!({"plan": "rm-1", "all": true}));
    // TASK-002 named only its milestone, MS-002: it joined that milestone's plan.
    assert_eq!(listed["count"], 2, "{listed}");
    assert_eq!(listed["items"][1]["plan_id"], "RM-001");
    assert_eq!(listed["items"][0]["actual_hours"], 6, "full entities: {listed}");

    // Delete: refused while referenced (naming the parameter), then forced.
    c.tool(19, "coord_delete_todo", json!({"id": "TASK-003"}));
    assert!(!env.exists("coordination/todos/TASK-003.yaml"));
    let e =
        tool_error(&c.call(20, "tools/call", json!({"name": "coord_delete_todo", "arguments": {"id": "TASK-001"}})));
    assert!(e.contains("force: TASK-001 is referenced by TASK-002") && !e.contains("--"), "{e}");
    let gone = c.tool(21, "coord_delete_issue", json!({"id": "BUG-001", "force": true}));
    assert_eq!(
        gone["dangling"],
        json!([{"holder": "RM-001", "field": "issue_ids"}, {"holder": "TASK-001", "field": "issue_id"}])
    );
    let again = c.tool(22, "coord_create_issue", json!({"title": "Again", "repos": ["oneiric"]}));
    assert_eq!(again["id"], "BUG-001", "the deleted ID is free again");

    // Renumber a todo: every reference to it is rewritten.
    let r = c.tool(23, "coord_renumber", json!({"id": "TASK-001", "to": "TASK-010"}));
    assert_eq!(r, json!({"kind": "todo", "from": "TASK-001", "to": "TASK-010", "rewritten": ["TASK-002"]}));
    let b = c.tool(24, "coord_get_todo", json!({"id": "TASK-002"}));
    assert_eq!(b["entity"]["blocked_by"], json!(["TASK-010"]));
    let r = c.tool(25, "coord_renumber", json!({"id": "MS-001"}));
    assert_eq!((r["kind"].as_str(), r["to"].as_str()), (Some("milestone"), Some("MS-003")), "{r}");
    let e = tool_error(&c.call(26, "tools/call", json!({"name": "coord_renumber", "arguments": {"id": "NOPE-1"}})));
    assert!(e.contains("id: no issue, plan, todo, dependency or milestone `NOPE-1`"), "{e}");

    // Reopen, and close as resolved.
    c.tool(27, "coord_close_issue", json!({"id": "BUG-001", "resolved": true}));
    let w = c.tool(28, "coord_reopen_issue", json!({"id": "BUG-001", "in_progress": true}));
    assert_eq!(w["entity"]["status"], "in_progress");

    // The CLI prints the same shapes, and names flags where MCP names parameters.
    let cli = env.coord(&["show-todo", "TASK-002", "--format", "json"]).json();
    assert_eq!(cli, c.tool(29, "coord_get_todo", json!({"id": "TASK-002"})));
    let cli = env.coord(&["list-issues", "--format", "json"]).json();
    assert_eq!(cli, c.tool(30, "coord_list_issues", json!({})));
    let err = env.coord(&["create-todo", "--task", "x", "--repo", "oneiric", "--plan", "MS-001"]).fails(1).to_string();
    assert!(err.contains("error: --plan: unknown reference `MS-001`"), "{err}");
    let err = env.coord(&["delete-todo", "TASK-010"]).fails(1).to_string();
    assert!(err.contains("error: --force: TASK-010 is referenced by TASK-002"), "{err}");
    let err = env.coord(&["update-dep", "LINK-001", "--expected-status", "42"]).fails(1).to_string();
    assert!(err.contains("error: --expected-status: 42 is not an HTTP status"), "{err}");
}

#[test]
fn agents_allow_a_lossy_canonical_rewrite_with_the_rewrite_parameter() {
    let env = TestEnv::new();
    let text = "# Owned by the platform team\nid: ISSUE-001\ntitle: Anchored\nstatus: pending\nrepos: &r [x]\nmetadata:\n  also: *r\n";
    env.write("coordination/issues/ISSUE-001.yaml", text);
    env.commit_all("anchored");
    let mut c = Client::start(&env);
    let e = tool_error(&c.call(
        2,
        "tools/call",
        json!({"name": "coord_update_issue", "arguments": {"id": "ISSUE-001", "add_repos": ["y"]}}),
    ));
    assert!(e.contains("anchor `&r`") && e.contains("`rewrite: true`") && !e.contains("--"), "{e}");
    assert_eq!(env.read("coordination/issues/ISSUE-001.yaml"), text, "nothing lost");
    let w = c.tool(3, "coord_update_issue", json!({"id": "ISSUE-001", "add_repos": ["y"], "rewrite": true}));
    assert_eq!(w["entity"]["repos"], json!(["x", "y"]));
    assert!(w["warnings"][0].as_str().unwrap().contains("ISSUE-001 was rewritten in canonical form"), "{w}");
    let w = c.tool(4, "coord_close_issue", json!({"id": "ISSUE-001", "rewrite": true}));
    assert_eq!(w["entity"]["status"], "closed");
}

/// `coord_runs` and `coord_run_log` read a real run's record and log, the
/// same values `runs`/`run-log --format json` print.
#[test]
fn runs_and_run_log_read_a_real_run() {
    let env = TestEnv::new();
    let base = env.root.parent().unwrap().to_path_buf();
    let a = base.join("a");
    std::fs::create_dir_all(&a).unwrap();
    env.git_in(&a, &["init", "-q", "-b", "main"]).ok();
    env.git_in(&a, &["commit", "-q", "--allow-empty", "-m", "init"]).ok();
    env.write("settings/ecosystem.yaml", "repos:\n  - {name: a, path: ../a}\n");
    env.write(
        "settings/coord.yaml",
        "pool_execution_enabled: true\nactions:\n  test: \"echo hello from $COORD_TODO_ID; echo on stderr >&2\"\n",
    );
    env.write("coordination/todos/TODO-001.yaml", "id: TODO-001\ntask: t\nrepo: a\nstatus: pending\n");
    env.commit_all("setup");
    let mut c = Client::start(&env);
    let none = c.tool(2, "coord_runs", json!({}));
    assert_eq!(none, json!({"count": 0, "items": []}));
    env.coord(&["trust", "--exec", "TODO-001"]).ok();
    env.coord(&["execute", "TODO-001"]).ok();

    let runs = c.tool(3, "coord_runs", json!({}));
    assert_eq!(runs["count"], 1, "{runs}");
    let run = &runs["items"][0];
    let id = run["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("RUN-"), "{run}");
    assert_eq!(run["status"], "succeeded", "{run}");
    assert_eq!(run["summary"]["succeeded"], 1, "{run}");
    assert_eq!(run["tasks"][0]["key"], "TODO-001", "{run}");
    assert_eq!(env.coord(&["runs", "--format", "json"]).json(), runs, "CLI and MCP return one shape");
    let table = env.coord(&["runs"]).ok().to_string();
    assert!(table.starts_with(&format!("{id} succeeded: 1 tasks, 1 succeeded  ")), "{table}");

    let log = c.tool(4, "coord_run_log", json!({"run_id": id, "todo": "todo-001"}));
    assert_eq!(log["run"], id.as_str(), "{log}");
    assert_eq!(log["todo"], "TODO-001", "{log}");
    assert_eq!(log["complete"], true, "{log}");
    let text = log["log"].as_str().unwrap().to_string();
    assert!(text.contains("=== TODO-001 attempt 1"), "{text}");
    assert!(text.contains("hello from TODO-001"), "{text}");
    assert!(text.contains("on stderr"), "{text}");
    assert_eq!(env.coord(&["run-log", &id, "TODO-001", "--format", "json"]).json(), log);
    assert_eq!(env.coord(&["run-log", &id, "TODO-001"]).ok(), text, "the human output is the log itself");

    let e = tool_error(&c.call(
        5,
        "tools/call",
        json!({"name": "coord_run_log", "arguments": {"run_id": id, "todo": "TODO-009"}}),
    ));
    assert!(e.contains("no task `TODO-009` (in RUN-"), "{e}");
    let e = tool_error(&c.call(
        6,
        "tools/call",
        json!({"name": "coord_run_log", "arguments": {"run_id": "../../etc", "todo": "TODO-001"}}),
    ));
    assert!(e.contains("run_id: `../../etc` is not valid (expected a run ID (RUN-…))"), "{e}");
}

/// `coord_sync` publishes a change made over MCP to a bare remote, with the
/// CLI's checks: a remote must be a configured one, attempts at least 1.
#[test]
fn coord_sync_pushes_a_change_made_over_mcp() {
    let env = TestEnv::with_ecosystem();
    env.commit_all("start");
    let bare = env.add_origin();
    let mut c = Client::start(&env);
    let w = c.tool(2, "coord_create_issue", json!({"title": "Made over MCP", "repos": ["vishnu"]}));
    let id = w["id"].as_str().unwrap().to_string();

    for (n, (args, expected)) in [
        (json!({"remote": "--upload-pack=touch /tmp/x"}), "remote: not a configured remote"),
        (json!({"remote": bare.to_str().unwrap()}), "remote: not a configured remote"),
        (json!({"attempts": 0}), "attempts: must be at least 1"),
        (json!({"force": true}), "invalid parameters"),
    ]
    .into_iter()
    .enumerate()
    {
        let e = tool_error(&c.call(10 + n as u64, "tools/call", json!({"name": "coord_sync", "arguments": args})));
        assert!(e.contains(expected), "{e}");
    }
    assert_ne!(env.git(&["status", "--porcelain"]).ok(), "", "a refused sync changed nothing");

    let r = c.tool(3, "coord_sync", json!({"remote": "origin"}));
    assert_eq!(r["remote"], "origin", "{r}");
    assert_eq!(r["branch"], "main", "{r}");
    assert_eq!(r["upstream"], "origin/main", "{r}");
    assert_eq!(r["committed_local"], true, "{r}");
    assert_eq!(r["pushed"], true, "{r}");
    assert_eq!(r["attempts"], 1, "{r}");
    assert_eq!(r["renumbered"], json!([]), "{r}");
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "");
    // The remote has the issue.
    let theirs = env.root.parent().unwrap().join("theirs");
    env.git(&["clone", "-q", bare.to_str().unwrap(), theirs.to_str().unwrap()]).ok();
    let shown = env.coord_in(&theirs, &["show-issue", &id, "--format", "json"]).entity();
    assert_eq!(shown["title"], "Made over MCP");
    // Nothing new: the CLI prints the same shape.
    let again = env.coord(&["sync", "--format", "json"]).json();
    assert_eq!(again["committed_local"], false, "{again}");
    assert_eq!(again["merged"], false, "{again}");
    assert_eq!(again["pushed"], true, "{again}");
    let e = env.coord(&["sync", "--remote", "nowhere"]).fails(1).to_string();
    assert!(e.contains("--remote: not a configured remote"), "{e}");
}

/// Typed errors over MCP: every request field is named as its parameter,
/// suggestions and hints are carried, causes are listed, and no text names a
/// command-line flag — for field errors, unknown repositories, missing
/// entities and runs, and an error with a cause.
#[test]
fn errors_name_parameters_suggest_and_list_causes_without_flags() {
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    let mut errors: Vec<String> = Vec::new();
    let mut err = |c: &mut Client, id: u64, name: &str, args: Value| {
        let e = tool_error(&c.call(id, "tools/call", json!({"name": name, "arguments": args})));
        errors.push(e.clone());
        e
    };
    // Field errors that name other fields: each as its parameter.
    let e = err(&mut c, 2, "coord_sweep", json!({"resume": "RUN-1", "rerun_failed": "RUN-2", "dry_run": true}));
    assert!(e.contains("error: resume: cannot be combined with rerun_failed"), "{e}");
    let e = err(&mut c, 3, "coord_sweep", json!({"repos": ["vishnu"], "dry_run": true}));
    assert!(
        e.contains("error: command: is needed to run one command across the repositories chosen with repos, role, all"),
        "{e}"
    );
    let e = err(&mut c, 4, "coord_sweep", json!({"role": "nope", "command": "true", "dry_run": true}));
    assert!(e.contains("role: no repository has role `nope`"), "{e}");
    assert!(e.contains("expected one of the roles in settings/ecosystem.yaml: config, memory, orchestrator"), "{e}");
    // An unknown repository: as a field, and as the subject of an operation.
    let e = err(&mut c, 5, "coord_list_todos", json!({"repo": "budy"}));
    assert!(e.contains("error: repo: unknown repository `budy` (did you mean `session-buddy`?)"), "{e}");
    let e = err(&mut c, 6, "coord_gate", json!({"repo": "onieric"}));
    assert!(e.contains("error: unknown repository `onieric`; did you mean `oneiric`?"), "{e}");
    assert!(e.contains("hint: `coord_list_repos` lists the registered repositories"), "{e}");
    // Not found, with a did-you-mean and the tool that lists what exists.
    let e = err(&mut c, 7, "coord_get_issue", json!({"id": "ISSUE-009"}));
    assert!(e.contains("error: no issue `ISSUE-009`"), "{e}");
    assert!(e.contains("hint: `coord_list_issues`"), "{e}");
    let e = err(&mut c, 8, "coord_run_log", json!({"run_id": "RUN-nope", "todo": "TODO-001"}));
    assert!(e.contains("error: no run `RUN-nope`") && e.contains("hint: `coord_runs` lists the recorded runs"), "{e}");
    // A cause chain: what failed, then why.
    let e = err(&mut c, 9, "coord_diff", json!({"revspec": "nosuch..HEAD"}));
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.first(), Some(&"error: unknown revision `nosuch`"), "{e}");
    assert!(lines.get(1).is_some_and(|l| l.starts_with("caused by: git: ")), "{e}");
    for e in &errors {
        assert!(!e.contains("--"), "no flag in an MCP error: {e}");
    }
    // Still serving.
    assert_eq!(c.tool(10, "coord_list_issues", json!({}))["count"], 1);
}

/// Requests flatten shared field groups (rewrite, label and repository
/// edits, list options): each appears once in the tool's schema, is
/// accepted, and a parameter the schema lacks is still refused.
#[test]
fn shared_field_groups_are_parameters_and_unknown_ones_are_refused() {
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    let list = c.call(2, "tools/list", json!({}));
    let tools = list["result"]["tools"].as_array().unwrap();
    let schema = |name: &str| tools.iter().find(|t| t["name"] == name).unwrap()["inputSchema"].clone();
    let update = schema("coord_update_issue");
    for p in ["id", "title", "description", "priority", "add_labels", "remove_repos", "rewrite", "depends_on"] {
        assert!(update["properties"].get(p).is_some(), "coord_update_issue lacks `{p}`: {update}");
    }
    assert_eq!(update["additionalProperties"], false, "{update}");
    let todos = schema("coord_list_todos");
    for p in ["status", "assignee", "label", "all", "sort", "limit", "plan"] {
        assert!(todos["properties"].get(p).is_some(), "coord_list_todos lacks `{p}`: {todos}");
    }
    let dep = schema("coord_update_dependency");
    for p in ["type", "version_constraint", "command", "expected_status", "rewrite"] {
        assert!(dep["properties"].get(p).is_some(), "coord_update_dependency lacks `{p}`: {dep}");
    }

    // Flattened parameters are accepted like any other.
    let created = c.tool(3, "coord_create_issue", json!({"title": "Auth", "repos": ["oneiric"], "priority": "P0"}));
    let issue = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["entity"]["priority"], "critical");
    let updated = c.tool(4, "coord_update_issue", json!({"id": issue, "add_labels": ["auth"], "rewrite": false}));
    assert_eq!(updated["entity"]["labels"], json!(["auth"]));
    let listed = c.tool(5, "coord_list_issues", json!({"all": true, "sort": "-id", "limit": 1}));
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["items"][0]["id"], issue.as_str());

    // Unknown parameters: refused before anything runs, naming the known ones.
    let e = tool_error(&c.call(
        6,
        "tools/call",
        json!({"name": "coord_update_issue", "arguments": {"id": issue, "rewrit": true, "title": "Changed"}}),
    ));
    assert!(e.contains("invalid parameters: unknown field `rewrit`, expected one of"), "{e}");
    assert!(e.contains("`rewrite`") && !e.contains("--"), "{e}");
    let shown = c.tool(7, "coord_get_issue", json!({"id": issue}));
    assert_eq!(shown["entity"]["title"], "Auth", "a refused call changes nothing");
    let e = tool_error(&c.call(8, "tools/call", json!({"name": "coord_list_issues", "arguments": {"limt": 1}})));
    assert!(e.contains("unknown field `limt`"), "{e}");
    let e = tool_error(&c.call(9, "tools/call", json!({"name": "coord_lint", "arguments": {"strict": true}})));
    assert!(e.contains("unknown field `strict`"), "{e}");
}

/// Errors that used to be text naming a flag are field errors: MCP names
/// the parameter.
#[test]
fn refusals_name_the_parameter_not_a_flag() {
    let env = TestEnv::with_ecosystem();
    let mut c = Client::start(&env);
    let issue = c.tool(2, "coord_create_issue", json!({"title": "Auth", "repos": ["oneiric"]}))["id"].clone();
    let todo =
        c.tool(3, "coord_create_todo", json!({"task": "Ship", "repo": "oneiric", "blocked_by": [issue]}))["id"].clone();
    let e = tool_error(&c.call(
        4,
        "tools/call",
        json!({"name": "coord_update_todo", "arguments": {"id": todo, "status": "in_progress", "strict": true}}),
    ));
    assert!(e.contains("error: strict: refused: starting"), "{e}");
    let e2 = tool_error(&c.call(
        5,
        "tools/call",
        json!({"name": "coord_check_dependencies", "arguments": {"consumer": "buddy"}}),
    ));
    assert!(e2.contains("error: consumer: no dependency matches `session-buddy`"), "{e2}");
    let e3 = tool_error(&c.call(
        6,
        "tools/call",
        json!({"name": "coord_check_dependencies", "arguments": {"consumer": "buddy", "provider": "vishnu"}}),
    ));
    assert!(e3.contains("error: consumer: no dependency matches `session-buddy` together with provider"), "{e3}");
    for e in [e, e2, e3] {
        assert!(!e.contains("--"), "no flag in an MCP error: {e}");
    }
}
