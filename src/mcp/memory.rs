//! How MCP summarises the memory tools' results (one text line next to the
//! structured content).

use super::server::Summary;
use crate::api::memory::{EventList, HistoryHits, PushOutput, Retried};
use crate::memory::Updated;
use crate::memory::outbox::Status;

impl Summary for EventList {
    fn summary(&self) -> String {
        format!("{} events ({} new)", self.count, self.updated.new_events)
    }
}

impl Summary for Updated {
    fn summary(&self) -> String {
        format!("{} events derived", self.new_events)
    }
}

impl Summary for PushOutput {
    fn summary(&self) -> String {
        let parts: Vec<String> = self
            .pushed
            .sinks
            .iter()
            .map(|s| match &s.stopped {
                Some(why) => format!("{}: {} delivered, stopped: {why}", s.sink, s.delivered),
                None => format!("{}: {} delivered", s.sink, s.delivered),
            })
            .collect();
        if parts.is_empty() { "no sinks configured".into() } else { parts.join("; ") }
    }
}

impl Summary for Status {
    fn summary(&self) -> String {
        let parts: Vec<String> =
            self.sinks.iter().map(|s| format!("{}: {} pending, {} dead", s.sink, s.pending, s.dead)).collect();
        format!("{} events; {}", self.events, parts.join("; "))
    }
}

impl Summary for Retried {
    fn summary(&self) -> String {
        format!("{} events made due", self.changed)
    }
}

impl Summary for HistoryHits {
    fn summary(&self) -> String {
        match &self.remote {
            Some(r) if r.text.is_some() => format!("{} events; remote answer from {}", self.count, r.service),
            Some(r) => format!("{} events; remote unavailable: {}", self.count, r.error.clone().unwrap_or_default()),
            None => format!("{} events", self.count),
        }
    }
}

impl Summary for crate::trends::Trends {
    fn summary(&self) -> String {
        let done: usize = self.buckets.iter().map(|b| b.throughput).sum();
        let mut s = format!(
            "{} todos, {} completed from {} to {}",
            self.window.todos,
            done,
            &self.window.since[..10],
            &self.window.until[..10]
        );
        if let Some(a) = &self.alerts {
            s.push_str(&format!("; {} alerts", a.len()));
        }
        s
    }
}
