//! The field-level merge driver: git's merge-driver protocol
//! (`git coord merge-driver %O %A %B %P`) for one entity file.
//!
//! The three versions are parsed and merged field by field ([`value`]); the
//! result is ours' file patched in place, so quoting and unknown keys
//! survive ([`markers`]). Patching ours' file alone would keep only ours'
//! comments, so comments are merged as a second layer, attached to the field
//! or list item they sit on ([`comments`]): a side's comment change is kept
//! or is a conflict, never dropped. Fields (and comments) changed differently
//! on both sides get ordinary conflict markers around those lines only. Two
//! different entities added under one path are an ID collision, reported
//! with both titles. A version that is not a YAML mapping, or a comment
//! change the layer cannot tie to a field, falls back to git's line merge
//! (`git merge-file`), so the driver never does worse than git would; a
//! clean line merge whose values differ from the field-level merge is still
//! reported as needing a look.
//!
//! Its length is mostly its tests (the driver itself is about 240 lines).

mod comments;
mod markers;
pub mod setup;
mod value;

pub use value::{Conflict, ConflictPart, Prefer, Seg, canonical_keys, merge_entity};

use comments::{CommentMerge, Layout};

use crate::error::{Error, Result};
use crate::gitcmd::Git;
use crate::model::reader::scalar_text;
use crate::store::{atomic_write, parse_mapping};
use serde_yaml::Mapping;
use std::ffi::OsStr;
use std::path::Path;

/// Conflict marker length when git does not pass `%L`.
pub const DEFAULT_MARKER_SIZE: usize = 7;

/// The result of merging three texts.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Merged without conflicts.
    Clean { text: String },
    /// Merged, with markers around the conflicting fields.
    Conflicts { text: String, conflicts: Vec<Conflict> },
    /// Both sides created this file with different entities (an ID collision).
    Collision { text: String, id: String, ours: String, theirs: String },
    /// A version is not a YAML mapping: the caller merges lines instead.
    Unparsed { side: &'static str, line: Option<usize>, message: String },
    /// The values merged, but a comment could not be carried over field by
    /// field: the caller merges lines instead. `expect` is the value merge
    /// when it had no conflict: a line merge without conflicts that reads
    /// back as it lost nothing.
    LineMerge { reason: String, expect: Option<Mapping> },
}

/// What the driver did to one file.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    Clean,
    Conflicts(Vec<Conflict>),
    Collision {
        id: String,
        ours: String,
        theirs: String,
    },
    /// Merged line by line by `git merge-file` because a version could not
    /// be read as a mapping, or a comment could not be carried over field by
    /// field; `conflicts` is its conflict count. `unconfirmed`: there are no
    /// markers, but the result is not what the field-level merge says, so a
    /// person has to look.
    LineMerge {
        reason: String,
        conflicts: usize,
        unconfirmed: bool,
    },
}

impl FileOutcome {
    /// Whether the file still needs a human.
    pub fn is_conflicted(&self) -> bool {
        match self {
            Self::Clean => false,
            Self::LineMerge { conflicts, unconfirmed, .. } => *conflicts > 0 || *unconfirmed,
            _ => true,
        }
    }
}

/// How the entity is named to a person: title, task or name, else
/// `consumer → provider` for dependencies.
pub fn title_of(map: &Mapping) -> String {
    for key in ["title", "task", "name"] {
        if let Some(t) = map.get(key).and_then(scalar_text) {
            return t;
        }
    }
    match (map.get("consumer").and_then(scalar_text), map.get("provider").and_then(scalar_text)) {
        (Some(c), Some(p)) => format!("{c} → {p}"),
        _ => "(untitled)".into(),
    }
}

