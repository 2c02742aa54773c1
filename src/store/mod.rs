//! The store: coordination data on disk, one YAML file per entity plus the
//! legacy `coordination:` section of `settings/ecosystem.yaml`.
//!
//! Loading aggregates both (the file wins when an ID is in both, with a
//! warning naming both places) and never lets one broken file hide the rest:
//! problems are collected with file, line and field. Writing goes through
//! [`Store::write_new`], [`Store::write_update`] and [`Store::remove`] only —
//! atomic (temp file + rename), minimal-diff, verified by re-parsing.

pub mod edit;
pub mod files;
pub mod ids;
pub mod lines;
pub mod root;
pub mod scan;

use crate::ecosystem::Registry;
use crate::error::{Error, Result};
use crate::model::id::validate_id;
use crate::model::reader::{FieldProblemKind, scalar_text};
use crate::model::{Entity, FieldProblem, Kind};
use crate::problem::Problem;
use crate::settings::{Limits, Settings};
use rayon::prelude::*;
use serde_yaml::{Mapping, Value};
use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use root::Root;

/// After this long waiting for the write lock, the wait is reported.
const LOCK_WAIT_NOTICE: std::time::Duration = std::time::Duration::from_secs(1);

thread_local! {
    /// Roots whose write lock this thread holds, with the nesting depth.
    static HELD_LOCKS: std::cell::RefCell<HashMap<PathBuf, usize>> = std::cell::RefCell::new(HashMap::new());
}

/// A wait hook: the front end's way to tell the user a write is waiting.
type LockWaitHook = Box<dyn Fn(&LockWait<'_>) + Send + Sync>;

static LOCK_WAIT_HOOK: std::sync::OnceLock<LockWaitHook> = std::sync::OnceLock::new();

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
            let _ = std::fs::remove_file(p);
        }
        // Closing the file releases the flock.
        self.file.take();
    }
}

/// Where an entity was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Its own file.
    File(PathBuf),
    /// An item of `coordination.<kind>` in `settings/ecosystem.yaml`.
    Legacy(PathBuf),
}

impl Origin {
    /// The file.
    pub fn path(&self) -> &Path {
        match self {
            Origin::File(p) | Origin::Legacy(p) => p,
        }
    }
}

/// One loaded entity with where it came from.
#[derive(Debug, Clone)]
pub struct Record {
    pub entity: Entity,
    pub origin: Origin,
    /// Field problems found while reading (with lines resolved).
    pub problems: Vec<Problem>,
}

impl Record {
    /// True when a field had the wrong type: writing could lose data, so
    /// writes are refused until the file is fixed.
    pub fn is_broken(&self) -> bool {
        self.problems.iter().any(|p| p.code == "type")
    }
}

/// Everything loaded for a command.
#[derive(Debug, Default)]
pub struct Loaded {
    pub registry: Registry,
    records: HashMap<Kind, Vec<Record>>,
    index: HashMap<Kind, rustc_hash::FxHashMap<String, usize>>,
    /// Load problems: unreadable files, field problems, duplicates, overrides.
    pub problems: Vec<Problem>,
    /// Kinds that were loaded.
    pub kinds: Vec<Kind>,
}

/// Sorts IDs naturally (`ISSUE-999` before `ISSUE-1000`).
pub fn natural_key(id: &str) -> (String, u64, String) {
    match id.rfind('-') {
        Some(i) if id[i + 1..].bytes().all(|b| b.is_ascii_digit()) && i + 1 < id.len() => {
            (id[..i].to_string(), id[i + 1..].parse().unwrap_or(u64::MAX), String::new())
        }
        _ => (id.to_string(), 0, id.to_string()),
    }
}

impl Loaded {
    /// The records of one kind, in natural ID order.
    pub fn records(&self, kind: Kind) -> &[Record] {
        self.records.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Looks up a record.
    pub fn get(&self, kind: Kind, id: &str) -> Option<&Record> {
        self.index.get(&kind)?.get(id).map(|&i| &self.records[&kind][i])
    }

    /// Takes a record out (the index of that kind is rebuilt).
    pub fn take(&mut self, kind: Kind, id: &str) -> Option<Record> {
        let i = *self.index.get(&kind)?.get(id)?;
        let recs = self.records.get_mut(&kind)?;
        let r = recs.remove(i);
        let map = self.index.entry(kind).or_default();
        map.clear();
        for (j, r) in recs.iter().enumerate() {
            map.insert(r.entity.id().to_string(), j);
        }
        Some(r)
    }

    /// Adds a record (after the others of its kind), replacing none: take
    /// the old version out first.
    pub fn put(&mut self, record: Record) {
        let kind = record.entity.kind();
        let recs = self.records.entry(kind).or_default();
        self.index.entry(kind).or_default().insert(record.entity.id().to_string(), recs.len());
        recs.push(record);
    }

    /// Finds an ID of any loaded kind.
    pub fn find_any(&self, id: &str) -> Option<&Record> {
        Kind::ALL.iter().find_map(|k| self.get(*k, id))
    }

    /// All issues.
    pub fn issues(&self) -> impl Iterator<Item = &crate::model::Issue> {
        self.records(Kind::Issue).iter().filter_map(|r| match &r.entity {
            Entity::Issue(e) => Some(e),
            _ => None,
        })
    }
    /// All plans.
    pub fn plans(&self) -> impl Iterator<Item = &crate::model::Plan> {
        self.records(Kind::Plan).iter().filter_map(|r| match &r.entity {
            Entity::Plan(e) => Some(e),
            _ => None,
        })
    }
    /// All todos.
    pub fn todos(&self) -> impl Iterator<Item = &crate::model::Todo> {
        self.records(Kind::Todo).iter().filter_map(|r| match &r.entity {
            Entity::Todo(e) => Some(e),
            _ => None,
        })
    }
    /// All dependencies.
    pub fn dependencies(&self) -> impl Iterator<Item = &crate::model::Dependency> {
        self.records(Kind::Dependency).iter().filter_map(|r| match &r.entity {
            Entity::Dependency(e) => Some(e),
            _ => None,
        })
    }

    /// A milestone by ID, with its plan.
    pub fn milestone(&self, id: &str) -> Option<(&crate::model::Plan, &crate::model::Milestone)> {
        self.plans().find_map(|p| p.milestones.iter().find(|m| m.id == id).map(|m| (p, m)))
    }
}

/// Coordination data as texts, independent of the file system: what a
/// revision held (see `history::snapshot`). Loaded with [`Store::load_snapshot`].
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The text of `settings/ecosystem.yaml`, if the revision has one.
    pub ecosystem: Option<String>,
    /// Per kind: (file name, text) of each file in `coordination/<kind>/`.
    pub files: HashMap<Kind, Vec<(String, String)>>,
}

/// A parsed `settings/ecosystem.yaml`.
struct EcosystemDoc {
    path: PathBuf,
    text: String,
    doc: Option<Mapping>,
}

/// How [`Store::file_records`] reads one kind's files through the index.
#[derive(Default)]
struct Scan<'a> {
    /// Decode the files whose row is current (a load); without, they yield
    /// no record (bringing the index up to date for a query).
    decode: bool,
    /// Statuses a caller will keep: a file whose current, problem-free row
    /// has another status (and an ID no other file has) is not decoded.
    only_status: Option<&'a [String]>,
    /// Set when the index is up to date afterwards.
    indexed: bool,
    /// The (ID, file) of the files left undecoded by `only_status`.
    skipped: Vec<(String, PathBuf)>,
}

