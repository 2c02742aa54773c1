//! The derived index: for every entity file, its stamp (size, modification
//! time, inode), the parsed mapping, the columns queries filter on and its
//! full text, in one SQLite file in the git directory ([`db`]).
//!
//! The entity files stay the only source of truth. The index is validated
//! the way git validates its index: a row is used only when the file's stamp
//! is unchanged *and* the file was modified well before the row was written
//! (the racy-timestamp rule: an edit within the same clock tick as the
//! indexing, which leaves the stamp unchanged on a coarse clock, is never
//! missed). Every other file is read and parsed again and its row replaced;
//! rows of vanished files are dropped. A full load takes only rows of files
//! that read without any problem (problems need the text for their line
//! numbers), so there a broken file is read every time, exactly as without
//! the index. The graph reports and `lint` load through the graph rows
//! ([`graph`]): slim entities, with a file's problems stored in its row, so
//! only changed files are read again.
//!
//! The index never changes an answer: a file it cannot open, a damaged file,
//! a busy database — each falls back to reading the files (a damaged file is
//! removed so the next run rebuilds it). `GIT_COORD_NO_CACHE=1` bypasses it.

pub mod db;
pub mod graph;
pub mod progress;
pub mod search;
pub mod text;

use crate::model::{Entity, Kind};
use rusqlite::{Connection, params};
use rustc_hash::FxHashMap;
use serde_yaml::Mapping;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// Files modified less than this long before their row was written are not
/// trusted (git's racy-timestamp rule, with a margin for coarse clocks).
pub const RACY_NS: i64 = 2_000_000_000;

/// True when the index is switched off (`GIT_COORD_NO_CACHE=1`).
pub fn disabled() -> bool {
    std::env::var_os("GIT_COORD_NO_CACHE").is_some_and(|v| v != "0")
}

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub mtime_ns: i64,
    pub size: i64,
    pub ino: i64,
}

impl Stamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &std::fs::Metadata) -> Option<Stamp> {
        let mtime_ns = i64::try_from(meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos()).ok()?;
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(meta) as i64;
        #[cfg(not(unix))]
        let ino = 0;
        Some(Stamp { mtime_ns, size: i64::try_from(meta.len()).ok()?, ino })
    }
}

/// The key of a coordination root inside its repository: a monorepo may
/// hold several roots (`services/a/coordination`), each with its own rows.
pub fn root_key(prefix: &str) -> String {
    if prefix.is_empty() { "/".to_string() } else { prefix.to_string() }
}

fn now_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0)
}

/// One indexed file as stored.
struct Row {
    stamp: Stamp,
    indexed_ns: i64,
    /// The parsed mapping as JSON (absent when opened without mappings).
    map: Option<String>,
    /// Read without problems: may stand in for the file in a load.
    clean: bool,
    id: String,
    status: Option<String>,
    /// The graph row ([`graph`]), when asked for and written.
    g: Option<String>,
    /// The file's problems ([`graph::encode_problems`]), when asked for and
    /// it has any.
    problems: Option<String>,
}

/// Which columns a scan reads besides the stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Columns {
    /// Only the stamps (bringing the index up to date for a query).
    Stamps,
    /// The parsed mappings (a load).
    Maps,
    /// The graph rows, and the mapping only where there is none (a load
    /// for the graph reports, [`graph`]).
    Graph,
}

/// A file read afresh, to be (re)indexed on [`KindIndex::save`].
struct Fresh {
    name: String,
    stamp: Stamp,
    map: Mapping,
    entity: Entity,
    /// The problems of the file (none: clean).
    problems: Vec<crate::problem::Problem>,
}

/// The rows as read, shared by the threads that read the files.
pub struct Rows {
    rows: FxHashMap<String, Row>,
    /// IDs held by more than one row (never left undecoded: which file
    /// wins is decided by reading them).
    shared_ids: std::collections::HashSet<String>,
}

impl Rows {
    /// True when the row of `name` can stand for the file with `stamp`.
    pub fn is_current(&self, name: &str, stamp: &Stamp) -> bool {
        self.rows.get(name).is_some_and(|r| r.stamp == *stamp && stamp.mtime_ns + RACY_NS < r.indexed_ns)
    }

    /// The indexed mapping of `name` if its row is current (see
    /// [`Rows::is_current`]).
    pub fn get(&self, name: &str, stamp: &Stamp) -> Option<Mapping> {
        if !self.is_current(name, stamp) {
            return None;
        }
        let row = self.rows.get(name)?;
        if !row.clean {
            return None;
        }
        serde_json::from_str(row.map.as_deref()?).ok()
    }

