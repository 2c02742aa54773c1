//! Format-preserving edits with `yaml-edit`.
//!
//! Given the canonical mapping of an entity before and after a change, only
//! the keys whose values differ are touched in the syntax tree: comments, key
//! order, quoting, unknown keys and untouched block scalars stay byte-identical.
//! Lists are edited item by item (so a one-label change is a one-line diff),
//! nested mappings and milestone lists are patched recursively. The caller
//! re-parses the result and compares it with the intended value; on a
//! mismatch it rewrites canonically only when that loses no comment or
//! anchor (see `Store::write_update`).
//!
//! Cost: `yaml-edit` finds a key by walking the mapping, so the keys present
//! are collected once per mapping and unchanged entries (keys, list items)
//! are never looked up — a file with thousands of unknown keys is edited in
//! linear time, not quadratic. The text it parses has passed the pre-scan
//! (`scan`), so its nesting is bounded.

use crate::model::entities::key_aliases;
use crate::model::reader::scalar_text;
use serde_yaml::{Mapping, Value};
use std::collections::HashSet;
use std::str::FromStr;
use yaml_edit::Document;

type EditResult<T> = Result<T, EditError>;

/// Why a format-preserving edit could not be made (the caller then decides
/// whether a canonical rewrite may stand in).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// yaml-edit could not parse a text (the file, or a value's YAML).
    #[error("yaml-edit could not parse {what}: {message}")]
    Parse {
        /// "the file", "a value".
        what: &'static str,
        /// yaml-edit's message.
        message: String,
    },
    /// The tree is not shaped as expected.
    #[error("{what} is not a mapping")]
    NotMapping {
        /// "the document", "a list item", "`coordination`".
        what: &'static str,
    },
    /// The legacy section is missing.
    #[error("no `coordination.{section}` list")]
    NoSection {
        /// The section.
        section: String,
    },
    /// The item is not in its legacy section.
    #[error("`{id}` not found in coordination.{section}")]
    NoItem {
        /// The section.
        section: String,
        /// The item's ID.
        id: String,
    },
    /// A value's own YAML did not parse back as its shape (a bug).
    #[error("internal: {0} expected")]
    Internal(&'static str),
    /// A value could not be written as YAML.
    #[error("cannot write a value as YAML: {0}")]
    Serialize(String),
}

/// Where the entity sits in the document.
pub enum Locate<'a> {
    /// The whole document is the entity.
    Root,
    /// `coordination.<section>[id == id]` in ecosystem.yaml.
    Legacy { section: &'a str, id: &'a str },
}

/// Applies `old → new` to the entity inside `text`; returns the new text.
pub fn patch_text(text: &str, at: Locate<'_>, old: &Mapping, new: &Mapping) -> EditResult<String> {
    // Files with CRLF line endings are edited as LF and converted back, so
    // new lines match the old ones.
    if text.contains("\r\n") {
        let lf = text.replace("\r\n", "\n");
        return patch_text(&lf, at, old, new).map(|out| out.replace('\n', "\r\n"));
    }
    let doc = Document::from_str(text).map_err(|e| EditError::Parse { what: "the file", message: e.to_string() })?;
    let root = doc.as_mapping().ok_or(EditError::NotMapping { what: "the document" })?;
    let mut quotes = Quotes::default();
    let target = match at {
        Locate::Root => root,
        Locate::Legacy { section, id } => {
            quotes.legacy = true;
            let coord = root.get_mapping("coordination").ok_or(EditError::NotMapping { what: "`coordination`" })?;
            let seq =
                coord.get_sequence(section).ok_or_else(|| EditError::NoSection { section: section.to_string() })?;
            let mut found = None;
            for item in seq.values() {
                let Some(m) = item.as_mapping() else { continue };
                if found.is_none() && m.get("id").map(|v| unquote(&v.to_string())) == Some(id.to_string()) {
                    found = Some(m.clone());
                } else {
                    quotes.learn(m);
                }
            }
            found.ok_or_else(|| EditError::NoItem { section: section.to_string(), id: id.to_string() })?
        }
    };
    patch_mapping_quoted(&target, old, new, &quotes)?;
    Ok(doc.to_string())
}

