//! The legacy `coordination:` section of `settings/ecosystem.yaml`: its
//! items read as records, and finding or removing one item in its text.

use super::load::{EcosystemDoc, Lines, build_record};
use super::{Origin, Record, Store, lines::line_of_id, lines::line_of_key};
use crate::ecosystem::Registry;
use crate::model::entities::key_aliases;
use crate::model::id::validate_id;
use crate::model::reader::scalar_text;
use crate::model::{CoordDate, Kind};
use crate::problem::Problem;
use serde_yaml::{Mapping, Value};
use std::collections::HashMap;

impl Store {
    pub(super) fn legacy_records(
        &self,
        doc: &Mapping,
        eco: &EcosystemDoc,
        kind: Kind,
        registry: &Registry,
        problems: &mut Vec<Problem>,
    ) -> Vec<Record> {
        let rel = self.rel(&eco.path);
        let Some(Value::Mapping(coord)) = doc.get("coordination") else {
            return Vec::new();
        };
        let items = match coord.get(kind.dir_name()) {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Sequence(items)) => items,
            Some(_) => {
                problems.push(
                    Problem::error("type", format!("`coordination.{}` must be a list", kind.dir_name()))
                        .at(&rel, line_of_key(&eco.text, 0, kind.dir_name())),
                );
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let eco_lines = Lines::new(&eco.text);
        for (i, item) in items.iter().enumerate() {
            let Value::Mapping(map) = item else {
                problems.push(
                    Problem::error("type", format!("coordination.{}[{i}] is not a mapping", kind.dir_name()))
                        .at(&rel, None),
                );
                continue;
            };
            let Some(id) = map.get("id").and_then(scalar_text) else {
                problems.push(
                    Problem::error("id", format!("coordination.{}[{i}] has no `id`", kind.dir_name())).at(&rel, None),
                );
                continue;
            };
            let from = seen.get(&id).copied().unwrap_or(0);
            let start = eco_lines.get().id(&id, from).unwrap_or(1);
            if let Err(e) = validate_id(&id) {
                problems.push(Problem::error("id", e.to_string()).at(&rel, Some(start)));
                continue;
            }
            if seen.insert(id.clone(), start).is_some() {
                problems.push(
                    Problem::error("duplicate", "duplicate ID in the legacy section").at(&rel, Some(start)).on(&id),
                );
                continue;
            }
            let map = legacy_normalized(kind, coord, map, registry);
            out.push(build_record(kind, id, map, Origin::Legacy(eco.path.clone()), &rel, &eco_lines, start));
        }
        out
    }
}

/// A legacy item as the loader reads it: repository names (`repos`, `repo`,
/// `consumer`, `provider`) by their canonical name — the Python tool stored
/// nicknames there (`repos: [harbor, lh]`) — and a todo's missing repo taken
/// (see [`legacy_todo_repo`]). Every report, `migrate` and history see the
/// canonical names; the file keeps what it says: a write compares what it
/// wrote read back this same way, so a value that only differs by nickname
/// is never touched by an unrelated change.
pub(crate) fn legacy_normalized(kind: Kind, coord: &Mapping, map: &Mapping, registry: &Registry) -> Mapping {
    let mut map = if kind == Kind::Todo { legacy_todo_repo(coord, map, registry) } else { map.clone() };
    let canonical = |v: &mut Value| {
        if let Value::String(s) = v {
            let c = registry.canonical(s).to_string();
            *s = c;
        }
    };
    for key in ["repos", "repo", "consumer", "provider"] {
        match map.get_mut(key) {
            Some(Value::Sequence(items)) => items.iter_mut().for_each(canonical),
            Some(v) => canonical(v),
            None => {}
        }
    }
    map
}

/// A legacy todo without `repo` takes it as the Python tool did: from its
/// `issue_id`'s issue in the same section (its first repository), else from
/// its `pool`. Filled in when read, so lint, reports, `migrate` and writes
/// all see the same repository — by its canonical name, whatever nickname
/// the issue used.
fn legacy_todo_repo(coord: &Mapping, map: &Mapping, registry: &Registry) -> Mapping {
    let mut map = map.clone();
    if map.get("repo").and_then(scalar_text).is_some_and(|r| !r.trim().is_empty()) {
        return map;
    }
    let first_text = |v: Option<&Value>| match v {
        Some(Value::Sequence(items)) => items.iter().find_map(scalar_text),
        Some(v) => scalar_text(v),
        None => None,
    };
    let from_issue = map.get("issue_id").and_then(scalar_text).and_then(|issue| match coord.get("issues") {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| i.as_mapping())
            .find(|i| i.get("id").and_then(scalar_text).as_deref() == Some(issue.as_str()))
            .and_then(|i| first_text(i.get("repos")).or_else(|| first_text(i.get("repo")))),
        _ => None,
    });
    if let Some(repo) = from_issue.or_else(|| first_text(map.get("pool"))).filter(|r| !r.trim().is_empty()) {
        map.insert("repo".into(), Value::String(registry.canonical(&repo).to_string()));
    }
    map
}

