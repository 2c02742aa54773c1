//! The one-line texts that go with the structured answers of the read-only
//! tools (reports, history, checks): what an agent reads first, so each
//! names the headline numbers and IDs.

use super::server::Summary;
use crate::api::checks::{DoctorReport, LintReport};
use crate::api::history::DiffOutput;
use crate::api::reports::{DepGraphOutput, ReadyList, RepoList, WithWarnings, WorkloadReport};
use crate::graph::{BlockedByReport, BlockingReport, EcosystemStatus, RepoStatus, RepoValidation, Roadmap};
use crate::history::{Log, Review};

fn ids<'a>(list: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = list.collect();
    if v.is_empty() { "none".into() } else { v.join(", ") }
}

impl<T> Summary for WithWarnings<T>
where
    T: Summary,
{
    fn summary(&self) -> String {
        let s = self.report.summary();
        match self.warnings.len() {
            0 => s,
            n => format!("{s} ({n} warning(s): entities skipped)"),
        }
    }
}

impl Summary for ReadyList {
    fn summary(&self) -> String {
        format!("{} ready: {}", self.count, ids(self.items.iter().map(|t| t.todo.id.as_str())))
    }
}

impl Summary for BlockingReport {
    fn summary(&self) -> String {
        format!(
            "{}: {} open issue(s), {} unsatisfied dependency(ies), {} blocked todo(s) ({})",
            self.repo,
            self.open_issues.len(),
            self.unsatisfied_dependencies.len(),
            self.blocked_todos.len(),
            ids(self.blocked_todos.iter().map(|t| t.todo.id.as_str()))
        )
    }
}

impl Summary for BlockedByReport {
    fn summary(&self) -> String {
        format!(
            "{} blocks {} repository(ies) ({}) and {} entity(ies) ({})",
            self.repo,
            self.repos.len(),
            ids(self.repos.iter().map(String::as_str)),
            self.entities.len(),
            ids(self.entities.iter().map(|e| e.id.as_str()))
        )
    }
}

impl Summary for RepoStatus {
    fn summary(&self) -> String {
        let t = &self.todos;
        format!(
            "{}: {} open issue(s); todos {} pending, {} in progress, {} blocked, {} completed",
            self.repo,
            self.open_issues.len(),
            t.pending,
            t.in_progress,
            t.blocked,
            t.completed
        )
    }
}

impl Summary for EcosystemStatus {
    fn summary(&self) -> String {
        let why = if self.reasons.is_empty() { String::new() } else { format!(" ({})", self.reasons.join("; ")) };
        format!(
            "{}{why}: {} repositories, {} open issue(s), {} ready todo(s)",
            self.health, self.repos, self.open_issues, self.ready_todos
        )
    }
}

impl Summary for Roadmap {
    fn summary(&self) -> String {
        let late = self.plans.iter().filter(|p| p.late).count();
        format!(
            "{} plan(s): {}; {late} will miss the target",
            self.plans.len(),
            ids(self.plans.iter().map(|p| p.id.as_str()))
        )
    }
}

impl Summary for WorkloadReport {
    fn summary(&self) -> String {
        let open: usize = self.rows.iter().map(|r| r.open_todos).sum();
        format!("{open} open todo(s) in {} group(s)", self.rows.len())
    }
}

impl Summary for DepGraphOutput {
    fn summary(&self) -> String {
        match (&self.text, &self.edges) {
            (Some(t), _) => t.clone(),
            (None, Some(e)) => format!("{} node(s), {} edge(s)", self.nodes.as_ref().map_or(0, Vec::len), e.len()),
            (None, None) => String::new(),
        }
    }
}

impl Summary for RepoValidation {
    fn summary(&self) -> String {
        let failed: Vec<String> =
            self.checks.iter().filter(|c| c.status != "ok").map(|c| format!("{}: {}", c.check, c.detail)).collect();
        match failed.is_empty() {
            true => format!("{}: ok ({} check(s))", self.repo, self.checks.len()),
            false => format!("{}: {}", self.repo, failed.join("; ")),
        }
    }
}

impl Summary for RepoList {
    fn summary(&self) -> String {
        format!("{} repositories: {}", self.count, ids(self.items.iter().filter_map(|r| r["name"].as_str())))
    }
}

impl Summary for Log {
    fn summary(&self) -> String {
        let what = self.id.as_deref().unwrap_or("coordination data");
        let lines: Vec<String> =
            self.commits.iter().map(|c| format!("{} {}", c.commit.short, c.commit.summary)).collect();
        format!("{} commit(s) changed {what}\n{}", self.commits.len(), lines.join("\n")).trim_end().to_string()
    }
}

impl Summary for DiffOutput {
    fn summary(&self) -> String {
        let d = &self.diff;
        if d.changes.is_empty() {
            return format!("no coordination changes ({} → {})", d.range.from, d.range.to);
        }
        let text = crate::history::render::text(&d.changes);
        format!("{} entities changed ({} → {}):\n{}", d.changes.len(), d.range.from, d.range.to, text.trim_end())
    }
}

impl Summary for Review {
    fn summary(&self) -> String {
        format!(
            "{} against {}: {} change(s), {} error(s) introduced ({} problem(s), {} collision(s), {} unsatisfied, {} newly blocked)",
            self.head,
            self.base,
            self.changes.len(),
            self.errors,
            self.introduced.len(),
            self.collisions.len(),
            self.unsatisfied.len(),
            self.newly_blocked.len()
        )
    }
}

impl Summary for LintReport {
    fn summary(&self) -> String {
        let mut s =
            format!("{} entities checked: {} error(s), {} warning(s)", self.entities, self.errors, self.warnings);
        for p in self.problems.iter().take(20) {
            s.push_str(&format!("\n{}: {p}", if p.is_error() { "error" } else { "warning" }));
        }
        s
    }
}

impl Summary for DoctorReport {
    fn summary(&self) -> String {
        let mut s = format!("{} finding(s)", self.findings.len());
        for f in self.findings.iter().take(20) {
            s.push_str(&format!("\n[{}] {} {}", f.code, f.id, f.message));
        }
        s
    }
}
