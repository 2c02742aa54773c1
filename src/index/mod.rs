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
pub mod listing;
pub mod memo;
pub mod monitor;
pub mod neighbours;
pub mod progress;
pub mod search;
pub mod sheet;
pub mod text;

use crate::model::{Entity, Kind};
use rusqlite::{Connection, OptionalExtension, params};
use rustc_hash::FxHashMap;
use serde_yaml::Mapping;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// At most this many changed files of a kind are read again to patch its
/// image; more, and the kind is checked file by file as without one.
pub const IMAGE_MAX_CHANGED: usize = 64;

/// Files modified less than this long before their row was written are not
/// trusted (git's racy-timestamp rule, with a margin for coarse clocks).
pub const RACY_NS: i64 = 2_000_000_000;

/// True when the index is switched off (`GIT_COORD_NO_CACHE=1`).
pub fn disabled() -> bool {
    std::env::var_os("GIT_COORD_NO_CACHE").is_some_and(|v| v != "0")
}

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

pub(crate) fn now_ns() -> i64 {
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
    /// No file rows at all (a refresh from the monitor's answer, which
    /// touches only the rows of the files it names).
    None,
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
    /// When the file-system monitor vouched for the rows: the file names it
    /// reported changed since they last agreed with the files. Every other
    /// row is current without looking at its file.
    changed: Option<rustc_hash::FxHashSet<String>>,
}

impl Rows {
    /// True when the row of `name` can stand for the file with `stamp`.
    pub fn is_current(&self, name: &str, stamp: &Stamp) -> bool {
        self.rows.get(name).is_some_and(|r| match &self.changed {
            // The monitor saw the file change: whatever its stamp says (an
            // edit in place may keep size, inode and time), read it again.
            Some(changed) if changed.contains(name) => false,
            Some(_) => r.stamp == *stamp,
            None => r.stamp == *stamp && stamp.mtime_ns + RACY_NS < r.indexed_ns,
        })
    }

    /// True when the monitor vouches that the file of `name` has not
    /// changed since its row agreed with it.
    fn vouched(&self, name: &str) -> bool {
        self.changed.as_ref().is_some_and(|c| !c.contains(name))
    }

    /// The stamp of `name` as its row has it, when the monitor vouches for
    /// the row (then the file need not be looked at).
    pub fn vouched_stamp(&self, name: &str) -> Option<Stamp> {
        if self.vouched(name) { self.rows.get(name).map(|r| r.stamp) } else { None }
    }

    /// True when the monitor (or a sheet) vouches for the rows: files it
    /// does not name were not looked at.
    pub fn vouching(&self) -> bool {
        self.changed.is_some()
    }

