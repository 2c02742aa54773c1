//! Field-level differences between two versions of one entity (pure: no git,
//! no I/O). Both sides are canonical entity mappings, so a change of alias
//! (`created_at` → `created`, `open` → `pending`) is no change at all.

use serde::Serialize;
use serde_yaml::{Mapping, Value};

/// One changed field. Nested fields are named with dots (`metadata.owner`,
/// `validation.command`) and milestones by ID (`milestones[MILESTONE-002].status`).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct FieldChange {
    /// The field's path.
    pub field: String,
    /// What changed.
    #[serde(flatten)]
    pub change: Change,
}

/// How a field changed.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    /// A value set, changed or removed (`old`/`new` absent when the field was).
    Set {
        #[serde(skip_serializing_if = "Option::is_none")]
        old: Option<serde_json::Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        new: Option<serde_json::Value>,
    },
    /// Items added to and removed from a list (compared as a set).
    List { added: Vec<serde_json::Value>, removed: Vec<serde_json::Value> },
    /// A multi-line text changed: a short unified diff.
    Text { patch: String },
}

impl FieldChange {
    /// The top-level field (`milestones` for `milestones[MILESTONE-001].status`).
    pub fn root(&self) -> &str {
        self.field.split(['.', '[']).next().unwrap_or(&self.field)
    }

    /// For a `Set` change, the old and new values as display strings.
    pub fn set_values(&self) -> Option<(Option<String>, Option<String>)> {
        match &self.change {
            Change::Set { old, new } => Some((old.as_ref().map(display), new.as_ref().map(display))),
            _ => None,
        }
    }
}

/// A JSON value as a short display string (strings unquoted).
/// Strings are shown through [`crate::display::shown`]: values come from
/// pull requests and end up in terminals and PR comments.
pub fn display(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => crate::display::shown(s),
        serde_json::Value::Null => "~".into(),
        other => other.to_string(),
    }
}

fn json(v: &Value) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// The changes from `old` to `new`, in field order (old's keys, then new ones).
pub fn diff_mappings(old: &Mapping, new: &Mapping) -> Vec<FieldChange> {
    let mut out = Vec::new();
    diff_into(&mut out, "", old, new);
    out
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
    }
}

fn diff_into(out: &mut Vec<FieldChange>, prefix: &str, old: &Mapping, new: &Mapping) {
    // New keys in the new (canonical) order, then the removed ones.
    for (k, nv) in new {
        let field = format!("{prefix}{}", key_text(k));
        match old.get(k) {
            Some(ov) => diff_value(out, field, ov, nv),
            None => diff_value(out, field, &empty_like(nv), nv),
        }
    }
    for (k, ov) in old {
        if !new.contains_key(k) {
            diff_value(out, format!("{prefix}{}", key_text(k)), ov, &empty_like(ov));
        }
    }
}

/// What an absent field is compared as: an empty list or map for those
/// (so `labels` appearing shows `+breaking`), else "absent" (`Null`).
fn empty_like(v: &Value) -> Value {
    match v {
        Value::Sequence(_) => Value::Sequence(Vec::new()),
        Value::Mapping(_) => Value::Mapping(Mapping::new()),
        Value::String(s) if s.contains('\n') => Value::String(String::new()),
        _ => Value::Null,
    }
}

fn diff_value(out: &mut Vec<FieldChange>, field: String, ov: &Value, nv: &Value) {
    if ov == nv {
        return;
    }
    match (ov, nv) {
        (Value::Mapping(a), Value::Mapping(b)) => diff_into(out, &format!("{field}."), a, b),
        (Value::Sequence(a), Value::Sequence(b)) if keyed(a) || keyed(b) => diff_keyed(out, &field, a, b),
        (Value::Sequence(a), Value::Sequence(b)) => {
            let added: Vec<_> = b.iter().filter(|v| !a.contains(v)).map(json).collect();
            let removed: Vec<_> = a.iter().filter(|v| !b.contains(v)).map(json).collect();
            let change = if added.is_empty() && removed.is_empty() {
                // Same items, new order.
                Change::Set { old: Some(json(ov)), new: Some(json(nv)) }
            } else {
                Change::List { added, removed }
            };
            out.push(FieldChange { field, change });
        }
        (Value::String(a), Value::String(b)) if a.contains('\n') || b.contains('\n') => {
            out.push(FieldChange { field, change: Change::Text { patch: text_patch(a, b) } });
        }
        _ => {
            let side = |v: &Value| (!v.is_null()).then(|| json(v));
            out.push(FieldChange { field, change: Change::Set { old: side(ov), new: side(nv) } })
        }
    }
}

/// A non-empty list of mappings that all have an `id` (milestones): compared by ID.
fn keyed(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|v| item_id(v).is_some())
}

fn item_id(v: &Value) -> Option<String> {
    match v {
        Value::Mapping(m) => m.get("id").and_then(crate::model::reader::scalar_text),
        _ => None,
    }
}

