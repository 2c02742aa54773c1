//! The field-level merge driver, driven by real `git merge` after
//! `git coord init` configured it.

use crate::env::{Run, TestEnv};

const ISSUE: &str = "\
# Owned by the platform team; keep this comment.
id: ISSUE-001
title: Shared config loader
status: pending # triage first
priority: medium
repos:
- mahavishnu
labels:
- config
- draft
assignee: alice
x-review-board: 7
metadata:
  owner: platform
  sprint: 12
created: 2026-02-01
updated: 2026-02-01
";

/// A repository with the driver configured and ISSUE-001 committed on
/// `main`, plus a `feature` branch at the same commit (checked out: main).
fn setup(issue: &str) -> TestEnv {
    let env = TestEnv::with_ecosystem();
    env.coord(&["init"]).ok();
    env.write("coordination/issues/ISSUE-001.yaml", issue);
    env.commit_all_at("base", "2026-03-01T09:00:00+00:00");
    env.git(&["branch", "feature"]).ok();
    env
}

/// Edits the issue file on `branch` with `edit` and commits.
fn edit_on(env: &TestEnv, branch: &str, edit: impl Fn(&str) -> String) {
    env.git(&["checkout", "-q", branch]).ok();
    let text = env.read("coordination/issues/ISSUE-001.yaml");
    env.write("coordination/issues/ISSUE-001.yaml", &edit(&text));
    env.commit_all_at(&format!("edit on {branch}"), "2026-03-01T10:00:00+00:00");
}

fn merge_feature(env: &TestEnv) -> Run {
    env.git(&["checkout", "-q", "main"]).ok();
    env.git(&["merge", "--no-edit", "feature"])
}

#[test]
fn init_configures_the_driver_once() {
    let env = TestEnv::with_ecosystem();
    let first = env.coord(&["init"]).ok().to_string();
    assert!(first.contains("added `coordination/**/*.yaml merge=coord` to .gitattributes"), "{first}");
    assert!(first.contains("set merge.coord.driver in the local git config"), "{first}");
    let second = env.coord(&["init"]).ok().to_string();
    assert!(!second.contains("added") && !second.contains("merge.coord"), "second run changed nothing:\n{second}");
    let attrs = env.read(".gitattributes");
    assert_eq!(attrs.matches("merge=coord").count(), 1, "{attrs}");
    let attr = env.git(&["check-attr", "merge", "coordination/todos/TODO-001.yaml"]).ok().to_string();
    assert_eq!(attr.trim(), "coordination/todos/TODO-001.yaml: merge: coord");
    let driver = env.git(&["config", "--local", "merge.coord.driver"]).ok().to_string();
    assert!(driver.trim().ends_with("merge-driver --marker-size %L %O %A %B %P"), "{driver}");
}

#[test]
fn different_fields_of_one_issue_merge_cleanly() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("status: pending # triage first", "status: in_progress # triage first"));
    edit_on(&env, "main", |t| t.replace("priority: medium", "priority: high").replace("alice", "bob"));
    merge_feature(&env).ok();
    let merged = env.read("coordination/issues/ISSUE-001.yaml");
    assert_eq!(
        merged,
        ISSUE
            .replace("status: pending # triage first", "status: in_progress # triage first")
            .replace("priority: medium", "priority: high")
            .replace("alice", "bob")
    );
    env.coord(&["lint"]).ok();
}

#[test]
fn one_field_changed_on_both_sides_conflicts_on_that_field_only() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| {
        t.replace("status: pending # triage first", "status: blocked").replace("- draft\n", "- draft\n- api\n")
    });
    edit_on(&env, "main", |t| t.replace("status: pending # triage first", "status: in_progress"));
    let run = merge_feature(&env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("ISSUE-001.yaml: 1 conflicting field:"), "{}", run.stderr);
    assert!(run.stderr.contains("status: ours set `in_progress`, theirs set `blocked`"), "{}", run.stderr);
    let unmerged = env.git(&["diff", "--name-only", "--diff-filter=U"]).ok().to_string();
    assert_eq!(unmerged.trim(), "coordination/issues/ISSUE-001.yaml");
    insta::assert_snapshot!("merge_field_conflict", env.read("coordination/issues/ISSUE-001.yaml"));
    // Until it is resolved, lint points at the markers.
    let lint = env.coord(&["lint"]);
    assert_eq!(lint.code, 1, "{lint:?}");
    assert!(
        lint.stdout.contains("ISSUE-001.yaml:4: ISSUE-001: unresolved merge conflict (lines 4-8)"),
        "{}",
        lint.stdout
    );
}

