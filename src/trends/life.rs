//! Entity lives rebuilt from the event log: when each todo or dependency
//! appeared, which status it had from when, when it disappeared, and how
//! its `estimated_hours` and `blocked_by` links changed. Trends are
//! questions about these timelines ("which todos were in progress at the end
//! of week 10?"), so they are built once per request from the events,
//! oldest first, following renumbers so a todo keeps its past under its new
//! ID.

use crate::history::fields::Change;
use crate::memory::Event;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Seconds since the epoch.
pub type Secs = i64;

/// Half-open time intervals `[from, to)`, sorted and disjoint.
pub type Spans = Vec<(Secs, Secs)>;

/// One entity's life.
#[derive(Debug, Clone, Default)]
pub struct Life {
    pub kind: String,
    pub id: String,
    pub title: String,
    /// First `created` event (else its first event).
    pub created: Secs,
    /// A `deleted` event with no later creation.
    pub deleted: Option<Secs>,
    /// The status it had when created.
    pub initial: Option<String>,
    /// Status changes: (time, old, new), oldest first.
    pub changes: Vec<(Secs, Option<String>, String)>,
    /// Its last event.
    pub last_event: Secs,
    /// Repositories and plan, as its latest event says.
    pub repos: Vec<String>,
    pub plan: Option<String>,
    /// Assignee as its latest `assigned` event says.
    pub assignee: Option<String>,
    /// `estimated_hours` changes: (time, old, new), oldest first.
    pub estimates: Vec<(Secs, Option<f64>, Option<f64>)>,
    /// `blocked_by` changes: (time, added, removed), oldest first.
    pub blockers: Vec<(Secs, Vec<String>, Vec<String>)>,
}

impl Life {
    /// Its status at `t`; `None` before creation or after deletion.
    pub fn status_at(&self, t: Secs) -> Option<&str> {
        if t < self.created || self.deleted.is_some_and(|d| t >= d) {
            return None;
        }
        let mut s = self.initial.as_deref();
        for (at, _, new) in &self.changes {
            if *at > t {
                break;
            }
            s = Some(new);
        }
        Some(s.unwrap_or(""))
    }

    /// The spans (up to `until`) in which its status satisfies `pred`.
    pub fn spans(&self, until: Secs, pred: impl Fn(&str) -> bool) -> Spans {
        let end = self.deleted.map_or(until, |d| d.min(until));
        let mut out = Vec::new();
        let mut from = self.created;
        let mut s = self.initial.clone().unwrap_or_default();
        for (at, _, new) in &self.changes {
            let at = (*at).clamp(self.created, end.max(self.created));
            if pred(&s) && at > from {
                out.push((from, at));
            }
            from = at;
            s = new.clone();
        }
        if pred(&s) && end > from {
            out.push((from, end));
        }
        merge(out)
    }

    /// When it last entered `status` (at or before `t`).
    pub fn last_entered(&self, status: &str, t: Secs) -> Option<Secs> {
        self.changes.iter().rev().find(|(at, _, new)| *at <= t && new == status).map(|c| c.0)
    }

    /// Its estimate at `t`: the old value of its first `estimated_hours`
    /// change after `t`; with none, `current` (its value in the data now),
    /// or for an entity gone from the data, the last change's new value.
    pub fn estimate_at(&self, t: Secs, current: Option<Option<f64>>) -> Option<f64> {
        match self.estimates.iter().find(|(at, _, _)| *at > t) {
            Some((_, old, _)) => *old,
            None => current.unwrap_or_else(|| self.estimates.last().and_then(|e| e.2)),
        }
    }

    /// Per blocker, the spans (up to `until`) in which it was in this
    /// entity's `blocked_by`. The list after its last change is `current`
    /// (the data now; for an entity gone from the data, its changes applied
    /// to an empty list); earlier lists are rebuilt by undoing its changes,
    /// newest first.
    pub fn blocker_spans(&self, current: Option<&[String]>, until: Secs) -> BTreeMap<String, Spans> {
        let end = self.deleted.map_or(until, |d| d.min(until));
        let mut set: BTreeSet<String> = match current {
            Some(c) => c.iter().cloned().collect(),
            None => {
                let mut s = BTreeSet::new();
                for (_, added, removed) in &self.blockers {
                    for r in removed {
                        s.remove(r);
                    }
                    s.extend(added.iter().cloned());
                }
                s
            }
        };
        let mut out: BTreeMap<String, Spans> = BTreeMap::new();
        let mut to = end;
        for (at, added, removed) in self.blockers.iter().rev() {
            let at = (*at).clamp(self.created, end.max(self.created)).min(to);
            if to > at {
                for b in &set {
                    out.entry(b.clone()).or_default().push((at, to));
                }
            }
            for a in added {
                set.remove(a);
            }
            set.extend(removed.iter().cloned());
            to = at;
        }
        if to > self.created {
            for b in &set {
                out.entry(b.clone()).or_default().push((self.created, to));
            }
        }
        out.into_iter().map(|(b, v)| (b, merge(v))).collect()
    }

    /// When it first entered `status`.
    pub fn first_entered(&self, status: &str) -> Option<Secs> {
        self.changes.iter().find(|(_, _, new)| new == status).map(|c| c.0)
    }
}

