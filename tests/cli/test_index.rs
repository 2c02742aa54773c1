//! The derived index (`<git-dir>/git-coord/index.sqlite`): it never changes an
//! answer. Every command's output is compared with a run that bypasses it
//! (`GIT_COORD_NO_CACHE=1`) on the same data, after edits made by other
//! tools (an editor writing in place, checkout, merge, stash, a file edited
//! twice within the racy window, deleted, replaced by a directory); a
//! damaged, truncated or foreign-version index is rebuilt; two processes
//! indexing at once agree; and search ranks and filters a fixed corpus.

use crate::env::TestEnv;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

fn issue(id: &str, title: &str, status: &str, extra: &str) -> String {
    format!("id: {id}\ntitle: {title}\nstatus: {status}\npriority: high\nrepos: [oneiric]\n{extra}")
}

/// A small ecosystem touching every kind and every report.
pub(crate) fn corpus(env: &TestEnv) {
    env.write(
        "coordination/issues/ISSUE-002.yaml",
        &issue(
            "ISSUE-002",
            "Login timeout on the gateway",
            "pending",
            "labels: [bug, auth]\ndescription: The session expires too early.\n",
        ),
    );
    env.write(
        "coordination/issues/ISSUE-003.yaml",
        &issue(
            "ISSUE-003",
            "Memory index schema",
            "in_progress",
            "labels: [feature]\ndependencies: [ISSUE-002]\ndescription: Mentions timeout once.\n",
        ),
    );
    env.write(
        "coordination/issues/ISSUE-004.yaml",
        &issue("ISSUE-004", "Routing docs", "resolved", "labels: [docs]\ndescription: Nothing to see.\n"),
    );
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: Fix the timeout handler\nrepo: oneiric\nstatus: pending\npriority: high\nissue_id: ISSUE-002\nlabels: [bug]\n",
    );
    env.write(
        "coordination/todos/TODO-003.yaml",
        "id: TODO-003\ntask: Write the schema\nrepo: session-buddy\nstatus: pending\npriority: low\nblocked_by: [TODO-002]\n",
    );
    env.write(
        "coordination/plans/PLAN-001.yaml",
        "id: PLAN-001\ntitle: Memory rollout\nstatus: active\nrepos: [session-buddy, oneiric]\nmilestones:\n  - id: MILESTONE-001\n    name: Schema ready\n    status: pending\n",
    );
    env.write(
        "coordination/dependencies/DEP-001.yaml",
        "id: DEP-001\nconsumer: oneiric\nprovider: session-buddy\ntype: runtime\nstatus: unsatisfied\nnotes: needs the timeout fix\n",
    );
    env.commit_all("corpus");
}

/// Every read command (with JSON where it has it).
const COMMANDS: &[&[&str]] = &[
    &["list-issues", "--format", "json"],
    &["list-issues", "--status", "pending", "--format", "json"],
    &["list-issues", "--label", "bug", "--format", "json"],
    &["list-issues", "--status", "resolved,in_progress", "--format", "json"],
    &["list-plans", "--format", "json"],
    &["list-plans", "--status", "active", "--format", "json"],
    &["list-todos", "--status", "pending", "--format", "json"],
    &["list-dependencies", "--status", "unsatisfied", "--format", "json"],
    &["list-todos", "--format", "json"],
    &["list-dependencies", "--format", "json"],
    &["list-issues", "--all", "--sort", "-priority", "--limit", "2", "--format", "json"],
    &["list-issues", "--status", "pending", "--sort", "title", "--format", "json"],
    &["list-todos", "--priority", "high", "--format", "json"],
    &["list-todos", "--plan", "PLAN-001", "--format", "json"],
    &["list-dependencies", "--consumer", "oneiric", "--format", "json"],
    &["list-issues"],
    &["show-issue", "ISSUE-002", "--format", "json"],
    &["show-todo", "TODO-003", "--format", "json"],
    &["ready", "--format", "json"],
    &["blocking", "oneiric", "--format", "json"],
    &["blocked-by", "session-buddy", "--format", "json"],
    &["status", "--format", "json"],
    &["status", "oneiric", "--format", "json"],
    &["workload", "--format", "json"],
    &["roadmap", "--format", "json"],
    &["dep-graph", "--format", "json"],
    &["dep-graph", "--kind", "entities", "--format", "json"],
    &["dep-graph", "--kind", "entities", "--format", "mermaid"],
    &["roadmap"],
    &["status"],
    &["workload", "--by", "repo", "--format", "json"],
    &["ready", "--repo", "oneiric", "--format", "json"],
    &["validate-repo", "oneiric", "--format", "json"],
    &["lint", "--format", "json"],
    &["search", "timeout", "--format", "json"],
    &["search", "status:pending kind:todo", "--format", "json"],
];

