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

/// A row that matched: (rid, id, kind, name, title, status, repos, score).
type Matched = (i64, String, String, String, String, Option<String>, String, f64);

/// How many ranked matches [`best_ranked`] looks up first (at least twice
/// the limit): without filters the best few settle the answer.
const FIRST_LOOKUPS: usize = 32;
/// The most it looks up at once.
const MAX_CHUNK: usize = 4096;

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
    // The filters on the file rows, as SQL and its arguments.
    let mut filters = String::new();
    let mut filter_args: Vec<Sql> = Vec::new();
    let mut any_of = |sql: &mut String, column: &str, values: Vec<String>| {
        if values.is_empty() {
            return;
        }
        sql.push_str(&format!(" AND lower({column}) IN ({})", vec!["?"; values.len()].join(", ")));
        filter_args.extend(values.into_iter().map(|v| Sql::Text(v.to_lowercase())));
    };
    any_of(&mut filters, "f.kind", q.kinds.iter().map(|k| k.dir_name().to_string()).collect());
    any_of(&mut filters, "f.status", spellings(&q.status, true));
    any_of(&mut filters, "f.priority", spellings(&q.priority, false));
    any_of(&mut filters, "f.assignee", q.assignee.clone());
    const HAS_LABEL: &str = "instr(char(10) || lower(f.labels) || char(10), char(10) || lower(?) || char(10)) > 0";
    for l in &q.label {
        filters.push_str(&format!(" AND {HAS_LABEL}"));
        filter_args.push(Sql::Text(l.clone()));
    }
    if !q.any_label.is_empty() {
        filters.push_str(&format!(" AND ({})", vec![HAS_LABEL; q.any_label.len()].join(" OR ")));
        filter_args.extend(q.any_label.iter().map(|l| Sql::Text(l.clone())));
    }
    // The repository filter runs here (names resolve through the registry).
    let by_repo = !q.repo.is_empty() || !q.any_repo.is_empty();
    let keep = |repos: &str| !by_repo || repo_ok(&repo_lines(repos));
    let matched = match &fts {
        Some(expr) => {
            best_ranked(conn, root, expr, &filters, &filter_args, limit, &keep, FIRST_LOOKUPS.max(2 * limit))?
        }
        None => full_query(conn, root, None, &filters, &filter_args, limit, &keep, by_repo)?,
    };
    let mut snippet_of = match &fts {
        Some(_) => Some(conn.prepare(&format!(
            "SELECT snippet(fts_entities, -1, '{MARK_START}', '{MARK_END}', '…', 12) FROM fts_entities \
             WHERE fts_entities MATCH ?1 AND rowid = ?2"
        ))?),
        None => None,
    };
    let mut hits = Vec::new();
    for (rid, id, kind, name, title, status, repos, score) in matched {
        let Some(kind) = Kind::from_dir_name(&kind) else { continue };
        let snippet = match (&mut snippet_of, &fts) {
            (Some(st), Some(expr)) => st.query_row(rusqlite::params![expr, rid], |r| r.get::<_, String>(0))?,
            _ => String::new(),
        };
        let snippet = if snippet.is_empty() { title.clone() } else { snippet };
        hits.push(Hit { id, kind, name, title, status, repos: repo_lines(&repos), snippet, score });
    }
    Ok(hits)
}

/// The ranking of the text (columns id, title, body, labels; the title
/// weighs most), higher is better.
const SCORE: &str = "-bm25(fts_entities, 5.0, 10.0, 1.0, 3.0)";

/// Every matching row ranked by score, then kind and ID, filtered; the
/// first `limit`. (Without a repository filter SQL cuts the ranking short.)
/// With text terms this joins every match to its row: [`best_ranked`]
/// answers those, and is tested against this.
#[allow(clippy::too_many_arguments)]
fn full_query(
    conn: &Connection,
    root: &str,
    fts: Option<&str>,
    filters: &str,
    filter_args: &[Sql],
    limit: usize,
    keep: &dyn Fn(&str) -> bool,
    by_repo: bool,
) -> rusqlite::Result<Vec<Matched>> {
    let mut sql = String::from("SELECT f.rid, f.id, f.kind, f.name, f.title, f.status, f.repos, ");
    let mut args: Vec<Sql> = Vec::new();
    match fts {
        Some(expr) => {
            sql.push_str(&format!(
                "{SCORE} AS score FROM fts_entities JOIN idx_files f ON f.rid = fts_entities.rowid \
                 WHERE fts_entities MATCH ? AND f.root = ?"
            ));
            args.push(Sql::Text(expr.to_string()));
        }
        None => sql.push_str("0.0 AS score FROM idx_files f WHERE f.root = ?"),
    }
    args.push(Sql::Text(root.to_string()));
    sql.push_str(filters);
    args.extend(filter_args.iter().cloned());
    sql.push_str(" ORDER BY score DESC, f.kind, f.id");
    if !by_repo {
        sql.push_str(&format!(" LIMIT {limit}"));
    }
    let mut st = conn.prepare(&sql)?;
    let rows = st.query_map(params_from_iter(args), matched_row)?;
    let mut out = Vec::new();
    for row in rows {
        let row = row?;
        if keep(&row.6) {
            out.push(row);
        }
        if out.len() >= limit {
            break;
        }
    }
    Ok(out)
}

/// A row's repositories (one per line).
fn repo_lines(repos: &str) -> Vec<String> {
    repos.lines().map(str::to_string).filter(|s| !s.is_empty()).collect()
}

