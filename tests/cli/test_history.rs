//! History: `log`, `diff`, `show-* --at` and `review`, on real git
//! repositories with fixed dates (so commit IDs and output are stable).

use crate::env::TestEnv;

/// A small history:
/// 1. (03-01) the example ecosystem (legacy ISSUE-001, TODO-001)
/// 2. (03-02) ISSUE-002 created
/// 3. (03-03, Bob) ISSUE-002 started, labelled, assigned, described
/// 4. (03-04) migrate: legacy entities move to files
/// 5. (03-05) ISSUE-001 resolved, TODO-002 created blocked by ISSUE-002
fn history() -> TestEnv {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Fix auth", "--repos", "mahavishnu,buddy", "--priority", "high"]).ok();
    env.commit_all_at("Add ISSUE-002", "2026-03-02T09:00:00+00:00");
    env.coord(&[
        "update-issue",
        "ISSUE-002",
        "--status",
        "in_progress",
        "--add-label",
        "breaking",
        "--assignee",
        "ann",
        "--description",
        "Tokens expire too early.\nSee the incident notes.",
    ])
    .ok();
    env.commit_all_by("Start auth work", "2026-03-03T09:00:00+00:00", "Bob Builder", "bob@example.com");
    env.coord(&["migrate"]).ok();
    env.commit_all_at("Migrate to one file per entity", "2026-03-04T09:00:00+00:00");
    env.coord(&["close-issue", "ISSUE-001", "--resolved"]).ok();
    env.coord(&["create-todo", "--task", "Rotate keys", "--repo", "vishnu", "--blocked-by", "ISSUE-002"]).ok();
    env.commit_all_at("Resolve ISSUE-001; plan key rotation", "2026-03-05T09:00:00+00:00");
    env
}

#[test]
fn log_shows_field_level_changes_newest_first() {
    let env = history();
    insta::assert_snapshot!("log_all", env.coord(&["log"]).ok());
}

#[test]
fn log_of_one_entity_follows_it_across_migrate() {
    let env = history();
    let out = env.coord(&["log", "issue-1"]).ok().to_string();
    insta::assert_snapshot!("log_issue_001", out);
    assert!(!out.contains("deleted"), "migrate must not look like a deletion:\n{out}");
    assert_eq!(out.matches("created").count(), 1, "{out}");
}

