//! `gate REPO` from a member repository's checkout, against a bare
//! coordination repository given by URL (`file://`, cloned into the cache
//! and refreshed by fetch) and by path (a bare repository, and a checkout):
//! each reason alone fails it (exit 1), nothing passes it (exit 0).

use crate::env::{Run, TestEnv};
use crate::test_check_deps::{dep, provider};
use std::path::{Path, PathBuf};

struct Setup {
    env: TestEnv,
    lib: PathBuf,
    member: PathBuf,
    bare: PathBuf,
    url: String,
    marker: PathBuf,
}

/// The coordination repo (`env.root`) with `app` needing `lib >=1.0` (lib
/// released as v1.0.0), `other` waiting on nothing yet, pushed to a bare
/// repository; `member` is app's own checkout (no coordination data).
fn setup() -> Setup {
    let env = TestEnv::new();
    let lib = provider(&env, "lib", &[("README", "lib\n")], &["v1.0.0"]);
    env.write(
        "settings/ecosystem.yaml",
        "repos:\n  - name: app\n    path: ../member\n  - name: lib\n    path: ../lib\n  - name: other\n",
    );
    let marker = env.root.parent().unwrap().join("gate-ran-a-command");
    dep(&env, "DEP-001", "provider: lib\nversion_constraint: \">=1.0\"\nstatus: satisfied\n");
    // A command approved on this machine for the checkout — never in a clone.
    env.write(
        "coordination/dependencies/DEP-002.yaml",
        &format!(
            "id: DEP-002\nconsumer: app\nprovider: other\nstatus: unknown\nvalidation:\n  command: 'touch {}'\n",
            marker.display()
        ),
    );
    env.commit_all("app needs lib");
    let member = env.root.parent().unwrap().join("member");
    std::fs::create_dir_all(&member).unwrap();
    env.git_in(&member, &["init", "-q", "-b", "main"]).ok();
    let bare = env.root.parent().unwrap().join("coord.git");
    env.git(&["init", "-q", "--bare", bare.to_str().unwrap()]).ok();
    env.git(&["remote", "add", "origin", bare.to_str().unwrap()]).ok();
    env.git(&["push", "-q", "-u", "origin", "main"]).ok();
    let url = format!("file://{}", bare.display());
    Setup { env, lib, member, bare, url, marker }
}

impl Setup {
    fn publish(&self, msg: &str) {
        self.env.commit_all(msg);
        self.env.git(&["push", "-q", "origin", "main"]).ok();
    }

    fn gate(&self, coord: &str, extra: &[&str]) -> Run {
        let mut args = vec!["gate", "app", "--coord", coord];
        args.extend_from_slice(extra);
        self.env.coord_in(&self.member, &args)
    }

    /// Runs the gate by URL, by the bare repository's path, and by the
    /// checkout's path; all must exit `code`. Returns the three runs.
    fn all(&self, extra: &[&str], code: i32) -> [Run; 3] {
        let runs = [
            self.gate(&self.url, extra),
            self.gate(self.bare.to_str().unwrap(), extra),
            self.gate(self.env.root.to_str().unwrap(), extra),
        ];
        for (how, r) in ["URL", "bare path", "checkout"].iter().zip(&runs) {
            assert_eq!(
                r.code, code,
                "gate by {how}: expected exit {code}\nstdout:\n{}\nstderr:\n{}",
                r.stdout, r.stderr
            );
        }
        runs
    }
}

fn cache_of(env: &TestEnv) -> PathBuf {
    // HOME is the test's own; XDG_CACHE_HOME is unset.
    env.root.parent().unwrap().join("home/.cache/git-coord/coord")
}

fn clones(env: &TestEnv) -> usize {
    std::fs::read_dir(cache_of(env)).map(|rd| rd.flatten().filter(|e| e.path().is_dir()).count()).unwrap_or(0)
}

