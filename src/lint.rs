//! `lint`: every check on the coordination data — schema, enum values, dates,
//! references, file names, duplicate IDs (from loading) plus cross-entity
//! checks: missing references, self-references, unknown repositories,
//! milestone IDs unique across plans, and blocking cycles.

use crate::model::*;
use crate::problem::Problem;
use crate::store::{Loaded, Record};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::{HashMap, HashSet};

/// The blocking edges of the data, as (blocker, blocked) ID pairs, declared on
/// either side.
pub fn blocking_edges<'a>(entities: impl Iterator<Item = &'a Entity>) -> Vec<(String, String)> {
    let mut edges = Vec::new();
    for e in entities {
        match e {
            Entity::Issue(i) => {
                edges.extend(i.dependencies.iter().map(|d| (d.clone(), i.id.clone())));
                edges.extend(i.blocking.iter().map(|b| (i.id.clone(), b.clone())));
            }
            Entity::Todo(t) => {
                edges.extend(t.blocked_by.iter().map(|d| (d.clone(), t.id.clone())));
                edges.extend(t.blocking.iter().map(|b| (t.id.clone(), b.clone())));
            }
            Entity::Plan(p) => {
                edges.extend(p.depends_on.iter().map(|d| (d.clone(), p.id.clone())));
                for m in &p.milestones {
                    edges.extend(m.dependencies.iter().map(|d| (d.clone(), m.id.clone())));
                }
            }
            Entity::Dependency(_) => {}
        }
    }
    edges
}