/// The coordination store of one root.
#[derive(Debug, Clone)]
pub struct Store {
    pub root: Root,
    pub settings: Settings,
    /// Warnings from reading settings.
    pub settings_warnings: Vec<Problem>,
    /// Let an update rewrite a file canonically when a minimal edit is
    /// impossible even though that drops its comments or anchors (`--rewrite`).
    /// Off by default: such an update is refused (see [`Store::write_update`]).
    pub allow_rewrite: bool,
}

/// The outcome of an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Only the changed lines were edited.
    Minimal,
    /// The format-preserving edit was impossible; the entity was rewritten
    /// canonically (only when that lost no comment or anchor, or with `--rewrite`).
    Canonical,
    /// Nothing differed.
    Unchanged,
}

impl Store {
    /// Opens the store for the root discovered from `start`.
    pub fn open(start: &Path) -> Result<Store> {
        let root = Root::discover(start)?;
        let (settings, settings_warnings) = Settings::load(&root.dir)?;
        Ok(Store { root, settings, settings_warnings, allow_rewrite: false })
    }

    /// `<root>/coordination`.
    pub fn coord_dir(&self) -> PathBuf {
        self.root.dir.join("coordination")
    }

    /// The directory of one kind.
    pub fn kind_dir(&self, kind: Kind) -> PathBuf {
        self.coord_dir().join(kind.dir_name())
    }

    /// The file an entity of `kind` with `id` lives in.
    pub fn entity_path(&self, kind: Kind, id: &str) -> Result<PathBuf> {
        validate_id(id)?;
        Ok(self.kind_dir(kind).join(format!("{id}.yaml")))
    }

    /// `<root>/settings/ecosystem.yaml`.
    pub fn ecosystem_path(&self) -> PathBuf {
        self.root.dir.join("settings/ecosystem.yaml")
    }

    /// A path relative to the root, for messages.
    pub fn rel(&self, p: &Path) -> PathBuf {
        p.strip_prefix(&self.root.dir).map(Path::to_path_buf).unwrap_or_else(|_| p.to_path_buf())
    }

