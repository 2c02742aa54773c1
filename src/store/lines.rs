//! Line numbers for problems, from one pass over a file.
//!
//! A problem names its file and line, found by looking for the field's key
//! (or a milestone's `id:`) in the text. Searching the text once per problem
//! is quadratic — a 1 MiB file with 50,000 bad references would take minutes
//! to lint — so the lines of every key and every `id:` value are indexed
//! once and each lookup is a binary search.

use super::{Origin, files};
use crate::settings::Limits;
use std::collections::HashMap;
use std::path::PathBuf;

/// The 1-based lines of each key and each `id:` value of a text, and the
/// shape of every line (for the extent of a legacy item).
#[derive(Debug, Default)]
pub struct LineIndex {
    keys: HashMap<String, Vec<usize>>,
    /// Per key, the column its key starts at, parallel to `keys`.
    key_cols: HashMap<String, Vec<usize>>,
    ids: HashMap<String, Vec<usize>>,
    shapes: Vec<Shape>,
}

/// One line's indentation: `None` for a blank or comment line; else the
/// column of its first character and, for `- key: v`, of its content.
#[derive(Debug, Clone, Copy)]
struct Shape {
    indent: usize,
    /// Column of the content after a leading `- `.
    item: Option<usize>,
}

fn shape(line: &str) -> Option<Shape> {
    let t = line.trim_start_matches(' ');
    if t.trim().is_empty() || t.starts_with('#') {
        return None;
    }
    let indent = line.len() - t.len();
    let item = t.strip_prefix("- ").map(|rest| indent + 2 + (rest.len() - rest.trim_start_matches(' ').len()));
    Some(Shape { indent, item })
}

/// A line's content after indentation and a leading `- `.
fn content(line: &str) -> &str {
    line.trim_start().trim_start_matches("- ").trim_start()
}

fn first_at_or_after(lines: Option<&Vec<usize>>, min: usize) -> Option<usize> {
    let lines = lines?;
    lines.get(lines.partition_point(|&l| l < min)).copied()
}

impl LineIndex {
    /// Indexes `text` (linear in its length).
    pub fn new(text: &str) -> LineIndex {
        let mut ix = LineIndex::default();
        for (i, line) in text.lines().enumerate() {
            ix.shapes.push(shape(line).unwrap_or(Shape { indent: usize::MAX, item: None }));
            let t = content(line);
            let Some(colon) = t.find(':') else { continue };
            let key = t[..colon].trim_end();
            if key.is_empty() {
                continue;
            }
            ix.keys.entry(key.to_string()).or_default().push(i + 1);
            ix.key_cols.entry(key.to_string()).or_default().push(line.len() - t.len());
            if key == "id" {
                let v = t[colon + 1..].trim().trim_matches(|c| c == '"' || c == '\'');
                ix.ids.entry(v.to_string()).or_default().push(i + 1);
            }
        }
        ix
    }

    /// 1-based line of the first `key:` at or after 0-based line `from`.
    pub fn key(&self, from: usize, key: &str) -> Option<usize> {
        first_at_or_after(self.keys.get(key), from + 1)
    }

    /// 1-based line of `id: <id>` after 1-based line `after` (0: from the top).
    pub fn id(&self, id: &str, after: usize) -> Option<usize> {
        first_at_or_after(self.ids.get(id), after + 1)
    }

    /// Line of a field at or after 1-based `start_line`:
    /// `milestones[MILESTONE-001].due` finds the milestone first.
    pub fn field(&self, start_line: usize, field: &str) -> Option<usize> {
        let mut start = start_line.saturating_sub(1);
        let mut key = field;
        if let Some(rest) = field.strip_prefix("milestones[")
            && let Some(end) = rest.find(']')
        {
            if let Some(l) = self.id(&rest[..end], start) {
                start = l - 1;
            }
            key = rest[end + 1..].trim_start_matches('.');
        }
        let root_key = key.split(['[', '.']).next().unwrap_or(key);
        self.key(start, root_key)
    }