    /// The slim entity ([`graph::slim`]) of `name` from its graph row and
    /// the file's problems as stored with it, if the row is current and has
    /// both.
    pub fn graph(&self, kind: Kind, name: &str, stamp: &Stamp) -> Option<(Entity, Vec<crate::problem::Problem>)> {
        if !self.is_current(name, stamp) {
            return None;
        }
        let row = self.rows.get(name)?;
        if self.shared_ids.contains(&row.id) {
            return None;
        }
        let problems = if row.clean { Vec::new() } else { graph::decode_problems(row.problems.as_deref()?)? };
        Some((graph::decode(kind, row.id.clone(), row.g.as_deref()?)?, problems))
    }

    /// True when the file `name` (whose row is current) may be left
    /// undecoded by a caller keeping only the statuses `wanted`: its row is
    /// problem-free, its status is another, and no other row has its ID.
    pub fn skippable(&self, name: &str, wanted: &[String]) -> bool {
        self.rows.get(name).is_some_and(|r| {
            r.clean
                && !self.shared_ids.contains(&r.id)
                && r.status.as_ref().is_some_and(|s| !wanted.iter().any(|w| w == s))
        })
    }

    /// The ID of the row of `name`.
    pub fn id(&self, name: &str) -> Option<&str> {
        self.rows.get(name).map(|r| r.id.as_str())
    }
}

/// The index rows of one kind of one root, for one load.
pub struct KindIndex {
    conn: Connection,
    root: String,
    kind: Kind,
    /// When this scan started: the write time of the rows it adds. Taken
    /// before any file is looked at, so a file changed during the scan is
    /// racy against it.
    started_ns: i64,
    rows: Rows,
    fresh: Vec<Fresh>,
}

impl KindIndex {
    /// Opens the rows of `kind` under the coordination root `prefix` (its
    /// path in the repository) of the work tree whose git directory is
    /// `git_dir`, reading `columns` besides the stamps.
    /// `None` when disabled or unusable: the caller reads every file.
    pub fn open(git_dir: &Path, prefix: &str, kind: Kind, columns: Columns) -> Option<KindIndex> {
        if disabled() {
            return None;
        }
        let started_ns = now_ns();
        let conn = match db::open(git_dir) {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "index unavailable; reading every file");
                return None;
            }
        };
        let root = root_key(prefix);
        let rows = match read_rows(&conn, &root, kind, columns) {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "index unreadable; reading every file");
                if db::is_corruption(&e) {
                    drop(conn);
                    db::remove_files(&db::path(git_dir));
                }
                return None;
            }
        };
        let mut seen = std::collections::HashSet::new();
        let shared_ids = rows.values().filter(|r| !seen.insert(r.id.as_str())).map(|r| r.id.clone()).collect();
        Some(KindIndex { conn, root, kind, started_ns, rows: Rows { rows, shared_ids }, fresh: Vec::new() })
    }

    /// The rows, for the threads that read the files.
    pub fn rows(&self) -> &Rows {
        &self.rows
    }

    /// See [`Rows::is_current`].
    pub fn is_current(&self, name: &str, stamp: &Stamp) -> bool {
        self.rows.is_current(name, stamp)
    }

    /// Records a file read afresh (written on [`KindIndex::save`]) when its
    /// mapping survives the JSON round trip the index stores it through;
    /// returns whether it will be. `problems` are the file's: only clean
    /// rows stand in for their file in a full load (problems need the text
    /// for line numbers), a graph load takes the problems as stored with the
    /// row, every row serves search.
    pub fn put(
        &mut self,
        name: String,
        stamp: Stamp,
        map: Mapping,
        entity: Entity,
        problems: &[crate::problem::Problem],
    ) -> bool {
        let ok = cacheable(&map);
        if ok {
            self.fresh.push(Fresh { name, stamp, map, entity, problems: problems.to_vec() });
        }
        ok
    }

    /// Writes the fresh rows and drops the rows of files not in `live`, in
    /// one transaction. Failures leave the index as it was (a damaged file
    /// is removed) and return false: a load does not need the index, a
    /// query on it then runs elsewhere.
    pub fn save(self, live: &[String], git_dir: &Path) -> bool {
        let stale: Vec<&String> = {
            let keep: std::collections::HashSet<&String> = live.iter().collect();
            self.rows.rows.keys().filter(|k| !keep.contains(k)).collect()
        };
        if self.fresh.is_empty() && stale.is_empty() {
            return true;
        }
        match self.write(&stale) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(error = %e, "index not updated");
                if db::is_corruption(&e) {
                    drop(self);
                    db::remove_files(&db::path(git_dir));
                }
                false
            }
        }
    }

    fn write(&self, stale: &[&String]) -> rusqlite::Result<()> {
        // IMMEDIATE: the write lock is taken (waiting up to the busy
        // timeout) before anything is read, so a writer that committed in
        // between can never make the upgrade fail.
        let tx = db::immediate(&self.conn)?;
        {
            let kind = self.kind.dir_name();
            let mut find =
                tx.prepare_cached("SELECT rid FROM idx_files WHERE root = ?1 AND kind = ?2 AND name = ?3")?;
            let mut del = tx.prepare_cached("DELETE FROM idx_files WHERE rid = ?1")?;
            let mut del_fts = tx.prepare_cached("DELETE FROM fts_entities WHERE rowid = ?1")?;
            let mut remove = |name: &str| -> rusqlite::Result<()> {
                let rid: Option<i64> = find.query_row(params![self.root, kind, name], |r| r.get(0)).ok();
                if let Some(rid) = rid {
                    del.execute([rid])?;
                    del_fts.execute([rid])?;
                }
                Ok(())
            };
            for name in stale {
                remove(name)?;
            }
            for f in &self.fresh {
                remove(&f.name)?;
            }
            let mut ins = tx.prepare_cached(
                "INSERT INTO idx_files (root, kind, name, size, mtime_ns, ino, indexed_ns, id, map, status, \
                 priority, assignee, title, repos, labels, clean, g, problems) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, \
                 ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            )?;
            let mut ins_fts = tx.prepare_cached(
                "INSERT INTO fts_entities (rowid, id, title, body, labels) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for f in &self.fresh {
                let Ok(json) = serde_json::to_string(&f.map) else { continue };
                let cols = text::Columns::of(&f.entity);
                let clean = f.problems.is_empty();
                let g = graph::encode(&f.entity);
                let problems = if clean { None } else { graph::encode_problems(&f.problems) };
                ins.execute(params![
                    self.root,
                    kind,
                    f.name,
                    f.stamp.size,
                    f.stamp.mtime_ns,
                    f.stamp.ino,
                    self.started_ns,
                    f.entity.id(),
                    json,
                    cols.status,
                    cols.priority,
                    cols.assignee,
                    cols.title,
                    cols.repos,
                    cols.labels,
                    clean,
                    g,
                    problems,
                ])?;
                let rid = tx.last_insert_rowid();
                ins_fts.execute(params![rid, f.entity.id(), cols.title, cols.body, cols.labels])?;
            }
        }
        tx.commit()
    }

    /// How many files were read afresh in this scan.
    pub fn fresh_count(&self) -> usize {
        self.fresh.len()
    }
}

