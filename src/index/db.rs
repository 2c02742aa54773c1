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
//!
//! Connections are pooled per process ([`Conn`]): a command that reads four
//! kinds, a neighbourhood and an ID cache opens the file once per thread
//! instead of once per step. The WAL companions are never removed: the
//! last connection to close checkpoints and empties the WAL, and both files
//! stay for the next process. A pooled connection is handed out again only
//! while the file it opened is still the file at the path (same device and
//! inode) and it holds no open transaction; [`close_pooled`] closes them
//! all.

use rusqlite::{Connection, OpenFlags, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// The index's schema version, kept in `meta` under [`SCHEMA_KEY`]. A file
/// written by another version has its index tables rebuilt.
pub const SCHEMA_VERSION: i64 = 11;
/// The `meta` key of the index's schema version.
pub const SCHEMA_KEY: &str = "idx_schema_version";

/// The index's tables. The columns of `idx_files` are ordered small first
/// and the parsed mapping last: SQLite reads a row's columns in order, and
/// a column after a large one (spilled to overflow pages) costs reading
/// those pages, so stamps and graph rows are read without the mappings.
/// `idx_files` holds one row per entity file (its stamp,
/// the parsed mapping as JSON, the entity as the list operations give it
/// (`j`, JSON; see [`super::listing`]), the columns queries filter on, the graph row
/// `g` of [`super::graph`] and, for a file with problems, its problems);
/// `idx_files_list` holds, in status order, what a list reads of a row
/// (its ID, file name and `j`): a list of one status reads neighbouring
/// entries of that index and never the table, whose rows are many times
/// wider (at 10,000 entities, a third of a plain list's time was spent
/// reading a table page per row).
/// `fts_entities` is the full-text table over the same rows (rowid = the
/// file row's id); `idx_monitor` holds per root and kind the write epoch of
/// its rows and the file-system monitor's token they agree with
/// ([`super::monitor`]); `idx_refs` every ID a file mentions (its
/// references, and a plan's milestones) for the neighbourhood of one entity
/// ([`super::neighbours`]); `idx_skipped` the names in an entity directory
/// that are no entity (unreadable, or not a regular file) with their
/// problems, so a refresh from the monitor's answer reports them as a full
/// scan does; `idx_memo` results derived from immutable git objects
/// ([`super::memo`]); `idx_image_data` per root and kind one document of
/// every file's graph row ([`super::graph::encode_image`]) and `idx_image`
/// the write epoch of the rows it was made from and the monitor token it
/// agrees with, if any (apart, so moving the token on does not rewrite the
/// document); `idx_sheet` per root and kind the stamp of every file with a
/// row as of a write epoch ([`super::sheet`]).
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
    status TEXT,
    priority TEXT,
    assignee TEXT,
    clean INTEGER NOT NULL DEFAULT 1,
    g TEXT,
    problems TEXT,
    title TEXT NOT NULL,
    repos TEXT NOT NULL,
    labels TEXT NOT NULL,
    j TEXT,
    map TEXT NOT NULL,
    UNIQUE (root, kind, name)
);
CREATE INDEX IF NOT EXISTS idx_files_id ON idx_files (root, kind, id);
CREATE INDEX IF NOT EXISTS idx_files_list ON idx_files (root, kind, status, priority, id, name, j);
CREATE INDEX IF NOT EXISTS idx_files_odd ON idx_files (root, kind) WHERE clean = 0 OR j IS NULL;
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
CREATE TABLE IF NOT EXISTS idx_image (
    root TEXT NOT NULL,
    kind TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    token TEXT,
    PRIMARY KEY (root, kind)
);
CREATE TABLE IF NOT EXISTS idx_sheet (
    root TEXT NOT NULL,
    kind TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    taken_ns INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (root, kind)
);
CREATE TABLE IF NOT EXISTS idx_image_data (
    root TEXT NOT NULL,
    kind TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (root, kind)
);
CREATE TABLE IF NOT EXISTS idx_memo (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    added_ns INTEGER NOT NULL
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
///
/// The connection comes from the process's pool when one to the same file
/// is free, and goes back to it when dropped (see [`Conn`]).
pub fn open(git_dir: &Path) -> rusqlite::Result<Conn> {
    let file = path(git_dir);
    if let Some(conn) = take_pooled(&file) {
        return Ok(conn);
    }
    if let Some(dir) = file.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let conn = match open_checked(&file) {
        Ok(c) => c,
        Err(e) if is_corruption(&e) => {
            tracing::debug!(error = %e, "index file unreadable; replacing it");
            remove_files(&file);
            open_checked(&file)?
        }
        Err(e) => return Err(e),
    };
    // The identity of the file this connection opened (taken after the
    // open, which created it if needed).
    let identity = file_identity(&file);
    Ok(Conn { conn: Some(conn), file, identity })
}

/// A connection to the index file, returned to the process's pool when
/// dropped (unless it still holds a transaction, or was discarded).
pub struct Conn {
    conn: Option<Connection>,
    file: PathBuf,
    /// (device, inode) of the file when opened.
    identity: Option<(u64, u64)>,
}

impl Conn {
    /// Closes the connection instead of pooling it (the file is to be
    /// removed, or the connection is in a state nobody should inherit).
    pub fn discard(mut self) {
        self.conn.take();
    }
}

impl std::ops::Deref for Conn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("a live connection")
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("a live connection")
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take()
            && conn.is_autocommit()
            && self.identity.is_some()
        {
            let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < MAX_POOLED {
                pool.push(Pooled { file: std::mem::take(&mut self.file), identity: self.identity, conn });
            }
        }
    }
}