    /// The lines `[first, end)` of the list item whose `id:` is on 1-based
    /// line `id_line`, and the column of its keys: from its `- ` line (which
    /// may hold another key, sorted before `id:`) to the next line indented
    /// no deeper than that dash.
    fn item_extent(&self, id_line: usize) -> Option<(usize, usize, usize)> {
        let cols = self.key_cols.get("id")?;
        let lines = self.keys.get("id")?;
        let col = cols[lines.binary_search(&id_line).ok()?];
        let shape_of = |l: usize| self.shapes.get(l - 1).filter(|s| s.indent != usize::MAX);
        let mut first = None;
        for l in (1..=id_line).rev() {
            let Some(s) = shape_of(l) else { continue };
            if s.item == Some(col) {
                first = Some(l);
                break;
            }
            if s.indent < col {
                break;
            }
        }
        let first = first?;
        let dash = shape_of(first)?.indent;
        let end = (first + 1..=self.shapes.len())
            .find(|&l| shape_of(l).is_some_and(|s| s.indent <= dash))
            .unwrap_or(self.shapes.len() + 1);
        Some((first, end, col))
    }

    /// Line of `field` of the list item (a legacy entity) whose `id:` is on
    /// 1-based line `id_line`: only that item's own keys count — never a key
    /// of the next item (a missing field) nor one nested deeper.
    /// `milestones[MILESTONE-001].due` finds the milestone inside the item.
    pub fn item_field(&self, id_line: usize, field: &str) -> Option<usize> {
        let (first, end, col) = self.item_extent(id_line)?;
        let mut key = field;
        if let Some(rest) = field.strip_prefix("milestones[")
            && let Some(close) = rest.find(']')
        {
            let ms = self.id(&rest[..close], first - 1).filter(|&l| l < end)?;
            return self.item_field(ms, rest[close + 1..].trim_start_matches('.'));
        }
        if key.is_empty() {
            return Some(id_line);
        }
        key = key.split(['[', '.']).next().unwrap_or(key);
        let lines = self.keys.get(key)?;
        let cols = &self.key_cols[key];
        let from = lines.partition_point(|&l| l < first);
        lines[from..]
            .iter()
            .zip(&cols[from..])
            .take_while(|(l, _)| **l < end)
            .find(|(_, c)| **c == col)
            .map(|(l, _)| *l)
    }
}
/// Finds the lines of fields in their files for many problems: each file
/// is read and indexed once (see [`lines`]).
#[derive(Debug, Default)]
pub struct Locator {
    files: std::cell::RefCell<HashMap<PathBuf, Option<std::sync::Arc<LineIndex>>>>,
}

impl Locator {
    /// The text of the file `origin` names (`None` when it cannot be read).
    fn text_of(origin: &Origin) -> Option<String> {
        let max = Limits::default().max_file_bytes.max(64 << 20);
        match origin {
            Origin::File(p) => files::read_text(p, max).ok(),
            Origin::Legacy(p) => files::read_text_following(p, max).ok(),
        }
    }

    /// The line index of the file `origin` names (`None` when it cannot be
    /// read).
    fn index_of(origin: &Origin) -> Option<std::sync::Arc<LineIndex>> {
        Some(std::sync::Arc::new(LineIndex::new(&Self::text_of(origin)?)))
    }

    /// The line of `field` of entity `id` in its file.
    pub fn locate(&self, origin: &Origin, id: &str, field: &str) -> Option<usize> {
        let index = self
            .files
            .borrow_mut()
            .entry(origin.path().to_path_buf())
            .or_insert_with(|| Self::index_of(origin))
            .clone()?;
        match origin {
            Origin::File(_) => index.field(1, field).or(Some(1)),
            Origin::Legacy(_) => {
                let start = index.id(id, 0)?;
                index.item_field(start, field).or(Some(start))
            }
        }
    }
}

