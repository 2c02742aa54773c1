//! Loading the neighbourhood of one entity from the index
//! ([`crate::index::neighbours`]): what `show-*` computes relations over,
//! instead of every entity. The legacy section's items (not in the index)
//! take part as a load reads them, less those a file overrides. Any doubt —
//! no index, an index that cannot be brought up to date, a twin ID, a file
//! without a graph row, a very large neighbourhood — gives `None`, and the
//! caller loads everything.

use super::load::sort_natural;
use super::{Loaded, Origin, Record, Store, files};
use crate::error::Result;
use crate::model::Kind;

/// Above this many files, loading everything is about as cheap.
const MAX_FILES: usize = 20_000;

impl Store {
    /// A graph load ([`Store::load_for_graph`]) limited to the files within
    /// a few reference steps of `id`; `None` when the index cannot answer
    /// exactly as a full load would.
    pub fn load_neighbourhood(&self, id: &str) -> Result<Option<Loaded>> {
        if crate::index::disabled() {
            return Ok(None);
        }
        let (Some(git_dir), Some(prefix)) = (self.root.git_dir(), self.root.prefix_in_repo()) else {
            return Ok(None);
        };
        // The registry and the legacy section's items, read as a load reads
        // them (a load without any entity file).
        let path = self.ecosystem_path();
        let text = match path.exists() {
            false => None,
            true => match files::read_text_following(&path, self.settings.limits.max_file_bytes) {
                Ok(t) => Some(t),
                Err(_) => return Ok(None),
            },
        };
        let mut loaded =
            self.load_snapshot(&super::Snapshot { ecosystem: text, files: Default::default() }, &Kind::ALL)?;
        let Some(_) = self.refresh_index(&Kind::ALL) else { return Ok(None) };
        let Ok(conn) = crate::index::db::open(&git_dir) else { return Ok(None) };
        let root = crate::index::root_key(&prefix);
        // Legacy items less those a file overrides (the file wins, wherever
        // it is).
        let mut legacy: Vec<Record> = Vec::new();
        for kind in Kind::ALL {
            for r in loaded.take_all(kind) {
                let held: rusqlite::Result<i64> = conn.query_row(
                    "SELECT count(*) FROM idx_files WHERE root = ?1 AND kind = ?2 AND id = ?3",
                    rusqlite::params![root, kind.dir_name(), r.entity.id()],
                    |row| row.get(0),
                );
                match held {
                    Ok(0) => legacy.push(r),
                    Ok(_) => {}
                    Err(_) => return Ok(None),
                }
            }
        }
        let extra: Vec<(Kind, crate::model::Entity)> =
            legacy.iter().map(|r| (r.entity.kind(), r.entity.clone())).collect();
        let found = match crate::index::neighbours::around(&conn, &root, id, MAX_FILES, &extra) {
            Ok(Some(found)) => found,
            Ok(None) => return Ok(None),
            Err(e) => {
                tracing::debug!(error = %e, "neighbourhood unreadable; loading everything");
                return Ok(None);
            }
        };
        tracing::debug!(id, files = found.len(), "neighbourhood");
        let mut by_kind: std::collections::HashMap<Kind, Vec<Record>> = Default::default();
        let mut legacy: Vec<Option<Record>> = legacy.into_iter().map(Some).collect();
        for f in found {
            let rec = match f.extra {
                Some(i) => match legacy[i].take() {
                    Some(r) => r,
                    None => continue,
                },
                None => {
                    let path = self.kind_dir(f.kind).join(&f.name);
                    Record { entity: f.entity, origin: Origin::File(path), problems: Vec::new() }
                }
            };
            by_kind.entry(f.kind).or_default().push(rec);
        }
        loaded.kinds = Kind::ALL.to_vec();
        for kind in Kind::ALL {
            loaded.set_records(kind, sort_natural(by_kind.remove(&kind).unwrap_or_default()));
        }
        Ok(Some(loaded))
    }
}