#[test]
fn lists_merge_additions_and_removals_from_both_sides() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("- draft\n", "- api\n"));
    edit_on(&env, "main", |t| t.replace("- config\n", "").replace("- draft\n", "- draft\n- breaking\n"));
    merge_feature(&env).ok();
    let issue = env.coord(&["show-issue", "ISSUE-001", "--format", "json"]).entity();
    assert_eq!(issue["labels"], serde_json::json!(["breaking", "api"]));
}

#[test]
fn maps_merge_key_by_key_and_unknown_keys_and_comments_survive() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("  sprint: 12\n", "  sprint: 13\n  reviewer: carol\n"));
    edit_on(&env, "main", |t| {
        t.replace("  owner: platform\n", "  owner: infra\n").replace("x-review-board: 7", "x-review-board: 8")
    });
    merge_feature(&env).ok();
    let merged = env.read("coordination/issues/ISSUE-001.yaml");
    assert!(merged.starts_with("# Owned by the platform team; keep this comment.\n"), "{merged}");
    assert!(merged.contains("status: pending # triage first\n"), "{merged}");
    assert!(merged.contains("x-review-board: 8\n"), "{merged}");
    assert!(merged.contains("metadata:\n  owner: infra\n  sprint: 13\n  reviewer: carol\n"), "{merged}");
}

#[test]
fn updated_takes_the_later_date() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("updated: 2026-02-01", "updated: 2026-02-05").replace("alice", "carol"));
    edit_on(&env, "main", |t| t.replace("updated: 2026-02-01", "updated: 2026-02-03").replace("medium", "low"));
    merge_feature(&env).ok();
    let merged = env.read("coordination/issues/ISSUE-001.yaml");
    assert!(merged.contains("updated: 2026-02-05\n") && merged.contains("assignee: carol\n"), "{merged}");
    assert!(merged.contains("priority: low\n"), "{merged}");
}

#[test]
fn removing_a_field_against_an_edit_conflicts_and_keeps_the_edit_visible() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("assignee: alice", "assignee: dave"));
    edit_on(&env, "main", |t| t.replace("assignee: alice\n", ""));
    let run = merge_feature(&env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("assignee: ours removed it, theirs set `dave`"), "{}", run.stderr);
    let text = env.read("coordination/issues/ISSUE-001.yaml");
    assert!(text.contains("<<<<<<< ours\n=======\nassignee: dave\n>>>>>>> theirs\n"), "{text}");
}

#[test]
fn deleting_a_file_against_an_edit_keeps_the_edited_file() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("status: pending", "status: resolved"));
    env.git(&["checkout", "-q", "main"]).ok();
    env.coord(&["delete-issue", "ISSUE-001", "--force"]).ok();
    env.commit_all_at("delete", "2026-03-01T10:00:00+00:00");
    let run = merge_feature(&env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("CONFLICT (modify/delete)"), "{}", run.stdout);
    let text = env.read("coordination/issues/ISSUE-001.yaml");
    assert!(text.contains("status: resolved"), "the edit is in the work tree:\n{text}");
}

#[test]
fn milestones_merge_by_id_inside_a_plan() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["init"]).ok();
    env.coord(&["create-plan", "--title", "Q2", "--milestone", "Alpha:2026-04-01", "--milestone", "Beta:2026-05-01"])
        .ok();
    env.commit_all_at("plan", "2026-03-01T09:00:00+00:00");
    env.git(&["branch", "feature"]).ok();
    env.git(&["checkout", "-q", "feature"]).ok();
    env.coord(&["update-milestone", "MILESTONE-001", "--status", "completed"]).ok();
    env.coord(&["add-milestone", "PLAN-001", "--name", "Gamma", "--due", "2026-06-01"]).ok();
    env.commit_all_at("feature", "2026-03-01T10:00:00+00:00");
    env.git(&["checkout", "-q", "main"]).ok();
    env.coord(&["update-milestone", "MILESTONE-001", "--due", "2026-04-15"]).ok();
    env.coord(&["update-milestone", "MILESTONE-002", "--status", "in_progress"]).ok();
    env.commit_all_at("main", "2026-03-01T10:00:00+00:00");
    env.git(&["merge", "--no-edit", "feature"]).ok();
    let plan = env.coord(&["show-plan", "PLAN-001", "--format", "json"]).entity();
    let ms = plan["milestones"].as_array().unwrap();
    let summary: Vec<(String, String, String)> = ms
        .iter()
        .map(|m| {
            (m["id"].as_str().unwrap().into(), m["status"].as_str().unwrap().into(), m["due"].as_str().unwrap().into())
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("MILESTONE-001".to_string(), "completed".to_string(), "2026-04-15".to_string()),
            ("MILESTONE-002".into(), "in_progress".into(), "2026-05-01".into()),
            ("MILESTONE-003".into(), "pending".into(), "2026-06-01".into()),
        ]
    );
    env.coord(&["lint"]).ok();
}

