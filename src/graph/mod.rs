//! The coordination graph: one petgraph over everything the loader returns.
//!
//! Nodes are issues, plans, milestones, todos, dependencies and repos. Edges
//! point from a blocker to what it blocks (todo `blocked_by`/`blocking`, issue
//! `dependencies`/`blocking`, plan `depends_on`, milestone `dependencies`),
//! from a part to its whole (plan `issue_ids`, todo `issue_id`/`plan_id`/
//! `milestone_id`, milestone → plan), and from a consumer repo to its provider
//! through the dependency. An edge declared on either side counts once. A
//! blocking edge is *active* only while its blocker is unfinished; what an
//! entity is blocked by (its own blockers and those its milestone and plan
//! inherit) is decided in one place, [`blockers`].
//!
//! The queries built on it (ready work, what blocks a repo, status reports,
//! roadmaps, exports) live in the submodules and return plain data that the
//! CLI and the MCP server render. Build the graph once, then ask:
//!
//! ```ignore
//! let loaded = store.load(&[Kind::Issue, Kind::Todo])?; // enough for `ready`
//! let cg = CoordGraph::build(&loaded);
//! let next = graph::ready(&cg, &ReadyQuery { limit: Some(5), ..Default::default() });
//! let all = store.load(&Kind::ALL)?;
//! let cg = CoordGraph::build(&all);
//! let health = graph::ecosystem_status(&cg);
//! let mermaid = graph::dep_graph(&cg, &DepGraphQuery::default()).to_mermaid();
//! ```
//!
//! Kinds each query needs: `ready` issues, plans and todos; `roadmap` plans and
//! todos; `workload` todos; everything else all kinds. `workload` and
//! `validate_repo` take the `&Loaded` directly.
//! Repository arguments are canonical names (`registry.resolve` first).

pub mod blockers;
pub mod cycles;
pub mod export;
pub mod queries;
pub mod relations;
pub mod roadmap;
pub mod status;

use crate::model::Loaded;
use crate::model::*;
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashMap;

pub use cycles::find_cycles;
pub use export::{DepGraphKind, DepGraphQuery, ExportedGraph, GraphEdge, GraphNode, dep_graph};
pub use queries::*;
pub use roadmap::{MilestoneView, PlanRoadmap, Roadmap, roadmap};
pub use status::*;

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Issue,
    Plan,
    Milestone,
    Todo,
    Dependency,
    Repo,
}

/// A node: kind, ID (repo name for repos; borrowed from the loaded
/// entities and registry) and whether it is finished.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    pub kind: NodeKind,
    pub id: &'a str,
    /// Finished entities no longer block (resolved/closed issues,
    /// completed/cancelled todos and milestones, satisfied/deprecated deps).
    pub finished: bool,
}

/// What an edge means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// Source blocks target (active while the source is unfinished).
    Blocks,
    /// Source is part of target (todo → issue/plan/milestone, issue → plan,
    /// milestone → plan).
    PartOf,
    /// Consumer repo → dependency, dependency → provider repo.
    DependsOn,
}

/// The graph and an ID index.
pub struct CoordGraph<'a> {
    pub loaded: &'a Loaded,
    pub g: DiGraph<Node<'a>, EdgeKind>,
    /// By ID (entity nodes) and by name (repository nodes): a table of
    /// nodes whose keys are the nodes' own (borrowed) IDs.
    index: hashbrown::HashTable<NodeIndex>,
    /// Per milestone or plan, the milestones and plans that block it
    /// (finished or not): what its todos inherit ([`blockers`]). Kept here
    /// because a plan with thousands of todos has thousands of incoming
    /// edges, and `ready` asks this of every todo.
    container_blockers: FxHashMap<NodeIndex, Vec<NodeIndex>>,
}

/// The first active blocker of each node asked about, remembered: a report
/// that follows chains to their roots for many todos (`blocking`) walks
/// the same long chains again and again.
#[derive(Debug, Default)]
pub struct FirstBlockers(rustc_hash::FxHashMap<NodeIndex, Option<NodeIndex>>);

