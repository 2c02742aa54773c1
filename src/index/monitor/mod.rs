//! The file-system monitor: a daemon per coordination root that watches the
//! entity directories with inotify and tells a command which files changed
//! since the index last agreed with them, so a command need not `lstat`
//! every entity file to validate the index — what git's `core.fsmonitor`
//! does for git's own index.
//!
//! It is opt-in (`git coord fsmonitor start`, or `git config
//! coord.fsmonitor true` for commands to start it themselves,
//! [`start_if_wanted`]) and never changes an answer:
//! a command that cannot reach it, or gets any reply but a well-formed one,
//! validates every file as without it ([`crate::index`]).
//!
//! **Protocol** (one request per connection on a Unix socket in the git
//! directory, lines of text): `since <token>` → `ok <token>` followed by the
//! changed names (paths under `coordination/`, e.g. `issues/ISSUE-7.yaml`),
//! one per line, then an empty line; or `full <token>` and an empty line
//! when the daemon cannot vouch for anything since that token (another
//! daemon's token, a queue overflow, a directory replaced, too many
//! changes). A token is `<generation>:<seq>`: the generation is random per
//! daemon start, the sequence counts the changes it saw.
//!
//! **No edit is missed** that finished before the request: before answering,
//! the daemon creates a *cookie* file in a watched directory of the git
//! directory and waits until its own watcher reads that file's event; events
//! reach one inotify queue in the order they happen, so every earlier edit
//! has been counted by then (git's fsmonitor does the same).
//!
//! Limits (documented in docs/ARCHITECTURE.md): inotify sees changes made
//! through this machine's kernel only (not another NFS client's), and not
//! writes through a shared `mmap`; a file hard-linked from elsewhere and
//! changed through the other name is not seen. Those setups must not start
//! the monitor.

pub mod daemon;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How long a command waits for the daemon before validating every file.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest socket path a `sockaddr_un` takes on Linux (with its NUL).
const MAX_SOCKET_PATH: usize = 107;

/// The files of one root's monitor in the git directory.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The socket commands connect to.
    pub socket: PathBuf,
    /// Held (flock) by the running daemon: at most one per root.
    pub lock: PathBuf,
    /// Where the daemon creates its cookies.
    pub cookies: PathBuf,
}

impl Paths {
    /// The monitor files of the coordination root at `prefix` (its path in
    /// the repository) of the work tree whose git directory is `git_dir`.
    pub fn of(git_dir: &Path, prefix: &str) -> Paths {
        use sha2::Digest;
        let key = super::root_key(prefix);
        let digest = sha2::Sha256::digest(key.as_bytes());
        let short: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        let dir = git_dir.join("git-coord");
        Paths {
            socket: dir.join(format!("fsmonitor-{short}.sock")),
            lock: dir.join(format!("fsmonitor-{short}.lock")),
            cookies: dir.join(format!("fsmonitor-{short}.cookies")),
        }
    }

    /// False when the socket path is too long for a Unix socket (then no
    /// monitor can serve this root).
    pub fn usable(&self) -> bool {
        self.socket.as_os_str().len() < MAX_SOCKET_PATH
    }
}

/// True when commands must not ask the monitor
/// (`GIT_COORD_NO_FSMONITOR=1`): every file is validated, as without one.
pub fn disabled() -> bool {
    std::env::var_os("GIT_COORD_NO_FSMONITOR").is_some_and(|v| v != "0")
}

/// What the daemon answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Only these names (under `coordination/`) may have changed since the
    /// token asked about; `token` is the one to ask with next time.
    Changed { token: String, names: Vec<String> },
    /// Nothing can be vouched for: validate every file; then `token`.
    Full { token: String },
}

impl Answer {
    /// The token to store once the index agrees with the files again.
    pub fn token(&self) -> &str {
        match self {
            Answer::Changed { token, .. } | Answer::Full { token } => token,
        }
    }
}

/// Asks the monitor of a root which files changed since `since` (a token
/// from an earlier answer; `None` when there is none). `None` when no
/// monitor answers well-formed in time: the caller validates every file.
pub fn query(paths: &Paths, since: Option<&str>) -> Option<Answer> {
    if !paths.usable() || disabled() {
        return None;
    }
    let answer = request(&paths.socket, &format!("since {}", since.unwrap_or("none"))).ok()?;
    parse_answer(&answer)
}

fn parse_answer(lines: &[String]) -> Option<Answer> {
    let (head, names) = lines.split_first()?;
    let (word, token) = head.split_once(' ')?;
    parse_token(token)?;
    match word {
        "ok" => Some(Answer::Changed { token: token.to_string(), names: names.to_vec() }),
        "full" if names.is_empty() => Some(Answer::Full { token: token.to_string() }),
        _ => None,
    }
}

/// A token's (generation, sequence), if well-formed.
pub fn parse_token(token: &str) -> Option<(u64, u64)> {
    let (g, s) = token.split_once(':')?;
    Some((u64::from_str_radix(g, 16).ok()?, s.parse().ok()?))
}

/// Sends one request line and reads the reply up to its empty line.
fn request(socket: &Path, line: &str) -> std::io::Result<Vec<String>> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    stream.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    stream.write_all(format!("{line}\n").as_bytes())?;
    let mut out = Vec::new();
    for l in BufReader::new(stream).lines() {
        let l = l?;
        if l.is_empty() {
            return Ok(out);
        }
        out.push(l);
    }
    Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the monitor closed the connection mid-answer"))
}

