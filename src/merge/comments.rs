//! Comments (and blank lines) through a merge.
//!
//! The value merge patches ours' file, so ours' comments come along for free
//! and theirs' would be lost. Comments are therefore merged as a second
//! layer, three-way, like the fields, and attached to the same structure:
//!
//! - every content line that starts a field or a list item is an *anchor*,
//!   named by its path (`metadata.owner`, `labels[config]`,
//!   `milestones[MILESTONE-002]`) rather than by its line number, so it is
//!   found again in a file whose values, order and length changed;
//! - the comment and blank lines just above an anchor are its *block*, the
//!   comment at the end of its line its *line comment*; the lines after the
//!   last anchor are the block of the end of the file;
//! - for each anchor, block and line comment merge like a field: changed on
//!   one side → that side's, changed alike → once, changed differently (or
//!   changed on one side and its field removed on the other) → a conflict,
//!   shown with markers like a field conflict;
//! - the merged layout is then written onto the value-merged text, and the
//!   result is read back: the values must still be the merged values and
//!   every block and line comment the intended one;
//! - finally each comment text is counted, trusting no anchor: where one
//!   side changed how often it occurs, the result must have it that often.
//!   Adding a field right below a comment makes the comment the field's, so
//!   "removed on one side, taken over by a new field on the other" looks
//!   like two agreeing changes to the anchors; the count sees it.
//!
//! Which lines are comments comes from `yaml-edit`'s syntax tree, so a `#`
//! line inside a block scalar is content (the value merge's business), never
//! a comment. Comments the layer cannot place by anchor — inside a flow
//! collection spread over several lines, on a line that starts no field —
//! are checked, not moved: if the merge would change or drop one, placing
//! fails and the caller falls back to git's line merge. Nothing is dropped
//! silently either way.
//!
//! It stays one file: anchoring, three-way merging, placing and verifying
//! comments are one algorithm over one anchor map, and each step's invariant
//! is checked by the next.

use super::value::{Conflict, ConflictPart, Prefer, Seg, canonical_keys};
use crate::model::reader::scalar_text;
use crate::store::parse_mapping;
use serde_yaml::{Mapping, Value};
use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::str::FromStr;
use yaml_edit::{Document, YamlNode};

/// Why comments could not be carried over (the caller merges lines instead).
pub type Unplaced = String;

/// One step of an anchor's path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Step {
    Key(String),
    /// A list item that is a mapping with an `id`.
    Id(String),
    /// Any other list item: its value, and which occurrence of it.
    Item(String, usize),
}

/// A field or list item, by path.
type Anchor = Vec<Step>;

/// Where an anchor sits in one text.
#[derive(Debug, Clone)]
struct Slot {
    /// The comment and blank lines just above it.
    block: Range<usize>,
    /// Its own line.
    line: usize,
    /// Byte offset in that line where its line comment (and the blanks
    /// before it) start; the line's length without newline if none.
    content_end: usize,
}

/// The comment layout of one text.
#[derive(Debug, Default)]
pub struct Layout {
    lines: Vec<String>,
    order: Vec<Anchor>,
    slots: HashMap<Anchor, Slot>,
    end: Range<usize>,
    /// Comments on lines that are not anchors (inside a multi-line value,
    /// on a `-` or `---` line), by the anchor they follow.
    interior: HashMap<Option<Anchor>, Vec<String>>,
    /// How often each comment text occurs, wherever.
    counts: HashMap<String, usize>,
}

fn body(line: &str) -> &str {
    line.strip_suffix('\n').unwrap_or(line)
}

fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

fn item_step(item: &Value, seen: &mut HashMap<String, usize>) -> Step {
    if let Value::Mapping(m) = item
        && let Some(id) = m.get("id").and_then(scalar_text)
    {
        return Step::Id(id);
    }
    let text = scalar_text(item).unwrap_or_else(|| serde_yaml::to_string(item).unwrap_or_default());
    let n = seen.entry(text.clone()).or_default();
    *n += 1;
    Step::Item(text, *n - 1)
}

struct Walk {
    starts: Vec<usize>,
    anchor_at: Vec<Option<Anchor>>,
    interior_of: Vec<Option<Anchor>>,
}

