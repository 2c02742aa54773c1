//! Coordination events named by meaning, derived from one commit's
//! field-level changes ([`crate::history::EntityChange`]): pure, no git and
//! no database, so the same commit always gives the same events and IDs.
//!
//! A status change is named by what it means for the kind (`todo.completed`,
//! `issue.reopened`, `dependency.unsatisfied`); `assignee` and
//! `estimated_hours` get their own verbs; every other field change of an
//! entity in a commit is one `<kind>.updated` event. A deletion and a
//! creation of the same kind and title in one commit is a `renumbered`.

use crate::history::changes::{EntityChange, Op};
use crate::history::fields::{Change, FieldChange};
use crate::history::repo::CommitInfo;
use crate::model::reader::scalar_text;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_yaml::{Mapping, Value};
use sha2::{Digest, Sha256};

/// One coordination event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// Deterministic: the first 16 hex digits of SHA-256 over commit,
    /// entity kind and ID, verb and field.
    pub id: String,
    /// `<kind>.<verb>` (`todo.completed`, `milestone.completed`).
    #[serde(rename = "type")]
    pub event_type: String,
    /// `issue`, `plan`, `todo` or `dependency` (a milestone's plan is `plan`).
    pub kind: String,
    /// The entity's ID (the new one for a renumber).
    pub entity: String,
    /// Its title (task for todos).
    pub title: String,
    /// The repositories it concerns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repos: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    /// The commit that made the change (full hex ID).
    pub commit: String,
    pub author: String,
    pub email: String,
    /// The commit's author time (RFC 3339).
    pub time: String,
    /// The same, in seconds since the epoch.
    pub seconds: i64,
    /// The commit's first line.
    pub subject: String,
    /// The field changes this event stands for (from → to).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(with = "Vec<serde_json::Value>")]
    pub fields: Vec<FieldChange>,
    /// A short sentence for people ("Completed todo TODO-001: Port CI in mahavishnu").
    pub summary: String,
}

/// The deterministic ID of an event.
pub fn event_id(commit: &str, kind: &str, entity: &str, verb: &str, field: &str) -> String {
    let mut h = Sha256::new();
    for part in [commit, kind, entity, verb, field] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let d = h.finalize();
    d.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The events of one commit, in the order of its changes.
pub fn derive(commit: &CommitInfo, changes: &[EntityChange]) -> Vec<Event> {
    let mut out = Vec::new();
    // Renumbers: a deletion and a creation of the same kind and title.
    let mut renumbered_from: std::collections::HashMap<&str, &str> = Default::default();
    let mut renumbered_old: std::collections::HashSet<&str> = Default::default();
    for d in changes.iter().filter(|c| c.change == Op::Deleted) {
        if let Some(c) = changes.iter().find(|c| {
            c.change == Op::Created
                && c.kind == d.kind
                && c.title == d.title
                && !renumbered_from.contains_key(c.id.as_str())
        }) {
            renumbered_from.insert(c.id.as_str(), d.id.as_str());
            renumbered_old.insert(d.id.as_str());
        }
    }
    for c in changes {
        let kind = c.kind_name;
        let map = c.after.as_ref().or(c.before.as_ref());
        let ctx = Ctx { commit, change: c, map };
        match c.change {
            Op::Created => match renumbered_from.get(c.id.as_str()) {
                Some(old) => {
                    let f = FieldChange {
                        field: "id".into(),
                        change: Change::Set { old: Some((*old).into()), new: Some(c.id.clone().into()) },
                    };
                    out.push(ctx.event("renumbered", "id", vec![f], format!("Renumbered {kind} {old} to {}", c.id)));
                }
                None => out.push(ctx.event("created", "", Vec::new(), format!("Created {kind} {}", c.id))),
            },
            Op::Deleted if renumbered_old.contains(c.id.as_str()) => {}
            Op::Deleted => out.push(ctx.event("deleted", "", Vec::new(), format!("Deleted {kind} {}", c.id))),
            Op::Moved | Op::Modified => {
                if c.change == Op::Moved {
                    let from = c.moved_from.clone().unwrap_or_default();
                    let f = FieldChange {
                        field: "path".into(),
                        change: Change::Set { old: Some(from.clone().into()), new: Some(c.path.clone().into()) },
                    };
                    out.push(ctx.event(
                        "moved",
                        "path",
                        vec![f],
                        format!("Moved {kind} {} from {from} to {}", c.id, c.path),
                    ));
                }
                let mut rest = Vec::new();
                for f in &c.fields {
                    match named(c, f) {
                        Some((verb, sentence)) => out.push(ctx.event_named(&verb, &f.into(), sentence)),
                        None => rest.push(f.clone()),
                    }
                }
                if !rest.is_empty() {
                    let names: Vec<&str> = rest.iter().map(|f| f.field.as_str()).collect();
                    let s = format!("Updated {kind} {}: {}", c.id, names.join(", "));
                    out.push(ctx.event("updated", "", rest, s));
                }
            }
        }
    }
    out
}

/// The verb and sentence of a field change that has its own name.
fn named(c: &EntityChange, f: &FieldChange) -> Option<(String, String)> {
    let kind = c.kind_name;
    let id = &c.id;
    let (old, new) = f.set_values()?;
    if let Some(ms) = f.field.strip_prefix("milestones[").and_then(|r| r.strip_suffix("].status")) {
        return (new.as_deref() == Some("completed"))
            .then(|| ("milestone.completed".into(), format!("Completed milestone {ms} of plan {id}")));
    }
    match f.field.as_str() {
        "status" => {
            let new = new?;
            let old = old.unwrap_or_default();
            let verb = match (kind, new.as_str()) {
                ("issue", "closed") => "closed",
                ("issue", "resolved") => "resolved",
                ("issue", _) if old == "closed" || old == "resolved" => "reopened",
                ("todo", "in_progress") => "started",
                ("todo", "completed") => "completed",
                ("todo", "blocked") => "blocked",
                ("todo", "cancelled") => "cancelled",
                ("plan", "active") => "activated",
                ("plan", "completed") => "completed",
                ("dependency", "satisfied") => "satisfied",
                ("dependency", _) if old == "satisfied" => "unsatisfied",
                _ => return None,
            };
            let mut word = verb.to_string();
            if let Some(first) = word.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            Some((format!("{kind}.{verb}"), format!("{word} {kind} {id}")))
        }
        "assignee" => Some((
            format!("{kind}.assigned"),
            match new {
                Some(a) => format!("Assigned {kind} {id} to {a}"),
                None => format!("Unassigned {kind} {id}"),
            },
        )),
        "estimated_hours" => Some((
            format!("{kind}.estimated"),
            format!("Estimated {kind} {id} at {} h", new.unwrap_or_else(|| "no".into())),
        )),
        _ => None,
    }
}

struct Ctx<'a> {
    commit: &'a CommitInfo,
    change: &'a EntityChange,
    map: Option<&'a Mapping>,
}