#[test]
fn log_filters_by_author_since_range_and_limit() {
    let env = history();
    let json = env.coord(&["log", "--author", "bob", "--format", "json"]).json();
    let commits = json["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 1);
    assert_eq!(commits[0]["author"], "Bob Builder");
    assert_eq!(commits[0]["summary"], "Start auth work");
    let ch = &commits[0]["changes"][0];
    assert_eq!(ch["id"], "ISSUE-002");
    assert_eq!(ch["change"], "modified");
    let status = ch["fields"].as_array().unwrap().iter().find(|f| f["field"] == "status").unwrap();
    assert_eq!(status["type"], "set");
    assert_eq!(status["old"], "pending");
    assert_eq!(status["new"], "in_progress");
    let labels = ch["fields"].as_array().unwrap().iter().find(|f| f["field"] == "labels").unwrap();
    assert_eq!(labels["type"], "list");
    assert_eq!(labels["added"], serde_json::json!(["breaking"]));

    let since = env.coord(&["log", "--since", "2026-03-04", "--format", "json"]).json();
    let summaries: Vec<_> = since["commits"].as_array().unwrap().iter().map(|c| c["summary"].clone()).collect();
    assert_eq!(summaries, ["Resolve ISSUE-001; plan key rotation", "Migrate to one file per entity"]);

    let range = env.coord(&["log", "HEAD~3..HEAD~2", "--format", "json"]).json();
    assert_eq!(range["commits"].as_array().unwrap().len(), 1);
    assert_eq!(range["commits"][0]["summary"], "Start auth work");

    let limited = env.coord(&["log", "-n", "1", "--format", "json"]).json();
    assert_eq!(limited["commits"].as_array().unwrap().len(), 1);

    let both = env.coord(&["log", "ISSUE-002", "HEAD~1", "--format", "json"]).json();
    let s: Vec<_> = both["commits"].as_array().unwrap().iter().map(|c| c["summary"].clone()).collect();
    assert_eq!(s, ["Start auth work", "Add ISSUE-002"]);
}

#[test]
fn diff_between_revisions_text_markdown_and_json() {
    let env = history();
    insta::assert_snapshot!("diff_text", env.coord(&["diff", "HEAD~3..HEAD"]).ok());
    insta::assert_snapshot!("diff_markdown", env.coord(&["diff", "HEAD~3..HEAD", "--format", "markdown"]).ok());
    let j = env.coord(&["diff", "HEAD~1..HEAD", "--format", "json"]).json();
    let ids: Vec<_> = j["changes"].as_array().unwrap().iter().map(|c| (c["id"].clone(), c["change"].clone())).collect();
    assert_eq!(
        ids,
        [
            (serde_json::json!("ISSUE-001"), serde_json::json!("modified")),
            (serde_json::json!("TODO-002"), serde_json::json!("created"))
        ]
    );
    assert_eq!(j["changes"][1]["entity"]["blocked_by"], serde_json::json!(["ISSUE-002"]));
}

#[test]
fn diff_defaults_to_head_against_the_working_tree() {
    let env = history();
    assert_eq!(env.coord(&["diff"]).ok(), "no coordination changes (af0d257 → (working tree))\n");
    env.coord(&["update-todo", "TODO-002", "--status", "in_progress"]).ok();
    assert_eq!(env.coord(&["diff"]).ok(), "Todos:\n  TODO-002 status: pending → in_progress\n");
    // A single revision compares it with the working tree.
    let out = env.coord(&["diff", "HEAD~1"]).ok().to_string();
    assert!(out.contains("TODO-002 created: \"Rotate keys\" (in_progress, medium, mahavishnu)"), "{out}");
}

#[test]
fn diff_three_dots_starts_at_the_merge_base() {
    let env = history();
    env.git(&["checkout", "-q", "-b", "topic"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--priority", "critical"]).ok();
    env.commit_all_at("escalate", "2026-03-06T09:00:00+00:00");
    env.git(&["checkout", "-q", "main"]).ok();
    env.coord(&["update-todo", "TODO-002", "--assignee", "zoe"]).ok();
    env.commit_all_at("assign", "2026-03-07T09:00:00+00:00");
    // main...topic: only what topic did since it forked.
    assert_eq!(env.coord(&["diff", "main...topic"]).ok(), "Issues:\n  ISSUE-002 priority: high → critical\n");
    // main..topic: the two tips compared directly (main's assignment shows as undone).
    let two = env.coord(&["diff", "main..topic"]).ok().to_string();
    assert!(two.contains("TODO-002 assignee: zoe → (removed)"), "{two}");
}

#[test]
fn show_at_a_revision() {
    let env = history();
    let then = env.coord(&["show-issue", "ISSUE-002", "--at", "HEAD~3", "--format", "json"]).entity();
    assert_eq!(then["status"], "pending");
    let legacy = env.coord(&["show-issue", "issue-1", "--at", "HEAD~4", "--format", "json"]).entity();
    assert_eq!(legacy["title"], "Legacy issue");
    assert_eq!(legacy["status"], "pending");
    let err = env.coord(&["show-todo", "TODO-002", "--at", "HEAD~1"]).fails(1).to_string();
    assert!(err.contains("no todo `TODO-002` (not present at HEAD~1)"), "{err}");
    let bad = env.coord(&["show-issue", "ISSUE-002", "--at", "nosuchrev"]).fails(1).to_string();
    assert!(bad.contains("unknown revision `nosuchrev`"), "{bad}");
}

#[test]
fn no_coordination_history() {
    // An unborn branch: nothing to show.
    let env = TestEnv::new();
    env.coord(&["init"]).ok();
    assert_eq!(env.coord(&["log"]).ok(), "no commits changed coordination data\n");
    assert_eq!(env.coord(&["diff"]).ok(), "no coordination changes ((empty) → (working tree))\n");
    // Commits, none touching coordination data.
    env.write("README.md", "hello\n");
    env.commit_all_at("readme", "2026-03-02T09:00:00+00:00");
    assert_eq!(env.coord(&["log"]).ok(), "no commits changed coordination data\n");
    // Uncommitted data shows against HEAD.
    env.coord(&["init"]).ok();
    env.coord(&["create-issue", "--title", "First", "--repos", "x"]).ok();
    let d = env.coord(&["diff"]).ok().to_string();
    assert!(d.contains("ISSUE-001 created: \"First\""), "{d}");
}

#[test]
fn shallow_clone_marks_its_boundary() {
    let env = history();
    let clone = env.root.parent().unwrap().join("shallow");
    let url = format!("file://{}", env.root.display());
    env.git(&["clone", "-q", "--depth", "2", &url, clone.to_str().unwrap()]).ok();
    let out = env.coord_in(&clone, &["log"]).ok().to_string();
    assert!(out.contains("Resolve ISSUE-001; plan key rotation"), "{out}");
    assert!(out.contains("shallow clone boundary"), "{out}");
    assert!(!out.contains("Start auth work"), "commits beyond the boundary are not there:\n{out}");
    // The boundary commit's content is not shown as created.
    assert!(!out.contains("ISSUE-002 created"), "{out}");
}

#[test]
fn review_passes_a_clean_change_and_fails_a_broken_one() {
    let env = history();
    env.git(&["checkout", "-q", "-b", "topic"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--status", "blocked"]).ok();
    env.commit_all_at("block auth", "2026-03-06T09:00:00+00:00");
    let ok = env.coord(&["review", "main"]).ok().to_string();
    assert!(ok.contains("ISSUE-002 status: in_progress → blocked"), "{ok}");
    assert!(ok.contains("no errors introduced"), "{ok}");

    // A hand edit that points at a missing issue.
    let path = "coordination/todos/TODO-002.yaml";
    env.write(path, &env.read(path).replace("- ISSUE-002", "- ISSUE-099"));
    env.commit_all_at("typo", "2026-03-07T09:00:00+00:00");
    let run = env.coord(&["review", "main", "--format", "markdown"]);
    run.fails(1);
    assert!(run.stdout.contains("❌ **1 error(s) introduced.**"), "{}", run.stdout);
    assert!(run.stdout.contains("ISSUE-099"), "{}", run.stdout);
    let j = env.coord(&["review", "main", "--format", "json"]);
    let j: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(j["errors"], 1);
    assert_eq!(j["introduced"][0]["code"], "reference");
    assert_eq!(j["introduced"][0]["id"], "TODO-002");
}

#[test]
fn review_finds_an_id_the_base_branch_also_created_and_new_blockers() {
    let env = history();
    env.git(&["checkout", "-q", "-b", "topic"]).ok();
    env.coord(&["create-issue", "--title", "Topic issue", "--repos", "oneiric"]).ok();
    env.coord(&["create-todo", "--task", "Wire config", "--repo", "oneiric"]).ok();
    env.commit_all_at("topic work", "2026-03-06T09:00:00+00:00");
    env.coord(&["update-todo", "TODO-003", "--blocked-by", "ISSUE-003"]).ok();
    env.commit_all_at("wire config waits for ISSUE-003", "2026-03-06T10:00:00+00:00");
    env.git(&["checkout", "-q", "main"]).ok();
    // main creates its own ISSUE-003 meanwhile (the topic branch was not fetched).
    env.write(
        "coordination/issues/ISSUE-003.yaml",
        "id: ISSUE-003\ntitle: Main issue\nstatus: pending\npriority: low\nrepos: [oneiric]\n",
    );
    env.commit_all_at("main work", "2026-03-07T09:00:00+00:00");
    env.git(&["checkout", "-q", "topic"]).ok();
    let run = env.coord(&["review", "main", "--format", "json"]);
    run.fails(1);
    let j: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(j["collisions"][0]["id"], "ISSUE-003");
    assert_eq!(j["collisions"][0]["title"], "Topic issue");
    assert_eq!(j["collisions"][0]["base_title"], "Main issue");
    assert_eq!(j["newly_blocked"][0]["id"], "TODO-003");
    assert_eq!(j["newly_blocked"][0]["blockers"], serde_json::json!(["ISSUE-003"]));
    let md = env.coord(&["review", "main", "--format", "markdown"]).stdout;
    assert!(md.contains("### ID collisions"), "{md}");
    assert!(md.contains("⛔ `TODO-003` Wire config — blocked by ISSUE-003"), "{md}");
    assert!(md.contains("🆕 created (pending, medium, oneiric) ⛔ **blocked by** ISSUE-003"), "{md}");
}

#[test]
fn history_commands_need_a_repository() {
    let env = TestEnv::new();
    let outside = env.root.parent().unwrap().join("plain");
    std::fs::create_dir_all(outside.join("coordination")).unwrap();
    let err = env.coord_in(&outside, &["log"]).fails(1).to_string();
    assert!(err.contains("log needs a git repository"), "{err}");
}

/// `history()` pushed to a bare `origin`, then a pull-request branch that
/// approves its own command in the tracked settings and adds a dependency
/// whose command creates the returned marker.
fn hostile_pull_request() -> (TestEnv, std::path::PathBuf) {
    let env = history();
    let parent = env.root.parent().unwrap().to_path_buf();
    env.add_origin();
    env.git(&["fetch", "-q", "origin"]).ok();
    env.git(&["checkout", "-q", "-b", "pr"]).ok();
    let ran = parent.join("pr-command-ran");
    env.write("settings/coord.yaml", "trust_commands: all\n");
    env.write(
        "coordination/dependencies/DEP-001.yaml",
        &format!(
            "id: DEP-001\nconsumer: mahavishnu\nprovider: oneiric\nstatus: unknown\nvalidation:\n  command: 'touch {}'\n",
            ran.display()
        ),
    );
    env.commit_all_at("a dependency check", "2026-03-06T09:00:00+00:00");
    (env, ran)
}

#[test]
fn the_ci_template_review_step_runs_no_command_of_the_pull_request() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/ci/github-coord-review.yml");
    let text = std::fs::read_to_string(&path).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("the workflow is valid YAML");
    let steps = doc["jobs"]["review"]["steps"].as_sequence().expect("steps");
    let step = steps.iter().find(|s| s["id"].as_str() == Some("review")).expect("the review step");
    let script = step["run"].as_str().expect("run").replace("${{ github.base_ref }}", "main");
    assert!(script.contains("git coord review \"origin/main\" --format markdown"), "{script}");

    // Run the step as CI runs it, on the pull request's checkout.
    let (env, ran) = hostile_pull_request();
    let parent = env.root.parent().unwrap().to_path_buf();
    let (output, summary) = (parent.join("github-output"), parent.join("step-summary"));
    let run = env.sh(&script, &[("GITHUB_OUTPUT", &output), ("GITHUB_STEP_SUMMARY", &summary)]);
    run.ok();
    assert!(!ran.exists(), "the CI review step ran the pull request's command");
    assert_eq!(std::fs::read_to_string(&output).unwrap(), "status=0\n");
    let comment = std::fs::read_to_string(&summary).unwrap();
    assert!(comment.starts_with("## Coordination review") && comment.contains("`DEP-001`"), "{comment}");
    assert!(run.stderr.contains("`trust_commands: all` is ignored"), "{}", run.stderr);
}

#[test]
fn review_runs_commands_only_online_and_only_when_this_machine_trusts_them() {
    let (env, ran) = hostile_pull_request();
    // Offline (the default) runs nothing, even with an approval.
    env.coord(&["trust", "DEP-001"]).ok();
    env.coord(&["review", "main"]).ok();
    assert!(!ran.exists(), "an offline review ran a command");
    env.git(&["config", "--local", "--unset-all", "coord.trusted"]).ok();
    // Online, the tracked setting still approves nothing.
    let run = env.coord(&["review", "main", "--online", "--format", "json"]);
    run.ok();
    assert!(!ran.exists(), "review --online ran a command the tracked settings approved");
    let j: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(j["warnings"][0].as_str().unwrap().contains("`trust_commands: all` is ignored"), "{j}");
    // --trust-all asks for commands, which only an online review runs.
    assert!(env.coord(&["review", "main", "--trust-all"]).fails(2).contains("--online"));
    // This machine's own approval, online, runs it.
    env.coord(&["trust", "DEP-001"]).ok();
    env.coord(&["review", "main", "--online"]).ok();
    assert!(ran.exists(), "an approved command runs in an online review");
}

#[test]
fn review_warns_when_there_is_no_merge_base() {
    let env = history();
    env.git(&["checkout", "-q", "--orphan", "unrelated"]).ok();
    env.commit_all_at("unrelated root", "2026-03-06T09:00:00+00:00");
    let run = env.coord(&["review", "main"]);
    assert!(run.stderr.contains("share no history here (a shallow clone? fetch with full depth)"), "{}", run.stderr);
}
