//! Entity-level changes between two sides (commits or the working tree):
//! which entities were created, deleted, modified or moved, and how each
//! field changed.
//!
//! Only what differs is read: kind directories whose tree IDs are equal are
//! skipped, and only files whose blob IDs differ are parsed (and cached by
//! blob ID, so walking history parses each version once). An entity is
//! keyed by kind and ID across both layouts (its own file wins over the
//! legacy section, as in the loader), so `migrate` shows as a move, not as a
//! deletion and a creation.

use super::fields::{self, FieldChange};
use super::repo::{FilePair, FileRef, GitRepo, State, stem};
use crate::error::Result;
use crate::model::reader::scalar_text;
use crate::model::{Entity, Kind};
use crate::store::{natural_key, parse_mapping};
use gix::ObjectId;
use indexmap::IndexMap;
use serde::Serialize;
use serde_yaml::{Mapping, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

/// What happened to an entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Created,
    Deleted,
    Modified,
    /// Moved between the legacy section and its own file (fields may differ too).
    Moved,
}

/// One changed entity.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct EntityChange {
    /// `issue`, `plan`, `todo` or `dependency`.
    #[serde(rename = "kind")]
    pub kind_name: &'static str,
    #[serde(skip)]
    pub kind: Kind,
    pub id: String,
    /// Title (task for todos) after the change, or before a deletion.
    pub title: String,
    pub change: Op,
    /// Where the entity is (or was, for a deletion), relative to the root.
    pub path: String,
    /// Where it was before a move.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved_from: Option<String>,
    /// Field-level changes (for `modified` and `moved`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
    /// The entity after the change (created) or before it (deleted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<serde_json::Value>,
    #[serde(skip)]
    pub before: Option<Mapping>,
    #[serde(skip)]
    pub after: Option<Mapping>,
}

impl EntityChange {
    /// The status after the change, when known.
    pub fn status_after(&self) -> Option<String> {
        self.after.as_ref()?.get("status").and_then(scalar_text)
    }
}

/// Which entities to compare.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Kinds to look at.
    pub kinds: Vec<Kind>,
    /// Only this entity (its kind must be in `kinds`).
    pub id: Option<String>,
    /// Only fields of this milestone (in plans).
    pub milestone: Option<String>,
}

impl Default for Filter {
    fn default() -> Self {
        Filter { kinds: Kind::ALL.to_vec(), id: None, milestone: None }
    }
}

type LegacyMaps = HashMap<Kind, IndexMap<String, Mapping>>;

const ECOSYSTEM: &str = "settings/ecosystem.yaml";

/// Computes changes, caching parsed versions across calls.
pub struct Differ<'r> {
    repo: &'r GitRepo,
    files: HashMap<ObjectId, Option<Rc<Mapping>>>,
    legacy: HashMap<ObjectId, Rc<LegacyMaps>>,
    /// Files that could not be parsed (path and message), reported once.
    pub warnings: Vec<String>,
}

impl<'r> Differ<'r> {
    /// A differ over one repository.
    pub fn new(repo: &'r GitRepo) -> Self {
        Differ { repo, files: HashMap::new(), legacy: HashMap::new(), warnings: Vec::new() }
    }

