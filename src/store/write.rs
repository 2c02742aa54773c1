//! Writes: a new entity's file, a minimal-diff update verified by
//! re-parsing, removal, renaming, and the atomic write (temp file + rename)
//! with the handling of temp files a killed writer left behind.
//!
//! Locking by type: every function here that writes an entity file is
//! crate-private and takes the [`StoreLock`] of this store's root (from
//! [`Store::lock`], normally through `ops::write_lock`), so code that does
//! not hold the lock cannot call it — the compiler refuses. An update stamps
//! `updated` itself, so no write path can change an entity without it.

use super::legacy::{legacy_date_sample, legacy_item, legacy_item_span, remove_legacy_item};
use super::{Origin, ParseError, Record, Store, StoreLock, edit, files, parse_mapping, scan};
use crate::error::{Error, Result};
use crate::model::{Entity, Kind};
use crate::settings::Limits;
use serde_yaml::Mapping;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The outcome of an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Only the changed lines were edited.
    Minimal,
    /// The format-preserving edit was impossible; the entity was rewritten
    /// canonically (only when that lost no comment or anchor, or with `--rewrite`).
    Canonical,
    /// Nothing differed.
    Unchanged,
}

impl Store {
    /// Adds the ignore rule for the atomic write's temp files
    /// ([`files::TEMP_IGNORE_LINE`]) to the root's `.gitignore`, unless it is
    /// there. Returns the file when it was changed; nothing outside a git
    /// repository.
    pub fn ensure_temp_ignore(&self) -> Result<Option<PathBuf>> {
        if self.root.worktree.is_none() {
            return Ok(None);
        }
        let path = self.root.dir.join(".gitignore");
        let current = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(&path, e)),
        };
        if current.lines().any(|l| l.trim() == files::TEMP_IGNORE_LINE) {
            return Ok(None);
        }
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str("# Temp files of git-coord's atomic writes (left only by a killed writer).\n");
        text.push_str(files::TEMP_IGNORE_LINE);
        text.push('\n');
        atomic_write(&path, text.as_bytes())?;
        Ok(Some(self.rel(&path)))
    }

    /// Every stale temp file of a killed writer: in `coordination/`, each
    /// kind's directory and `settings/`.
    /// Never through a link out of the root.
    pub fn stale_temp_files(&self) -> Vec<(PathBuf, std::time::Duration)> {
        let mut dirs = vec![self.root.dir.join("settings")];
        if files::check_dir(&self.coord_dir()).unwrap_or(false) {
            dirs.push(self.coord_dir());
            dirs.extend(Kind::ALL.iter().map(|k| self.kind_dir(*k)).filter(|d| files::check_dir(d).unwrap_or(false)));
        }
        dirs.iter().flat_map(|d| files::stale_temps(d)).collect()
    }

    /// Writes a new entity to its own file (canonical key order). Refuses to
    /// overwrite an existing file.
    pub(crate) fn write_new(&self, lock: &StoreLock, entity: &Entity) -> Result<PathBuf> {
        self.check_lock(lock)?;
        let path = self.entity_path(entity.kind(), entity.id())?;
        // Never write through a link out of the root.
        files::check_dir(&self.coord_dir()).map_err(|e| self.relative(e))?;
        files::check_dir(&self.kind_dir(entity.kind())).map_err(|e| self.relative(e))?;
        if std::fs::symlink_metadata(&path).is_ok() {
            return Err(Error::Exists { path: self.rel(&path) });
        }
        let dir = path.parent().expect("entity path has a parent");
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let text = canonical_text(&entity.to_mapping())?;
        atomic_write(&path, text.as_bytes())?;
        Ok(path)
    }

    /// Writes `new` over `record` with a minimal diff (see [`edit`]).
    ///
    /// When no minimal edit verifies (an anchor whose alias would change too,
    /// a construct the editor does not handle), the entity is rewritten
    /// canonically — but only when that loses nothing: a file (or legacy
    /// item) with comments or anchors/aliases is refused with
    /// [`Error::RewriteRefused`], naming the construct and its line, unless
    /// [`Store::allow_rewrite`] is set.
    ///
    /// A change stamps `new`'s `updated` with today's date before writing.
    pub(crate) fn write_update(&self, lock: &StoreLock, record: &Record, new: &mut Entity) -> Result<WriteMode> {
        self.write_update_as(lock, record, new, Durability::Synced)
    }

    /// [`Store::write_update`] with the choice of [`Durability`].
    pub(crate) fn write_update_as(
        &self,
        lock: &StoreLock,
        record: &Record,
        new: &mut Entity,
        durability: Durability,
    ) -> Result<WriteMode> {
        self.check_lock(lock)?;
        if record.is_broken() {
            return Err(Error::Broken {
                id: record.entity.id().to_string(),
                path: self.rel(record.origin.path()),
                problems: record.problems.iter().filter(|p| p.code == "type").map(|p| p.to_string()).collect(),
            });
        }
        let old_map = record.entity.to_mapping();
        if old_map == new.to_mapping() {
            return Ok(WriteMode::Unchanged);
        }
        let path = record.origin.path();
        let max = self.settings.limits.max_file_bytes;
        let text = match &record.origin {
            Origin::File(p) => files::read_text(p, max),
            Origin::Legacy(p) => files::read_text_following(p, max),
        }
        .map_err(|e| self.relative(e))?;
        // The editor never sees text beyond the limits either.
        scan::scan(&text, &self.settings.limits).map_err(|e| ParseError::Limit(e).into_error(self.rel(path)))?;
        let kind = new.kind();
        // A legacy item's `updated` is stamped the way the section writes its
        // timestamps (the Python tool reads `'2026-01-15T00:00:00'`, not a date).
        let sample = match &record.origin {
            Origin::Legacy(_) => {
                self.parse(&text).ok().and_then(|doc| legacy_date_sample(&doc, kind, record.entity.id()))
            }
            Origin::File(_) => None,
        };
        new.set_updated(match sample {
            Some(like) => crate::model::CoordDate::stamp_like(crate::model::date::now(), &like),
            None => self.today(),
        });
        let new_map = new.to_mapping();
        let new: &Entity = new;
        let id = new.id();
        let locate = match &record.origin {
            Origin::File(_) => edit::Locate::Root,
            Origin::Legacy(_) => edit::Locate::Legacy { section: kind.dir_name(), id },
        };
        let verify = |candidate: &str| -> bool {
            let Ok(doc) = self.parse(candidate) else {
                return false;
            };
            let map = match &record.origin {
                Origin::File(_) => Some(doc),
                // Read back as the loader reads it: a todo's repo taken from
                // its issue is not written into the item, a nickname stays.
                Origin::Legacy(_) => legacy_item(&doc, kind, id).map(|m| match doc.get("coordination") {
                    Some(serde_yaml::Value::Mapping(coord)) => super::legacy::legacy_normalized(
                        kind,
                        coord,
                        &m,
                        &crate::ecosystem::Registry::from_document(&doc, &self.rel(path)).0,
                    ),
                    _ => m,
                }),
            };
            map.is_some_and(|m| Entity::read(kind, id.to_string(), m).0.to_mapping() == new_map)
        };
        let patched = edit::patch_text(&text, locate, &old_map, &new_map);
        if let Err(e) = &patched {
            tracing::debug!(id, error = %e, "format-preserving edit failed");
        }
        let reason = match patched {
            Ok(candidate) if verify(&candidate) => {
                replace(path, candidate.as_bytes(), durability)?;
                return Ok(WriteMode::Minimal);
            }
            Ok(_) => "the edited file does not read back as the intended change".to_string(),
            Err(e) => e.to_string(),
        };
        if !self.allow_rewrite {
            self.refuse_lossy_rewrite(record, &text, reason)?;
        }
        let fallback = match &record.origin {
            Origin::File(_) => canonical_text(&new_map)?,
            Origin::Legacy(_) => {
                edit::replace_legacy_item(&text, kind.dir_name(), id, &new_map).map_err(|e| Error::LegacyEdit {
                    path: self.rel(path),
                    section: kind.dir_name(),
                    id: id.to_string(),
                    expected: e.to_string(),
                })?
            }
        };
        if !verify(&fallback) {
            return Err(Error::Unverified { path: self.rel(path), id: id.to_string() });
        }
        replace(path, fallback.as_bytes(), durability)?;
        Ok(WriteMode::Canonical)
    }

    /// Renames the file `from` of an entity of `kind` to `<id>.yaml`, the
    /// name its `id` says (doctor's repair). Refuses when that name is taken,
    /// and never through a link out of the root. The content is unchanged.
    pub(crate) fn rename_entity_file(&self, lock: &StoreLock, kind: Kind, from: &Path, id: &str) -> Result<PathBuf> {
        self.check_lock(lock)?;
        let target = self.entity_path(kind, id)?;
        files::check_dir(&self.coord_dir()).map_err(|e| self.relative(e))?;
        files::check_dir(&self.kind_dir(kind)).map_err(|e| self.relative(e))?;
        if std::fs::symlink_metadata(&target).is_ok() {
            return Err(Error::Exists { path: self.rel(&target) });
        }
        std::fs::rename(from, &target).map_err(|e| Error::io(from, e))?;
        Ok(target)
    }

    /// Refuses a lock on another root: it guards nothing here.
    pub(crate) fn check_lock(&self, lock: &StoreLock) -> Result<()> {
        if lock.root() == self.root.dir {
            return Ok(());
        }
        Err(Error::WrongLock { root: self.root.dir.clone(), held: lock.root().to_path_buf() })
    }

    /// Refuses a canonical rewrite of `record` that would drop comments or
    /// anchors/aliases (of its item only, for a legacy item).
    fn refuse_lossy_rewrite(&self, record: &Record, text: &str, reason: String) -> Result<()> {
        let id = record.entity.id();
        let (segment, offset) = match &record.origin {
            Origin::File(_) => (text, 0),
            Origin::Legacy(_) => match legacy_item_span(text, id) {
                Some((start, end)) => (&text[start..end], text[..start].matches('\n').count()),
                None => (text, 0),
            },
        };
        let Ok(f) = scan::scan(segment, &Limits { max_file_bytes: u64::MAX, max_yaml_depth: usize::MAX }) else {
            return Ok(());
        };
        let comments = match f.comments {
            0 => None,
            1 => Some("its comment".to_string()),
            n => Some(format!("its {n} comments")),
        };
        let (construct, line) = match (&f.first_anchor, f.first_comment) {
            (Some((line, text)), _) => {
                let what = if text.starts_with('&') { "anchor" } else { "alias" };
                (
                    format!(
                        "the file uses YAML anchors/aliases ({what} `{text}` here), which a minimal edit cannot keep"
                    ),
                    *line,
                )
            }
            (None, Some(line)) => {
                ("no minimal edit is possible and the file has comments (the first here)".to_string(), line)
            }
            (None, None) => return Ok(()),
        };
        let loses = match (comments, f.first_anchor.is_some()) {
            (Some(c), true) => format!("{c} and its anchors/aliases"),
            (Some(c), false) => c,
            (None, _) => "its anchors/aliases".to_string(),
        };
        Err(Error::RewriteRefused(Box::new(crate::error::RewriteRefusal {
            id: id.to_string(),
            path: self.rel(record.origin.path()),
            line: line + offset,
            construct,
            loses,
            reason,
        })))
    }

    /// Removes an entity (its file, or its item in the legacy section).
    pub(crate) fn remove(&self, lock: &StoreLock, record: &Record) -> Result<()> {
        self.check_lock(lock)?;
        match &record.origin {
            Origin::File(p) => std::fs::remove_file(p).map_err(|e| Error::io(p, e)),
            Origin::Legacy(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
                let kind = record.entity.kind();
                let id = record.entity.id();
                let new = remove_legacy_item(&text, kind.dir_name(), id).ok_or_else(|| Error::LegacyEdit {
                    path: self.rel(p),
                    section: kind.dir_name(),
                    id: id.to_string(),
                    expected: "the item in a list under `coordination`".to_string(),
                })?;
                let check = parse_mapping(&new).ok().is_some_and(|d| legacy_item(&d, kind, id).is_none());
                if !check {
                    return Err(Error::Unverified { path: self.rel(p), id: id.to_string() });
                }
                atomic_write(p, new.as_bytes())
            }
        }
    }
}

