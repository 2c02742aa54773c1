//! The hermetic test environment: a temp directory holding a real git
//! repository, driven through the real `git` binary and the real
//! `git-coord` binary, with global config, HOME, dates and the clock pinned.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The fixed "today" of every test (`GIT_COORD_NOW`).
pub const TODAY: &str = "2026-03-01";

/// The result of running a command.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        &self.stdout
    }

    /// Asserts the exit code and returns stderr.
    #[track_caller]
    pub fn fails(&self, code: i32) -> &str {
        assert_eq!(self.code, code, "expected exit {code}\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        &self.stderr
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        self.ok();
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }

    /// The entity of a `show-*` or write command's JSON (`{id, kind, path,
    /// entity, …}`, docs/JSON.md).
    #[track_caller]
    #[allow(dead_code)] // not every test module needs it
    pub fn entity(&self) -> serde_json::Value {
        let v = self.json();
        assert!(v["kind"].is_string() && v["path"].is_string(), "not a show/write result: {v}");
        v["entity"].clone()
    }

    /// The entities of a `list-*` command's JSON (`{count, items}`).
    #[track_caller]
    #[allow(dead_code)] // not every test module needs it
    pub fn items(&self) -> serde_json::Value {
        let v = self.json();
        assert_eq!(v["count"].as_u64().map(|n| n as usize), v["items"].as_array().map(Vec::len), "{v}");
        v["items"].clone()
    }
}

/// A temp git repository plus the environment to run commands in it.
pub struct TestEnv {
    _tmp: tempfile::TempDir,
    /// The repository (work tree root).
    pub root: PathBuf,
    home: PathBuf,
    extra_env: Vec<(String, String)>,
}

impl TestEnv {
    /// Git checkouts `names` (one empty commit each) beside the
    /// coordination repository, and an empty `marks` directory there for
    /// commands to leave evidence in; returns the marks directory.
    pub fn sibling_checkouts(&self, names: &[&str]) -> PathBuf {
        let base = self.root.parent().unwrap().to_path_buf();
        for r in names {
            let d = base.join(r);
            std::fs::create_dir_all(&d).unwrap();
            self.git_in(&d, &["init", "-q", "-b", "main"]).ok();
            self.git_in(&d, &["commit", "-q", "--allow-empty", "-m", "init"]).ok();
        }
        let marks = base.join("marks");
        std::fs::create_dir_all(&marks).unwrap();
        marks
    }

    /// Writes a pending todo `id` of `repo` (task "task ID") with `extra` lines.
    pub fn pending_todo(&self, id: &str, repo: &str, extra: &str) {
        self.write(
            &format!("coordination/todos/{id}.yaml"),
            &format!("id: {id}\ntask: task {id}\nrepo: {repo}\nstatus: pending\n{extra}"),
        );
    }

    /// The stored status of todo `id`.
    pub fn todo_status(&self, id: &str) -> String {
        let v: serde_yaml::Value = serde_yaml::from_str(&self.read(&format!("coordination/todos/{id}.yaml"))).unwrap();
        v["status"].as_str().unwrap().to_string()
    }

