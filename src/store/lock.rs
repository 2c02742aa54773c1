//! The store's write lock: an `flock` on the coordination root, re-entrant
//! on one thread, with a hook that tells the user when a write waits.

use super::Store;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// After this long waiting for the write lock, the wait is reported.
const LOCK_WAIT_NOTICE: std::time::Duration = std::time::Duration::from_secs(1);

thread_local! {
    /// Roots whose write lock this thread holds, with the nesting depth.
    static HELD_LOCKS: std::cell::RefCell<HashMap<PathBuf, usize>> = std::cell::RefCell::new(HashMap::new());
}

/// A wait hook: the front end's way to tell the user a write is waiting.
type LockWaitHook = Box<dyn Fn(&LockWait<'_>) + Send + Sync>;

static LOCK_WAIT_HOOK: std::sync::OnceLock<LockWaitHook> = std::sync::OnceLock::new();

/// Roots whose lock a thread of this process holds. Other threads queue
/// here and are woken the moment it is released (a pool run's tasks write
/// twice each), rather than polling the `flock` with growing pauses; the
/// `flock` then only ever waits for other processes.
static IN_PROCESS: (std::sync::Mutex<Vec<PathBuf>>, std::sync::Condvar) =
    (std::sync::Mutex::new(Vec::new()), std::sync::Condvar::new());

/// This process's turn on a root (see [`IN_PROCESS`]), given back on drop.
#[derive(Debug)]
struct Turn(PathBuf);

impl Turn {
    /// Waits for the turn on `dir`; `waited` is called once when that takes
    /// longer than [`LOCK_WAIT_NOTICE`].
    fn take(dir: &Path, mut waited: impl FnMut()) -> Turn {
        let started = std::time::Instant::now();
        let (held, cv) = &IN_PROCESS;
        let mut told = false;
        let mut g = held.lock().unwrap_or_else(|e| e.into_inner());
        while g.iter().any(|d| d == dir) {
            g = cv.wait_timeout(g, std::time::Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
            if !told && started.elapsed() >= LOCK_WAIT_NOTICE {
                told = true;
                drop(g);
                waited();
                g = held.lock().unwrap_or_else(|e| e.into_inner());
            }
        }
        g.push(dir.to_path_buf());
        Turn(dir.to_path_buf())
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let (held, cv) = &IN_PROCESS;
        let mut g = held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = g.iter().position(|d| *d == self.0) {
            g.swap_remove(at);
        }
        drop(g);
        cv.notify_all();
    }
}

/// A write that has waited a second for the lock another process holds.
#[derive(Debug)]
pub struct LockWait<'a> {
    /// The coordination root.
    pub root: &'a Path,
    /// What the holder said it is (`sync, pid 4242`), when known.
    pub holder: Option<&'a str>,
}

/// Sets what happens when a write has waited a second for the store lock
/// (the library never prints; the CLI prints a line on stderr). The first
/// call wins.
pub fn on_lock_wait(hook: impl Fn(&LockWait<'_>) + Send + Sync + 'static) {
    let _ = LOCK_WAIT_HOOK.set(Box::new(hook));
}

/// The store's write lock, held until dropped (see [`Store::lock`]).
#[derive(Debug)]
pub struct StoreLock {
    /// The locked directory handle; `None` for a nested lock on the same thread.
    file: Option<File>,
    dir: PathBuf,
    holder: Option<PathBuf>,
    /// Given back after the `flock` (fields drop after [`Drop::drop`]).
    _turn: Option<Turn>,
}

impl StoreLock {
    /// The coordination root this lock is held on.
    pub fn root(&self) -> &Path {
        &self.dir
    }
}

impl Drop for StoreLock {
    fn drop(&mut self) {
        if self.file.is_none() {
            HELD_LOCKS.with(|h| {
                if let Some(depth) = h.borrow_mut().get_mut(&self.dir) {
                    *depth -= 1;
                }
            });
            return;
        }
        HELD_LOCKS.with(|h| h.borrow_mut().remove(&self.dir));
        if let Some(p) = &self.holder {
            // Emptied, not removed: an empty file names nobody, and keeping
            // it spares the filesystem a new inode per write (a pool run
            // writes twice per task).
            let _ = std::fs::File::options().write(true).truncate(true).open(p);
        }
        // Closing the file releases the flock.
        self.file.take();
    }
}

impl Store {
    /// Takes the exclusive write lock on the coordination root (released on drop).
    /// Every write takes it, so two writers (two agents over MCP, a CLI and a
    /// hook) never interleave their read-modify-write; `sync` holds it from
    /// start to end, so a write never lands between its merge and a reset.
    pub fn lock(&self) -> Result<StoreLock> {
        self.lock_for("a write")
    }

    /// [`Store::lock`], saying what holds it (`sync`): a process that has to
    /// wait is told (see [`on_lock_wait`]).
    ///
    /// The lock is an `flock` on the root directory. It is re-entrant on one
    /// thread: an operation that locks (a renumber) called while its caller
    /// (`sync`) holds the lock nests instead of deadlocking on a second file
    /// descriptor. Other threads and processes wait: whoever waits longer than
    /// a second is reported once through the [`on_lock_wait`] hook.
    pub fn lock_for(&self, what: &str) -> Result<StoreLock> {
        let dir = self.root.dir.clone();
        let nested = HELD_LOCKS.with(|h| match h.borrow_mut().get_mut(&dir) {
            Some(depth) => {
                *depth += 1;
                true
            }
            None => false,
        });
        if nested {
            return Ok(StoreLock { file: None, dir, holder: None, _turn: None });
        }
        let f = File::open(&dir).map_err(|e| Error::io(&dir, e))?;
        let holder = self.lock_holder_path();
        let tell = || {
            let by = holder.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).filter(|t| !t.is_empty());
            if let Some(hook) = LOCK_WAIT_HOOK.get() {
                hook(&LockWait { root: &dir, holder: by.as_deref() });
            }
        };
        let turn = Turn::take(&dir, tell);
        let started = std::time::Instant::now();
        // Short waits first: another thread of this process (a pool run's
        // tasks) usually holds it for a millisecond or two.
        let mut pause = std::time::Duration::from_micros(250);
        loop {
            match f.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&dir, e)),
            }
            if started.elapsed() >= LOCK_WAIT_NOTICE {
                tell();
                // Told once: now wait without polling.
                f.lock().map_err(|e| Error::io(&dir, e))?;
                break;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(10));
        }
        // Best effort: only used to name the holder to a waiting process.
        let holder = holder.filter(|p| {
            let text = format!("{what}, pid {}", std::process::id());
            std::fs::write(p, &text).is_ok()
                || (p.parent().is_some_and(|d| std::fs::create_dir_all(d).is_ok()) && std::fs::write(p, &text).is_ok())
        });
        HELD_LOCKS.with(|h| h.borrow_mut().insert(dir.clone(), 1));
        Ok(StoreLock { file: Some(f), dir, holder, _turn: Some(turn) })
    }

    /// Where the lock holder describes itself: in the git directory, next to
    /// the index (never in the work tree). `None` outside a repository.
    fn lock_holder_path(&self) -> Option<PathBuf> {
        let key = match self.root.prefix_in_repo()?.as_str() {
            "" => "root".to_string(),
            p => p.replace(['/', '\\'], "%"),
        };
        Some(self.root.git_dir()?.join("git-coord").join(format!("lock-{key}.holder")))
    }
}

#[cfg(test)]
mod lock_tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn the_lock_nests_on_one_thread_and_excludes_other_threads() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open_uninitialised(tmp.path()).unwrap();
        let released = AtomicBool::new(false);
        std::thread::scope(|s| {
            let outer = store.lock_for("sync").unwrap();
            // A renumber inside a sync: nests instead of deadlocking.
            let inner = store.lock().unwrap();
            let waiter = s.spawn(|| {
                let _l = store.lock().unwrap();
                assert!(released.load(Ordering::SeqCst), "got the lock while another thread held it");
            });
            drop(inner);
            std::thread::sleep(std::time::Duration::from_millis(200));
            assert!(!waiter.is_finished(), "the nested release must not free the lock");
            released.store(true, Ordering::SeqCst);
            drop(outer);
            waiter.join().unwrap();
        });
        // Free again on this thread, as a fresh (outermost) lock.
        drop(store.lock().unwrap());
    }
}
