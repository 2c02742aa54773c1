//! Delivering the outbox: per sink, the oldest pending event first, stopping
//! at the first event that is not yet published (not reachable from the
//! delivery ref), still backing off, or fails — so a sink receives events in
//! order. A failure doubles the event's retry delay (exponential backoff)
//! and opens the sink's circuit for the rest of the pass; after
//! `max_attempts` failures the event is `dead`: kept, set aside so later
//! events can flow, and revived by `events retry --dead`.
//!
//! Each delivery is recorded in its own transaction after the sink
//! acknowledged it: a push killed at any point loses nothing, and at worst
//! re-sends the one event in flight, under the same idempotency key.

use super::db;
use super::derive::{Memory, Updated};
use super::sinks::Sink;
use crate::error::Result;
use crate::store::Store;
use rusqlite::{OptionalExtension, params};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::HashMap;

/// The longest retry delay.
const MAX_BACKOFF: i64 = 6 * 3600;

/// What one pass did for one sink.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SinkPass {
    pub sink: String,
    /// Events the sink acknowledged in this pass.
    pub delivered: usize,
    /// Events that became dead in this pass.
    pub dead: usize,
    /// Why the pass stopped before the end of the queue, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Whether it stopped because a delivery failed (the service refused or
    /// did not answer), rather than at an unpublished or backing-off event.
    pub failed: bool,
}

/// What `events push` did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Pushed {
    /// The ref events must be reachable from, resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_ref: Option<String>,
    pub sinks: Vec<SinkPass>,
}

/// What bringing the event log up to HEAD and pushing the outbox did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Delivery {
    pub updated: Updated,
    #[serde(flatten)]
    pub pushed: Pushed,
}

impl Delivery {
    /// Whether anything was delivered or a delivery failed: what a watcher
    /// reports (an unpublished or backing-off queue is no news).
    pub fn is_news(&self) -> bool {
        self.pushed.sinks.iter().any(|s| s.delivered > 0 || s.dead > 0 || s.failed)
    }
}

/// Brings the event log up to HEAD (reporting the commits read) and runs
/// one delivery pass over the configured sinks: `events push`, and each
/// `watch` round with memory on. The caller checks `memory_enabled`.
pub fn update_and_push(store: &Store, progress: &dyn crate::progress::Progress) -> Result<Delivery> {
    let mut mem = Memory::open(store, "events push")?;
    let updated = super::derive::update_with(store, &mut mem, false, progress)?;
    let mut sinks = super::sinks::configured(store)?;
    let pushed = push(store, &mem, &mut sinks)?;
    Ok(Delivery { updated, pushed })
}

/// The ref events must be reachable from: the setting, else the upstream of
/// the current branch (`None` when there is neither).
pub fn delivery_ref(store: &Store, mem: &Memory) -> Option<String> {
    if let Some(r) = &store.settings.memory.delivery_ref {
        return Some(r.clone());
    }
    let repo = &mem.repo.repo;
    let head = repo.head_name().ok()??;
    let short = head.shorten().to_string();
    let cfg = repo.config_snapshot();
    let remote = cfg.string(format!("branch.{short}.remote").as_str())?.to_string();
    let merge = cfg.string(format!("branch.{short}.merge").as_str())?.to_string();
    let branch = merge.strip_prefix("refs/heads/").unwrap_or(&merge).to_string();
    Some(if remote == "." { format!("refs/heads/{branch}") } else { format!("refs/remotes/{remote}/{branch}") })
}

/// The retry delay after `attempts` failures.
pub fn backoff(base: u64, attempts: u32) -> i64 {
    let factor = 1i64 << attempts.saturating_sub(1).min(30);
    (base as i64).saturating_mul(factor).min(MAX_BACKOFF)
}

/// One delivery pass over every sink.
pub fn push(store: &Store, mem: &Memory, sinks: &mut [Box<dyn Sink>]) -> Result<Pushed> {
    let e = |e| db::err(&mem.db_path, e);
    let settings = &store.settings.memory;
    let dref = delivery_ref(store, mem);
    let tip = match &dref {
        Some(r) => mem.repo.resolve(r).ok(),
        None => None,
    };
    let mut reachable: HashMap<String, bool> = HashMap::new();
    let mut out = Pushed { delivery_ref: dref.clone(), sinks: Vec::new() };
    for sink in sinks.iter_mut() {
        let name = sink.name();
        let mut pass = SinkPass { sink: name.to_string(), delivered: 0, dead: 0, stopped: None, failed: false };
        loop {
            let row: Option<(i64, String, String, String, u32, i64)> = mem
                .conn
                .query_row(
                    "SELECT rowid, event_id, commit_id, payload, attempts, next_attempt FROM outbox
                     WHERE sink = ?1 AND state = 'pending' ORDER BY rowid LIMIT 1",
                    [name],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                )
                .optional()
                .map_err(e)?;
            let Some((rowid, id, commit, payload, attempts, next)) = row else { break };
            let published = *reachable.entry(commit.clone()).or_insert_with(|| is_ancestor(mem, &commit, tip));
            if !published {
                pass.stopped = Some(match &dref {
                    Some(r) => format!("event {id} is not yet on {r} (commit {})", &commit[..commit.len().min(7)]),
                    None => "no delivery ref: the branch has no upstream and `memory.ref` is not set".to_string(),
                });
                break;
            }
            let now = crate::model::date::now().timestamp();
            if next > now {
                pass.stopped = Some(format!("event {id} is backing off for {} s", next - now));
                break;
            }
            match sink.deliver(&id, &payload) {
                Ok(()) => {
                    mem.conn
                        .execute(
                            "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, delivered = ?2,
                             last_error = NULL WHERE rowid = ?1",
                            params![rowid, now],
                        )
                        .map_err(e)?;
                    pass.delivered += 1;
                }
                Err(err) => {
                    let msg = err.to_string();
                    let attempts = attempts + 1;
                    let dead = attempts >= settings.max_attempts;
                    mem.conn
                        .execute(
                            "UPDATE outbox SET attempts = ?2, next_attempt = ?3, last_error = ?4,
                             state = CASE WHEN ?5 THEN 'dead' ELSE state END WHERE rowid = ?1",
                            params![rowid, attempts, now + backoff(settings.backoff_seconds, attempts), msg, dead],
                        )
                        .map_err(e)?;
                    pass.dead += usize::from(dead);
                    // The circuit opens: no more requests to this sink in this pass.
                    pass.stopped = Some(format!("{name}: {msg}"));
                    pass.failed = true;
                    break;
                }
            }
        }
        out.sinks.push(pass);
    }
    Ok(out)
}