/// Serialises a mapping in canonical form.
pub fn canonical_text(map: &Mapping) -> Result<String> {
    serde_yaml::to_string(map).map_err(|e| Error::Serialize {
        id: map.get("id").and_then(crate::model::reader::scalar_text).unwrap_or_default(),
        message: e.to_string(),
    })
}

/// Writes `bytes` to a temp file in the same directory, then renames it over
/// `path`, so a crash never leaves a half-written file.
///
/// The temp file is named `.coord-XXXXXX.tmp` ([`files::is_temp_name`]);
/// after the rename, temp files of that pattern in the same directory that
/// are older than [`files::STALE_AFTER`] — left by writers that were killed —
/// are removed.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    replace(path, bytes, Durability::Synced)
}

/// Whether a write waits for the data to reach the disk (fsync) before the
/// rename. Either way readers see the old or the new file, never a mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// fsync'd: after a power loss the file holds the new version.
    Synced,
    /// Not fsync'd: after a power loss the file may hold the version
    /// before. For a change that recovery undoes anyway (a todo's
    /// `in_progress` while a run works on it) or whose last version is
    /// written durably (a run record while its run goes on).
    Unsynced,
}

/// [`atomic_write`] without the fsync: still all-or-nothing for readers
/// (temp file + rename), but after a power loss the file may hold an older
/// version. For files rewritten many times a second whose last version is
/// written durably (a run record while its run goes on).
pub fn atomic_write_unsynced(path: &Path, bytes: &[u8]) -> Result<()> {
    replace(path, bytes, Durability::Unsynced)
}

