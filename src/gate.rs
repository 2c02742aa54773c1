//! `gate REPO`: the check a member repository's CI runs against the
//! coordination data — it fails when the repository has open critical
//! issues, unsatisfied dependencies where it is the consumer, or (asked
//! for) open work that blocks other repositories and is overdue.
//!
//! Dependencies are judged by [`crate::deps::check`], with its trust
//! resolution: nothing here decides whether a command runs. When the check
//! cannot tell (no provider checkout in a member's CI, an unapproved
//! command) the stored status decides: a dependency stored `unsatisfied`
//! (written by `check-deps --update` or `watch --update` where the
//! providers are checked out) fails the gate, with the reason it could not
//! be confirmed here.

use crate::deps::{self, CheckOptions, DepResult, Verdict};
use crate::display::shown;
use crate::error::Result;
use crate::graph::{self, CoordGraph};
use crate::model::*;
use crate::store::{Loaded, Store, natural_key};
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::Serialize;

/// What to gate.
#[derive(Debug, Clone)]
pub struct GateOptions {
    /// The member repository (any spelling).
    pub repo: String,
    /// Also fail on open work blocking other repositories that is overdue.
    pub blocking: bool,
    /// How to check its dependencies (`consumer` is set to `repo`).
    pub check: CheckOptions,
    /// The day overdue is judged against.
    pub today: NaiveDate,
}

/// Why a gate fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// An open issue of priority critical naming the repository.
    CriticalIssue,
    /// A dependency of the repository (as consumer) that is unsatisfied.
    UnsatisfiedDependency,
    /// Open work of the repository that others wait on, past its date.
    OverdueBlocking,
}

impl ReasonKind {
    /// Words for people.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonKind::CriticalIssue => "critical issue",
            ReasonKind::UnsatisfiedDependency => "unsatisfied dependency",
            ReasonKind::OverdueBlocking => "overdue blocking work",
        }
    }
}

/// One reason, safe to show (controls escaped, credentials redacted).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GateReason {
    pub kind: ReasonKind,
    /// The issue, dependency or todo.
    pub id: String,
    /// What it is and why it counts.
    pub text: String,
}

/// The gate's verdict.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GateReport {
    /// The repository gated (canonical name).
    pub repo: String,
    /// Where the coordination data came from (a path, or a URL with
    /// credentials redacted).
    pub coordination: String,
    /// True when there is no reason to fail.
    pub passed: bool,
    pub reasons: Vec<GateReason>,
    /// The repository's dependencies as checked here.
    pub dependencies: Vec<DepResult>,
    /// What to know about how far this gate could look.
    pub warnings: Vec<String>,
}

fn known(d: &Option<Lenient<CoordDate>>) -> Option<NaiveDate> {
    match d {
        Some(Lenient::Known(d)) => Some(d.date()),
        _ => None,
    }
}

/// The date an open issue or todo is due, and where it comes from: an
/// issue's `target`; a todo's milestone `due`, else its plan's `target`,
/// else its issue's `target`.
fn deadline(loaded: &Loaded, id: &str) -> Option<(NaiveDate, String)> {
    let rec = loaded.find_any(id)?;
    match &rec.entity {
        Entity::Issue(i) => known(&i.target).map(|d| (d, "target".into())),
        Entity::Todo(t) => {
            let milestone = t
                .milestone_id
                .as_deref()
                .and_then(|m| loaded.milestone(m))
                .and_then(|(_, m)| known(&m.due).map(|d| (d, format!("{} due", m.id))));
            let plan = || {
                let p = t.plan_id.as_deref().and_then(|p| loaded.get(Kind::Plan, p))?;
                let Entity::Plan(p) = &p.entity else { return None };
                known(&p.target).map(|d| (d, format!("{} target", p.id)))
            };
            let issue = || {
                let i = t.issue_id.as_deref().and_then(|i| loaded.get(Kind::Issue, i))?;
                let Entity::Issue(i) = &i.entity else { return None };
                known(&i.target).map(|d| (d, format!("{} target", i.id)))
            };
            milestone.or_else(plan).or_else(issue)
        }
        _ => None,
    }
}

