//! The three-way merge of parsed entity mappings, field by field.
//!
//! Rules (for every key, recursively):
//! - the same value on both sides, or a change on one side only: taken;
//! - lists of scalars merge as sets: items removed on either side go, items
//!   added on either side come in, the order of ours is kept and theirs'
//!   additions follow;
//! - lists of mappings with an `id` (milestones) merge item by item, by id;
//! - the top-level `comments` list (`git coord comment`) is the union of
//!   both sides' comments, ours first;
//! - mappings (`metadata`, `validation`, a milestone) merge key by key;
//! - `updated` takes the later date, `created` the earlier;
//! - anything else changed differently on both sides (a scalar, a field
//!   removed on one side and edited on the other) is a [`Conflict`].
//!
//! The merge runs with a [`Prefer`] side that fills conflicting slots, so the
//! caller can build "everything merged, conflicts as ours" and "… as theirs"
//! and render the difference between the two as conflict markers.

use crate::model::CoordDate;
use crate::model::entities::key_aliases;
use crate::model::reader::scalar_text;
use serde_yaml::{Mapping, Value};
use std::fmt;

/// Which side fills a conflicting slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefer {
    Ours,
    Theirs,
}

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    /// An item of an id-keyed list (`milestones[MILESTONE-002]`).
    Item(String),
}

/// What of a field conflicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConflictPart {
    /// Its value.
    Value,
    /// The comment (and blank) lines above it; with an empty path, those at
    /// the end of the file. `ours`/`theirs` hold the lines as a string.
    CommentsAbove,
    /// The comment at the end of its line (`ours`/`theirs`: that text).
    LineComment,
}

/// A field (or a comment attached to it) changed differently on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub path: Vec<Seg>,
    /// `None`: the side removed the field (or list item).
    pub ours: Option<Value>,
    pub theirs: Option<Value>,
    pub part: ConflictPart,
}

impl Conflict {
    /// `status`, `metadata.owner`, `milestones[MILESTONE-002].due`.
    pub fn field(&self) -> String {
        Self::field_of(&self.path)
    }

    /// [`Conflict::field`] of a path.
    pub fn field_of(path: &[Seg]) -> String {
        let mut out = String::new();
        for seg in path {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                }
                Seg::Item(id) => out.push_str(&format!("[{id}]")),
            }
        }
        out
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (o, t) = (self.ours.as_ref(), self.theirs.as_ref());
        match self.part {
            ConflictPart::Value => write!(f, "{}: ours {}, theirs {}", self.field(), describe(o), describe(t)),
            ConflictPart::CommentsAbove if self.path.is_empty() => {
                write!(f, "comments at the end of the file: ours {}, theirs {}", comment(o), comment(t))
            }
            ConflictPart::CommentsAbove => {
                write!(f, "comments above `{}`: ours {}, theirs {}", self.field(), comment(o), comment(t))
            }
            ConflictPart::LineComment => {
                write!(f, "comment on the `{}` line: ours {}, theirs {}", self.field(), comment(o), comment(t))
            }
        }
    }
}

/// How a side left a comment block or line comment.
fn comment(v: Option<&Value>) -> String {
    let text = v.and_then(Value::as_str).map(str::trim).unwrap_or_default();
    match v {
        None => "removed the field".into(),
        Some(_) if text.is_empty() => "removed it".into(),
        Some(_) if !text.contains('\n') && text.chars().count() <= 60 => format!("wrote `{text}`"),
        Some(_) => "changed the lines".into(),
    }
}

fn describe(v: Option<&Value>) -> String {
    match v {
        None => "removed it".into(),
        Some(v) => match scalar_text(v) {
            Some(s) if s.contains('\n') || s.chars().count() > 60 => "changed the text".into(),
            Some(s) => format!("set `{s}`"),
            None if matches!(v, Value::Null) => "cleared it".into(),
            None => "changed it".into(),
        },
    }
}

/// Renames alias keys (`updated_at`, `tags`, …) to their canonical names
/// where the canonical key is absent, keeping positions, so that one side
/// writing `updated` and the other still having `updated_at` is one field.
pub fn canonical_keys(map: &Mapping) -> Mapping {
    let canonical_of = |k: &str| -> Option<&'static str> {
        ["created", "updated", "labels", "estimated_hours"].into_iter().find(|c| key_aliases(c).contains(&k))
    };
    let mut out = Mapping::with_capacity(map.len());
    for (k, v) in map {
        let key = match k.as_str().and_then(canonical_of) {
            Some(c) if !map.contains_key(c) && !out.contains_key(c) => Value::String(c.to_string()),
            _ => k.clone(),
        };
        out.insert(key, v.clone());
    }
    out
}