    /// The changes from `a` to `b`, ordered by kind, then ID.
    pub fn changes(&mut self, a: &State, b: &State, filter: &Filter) -> Result<Vec<EntityChange>> {
        let mut out = Vec::new();
        let eco_changed = a.ecosystem.as_ref().map(|f| f.oid) != b.ecosystem.as_ref().map(|f| f.oid);
        for &kind in &filter.kinds {
            // Changed files: stem → (file before, file after).
            let mut files: BTreeMap<String, FilePair> = BTreeMap::new();
            let both_commits = !GitRepo::is_worktree(a) && !GitRepo::is_worktree(b);
            let same_tree = both_commits && a.kind_trees.get(&kind) == b.kind_trees.get(&kind);
            if !same_tree {
                match &filter.id {
                    Some(id) => {
                        let name = format!("{id}.yaml");
                        let pair = (self.repo.entry(a, kind, &name)?, self.repo.entry(b, kind, &name)?);
                        if pair.0.as_ref().map(|f| f.oid) != pair.1.as_ref().map(|f| f.oid) {
                            files.insert(id.clone(), pair);
                        }
                    }
                    None if both_commits => {
                        for (name, pair) in self.repo.changed_entries(a, b, kind)? {
                            files.insert(stem(&name).to_string(), pair);
                        }
                    }
                    None => {
                        let ea = self.repo.entries(a, kind)?;
                        let mut eb = self.repo.entries(b, kind)?;
                        for (name, f) in ea {
                            let g = eb.remove(&name);
                            if g.as_ref().map(|g| g.oid) != Some(f.oid) {
                                files.insert(stem(&name).to_string(), (Some(f), g));
                            }
                        }
                        for (name, g) in eb {
                            files.insert(stem(&name).to_string(), (None, Some(g)));
                        }
                    }
                }
            }
            let mut ids: BTreeSet<String> = files.keys().cloned().collect();
            let (leg_a, leg_b) = (self.legacy_maps(a)?, self.legacy_maps(b)?);
            if eco_changed {
                let (xa, yb) = (leg_a.get(&kind), leg_b.get(&kind));
                let keys = xa.into_iter().flat_map(|m| m.keys()).chain(yb.into_iter().flat_map(|m| m.keys()));
                for id in keys {
                    if filter.id.as_ref().is_some_and(|f| f != id) {
                        continue;
                    }
                    if xa.and_then(|m| m.get(id)) != yb.and_then(|m| m.get(id)) {
                        ids.insert(id.clone());
                    }
                }
            }
            for id in ids {
                let (fa, fb) = match files.remove(&id) {
                    Some(pair) => pair,
                    // Only the legacy item changed: does a file shadow it?
                    None => {
                        let name = format!("{id}.yaml");
                        (self.repo.entry(a, kind, &name)?, self.repo.entry(b, kind, &name)?)
                    }
                };
                let before = self.effective(fa.as_ref(), &leg_a, kind, &id)?;
                let after = self.effective(fb.as_ref(), &leg_b, kind, &id)?;
                if let Some(c) = build_change(kind, &id, before, after, filter.milestone.as_deref()) {
                    out.push(c);
                }
            }
        }
        out.sort_by_cached_key(|c| (c.kind, natural_key(&c.id)));
        Ok(out)
    }

    /// The entity as the loader would see it on one side: its file, else
    /// its legacy item. Returns (canonical mapping, path).
    fn effective(
        &mut self,
        file: Option<&FileRef>,
        legacy: &LegacyMaps,
        kind: Kind,
        id: &str,
    ) -> Result<Option<(Mapping, String)>> {
        let path = format!("coordination/{}/{id}.yaml", kind.dir_name());
        if let Some(f) = file {
            return Ok(self.parse_file(f, &path)?.map(|m| (canonical(kind, id, (*m).clone()), path)));
        }
        let item = legacy.get(&kind).and_then(|m| m.get(id)).cloned();
        Ok(item.map(|m| (canonical(kind, id, m), ECOSYSTEM.to_string())))
    }

    fn parse_file(&mut self, f: &FileRef, path: &str) -> Result<Option<Rc<Mapping>>> {
        if let Some(m) = self.files.get(&f.oid) {
            return Ok(m.clone());
        }
        let text = self.repo.text(f)?;
        let parsed = match parse_mapping(&text) {
            Ok(m) => Some(Rc::new(m)),
            Err((line, msg)) => {
                let at = line.map(|l| format!(":{l}")).unwrap_or_default();
                self.warnings.push(format!("{path}{at}: {msg} (this version is not shown)"));
                None
            }
        };
        self.files.insert(f.oid, parsed.clone());
        Ok(parsed)
    }

