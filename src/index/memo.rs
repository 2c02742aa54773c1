//! Results derived from immutable git objects, kept by the object's ID
//! (`idx_memo`): a tree or blob never changes under its ID, so such a
//! result never goes stale and needs no validation. ID allocation keeps here
//! the highest number each branch's entity directory holds, so a new ID does
//! not inflate and decode a 25,000-entry tree per branch every time; `show`
//! keeps an entity's last change under HEAD's commit ID (the history below
//! a commit never changes).
//!
//! A key names the object and everything else the result depends on; the
//! value is the caller's (JSON) text. Best effort like the rest of the
//! index: an unusable database means no memo, never a different answer.
//! The table keeps at most [`MAX_ROWS`] results, the most recent.

use super::db;
use rusqlite::{OptionalExtension, params};
use std::path::Path;

/// How many results are kept.
pub const MAX_ROWS: i64 = 512;

/// The result kept under `key`, if any (`None` when the index is disabled).
pub fn get(git_dir: &Path, key: &str) -> Option<String> {
    if super::disabled() {
        return None;
    }
    let conn = db::open(git_dir).ok()?;
    conn.query_row("SELECT value FROM idx_memo WHERE key = ?1", [key], |r| r.get(0)).optional().ok().flatten()
}

/// Keeps `value` under `key` (best effort), dropping the oldest results
/// beyond [`MAX_ROWS`].
pub fn put(git_dir: &Path, key: &str, value: &str) {
    if super::disabled() {
        return;
    }
    let Ok(conn) = db::open(git_dir) else { return };
    let done = (|| -> rusqlite::Result<()> {
        let tx = db::immediate(&conn)?;
        tx.execute(
            "INSERT INTO idx_memo (key, value, added_ns) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, added_ns = excluded.added_ns",
            params![key, value, super::now_ns()],
        )?;
        tx.execute(
            "DELETE FROM idx_memo WHERE key IN (SELECT key FROM idx_memo ORDER BY added_ns DESC LIMIT -1 OFFSET ?1)",
            [MAX_ROWS],
        )?;
        tx.commit()
    })();
    if let Err(e) = done {
        tracing::debug!(error = %e, "memo not kept");
    }
}
