//! The file-system monitor (`git coord fsmonitor`): with it, commands learn
//! from an inotify daemon which entity files changed instead of checking
//! every file — and it never changes an answer. Every command's output is
//! compared with a run without the index after edits by other tools,
//! including an in-place edit that keeps size and modification time (which
//! no stamp can see); a killed daemon, a new daemon, too many changes and a
//! writer that did not ask the monitor all fall back to checking every file.

use crate::env::TestEnv;
use crate::test_index::{age_all, compare, corpus, index_file, plant, set_mtime, titles_in};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// A running monitor for a root, stopped when dropped (also on panic).
struct Monitor<'a> {
    env: &'a TestEnv,
    dir: PathBuf,
}

impl<'a> Monitor<'a> {
    fn start(env: &'a TestEnv, dir: &Path) -> Monitor<'a> {
        let out = env.coord_in(dir, &["fsmonitor", "start"]);
        assert!(out.ok().contains("started the monitor"), "{}", out.stdout);
        Monitor { env, dir: dir.to_path_buf() }
    }

    fn pid(&self) -> u32 {
        let v = self.env.coord_in(&self.dir, &["fsmonitor", "status", "--format", "json"]).json();
        assert_eq!(v["running"], true, "{v}");
        v["monitor"]["pid"].as_u64().unwrap() as u32
    }
}

impl Drop for Monitor<'_> {
    fn drop(&mut self) {
        let _ = self.env.coord_command(&["fsmonitor", "stop"]).current_dir(&self.dir).output();
    }
}

fn titles(env: &TestEnv) -> Vec<String> {
    titles_in(env, &env.root)
}

/// What the monitor answered a load of issues (from the debug log).
fn answer_of(env: &TestEnv, extra_env: &[(&str, &str)]) -> String {
    let mut cmd = env.coord_command(&["list-issues"]);
    cmd.env("GIT_COORD_LOG", "git_coord::store::load=debug");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    let line = log.lines().find(|l| l.contains("monitor") && l.contains("issues")).unwrap_or("no answer");
    if line.contains("answer=Full") {
        "full".into()
    } else if line.contains("answer=Changed") {
        "changed".into()
    } else {
        "none".into()
    }
}

fn issue(id: &str, title: &str, status: &str) -> String {
    format!("id: {id}\ntitle: {title}\nstatus: {status}\npriority: high\nrepos: [oneiric]\n")
}

fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // A zombie waiting for a parent that is not this test: gone too.
        Ok(s) => s.rsplit(')').next().is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_monitor_vouches_for_rows_and_an_edit_no_stamp_shows_is_seen() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    let _m = Monitor::start(&env, &env.root);
    assert_eq!(answer_of(&env, &[]), "full", "no token yet: every file is checked");
    assert_eq!(answer_of(&env, &[]), "changed", "then only what changed");
    // The files are fresh (racy): without the monitor a planted row is
    // never served; with it, the monitor vouches for the row.
    assert_eq!(plant(&index_file(&env), "Routing docs", "From the index"), 1);
    assert!(titles(&env).contains(&"From the index".to_string()), "the vouched row was served");
    let mut plain = env.coord_command(&["list-issues", "--all", "--format", "json"]);
    plain.env("GIT_COORD_NO_FSMONITOR", "1");
    let plain = String::from_utf8_lossy(&plain.output().unwrap().stdout).to_string();
    assert!(!plain.contains("From the index"), "without the monitor the racy row is re-read");
    // An in-place edit that keeps size, inode and modification time: no
    // stamp can tell, the monitor does.
    age_all(&env);
    env.coord(&["list-issues"]).ok();
    let p = env.root.join("coordination/issues/ISSUE-002.yaml");
    let before = std::fs::metadata(&p).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&p).unwrap();
    std::fs::write(&p, text.replace("Login timeout", "Login TIMEOUT")).unwrap();
    set_mtime(&p, before);
    assert!(titles(&env).contains(&"Login TIMEOUT on the gateway".to_string()), "the monitor reported the edit");
    compare(&env, &env.root, "an edit no stamp shows", true);
}

