//! `review`: what a change does to the coordination data and what it breaks
//! — the semantic diff from the merge base, plus lint errors it introduces,
//! IDs it creates that the base branch also created, dependencies it breaks
//! (satisfied before, unsatisfied after), dependencies known to be
//! unsatisfied (planned ones, or stored `unsatisfied`: warnings, errors only
//! with `hook.block_on: unsatisfied`) and todos it newly blocks.

use super::changes::{Differ, EntityChange, Filter, Op};
use super::repo::{GitRepo, Side};
use crate::error::{Error, FieldError, Result};
use crate::graph::CoordGraph;
use crate::model::Kind;
use crate::problem::Problem;
use crate::store::{Loaded, Store};
use gix::ObjectId;
use serde::Serialize;
use std::collections::HashSet;

/// What to review.
#[derive(Debug, Clone, Default)]
pub struct ReviewOptions {
    /// The base branch (default: the remote's default branch).
    pub base: Option<String>,
    /// The change's tip (default HEAD).
    pub head: Option<String>,
    /// Check online: health checks and trusted commands (default: offline,
    /// neither runs; see [`crate::deps::CheckOptions::offline`]).
    pub online: bool,
    /// Run every validation command (CI on a checkout it already trusts);
    /// only online.
    pub trust_all: bool,
    /// Skip the dependency checks.
    pub skip_dependency_checks: bool,
    /// Count dependencies known to be unsatisfied as errors too
    /// (`hook.block_on: unsatisfied`); by default they are warnings.
    pub block_on_unsatisfied: bool,
}

/// An ID created by the change that the base branch created too.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Collision {
    pub kind: &'static str,
    pub id: String,
    /// Title in this change.
    pub title: String,
    /// Title on the base branch.
    pub base_title: String,
}

/// A changed dependency that is unsatisfied.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Unsatisfied {
    pub id: String,
    pub consumer: String,
    pub provider: String,
    pub reason: String,
}

/// A todo this change blocks.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NewlyBlocked {
    pub id: String,
    pub task: String,
    /// Its unfinished blockers after the change.
    pub blockers: Vec<String>,
}

/// The review.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Review {
    /// The base branch as given or found.
    pub base: String,
    /// The merge base the change is compared with.
    pub merge_base: String,
    /// The change's tip.
    pub head: String,
    pub changes: Vec<EntityChange>,
    /// Lint problems present after the change and not before.
    pub introduced: Vec<Problem>,
    pub collisions: Vec<Collision>,
    /// Dependencies the change breaks: present before with no sign of being
    /// unsatisfied (stored status and check), unsatisfied by the check
    /// after, and not acknowledged (`unsatisfied` not stored). Errors.
    pub unsatisfied: Vec<Unsatisfied>,
    /// Changed dependencies known to be unsatisfied — new (planned) ones,
    /// ones stored `unsatisfied`, ones unsatisfied before too: warnings,
    /// errors only with `hook.block_on: unsatisfied`.
    pub known_unsatisfied: Vec<Unsatisfied>,
    pub newly_blocked: Vec<NewlyBlocked>,
    /// Errors introduced: lint errors, collisions and broken dependencies
    /// (and the known-unsatisfied ones with `block_on_unsatisfied`).
    pub errors: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The remote's default branch: `origin/HEAD`, else `origin/main`,
/// `origin/master`, else local `main`, `master`.
pub fn default_base(repo: &GitRepo) -> Result<String> {
    if let Some(b) = remote_default_branch(repo, "origin") {
        return Ok(b);
    }
    for name in ["main", "master"] {
        if repo.resolve(name).is_ok() {
            return Ok(name.to_string());
        }
    }
    Err(Error::Fields(vec![
        FieldError::new("base", "no base branch found (no origin/HEAD, origin/main, main or master); name one")
            .expected("a branch or revision"),
    ]))
}

/// A remote's default branch as a remote-tracking name (`origin/main`):
/// `<remote>/HEAD`'s target, else `<remote>/main`, else `<remote>/master`.
pub fn remote_default_branch(repo: &GitRepo, remote: &str) -> Option<String> {
    if let Ok(Some(r)) = repo.repo.try_find_reference(format!("refs/remotes/{remote}/HEAD").as_str())
        && let Some(target) = r.target().try_name()
    {
        return Some(target.shorten().to_string());
    }
    ["main", "master"].iter().map(|b| format!("{remote}/{b}")).find(|n| repo.resolve(n).is_ok())
}