/// Merges three versions of an entity. Conflicts are collected in `conflicts`
/// and their slots filled from `prefer`.
pub fn merge_entity(base: &Mapping, ours: &Mapping, theirs: &Mapping, prefer: Prefer) -> (Mapping, Vec<Conflict>) {
    let mut m = Merger { prefer, conflicts: Vec::new() };
    let out = m.map(&mut Vec::new(), base, ours, theirs);
    (out, m.conflicts)
}

struct Merger {
    prefer: Prefer,
    conflicts: Vec<Conflict>,
}

fn is_absent(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Null))
}

fn seq(v: Option<&Value>) -> Option<&[Value]> {
    match v {
        Some(Value::Sequence(s)) => Some(s),
        _ => None,
    }
}

/// Lists whose items all are scalars.
fn scalars(items: &[Value]) -> bool {
    items.iter().all(|i| scalar_text(i).is_some())
}

fn item_id(v: &Value) -> Option<String> {
    match v {
        Value::Mapping(m) => m.get("id").and_then(scalar_text),
        _ => None,
    }
}

/// Lists whose items all are mappings with an `id`.
fn id_items(items: &[Value]) -> bool {
    items.iter().all(|i| item_id(i).is_some())
}

fn date_key(v: &Value) -> Option<chrono::NaiveDateTime> {
    let d = CoordDate::parse(&scalar_text(v)?)?;
    Some(match d {
        CoordDate::Date(d) => d.and_hms_opt(0, 0, 0)?,
        CoordDate::Zoned(dt) => dt.naive_utc(),
        CoordDate::Naive(dt, _) => dt,
    })
}

impl Merger {
    fn conflict(&mut self, path: &[Seg], ours: Option<&Value>, theirs: Option<&Value>) -> Option<Value> {
        self.conflicts.push(Conflict {
            path: path.to_vec(),
            ours: ours.cloned(),
            theirs: theirs.cloned(),
            part: ConflictPart::Value,
        });
        match self.prefer {
            Prefer::Ours => ours.cloned(),
            Prefer::Theirs => theirs.cloned(),
        }
    }

    fn map(&mut self, path: &mut Vec<Seg>, base: &Mapping, ours: &Mapping, theirs: &Mapping) -> Mapping {
        // Key order: ours, with keys only theirs has inserted after the key
        // that precedes them in theirs.
        let mut keys: Vec<&Value> = ours.keys().collect();
        let mut last_known: Option<usize> = None;
        for k in theirs.keys() {
            match keys.iter().position(|x| *x == k) {
                Some(i) => last_known = Some(i),
                None => {
                    let at = last_known.map(|i| i + 1).unwrap_or(0);
                    keys.insert(at, k);
                    last_known = Some(at);
                }
            }
        }
        let mut out = Mapping::with_capacity(keys.len());
        for k in keys {
            let name = k.as_str().map(str::to_string).unwrap_or_else(|| scalar_text(k).unwrap_or_default());
            path.push(Seg::Key(name));
            if let Some(v) = self.slot(path, base.get(k), ours.get(k), theirs.get(k)) {
                out.insert(k.clone(), v);
            }
            path.pop();
        }
        out
    }