impl Walk {
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|s| *s <= offset).saturating_sub(1)
    }

    fn anchor(&mut self, offset: usize, path: &Anchor) -> usize {
        let line = self.line_of(offset);
        if self.anchor_at[line].is_none() {
            self.anchor_at[line] = Some(path.clone());
        }
        line
    }

    fn mapping(&mut self, node: &yaml_edit::Mapping, map: &Mapping, path: &mut Anchor) -> Result<(), Unplaced> {
        let entries: Vec<_> = node.entries().collect();
        if entries.len() != map.len() {
            return Err("a mapping's keys could not be matched with its entries".into());
        }
        for (entry, (k, v)) in entries.iter().zip(map) {
            let key = entry.key_node().ok_or("a mapping entry without a key")?;
            path.push(Step::Key(scalar_text(k).unwrap_or_else(|| serde_yaml::to_string(k).unwrap_or_default())));
            let line = self.anchor(key.byte_range().start as usize, path);
            if let Some(value) = entry.value_node() {
                self.value(&value, v, line, path)?;
            }
            path.pop();
        }
        Ok(())
    }

    fn value(&mut self, node: &YamlNode, v: &Value, line: usize, path: &mut Anchor) -> Result<(), Unplaced> {
        match (node, v) {
            (YamlNode::Mapping(m), Value::Mapping(map)) if !m.is_flow_style() => self.mapping(m, map, path),
            (YamlNode::Sequence(s), Value::Sequence(items)) if !s.is_flow_style() => {
                let nodes: Vec<_> = s.values().collect();
                if nodes.len() != items.len() {
                    return Err("a list's items could not be matched with its entries".into());
                }
                let mut seen = HashMap::new();
                for (n, item) in nodes.iter().zip(items) {
                    path.push(item_step(item, &mut seen));
                    let at = self.anchor(n.byte_range().start as usize, path);
                    self.value(n, item, at, path)?;
                    path.pop();
                }
                Ok(())
            }
            _ => {
                // A scalar or flow collection: its further lines are content.
                let r = node.byte_range();
                let (start, end) = (r.start as usize, r.end as usize);
                if end > start {
                    let last = self.line_of(end - 1);
                    for l in (self.line_of(start)..=last).filter(|l| *l != line) {
                        self.interior_of[l] = Some(path.clone());
                    }
                }
                Ok(())
            }
        }
    }
}

impl Layout {
    /// Reads the layout of `text` (LF line ends). Its entries are matched
    /// with its own parsed value, in order, which names the anchors.
    pub fn read(text: &str) -> Result<Layout, Unplaced> {
        let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
        if text.trim().is_empty() {
            return Ok(Layout { end: 0..lines.len(), lines, ..Layout::default() });
        }
        let map = canonical_keys(&parse_mapping(text).map_err(|(_, e)| format!("it does not read as a mapping: {e}"))?);
        let doc = Document::from_str(text).map_err(|e| format!("yaml-edit could not parse it: {e}"))?;
        let root = doc.as_mapping().ok_or("yaml-edit does not read it as a mapping")?;
        let mut starts = Vec::with_capacity(lines.len());
        let mut at = 0;
        for l in &lines {
            starts.push(at);
            at += l.len();
        }
        let n = lines.len();
        let mut walk = Walk { starts, anchor_at: vec![None; n], interior_of: vec![None; n] };
        walk.mapping(&root, &map, &mut Vec::new())?;
        // The column of the comment on each line, if any.
        let mut comment_at: Vec<Option<usize>> = vec![None; n];
        let mut counts: HashMap<String, usize> = HashMap::new();
        for c in doc.comments() {
            *counts.entry(c.text().trim_end().to_string()).or_default() += 1;
            let offset = usize::from(c.text_range().start());
            let line = walk.line_of(offset);
            comment_at[line] = Some(offset - walk.starts[line]);
        }

        let mut layout = Layout { lines, counts, ..Layout::default() };
        let mut pending = 0;
        let mut last: Option<Anchor> = None;
        for (i, at) in comment_at.iter().enumerate() {
            let line = &layout.lines[i];
            let comment = at.map(|c| line[c..].trim_end_matches('\n').to_string());
            if let Some(owner) = &walk.interior_of[i] {
                // A line of a multi-line value (and any comment lines between
                // its key and its first line): checked, never moved.
                let slot = layout.interior.entry(Some(owner.clone())).or_default();
                if pending < i {
                    slot.push(layout.lines[pending..i].concat());
                }
                slot.extend(comment);
                pending = i + 1;
                continue;
            }
            let first = line.len() - line.trim_start().len();
            if is_blank(line) || *at == Some(first) {
                continue;
            }
            let content_end = body(line)[..at.unwrap_or(body(line).len())].trim_end().len();
            match walk.anchor_at[i].take() {
                Some(anchor) => {
                    if layout.slots.contains_key(&anchor) {
                        return Err("two fields or items have the same path".into());
                    }
                    layout.order.push(anchor.clone());
                    layout.slots.insert(anchor.clone(), Slot { block: pending..i, line: i, content_end });
                    last = Some(anchor);
                }
                None => {
                    // A line that starts no field (`-` alone, `---`).
                    let slot = layout.interior.entry(last.clone()).or_default();
                    slot.push(layout.lines[pending..i].concat());
                    slot.extend(comment);
                }
            }
            pending = i + 1;
        }
        layout.end = pending..n;
        Ok(layout)
    }

