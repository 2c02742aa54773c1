//! A linear pre-scan of YAML text, run before any parser sees it.
//!
//! Why: the YAML scanner behind `serde_yaml` is quadratic in flow nesting (a
//! 200 KB file of `[[[[…` takes minutes) and only applies its recursion limit
//! after scanning the whole text, so one hostile file would stall every
//! command. This pass bounds size and nesting depth in one cheap sweep and
//! refuses the file with the line where the limit was crossed.
//!
//! The same sweep notes what a canonical rewrite would lose — comments and
//! anchors/aliases — so a write that cannot be minimal can refuse instead of
//! dropping them silently (see `Store::write_update`).
//!
//! It is a tokenizer-light, not a parser: it understands quoted scalars,
//! comments, block scalars, flow collections and block indentation well
//! enough to measure depth, and errs on the side of reporting a comment or an
//! anchor that is really text (a refused rewrite) rather than missing one.

use crate::settings::Limits;

/// What the scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// Number of comments.
    pub comments: usize,
    /// 1-based line of the first comment.
    pub first_comment: Option<usize>,
    /// The first anchor (`&name`) or alias (`*name`): its line and text.
    pub first_anchor: Option<(usize, String)>,
}

/// A limit the text exceeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exceeded {
    /// Longer than `max_file_bytes`.
    Size { bytes: u64, limit: u64 },
    /// Nested deeper than `max_yaml_depth` at this 1-based line.
    Depth { line: usize, limit: usize },
}

fn is_blank(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t' | b'\n' | b'\r'))
}

fn is_flow_indicator(b: u8) -> bool {
    matches!(b, b',' | b'[' | b']' | b'{' | b'}')
}

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
    line: usize,
    flow: usize,
    /// Columns of the open block nodes.
    blocks: Vec<usize>,
    limit: usize,
    f: Features,
}