#[test]
fn with_a_monitor_every_command_answers_as_without_the_index() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    let _m = Monitor::start(&env, &env.root);
    compare(&env, &env.root, "fresh files", true);
    age_all(&env);
    compare(&env, &env.root, "aged files", true);
    // An editor writing in place, twice within one clock tick.
    let p = env.root.join("coordination/issues/ISSUE-004.yaml");
    let stamp = SystemTime::now();
    std::fs::write(&p, issue("ISSUE-004", "Edit AAAA", "pending")).unwrap();
    set_mtime(&p, stamp);
    compare(&env, &env.root, "first edit", true);
    std::fs::write(&p, issue("ISSUE-004", "Edit BBBB", "pending")).unwrap();
    set_mtime(&p, stamp);
    compare(&env, &env.root, "second edit in the same tick", true);
    // Checkout, merge and stash.
    env.commit_all("edits");
    env.git(&["checkout", "-q", "-b", "topic"]).ok();
    env.coord(&["update-issue", "ISSUE-002", "--status", "blocked"]).ok();
    env.write("coordination/issues/ISSUE-009.yaml", &issue("ISSUE-009", "Only on topic", "pending"));
    env.commit_all("topic work");
    compare(&env, &env.root, "on topic", true);
    env.git(&["checkout", "-q", "main"]).ok();
    compare(&env, &env.root, "back on main", true);
    assert!(!titles(&env).contains(&"Only on topic".to_string()));
    env.git(&["merge", "-q", "--no-edit", "topic"]).ok();
    compare(&env, &env.root, "merged", true);
    env.write("coordination/issues/ISSUE-004.yaml", &issue("ISSUE-004", "Stashed edit", "pending"));
    env.git(&["stash", "-q"]).ok();
    compare(&env, &env.root, "stashed", true);
    env.git(&["stash", "pop", "-q"]).ok();
    compare(&env, &env.root, "popped", true);
    assert!(titles(&env).contains(&"Stashed edit".to_string()));
    // Deleted, replaced by a directory, broken YAML, a directory where
    // none belongs: search reports the unreadable ones as a full scan does.
    std::fs::remove_file(env.root.join("coordination/issues/ISSUE-003.yaml")).unwrap();
    compare(&env, &env.root, "a delete", true);
    let t = env.root.join("coordination/todos/TODO-003.yaml");
    std::fs::remove_file(&t).unwrap();
    std::fs::create_dir(&t).unwrap();
    compare(&env, &env.root, "a file became a directory", true);
    env.write("coordination/issues/ISSUE-010.yaml", "id: ISSUE-010\ntitle: [unclosed\n");
    compare(&env, &env.root, "broken YAML", true);
    let s = env.coord(&["search", "gateway", "--format", "json"]).json();
    assert!(s.to_string().contains("ISSUE-010"), "the broken file is reported: {s}");
    std::fs::remove_file(env.root.join("coordination/issues/ISSUE-010.yaml")).unwrap();
    compare(&env, &env.root, "broken file removed", true);
    // The whole directory replaced (a full point for the monitor).
    let issues = env.root.join("coordination/issues");
    let moved = env.root.join("issues-elsewhere");
    std::fs::rename(&issues, &moved).unwrap();
    compare(&env, &env.root, "issues directory gone", true);
    std::fs::rename(&moved, &issues).unwrap();
    compare(&env, &env.root, "issues directory back", true);
    env.write("coordination/issues/ISSUE-011.yaml", &issue("ISSUE-011", "After the move", "pending"));
    compare(&env, &env.root, "a file in the re-watched directory", true);
    assert!(titles(&env).contains(&"After the move".to_string()));
}