    /// The ID prefix for a kind.
    pub fn prefix(&self, kind: Kind) -> &str {
        self.settings.id_prefixes.for_kind(kind)
    }

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
            return Ok(StoreLock { file: None, dir, holder: None });
        }
        let f = File::open(&dir).map_err(|e| Error::io(&dir, e))?;
        let holder = self.lock_holder_path();
        let started = std::time::Instant::now();
        loop {
            match f.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&dir, e)),
            }
            if started.elapsed() >= LOCK_WAIT_NOTICE {
                let by = holder.as_ref().and_then(|p| std::fs::read_to_string(p).ok()).filter(|t| !t.is_empty());
                if let Some(hook) = LOCK_WAIT_HOOK.get() {
                    hook(&LockWait { root: &dir, holder: by.as_deref() });
                }
                // Told once: now wait without polling.
                f.lock().map_err(|e| Error::io(&dir, e))?;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        // Best effort: only used to name the holder to a waiting process.
        let holder = holder.filter(|p| {
            p.parent().is_some_and(|d| std::fs::create_dir_all(d).is_ok())
                && std::fs::write(p, format!("{what}, pid {}", std::process::id())).is_ok()
        });
        HELD_LOCKS.with(|h| h.borrow_mut().insert(dir.clone(), 1));
        Ok(StoreLock { file: Some(f), dir, holder })
    }

    /// Where the lock holder describes itself: in the git directory, next to
    /// the parse cache (never in the work tree). `None` outside a repository.
    fn lock_holder_path(&self) -> Option<PathBuf> {
        let key = match self.root.prefix_in_repo()?.as_str() {
            "" => "root".to_string(),
            p => p.replace(['/', '\\'], "%"),
        };
        Some(self.root.git_dir()?.join("git-coord").join(format!("lock-{key}.holder")))
    }

    /// Reads `settings/ecosystem.yaml`: `Ok(None)` when absent, an error when
    /// it cannot be read (too large, not a regular file, not UTF-8).
    fn read_ecosystem(&self) -> Result<Option<EcosystemDoc>> {
        let path = self.ecosystem_path();
        if !path.exists() {
            return Ok(None);
        }
        let text = files::read_text_following(&path, self.settings.limits.max_file_bytes)?;
        Ok(Some(EcosystemDoc { path, text, doc: None }))
    }

    /// Parses a file's text with this store's limits.
    pub fn parse(&self, text: &str) -> std::result::Result<Mapping, ParseError> {
        parse_document(text, &self.settings.limits)
    }

    /// Loads the registry and the given kinds (files and legacy section).
    pub fn load(&self, kinds: &[Kind]) -> Result<Loaded> {
        self.load_from(kinds, None, None)
    }

    /// [`Store::load`] of one kind for a caller that keeps only entities
    /// with one of `statuses` (canonical words): the index answers which
    /// files have another status, and those are not decoded (they are
    /// absent from the result). Every other rule is [`Store::load`]'s.
    pub fn load_with_status(&self, kind: Kind, statuses: &[String]) -> Result<Loaded> {
        self.load_from(&[kind], None, Some(statuses))
    }

    /// Loads the given kinds from a snapshot (coordination data as it was at
    /// a revision) with exactly the rules of [`Store::load`]. Records' origins
    /// name the paths the files have in the work tree.
    pub fn load_snapshot(&self, snapshot: &Snapshot, kinds: &[Kind]) -> Result<Loaded> {
        self.load_from(kinds, Some(snapshot), None)
    }

    fn load_from(&self, kinds: &[Kind], snapshot: Option<&Snapshot>, only_status: Option<&[String]>) -> Result<Loaded> {
        let mut loaded = Loaded { kinds: kinds.to_vec(), ..Loaded::default() };
        loaded.problems.extend(self.settings_warnings.iter().cloned());
        let mut legacy: HashMap<Kind, Vec<Record>> = HashMap::new();
        let eco = match snapshot {
            None => self.read_ecosystem().unwrap_or_else(|e| {
                loaded.problems.push(read_problem(&e, &self.rel(&self.ecosystem_path())));
                None
            }),
            Some(s) => s.ecosystem.clone().map(|text| EcosystemDoc { path: self.ecosystem_path(), text, doc: None }),
        };
        if let Some(mut eco) = eco {
            let rel = self.rel(&eco.path);
            match self.parse(&eco.text) {
                Ok(doc) => eco.doc = Some(doc),
                Err(e) => loaded.problems.push(Problem::error(e.code(), e.message()).at(&rel, e.line())),
            }
            if let Some(doc) = &eco.doc {
                let (registry, problems) = Registry::from_document(doc, &rel);
                loaded.registry = registry;
                loaded.problems.extend(problems);
                for &kind in kinds {
                    let recs = self.legacy_records(doc, &eco, kind, &mut loaded.problems);
                    legacy.insert(kind, recs);
                }
            }
        }
        // A `coordination/` that is a link (or a file) is never followed.
        let coord_ok = snapshot.is_some()
            || match files::check_dir(&self.coord_dir()) {
                Ok(_) => true,
                Err(e) => {
                    loaded.problems.push(read_problem(&e, &self.rel(&self.coord_dir())));
                    false
                }
            };
        if snapshot.is_none() && coord_ok {
            for dir in [self.coord_dir(), self.root.dir.join("settings")] {
                loaded.problems.extend(self.stale_temp_problems(&dir));
            }
        }
        // Kinds are read in parallel: each kind's parse cache is decoded on one
        // thread, so overlapping the kinds beats the per-file parallelism alone.
        type KindFiles = (Result<Vec<Record>>, Vec<Problem>, Vec<(String, PathBuf)>);
        let files: Vec<KindFiles> = kinds
            .par_iter()
            .map(|&kind| {
                let mut problems = Vec::new();
                let mut scan = Scan { decode: true, only_status, ..Scan::default() };
                let recs = match snapshot {
                    None if !coord_ok => Ok(Vec::new()),
                    None => self.file_records(kind, &mut problems, &mut scan),
                    Some(s) => Ok(self.snapshot_records(s, kind, &mut problems)),
                };
                (recs, problems, scan.skipped)
            })
            .collect();
        for (&kind, (recs, problems, skipped)) in kinds.iter().zip(files) {
            loaded.problems.extend(problems);
            let mut recs = recs?;
            // Undecoded files still hold their IDs (a legacy item with one
            // is overridden, exactly as when they are read).
            let mut seen: HashMap<String, PathBuf> = skipped.into_iter().collect();
            recs.retain(|r| {
                let id = r.entity.id().to_string();
                if let Some(first) = seen.get(&id) {
                    loaded.problems.extend(r.problems.iter().cloned());
                    loaded.problems.push(
                        Problem::error(
                            "duplicate",
                            format!("duplicate ID: also defined in {}", self.rel(first).display()),
                        )
                        .at(self.rel(r.origin.path()), Some(1))
                        .on(&id),
                    );
                    false
                } else {
                    seen.insert(id, r.origin.path().to_path_buf());
                    true
                }
            });
            for r in legacy.remove(&kind).unwrap_or_default() {
                let id = r.entity.id().to_string();
                if let Some(file) = seen.get(&id) {
                    loaded.problems.push(
                        Problem::warning(
                            "override",
                            format!(
                                "defined both in {} and in the legacy section of {}; the file wins",
                                self.rel(file).display(),
                                self.rel(r.origin.path()).display()
                            ),
                        )
                        .on(&id),
                    );
                    continue;
                }
                seen.insert(id, r.origin.path().to_path_buf());
                recs.push(r);
            }
            recs.sort_by_cached_key(|r| natural_key(r.entity.id()));
            tracing::debug!(kind = kind.dir_name(), count = recs.len(), "loaded");
            for r in &recs {
                loaded.problems.extend(r.problems.iter().cloned());
            }
            let map = loaded.index.entry(kind).or_default();
            for (i, r) in recs.iter().enumerate() {
                map.insert(r.entity.id().to_string(), i);
            }
            loaded.records.insert(kind, recs);
        }
        Ok(loaded)
    }

    /// Brings the index of `kinds` up to date with the files (re-reading
    /// only changed ones) without decoding the rest: what a query answered
    /// from the index ([`crate::index::search`]) runs first. Returns the
    /// problems of files that could not be read, or `None` when the index
    /// could not be brought up to date (then it must not answer).
    pub fn refresh_index(&self, kinds: &[Kind]) -> Option<Vec<Problem>> {
        if files::check_dir(&self.coord_dir()).is_err() {
            return Some(Vec::new());
        }
        let done: Vec<Option<Vec<Problem>>> = kinds
            .par_iter()
            .map(|&kind| {
                let mut problems = Vec::new();
                let mut scan = Scan::default();
                let read = self.file_records(kind, &mut problems, &mut scan);
                (read.is_ok() && scan.indexed).then_some(problems)
            })
            .collect();
        done.into_iter().try_fold(Vec::new(), |mut all, p| {
            all.extend(p?);
            Some(all)
        })
    }

    /// Loads one entity quickly: its file if present, else a full load of
    /// that kind (legacy section, or a file whose name differs from its id).
    ///
    /// Refuses a file that is not a regular file (never following a link out
    /// of the root, never opening a FIFO), and a file whose name is not the
    /// `id` inside it — in either direction: `ISSUE-001.yaml` holding
    /// `id: ISSUE-002` is neither ISSUE-001 nor ISSUE-002 until it is renamed.
    pub fn load_one(&self, kind: Kind, id: &str) -> Result<Option<Record>> {
        let path = self.entity_path(kind, id)?;
        files::check_dir(&self.coord_dir())?;
        files::check_dir(&self.kind_dir(kind))?;
        let exists = match std::fs::symlink_metadata(&path) {
            Ok(_) => true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => return Err(Error::io(&path, e)),
        };
        if exists {
            let rel = self.rel(&path);
            let text = files::read_text(&path, self.settings.limits.max_file_bytes).map_err(|e| self.relative(e))?;
            let map = self.parse(&text).map_err(|e| e.into_error(rel.clone()))?;
            if let Some(inside) = map.get("id").and_then(scalar_text)
                && inside != id
            {
                return Err(Error::Misnamed { path: rel, name: id.to_string(), inside });
            }
            return Ok(Some(build_record(kind, id.to_string(), map, Origin::File(path), &rel, &Lines::new(&text), 1)));
        }
        let mut loaded = self.load(&[kind])?;
        let idx = loaded.index.get(&kind).and_then(|m| m.get(id)).copied();
        let found = idx.map(|i| loaded.records.get_mut(&kind).expect("kind loaded").swap_remove(i));
        if let Some(r) = &found
            && let Origin::File(p) = &r.origin
            && let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
            && name != id
        {
            return Err(Error::Misnamed { path: self.rel(p), name, inside: id.to_string() });
        }
        Ok(found)
    }

    /// An error with its path made relative to the root, for messages.
    fn relative(&self, e: Error) -> Error {
        match e {
            Error::NotRegular { path, what } => Error::NotRegular { path: self.rel(&path), what },
            Error::TooLarge { path, bytes, limit } => Error::TooLarge { path: self.rel(&path), bytes, limit },
            Error::Io { path, source } => Error::Io { path: self.rel(&path), source },
            other => other,
        }
    }

    /// Warnings for the stale temp files of killed writers in `dir`.
    fn stale_temp_problems(&self, dir: &Path) -> Vec<Problem> {
        files::stale_temps(dir).into_iter().map(|(p, age)| self.stale_temp_problem(&p, age)).collect()
    }

    fn stale_temp_problem(&self, path: &Path, age: std::time::Duration) -> Problem {
        Problem::warning(
            "temp",
            format!(
                "leftover temp file of an interrupted write ({} old); `git coord doctor --fix` removes it",
                files::describe_age(age)
            ),
        )
        .at(self.rel(path), None)
    }

    /// Adds the ignore rule for the atomic write's temp files
    /// ([`files::TEMP_IGNORE_LINE`]) to the root's `.gitignore`, unless it is
    /// there. Returns the file when it was changed; nothing outside a git
    /// repository.
    pub fn ensure_temp_ignore(&self) -> Result<Option<PathBuf>> {
        if self.root.worktree.is_none() {
            return Ok(None);
        }
        let path = self.root.dir.join(".gitignore");
        let current = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(&path, e)),
        };
        if current.lines().any(|l| l.trim() == files::TEMP_IGNORE_LINE) {
            return Ok(None);
        }
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# Temp files of git-coord's atomic writes (left only by a killed writer).\n");
        text.push_str(files::TEMP_IGNORE_LINE);
        text.push('\n');
        atomic_write(&path, text.as_bytes())?;
        Ok(Some(self.rel(&path)))
    }

    /// Every stale temp file of a killed writer: in `coordination/`, each
    /// kind's directory and `settings/`.
    /// Never through a link out of the root.
    pub fn stale_temp_files(&self) -> Vec<(PathBuf, std::time::Duration)> {
        let mut dirs = vec![self.root.dir.join("settings")];
        if files::check_dir(&self.coord_dir()).unwrap_or(false) {
            dirs.push(self.coord_dir());
            dirs.extend(Kind::ALL.iter().map(|k| self.kind_dir(*k)).filter(|d| files::check_dir(d).unwrap_or(false)));
        }
        dirs.iter().flat_map(|d| files::stale_temps(d)).collect()
    }

    /// Reads the entity files of `kind`, through the index (see
    /// [`crate::index`]): a file whose index row is current is not parsed.
    /// With `decode` false (bringing the index up to date for a query), such
    /// a file is not decoded either and yields no record.
    fn file_records(&self, kind: Kind, problems: &mut Vec<Problem>, scan: &mut Scan<'_>) -> Result<Vec<Record>> {
        let decode = scan.decode;
        /// What reading one file gives: its record, its problems, and a fresh
        /// parse to index (file name, stamp, mapping).
        /// The last item names the file when its index row is current and stays.
        type FileOutcome =
            (Option<Record>, Vec<Problem>, Option<(String, crate::index::Stamp, Mapping)>, Option<String>);
        let dir = self.kind_dir(kind);
        let git_dir = self.root.git_dir();
        let open_index = |maps: bool| match (&git_dir, self.root.prefix_in_repo()) {
            (Some(g), Some(prefix)) => crate::index::KindIndex::open(g, &prefix, kind, maps),
            _ => None,
        };
        let readable = match files::check_dir(&dir) {
            Ok(readable) => readable,
            Err(e) => {
                problems.push(read_problem(&e, &self.rel(&dir)));
                false
            }
        };
        if !readable {
            // No directory (or none to read): the kind has no indexed rows.
            if let (Some(ix), Some(g)) = (open_index(false), &git_dir) {
                scan.indexed = ix.save(&[], g);
            }
            return Ok(Vec::new());
        }
        // Only regular files are entities; everything else is reported, and
        // never followed or opened (see `files`).
        let rd = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut paths: Vec<PathBuf> = Vec::new();
        let now = std::time::SystemTime::now();
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_file() {
                if files::is_temp_name(&name) {
                    if let Some(age) = entry.metadata().ok().and_then(|m| files::stale_age(&m, now)) {
                        problems.push(self.stale_temp_problem(&path, age));
                    }
                    continue;
                }
                if matches!(path.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")) {
                    paths.push(path);
                }
                continue;
            }
            let what = match std::fs::symlink_metadata(&path).map(|m| files::entry_type(&m)) {
                Ok(files::EntryType::Other(what)) => what,
                _ => continue,
            };
            let hint = if ft.is_dir() {
                "entities are files directly in this directory; nothing inside it is read"
            } else {
                "skipped: git-coord never follows links or opens special files in coordination/"
            };
            problems.push(Problem::error("file-type", format!("is {what}; {hint}")).at(self.rel(&path), None));
        }
        paths.sort();
        let mut index = open_index(decode);
        let stamps: Vec<Option<crate::index::Stamp>> = match &index {
            Some(_) => paths
                .par_iter()
                .map(|p| std::fs::symlink_metadata(p).ok().and_then(|m| crate::index::Stamp::of(&m)))
                .collect(),
            None => vec![None; paths.len()],
        };
        let name_of = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let stale = match &index {
            Some(ix) => paths
                .iter()
                .zip(&stamps)
                .filter(|(p, st)| !st.as_ref().is_some_and(|st| ix.is_current(&name_of(p), st)))
                .count(),
            None => paths.len(),
        };
        let progress = crate::index::progress::Counter::new(if index.is_some() { stale as u64 } else { 0 });
        let view = index.as_ref().map(|ix| ix.rows());
        // Files are left undecoded by status only when every file has a
        // current row: a changed file could hold any ID.
        let only_status = scan.only_status.filter(|_| stale == 0);
        let results: Vec<FileOutcome> = paths
            .par_iter()
            .zip(stamps.par_iter())
            .map(|(path, stamp)| {
                let name = name_of(path);
                if let (Some(ix), Some(st)) = (view, stamp)
                    && ix.is_current(&name, st)
                {
                    if !decode || only_status.is_some_and(|wanted| ix.skippable(&name, wanted)) {
                        return (None, Vec::new(), None, Some(name));
                    }
                    if let Some(map) = ix.get(&name, st) {
                        let id = map.get("id").and_then(scalar_text).unwrap_or_default();
                        let rec = build_record(
                            kind,
                            id,
                            map,
                            Origin::File(path.clone()),
                            &self.rel(path),
                            &Lines::new(""),
                            1,
                        );
                        if rec.problems.is_empty() {
                            return (Some(rec), Vec::new(), None, Some(name));
                        }
                    }
                    // A current row of a file with problems: read for its
                    // line numbers, the row stays as it is.
                    let (rec, probs, _) = self.read_file_record(kind, path);
                    return (rec, probs, None, Some(name));
                }
                let (rec, probs, parsed) = self.read_file_record(kind, path);
                if view.is_some() {
                    progress.tick();
                }
                let fresh = match (rec.as_ref(), parsed, stamp) {
                    (Some(_), Some(map), Some(st)) => Some((name, *st, map)),
                    _ => None,
                };
                (rec, probs, fresh, None)
            })
            .collect();
        if let (Some(ix), Some(wanted)) = (view, only_status) {
            scan.skipped = paths
                .iter()
                .filter_map(|p| {
                    let name = name_of(p);
                    ix.skippable(&name, wanted).then(|| (ix.id(&name).unwrap_or_default().to_string(), p.clone()))
                })
                .collect();
        }
        let mut out = Vec::with_capacity(results.len());
        let mut live = Vec::new();
        for (rec, probs, fresh, kept) in results {
            problems.extend(probs);
            if let (Some(ix), Some((name, st, map)), Some(r)) = (index.as_mut(), fresh, rec.as_ref())
                && ix.put(name.clone(), st, map, r.entity.clone(), r.problems.is_empty())
            {
                live.push(name);
            }
            live.extend(kept);
            out.extend(rec);
        }
        if let (Some(ix), Some(g)) = (index, &git_dir) {
            scan.indexed = ix.save(&live, g);
        }
        Ok(out)
    }

    fn snapshot_records(&self, snapshot: &Snapshot, kind: Kind, problems: &mut Vec<Problem>) -> Vec<Record> {
        let dir = self.kind_dir(kind);
        let files = snapshot.files.get(&kind).map(Vec::as_slice).unwrap_or(&[]);
        let results: Vec<(Option<Record>, Vec<Problem>)> = files
            .par_iter()
            .map(|(name, text)| {
                let (rec, probs, _) = self.record_from_text(kind, &dir.join(name), text);
                (rec, probs)
            })
            .collect();
        let mut out = Vec::with_capacity(results.len());
        for (rec, probs) in results {
            problems.extend(probs);
            out.extend(rec);
        }
        out
    }

    fn read_file_record(&self, kind: Kind, path: &Path) -> (Option<Record>, Vec<Problem>, Option<Mapping>) {
        match files::read_text(path, self.settings.limits.max_file_bytes) {
            Ok(text) => self.record_from_text(kind, path, &text),
            Err(e) => {
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                (None, vec![read_problem(&e, &self.rel(path)).on(stem)], None)
            }
        }
    }

    fn record_from_text(&self, kind: Kind, path: &Path, text: &str) -> (Option<Record>, Vec<Problem>, Option<Mapping>) {
        let rel = self.rel(path);
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let map = match self.parse(text) {
            Ok(m) => m,
            Err(e) => {
                return (None, vec![Problem::error(e.code(), e.message()).at(&rel, e.line()).on(stem)], None);
            }
        };
        let mut problems = Vec::new();
        let id = match map.get("id").and_then(scalar_text) {
            Some(id) => match validate_id(&id) {
                Ok(()) => {
                    if id != stem {
                        problems.push(
                            Problem::error("filename", format!("file name `{stem}` does not match id `{id}`"))
                                .at(&rel, line_of_key(text, 0, "id"))
                                .on(&id)
                                .field("id"),
                        );
                    }
                    id
                }
                Err(e) => {
                    return (
                        None,
                        vec![Problem::error("id", e.to_string()).at(&rel, line_of_key(text, 0, "id")).field("id")],
                        None,
                    );
                }
            },
            None => {
                problems.push(
                    Problem::warning("id", format!("no `id` field; `{stem}` (the file name) is used"))
                        .at(&rel, Some(1))
                        .on(&stem),
                );
                if let Err(e) = validate_id(&stem) {
                    return (None, vec![Problem::error("id", e.to_string()).at(&rel, None)], None);
                }
                stem
            }
        };
        let raw = map.clone();
        let mut rec = build_record(kind, id, map, Origin::File(path.to_path_buf()), &rel, &Lines::new(text), 1);
        problems.append(&mut rec.problems);
        rec.problems = problems;
        (Some(rec), Vec::new(), Some(raw))
    }

    fn legacy_records(
        &self,
        doc: &Mapping,
        eco: &EcosystemDoc,
        kind: Kind,
        problems: &mut Vec<Problem>,
    ) -> Vec<Record> {
        let rel = self.rel(&eco.path);
        let Some(Value::Mapping(coord)) = doc.get("coordination") else {
            return Vec::new();
        };
        let items = match coord.get(kind.dir_name()) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Sequence(items)) => items,
            Some(_) => {
                problems.push(
                    Problem::error("type", format!("`coordination.{}` must be a list", kind.dir_name()))
                        .at(&rel, line_of_key(&eco.text, 0, kind.dir_name())),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let eco_lines = Lines::new(&eco.text);
        for (i, item) in items.iter().enumerate() {
            let Value::Mapping(map) = item else {
                problems.push(
                    Problem::error("type", format!("coordination.{}[{i}] is not a mapping", kind.dir_name()))
                        .at(&rel, None),
                );
                continue;
            };
            let Some(id) = map.get("id").and_then(scalar_text) else {
                problems.push(
                    Problem::error("id", format!("coordination.{}[{i}] has no `id`", kind.dir_name())).at(&rel, None),
                );
                continue;
            };
            let from = seen.get(&id).copied().unwrap_or(0);
            let start = eco_lines.get().id(&id, from).unwrap_or(1);
            if let Err(e) = validate_id(&id) {
                problems.push(Problem::error("id", e.to_string()).at(&rel, Some(start)));
                continue;
            }
            if seen.insert(id.clone(), start).is_some() {
                problems.push(
                    Problem::error("duplicate", "duplicate ID in the legacy section").at(&rel, Some(start)).on(&id),
                );
                continue;
            }
            out.push(build_record(kind, id, map.clone(), Origin::Legacy(eco.path.clone()), &rel, &eco_lines, start));
        }
        out
    }

    /// Writes a new entity to its own file (canonical key order). Refuses to
    /// overwrite an existing file.
    pub fn write_new(&self, entity: &Entity) -> Result<PathBuf> {
        let path = self.entity_path(entity.kind(), entity.id())?;
        // Never write through a link out of the root.
        files::check_dir(&self.coord_dir()).map_err(|e| self.relative(e))?;
        files::check_dir(&self.kind_dir(entity.kind())).map_err(|e| self.relative(e))?;
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(Error::Refused(format!("{} already exists", self.rel(&path).display())));
        }
        let dir = path.parent().expect("entity path has a parent");
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let text = canonical_text(&entity.to_mapping())?;
        atomic_write(&path, text.as_bytes())?;
        Ok(path)
    }

    /// Writes `new` over `record` with a minimal diff (see [`edit`]).
    ///
    /// When no minimal edit verifies (an anchor whose alias would change too,
    /// a construct the editor does not handle), the entity is rewritten
    /// canonically — but only when that loses nothing: a file (or legacy
    /// item) with comments or anchors/aliases is refused with
    /// [`Error::RewriteRefused`], naming the construct and its line, unless
    /// [`Store::allow_rewrite`] is set.
    pub fn write_update(&self, record: &Record, new: &Entity) -> Result<WriteMode> {
        if record.is_broken() {
            return Err(Error::Broken {
                id: record.entity.id().to_string(),
                path: self.rel(record.origin.path()),
                problems: record.problems.iter().filter(|p| p.code == "type").map(|p| p.to_string()).collect(),
            });
        }
        let old_map = record.entity.to_mapping();
        let new_map = new.to_mapping();
        if old_map == new_map {
            return Ok(WriteMode::Unchanged);
        }
        let path = record.origin.path();
        let max = self.settings.limits.max_file_bytes;
        let text = match &record.origin {
            Origin::File(p) => files::read_text(p, max),
            Origin::Legacy(p) => files::read_text_following(p, max),
        }
        .map_err(|e| self.relative(e))?;
        // The editor never sees text beyond the limits either.
        scan::scan(&text, &self.settings.limits).map_err(|e| ParseError::Limit(e).into_error(self.rel(path)))?;
        let kind = new.kind();
        let id = new.id();
        let locate = match &record.origin {
            Origin::File(_) => edit::Locate::Root,
            Origin::Legacy(_) => edit::Locate::Legacy { section: kind.dir_name(), id },
        };
        let verify = |candidate: &str| -> bool {
            let Ok(doc) = self.parse(candidate) else {
                return false;
            };
            let map = match &record.origin {
                Origin::File(_) => Some(doc),
                Origin::Legacy(_) => legacy_item(&doc, kind, id),
            };
            map.is_some_and(|m| Entity::read(kind, id.to_string(), m).0.to_mapping() == new_map)
        };
        let patched = edit::patch_text(&text, locate, &old_map, &new_map);
        if let Err(e) = &patched {
            tracing::debug!(id, error = %e, "format-preserving edit failed");
        }
        let reason = match patched {
            Ok(candidate) if verify(&candidate) => {
                atomic_write(path, candidate.as_bytes())?;
                return Ok(WriteMode::Minimal);
            }
            Ok(_) => "the edited file does not read back as the intended change".to_string(),
            Err(e) => e,
        };
        if !self.allow_rewrite {
            self.refuse_lossy_rewrite(record, &text, reason)?;
        }
        let fallback = match &record.origin {
            Origin::File(_) => canonical_text(&new_map)?,
            Origin::Legacy(_) => {
                edit::replace_legacy_item(&text, kind.dir_name(), id, &new_map).map_err(Error::Invalid)?
            }
        };
        if !verify(&fallback) {
            return Err(Error::Refused(format!(
                "could not write {id} to {} safely; nothing was changed",
                self.rel(path).display()
            )));
        }
        atomic_write(path, fallback.as_bytes())?;
        Ok(WriteMode::Canonical)
    }

    /// Refuses a canonical rewrite of `record` that would drop comments or
    /// anchors/aliases (of its item only, for a legacy item).
    fn refuse_lossy_rewrite(&self, record: &Record, text: &str, reason: String) -> Result<()> {
        let id = record.entity.id();
        let (segment, offset) = match &record.origin {
            Origin::File(_) => (text, 0),
            Origin::Legacy(_) => match legacy_item_span(text, id) {
                Some((start, end)) => (&text[start..end], text[..start].matches('\n').count()),
                None => (text, 0),
            },
        };
        let Ok(f) = scan::scan(segment, &Limits { max_file_bytes: u64::MAX, max_yaml_depth: usize::MAX }) else {
            return Ok(());
        };
        let comments = match f.comments {
            0 => None,
            1 => Some("its comment".to_string()),
            n => Some(format!("its {n} comments")),
        };
        let (construct, line) = match (&f.first_anchor, f.first_comment) {
            (Some((line, text)), _) => {
                let what = if text.starts_with('&') { "anchor" } else { "alias" };
                (
                    format!(
                        "the file uses YAML anchors/aliases ({what} `{text}` here), which a minimal edit cannot keep"
                    ),
                    *line,
                )
            }
            (None, Some(line)) => {
                ("no minimal edit is possible and the file has comments (the first here)".to_string(), line)
            }
            (None, None) => return Ok(()),
        };
        let loses = match (comments, f.first_anchor.is_some()) {
            (Some(c), true) => format!("{c} and its anchors/aliases"),
            (Some(c), false) => c,
            (None, _) => "its anchors/aliases".to_string(),
        };
        Err(Error::RewriteRefused(Box::new(crate::error::RewriteRefusal {
            id: id.to_string(),
            path: self.rel(record.origin.path()),
            line: line + offset,
            construct,
            loses,
            reason,
        })))
    }

    /// Removes an entity (its file, or its item in the legacy section).
    pub fn remove(&self, record: &Record) -> Result<()> {
        match &record.origin {
            Origin::File(p) => std::fs::remove_file(p).map_err(|e| Error::io(p, e)),
            Origin::Legacy(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
                let kind = record.entity.kind();
                let id = record.entity.id();
                let new = remove_legacy_item(&text, kind.dir_name(), id).map_err(Error::Invalid)?;
                let check = parse_mapping(&new).ok().is_some_and(|d| legacy_item(&d, kind, id).is_none());
                if !check {
                    return Err(Error::Refused(format!("could not remove {id} from {} safely", self.rel(p).display())));
                }
                atomic_write(p, new.as_bytes())
            }
        }
    }

    /// The next free number for `kind`'s prefix across working tree, legacy
    /// section and every branch.
    /// `known` is what the caller already knows of (the legacy section).
    /// Numbers above [`crate::model::id::MAX_ID_NUMBER`] are ignored with a
    /// warning; when the next number would exceed it, allocation is refused.
    pub fn next_id(&self, kind: Kind, known: ids::Highest) -> Result<Allocated> {
        let prefix = self.prefix(kind).to_string();
        let mut best = known;
        // File names count, even for files whose content fails to parse.
        if let Ok(rd) = std::fs::read_dir(self.kind_dir(kind)) {
            for e in rd.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                let stem = name.split('.').next().unwrap_or_default();
                best.see_name(&prefix, stem, || self.rel(&e.path()).display().to_string());
            }
        }
        best.merge(self.highest_on_branches(kind.dir_name(), &prefix, false)?);
        allocate(&prefix, best)
    }

    /// The next free milestone ID (unique across all plans and branches).
    pub fn next_milestone_id(&self, loaded: &Loaded, taken: &[String]) -> Result<Allocated> {
        let prefix = self.settings.id_prefixes.milestone.clone();
        let mut best = ids::Highest::default();
        for p in loaded.plans() {
            for m in &p.milestones {
                best.see_name(&prefix, &m.id, || format!("in {}", p.id));
            }
        }
        for id in taken {
            best.see_name(&prefix, id, String::new);
        }
        best.merge(self.highest_on_branches("plans", &prefix, true)?);
        allocate(&prefix, best)
    }

    fn highest_on_branches(&self, dir: &str, id_prefix: &str, scan_contents: bool) -> Result<ids::Highest> {
        let (Some(wt), Some(prefix)) = (&self.root.worktree, self.root.prefix_in_repo()) else {
            return Ok(ids::Highest::default());
        };
        ids::highest_on_branches(wt, &ids::BranchScan { prefix: &prefix, dir, id_prefix, scan_contents })
    }
}

