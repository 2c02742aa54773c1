//! Text and Markdown forms of entity changes, shared by `log`, `diff` and
//! `review` (and usable by any front end). Plain strings: no colour, no I/O.

use super::changes::{EntityChange, Op};
use super::fields::{Change, FieldChange, display};
use crate::model::Kind;

/// Whether additions to field `name` create new blocking edges.
fn is_blocking_field(name: &str) -> bool {
    crate::model::refs::relation_of(name).is_some_and(|r| r.is_blocking())
}

/// One field change as a line: `status: pending → in_progress`,
/// `labels: +breaking −draft`, `description:` followed by its patch lines.
pub fn field_line(f: &FieldChange) -> String {
    match &f.change {
        Change::Set { old, new } => match (old, new) {
            (Some(o), Some(n)) => format!("{}: {} → {}", f.field, display(o), display(n)),
            (None, Some(n)) => format!("{}: (unset) → {}", f.field, display(n)),
            (Some(o), None) => format!("{}: {} → (removed)", f.field, display(o)),
            (None, None) => format!("{}: changed", f.field),
        },
        Change::List { added, removed } => {
            let mut parts: Vec<String> = added.iter().map(|v| format!("+{}", display(v))).collect();
            parts.extend(removed.iter().map(|v| format!("−{}", display(v))));
            format!("{}: {}", f.field, parts.join(" "))
        }
        Change::Text { patch } => {
            let mut s = format!("{}:", f.field);
            for l in patch.lines() {
                s.push_str("\n    ");
                s.push_str(&crate::display::shown(l));
            }
            s
        }
    }
}

/// Status, priority (and repo, for todos) of a created or deleted entity.
fn meta(c: &EntityChange) -> Vec<String> {
    let m = c.after.as_ref().or(c.before.as_ref());
    let get = |k: &str| m.and_then(|m| m.get(k)).and_then(crate::model::reader::scalar_text);
    let mut extra = Vec::new();
    for k in ["status", "priority"] {
        if let Some(v) = get(k) {
            extra.push(v);
        }
    }
    if c.kind == Kind::Todo
        && let Some(r) = get("repo")
    {
        extra.push(r);
    }
    extra
}

/// A one-line description of a created or deleted entity: title and [`meta`].
fn summary(c: &EntityChange) -> String {
    let extra = meta(c);
    let title = crate::display::shown(&c.title);
    let extra = extra.iter().map(|e| crate::display::shown(e)).collect::<Vec<_>>();
    if extra.is_empty() { format!("\"{title}\"") } else { format!("\"{title}\" ({})", extra.join(", ")) }
}

/// The lines of one entity change, each prefixed by the ID, as in
/// `ISSUE-003 status: pending → in_progress`.
pub fn change_lines(c: &EntityChange) -> Vec<String> {
    match c.change {
        Op::Created => vec![format!("{} created: {}", c.id, summary(c))],
        Op::Deleted => vec![format!("{} deleted: {}", c.id, summary(c))],
        Op::Modified | Op::Moved => {
            let mut out = Vec::new();
            if c.change == Op::Moved {
                out.push(format!("{} moved: {} → {}", c.id, c.moved_from.as_deref().unwrap_or("?"), c.path));
            }
            out.extend(c.fields.iter().map(|f| format!("{} {}", c.id, field_line(f))));
            out
        }
    }
}

/// Plural heading of a kind.
pub fn heading(kind: Kind) -> &'static str {
    match kind {
        Kind::Issue => "Issues",
        Kind::Plan => "Plans",
        Kind::Todo => "Todos",
        Kind::Dependency => "Dependencies",
    }
}

/// The changes as text, grouped by kind.
pub fn text(changes: &[EntityChange]) -> String {
    let mut s = String::new();
    for kind in Kind::ALL {
        let of: Vec<_> = changes.iter().filter(|c| c.kind == kind).collect();
        if of.is_empty() {
            continue;
        }
        s.push_str(&format!("{}:\n", heading(kind)));
        for c in of {
            for l in change_lines(c) {
                s.push_str("  ");
                s.push_str(&l);
                s.push('\n');
            }
        }
    }
    s
}

/// Untrusted text in a table cell: shown safely ([`crate::display::shown`]
/// redacts credentials and escapes controls), line breaks as spaces, pipes
/// escaped.
fn md_escape(s: &str) -> String {
    crate::display::shown(&s.replace('\n', " ")).replace('|', "\\|")
}

/// Whether a field change adds a blocker.
pub fn adds_blocker(f: &FieldChange) -> bool {
    is_blocking_field(f.root())
        && (matches!(&f.change, Change::List { added, .. } if !added.is_empty())
            || matches!(&f.change, Change::Set { new: Some(serde_json::Value::Array(a)), .. } if !a.is_empty()))
}

/// What a newly created entity is blocked by (`blocked_by`, `dependencies`, `depends_on`).
fn created_blockers(c: &EntityChange) -> Vec<String> {
    let Some(m) = &c.after else { return Vec::new() };
    m.iter()
        .filter(|(k, _)| {
            k.as_str().and_then(crate::model::refs::relation_of) == Some(crate::model::refs::Relation::BlockedBy)
        })
        .filter_map(|(_, v)| v.as_sequence())
        .flatten()
        .filter_map(crate::model::reader::scalar_text)
        .collect()
}

fn md_field(f: &FieldChange) -> String {
    match &f.change {
        Change::Text { patch } => {
            let (add, del) = patch.lines().fold((0, 0), |(a, d), l| {
                if l.starts_with('+') {
                    (a + 1, d)
                } else if l.starts_with('-') {
                    (a, d + 1)
                } else {
                    (a, d)
                }
            });
            format!("{}: edited (+{add} −{del} lines)", f.field)
        }
        _ => {
            let line = md_escape(&field_line(f));
            if f.root() == "status" || f.field.ends_with(".status") {
                format!("**{line}**")
            } else if adds_blocker(f) {
                format!("⛔ **new blocker** {line}")
            } else {
                line
            }
        }
    }
}

/// The changes as Markdown for a pull-request comment: a table per kind,
/// status changes in bold, new blockers flagged.
pub fn markdown(changes: &[EntityChange]) -> String {
    if changes.is_empty() {
        return "No coordination changes.\n".into();
    }
    let mut s = String::new();
    for kind in Kind::ALL {
        let of: Vec<_> = changes.iter().filter(|c| c.kind == kind).collect();
        if of.is_empty() {
            continue;
        }
        s.push_str(&format!("### {} ({})\n\n| ID | Title | Change |\n|---|---|---|\n", heading(kind), of.len()));
        for c in of {
            let what = match c.change {
                Op::Created => {
                    let mut s = match meta(c) {
                        m if m.is_empty() => "🆕 created".to_string(),
                        m => format!("🆕 created ({})", md_escape(&m.join(", "))),
                    };
                    let blockers = created_blockers(c);
                    if !blockers.is_empty() {
                        s.push_str(&format!(" ⛔ **blocked by** {}", md_escape(&blockers.join(", "))));
                    }
                    s
                }
                Op::Deleted => "🗑️ deleted".to_string(),
                Op::Modified | Op::Moved => {
                    let mut parts: Vec<String> = Vec::new();
                    if c.change == Op::Moved {
                        parts.push(format!("moved from `{}` to `{}`", c.moved_from.as_deref().unwrap_or("?"), c.path));
                    }
                    parts.extend(c.fields.iter().map(md_field));
                    parts.join("<br>")
                }
            };
            s.push_str(&format!("| `{}` | {} | {} |\n", c.id, md_escape(&c.title), what));
        }
        s.push('\n');
    }
    s
}
