//! The monitor daemon ([`super`]): an inotify watcher thread counting
//! changes, and a socket server answering `since`, `status` and `stop`.
//!
//! What it watches: the coordination root (for `coordination/` itself
//! appearing or going), `coordination/` (for the entity directories
//! appearing or going), every entity directory (any change to any name in
//! it), and its cookie directory. Anything it cannot account for file by
//! file — a queue overflow, an entity directory created, removed or
//! replaced, more changed names than it keeps — is a *full point*: tokens
//! from before it get `full`. The daemon stops on `stop`, after its idle
//! time without a request, or when the root itself is removed.

use super::Paths;
use crate::error::{Error, Result};
use crate::model::Kind;
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::fs::{FlockOperation, flock};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How a daemon runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The coordination root (holds `coordination/`).
    pub root: PathBuf,
    /// The monitor's files.
    pub paths: Paths,
    /// Stop after this long without a request.
    pub idle: Duration,
    /// Changed names kept for answers before the daemon falls back to a
    /// full point (a bound on its memory).
    pub max_changes: usize,
}

/// What a watch descriptor watches.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Root,
    Coord,
    Kind(&'static str),
    Cookies,
}

struct State {
    generation: u64,
    seq: u64,
    /// Tokens with a lower sequence get `full`.
    full_seq: u64,
    /// Name under `coordination/` → the sequence of its last change.
    changes: HashMap<String, u64>,
    /// Cookies whose event the watcher has read.
    cookies: std::collections::HashSet<String>,
    last_request: Instant,
    stopping: bool,
    watching: Vec<String>,
}

impl State {
    fn full_point(&mut self) {
        self.seq += 1;
        self.full_seq = self.seq;
        self.changes.clear();
    }

    fn token(&self) -> String {
        format!("{:x}:{}", self.generation, self.seq)
    }
}

type Shared = Arc<(Mutex<State>, Condvar)>;

/// Ends the accept loop from another thread: shutting a listening socket
/// down makes a blocked `accept` return (on Linux), even when its socket
/// file is gone (a removed root).
struct Waker(UnixListener);

impl Waker {
    fn wake(&self) {
        let _ = rustix::net::shutdown(&self.0, rustix::net::Shutdown::Read);
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, State> {
    shared.0.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs the daemon until it stops. Errors when another daemon already
/// serves the root, or the socket or watches cannot be set up.
pub fn run(opts: &Options) -> Result<()> {
    START.get_or_init(Instant::now);
    let paths = &opts.paths;
    if !paths.usable() {
        return Err(Error::system(
            "start the file-system monitor",
            format!("the socket path {} is too long for a Unix socket", paths.socket.display()),
        ));
    }
    let dir = paths.socket.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let lock_file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&paths.lock)
        .map_err(|e| Error::io(&paths.lock, e))?;
    if flock(&lock_file, FlockOperation::NonBlockingLockExclusive).is_err() {
        return Err(Error::system(
            "start the file-system monitor",
            format!("another monitor already serves this root ({} is locked)", paths.lock.display()),
        ));
    }
    // Under the lock, a socket file left behind is a dead daemon's.
    let _ = std::fs::remove_file(&paths.socket);
    let _ = std::fs::remove_dir_all(&paths.cookies);
    std::fs::create_dir_all(&paths.cookies).map_err(|e| Error::io(&paths.cookies, e))?;
    let fd = inotify::init(CreateFlags::CLOEXEC)
        .map_err(|e| Error::system("start the file-system monitor (inotify)", std::io::Error::from(e)))?;
    let shared: Shared = Arc::new((
        Mutex::new(State {
            generation: fastrand::u64(1..),
            seq: 0,
            full_seq: 0,
            changes: HashMap::new(),
            cookies: Default::default(),
            last_request: Instant::now(),
            stopping: false,
            watching: Vec::new(),
        }),
        Condvar::new(),
    ));
    let mut watcher = Watcher { fd, root: opts.root.clone(), cookies: paths.cookies.clone(), wds: HashMap::new() };
    watcher.watch_all(&shared)?;
    let listener = UnixListener::bind(&paths.socket).map_err(|e| Error::io(&paths.socket, e))?;
    let waker = Arc::new(Waker(listener.try_clone().map_err(|e| Error::io(&paths.socket, e))?));
    {
        let shared = shared.clone();
        let max = opts.max_changes;
        let waker = waker.clone();
        std::thread::spawn(move || watcher.run(&shared, max, &waker));
    }
    // Ours while it has this inode: a socket file removed or replaced (the
    // git directory deleted, another daemon after a forced removal) ends
    // this one, as does the root going away. (The root's own removal is
    // not reported by inotify while this process holds a file below it
    // open — its lock — so this is checked every second.)
    let socket_ino = std::fs::metadata(&paths.socket).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).ok();
    let ours = {
        let socket = paths.socket.clone();
        move || std::fs::metadata(&socket).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).ok() == socket_ino
    };
    {
        let shared = shared.clone();
        let idle = opts.idle;
        let waker = waker.clone();
        let root = opts.root.clone();
        let ours = ours.clone();
        std::thread::spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(1).min(idle));
                let mut st = lock(&shared);
                if st.last_request.elapsed() >= idle || !root.is_dir() || !ours() {
                    st.stopping = true;
                }
                if st.stopping {
                    drop(st);
                    waker.wake();
                    return;
                }
            }
        });
    }
    let counter = std::sync::atomic::AtomicU64::new(0);
    for conn in listener.incoming() {
        if lock(&shared).stopping {
            break;
        }
        let Ok(conn) = conn else { continue };
        let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let shared2 = shared.clone();
        let cookies = paths.cookies.clone();
        let waker = waker.clone();
        std::thread::spawn(move || serve(conn, &shared2, &cookies, n, &waker));
        if lock(&shared).stopping {
            break;
        }
    }
    if ours() {
        let _ = std::fs::remove_file(&paths.socket);
        let _ = std::fs::remove_dir_all(&paths.cookies);
    }
    drop(lock_file);
    Ok(())
}

