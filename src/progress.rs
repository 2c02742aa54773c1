//! Progress of long operations, reported to whoever asked for it. The
//! library never prints, so an operation that can take more than a second
//! (checking many dependencies, reading a long history, migrating a large
//! legacy section, a sync's fetch, merge and push) takes a `&dyn Progress`
//! in its `*_with` variant and tells it what it is doing; the CLI draws an
//! indicatif bar from that on a terminal (`cli::progress`), the MCP server
//! and scripts pass [`NoProgress`]. Reports are hints: an implementation must
//! not fail, block for long or panic.

/// A receiver of progress reports. Calls come from the thread running the
/// operation, in order: `start`, any number of `inc` (and further `start`s
/// for later phases), then `finish` — also when the operation fails.
pub trait Progress: Send + Sync {
    /// A phase begins: `len` steps (0: an unknown number), described by
    /// `message` (e.g. "checking dependencies", "fetching origin").
    fn start(&self, len: u64, message: &str);
    /// `n` more steps of the current phase are done.
    fn inc(&self, n: u64);
    /// The operation is over (whether it succeeded or not).
    fn finish(&self);
}

/// Reports go nowhere: what the plain (non-`_with`) variants use.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _len: u64, _message: &str) {}
    fn inc(&self, _n: u64) {}
    fn finish(&self) {}
}

/// Calls [`Progress::finish`] when dropped, so every way out of an
/// operation (`?` included) ends its progress.
pub struct Finish<'a>(pub &'a dyn Progress);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        self.0.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Record(Mutex<Vec<String>>);
    impl Progress for Record {
        fn start(&self, len: u64, message: &str) {
            self.0.lock().unwrap().push(format!("start {len} {message}"));
        }
        fn inc(&self, n: u64) {
            self.0.lock().unwrap().push(format!("inc {n}"));
        }
        fn finish(&self) {
            self.0.lock().unwrap().push("finish".into());
        }
    }

    #[test]
    fn finish_runs_on_every_way_out() {
        let r = Record::default();
        let failing = || -> Result<(), ()> {
            let _done = Finish(&r);
            r.start(3, "work");
            r.inc(1);
            Err(())
        };
        assert!(failing().is_err());
        assert_eq!(*r.0.lock().unwrap(), ["start 3 work", "inc 1", "finish"]);
    }
}
