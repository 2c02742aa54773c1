//! `lint`: every check on the coordination data — schema, enum values, dates,
//! references, file names, duplicate IDs (from loading) plus cross-entity
//! checks: missing references, self-references, unknown repositories,
//! milestone IDs unique across plans, blocking cycles, and the dependency
//! rules of [`crate::deps::rules`] (constraint syntax, duplicate
//! consumer → provider pairs, repository cycles).

use crate::graph::CoordGraph;
use crate::model::refs::Target;
use crate::model::*;
use crate::model::{LineLookup, Loaded, Record};
use crate::problem::Problem;
use std::collections::HashMap;

/// Runs every check. Load problems come first; `lines` finds the line of a
/// problem's field in its file (the store's `Locator`).
pub fn lint<'a>(loaded: &'a Loaded, lines: &dyn LineLookup) -> Vec<Problem> {
    let mut problems = Found { problems: loaded.problems.clone(), at: Vec::new() };
    let milestone_ids: HashMap<&str, &str> = {
        let mut m = HashMap::new();
        for p in loaded.plans() {
            for ms in &p.milestones {
                if let Some(other) = m.insert(ms.id.as_str(), p.id.as_str()) {
                    let rec = loaded.get(Kind::Plan, &p.id);
                    problems.push(
                        Problem::error("duplicate", format!("milestone ID `{}` is also used in {other}", ms.id))
                            .on(&p.id)
                            .field(format!("milestones[{}].id", ms.id)),
                        rec,
                    );
                }
            }
        }
        m
    };
    let registry = &loaded.registry;
    let check_repo = |problems: &mut Found<'a>, rec: &'a Record, field: &str, name: &str| {
        if !registry.is_empty() && !name.is_empty() && registry.find(name).is_none() {
            let msg = registry.resolve(name).err().map(|e| e.to_string()).unwrap_or_default();
            problems.push(Problem::error("repo", msg).on(rec.entity.id()).field(field), Some(rec));
        }
    };
    for kind in Kind::ALL {
        for rec in loaded.records(kind) {
            match &rec.entity {
                Entity::Issue(i) => {
                    for r in &i.repos {
                        check_repo(&mut problems, rec, "repos", r);
                    }
                }
                Entity::Plan(p) => {
                    for r in &p.repos {
                        check_repo(&mut problems, rec, "repos", r);
                    }
                }
                Entity::Todo(t) => check_repo(&mut problems, rec, "repo", &t.repo),
                Entity::Dependency(d) => {
                    check_repo(&mut problems, rec, "consumer", &d.consumer);
                    check_repo(&mut problems, rec, "provider", &d.provider);
                    if !d.consumer.is_empty() && registry.canonical(&d.consumer) == registry.canonical(&d.provider) {
                        problems.push(
                            Problem::error("self-reference", "consumer and provider are the same repository")
                                .on(&d.id)
                                .field("provider"),
                            Some(rec),
                        );
                    }
                }
            }
            let id = rec.entity.id();
            for r in rec.entity.references() {
                let field = r.field_path();
                let found = r.targets.iter().any(|t| match t {
                    Target::Kind(k) => loaded.get(*k, r.target).is_some(),
                    Target::Milestone => milestone_ids.contains_key(r.target),
                });
                if r.target == r.holder {
                    problems.push(
                        Problem::error("self-reference", format!("{} references itself", r.holder)).on(id).field(field),
                        Some(rec),
                    );
                } else if !found {
                    let message = match r.targets {
                        [Target::Milestone] => format!("unknown milestone `{}`", r.target),
                        targets => {
                            let what: Vec<&str> = targets.iter().map(|t| t.noun()).collect();
                            format!("unknown reference `{}` (no {} with that ID)", r.target, what.join(" or "))
                        }
                    };
                    problems.push(Problem::error("reference", message).on(id).field(field).value(r.target), Some(rec));
                }
            }
        }
    }
    for cycle in CoordGraph::build(loaded).blocking_cycles() {
        let rec = loaded
            .find_any(&cycle[0])
            .or_else(|| loaded.milestone(&cycle[0]).and_then(|(p, _)| loaded.get(Kind::Plan, &p.id)));
        problems.push(Problem::error("cycle", format!("blocking cycle: {}", cycle.join(" → "))).on(&cycle[0]), rec);
    }
    dependency_rules(loaded, &mut problems);
    problems.finish(lines)
}