/// Replaces the entity of a legacy section with `new` as a whole (fallback
/// when item-level edits do not verify), keeping the rest of the file.
pub fn replace_legacy_item(text: &str, section: &str, id: &str, new: &Mapping) -> EditResult<String> {
    let doc = Document::from_str(text).map_err(|e| EditError::Parse { what: "the file", message: e.to_string() })?;
    let root = doc.as_mapping().ok_or(EditError::NotMapping { what: "the document" })?;
    let coord = root.get_mapping("coordination").ok_or(EditError::NotMapping { what: "`coordination`" })?;
    let seq = coord.get_sequence(section).ok_or_else(|| EditError::NoSection { section: section.to_string() })?;
    let idx = seq
        .values()
        .position(|item| {
            item.as_mapping().and_then(|m| m.get("id")).map(|v| unquote(&v.to_string())) == Some(id.to_string())
        })
        .ok_or_else(|| EditError::NoItem { section: section.to_string(), id: id.to_string() })?;
    let node = to_node(&Value::Mapping(new.clone()))?;
    let mapping = node.as_mapping().ok_or(EditError::NotMapping { what: "the new item" })?;
    seq.set(idx, mapping);
    Ok(doc.to_string())
}

fn unquote(s: &str) -> String {
    let t = s.trim();
    t.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .or_else(|| t.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
        .unwrap_or(t)
        .to_string()
}

/// Parses a value's canonical YAML into a yaml-edit document to insert.
fn to_node(v: &Value) -> EditResult<Document> {
    let text = serde_yaml::to_string(v).map_err(|e| EditError::Serialize(e.to_string()))?;
    Document::from_str(&text).map_err(|e| EditError::Parse { what: "a value", message: e.to_string() })
}

/// How string values of each key are quoted in the other items of a legacy
/// section: a key a write adds to an item is quoted as its siblings quote it
/// (the Python tool reads `updated: '2026-01-15T00:00:00'` as a string, a
/// bare `2026-02-10` as a date it does not expect).
///
/// In a legacy item (`legacy`), keys also stay as the section writes them:
/// an alias (`updated_at`) is never renamed to the canonical key, and a key
/// added to an item takes the alias its siblings use.
#[derive(Default)]
struct Quotes {
    quotes: std::collections::HashMap<String, char>,
    legacy: bool,
    keys: HashSet<String>,
}

/// Keys holding timestamps: one quoting style for all of them.
const DATE_KEYS: &[&str] =
    &["created", "created_at", "updated", "updated_at", "fixed_at", "completed_at", "target", "target_date", "due"];

impl Quotes {
    /// Records the quoting of `item`'s scalar values (first seen wins).
    fn learn(&mut self, item: &yaml_edit::Mapping) {
        self.keys.extend(node_keys(item));
        for e in item.entries() {
            if let (Some(yaml_edit::YamlNode::Scalar(k)), Some(yaml_edit::YamlNode::Scalar(v))) =
                (e.key_node(), e.value_node())
                && let Some(q) = v.value().chars().next().filter(|c| *c == '\'' || *c == '"')
            {
                self.quotes.entry(k.as_string()).or_insert(q);
            }
        }
    }

    /// The quote a new value of `key` takes, if its siblings quote it.
    fn of(&self, key: &str) -> Option<char> {
        self.quotes.get(key).copied().or_else(|| {
            if DATE_KEYS.contains(&key) { DATE_KEYS.iter().find_map(|k| self.quotes.get(*k).copied()) } else { None }
        })
    }

    /// The key a value of canonical `key` is added under: in a legacy item,
    /// the alias the other items use when they never use `key` itself.
    fn added_key<'k>(&self, key: &'k str) -> &'k str {
        if !self.legacy || self.keys.contains(key) {
            return key;
        }
        key_aliases(key).iter().find(|a| same_meaning(a) && self.keys.contains(**a)).copied().unwrap_or(key)
    }
}