fn replace(path: &Path, bytes: &[u8], durability: Durability) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(files::TEMP_PREFIX)
        .suffix(files::TEMP_SUFFIX)
        .rand_bytes(files::TEMP_RANDOM_LEN)
        .tempfile_in(dir)
        .map_err(|e| Error::io(dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(tmp.path(), e))?;
    if durability == Durability::Synced {
        tmp.as_file().sync_all().map_err(|e| Error::io(tmp.path(), e))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).map(|m| m.permissions().mode()).unwrap_or(0o644);
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode));
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    files::sweep_stale_temps(dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    /// Writing without the lock does not compile (every write function takes
    /// a `&StoreLock`); what is left to check at run time is that the lock
    /// is this store's.
    #[test]
    fn a_lock_on_another_root_guards_no_write() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (store_a, store_b) =
            (Store::open_uninitialised(a.path()).unwrap(), Store::open_uninitialised(b.path()).unwrap());
        let lock_b = store_b.lock().unwrap();
        let entity = crate::ops::blank::blank(Kind::Issue, "ISSUE-001".into(), store_a.today());
        let e = store_a.write_new(&lock_b, &entity).unwrap_err();
        assert!(e.to_string().contains("under the lock of"), "{e}");
        assert!(!store_a.kind_dir(Kind::Issue).exists(), "nothing was written");
        let lock_a = store_a.lock().unwrap();
        let path = store_a.write_new(&lock_a, &entity).unwrap();
        assert!(path.exists());
    }
}