fn run_all(env: &TestEnv, dir: &Path, no_index: bool, search: bool) -> Vec<String> {
    COMMANDS
        .iter()
        .filter(|args| search || args[0] != "search")
        .map(|args| {
            let mut cmd = env.coord_command(args);
            cmd.current_dir(dir);
            if no_index {
                cmd.env("GIT_COORD_NO_CACHE", "1");
            }
            let out = cmd.output().expect("spawn");
            format!(
                "$ {}\nexit {:?}\n{}{}",
                args.join(" "),
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
        .collect()
}

/// Runs every command twice through the index (building it, then served
/// from it) and once without, and asserts the three agree.
#[track_caller]
fn same_answers_in(env: &TestEnv, dir: &Path, when: &str) {
    compare(env, dir, when, true);
}

#[track_caller]
pub(crate) fn compare(env: &TestEnv, dir: &Path, when: &str, search: bool) {
    let plain = run_all(env, dir, true, search);
    for pass in ["building", "served"] {
        let indexed = run_all(env, dir, false, search);
        for (a, b) in plain.iter().zip(&indexed) {
            assert_eq!(a, b, "{when} ({pass}): the index changed an answer");
        }
    }
}

#[track_caller]
fn same_answers(env: &TestEnv, when: &str) {
    same_answers_in(env, &env.root, when);
}

pub(crate) fn index_file(env: &TestEnv) -> PathBuf {
    env.root.join(".git/git-coord/index.sqlite")
}

/// Sets a file's modification time (another tool keeping or faking it).
pub(crate) fn set_mtime(path: &Path, t: SystemTime) {
    std::fs::File::options().write(true).open(path).unwrap().set_modified(t).unwrap();
}

pub(crate) fn hour_ago() -> SystemTime {
    SystemTime::now() - Duration::from_secs(3600)
}

/// Ages every entity file, so the index trusts its rows at once.
pub(crate) fn age_all(env: &TestEnv) {
    for kind in ["issues", "plans", "todos", "dependencies"] {
        let Ok(rd) = std::fs::read_dir(env.root.join("coordination").join(kind)) else { continue };
        for e in rd.flatten() {
            if e.path().is_file() {
                set_mtime(&e.path(), hour_ago());
            }
        }
    }
}

pub(crate) fn titles_in(env: &TestEnv, dir: &Path) -> Vec<String> {
    env.coord_in(dir, &["list-issues", "--all", "--format", "json"])
        .items()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_string())
        .collect()
}

/// Rewrites a title inside the index, so a test can tell whether a row was
/// served (the files never say "From the index").
pub(crate) fn plant(index: &Path, from: &str, to: &str) -> usize {
    let conn = rusqlite::Connection::open(index).unwrap();
    conn.execute(
        "UPDATE idx_files SET map = replace(map, ?1, ?2), j = replace(j, ?1, ?2) WHERE instr(map, ?1) > 0",
        [from, to],
    )
    .unwrap()
}

#[test]
fn every_command_answers_as_without_the_index() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    same_answers(&env, "fresh files (racy)");
    age_all(&env);
    same_answers(&env, "aged files");
    assert!(index_file(&env).is_file(), "the index lives in the git directory");
    // A file overriding a legacy item, with a status a filter leaves out:
    // the override holds (and is reported) although the file is not decoded.
    env.write("coordination/issues/ISSUE-001.yaml", &issue("ISSUE-001", "Overrides legacy", "resolved", ""));
    age_all(&env);
    same_answers(&env, "an override");
    // Two files with one ID: which one wins is decided by reading them.
    // (Search lists every file, so its corpus and scores differ from a
    // load's, which keeps one; lint reports the twin.)
    env.write("coordination/todos/TODO-003.yml", "id: TODO-003\ntask: Twin\nrepo: oneiric\nstatus: completed\n");
    age_all(&env);
    compare(&env, &env.root, "a twin", false);
    let status = env.git(&["status", "--porcelain", "--ignored"]);
    assert!(!status.ok().contains("index.sqlite"), "never in the work tree: {}", status.stdout);
}

#[test]
fn the_index_serves_current_rows_and_never_a_changed_file() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    env.coord(&["list-issues"]).ok();
    assert_eq!(plant(&index_file(&env), "Routing docs", "From the index"), 1);
    assert!(titles_in(&env, &env.root).contains(&"From the index".to_string()), "an aged, unchanged file is served");
    // A status filter reads the status column: a planted one decides.
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    conn.execute("UPDATE idx_files SET status = 'closed' WHERE id = 'ISSUE-002'", []).unwrap();
    let pending = env.coord(&["list-issues", "--status", "pending", "--format", "json"]).items();
    assert!(!pending.to_string().contains("ISSUE-002"), "the pending issue was judged by its row: {pending}");
    conn.execute("UPDATE idx_files SET status = 'pending' WHERE id = 'ISSUE-002'", []).unwrap();
    // An editor writing in place (same inode, new content and time).
    let p = env.root.join("coordination/issues/ISSUE-004.yaml");
    std::fs::write(&p, issue("ISSUE-004", "Routing docs v2", "resolved", "")).unwrap();
    set_mtime(&p, hour_ago() + Duration::from_secs(5));
    let t = titles_in(&env, &env.root);
    assert!(t.contains(&"Routing docs v2".to_string()) && !t.contains(&"From the index".to_string()), "{t:?}");
    same_answers(&env, "after an in-place edit");
}

/// (name, row ID, full-text text) of every indexed file, and each file's
/// references (name, target), in name order.
type Stored = (Vec<(String, i64, String)>, Vec<(String, String)>);