/// An alias that only spells its key otherwise (`updated_at`), unlike
/// `completed_at`/`fixed_at`, which also say something happened: a write
/// keeps the former in a legacy item and never adds the latter.
fn same_meaning(alias: &str) -> bool {
    !matches!(alias, "fixed_at" | "completed_at")
}

/// The quote of the scalar value of `key` in `node`, if it is quoted.
fn quote_of(node: &yaml_edit::Mapping, key: &str) -> Option<char> {
    match node.get(key)? {
        yaml_edit::YamlNode::Scalar(v) => v.value().chars().next().filter(|c| *c == '\'' || *c == '"'),
        _ => None,
    }
}

/// A string scalar quoted with `quote` (a replaced value keeps its quotes,
/// a new one takes its siblings'); text a quote would change is left to the
/// default style.
fn quoted(s: &str, quote: Option<char>) -> Option<yaml_edit::ScalarValue> {
    if s.contains(['\'', '"', '\\', '\n']) {
        return None;
    }
    match quote? {
        '\'' => Some(yaml_edit::ScalarValue::single_quoted(s)),
        _ => Some(yaml_edit::ScalarValue::double_quoted(s)),
    }
}

fn set_value(node: &yaml_edit::Mapping, key: &str, v: &Value, quotes: &Quotes) -> EditResult<()> {
    match v {
        Value::String(s) => match quoted(s, quote_of(node, key).or_else(|| quotes.of(key))) {
            Some(q) => node.set(key, q),
            None => node.set(key, s.as_str()),
        },
        Value::Bool(b) => node.set(key, *b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                node.set(key, i)
            } else if let Some(f) = n.as_f64() {
                node.set(key, f)
            }
        }
        Value::Null => node.set(key, Option::<String>::None),
        Value::Sequence(_) => {
            let doc = to_node(v)?;
            node.set(key, doc.as_sequence().ok_or(EditError::Internal("a sequence"))?);
        }
        Value::Mapping(_) => {
            let doc = to_node(v)?;
            node.set(key, doc.as_mapping().ok_or(EditError::Internal("a mapping"))?);
        }
        Value::Tagged(_) => {
            let doc = to_node(v)?;
            node.set(key, &doc);
        }
    }
    Ok(())
}

fn insert_value(
    node: &yaml_edit::Mapping,
    after: Option<&str>,
    key: &str,
    v: &Value,
    quotes: &Quotes,
) -> EditResult<()> {
    if let Some(prev) = after {
        // Insert in canonical position; scalars directly, collections via a parsed node.
        let inserted = match v {
            Value::String(s) => match quoted(s, quotes.of(key)) {
                Some(q) => node.insert_after(prev, key, q),
                None => node.insert_after(prev, key, s.as_str()),
            },
            Value::Number(n) if n.as_i64().is_some() => node.insert_after(prev, key, n.as_i64().unwrap_or_default()),
            Value::Number(n) => node.insert_after(prev, key, n.as_f64().unwrap_or_default()),
            Value::Bool(b) => node.insert_after(prev, key, *b),
            Value::Sequence(_) => {
                let doc = to_node(v)?;
                node.insert_after(prev, key, doc.as_sequence().ok_or(EditError::Internal("a sequence"))?)
            }
            Value::Mapping(_) => {
                let doc = to_node(v)?;
                node.insert_after(prev, key, doc.as_mapping().ok_or(EditError::Internal("a mapping"))?)
            }
            _ => false,
        };
        if inserted {
            return Ok(());
        }
    }
    set_value(node, key, v, quotes)
}

fn scalar_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Sequence(items) => items.iter().map(scalar_text).collect(),
        _ => None,
    }
}

