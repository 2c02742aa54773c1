//! Loading: the registry and the entities of the requested kinds, from the
//! work tree (each kind scanned in parallel, through the index, [`crate::index`]) or
//! from a [`Snapshot`] of a revision, merged with the legacy section; one
//! broken file never hides the rest — problems carry file, line and field.
//!
//! It stays one file: the parallel scan, the index and the legacy merge share
//! the per-kind load state; the scanner, the legacy section and the index are
//! already modules of their own.

use super::lines::line_of_key;
use super::look;
use super::{Loaded, Origin, Record, Store, files, lines};
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
    /// Decode current rows from their graph rows (slim entities, see
    /// [`crate::index::graph`]).
    graph: bool,
    /// Set when the records came in natural ID order (an image no change
    /// was patched into): nothing to sort.
    sorted: bool,
    /// Set when no two records hold one ID (they came from an image, which
    /// is never made of twins): nothing to look for.
    twin_free: bool,
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
        self.load_from(kinds, None, None, false)
    }

    /// [`Store::load`] for the graph reports and lint: entities whose index
    /// row is current come back *slim* (without the free text no report
    /// reads: descriptions, notes, labels, criteria, unknown keys; see
    /// [`crate::index::graph::slim`]), decoded from their graph rows. Every
    /// other entity, and every problem, is exactly [`Store::load`]'s.
    pub fn load_for_graph(&self, kinds: &[Kind]) -> Result<Loaded> {
        self.load_from(kinds, None, None, true)
    }

    /// [`Store::load`] of one kind for a caller that keeps only entities
    /// with one of `statuses` (canonical words): the index answers which
    /// files have another status, and those are not decoded (they are
    /// absent from the result). Every other rule is [`Store::load`]'s.
    pub fn load_with_status(&self, kind: Kind, statuses: &[String]) -> Result<Loaded> {
        self.load_from(&[kind], None, Some(statuses), false)
    }

    /// Loads the given kinds from a snapshot (coordination data as it was at
    /// a revision) with exactly the rules of [`Store::load`]. Records' origins
    /// name the paths the files have in the work tree.
    pub fn load_snapshot(&self, snapshot: &Snapshot, kinds: &[Kind]) -> Result<Loaded> {
        self.load_from(kinds, Some(snapshot), None, false)
    }

    fn load_from(
        &self,
        kinds: &[Kind],
        snapshot: Option<&Snapshot>,
        only_status: Option<&[String]>,
        graph: bool,
    ) -> Result<Loaded> {
        tracing::debug!(?kinds, "load");
        let (mut loaded, mut legacy) = self.load_base(kinds, snapshot);
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
        // Kinds are read in parallel: each kind's index rows are read on one
        // thread, so overlapping the kinds beats the per-file parallelism
        // alone; each kind is also finished (twins, legacy items, order) on
        // its thread, and indexed by ID there.
        type KindFiles = (Result<crate::model::loaded::Indexed>, Vec<Problem>);
        let work: Vec<(Kind, Vec<Record>)> =
            kinds.iter().map(|&k| (k, legacy.remove(&k).unwrap_or_default())).collect();
        let files: Vec<KindFiles> = work
            .into_par_iter()
            .map(|(kind, legacy_recs)| {
                let mut problems = Vec::new();
                let mut scan = Scan { decode: true, only_status, graph, ..Scan::default() };
                let recs = match snapshot {
                    None if !coord_ok => Ok(Vec::new()),
                    None => self.file_records(kind, &mut problems, &mut scan),
                    Some(s) => Ok(self.snapshot_records(s, kind, &mut problems)),
                };
                let sorted = scan.sorted && legacy_recs.is_empty();
                let recs = recs.map(|recs| {
                    let recs = self.finish_kind(kind, recs, &scan, legacy_recs, sorted, &mut problems);
                    crate::model::loaded::Indexed::new(kind, recs)
                });
                (recs, problems)
            })
            .collect();
        for (recs, problems) in files {
            loaded.problems.extend(problems);
            loaded.set_indexed(recs?);
        }
        Ok(loaded)
    }

    /// What every load starts from: the settings' warnings, the registry and
    /// the problems of `settings/ecosystem.yaml` (of the work tree, or of
    /// `snapshot`), and the legacy section's records of each of `kinds`.
    pub(super) fn load_base(
        &self,
        kinds: &[Kind],
        snapshot: Option<&Snapshot>,
    ) -> (Loaded, HashMap<Kind, Vec<Record>>) {
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
        (loaded, legacy)
    }

    /// Finishes one kind's records: a twin (a second file holding an ID)
    /// is dropped with a problem, legacy items a file overrides are
    /// dropped with a warning, the rest joins, and everything comes in
    /// natural ID order; the records' own problems are added to `problems`.
    fn finish_kind(
        &self,
        kind: Kind,
        recs: Vec<Record>,
        scan: &Scan<'_>,
        legacy_recs: Vec<Record>,
        sorted: bool,
        problems: &mut Vec<Problem>,
    ) -> Vec<Record> {
        let skipped = &scan.skipped;
        // Undecoded files still hold their IDs (a legacy item with one
        // is overridden, exactly as when they are read). The first file
        // (in name order) holding an ID wins; IDs are borrowed, not
        // copied, to find the others.
        let duplicate_of: Vec<Option<PathBuf>> = if scan.twin_free && skipped.is_empty() {
            Vec::new()
        } else {
            let mut first: rustc_hash::FxHashMap<&str, &Path> =
                skipped.iter().map(|(id, p)| (id.as_str(), p.as_path())).collect();
            recs.iter()
                .map(|r| match first.entry(r.entity.id()) {
                    std::collections::hash_map::Entry::Occupied(e) => Some(e.get().to_path_buf()),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(r.origin.path());
                        None
                    }
                })
                .collect()
        };
        // Without a twin (the usual case) the records stay where they are.
        let mut recs = if duplicate_of.iter().all(Option::is_none) {
            recs
        } else {
            let mut kept = Vec::with_capacity(recs.len());
            for (r, dup) in recs.into_iter().zip(duplicate_of) {
                match dup {
                    None => kept.push(r),
                    Some(first) => {
                        let id = r.entity.id().to_string();
                        problems.extend(r.problems.iter().cloned());
                        problems.push(
                            Problem::error(
                                "duplicate",
                                format!("duplicate ID: also defined in {}", self.rel(&first).display()),
                            )
                            .at(self.rel(r.origin.path()), Some(1))
                            .on(&id),
                        );
                    }
                }
            }
            kept
        };
        if !legacy_recs.is_empty() {
            // Only the legacy items' IDs are looked up: no copy of every
            // file's ID and path.
            let wanted: rustc_hash::FxHashSet<String> = legacy_recs.iter().map(|r| r.entity.id().to_string()).collect();
            let mut files: HashMap<String, PathBuf> =
                skipped.iter().filter(|(id, _)| wanted.contains(id)).cloned().collect();
            for r in recs.iter().filter(|r| wanted.contains(r.entity.id())) {
                files.entry(r.entity.id().to_string()).or_insert_with(|| r.origin.path().to_path_buf());
            }
            let kept = self.merge_legacy(legacy_recs, |id| files.get(id).cloned(), problems);
            // Exactly: doubling 25,000 records for one legacy item would
            // hold 14 MB for nothing.
            recs.reserve_exact(kept.len());
            recs.extend(kept);
        }
        let recs = if sorted { recs } else { sort_natural(recs) };
        tracing::debug!(kind = kind.dir_name(), count = recs.len(), "loaded");
        for r in &recs {
            problems.extend(r.problems.iter().cloned());
        }
        recs
    }

    /// The legacy records of a kind that join its files' records: an item
    /// whose ID a file holds (`file_of`) or an earlier item holds is dropped
    /// with a warning (the file, or the first, wins).
    pub(super) fn merge_legacy(
        &self,
        legacy_recs: Vec<Record>,
        file_of: impl Fn(&str) -> Option<PathBuf>,
        problems: &mut Vec<Problem>,
    ) -> Vec<Record> {
        let mut seen: HashMap<String, PathBuf> = HashMap::new();
        let mut kept = Vec::with_capacity(legacy_recs.len());
        for r in legacy_recs {
            let id = r.entity.id().to_string();
            if let Some(file) = file_of(&id).or_else(|| seen.get(&id).cloned()) {
                problems.push(
                    Problem::warning(
                        "override",
                        format!(
                            "defined both in {} and in the legacy section of {}; the file wins",
                            self.rel(&file).display(),
                            self.rel(r.origin.path()).display()
                        ),
                    )
                    .on(&id),
                );
                continue;
            }
            seen.insert(id, r.origin.path().to_path_buf());
            kept.push(r);
        }
        kept
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
                if let Some(problems) = self.refresh_from_changes(kind) {
                    return Some(problems);
                }
                let mut problems = Vec::new();
                let mut scan = Scan::default();
                let read = self.file_records(kind, &mut problems, &mut scan);
                (read.is_ok() && scan.indexed).then_some(problems)
            })
            .collect();
        let mut all = done.into_iter().try_fold(Vec::new(), |mut all, p| {
            all.extend(p?);
            Some(all)
        })?;
        // The same answer whether the monitor answered or every file was
        // looked at: no temp-file warnings, in file order.
        all.retain(|p| p.code != "temp");
        all.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Some(all)
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

    /// Reads the entity files of `kind`, through the index (see
    /// [`crate::index`]): a file whose index row is current is not parsed.
    /// With `decode` false (bringing the index up to date for a query), such
    /// a file is not decoded either and yields no record.
    fn file_records(&self, kind: Kind, problems: &mut Vec<Problem>, scan: &mut Scan<'_>) -> Result<Vec<Record>> {
        let decode = scan.decode;
        let graph = scan.graph;
        /// What reading one file gives: its record, its problems, and a fresh
        /// parse to index (file name, stamp, mapping).
        /// The fourth item names the file when its index row is current and
        /// stays; the last is true when the record came from its graph row.
        type FileOutcome =
            (Option<Record>, Vec<Problem>, Option<(String, crate::index::Stamp, Mapping)>, Option<String>, bool);
        let dir = self.kind_dir(kind);
        let git_dir = self.root.git_dir();
        let open_index = |columns| match (&git_dir, self.root.prefix_in_repo()) {
            (Some(g), Some(prefix)) => crate::index::KindIndex::open(g, &prefix, kind, columns),
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
            if let (Some(ix), Some(g)) = (open_index(crate::index::Columns::Stamps), &git_dir) {
                scan.indexed = ix.save(&[], g);
            }
            return Ok(Vec::new());
        }
        // A graph load of a kind the monitor or the kind's sheet vouches for:
        // its image, with no row read and only the changed files read.
        let whole_kind = decode && graph && scan.only_status.is_none();
        if whole_kind
            && let (Some(mut ix), Some(g), Some(prefix)) =
                (open_index(crate::index::Columns::None), &git_dir, self.root.prefix_in_repo())
        {
            let entry = |(name, entity, problems): crate::index::graph::ImageEntry| Record {
                entity,
                origin: Origin::File(files::file_in(&dir, &name)),
                problems,
            };
            let answer = match ix.image_token() {
                Some(token) => self.ask_monitor(g, &prefix, Some(token)),
                // An image without a token is the sheet's; a running monitor
                // is asked by the scan below, which makes one with a token.
                None => self.ask_monitor(g, &prefix, ix.token()),
            };
            let served = match answer {
                Some(answer) => ix.image(answer, &entry).map(|s| (s, None)),
                None => self
                    .sheet_changes(&dir, &ix)
                    .filter(|a| !a.look.temps)
                    .and_then(|a| ix.image_by_sheet(a.changed, &entry).map(|s| (s, Some(a.look)))),
            };
            if let Some(((files, changed), look)) = served
                && let Some(out) = self.patch_image(kind, &dir, &mut ix, files, &changed)
            {
                tracing::debug!(kind = kind.dir_name(), files = out.len(), changed = changed.len(), "from the image");
                // Nothing changed: the stored sheet still says it all.
                if let Some(look) = look.filter(|_| !changed.is_empty()) {
                    let dir = look.plain_dir();
                    ix.keep_stamps(unchanged(look.files, &changed), dir);
                }
                // An image holds its files in natural ID order, and no twins.
                scan.sorted = changed.is_empty();
                scan.twin_free = true;
                scan.indexed = ix.save_changes(g);
                return Ok(out);
            }
        }
        // The index and the monitor's answer come before any file is looked
        // at: a change after the answer is the next answer's.
        let mut index = open_index(match (decode, graph) {
            (false, _) => crate::index::Columns::Stamps,
            (true, false) => crate::index::Columns::Maps,
            (true, true) => crate::index::Columns::Graph,
        });
        if let (Some(ix), Some(g), Some(prefix)) = (index.as_mut(), &git_dir, self.root.prefix_in_repo())
            && let Some(answer) = self.ask_monitor(g, &prefix, ix.token())
        {
            tracing::debug!(kind = kind.dir_name(), ?answer, "monitor");
            ix.apply(answer);
        }
        // Only regular files are entities; everything else is reported, and
        // never followed or opened (see `files`).
        // The directory's stamp before it is listed, for the sheet.
        let dir_stamp = std::fs::symlink_metadata(&dir).ok().and_then(|m| crate::index::Stamp::of(&m));
        let rd = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
        // (file name, path): the name is what the index is keyed by.
        let mut paths: Vec<(String, PathBuf)> = Vec::new();
        // Names that are no regular file, with their problem.
        let mut not_files: Vec<(String, Vec<Problem>)> = Vec::new();
        let now = std::time::SystemTime::now();
        // A temp file may turn stale later without any event: no image is
        // made while one is there.
        let mut saw_temp = false;
        for entry in rd {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_file() {
                if files::is_temp_name(&name) {
                    saw_temp = true;
                    if let Some(age) = entry.metadata().ok().and_then(|m| files::stale_age(&m, now)) {
                        problems.push(self.stale_temp_problem(&path, age));
                    }
                    continue;
                }
                if is_entity_file(&path) {
                    paths.push((name.into_owned(), path));
                }
                continue;
            }
            if let Some(p) = self.file_type_problem(&path) {
                not_files.push((name.into_owned(), vec![p.clone()]));
                problems.push(p);
            }
        }
        // By name: the same order as sorting the paths (one directory), without
        // comparing path components.
        paths.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        tracing::debug!(kind = kind.dir_name(), files = paths.len(), "listed");
        // A row the monitor vouches for needs no look at its file.
        let stamps: Vec<Option<crate::index::Stamp>> = match &index {
            Some(ix) => {
                let rows = ix.rows();
                paths
                    .par_iter()
                    .map(|(name, p)| {
                        rows.vouched_stamp(name)
                            .or_else(|| std::fs::symlink_metadata(p).ok().and_then(|m| crate::index::Stamp::of(&m)))
                    })
                    .collect()
            }
            None => vec![None; paths.len()],
        };
        tracing::debug!(kind = kind.dir_name(), index = index.is_some(), "rows read, files stamped");
        let stale = match &index {
            Some(ix) => paths
                .iter()
                .zip(&stamps)
                .filter(|((name, _), st)| !st.as_ref().is_some_and(|st| ix.is_current(name, st)))
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
            .map(|((name, path), stamp)| {
                let name = name.clone();
                if let (Some(ix), Some(st)) = (view, stamp)
                    && ix.is_current(&name, st)
                {
                    if !decode || only_status.is_some_and(|wanted| ix.skippable(&name, wanted)) {
                        return (None, Vec::new(), None, Some(name), false);
                    }
                    if graph && let Some((entity, problems)) = ix.graph(kind, &name, st) {
                        let rec = Record { entity, origin: Origin::File(path.clone()), problems };
                        return (Some(rec), Vec::new(), None, Some(name), true);
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
                            return (Some(rec), Vec::new(), None, Some(name), false);
                        }
                    }
                    // A current row of a file with problems: read for its
                    // line numbers, the row stays as it is.
                    let (rec, probs, _) = self.read_file_record(kind, path);
                    return (rec, probs, None, Some(name), false);
                }
                let (rec, probs, parsed) = self.read_file_record(kind, path);
                if view.is_some() {
                    progress.tick();
                }
                let fresh = match (rec.as_ref(), parsed, stamp) {
                    (Some(_), Some(map), Some(st)) => Some((name, *st, map)),
                    _ => None,
                };
                (rec, probs, fresh, None, false)
            })
            .collect();
        if let (Some(ix), Some(wanted)) = (view, only_status) {
            scan.skipped = paths
                .iter()
                .filter(|(name, _)| ix.skippable(name, wanted))
                .map(|(name, p)| (ix.id(name).unwrap_or_default().to_string(), p.clone()))
                .collect();
        }
        tracing::debug!(kind = kind.dir_name(), "records built");
        let mut out = Vec::with_capacity(results.len());
        // Per record: its file name, and whether it came from a graph row
        // (else its row must be checked before an image may hold it).
        let mut out_names: Vec<(&str, bool)> = Vec::with_capacity(results.len());
        let mut live = Vec::new();
        // The files whose rows stand, with their stamps, when every file
        // was looked at (none vouched for by the monitor): for the sheet.
        let mut kept_stamps = index
            .as_ref()
            .filter(|ix| !ix.rows().vouching() && stamps.iter().all(Option::is_some))
            .map(|_| Vec::with_capacity(paths.len()));
        for (((name, _), (rec, probs, fresh, kept, from_row)), stamp) in paths.iter().zip(results).zip(&stamps) {
            if let (Some(ks), Some(_), Some(st)) = (kept_stamps.as_mut(), &kept, stamp) {
                ks.push((name.clone(), *st));
            }
            if rec.is_none() && !probs.is_empty() && index.is_some() {
                not_files.push((name.clone(), probs.clone()));
            }
            problems.extend(probs);
            if let (Some(ix), Some((name, st, map)), Some(r)) = (index.as_mut(), fresh, rec.as_ref())
                && ix.put(name.clone(), st, map, r.entity.clone(), &r.problems)
            {
                live.push(name);
            }
            if rec.is_some() {
                out_names.push((name, from_row));
            }
            live.extend(kept);
            out.extend(rec);
        }
        if let (Some(mut ix), Some(g)) = (index, &git_dir) {
            if whole_kind
                && !saw_temp
                && not_files.is_empty()
                && (ix.answered() || kept_stamps.is_some())
                && let Some(image) = image_of(kind, &out, &out_names)
            {
                ix.set_image(image);
            }
            let plain = !saw_temp && not_files.is_empty();
            ix.set_skipped(not_files);
            if let Some(ks) = kept_stamps {
                ix.keep_stamps(ks, dir_stamp.filter(|_| plain).map(|d| (d, paths.len())));
            }
            scan.indexed = ix.save(&live, g);
        }
        Ok(out)
    }

    /// The records of a kind from its image, with the files the monitor
    /// named (`changed`) read again: their rows are put or forgotten in `ix`,
    /// and a new image is set to be written with them. `None` (the kind is
    /// then checked file by file) when a named file is no regular entity
    /// file, does not read cleanly, is a temp file still there (it may turn
    /// stale), or holds an ID another file holds (which one wins is decided
    /// in name order, by the full scan).
    fn patch_image(
        &self,
        kind: Kind,
        dir: &Path,
        ix: &mut crate::index::KindIndex,
        files: Vec<Record>,
        changed: &[String],
    ) -> Option<Vec<Record>> {
        if changed.is_empty() {
            return Some(files);
        }
        let gone: std::collections::HashSet<&str> = changed.iter().map(String::as_str).collect();
        let name_of = |r: &Record| r.origin.path().file_name().map(|n| n.to_string_lossy().into_owned());
        let mut out = Vec::with_capacity(files.len() + changed.len());
        // Each record's file name, and whether it came from the image (a
        // graph row).
        let mut names: Vec<(String, bool)> = Vec::with_capacity(files.len() + changed.len());
        for r in files {
            let name = name_of(&r)?;
            if !gone.contains(name.as_str()) {
                out.push(r);
                names.push((name, true));
            }
        }
        for name in changed {
            let path = dir.join(name);
            ix.forget(name);
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(_) => return None,
            };
            if files::is_temp_name(name) || !meta.is_file() {
                return None;
            }
            if !is_entity_file(&path) {
                continue;
            }
            let (Some(rec), probs, Some(map)) = self.read_file_record(kind, &path) else { return None };
            if !probs.is_empty() {
                return None;
            }
            let stamp = crate::index::Stamp::of(&meta)?;
            ix.put(name.clone(), stamp, map, rec.entity.clone(), &rec.problems);
            out.push(rec);
            names.push((name.clone(), false));
        }
        let refs: Vec<(&str, bool)> = names.iter().map(|(n, r)| (n.as_str(), *r)).collect();
        // A twin makes no image; here it makes no answer either.
        let image = image_of(kind, &out, &refs)?;
        ix.set_image(image);
        Some(out)
    }

    /// The problem of a name in an entity directory that is no regular
    /// file (a directory, a link, a special file); `None` when it is one
    /// (or is gone).
    fn file_type_problem(&self, path: &Path) -> Option<Problem> {
        let meta = std::fs::symlink_metadata(path).ok()?;
        let files::EntryType::Other(what) = files::entry_type(&meta) else { return None };
        let hint = if meta.is_dir() {
            "entities are files directly in this directory; nothing inside it is read"
        } else {
            "skipped: git-coord never follows links or opens special files in coordination/"
        };
        Some(Problem::error("file-type", format!("is {what}; {hint}")).at(self.rel(path), None))
    }

    /// The monitor's answer since `token` for this root; with none running,
    /// one is started for the next command when git's configuration asks
    /// for it ([`crate::index::monitor::AUTO_START_KEY`]).
    fn ask_monitor(&self, git_dir: &Path, prefix: &str, token: Option<&str>) -> Option<crate::index::monitor::Answer> {
        use crate::index::monitor;
        let paths = monitor::Paths::of(git_dir, prefix);
        let answer = monitor::query(&paths, token);
        if answer.is_none() {
            monitor::start_if_wanted(&self.root.dir, git_dir, &paths);
        }
        answer
    }

    /// The names of a kind its stored sheet reports changed (and every
    /// name that is no regular file), with the look at its directory they
    /// come from. `None` when there is no current sheet, the directory
    /// cannot be looked at, or more names changed than a sheet answers for.
    fn sheet_changes(&self, dir: &Path, ix: &crate::index::KindIndex) -> Option<SheetAnswer> {
        if !ix.has_sheet() {
            return None;
        }
        let (look, mut changed, with_rows) = ix.with_sheet(|sheet| {
            let look = look::look(dir, |name| is_entity_file(Path::new(name)), |now| sheet.names_if_dir(now))?;
            let changed = sheet.changed(&look.files);
            let with_rows = changed.iter().filter(|n| sheet.has(n)).cloned().collect();
            Some((look, changed, with_rows))
        })??;
        if changed.len() + look.others.len() > crate::index::sheet::MAX_CHANGED {
            return None;
        }
        changed.extend(look.others.iter().cloned());
        Some(SheetAnswer { look, changed, with_rows })
    }

    /// Brings the index of `kind` up to date from the file-system
    /// monitor's answer, or else from the kind's sheet: only the files
    /// named changed are read. `None` when neither can vouch (no monitor
    /// and no current sheet, a full answer, too many changes) or anything
    /// is unexpected — the caller then scans every file. Returns the
    /// problems of the names that are no entity, as a full scan reports
    /// them.
    fn refresh_from_changes(&self, kind: Kind) -> Option<Vec<Problem>> {
        use crate::index::{KindIndex, Stamp, monitor};
        let (git_dir, prefix) = (self.root.git_dir()?, self.root.prefix_in_repo()?);
        let dir = self.kind_dir(kind);
        if !files::check_dir(&dir).ok()? {
            return None;
        }
        let mut ix = KindIndex::open(&git_dir, &prefix, kind, crate::index::Columns::None)?;
        // The changed names, the monitor's answer they come from or else
        // the files as looked at for the sheet, and the sheet's names
        // (which have rows; no other name has one).
        let (names, answer, looked): (Vec<String>, _, _) = match self.ask_monitor(&git_dir, &prefix, ix.token()) {
            Some(answer) => {
                tracing::debug!(kind = kind.dir_name(), ?answer, "monitor");
                let monitor::Answer::Changed { names, .. } = &answer else { return None };
                let own = format!("{}/", kind.dir_name());
                let names = names.iter().filter_map(|n| n.strip_prefix(&own)).map(str::to_string).collect();
                (names, Some(answer), None)
            }
            None => {
                let a = self.sheet_changes(&dir, &ix)?;
                tracing::debug!(kind = kind.dir_name(), changed = a.changed.len(), listed = a.look.listed, "sheet");
                (a.changed, None, Some((a.look, a.with_rows)))
            }
        };
        for name in &names {
            let path = dir.join(name);
            match &looked {
                // Only a name on the sheet has a row to drop.
                Some((_, with_rows)) if !with_rows.contains(name) => ix.unskip(name),
                _ => ix.forget(name),
            }
            // Temp files are no entities, and their warnings are not part
            // of a refresh's answer.
            if files::is_temp_name(name) {
                continue;
            }
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(_) => return None,
            };
            if !meta.is_file() {
                if let Some(p) = self.file_type_problem(&path) {
                    ix.skip(name, &[p]);
                }
                continue;
            }
            if !is_entity_file(&path) {
                continue;
            }
            match self.read_file_record(kind, &path) {
                (Some(rec), _, Some(map)) => {
                    let stamp = Stamp::of(&meta)?;
                    ix.put(name.to_string(), stamp, map, rec.entity, &rec.problems);
                }
                (None, probs, _) if !probs.is_empty() => ix.skip(name, &probs),
                _ => {}
            }
        }
        let problems = ix.skipped_problems();
        // Nothing changed: the stored sheet still says it all.
        if let Some((look, _)) = looked.filter(|_| !names.is_empty()) {
            let dir = look.plain_dir();
            ix.keep_stamps(unchanged(look.files, &names), dir);
        }
        if let Some(answer) = answer {
            ix.apply(answer);
        }
        ix.save_changes(&git_dir).then_some(problems)
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

