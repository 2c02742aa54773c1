//! The store: coordination data on disk, one YAML file per entity plus the
//! legacy `coordination:` section of `settings/ecosystem.yaml`.
//!
//! Loading aggregates both (the file wins when an ID is in both, with a
//! warning naming both places) and never lets one broken file hide the rest:
//! problems are collected with file, line and field. Writing goes through
//! `Store::write_new`, `Store::write_update`, `Store::remove` and
//! `Store::rename_entity_file` only — atomic (temp file + rename),
//! minimal-diff, verified by re-parsing. They are crate-private and take the
//! [`StoreLock`], so no write can happen without the lock (see `write`).
//!
//! This file holds the [`Store`] and the loaded data set; the work is in
//! its modules: `load` (loading, through the index), `legacy` (the legacy
//! section), `parse` (text to mapping, limits), [`lines`] (line numbers),
//! `write` (writes, atomic write, temp files), [`ids`] (ID allocation,
//! natural order), `neighbourhood` (one entity's surroundings from the
//! index, for `show-*`) and `lock` (the write lock).

pub mod edit;
pub mod files;
pub mod ids;
mod legacy;
pub mod lines;
mod listing;
mod load;
mod lock;
mod look;
mod neighbourhood;
mod parse;
pub mod root;
pub mod scan;
mod write;

use crate::error::{Error, Result};
use crate::model::Kind;
use crate::model::id::validate_id;
use crate::problem::Problem;
use crate::settings::Settings;
use std::path::{Path, PathBuf};

pub use crate::model::loaded::{Loaded, Origin, Record};
pub use ids::{Allocated, natural_key};
pub(crate) use legacy::legacy_normalized;
pub use lines::{Locator, line_of_key, locate};
pub use listing::Listed as IndexListed;
pub use load::Snapshot;
pub use lock::{LockWait, StoreLock, on_lock_wait};
pub use parse::{ParseError, parse_document, parse_mapping};
pub use root::Root;
pub use write::{Durability, WriteMode, atomic_write, atomic_write_unsynced, canonical_text};

/// The coordination store of one root.
#[derive(Debug, Clone)]
pub struct Store {
    pub root: Root,
    pub settings: Settings,
    /// Warnings from reading settings.
    pub settings_warnings: Vec<Problem>,
    /// Let an update rewrite a file canonically when a minimal edit is
    /// impossible even though that drops its comments or anchors (`--rewrite`).
    /// Off by default: such an update is refused (see [`Store::write_update`]).
    pub allow_rewrite: bool,
}

impl Store {
    /// Opens the store for the coordination root discovered from `start`;
    /// [`Error::NotCoordRepo`] when there is none (only `init` creates one).
    pub fn open(start: &Path) -> Result<Store> {
        let store = Store::open_uninitialised(start)?;
        if !store.root.found {
            return Err(Error::NotCoordRepo(store.root.dir.clone()));
        }
        Ok(store)
    }

    /// Opens the store where a coordination root is or would be created,
    /// found or not: for `init` only.
    pub fn open_uninitialised(start: &Path) -> Result<Store> {
        let root = Root::discover(start)?;
        let (settings, settings_warnings) = Settings::load(&root.dir)?;
        Ok(Store { root, settings, settings_warnings, allow_rewrite: false })
    }

    /// `<root>/coordination`.
    pub fn coord_dir(&self) -> PathBuf {
        self.root.dir.join("coordination")
    }

    /// The directory of one kind.
    pub fn kind_dir(&self, kind: Kind) -> PathBuf {
        self.coord_dir().join(kind.dir_name())
    }

    /// The file an entity of `kind` with `id` lives in.
    pub fn entity_path(&self, kind: Kind, id: &str) -> Result<PathBuf> {
        validate_id(id)?;
        Ok(self.kind_dir(kind).join(format!("{id}.yaml")))
    }

    /// `<root>/settings/ecosystem.yaml`.
    pub fn ecosystem_path(&self) -> PathBuf {
        self.root.dir.join("settings/ecosystem.yaml")
    }

    /// A path relative to the root, for messages.
    pub fn rel(&self, p: &Path) -> PathBuf {
        p.strip_prefix(&self.root.dir).map(Path::to_path_buf).unwrap_or_else(|_| p.to_path_buf())
    }

    /// Today, at the settings' date precision: the `updated` stamp of a write.
    pub fn today(&self) -> crate::model::CoordDate {
        crate::model::CoordDate::stamp(crate::model::date::now(), self.settings.date_precision)
    }

    /// The ID prefix for a kind.
    pub fn prefix(&self, kind: Kind) -> &str {
        self.settings.id_prefixes.for_kind(kind)
    }

    /// An error with its path made relative to the root, for messages.
    fn relative(&self, e: Error) -> Error {
        match e {
            Error::NotRegular { path, what } => Error::NotRegular { path: self.rel(&path), what },
            Error::TooLarge { path, bytes, limit } => Error::TooLarge { path: self.rel(&path), bytes, limit },
            Error::Io { path, source } => Error::Io { path: self.rel(&path), source },
            other => other,
        }
    }
}