#[test]
fn a_dead_or_new_monitor_and_too_many_changes_mean_checking_every_file() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    let m = Monitor::start(&env, &env.root);
    compare(&env, &env.root, "with the monitor", true);
    // Killed: its socket is left behind; commands check every file.
    let pid = m.pid();
    rustix::process::kill_process(rustix::process::Pid::from_raw(pid as i32).unwrap(), rustix::process::Signal::KILL)
        .unwrap();
    wait_until("the monitor is dead", || gone(pid));
    env.write("coordination/issues/ISSUE-002.yaml", &issue("ISSUE-002", "Edited while no monitor ran", "pending"));
    compare(&env, &env.root, "a dead monitor", true);
    assert_eq!(answer_of(&env, &[]), "none");
    let status = env.coord(&["fsmonitor", "status"]).ok().to_string();
    assert!(status.contains("not running"), "{status}");
    // A new one: another generation, so the stored token is worth nothing.
    let m2 = Monitor::start(&env, &env.root);
    assert_ne!(m2.pid(), pid);
    assert_eq!(answer_of(&env, &[]), "full");
    compare(&env, &env.root, "a new monitor", true);
    // A writer that did not ask the monitor moves the rows on: its token is
    // gone, and the next command checks every file.
    env.write("coordination/issues/ISSUE-004.yaml", &issue("ISSUE-004", "Written around the monitor", "pending"));
    assert_eq!(answer_of(&env, &[("GIT_COORD_NO_FSMONITOR", "1")]), "none");
    let conn = rusqlite::Connection::open(index_file(&env)).unwrap();
    let token: Option<String> =
        conn.query_row("SELECT token FROM idx_monitor WHERE kind = 'issues'", [], |r| r.get(0)).unwrap();
    assert_eq!(token, None, "no token survives a write made without the monitor");
    assert_eq!(answer_of(&env, &[]), "full");
    compare(&env, &env.root, "after a write around the monitor", true);
    drop(m2);
    drop(m);
    // More changed names than the daemon keeps: a full point.
    let mut daemon = env.coord_spawn(&["fsmonitor", "run", "--max-changes", "2"]);
    wait_until("the daemon answers", || env.coord(&["fsmonitor", "status"]).stdout.contains("running ("));
    assert_eq!(answer_of(&env, &[]), "full");
    assert_eq!(answer_of(&env, &[]), "changed");
    for (i, id) in ["ISSUE-002", "ISSUE-003", "ISSUE-004"].iter().enumerate() {
        env.write(&format!("coordination/issues/{id}.yaml"), &issue(id, &format!("Burst {i}"), "pending"));
    }
    assert_eq!(answer_of(&env, &[]), "full");
    compare(&env, &env.root, "after a burst", true);
    env.coord(&["fsmonitor", "stop"]).ok();
    assert!(daemon.wait().unwrap().success(), "`fsmonitor run` ends cleanly on stop");
}

#[test]
fn start_stop_status_idle_timeout_and_a_removed_root() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    assert!(env.coord(&["fsmonitor", "status"]).ok().contains("not running"));
    assert!(env.coord(&["fsmonitor", "stop"]).ok().contains("no monitor is running"));
    let m = Monitor::start(&env, &env.root);
    let again = env.coord(&["fsmonitor", "start"]).ok().to_string();
    assert!(again.contains("already running"), "{again}");
    let v = env.coord(&["fsmonitor", "status", "--format", "json"]).json();
    let watching: Vec<&str> =
        v["monitor"]["watching"].as_array().unwrap().iter().map(|w| w.as_str().unwrap()).collect();
    assert!(watching.contains(&"coordination/issues"), "{v}");
    // Two daemons for one root never run: the second refuses.
    let second = env.coord(&["fsmonitor", "run"]);
    assert!(second.stderr.contains("already serves this root"), "{}", second.stderr);
    assert!(env.coord(&["fsmonitor", "stop"]).ok().contains("stopped"));
    assert!(env.coord(&["fsmonitor", "status"]).ok().contains("not running"));
    drop(m);
    // An idle daemon stops by itself.
    env.coord(&["fsmonitor", "start", "--idle-timeout", "1s"]).ok();
    let pid = Monitor { env: &env, dir: env.root.clone() }.pid();
    wait_until("the idle monitor stops", || gone(pid));
    assert!(
        !env.root
            .join(".git/git-coord")
            .read_dir()
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".sock"))
    );
    // Removing the root ends it too (nothing is left watching a deleted
    // work tree).
    let m = Monitor::start(&env, &env.root);
    let pid = m.pid();
    std::mem::forget(m);
    std::fs::remove_dir_all(&env.root).unwrap();
    wait_until("the monitor of a removed root stops", || gone(pid));
}