fn rows_and_text(env: &TestEnv) -> Stored {
    let conn = rusqlite::Connection::open(index_file(env)).unwrap();
    let rows = conn
        .prepare(
            "SELECT f.name, f.rid, t.id || '|' || t.title || '|' || t.body || '|' || t.labels \
             FROM idx_files f JOIN fts_entities t ON t.rowid = f.rid ORDER BY f.kind, f.name",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let refs = conn
        .prepare("SELECT f.name, r.target FROM idx_refs r JOIN idx_files f USING (rid) ORDER BY f.name, r.rowid")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    (rows, refs)
}

#[test]
fn a_file_read_again_keeps_its_rows_and_a_wrong_stored_value_is_mended() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    env.coord(&["search", "zzzz"]).ok();
    let before = rows_and_text(&env);
    assert!(before.0.len() >= 7 && !before.1.is_empty(), "{before:?}");
    // Every file touched (a checkout that rewrote them unchanged): each is
    // read again and keeps its row and full-text row.
    for kind in ["issues", "plans", "todos", "dependencies"] {
        for e in std::fs::read_dir(env.root.join("coordination").join(kind)).unwrap().flatten() {
            set_mtime(&e.path(), hour_ago() + Duration::from_secs(60));
        }
    }
    env.coord(&["search", "zzzz"]).ok();
    assert_eq!(rows_and_text(&env), before, "unchanged content keeps every row");
    // A changed file keeps its row ID; its text and references follow it.
    env.write(
        "coordination/todos/TODO-003.yaml",
        "id: TODO-003\ntask: Write the new schema\nrepo: session-buddy\nstatus: pending\npriority: low\nblocked_by: [ISSUE-003]\n",
    );
    age_all(&env);
    assert_eq!(search(&env, &["new schema"]), ["TODO-003"]);
    let (rows, refs) = rows_and_text(&env);
    let row = |rows: &[(String, i64, String)], name: &str| rows.iter().find(|r| r.0 == name).cloned().unwrap();
    let (old, new) = (row(&before.0, "TODO-003.yaml"), row(&rows, "TODO-003.yaml"));
    assert_eq!(old.1, new.1, "the row keeps its ID");
    assert!(new.2.contains("Write the new schema"), "{new:?}");
    assert!(refs.contains(&("TODO-003.yaml".into(), "ISSUE-003".into())), "{refs:?}");
    assert!(!refs.contains(&("TODO-003.yaml".into(), "TODO-002".into())), "{refs:?}");
    // Values that are not what a file gives (planted in the row, the
    // full-text row and the references) are mended when it is read again.
    assert_eq!(plant(&index_file(&env), "Routing docs", "From the index"), 1);
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    let rid = row(&rows, "ISSUE-004.yaml").1;
    conn.execute("UPDATE fts_entities SET title = 'planted words' WHERE rowid = ?1", [rid]).unwrap();
    conn.execute("INSERT INTO idx_refs (rid, target) VALUES (?1, 'TODO-999')", [rid]).unwrap();
    drop(conn);
    assert!(titles_in(&env, &env.root).contains(&"From the index".to_string()), "the planted row was served");
    set_mtime(&env.root.join("coordination/issues/ISSUE-004.yaml"), hour_ago() + Duration::from_secs(120));
    assert!(!titles_in(&env, &env.root).contains(&"From the index".to_string()));
    assert!(search(&env, &["planted"]).is_empty());
    assert_eq!(search(&env, &["routing"]), ["ISSUE-004"]);
    assert!(!rows_and_text(&env).1.iter().any(|r| r.1 == "TODO-999"), "the planted reference is gone");
    same_answers(&env, "after mending");
}

#[test]
fn a_large_rewrite_is_merged_and_search_still_agrees() {
    let env = TestEnv::with_ecosystem();
    let write_all = |word: &str| {
        for n in 1..=1100 {
            env.write(
                &format!("coordination/todos/TODO-{n:04}.yaml"),
                &format!("id: TODO-{n:04}\ntask: {word} task {n}\nrepo: oneiric\nstatus: pending\n"),
            );
        }
        age_all(&env);
    };
    write_all("alpha");
    let (_, log) = logged(&env, &["search", "zzzz"]);
    assert!(log.contains("full-text index merged"), "a build of 1,100 rows is merged: {log}");
    // Every file's text changes: 1,100 full-text rows rewritten, merged after.
    write_all("beta");
    let (out, log) = logged(&env, &["search", "beta", "--limit", "5", "--format", "json"]);
    assert!(log.contains("full-text index merged"), "{log}");
    let mut plain = env.coord_command(&["search", "beta", "--limit", "5", "--format", "json"]);
    let plain = plain.env("GIT_COORD_NO_CACHE", "1").output().unwrap();
    assert_eq!(out, String::from_utf8_lossy(&plain.stdout));
    assert!(search(&env, &["alpha"]).is_empty());
    // A few changed files are not worth a merge.
    env.write("coordination/todos/TODO-0001.yaml", "id: TODO-0001\ntask: gamma\nrepo: oneiric\nstatus: pending\n");
    age_all(&env);
    let (_, log) = logged(&env, &["search", "gamma"]);
    assert!(!log.contains("full-text index merged"), "{log}");
    assert_eq!(search(&env, &["gamma"]), ["TODO-0001"]);
}

#[test]
fn the_wal_companions_stay_emptied_between_commands() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    env.coord(&["create-issue", "--title", "Written through the WAL", "--repos", "oneiric"]).ok();
    // A read indexes the new file.
    env.coord(&["list-issues"]).ok();
    let wal = PathBuf::from(format!("{}-wal", index_file(&env).display()));
    let shm = PathBuf::from(format!("{}-shm", index_file(&env).display()));
    // Kept for the next command (not created and removed by each), the
    // WAL emptied into the database when the last connection closed.
    assert!(shm.is_file(), "the shared-memory file stays");
    assert_eq!(std::fs::metadata(&wal).unwrap().len(), 0, "the WAL is emptied");
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM idx_files WHERE title = 'Written through the WAL'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1, "the write reached the database");
    drop(conn);
    // Removed by another tool: the next command makes them again.
    remove_index(&env);
    assert!(titles_in(&env, &env.root).contains(&"Written through the WAL".to_string()));
    assert!(wal.is_file() && shm.is_file());
}

