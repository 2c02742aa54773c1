//! Settings that switch behaviour: `enabled: false` makes every write
//! refuse, naming the setting and its file, while reads keep working.
//! (`auto_dependency_check` is in test_hooks, the interval in test_watch,
//! `enabled` over MCP in test_mcp.)

use crate::env::TestEnv;

#[test]
fn enabled_false_refuses_writes_and_keeps_reads() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Before", "--repos", "vishnu"]).ok();
    env.write("settings/coord.yaml", "# writes are off while we migrate\nenabled: false\n");
    env.commit_all("read-only");
    let refusal = "coordination data is read-only here: `enabled: false` in settings/coord.yaml";
    let writes: &[&[&str]] = &[
        &["create-issue", "--title", "After", "--repos", "vishnu"],
        &["update-issue", "ISSUE-002", "--priority", "high"],
        &["close-issue", "ISSUE-002"],
        &["delete-issue", "ISSUE-002"],
        &["create-todo", "--task", "T", "--repo", "vishnu"],
        &["create-plan", "--title", "P"],
        &["create-dep", "--consumer", "vishnu", "--provider", "sb"],
        &["check-deps", "--offline", "--raise-issues"],
        &["check-deps", "--offline", "--update"],
        &["watch", "--once", "--offline", "--raise-issues"],
        &["migrate"],
        &["renumber", "ISSUE-002"],
        &["doctor", "--fix"],
        &["sync", "--no-push"],
    ];
    for args in writes {
        let err = env.coord(args).fails(1).to_string();
        assert!(err.contains(refusal), "{args:?}: {err}");
    }
    assert_eq!(env.git(&["status", "--porcelain"]).ok(), "", "a refused write changed files");
    // Reads still work.
    assert!(env.coord(&["list-issues"]).ok().contains("ISSUE-002"));
    env.coord(&["show-issue", "ISSUE-002"]).ok();
    env.coord(&["status"]).ok();
    env.coord(&["lint"]).ok();
    env.coord(&["check-deps", "--offline"]).ok();
    env.coord(&["watch", "--once", "--offline"]).ok();
    env.coord(&["doctor"]).ok();

    // The legacy settings section is named as such.
    std::fs::remove_file(env.root.join("settings/coord.yaml")).unwrap();
    env.write("settings/mahavishnu.yaml", "coordination:\n  enabled: false\n");
    let err = env.coord(&["create-issue", "--title", "After", "--repos", "vishnu"]).fails(1).to_string();
    assert!(err.contains("`coordination.enabled: false` in settings/mahavishnu.yaml"), "{err}");
    // Back on: writes work again.
    env.write("settings/mahavishnu.yaml", "coordination:\n  enabled: true\n");
    env.coord(&["create-issue", "--title", "After", "--repos", "vishnu"]).ok();
}