#[test]
fn git_config_makes_commands_start_the_monitor() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    age_all(&env);
    let running = || env.coord(&["fsmonitor", "status", "--format", "json"]).json()["running"] == true;
    let settle = || std::thread::sleep(Duration::from_millis(500));
    // Not asked for: a command starts nothing.
    env.coord(&["list-issues"]).ok();
    settle();
    assert!(!running(), "started without the configuration");
    env.git(&["config", "coord.fsmonitor", "true"]).ok();
    // Asked for, but switched off for the process: nothing either.
    assert!(env.coord_command(&["list-issues"]).env("GIT_COORD_NO_FSMONITOR", "1").output().unwrap().status.success());
    settle();
    assert!(!running(), "started although switched off");
    // A command that finds none starts one (and answers by itself), and
    // the next command asks it; the answers are those of the files.
    let before = titles(&env);
    let guard = Monitor { env: &env, dir: env.root.clone() };
    wait_until("a command started the monitor", &running);
    let first = guard.pid();
    env.coord(&["list-issues"]).ok();
    assert_eq!(answer_of(&env, &[]), "changed");
    assert_eq!(titles(&env), before);
    // Stopped, it comes back with the next command while the
    // configuration asks for it; unset, it stays stopped.
    assert!(env.coord(&["fsmonitor", "stop"]).ok().contains("stopped"));
    wait_until("the first monitor is gone", || gone(first));
    env.coord(&["list-issues"]).ok();
    wait_until("a command started it again", &running);
    assert!(env.coord(&["fsmonitor", "stop"]).ok().contains("stopped"));
    env.git(&["config", "--unset", "coord.fsmonitor"]).ok();
    env.coord(&["list-issues"]).ok();
    settle();
    assert!(!running(), "started after the configuration was removed");
}

#[test]
fn monitors_of_two_roots_in_one_repository_are_separate() {
    let env = TestEnv::new();
    for (dir, title) in [("services/a", "Alpha"), ("services/b", "Beta")] {
        env.write(&format!("{dir}/settings/ecosystem.yaml"), crate::env::ECOSYSTEM);
        env.write(&format!("{dir}/coordination/issues/ISSUE-002.yaml"), &issue("ISSUE-002", title, "pending"));
    }
    env.commit_all("two roots");
    let (a, b) = (env.root.join("services/a"), env.root.join("services/b"));
    let _ma = Monitor::start(&env, &a);
    assert!(env.coord_in(&b, &["fsmonitor", "status"]).ok().contains("not running"));
    let _mb = Monitor::start(&env, &b);
    compare(&env, &a, "root a", false);
    compare(&env, &b, "root b", false);
    env.write("services/b/coordination/issues/ISSUE-002.yaml", &issue("ISSUE-002", "Beta two", "pending"));
    compare(&env, &a, "root a after b changed", false);
    compare(&env, &b, "root b after it changed", false);
}

/// The titles `ready` lists (a graph report), as JSON.
fn ready_tasks(env: &TestEnv) -> Vec<String> {
    let v = env.coord(&["ready", "--format", "json"]).json();
    let items = v["items"].as_array().or_else(|| v.as_array()).cloned().unwrap_or_default();
    items.iter().filter_map(|i| i["task"].as_str().or_else(|| i["title"].as_str()).map(str::to_string)).collect()
}

/// Rewrites a text inside the kinds' images with one of the same length
/// (the documents are binary, lengths prefixed), so a test can tell whether
/// an image was served. Returns how many images held it.
fn plant_image(env: &TestEnv, from: &str, to: &str) -> usize {
    assert_eq!(from.len(), to.len(), "a planted text keeps its length");
    let conn = rusqlite::Connection::open(index_file(env)).unwrap();
    let images: Vec<(String, Vec<u8>)> = conn
        .prepare("SELECT kind, data FROM idx_image_data")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut planted = 0;
    for (kind, mut data) in images {
        let Some(at) = data.windows(from.len()).position(|w| w == from.as_bytes()) else { continue };
        data[at..at + from.len()].copy_from_slice(to.as_bytes());
        conn.execute("UPDATE idx_image_data SET data = ?1 WHERE kind = ?2", rusqlite::params![data, kind]).unwrap();
        planted += 1;
    }
    planted
}

