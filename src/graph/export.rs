//! `dep-graph`: the repository dependency graph (default) or the entity
//! blocking graph, as data (JSON) and as text, Graphviz DOT or Mermaid.
//! Unsatisfied dependencies and active blocking edges are marked; in the
//! entity graph, so are blocked nodes, and a todo inherits the blockers of
//! its milestone and plan (`blocks via …` edges; [`super::blockers`]).

use super::{CoordGraph, EdgeKind, NodeKind};
use crate::model::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write;

/// Which graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DepGraphKind {
    /// Repositories, with an edge consumer → provider per dependency.
    #[default]
    Repos,
    /// Issues, plans, milestones and todos, with an edge blocker → blocked.
    Entities,
}

/// What to include.
#[derive(Debug, Clone, Default)]
pub struct DepGraphQuery {
    pub kind: DepGraphKind,
    /// Only what touches one of these repositories (canonical names;
    /// empty: all).
    pub repo: Vec<String>,
    /// Only what belongs to one of these plans (empty: all).
    pub plan: Vec<String>,
}

/// A node of the exported graph.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, schemars::JsonSchema)]
pub struct GraphNode {
    pub id: String,
    pub kind: NodeKind,
    pub label: String,
    /// An entity's status (entity graphs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Entity graphs: it has an active blocker (the rule of
    /// [`super::blockers`], inherited milestone and plan blockers included).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub blocked: bool,
    /// A repository's role in the registry (repo graphs): a role is not a
    /// status, so it has its own field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// An edge of the exported graph.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct GraphEdge {
    pub from: String,
    pub to: String,
    /// For repo graphs, the dependency ID; for entity graphs, `blocks`.
    pub label: String,
    /// Unsatisfied dependency, or a blocking edge whose blocker is unfinished.
    pub active: bool,
    /// Dependency status (repo graphs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// The exported graph.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ExportedGraph {
    pub kind: DepGraphKind,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

/// Builds the exported graph for a query.
pub fn dep_graph(cg: &CoordGraph<'_>, q: &DepGraphQuery) -> ExportedGraph {
    match q.kind {
        DepGraphKind::Repos => repo_graph(cg, q),
        DepGraphKind::Entities => entity_graph(cg, q),
    }
}

fn repo_graph(cg: &CoordGraph<'_>, q: &DepGraphQuery) -> ExportedGraph {
    let reg = &cg.loaded.registry;
    let plan_repos: Option<HashSet<String>> = (!q.plan.is_empty()).then(|| {
        cg.loaded
            .plans()
            .filter(|p| q.plan.contains(&p.id))
            .flat_map(|p| p.repos.iter().map(|r| reg.canonical(r).to_string()))
            .chain(
                cg.loaded
                    .todos()
                    .filter(|t| t.plan_id.as_ref().is_some_and(|p| q.plan.contains(p)))
                    .map(|t| reg.canonical(&t.repo).to_string()),
            )
            .collect()
    });
    let mut edges = Vec::new();
    let mut names: BTreeSet<String> = BTreeSet::new();
    for d in cg.loaded.dependencies() {
        let (c, p) = (reg.canonical(&d.consumer).to_string(), reg.canonical(&d.provider).to_string());
        if !q.repo.is_empty() && !q.repo.iter().any(|r| *r == c || *r == p) {
            continue;
        }
        if plan_repos.as_ref().is_some_and(|s| !s.contains(&c) || !s.contains(&p)) {
            continue;
        }
        names.insert(c.clone());
        names.insert(p.clone());
        let mut label = d.id.clone();
        if let Some(v) = &d.version_constraint {
            let _ = write!(label, " {v}");
        }
        edges.push(GraphEdge {
            from: c,
            to: p,
            label,
            active: d.status.is(DepStatus::Unsatisfied),
            status: Some(d.status.as_str().to_string()),
        });
    }
    if q.repo.is_empty() && q.plan.is_empty() {
        names.extend(reg.repos.iter().map(|r| r.name.clone()));
    }
    names.extend(q.repo.iter().cloned());
    let nodes = names
        .into_iter()
        .map(|n| GraphNode {
            label: n.clone(),
            blocked: false,
            status: None,
            role: reg.find(&n).and_then(|r| r.role.clone()),
            id: n,
            kind: NodeKind::Repo,
        })
        .collect();
    ExportedGraph { kind: DepGraphKind::Repos, nodes, edges }
}

fn entity_graph(cg: &CoordGraph<'_>, q: &DepGraphQuery) -> ExportedGraph {
    let reg = &cg.loaded.registry;
    let loaded = cg.loaded;
    let keep = |id: &str| -> bool {
        if !q.plan.is_empty() {
            let wanted = |pid: &str| q.plan.iter().any(|x| x == pid);
            let in_plan = loaded.todos().any(|t| t.id == id && t.plan_id.as_deref().is_some_and(wanted))
                || loaded.plans().any(|p| {
                    wanted(&p.id)
                        && (p.id == id
                            || p.milestones.iter().any(|m| m.id == id)
                            || p.issue_ids.iter().any(|i| i == id))
                })
                || loaded.todos().any(|t| {
                    t.id == id
                        && t.milestone_id
                            .as_deref()
                            .is_some_and(|m| loaded.milestone(m).is_some_and(|(p, _)| wanted(&p.id)))
                });
            if !in_plan {
                return false;
            }
        }
        if !q.repo.is_empty() {
            let of_repo = q.repo.iter().any(|r| match loaded.find_any(id).map(|rec| &rec.entity) {
                Some(Entity::Issue(i)) => i.repos.iter().any(|x| reg.same(x, r)),
                Some(Entity::Todo(t)) => reg.same(&t.repo, r),
                Some(Entity::Plan(p)) => p.repos.iter().any(|x| reg.same(x, r)),
                _ => false,
            });
            if !of_repo {
                return false;
            }
        }
        true
    };
    let mut nodes: BTreeMap<(String, u64, String), GraphNode> = BTreeMap::new();
    let mut edges = Vec::new();
    let node_of = |n: petgraph::graph::NodeIndex| {
        let node = &cg.g[n];
        let (label, status) = match loaded.find_any(node.id).map(|r| &r.entity) {
            Some(Entity::Issue(i)) => (i.title.clone(), i.status.as_str().to_string()),
            Some(Entity::Todo(t)) => (t.task.clone(), t.status.as_str().to_string()),
            Some(Entity::Plan(p)) => (p.title.clone(), p.status.as_str().to_string()),
            _ => match loaded.milestone(node.id) {
                Some((_, m)) => (m.name.clone(), m.status.as_str().to_string()),
                None => (node.id.to_string(), String::new()),
            },
        };
        GraphNode {
            id: node.id.to_string(),
            kind: node.kind,
            label,
            status: Some(status),
            blocked: cg.is_blocked(n),
            role: None,
        }
    };
    for e in cg.g.edge_indices() {
        if cg.g[e] != EdgeKind::Blocks {
            continue;
        }
        let (a, b) = cg.g.edge_endpoints(e).expect("edge exists");
        let (ia, ib) = (&cg.g[a].id, &cg.g[b].id);
        // An edge is kept when either end matches the filter, so blockers
        // from elsewhere stay visible.
        if !(keep(ia) || keep(ib)) {
            continue;
        }
        for n in [a, b] {
            nodes.entry(crate::model::id::natural_key(cg.g[n].id)).or_insert_with(|| node_of(n));
        }
        edges.push(GraphEdge {
            from: ia.to_string(),
            to: ib.to_string(),
            label: "blocks".into(),
            active: !cg.g[a].finished,
            status: None,
        });
    }
    // A todo waits for the milestones and plans that block its milestone or
    // plan: drawn as `blocks via MILESTONE-…` edges.
    for t in cg.g.node_indices().filter(|t| cg.g[*t].kind == NodeKind::Todo) {
        for c in cg.containers(t) {
            for e in cg.g.edges_directed(c, petgraph::Direction::Incoming) {
                let b = petgraph::visit::EdgeRef::source(&e);
                if *e.weight() != EdgeKind::Blocks || !matches!(cg.g[b].kind, NodeKind::Milestone | NodeKind::Plan) {
                    continue;
                }
                let (ib, it) = (&cg.g[b].id, &cg.g[t].id);
                if !(keep(ib) || keep(it)) {
                    continue;
                }
                for n in [b, t] {
                    nodes.entry(crate::store::natural_key(cg.g[n].id)).or_insert_with(|| node_of(n));
                }
                edges.push(GraphEdge {
                    from: ib.to_string(),
                    to: it.to_string(),
                    label: format!("blocks via {}", cg.g[c].id),
                    active: !cg.g[b].finished,
                    status: None,
                });
            }
        }
    }
    if !q.plan.is_empty() || !q.repo.is_empty() {
        for n in cg.g.node_indices() {
            let node = &cg.g[n];
            if matches!(node.kind, NodeKind::Issue | NodeKind::Todo | NodeKind::Milestone | NodeKind::Plan)
                && keep(node.id)
            {
                nodes.entry(crate::model::id::natural_key(node.id)).or_insert_with(|| node_of(n));
            }
        }
    }
    edges.sort_by(|x, y| {
        crate::model::id::natural_key(&x.from)
            .cmp(&crate::model::id::natural_key(&y.from))
            .then_with(|| crate::model::id::natural_key(&x.to).cmp(&crate::model::id::natural_key(&y.to)))
    });
    ExportedGraph { kind: DepGraphKind::Entities, nodes: nodes.into_values().collect(), edges }
}

fn mermaid_id(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}

fn mermaid_text(s: &str) -> String {
    // A raw newline ends a Mermaid statement; quotes end the label.
    s.replace(['\n', '\r'], " ").replace('"', "#quot;")
}

/// Escapes text for a quoted DOT string (backslashes first, so the `\n`
/// line breaks added between ID and title stay line breaks).
fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace(['\n', '\r'], " ")
}

