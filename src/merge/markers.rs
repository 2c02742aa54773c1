//! Turning merged mappings back into text: ours' file patched in place, the
//! merged comments written onto it, and conflict markers around exactly the
//! lines where the two resolutions of the conflicts differ.

use super::comments::{CommentMerge, Unplaced};
use super::value::{Prefer, canonical_keys};
use crate::store::edit::{Locate, patch_text};
use crate::store::{canonical_text, parse_mapping};
use serde_yaml::Mapping;
use similar::TextDiff;

/// `old → new` applied to `text` in place, checked by re-reading it.
fn patch(text: &str, old: &Mapping, new: &Mapping) -> Option<String> {
    let out = patch_text(text, Locate::Root, old, new).ok()?;
    let reread = parse_mapping(&out).ok()?;
    (canonical_keys(&reread) == *new).then_some(out)
}

fn canonical(map: &Mapping) -> String {
    canonical_text(map).unwrap_or_default()
}

/// The merged file: ours' text patched to the merged values, with the
/// merged comments written onto it. `as_ours` is the value merge with every
/// conflicting field filled from ours, `as_theirs` (when fields conflict)
/// from theirs; conflicting comments are likewise rendered once as ours and
/// once as theirs. Everything else is identical in the two renderings, so
/// their line diff is exactly the conflicts, and gets the markers.
///
/// When yaml-edit cannot patch ours' text, the canonical text of the values
/// is used instead: the comment layer puts every comment back onto it, or
/// says it cannot (then the caller merges lines).
pub fn render(
    ours_text: &str,
    ours: &Mapping,
    as_ours: &Mapping,
    as_theirs: Option<&Mapping>,
    comments: &CommentMerge,
    size: usize,
) -> Result<String, Unplaced> {
    let patched = patch(ours_text, ours, as_ours);
    let (left, right) = match (patched, as_theirs) {
        (Some(left), Some(t)) => match patch(&left, as_ours, t) {
            Some(right) => (left, Some(right)),
            None => (canonical(as_ours), Some(canonical(t))),
        },
        (None, Some(t)) => (canonical(as_ours), Some(canonical(t))),
        (Some(left), None) => (left, None),
        (None, None) => (canonical(as_ours), None),
    };
    let left_out = comments.apply(&left, as_ours, Prefer::Ours)?;
    let right_out = match (right, as_theirs) {
        (Some(right), Some(t)) => comments.apply(&right, t, Prefer::Theirs)?,
        _ if comments.has_conflicts() => comments.apply(&left, as_ours, Prefer::Theirs)?,
        _ => {
            // No conflict: one rendering is both views.
            comments.check_counts(Prefer::Ours, &left_out)?;
            comments.check_counts(Prefer::Theirs, &left_out)?;
            return Ok(left_out.text);
        }
    };
    comments.check_counts(Prefer::Ours, &left_out)?;
    comments.check_counts(Prefer::Theirs, &right_out)?;
    Ok(mark(&left_out.text, &right_out.text, size))
}

/// Wraps every hunk where `left` and `right` differ in conflict markers.
pub fn mark(left: &str, right: &str, size: usize) -> String {
    let diff = TextDiff::from_lines(left, right);
    let (old, new) = (diff.old_slices(), diff.new_slices());
    let size = size.max(7);
    let (open, mid, close) = ("<".repeat(size), "=".repeat(size), ">".repeat(size));
    let mut out = String::with_capacity(left.len() + right.len());
    let push_lines = |out: &mut String, lines: &[&str]| {
        for line in lines {
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push('\n');
            }
        }
    };
    let mut cursor = 0;
    for group in diff.grouped_ops(0) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        let (o_start, o_end) = (first.old_range().start, last.old_range().end);
        let (n_start, n_end) = (first.new_range().start, last.new_range().end);
        push_lines(&mut out, &old[cursor..o_start]);
        out.push_str(&format!("{open} ours\n"));
        push_lines(&mut out, &old[o_start..o_end]);
        out.push_str(&format!("{mid}\n"));
        push_lines(&mut out, &new[n_start..n_end]);
        out.push_str(&format!("{close} theirs\n"));
        cursor = o_end;
    }
    for line in &old[cursor..] {
        out.push_str(line);
    }
    out
}

/// Both whole files, for an add/add collision.
pub fn whole(ours: &str, theirs: &str, size: usize) -> String {
    let size = size.max(7);
    let mut out = format!("{} ours\n{ours}", "<".repeat(size));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("{}\n{theirs}", "=".repeat(size)));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!("{} theirs\n", ">".repeat(size)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_surround_only_the_differing_lines() {
        let out = mark("a: 1\nb: 2\nc: 3\n", "a: 1\nb: 9\nc: 3\n", 7);
        assert_eq!(out, "a: 1\n<<<<<<< ours\nb: 2\n=======\nb: 9\n>>>>>>> theirs\nc: 3\n");
    }

    #[test]
    fn a_field_missing_on_one_side_gives_an_empty_half() {
        let out = mark("a: 1\nc: 3\n", "a: 1\nb: 2\nc: 3\n", 9);
        assert_eq!(out, "a: 1\n<<<<<<<<< ours\n=========\nb: 2\n>>>>>>>>> theirs\nc: 3\n");
    }

    #[test]
    fn clean_patch_keeps_comments() {
        use super::super::comments::Layout;
        let text = "# keep me\nid: ISSUE-001\nstatus: pending # inline\nlabels:\n- a\n";
        let ours: Mapping = serde_yaml::from_str(text).unwrap();
        let layout = || Layout::read(text).unwrap();
        let comments = CommentMerge::new(&layout(), &layout(), &layout());
        let merged: Mapping = serde_yaml::from_str("id: ISSUE-001\nstatus: pending\nlabels: [a, b]\n").unwrap();
        let out = render(text, &ours, &merged, None, &comments, 7).unwrap();
        assert_eq!(out, "# keep me\nid: ISSUE-001\nstatus: pending # inline\nlabels:\n- a\n- b\n");
    }
}
