//! How MCP summarises the pool execution tools' results (one text line next
//! to the structured content).

use super::server::Summary;
use crate::api::exec::{Cancelled, RunStarted, RunView};

impl Summary for RunStarted {
    fn summary(&self) -> String {
        match (&self.run_id, self.dry_run) {
            (_, true) => format!("dry run: {} tasks planned", self.tasks.len()),
            (Some(id), false) => format!("{id}: {}", self.status),
            (None, false) => self.status.clone(),
        }
    }
}

impl Summary for RunView {
    fn summary(&self) -> String {
        let s = &self.summary;
        format!(
            "{} {}: {} tasks, {} succeeded, {} failed, {} skipped, {} untrusted, {} not started, {} cancelled",
            self.id, self.status, s.total, s.succeeded, s.failed, s.skipped, s.untrusted, s.not_started, s.cancelled
        )
    }
}

impl Summary for Cancelled {
    fn summary(&self) -> String {
        format!("{}: {}", self.run_id, self.status)
    }
}

impl Summary for crate::exec::validate::PlanValidation {
    fn summary(&self) -> String {
        let failed: Vec<String> =
            self.checks.iter().filter(|c| c.status != "ok").map(|c| format!("{}: {}", c.check, c.detail)).collect();
        let done = self.milestones.iter().filter(|m| m.met).count();
        format!(
            "{} {} ({}/{} milestones complete{}){}",
            self.plan,
            if self.valid { "is valid" } else { "is not valid" },
            done,
            self.milestones.len(),
            if self.updated.is_empty() { String::new() } else { format!(", marked {}", self.updated.join(", ")) },
            if failed.is_empty() { String::new() } else { format!(": {}", failed.join("; ")) }
        )
    }
}
