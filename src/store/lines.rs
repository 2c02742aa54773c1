//! Line numbers for problems, from one pass over a file.
//!
//! A problem names its file and line, found by looking for the field's key
//! (or a milestone's `id:`) in the text. Searching the text once per problem
//! is quadratic — a 1 MiB file with 50,000 bad references would take minutes
//! to lint — so the lines of every key and every `id:` value are indexed
//! once and each lookup is a binary search.

use std::collections::HashMap;

/// The 1-based lines of each key and each `id:` value of a text.
#[derive(Debug, Default)]
pub struct LineIndex {
    keys: HashMap<String, Vec<usize>>,
    ids: HashMap<String, Vec<usize>>,
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
            let t = content(line);
            let Some(colon) = t.find(':') else { continue };
            let key = t[..colon].trim_end();
            if key.is_empty() {
                continue;
            }
            ix.keys.entry(key.to_string()).or_default().push(i + 1);
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