/// Every cycle (one representative path per strongly connected component),
/// each closed: `[A, B, A]`.
pub fn find_cycles(edges: &[(String, String)]) -> Vec<Vec<String>> {
    let mut g: DiGraph<&str, ()> = DiGraph::new();
    let mut idx: HashMap<&str, NodeIndex> = HashMap::new();
    for (a, b) in edges {
        let na = *idx.entry(a.as_str()).or_insert_with(|| g.add_node(a.as_str()));
        let nb = *idx.entry(b.as_str()).or_insert_with(|| g.add_node(b.as_str()));
        g.update_edge(na, nb, ());
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
        let start = *scc.iter().min_by_key(|n| crate::store::natural_key(g[**n])).expect("non-empty scc");
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
        next.sort_by_key(|m| crate::store::natural_key(g[*m]));
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

/// The cycle `entity` (as it would be written) would sit on, if any.
pub fn cycle_through(loaded: &Loaded, entity: &Entity) -> Option<Vec<String>> {
    let others = Kind::ALL
        .iter()
        .flat_map(|k| loaded.records(*k))
        .map(|r| &r.entity)
        .filter(|e| !(e.kind() == entity.kind() && e.id() == entity.id()));
    let edges = blocking_edges(others.chain(std::iter::once(entity)));
    let ids: HashSet<&str> = match entity {
        Entity::Plan(p) => std::iter::once(p.id.as_str()).chain(p.milestones.iter().map(|m| m.id.as_str())).collect(),
        e => HashSet::from([e.id()]),
    };
    find_cycles(&edges)
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

/// Runs every check. Load problems come first.
pub fn lint(loaded: &Loaded) -> Vec<Problem> {
    let mut problems = loaded.problems.clone();
    let loc = crate::store::Locator::default();
    let exists = |id: &str, kinds: &[Kind]| kinds.iter().any(|k| loaded.get(*k, id).is_some());
    let milestone_ids: HashMap<&str, &str> = {
        let mut m = HashMap::new();
        for p in loaded.plans() {
            for ms in &p.milestones {
                if let Some(other) = m.insert(ms.id.as_str(), p.id.as_str()) {
                    let rec = loaded.get(Kind::Plan, &p.id);
                    problems.push(at(
                        &loc,
                        Problem::error("duplicate", format!("milestone ID `{}` is also used in {other}", ms.id))
                            .on(&p.id)
                            .field(format!("milestones[{}].id", ms.id)),
                        rec,
                    ));
                }
            }
        }
        m
    };
    let registry = &loaded.registry;
    let check_repo = |problems: &mut Vec<Problem>, rec: &Record, field: &str, name: &str| {
        if !registry.is_empty() && !name.is_empty() && registry.find(name).is_none() {
            let msg = registry.resolve(name).err().unwrap_or_default();
            problems.push(at(&loc, Problem::error("repo", msg).on(rec.entity.id()).field(field), Some(rec)));
        }
    };
    for kind in [Kind::Issue, Kind::Plan, Kind::Todo, Kind::Dependency] {
        for rec in loaded.records(kind) {
            let mut refs: Vec<(&str, &String, &[Kind])> = Vec::new();
            match &rec.entity {
                Entity::Issue(i) => {
                    refs.extend(i.dependencies.iter().map(|d| ("dependencies", d, &[Kind::Issue][..])));
                    refs.extend(i.blocking.iter().map(|d| ("blocking", d, &[Kind::Issue, Kind::Todo, Kind::Plan][..])));
                    for r in &i.repos {
                        check_repo(&mut problems, rec, "repos", r);
                    }
                }
                Entity::Plan(p) => {
                    refs.extend(p.issue_ids.iter().map(|d| ("issue_ids", d, &[Kind::Issue][..])));
                    refs.extend(p.depends_on.iter().map(|d| ("depends_on", d, &[Kind::Plan][..])));
                    for r in &p.repos {
                        check_repo(&mut problems, rec, "repos", r);
                    }
                    for m in &p.milestones {
                        for d in &m.dependencies {
                            if !milestone_ids.contains_key(d.as_str()) {
                                problems.push(at(
                                    &loc,
                                    Problem::error("reference", format!("unknown milestone `{d}`"))
                                        .on(&p.id)
                                        .field(format!("milestones[{}].dependencies", m.id)),
                                    Some(rec),
                                ));
                            } else if *d == m.id {
                                problems.push(at(
                                    &loc,
                                    Problem::error("self-reference", format!("{} depends on itself", m.id))
                                        .on(&p.id)
                                        .field(format!("milestones[{}].dependencies", m.id)),
                                    Some(rec),
                                ));
                            }
                        }
                    }
                }
                Entity::Todo(t) => {
                    refs.extend(t.blocked_by.iter().map(|d| ("blocked_by", d, &[Kind::Issue, Kind::Todo][..])));
                    refs.extend(t.blocking.iter().map(|d| ("blocking", d, &[Kind::Issue, Kind::Todo][..])));
                    refs.extend(t.issue_id.iter().map(|d| ("issue_id", d, &[Kind::Issue][..])));
                    refs.extend(t.plan_id.iter().map(|d| ("plan_id", d, &[Kind::Plan][..])));
                    if let Some(m) = &t.milestone_id
                        && !milestone_ids.contains_key(m.as_str())
                    {
                        problems.push(at(
                            &loc,
                            Problem::error("reference", format!("unknown milestone `{m}`"))
                                .on(&t.id)
                                .field("milestone_id"),
                            Some(rec),
                        ));
                    }
                    check_repo(&mut problems, rec, "repo", &t.repo);
                }
                Entity::Dependency(d) => {
                    check_repo(&mut problems, rec, "consumer", &d.consumer);
                    check_repo(&mut problems, rec, "provider", &d.provider);
                    if !d.consumer.is_empty() && registry.canonical(&d.consumer) == registry.canonical(&d.provider) {
                        problems.push(at(
                            &loc,
                            Problem::error("self-reference", "consumer and provider are the same repository")
                                .on(&d.id)
                                .field("provider"),
                            Some(rec),
                        ));
                    }
                }
            }
            let id = rec.entity.id();
            for (field, target, kinds) in refs {
                if target == id {
                    problems.push(at(
                        &loc,
                        Problem::error("self-reference", format!("{id} references itself")).on(id).field(field),
                        Some(rec),
                    ));
                } else if !exists(target, kinds) {
                    let what: Vec<&str> = kinds.iter().map(|k| k.noun()).collect();
                    problems.push(at(
                        &loc,
                        Problem::error(
                            "reference",
                            format!("unknown reference `{target}` (no {} with that ID)", what.join(" or ")),
                        )
                        .on(id)
                        .field(field),
                        Some(rec),
                    ));
                }
            }
        }
    }
    let all = Kind::ALL.iter().flat_map(|k| loaded.records(*k)).map(|r| &r.entity);
    for cycle in find_cycles(&blocking_edges(all)) {
        if cycle.len() == 2 && cycle[0] == cycle[1] {
            continue; // self-references are reported above
        }
        let rec = loaded
            .find_any(&cycle[0])
            .or_else(|| loaded.milestone(&cycle[0]).and_then(|(p, _)| loaded.get(Kind::Plan, &p.id)));
        problems.push(at(
            &loc,
            Problem::error("cycle", format!("blocking cycle: {}", cycle.join(" → "))).on(&cycle[0]),
            rec,
        ));
    }
    problems
}

fn at(loc: &crate::store::Locator, p: Problem, rec: Option<&Record>) -> Problem {
    match rec {
        Some(r) => {
            let line = loc.locate(&r.origin, r.entity.id(), p.field.as_deref().unwrap_or("id"));
            Problem { file: Some(r.origin.path().to_path_buf()), line, ..p }
        }
        None => p,
    }
}

#[cfg(test)]
mod tests {
    use super::find_cycles;

    fn chain(n: usize) -> Vec<(String, String)> {
        (1..n).map(|i| (format!("TODO-{i}"), format!("TODO-{}", i + 1))).collect()
    }

    /// Test threads have small stacks: a recursive SCC search would overflow
    /// on a long chain, an iterative one does not.
    #[test]
    fn long_chains_do_not_recurse() {
        let mut edges = chain(200_000);
        assert!(find_cycles(&edges).is_empty());
        edges.push(("TODO-200000".into(), "TODO-1".into()));
        let cycles = find_cycles(&edges);
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), 200_001);
        assert_eq!((cycles[0][0].as_str(), cycles[0][200_000].as_str()), ("TODO-1", "TODO-1"));
    }

    #[test]
    fn one_representative_cycle_per_component() {
        let e = |a: &str, b: &str| (a.to_string(), b.to_string());
        let edges = [e("TODO-4", "TODO-7"), e("TODO-7", "TODO-4"), e("TODO-7", "TODO-9"), e("ISSUE-1", "ISSUE-1")];
        assert_eq!(find_cycles(&edges), [vec!["ISSUE-1", "ISSUE-1"], vec!["TODO-4", "TODO-7", "TODO-4"]]);
    }
}