impl crate::model::LineLookup for Locator {
    fn line(&self, origin: &Origin, id: &str, field: &str) -> Option<usize> {
        self.locate(origin, id, field)
    }

    /// The files not read yet are read at once, on every core (a lint of
    /// 100,000 entities may point into thousands of them). A file asked
    /// about a few fields is scanned for them; one asked about more is
    /// indexed (and kept), so many problems in one large file stay linear.
    fn lines(&self, asks: &[(&Origin, &str, &str)]) -> Vec<Option<usize>> {
        use rayon::prelude::*;
        /// More asks than this in one file: index it.
        const SCAN_AT_MOST: usize = 4;
        let mut out: Vec<Option<usize>> = vec![None; asks.len()];
        // The asks of each file not read yet, in order of first ask.
        let mut groups: Vec<(&Origin, Vec<usize>)> = Vec::new();
        {
            let cache = self.files.borrow();
            let mut at: HashMap<&std::path::Path, usize> = HashMap::new();
            for (i, (origin, _, _)) in asks.iter().enumerate() {
                if cache.contains_key(origin.path()) {
                    continue;
                }
                let g = *at.entry(origin.path()).or_insert_with(|| {
                    groups.push((origin, Vec::new()));
                    groups.len() - 1
                });
                groups[g].1.push(i);
            }
        }
        type Answered = (Vec<(usize, Option<usize>)>, Option<(PathBuf, Option<std::sync::Arc<LineIndex>>)>);
        let answered: Vec<Answered> = groups
            .par_iter()
            .map(|(origin, idx)| {
                if matches!(origin, Origin::File(_)) && idx.len() <= SCAN_AT_MOST {
                    let text = Self::text_of(origin);
                    let lines = idx
                        .iter()
                        .map(|&i| (i, text.as_deref().and_then(|t| scan_field(t, asks[i].2).or(Some(1)))))
                        .collect();
                    return (lines, None);
                }
                (Vec::new(), Some((origin.path().to_path_buf(), Self::index_of(origin))))
            })
            .collect();
        let mut cache = self.files.borrow_mut();
        for (lines, indexed) in answered {
            for (i, line) in lines {
                out[i] = line;
            }
            if let Some((path, index)) = indexed {
                cache.insert(path, index);
            }
        }
        drop(cache);
        for (i, (origin, id, field)) in asks.iter().enumerate() {
            if self.files.borrow().contains_key(origin.path()) {
                out[i] = self.locate(origin, id, field);
            }
        }
        out
    }
}

/// The key of a line and what follows its colon (as [`LineIndex`] reads it).
fn key_of(line: &str) -> Option<(&str, &str)> {
    let t = content(line);
    let colon = t.find(':')?;
    let key = t[..colon].trim_end();
    (!key.is_empty()).then_some((key, &t[colon + 1..]))
}

/// [`LineIndex::field`]`(1, field)` found by scanning `text` instead of
/// indexing it: for a file asked about a few fields.
fn scan_field(text: &str, field: &str) -> Option<usize> {
    let mut start = 0;
    let mut key = field;
    if let Some(rest) = field.strip_prefix("milestones[")
        && let Some(end) = rest.find(']')
    {
        let id = &rest[..end];
        let id_line = text.lines().position(|l| {
            key_of(l).is_some_and(|(k, v)| k == "id" && v.trim().trim_matches(|c| c == '"' || c == '\'') == id)
        });
        if let Some(l) = id_line {
            start = l;
        }
        key = rest[end + 1..].trim_start_matches('.');
    }
    let root_key = key.split(['[', '.']).next().unwrap_or(key);
    text.lines()
        .enumerate()
        .skip(start)
        .find(|(_, l)| key_of(l).is_some_and(|(k, _)| k == root_key))
        .map(|(i, _)| i + 1)
}

/// The line of `field` of entity `id` in its file (reads the file; for one
/// problem — use a [`Locator`] for many).
pub fn locate(origin: &Origin, id: &str, field: &str) -> Option<usize> {
    Locator::default().locate(origin, id, field)
}

