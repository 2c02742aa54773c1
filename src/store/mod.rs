//! The store: coordination data on disk, one YAML file per entity plus the
//! legacy `coordination:` section of `settings/ecosystem.yaml`.
//!
//! Loading aggregates both (the file wins when an ID is in both, with a
//! warning naming both places) and never lets one broken file hide the rest:
//! problems are collected with file, line and field. Writing goes through
//! [`Store::write_new`], [`Store::write_update`] and [`Store::remove`] only —
//! atomic (temp file + rename), minimal-diff, verified by re-parsing.
//!
//! This file holds the [`Store`] and the loaded data set; the work is in
//! its modules: `load` (loading, through the index), `legacy` (the legacy
//! section), `parse` (text to mapping, limits), [`lines`] (line numbers),
//! `write` (writes, atomic write, temp files), [`ids`] (ID allocation,
//! natural order) and `lock` (the write lock).

pub mod edit;
pub mod files;
pub mod ids;
mod legacy;
pub mod lines;
mod load;
mod lock;
mod parse;
pub mod root;
pub mod scan;
mod write;

use crate::ecosystem::Registry;
use crate::error::{Error, Result};
use crate::model::id::validate_id;
use crate::model::{Entity, Kind};
use crate::problem::Problem;
use crate::settings::Settings;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use ids::{Allocated, natural_key};
pub use lines::{Locator, line_of_key, locate};
pub use load::Snapshot;
pub use lock::{LockWait, StoreLock, on_lock_wait};
pub use parse::{ParseError, parse_document, parse_mapping};
pub use root::Root;
pub use write::{WriteMode, atomic_write, canonical_text};

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

    /// An error with its path made relative to the root, for messages.
    fn relative(&self, e: Error) -> Error {
        match e {
            Error::NotRegular { path, what } => Error::NotRegular { path: self.rel(&path), what },
            Error::TooLarge { path, bytes, limit } => Error::TooLarge { path: self.rel(&path), bytes, limit },
            Error::Io { path, source } => Error::Io { path: self.rel(&path), source },
            other => other,
        }
    }
}
