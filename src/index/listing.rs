//! Lists answered from the index. Each file's row keeps its entity as the
//! list operations give it (`j`: the JSON of [`Entity::to_mapping`]), so a
//! list of a kind whose rows are current is one query: no file read, no
//! entity built, only the rows whose status is kept.
//!
//! It answers only the plain case. A kind with a name that is no entity, a
//! file with problems, an entity with no JSON form or two files holding one
//! ID gets `None`, and the caller loads the files, whose answer is the
//! reference (the problems need the files' text for their lines; which twin
//! wins is decided by the full load).

use crate::model::{Entity, Kind};
use rusqlite::{Connection, OptionalExtension, params_from_iter, types::Value};

/// The JSON the list operations give for `e`, as stored; `None` when it has
/// none (a tag or a key JSON cannot hold: the full load reports it).
pub fn encode(e: &Entity) -> Option<String> {
    serde_json::to_value(e.to_mapping()).ok().map(|v| v.to_string())
}

/// Which statuses a list keeps, as canonical words (what the `status`
/// column holds; an unknown status is kept as written, so it never equals
/// a canonical word).
#[derive(Debug, Clone, Copy)]
pub enum Statuses<'a> {
    /// Every status.
    Any,
    /// Only these.
    Only(&'a [String]),
    /// All but these (the finished ones).
    Not(&'a [&'a str]),
}

/// One listed file: its ID, its name in the kind's directory, and its
/// entity's JSON ([`encode`]).
#[derive(Debug)]
pub struct Row {
    pub id: String,
    pub name: String,
    pub json: String,
}

/// What [`rows`] reads: the listed rows, and for each ID asked about the
/// name of the file holding it, if one does.
pub type Read = (Vec<Row>, Vec<Option<String>>);

/// The rows of `kind` under `root` whose status `statuses` keeps and whose
/// priority is one of `priorities` (any when empty), in no particular order,
/// with the file holding each of `ids` (the legacy section's, which a file
/// overrides); `None` when the kind is not plain (see the module docs). The
/// rows must be current (brought up to date first); the checks and the rows
/// are read in one transaction, so they agree.
pub fn rows(
    conn: &Connection,
    root: &str,
    kind: Kind,
    statuses: Statuses<'_>,
    priorities: &[String],
    ids: &[&str],
) -> rusqlite::Result<Option<Read>> {
    let tx = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Deferred)?;
    let kind_name = kind.dir_name();
    // Served by the partial index `idx_files_odd`, and by `idx_files_id`.
    let plain: bool = tx.query_row(
        "SELECT NOT EXISTS (SELECT 1 FROM idx_skipped WHERE root = ?1 AND kind = ?2) \
         AND NOT EXISTS (SELECT 1 FROM idx_files WHERE root = ?1 AND kind = ?2 AND (clean = 0 OR j IS NULL)) \
         AND NOT EXISTS (SELECT 1 FROM idx_files WHERE root = ?1 AND kind = ?2 GROUP BY id HAVING count(*) > 1)",
        [root, kind_name],
        |r| r.get(0),
    )?;
    if !plain {
        tracing::debug!(kind = kind_name, "the index does not answer the list: a file is not plain");
        return Ok(None);
    }
    let mut sql = String::from("SELECT id, name, j FROM idx_files WHERE root = ?1 AND kind = ?2");
    let mut args: Vec<Value> = vec![Value::Text(root.to_string()), Value::Text(kind_name.to_string())];
    let mut within = |column: &str, negate: bool, words: &mut dyn Iterator<Item = &str>| {
        let start = args.len();
        args.extend(words.map(|w| Value::from(w.to_string())));
        let marks: Vec<String> = (start + 1..=args.len()).map(|i| format!("?{i}")).collect();
        sql.push_str(&format!(" AND {column} {}IN ({})", if negate { "NOT " } else { "" }, marks.join(", ")));
    };
    match statuses {
        Statuses::Any => {}
        Statuses::Only(words) => within("status", false, &mut words.iter().map(String::as_str)),
        Statuses::Not(words) => within("status", true, &mut words.iter().copied()),
    }
    if !priorities.is_empty() {
        within("priority", false, &mut priorities.iter().map(String::as_str));
    }
    let rows = {
        let mut st = tx.prepare(&sql)?;
        st.query_map(params_from_iter(args), |r| Ok(Row { id: r.get(0)?, name: r.get(1)?, json: r.get(2)? }))?
            .collect::<rusqlite::Result<Vec<Row>>>()?
    };
    let holders = {
        let mut st =
            tx.prepare("SELECT name FROM idx_files WHERE root = ?1 AND kind = ?2 AND id = ?3 ORDER BY name LIMIT 1")?;
        ids.iter()
            .map(|id| st.query_row([root, kind_name, id], |r| r.get(0)).optional())
            .collect::<rusqlite::Result<Vec<Option<String>>>>()?
    };
    tx.commit()?;
    Ok(Some((rows, holders)))
}