/// What a running monitor says about itself.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Status {
    pub pid: u32,
    pub token: String,
    /// Names changed since the last full point, remembered for answers.
    pub changes: usize,
    /// Directories watched (paths under the root).
    pub watching: Vec<String>,
    pub uptime_seconds: u64,
}

/// The status of the root's monitor; `Ok(None)` when none runs.
pub fn status(paths: &Paths) -> std::io::Result<Option<Status>> {
    if !paths.socket.exists() {
        return Ok(None);
    }
    let lines = match request(&paths.socket, "status") {
        Ok(l) => l,
        Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound) => {
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    let field = |k: &str| lines.iter().find_map(|l| l.strip_prefix(k).and_then(|r| r.strip_prefix(' ')));
    let num = |k: &str| field(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    Ok(Some(Status {
        pid: num("pid") as u32,
        token: field("token").unwrap_or_default().to_string(),
        changes: num("changes") as usize,
        watching: field("watching").map(|w| w.split(' ').map(str::to_string).collect()).unwrap_or_default(),
        uptime_seconds: num("uptime"),
    }))
}

/// Asks the root's monitor to stop; true when one was running and agreed.
pub fn stop(paths: &Paths) -> bool {
    paths.socket.exists() && request(&paths.socket, "stop").is_ok_and(|l| l.first().is_some_and(|w| w == "bye"))
}

/// The git configuration key that starts the monitor by itself
/// (`git config coord.fsmonitor true`, as git's `core.fsmonitor`): a command
/// that finds no monitor for its root starts one in the background and
/// validates every file itself this time; the next command asks the
/// monitor. Read from git's configuration (the repository's, the user's,
/// the system's), never from a tracked file.
pub const AUTO_START_KEY: &str = "coord.fsmonitor";

/// How long a monitor started by [`AUTO_START_KEY`] waits for a question
/// before it stops (as `fsmonitor start`'s default).
pub const AUTO_START_IDLE: Duration = Duration::from_secs(8 * 3600);

/// Whether `git_dir`'s configuration asks for the monitor to be started by
/// itself ([`AUTO_START_KEY`]).
pub fn auto_start_wanted(git_dir: &Path) -> bool {
    // Read once per process and repository (a command asks once per kind).
    static READ: std::sync::Mutex<Option<(PathBuf, bool)>> = std::sync::Mutex::new(None);
    let mut read = READ.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((dir, wanted)) = read.as_ref()
        && dir == git_dir
    {
        return *wanted;
    }
    let wanted = gix::open(git_dir).ok().and_then(|r| r.config_snapshot().boolean(AUTO_START_KEY)).unwrap_or(false);
    *read = Some((git_dir.to_path_buf(), wanted));
    wanted
}

/// Starts the monitor of the coordination root `root` when none runs and
/// the configuration asks for it ([`AUTO_START_KEY`]), at most once per
/// process, without waiting for it; true when one was started.
pub fn start_if_wanted(root: &Path, git_dir: &Path, paths: &Paths) -> bool {
    use std::sync::atomic::{AtomicBool, Ordering};
    static TRIED: AtomicBool = AtomicBool::new(false);
    if TRIED.load(Ordering::SeqCst)
        || !paths.usable()
        || disabled()
        || !auto_start_wanted(git_dir)
        || matches!(status(paths), Ok(Some(_)) | Err(_))
        || TRIED.swap(true, Ordering::SeqCst)
    {
        return false;
    }
    match spawn(root, AUTO_START_IDLE) {
        Ok(pid) => {
            tracing::debug!(pid, "started the monitor ({AUTO_START_KEY})");
            true
        }
        Err(e) => {
            tracing::debug!(error = %e, "the monitor could not be started");
            false
        }
    }
}

/// Starts `git-coord fsmonitor run` for the coordination root `root` in a
/// session of its own (a terminal's hang-up does not reach it), its output
/// discarded; returns its pid. A second daemon for a root exits at once
/// (the first holds the lock).
pub fn spawn(root: &Path, idle: Duration) -> std::io::Result<u32> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()?;
    // Only this program runs the daemon: a process that merely links the
    // library (a test harness) has no `fsmonitor run`.
    if !exe.file_name().is_some_and(|n| n.to_string_lossy().starts_with("git-coord")) {
        return Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "not the git-coord program"));
    }
    let mut cmd = std::process::Command::new(exe);
    // Started in `/`, as daemons are: a working directory inside the root
    // would keep it alive (its removal would never be reported).
    cmd.current_dir("/")
        .arg("-C")
        .arg(root)
        .args(["fsmonitor", "run", "--idle-timeout", &format!("{}s", idle.as_secs().max(1))])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    // SAFETY: setsid is a single system call (async-signal-safe) and
    // touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            let _ = rustix::process::setsid();
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let pid = child.id();
    // Reaped when it ends, so it never lingers as a zombie of this process.
    std::thread::spawn(move || child.wait());
    Ok(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_and_reject_garbage() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_answer(&l(&["ok 1f:7", "issues/ISSUE-1.yaml"])),
            Some(Answer::Changed { token: "1f:7".into(), names: vec!["issues/ISSUE-1.yaml".into()] })
        );
        assert_eq!(parse_answer(&l(&["full 1f:9"])), Some(Answer::Full { token: "1f:9".into() }));
        assert_eq!(parse_answer(&l(&["full 1f:9", "x"])), None);
        assert_eq!(parse_answer(&l(&["ok nonsense"])), None);
        assert_eq!(parse_answer(&l(&["maybe 1:2"])), None);
        assert_eq!(parse_answer(&[]), None);
        assert_eq!(parse_token("ff:12"), Some((255, 12)));
        assert_eq!(parse_token("ff"), None);
    }
}
