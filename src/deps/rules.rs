//! The rules a set of dependencies must keep, checked in one place by the
//! write path (`create-dep`, `update-dep` refuse to break them) and by
//! `lint` (which reports data written by hand or by other tools):
//!
//! - a `version_constraint` is semver or PEP 440 syntax
//!   ([`super::constraint::check_syntax`]);
//! - one dependency per consumer → provider pair (a second one is a
//!   duplicate: update the first instead);
//! - no repository cycle (`api → sdk` plus `sdk → api`): repositories that
//!   need each other cannot be released in any order.
//!
//! Deprecated dependencies are history, not requirements: they take part in
//! neither the duplicate nor the cycle rule.

use crate::ecosystem::Registry;
use crate::model::{DepStatus, Dependency};
use crate::store::natural_key;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

fn live(d: &Dependency) -> bool {
    !d.status.is(DepStatus::Deprecated)
}

/// Another live dependency with the same consumer and provider as `d`
/// (repository names compared canonically), first in ID order.
pub fn duplicate_of<'a>(reg: &Registry, deps: &[&'a Dependency], d: &Dependency) -> Option<&'a Dependency> {
    if !live(d) {
        return None;
    }
    let key = (reg.canonical(&d.consumer), reg.canonical(&d.provider));
    deps.iter()
        .copied()
        .filter(|o| o.id != d.id && live(o))
        .filter(|o| (reg.canonical(&o.consumer), reg.canonical(&o.provider)) == key)
        .min_by_key(|o| natural_key(&o.id))
}

/// Repository cycles among the live dependencies: each as the repositories
/// in order and the dependency IDs that close it.
pub fn repo_cycles(reg: &Registry, deps: &[&Dependency]) -> Vec<(Vec<String>, Vec<String>)> {
    let mut g: DiGraph<String, String> = DiGraph::new();
    let mut idx: HashMap<String, NodeIndex> = HashMap::new();
    let mut node = |g: &mut DiGraph<String, String>, name: &str| {
        *idx.entry(name.to_string()).or_insert_with(|| g.add_node(name.to_string()))
    };
    let mut sorted: Vec<&&Dependency> = deps.iter().filter(|d| live(d) && !d.consumer.is_empty()).collect();
    sorted.sort_by_key(|d| natural_key(&d.id));
    for d in sorted {
        let (c, p) = (reg.canonical(&d.consumer).to_string(), reg.canonical(&d.provider).to_string());
        if c == p {
            continue; // a self-reference is reported on its own
        }
        let (a, b) = (node(&mut g, &c), node(&mut g, &p));
        g.add_edge(a, b, d.id.clone());
    }
    let mut out = Vec::new();
    for scc in petgraph::algo::kosaraju_scc(&g) {
        if scc.len() < 2 {
            continue;
        }
        let mut repos: Vec<String> = scc.iter().map(|n| g[*n].clone()).collect();
        repos.sort();
        let mut ids: Vec<String> = g
            .edge_indices()
            .filter(|e| {
                let (a, b) = g.edge_endpoints(*e).expect("edge");
                scc.contains(&a) && scc.contains(&b)
            })
            .map(|e| g[e].clone())
            .collect();
        ids.sort_by_key(|i| natural_key(i));
        out.push((repos, ids));
    }
    out.sort();
    out
}

/// The rules `d` breaks among `others` (the other dependencies, `d`'s old
/// version left out), as messages naming the field: for the write path.
pub fn violations(reg: &Registry, others: &[&Dependency], d: &Dependency) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(c) = &d.version_constraint
        && let Err(e) = super::constraint::check_syntax(c)
    {
        out.push(("version_constraint", e.to_string()));
    }
    if let Some(o) = duplicate_of(reg, others, d) {
        out.push((
            "provider",
            format!(
                "{} already records {} → {}; update it instead (git coord update-dep {})",
                o.id,
                reg.canonical(&o.consumer),
                reg.canonical(&o.provider),
                o.id
            ),
        ));
    }
    let mut all: Vec<&Dependency> = others.iter().copied().filter(|o| o.id != d.id).collect();
    all.push(d);
    for (repos, ids) in repo_cycles(reg, &all) {
        if ids.contains(&d.id) {
            out.push((
                "provider",
                format!("this would make a repository cycle: {} (through {})", repos.join(" ↔ "), ids.join(", ")),
            ));
        }
    }
    out
}