/// Runs a list with the debug log: (stdout, whether the index answered it).
fn list_logged(env: &TestEnv, args: &[&str]) -> (String, bool) {
    let out = env.coord_command(args).env("GIT_COORD_LOG", "debug").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stderr);
    (String::from_utf8_lossy(&out.stdout).into_owned(), log.contains("listed from the index"))
}

#[test]
fn a_plain_list_is_one_query_on_the_index_and_anything_else_reads_the_files() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    let pending = ["list-issues", "--status", "pending", "--format", "json"];
    env.coord(&pending).ok();
    let (out, from_index) = list_logged(&env, &pending);
    assert!(from_index, "a status filter is answered by the index");
    // The legacy section's item joins, in ID order, as a load gives it.
    let ids: Vec<String> = serde_json::from_str::<serde_json::Value>(&out).unwrap()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["ISSUE-001", "ISSUE-002"]);
    // The rows' JSON is what is served: a planted title shows…
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    let planted = conn
        .execute("UPDATE idx_files SET j = replace(j, 'Login timeout', 'Planted title') WHERE id = 'ISSUE-002'", [])
        .unwrap();
    assert_eq!(planted, 1);
    assert!(list_logged(&env, &pending).0.contains("Planted title on the gateway"));
    // …never in a list the index does not answer (a label filter)…
    let (out, from_index) = list_logged(&env, &["list-issues", "--label", "bug", "--format", "json"]);
    assert!(!from_index && out.contains("Login timeout on the gateway"), "{out}");
    // …and never once the file changed (an editor writing in place).
    let p = env.root.join("coordination/issues/ISSUE-002.yaml");
    std::fs::write(&p, issue("ISSUE-002", "Login timeout, edited", "pending", "")).unwrap();
    set_mtime(&p, hour_ago() + Duration::from_secs(5));
    let (out, from_index) = list_logged(&env, &pending);
    assert!(from_index && out.contains("Login timeout, edited") && !out.contains("Planted"), "{out}");
    // A file that does not read, or reads with a problem, is the files'
    // to report, with its line: the list reads them, and answers as
    // without the index.
    for (name, text) in [
        ("ISSUE-008.yaml", "id: ISSUE-008\ntitle: [unclosed\n"),
        ("ISSUE-009.yaml", "id: ISSUE-009\ntitle: Odd priority\nstatus: pending\npriority: whenever\n"),
    ] {
        env.write(&format!("coordination/issues/{name}"), text);
        age_all(&env);
        let (out, from_index) = list_logged(&env, &pending);
        assert!(!from_index, "{name}: {out}");
        same_answers(&env, name);
        std::fs::remove_file(env.root.join("coordination/issues").join(name)).unwrap();
    }
    // A file overriding the legacy item: the same warning, the file wins.
    env.write("coordination/issues/ISSUE-001.yaml", &issue("ISSUE-001", "Overrides legacy", "pending", ""));
    age_all(&env);
    let (out, from_index) = list_logged(&env, &pending);
    assert!(from_index && out.contains("Overrides legacy") && !out.contains("Legacy issue"), "{out}");
    same_answers(&env, "an override, answered by the index");
    let warned = env.coord(&pending);
    assert!(warned.stderr.contains("defined both in"), "{}", warned.stderr);
}

#[test]
fn a_file_edited_twice_within_the_racy_window_is_never_missed() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    let p = env.root.join("coordination/issues/ISSUE-002.yaml");
    // First edit, then the index is built: the row is racy (the file changed
    // moments before it was indexed).
    let stamp = SystemTime::now();
    std::fs::write(&p, issue("ISSUE-002", "Edit AAAA", "pending", "")).unwrap();
    set_mtime(&p, stamp);
    assert!(titles_in(&env, &env.root).contains(&"Edit AAAA".to_string()));
    // Second edit, same size, and the same modification time (a coarse
    // clock): the stamp is identical, so only the racy rule catches it.
    std::fs::write(&p, issue("ISSUE-002", "Edit BBBB", "pending", "")).unwrap();
    set_mtime(&p, stamp);
    assert!(titles_in(&env, &env.root).contains(&"Edit BBBB".to_string()), "the racy row was trusted");
    same_answers(&env, "after two edits in one tick");
}

#[test]
fn deleted_files_and_directories_in_place_of_files() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    same_answers(&env, "before");
    std::fs::remove_file(env.root.join("coordination/issues/ISSUE-003.yaml")).unwrap();
    same_answers(&env, "after a delete");
    assert!(!titles_in(&env, &env.root).contains(&"Memory index schema".to_string()));
    let p = env.root.join("coordination/todos/TODO-003.yaml");
    std::fs::remove_file(&p).unwrap();
    std::fs::create_dir(&p).unwrap();
    same_answers(&env, "after a file became a directory");
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM idx_files WHERE name IN ('ISSUE-003.yaml', 'TODO-003.yaml')", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "rows of vanished files are dropped");
}

