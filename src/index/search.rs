//! Full-text search over the index: FTS5 with BM25 ranking (a match in the
//! title weighs most), `field:value` terms (`status:pending repo:api
//! label:bug kind:todo priority:high assignee:ann`) as filters, and a
//! snippet of the best-matching column with the matches marked.

use super::text::Columns;
use crate::model::vocab::Vocab;
use crate::model::*;
use rusqlite::{Connection, params_from_iter, types::Value as Sql};

/// Marks the start and end of a match in a snippet (replaced by the front
/// end: bold on a terminal, `**` in JSON).
pub const MARK_START: char = '\u{2}';
/// See [`MARK_START`].
pub const MARK_END: char = '\u{3}';

/// A parsed search request.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Free-text terms (all must match; a trailing `*` matches a prefix).
    pub terms: Vec<String>,
    pub kinds: Vec<Kind>,
    pub status: Vec<String>,
    pub priority: Vec<String>,
    /// Repositories that must each be among an entity's (query terms).
    pub repo: Vec<String>,
    /// Labels that must each be on an entity (query terms).
    pub label: Vec<String>,
    /// Assignees, any of them.
    pub assignee: Vec<String>,
    /// Repositories of which one must be among an entity's (a filter flag).
    pub any_repo: Vec<String>,
    /// Labels of which one must be on an entity (a filter flag).
    pub any_label: Vec<String>,
}

/// A `field:value` term naming no known field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownField(pub String);

/// The fields a query term may filter on.
pub const FIELDS: &[&str] = &["status", "repo", "label", "kind", "priority", "assignee"];

impl Query {
    /// Splits `text` into terms and `field:value` filters. A `word:rest`
    /// whose word is not a field is an error (a typo must not silently
    /// become a text term); quote it (`"a:b"`) to search for it.
    pub fn parse(text: &str) -> Result<Query, UnknownField> {
        let mut q = Query::default();
        for tok in text.split_whitespace() {
            let quoted = tok.len() >= 2 && tok.starts_with('"') && tok.ends_with('"');
            match tok.split_once(':') {
                Some((field, value)) if !quoted && !value.is_empty() && !field.is_empty() => {
                    let v = value.to_string();
                    match field.to_ascii_lowercase().as_str() {
                        "status" => q.status.push(v),
                        "repo" => q.repo.push(v),
                        "label" => q.label.push(v),
                        "priority" => q.priority.push(v),
                        "assignee" => q.assignee.push(v),
                        "kind" => match Kind::ALL.iter().find(|k| k.noun() == v || k.dir_name() == v) {
                            Some(k) => q.kinds.push(*k),
                            None => return Err(UnknownField(format!("kind:{v}"))),
                        },
                        _ => return Err(UnknownField(field.to_string())),
                    }
                }
                _ => q.terms.push(tok.trim_matches('"').to_string()),
            }
        }
        q.terms.retain(|t| !t.is_empty());
        Ok(q)
    }