/// Merges three versions of one entity file. `base` is empty for add/add.
/// The result has ours' line ends.
pub fn merge_texts(base: &str, ours: &str, theirs: &str, marker_size: usize) -> Outcome {
    let lf = |t: &str| t.replace("\r\n", "\n");
    let outcome = merge_lf(&lf(base), &lf(ours), &lf(theirs), marker_size);
    if !ours.contains("\r\n") {
        return outcome;
    }
    let crlf = |t: String| t.replace('\n', "\r\n");
    match outcome {
        Outcome::Clean { text } => Outcome::Clean { text: crlf(text) },
        Outcome::Conflicts { text, conflicts } => Outcome::Conflicts { text: crlf(text), conflicts },
        Outcome::Collision { text, id, ours, theirs } => Outcome::Collision { text: crlf(text), id, ours, theirs },
        other => other,
    }
}

fn merge_lf(base: &str, ours: &str, theirs: &str, marker_size: usize) -> Outcome {
    let read = |side: &'static str, text: &str| -> std::result::Result<Mapping, Outcome> {
        parse_mapping(text).map(|m| canonical_keys(&m)).map_err(|(line, message)| Outcome::Unparsed {
            side,
            line,
            message,
        })
    };
    let added_on_both = base.trim().is_empty();
    let parsed = (|| {
        let b = if added_on_both { Mapping::new() } else { read("base", base)? };
        Ok::<_, Outcome>((b, read("ours", ours)?, read("theirs", theirs)?))
    })();
    let (b, o, t) = match parsed {
        Ok(v) => v,
        Err(outcome) => return outcome,
    };
    if added_on_both && o != t {
        let (ours_title, theirs_title) = (title_of(&o), title_of(&t));
        if ours_title != theirs_title {
            let id = o.get("id").and_then(scalar_text).unwrap_or_default();
            return Outcome::Collision {
                text: markers::whole(ours, theirs, marker_size),
                id,
                ours: ours_title,
                theirs: theirs_title,
            };
        }
    }
    let (as_ours, mut conflicts) = merge_entity(&b, &o, &t, Prefer::Ours);
    let as_theirs = (!conflicts.is_empty()).then(|| merge_entity(&b, &o, &t, Prefer::Theirs).0);
    let expect = conflicts.is_empty().then(|| as_ours.clone());
    let layouts = (|| {
        let layout = |side: &str, text: &str| Layout::read(text).map_err(|e| format!("{side}: {e}"));
        Ok::<_, String>((layout("base", base)?, layout("ours", ours)?, layout("theirs", theirs)?))
    })();
    let comments = match layouts {
        Ok((lb, lo, lt)) => CommentMerge::new(&lb, &lo, &lt),
        Err(reason) => {
            return Outcome::LineMerge {
                reason: format!("comments cannot be merged field by field ({reason})"),
                expect,
            };
        }
    };
    conflicts.extend(comments.conflicts());
    match markers::render(ours, &o, &as_ours, as_theirs.as_ref(), &comments, marker_size) {
        Ok(text) if conflicts.is_empty() => Outcome::Clean { text },
        Ok(text) => Outcome::Conflicts { text, conflicts },
        Err(reason) => {
            Outcome::LineMerge { reason: format!("comments cannot be merged field by field: {reason}"), expect }
        }
    }
}

fn read_text(path: &Path) -> Result<Option<String>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(String::from_utf8(bytes).ok())
}

/// Runs the driver on git's three temp files: the result goes to `ours`
/// (written atomically), as the protocol wants.
pub fn merge_files(base: &Path, ours: &Path, theirs: &Path, marker_size: usize) -> Result<FileOutcome> {
    let texts = (read_text(base)?, read_text(ours)?, read_text(theirs)?);
    let (Some(b), Some(o), Some(t)) = texts else {
        return line_merge(base, ours, theirs, marker_size, "a version is not UTF-8 text".into());
    };
    match merge_texts(&b, &o, &t, marker_size) {
        Outcome::Clean { text } => {
            if text != o {
                atomic_write(ours, text.as_bytes())?;
            }
            Ok(FileOutcome::Clean)
        }
        Outcome::Conflicts { text, conflicts } => {
            atomic_write(ours, text.as_bytes())?;
            Ok(FileOutcome::Conflicts(conflicts))
        }
        Outcome::Collision { text, id, ours: o_title, theirs: t_title } => {
            atomic_write(ours, text.as_bytes())?;
            Ok(FileOutcome::Collision { id, ours: o_title, theirs: t_title })
        }
        Outcome::Unparsed { side, line, message } => {
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            line_merge(base, ours, theirs, marker_size, format!("{side} is not a readable entity{at}: {message}"))
        }
        Outcome::LineMerge { reason, expect } => {
            let outcome = line_merge(base, ours, theirs, marker_size, reason)?;
            let FileOutcome::LineMerge { reason, conflicts: 0, .. } = outcome else { return Ok(outcome) };
            // Clean: every changed line of both sides is in it. It is the
            // merge only if it also reads back as the field-level merge.
            let text = read_text(ours)?.unwrap_or_default();
            let confirmed = expect.is_some_and(|e| parse_mapping(&text).is_ok_and(|m| canonical_keys(&m) == e));
            Ok(FileOutcome::LineMerge { reason, conflicts: 0, unconfirmed: !confirmed })
        }
    }
}

