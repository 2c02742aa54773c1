//! The list operations' plain case answered from the index
//! ([`crate::index::listing`]): the kind's rows are brought up to date
//! (under the file-system monitor only the files it names are read), then
//! the rows whose status is kept come back as JSON, merged with the legacy
//! section's items exactly as a load merges them (a file overrides an item
//! with its ID, with the same warning) and in the same order.
//!
//! Anything out of the plain case — no index, a directory that is not a
//! plain one, a file that does not read cleanly, twins — answers `None`, and
//! the caller loads the files.

use super::{Loaded, Record, Store, files};
use crate::index::listing::{self, Statuses};
use crate::model::Kind;
use crate::model::id::natural_parts;

/// One listed item, in load order.
#[derive(Debug)]
pub enum Listed {
    /// An entity file's row (its status and priority already kept).
    Row(listing::Row),
    /// An item of the legacy section (every status: the caller filters).
    Legacy(Box<Record>),
}

impl Store {
    /// The items of `kind` whose status `statuses` keeps and whose priority
    /// is one of `priorities` (any when empty; legacy items are not
    /// filtered), answered from the index, in natural ID order, with what a
    /// load of the kind would give besides (the registry and every problem,
    /// in the same order); `None` when the index does not answer (see the
    /// module docs).
    pub fn list_from_index(
        &self,
        kind: Kind,
        statuses: Statuses<'_>,
        priorities: &[String],
    ) -> Option<(Loaded, Vec<Listed>)> {
        if crate::index::disabled() {
            return None;
        }
        let (git_dir, prefix) = (self.root.git_dir()?, self.root.prefix_in_repo()?);
        let dir = self.kind_dir(kind);
        if !matches!(files::check_dir(&self.coord_dir()), Ok(true)) || !matches!(files::check_dir(&dir), Ok(true)) {
            return None;
        }
        // Files that do not read are the full load's to report, with lines.
        if !self.refresh_index(&[kind])?.is_empty() {
            return None;
        }
        let (mut loaded, mut legacy) = self.load_base(&[kind], None);
        let legacy_recs = legacy.remove(&kind).unwrap_or_default();
        let conn =
            crate::index::db::open(&git_dir).map_err(|e| tracing::debug!(error = %e, "index unavailable")).ok()?;
        let ids: Vec<&str> = legacy_recs.iter().map(|r| r.entity.id()).collect();
        let (rows, holders) = listing::rows(&conn, &crate::index::root_key(&prefix), kind, statuses, priorities, &ids)
            .map_err(|e| tracing::debug!(error = %e, "the index does not answer the list"))
            .ok()??;
        drop(ids);
        let holder: std::collections::HashMap<String, std::path::PathBuf> = legacy_recs
            .iter()
            .zip(holders)
            .filter_map(|(r, name)| Some((r.entity.id().to_string(), dir.join(name?))))
            .collect();
        let kept = self.merge_legacy(legacy_recs, |id| holder.get(id).cloned(), &mut loaded.problems);
        // Natural ID order; load order (files by name, then the legacy
        // items as they come) breaks ties, as in a load. Each key is made
        // once.
        let items: Vec<Listed> =
            rows.into_iter().map(Listed::Row).chain(kept.into_iter().map(|r| Listed::Legacy(Box::new(r)))).collect();
        // (natural ID, from the legacy section, file name, position)
        type Key<'a> = ((&'a str, u64, &'a str), bool, &'a str, usize);
        let mut order: Vec<Key<'_>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Listed::Row(r) => (natural_parts(&r.id), false, r.name.as_str(), i),
                Listed::Legacy(r) => (natural_parts(r.entity.id()), true, "", i),
            })
            .collect();
        order.sort_unstable();
        let order: Vec<usize> = order.into_iter().map(|(_, _, _, i)| i).collect();
        let mut slots: Vec<Option<Listed>> = items.into_iter().map(Some).collect();
        let items: Vec<Listed> = order.into_iter().filter_map(|i| slots[i].take()).collect();
        for item in &items {
            if let Listed::Legacy(r) = item {
                loaded.problems.extend(r.problems.iter().cloned());
            }
        }
        tracing::debug!(kind = kind.dir_name(), items = items.len(), "listed from the index");
        Some((loaded, items))
    }
}