/// A newly allocated ID, and warnings about IDs the allocation ignored.
#[derive(Debug, Clone)]
pub struct Allocated {
    pub id: String,
    pub warnings: Vec<Problem>,
}

fn allocate(prefix: &str, best: ids::Highest) -> Result<Allocated> {
    let next = best.max.checked_add(1).filter(|n| *n <= crate::model::id::MAX_ID_NUMBER);
    let Some(next) = next else {
        return Err(crate::model::id::IdError::OutOfRange(crate::model::id::format_id(prefix, best.max + 1)).into());
    };
    let id = crate::model::id::format_id(prefix, next);
    let warnings = best
        .ignored
        .iter()
        .map(|i| {
            Problem::warning(
                "id-range",
                format!(
                    "ignored {i} while allocating {id}: its number is above 999,999,999, the largest git-coord uses, so it does not count (rename or renumber it)"
                ),
            )
        })
        .collect();
    Ok(Allocated { id, warnings })
}

/// A problem for a file that could not be read at all, named `rel`.
fn read_problem(e: &Error, rel: &Path) -> Problem {
    let (code, message) = match e {
        Error::TooLarge { bytes, limit, .. } => (
            "limit",
            format!("the file is {bytes} bytes, more than max_file_bytes ({limit}, settings/coord.yaml); not read"),
        ),
        Error::NotRegular { what, .. } => (
            "file-type",
            format!("is {what}; skipped: git-coord never follows links or opens special files in coordination/"),
        ),
        Error::Io { source, .. } => ("io", source.to_string()),
        other => ("io", other.to_string()),
    };
    Problem::error(code, message).at(rel, None)
}