fn read_rows(conn: &Connection, root: &str, kind: Kind, columns: Columns) -> rusqlite::Result<FxHashMap<String, Row>> {
    let sql = match columns {
        Columns::Maps => {
            "SELECT name, size, mtime_ns, ino, indexed_ns, clean, map, id, status, NULL, NULL FROM idx_files WHERE root = \
             ?1 AND kind = ?2"
        }
        Columns::Graph => {
            "SELECT name, size, mtime_ns, ino, indexed_ns, clean, CASE WHEN g IS NULL THEN map END, id, status, g, \
             problems FROM idx_files WHERE root = ?1 AND kind = ?2"
        }
        Columns::Stamps => {
            "SELECT name, size, mtime_ns, ino, indexed_ns, clean, NULL, id, status, NULL, NULL FROM idx_files WHERE \
             root = ?1 AND kind = ?2"
        }
    };
    let mut st = conn.prepare(sql)?;
    let rows = st.query_map(params![root, kind.dir_name()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Row {
                stamp: Stamp { size: r.get(1)?, mtime_ns: r.get(2)?, ino: r.get(3)? },
                indexed_ns: r.get(4)?,
                clean: r.get(5)?,
                map: r.get(6)?,
                id: r.get(7)?,
                status: r.get(8)?,
                g: r.get(9)?,
                problems: r.get(10)?,
            },
        ))
    })?;
    rows.collect()
}

/// True when a mapping survives a JSON round trip unchanged (string keys, no
/// tags, finite numbers), so the index can store it.
pub fn cacheable(map: &Mapping) -> bool {
    fn ok(v: &serde_yaml::Value) -> bool {
        match v {
            serde_yaml::Value::Tagged(_) => false,
            serde_yaml::Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
            serde_yaml::Value::Sequence(s) => s.iter().all(ok),
            serde_yaml::Value::Mapping(m) => m.iter().all(|(k, v)| k.is_string() && ok(v)),
            _ => true,
        }
    }
    map.iter().all(|(k, v)| k.is_string() && ok(v))
}
