//! The Gantt chart's data: which todos were in progress in the window, from
//! when to when, grouped by plan, and the milestones due in it. Rendered by
//! [`super::render::mermaid_gantt`].

use super::life::{self, Secs};
use super::metrics::{CLOSED, TodoView, date_secs};
use super::{Options, render};
use crate::memory::Event;
use crate::model::Todo;
use crate::model::loaded::Loaded;
use std::collections::HashMap;

/// The Gantt chart's bars: todos that were in progress in the window, from
/// when they started to when they were closed (or now), grouped by plan;
/// and the milestones due in the window.
pub fn gantt(events: &[Event], data: &Loaded, o: &Options) -> (Vec<render::GanttTask>, Vec<(String, String, Secs)>) {
    let lives = life::lives(events, "todo");
    let current: HashMap<&str, &Todo> = data.todos().map(|t| (t.id.as_str(), t)).collect();
    let mut tasks = Vec::new();
    for l in lives.values() {
        let todo = current.get(l.id.as_str()).copied();
        let v = TodoView { life: l.clone(), todo };
        if o.plan.as_ref().is_some_and(|p| v.plan() != Some(p.as_str()))
            || o.repo.as_ref().is_some_and(|r| todo.map_or(!l.repos.contains(r), |t| &t.repo != r))
            || o.assignee
                .as_ref()
                .is_some_and(|a| todo.and_then(|t| t.assignee.as_ref()).or(l.assignee.as_ref()) != Some(a))
        {
            continue;
        }
        let Some(start) = l.first_entered("in_progress") else { continue };
        let status = l.status_at(o.now).unwrap_or("");
        let end = if CLOSED.contains(&status) { l.last_entered(status, o.now).unwrap_or(o.now) } else { o.now };
        if end < o.since || start > o.now {
            continue;
        }
        let state = match status {
            "completed" | "cancelled" => "done",
            "blocked" => "crit",
            _ => "active",
        };
        tasks.push(render::GanttTask {
            section: v.plan().unwrap_or("no plan").to_string(),
            id: l.id.clone(),
            title: l.title.clone(),
            start,
            end,
            state,
        });
    }
    tasks.sort_by(|a, b| a.section.cmp(&b.section).then(a.start.cmp(&b.start)).then(a.id.cmp(&b.id)));
    let mut milestones = Vec::new();
    for p in data.plans() {
        if o.plan.as_ref().is_some_and(|id| id != &p.id) {
            continue;
        }
        for m in &p.milestones {
            if let Some(due) = m.due.as_ref().and_then(date_secs).filter(|d| *d >= o.since) {
                milestones.push((p.id.clone(), format!("{} {}", m.id, m.name), due));
            }
        }
    }
    (tasks, milestones)
}
