//! The store: coordination data on disk, one YAML file per entity plus the
//! legacy `coordination:` section of `settings/ecosystem.yaml`.
//!
//! Loading aggregates both (the file wins when an ID is in both, with a
//! warning naming both places) and never lets one broken file hide the rest:
//! problems are collected with file, line and field. Writing goes through
//! [`Store::write_new`], [`Store::write_update`] and [`Store::remove`] only —
//! atomic (temp file + rename), minimal-diff, verified by re-parsing.

pub mod cache;
pub mod edit;
pub mod ids;
pub mod root;

use crate::ecosystem::Registry;
use crate::error::{Error, Result};
use crate::model::id::{id_number, validate_id};
use crate::model::reader::{FieldProblemKind, scalar_text};
use crate::model::{Entity, FieldProblem, Kind};
use crate::problem::Problem;
use crate::settings::Settings;
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

/// The coordination store of one root.
#[derive(Debug, Clone)]
pub struct Store {
    pub root: Root,
    pub settings: Settings,
    /// Warnings from reading settings.
    pub settings_warnings: Vec<Problem>,
}

/// The outcome of an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Only the changed lines were edited.
    Minimal,
    /// The format-preserving edit did not verify; the entity was rewritten canonically.
    Canonical,
    /// Nothing differed.
    Unchanged,
}

