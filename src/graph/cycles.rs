//! Blocking cycles: one representative path per strongly connected
//! component of the blocking edges. The coordination graph feeds its `Blocks`
//! edges here (for lint and for the check that refuses a write closing a
//! cycle); the search is iterative, so long chains cannot overflow the stack.

use super::{CoordGraph, EdgeKind};
use crate::model::Entity;
use crate::model::id::natural_key;
use crate::model::{Loaded, Origin, Record};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use std::collections::{HashMap, HashSet};

impl CoordGraph<'_> {
    /// Every blocking cycle of the graph, each closed (`[A, B, A]`), sorted.
    pub fn blocking_cycles(&self) -> Vec<Vec<String>> {
        let edges = self
            .g
            .edge_references()
            .filter(|e| *e.weight() == EdgeKind::Blocks)
            .map(|e| (self.g[e.source()].id, self.g[e.target()].id));
        find_cycles(edges)
    }
}

/// Every cycle (one representative path per strongly connected component),
/// each closed: `[A, B, A]`.
pub fn find_cycles<'a>(edges: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<Vec<String>> {
    let mut g: DiGraph<&str, ()> = DiGraph::new();
    let mut idx: HashMap<&str, NodeIndex> = HashMap::new();
    let mut pairs = rustc_hash::FxHashSet::default();
    for (a, b) in edges {
        let na = *idx.entry(a).or_insert_with(|| g.add_node(a));
        let nb = *idx.entry(b).or_insert_with(|| g.add_node(b));
        // One edge per pair, without `update_edge`'s scan of na's edges.
        if pairs.insert((na, nb)) {
            g.add_edge(na, nb, ());
        }
    }
    let mut cycles = Vec::new();
    // Kosaraju, not Tarjan: petgraph's `tarjan_scc` recurses once per node on
    // a path and overflows the stack on long blocking chains.
    for scc in petgraph::algo::kosaraju_scc(&g) {
        if scc.len() == 1 {
            let n = scc[0];
            if g.contains_edge(n, n) {
                cycles.push(vec![g[n].to_string(), g[n].to_string()]);
            }
            continue;
        }
        let members: HashSet<NodeIndex> = scc.iter().copied().collect();
        let start = *scc.iter().min_by_key(|n| natural_key(g[**n])).expect("non-empty scc");
        if let Some(path) = cycle_from(&g, start, &members) {
            cycles.push(path.into_iter().map(|n| g[n].to_string()).collect());
        }
    }
    cycles.sort();
    cycles
}

/// A shortest cycle from `start` back to itself inside `members` (BFS).
fn cycle_from(g: &DiGraph<&str, ()>, start: NodeIndex, members: &HashSet<NodeIndex>) -> Option<Vec<NodeIndex>> {
    let mut prev: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut seen = HashSet::from([start]);
    while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = g.neighbors(n).filter(|m| members.contains(m)).collect();
        next.sort_by_key(|m| natural_key(g[*m]));
        for m in next {
            if m == start {
                let mut path = vec![n];
                let mut cur = n;
                while cur != start {
                    cur = prev[&cur];
                    path.push(cur);
                }
                path.reverse();
                path.push(start);
                return Some(path);
            }
            if seen.insert(m) {
                prev.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    None
}

/// The cycle `entity`, written as it is, would sit on, if any, rotated to
/// start at the entity. `loaded` (issues, plans and todos) gets the entity
/// in place of its stored version.
pub fn cycle_through(loaded: &mut Loaded, entity: &Entity) -> Option<Vec<String>> {
    loaded.take(entity.kind(), entity.id());
    loaded.put(Record { entity: entity.clone(), origin: Origin::File(Default::default()), problems: Vec::new() });
    let ids: HashSet<&str> = match entity {
        Entity::Plan(p) => std::iter::once(p.id.as_str()).chain(p.milestones.iter().map(|m| m.id.as_str())).collect(),
        e => HashSet::from([e.id()]),
    };
    CoordGraph::build(loaded)
        .blocking_cycles()
        .into_iter()
        .find(|c| c.iter().any(|n| ids.contains(n.as_str())))
        .map(|c| rotate_to(c, entity.id()))
}

fn rotate_to(mut cycle: Vec<String>, id: &str) -> Vec<String> {
    cycle.pop();
    if let Some(pos) = cycle.iter().position(|x| x == id) {
        cycle.rotate_left(pos);
    }
    let first = cycle[0].clone();
    cycle.push(first);
    cycle
}

#[cfg(test)]
mod tests {
    use super::find_cycles;

    fn pairs(e: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
        e.iter().map(|(a, b)| (a.as_str(), b.as_str()))
    }

    fn chain(n: usize) -> Vec<(String, String)> {
        (1..n).map(|i| (format!("TODO-{i}"), format!("TODO-{}", i + 1))).collect()
    }

    /// Test threads have small stacks: a recursive SCC search would overflow
    /// on a long chain, an iterative one does not.
    #[test]
    fn long_chains_do_not_recurse() {
        let mut edges = chain(200_000);
        assert!(find_cycles(pairs(&edges)).is_empty());
        edges.push(("TODO-200000".into(), "TODO-1".into()));
        let cycles = find_cycles(pairs(&edges));
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), 200_001);
        assert_eq!((cycles[0][0].as_str(), cycles[0][200_000].as_str()), ("TODO-1", "TODO-1"));
    }

    #[test]
    fn one_representative_cycle_per_component() {
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        let edges = [e("TODO-4", "TODO-7"), e("TODO-7", "TODO-4"), e("TODO-7", "TODO-9"), e("ISSUE-1", "ISSUE-1")];
        assert_eq!(find_cycles(pairs(&edges)), [vec!["ISSUE-1", "ISSUE-1"], vec!["TODO-4", "TODO-7", "TODO-4"]]);
    }
}
