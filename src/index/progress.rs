//! Progress of a (re)index, reported through a hook the front end sets (the
//! library never prints; the CLI draws a bar when indexing takes more than a
//! second and the output is a terminal).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// The front end's progress hook: called with (more files indexed, more
/// files to index); kinds are indexed in parallel, so counts arrive as deltas.
type Hook = Box<dyn Fn(u64, u64) + Send + Sync>;

static HOOK: OnceLock<Hook> = OnceLock::new();

/// Sets the progress hook (the first call wins).
pub fn on_progress(hook: impl Fn(u64, u64) + Send + Sync + 'static) {
    let _ = HOOK.set(Box::new(hook));
}

/// Counts the files of one (re)index and reports every few of them.
pub struct Counter {
    done: AtomicU64,
    total: u64,
}

impl Counter {
    /// A counter for `total` files to read.
    pub fn new(total: u64) -> Counter {
        if total > 0
            && let Some(h) = HOOK.get()
        {
            h(0, total);
        }
        Counter { done: AtomicU64::new(0), total }
    }

    /// One more file read (reported in batches, to keep the hook cheap).
    pub fn tick(&self) {
        let n = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if (n.is_multiple_of(64) || n == self.total)
            && let Some(h) = HOOK.get()
        {
            h(if n.is_multiple_of(64) { 64 } else { n % 64 }, 0);
        }
    }
}
