//! Entity lives rebuilt from the event log: when each todo or dependency
//! appeared, which status it had from when, when it disappeared. Trends are
//! questions about these timelines ("which todos were in progress at the end
//! of week 10?"), so they are built once per request from the events,
//! oldest first, following renumbers so a todo keeps its past under its new
//! ID.

use crate::memory::Event;
use std::collections::HashMap;

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
                life.initial = None;
            }
        } else if e.event_type.ends_with(".deleted") {
            life.deleted = Some(e.seconds);
        }
        for f in &e.fields {
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
}