/// 1-based line of the first `key:` at or after 0-based line `from` (one
/// search; [`LineIndex`] for many).
pub fn line_of_key(text: &str, from: usize, key: &str) -> Option<usize> {
    text.lines().enumerate().skip(from).find_map(|(i, line)| {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        let t = t.strip_prefix(key)?;
        t.trim_start().starts_with(':').then_some(i + 1)
    })
}

/// 1-based line of `id: <id>` after 1-based line `after` (0: from the top).
pub(super) fn line_of_id(text: &str, id: &str, after: usize) -> Option<usize> {
    text.lines().enumerate().skip(after).find_map(|(i, line)| {
        let t = line.trim_start().trim_start_matches("- ").trim_start();
        let rest = t.strip_prefix("id:")?.trim();
        let rest = rest.trim_matches(|c| c == '"' || c == '\'');
        (rest == id).then_some(i + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanning_for_a_field_agrees_with_the_index() {
        let texts = [
            "id: PLAN-001\ntitle: t\nmilestones:\n- id: M-1\n  due: x\n  name: a\n- id: 'M-2'\n  name: b\n  due: y\nrepos: [a]\n",
            "id: DEP-1\nconsumer: a\n  provider : b\nprovider: c\n# provider: d\n- - status: s\n",
            "",
            "no keys at all\n:\n",
        ];
        let fields = [
            "id",
            "title",
            "due",
            "name",
            "provider",
            "status",
            "repos",
            "milestones[M-1].due",
            "milestones[M-2].due",
            "milestones[M-9].name",
            "milestones[M-2]",
            "repos[0]",
            "missing",
        ];
        for text in texts {
            let ix = LineIndex::new(text);
            for field in fields {
                assert_eq!(scan_field(text, field), ix.field(1, field), "{field} in {text:?}");
            }
        }
    }

    #[test]
    fn keys_ids_and_milestone_fields() {
        let text = "id: PLAN-001\ntitle: t\nmilestones:\n- id: MILESTONE-001\n  due: x\n- id: 'MILESTONE-002'\n  name: n\n  due: y\nstatus: s\n";
        let ix = LineIndex::new(text);
        assert_eq!(ix.key(0, "title"), Some(2));
        assert_eq!(ix.key(2, "title"), None);
        assert_eq!(ix.id("MILESTONE-002", 0), Some(6));
        assert_eq!(ix.id("PLAN-001", 1), None);
        assert_eq!(ix.field(1, "milestones[MILESTONE-002].due"), Some(8));
        assert_eq!(ix.field(1, "milestones[MILESTONE-001].due"), Some(5));
        assert_eq!(ix.field(1, "status"), Some(9));
        assert_eq!(ix.field(1, "labels[3]"), None);
    }

    #[test]
    fn a_legacy_item_finds_only_its_own_keys() {
        let text = "coordination:\n  todos:\n    - title: first\n      id: TODO-001\n      # note\n\n      status: open\n    - id: TODO-002\n      task: t\n      sub:\n        repo: x\n      repo: y\n  plans:\n  - id: PLAN-001\n    milestones:\n    - id: MILESTONE-001\n      due: z\n    status: s\n";
        let ix = LineIndex::new(text);
        assert_eq!(ix.item_field(4, "title"), Some(3), "a key sorted before id");
        assert_eq!(ix.item_field(4, "status"), Some(7));
        assert_eq!(ix.item_field(4, "task"), None, "missing: not the next item's");
        assert_eq!(ix.item_field(8, "repo"), Some(12), "not the nested one");
        assert_eq!(ix.item_field(8, "title"), None);
        assert_eq!(ix.item_field(14, "status"), Some(18));
        assert_eq!(ix.item_field(14, "milestones[MILESTONE-001].due"), Some(17));
        assert_eq!(ix.item_field(14, "milestones[MILESTONE-001].name"), None);
    }
}