    fn block(&self, a: &Anchor) -> Option<String> {
        self.slots.get(a).map(|s| self.lines[s.block.clone()].concat())
    }

    fn trailing(&self, a: &Anchor) -> Option<String> {
        self.slots.get(a).map(|s| body(&self.lines[s.line])[s.content_end..].to_string())
    }

    fn end_block(&self) -> String {
        self.lines[self.end.clone()].concat()
    }

    fn interior_of(&self, a: &Option<Anchor>) -> Vec<String> {
        self.interior.get(a).cloned().unwrap_or_default()
    }

    /// The indentation of an anchor's line.
    fn indent(&self, a: &Anchor) -> String {
        self.slots
            .get(a)
            .map(|s| {
                let l = &self.lines[s.line];
                l[..l.len() - l.trim_start().len()].to_string()
            })
            .unwrap_or_default()
    }
}

/// One part of the layout in base, ours and theirs (`None`: the anchor is
/// not in that version).
#[derive(Debug, Clone, PartialEq)]
struct Three<T> {
    base: Option<T>,
    ours: Option<T>,
    theirs: Option<T>,
}

/// The result of merging one part.
enum Pick<'a, T> {
    Take(&'a Option<T>),
    Conflict,
}

impl<T: PartialEq> Three<T> {
    fn pick(&self) -> Pick<'_, T> {
        if self.ours == self.theirs || self.base == self.theirs {
            Pick::Take(&self.ours)
        } else if self.base == self.ours {
            Pick::Take(&self.theirs)
        } else {
            Pick::Conflict
        }
    }

    fn side(&self, prefer: Prefer) -> (&Option<T>, &Option<T>) {
        match prefer {
            Prefer::Ours => (&self.ours, &self.theirs),
            Prefer::Theirs => (&self.theirs, &self.ours),
        }
    }

    /// The value for a text that has the anchor: the merged one; for a
    /// conflict or an anchor the merge removed, the preferred side's, else
    /// the other's, else base's.
    fn for_present(&self, prefer: Prefer) -> Option<&T> {
        let (first, second) = self.side(prefer);
        match self.pick() {
            Pick::Take(Some(v)) => Some(v),
            _ => first.as_ref().or(second.as_ref()).or(self.base.as_ref()),
        }
    }
}

/// The comment layer of a three-way merge.
pub struct CommentMerge {
    anchors: Vec<Anchor>,
    blocks: HashMap<Anchor, Three<String>>,
    trailing: HashMap<Anchor, Three<String>>,
    end: Three<String>,
    interior: HashMap<Option<Anchor>, Three<Vec<String>>>,
    ours_order: Vec<Anchor>,
    theirs_order: Vec<Anchor>,
    ours_indent: HashMap<Anchor, String>,
    theirs_indent: HashMap<Anchor, String>,
    /// Each comment text's count in base, ours and theirs.
    counts: HashMap<String, Three<usize>>,
}

fn has_text(s: &Option<String>) -> bool {
    s.as_deref().is_some_and(|s| !s.trim().is_empty())
}

