//! The computed relations `show-*` adds beside the stored fields: what blocks
//! an entity (open and finished, inherited milestone/plan blockers included,
//! by the one rule of [`super::blockers`]), what it blocks, whether it is
//! ready or blocked, the todos linked to it and their progress, the plan and
//! milestone it belongs to. The last change from history is added by the
//! caller (it needs the git repository, not the graph).

use super::{CoordGraph, EdgeKind, NodeKind};
use crate::model::*;
use crate::store::natural_key;
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use serde::Serialize;

/// Another entity, as a relation shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Related {
    pub id: String,
    pub kind: NodeKind,
    pub title: String,
    pub status: String,
    /// Unfinished (an open blocker blocks; a finished one no longer does).
    pub open: bool,
    /// Set when the relation is inherited through this milestone or plan
    /// (a todo waits for what blocks its milestone or plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// Done and total of the linked todos.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// The last commit that changed the entity.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LastChange {
    pub commit: String,
    pub author: String,
    pub date: String,
    pub summary: String,
}

/// The computed relations of one entity.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Relations {
    /// `finished`, `blocked` (an active blocker), `in_progress`, `ready`
    /// (a pending todo without one) or `open`.
    pub state: String,
    /// Its blockers, open and finished.
    pub blocked_by: Vec<Related>,
    /// What it blocks (for a milestone or plan, also the todos of what it
    /// blocks).
    pub blocks: Vec<Related>,
    /// Todos linked to it (an issue's todos; a plan's or milestone's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub todos: Vec<Related>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    /// The plan it belongs to (a todo's or milestone's plan; an issue's plans).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plans: Vec<String>,
    /// A todo's milestone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub milestone: Option<String>,
    /// A todo's issue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_change: Option<LastChange>,
}

impl CoordGraph<'_> {
    fn related(&self, n: NodeIndex, via: Option<NodeIndex>) -> Related {
        let node = &self.g[n];
        let (title, status) = match self.loaded.find_any(node.id).map(|r| &r.entity) {
            Some(Entity::Issue(i)) => (i.title.clone(), i.status.as_str().to_string()),
            Some(Entity::Todo(t)) => (t.task.clone(), t.status.as_str().to_string()),
            Some(Entity::Plan(p)) => (p.title.clone(), p.status.as_str().to_string()),
            Some(e @ Entity::Dependency(d)) => (e.title(), d.status.as_str().to_string()),
            None => match self.loaded.milestone(node.id) {
                Some((_, m)) => (m.name.clone(), m.status.as_str().to_string()),
                None => (String::new(), String::new()),
            },
        };
        Related {
            id: node.id.to_string(),
            kind: node.kind,
            title,
            status,
            open: !node.finished,
            via: via.map(|v| self.g[v].id.to_string()),
        }
    }

    fn sorted(mut v: Vec<Related>) -> Vec<Related> {
        v.sort_by_cached_key(|r| (natural_key(&r.id), r.via.clone()));
        v.dedup_by(|a, b| a.id == b.id);
        v
    }

    /// The computed relations of entity (or milestone) `id`; None when the
    /// graph does not know it.
    pub fn relations(&self, id: &str) -> Option<Relations> {
        let n = self.node(id)?;
        let blocks_in = |x: NodeIndex| {
            self.g
                .edges_directed(x, Direction::Incoming)
                .filter(|e| *e.weight() == EdgeKind::Blocks)
                .map(|e| e.source())
                .collect::<Vec<_>>()
        };
        // Every blocker, finished ones too: the same sources as
        // `active_blockers`, without the "unfinished" filter.
        let mut blocked_by: Vec<Related> = blocks_in(n).into_iter().map(|b| self.related(b, None)).collect();
        for c in self.containers(n) {
            for b in blocks_in(c) {
                if matches!(self.g[b].kind, NodeKind::Milestone | NodeKind::Plan) && b != n {
                    blocked_by.push(self.related(b, Some(c)));
                }
            }
        }
        let mut blocks: Vec<Related> = Vec::new();
        for e in self.g.edges_directed(n, Direction::Outgoing).filter(|e| *e.weight() == EdgeKind::Blocks) {
            blocks.push(self.related(e.target(), None));
            if matches!(self.g[n].kind, NodeKind::Milestone | NodeKind::Plan) {
                blocks.extend(self.members(e.target()).into_iter().map(|m| self.related(m, Some(e.target()))));
            }
        }
        let node = &self.g[n];
        let loaded = self.loaded;
        let mut todos: Vec<Related> = match node.kind {
            NodeKind::Milestone | NodeKind::Plan => {
                self.members(n).into_iter().map(|m| self.related(m, None)).collect()
            }
            NodeKind::Issue => loaded
                .todos()
                .filter(|t| t.issue_id.as_deref() == Some(id))
                .filter_map(|t| self.node(&t.id))
                .map(|m| self.related(m, None))
                .collect(),
            _ => Vec::new(),
        };
        todos = Self::sorted(todos);
        let progress = (!todos.is_empty())
            .then(|| Progress { done: todos.iter().filter(|t| !t.open).count(), total: todos.len() });
        let (mut plans, mut milestone, mut issue) = (Vec::new(), None, None);
        match loaded.find_any(id).map(|r| &r.entity) {
            Some(Entity::Todo(t)) => {
                milestone = t.milestone_id.clone();
                issue = t.issue_id.clone();
                plans = self
                    .containers(n)
                    .into_iter()
                    .filter(|c| self.g[*c].kind == NodeKind::Plan)
                    .map(|c| self.g[c].id.to_string())
                    .collect();
            }
            Some(Entity::Issue(_)) => {
                plans = loaded.plans().filter(|p| p.issue_ids.iter().any(|i| i == id)).map(|p| p.id.clone()).collect()
            }
            Some(_) => {}
            None => plans = loaded.milestone(id).map(|(p, _)| vec![p.id.clone()]).unwrap_or_default(),
        }
        let stored_in_progress = matches!(
            loaded.find_any(id).map(|r| &r.entity),
            Some(Entity::Todo(t)) if t.status.is(TodoStatus::InProgress)
        );
        let pending_todo = matches!(
            loaded.find_any(id).map(|r| &r.entity),
            Some(Entity::Todo(t)) if t.status.is(TodoStatus::Pending)
        );
        let state = if node.kind == NodeKind::Dependency {
            // A dependency is satisfied or not; it is never "ready".
            match loaded.find_any(id).map(|r| &r.entity) {
                Some(Entity::Dependency(d)) => d.status.as_str(),
                _ => "open",
            }
        } else if node.finished {
            "finished"
        } else if self.is_blocked(n) {
            "blocked"
        } else if stored_in_progress {
            "in_progress"
        } else if pending_todo {
            "ready"
        } else {
            "open"
        };
        Some(Relations {
            state: state.to_string(),
            blocked_by: Self::sorted(blocked_by),
            blocks: Self::sorted(blocks),
            todos,
            progress,
            plans,
            milestone,
            issue,
            last_change: None,
        })
    }
}