impl Ctx<'_> {
    fn event(&self, verb: &str, field: &str, fields: Vec<FieldChange>, sentence: String) -> Event {
        self.event_named(&format!("{}.{verb}", self.change.kind_name), &fields_or(field, fields), sentence)
    }

    fn event_named(&self, event_type: &str, f: &Fields, sentence: String) -> Event {
        let c = self.change;
        let text = |k: &str| self.map.and_then(|m| m.get(k)).and_then(scalar_text);
        let mut repos: Vec<String> = match self.map.and_then(|m| m.get("repos")) {
            Some(Value::Sequence(s)) => s.iter().filter_map(scalar_text).collect(),
            _ => Vec::new(),
        };
        for k in ["repo", "consumer", "provider"] {
            if let Some(r) = text(k)
                && !repos.contains(&r)
            {
                repos.push(r);
            }
        }
        let milestone = text("milestone_id")
            .or_else(|| f.key.strip_prefix("milestones[").and_then(|r| r.split_once(']')).map(|(m, _)| m.to_string()));
        let plan = if c.kind_name == "plan" { Some(c.id.clone()) } else { text("plan_id") };
        let mut summary = sentence;
        if !c.title.is_empty() && event_type != format!("{}.renumbered", c.kind_name) {
            summary = format!("{summary}: {}", crate::display::shown(&c.title));
        }
        if !repos.is_empty() {
            summary = format!("{summary} in {}", repos.join(", "));
        }
        Event {
            id: event_id(&self.commit.id, c.kind_name, &c.id, event_type, &f.key),
            event_type: event_type.to_string(),
            kind: c.kind_name.to_string(),
            entity: c.id.clone(),
            title: c.title.clone(),
            repos,
            plan,
            milestone,
            commit: self.commit.id.clone(),
            author: self.commit.author.clone(),
            email: self.commit.email.clone(),
            time: self.commit.date.clone(),
            seconds: self.commit.seconds,
            subject: self.commit.summary.clone(),
            fields: f.list.clone(),
            summary,
        }
    }
}

/// An event's field key (hashed into its ID) and its field changes.
struct Fields {
    key: String,
    list: Vec<FieldChange>,
}

impl From<&FieldChange> for Fields {
    fn from(f: &FieldChange) -> Fields {
        Fields { key: f.field.clone(), list: vec![f.clone()] }
    }
}

fn fields_or(key: &str, list: Vec<FieldChange>) -> Fields {
    Fields { key: key.to_string(), list }
}