    /// The todo's status once it is `want`, or what it is after 10 s (a
    /// run sets a todo `in_progress` a moment after its task started).
    pub fn wait_todo_status(&self, id: &str, want: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let now = self.todo_status(id);
            if now == want || std::time::Instant::now() > deadline {
                return now;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// An empty git repository with one empty commit on `main`.
    pub fn new() -> TestEnv {
        let tmp = tempfile::tempdir().expect("tempdir");
        let base = tmp.path().canonicalize().expect("canonical tmp");
        let home = base.join("home");
        let root = base.join("repo");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(
            home.join(".gitconfig"),
            "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
        )
        .unwrap();
        let env = TestEnv { _tmp: tmp, root, home, extra_env: Vec::new() };
        env.git(&["init", "-q", "-b", "main"]).ok();
        env
    }

    /// A repository with the small example ecosystem committed.
    pub fn with_ecosystem() -> TestEnv {
        let env = TestEnv::new();
        env.write("settings/ecosystem.yaml", ECOSYSTEM);
        env.commit_all("ecosystem");
        env
    }

    /// Sets an extra environment variable for later commands.
    #[allow(dead_code)] // not every test module needs it
    pub fn set_env(&mut self, k: &str, v: &str) {
        self.extra_env.push((k.into(), v.into()));
    }

    fn apply_env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_DATE", "2026-03-01T10:00:00+00:00")
            .env("GIT_COMMITTER_DATE", "2026-03-01T10:00:00+00:00")
            .env("GIT_COORD_NOW", TODAY)
            .env("NO_COLOR", "1")
            .env("LANG", "C.UTF-8");
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
    }

    fn run(&self, mut cmd: Command, dir: &Path) -> Run {
        self.apply_env(&mut cmd);
        cmd.current_dir(dir);
        let out = cmd.output().expect("spawn");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Creates a bare `origin.git` next to the repository, adds it as
    /// `origin` and pushes `main` to it (with upstream): the shared remote
    /// of sync, history and MCP tests. Returns the bare repository.
    #[allow(dead_code)] // not every test module needs it
    pub fn add_origin(&self) -> PathBuf {
        let bare = self.root.parent().unwrap().join("origin.git");
        self.git(&["init", "-q", "--bare", bare.to_str().unwrap()]).ok();
        self.git(&["remote", "add", "origin", bare.to_str().unwrap()]).ok();
        self.git(&["push", "-q", "-u", "origin", "main"]).ok();
        bare
    }

    /// Runs `git-coord ARGS` at the repository root.
    pub fn coord(&self, args: &[&str]) -> Run {
        self.coord_in(&self.root, args)
    }

    /// Runs `git-coord ARGS` in a directory.
    pub fn coord_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_git-coord"));
        cmd.args(args);
        self.run(cmd, dir)
    }

    /// Starts `git-coord ARGS` at the repository root without waiting.
    pub fn coord_spawn(&self, args: &[&str]) -> std::process::Child {
        self.coord_spawn_in(&self.root, args)
    }

    /// Starts `git-coord ARGS` in a directory without waiting.
    pub fn coord_spawn_in(&self, dir: &Path, args: &[&str]) -> std::process::Child {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_git-coord"));
        cmd.args(args).current_dir(dir).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        self.apply_env(&mut cmd);
        cmd.spawn().expect("spawn git-coord")
    }

    /// A `git-coord ARGS` command at the repository root in the hermetic
    /// environment, for tests that drive its stdin/stdout (the MCP server).
    #[allow(dead_code)] // not every test module needs it
    pub fn coord_command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_git-coord"));
        cmd.args(args).current_dir(&self.root);
        self.apply_env(&mut cmd);
        cmd
    }

    /// Runs `sh -c SCRIPT` at the repository root in the hermetic
    /// environment, with the binary under test first on `PATH` (so `git
    /// coord` in the script runs it), plus `vars`: a CI step as CI runs it.
    #[allow(dead_code)] // not every test module needs it
    pub fn sh(&self, script: &str, vars: &[(&str, &Path)]) -> Run {
        let bin = Path::new(env!("CARGO_BIN_EXE_git-coord")).parent().expect("bin dir").to_path_buf();
        let mut path = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect::<Vec<_>>();
        path.insert(0, bin);
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(script);
        self.apply_env(&mut cmd);
        cmd.env("PATH", std::env::join_paths(path).expect("PATH"));
        for (k, v) in vars {
            cmd.env(k, v);
        }
        cmd.current_dir(&self.root);
        let out = cmd.output().expect("spawn sh");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs `git ARGS` at the repository root.
    pub fn git(&self, args: &[&str]) -> Run {
        self.git_in(&self.root, args)
    }

    /// Runs `git ARGS` in a directory.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = Command::new("git");
        cmd.args(args);
        self.run(cmd, dir)
    }

