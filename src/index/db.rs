//! The SQLite file behind the index: `<git-dir>/git-coord/index.sqlite`,
//! never in the work tree (a linked work tree has its own git directory, so
//! its own file: its files have their own inodes and modification times).
//!
//! The file is shared: the index owns the tables whose names start with
//! `idx_` or `fts_` and its row of `meta`; other subsystems (the memory
//! event log) keep their own tables in the same file. A rebuild therefore
//! drops only the index's tables — except when the file is not a database at
//! all (corrupt, truncated), where nothing in it can be trusted and the file
//! is replaced.
//!
//! Every connection runs in WAL mode with a 5 s busy timeout, so readers
//! never wait for a writer and two processes indexing at once queue instead
//! of failing.

use rusqlite::{Connection, OpenFlags, params};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The index's schema version, kept in `meta` under [`SCHEMA_KEY`]. A file
/// written by another version has its index tables rebuilt.
pub const SCHEMA_VERSION: i64 = 4;
/// The `meta` key of the index's schema version.
pub const SCHEMA_KEY: &str = "idx_schema_version";

/// The index's tables. `idx_files` holds one row per entity file (its stamp,
/// the parsed mapping as JSON, the columns queries filter on, the graph row
/// `g` of [`super::graph`] and, for a file with problems, its problems);
/// `fts_entities` is the full-text table over the same rows (rowid = the
/// file row's id); `idx_monitor` holds per root and kind the write epoch of
/// its rows and the file-system monitor's token they agree with
/// ([`super::monitor`]); `idx_refs` every ID a file mentions (its
/// references, and a plan's milestones) for the neighbourhood of one entity
/// ([`super::neighbours`]); `idx_skipped` the names in an entity directory
/// that are no entity (unreadable, or not a regular file) with their
/// problems, so a refresh from the monitor's answer reports them as a full
/// scan does.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS idx_files (
    rid INTEGER PRIMARY KEY,
    root TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    indexed_ns INTEGER NOT NULL,
    id TEXT NOT NULL,
    map TEXT NOT NULL,
    status TEXT,
    priority TEXT,
    assignee TEXT,
    title TEXT NOT NULL,
    repos TEXT NOT NULL,
    labels TEXT NOT NULL,
    clean INTEGER NOT NULL DEFAULT 1,
    g TEXT,
    problems TEXT,
    UNIQUE (root, kind, name)
);
CREATE INDEX IF NOT EXISTS idx_files_id ON idx_files (root, kind, id);
CREATE INDEX IF NOT EXISTS idx_files_status ON idx_files (root, kind, status);
CREATE TABLE IF NOT EXISTS idx_monitor (
    root TEXT NOT NULL,
    kind TEXT NOT NULL,
    token TEXT,
    epoch INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (root, kind)
);
CREATE TABLE IF NOT EXISTS idx_refs (
    rid INTEGER NOT NULL,
    target TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_refs_target ON idx_refs (target);
CREATE INDEX IF NOT EXISTS idx_refs_rid ON idx_refs (rid);
CREATE TABLE IF NOT EXISTS idx_skipped (
    root TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    problems TEXT NOT NULL,
    PRIMARY KEY (root, kind, name)
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts_entities USING fts5 (
    id, title, body, labels,
    tokenize = 'unicode61 remove_diacritics 2'
);
";

/// The index file of a git directory.
pub fn path(git_dir: &Path) -> PathBuf {
    git_dir.join("git-coord").join("index.sqlite")
}

/// Opens (creating when needed) the shared database of `git_dir`, with WAL,
/// a 5 s busy timeout and the index's tables at [`SCHEMA_VERSION`]. A file
/// that is not a readable database is replaced; index tables of another
/// version are dropped and recreated (other tables are left alone).
pub fn open(git_dir: &Path) -> rusqlite::Result<Connection> {
    let file = path(git_dir);
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    match open_checked(&file) {
        Ok(c) => Ok(c),
        Err(e) if is_corruption(&e) => {
            tracing::debug!(error = %e, "index file unreadable; replacing it");
            remove_files(&file);
            open_checked(&file)
        }
        Err(e) => Err(e),
    }
}

/// True for the errors that mean the file itself is damaged (as opposed to
/// busy or unwritable).
pub fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase))
}

/// Removes the database and its WAL companions (only after corruption).
pub fn remove_files(file: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = file.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

fn open_checked(file: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // The first statement that reads the file: a truncated or foreign file
    // fails here, before anything is trusted.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    tracing::trace!(mode, "index journal mode");
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    )?;
    let version: Option<i64> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [SCHEMA_KEY], |r| r.get::<_, String>(0))
        .ok()
        .and_then(|v| v.parse().ok());
    if version != Some(SCHEMA_VERSION) {
        rebuild(&conn)?;
    } else {
        // A truncated file can still answer the meta query; a schema read
        // of the index's own table catches most of the rest cheaply.
        conn.query_row("SELECT count(*) FROM idx_files WHERE rid = 0", [], |_| Ok(()))?;
    }
    Ok(conn)
}

/// Starts a transaction that holds the write lock from its start (waiting
/// for it up to the busy timeout): a deferred one that reads first could
/// not upgrade once another process has written, and would fail at once.
pub fn immediate(conn: &Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}

/// Drops and recreates the index's own tables (never another subsystem's),
/// unless another process has just done so.
pub fn rebuild(conn: &Connection) -> rusqlite::Result<()> {
    let tx = immediate(conn)?;
    let version: Option<String> =
        tx.query_row("SELECT value FROM meta WHERE key = ?1", [SCHEMA_KEY], |r| r.get(0)).ok();
    if version.as_deref() == Some(SCHEMA_VERSION.to_string().as_str()) {
        return tx.commit();
    }
    let owned: Vec<String> = {
        let mut st = tx.prepare(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') \
             AND (name LIKE 'idx\\_%' ESCAPE '\\' OR name LIKE 'fts\\_%' ESCAPE '\\')",
        )?;
        st.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
    };
    for name in owned {
        // FTS5 shadow tables (`fts_entities_data`, …) go with their table.
        let exists: bool =
            tx.query_row("SELECT count(*) > 0 FROM sqlite_master WHERE name = ?1", [&name], |r| r.get(0))?;
        if exists {
            tx.execute_batch(&format!("DROP TABLE IF EXISTS \"{}\"", name.replace('"', "\"\"")))?;
        }
    }
    tx.execute_batch(SCHEMA)?;
    tx.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![SCHEMA_KEY, SCHEMA_VERSION.to_string()],
    )?;
    tx.commit()
}