#[test]
fn checkout_merge_and_stash_are_seen() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    same_answers(&env, "on main");
    env.git(&["checkout", "-q", "-b", "topic"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--status", "blocked"]).ok();
    env.write("coordination/issues/ISSUE-009.yaml", &issue("ISSUE-009", "Only on topic", "pending", ""));
    env.commit_all("topic work");
    same_answers(&env, "on topic");
    env.git(&["checkout", "-q", "main"]).ok();
    same_answers(&env, "back on main");
    assert!(!titles_in(&env, &env.root).contains(&"Only on topic".to_string()));
    env.git(&["merge", "-q", "--no-edit", "topic"]).ok();
    same_answers(&env, "after merging topic");
    assert!(titles_in(&env, &env.root).contains(&"Only on topic".to_string()));
    env.write("coordination/issues/ISSUE-004.yaml", &issue("ISSUE-004", "Stashed edit", "pending", ""));
    same_answers(&env, "with a change to stash");
    env.git(&["stash", "-q"]).ok();
    same_answers(&env, "after stash");
    assert!(!titles_in(&env, &env.root).contains(&"Stashed edit".to_string()));
    env.git(&["stash", "pop", "-q"]).ok();
    same_answers(&env, "after stash pop");
    assert!(titles_in(&env, &env.root).contains(&"Stashed edit".to_string()));
}

#[test]
fn a_damaged_index_is_rebuilt_and_never_changes_an_answer() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    same_answers(&env, "intact");
    let file = index_file(&env);
    // Checkpointed, so the whole index is in the main file.
    rusqlite::Connection::open(&file).unwrap().execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").unwrap();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    same_answers(&env, "truncated");
    std::fs::write(&file, b"this is not a database, but it has some length to it........................").unwrap();
    same_answers(&env, "garbage");
    let conn = rusqlite::Connection::open(&file).unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM idx_files", [], |r| r.get(0)).unwrap();
    assert!(n > 0, "rebuilt and filled again");
}

#[test]
fn another_schema_version_rebuilds_only_the_index_tables() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    env.coord(&["list-issues"]).ok();
    let file = index_file(&env);
    {
        let conn = rusqlite::Connection::open(&file).unwrap();
        // Another subsystem's table in the same file, and a row planted
        // under a different schema version.
        conn.execute_batch(
            "CREATE TABLE events (n INTEGER); INSERT INTO events VALUES (42);
             UPDATE meta SET value = '0' WHERE key = 'idx_schema_version';",
        )
        .unwrap();
    }
    plant(&file, "Routing docs", "From the old index");
    assert!(!titles_in(&env, &env.root).contains(&"From the old index".to_string()), "an old version is not served");
    let conn = rusqlite::Connection::open(&file).unwrap();
    let kept: i64 = conn.query_row("SELECT n FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(kept, 42, "other tables of the file survive a rebuild");
    let v: String =
        conn.query_row("SELECT value FROM meta WHERE key = 'idx_schema_version'", [], |r| r.get(0)).unwrap();
    assert_ne!(v, "0");
}

#[test]
fn two_processes_indexing_at_once_agree() {
    let env = TestEnv::with_ecosystem();
    for i in 10..200 {
        env.write(
            &format!("coordination/issues/ISSUE-{i:03}.yaml"),
            &issue(&format!("ISSUE-{i:03}"), &format!("Concurrent {i}"), "pending", ""),
        );
    }
    age_all(&env);
    let expected =
        env.coord_command(&["list-issues", "--format", "json"]).env("GIT_COORD_NO_CACHE", "1").output().unwrap();
    for _round in 0..2 {
        let _ = std::fs::remove_file(index_file(&env));
        let children: Vec<_> = (0..4)
            .map(|i| {
                if i % 2 == 0 {
                    env.coord_spawn(&["list-issues", "--format", "json"])
                } else {
                    env.coord_spawn(&["search", "concurrent", "--limit", "500", "--format", "json"])
                }
            })
            .collect();
        for (i, c) in children.into_iter().enumerate() {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            if i % 2 == 0 {
                assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&expected.stdout));
            } else {
                let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(v["count"], 190, "every issue found while another process indexed");
            }
        }
    }
}

fn search(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let mut a = vec!["search"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["--format", "json"]);
    env.coord(&a).json()["items"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn search_ranks_titles_first_and_combines_filters() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    // A title match outranks a description match; every kind is searched
    // (todo task, dependency notes).
    let ids = search(&env, &["timeout"]);
    assert_eq!(ids.len(), 4, "{ids:?}");
    assert!(ids[..2].contains(&"ISSUE-002".to_string()) && ids[..2].contains(&"TODO-002".to_string()), "{ids:?}");
    let last_two = &ids[2..];
    assert!(last_two.contains(&"ISSUE-003".to_string()) && last_two.contains(&"DEP-001".to_string()), "{ids:?}");
    // field:value filters, and the list flags, combine with AND.
    assert_eq!(search(&env, &["timeout status:pending kind:issue"]), ["ISSUE-002"]);
    assert_eq!(search(&env, &["timeout", "--kind", "issue", "--status", "in_progress"]), ["ISSUE-003"]);
    // Without words, results come in kind then ID order.
    assert_eq!(search(&env, &["label:bug"]), ["ISSUE-002", "TODO-002"]);
    assert_eq!(search(&env, &["repo:vishnu"]), Vec::<String>::new(), "nicknames resolve through the registry");
    // The todo's task outranks the plan's milestone name.
    assert_eq!(search(&env, &["schema repo:buddy"]), ["TODO-003", "PLAN-001"]);
    assert_eq!(search(&env, &["tim*", "--limit", "1"]).len(), 1);
    // Values of one flag are alternatives (repeatable or comma-separated);
    // `field:value` terms of the query each must hold.
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(search(&env, &["timeout", "--label", "docs,bug"])), ["ISSUE-002", "TODO-002"]);
    assert_eq!(
        sorted(search(&env, &["timeout", "--label", "bug", "--label", "feature"])),
        ["ISSUE-002", "ISSUE-003", "TODO-002"]
    );
    assert_eq!(search(&env, &["label:bug label:auth"]), ["ISSUE-002"]);
    assert_eq!(sorted(search(&env, &["schema", "--repo", "oneiric"])), ["ISSUE-003", "PLAN-001"]);
    assert_eq!(sorted(search(&env, &["schema", "--repo", "buddy"])), ["PLAN-001", "TODO-003"]);
    assert_eq!(sorted(search(&env, &["schema", "--repo", "oneiric,buddy"])), ["ISSUE-003", "PLAN-001", "TODO-003"]);
    assert_eq!(search(&env, &["schema repo:oneiric repo:buddy"]), ["PLAN-001"]);
    // A label and a milestone are text too; a word in no entity finds nothing.
    assert_eq!(search(&env, &["schema ready"]), ["PLAN-001"]);
    assert!(search(&env, &["xylophone"]).is_empty());
    // The snippet marks the match.
    let v = env.coord(&["search", "gateway", "--format", "json"]).json();
    assert!(v["items"][0]["snippet"].as_str().unwrap().contains("**gateway**"), "{v}");
    // An unknown filter is an error naming the query, never a text term.
    let err = env.coord(&["search", "stauts:pending"]).fails(1).to_string();
    assert!(err.contains("stauts"), "{err}");
    // The same answers without the index (an index built in memory).
    let mut plain = env.coord_command(&["search", "timeout", "--format", "json"]);
    plain.env("GIT_COORD_NO_CACHE", "1");
    let plain = plain.output().unwrap();
    assert_eq!(String::from_utf8_lossy(&plain.stdout), env.coord(&["search", "timeout", "--format", "json"]).stdout);
}