#[test]
fn gate_fails_for_each_reason_and_passes_when_clean() {
    let s = setup();
    let env = &s.env;
    env.coord(&["trust", "DEP-002"]).ok();

    // Clean: exit 0 every way.
    let [by_url, _, by_checkout] = s.all(&[], 0);
    assert!(by_url.stdout.starts_with("gate app: passes (2 dependencies checked)"), "{}", by_url.stdout);
    assert_eq!(clones(env), 1, "the URL and the bare path share one cached clone");
    // The checkout's own approval lets its command run there; the clone
    // carries no approval, so nothing ran from it — and it says so.
    assert!(by_checkout.stderr.is_empty(), "{}", by_checkout.stderr);
    assert!(s.marker.exists(), "the approved command runs from the checkout");
    std::fs::remove_file(&s.marker).unwrap();
    s.gate(&s.url, &[]).ok();
    assert!(!s.marker.exists(), "gate ran a command from a clone nobody approved it in");
    assert!(s.gate(&s.url, &[]).stderr.contains("fresh clone, which carries no approvals"));

    // An unsatisfied dependency of app. The checkout sees lib's version;
    // the clones cannot (no lib next to the cache), so they go by the stored
    // status, which check-deps --update writes where lib is checked out.
    env.git_in(&s.lib, &["tag", "-d", "v1.0.0"]).ok();
    env.git_in(&s.lib, &["tag", "v0.9.0"]).ok();
    let run = s.gate(env.root.to_str().unwrap(), &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(
        run.stdout,
        "gate app: fails, 1 reason(s):\n  unsatisfied dependency DEP-001: app needs lib: 0.9.0 (tag v0.9.0) does \
         not satisfy >=1.0\n"
    );
    s.gate(&s.url, &[]).ok();
    env.coord(&["check-deps", "--id", "DEP-001", "--update"]).fails(1);
    s.publish("DEP-001 found unsatisfied");
    let [by_url, by_bare, by_checkout] = s.all(&[], 1);
    for r in [&by_url, &by_bare] {
        assert!(
            r.stdout.contains(
                "unsatisfied dependency DEP-001: app needs lib: stored status unsatisfied, not confirmed here"
            ),
            "the clone was refreshed by fetch: {}",
            r.stdout
        );
    }
    assert!(
        by_checkout.stdout.contains("DEP-001: app needs lib: 0.9.0 (tag v0.9.0) does not satisfy >=1.0"),
        "{}",
        by_checkout.stdout
    );
    env.git_in(&s.lib, &["tag", "v1.0.0"]).ok();
    env.coord(&["check-deps", "--id", "DEP-001", "--update"]).ok();
    s.publish("DEP-001 satisfied again");
    s.all(&[], 0);

    // An open critical issue naming app (a critical one elsewhere does not count).
    env.coord(&["create-issue", "--title", "Auth is broken", "--repos", "app", "--priority", "critical"]).ok();
    env.coord(&["create-issue", "--title", "Not ours", "--repos", "other", "--priority", "critical"]).ok();
    s.publish("critical");
    let [by_url, ..] = s.all(&[], 1);
    assert_eq!(by_url.stdout, "gate app: fails, 1 reason(s):\n  critical issue ISSUE-001: Auth is broken (pending)\n");
    let md = s.gate(&s.url, &["--format", "markdown"]);
    assert_eq!(md.code, 1);
    assert!(md.stdout.starts_with("### ❌ git coord gate: `app` fails (1 reasons)\n"), "{}", md.stdout);
    assert!(md.stdout.contains("| critical issue | `ISSUE-001` | Auth is broken (pending) |"), "{}", md.stdout);
    env.coord(&["close-issue", "ISSUE-001"]).ok();
    s.publish("fixed");
    s.all(&[], 0);

    // Overdue work of app that other waits on: only with --blocking.
    env.coord(&["create-issue", "--title", "API v2", "--repos", "app", "--target", "2026-02-01"]).ok();
    env.coord(&["create-todo", "--task", "Adopt API v2", "--repo", "other", "--blocked-by", "ISSUE-003"]).ok();
    s.publish("other waits on app");
    s.all(&[], 0);
    let [by_url, ..] = s.all(&["--blocking"], 1);
    assert!(
        by_url
            .stdout
            .contains("overdue blocking work ISSUE-003: blocks TODO-001 (other); overdue since 2026-02-01 (target)"),
        "{}",
        by_url.stdout
    );
    let md = s.gate(&s.url, &["--blocking", "--format", "markdown"]);
    assert!(md.stdout.contains("| overdue blocking work | `ISSUE-003` |"), "{}", md.stdout);
    env.coord(&["update-issue", "ISSUE-003", "--target", "2026-04-01"]).ok();
    s.publish("new date");
    let [by_url, ..] = s.all(&["--blocking"], 0);
    let md = s.gate(&s.url, &["--blocking", "--format", "markdown"]);
    assert!(md.stdout.starts_with("### ✅ git coord gate: `app` passes"), "{}", md.stdout);
    assert!(by_url.stdout.starts_with("gate app: passes"), "{}", by_url.stdout);

    // Refused: transports that run programs, and things that are neither.
    let bad = s.gate("ext::sh -c touch% /tmp/x", &[]);
    assert!(bad.fails(1).contains("error: --coord: `ext::sh -c touch% /tmp/x` is not valid"), "{}", bad.stderr);
    assert!(bad.stderr.contains("not a git remote helper"), "{}", bad.stderr);
    let missing = s.gate("../nowhere", &[]);
    assert!(missing.fails(1).contains("(expected an existing directory or a URL)"), "{}", missing.stderr);
    assert!(Path::new(&cache_of(env)).is_dir());
}