    /// The FTS5 expression: each term a quoted string (so no user text is
    /// FTS syntax), a trailing `*` kept as a prefix match.
    fn fts(&self) -> Option<String> {
        let parts: Vec<String> = self
            .terms
            .iter()
            .filter_map(|t| {
                let (word, prefix) = match t.strip_suffix('*') {
                    Some(w) => (w, true),
                    None => (t.as_str(), false),
                };
                let word = word.trim();
                (!word.is_empty())
                    .then(|| format!("\"{}\"{}", word.replace('"', "\"\""), if prefix { "*" } else { "" }))
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// Every canonical spelling a status or priority word may stand for (the
/// aliases differ per kind: `pending` is a plan's `draft`).
fn spellings(values: &[String], status: bool) -> Vec<String> {
    let mut out = Vec::new();
    for v in values {
        out.push(v.to_ascii_lowercase());
        if status {
            out.extend(IssueStatus::parse(v).map(|s| s.as_str().to_string()));
            out.extend(TodoStatus::parse(v).map(|s| s.as_str().to_string()));
            out.extend(PlanStatus::parse(v).map(|s| s.as_str().to_string()));
            out.extend(DepStatus::parse(v).map(|s| s.as_str().to_string()));
        } else {
            out.extend(Priority::parse(v).map(|s| s.as_str().to_string()));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// One search result.
#[derive(Debug, Clone)]
pub struct Hit {
    pub id: String,
    pub kind: Kind,
    /// The file name in its kind's directory.
    pub name: String,
    pub title: String,
    pub status: Option<String>,
    pub repos: Vec<String>,
    /// The best-matching passage, matches between [`MARK_START`] and [`MARK_END`].
    pub snippet: String,
    /// BM25 relevance (higher is better; 0 without free-text terms).
    pub score: f64,
}

/// Runs `q` over the rows of `root`. `repo_ok` decides the repository
/// filter (names resolve through the registry, which the index does not
/// hold). Results are ranked best first; at most `limit`.
pub fn run(
    conn: &Connection,
    root: &str,
    q: &Query,
    limit: usize,
    repo_ok: &dyn Fn(&[String]) -> bool,
) -> rusqlite::Result<Vec<Hit>> {
    let fts = q.fts();
    // Ranked first without snippets (a snippet is costly, and a common word
    // matches tens of thousands of rows); snippets only for the hits kept.
    let mut sql = String::from("SELECT f.rid, f.id, f.kind, f.name, f.title, f.status, f.repos, ");
    let mut args: Vec<Sql> = Vec::new();
    match &fts {
        Some(expr) => {
            // Columns: id, title, body, labels. The title weighs most.
            sql.push_str(
                "-bm25(fts_entities, 5.0, 10.0, 1.0, 3.0) AS score \
                 FROM fts_entities JOIN idx_files f ON f.rid = fts_entities.rowid \
                 WHERE fts_entities MATCH ? AND f.root = ?",
            );
            args.push(Sql::Text(expr.clone()));
        }
        None => sql.push_str("0.0 AS score FROM idx_files f WHERE f.root = ?"),
    }
    args.push(Sql::Text(root.to_string()));
    let mut any_of = |sql: &mut String, column: &str, values: Vec<String>| {
        if values.is_empty() {
            return;
        }
        sql.push_str(&format!(" AND lower({column}) IN ({})", vec!["?"; values.len()].join(", ")));
        args.extend(values.into_iter().map(|v| Sql::Text(v.to_lowercase())));
    };
    any_of(&mut sql, "f.kind", q.kinds.iter().map(|k| k.dir_name().to_string()).collect());
    any_of(&mut sql, "f.status", spellings(&q.status, true));
    any_of(&mut sql, "f.priority", spellings(&q.priority, false));
    any_of(&mut sql, "f.assignee", q.assignee.clone());
    const HAS_LABEL: &str = "instr(char(10) || lower(f.labels) || char(10), char(10) || lower(?) || char(10)) > 0";
    for l in &q.label {
        sql.push_str(&format!(" AND {HAS_LABEL}"));
        args.push(Sql::Text(l.clone()));
    }
    if !q.any_label.is_empty() {
        sql.push_str(&format!(" AND ({})", vec![HAS_LABEL; q.any_label.len()].join(" OR ")));
        args.extend(q.any_label.iter().map(|l| Sql::Text(l.clone())));
    }
    sql.push_str(" ORDER BY score DESC, f.kind, f.id");
    // The repository filter runs here (names resolve through the registry),
    // so SQL can cut the ranking short only without one.
    let by_repo = !q.repo.is_empty() || !q.any_repo.is_empty();
    if !by_repo {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params_from_iter(args), |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, f64>(7)?,
        ))
    })?;
    let mut snippet_of = match &fts {
        Some(_) => Some(conn.prepare(&format!(
            "SELECT snippet(fts_entities, -1, '{MARK_START}', '{MARK_END}', '…', 12) FROM fts_entities \
             WHERE fts_entities MATCH ?1 AND rowid = ?2"
        ))?),
        None => None,
    };
    let mut hits = Vec::new();
    for row in rows {
        let (rid, id, kind, name, title, status, repos, score) = row?;
        let repos: Vec<String> = repos.lines().map(str::to_string).filter(|s| !s.is_empty()).collect();
        if by_repo && !repo_ok(&repos) {
            continue;
        }
        let Some(kind) = Kind::from_dir_name(&kind) else { continue };
        let snippet = match (&mut snippet_of, &fts) {
            (Some(st), Some(expr)) => st.query_row(rusqlite::params![expr, rid], |r| r.get::<_, String>(0))?,
            _ => String::new(),
        };
        let snippet = if snippet.is_empty() { title.clone() } else { snippet };
        hits.push(Hit { id, kind, name, title, status, repos, snippet, score });
        if hits.len() >= limit {
            break;
        }
    }
    Ok(hits)
}

/// An index in memory over already loaded entities: what search runs on
/// when the on-disk index is switched off or there is no git directory.
pub fn in_memory<'a>(entities: impl Iterator<Item = (&'a Entity, String)>) -> rusqlite::Result<Connection> {
    let conn = Connection::open_in_memory()?;
    conn.execute_batch("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")?;
    super::db::rebuild(&conn)?;
    let tx = conn.unchecked_transaction()?;
    {
        let mut ins = tx.prepare(
            "INSERT INTO idx_files (root, kind, name, size, mtime_ns, ino, indexed_ns, id, map, status, priority, \
             assignee, title, repos, labels) VALUES ('/', ?1, ?2, 0, 0, 0, 0, ?3, '{}', ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        let mut fts =
            tx.prepare("INSERT INTO fts_entities (rowid, id, title, body, labels) VALUES (?1, ?2, ?3, ?4, ?5)")?;
        for (e, name) in entities {
            let c = Columns::of(e);
            ins.execute(rusqlite::params![
                e.kind().dir_name(),
                name,
                e.id(),
                c.status,
                c.priority,
                c.assignee,
                c.title,
                c.repos,
                c.labels
            ])?;
            fts.execute(rusqlite::params![tx.last_insert_rowid(), e.id(), c.title, c.body, c.labels])?;
        }
    }
    tx.commit()?;
    Ok(conn)
}
