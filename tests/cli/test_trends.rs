//! Trends: exact numbers on a fixture with fixed commit dates and a pinned
//! clock (buckets, lead and cycle time, blocked time, WIP, burn-down,
//! dependency health, estimates, alerts); Mermaid and SVG snapshots; the
//! SVG parses as XML; the PNG is a real PNG; MCP answers what the CLI does.

use crate::env::TestEnv;
use crate::test_mcp::Client;
use serde_json::{Value, json};

/// "Now" for these tests: Sunday 2026-03-29 09:00 UTC.
const NOW: &str = "2026-03-29T09:00:00+00:00";

/// What both fixtures start from, not yet committed: PLAN-001 (target
/// Mar 27) with TODO-002 "Port CI" (8 h) and TODO-003 "Docs" (4 h), and
/// TODO-004 "Cache" (2 h, no plan), with the clock pinned to [`NOW`].
fn plan_with_three_todos() -> TestEnv {
    let mut env = TestEnv::with_ecosystem();
    env.set_env("GIT_COORD_NOW", NOW);
    env.coord(&["create-plan", "--title", "Q1", "--target", "2026-03-27"]).ok();
    env.coord(&["create-todo", "--task", "Port CI", "--repo", "mahavishnu", "--plan", "PLAN-001", "--estimate", "8"])
        .ok();
    env.coord(&["create-todo", "--task", "Docs", "--repo", "mahavishnu", "--plan", "PLAN-001", "--estimate", "4"]).ok();
    env.coord(&["create-todo", "--task", "Cache", "--repo", "oneiric", "--estimate", "2"]).ok();
    env
}

/// A plan with three estimated todos, one todo outside it, and a
/// dependency that flips four times, over four weeks of March 2026.
fn fixture() -> TestEnv {
    let env = plan_with_three_todos();
    let c = |args: &[&str]| {
        env.coord(args).ok();
    };
    c(&["create-dep", "--consumer", "mahavishnu", "--provider", "oneiric", "--status", "unsatisfied"]);
    env.commit_all_at("plan", "2026-03-02T09:00:00+00:00");
    c(&["update-todo", "TODO-002", "--status", "in_progress", "--assignee", "les"]);
    c(&["update-todo", "TODO-004", "--status", "in_progress", "--assignee", "ann"]);
    env.commit_all_at("start", "2026-03-03T09:00:00+00:00");
    c(&["update-todo", "TODO-003", "--status", "blocked"]);
    env.commit_all_at("block", "2026-03-05T09:00:00+00:00");
    c(&["complete-todo", "TODO-002", "--actual-hours", "10"]);
    c(&["update-dep", "DEP-001", "--status", "satisfied"]);
    env.commit_all_at("done", "2026-03-10T09:00:00+00:00");
    c(&["update-todo", "TODO-003", "--status", "in_progress"]);
    c(&["update-dep", "DEP-001", "--status", "unsatisfied"]);
    env.commit_all_at("unblock", "2026-03-12T09:00:00+00:00");
    c(&["complete-todo", "TODO-004", "--actual-hours", "2"]);
    c(&["update-dep", "DEP-001", "--status", "satisfied"]);
    env.commit_all_at("cache", "2026-03-17T09:00:00+00:00");
    c(&["create-todo", "--task", "Release", "--repo", "mahavishnu", "--plan", "PLAN-001", "--estimate", "6"]);
    c(&["update-todo", "TODO-005", "--blocked-by", "TODO-003"]);
    c(&["update-dep", "DEP-001", "--status", "unsatisfied"]);
    env.commit_all_at("release", "2026-03-20T09:00:00+00:00");
    env
}

fn trends(env: &TestEnv, args: &[&str]) -> Value {
    let mut a = vec!["trends", "--since", "2026-03-02", "--format", "json"];
    a.extend_from_slice(args);
    env.coord(&a).json()
}

