//! The legacy `coordination:` section of `settings/ecosystem.yaml`: its
//! items read as records, and finding or removing one item in its text.

use super::load::{EcosystemDoc, Lines, build_record};
use super::{Origin, Record, Store, lines::line_of_id, lines::line_of_key};
use crate::model::Kind;
use crate::model::id::validate_id;
use crate::model::reader::scalar_text;
use crate::problem::Problem;
use serde_yaml::{Mapping, Value};
use std::collections::HashMap;

impl Store {
    pub(super) fn legacy_records(
        &self,
        doc: &Mapping,
        eco: &EcosystemDoc,
        kind: Kind,
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
            out.push(build_record(kind, id, map.clone(), Origin::Legacy(eco.path.clone()), &rel, &eco_lines, start));
        }
        out
    }
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

pub(super) fn remove_legacy_item(text: &str, section: &str, id: &str) -> std::result::Result<String, String> {
    use std::str::FromStr;
    let doc = yaml_edit::Document::from_str(text).map_err(|e| e.to_string())?;
    let root = doc.as_mapping().ok_or("not a mapping")?;
    let coord = root.get_mapping("coordination").ok_or("no coordination section")?;
    let seq = coord.get_sequence(section).ok_or("no such section")?;
    let idx = seq
        .values()
        .position(|item| {
            item.as_mapping()
                .and_then(|m| m.get("id"))
                .map(|v| v.to_string().trim().trim_matches(['"', '\'']).to_string())
                == Some(id.to_string())
        })
        .ok_or("not found")?;
    seq.remove(idx);
    Ok(doc.to_string())
}
