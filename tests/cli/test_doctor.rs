//! `doctor`: what hand merges leave behind, found and (safely) repaired.

use crate::env::TestEnv;

#[test]
fn a_clean_repository_has_nothing_to_report() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    assert_eq!(env.coord(&["doctor"]).ok(), "no problems found\n");
}

#[test]
fn finds_and_fixes_a_misnamed_file_and_a_legacy_copy() {
    let env = TestEnv::with_ecosystem();
    // A file whose name is not its ID (a hand rename gone wrong).
    env.write(
        "coordination/issues/ISSUE-9.yaml",
        "id: ISSUE-010\ntitle: Misnamed\nstatus: pending\nrepos: [oneiric]\n",
    );
    // ISSUE-001 both in its file and, identical, in the legacy section.
    env.write(
        "coordination/issues/ISSUE-001.yaml",
        "id: ISSUE-001\ntitle: Legacy issue\nstatus: pending\npriority: high\nrepos: [mahavishnu]\ncreated: 2026-01-05\n",
    );
    let run = env.coord(&["doctor"]);
    run.fails(1);
    insta::assert_snapshot!("doctor_report", run.stdout);

    let fixed = env.coord(&["doctor", "--fix"]).ok().to_string();
    assert!(fixed.contains("fixed: renamed to coordination/issues/ISSUE-010.yaml"), "{fixed}");
    assert!(fixed.contains("fixed: removed the identical legacy item"), "{fixed}");
    assert!(env.exists("coordination/issues/ISSUE-010.yaml") && !env.exists("coordination/issues/ISSUE-9.yaml"));
    assert!(!env.read("settings/ecosystem.yaml").contains("Legacy issue"));
    assert!(env.read("settings/ecosystem.yaml").contains("Legacy todo"), "only the copy goes");
    assert_eq!(env.coord(&["doctor"]).ok(), "no problems found\n");
    env.coord(&["lint"]).ok();
}

#[test]
fn duplicates_and_dangling_references_are_left_to_a_person() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    env.write("coordination/issues/ISSUE-002.yaml", "id: ISSUE-002\ntitle: A\nstatus: pending\nrepos: [oneiric]\n");
    env.write("coordination/issues/ISSUE-003.yaml", "id: ISSUE-002\ntitle: B\nstatus: pending\nrepos: [oneiric]\n");
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: T\nrepo: oneiric\nstatus: pending\nblocked_by: [ISSUE-02]\n",
    );
    let before = env.read("coordination/issues/ISSUE-003.yaml");
    let run = env.coord(&["doctor", "--fix", "--format", "json"]);
    run.fails(1);
    let j: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let codes: Vec<_> =
        j["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect();
    assert!(codes.contains(&"filename".to_string()), "{codes:?}");
    assert!(codes.contains(&"duplicate".to_string()), "{codes:?}");
    let dangling = j["findings"].as_array().unwrap().iter().find(|f| f["code"] == "dangling").unwrap();
    assert_eq!(dangling["id"], "TODO-002");
    assert!(dangling["remedy"].as_str().unwrap().contains("did you mean ISSUE-002?"), "{dangling}");
    assert_eq!(dangling["fixed"], false);
    // Nothing that needs a decision was touched.
    assert_eq!(env.read("coordination/issues/ISSUE-003.yaml"), before);
}

/// Reads a child's stderr until a line contains `needle` (the child is then
/// known to be at that point); returns what was read.
fn read_until(stderr: &mut impl std::io::BufRead, needle: &str) -> String {
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = stderr.read_line(&mut line).unwrap();
        seen.push_str(&line);
        if n == 0 || line.contains(needle) {
            return seen;
        }
    }
}