impl CommentMerge {
    /// Compares the layouts of the three versions.
    pub fn new(base: &Layout, ours: &Layout, theirs: &Layout) -> CommentMerge {
        let mut anchors = Vec::new();
        let mut seen = HashSet::new();
        for a in ours.order.iter().chain(&theirs.order).chain(&base.order) {
            if seen.insert(a.clone()) {
                anchors.push(a.clone());
            }
        }
        let three = |f: &dyn Fn(&Layout) -> Option<String>| Three { base: f(base), ours: f(ours), theirs: f(theirs) };
        let blocks = anchors.iter().map(|a| (a.clone(), three(&|l| l.block(a)))).collect();
        let trailing = anchors.iter().map(|a| (a.clone(), three(&|l| l.trailing(a)))).collect();
        let mut owners: Vec<Option<Anchor>> = Vec::new();
        for l in [base, ours, theirs] {
            owners.extend(l.interior.keys().filter(|k| !owners.contains(k)).cloned().collect::<Vec<_>>());
        }
        let interior = owners
            .into_iter()
            .map(|k| {
                let side = |l: &Layout| Some(l.interior_of(&k));
                let t = Three { base: side(base), ours: side(ours), theirs: side(theirs) };
                (k, t)
            })
            .collect();
        let indents = |l: &Layout| l.order.iter().map(|a| (a.clone(), l.indent(a))).collect();
        let count = |l: &Layout, c: &String| Some(l.counts.get(c).copied().unwrap_or(0));
        let texts: HashSet<&String> = [base, ours, theirs].iter().flat_map(|l| l.counts.keys()).collect();
        let counts = texts
            .into_iter()
            .map(|c| (c.clone(), Three { base: count(base, c), ours: count(ours, c), theirs: count(theirs, c) }))
            .collect();
        CommentMerge {
            counts,
            blocks,
            trailing,
            end: three(&|l| Some(l.end_block())),
            interior,
            ours_order: ours.order.clone(),
            theirs_order: theirs.order.clone(),
            ours_indent: indents(ours),
            theirs_indent: indents(theirs),
            anchors,
        }
    }

    /// Comments changed differently on both sides, as conflicts.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let mut out = Vec::new();
        let mut push = |path: Vec<Seg>, part: ConflictPart, t: &Three<String>| {
            if matches!(t.pick(), Pick::Conflict) {
                let as_value = |s: &Option<String>| s.clone().map(Value::String);
                out.push(Conflict { path, ours: as_value(&t.ours), theirs: as_value(&t.theirs), part });
            }
        };
        for a in &self.anchors {
            push(segs(a), ConflictPart::CommentsAbove, &self.blocks[a]);
            push(segs(a), ConflictPart::LineComment, &self.trailing[a]);
        }
        push(Vec::new(), ConflictPart::CommentsAbove, &self.end);
        out
    }

    /// Whether any comment conflicts.
    pub fn has_conflicts(&self) -> bool {
        !self.conflicts().is_empty()
    }

    /// Writes the merged comments onto `text` (a rendering of the merged
    /// `value`), conflicting ones as `prefer` has them, and checks the result.
    pub fn apply(&self, text: &str, value: &Mapping, prefer: Prefer) -> Result<Rendered, Unplaced> {
        let layout = Layout::read(text)?;
        // Comments this layer does not move must already be right.
        for (owner, three) in &self.interior {
            let present = owner.as_ref().is_none_or(|a| layout.slots.contains_key(a));
            let fits = match three.pick() {
                Pick::Take(want) => {
                    let want = want.clone().unwrap_or_default();
                    if present { layout.interior_of(owner) == want } else { want.iter().all(|c| c.trim().is_empty()) }
                }
                Pick::Conflict => false,
            };
            if !fits {
                return Err(unplaced(
                    "a comment inside a multi-line value or on a line that starts no field",
                    owner.as_ref(),
                ));
            }
        }
        // Blocks of anchors the text lacks: only conflicts, placed before
        // the next anchor of that side that the text has.
        let mut orphans: HashMap<Option<Anchor>, String> = HashMap::new();
        for a in self.anchors.iter().filter(|a| !layout.slots.contains_key(*a)) {
            let (order, indents) = match prefer {
                Prefer::Ours => (&self.ours_order, &self.ours_indent),
                Prefer::Theirs => (&self.theirs_order, &self.theirs_indent),
            };
            let mut text = String::new();
            let (block, trailing) = (&self.blocks[a], &self.trailing[a]);
            for (three, is_line) in [(block, false), (trailing, true)] {
                match three.pick() {
                    Pick::Take(v) if has_text(v) => return Err(unplaced("a comment of a field that is gone", Some(a))),
                    Pick::Take(_) => {}
                    Pick::Conflict => {
                        if let Some(v) = three.side(prefer).0.as_deref().filter(|v| !v.trim().is_empty()) {
                            if is_line {
                                let indent = indents.get(a).map(String::as_str).unwrap_or_default();
                                text.push_str(&format!("{indent}{}\n", v.trim()));
                            } else {
                                text.push_str(v);
                            }
                        }
                    }
                }
            }
            if !text.is_empty() {
                let next =
                    order.iter().skip_while(|x| *x != a).skip(1).find(|x| layout.slots.contains_key(*x)).cloned();
                orphans.entry(next).or_default().push_str(&text);
            }
        }
        let mut blocks = HashMap::new();
        let mut trailing = HashMap::new();
        for a in &layout.order {
            let mut block = orphans.remove(&Some(a.clone())).unwrap_or_default();
            let mine = self.blocks.get(a).and_then(|t| t.for_present(prefer)).cloned();
            block.push_str(&mine.or_else(|| layout.block(a)).unwrap_or_default());
            blocks.insert(a.clone(), block);
            let line = self.trailing.get(a).and_then(|t| t.for_present(prefer)).cloned();
            trailing.insert(a.clone(), line.or_else(|| layout.trailing(a)).unwrap_or_default());
        }
        let mut end = orphans.remove(&None).unwrap_or_default();
        end.push_str(self.end.for_present(prefer).map(String::as_str).unwrap_or_default());

        let out = render(&layout, &blocks, &trailing, &end);
        // Read it back: same values, and the layout asked for.
        let reread = parse_mapping(&out).map_err(|(_, e)| format!("the result does not read back: {e}"))?;
        if canonical_keys(&reread) != *value {
            return Err("placing comments would change a value".into());
        }
        let check = Layout::read(&out)?;
        let same = check.order == layout.order
            && check.end_block() == end
            && layout
                .order
                .iter()
                .all(|a| check.block(a).as_ref() == blocks.get(a) && check.trailing(a).as_ref() == trailing.get(a))
            && check.interior == layout.interior;
        if !same {
            return Err("the comments did not land where they belong".into());
        }
        Ok(Rendered { text: out, counts: check.counts })
    }

    /// A check that does not trust the anchors: each comment text must
    /// occur in a rendering as often as the side that changed its count
    /// left it (`view`: the rendering with conflicts as ours, or as
    /// theirs). It catches a comment that one side removed and the other
    /// moved onto a new field, which the anchors see as two agreeing
    /// changes, and one comment added at two places, once on each side.
    pub fn check_counts(&self, view: Prefer, rendered: &Rendered) -> Result<(), Unplaced> {
        for (c, n) in &self.counts {
            let (b, o, t) = (n.base.unwrap_or(0), n.ours.unwrap_or(0), n.theirs.unwrap_or(0));
            let want = match (o == b, t == b, view) {
                (true, true, _) => b,
                (false, true, Prefer::Ours) | (false, false, Prefer::Ours) if o == t || t == b => o,
                (true, false, Prefer::Theirs) | (false, false, Prefer::Theirs) if o == t || o == b => t,
                _ => continue,
            };
            let got = rendered.counts.get(c).copied().unwrap_or(0);
            if got != want {
                let side = if o != b { "ours" } else { "theirs" };
                return Err(format!("the comment `{c}` would be there {got} time(s), {side} has it {want}"));
            }
        }
        Ok(())
    }
}

