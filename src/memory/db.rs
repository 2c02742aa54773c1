//! The memory tables in the index database (`<git-dir>/git-coord/index.sqlite`,
//! shared with the search index): `events` (derived, rebuildable),
//! `event_cursor` (the last commit derived), `outbox` (delivery state per
//! event and sink, which a rebuild of events or of the index never drops)
//! and `memory_meta` (this module's schema version).
//!
//! The database lives in the repository's common git directory, so every
//! worktree of a clone shares one event log and one outbox. It is opened
//! through [`crate::index::db::open`] (WAL and a 5 s busy timeout, so a
//! background push and a foreground command share it).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The schema version of the memory tables.
pub const SCHEMA_VERSION: i64 = 1;

/// The database file of a git directory (the index's: one file, one way
/// to open it).
pub fn path(git_dir: &Path) -> PathBuf {
    crate::index::db::path(git_dir)
}

/// An error of the database, naming its file.
pub fn err(path: &Path, e: rusqlite::Error) -> Error {
    Error::Database { path: path.to_path_buf(), source: e }
}

/// Opens the database as the index does ([`crate::index::db::open`]: WAL,
/// the busy timeout, a damaged file replaced) and adds the memory tables.
pub fn open(git_dir: &Path) -> Result<crate::index::db::Conn> {
    let file = path(git_dir);
    let conn = crate::index::db::open(git_dir).map_err(|e| err(&file, e))?;
    conn.execute_batch(SCHEMA).map_err(|e| err(&file, e))?;
    conn.execute(
        "INSERT INTO memory_meta(key, value) VALUES ('schema_version', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [SCHEMA_VERSION.to_string()],
    )
    .map_err(|e| err(&file, e))?;
    Ok(conn)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS memory_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- seq orders events oldest first (derivation order); json is the Event.
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    kind TEXT NOT NULL,
    entity TEXT NOT NULL,
    commit_id TEXT NOT NULL,
    seconds INTEGER NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_entity ON events(entity);
CREATE INDEX IF NOT EXISTS events_seconds ON events(seconds);
CREATE TABLE IF NOT EXISTS event_cursor (name TEXT PRIMARY KEY, commit_id TEXT NOT NULL);
-- One row per event and sink; rowid is the delivery order. The payload is
-- kept here so that delivery state and content survive a rebuild of events.
CREATE TABLE IF NOT EXISTS outbox (
    event_id TEXT NOT NULL,
    sink TEXT NOT NULL,
    commit_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    enqueued INTEGER NOT NULL,
    delivered INTEGER,
    PRIMARY KEY (event_id, sink)
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(sink, state);
";