    fn slot(&mut self, path: &mut Vec<Seg>, b: Option<&Value>, o: Option<&Value>, t: Option<&Value>) -> Option<Value> {
        if o == t || b == t {
            return o.cloned();
        }
        if b == o {
            return t.cloned();
        }
        // Both sides changed it, differently.
        if let ([Seg::Key(key)], Some(ov), Some(tv)) = (path.as_slice(), o, t)
            && (key == "updated" || key == "created")
            && let (Some(od), Some(td)) = (date_key(ov), date_key(tv))
        {
            let later = td > od;
            return Some(if (key == "updated") == later { tv.clone() } else { ov.clone() });
        }
        // Lists (a missing list is an empty one).
        let list_like = |v: Option<&Value>| is_absent(v) || seq(v).is_some();
        if (seq(o).is_some() || seq(t).is_some()) && list_like(b) && list_like(o) && list_like(t) {
            let (bs, os, ts) = (seq(b).unwrap_or(&[]), seq(o).unwrap_or(&[]), seq(t).unwrap_or(&[]));
            let merged = if scalars(bs) && scalars(os) && scalars(ts) {
                Some(set_merge(bs, os, ts))
            } else if matches!(path.as_slice(), [Seg::Key(k)] if k == "comments") {
                // Comments (`git coord comment`) are notes added on either
                // side: the union, ours first, then theirs' new ones.
                Some(set_merge(bs, os, ts))
            } else if id_items(bs) && id_items(os) && id_items(ts) {
                Some(self.id_list(path, bs, os, ts))
            } else {
                None
            };
            if let Some(items) = merged {
                return if items.is_empty() && is_absent(o) { o.cloned() } else { Some(Value::Sequence(items)) };
            }
        }
        // Mappings (a missing mapping is an empty one, so a section added
        // on both sides merges key by key).
        let map_like = |v: Option<&Value>| is_absent(v) || matches!(v, Some(Value::Mapping(_)));
        if let (Some(Value::Mapping(om)), Some(Value::Mapping(tm))) = (o, t)
            && map_like(b)
        {
            let empty = Mapping::new();
            let bm = match b {
                Some(Value::Mapping(m)) => m,
                _ => &empty,
            };
            return Some(Value::Mapping(self.map(path, bm, om, tm)));
        }
        self.conflict(path, o, t)
    }

    fn id_list(&mut self, path: &mut Vec<Seg>, b: &[Value], o: &[Value], t: &[Value]) -> Vec<Value> {
        let find = |items: &[Value], id: &str| items.iter().find(|i| item_id(i).as_deref() == Some(id)).cloned();
        let mut ids: Vec<String> = o.iter().filter_map(item_id).collect();
        for id in t.iter().filter_map(item_id) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let empty = Mapping::new();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let (bi, oi, ti) = (find(b, &id), find(o, &id), find(t, &id));
            path.push(Seg::Item(id));
            let merged = match (&oi, &ti) {
                (Some(Value::Mapping(om)), Some(Value::Mapping(tm))) => {
                    let bm = match &bi {
                        Some(Value::Mapping(m)) => m,
                        _ => &empty,
                    };
                    Some(Value::Mapping(self.map(path, bm, om, tm)))
                }
                // Removed on one side: gone if the other did not edit it.
                _ => self.slot(path, bi.as_ref(), oi.as_ref(), ti.as_ref()),
            };
            path.pop();
            out.extend(merged);
        }
        out
    }
}

