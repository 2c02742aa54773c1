//! Loading: the registry and the entities of the requested kinds, from the
//! work tree (each kind scanned in parallel, through the parse cache) or
//! from a [`Snapshot`] of a revision, merged with the legacy section; one
//! broken file never hides the rest — problems carry file, line and field.

use super::lines::line_of_key;
use super::{Loaded, Origin, Record, Store, cache, files, lines, natural_key};
use crate::ecosystem::Registry;
use crate::error::{Error, Result};
use crate::model::id::validate_id;
use crate::model::reader::{FieldProblemKind, scalar_text};
use crate::model::{Entity, FieldProblem, Kind};
use crate::problem::Problem;
use rayon::prelude::*;
use serde_yaml::Mapping;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
pub(super) struct EcosystemDoc {
    pub(super) path: PathBuf,
    pub(super) text: String,
    pub(super) doc: Option<Mapping>,
}

impl Store {
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
        let mut loaded = Loaded::default();
        loaded.kinds = kinds.to_vec();
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
                    let recs = self.legacy_records(doc, &eco, kind, &loaded.registry, &mut loaded.problems);
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
        let files: Vec<(Result<Vec<Record>>, Vec<Problem>)> = kinds
            .par_iter()
            .map(|&kind| {
                let mut problems = Vec::new();
                let recs = match snapshot {
                    None if !coord_ok => Ok(Vec::new()),
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
            loaded.set_records(kind, recs);
        }
        Ok(loaded)
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
        let found = self.load(&[kind])?.take(kind, id);
        if let Some(r) = &found
            && let Origin::File(p) = &r.origin
            && let name = p.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
            && name != id
        {
            return Err(Error::Misnamed { path: self.rel(p), name, inside: id.to_string() });
        }
        Ok(found)
    }

    /// Warnings for the stale temp files of killed writers in `dir`.
    fn stale_temp_problems(&self, dir: &Path) -> Vec<Problem> {
        files::stale_temps(dir).into_iter().map(|(p, age)| self.stale_temp_problem(&p, age)).collect()
    }

    fn stale_temp_problem(&self, path: &Path, age: std::time::Duration) -> Problem {
        Problem::warning(
            "temp",
            format!(
                "leftover temp file of an interrupted write ({} old); doctor's repair removes it",
                files::describe_age(age)
            ),
        )
        .at(self.rel(path), None)
    }

    fn file_records(&self, kind: Kind, problems: &mut Vec<Problem>) -> Result<Vec<Record>> {
        /// What reading one file gives: its record, its problems, and a fresh
        /// parse to put into the cache (file name, stamp, mapping).
        type FileOutcome = (Option<Record>, Vec<Problem>, Option<(String, cache::Stamp, Mapping)>);
        let dir = self.kind_dir(kind);
        match files::check_dir(&dir) {
            Ok(true) => {}
            Ok(false) => return Ok(Vec::new()),
            Err(e) => {
                problems.push(read_problem(&e, &self.rel(&dir)));
                return Ok(Vec::new());
            }
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
        let mut cache =
            cache::ParseCache::open(self.root.worktree.as_deref(), self.root.prefix_in_repo().as_deref(), kind);
        let results: Vec<FileOutcome> = paths
            .par_iter()
            .map(|path| {
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let stamp = cache
                    .as_ref()
                    .and_then(|_| std::fs::symlink_metadata(path).ok())
                    .and_then(|m| cache::Stamp::of(&m));
                if let (Some(c), Some(st)) = (&cache, &stamp)
                    && let Some(map) = c.get(&name, st)
                {
                    let id = map.get("id").and_then(scalar_text).unwrap_or_default();
                    let rec =
                        build_record(kind, id, map, Origin::File(path.clone()), &self.rel(path), &Lines::new(""), 1);
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
pub(super) struct Lines<'a> {
    text: &'a str,
    index: std::cell::OnceCell<lines::LineIndex>,
}

impl<'a> Lines<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Lines { text, index: std::cell::OnceCell::new() }
    }
    pub(super) fn get(&self) -> &lines::LineIndex {
        self.index.get_or_init(|| lines::LineIndex::new(self.text))
    }
}

pub(super) fn build_record(
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
