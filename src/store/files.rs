//! What is in `coordination/`, and reading it without being misled.
//!
//! Only regular files are entities. A symbolic link could point outside the
//! repository (`show-issue` would print `/etc/…`), a FIFO blocks forever
//! when opened, a directory holds nothing the loader reads: all three are
//! reported, never followed or opened. Types come from `symlink_metadata`
//! (the entry itself), and the file is opened with `O_NOFOLLOW | O_NONBLOCK`
//! and checked again on the open handle, so swapping a file for a link
//! between the check and the read does not help either. Reads stop at
//! `max_file_bytes`.
//!
//! Temp files of the atomic write (`.coord-XXXXXX.tmp`) that a killed writer
//! left behind are recognised by that exact pattern and, once older than
//! [`STALE_AFTER`], reported and removed by the next write in their
//! directory (a live writer renames its temp file within milliseconds) —
//! the first write of a process there, then at most once every
//! [`SWEEP_EVERY`] (a run writing a todo twice per task does not list the
//! directory each time).

use crate::error::{Error, Result};
use std::fs::Metadata;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Prefix of the atomic write's temp files.
pub const TEMP_PREFIX: &str = ".coord-";
/// Suffix of the atomic write's temp files.
pub const TEMP_SUFFIX: &str = ".tmp";
/// Random characters between prefix and suffix.
pub const TEMP_RANDOM_LEN: usize = 6;
/// A temp file older than this belongs to a writer that died.
pub const STALE_AFTER: Duration = Duration::from_secs(5 * 60);
/// The `.gitignore` line `init` adds (relative to the coordination root).
pub const TEMP_IGNORE_LINE: &str = "coordination/**/.coord-*.tmp";

/// What a directory entry is, without following links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    /// A regular file.
    File,
    /// Anything else, described ("a symbolic link", "a FIFO", …).
    Other(&'static str),
}

/// The type of an entry from its `symlink_metadata`.
pub fn entry_type(meta: &Metadata) -> EntryType {
    let ft = meta.file_type();
    if ft.is_file() {
        return EntryType::File;
    }
    if ft.is_symlink() {
        return EntryType::Other("a symbolic link");
    }
    if ft.is_dir() {
        return EntryType::Other("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return EntryType::Other("a FIFO (named pipe)");
        }
        if ft.is_socket() {
            return EntryType::Other("a socket");
        }
        if ft.is_block_device() || ft.is_char_device() {
            return EntryType::Other("a device file");
        }
    }
    EntryType::Other("not a regular file")
}

/// The path of the file `name` in `dir`, made with one allocation (what
/// `dir.join(name)` makes with two, for each of 100,000 records).
pub fn file_in(dir: &Path, name: &str) -> PathBuf {
    let mut p = PathBuf::with_capacity(dir.as_os_str().len() + 1 + name.len());
    p.push(dir);
    p.push(name);
    p
}

/// Refuses a path that is not a real directory (a link to one included).
pub fn check_dir(path: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_dir() => Ok(true),
        Ok(m) => match entry_type(&m) {
            EntryType::File => Err(Error::NotRegular { path: path.to_path_buf(), what: "a file, not a directory" }),
            EntryType::Other(what) => Err(Error::NotRegular { path: path.to_path_buf(), what }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Reads a regular file as UTF-8 text, refusing links, special files and
/// files larger than `max_bytes` (without reading them).
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String> {
    read_bounded(path, max_bytes, false)
}

/// Like [`read_text`], but follows a symbolic link to a regular file (for
/// the settings files, which live outside `coordination/`).
pub fn read_text_following(path: &Path, max_bytes: u64) -> Result<String> {
    read_bounded(path, max_bytes, true)
}

/// Reads a regular file's bytes within `max_bytes`, never following a link
/// (`follow: false`) and never opening a FIFO or device.
pub fn read_bytes(path: &Path, max_bytes: u64, follow: bool) -> Result<Vec<u8>> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        let flags = if follow { OFlags::NONBLOCK } else { OFlags::NONBLOCK | OFlags::NOFOLLOW };
        // OFlags bits are the kernel's open(2) flag values.
        opts.custom_flags(flags.bits() as i32);
    }
    let file = match opts.open(path) {
        Ok(f) => f,
        Err(e) => {
            // O_NOFOLLOW on a link fails with ELOOP: say what it is.
            if !follow
                && let Ok(m) = std::fs::symlink_metadata(path)
                && let EntryType::Other(what) = entry_type(&m)
            {
                return Err(Error::NotRegular { path: path.to_path_buf(), what });
            }
            return Err(Error::io(path, e));
        }
    };
    let meta = file.metadata().map_err(|e| Error::io(path, e))?;
    if let EntryType::Other(what) = entry_type(&meta) {
        return Err(Error::NotRegular { path: path.to_path_buf(), what });
    }
    if meta.len() > max_bytes {
        return Err(Error::TooLarge { path: path.to_path_buf(), bytes: meta.len(), limit: max_bytes });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max_bytes + 1).read_to_end(&mut bytes).map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::TooLarge { path: path.to_path_buf(), bytes: bytes.len() as u64, limit: max_bytes });
    }
    Ok(bytes)
}

