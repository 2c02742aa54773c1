//! Stamp sheets: a whole kind checked against its files at once.
//!
//! Without the file-system monitor every file must be looked at before the
//! index may answer (rule 1 of docs/ARCHITECTURE.md). Looking at the files
//! is not the expensive part: reading every row's stamp back from SQLite,
//! and decoding every graph row, cost more than listing the directory and
//! `stat`ing each file. A sheet is, per root and kind, one document holding
//! the stamp of every entity file that has a row, written in the
//! transaction that leaves the rows at a write epoch, with the time the
//! files were looked at (`taken_ns`).
//!
//! While the kind's epoch is still the sheet's, a file whose stamp is the
//! sheet's and that was modified well before the sheet was taken (git's
//! racy-timestamp rule, [`super::RACY_NS`]) is exactly what its row says.
//! Every other name — a new file, a vanished one, a changed stamp, a racy
//! one, anything that is no regular file — is *changed*, just as if the
//! monitor had named it. So one listing and one `stat` per file give the
//! monitor's answer: a query refreshes only those names, a graph report
//! patches the kind's image. A write by another process moves the epoch
//! on and voids the sheet; the next scan then checks every row as before.

use super::{RACY_NS, Stamp};
use serde::{Deserialize, Serialize};

/// The most changed names a sheet answers for; more, and the kind is
/// scanned file by file (in parallel) instead.
pub const MAX_CHANGED: usize = 512;

/// The stamps of a kind's files with rows, sorted by file name. A stored
/// sheet is checked as `Sheet<&str>`, its names borrowed from the stored
/// document (no string made per file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sheet<N = String> {
    /// When the files were looked at (before the first `stat`).
    pub taken_ns: i64,
    /// The directory's stamp when it was listed, if it then held no name
    /// a sheet leaves out but for files that are no entity (no temp file,
    /// nothing that is no regular file): while it holds, the names are
    /// these.
    pub dir: Option<Stamp>,
    /// (file name, stamp), sorted by name, each name once.
    pub files: Vec<(N, Stamp)>,
}

impl Sheet {
    /// A sheet of `files` (in any order) looked at from `taken_ns` on.
    pub fn new(taken_ns: i64, dir: Option<Stamp>, mut files: Vec<(String, Stamp)>) -> Sheet {
        files.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        files.dedup_by(|a, b| a.0 == b.0);
        Sheet { taken_ns, dir, files }
    }

    /// The stored form.
    pub fn encode(&self) -> Option<Vec<u8>> {
        postcard::to_allocvec(self).ok()
    }
}

impl<'a> Sheet<&'a str> {
    /// The sheet of a stored form; `None` when it is not one (the sheet is
    /// then ignored, never trusted).
    pub fn decode(bytes: &'a [u8]) -> Option<Sheet<&'a str>> {
        let sheet: Sheet<&str> = postcard::from_bytes(bytes).ok()?;
        // A sheet out of order would make the merge below miss names.
        sheet.files.windows(2).all(|w| w[0].0 < w[1].0).then_some(sheet)
    }
}

impl<N: AsRef<str>> Sheet<N> {
    /// True when the row of a file with `stamp`, listed with `stamp` on the
    /// sheet, can stand for the file.
    fn trusted(&self, stamp: &Stamp) -> bool {
        stamp.mtime_ns.saturating_add(RACY_NS) < self.taken_ns
    }

    /// The names on the sheet, when the directory's stamp is still `now`
    /// and was not racy: no name was added, removed or renamed since.
    pub fn names_if_dir(&self, now: &Stamp) -> Option<Vec<String>> {
        (self.dir.as_ref() == Some(now) && self.trusted(now))
            .then(|| self.files.iter().map(|(n, _)| n.as_ref().to_string()).collect())
    }

    /// True when `name` is on the sheet (has a row).
    pub fn has(&self, name: &str) -> bool {
        self.files.binary_search_by(|(n, _)| n.as_ref().cmp(name)).is_ok()
    }