/// Byte range of the legacy item `- id: <id>`: from its line to the next
/// line indented no deeper than its `-` (blank and comment lines inside count).
pub(super) fn legacy_item_span(text: &str, id: &str) -> Option<(usize, usize)> {
    let first = line_of_id(text, id, 0)?;
    let mut offsets = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        offsets.push((pos, line));
        pos += line.len();
    }
    let (start, first_line) = *offsets.get(first - 1)?;
    let dash = first_line.find('-').unwrap_or(0);
    let end = offsets
        .iter()
        .skip(first)
        .find(|(_, l)| {
            let t = l.trim_start_matches(' ');
            let indent = l.len() - t.len();
            !t.trim().is_empty() && !t.starts_with('#') && indent <= dash
        })
        .map(|(o, _)| *o)
        .unwrap_or(text.len());
    Some((start, end))
}

/// The timestamp whose form a new `updated` of legacy item `id` takes: its
/// own `updated` (or an alias), else the first in the other items of its
/// section, else the same for `created` — the section's style.
pub(super) fn legacy_date_sample(doc: &Mapping, kind: Kind, id: &str) -> Option<CoordDate> {
    let Value::Mapping(coord) = doc.get("coordination")? else {
        return None;
    };
    let Value::Sequence(items) = coord.get(kind.dir_name())? else {
        return None;
    };
    let maps: Vec<&Mapping> = items.iter().filter_map(Value::as_mapping).collect();
    let own = maps.iter().position(|m| m.get("id").and_then(scalar_text).as_deref() == Some(id));
    // The item itself first, then the rest of its section in order.
    let ordered =
        own.iter().map(|&i| maps[i]).chain(maps.iter().enumerate().filter(|(i, _)| Some(*i) != own).map(|(_, m)| *m));
    let ordered: Vec<&Mapping> = ordered.collect();
    ["updated", "created"].into_iter().find_map(|key| {
        let keys: Vec<&str> = std::iter::once(key).chain(key_aliases(key).iter().copied()).collect();
        ordered
            .iter()
            .find_map(|m| keys.iter().find_map(|k| m.get(*k).and_then(scalar_text)).and_then(|t| CoordDate::parse(&t)))
    })
}

pub(super) fn legacy_item(doc: &Mapping, kind: Kind, id: &str) -> Option<Mapping> {
    let Value::Mapping(coord) = doc.get("coordination")? else {
        return None;
    };
    let Value::Sequence(items) = coord.get(kind.dir_name())? else {
        return None;
    };
    items.iter().find_map(|i| match i {
        Value::Mapping(m) if m.get("id").and_then(scalar_text).as_deref() == Some(id) => Some(m.clone()),
        _ => None,
    })
}

/// The text without item `id` of `coordination.<section>`; `None` when
/// the text has no such item or the editor cannot read it.
pub(super) fn remove_legacy_item(text: &str, section: &str, id: &str) -> Option<String> {
    use std::str::FromStr;
    let doc = yaml_edit::Document::from_str(text).ok()?;
    let coord = doc.as_mapping()?.get_mapping("coordination")?;
    let seq = coord.get_sequence(section)?;
    let idx = seq.values().position(|item| {
        item.as_mapping().and_then(|m| m.get("id")).map(|v| v.to_string().trim().trim_matches(['"', '\'']).to_string())
            == Some(id.to_string())
    })?;
    seq.remove(idx);
    Some(doc.to_string())
}