impl FirstBlockers {
    /// The first (in natural ID order) active blocker of `n`.
    pub fn of(&mut self, cg: &CoordGraph<'_>, n: NodeIndex) -> Option<NodeIndex> {
        *self.0.entry(n).or_insert_with(|| cg.active_blockers(n).first().copied())
    }
}

/// The edges made so far while building, by ordered pair.
type Pairs = FxHashMap<(NodeIndex, NodeIndex), petgraph::graph::EdgeIndex>;

/// The hash of a node's key: entity IDs and repository names apart.
fn key_hash(repo: bool, id: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one((repo, id))
}

impl<'a> CoordGraph<'a> {
    /// Builds the graph over everything loaded.
    pub fn build(loaded: &'a Loaded) -> CoordGraph<'a> {
        // Sized once: no table grows (and rehashes) while 100,000 nodes go in.
        let nodes = loaded.issues().count()
            + loaded.plans().map(|p| 1 + p.milestones.len()).sum::<usize>()
            + loaded.todos().count()
            + loaded.dependencies().count()
            + loaded.registry.repos.len();
        let mut cg = CoordGraph {
            loaded,
            g: DiGraph::with_capacity(nodes, nodes + nodes / 2),
            index: hashbrown::HashTable::with_capacity(nodes),
            container_blockers: FxHashMap::default(),
        };
        // At most one edge per ordered pair, the last kind given winning (what
        // petgraph's `update_edge` does, without its scan of the source's
        // edges: a repository consumes thousands of dependencies).
        let mut pairs = Pairs::with_capacity_and_hasher(nodes + nodes / 2, Default::default());
        for i in loaded.issues() {
            cg.add(NodeKind::Issue, &i.id, !i.is_open());
        }
        for p in loaded.plans() {
            let done = p.status.known().is_some_and(PlanStatus::is_finished);
            cg.add(NodeKind::Plan, &p.id, done);
            for m in &p.milestones {
                cg.add(NodeKind::Milestone, &m.id, m.status.known().is_some_and(MilestoneStatus::is_finished));
            }
        }
        for t in loaded.todos() {
            cg.add(NodeKind::Todo, &t.id, !t.is_open());
        }
        for d in loaded.dependencies() {
            cg.add(NodeKind::Dependency, &d.id, !d.is_open());
        }
        for r in &loaded.registry.repos {
            cg.add_repo(&r.name);
        }
        // Edges, from the one map of references (`Entity::references`).
        // Unknown targets are skipped here (lint reports them).
        // The holder of a run of references is looked up once (one side of
        // every edge), the references gathered in one reused buffer.
        let mut refs = Vec::new();
        for kind in [Kind::Issue, Kind::Plan, Kind::Todo] {
            for rec in loaded.records(kind) {
                refs.clear();
                rec.entity.references_into(&mut refs);
                let mut held: Option<(&str, Option<NodeIndex>)> = None;
                for r in &refs {
                    let holder = match held {
                        Some((h, n)) if std::ptr::eq(h, r.holder) => n,
                        _ => {
                            let n = cg.node(r.holder);
                            held = Some((r.holder, n));
                            n
                        }
                    };
                    let node = |id: &str| if std::ptr::eq(id, r.holder) { holder } else { cg.node(id) };
                    let edge = match (r.blocking_edge(), r.part_of_edge()) {
                        (Some((from, to)), _) => Some((node(from), node(to), EdgeKind::Blocks)),
                        (None, Some((part, whole))) => Some((node(part), node(whole), EdgeKind::PartOf)),
                        (None, None) => None,
                    };
                    if let Some((Some(a), Some(b), kind)) = edge
                        && a != b
                    {
                        cg.link(&mut pairs, a, b, kind);
                    }
                }
            }
        }
        // A milestone is part of its plan (structure, not a field).
        for p in loaded.plans() {
            let Some(plan) = cg.node(&p.id) else { continue };
            for m in &p.milestones {
                if let Some(milestone) = cg.node(&m.id)
                    && milestone != plan
                {
                    cg.link(&mut pairs, milestone, plan, EdgeKind::PartOf);
                }
            }
        }
        for d in loaded.dependencies() {
            let consumer = cg.repo_node(&d.consumer);
            let provider = cg.repo_node(&d.provider);
            let dep = cg.node(&d.id).expect("every dependency has a node");
            cg.link(&mut pairs, consumer, dep, EdgeKind::DependsOn);
            cg.link(&mut pairs, dep, provider, EdgeKind::DependsOn);
        }
        for e in cg.g.edge_indices() {
            let (a, b) = cg.g.edge_endpoints(e).expect("edge exists");
            let container = |k: NodeKind| matches!(k, NodeKind::Milestone | NodeKind::Plan);
            if cg.g[e] == EdgeKind::Blocks && container(cg.g[a].kind) && container(cg.g[b].kind) {
                cg.container_blockers.entry(b).or_default().push(a);
            }
        }
        tracing::debug!(nodes = cg.g.node_count(), edges = cg.g.edge_count(), "graph built");
        cg
    }

    /// The node of an entity ID (`repo` false) or a repository name.
    fn find(&self, repo: bool, id: &str) -> Option<NodeIndex> {
        let g = &self.g;
        self.index.find(key_hash(repo, id), |&n| (g[n].kind == NodeKind::Repo) == repo && g[n].id == id).copied()
    }

    /// The node of `id`, added when new (the first node of an ID wins).
    fn add(&mut self, kind: NodeKind, id: &'a str, finished: bool) -> NodeIndex {
        let repo = kind == NodeKind::Repo;
        if let Some(n) = self.find(repo, id) {
            return n;
        }
        let n = self.g.add_node(Node { kind, id, finished });
        let g = &self.g;
        self.index.insert_unique(key_hash(repo, id), n, |&m| key_hash(g[m].kind == NodeKind::Repo, g[m].id));
        n
    }

    fn add_repo(&mut self, name: &'a str) -> NodeIndex {
        self.add(NodeKind::Repo, name, false)
    }

    fn repo_node(&mut self, name: &'a str) -> NodeIndex {
        let canonical = self.loaded.registry.canonical(name);
        self.add_repo(canonical)
    }

    /// Adds `a → b` once (declared on either side counts once).
    fn link(&mut self, pairs: &mut Pairs, a: NodeIndex, b: NodeIndex, kind: EdgeKind) {
        match pairs.entry((a, b)) {
            std::collections::hash_map::Entry::Occupied(e) => self.g[*e.get()] = kind,
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(self.g.add_edge(a, b, kind));
            }
        }
    }