/// A text with the merged comments written onto it.
pub struct Rendered {
    pub text: String,
    counts: HashMap<String, usize>,
}

fn unplaced(what: &str, owner: Option<&Anchor>) -> Unplaced {
    match owner {
        Some(a) => format!("{what} ({}) cannot be placed", Conflict::field_of(&segs(a))),
        None => format!("{what} cannot be placed"),
    }
}

fn segs(a: &Anchor) -> Vec<Seg> {
    a.iter()
        .map(|s| match s {
            Step::Key(k) => Seg::Key(k.clone()),
            Step::Id(id) => Seg::Item(id.clone()),
            Step::Item(v, 0) => Seg::Item(v.trim().to_string()),
            Step::Item(v, n) => Seg::Item(format!("{} #{}", v.trim(), n + 1)),
        })
        .collect()
}

fn render(layout: &Layout, blocks: &HashMap<Anchor, String>, trailing: &HashMap<Anchor, String>, end: &str) -> String {
    fn push(out: &mut String, s: &str) {
        if s.is_empty() {
            return;
        }
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(s);
    }
    let mut skip = vec![false; layout.lines.len()];
    for r in layout.slots.values().map(|s| s.block.clone()).chain([layout.end.clone()]) {
        skip[r].iter_mut().for_each(|x| *x = true);
    }
    let mut at_line: HashMap<usize, &Anchor> = HashMap::new();
    for (a, s) in &layout.slots {
        at_line.insert(s.line, a);
    }
    let mut out = String::new();
    for (i, line) in layout.lines.iter().enumerate() {
        if let Some(a) = at_line.get(&i) {
            push(&mut out, &blocks[*a]);
            push(&mut out, &body(line)[..layout.slots[*a].content_end]);
            out.push_str(&trailing[*a]);
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else if !skip[i] {
            push(&mut out, line);
        }
    }
    push(&mut out, end);
    out
}
