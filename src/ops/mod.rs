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

pub mod blank;
pub mod migrate;
pub mod renumber;

use crate::ecosystem::Registry;
use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::model::*;
use crate::store::{Durability, Loaded, Record, Store, StoreLock, WriteMode, natural_key};
use std::collections::HashSet;
use std::path::PathBuf;

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
    /// The write lock held by the operation (IDs are allocated under it).
    lock: &'s StoreLock,
    registry: Registry,
    legacy_ids: HashSet<String>,
    plans: Option<Loaded>,
    /// Warnings gathered while allocating (out-of-range IDs seen), for the
    /// write's outcome.
    pub warnings: Vec<crate::problem::Problem>,
}

impl<'s> Refs<'s> {
    /// Prepares reference checks for a write to `store` under `lock`.
    pub fn new(store: &'s Store, lock: &'s StoreLock) -> Result<Self> {
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
        Ok(Refs { store, lock, registry, legacy_ids, plans: None, warnings: Vec::new() })
    }

    /// The store the checks read.
    pub fn store(&self) -> &'s Store {
        self.store
    }

    /// The registry.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Resolves a repository name or nickname to its canonical name.
    pub fn repo(&self, name: &str) -> Result<String> {
        if name.trim().is_empty() {
            return Err(Error::InvalidValue {
                field: "repo".into(),
                value: String::new(),
                expected: "a repository name".into(),
            });
        }
        self.registry.resolve(name)
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

    /// The plan holding milestone `id`, if any.
    pub fn plan_of_milestone(&mut self, id: &str) -> Result<Option<String>> {
        Ok(self.plans()?.milestone(id).map(|(p, _)| p.id.clone()))
    }

    /// The next free milestone ID (every plan, every branch), besides `taken`.
    pub fn next_milestone_id(&mut self, taken: &[String]) -> Result<String> {
        let (store, lock) = (self.store, self.lock);
        let plans = self.plans()?;
        let alloc = store.next_milestone_id(lock, plans, taken)?;
        self.warnings.extend(alloc.warnings);
        Ok(alloc.id)
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
pub fn write_lock(store: &Store) -> Result<StoreLock> {
    ensure_enabled(store)?;
    store.lock()
}

fn today(store: &Store) -> CoordDate {
    store.today()
}

/// Looks up an entity, accepting `issue-7`, `ISSUE-7` and (the kind being
/// known) `7` for `ISSUE-007` ([`crate::model::id::normalise_id`]).
pub fn find(store: &Store, kind: Kind, id: &str) -> Result<Record> {
    crate::model::id::validate_id(id)?;
    if let Some(r) = store.load_one(kind, id)? {
        return Ok(r);
    }
    if let Some(canon) = crate::model::id::normalise_id(id, store.prefix(kind))
        && canon != id
        && let Some(r) = store.load_one(kind, &canon)?
    {
        return Ok(r);
    }
    Err(Error::NotFound { kind, id: id.to_string(), hint: None })
}

/// The stored ID of a loaded entity of `kind` that `id` names (exactly,
/// ignoring case, or normalised as [`find`] does); NotFound, with a
/// did-you-mean, when none: a selector that matches nothing is an error.
pub fn resolve_loaded(store: &Store, loaded: &Loaded, kind: Kind, id: &str) -> Result<String> {
    if let Some(r) = loaded.get(kind, id) {
        return Ok(r.entity.id().to_string());
    }
    let canon = crate::model::id::normalise_id(id, store.prefix(kind));
    if let Some(r) = loaded
        .records(kind)
        .iter()
        .find(|r| r.entity.id().eq_ignore_ascii_case(id) || canon.as_deref() == Some(r.entity.id()))
    {
        return Ok(r.entity.id().to_string());
    }
    // Not loaded: let the one lookup explain (with a did-you-mean).
    Ok(find(store, kind, id)?.entity.id().to_string())
}

fn next_id(store: &Store, kind: Kind, refs: &Refs<'_>) -> Result<crate::store::Allocated> {
    let prefix = store.prefix(kind);
    let section = format!("{}:", kind.dir_name());
    let mut known = crate::store::ids::Highest::default();
    let eco = store.rel(&store.ecosystem_path()).display().to_string();
    for id in refs.legacy_ids.iter().filter_map(|k| k.strip_prefix(&section)) {
        known.see_name(prefix, id, || format!("legacy section of {eco}"));
    }
    store.next_id(refs.lock, kind, known)
}

/// Creates an entity of `kind`: `fill` sets the fields of a blank entity
/// that has its allocated ID (allocated under the lock); the result is
/// checked for cycles and written.
pub fn create_with(
    store: &Store,
    kind: Kind,
    fill: impl FnOnce(&mut Entity, &mut Refs<'_>) -> Result<()>,
) -> Result<Outcome> {
    let lock = write_lock(store)?;
    let mut refs = Refs::new(store, &lock)?;
    let alloc = next_id(store, kind, &refs)?;
    refs.warnings.extend(alloc.warnings);
    let mut entity = blank::blank(kind, alloc.id, today(store));
    fill(&mut entity, &mut refs)?;
    check_cycles(store, &entity)?;
    let path = store.write_new(&lock, &entity)?;
    Ok(Outcome { entity, path, mode: WriteMode::Minimal, warnings: refs.warnings })
}

/// Whether an update may rewrite a file canonically when no minimal edit is
/// possible, dropping its comments or anchors (a request's `rewrite` field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// Refused with [`Error::RewriteRefused`] (the default).
    Refused,
    /// Allowed, and reported in the write's outcome.
    Allowed,
}

impl From<bool> for Rewrite {
    fn from(allow: bool) -> Self {
        if allow { Rewrite::Allowed } else { Rewrite::Refused }
    }
}

/// Updates entity `id` of `kind`: `change` edits a copy of the stored entity
/// (re-read under the lock); an unchanged entity writes nothing, a changed
/// one is checked for cycles, stamped `updated` and written minimally.
pub fn update_with(
    store: &Store,
    kind: Kind,
    id: &str,
    rewrite: Rewrite,
    change: impl FnOnce(&mut Entity, &mut Refs<'_>) -> Result<()>,
) -> Result<Outcome> {
    let allowed;
    let store = match rewrite {
        Rewrite::Allowed if !store.allow_rewrite => {
            allowed = Store { allow_rewrite: true, ..store.clone() };
            &allowed
        }
        _ => store,
    };
    let lock = write_lock(store)?;
    let record = find(store, kind, id)?;
    let mut refs = Refs::new(store, &lock)?;
    let mut entity = record.entity.clone();
    change(&mut entity, &mut refs)?;
    let mut o = write_changed(store, &lock, &record, entity)?;
    o.warnings.append(&mut refs.warnings);
    Ok(o)
}

/// [`update_with`] for a change that looks nothing up (a status, hours):
/// the same lock, re-read, checks and minimal write, without preparing
/// reference lookups (which read the ecosystem file). Pool execution sets
/// todos' statuses through it, twice per task; `durability` says whether
/// the write is fsync'd (a claim's `in_progress` need not be: after a power
/// loss the todo simply has the status a recovery would restore).
pub fn update_plain(
    store: &Store,
    kind: Kind,
    id: &str,
    durability: Durability,
    change: impl FnOnce(&mut Entity) -> Result<()>,
) -> Result<Outcome> {
    let lock = write_lock(store)?;
    let record = find(store, kind, id)?;
    let mut entity = record.entity.clone();
    change(&mut entity)?;
    write_changed_as(store, &lock, &record, entity, durability)
}

/// Removes milestone `id` from its plan. While others reference it (todos'
/// `milestone_id`, other milestones' `dependencies`) it is refused (a
/// problem with the request's `force` field) unless `force`; with `force`,
/// the references left dangling are returned with the plan's new state.
pub fn delete_milestone(store: &Store, id: &str, force: bool) -> Result<(Outcome, Milestone, Vec<Referrer>)> {
    let plan_id = plan_of_milestone(store, id)?;
    let mut gone = None;
    let mut dangling = Vec::new();
    let o = update_with(store, Kind::Plan, &plan_id, Rewrite::Refused, |entity, _| {
        // Under the lock: what references it now, not before the lock.
        let loaded = store.load(&[Kind::Issue, Kind::Plan, Kind::Todo])?;
        dangling = referrers(&loaded, id).into_iter().filter(|r| r.holder != id && r.holder != plan_id).collect();
        if !force && !dangling.is_empty() {
            let mut holders: Vec<&str> = dangling.iter().map(|r| r.holder.as_str()).collect();
            holders.dedup();
            return Err(Error::Fields(vec![
                crate::error::FieldError::new(
                    "force",
                    format!(
                        "{id} is referenced by {}; remove those references first, or force the deletion",
                        holders.join(", ")
                    ),
                )
                .value("false"),
            ]));
        }
        let Entity::Plan(p) = entity else { unreachable!("a plan") };
        let at = p.milestones.iter().position(|m| m.id == id).ok_or_else(|| {
            Error::from(Refusal::Moved { id: id.to_string(), from: plan_id.to_string(), op: "delete" })
        })?;
        gone = Some(p.milestones.remove(at));
        Ok(())
    })?;
    Ok((o, gone.expect("removed when the write succeeded"), dangling))
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

/// Writes (the store stamps `updated`), unless nothing changed.
fn write_changed(store: &Store, lock: &StoreLock, record: &Record, entity: Entity) -> Result<Outcome> {
    write_changed_as(store, lock, record, entity, Durability::Synced)
}

fn write_changed_as(
    store: &Store,
    lock: &StoreLock,
    record: &Record,
    mut entity: Entity,
    durability: Durability,
) -> Result<Outcome> {
    if entity.to_mapping() == record.entity.to_mapping() {
        return Ok(Outcome {
            entity,
            path: record.origin.path().to_path_buf(),
            mode: WriteMode::Unchanged,
            warnings: Vec::new(),
        });
    }
    // Only a new blocking edge can close a cycle: a change that adds none
    // (a status, a title) does not reload the graph.
    if adds_blocking_edge(&record.entity, &entity) {
        check_cycles(store, &entity)?;
    }
    let mode = store.write_update_as(lock, record, &mut entity, durability)?;
    Ok(Outcome { entity, path: record.origin.path().to_path_buf(), mode, warnings: Vec::new() })
}

/// Whether `new` declares a blocking edge that `old` does not.
fn adds_blocking_edge(old: &Entity, new: &Entity) -> bool {
    let edges = |e: &Entity| -> HashSet<(String, String)> {
        e.references()
            .into_iter()
            .filter(|r| r.relation.is_blocking())
            .map(|r| (r.holder.to_string(), r.target.to_string()))
            .collect()
    };
    let before = edges(old);
    !edges(new).is_subset(&before)
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

/// A reference to an entity, held by another (what deleting it would leave
/// dangling).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct Referrer {
    /// The entity (or milestone) holding the reference.
    pub holder: String,
    /// The field holding it (`blocked_by`, `milestones[MILESTONE-002].dependencies`).
    pub field: String,
}

/// Every reference to `id` (so deleting it would leave them dangling), in
/// holder order.
pub fn referrers(loaded: &Loaded, id: &str) -> Vec<Referrer> {
    let mut out: Vec<Referrer> = Kind::ALL
        .iter()
        .flat_map(|k| loaded.records(*k))
        .flat_map(|r| {
            r.entity
                .references()
                .into_iter()
                .filter(|x| x.target == id)
                .map(|x| Referrer { holder: x.holder.to_string(), field: x.field_path() })
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort_by_cached_key(|r| (natural_key(&r.holder), r.field.clone()));
    out.dedup();
    out
}

/// Deletes an entity. While others reference it, it is refused (a problem
/// with the request's `force` field) unless `force`; with `force`, the
/// references left dangling are returned.
pub fn delete(store: &Store, kind: Kind, id: &str, force: bool) -> Result<(Record, Vec<Referrer>)> {
    let lock = write_lock(store)?;
    let record = find(store, kind, id)?;
    let loaded = store.load(&[Kind::Issue, Kind::Plan, Kind::Todo])?;
    let mut refs = referrers(&loaded, record.entity.id());
    if let Entity::Plan(p) = &record.entity {
        // Its milestones go with it: references to them from elsewhere
        // dangle too (its own milestones' links to each other do not count).
        for m in &p.milestones {
            let own = |h: &str| h == p.id || p.milestones.iter().any(|x| x.id == h);
            refs.extend(referrers(&loaded, &m.id).into_iter().filter(|r| !own(&r.holder)));
        }
        refs.sort_by_cached_key(|r| (natural_key(&r.holder), r.field.clone()));
        refs.dedup();
    }
    if !force && !refs.is_empty() {
        let mut holders: Vec<&str> = refs.iter().map(|r| r.holder.as_str()).collect();
        holders.dedup();
        return Err(Error::Fields(vec![
            crate::error::FieldError::new(
                "force",
                format!(
                    "{} is referenced by {}; remove those references first, or force the deletion",
                    record.entity.id(),
                    holders.join(", ")
                ),
            )
            .value("false"),
        ]));
    }
    store.remove(&lock, &record)?;
    Ok((record, refs))
}