    /// The node of an entity ID.
    pub fn node(&self, id: &str) -> Option<NodeIndex> {
        self.find(false, id)
    }

    /// The node of a repository (canonical name).
    pub fn repo(&self, name: &str) -> Option<NodeIndex> {
        self.find(true, self.loaded.registry.canonical(name))
    }

    /// A chain from `n` up through active blockers to a root cause (the
    /// first blocker in ID order at each step; stops on a cycle).
    pub fn chain_to_root(&self, n: NodeIndex, first: &mut FirstBlockers) -> Vec<String> {
        let mut chain = vec![self.g[n].id.to_string()];
        let mut seen = rustc_hash::FxHashSet::default();
        seen.insert(n);
        let mut cur = n;
        while let Some(next) = first.of(self, cur) {
            if !seen.insert(next) {
                break;
            }
            chain.push(self.g[next].id.to_string());
            cur = next;
        }
        chain
    }

    /// How many open todos and issues wait on `n`, directly or transitively.
    pub fn unblocks_count(&self, n: NodeIndex, stamp: &mut [u32], round: u32) -> usize {
        let mut count = 0;
        let mut stack = vec![n];
        stamp[n.index()] = round;
        while let Some(x) = stack.pop() {
            for y in self.blocked(x) {
                if stamp[y.index()] != round {
                    stamp[y.index()] = round;
                    let node = &self.g[y];
                    if !node.finished && matches!(node.kind, NodeKind::Todo | NodeKind::Issue) {
                        count += 1;
                    }
                    stack.push(y);
                }
            }
        }
        count
    }
}