impl ExportedGraph {
    /// Mermaid flowchart: paste into a pull request or markdown doc.
    /// Unsatisfied / active edges are dotted and labelled.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for n in &self.nodes {
            let label =
                if self.kind == DepGraphKind::Repos { n.label.clone() } else { format!("{}: {}", n.id, n.label) };
            let _ = writeln!(out, "    {}[\"{}\"]", mermaid_id(&n.id), mermaid_text(&label));
        }
        for e in &self.edges {
            let (from, to) = (mermaid_id(&e.from), mermaid_id(&e.to));
            match self.kind {
                DepGraphKind::Repos if e.active => {
                    let _ = writeln!(out, "    {from} -. \"{} (unsatisfied)\" .-> {to}", mermaid_text(&e.label));
                }
                DepGraphKind::Repos => {
                    let _ = writeln!(out, "    {from} -- \"{}\" --> {to}", mermaid_text(&e.label));
                }
                DepGraphKind::Entities if e.active => {
                    let _ = writeln!(out, "    {from} ==>|blocks| {to}");
                }
                DepGraphKind::Entities => {
                    let _ = writeln!(out, "    {from} -.->|done| {to}");
                }
            }
        }
        out
    }

    /// Graphviz DOT. Unsatisfied / active edges are red.
    pub fn to_dot(&self) -> String {
        let mut g: petgraph::graph::DiGraph<String, (String, bool)> = petgraph::graph::DiGraph::new();
        let mut idx = std::collections::HashMap::new();
        for n in &self.nodes {
            let label = if self.kind == DepGraphKind::Repos {
                dot_text(&n.label)
            } else {
                format!("{}\\n{}", dot_text(&n.id), dot_text(&n.label))
            };
            idx.insert(n.id.clone(), g.add_node(label));
        }
        for e in &self.edges {
            if let (Some(&a), Some(&b)) = (idx.get(&e.from), idx.get(&e.to)) {
                let label = match (self.kind, e.active) {
                    (DepGraphKind::Repos, true) => format!("{} (unsatisfied)", dot_text(&e.label)),
                    (DepGraphKind::Repos, false) => dot_text(&e.label),
                    (DepGraphKind::Entities, true) => "blocks".into(),
                    (DepGraphKind::Entities, false) => "done".into(),
                };
                g.add_edge(a, b, (label, e.active));
            }
        }
        let edge_attr = |_: &_, e: petgraph::graph::EdgeReference<'_, (String, bool)>| {
            let (label, active) = e.weight();
            let style = if *active { ", color=red, style=dashed" } else { "" };
            format!("label=\"{label}\"{style}")
        };
        let node_attr = |_: &_, n: (petgraph::graph::NodeIndex, &String)| format!("label=\"{}\", shape=box", n.1);
        let dot = petgraph::dot::Dot::with_attr_getters(
            &g,
            &[petgraph::dot::Config::EdgeNoLabel, petgraph::dot::Config::NodeNoLabel],
            &edge_attr,
            &node_attr,
        );
        format!("{dot:?}")
    }

    /// Plain text: one edge per line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.edges.is_empty() {
            out.push_str("(no edges)\n");
        }
        for e in &self.edges {
            let mark = match (self.kind, e.active) {
                (DepGraphKind::Repos, true) => "  [unsatisfied]",
                (DepGraphKind::Entities, false) => "  [done]",
                _ => "",
            };
            // Entity edges are all labelled `blocks`: the verb says it already.
            let (verb, label) = match self.kind {
                DepGraphKind::Repos => ("depends on", format!(" ({})", e.label)),
                DepGraphKind::Entities => ("blocks", String::new()),
            };
            let _ = writeln!(out, "{} {verb} {}{label}{mark}", e.from, e.to);
        }
        out
    }
}