#[test]
fn an_id_created_on_both_branches_is_reported_as_a_collision_and_renumber_resolves_it() {
    let env = setup(ISSUE);
    env.git(&["checkout", "-q", "feature"]).ok();
    env.coord(&["create-issue", "--title", "Feature work", "--repos", "vishnu"]).ok();
    env.coord(&["create-todo", "--task", "Do the feature", "--repo", "vishnu", "--blocked-by", "ISSUE-002"]).ok();
    env.commit_all_at("feature issue", "2026-03-01T10:00:00+00:00");
    // `create-issue` never reuses an ID taken on another local branch, so
    // the collision comes from elsewhere (another clone): written by hand.
    env.git(&["checkout", "-q", "main"]).ok();
    env.write(
        "coordination/issues/ISSUE-002.yaml",
        "id: ISSUE-002\ntitle: Mainline fix\nstatus: pending\npriority: high\nrepos:\n- mahavishnu\n",
    );
    env.commit_all_at("main issue", "2026-03-01T10:00:00+00:00");

    let run = env.git(&["merge", "--no-edit", "feature"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains(
            "ID collision: ISSUE-002 was created on both sides: \"Mainline fix\" (ours) and \"Feature work\" (theirs)"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("then on one branch `git coord renumber ISSUE-002`"), "{}", run.stderr);
    let text = env.read("coordination/issues/ISSUE-002.yaml");
    assert!(text.starts_with("<<<<<<< ours\n") && text.contains("title: Feature work"), "{text}");

    // The way out: renumber on the branch (the next ID free on every branch).
    env.git(&["merge", "--abort"]).ok();
    env.git(&["checkout", "-q", "feature"]).ok();
    let todos = env.coord(&["list-todos", "--format", "json"]).items();
    let todo_id = todos.as_array().unwrap().iter().find(|t| t["task"] == "Do the feature").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = env.coord(&["renumber", "ISSUE-002"]).ok().to_string();
    assert_eq!(out, format!("renumbered issue ISSUE-002 → ISSUE-003; references rewritten in {todo_id}\n"));
    env.commit_all_at("renumber", "2026-03-01T11:00:00+00:00");
    merge_feature(&env).ok();
    let todo = env.coord(&["show-todo", &todo_id, "--format", "json"]).entity();
    assert_eq!(todo["blocked_by"], serde_json::json!(["ISSUE-003"]));
    let titles = env.coord(&["list-issues", "--format", "json"]).items();
    let titles: Vec<&str> = titles.as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"Mainline fix") && titles.contains(&"Feature work"), "{titles:?}");
    env.coord(&["lint"]).ok();
}

#[test]
fn a_side_that_is_not_yaml_falls_back_to_a_line_merge() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("title: Shared config loader", "title: Shared config loader v2"));
    edit_on(&env, "main", |t| t.replace("  sprint: 12\n", "  sprint: [12\n"));
    let run = merge_feature(&env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("ours is not a readable entity"), "{}", run.stderr);
    assert!(run.stderr.contains("merged line by line (0 conflict(s))"), "{}", run.stderr);
    let text = env.read("coordination/issues/ISSUE-001.yaml");
    assert!(text.contains("title: Shared config loader v2\n") && text.contains("sprint: [12\n"), "{text}");
}

