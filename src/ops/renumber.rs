//! Renumbering an entity: it gets a new ID (the next free one by default),
//! its file is renamed, and every reference to it in other entities is
//! rewritten — all through the store's write path. `sync` uses it when an ID
//! created locally was also created on the other side.

use super::{Refs, next_id, today};
use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::model::{Entity, Kind};
use crate::store::{Store, natural_key};
use serde_yaml::Value;

/// What a renumbering did.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Renumbered {
    /// What was renumbered (`issue`, `milestone`, …).
    pub kind: &'static str,
    /// The old ID.
    pub from: String,
    /// The new ID.
    pub to: String,
    /// Entities whose references were rewritten.
    pub rewritten: Vec<String>,
    /// Warnings (e.g. out-of-range IDs the allocator ignored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::problem::Problem>,
}

/// Gives entity `id` of `kind` a new ID (`to`, or the next free one) and
/// rewrites every reference to it.
pub fn renumber(store: &Store, kind: Kind, id: &str, to: Option<&str>) -> Result<Renumbered> {
    let lock = super::write_lock(store)?;
    let loaded = store.load(&Kind::ALL)?;
    let record = loaded.get(kind, id).ok_or_else(|| Error::NotFound { kind, id: id.to_string(), hint: None })?.clone();
    let mut warnings = Vec::new();
    let new_id = match to {
        Some(t) => {
            crate::model::id::validate_id(t)?;
            crate::model::id::check_number(t, store.prefix(kind))?;
            if Kind::ALL.iter().any(|k| loaded.get(*k, t).is_some()) || store.entity_path(kind, t)?.exists() {
                return Err(Refusal::Taken { id: t.to_string() }.into());
            }
            t.to_string()
        }
        None => {
            let alloc = next_id(store, kind, &Refs::new(store, &lock)?)?;
            warnings = alloc.warnings;
            alloc.id
        }
    };
    let stamp = today(store);
    let mut map = record.entity.to_mapping();
    map.insert("id".into(), Value::String(new_id.clone()));
    let (mut entity, _) = Entity::read(kind, new_id.clone(), map);
    entity.rewrite_references(id, &new_id);
    entity.set_updated(stamp);
    store.write_new(&lock, &entity)?;
    if let Err(e) = store.remove(&lock, &record) {
        // Never leave both: undo the new file.
        if let Ok(p) = store.entity_path(kind, &new_id) {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    let mut rewritten = Vec::new();
    for k in Kind::ALL {
        for r in loaded.records(k) {
            if r.entity.id() == id && k == kind {
                continue;
            }
            let mut e = r.entity.clone();
            if !e.rewrite_references(id, &new_id) {
                continue;
            }
            store.write_update(&lock, r, &mut e)?;
            rewritten.push(r.entity.id().to_string());
        }
    }
    rewritten.sort_by_cached_key(|s| natural_key(s));
    Ok(Renumbered { kind: kind.noun(), from: id.to_string(), to: new_id, rewritten, warnings })
}

/// Gives milestone `id` (inside its plan) a new ID (`to`, or the next free
/// one across all plans and branches) and rewrites every reference to it
/// (todos' `milestone_id`, other milestones' `dependencies`).
pub fn renumber_milestone(store: &Store, id: &str, to: Option<&str>) -> Result<Renumbered> {
    let lock = super::write_lock(store)?;
    let loaded = store.load(&Kind::ALL)?;
    let Some((plan, _)) = loaded.milestone(id) else {
        let all = loaded.plans().flat_map(|p| p.milestones.iter().map(|m| m.id.as_str()));
        let hint = crate::suggest::did_you_mean(id, all).map(|s| format!("did you mean {s}?"));
        return Err(Error::NotFoundMilestone { id: id.to_string(), hint });
    };
    let plan_id = plan.id.clone();
    let mut warnings = Vec::new();
    let new_id = match to {
        Some(t) => {
            crate::model::id::validate_id(t)?;
            crate::model::id::check_number(t, &store.settings.id_prefixes.milestone)?;
            if loaded.milestone(t).is_some() {
                return Err(Refusal::Taken { id: t.to_string() }.into());
            }
            t.to_string()
        }
        None => {
            let alloc = store.next_milestone_id(&lock, &loaded, &[])?;
            warnings = alloc.warnings;
            alloc.id
        }
    };
    let mut rewritten = Vec::new();
    for k in Kind::ALL {
        for r in loaded.records(k) {
            let mut e = r.entity.clone();
            let mut changed = e.rewrite_references(id, &new_id);
            if let Entity::Plan(p) = &mut e
                && p.id == plan_id
            {
                for m in p.milestones.iter_mut().filter(|m| m.id == id) {
                    m.id = new_id.clone();
                    changed = true;
                }
            }
            if !changed {
                continue;
            }
            store.write_update(&lock, r, &mut e)?;
            rewritten.push(r.entity.id().to_string());
        }
    }
    rewritten.sort_by_cached_key(|s| natural_key(s));
    Ok(Renumbered { kind: "milestone", from: id.to_string(), to: new_id, rewritten, warnings })
}