/// At most this many records read afresh (not from a graph row) may go
/// into an image; a load that read more (a first build) leaves the image to
/// the next one rather than checking every row twice.
const IMAGE_MAX_FRESH: usize = 1000;

/// The image ([`crate::index::graph::encode_image`]) of one kind's records
/// (`names`: each record's file name and whether it came from a graph row),
/// in natural ID order; `None` when an ID is held twice (which file wins is
/// decided by reading them), a record's graph row would not give back its
/// slim entity, or too many records were read afresh.
fn image_of(kind: Kind, recs: &[Record], names: &[(&str, bool)]) -> Option<Vec<u8>> {
    if names.iter().filter(|(_, from_row)| !from_row).count() > IMAGE_MAX_FRESH {
        return None;
    }
    let mut ids = rustc_hash::FxHashSet::default();
    let mut files = Vec::with_capacity(recs.len());
    for (r, (name, from_row)) in recs.iter().zip(names) {
        if !ids.insert(r.entity.id()) || (!from_row && crate::index::graph::encode(&r.entity).is_none()) {
            return None;
        }
        files.push((*name, &r.entity, r.problems.as_slice()));
    }
    files.sort_by(|a, b| crate::model::id::natural_parts(a.1.id()).cmp(&crate::model::id::natural_parts(b.1.id())));
    crate::index::graph::encode_image(kind, &files)
}

