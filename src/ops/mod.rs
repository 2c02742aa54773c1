//! Validated operations on coordination data: the one write path that every
//! front end (CLI, MCP server, hooks, future pool execution) goes through.
//!
//! Each write takes the store lock, re-reads what it modifies, validates the
//! change (enum values, dates, repositories, references, cycles), stamps
//! `updated`, and writes through [`Store`] (atomic, minimal diff).
//!
//! Every write starts with [`write_lock`], which refuses when the settings
//! say `enabled: false` (naming the setting and its file) — so the switch
//! holds for every front end at once; reads never ask.

pub mod migrate;
pub mod patch;
pub mod renumber;

use crate::ecosystem::Registry;
use crate::error::{Error, Result};
use crate::model::*;
use crate::store::{Loaded, Record, Store, WriteMode, natural_key};
use std::collections::HashSet;
use std::path::PathBuf;

pub use patch::{Patch, parse_estimate};
pub use renumber::{Renumbered, renumber};

/// What a write did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The entity as written.
    pub entity: Entity,
    /// Its file.
    pub path: PathBuf,
    /// Whether the write was minimal, canonical or nothing at all.
    pub mode: WriteMode,
    /// Warnings for the user (e.g. an out-of-range ID the allocator ignored).
    pub warnings: Vec<crate::problem::Problem>,
}

/// Answers "does this ID / repository exist?" for validation, loading only
/// what is needed (file existence checks, the ecosystem file once, plans only
/// when a milestone is named).
pub struct Refs<'s> {
    store: &'s Store,
    registry: Registry,
    legacy_ids: HashSet<String>,
    plans: Option<Loaded>,
    /// Warnings gathered while allocating (out-of-range IDs seen), for the
    /// write's outcome.
    pub warnings: Vec<crate::problem::Problem>,
}