#[test]
fn graph_reports_load_a_vouched_kind_from_its_image_and_never_a_stale_one() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    let _m = Monitor::start(&env, &env.root);
    // The first load under the monitor checks every file and stores the
    // token with the rows; the next makes the image.
    assert_eq!(ready_tasks(&env), ["Fix the timeout handler"]);
    assert_eq!(ready_tasks(&env), ["Fix the timeout handler"]);
    assert_eq!(plant_image(&env, "Fix the timeout handler", "From the image, planted"), 1);
    assert_eq!(ready_tasks(&env), ["From the image, planted"], "a vouched kind is read from its image");
    let mut plain = env.coord_command(&["ready", "--format", "json"]);
    plain.env("GIT_COORD_NO_FSMONITOR", "1");
    let plain = String::from_utf8_lossy(&plain.output().unwrap().stdout).to_string();
    assert!(!plain.contains("From the image"), "without the monitor no image is used: {plain}");
    // A change the monitor reports: the kind is read from its rows and
    // files, and a new image is made from them.
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: Fix the handler again\nrepo: oneiric\nstatus: pending\npriority: high\n",
    );
    assert_eq!(ready_tasks(&env), ["Fix the handler again"]);
    assert_eq!(plant_image(&env, "From the image", "From the IMAGE"), 0, "the planted image was replaced");
    compare(&env, &env.root, "after an image", true);
    // A few changed files patch the image: only they are read again (a
    // planted text in another file's entry survives), and the answers are
    // the files'.
    assert_eq!(plant_image(&env, "Write the schema", "Write the SCHEMA"), 1);
    env.write(
        "coordination/todos/TODO-002.yaml",
        "id: TODO-002\ntask: Patched in\nrepo: oneiric\nstatus: pending\npriority: high\n",
    );
    let mut cmd = env.coord_command(&["ready", "--format", "json"]);
    cmd.env("GIT_COORD_LOG", "git_coord::store::load=debug");
    let out = cmd.output().unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("from the image kind=\"todos\" files=2 changed=1"), "{log}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Patched in"));
    assert_eq!(plant_image(&env, "Write the SCHEMA", "Write the schema"), 1, "the other entry was kept, not re-read");
    compare(&env, &env.root, "after a patched image", true);
    // A new file and a removed one patch it too.
    env.write("coordination/todos/TODO-004.yaml", "id: TODO-004\ntask: New one\nrepo: oneiric\nstatus: pending\n");
    assert!(ready_tasks(&env).contains(&"New one".to_string()));
    std::fs::remove_file(env.root.join("coordination/todos/TODO-004.yaml")).unwrap();
    assert!(!ready_tasks(&env).contains(&"New one".to_string()));
    compare(&env, &env.root, "after a file came and went", true);
    // A temp file (an interrupted write) turns stale without any event: an
    // image never stands for a kind with one (the monitor names it since
    // the image's token), and none is made while it is there.
    assert_eq!(ready_tasks(&env), ["Patched in"]);
    assert_eq!(plant_image(&env, "Patched in", "Planted in"), 1);
    assert_eq!(ready_tasks(&env), ["Planted in"], "the image is served again");
    env.write("coordination/todos/.coord-AbC123.tmp", "partial");
    assert_eq!(ready_tasks(&env), ["Patched in"], "a temp file appeared: not the image");
    assert_eq!(ready_tasks(&env), ["Patched in"], "and no image is made beside it");
    compare(&env, &env.root, "a temp file beside an image", true);
    // Broken YAML in a kind: its problems are no image's, the files are read.
    std::fs::remove_file(env.root.join("coordination/todos/.coord-AbC123.tmp")).unwrap();
    env.write("coordination/todos/TODO-009.yaml", "id: TODO-009\ntask: [unclosed\n");
    env.coord(&["lint"]).fails(1);
    compare(&env, &env.root, "broken YAML beside an image", true);
}

#[test]
fn concurrent_graph_loads_writing_images_agree_with_the_files() {
    let env = TestEnv::with_ecosystem();
    corpus(&env);
    let _m = Monitor::start(&env, &env.root);
    let plain = || {
        let out = env.coord_command(&["ready", "--format", "json"]).env("GIT_COORD_NO_CACHE", "1").output().unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    for round in 0..4 {
        // Another tool edits a todo between rounds; four reports race to
        // read the kinds and write their images.
        env.write(
            "coordination/todos/TODO-002.yaml",
            &format!("id: TODO-002\ntask: Round {round}\nrepo: oneiric\nstatus: pending\npriority: high\n"),
        );
        let want = plain();
        assert!(want.contains(&format!("Round {round}")), "{want}");
        let runs: Vec<std::process::Child> = (0..4)
            .map(|_| {
                env.coord_command(&["ready", "--format", "json"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for run in runs {
            let out = run.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(String::from_utf8_lossy(&out.stdout), want, "round {round}: a racing report differs");
        }
        // And what they left behind serves the next one.
        assert_eq!(
            String::from_utf8_lossy(&env.coord_command(&["ready", "--format", "json"]).output().unwrap().stdout),
            want,
            "round {round}: after the race"
        );
    }
}
