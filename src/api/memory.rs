//! Memory operations: the coordination events derived from git history,
//! their delivery to the memory service (push, status, retry) and search
//! over them. Every operation first brings the event log up to HEAD
//! (incrementally), so it never answers from a stale log.

use super::Operation;
use super::types::Since;
use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::history::log::entity_filter;
use crate::memory::outbox::{self, Status};
use crate::memory::{Event, Memory, Query, Updated, derive, sinks};
use crate::store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Coordination events derived from git history (oldest first): what
/// changed, named by meaning (`todo.completed`, `issue.reopened`), with the
/// commit, author, time and field changes. The log is brought up to HEAD
/// first, incrementally.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Events {
    /// Only this entity's events (or a milestone's).
    #[arg(value_name = "ID")]
    #[serde(default)]
    pub id: Option<String>,
    /// Only events at or after this date (`2026-03-01`, `2 weeks ago`).
    #[arg(long, value_name = "DATE")]
    #[serde(default)]
    pub since: Option<Since>,
    /// Only these types: `todo.completed`, a kind (`todo`) or a verb
    /// (`completed`); repeatable, comma-separated.
    #[arg(long = "type", value_name = "TYPE", value_delimiter = ',')]
    #[serde(default, rename = "type", deserialize_with = "super::types::terms")]
    pub types: Vec<String>,
    /// At most this many (the newest).
    #[arg(long, short = 'n', value_name = "N")]
    #[serde(default)]
    pub limit: Option<usize>,
}

/// Events, as a list.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EventList {
    pub count: usize,
    pub items: Vec<Event>,
    /// What bringing the log up to HEAD did.
    pub updated: Updated,
}

fn open(store: &Store) -> Result<Memory> {
    Memory::open(store, "events")
}

fn canonical(store: &Store, id: &str) -> Result<String> {
    Ok(entity_filter(store, id)?.1)
}

impl Operation for Events {
    const COMMAND: &'static str = "events";
    const TOOL: &'static str = "coord_events";
    const SUMMARY: &'static str = "Coordination events derived from git history (oldest first), named by meaning (todo.completed, issue.reopened), with commit, author, time and field changes.";
    const WRITES: bool = false;
    type Output = EventList;

    fn run(&self, store: &Store) -> Result<EventList> {
        self.run_with(store, &crate::progress::NoProgress)
    }
}

impl Events {
    /// [`Operation::run`], reporting the derivation of new events.
    pub fn run_with(&self, store: &Store, progress: &dyn crate::progress::Progress) -> Result<EventList> {
        let mut mem = open(store)?;
        let updated = derive::update_with(store, &mut mem, false, progress)?;
        let q = Query {
            entity: self.id.as_deref().map(|id| canonical(store, id)).transpose()?,
            since: self.since.map(|s| s.0),
            types: self.types.clone(),
            text: None,
            limit: self.limit,
        };
        let items = derive::query(&mem, &q)?;
        Ok(EventList { count: items.len(), items, updated })
    }
}

/// Forget the derived events and derive them again from HEAD. Delivery
/// state is kept: event IDs are deterministic, so nothing is sent twice.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RebuildEvents {}

impl Operation for RebuildEvents {
    const COMMAND: &'static str = "events rebuild";
    const TOOL: &'static str = "coord_rebuild_events";
    const SUMMARY: &'static str = "Derive all coordination events again from git history (delivery state is kept).";
    const WRITES: bool = false;
    type Output = Updated;

    fn run(&self, store: &Store) -> Result<Updated> {
        self.run_with(store, &crate::progress::NoProgress)
    }
}

impl RebuildEvents {
    /// [`Operation::run`], reporting the derivation of new events.
    pub fn run_with(&self, store: &Store, progress: &dyn crate::progress::Progress) -> Result<Updated> {
        let mut mem = open(store)?;
        derive::update_with(store, &mut mem, true, progress)
    }
}

/// Deliver pending events to the memory service and webhook, oldest
/// first, once their commits are on the delivery ref (default: the
/// upstream). Stops per sink at the first failure; failed events back off.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryPush {}

/// What a push did.
pub type PushOutput = outbox::Delivery;

impl Operation for MemoryPush {
    const COMMAND: &'static str = "events push";
    const TOOL: &'static str = "coord_memory_push";
    const SUMMARY: &'static str = "Deliver pending coordination events to the memory service (Session-Buddy) and webhook, in order, once published.";
    const WRITES: bool = false;
    type Output = PushOutput;

    fn run(&self, store: &Store) -> Result<PushOutput> {
        self.run_with(store, &crate::progress::NoProgress)
    }
}