/// The rules a set of dependencies keeps ([`crate::deps::rules`]), the same
/// ones `create-dep`/`update-dep` refuse to break.
fn dependency_rules<'a>(loaded: &'a Loaded, problems: &mut Found<'a>) {
    use crate::deps::rules;
    let reg = &loaded.registry;
    let deps: Vec<&Dependency> = loaded.dependencies().collect();
    // `rules::duplicate_of` for every dependency at once: live dependencies
    // grouped by (consumer, provider), each group in ID order (stable, so
    // equal keys keep load order, as `min_by_key` picks the first).
    let mut groups: HashMap<(&str, &str), Vec<&Dependency>> = HashMap::new();
    for d in deps.iter().copied().filter(|d| !d.status.is(DepStatus::Deprecated)) {
        groups.entry((reg.canonical(&d.consumer), reg.canonical(&d.provider))).or_default().push(d);
    }
    for g in groups.values_mut() {
        g.sort_by(|a, b| crate::model::id::natural_parts(&a.id).cmp(&crate::model::id::natural_parts(&b.id)));
    }
    let duplicate_of = |d: &Dependency| -> Option<&Dependency> {
        if d.status.is(DepStatus::Deprecated) {
            return None;
        }
        let group = groups.get(&(reg.canonical(&d.consumer), reg.canonical(&d.provider)))?;
        group.iter().copied().find(|o| o.id != d.id)
    };
    for d in &deps {
        let rec = loaded.get(Kind::Dependency, &d.id);
        if let Some(c) = &d.version_constraint
            && let Err(e) = crate::deps::constraint::check_syntax(c)
        {
            problems.push(
                Problem::error("constraint", e.to_string()).on(&d.id).field("version_constraint").value(c.clone()),
                rec,
            );
        }
        // Reported on the later one: the first is the one to keep.
        if let Some(o) = duplicate_of(d)
            && crate::model::id::natural_parts(&o.id) < crate::model::id::natural_parts(&d.id)
        {
            problems.push(
                Problem::error(
                    "duplicate-dependency",
                    format!(
                        "{} → {} is already recorded by {}; merge the two",
                        reg.canonical(&d.consumer),
                        reg.canonical(&d.provider),
                        o.id
                    ),
                )
                .on(&d.id)
                .field("provider"),
                rec,
            );
        }
    }
    for (repos, ids) in rules::repo_cycles(reg, &deps) {
        let rec = loaded.get(Kind::Dependency, &ids[0]);
        problems.push(
            Problem::error(
                "repo-cycle",
                format!("repository cycle: {} (dependencies {})", repos.join(" ↔ "), ids.join(", ")),
            )
            .on(&ids[0])
            .field("provider"),
            rec,
        );
    }
}

/// The problems found so far, and which of them need the line of their
/// field in their entity's file: found at the end, all at once (a run
/// over 100,000 entities may report thousands, each in its own file).
struct Found<'a> {
    problems: Vec<Problem>,
    /// (index in `problems`, the record whose file it is in)
    at: Vec<(usize, &'a Record)>,
}

impl<'a> Found<'a> {
    /// Adds a problem, in `rec`'s file when given (its line found later).
    fn push(&mut self, p: Problem, rec: Option<&'a Record>) {
        match rec {
            Some(r) => {
                self.at.push((self.problems.len(), r));
                self.problems.push(Problem { file: Some(r.origin.path().to_path_buf()), ..p });
            }
            None => self.problems.push(p),
        }
    }

    /// The problems, each in a file with the line of its field.
    fn finish(mut self, lines: &dyn LineLookup) -> Vec<Problem> {
        let found = {
            let asks: Vec<(&Origin, &str, &str)> = self
                .at
                .iter()
                .map(|&(i, r)| (&r.origin, r.entity.id(), self.problems[i].field.as_deref().unwrap_or("id")))
                .collect();
            lines.lines(&asks)
        };
        for (&(i, _), line) in self.at.iter().zip(found) {
            self.problems[i].line = line;
        }
        self.problems
    }
}