/// Runs `review`.
pub fn review(store: &Store, opts: &ReviewOptions) -> Result<Review> {
    let repo = GitRepo::open(store, "review")?;
    let base_name = match &opts.base {
        Some(b) => b.clone(),
        None => default_base(&repo)?,
    };
    let base_tip = repo.resolve(&base_name)?;
    let head = match &opts.head {
        Some(h) => repo.resolve(h)?,
        None => repo.head()?.ok_or_else(|| Error::Unknown {
            what: "commit at",
            name: "HEAD".into(),
            suggestion: Some("the branch has no commit yet".into()),
        })?,
    };
    review_commits(store, &repo, &base_name, Some(base_tip), head, opts)
}

/// Reviews `head` against `base_tip` (from their merge base); without a
/// base, everything at `head` is new (every lint error counts).
pub fn review_commits(
    store: &Store,
    repo: &GitRepo,
    base_name: &str,
    base_tip: Option<ObjectId>,
    head: ObjectId,
    opts: &ReviewOptions,
) -> Result<Review> {
    let mb = match base_tip {
        Some(b) => repo.merge_base(b, head)?,
        None => None,
    };
    let from = mb.map(Side::Commit).unwrap_or(Side::Empty);
    let to = Side::Commit(head);
    let mut differ = Differ::new(repo);
    let changes = differ.changes(&repo.state(&from)?, &repo.state(&to)?, &Filter::default())?;

    let before = store.load_snapshot(&repo.snapshot(&from)?, &Kind::ALL)?;
    let after = store.load_snapshot(&repo.snapshot(&to)?, &Kind::ALL)?;
    let introduced = introduced_problems(store, &before, &after);
    let collisions = match base_tip {
        Some(tip) => collisions(store, repo, &changes, tip, mb)?,
        None => Vec::new(),
    };
    let mut warnings = differ.warnings;
    let (unsatisfied, known_unsatisfied) = if opts.skip_dependency_checks {
        (Vec::new(), Vec::new())
    } else {
        unsatisfied(store, &before, &after, &changes, opts, &mut warnings)?
    };
    let newly_blocked = newly_blocked(&before, &after);
    let errors = introduced.iter().filter(|p| p.is_error()).count()
        + collisions.len()
        + unsatisfied.len()
        + if opts.block_on_unsatisfied { known_unsatisfied.len() } else { 0 };
    let short = |id: ObjectId| id.to_hex_with_len(7).to_string();
    if base_tip.is_some() && mb.is_none() {
        warnings.push(format!(
            "{base_name} and {} share no history here (a shallow clone? fetch with full depth): everything counts as new",
            short(head)
        ));
    }
    Ok(Review {
        base: base_name.to_string(),
        merge_base: mb.map(short).unwrap_or_else(|| "(none)".into()),
        head: short(head),
        changes,
        introduced,
        collisions,
        unsatisfied,
        known_unsatisfied,
        newly_blocked,
        errors,
        warnings,
    })
}

/// Lint problems of `after` that `before` does not have (compared without
/// line numbers, which shift with any edit).
pub fn introduced_problems(store: &Store, before: &Loaded, after: &Loaded) -> Vec<Problem> {
    let key = |p: &Problem| (p.severity, p.code, p.id.clone(), p.field.clone(), p.message.clone());
    let old: HashSet<_> = crate::lint::lint(before, &crate::store::Locator::default()).iter().map(key).collect();
    let mut out: Vec<Problem> = crate::lint::lint(after, &crate::store::Locator::default())
        .into_iter()
        .filter(|p| !old.contains(&key(p)))
        .collect();
    for p in &mut out {
        if let Some(f) = &p.file {
            p.file = Some(store.rel(f));
        }
    }
    out.sort_by(|a, b| (a.severity, &a.file, a.line).cmp(&(b.severity, &b.file, b.line)));
    out
}