/// True for the names an entity may have (`*.yaml`, `*.yml`).
/// What a kind's sheet says of its directory as looked at now.
struct SheetAnswer {
    look: look::Look,
    /// The names that changed since the sheet, in name order, then every
    /// name that is no regular file.
    changed: Vec<String>,
    /// The changed names that have rows (the ones on the sheet).
    with_rows: std::collections::HashSet<String>,
}

/// The files of `looked` not named in `changed`.
fn unchanged(looked: Vec<(String, crate::index::Stamp)>, changed: &[String]) -> Vec<(String, crate::index::Stamp)> {
    let changed: std::collections::HashSet<&str> = changed.iter().map(String::as_str).collect();
    looked.into_iter().filter(|(name, _)| !changed.contains(name.as_str())).collect()
}

fn is_entity_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
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
    let legacy = matches!(origin, Origin::Legacy(_));
    let problems = field_problems.into_iter().map(|fp| field_problem(fp, &id, rel, text, start_line, legacy)).collect();
    Record { entity, origin, problems }
}

/// A field problem at its line: in a legacy item (`legacy`, `start_line` its
/// `id:` line), only that item's keys count; a missing field gets the item's line.
fn field_problem(fp: FieldProblem, id: &str, rel: &Path, text: &Lines<'_>, start_line: usize, legacy: bool) -> Problem {
    let (code, severity_error) = match fp.kind {
        FieldProblemKind::Type => ("type", true),
        FieldProblemKind::Value => ("value", true),
        FieldProblemKind::Missing => ("missing", !fp.message.contains("assumed")),
    };
    let line =
        if legacy { text.get().item_field(start_line, &fp.field) } else { text.get().field(start_line, &fp.field) };
    let p = if severity_error { Problem::error(code, fp.message) } else { Problem::warning(code, fp.message) };
    p.at(rel, line.or(Some(start_line))).on(id).field(fp.field)
}