fn matched_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Matched> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?))
}

/// The answer of the full query (rows ranked by score, then kind and ID,
/// filtered, the first `limit`) found without joining every match to its
/// row: a common word matches tens of thousands of entities. The text
/// alone is ranked (SQLite sorts the scores once, then hands them out best
/// first as they are read), and the ranked matches are looked up and
/// filtered in growing chunks (the best `first`, then four times as many,
/// up to [`MAX_CHUNK`]) until every match not yet looked up scores below
/// the last one kept — so a run of equal scores at the edge is looked up
/// whole, and which of them come first is decided by kind and ID as in the
/// full query.
#[allow(clippy::too_many_arguments)]
fn best_ranked(
    conn: &Connection,
    root: &str,
    expr: &str,
    filters: &str,
    filter_args: &[Sql],
    limit: usize,
    keep: &dyn Fn(&str) -> bool,
    first: usize,
) -> rusqlite::Result<Vec<Matched>> {
    let mut ranking = conn.prepare(&format!(
        "SELECT rowid, {SCORE} AS score FROM fts_entities WHERE fts_entities MATCH ?1 ORDER BY score DESC"
    ))?;
    let mut ranked = ranking.query_map([expr], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?)))?;
    let mut next = ranked.next().transpose()?;
    let mut kept: Vec<Matched> = Vec::new();
    let (mut chunk, mut looked) = (first.max(1), 0);
    loop {
        let mut part: Vec<(i64, f64)> = Vec::with_capacity(chunk);
        while part.len() < chunk
            && let Some(r) = next.take()
        {
            part.push(r);
            next = ranked.next().transpose()?;
        }
        chunk = (chunk * 4).min(MAX_CHUNK);
        looked += part.len();
        if !part.is_empty() {
            let score: std::collections::HashMap<i64, f64> = part.iter().copied().collect();
            let rids: Vec<String> = part.iter().map(|(rid, _)| rid.to_string()).collect();
            // Each row by its ID (`+f.root`: no index on the root may be
            // chosen instead, which would read every row of the root).
            let sql = format!(
                "SELECT f.rid, f.id, f.kind, f.name, f.title, f.status, f.repos, 0.0 FROM idx_files f \
                 WHERE f.rid IN ({}) AND +f.root = ?{filters}",
                rids.join(", ")
            );
            let mut args = vec![Sql::Text(root.to_string())];
            args.extend(filter_args.iter().cloned());
            for row in conn.prepare(&sql)?.query_map(params_from_iter(args), matched_row)? {
                let mut row = row?;
                if keep(&row.6) {
                    row.7 = score[&row.0];
                    kept.push(row);
                }
            }
            kept.sort_by(|a, b| b.7.total_cmp(&a.7).then_with(|| (&a.2, &a.1).cmp(&(&b.2, &b.1))));
        }
        // Every match not looked up scores at most the next one.
        let settled = match (next, kept.get(limit.saturating_sub(1))) {
            (None, _) => true,
            (Some((_, beyond)), Some(last)) => beyond < last.7,
            (Some(_), None) => false,
        };
        if settled {
            tracing::debug!(looked, kept = kept.len(), "ranked matches looked up");
            kept.truncate(limit);
            return Ok(kept);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ranked_chunks_give_the_full_querys_answer_and_stop_early() {
        // Scores vary and tie (one to three "alpha"s per task); one todo in
        // five is completed.
        let todos: Vec<(Entity, String)> = (1..=60)
            .map(|n| {
                let id = format!("TODO-{n:03}");
                let status = if n % 5 == 0 { "completed" } else { "pending" };
                let text = format!(
                    "id: {id}\ntask: {}task {n}\nrepo: r{}\nstatus: {status}\n",
                    "alpha ".repeat(1 + n % 3),
                    n % 4
                );
                let map: serde_yaml::Mapping = serde_yaml::from_str(&text).unwrap();
                (Entity::read(Kind::Todo, id.clone(), map).0, format!("{id}.yaml"))
            })
            .collect();
        let conn = in_memory(todos.iter().map(|(e, name)| (e, name.clone()))).unwrap();
        let ids = |m: &[Matched]| m.iter().map(|r| (r.1.clone(), r.7)).collect::<Vec<_>>();
        let completed = vec![Sql::Text("completed".into())];
        let cases: [(&str, &str, &[Sql]); 3] =
            [("\"alpha\"", "", &[]), ("\"alpha\"", " AND lower(f.status) IN (?)", &completed), ("\"task\"", "", &[])];
        // Answers settled before every match was looked up.
        let mut early = 0;
        for (expr, filters, args) in cases {
            for limit in [1, 3, 7, 20, 100] {
                let full = full_query(&conn, "/", Some(expr), filters, args, limit, &|_| true, false).unwrap();
                for first in [1, 2, 3, 7, 32, 1000] {
                    let looked = std::cell::Cell::new(0);
                    let keep = |_: &str| {
                        looked.set(looked.get() + 1);
                        true
                    };
                    let got = best_ranked(&conn, "/", expr, filters, args, limit, &keep, first).unwrap();
                    assert_eq!(ids(&got), ids(&full), "{expr}{filters} limit {limit} first {first}");
                    early += usize::from(filters.is_empty() && looked.get() < 60);
                }
            }
        }
        assert!(early > 0, "some answer was settled before every match was looked up");
    }
}