/// Runs the gate on `store`'s data.
pub fn gate(store: &Store, opts: &GateOptions) -> Result<GateReport> {
    let loaded = store.load(&Kind::ALL)?;
    let reg = &loaded.registry;
    let repo = reg.resolve(&opts.repo)?;
    let mut reasons = Vec::new();
    let mut warnings = Vec::new();

    let mut critical: Vec<&Issue> = loaded
        .issues()
        .filter(|i| i.is_open() && i.priority.known() == Some(Priority::Critical))
        .filter(|i| i.repos.iter().any(|r| reg.same(r, &repo)))
        .collect();
    critical.sort_by_key(|i| natural_key(&i.id));
    for i in critical {
        reasons.push(GateReason {
            kind: ReasonKind::CriticalIssue,
            id: i.id.clone(),
            text: format!("{} ({})", shown(&i.title), i.status.as_str()),
        });
    }

    let check =
        CheckOptions { consumer: vec![repo.clone()], ids: Vec::new(), provider: Vec::new(), ..opts.check.clone() };
    let report = deps::check(store, &loaded, &check)?;
    warnings.extend(report.warnings.iter().cloned());
    for r in &report.results {
        let what = format!("{} needs {}", shown(&r.consumer), shown(&r.provider));
        let text = match r.status {
            Verdict::Unsatisfied => format!("{what}: {}", shown(&r.reason)),
            Verdict::Unknown if r.stored == "unsatisfied" => {
                format!("{what}: stored status unsatisfied, not confirmed here ({})", shown(&r.reason))
            }
            _ => continue,
        };
        reasons.push(GateReason { kind: ReasonKind::UnsatisfiedDependency, id: r.id.clone(), text });
    }

    if opts.blocking {
        let cg = CoordGraph::build(&loaded);
        let blocked = graph::blocked_by(&cg, &repo);
        let mut own: Vec<(String, Vec<String>)> = Vec::new();
        for w in &blocked.entities {
            for id in &w.waits_on {
                match own.iter_mut().find(|(o, _)| o == id) {
                    Some((_, list)) => list.push(format!("{} ({})", w.id, w.repos.join(", "))),
                    None => own.push((id.clone(), vec![format!("{} ({})", w.id, w.repos.join(", "))])),
                }
            }
        }
        own.sort_by_key(|(id, _)| natural_key(id));
        for (id, waiting) in own {
            if let Some((due, from)) = deadline(&loaded, &id)
                && due < opts.today
            {
                reasons.push(GateReason {
                    kind: ReasonKind::OverdueBlocking,
                    id: id.clone(),
                    text: shown(&format!("blocks {}; overdue since {due} ({from})", waiting.join(", "))),
                });
            }
        }
    }

    Ok(GateReport {
        repo,
        coordination: String::new(),
        passed: reasons.is_empty(),
        reasons,
        dependencies: report.results,
        warnings,
    })
}

/// The report as Markdown, for a CI job summary.
pub fn markdown(r: &GateReport) -> String {
    let cell = |s: &str| shown(&s.replace('\n', " ")).replace('|', "\\|");
    let mut s = if r.passed {
        format!("### ✅ git coord gate: `{}` passes\n\n", cell(&r.repo))
    } else {
        format!("### ❌ git coord gate: `{}` fails ({} reasons)\n\n", cell(&r.repo), r.reasons.len())
    };
    if !r.reasons.is_empty() {
        s.push_str("| reason | ID | details |\n|---|---|---|\n");
        for x in &r.reasons {
            s.push_str(&format!("| {} | `{}` | {} |\n", x.kind.as_str(), cell(&x.id), cell(&x.text)));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "{} dependencies checked; coordination data from {}\n",
        r.dependencies.len(),
        cell(&r.coordination)
    ));
    for w in &r.warnings {
        s.push_str(&format!("\n> ⚠️ {}\n", cell(w)));
    }
    s
}

/// The report as a short text.
pub fn text(r: &GateReport) -> String {
    let mut s = if r.passed {
        format!("gate {}: passes ({} dependencies checked)\n", shown(&r.repo), r.dependencies.len())
    } else {
        format!("gate {}: fails, {} reason(s):\n", shown(&r.repo), r.reasons.len())
    };
    for x in &r.reasons {
        s.push_str(&format!("  {} {}: {}\n", x.kind.as_str(), x.id, x.text));
    }
    s
}
