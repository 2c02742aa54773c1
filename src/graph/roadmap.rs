//! `roadmap`: active plans with milestone progress, the critical path through
//! each plan's open todos (longest chain of remaining estimated hours along
//! blocking edges) and projected finish dates.
//!
//! Projection: remaining hours of a todo are `estimated_hours` minus
//! `actual_hours` (never below zero; todos without an estimate count 0 hours
//! and are reported as unestimated). A chain's finish is today plus
//! ceil(hours / hours_per_day) calendar days. Open todos outside the plan that
//! block the plan's todos are part of the chain, since their work delays it,
//! and so is the open work of milestones and plans that block a todo's
//! milestone or plan (one rule: [`super::blockers`]). The critical path
//! lists todos only.

use super::{CoordGraph, EdgeKind, NodeKind};
use crate::model::*;
use chrono::NaiveDate;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// One milestone of a plan in the roadmap.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PlanRoadmap {
    pub id: String,
    pub title: String,
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub milestones_completed: usize,
    /// Milestones counted for progress: cancelled ones are left out.
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
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
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

/// Longest remaining chain ending at each open todo, computed once over the
/// whole todo blocking graph: `dist[t] = remaining(t) + max(dist[blockers])`.
/// Todos on (or downstream of) a blocking cycle get no value.
struct Chains {
    /// Per graph node: (hours, predecessor on the longest chain).
    dist: HashMap<NodeIndex, (f64, Option<NodeIndex>)>,
    /// Open todos on or downstream of a cycle.
    cyclic: HashSet<NodeIndex>,
}

fn chains(cg: &CoordGraph<'_>, todos: &HashMap<&str, &Todo>) -> Chains {
    // Open todos, and unfinished milestones and plans: a milestone or plan
    // finishes after its open todos, and the todos of what it blocks start
    // after it (the inherited blockers of `graph::blockers`), so a
    // milestone is projected after the milestones it depends on.
    let mut sub: DiGraph<NodeIndex, ()> = DiGraph::new();
    let mut local: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    for n in cg.g.node_indices() {
        let node = &cg.g[n];
        if !node.finished && matches!(node.kind, NodeKind::Todo | NodeKind::Milestone | NodeKind::Plan) {
            local.insert(n, sub.add_node(n));
        }
    }
    // One edge per pair (what `update_edge` keeps, without its scan of the
    // source's edges: a plan can block thousands of todos).
    let mut pairs = rustc_hash::FxHashSet::default();
    for (&n, &l) in &local {
        if cg.g[n].kind == NodeKind::Todo {
            for e in cg.g.edges_directed(n, Direction::Outgoing) {
                if *e.weight() == EdgeKind::Blocks
                    && let Some(&t) = local.get(&e.target())
                    && cg.g[e.target()].kind == NodeKind::Todo
                    && pairs.insert((l, t))
                {
                    sub.add_edge(l, t, ());
                }
            }
            for b in cg.active_blockers(n) {
                if matches!(cg.g[b].kind, NodeKind::Milestone | NodeKind::Plan)
                    && let Some(&lb) = local.get(&b)
                    && pairs.insert((lb, l))
                {
                    sub.add_edge(lb, l, ());
                }
            }
            for c in cg.containers(n) {
                if let Some(&lc) = local.get(&c)
                    && pairs.insert((l, lc))
                {
                    sub.add_edge(l, lc, ());
                }
            }
        }
    }
    let mut dist: HashMap<NodeIndex, (f64, Option<NodeIndex>)> = HashMap::new();
    let mut cyclic = HashSet::new();
    // kosaraju_scc yields components in reverse topological order, and is
    // iterative (`tarjan_scc` recurses and overflows on long chains).
    for scc in petgraph::algo::kosaraju_scc(&sub).into_iter().rev() {
        let l = scc[0];
        let on_cycle = scc.len() > 1 || sub.contains_edge(l, l);
        if on_cycle {
            cyclic.extend(scc.iter().map(|x| sub[*x]));
            continue;
        }
        let n = sub[l];
        let mut best: (f64, Option<NodeIndex>) = (0.0, None);
        let mut tainted = false;
        for u in sub.neighbors_directed(l, Direction::Incoming) {
            let un = sub[u];
            if cyclic.contains(&un) {
                tainted = true;
                continue;
            }
            let d = dist[&un].0;
            let better = match best.1 {
                None => true,
                Some(b) => {
                    d > best.0
                        || (d == best.0
                            && crate::model::id::natural_key(cg.g[un].id) < crate::model::id::natural_key(cg.g[b].id))
                }
            };
            if better {
                best = (d, Some(un));
            }
        }
        if tainted {
            cyclic.insert(n);
            continue;
        }
        let own = todos.get(cg.g[n].id).map_or(0.0, |t| remaining(t));
        dist.insert(n, (best.0 + own, best.1));
    }
    Chains { dist, cyclic }
}