impl MemoryPush {
    /// [`Operation::run`], reporting the derivation of new events.
    pub fn run_with(&self, store: &Store, progress: &dyn crate::progress::Progress) -> Result<PushOutput> {
        if !store.settings.memory_enabled {
            return Err(Refusal::MemoryOff { key: store.settings.key("memory_enabled").to_string() }.into());
        }
        outbox::update_and_push(store, progress)
    }
}

/// The event log and the outbox: events recorded, and per sink the pending
/// count, the oldest pending event's age, the last error and the dead count.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryStatus {}

impl Operation for MemoryStatus {
    const COMMAND: &'static str = "events status";
    const TOOL: &'static str = "coord_memory_status";
    const SUMMARY: &'static str =
        "Event log and delivery state: pending count, oldest pending age, last error and dead count per sink.";
    const WRITES: bool = false;
    type Output = Status;

    fn run(&self, store: &Store) -> Result<Status> {
        self.run_with(store, &crate::progress::NoProgress)
    }
}

impl MemoryStatus {
    /// [`Operation::run`], reporting the derivation of new events.
    pub fn run_with(&self, store: &Store, progress: &dyn crate::progress::Progress) -> Result<Status> {
        let mut mem = open(store)?;
        derive::update_with(store, &mut mem, false, progress)?;
        outbox::status(store, &mem)
    }
}

/// Make pending events due now (skipping their backoff); with `dead`,
/// give dead events a fresh set of attempts.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryRetry {
    /// Revive dead events (those that failed `max_attempts` times).
    #[arg(long)]
    #[serde(default)]
    pub dead: bool,
}

/// What a retry changed.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Retried {
    /// Outbox rows made due (or revived).
    pub changed: usize,
}

impl Operation for MemoryRetry {
    const COMMAND: &'static str = "events retry";
    const TOOL: &'static str = "coord_memory_retry";
    const SUMMARY: &'static str = "Make pending events due now; with `dead`, revive dead events.";
    const WRITES: bool = false;
    type Output = Retried;

    fn run(&self, store: &Store) -> Result<Retried> {
        let mem = open(store)?;
        Ok(Retried { changed: outbox::retry(&mem, self.dead)? })
    }
}

/// Search coordination history: events whose text (titles, old and new
/// field values, commit subjects, authors) holds every word of the query,
/// each naming its commit. With `semantic`, the query also goes to the
/// memory service's own search and its answer is returned, labelled remote.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchHistory {
    /// The words to look for.
    #[arg(value_name = "QUERY")]
    pub query: String,
    /// Also ask the memory service (Session-Buddy `quick_search`).
    #[arg(long)]
    #[serde(default)]
    pub semantic: bool,
    /// At most this many events (the newest).
    #[arg(long, short = 'n', value_name = "N")]
    #[serde(default)]
    pub limit: Option<usize>,
}

/// The memory service's answer.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RemoteAnswer {
    /// Where it came from.
    pub service: String,
    /// Its answer as text (as the service wrote it), or the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Search results.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HistoryHits {
    pub count: usize,
    pub items: Vec<Event>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteAnswer>,
}

impl Operation for SearchHistory {
    const COMMAND: &'static str = "events search";
    const TOOL: &'static str = "coord_search_history";
    const SUMMARY: &'static str = "Search coordination history (events: old values, titles, commit subjects), naming commits; `semantic` also asks the memory service.";
    const WRITES: bool = false;
    type Output = HistoryHits;

    fn run(&self, store: &Store) -> Result<HistoryHits> {
        self.run_with(store, &crate::progress::NoProgress)
    }
}

impl SearchHistory {
    /// [`Operation::run`], reporting the derivation of new events.
    pub fn run_with(&self, store: &Store, progress: &dyn crate::progress::Progress) -> Result<HistoryHits> {
        if self.query.trim().is_empty() {
            return Err(Error::Fields(vec![
                crate::error::FieldError::new("query", "is empty").expected("words to search for"),
            ]));
        }
        let mut mem = open(store)?;
        derive::update_with(store, &mut mem, false, progress)?;
        let q = Query { text: Some(self.query.clone()), limit: self.limit, ..Query::default() };
        let items = derive::query(&mem, &q)?;
        let remote = self.semantic.then(|| {
            let url = store
                .settings
                .memory
                .session_buddy
                .clone()
                .unwrap_or_else(|| crate::settings::MemorySettings::DEFAULT_SESSION_BUDDY.to_string());
            let answer = sinks::SessionBuddy::new(&url)
                .map_err(|e| e.to_string())
                .and_then(|mut sb| sb.search(&self.query).map_err(|e| e.to_string()));
            match answer {
                Ok(text) => RemoteAnswer { service: url, text: Some(text), error: None },
                Err(e) => RemoteAnswer { service: url, text: None, error: Some(e) },
            }
        });
        Ok(HistoryHits { count: items.len(), items, remote })
    }
}
