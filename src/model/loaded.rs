//! The loaded data set: every entity of the requested kinds with where it
//! was read from and what was wrong with it. The store produces it; lint,
//! the graph and queries read it without depending on the I/O layer.

use super::{Entity, Kind};
use crate::ecosystem::Registry;
use crate::problem::Problem;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    /// Milestone ID → (index of its plan among the plans, index in the
    /// plan's milestones): lookups by milestone are constant time (a report
    /// asks one per todo).
    milestones: rustc_hash::FxHashMap<String, (usize, usize)>,
    /// Load problems: unreadable files, field problems, duplicates, overrides.
    pub problems: Vec<Problem>,
    /// Kinds that were loaded.
    pub kinds: Vec<Kind>,
}

impl Loaded {
    /// Sets the records of one kind (replacing any), indexed by ID. The
    /// store calls it once per loaded kind, records in natural ID order.
    pub fn set_records(&mut self, kind: Kind, records: Vec<Record>) {
        self.records.insert(kind, records);
        self.reindex(kind);
    }

    /// Rebuilds the lookups of one kind from its records.
    fn reindex(&mut self, kind: Kind) {
        let recs = self.records.get(&kind).map(Vec::as_slice).unwrap_or(&[]);
        let map = self.index.entry(kind).or_default();
        map.clear();
        map.reserve(recs.len());
        for (i, r) in recs.iter().enumerate() {
            map.insert(r.entity.id().to_string(), i);
        }
        if kind == Kind::Plan {
            self.milestones.clear();
            for (i, r) in recs.iter().enumerate() {
                if let Entity::Plan(p) = &r.entity {
                    for (j, m) in p.milestones.iter().enumerate() {
                        // The first plan holding an ID wins, as a scan would.
                        self.milestones.entry(m.id.clone()).or_insert((i, j));
                    }
                }
            }
        }
    }

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
        let r = self.records.get_mut(&kind)?.remove(i);
        self.reindex(kind);
        Some(r)
    }

    /// Takes every record of a kind out.
    pub fn take_all(&mut self, kind: Kind) -> Vec<Record> {
        let recs = self.records.remove(&kind).unwrap_or_default();
        self.reindex(kind);
        recs
    }

    /// Adds a record (after the others of its kind), replacing none: take
    /// the old version out first.
    pub fn put(&mut self, record: Record) {
        let kind = record.entity.kind();
        let recs = self.records.entry(kind).or_default();
        let i = recs.len();
        self.index.entry(kind).or_default().insert(record.entity.id().to_string(), i);
        if let Entity::Plan(p) = &record.entity {
            for (j, m) in p.milestones.iter().enumerate() {
                self.milestones.entry(m.id.clone()).or_insert((i, j));
            }
        }
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
        let &(i, j) = self.milestones.get(id)?;
        match &self.records(Kind::Plan).get(i)?.entity {
            Entity::Plan(p) => Some((p, p.milestones.get(j)?)),
            _ => None,
        }
    }
}

/// Finds the line of a field of an entity in the file it was read from.
/// The model does no I/O: the store implements it (`store::Locator`), so a
/// check like lint can give lines without reading files itself.
pub trait LineLookup {
    /// The 1-based line of `field` of entity `id` read from `origin`.
    fn line(&self, origin: &Origin, id: &str, field: &str) -> Option<usize>;
}