impl<'s> Refs<'s> {
    /// Prepares reference checks for `store`.
    pub fn new(store: &'s Store) -> Result<Self> {
        let mut registry = Registry::default();
        let mut legacy_ids = HashSet::new();
        let eco = store.ecosystem_path();
        if let Ok(text) = crate::store::files::read_text_following(&eco, store.settings.limits.max_file_bytes) {
            let doc = store.parse(&text).map_err(|e| e.into_error(store.rel(&eco)))?;
            registry = Registry::from_document(&doc, &store.rel(&eco)).0;
            if let Some(serde_yaml::Value::Mapping(coord)) = doc.get("coordination") {
                for kind in Kind::ALL {
                    if let Some(serde_yaml::Value::Sequence(items)) = coord.get(kind.dir_name()) {
                        for item in items {
                            if let Some(id) = item.get("id").and_then(crate::model::reader::scalar_text) {
                                legacy_ids.insert(format!("{}:{id}", kind.dir_name()));
                            }
                        }
                    }
                }
            }
        }
        Ok(Refs { store, registry, legacy_ids, plans: None, warnings: Vec::new() })
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn hours_per_day(&self) -> f64 {
        self.store.settings.hours_per_day
    }

    /// Resolves a repository name or nickname to its canonical name.
    pub fn repo(&self, name: &str) -> Result<String> {
        if name.trim().is_empty() {
            return Err(Error::Invalid("repository name cannot be empty".into()));
        }
        self.registry.resolve(name).map_err(Error::Invalid)
    }

    /// The canonical name of a repository, or the name as given.
    pub fn canonical_repo(&self, name: &str) -> String {
        self.registry.canonical(name).to_string()
    }

    /// The kind of an existing entity with this ID among `kinds`.
    pub fn kind_of(&self, id: &str, kinds: &[Kind]) -> Option<Kind> {
        if crate::model::id::validate_id(id).is_err() {
            return None;
        }
        kinds.iter().copied().find(|k| {
            std::fs::symlink_metadata(self.store.kind_dir(*k).join(format!("{id}.yaml"))).is_ok_and(|m| m.is_file())
                || self.legacy_ids.contains(&format!("{}:{id}", k.dir_name()))
        })
    }

    /// Keeps the IDs that exist; reports the others.
    fn existing(&self, ids: &[String], kinds: &[Kind], errs: &mut Vec<String>) -> Vec<String> {
        let mut out = Vec::new();
        for id in ids {
            if let Err(e) = crate::model::id::validate_id(id) {
                errs.push(e.to_string());
            } else if self.kind_of(id, kinds).is_some() {
                out.push(id.clone());
            } else {
                let what: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
                errs.push(format!("unknown reference `{id}` (no {} with that ID)", what.join(" or ")));
            }
        }
        out
    }

    /// A link to one entity (`""` clears it).
    fn link(&self, id: &str, kind: Kind) -> Result<Option<String>> {
        if id.trim().is_empty() {
            return Ok(None);
        }
        crate::model::id::validate_id(id)?;
        match self.kind_of(id, &[kind]) {
            Some(_) => Ok(Some(id.to_string())),
            None => Err(Error::Invalid(format!("unknown reference `{id}` (no {kind} with that ID)"))),
        }
    }

    fn plans(&mut self) -> Result<&Loaded> {
        if self.plans.is_none() {
            self.plans = Some(self.store.load(&[Kind::Plan])?);
        }
        Ok(self.plans.as_ref().expect("just loaded"))
    }

    /// Whether `id` exists as one of `targets` (entity kinds, milestones).
    pub fn exists_as(&mut self, id: &str, targets: &[crate::model::refs::Target]) -> Result<bool> {
        use crate::model::refs::Target;
        let kinds: Vec<Kind> =
            targets.iter().filter_map(|t| if let Target::Kind(k) = t { Some(*k) } else { None }).collect();
        if self.kind_of(id, &kinds).is_some() {
            return Ok(true);
        }
        Ok(targets.contains(&Target::Milestone) && self.plans()?.milestone(id).is_some())
    }

    /// A "did you mean …?" for an ID that is none of `targets`.
    pub fn suggest(&mut self, id: &str, targets: &[crate::model::refs::Target]) -> Result<Option<String>> {
        use crate::model::refs::Target;
        let mut candidates: Vec<String> = Vec::new();
        for t in targets {
            match t {
                Target::Kind(k) => {
                    if let Ok(rd) = std::fs::read_dir(self.store.kind_dir(*k)) {
                        candidates.extend(rd.flatten().filter_map(|e| {
                            e.file_name().to_str().and_then(|n| n.strip_suffix(".yaml")).map(str::to_string)
                        }));
                    }
                    let section = format!("{}:", k.dir_name());
                    candidates
                        .extend(self.legacy_ids.iter().filter_map(|x| x.strip_prefix(&section)).map(str::to_string));
                }
                Target::Milestone => {
                    candidates.extend(self.plans()?.plans().flat_map(|p| p.milestones.iter().map(|m| m.id.clone())))
                }
            }
        }
        Ok(crate::suggest::did_you_mean(id, candidates.iter().map(String::as_str))
            .map(|s| format!("did you mean {s}?")))
    }

    /// The next free milestone ID (every plan, every branch), besides `taken`.
    pub fn next_milestone_id(&mut self, taken: &[String]) -> Result<String> {
        let store = self.store;
        let plans = self.plans()?;
        let alloc = store.next_milestone_id(plans, taken)?;
        self.warnings.extend(alloc.warnings);
        Ok(alloc.id)
    }

    /// A link to a milestone (`""` clears it).
    fn milestone_link(&mut self, id: &str) -> Result<Option<String>> {
        if id.trim().is_empty() {
            return Ok(None);
        }
        crate::model::id::validate_id(id)?;
        if self.plans()?.milestone(id).is_some() {
            Ok(Some(id.to_string()))
        } else {
            Err(Error::Invalid(format!("unknown reference `{id}` (no milestone with that ID)")))
        }
    }
}

/// Refuses when the settings turn writes off (`enabled: false`), naming
/// the setting and its file.
pub fn ensure_enabled(store: &Store) -> Result<()> {
    if store.settings.enabled {
        return Ok(());
    }
    let path = store.settings.source.as_deref().map(|p| store.rel(p)).unwrap_or_else(|| "settings/coord.yaml".into());
    Err(Error::Disabled { path, key: store.settings.key("enabled") })
}

/// Takes the store lock for a write, after [`ensure_enabled`]. Every write
/// of coordination data starts here.
pub fn write_lock(store: &Store) -> Result<std::fs::File> {
    ensure_enabled(store)?;
    store.lock()
}

fn today(store: &Store) -> CoordDate {
    CoordDate::stamp(crate::model::date::now(), store.settings.date_precision)
}

/// Looks up an entity, accepting `issue-7` for `ISSUE-007`.
pub fn find(store: &Store, kind: Kind, id: &str) -> Result<Record> {
    crate::model::id::validate_id(id)?;
    if let Some(r) = store.load_one(kind, id)? {
        return Ok(r);
    }
    if let Some(canon) = crate::model::id::canonical_lookup(id, store.prefix(kind))
        && canon != id
        && let Some(r) = store.load_one(kind, &canon)?
    {
        return Ok(r);
    }
    Err(Error::NotFound { kind, id: id.to_string(), hint: None })
}

/// Creates an entity of `kind` from a patch. The ID is allocated under the lock.
pub fn create(store: &Store, kind: Kind, patch: &Patch) -> Result<Outcome> {
    let _lock = write_lock(store)?;
    let mut refs = Refs::new(store)?;
    let alloc = next_id(store, kind, &refs)?;
    let mut entity = patch::blank(kind, alloc.id, today(store));
    patch.apply(&mut entity, &mut refs)?;
    check_cycles(store, &entity)?;
    let path = store.write_new(&entity)?;
    Ok(Outcome { entity, path, mode: WriteMode::Minimal, warnings: alloc.warnings })
}

fn next_id(store: &Store, kind: Kind, refs: &Refs<'_>) -> Result<crate::store::Allocated> {
    let prefix = store.prefix(kind);
    let section = format!("{}:", kind.dir_name());
    let mut known = crate::store::ids::Highest::default();
    let eco = store.rel(&store.ecosystem_path()).display().to_string();
    for id in refs.legacy_ids.iter().filter_map(|k| k.strip_prefix(&section)) {
        known.see_name(prefix, id, || format!("legacy section of {eco}"));
    }
    store.next_id(kind, known)
}

/// Creates an entity of `kind`: `fill` sets the fields of a blank entity
/// that has its allocated ID (allocated under the lock); the result is
/// checked for cycles and written.
pub fn create_with(
    store: &Store,
    kind: Kind,
    fill: impl FnOnce(&mut Entity, &mut Refs<'_>) -> Result<()>,
) -> Result<Outcome> {
    let _lock = write_lock(store)?;
    let mut refs = Refs::new(store)?;
    let alloc = next_id(store, kind, &refs)?;
    refs.warnings.extend(alloc.warnings);
    let mut entity = patch::blank(kind, alloc.id, today(store));
    fill(&mut entity, &mut refs)?;
    check_cycles(store, &entity)?;
    let path = store.write_new(&entity)?;
    Ok(Outcome { entity, path, mode: WriteMode::Minimal, warnings: refs.warnings })
}

/// Updates entity `id` of `kind`: `change` edits a copy of the stored entity
/// (re-read under the lock); an unchanged entity writes nothing, a changed
/// one is checked for cycles, stamped `updated` and written minimally.
pub fn update_with(
    store: &Store,
    kind: Kind,
    id: &str,
    change: impl FnOnce(&mut Entity, &mut Refs<'_>) -> Result<()>,
) -> Result<Outcome> {
    let _lock = write_lock(store)?;
    let record = find(store, kind, id)?;
    let mut refs = Refs::new(store)?;
    let mut entity = record.entity.clone();
    change(&mut entity, &mut refs)?;
    let mut o = write_changed(store, &record, entity)?;
    o.warnings.append(&mut refs.warnings);
    Ok(o)
}

/// The plan holding milestone `id`.
pub fn plan_of_milestone(store: &Store, id: &str) -> Result<String> {
    let plans = store.load(&[Kind::Plan])?;
    match plans.milestone(id) {
        Some((p, _)) => Ok(p.id.clone()),
        None => {
            let all: Vec<&str> = plans.plans().flat_map(|p| p.milestones.iter().map(|m| m.id.as_str())).collect();
            let hint = crate::suggest::did_you_mean(id, all).map(|s| format!("did you mean {s}?"));
            Err(Error::NotFoundMilestone { id: id.to_string(), hint })
        }
    }
}

/// Updates an entity with a patch. An empty patch writes nothing.
pub fn update(store: &Store, kind: Kind, id: &str, patch: &Patch) -> Result<Outcome> {
    let _lock = write_lock(store)?;
    let record = find(store, kind, id)?;
    if patch.is_empty() {
        return Ok(Outcome {
            entity: record.entity.clone(),
            path: record.origin.path().to_path_buf(),
            mode: WriteMode::Unchanged,
            warnings: Vec::new(),
        });
    }
    let mut refs = Refs::new(store)?;
    let mut entity = record.entity.clone();
    patch.apply(&mut entity, &mut refs)?;
    write_changed(store, &record, entity)
}

/// Stamps `updated` and writes, unless nothing changed.
fn write_changed(store: &Store, record: &Record, mut entity: Entity) -> Result<Outcome> {
    if entity.to_mapping() == record.entity.to_mapping() {
        return Ok(Outcome {
            entity,
            path: record.origin.path().to_path_buf(),
            mode: WriteMode::Unchanged,
            warnings: Vec::new(),
        });
    }
    check_cycles(store, &entity)?;
    entity.set_updated(today(store));
    let mode = store.write_update(record, &entity)?;
    Ok(Outcome { entity, path: record.origin.path().to_path_buf(), mode, warnings: Vec::new() })
}

/// Refuses a change that would close a cycle (see [`crate::graph::cycles`]).
fn check_cycles(store: &Store, entity: &Entity) -> Result<()> {
    if !entity.has_blocking_references() {
        return Ok(());
    }
    let mut loaded = store.load(&[Kind::Issue, Kind::Plan, Kind::Todo])?;
    if let Some(cycle) = crate::graph::cycles::cycle_through(&mut loaded, entity) {
        return Err(Error::Cycle(cycle));
    }
    Ok(())
}

/// Who references `id` (so deleting it would leave dangling references).
pub fn referrers(loaded: &Loaded, id: &str) -> Vec<String> {
    let mut out: Vec<String> = Kind::ALL
        .iter()
        .flat_map(|k| loaded.records(*k))
        .filter(|r| r.entity.references().iter().any(|x| x.target == id))
        .map(|r| r.entity.id().to_string())
        .collect();
    out.sort_by_cached_key(|s| natural_key(s));
    out.dedup();
    out
}

/// Deletes an entity; refuses while others reference it unless `force`.
pub fn delete(store: &Store, kind: Kind, id: &str, force: bool) -> Result<Record> {
    let _lock = write_lock(store)?;
    let record = find(store, kind, id)?;
    if !force {
        let loaded = store.load(&[Kind::Issue, Kind::Plan, Kind::Todo])?;
        let refs = referrers(&loaded, record.entity.id());
        if !refs.is_empty() {
            return Err(Error::Refused(format!(
                "{} is referenced by {}; remove those references first or pass --force",
                record.entity.id(),
                refs.join(", ")
            )));
        }
    }
    store.remove(&record)?;
    Ok(record)
}

/// A new milestone for a plan.
#[derive(Debug, Clone, Default)]
pub struct NewMilestone {
    pub name: String,
    pub due: Option<String>,
    pub description: Option<String>,
    pub dependencies: Vec<String>,
    pub completion_criteria: Vec<String>,
    pub deliverables: Vec<String>,
}

/// Parses `Name:YYYY-MM-DD` (the date part is optional).
pub fn parse_milestone_spec(spec: &str) -> Result<NewMilestone> {
    let (name, due) = match spec.rsplit_once(':') {
        Some((n, d)) if CoordDate::parse(d).is_some() => (n.trim(), Some(d.trim().to_string())),
        Some((_, d)) if d.trim().chars().next().is_some_and(|c| c.is_ascii_digit()) => {
            return Err(Error::Invalid(format!(
                "invalid milestone due date `{d}` in `{spec}` (expected Name:YYYY-MM-DD)"
            )));
        }
        _ => (spec.trim(), None),
    };
    if name.is_empty() {
        return Err(Error::Invalid(format!("milestone `{spec}` has no name (expected Name:YYYY-MM-DD)")));
    }
    Ok(NewMilestone { name: name.to_string(), due, ..NewMilestone::default() })
}

fn build_milestone(id: String, m: &NewMilestone, known: &HashSet<String>) -> Result<Milestone> {
    let due = match &m.due {
        Some(d) => Some(Lenient::Known(
            CoordDate::parse(d)
                .ok_or_else(|| Error::Invalid(format!("invalid due date `{d}` (expected YYYY-MM-DD)")))?,
        )),
        None => None,
    };
    for d in &m.dependencies {
        if !known.contains(d) {
            return Err(Error::Invalid(format!("unknown reference `{d}` (no milestone with that ID)")));
        }
    }
    Ok(Milestone {
        id,
        name: m.name.clone(),
        description: m.description.clone(),
        due,
        status: Lenient::Known(MilestoneStatus::Pending),
        dependencies: m.dependencies.clone(),
        completion_criteria: m.completion_criteria.clone(),
        deliverables: m.deliverables.clone(),
        extra: Default::default(),
    })
}

/// Creates a plan with milestones.
pub fn create_plan(store: &Store, patch: &Patch, milestones: &[NewMilestone]) -> Result<Outcome> {
    let _lock = write_lock(store)?;
    let mut refs = Refs::new(store)?;
    let alloc = next_id(store, Kind::Plan, &refs)?;
    let mut warnings = alloc.warnings;
    let mut entity = patch::blank(Kind::Plan, alloc.id, today(store));
    patch.apply(&mut entity, &mut refs)?;
    let plans = store.load(&[Kind::Plan])?;
    let mut known: HashSet<String> = plans.plans().flat_map(|p| p.milestones.iter().map(|m| m.id.clone())).collect();
    let mut taken = Vec::new();
    if let Entity::Plan(p) = &mut entity {
        for m in milestones {
            let m_alloc = store.next_milestone_id(&plans, &taken)?;
            let mid = m_alloc.id;
            for w in m_alloc.warnings {
                if !warnings.contains(&w) {
                    warnings.push(w);
                }
            }
            taken.push(mid.clone());
            p.milestones.push(build_milestone(mid.clone(), m, &known)?);
            known.insert(mid);
        }
    }
    check_cycles(store, &entity)?;
    let path = store.write_new(&entity)?;
    Ok(Outcome { entity, path, mode: WriteMode::Minimal, warnings })
}

/// Adds a milestone to a plan.
pub fn add_milestone(store: &Store, plan_id: &str, m: &NewMilestone) -> Result<(Outcome, String)> {
    let _lock = write_lock(store)?;
    let record = find(store, Kind::Plan, plan_id)?;
    let plans = store.load(&[Kind::Plan])?;
    let known: HashSet<String> = plans.plans().flat_map(|p| p.milestones.iter().map(|m| m.id.clone())).collect();
    let alloc = store.next_milestone_id(&plans, &[])?;
    let mid = alloc.id;
    let milestone = build_milestone(mid.clone(), m, &known)?;
    let mut entity = record.entity.clone();
    if let Entity::Plan(p) = &mut entity {
        p.milestones.push(milestone);
    }
    let mut outcome = write_changed(store, &record, entity)?;
    outcome.warnings = alloc.warnings;
    Ok((outcome, mid))
}

/// Changes to a milestone.
#[derive(Debug, Clone, Default)]
pub struct MilestonePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub due: Option<String>,
    pub status: Option<String>,
    pub add_dependencies: Vec<String>,
    pub remove_dependencies: Vec<String>,
    pub add_criteria: Vec<String>,
    pub add_deliverables: Vec<String>,
}

impl MilestonePatch {
    /// True when nothing is asked.
    pub fn is_empty(&self) -> bool {
        self.name.is_none()
            && self.description.is_none()
            && self.due.is_none()
            && self.status.is_none()
            && self.add_dependencies.is_empty()
            && self.remove_dependencies.is_empty()
            && self.add_criteria.is_empty()
            && self.add_deliverables.is_empty()
    }
}

/// Updates a milestone (found in whichever plan holds it).
pub fn update_milestone(store: &Store, milestone_id: &str, patch: &MilestonePatch) -> Result<Outcome> {
    let _lock = write_lock(store)?;
    let plans = store.load(&[Kind::Plan])?;
    let Some((plan, _)) = plans.milestone(milestone_id) else {
        return Err(Error::Invalid(format!("no milestone `{milestone_id}`")));
    };
    let record = plans.get(Kind::Plan, &plan.id).expect("plan is loaded").clone();
    if patch.is_empty() {
        return Ok(Outcome {
            entity: record.entity.clone(),
            path: record.origin.path().to_path_buf(),
            mode: WriteMode::Unchanged,
            warnings: Vec::new(),
        });
    }
    let known: HashSet<String> = plans.plans().flat_map(|p| p.milestones.iter().map(|m| m.id.clone())).collect();
    let mut entity = record.entity.clone();
    let Entity::Plan(p) = &mut entity else { unreachable!("plans hold plans") };
    let m = p.milestones.iter_mut().find(|m| m.id == milestone_id).expect("milestone found above");
    let mut errs = Vec::new();
    if let Some(v) = &patch.name {
        if v.trim().is_empty() { errs.push("name cannot be empty".to_string()) } else { m.name = v.clone() }
    }
    if let Some(v) = &patch.description {
        m.description = (!v.is_empty()).then(|| v.clone());
    }
    if let Some(v) = &patch.due {
        if v.is_empty() {
            m.due = None;
        } else {
            match CoordDate::parse(v) {
                Some(d) => m.due = Some(Lenient::Known(d)),
                None => errs.push(format!("invalid due date `{v}` (expected YYYY-MM-DD)")),
            }
        }
    }
    if let Some(v) = &patch.status {
        match crate::model::vocab::parse_strict::<MilestoneStatus>(v) {
            Ok(s) => m.status = Lenient::Known(s),
            Err(e) => errs.push(e),
        }
    }
    for d in &patch.add_dependencies {
        if d == milestone_id {
            errs.push(format!("{milestone_id} cannot depend on itself"));
        } else if !known.contains(d) {
            errs.push(format!("unknown reference `{d}` (no milestone with that ID)"));
        } else if !m.dependencies.contains(d) {
            m.dependencies.push(d.clone());
        }
    }
    m.dependencies.retain(|d| !patch.remove_dependencies.contains(d));
    for c in &patch.add_criteria {
        if !m.completion_criteria.contains(c) {
            m.completion_criteria.push(c.clone());
        }
    }
    for c in &patch.add_deliverables {
        if !m.deliverables.contains(c) {
            m.deliverables.push(c.clone());
        }
    }
    match errs.len() {
        0 => {}
        1 => return Err(Error::Invalid(errs.remove(0))),
        _ => return Err(Error::InvalidMany(errs)),
    }
    write_changed(store, &record, entity)
}