/// Answers one connection.
fn serve(conn: UnixStream, shared: &Shared, cookies: &Path, n: u64, waker: &Waker) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(2)));
    let mut line = String::new();
    if BufReader::new(&conn).read_line(&mut line).is_err() {
        return;
    }
    lock(shared).last_request = Instant::now();
    let reply = match line.trim_end().split_once(' ').unwrap_or((line.trim_end(), "")) {
        ("since", token) => since(shared, cookies, token, n),
        ("status", _) => {
            let st = lock(shared);
            format!(
                "pid {}\ntoken {}\nchanges {}\nwatching {}\nuptime {}\n",
                std::process::id(),
                st.token(),
                st.changes.len(),
                st.watching.join(" "),
                START.get().map(|s| s.elapsed().as_secs()).unwrap_or(0)
            )
        }
        ("stop", _) => {
            lock(shared).stopping = true;
            "bye\n".to_string()
        }
        _ => "error unknown request\n".to_string(),
    };
    let mut w = &conn;
    let _ = w.write_all(format!("{reply}\n").as_bytes());
    if lock(shared).stopping {
        waker.wake();
    }
}

static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// The `since` answer, after the cookie handshake.
fn since(shared: &Shared, cookies: &Path, token: &str, n: u64) -> String {
    let name = format!("{}-{n}", std::process::id());
    let cookie = cookies.join(&name);
    let synced = std::fs::File::create(&cookie).is_ok() && {
        let (m, cv) = &**shared;
        let st = m.lock().unwrap_or_else(|p| p.into_inner());
        let (mut st, _) = cv
            .wait_timeout_while(st, Duration::from_secs(1), |st| !st.cookies.contains(&name) && !st.stopping)
            .unwrap_or_else(|p| p.into_inner());
        st.cookies.remove(&name)
    };
    let _ = std::fs::remove_file(&cookie);
    let st = lock(shared);
    let asked = super::parse_token(token);
    match asked {
        Some((g, s)) if synced && g == st.generation && s >= st.full_seq && s <= st.seq => {
            let mut out = format!("ok {}\n", st.token());
            let mut names: Vec<&String> = st.changes.iter().filter(|(_, at)| **at > s).map(|(k, _)| k).collect();
            names.sort_unstable();
            for k in names {
                out.push_str(k);
                out.push('\n');
            }
            out
        }
        _ => format!("full {}\n", st.token()),
    }
}

struct Watcher {
    fd: OwnedFd,
    root: PathBuf,
    cookies: PathBuf,
    wds: HashMap<i32, Target>,
}

