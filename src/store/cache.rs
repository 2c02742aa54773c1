//! A parse cache for entity files, kept in the git directory (never in the
//! work tree; for a linked work tree, in its own per-worktree git directory,
//! since its files have their own inodes and modification times): for each file, its size, inode and modification time, and the
//! parsed mapping. A file whose stamp matches is not re-parsed; YAML parsing
//! is the bulk of a full load, so this is what keeps whole-ecosystem commands
//! fast on large ecosystems.
//!
//! Like git's index, it guards against "racy" files: an entry is trusted only
//! when the file was last modified well before the cache was written, so an
//! edit within the same clock tick is never missed. Only files that read
//! without any problem are cached (problems need the text for line numbers).
//! `GIT_COORD_NO_CACHE=1` turns it off.

use crate::model::Kind;
use serde::{Deserialize, Serialize};
use serde_yaml::Mapping;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

// 2: entries from before the size/depth limits and the text-key check must
// not be served, so a file cached by an older binary is read (and checked) again.
const VERSION: u32 = 2;
/// Files modified less than this long before the cache was written are not trusted.
const RACY_NS: u128 = 2_000_000_000;

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub mtime_ns: u128,
    pub size: u64,
    pub ino: u64,
}

impl Stamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &std::fs::Metadata) -> Option<Stamp> {
        let mtime_ns = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos();
        #[cfg(unix)]
        let ino = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let ino = 0;
        Some(Stamp { mtime_ns, size: meta.len(), ino })
    }
}

#[derive(Serialize, Deserialize)]
struct Entry {
    stamp: Stamp,
    map: Mapping,
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    written_ns: u128,
    entries: HashMap<String, Entry>,
}

/// The cache of one entity directory.
pub struct ParseCache {
    path: PathBuf,
    written_ns: u128,
    entries: HashMap<String, Entry>,
    fresh: Vec<(String, Entry)>,
}

impl ParseCache {
    /// Opens the cache for `kind` under the coordination root `prefix` (the
    /// root's path inside the repository). `None` outside a repository or
    /// when disabled.
    pub fn open(worktree: Option<&Path>, prefix: Option<&str>, kind: Kind) -> Option<ParseCache> {
        if std::env::var_os("GIT_COORD_NO_CACHE").is_some_and(|v| v != "0") {
            return None;
        }
        let dir = super::root::git_dir(worktree?)?.join("git-coord");
        let root = match prefix? {
            "" => "root".to_string(),
            p => p.replace(['/', '\\'], "%"),
        };
        let path = dir.join(format!("cache-{root}-{}.json", kind.dir_name()));
        let (written_ns, entries) = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<File>(&bytes).ok())
            .filter(|f| f.version == VERSION)
            .map(|f| (f.written_ns, f.entries))
            .unwrap_or_default();
        Some(ParseCache { path, written_ns, entries, fresh: Vec::new() })
    }

    /// The cached mapping for `name` if its stamp matches and is not racy.
    pub fn get(&self, name: &str, stamp: &Stamp) -> Option<Mapping> {
        let e = self.entries.get(name)?;
        (e.stamp == *stamp && stamp.mtime_ns + RACY_NS < self.written_ns).then(|| e.map.clone())
    }

    /// Records a freshly parsed file (written on [`ParseCache::save`]).
    pub fn put(&mut self, name: String, stamp: Stamp, map: Mapping) {
        self.fresh.push((name, Entry { stamp, map }));
    }

    /// Writes the cache if anything new was parsed, keeping only `live` files.
    /// Failures are ignored: the cache is an optimisation only.
    pub fn save(mut self, live: &[String]) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        // Entries that were racy when parsed may become trustworthy later; a
        // racy entry is stored anyway and judged against the new write time.
        if self.fresh.is_empty() && self.written_ns > 0 {
            return;
        }
        let keep: std::collections::HashSet<&String> = live.iter().collect();
        self.entries.retain(|k, _| keep.contains(k));
        for (k, e) in self.fresh.drain(..) {
            self.entries.insert(k, e);
        }
        let file = File { version: VERSION, written_ns: now, entries: std::mem::take(&mut self.entries) };
        let Ok(bytes) = serde_json::to_vec(&file) else { return };
        if let Some(dir) = self.path.parent()
            && std::fs::create_dir_all(dir).is_ok()
        {
            let _ = super::atomic_write(&self.path, &bytes);
        }
    }
}

/// True when a mapping survives a JSON round trip unchanged (string keys, no
/// tags, finite numbers), so it can be cached.
pub fn cacheable(map: &Mapping) -> bool {
    fn ok(v: &serde_yaml::Value) -> bool {
        match v {
            serde_yaml::Value::Tagged(_) => false,
            serde_yaml::Value::Number(n) => n.as_f64().is_some_and(f64::is_finite),
            serde_yaml::Value::Sequence(s) => s.iter().all(ok),
            serde_yaml::Value::Mapping(m) => m.iter().all(|(k, v)| k.is_string() && ok(v)),
            _ => true,
        }
    }
    map.iter().all(|(k, v)| k.is_string() && ok(v))
}