#[test]
fn a_doctor_rename_and_a_concurrent_create_do_not_interleave() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    // A hand-named file holding ISSUE-002: the name the next create would
    // allocate (allocation counts file names) and the name doctor renames it to.
    env.write("coordination/issues/draft.yaml", "id: ISSUE-002\ntitle: Draft\nstatus: pending\nrepos: [oneiric]\n");
    // Another writer holds the store lock (an flock on the root, as git-coord takes it).
    let held = std::fs::File::open(&env.root).unwrap();
    held.lock().unwrap();
    let mut doctor = env.coord_spawn(&["doctor", "--fix"]);
    let mut create = env.coord_spawn(&["create-issue", "--title", "New", "--repos", "oneiric", "--format", "json"]);
    let mut doctor_err = std::io::BufReader::new(doctor.stderr.take().unwrap());
    let mut create_err = std::io::BufReader::new(create.stderr.take().unwrap());
    let waiting = "waiting for another git-coord process";
    let seen = read_until(&mut doctor_err, waiting);
    assert!(seen.contains(waiting), "doctor --fix did not wait for the lock: {seen}");
    let seen = read_until(&mut create_err, waiting);
    assert!(seen.contains(waiting), "create did not wait for the lock: {seen}");
    // Both wait: nothing was renamed or created while the lock was held.
    assert!(env.exists("coordination/issues/draft.yaml"));
    assert!(!env.exists("coordination/issues/ISSUE-002.yaml") && !env.exists("coordination/issues/ISSUE-003.yaml"));
    drop(held);
    let doctor = doctor.wait_with_output().unwrap();
    let create = create.wait_with_output().unwrap();
    assert!(create.status.success(), "{}", String::from_utf8_lossy(&create.stderr));
    let created: serde_json::Value = serde_json::from_slice(&create.stdout).unwrap();
    let new_id = created["id"].as_str().unwrap().to_string();
    let report = String::from_utf8_lossy(&doctor.stdout);
    // One ran entirely before the other: either doctor renamed first and the
    // create got the next number, or the create took ISSUE-002 first and
    // doctor refused to rename over it. Never a rename over the new file.
    if report.contains("fixed: renamed to coordination/issues/ISSUE-002.yaml") {
        assert_eq!(new_id, "ISSUE-003", "{report}");
        assert!(!env.exists("coordination/issues/draft.yaml"));
        assert!(env.read("coordination/issues/ISSUE-002.yaml").contains("title: Draft"));
    } else {
        assert_eq!(new_id, "ISSUE-002", "{report}");
        assert!(report.contains("exists too"), "{report}");
        assert!(env.read("coordination/issues/draft.yaml").contains("title: Draft"));
    }
    let new = env.read(&format!("coordination/issues/{new_id}.yaml"));
    assert!(new.contains("title: New"), "{new}");
}

/// Issue 11, point 5: an edge declared on one side only is valid data;
/// doctor does not report it, `--fix` does not touch it, and the graph
/// still sees it.
#[test]
fn point5_doctor_accepts_one_sided_edges() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["migrate"]).ok();
    // TODO-002 says it blocks TODO-003, whose own (non-empty) blocker list leaves it out.
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: First\nrepo: oneiric\nstatus: pending\nblocking: [TODO-003]\n",
    );
    env.write(
        "coordination/todos/TODO-003.yaml",
        "id: TODO-003\ntask: Second\nrepo: oneiric\nstatus: pending\nblocked_by: [TODO-001]\n",
    );
    // And the documented way: declare the edge on the blocker only.
    env.coord(&["create-todo", "--task", "Third", "--repo", "oneiric", "--blocking", "TODO-002"]).ok();
    let before = env.read("coordination/todos/TODO-003.yaml");
    assert_eq!(env.coord(&["doctor"]).ok(), "no problems found\n");
    assert_eq!(env.coord(&["doctor", "--fix"]).ok(), "no problems found\n");
    assert_eq!(env.read("coordination/todos/TODO-003.yaml"), before, "doctor --fix leaves valid data alone");
    let j = env.coord(&["blocking", "oneiric", "--format", "json"]).json();
    let blocked: Vec<String> =
        j["blocked_todos"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect();
    assert!(blocked.contains(&"TODO-003".to_string()), "{j}");
}