    /// The names of `now` (the regular entity files as looked at, sorted by
    /// name) that are not on the sheet, have another stamp or are racy,
    /// and the names on the sheet that are no longer there; in name order.
    pub fn changed(&self, now: &[(String, Stamp)]) -> Vec<String> {
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        loop {
            match (self.files.get(i), now.get(j)) {
                (Some((a, sa)), Some((b, sb))) => match a.as_ref().cmp(b) {
                    std::cmp::Ordering::Equal => {
                        if sa != sb || !self.trusted(sb) {
                            out.push(b.clone());
                        }
                        i += 1;
                        j += 1;
                    }
                    std::cmp::Ordering::Less => {
                        out.push(a.as_ref().to_string());
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        out.push(b.clone());
                        j += 1;
                    }
                },
                (Some((a, _)), None) => {
                    out.push(a.as_ref().to_string());
                    i += 1;
                }
                (None, Some((b, _))) => {
                    out.push(b.clone());
                    j += 1;
                }
                (None, None) => break,
            }
        }
        out
    }

    /// True when `other` lists the same files with the same stamps and none
    /// of them is racy against this sheet: writing `other` in place of this
    /// one would change nothing a later check sees.
    pub fn covers(&self, other: &Sheet) -> bool {
        self.dir == other.dir
            && self.files.len() == other.files.len()
            && self.files.iter().zip(&other.files).all(|((a, sa), (b, sb))| a.as_ref() == b && sa == sb)
            && self.files.iter().all(|(_, s)| self.trusted(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(mtime_s: i64, size: i64) -> Stamp {
        Stamp { mtime_ns: mtime_s * 1_000_000_000, size, ino: 7 }
    }

    #[test]
    fn changed_names_are_the_new_gone_restamped_and_racy_ones() {
        let sheet = Sheet::new(
            100 * 1_000_000_000,
            None,
            vec![
                ("b.yaml".into(), st(10, 5)),
                ("a.yaml".into(), st(10, 5)),
                ("c.yaml".into(), st(10, 5)),
                ("r.yaml".into(), st(99, 5)),
            ],
        );
        assert_eq!(sheet.files[0].0, "a.yaml", "sorted by name");
        let now = vec![
            ("a.yaml".to_string(), st(10, 5)),
            ("b.yaml".to_string(), st(10, 6)),
            ("d.yaml".to_string(), st(10, 5)),
            ("r.yaml".to_string(), st(99, 5)),
        ];
        assert_eq!(sheet.changed(&now), ["b.yaml", "c.yaml", "d.yaml", "r.yaml"]);
        assert!(sheet.changed(&sheet.files).contains(&"r.yaml".to_string()), "racy even when equal");
        let later = Sheet::new(200 * 1_000_000_000, None, sheet.files.clone());
        assert!(later.changed(&sheet.files).is_empty());
        assert!(later.covers(&sheet) && !sheet.covers(&later));
        assert!(sheet.has("c.yaml") && !sheet.has("d.yaml"));
    }

    #[test]
    fn a_stored_sheet_round_trips_and_a_damaged_one_is_refused() {
        let t = 100 * 1_000_000_000;
        let sheet = Sheet::new(t, Some(st(50, 4096)), vec![("x.yaml".into(), st(1, 2)), ("y.yaml".into(), st(3, 4))]);
        let bytes = sheet.encode().unwrap();
        let read = Sheet::decode(&bytes).unwrap();
        assert_eq!(read.taken_ns, t);
        assert_eq!(read.files, [("x.yaml", st(1, 2)), ("y.yaml", st(3, 4))]);
        assert!(read.covers(&sheet));
        assert!(!read.covers(&Sheet::new(t, Some(st(50, 4096)), vec![("x.yaml".into(), st(1, 2))])));
        assert!(!read.covers(&Sheet::new(t, None, sheet.files.clone())));
        // The directory's names stand for a listing only while its stamp
        // holds and was not racy.
        assert_eq!(read.names_if_dir(&st(50, 4096)), Some(vec!["x.yaml".to_string(), "y.yaml".to_string()]));
        assert_eq!(read.names_if_dir(&st(51, 4096)), None);
        let racy = Sheet::new(t, Some(st(99, 4096)), Vec::new());
        assert_eq!(racy.names_if_dir(&st(99, 4096)), None);
        assert!(Sheet::decode(&bytes[..bytes.len() - 1]).is_none());
        let unsorted = Sheet { taken_ns: t, dir: None, files: vec![sheet.files[1].clone(), sheet.files[0].clone()] };
        assert!(Sheet::decode(&unsorted.encode().unwrap()).is_none());
    }
}