/// A text and its line index, built on first use (only files with problems
/// need line numbers).
struct Lines<'a> {
    text: &'a str,
    index: std::cell::OnceCell<lines::LineIndex>,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Self {
        Lines { text, index: std::cell::OnceCell::new() }
    }
    fn get(&self) -> &lines::LineIndex {
        self.index.get_or_init(|| lines::LineIndex::new(self.text))
    }
}

fn build_record(
    kind: Kind,
    id: String,
    map: Mapping,
    origin: Origin,
    rel: &Path,
    text: &Lines<'_>,
    start_line: usize,
) -> Record {
    let (entity, field_problems) = Entity::read(kind, id.clone(), map);
    let problems = field_problems.into_iter().map(|fp| field_problem(fp, &id, rel, text, start_line)).collect();
    Record { entity, origin, problems }
}

fn field_problem(fp: FieldProblem, id: &str, rel: &Path, text: &Lines<'_>, start_line: usize) -> Problem {
    let (code, severity_error) = match fp.kind {
        FieldProblemKind::Type => ("type", true),
        FieldProblemKind::Value => ("value", true),
        FieldProblemKind::Missing => ("missing", !fp.message.contains("assumed")),
    };
    let line = text.get().field(start_line, &fp.field);
    let p = if severity_error { Problem::error(code, fp.message) } else { Problem::warning(code, fp.message) };
    p.at(rel, line.or(Some(start_line))).on(id).field(fp.field)
}

