//! Renumbering an entity: it gets a new ID (the next free one by default),
//! its file is renamed, and every reference to it in other entities is
//! rewritten — all through the store's write path. `sync` uses it when an ID
//! created locally was also created on the other side.

use super::{Refs, next_id, today};
use crate::error::{Error, Result};
use crate::model::{Entity, Kind};
use crate::store::{Store, natural_key};
use serde_yaml::{Mapping, Value};

/// Fields that hold one entity reference.
const LINK_FIELDS: &[&str] = &["issue_id", "plan_id", "milestone_id"];
/// Fields that hold lists of entity references.
const LIST_FIELDS: &[&str] = &["dependencies", "blocking", "blocked_by", "depends_on", "issue_ids"];

/// What a renumbering did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Renumbered {
    pub kind: &'static str,
    pub from: String,
    pub to: String,
    /// Entities whose references were rewritten.
    pub rewritten: Vec<String>,
    /// Warnings (e.g. out-of-range IDs the allocator ignored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<crate::problem::Problem>,
}

/// Replaces references to `from` by `to` in an entity's canonical mapping
/// (milestones' dependencies included). Returns whether anything changed.
pub fn rewrite_references(map: &mut Mapping, from: &str, to: &str) -> bool {
    let mut changed = false;
    for key in LINK_FIELDS {
        if let Some(v @ Value::String(_)) = map.get_mut(*key)
            && v.as_str() == Some(from)
        {
            *v = Value::String(to.to_string());
            changed = true;
        }
    }
    for key in LIST_FIELDS {
        if let Some(Value::Sequence(items)) = map.get_mut(*key) {
            for item in items.iter_mut() {
                if item.as_str() == Some(from) {
                    *item = Value::String(to.to_string());
                    changed = true;
                }
            }
        }
    }
    if let Some(Value::Sequence(ms)) = map.get_mut("milestones") {
        for m in ms.iter_mut() {
            if let Value::Mapping(m) = m {
                changed |= rewrite_references(m, from, to);
            }
        }
    }
    changed
}

/// Gives entity `id` of `kind` a new ID (`to`, or the next free one) and
/// rewrites every reference to it.
pub fn renumber(store: &Store, kind: Kind, id: &str, to: Option<&str>) -> Result<Renumbered> {
    let _lock = store.lock()?;
    let loaded = store.load(&Kind::ALL)?;
    let record = loaded.get(kind, id).ok_or_else(|| Error::NotFound { kind, id: id.to_string(), hint: None })?.clone();
    let mut warnings = Vec::new();
    let new_id = match to {
        Some(t) => {
            crate::model::id::validate_id(t)?;
            crate::model::id::check_number(t, store.prefix(kind))?;
            if Kind::ALL.iter().any(|k| loaded.get(*k, t).is_some()) || store.entity_path(kind, t)?.exists() {
                return Err(Error::Refused(format!("{t} is already taken")));
            }
            t.to_string()
        }
        None => {
            let alloc = next_id(store, kind, &Refs::new(store)?)?;
            warnings = alloc.warnings;
            alloc.id
        }
    };
    let stamp = today(store);
    let mut map = record.entity.to_mapping();
    map.insert("id".into(), Value::String(new_id.clone()));
    rewrite_references(&mut map, id, &new_id);
    let (mut entity, _) = Entity::read(kind, new_id.clone(), map);
    entity.set_updated(stamp);
    store.write_new(&entity)?;
    if let Err(e) = store.remove(&record) {
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
            let mut m = r.entity.to_mapping();
            if !rewrite_references(&mut m, id, &new_id) {
                continue;
            }
            let (mut e, _) = Entity::read(k, r.entity.id().to_string(), m);
            e.set_updated(stamp);
            store.write_update(r, &e)?;
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
    let _lock = store.lock()?;
    let loaded = store.load(&Kind::ALL)?;
    let Some((plan, _)) = loaded.milestone(id) else {
        return Err(Error::Invalid(format!("no milestone `{id}`")));
    };
    let plan_id = plan.id.clone();
    let mut warnings = Vec::new();
    let new_id = match to {
        Some(t) => {
            crate::model::id::validate_id(t)?;
            crate::model::id::check_number(t, &store.settings.id_prefixes.milestone)?;
            if loaded.milestone(t).is_some() {
                return Err(Error::Refused(format!("{t} is already taken")));
            }
            t.to_string()
        }
        None => {
            let alloc = store.next_milestone_id(&loaded, &[])?;
            warnings = alloc.warnings;
            alloc.id
        }
    };
    let stamp = today(store);
    let mut rewritten = Vec::new();
    for k in Kind::ALL {
        for r in loaded.records(k) {
            let mut m = r.entity.to_mapping();
            let mut changed = rewrite_references(&mut m, id, &new_id);
            if k == Kind::Plan
                && r.entity.id() == plan_id
                && let Some(Value::Sequence(ms)) = m.get_mut("milestones")
            {
                for item in ms.iter_mut() {
                    if let Value::Mapping(item) = item
                        && item.get("id").and_then(Value::as_str) == Some(id)
                    {
                        item.insert("id".into(), Value::String(new_id.clone()));
                        changed = true;
                    }
                }
            }
            if !changed {
                continue;
            }
            let (mut e, _) = Entity::read(k, r.entity.id().to_string(), m);
            e.set_updated(stamp);
            store.write_update(r, &e)?;
            rewritten.push(r.entity.id().to_string());
        }
    }
    rewritten.sort_by_cached_key(|s| natural_key(s));
    Ok(Renumbered { kind: "milestone", from: id.to_string(), to: new_id, rewritten, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_links_lists_and_milestone_dependencies() {
        let mut m: Mapping = serde_yaml::from_str(
            "id: PLAN-001\nissue_ids: [ISSUE-003, ISSUE-004]\ndepends_on: [PLAN-002]\nmilestones:\n- id: MILESTONE-001\n  dependencies: [ISSUE-003]\n",
        )
        .unwrap();
        assert!(rewrite_references(&mut m, "ISSUE-003", "ISSUE-009"));
        let text = serde_yaml::to_string(&m).unwrap();
        assert!(!text.contains("ISSUE-003"), "{text}");
        assert_eq!(text.matches("ISSUE-009").count(), 2, "{text}");
        assert!(!rewrite_references(&mut m, "ISSUE-003", "ISSUE-010"));
        let mut t: Mapping =
            serde_yaml::from_str("id: TODO-001\nissue_id: ISSUE-003\nblocked_by: [TODO-002]\n").unwrap();
        assert!(rewrite_references(&mut t, "ISSUE-003", "ISSUE-009"));
        assert_eq!(t.get("issue_id").and_then(Value::as_str), Some("ISSUE-009"));
    }
}
