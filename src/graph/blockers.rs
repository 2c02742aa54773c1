//! The one rule of what blocks what ("active blockers"), used by `ready`,
//! `blocking`, `blocked-by`, `status`, `roadmap`, `dep-graph`, `show-*`, the
//! start/complete warnings, the push review and the executor — so they can
//! never disagree.
//!
//! An entity is blocked while it has an *active blocker*:
//!
//! - a direct blocker (an incoming `Blocks` edge: `blocked_by`, issue
//!   `dependencies`, milestone `dependencies`, plan `depends_on`, or the
//!   other side's `blocking`) that is unfinished; or
//! - for a todo, an unfinished milestone or plan that blocks its milestone
//!   or its plan (the plan named by `plan_id`, or the plan holding its
//!   milestone): work in a milestone that depends on an open milestone, or
//!   in a plan that `depends_on` an open plan, waits for it.
//!
//! Only milestone and plan blockers are inherited: an issue blocking a plan
//! blocks the plan, not every todo filed under it.

use super::{CoordGraph, EdgeKind, NodeKind};
use crate::store::Loaded;
use crate::store::natural_key;
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;

impl CoordGraph<'_> {
    /// The milestones and plans a todo belongs to (its milestone, its plan,
    /// the plan holding its milestone); nothing for other kinds.
    pub fn containers(&self, n: NodeIndex) -> Vec<NodeIndex> {
        if self.g[n].kind != NodeKind::Todo {
            return Vec::new();
        }
        let mut out: Vec<NodeIndex> = Vec::new();
        for c in self.part_of(n) {
            match self.g[c].kind {
                NodeKind::Milestone => {
                    out.push(c);
                    out.extend(self.part_of(c).filter(|p| self.g[*p].kind == NodeKind::Plan));
                }
                NodeKind::Plan => out.push(c),
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }

    fn part_of(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.g.edges_directed(n, Direction::Outgoing).filter(|e| *e.weight() == EdgeKind::PartOf).map(|e| e.target())
    }

    /// The open-or-not todos inside a milestone or plan (a plan's include
    /// those of its milestones): the inverse of [`CoordGraph::containers`].
    pub fn members(&self, c: NodeIndex) -> Vec<NodeIndex> {
        let parts = |x: NodeIndex| {
            self.g
                .edges_directed(x, Direction::Incoming)
                .filter(|e| *e.weight() == EdgeKind::PartOf)
                .map(|e| e.source())
                .collect::<Vec<_>>()
        };
        let mut out = Vec::new();
        match self.g[c].kind {
            NodeKind::Milestone => out.extend(parts(c).into_iter().filter(|x| self.g[*x].kind == NodeKind::Todo)),
            NodeKind::Plan => {
                for x in parts(c) {
                    match self.g[x].kind {
                        NodeKind::Todo => out.push(x),
                        NodeKind::Milestone => {
                            out.extend(parts(x).into_iter().filter(|t| self.g[*t].kind == NodeKind::Todo))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        out.sort();
        out.dedup();
        out
    }

    fn direct_blockers(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        self.g
            .edges_directed(n, Direction::Incoming)
            .filter(|e| *e.weight() == EdgeKind::Blocks)
            .map(|e| e.source())
            .filter(|s| !self.g[*s].finished)
    }

    /// Every active blocker of `n` (see the module doc), unsorted, with
    /// repeats.
    fn blockers_iter(&self, n: NodeIndex) -> impl Iterator<Item = NodeIndex> + '_ {
        let inherited = self.containers(n).into_iter().flat_map(move |c| {
            self.container_blockers.get(&c).into_iter().flatten().copied().filter(|b| !self.g[*b].finished)
        });
        self.direct_blockers(n).chain(inherited)
    }

    /// The active blockers of `n`, in ID order.
    pub fn active_blockers(&self, n: NodeIndex) -> Vec<NodeIndex> {
        let mut v: Vec<NodeIndex> = self.blockers_iter(n).filter(|b| *b != n).collect();
        v.sort_by_cached_key(|x| natural_key(self.g[*x].id));
        v.dedup();
        v
    }

    /// True when `n` has at least one active blocker.
    pub fn is_blocked(&self, n: NodeIndex) -> bool {
        self.blockers_iter(n).any(|b| b != n)
    }

    /// What `n` blocks while it is unfinished: its direct targets and, for a
    /// milestone or plan, the todos of the milestones and plans it blocks
    /// (the inverse of [`CoordGraph::active_blockers`]).
    pub fn blocked(&self, n: NodeIndex) -> Vec<NodeIndex> {
        if self.g[n].finished {
            return Vec::new();
        }
        let inherits = matches!(self.g[n].kind, NodeKind::Milestone | NodeKind::Plan);
        let mut v = Vec::new();
        for e in self.g.edges_directed(n, Direction::Outgoing).filter(|e| *e.weight() == EdgeKind::Blocks) {
            v.push(e.target());
            if inherits {
                v.extend(self.members(e.target()));
            }
        }
        v.retain(|x| *x != n);
        v.sort_by_cached_key(|x| natural_key(self.g[*x].id));
        v.dedup();
        v
    }
}

/// The active blockers of entity `id` in `loaded`, as IDs in ID order (empty
/// for an unknown ID). `loaded` needs issues, plans and todos.
pub fn blockers_of(loaded: &Loaded, id: &str) -> Vec<String> {
    let cg = CoordGraph::build(loaded);
    match cg.node(id) {
        Some(n) => cg.active_blockers(n).into_iter().map(|b| cg.g[b].id.to_string()).collect(),
        None => Vec::new(),
    }
}