/// Finds the lines of fields in their files for many problems: each file
/// is read and indexed once (see [`lines`]).
#[derive(Debug, Default)]
pub struct Locator {
    files: std::cell::RefCell<HashMap<PathBuf, Option<std::rc::Rc<lines::LineIndex>>>>,
}

impl Locator {
    /// The line of `field` of entity `id` in its file.
    pub fn locate(&self, origin: &Origin, id: &str, field: &str) -> Option<usize> {
        let index = self
            .files
            .borrow_mut()
            .entry(origin.path().to_path_buf())
            .or_insert_with(|| {
                let max = Limits::default().max_file_bytes.max(64 << 20);
                let text = match origin {
                    Origin::File(p) => files::read_text(p, max).ok()?,
                    Origin::Legacy(p) => files::read_text_following(p, max).ok()?,
                };
                Some(std::rc::Rc::new(lines::LineIndex::new(&text)))
            })
            .clone()?;
        let start = match origin {
            Origin::File(_) => 1,
            Origin::Legacy(_) => index.id(id, 0)?,
        };
        index.field(start, field).or(Some(start))
    }
}

/// The line of `field` of entity `id` in its file (reads the file; for one
/// problem — use a [`Locator`] for many).
pub fn locate(origin: &Origin, id: &str, field: &str) -> Option<usize> {
    Locator::default().locate(origin, id, field)
}