/// Builds the roadmap of active plans, or of one plan (any status).
pub fn roadmap(cg: &CoordGraph<'_>, today: NaiveDate, hours_per_day: f64, only: &[String]) -> Roadmap {
    let plans: Vec<&Plan> = match only {
        [] => cg.loaded.plans().filter(|p| p.status.is(PlanStatus::Active)).collect(),
        ids => cg.loaded.plans().filter(|p| ids.contains(&p.id)).collect(),
    };
    let todos: HashMap<&str, &Todo> = cg.loaded.todos().map(|t| (t.id.as_str(), t)).collect();
    // Todos of each plan: linked to the plan or to one of its milestones.
    let milestone_plan: HashMap<&str, &str> =
        cg.loaded.plans().flat_map(|p| p.milestones.iter().map(move |m| (m.id.as_str(), p.id.as_str()))).collect();
    let mut by_plan: HashMap<&str, Vec<&Todo>> = HashMap::new();
    for t in cg.loaded.todos() {
        let via_plan = t.plan_id.as_deref();
        let via_milestone = t.milestone_id.as_deref().and_then(|m| milestone_plan.get(m).copied());
        for pid in [via_plan, via_milestone.filter(|m| Some(*m) != via_plan)].into_iter().flatten() {
            by_plan.entry(pid).or_default().push(t);
        }
    }
    let ch = chains(cg, &todos);
    let empty = Vec::new();
    Roadmap {
        today: today.to_string(),
        hours_per_day,
        plans: plans
            .into_iter()
            .map(|p| plan_roadmap(cg, &ch, by_plan.get(p.id.as_str()).unwrap_or(&empty), p, today, hours_per_day))
            .collect(),
    }
}

fn plan_roadmap(
    cg: &CoordGraph<'_>,
    ch: &Chains,
    members: &[&Todo],
    p: &Plan,
    today: NaiveDate,
    hpd: f64,
) -> PlanRoadmap {
    let todos_done = members.iter().filter(|t| !t.is_open()).count();
    let open_members: Vec<&Todo> = members.iter().copied().filter(|t| t.is_open()).collect();
    let nodes = |ts: &mut dyn Iterator<Item = &Todo>| -> Vec<NodeIndex> { ts.filter_map(|t| cg.node(&t.id)).collect() };
    let open_nodes = nodes(&mut open_members.iter().copied());
    let note = open_nodes
        .iter()
        .find(|n| ch.cyclic.contains(n))
        .map(|n| format!("blocking cycle through {}; no projection", cg.g[*n].id));
    // The end of the longest chain among `ns`, and its hours.
    let longest = |ns: &[NodeIndex]| -> Option<(NodeIndex, f64)> {
        ns.iter().filter_map(|n| ch.dist.get(n).map(|d| (*n, d.0))).max_by(|a, b| {
            a.1.total_cmp(&b.1).then_with(|| {
                crate::model::id::natural_key(cg.g[b.0].id).cmp(&crate::model::id::natural_key(cg.g[a.0].id))
            })
        })
    };
    let (critical_path, critical_path_hours, plan_finish) =
        match (note.is_none()).then(|| longest(&open_nodes)).flatten() {
            Some((end, h)) => {
                let mut path = vec![cg.g[end].id.to_string()];
                let mut cur = end;
                while let Some(prev) = ch.dist[&cur].1 {
                    if cg.g[prev].kind == NodeKind::Todo {
                        path.push(cg.g[prev].id.to_string());
                    }
                    cur = prev;
                }
                path.reverse();
                (path, h, Some(h))
            }
            None => (Vec::new(), 0.0, None),
        };
    let projected_finish = plan_finish.map(|h| project(today, h, hpd));
    let plan_done = p.status.known().is_some_and(PlanStatus::is_finished);
    let target = p.target_date().map(|d| d.date());
    let late = !plan_done
        && target.is_some_and(|t| projected_finish.is_some_and(|f| f > t) || (t < today && !open_members.is_empty()));
    let milestones: Vec<MilestoneView> = p
        .milestones
        .iter()
        .map(|m| {
            let mine: Vec<&Todo> =
                members.iter().copied().filter(|t| t.milestone_id.as_deref() == Some(m.id.as_str())).collect();
            let open: Vec<NodeIndex> = nodes(&mut mine.iter().copied().filter(|t| t.is_open()));
            let finish = if note.is_some() { None } else { longest(&open).map(|x| x.1) };
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
                todos_done: mine.iter().filter(|t| !t.is_open()).count(),
                remaining_hours: finish.unwrap_or(0.0),
                projected: projected.map(|d| d.to_string()),
                late,
            }
        })
        .collect();
    let (milestones_completed, milestones_total) = p.milestone_progress();
    // By milestones when it has some left to count, else by todos.
    let percent = (milestones_completed * 100)
        .checked_div(milestones_total)
        .or_else(|| (todos_done * 100).checked_div(members.len()))
        .unwrap_or(0) as u8;
    let mut unestimated: Vec<String> =
        open_members.iter().filter(|t| t.estimated_hours.is_none()).map(|t| t.id.clone()).collect();
    unestimated.sort_by_cached_key(|s| crate::model::id::natural_key(s));
    PlanRoadmap {
        id: p.id.clone(),
        title: p.title.clone(),
        status: p.status.as_str().to_string(),
        target: target.map(|d| d.to_string()),
        milestones_completed,
        milestones_total,
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