fn collisions(
    store: &Store,
    repo: &GitRepo,
    changes: &[EntityChange],
    base_tip: ObjectId,
    mb: Option<ObjectId>,
) -> Result<Vec<Collision>> {
    let created: Vec<_> = changes.iter().filter(|c| c.change == Op::Created).collect();
    if created.is_empty() || mb == Some(base_tip) {
        return Ok(Vec::new());
    }
    let base = store.load_snapshot(&repo.snapshot(&Side::Commit(base_tip))?, &Kind::ALL)?;
    let mut out = Vec::new();
    for c in created {
        if let Some(r) = base.get(c.kind, &c.id)
            && Some(&r.entity.to_mapping()) != c.after.as_ref()
        {
            out.push(Collision {
                kind: c.kind_name,
                id: c.id.clone(),
                title: c.title.clone(),
                base_title: r.entity.title(),
            });
        }
    }
    Ok(out)
}

/// Splits the changed dependencies that are unsatisfied after the change
/// into (broken by it, known unsatisfied). Broken needs evidence that the
/// dependency was fine before: it existed, was not stored `unsatisfied`, was
/// not unsatisfied by the same check before, and the check says unsatisfied
/// now while the change does not store `unsatisfied` (which acknowledges
/// it). A new (planned) dependency is never broken, so the verdict on it
/// does not depend on which sibling checkouts happen to exist.
fn unsatisfied(
    store: &Store,
    before: &Loaded,
    after: &Loaded,
    changes: &[EntityChange],
    opts: &ReviewOptions,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Unsatisfied>, Vec<Unsatisfied>)> {
    use crate::deps::Verdict;
    use crate::model::{DepStatus, Entity};
    let ids: Vec<String> = changes
        .iter()
        .filter(|c| c.kind == Kind::Dependency && c.change != Op::Deleted)
        .map(|c| c.id.clone())
        .collect();
    if ids.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let check = |loaded: &Loaded, ids: Vec<String>| -> Result<crate::deps::CheckReport> {
        let o = crate::deps::CheckOptions {
            ids,
            consumer: Vec::new(),
            provider: Vec::new(),
            offline: !opts.online,
            trust_all: opts.trust_all,
            timeout: std::time::Duration::from_secs(10),
            jobs: 8,
        };
        crate::deps::check(store, loaded, &o)
    };
    let stored_unsatisfied = |loaded: &Loaded, id: &str| {
        matches!(loaded.get(Kind::Dependency, id).map(|r| &r.entity),
            Some(Entity::Dependency(d)) if d.status.is(DepStatus::Unsatisfied))
    };
    let now = check(after, ids.clone())?;
    warnings.extend(now.warnings.iter().cloned());
    let old_ids: Vec<String> = ids.into_iter().filter(|id| before.get(Kind::Dependency, id).is_some()).collect();
    let was_unsatisfied: HashSet<String> = if old_ids.is_empty() {
        HashSet::new()
    } else {
        check(before, old_ids)?.results.into_iter().filter(|r| r.status == Verdict::Unsatisfied).map(|r| r.id).collect()
    };
    let (mut broken, mut known) = (Vec::new(), Vec::new());
    for r in now.results {
        let acknowledged = stored_unsatisfied(after, &r.id);
        if r.status != Verdict::Unsatisfied && !acknowledged {
            continue;
        }
        let was_fine = before.get(Kind::Dependency, &r.id).is_some()
            && !stored_unsatisfied(before, &r.id)
            && !was_unsatisfied.contains(&r.id);
        let u = Unsatisfied { id: r.id, consumer: r.consumer, provider: r.provider, reason: r.reason };
        if was_fine && r.status == Verdict::Unsatisfied && !acknowledged {
            broken.push(u);
        } else {
            known.push(u);
        }
    }
    Ok((broken, known))
}

/// Open todos blocked after the change that were not blocked (or did not
/// exist) before.
pub fn newly_blocked(before: &Loaded, after: &Loaded) -> Vec<NewlyBlocked> {
    let (gb, ga) = (CoordGraph::build(before), CoordGraph::build(after));
    let mut out = Vec::new();
    for t in after.todos() {
        if !t.is_open() {
            continue;
        }
        let Some(n) = ga.node(&t.id) else { continue };
        if !ga.is_blocked(n) {
            continue;
        }
        let was = gb.node(&t.id).is_some_and(|m| gb.is_blocked(m));
        if !was {
            let blockers = ga.active_blockers(n).into_iter().map(|b| ga.g[b].id.to_string()).collect();
            out.push(NewlyBlocked { id: t.id.clone(), task: t.task.clone(), blockers });
        }
    }
    out
}