    fn legacy_maps(&mut self, st: &State) -> Result<Rc<LegacyMaps>> {
        let Some(f) = &st.ecosystem else { return Ok(Rc::new(LegacyMaps::new())) };
        if let Some(m) = self.legacy.get(&f.oid) {
            return Ok(m.clone());
        }
        let text = self.repo.text(f)?;
        let mut maps = LegacyMaps::new();
        match parse_mapping(&text) {
            Ok(doc) => {
                if let Some(Value::Mapping(coord)) = doc.get("coordination") {
                    // Items read as the loader reads them (nicknames by
                    // canonical name, a todo's repo taken), so `migrate`
                    // shows as a move, not as a change of those fields.
                    let registry = crate::ecosystem::Registry::from_document(&doc, std::path::Path::new(ECOSYSTEM)).0;
                    for kind in Kind::ALL {
                        let Some(Value::Sequence(items)) = coord.get(kind.dir_name()) else { continue };
                        let m = maps.entry(kind).or_default();
                        for item in items {
                            if let Value::Mapping(map) = item
                                && let Some(id) = map.get("id").and_then(scalar_text)
                            {
                                m.entry(id)
                                    .or_insert_with(|| crate::store::legacy_normalized(kind, coord, map, &registry));
                            }
                        }
                    }
                }
            }
            Err((line, msg)) => {
                let at = line.map(|l| format!(":{l}")).unwrap_or_default();
                self.warnings.push(format!("{ECOSYSTEM}{at}: {msg} (this version is not shown)"));
            }
        }
        let rc = Rc::new(maps);
        self.legacy.insert(f.oid, rc.clone());
        Ok(rc)
    }
}

fn canonical(kind: Kind, id: &str, map: Mapping) -> Mapping {
    Entity::read(kind, id.to_string(), map).0.to_mapping()
}

fn title_of(kind: Kind, id: &str, map: &Mapping) -> String {
    Entity::read(kind, id.to_string(), map.clone()).0.title()
}

fn build_change(
    kind: Kind,
    id: &str,
    before: Option<(Mapping, String)>,
    after: Option<(Mapping, String)>,
    milestone: Option<&str>,
) -> Option<EntityChange> {
    let base = |op, title, path, entity: Option<&Mapping>| EntityChange {
        kind_name: kind.noun(),
        kind,
        id: id.to_string(),
        title,
        change: op,
        path,
        moved_from: None,
        fields: Vec::new(),
        entity: entity.map(|m| serde_json::to_value(m).unwrap_or_default()),
        before: None,
        after: None,
    };
    let mut c = match (before, after) {
        (None, None) => return None,
        (None, Some((m, path))) => {
            let mut c = base(Op::Created, title_of(kind, id, &m), path, Some(&m));
            c.after = Some(m);
            c
        }
        (Some((m, path)), None) => {
            let mut c = base(Op::Deleted, title_of(kind, id, &m), path, Some(&m));
            c.before = Some(m);
            c
        }
        (Some((old, from)), Some((new, to))) => {
            let fields = fields::diff_mappings(&old, &new);
            if fields.is_empty() && from == to {
                return None;
            }
            let op = if from == to { Op::Modified } else { Op::Moved };
            let mut c = base(op, title_of(kind, id, &new), to, None);
            if op == Op::Moved {
                c.moved_from = Some(from);
            }
            c.fields = fields;
            c.before = Some(old);
            c.after = Some(new);
            c
        }
    };
    if let Some(ms) = milestone {
        let tag = format!("[{ms}]");
        let mentions = |f: &FieldChange| {
            f.field.contains(&tag)
                || matches!(&f.change, fields::Change::List { added, removed }
                    if added.iter().chain(removed).any(|v| fields::display(v).starts_with(ms)))
        };
        let in_entity =
            |m: &Option<Mapping>| m.as_ref().is_some_and(|m| serde_yaml::to_string(m).unwrap_or_default().contains(ms));
        match c.change {
            Op::Created | Op::Deleted if !in_entity(&c.before) && !in_entity(&c.after) => return None,
            Op::Modified | Op::Moved => {
                c.fields.retain(mentions);
                if c.fields.is_empty() && c.change == Op::Modified {
                    return None;
                }
            }
            _ => {}
        }
    }
    Some(c)
}