/// Sorts and merges overlapping spans.
pub fn merge(mut v: Spans) -> Spans {
    v.sort();
    let mut out: Spans = Vec::with_capacity(v.len());
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// The intersection of two span sets.
pub fn intersect(a: &Spans, b: &Spans) -> Spans {
    let mut out = Vec::new();
    for &(a0, a1) in a {
        for &(b0, b1) in b {
            let (f, t) = (a0.max(b0), a1.min(b1));
            if t > f {
                out.push((f, t));
            }
        }
    }
    merge(out)
}

/// Total seconds covered.
pub fn measure(v: &Spans) -> Secs {
    v.iter().map(|(a, b)| b - a).sum()
}

/// The lives of every entity of `kind` in `events` (oldest first), keyed by
/// current ID.
pub fn lives(events: &[Event], kind: &str) -> HashMap<String, Life> {
    let mut map: HashMap<String, Life> = HashMap::new();
    for e in events.iter().filter(|e| e.kind == kind) {
        if e.event_type.ends_with(".renumbered")
            && let Some(old) = e.fields.iter().find(|f| f.field == "id").and_then(|f| f.set_values()).and_then(|v| v.0)
            && let Some(mut life) = map.remove(&old)
        {
            life.id = e.entity.clone();
            map.insert(e.entity.clone(), life);
        }
        let life = map.entry(e.entity.clone()).or_insert_with(|| Life {
            kind: e.kind.clone(),
            id: e.entity.clone(),
            created: e.seconds,
            ..Life::default()
        });
        life.last_event = e.seconds;
        life.title = e.title.clone();
        if !e.repos.is_empty() {
            life.repos = e.repos.clone();
        }
        if e.plan.is_some() {
            life.plan = e.plan.clone();
        }
        if e.event_type.ends_with(".created") {
            if life.deleted.take().is_some() {
                // Re-created: a new life under the same ID.
                *life = Life { kind: e.kind.clone(), id: e.entity.clone(), created: e.seconds, ..life.clone() };
                life.changes.clear();
                life.estimates.clear();
                life.blockers.clear();
                life.initial = None;
            }
        } else if e.event_type.ends_with(".deleted") {
            life.deleted = Some(e.seconds);
        }
        for f in &e.fields {
            match (f.field.as_str(), &f.change) {
                ("estimated_hours", Change::Set { old, new }) => {
                    life.estimates.push((e.seconds, old.as_ref().and_then(hours), new.as_ref().and_then(hours)));
                }
                ("blocked_by", Change::List { added, removed }) => {
                    life.blockers.push((
                        e.seconds,
                        added.iter().flat_map(ids).collect(),
                        removed.iter().flat_map(ids).collect(),
                    ));
                }
                ("blocked_by", Change::Set { old, new }) => {
                    let (old, new) = (
                        old.iter().flat_map(ids).collect::<BTreeSet<_>>(),
                        new.iter().flat_map(ids).collect::<BTreeSet<_>>(),
                    );
                    let added: Vec<String> = new.difference(&old).cloned().collect();
                    let removed: Vec<String> = old.difference(&new).cloned().collect();
                    if !added.is_empty() || !removed.is_empty() {
                        life.blockers.push((e.seconds, added, removed));
                    }
                }
                _ => {}
            }
            let Some((old, new)) = f.set_values() else { continue };
            match f.field.as_str() {
                "status" => {
                    if life.changes.is_empty() && life.initial.is_none() {
                        life.initial = old.clone();
                    }
                    if let Some(new) = new {
                        life.changes.push((e.seconds, old, new));
                    }
                }
                "assignee" => life.assignee = new.filter(|a| a != "~"),
                _ => {}
            }
        }
    }
    map
}

/// Hours of an `estimated_hours` value (a number, or a number as text).
fn hours(v: &serde_json::Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// The IDs in a `blocked_by` value: a list of IDs, or one ID.
fn ids(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(a) => a.iter().flat_map(ids).collect(),
        serde_json::Value::String(s) if !s.trim().is_empty() => vec![s.trim().to_string()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_follow_status_changes() {
        let l = Life {
            created: 0,
            initial: Some("pending".into()),
            changes: vec![(10, None, "blocked".into()), (20, None, "in_progress".into()), (30, None, "blocked".into())],
            ..Life::default()
        };
        assert_eq!(l.spans(40, |s| s == "blocked"), vec![(10, 20), (30, 40)]);
        assert_eq!(l.status_at(25), Some("in_progress"));
        assert_eq!(l.status_at(-1), None);
        assert_eq!(intersect(&vec![(0, 10), (20, 30)], &vec![(5, 25)]), vec![(5, 10), (20, 25)]);
        assert_eq!(measure(&merge(vec![(0, 10), (5, 15)])), 15);
    }

    #[test]
    fn estimates_and_blockers_are_replayed() {
        let l = Life {
            created: 0,
            estimates: vec![(10, Some(8.0), Some(12.0)), (20, Some(12.0), None)],
            blockers: vec![(5, vec!["A".into()], vec![]), (15, vec!["B".into()], vec!["A".into()])],
            ..Life::default()
        };
        assert_eq!(l.estimate_at(9, Some(Some(3.0))), Some(8.0));
        assert_eq!(l.estimate_at(10, Some(Some(3.0))), Some(12.0));
        assert_eq!(l.estimate_at(25, Some(Some(3.0))), Some(3.0));
        assert_eq!(l.estimate_at(25, None), None);
        let now = vec!["B".to_string(), "C".to_string()];
        let spans = l.blocker_spans(Some(&now), 30);
        assert_eq!(spans["A"], vec![(5, 15)]);
        assert_eq!(spans["B"], vec![(15, 30)]);
        // C was there from the start (added before any recorded change).
        assert_eq!(spans["C"], vec![(0, 30)]);
        let gone = l.blocker_spans(None, 30);
        assert_eq!(gone.keys().collect::<Vec<_>>(), vec!["A", "B"]);
    }
}