/// `git merge-file`: git's own line merge, in place on `ours`.
fn line_merge(base: &Path, ours: &Path, theirs: &Path, marker_size: usize, reason: String) -> Result<FileOutcome> {
    let marker = format!("--marker-size={}", marker_size.max(1));
    let args: [&OsStr; 11] = [
        "merge-file".as_ref(),
        marker.as_ref(),
        "-L".as_ref(),
        "ours".as_ref(),
        "-L".as_ref(),
        "base".as_ref(),
        "-L".as_ref(),
        "theirs".as_ref(),
        ours.as_os_str(),
        base.as_os_str(),
        theirs.as_os_str(),
    ];
    let out = Git::new(Path::new(".")).output(&args)?;
    match out.status.code() {
        Some(n @ 0..=127) => Ok(FileOutcome::LineMerge { reason, conflicts: n as usize, unconfirmed: false }),
        _ => Err(Error::Git(format!("git merge-file failed: {}", String::from_utf8_lossy(&out.stderr).trim()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "id: ISSUE-001\ntitle: Fix it\nstatus: pending\npriority: medium\nrepos:\n- a\n";

    #[test]
    fn conflicting_field_is_the_only_marked_region() {
        let ours = BASE.replace("status: pending", "status: in_progress");
        let theirs = BASE.replace("status: pending", "status: blocked").replace("priority: medium", "priority: high");
        let Outcome::Conflicts { text, conflicts } = merge_texts(BASE, &ours, &theirs, 7) else { panic!() };
        assert_eq!(conflicts.len(), 1);
        assert_eq!(
            text,
            "id: ISSUE-001\ntitle: Fix it\n<<<<<<< ours\nstatus: in_progress\n=======\nstatus: blocked\n>>>>>>> theirs\npriority: high\nrepos:\n- a\n"
        );
    }

    #[test]
    fn add_add_of_different_entities_is_a_collision() {
        let other = BASE.replace("Fix it", "Something else");
        match merge_texts("", BASE, &other, 7) {
            Outcome::Collision { id, ours, theirs, text } => {
                assert_eq!((id.as_str(), ours.as_str(), theirs.as_str()), ("ISSUE-001", "Fix it", "Something else"));
                assert!(text.starts_with("<<<<<<< ours\nid: ISSUE-001\n"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(merge_texts("", BASE, BASE, 7), Outcome::Clean { text: BASE.into() });
    }

    /// An issue with comments everywhere the layer anchors them.
    const COMMENTED: &str = "\
# head
id: ISSUE-001
title: T
status: pending # s
description: |
  text
  # not a comment
labels:
- config
# about draft
- draft
assignee: alice
milestones:
- id: M-1
  status: pending
# m2
- id: M-2
  status: pending
metadata:
  owner: x
# tail
";

    fn clean(ours: &str, theirs: &str) -> String {
        match merge_texts(COMMENTED, ours, theirs, 7) {
            Outcome::Clean { text } => text,
            other => panic!("{other:#?}"),
        }
    }

    #[test]
    fn hash_lines_in_a_block_scalar_are_content_not_comments() {
        let ours = COMMENTED.replace("title: T", "title: U");
        let theirs = COMMENTED.replace("  # not a comment", "  # still content");
        assert_eq!(clean(&ours, &theirs), ours.replace("  # not a comment", "  # still content"));
    }

    #[test]
    fn comments_follow_their_list_item_and_milestone() {
        let ours = COMMENTED
            .replace("- config\n", "- config\n- new\n")
            .replace("  status: pending\n# m2", "  status: done\n# m2");
        let theirs = COMMENTED.replace("- draft\n", "- draft # keep\n").replace("# m2\n", "# m2\n# second\n");
        assert_eq!(
            clean(&ours, &theirs),
            ours.replace("- draft\n", "- draft # keep\n").replace("# m2\n", "# m2\n# second\n")
        );
    }

    #[test]
    fn a_field_removed_by_theirs_takes_its_comment_along() {
        // yaml-edit alone would leave `# about draft` above `assignee`.
        let ours = COMMENTED.replace("title: T", "title: U");
        let theirs = COMMENTED.replace("# about draft\n- draft\n", "");
        assert_eq!(clean(&ours, &theirs), ours.replace("# about draft\n- draft\n", ""));
    }

    #[test]
    fn comments_at_the_end_stay_at_the_end() {
        let ours = COMMENTED.replace("  owner: x\n", "  owner: x\nextra: 1\n");
        let theirs = COMMENTED.replace("# tail\n", "# tail\n# more\n");
        assert_eq!(clean(&ours, &theirs), ours.replace("# tail\n", "# tail\n# more\n"));
    }

    #[test]
    fn a_comment_edited_against_its_field_removed_is_a_conflict() {
        let removed = COMMENTED.replace("# about draft\n- draft\n", "");
        let edited = COMMENTED.replace("# about draft", "# about drafts");
        let Outcome::Conflicts { text, conflicts } = merge_texts(COMMENTED, &removed, &edited, 7) else { panic!() };
        assert_eq!(conflicts.len(), 1);
        assert_eq!(
            conflicts[0].to_string(),
            "comments above `labels[draft]`: ours removed the field, theirs wrote `# about drafts`"
        );
        assert!(
            text.contains("- config\n<<<<<<< ours\n=======\n# about drafts\n>>>>>>> theirs\nassignee: alice\n"),
            "{text}"
        );
        // And the other way round.
        let Outcome::Conflicts { text, .. } = merge_texts(COMMENTED, &edited, &removed, 7) else { panic!() };
        assert!(
            text.contains("- config\n<<<<<<< ours\n# about drafts\n=======\n>>>>>>> theirs\nassignee: alice\n"),
            "{text}"
        );
    }

    #[test]
    fn a_field_conflict_still_carries_theirs_comments_elsewhere() {
        let ours = COMMENTED.replace("title: T", "title: U");
        let theirs = COMMENTED.replace("title: T", "title: V").replace("# s", "# s2");
        let Outcome::Conflicts { text, conflicts } = merge_texts(COMMENTED, &ours, &theirs, 7) else { panic!() };
        assert_eq!(conflicts.iter().map(Conflict::field).collect::<Vec<_>>(), ["title"]);
        assert!(
            text.contains("<<<<<<< ours\ntitle: U\n=======\ntitle: V\n>>>>>>> theirs\nstatus: pending # s2\n"),
            "{text}"
        );
    }

    #[test]
    fn both_sides_adding_one_entity_with_different_comments_conflict_there() {
        let (o, t) = ("# a\nid: X-1\ntitle: T\n", "# b\nid: X-1\ntitle: T\n");
        let Outcome::Conflicts { text, .. } = merge_texts("", o, t, 7) else { panic!() };
        assert_eq!(text, "<<<<<<< ours\n# a\n=======\n# b\n>>>>>>> theirs\nid: X-1\ntitle: T\n");
        assert_eq!(merge_texts("", o, o, 7), Outcome::Clean { text: o.into() });
    }

    #[test]
    fn crlf_files_keep_their_line_ends() {
        let ours = COMMENTED.replace("title: T", "title: U").replace('\n', "\r\n");
        let theirs = COMMENTED.replace("# tail", "# tail!");
        assert_eq!(clean(&ours, &theirs), ours.replace("# tail", "# tail!"));
    }

    #[test]
    fn a_comment_change_that_cannot_be_anchored_asks_for_a_line_merge() {
        let base = "id: X-1\nrepos: [a,\n  b, # in flow\n  c]\nlist:\n-\n  id: M-1\ntitle: T\n";
        let ours = base.replace("title: T", "title: U");
        for theirs in [base.replace("# in flow", "# in flow!"), base.replace("-\n  id: M-1", "- # dash\n  id: M-1")] {
            match merge_texts(base, &ours, &theirs, 7) {
                Outcome::LineMerge { reason, expect } => {
                    assert!(reason.contains("cannot be placed"), "{reason}");
                    assert_eq!(expect, Some(parse_mapping(&ours).unwrap()));
                }
                other => panic!("{other:#?}"),
            }
        }
        // Unchanged, such comments are no obstacle.
        assert_eq!(merge_texts(base, &ours, base, 7), Outcome::Clean { text: ours.clone() });
    }

    #[test]
    fn a_comment_removed_on_one_side_and_taken_over_by_a_new_field_on_the_other_is_not_resurrected() {
        // Appending `extra` after `# tail` makes the comment `extra`'s: the
        // anchors alone would see two agreeing changes and keep `# tail`.
        let ours = COMMENTED.replace("# tail\n", "");
        let theirs = format!("{COMMENTED}extra: 1\n");
        for (o, t) in [(&ours, &theirs), (&theirs, &ours)] {
            match merge_texts(COMMENTED, o, t, 7) {
                Outcome::LineMerge { reason, .. } => {
                    assert!(reason.contains("the comment `# tail` would be there 1 time(s)"), "{reason}")
                }
                other => panic!("{other:#?}"),
            }
        }
    }

    /// Comment texts of a file, as yaml-edit sees them (so not the `#`
    /// lines of block scalars).
    fn comment_texts(text: &str) -> Vec<String> {
        use std::str::FromStr;
        yaml_edit::Document::from_str(text).unwrap().comments().map(|c| c.text().trim_end().to_string()).collect()
    }

    /// Random edits of values and comments on both sides: a clean merge has
    /// the field-level values and every comment either side added or kept,
    /// none that one side removed and the other left alone; a conflicted
    /// one has every new comment of both sides somewhere in its text; one
    /// handed to git's line merge as well.
    #[test]
    fn property_random_edits_lose_no_comment() {
        type Edit = fn(&str) -> String;
        let edits: [Edit; 24] = [
            |t| t.replace("# head", "# head, edited"),
            |t| t.replace("# head\n", ""),
            |t| t.replace("title: T", "title: T # new trailing"),
            |t| t.replace(" # s\n", " # s, edited\n"),
            |t| t.replace(" # s\n", "\n"),
            |t| t.replace("  owner: x\n", "  # about owner\n  owner: x\n"),
            |t| t.replace("# about draft", "# about the draft"),
            |t| format!("{t}# appended\n"),
            |t| t.replace("# tail\n", ""),
            |t| t.replace("assignee:", "\n# spaced\nassignee:"),
            |t| t.replace("- id: M-1\n", "- id: M-1 # first\n"),
            |t| t.replace("# m2\n", "# m2\n# m2 again\n"),
            |t| t.replace("status: pending #", "status: done #"),
            |t| t.replace("status: pending #", "status: blocked #"),
            |t| t.replace("- draft\n", "- draft\n- x\n"),
            |t| t.replace("- config\n", "- config\n- y\n"),
            |t| t.replace("- config\n", ""),
            |t| t.replace("owner: x", "owner: z"),
            |t| t.replace("assignee: alice\n", ""),
            |t| match t.contains("reviewer") {
                true => t.into(),
                false => t.replace("assignee: alice\n", "assignee: alice\n# who reviews\nreviewer: r\n"),
            },
            |t| t.replace("  status: pending\n# m2", "  status: done\n# m2"),
            |t| t.replace("  status: pending\nmetadata", "  status: pending\n# m3\n- id: M-3\n  status: new\nmetadata"),
            |t| t.replace("  # not a comment\n", "  # still not a comment\n  more\n"),
            |t| if t.contains("extra:") { t.into() } else { format!("{t}extra: 1 # extra\n") },
        ];
        // xorshift: deterministic, no dependency.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let base_comments = comment_texts(COMMENTED);
        let mut outcomes = [0usize; 3];
        for _ in 0..400 {
            let mut side = || (0..1 + next(3)).fold(COMMENTED.to_string(), |t, _| edits[next(edits.len())](&t));
            let (ours, theirs) = (side(), side());
            let (oc, tc) = (comment_texts(&ours), comment_texts(&theirs));
            let case = || format!("--- ours\n{ours}--- theirs\n{theirs}");
            let new: Vec<&String> = oc.iter().chain(&tc).filter(|c| !base_comments.contains(c)).collect();
            match merge_texts(COMMENTED, &ours, &theirs, 7) {
                Outcome::Clean { text } => {
                    outcomes[0] += 1;
                    let parse = |t: &str| canonical_keys(&parse_mapping(t).unwrap());
                    let (merged, conflicts) =
                        merge_entity(&parse(COMMENTED), &parse(&ours), &parse(&theirs), Prefer::Ours);
                    assert!(conflicts.is_empty(), "{}", case());
                    assert_eq!(parse(&text), merged, "{}", case());
                    let rc = comment_texts(&text);
                    for c in &new {
                        assert!(rc.contains(c), "`{c}` lost:\n{}--- result\n{text}", case());
                    }
                    for c in &base_comments {
                        let removed_by = |a: &Vec<String>, b: &Vec<String>| !a.contains(c) && b.contains(c);
                        if removed_by(&oc, &tc) || removed_by(&tc, &oc) {
                            assert!(!rc.contains(c), "`{c}` is back:\n{}--- result\n{text}", case());
                        }
                    }
                }
                Outcome::Conflicts { text, .. } => {
                    outcomes[1] += 1;
                    for c in &new {
                        assert!(text.contains(c.as_str()), "`{c}` lost:\n{}--- result\n{text}", case());
                    }
                }
                Outcome::LineMerge { reason, .. } => {
                    // Anchors could not account for every comment: git's
                    // line merge decides, and must keep them all too.
                    outcomes[2] += 1;
                    assert!(reason.contains("would be there"), "{reason}\n{}", case());
                    let dir = tempfile::tempdir().unwrap();
                    let path = |n: &str, text: &str| {
                        let p = dir.path().join(n);
                        std::fs::write(&p, text).unwrap();
                        p
                    };
                    let (b, o, t) = (path("base", COMMENTED), path("ours", &ours), path("theirs", &theirs));
                    let outcome = merge_files(&b, &o, &t, 7).unwrap();
                    let text = std::fs::read_to_string(&o).unwrap();
                    assert!(matches!(outcome, FileOutcome::LineMerge { .. }), "{outcome:?}");
                    for c in &new {
                        assert!(text.contains(c.as_str()), "`{c}` lost:\n{}--- result\n{text}", case());
                    }
                    if !outcome.is_conflicted() {
                        let parse = |t: &str| canonical_keys(&parse_mapping(t).unwrap());
                        let merged = merge_entity(&parse(COMMENTED), &parse(&ours), &parse(&theirs), Prefer::Ours).0;
                        assert_eq!(parse(&text), merged, "{}", case());
                    }
                }
                other => panic!("{other:#?}\n{}", case()),
            }
        }
        // Clean and conflicted merges both exercised; the line merge only for
        // comments moved against an edit, which random edits rarely make.
        assert!(outcomes[0] > 200 && outcomes[1] > 15 && (1..40).contains(&outcomes[2]), "{outcomes:?}");
    }

    #[test]
    fn unreadable_side_asks_for_a_line_merge() {
        assert!(matches!(merge_texts(BASE, "id: [", BASE, 7), Outcome::Unparsed { side: "ours", .. }));
    }
}