impl Scanner<'_> {
    fn check(&self) -> Result<(), Exceeded> {
        if self.blocks.len() + self.flow > self.limit {
            return Err(Exceeded::Depth { line: self.line, limit: self.limit });
        }
        Ok(())
    }

    fn comment(&mut self) {
        self.f.comments += 1;
        self.f.first_comment.get_or_insert(self.line);
        while self.i < self.b.len() && self.b[self.i] != b'\n' {
            self.i += 1;
        }
    }

    /// Consumes a quoted scalar starting at the quote; counts its lines.
    fn quoted(&mut self) {
        let q = self.b[self.i];
        self.i += 1;
        while self.i < self.b.len() {
            let c = self.b[self.i];
            if c == b'\n' {
                self.line += 1;
            } else if q == b'"' && c == b'\\' {
                self.i += 1;
                if self.b.get(self.i) == Some(&b'\n') {
                    self.line += 1;
                }
            } else if c == q {
                if q == b'\'' && self.b.get(self.i + 1) == Some(&b'\'') {
                    self.i += 1;
                } else {
                    self.i += 1;
                    return;
                }
            }
            self.i += 1;
        }
    }

    /// Consumes an anchor, alias or tag name; records anchors and aliases.
    fn property(&mut self) {
        let start = self.i;
        while self.i < self.b.len()
            && !is_blank(self.b.get(self.i))
            && !(self.flow > 0 && is_flow_indicator(self.b[self.i]))
        {
            self.i += 1;
        }
        if matches!(self.b[start], b'&' | b'*') && self.i > start + 1 && self.f.first_anchor.is_none() {
            let text = String::from_utf8_lossy(&self.b[start..self.i.min(start + 60)]).into_owned();
            self.f.first_anchor = Some((self.line, text));
        }
    }

    fn run(mut self) -> Result<Features, Exceeded> {
        let n = self.b.len();
        // Block scalar content: lines indented more than this column.
        let mut block_scalar: Option<isize> = None;
        let mut at_line_start = true;
        // The next token starts a node (where `[`, `&`, `"`, `|` mean something).
        let mut node_start = true;
        // The column of the key or `-` owning the node that starts here.
        let mut owner: isize = -1;
        let mut line_start = 0;
        while self.i < n {
            if at_line_start {
                at_line_start = false;
                line_start = self.i;
                let mut j = self.i;
                while j < n && self.b[j] == b' ' {
                    j += 1;
                }
                let indent = j - self.i;
                let blank = is_blank(self.b.get(j))
                    && self.b[j..]
                        .iter()
                        .take_while(|c| **c != b'\n')
                        .all(|c| *c == b' ' || *c == b'\t' || *c == b'\r');
                if let Some(p) = block_scalar {
                    if blank || indent as isize > p {
                        self.skip_line();
                        at_line_start = true;
                        continue;
                    }
                    block_scalar = None;
                }
                if self.flow == 0 {
                    self.i = j;
                    if blank {
                        self.skip_line();
                        at_line_start = true;
                        continue;
                    }
                    let rest = &self.b[j..];
                    if indent == 0 && rest.first() == Some(&b'%') {
                        self.skip_line();
                        at_line_start = true;
                        continue;
                    }
                    if indent == 0 && (rest.starts_with(b"---") || rest.starts_with(b"...")) && is_blank(rest.get(3)) {
                        self.blocks.clear();
                        self.i += 3;
                        node_start = true;
                        owner = -1;
                        continue;
                    }
                    if rest.first() != Some(&b'#') {
                        while self.blocks.last().is_some_and(|&top| top > indent) {
                            self.blocks.pop();
                        }
                        if self.blocks.last() != Some(&indent) {
                            self.blocks.push(indent);
                            self.check()?;
                        }
                    }
                    node_start = true;
                    owner = indent as isize;
                }
                continue;
            }
            let c = self.b[self.i];
            match c {
                b'\n' => {
                    self.line += 1;
                    self.i += 1;
                    at_line_start = true;
                }
                b' ' | b'\t' | b'\r' => self.i += 1,
                b'#' if self.i == line_start || is_blank(self.b.get(self.i - 1)) => self.comment(),
                _ if self.flow > 0 => self.flow_token(&mut node_start)?,
                b'-' | b'?' if node_start && is_blank(self.b.get(self.i + 1)) => {
                    let dash = self.i - line_start;
                    self.i += 1;
                    while self.i < n && self.b[self.i] == b' ' {
                        self.i += 1;
                    }
                    if !is_blank(self.b.get(self.i)) && self.b[self.i] != b'#' {
                        let col = self.i - line_start;
                        if self.blocks.last().is_none_or(|&top| top < col) {
                            self.blocks.push(col);
                            self.check()?;
                        }
                    }
                    owner = dash as isize;
                }
                b'[' | b'{' if node_start => {
                    self.flow = 1;
                    self.i += 1;
                    self.check()?;
                    node_start = true;
                }
                b'|' | b'>' if node_start => {
                    block_scalar = Some(owner);
                    self.i += 1;
                    // The header: indicators, then perhaps a comment.
                    while self.i < n && self.b[self.i] != b'\n' {
                        if self.b[self.i] == b'#' && is_blank(self.b.get(self.i - 1)) {
                            self.comment();
                            break;
                        }
                        self.i += 1;
                    }
                    node_start = false;
                }
                b'&' | b'!' if node_start => self.property(),
                b'*' if node_start => {
                    self.property();
                    node_start = false;
                }
                b'"' | b'\'' if node_start => {
                    let col = self.i - line_start;
                    self.quoted();
                    node_start = false;
                    if self.key_follows() {
                        owner = col as isize;
                        node_start = true;
                    }
                }
                b':' if is_blank(self.b.get(self.i + 1)) => {
                    self.i += 1;
                    node_start = true;
                }
                _ => {
                    // A plain scalar: up to `: ` (a key), ` #` (a comment) or the end of the line.
                    let col = self.i - line_start;
                    node_start = false;
                    while self.i < n {
                        let d = self.b[self.i];
                        if d == b'\n' || (d == b'#' && is_blank(self.b.get(self.i - 1))) {
                            break;
                        }
                        if d == b':' && is_blank(self.b.get(self.i + 1)) {
                            self.i += 1;
                            owner = col as isize;
                            node_start = true;
                            break;
                        }
                        self.i += 1;
                    }
                }
            }
        }
        Ok(self.f)
    }

    fn skip_line(&mut self) {
        while self.i < self.b.len() && self.b[self.i] != b'\n' {
            self.i += 1;
        }
        if self.i < self.b.len() {
            self.i += 1;
            self.line += 1;
        }
    }

    /// After a quoted scalar: is it a key (`"a": …`)? Consumes the colon.
    fn key_follows(&mut self) -> bool {
        let mut j = self.i;
        while j < self.b.len() && matches!(self.b[j], b' ' | b'\t') {
            j += 1;
        }
        if self.b.get(j) == Some(&b':') && (is_blank(self.b.get(j + 1)) || self.flow > 0) {
            self.i = j + 1;
            return true;
        }
        false
    }

    /// One token inside a flow collection.
    fn flow_token(&mut self, node_start: &mut bool) -> Result<(), Exceeded> {
        let c = self.b[self.i];
        match c {
            b'[' | b'{' => {
                self.flow += 1;
                self.i += 1;
                *node_start = true;
                self.check()?;
            }
            b']' | b'}' => {
                self.flow -= 1;
                self.i += 1;
                *node_start = false;
            }
            b',' => {
                self.i += 1;
                *node_start = true;
            }
            b':' if is_blank(self.b.get(self.i + 1))
                || self.b.get(self.i + 1).is_some_and(|d| is_flow_indicator(*d)) =>
            {
                self.i += 1;
                *node_start = true;
            }
            b'"' | b'\'' if *node_start => {
                self.quoted();
                *node_start = false;
                if self.key_follows() {
                    *node_start = true;
                }
            }
            b'&' | b'!' if *node_start => self.property(),
            b'*' if *node_start => {
                self.property();
                *node_start = false;
            }
            _ => {
                *node_start = false;
                while self.i < self.b.len() {
                    let d = self.b[self.i];
                    if d == b'\n' || is_flow_indicator(d) || (d == b'#' && is_blank(self.b.get(self.i - 1))) {
                        break;
                    }
                    if d == b':'
                        && (is_blank(self.b.get(self.i + 1))
                            || self.b.get(self.i + 1).is_some_and(|x| is_flow_indicator(*x)))
                    {
                        break;
                    }
                    self.i += 1;
                }
            }
        }
        Ok(())
    }
}

