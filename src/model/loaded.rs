//! The loaded data set: every entity of the requested kinds with where it
//! was read from and what was wrong with it. The store produces it; lint,
//! the graph and queries read it without depending on the I/O layer.

use super::{Entity, Kind};
use crate::ecosystem::Registry;
use crate::problem::Problem;
use hashbrown::HashTable;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The hash of an ID in the lookup tables.
fn id_hash(id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(id)
}

/// The ID of milestone `j` of the plan at position `i` of `plans`.
fn milestone_id(plans: &[Record], (i, j): (usize, usize)) -> &str {
    match &plans[i].entity {
        Entity::Plan(p) => &p.milestones[j].id,
        _ => "",
    }
}

/// Puts position `i` of `recs` into `table` (a later record with the same
/// ID replaces an earlier one).
fn index_one(table: &mut HashTable<usize>, recs: &[Record], i: usize) {
    let id = recs[i].entity.id();
    match table.entry(id_hash(id), |&j| recs[j].entity.id() == id, |&j| id_hash(recs[j].entity.id())) {
        hashbrown::hash_table::Entry::Occupied(mut e) => *e.get_mut() = i,
        hashbrown::hash_table::Entry::Vacant(v) => {
            v.insert(i);
        }
    }
}

/// Puts the milestones of the plan at position `i` into `table` (the first
/// plan holding a milestone ID wins, as a scan would).
fn index_milestones(table: &mut HashTable<(usize, usize)>, plans: &[Record], i: usize) {
    let Entity::Plan(p) = &plans[i].entity else { return };
    for (j, m) in p.milestones.iter().enumerate() {
        let id = m.id.as_str();
        if let hashbrown::hash_table::Entry::Vacant(v) =
            table.entry(id_hash(id), |&at| milestone_id(plans, at) == id, |&at| id_hash(milestone_id(plans, at)))
        {
            v.insert((i, j));
        }
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

/// One kind's records with their lookups by ID (and, for plans, by
/// milestone ID), ready to join a [`Loaded`].
pub struct Indexed {
    kind: Kind,
    records: Vec<Record>,
    index: HashTable<usize>,
    milestones: Option<HashTable<(usize, usize)>>,
}

impl Indexed {
    /// Indexes `records` of `kind` (in the order they will keep).
    pub fn new(kind: Kind, records: Vec<Record>) -> Indexed {
        let mut index = HashTable::with_capacity(records.len());
        for i in 0..records.len() {
            index_one(&mut index, &records, i);
        }
        let milestones = (kind == Kind::Plan).then(|| {
            let mut m = HashTable::new();
            for i in 0..records.len() {
                index_milestones(&mut m, &records, i);
            }
            m
        });
        Indexed { kind, records, index, milestones }
    }
}

/// Everything loaded for a command.
#[derive(Debug, Default)]
pub struct Loaded {
    pub registry: Registry,
    records: HashMap<Kind, Vec<Record>>,
    /// Per kind, ID → position among its records. The keys are the
    /// records' own IDs (a table of positions), never copies.
    index: HashMap<Kind, HashTable<usize>>,
    /// Milestone ID → (index of its plan among the plans, index in the
    /// plan's milestones): lookups by milestone are constant time (a report
    /// asks one per todo).
    milestones: HashTable<(usize, usize)>,
    /// Load problems: unreadable files, field problems, duplicates, overrides.
    pub problems: Vec<Problem>,
    /// Kinds that were loaded.
    pub kinds: Vec<Kind>,
}

impl Loaded {
    /// Sets the records of one kind (replacing any), indexed by ID. The
    /// store calls it once per loaded kind, records in natural ID order.
    pub fn set_records(&mut self, kind: Kind, records: Vec<Record>) {
        self.set_indexed(Indexed::new(kind, records));
    }

    /// Sets the records of one kind with their lookups, built beforehand
    /// ([`Indexed::new`], on the thread that loaded them).
    pub fn set_indexed(&mut self, indexed: Indexed) {
        let Indexed { kind, records, index, milestones } = indexed;
        self.records.insert(kind, records);
        self.index.insert(kind, index);
        if let Some(m) = milestones {
            self.milestones = m;
        }
    }

    /// Rebuilds the lookups of one kind from its records.
    fn reindex(&mut self, kind: Kind) {
        let recs = self.records.remove(&kind).unwrap_or_default();
        self.set_indexed(Indexed::new(kind, recs));
    }

    /// The records of one kind, in natural ID order.
    pub fn records(&self, kind: Kind) -> &[Record] {
        self.records.get(&kind).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Looks up a record.
    pub fn get(&self, kind: Kind, id: &str) -> Option<&Record> {
        let recs = self.records.get(&kind)?;
        self.index.get(&kind)?.find(id_hash(id), |&i| recs[i].entity.id() == id).map(|&i| &recs[i])
    }

    /// Takes a record out (the index of that kind is rebuilt).
    pub fn take(&mut self, kind: Kind, id: &str) -> Option<Record> {
        let recs = self.records.get(&kind)?;
        let i = *self.index.get(&kind)?.find(id_hash(id), |&i| recs[i].entity.id() == id)?;
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
        recs.push(record);
        index_one(self.index.entry(kind).or_default(), recs, i);
        if kind == Kind::Plan {
            index_milestones(&mut self.milestones, recs, i);
        }
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
        let plans = self.records(Kind::Plan);
        let &(i, j) = self.milestones.find(id_hash(id), |&at| milestone_id(plans, at) == id)?;
        match &plans.get(i)?.entity {
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

    /// [`LineLookup::line`] of each (origin, id, field), in order: an
    /// implementation may read the files at once, on every core.
    fn lines(&self, asks: &[(&Origin, &str, &str)]) -> Vec<Option<usize>> {
        asks.iter().map(|(o, id, field)| self.line(o, id, field)).collect()
    }
}
