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
use super::repo::{FileRef, GitRepo, State, stem};
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Created,
    Deleted,
    Modified,
    /// Moved between the legacy section and its own file (fields may differ too).
    Moved,
}

/// One changed entity.
#[derive(Debug, Clone, Serialize)]
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

/// A kind's directory listing, read once per comparison when needed.
struct Listing<'s> {
    state: &'s State,
    entries: Option<BTreeMap<String, FileRef>>,
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
            let mut la = Listing { state: a, entries: None };
            let mut lb = Listing { state: b, entries: None };
            let mut ids: BTreeSet<String> = BTreeSet::new();
            let same_tree = !GitRepo::is_worktree(a)
                && !GitRepo::is_worktree(b)
                && a.kind_trees.get(&kind) == b.kind_trees.get(&kind);
            if !same_tree {
                match &filter.id {
                    Some(id) => {
                        let name = format!("{id}.yaml");
                        let fa = self.repo.entry(a, kind, &name)?.map(|f| f.oid);
                        let fb = self.repo.entry(b, kind, &name)?.map(|f| f.oid);
                        if fa != fb {
                            ids.insert(id.clone());
                        }
                    }
                    None => {
                        let ea = self.listing(&mut la, kind)?.clone();
                        let eb = self.listing(&mut lb, kind)?;
                        for (name, f) in &ea {
                            if eb.get(name).map(|g| g.oid) != Some(f.oid) {
                                ids.insert(stem(name).to_string());
                            }
                        }
                        for name in eb.keys() {
                            if !ea.contains_key(name) {
                                ids.insert(stem(name).to_string());
                            }
                        }
                    }
                }
            }
            let (leg_a, leg_b) = if eco_changed {
                let (x, y) = (self.legacy_maps(a)?, self.legacy_maps(b)?);
                let (xa, yb) = (x.get(&kind), y.get(&kind));
                let keys = xa.into_iter().flat_map(|m| m.keys()).chain(yb.into_iter().flat_map(|m| m.keys()));
                for id in keys {
                    if filter.id.as_ref().is_some_and(|f| f != id) {
                        continue;
                    }
                    if xa.and_then(|m| m.get(id)) != yb.and_then(|m| m.get(id)) {
                        ids.insert(id.clone());
                    }
                }
                (Some(x), Some(y))
            } else {
                (None, None)
            };
            for id in ids {
                let before = self.effective(&mut la, leg_a.as_deref(), kind, &id)?;
                let after = self.effective(&mut lb, leg_b.as_deref(), kind, &id)?;
                if let Some(c) = build_change(kind, &id, before, after, filter.milestone.as_deref()) {
                    out.push(c);
                }
            }
        }
        out.sort_by_cached_key(|c| (c.kind, natural_key(&c.id)));
        Ok(out)
    }

    fn listing<'l>(&self, l: &'l mut Listing<'_>, kind: Kind) -> Result<&'l BTreeMap<String, FileRef>> {
        if l.entries.is_none() {
            l.entries = Some(self.repo.entries(l.state, kind)?);
        }
        Ok(l.entries.as_ref().expect("just listed"))
    }

    /// The entity as the loader would see it on one side: its file, else
    /// its legacy item. Returns (canonical mapping, path).
    fn effective(
        &mut self,
        l: &mut Listing<'_>,
        legacy: Option<&LegacyMaps>,
        kind: Kind,
        id: &str,
    ) -> Result<Option<(Mapping, String)>> {
        let file = match &l.entries {
            Some(e) => e.get(&format!("{id}.yaml")).or_else(|| e.get(&format!("{id}.yml"))).cloned(),
            None => self.repo.entry(l.state, kind, &format!("{id}.yaml"))?,
        };
        let path = format!("coordination/{}/{id}.yaml", kind.dir_name());
        if let Some(f) = file {
            return Ok(self.parse_file(&f, &path)?.map(|m| (canonical(kind, id, (*m).clone()), path)));
        }
        let legacy = legacy.map(|l| l.get(&kind).and_then(|m| m.get(id)).cloned());
        let item = match legacy {
            Some(item) => item,
            None => self.legacy_maps(l.state)?.get(&kind).and_then(|m| m.get(id)).cloned(),
        };
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
                    for kind in Kind::ALL {
                        let Some(Value::Sequence(items)) = coord.get(kind.dir_name()) else { continue };
                        let m = maps.entry(kind).or_default();
                        for item in items {
                            if let Value::Mapping(map) = item
                                && let Some(id) = map.get("id").and_then(scalar_text)
                            {
                                m.entry(id).or_insert_with(|| map.clone());
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