impl Store {
    /// Opens the store for the root discovered from `start`.
    pub fn open(start: &Path) -> Result<Store> {
        let root = Root::discover(start)?;
        let (settings, settings_warnings) = Settings::load(&root.dir)?;
        Ok(Store { root, settings, settings_warnings })
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

    fn read_ecosystem(&self) -> Option<EcosystemDoc> {
        let path = self.ecosystem_path();
        let text = std::fs::read_to_string(&path).ok()?;
        Some(EcosystemDoc { path, text, doc: None })
    }

    /// Loads the registry and the given kinds (files and legacy section).
    pub fn load(&self, kinds: &[Kind]) -> Result<Loaded> {
        self.load_from(kinds, None)
    }

    /// Loads the given kinds from a snapshot (coordination data as it was at
    /// a revision) with exactly the rules of [`Store::load`]. Records' origins
    /// name the paths the files have in the work tree.
    pub fn load_snapshot(&self, snapshot: &Snapshot, kinds: &[Kind]) -> Result<Loaded> {
        self.load_from(kinds, Some(snapshot))
    }

    fn load_from(&self, kinds: &[Kind], snapshot: Option<&Snapshot>) -> Result<Loaded> {
        let mut loaded = Loaded { kinds: kinds.to_vec(), ..Loaded::default() };
        loaded.problems.extend(self.settings_warnings.iter().cloned());
        let mut legacy: HashMap<Kind, Vec<Record>> = HashMap::new();
        let eco = match snapshot {
            None => self.read_ecosystem(),
            Some(s) => s.ecosystem.clone().map(|text| EcosystemDoc { path: self.ecosystem_path(), text, doc: None }),
        };
        if let Some(mut eco) = eco {
            let rel = self.rel(&eco.path);
            match parse_mapping(&eco.text) {
                Ok(doc) => eco.doc = Some(doc),
                Err((line, msg)) => loaded.problems.push(Problem::error("yaml", msg).at(&rel, line)),
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
        // Kinds are read in parallel: each kind's parse cache is decoded on one
        // thread, so overlapping the kinds beats the per-file parallelism alone.
        let files: Vec<(Result<Vec<Record>>, Vec<Problem>)> = kinds
            .par_iter()
            .map(|&kind| {
                let mut problems = Vec::new();
                let recs = match snapshot {
                    None => self.file_records(kind, &mut problems),
                    Some(s) => Ok(self.snapshot_records(s, kind, &mut problems)),
                };
                (recs, problems)
            })
            .collect();
        for (&kind, (recs, problems)) in kinds.iter().zip(files) {
            loaded.problems.extend(problems);
            let mut recs = recs?;
            let mut seen: HashMap<String, PathBuf> = HashMap::new();
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

    /// Loads one entity quickly: its file if present, else a full load of
    /// that kind (legacy section, or a file whose name differs from its id).
    pub fn load_one(&self, kind: Kind, id: &str) -> Result<Option<Record>> {
        let path = self.entity_path(kind, id)?;
        if path.is_file() {
            let rel = self.rel(&path);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            return match parse_mapping(&text) {
                Ok(map) => Ok(Some(build_record(kind, id.to_string(), map, Origin::File(path), &rel, &text, 1))),
                Err((line, msg)) => Err(Error::Yaml { path: rel, line, message: msg }),
            };
        }
        let mut loaded = self.load(&[kind])?;
        let idx = loaded.index.get(&kind).and_then(|m| m.get(id)).copied();
        Ok(idx.map(|i| loaded.records.get_mut(&kind).expect("kind loaded").swap_remove(i)))
    }

    fn file_records(&self, kind: Kind, problems: &mut Vec<Problem>) -> Result<Vec<Record>> {
        /// What reading one file gives: its record, its problems, and a fresh
        /// parse to put into the cache (file name, stamp, mapping).
        type FileOutcome = (Option<Record>, Vec<Problem>, Option<(String, cache::Stamp, Mapping)>);
        let dir = self.kind_dir(kind);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(&dir)
            .min_depth(1)
            .max_depth(1)
            .into_iter()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
            .collect();
        paths.sort();
        let mut cache =
            cache::ParseCache::open(self.root.worktree.as_deref(), self.root.prefix_in_repo().as_deref(), kind);
        let results: Vec<FileOutcome> = paths
            .par_iter()
            .map(|path| {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let stamp =
                    cache.as_ref().and_then(|_| std::fs::metadata(path).ok()).and_then(|m| cache::Stamp::of(&m));
                if let (Some(c), Some(st)) = (&cache, &stamp)
                    && let Some(map) = c.get(&name, st)
                {
                    let id = map.get("id").and_then(scalar_text).unwrap_or_default();
                    let rec = build_record(kind, id, map, Origin::File(path.clone()), &self.rel(path), "", 1);
                    if rec.problems.is_empty() {
                        return (Some(rec), Vec::new(), None);
                    }
                }
                let (rec, probs, parsed) = self.read_file_record(kind, path);
                let fresh = match (rec.as_ref(), parsed, stamp) {
                    (Some(r), Some(map), Some(st)) if r.problems.is_empty() && cache::cacheable(&map) => {
                        Some((name, st, map))
                    }
                    _ => None,
                };
                (rec, probs, fresh)
            })
            .collect();
        let mut out = Vec::with_capacity(results.len());
        for (rec, probs, fresh) in results {
            problems.extend(probs);
            out.extend(rec);
            if let (Some(c), Some((name, st, map))) = (cache.as_mut(), fresh) {
                c.put(name, st, map);
            }
        }
        if let Some(c) = cache {
            let live: Vec<String> =
                paths.iter().filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
            c.save(&live);
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
        match std::fs::read_to_string(path) {
            Ok(text) => self.record_from_text(kind, path, &text),
            Err(e) => (None, vec![Problem::error("io", e.to_string()).at(self.rel(path), None)], None),
        }
    }

    fn record_from_text(&self, kind: Kind, path: &Path, text: &str) -> (Option<Record>, Vec<Problem>, Option<Mapping>) {
        let rel = self.rel(path);
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let map = match parse_mapping(text) {
            Ok(m) => m,
            Err((line, msg)) => {
                return (None, vec![Problem::error("yaml", msg).at(&rel, line).on(stem)], None);
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
        let mut rec = build_record(kind, id, map, Origin::File(path.to_path_buf()), &rel, text, 1);
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
            let start = line_of_id(&eco.text, &id, from).unwrap_or(1);
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
            out.push(build_record(kind, id, map.clone(), Origin::Legacy(eco.path.clone()), &rel, &eco.text, start));
        }
        out
    }

    /// Writes a new entity to its own file (canonical key order). Refuses to
    /// overwrite an existing file.
    pub fn write_new(&self, entity: &Entity) -> Result<PathBuf> {
        let path = self.entity_path(entity.kind(), entity.id())?;
        if path.exists() {
            return Err(Error::Refused(format!("{} already exists", self.rel(&path).display())));
        }
        let dir = path.parent().expect("entity path has a parent");
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let text = canonical_text(&entity.to_mapping())?;
        atomic_write(&path, text.as_bytes())?;
        Ok(path)
    }

    /// Writes `new` over `record` with a minimal diff (see [`edit`]).
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
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let kind = new.kind();
        let id = new.id();
        let locate = match &record.origin {
            Origin::File(_) => edit::Locate::Root,
            Origin::Legacy(_) => edit::Locate::Legacy { section: kind.dir_name(), id },
        };
        let verify = |candidate: &str| -> bool {
            let Ok(doc) = parse_mapping(candidate) else {
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
            tracing::debug!(id, error = %e, "format-preserving edit failed; rewriting canonically");
        }
        if let Ok(candidate) = patched
            && verify(&candidate)
        {
            atomic_write(path, candidate.as_bytes())?;
            return Ok(WriteMode::Minimal);
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
    /// `known_max` is the highest number the caller already knows of (the
    /// legacy section).
    pub fn next_id(&self, kind: Kind, known_max: u64) -> Result<String> {
        let prefix = self.prefix(kind).to_string();
        let mut best = known_max;
        // File names count, even for files whose content fails to parse.
        if let Ok(rd) = std::fs::read_dir(self.kind_dir(kind)) {
            for e in rd.flatten() {
                let name = e.file_name();
                let name = name.to_string_lossy();
                let stem = name.split('.').next().unwrap_or_default();
                if let Some(n) = id_number(stem, &prefix) {
                    best = best.max(n);
                }
            }
        }
        best = best.max(self.highest_on_branches(kind.dir_name(), &prefix, false)?);
        Ok(crate::model::id::format_id(&prefix, best + 1))
    }

    /// The next free milestone ID (unique across all plans and branches).
    pub fn next_milestone_id(&self, loaded: &Loaded, taken: &[String]) -> Result<String> {
        let prefix = self.settings.id_prefixes.milestone.clone();
        let mut best = loaded
            .plans()
            .flat_map(|p| p.milestones.iter())
            .map(|m| m.id.as_str())
            .chain(taken.iter().map(String::as_str))
            .filter_map(|id| id_number(id, &prefix))
            .max()
            .unwrap_or(0);
        best = best.max(self.highest_on_branches("plans", &prefix, true)?);
        Ok(crate::model::id::format_id(&prefix, best + 1))
    }

    fn highest_on_branches(&self, dir: &str, id_prefix: &str, scan_contents: bool) -> Result<u64> {
        let (Some(wt), Some(prefix)) = (&self.root.worktree, self.root.prefix_in_repo()) else {
            return Ok(0);
        };
        ids::highest_on_branches(wt, &ids::BranchScan { prefix: &prefix, dir, id_prefix, scan_contents })
    }
}

fn build_record(
    kind: Kind,
    id: String,
    map: Mapping,
    origin: Origin,
    rel: &Path,
    text: &str,
    start_line: usize,
) -> Record {
    let (entity, field_problems) = Entity::read(kind, id.clone(), map);
    let problems = field_problems.into_iter().map(|fp| field_problem(fp, &id, rel, text, start_line)).collect();
    Record { entity, origin, problems }
}

fn field_problem(fp: FieldProblem, id: &str, rel: &Path, text: &str, start_line: usize) -> Problem {
    let (code, severity_error) = match fp.kind {
        FieldProblemKind::Type => ("type", true),
        FieldProblemKind::Value => ("value", true),
        FieldProblemKind::Missing => ("missing", !fp.message.contains("assumed")),
    };
    let line = locate_field(text, start_line, &fp.field);
    let p = if severity_error { Problem::error(code, fp.message) } else { Problem::warning(code, fp.message) };
    p.at(rel, line.or(Some(start_line))).on(id).field(fp.field)
}

/// The line of `field` of entity `id` in its file (re-reads the file; used
/// only when reporting problems).
pub fn locate(origin: &Origin, id: &str, field: &str) -> Option<usize> {
    let text = std::fs::read_to_string(origin.path()).ok()?;
    let start = match origin {
        Origin::File(_) => 1,
        Origin::Legacy(_) => line_of_id(&text, id, 0)?,
    };
    locate_field(&text, start, field).or(Some(start))
}

/// Line of a field: `milestones[MILESTONE-001].due` finds the milestone first.
fn locate_field(text: &str, start_line: usize, field: &str) -> Option<usize> {
    let mut start = start_line.saturating_sub(1);
    let mut key = field;
    if let Some(rest) = field.strip_prefix("milestones[")
        && let Some(end) = rest.find(']')
    {
        let ms = &rest[..end];
        if let Some(l) = text.lines().enumerate().skip(start).find(|(_, l)| l.contains(ms)).map(|(i, _)| i) {
            start = l;
        }
        key = rest[end + 1..].trim_start_matches('.');
    }
    let root_key = key.split(['[', '.']).next().unwrap_or(key);
    line_of_key(text, start, root_key)
}

/// 1-based line of the first `key:` at or after 0-based line `from`.
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

/// Parses YAML text into a mapping; errors carry the 1-based line.
pub fn parse_mapping(text: &str) -> std::result::Result<Mapping, (Option<usize>, String)> {
    if text.trim().is_empty() {
        return Err((Some(1), "the file is empty (expected a mapping of fields)".into()));
    }
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => Ok(m),
        Ok(Value::Null) => Err((Some(1), "the file has no content (expected a mapping of fields)".into())),
        Ok(other) => Err((
            Some(1),
            format!(
                "expected a mapping of fields, found {}",
                match other {
                    Value::Sequence(_) => "a list",
                    _ => "a single value",
                }
            ),
        )),
        Err(e) => {
            Err(conflict_markers(text)
                .unwrap_or_else(|| (e.location().map(|l| l.line()), crate::error::yaml_message(&e))))
        }
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
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp =
        tempfile::Builder::new().prefix(".coord-").suffix(".tmp").tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    tmp.as_file().sync_all().map_err(|e| Error::io(tmp.path(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0o644);
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode));
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
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
