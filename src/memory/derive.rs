//! Keeps the event log in step with `HEAD`: derives the events of the
//! commits not seen yet (from the cursor), re-derives everything when
//! history was rewritten under the cursor (a rebase or force-push), and
//! queues new events for delivery in the same transaction when memory is on.
//!
//! Commits are read with [`crate::history::log`], the same walk as `git coord
//! log`, so events say exactly what `log` shows.

use super::db;
use super::events::{self, Event};
use crate::error::Result;
use crate::history::{GitRepo, LogOptions};
use crate::progress::{Finish, NoProgress, Progress};
use crate::store::Store;
use rusqlite::{OptionalExtension, params};
use schemars::JsonSchema;
use serde::Serialize;
use std::path::PathBuf;

/// What an update did.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Updated {
    /// The commit derived up to (HEAD), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// Events recorded by this update.
    pub new_events: usize,
    /// Events queued for delivery by this update.
    pub queued: usize,
    /// Whether history was rewritten under the cursor (all re-derived).
    pub rewritten: bool,
    /// Undelivered outbox rows dropped because their commits left history
    /// (after a rewrite; the events themselves are re-derived from HEAD).
    pub removed: usize,
}

/// The memory database of a store's repository, and the repository.
pub struct Memory {
    pub repo: GitRepo,
    pub conn: crate::index::db::Conn,
    pub db_path: PathBuf,
}

impl Memory {
    /// Opens the repository and the database.
    pub fn open(store: &Store, what: &'static str) -> Result<Memory> {
        let repo = GitRepo::open(store, what)?;
        let git_dir = repo.repo.common_dir().to_path_buf();
        let conn = db::open(&git_dir)?;
        Ok(Memory { repo, conn, db_path: db::path(&git_dir) })
    }

    fn err(&self, e: rusqlite::Error) -> crate::error::Error {
        db::err(&self.db_path, e)
    }
}

/// The sinks events are queued for.
pub fn sinks(store: &Store) -> Vec<&'static str> {
    let m = &store.settings.memory;
    let mut v = Vec::new();
    if m.session_buddy.is_some() {
        v.push("session_buddy");
    }
    if m.webhook.is_some() {
        v.push("webhook");
    }
    v
}

/// Brings the event log up to HEAD. With `rebuild`, forgets the events and
/// the cursor first (delivery state is kept: event IDs are deterministic).
pub fn update(store: &Store, mem: &mut Memory, rebuild: bool) -> Result<Updated> {
    update_with(store, mem, rebuild, &NoProgress)
}

/// Forwards a phase's reports but not its end: the history walk inside an
/// update is one phase of it, and the bar stays up while events are recorded.
struct Phase<'a>(&'a dyn Progress);

impl Progress for Phase<'_> {
    fn start(&self, len: u64, message: &str) {
        self.0.start(len, message);
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {}
}