fn read_bounded(path: &Path, max_bytes: u64, follow: bool) -> Result<String> {
    let bytes = read_bytes(path, max_bytes, follow)?;
    String::from_utf8(bytes).map_err(|_| {
        Error::io(path, std::io::Error::new(std::io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
    })
}

/// True for the exact name pattern of the atomic write's temp files.
pub fn is_temp_name(name: &str) -> bool {
    name.strip_prefix(TEMP_PREFIX)
        .and_then(|r| r.strip_suffix(TEMP_SUFFIX))
        .is_some_and(|mid| mid.len() == TEMP_RANDOM_LEN && mid.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// How old a temp file is, if it is a regular file older than [`STALE_AFTER`].
pub fn stale_age(meta: &Metadata, now: SystemTime) -> Option<Duration> {
    if !meta.file_type().is_file() {
        return None;
    }
    let age = now.duration_since(meta.modified().ok()?).ok()?;
    (age >= STALE_AFTER).then_some(age)
}

/// Stale temp files directly in `dir`, with their age.
pub fn stale_temps(dir: &Path) -> Vec<(PathBuf, Duration)> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let now = SystemTime::now();
    let mut out: Vec<(PathBuf, Duration)> = rd
        .flatten()
        .filter(|e| e.file_name().to_str().is_some_and(is_temp_name))
        .filter_map(|e| {
            let meta = std::fs::symlink_metadata(e.path()).ok()?;
            stale_age(&meta, now).map(|age| (e.path(), age))
        })
        .collect();
    out.sort();
    out
}

/// How often one process looks for stale temp files in one directory.
pub const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// [`remove_stale_temps`] on a process's first write in `dir`, then at
/// most once every [`SWEEP_EVERY`]; a file becomes stale only after
/// [`STALE_AFTER`], so sweeping more often finds nothing more.
pub fn sweep_stale_temps(dir: &Path) {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    use std::time::Instant;
    static LAST: OnceLock<Mutex<HashMap<PathBuf, Instant>>> = OnceLock::new();
    let now = Instant::now();
    {
        let mut last = LAST.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
        match last.get(dir) {
            Some(t) if now.duration_since(*t) < SWEEP_EVERY => return,
            _ => {
                last.insert(dir.to_path_buf(), now);
            }
        }
    }
    remove_stale_temps(dir);
}

/// Removes the stale temp files in `dir` (best effort: a failure leaves the
/// file for `doctor` to report). Returns the files removed.
pub fn remove_stale_temps(dir: &Path) -> Vec<PathBuf> {
    stale_temps(dir).into_iter().filter(|(p, _)| std::fs::remove_file(p).is_ok()).map(|(p, _)| p).collect()
}

/// "3 min", "2 h", "5 days": a temp file's age for messages.
pub fn describe_age(age: Duration) -> String {
    let m = age.as_secs() / 60;
    match m {
        0..=119 => format!("{m} min"),
        120..=2879 => format!("{} h", m / 60),
        _ => format!("{} days", m / 1440),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_temp_pattern_matches() {
        assert!(is_temp_name(".coord-a1B2c3.tmp"));
        for other in [
            ".coord-a1B2c3.tmp~",
            ".coord-.tmp",
            ".coord-abc.tmp",
            ".coord-a1B2c3d.tmp",
            "coord-a1B2c3.tmp",
            ".coord-a1/2c3.tmp",
            "ISSUE-001.yaml",
            ".coord-a1 2c3.tmp",
        ] {
            assert!(!is_temp_name(other), "{other}");
        }
    }
}