/// At most this many idle connections are kept (one per thread that used
/// the index at once is enough).
const MAX_POOLED: usize = 8;

struct Pooled {
    file: PathBuf,
    identity: Option<(u64, u64)>,
    conn: Connection,
}

static POOL: Mutex<Vec<Pooled>> = Mutex::new(Vec::new());

fn file_identity(file: &Path) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(file).ok().map(|m| (m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(file).ok().map(|_| (0, 0))
    }
}

/// A pooled connection to `file`, if one is free and the file at the path
/// is still the one it opened (else the stale connections are closed).
fn take_pooled(file: &Path) -> Option<Conn> {
    let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
    if !pool.iter().any(|p| p.file == file) {
        return None;
    }
    let now = file_identity(file);
    // Connections to a file that was removed or replaced are closed.
    pool.retain(|p| p.file != file || (now.is_some() && p.identity == now));
    let at = pool.iter().rposition(|p| p.file == file)?;
    let p = pool.swap_remove(at);
    Some(Conn { conn: Some(p.conn), file: p.file, identity: p.identity })
}

/// Closes every pooled connection (the last one to close checkpoints the
/// WAL and empties it). A command calls it when it is done.
pub fn close_pooled() {
    let drained: Vec<Pooled> = std::mem::take(&mut *POOL.lock().unwrap_or_else(|e| e.into_inner()));
    drop(drained);
}

/// Closes the pooled connections to `file` (it is about to be removed).
fn forget_pooled(file: &Path) {
    let drained: Vec<Pooled> = {
        let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
        let (gone, kept): (Vec<Pooled>, Vec<Pooled>) =
            std::mem::take(&mut *pool).into_iter().partition(|p| p.file == file);
        *pool = kept;
        gone
    };
    drop(drained);
}

/// True for the errors that mean the file itself is damaged (as opposed to
/// busy or unwritable).
pub fn is_corruption(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase))
}

/// Removes the database and its WAL companions (only after corruption).
pub fn remove_files(file: &Path) {
    forget_pooled(file);
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
    keep_companions(&conn);
    // The first statement that reads the file: a truncated or foreign file
    // fails here, before anything is trusted.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    tracing::trace!(mode, "index journal mode");
    // The WAL is cut back to this size when it is reset, and emptied when
    // the last connection closes (it is kept: see `keep_companions`).
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 8388608; \
         CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
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

/// Keeps the WAL companions (`-wal`, `-shm`) on disk, the WAL emptied, when
/// the last connection closes, instead of removing them: otherwise every
/// command creates both files and removes them again, and creating a file
/// is not free — on a file system where many files were just removed, ext4
/// searched its inode tables for about a tenth of a plain list's time at
/// 10,000 entities. A failure only costs that time.
fn keep_companions(conn: &Connection) {
    let mut on: std::ffi::c_int = 1;
    // SAFETY: `handle` is this open connection's; SQLITE_FCNTL_PERSIST_WAL
    // reads and writes the one `int` it is given, which outlives the call.
    let rc = unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&raw mut on).cast(),
        )
    };
    if rc != rusqlite::ffi::SQLITE_OK {
        tracing::debug!(rc, "the WAL companions will be removed on close");
    }
}

/// Starts a transaction that holds the write lock from its start (waiting
/// for it up to the busy timeout): a deferred one that reads first could
/// not upgrade once another process has written, and would fail at once.
pub fn immediate(conn: &Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}

/// A write that deleted or wrote at least this many full-text rows is
/// followed by [`merge_text`]. Each such write leaves the full-text index in
/// more pieces (a segment of new rows, markers of deleted ones) and a query
/// reads every piece: after a checkout that replaced 100,000 rows, twenty
/// snippets took 75 ms instead of 0.5 ms until the pieces were merged.
pub const TEXT_WRITES_TO_MERGE: usize = 1000;

/// Merges the full-text index into one piece (FTS5's `optimize`: about a
/// third of a second at 100,000 entities). A failure (another process
/// holds the write lock past the busy timeout) leaves it as it was: the
/// answers are the same, only slower, and the next large write merges.
pub fn merge_text(conn: &Connection) {
    match conn.execute("INSERT INTO fts_entities (fts_entities) VALUES ('optimize')", []) {
        Ok(_) => tracing::debug!("full-text index merged"),
        Err(e) => tracing::debug!(error = %e, "full-text index not merged"),
    }
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