/// [`update`], reporting the commits read (the first derivation reads the
/// whole history) and the events recorded. Nothing is reported when the
/// log is already at HEAD.
pub fn update_with(store: &Store, mem: &mut Memory, rebuild: bool, progress: &dyn Progress) -> Result<Updated> {
    let _done = Finish(progress);
    if rebuild {
        mem.conn.execute_batch("DELETE FROM events; DELETE FROM event_cursor;").map_err(|e| mem.err(e))?;
    }
    let Some(head) = mem.repo.head()? else { return Ok(Updated::default()) };
    let cursor: Option<String> = mem
        .conn
        .query_row("SELECT commit_id FROM event_cursor WHERE name = 'HEAD'", [], |r| r.get(0))
        .optional()
        .map_err(|e| mem.err(e))?;
    let head_hex = head.to_string();
    let mut out = Updated { head: Some(head_hex.clone()), ..Updated::default() };
    if cursor.as_deref() == Some(head_hex.as_str()) {
        return Ok(out);
    }
    // The cursor is still in history when it is an ancestor of HEAD.
    let base = cursor.as_deref().and_then(|c| gix::ObjectId::from_hex(c.as_bytes()).ok());
    let incremental = match base {
        Some(b) => mem.repo.repo.find_commit(b).is_ok() && mem.repo.merge_base(b, head)? == Some(b),
        None => false,
    };
    out.rewritten = cursor.is_some() && !incremental;
    let rev = match (incremental, base) {
        (true, Some(b)) => format!("{b}..{head_hex}"),
        _ => head_hex.clone(),
    };
    let log = crate::history::log::log_with(
        store,
        &LogOptions { rev: Some(rev), ..LogOptions::default() },
        &Phase(progress),
    )?;
    let mut derived: Vec<Event> = Vec::new();
    for entry in log.commits.iter().rev() {
        derived.extend(events::derive(&entry.commit, &entry.changes));
    }
    let sinks = if store.settings.memory_enabled { sinks(store) } else { Vec::new() };
    let now = crate::model::date::now().timestamp();
    let full = !incremental;
    let tx = mem.conn.transaction().map_err(|e| db::err(&mem.db_path, e))?;
    let e = |e| db::err(&mem.db_path, e);
    if full {
        // Everything is re-derived: forget what is no longer in history,
        // keeping what was delivered (it happened, as far as the service knows).
        tx.execute_batch(
            "DELETE FROM events; CREATE TEMP TABLE IF NOT EXISTS live(id TEXT PRIMARY KEY); DELETE FROM live;",
        )
        .map_err(e)?;
        {
            let mut ins = tx.prepare("INSERT OR IGNORE INTO live(id) VALUES (?1)").map_err(e)?;
            for ev in &derived {
                ins.execute([&ev.id]).map_err(e)?;
            }
        }
        out.removed = tx
            .execute("DELETE FROM outbox WHERE state <> 'delivered' AND event_id NOT IN (SELECT id FROM live)", [])
            .map_err(e)?;
    }
    progress.start(derived.len() as u64, "recording events");
    {
        let mut ins = tx
            .prepare(
                "INSERT OR IGNORE INTO events(id, type, kind, entity, commit_id, seconds, json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(e)?;
        let mut queue = tx
            .prepare(
                "INSERT OR IGNORE INTO outbox(event_id, sink, commit_id, payload, enqueued) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(e)?;
        for ev in &derived {
            let json = serde_json::to_string(ev).unwrap_or_default();
            let n = ins
                .execute(params![ev.id, ev.event_type, ev.kind, ev.entity, ev.commit, ev.seconds, json])
                .map_err(e)?;
            out.new_events += n;
            for sink in &sinks {
                out.queued += queue.execute(params![ev.id, sink, ev.commit, json, now]).map_err(e)?;
            }
            progress.inc(1);
        }
    }
    tx.execute(
        "INSERT INTO event_cursor(name, commit_id) VALUES ('HEAD', ?1)
         ON CONFLICT(name) DO UPDATE SET commit_id = excluded.commit_id",
        [&head_hex],
    )
    .map_err(e)?;
    tx.commit().map_err(e)?;
    Ok(out)
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// One entity (canonical ID) or milestone.
    pub entity: Option<String>,
    /// At or after (seconds).
    pub since: Option<i64>,
    /// Event types: exact (`todo.completed`), a kind (`todo`) or a verb (`completed`).
    pub types: Vec<String>,
    /// Words that must all occur in the event (any case).
    pub text: Option<String>,
    pub limit: Option<usize>,
}

/// The recorded events matching `q`, oldest first.
pub fn query(mem: &Memory, q: &Query) -> Result<Vec<Event>> {
    let e = |e| db::err(&mem.db_path, e);
    let mut sql = String::from("SELECT json FROM events WHERE 1 = 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(id) = &q.entity {
        sql.push_str(" AND (entity = ? OR json_extract(json, '$.milestone') = ?)");
        args.push(id.clone().into());
        args.push(id.clone().into());
    }
    if let Some(s) = q.since {
        sql.push_str(" AND seconds >= ?");
        args.push(s.into());
    }
    if !q.types.is_empty() {
        let mut ors = Vec::new();
        for t in &q.types {
            if t.contains('.') {
                ors.push("type = ?");
                args.push(t.clone().into());
            } else {
                ors.push("(kind = ? OR type LIKE ? OR type LIKE ?)");
                args.push(t.clone().into());
                args.push(format!("{t}.%").into());
                args.push(format!("%.{t}").into());
            }
        }
        sql.push_str(&format!(" AND ({})", ors.join(" OR ")));
    }
    if let Some(text) = &q.text {
        for w in text.split_whitespace() {
            sql.push_str(" AND instr(lower(json), ?) > 0");
            args.push(w.to_lowercase().into());
        }
    }
    sql.push_str(" ORDER BY seq");
    let mut stmt = mem.conn.prepare(&sql).map_err(e)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, String>(0)).map_err(e)?;
    let mut out = Vec::new();
    for r in rows {
        let json = r.map_err(e)?;
        if let Ok(ev) = serde_json::from_str::<Event>(&json) {
            out.push(ev);
        }
    }
    if let Some(l) = q.limit
        && out.len() > l
    {
        out.drain(..out.len() - l);
    }
    Ok(out)
}
