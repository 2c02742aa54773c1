//! Running the `git` binary, for what git-coord writes through git: config,
//! commit, fetch, merge, push, `merge-file`, and the status `sync` acts on
//! (parsed completely from `--porcelain=v2 -z`, see [`parse_status_v2`]).
//! Reading history goes through gix ([`crate::history`]).

use crate::error::{Error, Result};
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// `git` run in one directory.
pub struct Git<'a> {
    pub dir: &'a Path,
}

impl<'a> Git<'a> {
    pub fn new(dir: &'a Path) -> Self {
        Git { dir }
    }

    /// Runs git and returns its output, whatever the exit status.
    pub fn output<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output> {
        self.output_with(&[], args)
    }

    /// Like [`Git::output`], with extra environment variables.
    pub fn output_with<S: AsRef<OsStr>>(&self, env: &[(&str, &OsStr)], args: &[S]) -> Result<Output> {
        Command::new("git")
            .args(args)
            .envs(env.iter().copied())
            .current_dir(self.dir)
            .output()
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))
    }

    /// Runs git; its stdout on success, an error quoting git's message
    /// otherwise.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        self.run_with(&[], args)
    }

    /// Like [`Git::run`], with extra environment variables.
    pub fn run_with(&self, env: &[(&str, &OsStr)], args: &[&str]) -> Result<String> {
        let out = self.output_with(env, args)?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let msg = if err.is_empty() { String::from_utf8_lossy(&out.stdout).trim().to_string() } else { err };
            return Err(Error::Git(format!("`git {}` failed: {msg}", args.join(" "))));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Whether git succeeds.
    pub fn ok(&self, args: &[&str]) -> bool {
        self.run(args).is_ok()
    }
}

/// What one entry of `git status --porcelain=v2` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusKind {
    /// `1`: a tracked path changed in the index and/or the work tree.
    Changed,
    /// `2`: a rename or copy (staged); `orig_path` is where it came from.
    Renamed,
    /// `u`: an unmerged path (a conflict not yet resolved).
    Unmerged,
    /// `?`: untracked.
    Untracked,
    /// `!`: ignored (only with `--ignored`).
    Ignored,
}

/// One entry of `git status --porcelain=v2 -z`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub kind: StatusKind,
    /// The two status letters (index, work tree), `.` for unchanged; `??` and
    /// `!!` for untracked and ignored paths.
    pub xy: [u8; 2],
    /// The path, relative to the work tree root, `/`-separated. Non-UTF-8
    /// bytes are replaced (such a path is never an entity file).
    pub path: String,
    /// For renames and copies, the source path.
    pub orig_path: Option<String>,
}

/// Parses the output of `git status --porcelain=v2 -z` completely: ordinary,
/// renamed/copied (whose source path is the next NUL-separated field),
/// unmerged, untracked and ignored entries; `#` header lines are skipped.
/// Paths are not quoted in `-z` mode and may contain spaces.
pub fn parse_status_v2(out: &[u8]) -> Result<Vec<StatusEntry>> {
    let bad = |rec: &[u8]| Error::Git(format!("unexpected `git status` output: {:?}", String::from_utf8_lossy(rec)));
    let mut fields = out.split(|&b| b == 0);
    let mut entries = Vec::new();
    while let Some(rec) = fields.next() {
        if rec.is_empty() || rec[0] == b'#' {
            continue;
        }
        // Number of space-separated fields before the path.
        let (kind, before_path) = match rec[0] {
            b'1' => (StatusKind::Changed, 8),
            b'2' => (StatusKind::Renamed, 9),
            b'u' => (StatusKind::Unmerged, 10),
            b'?' => (StatusKind::Untracked, 1),
            b'!' => (StatusKind::Ignored, 1),
            _ => return Err(bad(rec)),
        };
        let mut parts = rec.splitn(before_path + 1, |&b| b == b' ');
        let head: Vec<&[u8]> = parts.by_ref().take(before_path).collect();
        let path = parts.next().filter(|p| !p.is_empty()).ok_or_else(|| bad(rec))?;
        if head.len() != before_path {
            return Err(bad(rec));
        }
        let xy = match kind {
            StatusKind::Untracked => *b"??",
            StatusKind::Ignored => *b"!!",
            _ => match head[1] {
                [x, y] => [*x, *y],
                _ => return Err(bad(rec)),
            },
        };
        let orig_path = if kind == StatusKind::Renamed {
            let orig = fields.next().filter(|p| !p.is_empty()).ok_or_else(|| bad(rec))?;
            Some(String::from_utf8_lossy(orig).into_owned())
        } else {
            None
        };
        entries.push(StatusEntry { kind, xy, path: String::from_utf8_lossy(path).into_owned(), orig_path });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_entry_kind_of_porcelain_v2() {
        let out = b"# branch.oid abc\x001 .M N... 100644 100644 100644 aaa aaa a file.yaml\x002 R. N... 100644 100644 100644 bbb bbb R100 new name.yaml\x00old name.yaml\x00u UU N... 100644 100644 100644 100644 c1 c2 c3 conflict.yaml\x00? coordination/.coord-1.tmp\x00! target/x\x00";
        let e = parse_status_v2(out).unwrap();
        assert_eq!(e.len(), 5);
        assert_eq!((e[0].kind, &e[0].xy, e[0].path.as_str()), (StatusKind::Changed, b".M", "a file.yaml"));
        assert_eq!(e[1].kind, StatusKind::Renamed);
        assert_eq!(e[1].path, "new name.yaml");
        assert_eq!(e[1].orig_path.as_deref(), Some("old name.yaml"));
        assert_eq!((e[2].kind, &e[2].xy, e[2].path.as_str()), (StatusKind::Unmerged, b"UU", "conflict.yaml"));
        assert_eq!((e[3].kind, e[3].path.as_str()), (StatusKind::Untracked, "coordination/.coord-1.tmp"));
        assert_eq!(e[4].kind, StatusKind::Ignored);
    }

    #[test]
    fn refuses_truncated_or_unknown_records() {
        assert!(parse_status_v2(b"2 R. N... 100644 100644 100644 b b R100 new\x00").is_err(), "no source path");
        assert!(parse_status_v2(b"1 .M N...\x00").is_err());
        assert!(parse_status_v2(b"X what\x00").is_err());
        assert!(parse_status_v2(b"").unwrap().is_empty());
    }
}
