//! `roadmap`: active plans with milestone progress, the critical path through
//! each plan's open todos (longest chain of remaining estimated hours along
//! blocking edges) and projected finish dates.
//!
//! Projection: remaining hours of a todo are `estimated_hours` minus
//! `actual_hours` (never below zero; todos without an estimate count 0 hours
//! and are reported as unestimated). A chain's finish is today plus
//! ceil(hours / hours_per_day) calendar days. Open todos outside the plan that
//! block the plan's todos are part of the chain, since their work delays it.

use super::{CoordGraph, EdgeKind};
use crate::model::*;
use chrono::NaiveDate;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// One milestone of a plan in the roadmap.
#[derive(Debug, Clone, Serialize)]
pub struct MilestoneView {
    pub id: String,
    pub name: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    pub todos_total: usize,
    pub todos_done: usize,
    /// Hours of the longest remaining chain ending in this milestone's todos.
    pub remaining_hours: f64,
    /// When its open work is projected to finish (none when nothing is open).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected: Option<String>,
    /// Projected after its due date, or overdue and not completed.
    pub late: bool,
}

/// One plan in the roadmap.
#[derive(Debug, Clone, Serialize)]
pub struct PlanRoadmap {
    pub id: String,
    pub title: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub milestones_completed: usize,
    pub milestones_total: usize,
    pub todos_done: usize,
    pub todos_total: usize,
    /// 0–100: completed milestones, or completed todos when it has no milestones.
    pub percent: u8,
    pub milestones: Vec<MilestoneView>,
    /// Todo IDs along the critical path, first to last.
    pub critical_path: Vec<String>,
    pub critical_path_hours: f64,
    /// Open todos without an estimate (counted as 0 hours).
    pub unestimated: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected_finish: Option<String>,
    /// Projected after its target date, or past target and not completed.
    pub late: bool,
    /// Set when the plan's todos form a blocking cycle (no projection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The roadmap report.
#[derive(Debug, Clone, Serialize)]
pub struct Roadmap {
    pub today: String,
    pub hours_per_day: f64,
    pub plans: Vec<PlanRoadmap>,
}

fn remaining(t: &Todo) -> f64 {
    match t.estimated_hours {
        Some(e) => (e - t.actual_hours.unwrap_or(0.0)).max(0.0),
        None => 0.0,
    }
}

fn project(today: NaiveDate, hours: f64, hours_per_day: f64) -> NaiveDate {
    let days = (hours / hours_per_day).ceil() as i64;
    today + chrono::Duration::days(days)
}

/// Builds the roadmap of active plans, or of one plan (any status).
pub fn roadmap(cg: &CoordGraph<'_>, today: NaiveDate, hours_per_day: f64, plan: Option<&str>) -> Roadmap {
    let plans: Vec<&Plan> = match plan {
        Some(id) => cg.loaded.plans().filter(|p| p.id == id).collect(),
        None => cg.loaded.plans().filter(|p| p.status.is(PlanStatus::Active)).collect(),
    };
    let todos: HashMap<&str, &Todo> = cg.loaded.todos().map(|t| (t.id.as_str(), t)).collect();
    Roadmap {
        today: today.to_string(),
        hours_per_day,
        plans: plans.into_iter().map(|p| plan_roadmap(cg, &todos, p, today, hours_per_day)).collect(),
    }
}

fn plan_roadmap(
    cg: &CoordGraph<'_>,
    todos: &HashMap<&str, &Todo>,
    p: &Plan,
    today: NaiveDate,
    hpd: f64,
) -> PlanRoadmap {
    let ms_ids: HashSet<&str> = p.milestones.iter().map(|m| m.id.as_str()).collect();
    let members: Vec<&Todo> = cg
        .loaded
        .todos()
        .filter(|t| {
            t.plan_id.as_deref() == Some(p.id.as_str()) || t.milestone_id.as_deref().is_some_and(|m| ms_ids.contains(m))
        })
        .collect();
    let todos_done = members.iter().filter(|t| !t.is_open()).count();
    // The open todos of the plan and every open todo that transitively blocks them.
    let mut set: Vec<NodeIndex> = Vec::new();
    let mut seen = HashSet::new();
    let mut stack: Vec<NodeIndex> = members.iter().filter(|t| t.is_open()).filter_map(|t| cg.node(&t.id)).collect();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        set.push(n);
        for b in cg.active_blockers(n) {
            if cg.g[b].kind == super::NodeKind::Todo {
                stack.push(b);
            }
        }
    }
    // Longest path over the sub-DAG, weighted by remaining hours.
    let mut sub: DiGraph<NodeIndex, ()> = DiGraph::new();
    let local: HashMap<NodeIndex, NodeIndex> = set.iter().map(|&n| (n, sub.add_node(n))).collect();
    for &n in &set {
        for e in cg.g.edges_directed(n, Direction::Outgoing) {
            if *e.weight() == EdgeKind::Blocks
                && let Some(&t) = local.get(&e.target())
            {
                sub.update_edge(local[&n], t, ());
            }
        }
    }
    let hours = |l: NodeIndex| todos.get(cg.g[sub[l]].id.as_str()).map_or(0.0, |t| remaining(t));
    let mut dist: HashMap<NodeIndex, (f64, Option<NodeIndex>)> = HashMap::new();
    let mut note = None;
    match petgraph::algo::toposort(&sub, None) {
        Ok(order) => {
            for l in order {
                let best = sub
                    .neighbors_directed(l, Direction::Incoming)
                    .map(|u| (dist[&u].0, Some(u)))
                    .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(&a.1)))
                    .unwrap_or((0.0, None));
                dist.insert(l, (best.0 + hours(l), best.1));
            }
        }
        Err(c) => note = Some(format!("blocking cycle through {}; no projection", cg.g[sub[c.node_id()]].id)),
    }
    let finish_of = |ids: &mut dyn Iterator<Item = &str>| -> Option<f64> {
        ids.filter_map(|id| cg.node(id))
            .filter_map(|n| local.get(&n))
            .filter_map(|l| dist.get(l))
            .map(|d| d.0)
            .max_by(f64::total_cmp)
    };
    let (critical_path, critical_path_hours) =
        match dist.iter().max_by(|a, b| a.1.0.total_cmp(&b.1.0).then_with(|| b.0.cmp(a.0))) {
            Some((&end, &(h, _))) => {
                let mut path = vec![cg.g[sub[end]].id.clone()];
                let mut cur = end;
                while let Some(prev) = dist[&cur].1 {
                    path.push(cg.g[sub[prev]].id.clone());
                    cur = prev;
                }
                path.reverse();
                (path, h)
            }
            None => (Vec::new(), 0.0),
        };
    let open_members: Vec<&Todo> = members.iter().copied().filter(|t| t.is_open()).collect();
    let plan_finish = if note.is_some() { None } else { finish_of(&mut open_members.iter().map(|t| t.id.as_str())) };
    let projected_finish = plan_finish.map(|h| project(today, h, hpd));
    let plan_done = matches!(p.status.known(), Some(PlanStatus::Completed | PlanStatus::Cancelled));
    let target = p.target_date().map(|d| d.date());
    let late = !plan_done
        && target.is_some_and(|t| projected_finish.is_some_and(|f| f > t) || (t < today && !open_members.is_empty()));
    let milestones: Vec<MilestoneView> = p
        .milestones
        .iter()
        .map(|m| {
            let mine: Vec<&&Todo> =
                members.iter().filter(|t| t.milestone_id.as_deref() == Some(m.id.as_str())).collect();
            let open: Vec<&str> = mine.iter().filter(|t| t.is_open()).map(|t| t.id.as_str()).collect();
            let finish = if note.is_some() { None } else { finish_of(&mut open.iter().copied()) };
            let projected = finish.map(|h| project(today, h, hpd));
            let done = m.status.known().is_some_and(MilestoneStatus::is_finished);
            let due = m.due_date().map(|d| d.date());
            let late = !done && due.is_some_and(|d| projected.is_some_and(|f| f > d) || d < today);
            MilestoneView {
                id: m.id.clone(),
                name: m.name.clone(),
                status: m.status.as_str().to_string(),
                due: due.map(|d| d.to_string()),
                todos_total: mine.len(),
                todos_done: mine.len() - open.len(),
                remaining_hours: finish.unwrap_or(0.0),
                projected: projected.map(|d| d.to_string()),
                late,
            }
        })
        .collect();
    let milestones_completed = p.milestones.iter().filter(|m| m.status.is(MilestoneStatus::Completed)).count();
    let percent = if !p.milestones.is_empty() {
        (milestones_completed * 100 / p.milestones.len()) as u8
    } else if !members.is_empty() {
        (todos_done * 100 / members.len()) as u8
    } else {
        0
    };
    let mut unestimated: Vec<String> =
        open_members.iter().filter(|t| t.estimated_hours.is_none()).map(|t| t.id.clone()).collect();
    unestimated.sort_by_cached_key(|s| crate::store::natural_key(s));
    PlanRoadmap {
        id: p.id.clone(),
        title: p.title.clone(),
        status: p.status.as_str().to_string(),
        target: target.map(|d| d.to_string()),
        milestones_completed,
        milestones_total: p.milestones.len(),
        todos_done,
        todos_total: members.len(),
        percent,
        milestones,
        critical_path,
        critical_path_hours,
        unestimated,
        projected_finish: projected_finish.map(|d| d.to_string()),
        late,
        note,
    }
}
