//! What every list operation does after filtering, the way users of issue
//! trackers expect it: finished items hidden unless asked for (`--all`, or
//! an explicit `--status`), a sort order (`--sort FIELD`, `-FIELD` for
//! descending), a cap (`--limit N`), and `--assignee @me` meaning the person
//! at the keyboard (`git config coord.user`, else `user.email` and
//! `user.name`). It lives apart from the request types so the four list
//! operations share one meaning of each option, in the CLI and in MCP.

use crate::api::entities::ListItem;
use crate::error::{Error, FieldError, Result};
use crate::gitcmd::Git;
use crate::model::*;
use crate::store::Store;
use serde_json::Value;
use std::cmp::Ordering;

/// The fields `--sort` accepts (a field the kind lacks sorts as missing).
pub const SORT_FIELDS: &[&str] = &[
    "id",
    "title",
    "task",
    "status",
    "priority",
    "created",
    "updated",
    "target",
    "repo",
    "assignee",
    "estimated_hours",
    "consumer",
    "provider",
];

/// The options shared by the list operations.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListOptions<'a> {
    /// Include finished items.
    pub all: bool,
    /// Whether the request named statuses (then nothing is hidden).
    pub status_given: bool,
    /// `FIELD` or `-FIELD`.
    pub sort: Option<&'a str>,
    /// At most this many items.
    pub limit: Option<usize>,
}

/// Whether an entity is finished: closed or resolved issues, completed or
/// cancelled plans and todos, satisfied or deprecated dependencies. An
/// unknown status counts as open, so nothing odd is hidden.
pub fn finished(e: &Entity) -> bool {
    match e {
        Entity::Issue(i) => !i.is_open(),
        Entity::Todo(t) => !t.is_open(),
        Entity::Dependency(d) => !d.is_open(),
        Entity::Plan(p) => p.status.known().is_some_and(PlanStatus::is_finished),
    }
}

/// The canonical statuses of `kind` that [`finished`] hides.
pub fn finished_statuses(kind: Kind) -> Vec<&'static str> {
    fn of<T: Vocab>(done: fn(T) -> bool) -> Vec<&'static str> {
        T::all().into_iter().filter(|s| done(*s)).map(|s| s.as_str()).collect()
    }
    match kind {
        Kind::Issue => of(IssueStatus::is_finished),
        Kind::Plan => of(PlanStatus::is_finished),
        Kind::Todo => of(TodoStatus::is_finished),
        Kind::Dependency => of(DepStatus::is_finished),
    }
}

impl ListOptions<'_> {
    /// Whether `e` is listed at all (before sorting and the limit).
    pub fn shows(&self, e: &Entity) -> bool {
        self.all || self.status_given || !finished(e)
    }

    /// Checks the sort field before anything is loaded.
    pub fn check(&self) -> Result<()> {
        if let Some(s) = self.sort {
            let field = s.strip_prefix('-').unwrap_or(s);
            if !SORT_FIELDS.contains(&field) {
                return Err(Error::Fields(vec![
                    FieldError::new(
                        "sort",
                        format!("unknown sort field (expected one of: {})", SORT_FIELDS.join(", ")),
                    )
                    .value(s.to_string()),
                ]));
            }
        }
        if self.limit == Some(0) {
            return Err(Error::Fields(vec![FieldError::new("limit", "must be at least 1").value("0".to_string())]));
        }
        Ok(())
    }

    /// Sorts (stably: ties keep file order) and truncates.
    pub fn finish(&self, items: &mut Vec<ListItem>) {
        if let Some(s) = self.sort {
            let mut values: Vec<Value> = std::mem::take(items).into_iter().map(ListItem::into_value).collect();
            sort_values(s, &mut values);
            *items = values.into_iter().map(ListItem::Value).collect();
        }
        if let Some(n) = self.limit {
            items.truncate(n);
        }
    }
}

/// Sorts by `sort` (a field, `-field` descending), stably.
fn sort_values(sort: &str, items: &mut [Value]) {
    let (field, desc) = match sort.strip_prefix('-') {
        Some(f) => (f, true),
        None => (sort, false),
    };
    items.sort_by(|a, b| {
        let (x, y) = (a.get(field), b.get(field));
        // Missing values go last in either direction.
        match (present(x), present(y)) {
            (false, false) => Ordering::Equal,
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (true, true) => {
                let o = compare(field, x.unwrap(), y.unwrap());
                if desc { o.reverse() } else { o }
            }
        }
    });
}

fn present(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null))
}

fn compare(field: &str, a: &Value, b: &Value) -> Ordering {
    if field == "priority" {
        let rank = |v: &Value| v.as_str().and_then(Priority::parse).map(|p| p.rank()).unwrap_or(u8::MAX);
        return rank(a).cmp(&rank(b));
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        // IDs sort by number (`ISSUE-010` after `ISSUE-009`); dates in ISO
        // form sort as text.
        _ => {
            let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            natural(&text(a), &text(b))
        }
    }
}

/// Text order with digit runs compared as numbers.
fn natural(a: &str, b: &str) -> Ordering {
    let key = |s: &str| {
        let mut parts: Vec<(String, u128)> = Vec::new();
        let mut text = String::new();
        let mut num = String::new();
        for c in s.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                if !num.is_empty() {
                    parts.push((std::mem::take(&mut text), num.parse().unwrap_or(u128::MAX)));
                    num.clear();
                }
                text.extend(c.to_lowercase());
            }
        }
        parts.push((text, num.parse().unwrap_or(0)));
        parts
    };
    key(a).cmp(&key(b)).then_with(|| a.cmp(b))
}

/// Who `@me` is: `git config coord.user` when set (one identity), else the
/// repository's `user.email` and `user.name`. None set is an error naming
/// the field, never a filter that silently matches nothing.
pub fn me(store: &Store, field: &str) -> Result<Vec<String>> {
    let dir = store.root.worktree.as_deref().unwrap_or(&store.root.dir);
    let git = Git::new(dir);
    let get =
        |key: &str| git.run(&["config", "--get", key]).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    if let Some(u) = get("coord.user") {
        return Ok(vec![u]);
    }
    let ids: Vec<String> = ["user.email", "user.name"].iter().filter_map(|k| get(k)).collect();
    if ids.is_empty() {
        return Err(Error::Fields(vec![
            FieldError::new(field, "`@me` needs `git config coord.user` or `user.email` to be set")
                .value("@me".to_string()),
        ]));
    }
    Ok(ids)
}

/// An assignee filter: `@me` resolved to the identities it stands for, any
/// other value as given.
pub fn assignees(store: &Store, field: &str, values: &[String]) -> Result<Option<Vec<String>>> {
    if values.is_empty() {
        return Ok(None);
    }
    let mut who = Vec::new();
    for v in values {
        if v.trim().eq_ignore_ascii_case("@me") {
            who.extend(me(store, field)?);
        } else {
            who.push(v.to_string());
        }
    }
    Ok(Some(who))
}

/// Whether an entity's assignee is one of `who`.
pub fn assigned_to(e: &Entity, who: &[String]) -> bool {
    let a = match e {
        Entity::Issue(i) => i.assignee.as_deref(),
        Entity::Todo(t) => t.assignee.as_deref(),
        _ => None,
    };
    a.is_some_and(|a| who.iter().any(|w| w.eq_ignore_ascii_case(a.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers() {
        assert_eq!(natural("ISSUE-010", "ISSUE-009"), Ordering::Greater);
        assert_eq!(natural("ISSUE-002", "ISSUE-10"), Ordering::Less);
        assert_eq!(natural("2026-03-01", "2026-02-28"), Ordering::Greater);
    }
}