/// Set merge of scalar lists: ours' order, minus what theirs removed, plus
/// what theirs added.
fn set_merge(b: &[Value], o: &[Value], t: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(o.len() + t.len());
    for item in o {
        let removed_by_theirs = b.contains(item) && !t.contains(item);
        if !removed_by_theirs && !out.contains(item) {
            out.push(item.clone());
        }
    }
    for item in t {
        if !b.contains(item) && !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(text: &str) -> Mapping {
        serde_yaml::from_str(text).unwrap()
    }

    fn merge(b: &str, o: &str, t: &str) -> (Mapping, Vec<String>) {
        let (out, conflicts) = merge_entity(&m(b), &m(o), &m(t), Prefer::Ours);
        (out, conflicts.iter().map(|c| c.field()).collect())
    }

    #[test]
    fn one_side_changes_win_and_same_changes_merge_once() {
        let (out, c) = merge("a: 1\nb: 1\nc: 1\n", "a: 2\nb: 1\nc: 3\n", "a: 1\nb: 2\nc: 3\n");
        assert!(c.is_empty());
        assert_eq!(out, m("a: 2\nb: 2\nc: 3\n"));
    }

    #[test]
    fn comments_added_on_both_sides_are_all_kept() {
        let b = "id: X\ncomments:\n- {date: d0, author: a, text: base}\n";
        let o = "id: X\ncomments:\n- {date: d0, author: a, text: base}\n- {date: d1, author: o, text: ours}\n";
        let t = "id: X\ncomments:\n- {date: d0, author: a, text: base}\n- {date: d2, author: t, text: theirs}\n";
        let (merged, conflicts) = merge(b, o, t);
        assert!(conflicts.is_empty(), "{conflicts:?}");
        let texts: Vec<_> =
            merged["comments"].as_sequence().unwrap().iter().map(|c| c["text"].as_str().unwrap().to_string()).collect();
        assert_eq!(texts, ["base", "ours", "theirs"]);
    }

    #[test]
    fn scalar_lists_merge_as_sets() {
        let (out, c) = merge("l: [x, y, z]\n", "l: [x, z, o]\n", "l: [y, z, t]\n");
        assert!(c.is_empty());
        assert_eq!(out, m("l: [z, o, t]\n"));
    }

    #[test]
    fn absent_list_is_empty() {
        let (out, c) = merge("a: 1\n", "a: 1\nl: [x]\n", "a: 1\nl: [y]\n");
        assert!(c.is_empty());
        assert_eq!(out, m("a: 1\nl: [x, y]\n"));
        let (out, _) = merge("l: [x]\n", "{}\n", "l: [x, y]\n");
        assert_eq!(out, m("l: [y]\n"));
    }

    #[test]
    fn scalar_conflict_names_the_field_and_fills_from_the_preferred_side() {
        let (b, o, t) = (m("s: a\n"), m("s: b\n"), m("s: c\n"));
        let (ours, c) = merge_entity(&b, &o, &t, Prefer::Ours);
        let (theirs, _) = merge_entity(&b, &o, &t, Prefer::Theirs);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].to_string(), "s: ours set `b`, theirs set `c`");
        assert_eq!((ours, theirs), (o, t));
    }

    #[test]
    fn updated_takes_the_later_and_created_the_earlier() {
        let (out, c) = merge(
            "created: 2026-01-01\nupdated: 2026-01-01\n",
            "created: 2026-01-03\nupdated: 2026-01-05T10:00:00Z\n",
            "created: 2026-01-02\nupdated: 2026-01-04\n",
        );
        assert!(c.is_empty());
        assert_eq!(out, m("created: 2026-01-02\nupdated: 2026-01-05T10:00:00Z\n"));
    }

    #[test]
    fn milestones_merge_by_id() {
        let base = "milestones:\n- {id: M-1, status: pending, due: x}\n- {id: M-2, status: pending}\n";
        let ours = "milestones:\n- {id: M-1, status: completed, due: x}\n- {id: M-2, status: pending}\n";
        let theirs = "milestones:\n- {id: M-1, status: pending, due: y}\n- {id: M-3, status: pending}\n";
        let (out, c) = merge(base, ours, theirs);
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(out, m("milestones:\n- {id: M-1, status: completed, due: y}\n- {id: M-3, status: pending}\n"));
        let edited = "milestones:\n- {id: M-1, status: pending, due: x}\n- {id: M-2, status: blocked}\n";
        let (_, c) = merge(base, edited, theirs);
        assert_eq!(c, vec!["milestones[M-2]"]);
    }

    #[test]
    fn removal_against_edit_is_a_conflict() {
        let (out, c) = merge("a: 1\nb: x\n", "a: 1\n", "a: 1\nb: y\n");
        assert_eq!(c, vec!["b"]);
        assert_eq!(out, m("a: 1\n"));
    }

    #[test]
    fn maps_merge_key_by_key_and_new_keys_keep_their_place() {
        let (out, c) = merge(
            "a: 1\nmeta: {x: 1}\nz: 1\n",
            "a: 1\nmeta: {x: 2}\nz: 1\n",
            "a: 1\nnew: 1\nmeta: {x: 1, y: 1}\nz: 1\n",
        );
        assert!(c.is_empty());
        let keys: Vec<_> = out.keys().filter_map(|k| k.as_str()).collect();
        assert_eq!(keys, ["a", "new", "meta", "z"]);
        assert_eq!(out.get("meta"), Some(&serde_yaml::from_str::<Value>("{x: 2, y: 1}").unwrap()));
    }

    #[test]
    fn alias_keys_are_one_field() {
        let b = canonical_keys(&m("updated_at: 2026-01-01\ntags: [a]\n"));
        let o = canonical_keys(&m("updated: 2026-01-02\nlabels: [a, b]\n"));
        let t = canonical_keys(&m("updated_at: 2026-01-01\ntags: [a, c]\n"));
        let (out, c) = merge_entity(&b, &o, &t, Prefer::Ours);
        assert!(c.is_empty());
        assert_eq!(out, m("updated: 2026-01-02\nlabels: [a, b, c]\n"));
    }
}