#[test]
fn trends_give_exact_numbers_on_fixed_dates() {
    let env = fixture();
    let t = trends(&env, &["--alerts"]);
    let rows: Vec<Vec<Value>> = t["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            ["label", "throughput", "created", "closed", "cumulative_created", "cumulative_closed", "wip", "blocked"]
                .iter()
                .map(|k| b[*k].clone())
                .collect()
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            vec![json!("2026-03-02"), json!(0), json!(3), json!(0), json!(4), json!(1), json!(2), json!(1)],
            vec![json!("2026-03-09"), json!(1), json!(0), json!(1), json!(4), json!(2), json!(2), json!(0)],
            vec![json!("2026-03-16"), json!(1), json!(1), json!(1), json!(5), json!(3), json!(1), json!(0)],
            vec![json!("2026-03-23"), json!(0), json!(0), json!(0), json!(5), json!(3), json!(1), json!(0)],
        ],
        "{t:#}"
    );
    assert_eq!(t["buckets"][3]["end"], "2026-03-29T09:00:00Z");
    // Lead: 8 and 15 days; cycle: 7 and 14 (nearest rank).
    assert_eq!(t["lead_time"], json!({"count": 2, "p50": 8.0, "p85": 15.0, "p95": 15.0}));
    assert_eq!(t["cycle_time"], json!({"count": 2, "p50": 7.0, "p85": 14.0, "p95": 14.0}));
    // Blocked: TODO-003 by status 7 days; TODO-005 open behind open TODO-003 for 9.
    assert_eq!(t["blocked"]["total_days"], 16.0);
    let blocked: Vec<(&str, f64)> = t["blocked"]["todos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["id"].as_str().unwrap(), x["days"].as_f64().unwrap()))
        .collect();
    assert_eq!(blocked, vec![("TODO-005", 9.0), ("TODO-003", 7.0)]);
    assert_eq!(t["wip"]["count"], 1);
    assert_eq!(t["wip"]["items"][0]["id"], "TODO-003");
    assert_eq!(t["wip"]["items"][0]["age_days"], 17.0);
    // Burn-down of PLAN-001: 18 h in all, 10 left (TODO-003 4 + TODO-005 6).
    let b = &t["burndown"][0];
    assert_eq!(
        (b["plan"].as_str(), b["total_hours"].as_f64(), b["remaining_hours"].as_f64()),
        (Some("PLAN-001"), Some(18.0), Some(10.0))
    );
    let remaining: Vec<f64> =
        b["points"].as_array().unwrap().iter().map(|p| p["remaining"].as_f64().unwrap()).collect();
    assert_eq!(remaining, vec![12.0, 4.0, 10.0, 10.0]);
    // 8 h burned in 27 days: 0.3 h/day; 10 h left → 33.75 more days.
    assert_eq!(b["rate_per_day"], 0.3);
    assert_eq!(b["projected_finish"], "2026-05-02");
    assert_eq!(b["target"], "2026-03-27");
    // Dependency: unsatisfied Mar 2–10, 12–17 and 20–29 09:00 = 8 + 5 + 9 days; four flips.
    assert_eq!(t["dependencies"][0]["days_unsatisfied"], 22.0);
    assert_eq!(t["dependencies"][0]["flips"], 4);
    // Estimates: 10/8 and 2/2.
    assert_eq!(
        t["estimates"],
        json!({"count": 2, "median_ratio": 1.0, "mean_abs_error": 0.13, "within_20_percent": 0.5})
    );
    let rules: Vec<&str> = t["alerts"].as_array().unwrap().iter().map(|a| a["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, vec!["stale-wip", "plan-late", "dependency-flapping"], "{:#}", t["alerts"]);

    // Filters: one assignee, one repository, one metric.
    let les = trends(&env, &["--assignee", "les", "--metric", "lead-time"]);
    assert_eq!(les["window"]["todos"], 1);
    assert_eq!(les["lead_time"]["p50"], 8.0);
    assert!(les.get("buckets").is_none() && les.get("burndown").is_none(), "{les:#}");
    let oneiric = trends(&env, &["--repo", "oneiric", "--metric", "throughput", "--by", "month"]);
    assert_eq!(oneiric["buckets"].as_array().unwrap().len(), 1);
    assert_eq!(oneiric["buckets"][0]["throughput"], 1);
    // A window start that is neither a length nor a date names the flag.
    let bad = env.coord(&["trends", "--since", "soon"]);
    assert_eq!(bad.code, 1);
    assert!(bad.stderr.contains("--since"), "{}", bad.stderr);
    let unknown = env.coord(&["trends", "--plan", "PLAN-404"]);
    assert_eq!(unknown.code, 1);
    assert!(unknown.stderr.contains("--plan") && unknown.stderr.contains("PLAN-404"), "{}", unknown.stderr);
    let huge = env.coord(&["trends", "--since", "90y", "--by", "day"]);
    assert!(huge.stderr.contains("--by"), "a request for 32,000 buckets is refused: {}", huge.stderr);
}

#[test]
fn trends_draw_mermaid_svg_and_png() {
    let env = fixture();
    let mermaid = env.coord(&["trends", "--since", "2026-03-02", "--format", "mermaid"]).ok().to_string();
    insta::assert_snapshot!("trends_mermaid", mermaid);
    let svg = env.coord(&["trends", "--since", "2026-03-02", "--format", "svg"]).ok().to_string();
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert!(svg.contains("Burn-down PLAN-001"), "the burn-down panel is drawn");
    insta::assert_snapshot!("trends_svg", svg);
    let png = env.root.join("trends.png");
    env.coord(&["trends", "--since", "2026-03-02", "--format", "png", "--out", png.to_str().unwrap()]).ok();
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(&bytes[12..16], b"IHDR");
    let w = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((w, h), (900, 640));
    // Not one colour: something was drawn (the IDAT of a blank image is tiny).
    assert!(bytes.len() > 5_000, "{} bytes", bytes.len());
    let table = env.coord(&["trends", "--since", "2026-03-02"]).ok().to_string();
    assert!(table.contains("throughput  ▁█") && table.contains("burn-down PLAN-001"), "{table}");
    let csv = env.coord(&["trends", "--since", "2026-03-02", "--format", "csv"]).ok().to_string();
    assert_eq!(csv.lines().count(), 5);
    assert!(
        csv.lines().nth(2).unwrap().starts_with("2026-03-09,2026-03-09T00:00:00Z,2026-03-16T00:00:00Z,1,0,1,4,2,2,0"),
        "{csv}"
    );
}

#[test]
fn mcp_get_trends_returns_the_cli_numbers() {
    let env = fixture();
    let mut c = Client::start(&env);
    let mcp = c.tool(2, "coord_get_trends", json!({"since": "2026-03-02", "alerts": true, "by": "day"}));
    assert_eq!(mcp, trends(&env, &["--alerts", "--by", "day"]));
    assert_eq!(mcp["buckets"].as_array().unwrap().len(), 28);
}

/// A plan whose estimate and blocker change mid-window: TODO-002 is
/// estimated 8 h, re-estimated to 12 (Mar 9) and to 6 (Mar 16), completed
/// Mar 23; TODO-003 (4 h, open throughout) is blocked by TODO-002 from Mar 9
/// to Mar 16, then by TODO-004 (completed Mar 20).
fn changing_fixture() -> TestEnv {
    let env = plan_with_three_todos();
    let c = |args: &[&str]| {
        env.coord(args).ok();
    };
    env.commit_all_at("plan", "2026-03-02T09:00:00+00:00");
    c(&["update-todo", "TODO-002", "--estimate", "12"]);
    c(&["update-todo", "TODO-003", "--blocked-by", "TODO-002"]);
    env.commit_all_at("bigger; docs wait for CI", "2026-03-09T09:00:00+00:00");
    c(&["update-todo", "TODO-002", "--estimate", "6"]);
    c(&["update-todo", "TODO-003", "--unblock", "TODO-002", "--blocked-by", "TODO-004"]);
    env.commit_all_at("smaller; docs wait for the cache", "2026-03-16T09:00:00+00:00");
    c(&["complete-todo", "TODO-004"]);
    env.commit_all_at("cache", "2026-03-20T09:00:00+00:00");
    c(&["complete-todo", "TODO-002"]);
    env.commit_all_at("CI", "2026-03-23T09:00:00+00:00");
    env
}

#[test]
fn trends_replay_estimates_and_blocked_by_links() {
    let env = changing_fixture();
    let t = trends(&env, &["--metric", "burndown", "--metric", "blocked"]);
    let b = &t["burndown"][0];
    // Remaining at each week's end uses the estimate TODO-002 had then:
    // Mar 8: 8 + 4; Mar 15: 12 + 4; Mar 22: 6 + 4; now: TODO-002 done, 4.
    let remaining: Vec<f64> =
        b["points"].as_array().unwrap().iter().map(|p| p["remaining"].as_f64().unwrap()).collect();
    assert_eq!(remaining, vec![12.0, 16.0, 10.0, 4.0], "{b:#}");
    // Total and remaining now: current estimates (6 + 4, then 4).
    assert_eq!((b["total_hours"].as_f64(), b["remaining_hours"].as_f64()), (Some(10.0), Some(4.0)));
    // Burned: the 6 h TODO-002 had when completed, over 27.375 days.
    assert_eq!(b["rate_per_day"], 0.22);
    // TODO-003 was blocked by open TODO-002 Mar 9–16 (7 days) and by open
    // TODO-004 Mar 16–20 (4 days): 11, not the 18 days of a blocker read
    // from today's data back to its creation.
    assert_eq!(t["blocked"]["total_days"], 11.0, "{:#}", t["blocked"]);
    assert_eq!(t["blocked"]["todos"][0]["id"], "TODO-003");
}

/// Besides the legacy ISSUE-001 (open, in mahavishnu, created before the
/// window), three issues over March 2026: ISSUE-002 created Mar 2, resolved Mar 16,
/// closed Mar 20; ISSUE-003 created Mar 9, resolved Mar 12, reopened Mar 17;
/// ISSUE-004 (another repository) created Mar 16, closed Mar 23.
fn issue_fixture() -> TestEnv {
    let mut env = TestEnv::with_ecosystem();
    env.set_env("GIT_COORD_NOW", NOW);
    let c = |args: &[&str]| {
        env.coord(args).ok();
    };
    c(&["create-issue", "--title", "Flaky CI", "--repos", "mahavishnu"]);
    env.commit_all_at("flaky", "2026-03-02T09:00:00+00:00");
    c(&["create-issue", "--title", "Slow docs", "--repos", "mahavishnu"]);
    env.commit_all_at("slow", "2026-03-09T09:00:00+00:00");
    c(&["update-issue", "ISSUE-003", "--status", "resolved"]);
    env.commit_all_at("docs fixed", "2026-03-12T09:00:00+00:00");
    c(&["update-issue", "ISSUE-002", "--status", "resolved"]);
    c(&["create-issue", "--title", "Cache misses", "--repos", "oneiric"]);
    env.commit_all_at("CI fixed; cache", "2026-03-16T09:00:00+00:00");
    c(&["update-issue", "ISSUE-003", "--status", "in_progress"]);
    env.commit_all_at("docs slow again", "2026-03-17T09:00:00+00:00");
    c(&["update-issue", "ISSUE-002", "--status", "closed"]);
    env.commit_all_at("CI closed", "2026-03-20T09:00:00+00:00");
    c(&["update-issue", "ISSUE-004", "--status", "closed"]);
    env.commit_all_at("cache closed", "2026-03-23T09:00:00+00:00");
    env
}

#[test]
fn trends_measure_issue_flow_and_lead_time() {
    let env = issue_fixture();
    let t = trends(&env, &["--metric", "issues"]);
    let i = &t["issues"];
    let rows: Vec<Vec<Value>> = i["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            ["label", "created", "closed", "cumulative_created", "cumulative_closed", "open"]
                .iter()
                .map(|k| b[*k].clone())
                .collect()
        })
        .collect();
    // Resolved → closed is not a second closing; a reopened issue counts open.
    assert_eq!(
        rows,
        vec![
            vec![json!("2026-03-02"), json!(1), json!(0), json!(2), json!(0), json!(2)],
            vec![json!("2026-03-09"), json!(1), json!(1), json!(3), json!(1), json!(2)],
            vec![json!("2026-03-16"), json!(1), json!(1), json!(4), json!(1), json!(3)],
            vec![json!("2026-03-23"), json!(0), json!(1), json!(4), json!(2), json!(2)],
        ],
        "{i:#}"
    );
    assert_eq!((i["count"].as_u64(), i["open_now"].as_u64()), (Some(4), Some(2)));
    // Lead: ISSUE-002 14 days (its closing is the change to resolved),
    // ISSUE-004 7 days; ISSUE-003 and ISSUE-001 are open now.
    assert_eq!(i["lead_time"], json!({"count": 2, "p50": 7.0, "p85": 14.0, "p95": 14.0}));
    assert!(t.get("buckets").is_none() && t.get("burndown").is_none(), "{t:#}");
    // One repository.
    let oneiric = trends(&env, &["--metric", "issues", "--repo", "oneiric"]);
    assert_eq!(oneiric["issues"]["count"], 1);
    assert_eq!(oneiric["issues"]["lead_time"]["p50"], 7.0);
    // CSV: the issue columns; Mermaid: the issue flow chart; table: the lead.
    let csv = env.coord(&["trends", "--since", "2026-03-02", "--metric", "issues", "--format", "csv"]).ok().to_string();
    assert_eq!(
        csv.lines().take(2).collect::<Vec<_>>(),
        vec![
            "bucket,start,end,issues_created,issues_closed,issues_cumulative_created,issues_cumulative_closed,issues_open",
            "2026-03-02,2026-03-02T00:00:00Z,2026-03-09T00:00:00Z,1,0,2,0,2",
        ]
    );
    let all = env.coord(&["trends", "--since", "2026-03-02", "--format", "csv"]).ok().to_string();
    // The legacy TODO-001 (done) is the one todo; the issue columns follow.
    assert_eq!(
        all.lines().nth(4).unwrap(),
        "2026-03-23,2026-03-23T00:00:00Z,2026-03-29T09:00:00Z,0,0,0,1,1,0,0,0,1,4,2,2",
        "{all}"
    );
    let mermaid =
        env.coord(&["trends", "--since", "2026-03-02", "--metric", "issues", "--format", "mermaid"]).ok().to_string();
    assert!(mermaid.starts_with("```mermaid\nxychart-beta\n    title \"Issues: "), "{mermaid}");
    assert!(mermaid.contains("    bar [1, 1, 1, 0]\n    line [2, 3, 4, 4]\n    line [0, 1, 1, 2]\n"), "{mermaid}");
    let table = env.coord(&["trends", "--since", "2026-03-02", "--metric", "issues"]).ok().to_string();
    assert!(
        table.contains("issues: 4, open now 2") && table.contains("issue lead  n=2 p50 7 d, p85 14 d, p95 14 d"),
        "{table}"
    );
}