/// Scans `text`: refuses it when it exceeds a limit, else says whether it
/// holds comments and anchors.
pub fn scan(text: &str, limits: &Limits) -> Result<Features, Exceeded> {
    let bytes = text.len() as u64;
    if bytes > limits.max_file_bytes {
        return Err(Exceeded::Size { bytes, limit: limits.max_file_bytes });
    }
    Scanner {
        b: text.as_bytes(),
        i: 0,
        line: 1,
        flow: 0,
        blocks: Vec::new(),
        limit: limits.max_yaml_depth,
        f: Features::default(),
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(depth: usize) -> Limits {
        Limits { max_file_bytes: 1 << 20, max_yaml_depth: depth }
    }

    fn depth_ok(text: &str, depth: usize) -> bool {
        scan(text, &limits(depth)).is_ok()
    }

    #[test]
    fn flow_nesting_is_bounded_and_located() {
        let deep = format!("id: X\ntitle: t\nx: {}\n", "[".repeat(100_000));
        assert_eq!(scan(&deep, &limits(64)), Err(Exceeded::Depth { line: 3, limit: 64 }));
        assert!(depth_ok("x: [[[a]]]\n", 4));
        assert!(!depth_ok("x: [[[a]]]\n", 3));
        assert!(depth_ok("x: {a: {b: [c, d]}}\n", 4));
        // Brackets in quotes, comments, block scalars and plain text do not nest.
        let text = "a: \"[[[[[[\"\nb: '[[[[[['\nc: x[[[[[[ # [[[[[[\nd: |\n  [[[[[[\n  {{{{{{\ne: [1, 2]\n";
        assert!(depth_ok(text, 2), "{:?}", scan(text, &limits(2)));
    }

    #[test]
    fn block_nesting_is_bounded() {
        let nested: String = (0..200).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(matches!(scan(&nested, &limits(64)), Err(Exceeded::Depth { line: 65, .. })));
        let dashes = format!("x:\n{}a\n", "- ".repeat(1000));
        assert!(matches!(scan(&dashes, &limits(64)), Err(Exceeded::Depth { line: 2, .. })));
        let plan =
            "id: PLAN-001\nmilestones:\n- id: M-1\n  criteria:\n  - a\n  - b\n- id: M-2\nmetadata:\n  a:\n    b: c\n";
        assert!(depth_ok(plan, 4), "{:?}", scan(plan, &limits(4)));
    }

    #[test]
    fn size_is_bounded() {
        let text = "a: b\n".repeat(1000);
        let l = Limits { max_file_bytes: 1024, max_yaml_depth: 64 };
        assert_eq!(scan(&text, &l), Err(Exceeded::Size { bytes: 5000, limit: 1024 }));
    }

    #[test]
    fn comments_and_anchors_are_found_and_text_is_not_mistaken_for_them() {
        let f = scan("# top\na: b # trailing\nc: 'x # y'\nd: \"#\"\ne: a#b\n", &limits(64)).unwrap();
        assert_eq!((f.comments, f.first_comment), (2, Some(1)));
        assert_eq!(f.first_anchor, None);
        let f = scan("a: fish & chips\nb: x&y\nc: |\n  # text, not a comment\n  &text\n", &limits(64)).unwrap();
        assert_eq!((f.comments, f.first_anchor), (0, None));
        let f = scan("a: 1\nrepos: &r [x]\nmeta:\n  also: *r\n", &limits(64)).unwrap();
        assert_eq!(f.first_anchor, Some((2, "&r".to_string())));
        let f = scan("a: [x, *r]\n", &limits(64)).unwrap();
        assert_eq!(f.first_anchor, Some((1, "*r".to_string())));
        let f = scan("a: \"multi\n  line # not\"\nb: 1 # yes\n", &limits(64)).unwrap();
        assert_eq!((f.comments, f.first_comment), (1, Some(3)));
    }
}