    /// True when the monitor vouched for the rows and reported no change:
    /// the index agrees with the files of the kind as they are.
    pub fn unchanged(&self) -> bool {
        self.changed.as_ref().is_some_and(|c| c.is_empty())
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
    conn: db::Conn,
    root: String,
    kind: Kind,
    /// When this scan started: the write time of the rows it adds. Taken
    /// before any file is looked at, so a file changed during the scan is
    /// racy against it.
    started_ns: i64,
    rows: Rows,
    fresh: Vec<Fresh>,
    /// The write epoch of the rows as read (see [`KindIndex::save`]).
    epoch: i64,
    /// The monitor token the rows as read agree with, if any.
    token: Option<String>,
    /// The monitor's answer for this scan: its token is stored with the
    /// rows when nothing else wrote them meanwhile.
    answer: Option<monitor::Answer>,
    /// Names whose rows go (a refresh from the monitor's answer).
    removed: Vec<String>,
    /// The skipped names (no entity) and their encoded problems, as read.
    skipped: FxHashMap<String, String>,
    /// The skipped names as they are now, when that changed.
    skipped_now: Option<FxHashMap<String, String>>,
    /// The write epoch the kind's image was made at and the monitor token
    /// it agrees with, if it has one.
    image_at: Option<(i64, Option<String>)>,
    /// A new image to write with the rows ([`KindIndex::set_image`]).
    image: Option<Vec<u8>>,
    /// The newer token the image agrees with (it was served).
    image_token: Option<String>,
    /// Every file of the kind was looked at in this scan: the files whose
    /// rows stand as read, with their stamps. With the files read afresh,
    /// they make the sheet written with the rows ([`sheet`]).
    kept_stamps: Option<Vec<(String, Stamp)>>,
    /// The directory's stamp for the sheet ([`sheet::Sheet::dir`]) and how
    /// many entity files it holds: it goes on the sheet only when every
    /// one of them is there.
    dir_stamp: Option<(Stamp, usize)>,
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
                    conn.discard();
                    db::remove_files(&db::path(git_dir));
                }
                return None;
            }
        };
        let (rows, epoch, token, skipped, image_at) = rows;
        let mut seen = std::collections::HashSet::new();
        let shared_ids = rows.values().filter(|r| !seen.insert(r.id.as_str())).map(|r| r.id.clone()).collect();
        Some(KindIndex {
            conn,
            root,
            kind,
            started_ns,
            rows: Rows { rows, shared_ids, changed: None },
            fresh: Vec::new(),
            epoch,
            token,
            answer: None,
            removed: Vec::new(),
            skipped,
            skipped_now: None,
            image_at,
            image: None,
            image_token: None,
            kept_stamps: None,
            dir_stamp: None,
        })
    }

    /// Drops the row of `name` and its skipped entry, if any (the file
    /// changed: what it is now is put or skipped afresh).
    pub fn forget(&mut self, name: &str) {
        self.removed.push(name.to_string());
        self.unskip(name);
    }

    /// Drops the skipped entry of `name`, if any (a name known to have no
    /// row changed: what it is now is skipped afresh, or not).
    pub fn unskip(&mut self, name: &str) {
        if self.skipped_now.as_ref().unwrap_or(&self.skipped).contains_key(name) {
            self.skipped_now.get_or_insert_with(|| self.skipped.clone()).remove(name);
        }
    }

    /// Records `name` as skipped (no entity) with its problems.
    pub fn skip(&mut self, name: &str, problems: &[crate::problem::Problem]) {
        let encoded = graph::encode_problems(problems).unwrap_or_default();
        self.skipped_now.get_or_insert_with(|| self.skipped.clone()).insert(name.to_string(), encoded);
    }

    /// Replaces the skipped names by `all` (a full scan saw every name).
    pub fn set_skipped(&mut self, all: Vec<(String, Vec<crate::problem::Problem>)>) {
        let now: FxHashMap<String, String> = all
            .into_iter()
            .map(|(name, problems)| (name, graph::encode_problems(&problems).unwrap_or_default()))
            .collect();
        if now != self.skipped {
            self.skipped_now = Some(now);
        }
    }

    /// The problems of the skipped names, as they are now, in name order.
    pub fn skipped_problems(&self) -> Vec<crate::problem::Problem> {
        let map = self.skipped_now.as_ref().unwrap_or(&self.skipped);
        let mut names: Vec<&String> = map.keys().collect();
        names.sort_unstable();
        names.into_iter().flat_map(|n| graph::decode_problems(&map[n]).unwrap_or_default()).collect()
    }

    /// Writes the changes of a refresh from the monitor's answer (the rows
    /// put and forgotten, the skipped names) with its token; see
    /// [`KindIndex::save`].
    pub fn save_changes(mut self, git_dir: &Path) -> bool {
        let removed = std::mem::take(&mut self.removed);
        // A name read again keeps its row (and row ID): only what differs
        // is written.
        let fresh: std::collections::HashSet<&str> = self.fresh.iter().map(|f| f.name.as_str()).collect();
        let removed: Vec<&String> = removed.iter().filter(|n| !fresh.contains(n.as_str())).collect();
        self.commit(&removed, git_dir)
    }

    /// The monitor token the rows agree with, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Takes the monitor's answer for this scan (asked with [`Self::token`]
    /// before any file was looked at): with `Changed`, every row whose file
    /// is not named is current as it stands.
    pub fn apply(&mut self, answer: monitor::Answer) {
        if let monitor::Answer::Changed { names, .. } = &answer {
            let prefix = format!("{}/", self.kind.dir_name());
            self.rows.changed =
                Some(names.iter().filter_map(|n| n.strip_prefix(&prefix)).map(str::to_string).collect());
        }
        self.answer = Some(answer);
    }

    /// The monitor token the kind's image agrees with, when it was made
    /// from the rows as they stand (same write epoch): the token to ask the
    /// monitor with before the image may stand for the files.
    pub fn image_token(&self) -> Option<&str> {
        self.image_at.as_ref().filter(|(epoch, _)| *epoch == self.epoch).and_then(|(_, t)| t.as_deref())
    }

    /// The files of the kind from its image, given the monitor's answer to
    /// [`Self::image_token`]: each file's name, slim entity and problems, in
    /// natural ID order, and the names of the kind's files the monitor
    /// reports changed since (at most [`IMAGE_MAX_CHANGED`]; the caller
    /// reads those again and puts or forgets their rows). `None` when the
    /// image cannot serve: another daemon's answer, more changed names, or a
    /// name in the kind that is no entity (whose problems an image does not
    /// hold). The answer's token is stored with the rows and the image on
    /// [`KindIndex::save_changes`].
    pub fn image<T>(
        &mut self,
        answer: monitor::Answer,
        entry: &dyn Fn(graph::ImageEntry) -> T,
    ) -> Option<(Vec<T>, Vec<String>)> {
        let monitor::Answer::Changed { names, token } = &answer else { return None };
        let prefix = format!("{}/", self.kind.dir_name());
        let changed: Vec<String> = names.iter().filter_map(|n| n.strip_prefix(&prefix)).map(str::to_string).collect();
        let files = self.image_files(&changed, Some(self.image_token()?.to_string()), entry)?;
        self.image_token = Some(token.clone());
        self.rows.changed = Some(changed.iter().cloned().collect());
        self.answer = Some(answer);
        Some((files, changed))
    }

    /// The files of the kind from its image, as [`Self::image`] gives them,
    /// when the image was made from the rows as they stand and `changed`
    /// are the names the kind's sheet ([`Self::with_sheet`], checked by the
    /// caller against the files) reports changed.
    pub fn image_by_sheet<T>(
        &mut self,
        changed: Vec<String>,
        entry: &dyn Fn(graph::ImageEntry) -> T,
    ) -> Option<(Vec<T>, Vec<String>)> {
        if self.image_at.as_ref().is_none_or(|(epoch, _)| *epoch != self.epoch) {
            return None;
        }
        let files = self.image_files(&changed, None, entry)?;
        self.rows.changed = Some(changed.iter().cloned().collect());
        Some((files, changed))
    }

    /// The image's files, when it can serve with `changed` names to read
    /// again and (when vouched for by the monitor) agrees with `token`.
    fn image_files<T>(
        &self,
        changed: &[String],
        token: Option<String>,
        entry: &dyn Fn(graph::ImageEntry) -> T,
    ) -> Option<Vec<T>> {
        if changed.len() > IMAGE_MAX_CHANGED || !self.skipped.is_empty() {
            return None;
        }
        // The document read must be the one the epoch and token checked
        // belong to (another process may have written a new image since):
        // both are written in one transaction and read here together. It
        // is decoded where SQLite holds it, not copied first.
        let kind = self.kind;
        self.conn
            .query_row(
                "SELECT d.data FROM idx_image_data d JOIN idx_image i USING (root, kind) \
                 WHERE d.root = ?1 AND d.kind = ?2 AND i.epoch = ?3 AND (?4 IS NULL OR i.token = ?4)",
                params![self.root, kind.dir_name(), self.epoch, token],
                |r| Ok(graph::decode_image(kind, r.get_ref(0)?.as_blob()?, entry)),
            )
            .ok()?
    }

    /// Calls `f` with the kind's stored sheet, when it was written with the
    /// rows as they stand (the same write epoch, still the kind's): the
    /// stamps its files are checked against instead of every row's. The
    /// sheet's names are borrowed from where SQLite holds it.
    pub fn with_sheet<R>(&self, f: impl FnOnce(&sheet::Sheet<&str>) -> R) -> Option<R> {
        self.sheet_query("s.data", |r| Ok(sheet::Sheet::decode(r.get_ref(0)?.as_blob()?).map(|s| f(&s)))).flatten()
    }

    /// True when the kind has a sheet written with the rows as they stand
    /// (without reading it): whether looking at the files can pay off.
    pub fn has_sheet(&self) -> bool {
        self.sheet_query("1", |_| Ok(())).is_some()
    }

    fn sheet_query<R>(&self, what: &str, f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<R>) -> Option<R> {
        self.conn
            .query_row(
                &format!(
                    "SELECT {what} FROM idx_sheet s JOIN idx_monitor m USING (root, kind) \
                     WHERE s.root = ?1 AND s.kind = ?2 AND s.epoch = ?3 AND m.epoch = ?3"
                ),
                params![self.root, self.kind.dir_name(), self.epoch],
                f,
            )
            .optional()
            .ok()
            .flatten()
    }

    /// Every file of the kind was looked at in this scan (none vouched for
    /// by the monitor): `kept` are the files whose rows stand, with the
    /// stamps they were looked at with. A sheet of them and of the files
    /// read afresh is written with the rows, unless the stored one already
    /// says the same.
    /// `dir` is the directory's stamp for the sheet, if it may have one
    /// ([`sheet::Sheet::dir`]), with the number of entity files in it: the
    /// stamp is kept only if each of them has a row on the sheet (a file
    /// without one must be listed to be found again).
    pub fn keep_stamps(&mut self, kept: Vec<(String, Stamp)>, dir: Option<(Stamp, usize)>) {
        self.kept_stamps = Some(kept);
        self.dir_stamp = dir;
    }

    /// The sheet this scan leaves, when it looked at every file: the kept
    /// files and the ones read afresh whose rows are written.
    /// `dropped` are fresh files whose rows could not be written.
    fn new_sheet(&self, dropped: &[&str]) -> Option<sheet::Sheet> {
        let kept = self.kept_stamps.as_ref()?;
        let fresh =
            self.fresh.iter().filter(|f| !dropped.contains(&f.name.as_str())).map(|f| (f.name.clone(), f.stamp));
        let mut sheet = sheet::Sheet::new(self.started_ns, None, kept.iter().cloned().chain(fresh).collect());
        sheet.dir = self.dir_stamp.filter(|(_, files)| *files == sheet.files.len()).map(|(d, _)| d);
        Some(sheet)
    }

    /// True when the sheet this scan leaves would tell a later check
    /// something the stored one does not.
    fn sheet_news(&self) -> bool {
        self.kept_stamps.is_some()
            && self.new_sheet(&[]).is_none_or(|new| self.with_sheet(|stored| !stored.covers(&new)).unwrap_or(true))
    }

    /// True when the monitor answered this scan: an image made from it can
    /// be vouched for later.
    pub fn answered(&self) -> bool {
        self.answer.is_some()
    }

    /// An image of the kind's files to write with the rows on
    /// [`KindIndex::save`], with the epoch the rows then have and this
    /// scan's monitor token (not written when another process wrote rows
    /// meanwhile, or without an answer).
    pub fn set_image(&mut self, image: Vec<u8>) {
        self.image = Some(image);
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
    ///
    /// Every write of rows moves the kind's epoch on. The monitor's token
    /// of this scan is stored with the rows only when the epoch is still
    /// the one read with them (no other process wrote rows in between,
    /// whose view could be older than this token); otherwise no token is
    /// stored and the next scan with the monitor validates every file.
    pub fn save(self, live: &[String], git_dir: &Path) -> bool {
        // The monitor vouched that no file of the kind changed and nothing
        // was read afresh: every row is live and the token stands.
        if self.rows.unchanged()
            && self.fresh.is_empty()
            && self.skipped_now.is_none()
            && self.image.is_none()
            && self.image_token.is_none()
            && self.kept_stamps.is_none()
            && self.answer.as_ref().is_some_and(|a| Some(a.token()) == self.token.as_deref())
        {
            return true;
        }
        let stale: Vec<String> = {
            let keep: std::collections::HashSet<&String> = live.iter().collect();
            self.rows.rows.keys().filter(|k| !keep.contains(k)).cloned().collect()
        };
        let stale: Vec<&String> = stale.iter().collect();
        self.commit(&stale, git_dir)
    }

    fn commit(mut self, stale: &[&String], git_dir: &Path) -> bool {
        // Skipped names put back as they were are no change.
        if self.skipped_now.as_ref() == Some(&self.skipped) {
            self.skipped_now = None;
        }
        // Without an answer and without a write, the stored token still
        // holds (the rows did not change): nothing to write.
        let new_token = self.answer.as_ref().map(|a| a.token());
        if self.fresh.is_empty()
            && stale.is_empty()
            && self.skipped_now.is_none()
            && self.image.is_none()
            && self
                .image_token
                .as_deref()
                .is_none_or(|t| Some(t) == self.image_at.as_ref().and_then(|(_, it)| it.as_deref()))
            && new_token.is_none_or(|t| Some(t) == self.token.as_deref())
            && !self.sheet_news()
        {
            return true;
        }
        match self.write(stale) {
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
        // Full-text rows deleted or written: many of them leave the
        // full-text index in pieces, which it is merged back from after.
        let mut text_writes = 0usize;
        {
            let kind = self.kind.dir_name();
            let mut find =
                tx.prepare_cached("SELECT rid FROM idx_files WHERE root = ?1 AND kind = ?2 AND name = ?3")?;
            let mut del = tx.prepare_cached("DELETE FROM idx_files WHERE rid = ?1")?;
            let mut del_fts = tx.prepare_cached("DELETE FROM fts_entities WHERE rowid = ?1")?;
            let mut del_refs = tx.prepare_cached("DELETE FROM idx_refs WHERE rid = ?1")?;
            let mut deleted = 0usize;
            for name in stale {
                let rid: Option<i64> = find.query_row(params![self.root, kind, name], |r| r.get(0)).optional()?;
                if let Some(rid) = rid {
                    del.execute([rid])?;
                    del_fts.execute([rid])?;
                    del_refs.execute([rid])?;
                    text_writes += 1;
                    deleted += 1;
                }
            }
            let epoch: i64 = tx
                .query_row(
                    "SELECT epoch FROM idx_monitor WHERE root = ?1 AND kind = ?2",
                    params![self.root, kind],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or(0);
            if let Some(now) = &self.skipped_now {
                tx.execute("DELETE FROM idx_skipped WHERE root = ?1 AND kind = ?2", params![self.root, kind])?;
                let mut ins =
                    tx.prepare_cached("INSERT INTO idx_skipped (root, kind, name, problems) VALUES (?1, ?2, ?3, ?4)")?;
                for (name, problems) in now {
                    ins.execute(params![self.root, kind, name, problems])?;
                }
            }
            let rows_written = !self.fresh.is_empty() || deleted > 0 || self.skipped_now.is_some();
            // Whether the rows are still the ones this scan read (no other
            // process wrote since): only then may a token, image or sheet
            // made from them be stored.
            let current = epoch == self.epoch;
            let token = self.answer.as_ref().map(|a| a.token()).filter(|_| current);
            // A sheet goes with every write of rows by a scan that looked at
            // every file; without one, only when it says something new.
            let write_sheet = current && self.kept_stamps.is_some() && (rows_written || self.sheet_news());
            let new_epoch = if rows_written { epoch + 1 } else { epoch };
            tx.execute(
                "INSERT INTO idx_monitor (root, kind, token, epoch) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (root, kind) DO UPDATE SET token = excluded.token, epoch = excluded.epoch",
                params![self.root, kind, token, new_epoch],
            )?;
            // The image describes the rows as this scan leaves them, and the
            // files as of this scan's token or its sheet (written below, or
            // the stored one, which says the same): only when no other
            // process wrote rows since they were read.
            if let Some(image) = &self.image
                && current
                && (token.is_some() || self.kept_stamps.is_some())
            {
                tx.execute(
                    "INSERT INTO idx_image (root, kind, epoch, token) VALUES (?1, ?2, ?3, ?4) \
                     ON CONFLICT (root, kind) DO UPDATE SET epoch = excluded.epoch, token = excluded.token",
                    params![self.root, kind, new_epoch, token],
                )?;
                tx.execute(
                    "INSERT INTO idx_image_data (root, kind, data) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (root, kind) DO UPDATE SET data = excluded.data",
                    params![self.root, kind, image],
                )?;
            } else if let (Some(newer), Some(_)) = (&self.image_token, &token) {
                // A served image agrees with the newer token too.
                tx.execute(
                    "UPDATE idx_image SET token = ?3 WHERE root = ?1 AND kind = ?2 AND epoch = ?4",
                    params![self.root, kind, newer, epoch],
                )?;
            }
            let mut ins = tx.prepare_cached(
                "INSERT INTO idx_files (root, kind, name, size, mtime_ns, ino, indexed_ns, id, map, status, \
                 priority, assignee, title, repos, labels, clean, g, problems, j) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, \
                 ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
            )?;
            let mut restamp = tx.prepare_cached(
                "UPDATE idx_files SET size = ?2, mtime_ns = ?3, ino = ?4, indexed_ns = ?5 WHERE rid = ?1",
            )?;
            let mut update = tx.prepare_cached(
                "UPDATE idx_files SET size = ?2, mtime_ns = ?3, ino = ?4, indexed_ns = ?5, id = ?6, map = ?7, \
                 status = ?8, priority = ?9, assignee = ?10, title = ?11, repos = ?12, labels = ?13, clean = ?14, \
                 g = ?15, problems = ?16, j = ?17 WHERE rid = ?1",
            )?;
            // Whether a stored row, full-text row, holds these values.
            let mut same_row = tx.prepare_cached(
                "SELECT id IS ?2 AND map IS ?3 AND status IS ?4 AND priority IS ?5 AND assignee IS ?6 \
                 AND title IS ?7 AND repos IS ?8 AND labels IS ?9 AND clean IS ?10 AND g IS ?11 \
                 AND problems IS ?12 AND j IS ?13 FROM idx_files WHERE rid = ?1",
            )?;
            let mut same_text = tx.prepare_cached(
                "SELECT id IS ?2 AND title IS ?3 AND body IS ?4 AND labels IS ?5 FROM fts_entities WHERE rowid = ?1",
            )?;
            let mut old_refs = tx.prepare_cached("SELECT target FROM idx_refs WHERE rid = ?1 ORDER BY rowid")?;
            let mut ins_fts = tx.prepare_cached(
                "INSERT INTO fts_entities (rowid, id, title, body, labels) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            let mut ins_ref = tx.prepare_cached("INSERT INTO idx_refs (rid, target) VALUES (?1, ?2)")?;
            // Fresh files whose rows could not be written (not on the sheet).
            let mut dropped: Vec<&str> = Vec::new();
            for f in &self.fresh {
                let old: Option<i64> = find.query_row(params![self.root, kind, f.name], |r| r.get(0)).optional()?;
                let Ok(json) = serde_json::to_string(&f.map) else {
                    dropped.push(&f.name);
                    // No row may stand for a file it no longer describes.
                    if let Some(rid) = old {
                        del.execute([rid])?;
                        del_fts.execute([rid])?;
                        del_refs.execute([rid])?;
                        text_writes += 1;
                    }
                    continue;
                };
                let clean = f.problems.is_empty();
                let problems = if clean { None } else { graph::encode_problems(&f.problems) };
                let id = f.entity.id();
                let cols = text::Columns::of(&f.entity);
                let g = graph::encode(&f.entity);
                let listed = listing::encode(&f.entity);
                let mentions = neighbours::mentions(&f.entity);
                let derived = params![
                    id,
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
                    listed
                ];
                let stamp = params![f.stamp.size, f.stamp.mtime_ns, f.stamp.ino, self.started_ns];
                let Some(rid) = old else {
                    let mut all: Vec<&dyn rusqlite::ToSql> = vec![&self.root, &kind, &f.name];
                    all.extend_from_slice(stamp);
                    all.extend_from_slice(derived);
                    ins.execute(all.as_slice())?;
                    let rid = tx.last_insert_rowid();
                    ins_fts.execute(params![rid, id, cols.title, cols.body, cols.labels])?;
                    text_writes += 1;
                    for target in &mentions {
                        ins_ref.execute(params![rid, target])?;
                    }
                    continue;
                };
                // A file read again keeps its row, and only what differs
                // from what it gives now is written: a file touched or
                // checked out again with the same content costs its stamp,
                // and its full-text row keeps its ID (new IDs for old
                // documents are what leaves the full-text index in pieces).
                // Every stored value is compared, so one that is not what
                // the file gives is mended whenever the file is read.
                let mut args: Vec<&dyn rusqlite::ToSql> = vec![&rid];
                args.extend_from_slice(derived);
                let row_same = same_row.query_row(args.as_slice(), |r| r.get::<_, bool>(0)).optional()?;
                let mut args: Vec<&dyn rusqlite::ToSql> = vec![&rid];
                args.extend_from_slice(stamp);
                if row_same == Some(true) {
                    restamp.execute(args.as_slice())?;
                } else {
                    args.extend_from_slice(derived);
                    update.execute(args.as_slice())?;
                }
                let text_same = same_text
                    .query_row(params![rid, id, cols.title, cols.body, cols.labels], |r| r.get::<_, bool>(0))
                    .optional()?;
                if text_same != Some(true) {
                    del_fts.execute([rid])?;
                    ins_fts.execute(params![rid, id, cols.title, cols.body, cols.labels])?;
                    text_writes += 1;
                }
                let stored: Vec<String> = old_refs.query_map([rid], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                if stored != mentions {
                    del_refs.execute([rid])?;
                    for target in &mentions {
                        ins_ref.execute(params![rid, target])?;
                    }
                }
            }
            if write_sheet && let Some(data) = self.new_sheet(&dropped).and_then(|s| s.encode()) {
                tx.execute(
                    "INSERT INTO idx_sheet (root, kind, epoch, taken_ns, data) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (root, kind) DO UPDATE SET epoch = excluded.epoch, taken_ns = excluded.taken_ns, \
                     data = excluded.data",
                    params![self.root, kind, new_epoch, self.started_ns, data],
                )?;
            }
        }
        tx.commit()?;
        if text_writes >= db::TEXT_WRITES_TO_MERGE {
            db::merge_text(&self.conn);
        }
        Ok(())
    }

    /// How many files were read afresh in this scan.
    pub fn fresh_count(&self) -> usize {
        self.fresh.len()
    }
}

/// The rows of one kind with the write epoch and monitor token they go
/// with, and the skipped names, read in one transaction (one consistent
/// snapshot).
type Read = (FxHashMap<String, Row>, i64, Option<String>, FxHashMap<String, String>, Option<(i64, Option<String>)>);

fn read_rows(conn: &Connection, root: &str, kind: Kind, columns: Columns) -> rusqlite::Result<Read> {
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Deferred)?;
    let (epoch, token) = tx
        .query_row(
            "SELECT epoch, token FROM idx_monitor WHERE root = ?1 AND kind = ?2",
            params![root, kind.dir_name()],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?)),
        )
        .optional()?
        .unwrap_or((0, None));
    let rows = if columns == Columns::None { FxHashMap::default() } else { file_rows(&tx, root, kind, columns)? };
    let skipped = {
        let mut st = tx.prepare_cached("SELECT name, problems FROM idx_skipped WHERE root = ?1 AND kind = ?2")?;
        st.query_map(params![root, kind.dir_name()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let image = tx
        .query_row(
            "SELECT epoch, token FROM idx_image WHERE root = ?1 AND kind = ?2",
            params![root, kind.dir_name()],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<String>>(1)?)),
        )
        .optional()?;
    tx.commit()?;
    Ok((rows, epoch, token, skipped, image))
}

fn file_rows(conn: &Connection, root: &str, kind: Kind, columns: Columns) -> rusqlite::Result<FxHashMap<String, Row>> {
    let sql = match columns {
        Columns::Maps => {
            "SELECT name, size, mtime_ns, ino, indexed_ns, clean, map, id, status, NULL, NULL FROM idx_files WHERE root = \
             ?1 AND kind = ?2"
        }
        Columns::Graph => {
            "SELECT name, size, mtime_ns, ino, indexed_ns, clean, CASE WHEN g IS NULL THEN map END, id, status, g, \
             problems FROM idx_files WHERE root = ?1 AND kind = ?2"
        }
        Columns::Stamps | Columns::None => {
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