fn id_list(v: &Value) -> Option<Vec<(String, &Mapping)>> {
    match v {
        Value::Sequence(items) => items
            .iter()
            .map(|i| match i {
                Value::Mapping(m) => m.get("id").and_then(scalar_text).map(|id| (id, m)),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The order that removing then appending produces, if it equals `new`.
fn append_order_matches<T: PartialEq + Clone>(old: &[T], new: &[T]) -> bool {
    let mut result: Vec<T> = old.iter().filter(|x| new.contains(x)).cloned().collect();
    result.extend(new.iter().filter(|x| !old.contains(x)).cloned());
    result == new
}

fn patch_scalar_list(seq: &yaml_edit::Sequence, old: &[String], new: &[String]) -> bool {
    // Item i of the text is `old[i]`, possibly spelled otherwise (a legacy
    // nickname read as its canonical name): items are matched by position,
    // so a nickname stays as written; the caller verifies the result.
    if seq.len() != old.len() || !append_order_matches(old, new) {
        return false;
    }
    // Append before removing: pushing onto an emptied sequence loses the
    // file's indentation (`- a` → `  - b`), so the old items stay as the
    // model until the new ones are in; their indices do not move.
    for item in new.iter().filter(|x| !old.contains(x)) {
        seq.push(item.as_str());
    }
    for i in (0..old.len()).rev() {
        if !new.contains(&old[i]) {
            seq.remove(i);
        }
    }
    true
}

fn patch_id_list(
    seq: &yaml_edit::Sequence,
    old: &[(String, &Mapping)],
    new: &[(String, &Mapping)],
    quotes: &Quotes,
) -> EditResult<bool> {
    let old_ids: Vec<&String> = old.iter().map(|(id, _)| id).collect();
    let new_ids: Vec<&String> = new.iter().map(|(id, _)| id).collect();
    if seq.len() != old.len() {
        return Ok(false);
    }
    // Items renamed in place (a renumbered milestone): each position keeps
    // its item, so only the changed fields are edited — rewriting the list
    // would re-indent every item of it.
    let renamed_in_place = old.len() == new.len()
        && old.iter().zip(new).all(|((o, _), (n, _))| o == n || (!new_ids.contains(&o) && !old_ids.contains(&n)));
    if renamed_in_place {
        let items: Vec<_> = seq.values().collect();
        for (((_, old_m), (_, new_m)), item) in old.iter().zip(new).zip(items) {
            if old_m != new_m {
                patch_mapping_quoted(
                    item.as_mapping().ok_or(EditError::NotMapping { what: "a list item" })?,
                    old_m,
                    new_m,
                    quotes,
                )?;
            }
        }
        return Ok(true);
    }
    if !append_order_matches(&old_ids, &new_ids) {
        return Ok(false);
    }
    for i in (0..old.len()).rev() {
        if !new_ids.contains(&old_ids[i]) {
            seq.remove(i);
        }
    }
    let new_by_id: std::collections::HashMap<&String, &Mapping> = new.iter().map(|(id, m)| (id, *m)).collect();
    let kept: Vec<(&Mapping, &Mapping)> =
        old.iter().filter_map(|(id, old_m)| new_by_id.get(id).map(|new_m| (*old_m, *new_m))).collect();
    let items: Vec<_> = seq.values().collect();
    for ((old_m, new_m), item) in kept.into_iter().zip(items) {
        if old_m == new_m {
            continue;
        }
        let item_map = item.as_mapping().ok_or(EditError::NotMapping { what: "a list item" })?;
        patch_mapping_quoted(item_map, old_m, new_m, quotes)?;
    }
    for (id, m) in new {
        if !old_ids.contains(&id) {
            let doc = to_node(&Value::Mapping((*m).clone()))?;
            seq.push(doc.as_mapping().ok_or(EditError::Internal("a mapping"))?);
        }
    }
    Ok(true)
}

/// Items appended to a list of mappings (comments): pushed after the
/// existing items, which stay byte-identical. Any other change is not an
/// append (false: the caller rewrites the list).
fn append_items(seq: &yaml_edit::Sequence, old: &[Value], new: &[Value]) -> EditResult<bool> {
    let added = &new[old.len().min(new.len())..];
    if seq.len() != old.len() || !new.starts_with(old) || !added.iter().all(|i| matches!(i, Value::Mapping(_))) {
        return Ok(false);
    }
    for item in added {
        let doc = to_node(item)?;
        seq.push(doc.as_mapping().ok_or(EditError::Internal("a mapping"))?);
    }
    Ok(true)
}

/// The text keys of a mapping node, collected in one walk.
fn node_keys(node: &yaml_edit::Mapping) -> HashSet<String> {
    node.entries()
        .filter_map(|e| match e.key_node() {
            Some(yaml_edit::YamlNode::Scalar(s)) => Some(s.as_string()),
            _ => None,
        })
        .collect()
}

/// Patches one mapping node from `old` to `new`.
pub fn patch_mapping(node: &yaml_edit::Mapping, old: &Mapping, new: &Mapping) -> EditResult<()> {
    patch_mapping_quoted(node, old, new, &Quotes::default())
}

/// [`patch_mapping`] where a new string value of a key takes the quotes
/// `quotes` knows for it (a replaced one keeps its own).
fn patch_mapping_quoted(node: &yaml_edit::Mapping, old: &Mapping, new: &Mapping, quotes: &Quotes) -> EditResult<()> {
    let mut keys = node_keys(node);
    let present = |keys: &HashSet<String>, k: &str| -> Option<String> {
        if keys.contains(k) {
            return Some(k.to_string());
        }
        key_aliases(k).iter().find(|a| keys.contains(**a)).map(|a| (*a).to_string())
    };
    for (k, _) in old {
        let Some(key) = k.as_str() else { continue };
        if !new.contains_key(k)
            && let Some(actual) = present(&keys, key)
        {
            node.remove(actual.as_str());
            keys.remove(&actual);
        }
    }
    let mut prev: Option<String> = None;
    for (k, v_new) in new {
        let Some(key) = k.as_str() else { continue };
        let v_old = old.get(k);
        if v_old == Some(v_new) {
            if let Some(actual) = present(&keys, key) {
                prev = Some(actual);
            }
            continue;
        }
        match present(&keys, key) {
            Some(actual) => {
                // A legacy item keeps its alias (the Python tool reads it).
                let key = if quotes.legacy && same_meaning(&actual) { actual.as_str() } else { key };
                if actual != key {
                    node.rename_key(actual.as_str(), key);
                    keys.remove(&actual);
                    keys.insert(key.to_string());
                }
                let done = match (v_old, v_new) {
                    (Some(o @ Value::Sequence(_)), Value::Sequence(_)) => {
                        if let (Some(ol), Some(nl), Some(seq)) =
                            (scalar_list(o), scalar_list(v_new), node.get_sequence(key))
                        {
                            patch_scalar_list(&seq, &ol, &nl)
                        } else if let (Some(ol), Some(nl), Some(seq)) =
                            (id_list(o), id_list(v_new), node.get_sequence(key))
                        {
                            patch_id_list(&seq, &ol, &nl, quotes)?
                        } else if let (Value::Sequence(os), Value::Sequence(ns), Some(seq)) =
                            (o, v_new, node.get_sequence(key))
                        {
                            append_items(&seq, os, ns)?
                        } else {
                            false
                        }
                    }
                    (Some(Value::Mapping(om)), Value::Mapping(nm)) => match node.get_mapping(key) {
                        Some(child) => {
                            patch_mapping_quoted(&child, om, nm, quotes)?;
                            true
                        }
                        None => false,
                    },
                    _ => false,
                };
                if !done {
                    set_value(node, key, v_new, quotes)?;
                }
                prev = Some(key.to_string());
            }
            None => {
                let key = quotes.added_key(key);
                insert_value(node, prev.as_deref(), key, v_new, quotes)?;
                keys.insert(key.to_string());
                prev = Some(key.to_string());
            }
        }
    }
    Ok(())
}