#[test]
fn the_driver_honours_the_marker_size() {
    let env = TestEnv::new();
    let dir = env.root.join("m");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("o"), "id: X-1\ns: a\n").unwrap();
    std::fs::write(dir.join("a"), "id: X-1\ns: b\n").unwrap();
    std::fs::write(dir.join("b"), "id: X-1\ns: c\n").unwrap();
    let run = env.coord(&["merge-driver", "--marker-size", "10", "m/o", "m/a", "m/b", "coordination/x/X-1.yaml"]);
    run.fails(1);
    assert_eq!(
        std::fs::read_to_string(dir.join("a")).unwrap(),
        "id: X-1\n<<<<<<<<<< ours\ns: b\n==========\ns: c\n>>>>>>>>>> theirs\n"
    );
}

// Comments: a side's comment change survives the merge or is a conflict.

#[test]
fn theirs_edited_trailing_comment_is_kept_next_to_ours_field_change() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("# triage first", "# triaged on 2026-02-03"));
    edit_on(&env, "main", |t| t.replace("priority: medium", "priority: high"));
    merge_feature(&env).ok();
    let merged = env.read("coordination/issues/ISSUE-001.yaml");
    assert_eq!(
        merged,
        ISSUE.replace("# triage first", "# triaged on 2026-02-03").replace("priority: medium", "priority: high")
    );
}

#[test]
fn theirs_comment_above_a_new_key_is_kept_above_it() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| {
        t.replace("x-review-board: 7\n", "x-review-board: 7\n# Carol signs off the API.\nreviewer: carol\n")
    });
    edit_on(&env, "main", |t| t.replace("priority: medium", "priority: high"));
    merge_feature(&env).ok();
    let merged = env.read("coordination/issues/ISSUE-001.yaml");
    assert_eq!(
        merged,
        ISSUE
            .replace("x-review-board: 7\n", "x-review-board: 7\n# Carol signs off the API.\nreviewer: carol\n")
            .replace("priority: medium", "priority: high")
    );
}

#[test]
fn theirs_removed_comments_are_removed() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| {
        t.replace("# Owned by the platform team; keep this comment.\n", "").replace(" # triage first", "")
    });
    edit_on(&env, "main", |t| t.replace("assignee: alice", "assignee: bob"));
    merge_feature(&env).ok();
    let merged = env.read("coordination/issues/ISSUE-001.yaml");
    assert_eq!(
        merged,
        ISSUE
            .replace("# Owned by the platform team; keep this comment.\n", "")
            .replace(" # triage first", "")
            .replace("assignee: alice", "assignee: bob")
    );
}

#[test]
fn one_comment_changed_differently_on_both_sides_is_a_conflict_with_both_versions() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("# triage first", "# waiting for legal").replace("alice", "carol"));
    edit_on(&env, "main", |t| t.replace("# triage first", "# triage on Monday"));
    let run = merge_feature(&env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("ISSUE-001.yaml: 1 conflicting comment:"), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "comment on the `status` line: ours wrote `# triage on Monday`, theirs wrote `# waiting for legal`"
        ),
        "{}",
        run.stderr
    );
    let text = env.read("coordination/issues/ISSUE-001.yaml");
    assert!(
        text.contains(
            "<<<<<<< ours\nstatus: pending # triage on Monday\n=======\nstatus: pending # waiting for legal\n>>>>>>> theirs\n"
        ),
        "{text}"
    );
    assert!(text.contains("assignee: carol\n"), "the field change is merged:\n{text}");
}

#[test]
fn comments_changed_by_ours_only_are_kept() {
    let env = setup(ISSUE);
    edit_on(&env, "feature", |t| t.replace("priority: medium", "priority: high"));
    edit_on(&env, "main", |t| {
        t.replace("# triage first", "# triaged").replace("metadata:\n", "# Review board data.\nmetadata:\n")
    });
    merge_feature(&env).ok();
    let merged = env.read("coordination/issues/ISSUE-001.yaml");
    assert_eq!(
        merged,
        ISSUE
            .replace("# triage first", "# triaged")
            .replace("metadata:\n", "# Review board data.\nmetadata:\n")
            .replace("priority: medium", "priority: high")
    );
}

#[test]
fn the_same_comment_change_on_both_sides_is_taken_once() {
    let env = setup(ISSUE);
    let comment = |t: &str| t.replace("labels:\n", "# Labels follow the triage guide.\nlabels:\n");
    edit_on(&env, "feature", |t| comment(t).replace("priority: medium", "priority: high"));
    edit_on(&env, "main", |t| comment(t).replace("assignee: alice", "assignee: bob"));
    merge_feature(&env).ok();
    let merged = env.read("coordination/issues/ISSUE-001.yaml");
    assert_eq!(
        merged,
        comment(ISSUE).replace("priority: medium", "priority: high").replace("assignee: alice", "assignee: bob")
    );
}