/// Records in natural ID order (stable). Records are large, so an order of
/// indices is sorted and the records moved once, rather than moved by the
/// sort itself; data already in order (often) is returned as it is.
pub(super) fn sort_natural(recs: Vec<Record>) -> Vec<Record> {
    use crate::model::id::natural_parts;
    // Each ID parsed once; ties keep load order (the index breaks them).
    let mut order: Vec<((&str, u64, &str), usize)> =
        recs.iter().enumerate().map(|(i, r)| (natural_parts(r.entity.id()), i)).collect();
    if order.is_sorted() {
        return recs;
    }
    order.sort_unstable();
    let order: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
    // The record at position `order[k]` goes to `k`: applied in place, one
    // cycle at a time, so the records are never held twice.
    let mut recs = recs;
    let mut done = vec![false; recs.len()];
    for start in 0..recs.len() {
        let mut at = start;
        while !done[at] {
            done[at] = true;
            let from = order[at];
            if from == start {
                break;
            }
            recs.swap(at, from);
            at = from;
        }
    }
    recs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> Record {
        let map: Mapping = serde_yaml::from_str(&format!("id: {id}\ntitle: t\n")).unwrap();
        let entity = Entity::read(Kind::Issue, id.to_string(), map).0;
        Record { entity, origin: Origin::File(PathBuf::from(format!("{id}.yaml"))), problems: Vec::new() }
    }

    #[test]
    fn natural_order_is_applied_in_place_for_any_permutation() {
        // Every permutation of five IDs, and ties keeping load order.
        let ids = ["ISSUE-1", "ISSUE-2", "ISSUE-10", "ISSUE-11", "ISSUE-100"];
        let mut perm: Vec<usize> = (0..ids.len()).collect();
        let mut seen = 0;
        loop {
            let recs: Vec<Record> = perm.iter().map(|&i| record(ids[i])).collect();
            let got: Vec<String> = sort_natural(recs).iter().map(|r| r.entity.id().to_string()).collect();
            assert_eq!(got, ids, "from {perm:?}");
            seen += 1;
            // The next permutation in lexicographic order.
            let Some(i) = (0..perm.len() - 1).rev().find(|&i| perm[i] < perm[i + 1]) else { break };
            let j = (i + 1..perm.len()).rev().find(|&j| perm[j] > perm[i]).unwrap();
            perm.swap(i, j);
            perm[i + 1..].reverse();
        }
        assert_eq!(seen, 120);
        let recs = vec![record("ISSUE-01"), record("ISSUE-2"), record("ISSUE-001")];
        let got: Vec<String> = sort_natural(recs).iter().map(|r| r.origin.path().display().to_string()).collect();
        assert_eq!(got, ["ISSUE-01.yaml", "ISSUE-001.yaml", "ISSUE-2.yaml"], "ties keep load order");
    }
}