#[test]
fn a_linked_worktree_keeps_its_own_index() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    let linked = env.root.parent().unwrap().join("linked");
    env.git(&["worktree", "add", "-q", "-b", "topic", linked.to_str().unwrap()]).ok();
    for e in std::fs::read_dir(linked.join("coordination/issues")).unwrap().flatten() {
        set_mtime(&e.path(), hour_ago());
    }
    same_answers_in(&env, &linked, "linked work tree");
    let own = env.root.join(".git/worktrees/linked/git-coord/index.sqlite");
    assert!(own.is_file(), "written in the linked work tree's own git directory");
    assert!(!index_file(&env).exists(), "not in the main one");
    assert_eq!(plant(&own, "Routing docs", "From the linked index"), 1);
    assert!(titles_in(&env, &linked).contains(&"From the linked index".to_string()));
    assert!(!titles_in(&env, &env.root).contains(&"From the linked index".to_string()), "main has its own index");
}

#[test]
fn monorepo_subfolder_roots_have_their_own_rows() {
    let env = TestEnv::new();
    for (dir, title) in [("services/a", "Alpha"), ("services/b", "Beta")] {
        env.write(&format!("{dir}/settings/ecosystem.yaml"), crate::env::ECOSYSTEM);
        env.write(&format!("{dir}/coordination/issues/ISSUE-002.yaml"), &issue("ISSUE-002", title, "pending", ""));
    }
    env.commit_all("two roots");
    let a = env.root.join("services/a");
    let b = env.root.join("services/b");
    assert!(titles_in(&env, &a).contains(&"Alpha".to_string()));
    assert!(titles_in(&env, &b).contains(&"Beta".to_string()));
    same_answers_in(&env, &a, "subfolder a");
    same_answers_in(&env, &b, "subfolder b");
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    let roots: Vec<String> = conn
        .prepare("SELECT DISTINCT root FROM idx_files ORDER BY root")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(roots, ["services/a", "services/b"]);
}

/// The ID of a created entity, from `create-issue`'s JSON.
fn created(out: &std::process::Output) -> String {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["id"].as_str().unwrap().to_string()
}

#[test]
fn ids_on_branches_are_remembered_per_tree_and_follow_a_branch_that_moves() {
    let env = TestEnv::with_ecosystem();
    env.git(&["checkout", "-q", "-b", "feature"]).ok();
    env.write("coordination/issues/ISSUE-010.yaml", &issue("ISSUE-010", "On a branch", "pending", ""));
    env.commit_all("an issue on a branch");
    env.git(&["checkout", "-q", "main"]).ok();
    let create = |title: &str, no_cache: bool| {
        let mut cmd = env.coord_command(&["create-issue", "--title", title, "--repos", "oneiric", "--format", "json"]);
        if no_cache {
            cmd.env("GIT_COORD_NO_CACHE", "1");
        }
        created(&cmd.output().unwrap())
    };
    assert_eq!(create("First", false), "ISSUE-011", "the branch's number counts");
    // What the branch's directory tree holds is kept under its object ID.
    let tree = env.git(&["rev-parse", "feature:coordination/issues"]).ok().trim().to_string();
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    let key = format!("ids1|{tree}|ISSUE|tree|coordination/issues");
    let kept: String = conn.query_row("SELECT value FROM idx_memo WHERE key = ?1", [&key], |r| r.get(0)).unwrap();
    assert_eq!(serde_json::from_str::<serde_json::Value>(&kept).unwrap()["max"], 10, "{kept}");
    // Proof that the kept result is what allocation reads (the tree is not
    // inflated again): a planted number is obeyed, except with the index off.
    conn.execute("UPDATE idx_memo SET value = '{\"max\":40,\"ignored\":[]}' WHERE key = ?1", [&key]).unwrap();
    drop(conn);
    assert_eq!(create("Without the index", true), "ISSUE-012", "GIT_COORD_NO_CACHE reads the trees");
    assert_eq!(create("From the memo", false), "ISSUE-041");
    // The branch moves: its new tree is another object, read afresh.
    env.git(&["checkout", "-q", "feature"]).ok();
    env.write("coordination/issues/ISSUE-060.yaml", &issue("ISSUE-060", "Later on the branch", "pending", ""));
    env.commit_all("a later issue on the branch");
    env.git(&["checkout", "-q", "main"]).ok();
    assert_eq!(create("After the branch moved", false), "ISSUE-061");
    // A damaged memo value is no answer: the tree is read again.
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    assert!(conn.execute("UPDATE idx_memo SET value = 'not json'", []).unwrap() > 0);
    drop(conn);
    assert_eq!(create("Damaged memo", false), "ISSUE-062");
}