    /// Writes a file (creating directories).
    pub fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Writes a file under another directory (creating directories).
    #[allow(dead_code)] // not every test module needs it
    pub fn write_in(&self, dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    /// Reads a file.
    #[track_caller]
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Reads a file under another directory.
    #[allow(dead_code)] // not every test module needs it
    #[track_caller]
    pub fn read_in(&self, dir: &Path, rel: &str) -> String {
        std::fs::read_to_string(dir.join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// True if the file exists.
    pub fn exists(&self, rel: &str) -> bool {
        self.root.join(rel).exists()
    }

    /// `git add -A && git commit`.
    pub fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]).ok();
        self.git(&["commit", "-q", "--allow-empty", "-m", msg]).ok();
    }

    /// `git add -A && git commit` with author and committer date `date`
    /// (RFC 3339), so commits are ordered in time.
    #[allow(dead_code)] // not every test module needs it
    pub fn commit_all_at(&self, msg: &str, date: &str) {
        self.commit_all_by(msg, date, "Test User", "test@example.com");
    }

    /// Like [`TestEnv::commit_all_at`], by another author.
    #[allow(dead_code)] // not every test module needs it
    pub fn commit_all_by(&self, msg: &str, date: &str, name: &str, email: &str) {
        self.git(&["add", "-A"]).ok();
        let mut cmd = Command::new("git");
        cmd.args(["commit", "-q", "--allow-empty", "-m", msg]);
        self.apply_env(&mut cmd);
        cmd.env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .env("GIT_AUTHOR_NAME", name)
            .env("GIT_AUTHOR_EMAIL", email)
            .current_dir(&self.root);
        let out = cmd.output().expect("spawn git");
        assert!(out.status.success(), "git commit failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Changed lines of `git diff` (`+`/`-` lines without the file headers).
    pub fn changed_lines(&self) -> Vec<String> {
        let d = self.git(&["diff", "--no-color", "-U0"]).ok().to_string();
        d.lines()
            .filter(|l| (l.starts_with('+') || l.starts_with('-')) && !l.starts_with("+++") && !l.starts_with("---"))
            .map(String::from)
            .collect()
    }
}

/// The entities a `list-*` command prints as JSON, or the entity of a
/// `show-*` or write command.
pub fn json(env: &TestEnv, args: &[&str]) -> serde_json::Value {
    let mut full = args.to_vec();
    full.extend_from_slice(&["--format", "json"]);
    let run = env.coord(&full);
    if args[0].starts_with("list-") { run.items() } else { run.entity() }
}

/// The `id`s of a JSON array of entities, in order.
pub fn ids(v: &serde_json::Value) -> Vec<String> {
    v.as_array().expect("a JSON array").iter().map(|e| e["id"].as_str().expect("an id").to_string()).collect()
}

/// A small ecosystem: three repos (with nicknames), two roles, and a legacy
/// coordination section with one issue and one todo.
pub const ECOSYSTEM: &str = r#"# The example ecosystem
repos:
  - name: mahavishnu
    nickname: vishnu
    path: ../mahavishnu
    role: orchestrator
    tags: [python, core]
    description: Orchestrator
  - name: session-buddy
    nicknames: [buddy, sb]
    path: ../session-buddy
    role: memory
    description: Memory service
  - name: oneiric
    path: ../oneiric
    role: config
    description: Configuration and lifecycle

roles:
  - name: orchestrator
    description: Runs workflows
    capabilities: [dispatch]
  - name: memory
    description: Stores memories

coordination:
  issues:
    - id: ISSUE-001
      title: "Legacy issue"
      status: open
      priority: P1
      repos: [mahavishnu]
      created_at: "2026-01-05"
  todos:
    - id: TODO-001
      title: "Legacy todo"
      repo: buddy
      status: done
      estimate_hours: 4
"#;