fn is_ancestor(mem: &Memory, commit: &str, tip: Option<gix::ObjectId>) -> bool {
    let (Some(tip), Ok(c)) = (tip, gix::ObjectId::from_hex(commit.as_bytes())) else { return false };
    c == tip || mem.repo.merge_base(c, tip).ok().flatten() == Some(c)
}

/// The outbox of one sink, for `events status`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SinkStatus {
    pub sink: String,
    pub pending: i64,
    pub delivered: i64,
    pub dead: i64,
    /// When the oldest pending event was queued (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_pending: Option<String>,
    /// Its age in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oldest_pending_age_seconds: Option<i64>,
    /// The most recent delivery error (of a pending or dead event).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When the next attempt of the first pending event is due (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt: Option<String>,
}

/// The state of the event log and the outbox.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Status {
    /// Whether events are queued for delivery (`memory_enabled`).
    pub memory_enabled: bool,
    /// Events recorded.
    pub events: i64,
    /// The commit events are derived up to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The ref events must be reachable from before delivery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery_ref: Option<String>,
    pub sinks: Vec<SinkStatus>,
    /// The database file.
    pub database: String,
}

fn rfc3339(s: i64) -> String {
    chrono::DateTime::from_timestamp(s, 0).map(|d| d.to_rfc3339()).unwrap_or_default()
}

/// `events status`.
pub fn status(store: &Store, mem: &Memory) -> Result<Status> {
    let e = |e| db::err(&mem.db_path, e);
    let c = &mem.conn;
    let events: i64 = c.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).map_err(e)?;
    let cursor = c
        .query_row("SELECT commit_id FROM event_cursor WHERE name = 'HEAD'", [], |r| r.get(0))
        .optional()
        .map_err(e)?;
    let mut names: Vec<String> = super::derive::sinks(store).iter().map(|s| s.to_string()).collect();
    let mut stmt = c.prepare("SELECT DISTINCT sink FROM outbox ORDER BY sink").map_err(e)?;
    for s in stmt.query_map([], |r| r.get::<_, String>(0)).map_err(e)? {
        let s = s.map_err(e)?;
        if !names.contains(&s) {
            names.push(s);
        }
    }
    let now = crate::model::date::now().timestamp();
    let mut sinks = Vec::new();
    for name in names {
        let count = |state: &str| -> Result<i64> {
            c.query_row("SELECT count(*) FROM outbox WHERE sink = ?1 AND state = ?2", [name.as_str(), state], |r| {
                r.get(0)
            })
            .map_err(e)
        };
        let first: Option<(i64, i64)> = c
            .query_row(
                "SELECT enqueued, next_attempt FROM outbox WHERE sink = ?1 AND state = 'pending' ORDER BY rowid LIMIT 1",
                [&name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(e)?;
        let last_error: Option<String> = c
            .query_row(
                "SELECT last_error FROM outbox WHERE sink = ?1 AND state <> 'delivered' AND last_error IS NOT NULL
                 ORDER BY next_attempt DESC LIMIT 1",
                [&name],
                |r| r.get(0),
            )
            .optional()
            .map_err(e)?;
        sinks.push(SinkStatus {
            pending: count("pending")?,
            delivered: count("delivered")?,
            dead: count("dead")?,
            oldest_pending: first.map(|f| rfc3339(f.0)),
            oldest_pending_age_seconds: first.map(|f| (now - f.0).max(0)),
            next_attempt: first.filter(|f| f.1 > 0).map(|f| rfc3339(f.1)),
            last_error,
            sink: name,
        });
    }
    Ok(Status {
        memory_enabled: store.settings.memory_enabled,
        events,
        cursor,
        delivery_ref: delivery_ref(store, mem),
        sinks,
        database: mem.db_path.display().to_string(),
    })
}

/// Makes pending events due now; with `dead`, also makes dead events
/// pending again with a fresh attempt count. Returns how many changed.
pub fn retry(mem: &Memory, dead: bool) -> Result<usize> {
    let e = |e| db::err(&mem.db_path, e);
    let sql = if dead {
        "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt = 0 WHERE state = 'dead'"
    } else {
        "UPDATE outbox SET next_attempt = 0 WHERE state = 'pending' AND next_attempt > 0"
    };
    mem.conn.execute(sql, []).map_err(e)
}
