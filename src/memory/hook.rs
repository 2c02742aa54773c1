//! What the events hooks run in the background (`git coord hook events`):
//! bring the event log up to HEAD and, with memory on, deliver what is
//! due. One pass at a time per repository (an exclusive lock next to the
//! database, waited for: a pass started by a later commit runs after the
//! current one and sees that commit), and a pass repeats while HEAD moved
//! under it, so quick successive commits are all derived.

use super::derive::{self, Memory, Updated};
use super::outbox::{self, Pushed};
use super::sinks;
use crate::error::{Error, Result};
use crate::store::Store;

/// What a background pass did.
#[derive(Debug, Default)]
pub struct Pass {
    pub updated: Vec<Updated>,
    pub pushed: Vec<Pushed>,
}

/// Runs the pass.
pub fn run(store: &Store) -> Result<Pass> {
    let mut mem = Memory::open(store, "hook events")?;
    let lock = mem.db_path.with_file_name("events-hook.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| Error::io(&lock, e))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| Error::io(&lock, std::io::Error::from(e)))?;
    let mut pass = Pass::default();
    // A few rounds at most: each derives only the commits new since the last.
    for _ in 0..3 {
        let before = mem.repo.head()?;
        pass.updated.push(derive::update(store, &mut mem, false)?);
        if store.settings.memory_enabled {
            let mut s = sinks::configured(store)?;
            pass.pushed.push(outbox::push(store, &mem, &mut s)?);
        }
        // A fresh look at HEAD: the repository handle caches nothing we rely on.
        let after = Memory::open(store, "hook events")?.repo.head()?;
        if after == before {
            break;
        }
        mem = Memory::open(store, "hook events")?;
    }
    Ok(pass)
}