fn item_label(v: &Value) -> serde_json::Value {
    let id = item_id(v).unwrap_or_default();
    let name = match v {
        Value::Mapping(m) => m.get("name").or_else(|| m.get("title")).and_then(crate::model::reader::scalar_text),
        _ => None,
    };
    serde_json::Value::String(match name {
        Some(n) => format!("{id} ({n})"),
        None => id,
    })
}

fn diff_keyed(out: &mut Vec<FieldChange>, field: &str, a: &[Value], b: &[Value]) {
    let find = |list: &[Value], id: &str| list.iter().find(|v| item_id(v).as_deref() == Some(id)).cloned();
    let added: Vec<_> =
        b.iter().filter(|v| find(a, &item_id(v).unwrap_or_default()).is_none()).map(item_label).collect();
    let removed: Vec<_> =
        a.iter().filter(|v| find(b, &item_id(v).unwrap_or_default()).is_none()).map(item_label).collect();
    if !added.is_empty() || !removed.is_empty() {
        out.push(FieldChange { field: field.to_string(), change: Change::List { added, removed } });
    }
    for ov in a {
        let id = item_id(ov).unwrap_or_default();
        if let (Value::Mapping(om), Some(Value::Mapping(nm))) = (ov, find(b, &id)) {
            diff_into(out, &format!("{field}[{id}]."), om, &nm);
        }
    }
}

/// A short unified diff of two texts (one line of context).
pub fn text_patch(old: &str, new: &str) -> String {
    let with_nl = |s: &str| if s.is_empty() || s.ends_with('\n') { s.to_string() } else { format!("{s}\n") };
    let (old, new) = (with_nl(old), with_nl(new));
    let diff = similar::TextDiff::from_lines(&old, &new);
    let mut out = String::new();
    for hunk in diff.unified_diff().context_radius(1).iter_hunks() {
        out.push_str(&hunk.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(y: &str) -> Mapping {
        serde_yaml::from_str(y).unwrap()
    }

    #[test]
    fn scalars_lists_maps_and_text() {
        let old = map(
            "status: pending\nlabels: [draft, api]\nmetadata: {owner: ann, sprint: 3}\ndescription: |\n  one\n  two\n  three\nassignee: bob\n",
        );
        let new = map(
            "status: in_progress\nlabels: [api, breaking]\nmetadata: {owner: ann, sprint: 4}\ndescription: |\n  one\n  TWO\n  three\ntarget: 2026-05-01\n",
        );
        let ch = diff_mappings(&old, &new);
        let fields: Vec<_> = ch.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["status", "labels", "metadata.sprint", "description", "target", "assignee"]);
        assert_eq!(ch[0].set_values(), Some((Some("pending".into()), Some("in_progress".into()))));
        assert_eq!(ch[1].change, Change::List { added: vec!["breaking".into()], removed: vec!["draft".into()] });
        let Change::Text { patch } = &ch[3].change else { panic!("text change expected") };
        assert!(patch.contains("-two\n+TWO\n"), "{patch}");
        assert_eq!(ch[4].set_values(), Some((None, Some("2026-05-01".into()))));
        assert_eq!(ch[5].set_values(), Some((Some("bob".into()), None)));
    }

    #[test]
    fn milestones_are_compared_by_id() {
        let old = map(
            "milestones:\n- {id: MILESTONE-001, name: Alpha, status: pending}\n- {id: MILESTONE-002, name: Beta, status: pending}\n",
        );
        let new = map(
            "milestones:\n- {id: MILESTONE-001, name: Alpha, status: completed}\n- {id: MILESTONE-003, name: GA, status: pending}\n",
        );
        let ch = diff_mappings(&old, &new);
        assert_eq!(ch.len(), 2, "{ch:?}");
        assert_eq!(
            ch[0].change,
            Change::List { added: vec!["MILESTONE-003 (GA)".into()], removed: vec!["MILESTONE-002 (Beta)".into()] }
        );
        assert_eq!(ch[1].field, "milestones[MILESTONE-001].status");
        assert_eq!(ch[1].root(), "milestones");
    }

    #[test]
    fn absent_lists_and_texts_compare_as_empty() {
        let old = map("status: pending\n");
        let new = map("status: pending\nlabels: [breaking]\ndescription: \"a\\nb\\n\"\n");
        let ch = diff_mappings(&old, &new);
        assert_eq!(ch[0].change, Change::List { added: vec!["breaking".into()], removed: vec![] });
        assert!(matches!(&ch[1].change, Change::Text { patch } if patch.contains("+a\n+b\n")), "{ch:?}");
        let back = diff_mappings(&new, &old);
        assert_eq!(back[0].change, Change::List { added: vec![], removed: vec!["breaking".into()] });
    }

    #[test]
    fn equal_mappings_have_no_changes_and_reorder_is_a_set() {
        let a = map("labels: [a, b]\n");
        assert!(diff_mappings(&a, &a).is_empty());
        let b = map("labels: [b, a]\n");
        assert!(matches!(diff_mappings(&a, &b)[0].change, Change::Set { .. }));
    }
}