/// 1-based line of the first `key:` at or after 0-based line `from` (one
/// search; [`lines::LineIndex`] for many).
pub fn line_of_key(text: &str, from: usize, key: &str) -> Option<usize> {
    text.lines().enumerate().skip(from).find_map(|(i, line)| {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        let t = t.strip_prefix(key)?;
        t.trim_start().starts_with(':').then_some(i + 1)
    })
}

/// 1-based line of `id: <id>` after 1-based line `after` (0: from the top).
fn line_of_id(text: &str, id: &str, after: usize) -> Option<usize> {
    text.lines().enumerate().skip(after).find_map(|(i, line)| {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        let rest = t.strip_prefix("id:")?.trim();
        let rest = rest.trim_matches(|c| c == '"' || c == '\'');
        (rest == id).then_some(i + 1)
    })
}

/// Why a text is not a readable mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not YAML, or not a mapping (1-based line when known).
    Syntax { line: Option<usize>, message: String },
    /// Larger or deeper than the limits; not handed to the parser.
    Limit(scan::Exceeded),
    /// A mapping key that is not text: such a value has no JSON form.
    KeyNotText { line: Option<usize>, found: &'static str },
}

impl ParseError {
    /// The problem code: `yaml`, `limit` or `key`.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Syntax { .. } => "yaml",
            ParseError::Limit(_) => "limit",
            ParseError::KeyNotText { .. } => "key",
        }
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::Syntax { line, .. } | ParseError::KeyNotText { line, .. } => *line,
            ParseError::Limit(scan::Exceeded::Depth { line, .. }) => Some(*line),
            ParseError::Limit(scan::Exceeded::Size { .. }) => None,
        }
    }

    /// The message, without file and line.
    pub fn message(&self) -> String {
        match self {
            ParseError::Syntax { message, .. } => message.clone(),
            ParseError::Limit(scan::Exceeded::Size { bytes, limit }) => {
                format!("the file is {bytes} bytes, more than max_file_bytes ({limit}, settings/coord.yaml); not read")
            }
            ParseError::Limit(scan::Exceeded::Depth { limit, .. }) => {
                format!("nested deeper than max_yaml_depth ({limit} levels, settings/coord.yaml); not parsed")
            }
            ParseError::KeyNotText { found, .. } => {
                format!("a mapping key is {found}, not text (keys must be text, like `status:`)")
            }
        }
    }

    /// The library error for `path`.
    pub fn into_error(self, path: PathBuf) -> Error {
        match self {
            ParseError::Syntax { line, message } => Error::Yaml { path, line, message },
            ParseError::Limit(scan::Exceeded::Size { bytes, limit }) => Error::TooLarge { path, bytes, limit },
            ParseError::Limit(scan::Exceeded::Depth { line, limit }) => Error::TooDeep { path, line, limit },
            ParseError::KeyNotText { line, found } => Error::KeyNotText { path, line, found },
        }
    }
}

/// Parses YAML text into a mapping with the default [`Limits`]; errors carry
/// the 1-based line.
pub fn parse_mapping(text: &str) -> std::result::Result<Mapping, (Option<usize>, String)> {
    parse_document(text, &Limits::default()).map_err(|e| (e.line(), e.message()))
}

/// Parses YAML text into a mapping: first the pre-scan against `limits`
/// (see [`scan`]), then the parser; every mapping key must be text.
pub fn parse_document(text: &str, limits: &Limits) -> std::result::Result<Mapping, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Syntax {
            line: Some(1),
            message: "the file is empty (expected a mapping of fields)".into(),
        });
    }
    scan::scan(text, limits).map_err(ParseError::Limit)?;
    let syntax = |line, message: &str| ParseError::Syntax { line: Some(line), message: message.to_string() };
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => match m.iter().find_map(|(k, v)| bad_key(k).or_else(|| bad_key_in(v))) {
            None => Ok(m),
            Some(found) => Err(ParseError::KeyNotText { line: key_line(text), found }),
        },
        Ok(Value::Null) => Err(syntax(1, "the file has no content (expected a mapping of fields)")),
        Ok(Value::Sequence(_)) => Err(syntax(1, "expected a mapping of fields, found a list")),
        Ok(_) => Err(syntax(1, "expected a mapping of fields, found a single value")),
        Err(e) => Err(match conflict_markers(text) {
            Some((line, message)) => ParseError::Syntax { line, message },
            None => {
                ParseError::Syntax { line: e.location().map(|l| l.line()), message: crate::error::yaml_message(&e) }
            }
        }),
    }
}

/// What a key is when it is not text-like (text, a number or a boolean all
/// have a JSON key form; lists, mappings, null and tagged values do not).
fn bad_key(k: &Value) -> Option<&'static str> {
    match k {
        Value::String(_) | Value::Bool(_) => None,
        Value::Number(n) => (!n.as_f64().is_some_and(f64::is_finite)).then_some("a number that is not finite"),
        Value::Null => Some("empty (null)"),
        Value::Sequence(_) => Some("a list"),
        Value::Mapping(_) => Some("a mapping"),
        Value::Tagged(_) => Some("a tagged value"),
    }
}

