//! Real services the tests talk to, started once per test binary and
//! stopped when it exits: Session-Buddy (the memory service, and the pool
//! service). Its executable comes from `GIT_COORD_SESSION_BUDDY` (set by
//! `scripts/test`); without it a test prints "skipped: …" and returns, or
//! fails when `GIT_COORD_REQUIRE_SERVICES=1`.
//!
//! Session-Buddy 0.23.0 always listens on 127.0.0.1:8678 (its CLI takes no
//! host or port), so there is one instance per test binary, shared: tests
//! take [`SessionBuddy::lock`] to use it one at a time, and tell their data
//! apart by unique text. It runs with HOME in a temp directory (its data
//! goes there), in its own process group, killed at exit.

#![allow(dead_code)] // not every test module uses every service

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// Where Session-Buddy answers MCP.
pub const SESSION_BUDDY_URL: &str = "http://127.0.0.1:8678/mcp";

/// Returns `None` (after printing "skipped: <why>") when a service is not
/// installed, and panics instead when `GIT_COORD_REQUIRE_SERVICES=1`.
pub fn missing(why: &str) -> Option<std::convert::Infallible> {
    if std::env::var("GIT_COORD_REQUIRE_SERVICES").as_deref() == Ok("1") {
        panic!("required service missing: {why} (GIT_COORD_REQUIRE_SERVICES=1; run scripts/test)");
    }
    eprintln!("skipped: {why}");
    None
}

/// The shared Session-Buddy.
pub struct SessionBuddy {
    pub url: &'static str,
    /// Its HOME (its data lives under it).
    pub home: PathBuf,
}

static SB: OnceLock<Result<SessionBuddy, String>> = OnceLock::new();
static SB_LOCK: Mutex<()> = Mutex::new(());
impl SessionBuddy {
    /// Starts Session-Buddy (once) and returns it with a guard that keeps
    /// other tests off it; `None` when it is not installed (see [`missing`]).
    pub fn lock() -> Option<(&'static SessionBuddy, MutexGuard<'static, ()>)> {
        let Ok(exe) = std::env::var("GIT_COORD_SESSION_BUDDY") else {
            missing("Session-Buddy is not installed (GIT_COORD_SESSION_BUDDY is unset; scripts/test installs it)")?;
            unreachable!()
        };
        let guard = SB_LOCK.lock().unwrap_or_else(|p| p.into_inner());
        match SB.get_or_init(|| start(&exe)) {
            Ok(sb) => Some((sb, guard)),
            Err(e) => panic!("Session-Buddy did not start: {e}"),
        }
    }
}

fn start(exe: &str) -> Result<SessionBuddy, String> {
    if std::net::TcpStream::connect("127.0.0.1:8678").is_ok() {
        return Err("something already listens on 127.0.0.1:8678".into());
    }
    let home = tempfile::Builder::new().prefix("session-buddy-home").tempdir().map_err(|e| e.to_string())?.keep();
    let log = std::fs::File::create(home.join("server.log")).map_err(|e| e.to_string())?;
    // A watchdog shell leads the service's process group and waits on a
    // pipe from this test binary: when the binary exits — normally, by a
    // panic or killed — the pipe closes and the shell kills the whole group,
    // so no service outlives the tests.
    //
    // `session-buddy start` serves a reduced tool set (its
    // `server_optimized` module) without the pool tools: they are added to
    // that same server (its own `register_pool_tools`) before its own start
    // handler runs it.
    let python = std::path::Path::new(exe).with_file_name("python");
    let start = "import session_buddy.server_optimized as s; \
                 from session_buddy.mcp.tools.infrastructure.pools import register_pool_tools; \
                 register_pool_tools(s.mcp); \
                 from session_buddy.cli_with_modes import start_server_handler; start_server_handler()";
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "\"$0\" -c \"$1\" </dev/null & read _; kill -KILL 0"])
        .arg(&python)
        .arg(start)
        .env("HOME", &home)
        .current_dir(&home)
        .stdin(Stdio::piped())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log);
    use std::os::unix::process::CommandExt;
    cmd.process_group(0);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    // Kept open for the life of the binary (closed by the OS at exit).
    std::mem::forget(child.stdin.take());
    // Ready when MCP `initialize` succeeds (its /health says "failed" offline).
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let mut sb = git_coord::memory::sinks::SessionBuddy::new(SESSION_BUDDY_URL).map_err(|e| e.to_string())?;
        match sb.initialize() {
            Ok(()) => break,
            Err(e) if Instant::now() > deadline => {
                let log = std::fs::read_to_string(home.join("server.log")).unwrap_or_default();
                return Err(format!("no MCP initialize after 180 s: {e}\n{log}"));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(500)),
        }
    }
    Ok(SessionBuddy { url: SESSION_BUDDY_URL, home })
}