#[test]
fn a_long_running_server_survives_its_index_file_being_removed() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    let mut c = crate::test_mcp::Client::start(&env);
    let hits = |c: &mut crate::test_mcp::Client, n: u64, q: &str| {
        let out = c.tool(n, "coord_search", serde_json::json!({ "query": q }));
        out["items"].as_array().unwrap().iter().map(|h| h["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(hits(&mut c, 2, "gateway"), ["ISSUE-002"]);
    let listed = c.tool(3, "coord_list_issues", serde_json::json!({"status": ["pending"]}));
    assert_eq!(listed["count"], 2, "{listed}");
    // Another tool removes the index (and its WAL) while the server keeps
    // its connections, then edits a file: the server's answers follow the
    // files and the index file comes back.
    crate::test_index::remove_index(&env);
    env.write(
        "coordination/issues/ISSUE-002.yaml",
        &issue("ISSUE-002", "Login timeout on the proxy", "pending", "labels: [bug, auth]\n"),
    );
    assert_eq!(hits(&mut c, 4, "proxy"), ["ISSUE-002"]);
    assert!(hits(&mut c, 5, "gateway").is_empty());
    let listed = c.tool(6, "coord_list_issues", serde_json::json!({"status": ["pending"]}));
    let titles: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|i| i["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Legacy issue", "Login timeout on the proxy"], "{listed}");
    assert!(index_file(&env).is_file(), "the index is rebuilt in a new file");
    // Replaced by something that is no database: still the files' answer.
    crate::test_index::remove_index(&env);
    std::fs::write(index_file(&env), b"garbage, not SQLite").unwrap();
    assert_eq!(hits(&mut c, 7, "proxy"), ["ISSUE-002"]);
}

/// Removes the index file and its WAL companions.
pub(crate) fn remove_index(env: &TestEnv) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = index_file(env).into_os_string();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn shows_last_change_is_remembered_per_head_and_follows_new_commits() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    let last = |no_cache: bool| {
        let mut cmd = env.coord_command(&["show-issue", "ISSUE-002", "--format", "json"]);
        if no_cache {
            cmd.env("GIT_COORD_NO_CACHE", "1");
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["relations"]["last_change"]["summary"].as_str().unwrap_or("(none)").to_string()
    };
    assert_eq!(last(false), "corpus");
    // Kept under HEAD's commit: a planted answer is obeyed (proof the walk
    // is not repeated), except with the index off.
    let head = env.git(&["rev-parse", "HEAD"]).ok().trim().to_string();
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    let planted = conn
        .execute(
            "UPDATE idx_memo SET value = replace(value, '\"corpus\"', '\"planted\"') WHERE key = ?1",
            [format!("last1|{head}||ISSUE-002")],
        )
        .unwrap();
    assert_eq!(planted, 1);
    drop(conn);
    assert_eq!(last(false), "planted");
    assert_eq!(last(true), "corpus");
    // A new commit moves HEAD: the history is walked again.
    env.write("coordination/issues/ISSUE-002.yaml", &issue("ISSUE-002", "Retitled", "pending", ""));
    env.commit_all("retitle");
    assert_eq!(last(false), "retitle");
    // A commit that does not touch the entity: still the older change.
    env.write("coordination/issues/ISSUE-004.yaml", &issue("ISSUE-004", "Other", "resolved", ""));
    env.commit_all("another entity");
    assert_eq!(last(false), "retitle");
}

/// The kinds with a sheet of stamps current with their rows.
fn sheets(env: &TestEnv) -> Vec<String> {
    let conn = rusqlite::Connection::open(index_file(env)).unwrap();
    let mut st = conn
        .prepare(
            "SELECT s.kind FROM idx_sheet s JOIN idx_monitor m USING (root, kind) WHERE s.epoch = m.epoch ORDER BY s.kind",
        )
        .unwrap();
    st.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

/// Runs a command with the debug log of the store and the index; returns
/// its stdout and log.
fn logged(env: &TestEnv, args: &[&str]) -> (String, String) {
    let out =
        env.coord_command(args).env("GIT_COORD_LOG", "git_coord::store=debug,git_coord::index=debug").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Without the monitor, a kind is checked against its sheet: one document
/// of its files' stamps, current with the rows. Every change is named and
/// read again (an editor's in-place write, a new file, a directory where a
/// file was expected, a racy file whose edit kept its stamp); nothing else
/// is. A sheet another process's write left behind, or a damaged one, is
/// never trusted.
#[test]
fn the_sheet_names_every_change_and_vouches_for_the_rest() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    let issues = env.root.join("coordination/issues");
    // A directory changed long ago: its names are the sheet's while its
    // stamp holds.
    let age_dir = || std::fs::File::open(&issues).unwrap().set_modified(hour_ago()).unwrap();
    age_dir();
    env.coord(&["search", "zzzz"]).ok();
    assert_eq!(sheets(&env), ["dependencies", "issues", "plans", "todos"], "a full scan leaves a sheet per kind");
    // An unchanged file is vouched for by the sheet: its (planted) row is
    // served without the file being read, the directory not even listed.
    assert_eq!(plant(&index_file(&env), "Routing docs", "From the index"), 1);
    let (_, log) = logged(&env, &["list-issues", "--all"]);
    assert!(log.contains("sheet kind=\"issues\" changed=0 listed=false"), "{log}");
    assert!(titles_in(&env, &env.root).contains(&"From the index".to_string()));
    // An edit in place leaves the directory's stamp: the file's own is
    // what names it.
    let p = issues.join("ISSUE-002.yaml");
    let text = std::fs::read_to_string(&p).unwrap().replace("Login timeout", "Logout timeout");
    std::fs::write(&p, text).unwrap();
    set_mtime(&p, hour_ago() + Duration::from_secs(5));
    let (_, log) = logged(&env, &["list-issues", "--all"]);
    assert!(log.contains("sheet kind=\"issues\" changed=1 listed=false"), "{log}");
    assert!(titles_in(&env, &env.root).contains(&"Logout timeout on the gateway".to_string()));
    // A new file and a directory named like an entity move the directory's
    // stamp: it is listed again.
    env.write("coordination/issues/ISSUE-009.yaml", &issue("ISSUE-009", "Brand new", "pending", ""));
    set_mtime(&issues.join("ISSUE-009.yaml"), hour_ago());
    std::fs::create_dir(issues.join("ISSUE-010.yaml")).unwrap();
    let (_, log) = logged(&env, &["list-issues", "--all"]);
    assert!(log.contains("sheet kind=\"issues\" changed=2 listed=true"), "the new file and the directory: {log}");
    age_dir();
    let (_, log) = logged(&env, &["list-issues", "--all"]);
    assert!(log.contains("sheet kind=\"issues\" changed=1 listed=true"), "a directory is always listed: {log}");
    let titles = titles_in(&env, &env.root);
    for t in ["Logout timeout on the gateway", "Brand new", "From the index"] {
        assert!(titles.contains(&t.to_string()), "{t}: {titles:?}");
    }
    // The planted row goes once its file is touched; then every command
    // answers as without the index (the directory reported the same way).
    set_mtime(&env.root.join("coordination/issues/ISSUE-004.yaml"), hour_ago() + Duration::from_secs(9));
    same_answers(&env, "changes named by the sheet");
    std::fs::remove_dir(env.root.join("coordination/issues/ISSUE-010.yaml")).unwrap();
    same_answers(&env, "the directory gone");

    // A racy file: written in the tick its sheet was taken (here: dated in
    // the future), then edited again keeping size, inode and time.
    let racy = env.root.join("coordination/issues/ISSUE-009.yaml");
    let future = SystemTime::now() + Duration::from_secs(30);
    set_mtime(&racy, future);
    env.coord(&["list-issues", "--all"]).ok();
    let text = std::fs::read_to_string(&racy).unwrap().replace("Brand new", "Brand old");
    std::fs::write(&racy, text).unwrap();
    set_mtime(&racy, future);
    assert!(titles_in(&env, &env.root).contains(&"Brand old".to_string()), "a racy entry is read again");
    set_mtime(&racy, hour_ago());

    // Another process wrote rows since the sheet: it is void, every row is
    // checked, and a new sheet is written.
    env.coord(&["list-issues"]).ok();
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    conn.execute("UPDATE idx_monitor SET epoch = epoch + 1 WHERE kind = 'issues'", []).unwrap();
    drop(conn);
    assert!(!sheets(&env).contains(&"issues".to_string()));
    let (_, log) = logged(&env, &["list-issues", "--all"]);
    assert!(!log.contains("sheet kind=\"issues\""), "{log}");
    assert!(sheets(&env).contains(&"issues".to_string()), "a full scan writes a new sheet");
    // A damaged sheet is ignored, and replaced.
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    conn.execute("UPDATE idx_sheet SET data = x'05ff00' WHERE kind = 'todos'", []).unwrap();
    drop(conn);
    let (_, log) = logged(&env, &["list-todos", "--all"]);
    assert!(!log.contains("sheet kind=\"todos\""), "{log}");
    let (_, log) = logged(&env, &["list-todos", "--all"]);
    assert!(log.contains("sheet kind=\"todos\" changed=0"), "{log}");
    same_answers(&env, "after a void and a damaged sheet");
}

/// A name that is no UTF-8 in an entity directory: the sheet cannot vouch
/// for the directory (the kind is scanned file by file), and every answer
/// is the one without the index.
#[test]
fn a_name_that_is_no_utf8_is_scanned_as_without_the_index() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    same_answers(&env, "before");
    let odd = env.root.join("coordination/issues").join(std::ffi::OsStr::from_bytes(b"ISSUE-\xff.yaml"));
    std::fs::write(&odd, issue("ISSUE-009", "Odd name", "pending", "")).unwrap();
    set_mtime(&odd, hour_ago());
    same_answers(&env, "a name that is no UTF-8");
    let (_, log) = logged(&env, &["list-issues", "--all"]);
    assert!(!log.contains("sheet kind=\"issues\""), "no sheet answers for the directory: {log}");
    std::fs::remove_file(&odd).unwrap();
    same_answers(&env, "the odd name gone");
}