fn bad_key_in(v: &Value) -> Option<&'static str> {
    match v {
        Value::Mapping(m) => m.iter().find_map(|(k, v)| bad_key(k).or_else(|| bad_key_in(v))),
        Value::Sequence(items) => items.iter().find_map(bad_key_in),
        Value::Tagged(t) => bad_key_in(&t.value),
        _ => None,
    }
}

/// The line of the first key that is not text: the file is parsed again
/// into a type whose keys must be text, and the parser's error says where.
/// Only run for a file already known to hold such a key.
fn key_line(text: &str) -> Option<usize> {
    use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
    struct Strict;
    struct Key;
    impl<'de> de::Deserialize<'de> for Key {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Key;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a text key")
                }
                fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<Key, E> {
                    Ok(Key)
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Key, E> {
                    Ok(Key)
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Key, E> {
                    Ok(Key)
                }
                fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Key, E> {
                    Ok(Key)
                }
                fn visit_f64<E: de::Error>(self, f: f64) -> std::result::Result<Key, E> {
                    if f.is_finite() { Ok(Key) } else { Err(E::custom("key is not text")) }
                }
            }
            d.deserialize_any(V)
        }
    }
    impl<'de> de::Deserialize<'de> for Strict {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Strict;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("any value")
                }
                fn visit_bool<E>(self, _: bool) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_i64<E>(self, _: i64) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_u64<E>(self, _: u64) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_f64<E>(self, _: f64) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_str<E>(self, _: &str) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_unit<E>(self) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_none<E>(self) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Strict, D::Error> {
                    <Strict as de::Deserialize>::deserialize(d)
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Strict, A::Error> {
                    while a.next_element::<Strict>()?.is_some() {}
                    Ok(Strict)
                }
                fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<Strict, A::Error> {
                    while a.next_key::<Key>()?.is_some() {
                        a.next_value::<Strict>()?;
                    }
                    Ok(Strict)
                }
                fn visit_enum<A: de::EnumAccess<'de>>(self, a: A) -> std::result::Result<Strict, A::Error> {
                    use de::VariantAccess;
                    let (Strict, variant) = a.variant::<Strict>()?;
                    variant.newtype_variant::<Strict>()
                }
            }
            d.deserialize_any(V)
        }
    }
    match serde_yaml::from_str::<Strict>(text) {
        Ok(_) => None,
        Err(e) => e.location().map(|l| l.line()),
    }
}

/// A file that fails to parse because a merge left conflict markers in it
/// gets that said plainly, with the lines, instead of a YAML syntax error.
fn conflict_markers(text: &str) -> Option<(Option<usize>, String)> {
    let marker = |line: &str, c: char| line.len() >= 7 && line.chars().take(7).all(|x| x == c);
    let start = text.lines().position(|l| marker(l, '<'))?;
    let end = text.lines().enumerate().skip(start).find(|(_, l)| marker(l, '>')).map(|(i, _)| i + 1);
    let lines = match end {
        Some(end) => format!("lines {}-{end}", start + 1),
        None => format!("from line {}", start + 1),
    };
    Some((
        Some(start + 1),
        format!(
            "unresolved merge conflict ({lines}): keep the right value between the markers, delete the markers, then `git add` the file"
        ),
    ))
}

/// Byte range of the legacy item `- id: <id>`: from its line to the next
/// line indented no deeper than its `-` (blank and comment lines inside count).
fn legacy_item_span(text: &str, id: &str) -> Option<(usize, usize)> {
    let first = line_of_id(text, id, 0)?;
    let mut offsets = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        offsets.push((pos, line));
        pos += line.len();
    }
    let (start, first_line) = *offsets.get(first - 1)?;
    let dash = first_line.find('-').unwrap_or(0);
    let end = offsets
        .iter()
        .skip(first)
        .find(|(_, l)| {
            let t = l.trim_start_matches(' ');
            let indent = l.len() - t.len();
            !t.trim().is_empty() && !t.starts_with('#') && indent <= dash
        })
        .map(|(o, _)| *o)
        .unwrap_or(text.len());
    Some((start, end))
}

fn legacy_item(doc: &Mapping, kind: Kind, id: &str) -> Option<Mapping> {
    let Value::Mapping(coord) = doc.get("coordination")? else {
        return None;
    };
    let Value::Sequence(items) = coord.get(kind.dir_name())? else {
        return None;
    };
    items.iter().find_map(|i| match i {
        Value::Mapping(m) if m.get("id").and_then(scalar_text).as_deref() == Some(id) => Some(m.clone()),
        _ => None,
    })
}

fn remove_legacy_item(text: &str, section: &str, id: &str) -> std::result::Result<String, String> {
    use std::str::FromStr;
    let doc = yaml_edit::Document::from_str(text).map_err(|e| e.to_string())?;
    let root = doc.as_mapping().ok_or("not a mapping")?;
    let coord = root.get_mapping("coordination").ok_or("no coordination section")?;
    let seq = coord.get_sequence(section).ok_or("no such section")?;
    let idx = seq
        .values()
        .position(|item| {
            item.as_mapping()
                .and_then(|m| m.get("id"))
                .map(|v| v.to_string().trim().trim_matches(['"', '\'']).to_string())
                == Some(id.to_string())
        })
        .ok_or("not found")?;
    seq.remove(idx);
    Ok(doc.to_string())
}

/// Serialises a mapping in canonical form.
pub fn canonical_text(map: &Mapping) -> Result<String> {
    serde_yaml::to_string(map).map_err(|e| Error::Invalid(format!("cannot serialise: {e}")))
}

/// Writes `bytes` to a temp file in the same directory, then renames it over
/// `path`, so a crash never leaves a half-written file.
///
/// The temp file is named `.coord-XXXXXX.tmp` ([`files::is_temp_name`]);
/// after the rename, temp files of that pattern in the same directory that
/// are older than [`files::STALE_AFTER`] — left by writers that were killed —
/// are removed.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(files::TEMP_PREFIX)
        .suffix(files::TEMP_SUFFIX)
        .rand_bytes(files::TEMP_RANDOM_LEN)
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(tmp.path(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0o644);
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode));
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    files::remove_stale_temps(dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_text_is_refused_with_its_line() {
        let l = Limits::default();
        let e = parse_document("id: ISSUE-002\ntitle: b\n? [a, b]\n: 1\n", &l).unwrap_err();
        assert_eq!(e, ParseError::KeyNotText { line: Some(3), found: "a list" });
        let e = parse_document("id: X\nmetadata:\n  deep:\n    ~: 1\n", &l).unwrap_err();
        assert_eq!((e.code(), e.line()), ("key", Some(4)));
        let e = parse_document("id: X\nlist:\n- {? {a: 1} : 2}\n", &l).unwrap_err();
        assert_eq!(e.code(), "key");
        assert!(e.line().is_some_and(|l| l == 3), "{e:?}");
        // Numbers and booleans have a JSON key form.
        parse_document("id: X\nmetadata: {2026: plan, true: y}\n", &l).unwrap();
    }
}

#[cfg(test)]
mod lock_tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn the_lock_nests_on_one_thread_and_excludes_other_threads() {
        let tmp = tempfile::tempdir().unwrap();
        let store = Store::open(tmp.path()).unwrap();
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