/// An issue with a comment inside a flow list spread over lines: a place the
/// comment layer cannot anchor a change to.
const FLOW: &str = "\
id: ISSUE-001
title: Shared config loader
status: pending
priority: medium
repos: [mahavishnu,
  session-buddy, # until the split
  oneiric]
labels:
- a
- b
- c
- d
- e
assignee: alice
";

#[test]
fn an_unanchorable_comment_change_goes_to_a_line_merge_that_keeps_it() {
    let env = setup(FLOW);
    edit_on(&env, "feature", |t| t.replace("# until the split", "# until the split in May"));
    edit_on(&env, "main", |t| t.replace("assignee: alice", "assignee: bob"));
    let run = merge_feature(&env);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("(repos) cannot be placed; merged line by line (0 conflict(s))"), "{}", run.stderr);
    let merged = env.read("coordination/issues/ISSUE-001.yaml");
    assert_eq!(merged, FLOW.replace("# until the split", "# until the split in May").replace("alice", "bob"));
}

#[test]
fn a_clean_line_merge_that_is_not_the_field_merge_is_not_called_clean() {
    // Both add label `x`, at different places: the line merge has it twice.
    let env = setup(FLOW);
    edit_on(&env, "feature", |t| t.replace("# until the split", "# until May").replace("- e\n", "- e\n- x\n"));
    edit_on(&env, "main", |t| t.replace("- a\n", "- a\n- x\n"));
    let run = merge_feature(&env);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("merged line by line without conflict markers, but the result is not the field-level merge"),
        "{}",
        run.stderr
    );
    let unmerged = env.git(&["diff", "--name-only", "--diff-filter=U"]).ok().to_string();
    assert_eq!(unmerged.trim(), "coordination/issues/ISSUE-001.yaml");
    let text = env.read("coordination/issues/ISSUE-001.yaml");
    assert!(text.contains("# until May") && text.contains("- a\n- x\n"), "{text}");
}

/// Splits a line into its content and its comment (`#…`), if any. The
/// property test's files have no `#` inside values.
fn split_comment(line: &str) -> (&str, Option<&str>) {
    match line.find('#') {
        Some(i) => (line[..i].trim_end(), Some(&line[i..])),
        None => (line.trim_end(), None),
    }
}

