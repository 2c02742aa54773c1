//! Dependencies end to end: canonical repo names, validation of type and
//! self-dependency, minimal-diff updates, filters and deletion.

use crate::env::{TestEnv, ids, json};

#[test]
fn dependencies_are_created_validated_and_updated() {
    let env = TestEnv::with_ecosystem();
    let d = json(
        &env,
        &[
            "create-dep",
            "--consumer",
            "vishnu",
            "--provider",
            "sb",
            "--type",
            "mcp",
            "--version-constraint",
            ">=0.1.0",
            "--health-check",
            "http://127.0.0.1:9/health",
        ],
    );
    assert_eq!(d["consumer"], "mahavishnu");
    assert_eq!(d["provider"], "session-buddy");
    assert_eq!(d["status"], "unknown");
    assert_eq!(d["validation"]["health_check"], "http://127.0.0.1:9/health");
    let err = env.coord(&["create-dep", "--consumer", "oneiric", "--provider", "oneiric"]).fails(1).to_string();
    assert!(err.contains("cannot depend on itself"), "{err}");
    let err =
        env.coord(&["create-dep", "--consumer", "oneiric", "--provider", "sb", "--type", "peer"]).fails(2).to_string();
    assert!(err.contains("expected one of: runtime, development, mcp, test, documentation"), "{err}");
    let err = env
        .coord(&["create-dep", "--consumer", "oneiric", "--provider", "sb", "--expected-pattern", "("])
        .fails(1)
        .to_string();
    assert!(err.contains("invalid expected pattern"), "{err}");
    env.commit_all("dep");
    env.coord(&["update-dep", "DEP-001", "--status", "ok", "--notes", "checked"]).ok();
    assert_eq!(env.changed_lines(), ["-status: unknown", "+status: satisfied", "+notes: checked"]);
    let by_provider: Vec<String> = json(&env, &["list-deps", "--all", "--provider", "buddy"])
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(by_provider, ["DEP-001"]);
    assert!(json(&env, &["list-deps", "--consumer", "oneiric"]).as_array().unwrap().is_empty());
    env.coord(&["delete-dep", "DEP-001"]).ok();
    assert!(!env.exists("coordination/dependencies/DEP-001.yaml"));
}

#[test]
fn dependencies_filter_by_either_side_and_update_nothing_without_flags() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-dep", "--consumer", "vishnu", "--provider", "buddy"]).ok();
    env.coord(&["create-dep", "--consumer", "oneiric", "--provider", "vishnu", "--status", "ok"]).ok();
    let d = json(&env, &["show-dep", "DEP-001"]);
    assert_eq!(d["type"], "runtime", "the default type");
    assert_eq!(ids(&json(&env, &["list-deps", "--repo", "vishnu"])), ["DEP-001"], "open ones only");
    assert_eq!(
        ids(&json(&env, &["list-deps", "--all", "--repo", "vishnu"])),
        ["DEP-001", "DEP-002"],
        "consumer or provider"
    );
    assert_eq!(ids(&json(&env, &["list-deps", "--status", "satisfied"])), ["DEP-002"]);
    assert_eq!(ids(&json(&env, &["list-deps", "--consumer", "mahavishnu"])), ["DEP-001"]);
    env.commit_all("deps");
    assert_eq!(
        env.coord(&["update-dep", "DEP-001"]).ok(),
        "nothing to update for DEP-001 (no change was asked for; see --help)\n"
    );
    env.coord(&["update-dep", "DEP-001", "--type", "mcp", "--version-constraint", ">=1.0"]).ok();
    assert_eq!(env.changed_lines(), ["-type: runtime", "+type: mcp", "+version_constraint: '>=1.0'"]);
    let err = env.coord(&["update-dep", "DEP-001", "--provider", "mahavishnu"]).fails(1).to_string();
    assert!(err.contains("cannot depend on itself"), "{err}");
}
