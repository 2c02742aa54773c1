//! The neighbourhood of one entity, from the index alone: the files that
//! hold or mention an ID, then the IDs those files hold or mention, a few
//! steps out. `show-*` computes an entity's relations (its blockers, what
//! it blocks, its todos, plans and milestone, each with title and status)
//! over this neighbourhood instead of over every entity: the relations are
//! at most three reference steps away (a todo's milestone's plan's
//! blockers; a milestone's blocked plan's milestones' todos), and the graph
//! built over a neighbourhood has exactly the edges among those nodes that
//! the whole graph has (an edge is declared in a file at one of its ends).

use super::graph;
use crate::model::{Entity, Kind};
use rusqlite::{Connection, params};

/// How many reference steps out a neighbourhood reaches.
pub const STEPS: usize = 3;

/// Every ID a file mentions besides its own: its references, and a plan's
/// milestones (a milestone lives in its plan's file).
pub fn mentions(e: &Entity) -> Vec<&str> {
    let mut out: Vec<&str> = e.references().iter().map(|r| r.target).collect();
    if let Entity::Plan(p) = e {
        out.extend(p.milestones.iter().map(|m| m.id.as_str()));
    }
    out.sort_unstable();
    out.dedup();
    out.retain(|t| *t != e.id());
    out
}

/// One file of a neighbourhood: its kind, name and slim entity (see
/// [`graph::slim`]); or one of the extra entities given (`extra` set, its
/// index among them).
pub struct Found {
    pub kind: Kind,
    pub name: String,
    pub entity: Entity,
    pub extra: Option<usize>,
}

/// The files within [`STEPS`] steps of `id` under the root `root`, and the
/// `extra` entities (not in the index: the legacy section's items) within
/// as many steps. `None` when the index cannot answer alike a full load: a
/// file without a graph row, two files holding one ID, or more than `max`
/// files (then loading everything is as cheap).
pub fn around(
    conn: &Connection,
    root: &str,
    id: &str,
    max: usize,
    extra: &[(Kind, Entity)],
) -> rusqlite::Result<Option<Vec<Found>>> {
    let mut by_id =
        conn.prepare_cached("SELECT kind, name, id, g FROM idx_files WHERE root = ?1 AND kind = ?2 AND id = ?3")?;
    let mut by_mention = conn.prepare_cached(
        "SELECT f.kind, f.name, f.id, f.g FROM idx_refs r JOIN idx_files f ON f.rid = r.rid \
         WHERE r.target = ?1 AND f.root = ?2",
    )?;
    let mut files: rustc_hash::FxHashMap<(Kind, String), Found> = Default::default();
    let mut holders: rustc_hash::FxHashMap<String, (Kind, String)> = Default::default();
    let mut seen: rustc_hash::FxHashSet<String> = Default::default();
    seen.insert(id.to_string());
    let mut frontier = vec![id.to_string()];
    type RawRow = (String, String, String, Option<String>);
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<RawRow> { Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)) };
    for _ in 0..STEPS {
        let mut raw: Vec<RawRow> = Vec::new();
        for x in &frontier {
            for kind in Kind::ALL {
                raw.extend(
                    by_id.query_map(params![root, kind.dir_name(), x], row)?.collect::<rusqlite::Result<Vec<_>>>()?,
                );
            }
            raw.extend(by_mention.query_map(params![x, root], row)?.collect::<rusqlite::Result<Vec<_>>>()?);
        }
        let mut next = Vec::new();
        for (i, (kind, e)) in extra.iter().enumerate() {
            let key = (*kind, format!("\0{i}"));
            if files.contains_key(&key) || !frontier.iter().any(|x| e.id() == x || mentions(e).contains(&x.as_str())) {
                continue;
            }
            if holders.insert(e.id().to_string(), key.clone()).is_some() {
                return Ok(None);
            }
            for m in std::iter::once(e.id()).chain(mentions(e)) {
                if seen.insert(m.to_string()) {
                    next.push(m.to_string());
                }
            }
            files.insert(key, Found { kind: *kind, name: String::new(), entity: e.clone(), extra: Some(i) });
        }
        for (kind, name, fid, g) in raw {
            let Some(kind) = Kind::ALL.into_iter().find(|k| k.dir_name() == kind) else { return Ok(None) };
            if files.contains_key(&(kind, name.clone())) {
                continue;
            }
            match holders.get(&fid) {
                Some(other) if *other != (kind, name.clone()) => return Ok(None),
                _ => {
                    holders.insert(fid.clone(), (kind, name.clone()));
                }
            }
            let Some(entity) = g.and_then(|g| graph::decode(kind, fid.clone(), &g)) else { return Ok(None) };
            for m in std::iter::once(entity.id()).chain(mentions(&entity)) {
                if seen.insert(m.to_string()) {
                    next.push(m.to_string());
                }
            }
            files.insert((kind, name.clone()), Found { kind, name, entity, extra: None });
            if files.len() > max {
                return Ok(None);
            }
        }
        frontier = next;
    }
    // An ID of the neighbourhood held by a file outside it too (a twin)
    // would make the full load choose between them: not answered here.
    for (fid, (kind, name)) in &holders {
        if name.starts_with('\0') {
            continue;
        }
        let n: i64 = conn.query_row(
            "SELECT count(*) FROM idx_files WHERE root = ?1 AND kind = ?2 AND id = ?3",
            params![root, kind.dir_name(), fid],
            |r| r.get(0),
        )?;
        if n != 1 {
            return Ok(None);
        }
    }
    Ok(Some(files.into_values().collect()))
}