const DIR_EVENTS: WatchFlags = WatchFlags::CREATE
    .union(WatchFlags::DELETE)
    .union(WatchFlags::MOVED_FROM)
    .union(WatchFlags::MOVED_TO)
    .union(WatchFlags::DELETE_SELF)
    .union(WatchFlags::MOVE_SELF)
    .union(WatchFlags::ONLYDIR)
    .union(WatchFlags::DONT_FOLLOW);

const FILE_EVENTS: WatchFlags =
    DIR_EVENTS.union(WatchFlags::MODIFY).union(WatchFlags::ATTRIB).union(WatchFlags::CLOSE_WRITE);

impl Watcher {
    fn add(&mut self, path: &Path, flags: WatchFlags, target: Target) -> bool {
        match inotify::add_watch(self.fd.as_fd(), path, flags) {
            Ok(wd) => {
                self.wds.insert(wd, target);
                true
            }
            Err(_) => false,
        }
    }

    /// Watches everything that exists now; the root and the cookies must be.
    fn watch_all(&mut self, shared: &Shared) -> Result<()> {
        let root = self.root.clone();
        if !self.add(&root, DIR_EVENTS, Target::Root) {
            return Err(Error::system("watch the coordination root", format!("cannot watch {}", root.display())));
        }
        let cookies = self.cookies.clone();
        if !self.add(&cookies, WatchFlags::CREATE | WatchFlags::ONLYDIR, Target::Cookies) {
            return Err(Error::system("watch the monitor's cookies", format!("cannot watch {}", cookies.display())));
        }
        let mut watching = Vec::new();
        let coord = root.join("coordination");
        if self.add(&coord, DIR_EVENTS, Target::Coord) {
            watching.push("coordination".to_string());
            for kind in Kind::ALL {
                let name = kind.dir_name();
                if self.add(&coord.join(name), FILE_EVENTS, Target::Kind(name)) {
                    watching.push(format!("coordination/{name}"));
                }
            }
        }
        let mut st = lock(shared);
        st.watching = watching;
        st.full_point();
        Ok(())
    }

    fn run(mut self, shared: &Shared, max_changes: usize, waker: &Waker) {
        let mut buf = vec![MaybeUninit::<u8>::uninit(); 64 * 1024];
        loop {
            // One `read` fills the buffer; handle every event in it.
            let mut events: Vec<(i32, ReadFlags, Option<String>)> = Vec::new();
            {
                let mut reader = inotify::Reader::new(&self.fd, &mut buf);
                loop {
                    match reader.next() {
                        Ok(ev) => events.push((
                            ev.wd(),
                            ev.events(),
                            ev.file_name().map(|n| n.to_string_lossy().into_owned()),
                        )),
                        Err(rustix::io::Errno::INTR) => continue,
                        Err(_) => {
                            lock(shared).stopping = true;
                            waker.wake();
                            return;
                        }
                    }
                    if reader.is_buffer_empty() {
                        break;
                    }
                }
            }
            let mut rewatch = false;
            {
                let mut st = lock(shared);
                for (wd, flags, name) in events {
                    if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                        st.full_point();
                        continue;
                    }
                    let Some(target) = self.wds.get(&wd).cloned() else { continue };
                    if flags.intersects(ReadFlags::IGNORED | ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF) {
                        if flags.contains(ReadFlags::IGNORED) {
                            self.wds.remove(&wd);
                        }
                        if target == Target::Root {
                            st.stopping = true;
                        } else {
                            st.full_point();
                        }
                        continue;
                    }
                    match (target, name) {
                        (Target::Cookies, Some(n)) => {
                            st.cookies.insert(n);
                        }
                        (Target::Root, Some(n)) if n == "coordination" => {
                            st.full_point();
                            rewatch = true;
                        }
                        (Target::Coord, Some(n)) if Kind::ALL.iter().any(|k| k.dir_name() == n) => {
                            st.full_point();
                            rewatch = true;
                        }
                        (Target::Kind(k), Some(n)) => {
                            st.seq += 1;
                            let seq = st.seq;
                            st.changes.insert(format!("{k}/{n}"), seq);
                            if st.changes.len() > max_changes {
                                st.full_point();
                            }
                        }
                        _ => {}
                    }
                }
                shared.1.notify_all();
                if st.stopping {
                    drop(st);
                    waker.wake();
                    return;
                }
            }
            if rewatch {
                // A directory came or went: watch what exists now (the
                // full point already covers what happened in between).
                let _ = self.watch_all(shared);
                shared.1.notify_all();
            }
        }
    }
}