#[test]
fn property_no_comment_or_line_change_of_either_side_is_lost() {
    const BASE: &str = "\
# Owned by the platform team.
id: ISSUE-000
title: Shared config loader
status: pending # triage first
priority: medium
repos:
- mahavishnu
labels:
# Labels follow the guide.
- config
- draft # until reviewed
assignee: alice
metadata:
  owner: platform
  # The sprint of the first release.
  sprint: 12
created: 2026-02-01
# End of the issue.
";
    type Edit = fn(&str) -> String;
    let theirs_edits: [Edit; 10] = [
        |t| t.replace("# triage first", "# triaged by carol"),
        |t| t.replace("priority: medium", "priority: medium # per SLA"),
        |t| t.replace("# Owned by the platform team.\n", ""),
        |t| t.replace("  owner: platform\n", "  # Until Q3.\n  owner: platform\n"),
        |t| t.replace("- mahavishnu\n", "# The orchestrator.\n- mahavishnu\n"),
        |t| t.replace("# Labels follow the guide.", "# Labels follow the 2026 guide."),
        |t| format!("{t}# Reviewed 2026-03-01.\n"),
        |t| t.replace("assignee: alice\n", "assignee: alice\n# Carol signs off.\nreviewer: carol\n"),
        |t| t.replace(" # until reviewed", ""),
        |t| t.replace("created:", "\n# Dates are UTC.\ncreated:"),
    ];
    let ours_edits: [Edit; 7] = [
        |t| t.replace("priority: medium", "priority: high"),
        |t| t.replace("- draft # until reviewed\n", "- draft # until reviewed\n- api\n"),
        |t| t.replace("- config\n", ""),
        |t| t.replace("owner: platform", "owner: infra"),
        |t| format!("{t}x-board: 7\n"),
        |t| t.replace("# End of the issue.", "# End."),
        |t| t.replace("status: pending", "status: in_progress"),
    ];
    // Every theirs edit alone and all of them at once, against every ours edit.
    let all_theirs = |t: &str| theirs_edits.iter().fold(t.to_string(), |acc, e| e(&acc));
    let mut cases = Vec::new();
    for o in &ours_edits {
        for t in &theirs_edits {
            cases.push((o(BASE), t(BASE)));
        }
        cases.push((o(BASE), all_theirs(BASE)));
    }
    let path = |n: usize| format!("coordination/issues/ISSUE-{:03}.yaml", n + 1);
    let with_id = |text: &str, n: usize| text.replace("ISSUE-000", &format!("ISSUE-{:03}", n + 1));

    let env = TestEnv::with_ecosystem();
    env.coord(&["init"]).ok();
    for n in 0..cases.len() {
        env.write(&path(n), &with_id(BASE, n));
    }
    env.commit_all_at("base", "2026-03-01T09:00:00+00:00");
    env.git(&["checkout", "-q", "-b", "feature"]).ok();
    for (n, (_, theirs)) in cases.iter().enumerate() {
        env.write(&path(n), &with_id(theirs, n));
    }
    env.commit_all_at("theirs", "2026-03-01T10:00:00+00:00");
    env.git(&["checkout", "-q", "main"]).ok();
    for (n, (ours, _)) in cases.iter().enumerate() {
        env.write(&path(n), &with_id(ours, n));
    }
    env.commit_all_at("ours", "2026-03-01T10:00:00+00:00");
    env.git(&["merge", "--no-edit", "feature"]);

    let lines = |t: &str| t.lines().map(str::to_string).collect::<Vec<_>>();
    let base_lines = lines(BASE);
    let mut conflicted = 0;
    for (n, (ours, theirs)) in cases.iter().enumerate() {
        let result = env.read(&path(n));
        let out = lines(&result.replace(&format!("ISSUE-{:03}", n + 1), "ISSUE-000"));
        let marked = result.contains("<<<<<<<");
        conflicted += usize::from(marked);
        let ctx = || format!("case {n}\n--- ours\n{ours}--- theirs\n{theirs}--- result\n{result}");
        if !marked {
            assert!(git_coord_reads(&result), "a clean result reads as an entity: {}", ctx());
        }
        let out_contents: Vec<&str> = out.iter().map(|l| split_comment(l).0).collect();
        let out_comments: Vec<&str> = out.iter().filter_map(|l| split_comment(l).1).collect();
        for (side, other) in [(ours, theirs), (theirs, ours)] {
            let side_lines = lines(side);
            let other_lines = lines(other);
            for line in side_lines.iter().filter(|l| !base_lines.contains(l)) {
                // Every line a side added or changed: its new content and its
                // new comment are in the result (inside markers if conflicting).
                let (content, comment) = split_comment(line);
                if !base_lines.iter().any(|b| split_comment(b).0 == content) {
                    assert!(out_contents.contains(&content), "content `{content}` lost: {}", ctx());
                }
                if let Some(c) = comment
                    && !base_lines.iter().any(|b| split_comment(b).1 == Some(c))
                {
                    assert!(out_comments.contains(&c), "comment `{c}` lost: {}", ctx());
                }
            }
            for line in base_lines.iter().filter(|l| other_lines.contains(l)) {
                // A comment a side removed or changed (the other side kept
                // it) is gone, unless the file is conflicted.
                if let (_, Some(c)) = split_comment(line)
                    && !marked
                    && !side_lines.iter().any(|l| l.contains(c))
                {
                    assert!(!out_comments.contains(&c), "removed comment `{c}` is back: {}", ctx());
                }
            }
        }
    }
    // Only where both sides touched one place (each against the theirs edit
    // alone and against all of them): ours removing `config` against theirs
    // editing the comment above it; ours appending a key after the last
    // comment (which makes it the key's) or editing that comment, against
    // theirs adding one after it. `git merge-file` conflicts there too.
    assert_eq!(conflicted, 6, "conflicted files");
}

/// Whether the text parses as a mapping (what every command needs).
fn git_coord_reads(text: &str) -> bool {
    matches!(serde_yaml::from_str::<serde_yaml::Value>(text), Ok(serde_yaml::Value::Mapping(_)))
}
