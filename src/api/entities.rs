//! The operations every kind has: list (in [`list`]), show (as it is, or at
//! a revision), delete (refused while referenced unless forced), and
//! renumber (entities and milestones).

mod list;

pub use list::{ListDependencies, ListIssues, ListPlans, ListTodos};

use super::types::Id;
use super::{Operation, entity_json};
use crate::error::{Error, FieldError, Result};
use crate::model::*;
use crate::ops::Referrer;
use crate::problem::Problem;
use crate::store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Entities found by a list operation.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Listed {
    /// How many matched.
    pub count: usize,
    /// Every matching entity, with every field (the field names of its file).
    pub items: Vec<ListItem>,
    /// Files that could not be read and were skipped, and other load warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// One listed entity as JSON: made from the entity, or the JSON text the
/// index keeps for it ([`crate::index::listing`]), which is parsed only
/// when asked for ([`ListItem::value`]) and otherwise serialises as the
/// value it holds, token by token as it is read: a list of thousands of
/// entities is written without a tree built for each.
#[derive(Debug, Clone)]
pub enum ListItem {
    Value(serde_json::Value),
    Stored(Box<serde_json::value::RawValue>),
}

impl ListItem {
    /// The entity as a JSON value (a stored text that does not parse, which
    /// the index never writes, is `null`).
    pub fn value(&self) -> std::borrow::Cow<'_, serde_json::Value> {
        match self {
            ListItem::Value(v) => std::borrow::Cow::Borrowed(v),
            ListItem::Stored(raw) => std::borrow::Cow::Owned(serde_json::from_str(raw.get()).unwrap_or_default()),
        }
    }

    /// [`ListItem::value`], owned.
    pub fn into_value(self) -> serde_json::Value {
        match self {
            ListItem::Value(v) => v,
            stored => stored.value().into_owned(),
        }
    }
}

impl Serialize for ListItem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ListItem::Value(v) => v.serialize(s),
            ListItem::Stored(raw) => serde_transcode::transcode(&mut serde_json::Deserializer::from_str(raw.get()), s),
        }
    }
}

impl JsonSchema for ListItem {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        serde_json::Value::schema_name()
    }

    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        serde_json::Value::json_schema(g)
    }
}

/// One entity, with every field.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Shown {
    /// Its ID.
    pub id: String,
    /// Its kind (`issue`, `plan`, `todo`, `dependency`).
    pub kind: String,
    /// Its file, relative to the coordination root.
    pub path: String,
    /// The entity, with the field names of its file.
    pub entity: serde_json::Value,
    /// What is computed about it: blockers, what it blocks, ready/blocked,
    /// linked todos and progress, its plan/milestone, the last change
    /// (absent with `at`, which shows a past version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relations: Option<crate::graph::relations::Relations>,
    /// Problems found reading it (an unknown status, a bad date…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The result of a delete.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Deleted {
    /// The entity's ID.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// The file removed, relative to the coordination root.
    pub path: String,
    /// Always true: the file was removed.
    pub changed: bool,
    /// The entity as it was.
    pub entity: serde_json::Value,
    /// References to it that a forced delete left dangling (`lint` reports
    /// them until they are removed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dangling: Vec<Referrer>,
}

/// The result of a renumbering.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Renumbered {
    /// What was renumbered (`issue`, `milestone`, …).
    pub kind: String,
    /// The old ID.
    pub from: String,
    /// The new ID.
    pub to: String,
    /// Entities whose references were rewritten.
    pub rewritten: Vec<String>,
    /// Warnings (an out-of-range ID the allocator ignored).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The load problems a reader should hear about: files skipped as unreadable,
/// and legacy items overridden by a file.
pub fn load_warnings(problems: &[Problem]) -> Vec<String> {
    let skipped = problems
        .iter()
        .filter(|p| matches!(p.code, "yaml" | "io" | "id" | "limit" | "key" | "file-type"))
        .map(|p| format!("skipped unreadable entity: {p}"));
    let overridden = problems.iter().filter(|p| p.code == "override").map(|p| p.to_string());
    skipped.chain(overridden).collect()
}

pub(crate) fn show(store: &Store, kind: Kind, id: &Id, at: Option<&str>) -> Result<Shown> {
    let rec = match at {
        Some(rev) => crate::history::diff::find_at(store, kind, &id.0, rev)?,
        None => crate::ops::find(store, kind, &id.0)?,
    };
    let relations = match at {
        Some(_) => None,
        None => relations(store, rec.entity.id())?,
    };
    Ok(Shown {
        id: rec.entity.id().to_string(),
        kind: kind.noun().to_string(),
        path: store.rel(rec.origin.path()).display().to_string(),
        entity: entity_json(&rec.entity)?,
        relations,
        warnings: rec.problems.iter().map(|p| p.to_string()).collect(),
    })
}

/// The computed relations of an entity, with its last change from history
/// when the root is in a git repository with commits (else none).
fn relations(store: &Store, id: &str) -> Result<Option<crate::graph::relations::Relations>> {
    // The last change is looked up in history on its own thread while the
    // relations are computed: the two read different things.
    std::thread::scope(|s| {
        let last = store.root.worktree.is_some().then(|| s.spawn(|| last_change(store, id)));
        // Slim entities from the index: relations read no free text; only
        // the entity's surroundings when the index can tell them.
        let loaded = match store.load_neighbourhood(id)? {
            Some(around) => around,
            None => store.load_for_graph(&Kind::ALL)?,
        };
        let Some(mut r) = crate::graph::CoordGraph::build(&loaded).relations(id) else { return Ok(None) };
        r.last_change = last.and_then(|h| h.join().ok().flatten());
        Ok(Some(r))
    })
}

/// The last commit that changed entity `id`, if history has one. No history
/// (no commits yet, a shallow or odd repository) is not an error for
/// `show`: the relation is just absent.
fn last_change(store: &Store, id: &str) -> Option<crate::graph::relations::LastChange> {
    let c = crate::history::log::last_change(store, id).ok()??;
    Some(crate::graph::relations::LastChange { commit: c.short, author: c.author, date: c.date, summary: c.summary })
}

pub(super) fn delete(store: &Store, kind: Kind, id: &Id, force: bool) -> Result<Deleted> {
    let (rec, dangling) = crate::ops::delete(store, kind, &id.0, force)?;
    Ok(Deleted {
        id: rec.entity.id().to_string(),
        kind: kind.noun().to_string(),
        path: store.rel(rec.origin.path()).display().to_string(),
        changed: true,
        entity: entity_json(&rec.entity)?,
        dangling,
    })
}

macro_rules! show_op {
    ($name:ident, $kind:expr, $cmd:literal, $tool:literal, $summary:literal) => {
        #[doc = $summary]
        #[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The ID (`issue-1` finds ISSUE-001).
            pub id: Id,
            /// Show it as it was at this revision (`HEAD~3`, `main`, a tag, a commit).
            #[arg(long, value_name = "REV")]
            #[serde(default)]
            pub at: Option<String>,
        }

        impl Operation for $name {
            const COMMAND: &'static str = $cmd;
            const TOOL: &'static str = $tool;
            const SUMMARY: &'static str = $summary;
            const WRITES: bool = false;
            type Output = Shown;

            fn run(&self, store: &Store) -> Result<Shown> {
                show(store, $kind, &self.id, self.at.as_deref())
            }
        }
    };
}

show_op!(
    ShowIssue,
    Kind::Issue,
    "show-issue",
    "coord_get_issue",
    "Show one issue with every field (optionally as it was at a revision)."
);
show_op!(
    ShowPlan,
    Kind::Plan,
    "show-plan",
    "coord_get_plan",
    "Show one plan with its milestones (optionally as it was at a revision)."
);
show_op!(
    ShowTodo,
    Kind::Todo,
    "show-todo",
    "coord_get_todo",
    "Show one todo with every field (optionally as it was at a revision)."
);
show_op!(
    ShowDependency,
    Kind::Dependency,
    "show-dep",
    "coord_get_dependency",
    "Show one dependency with every field (optionally as it was at a revision)."
);

macro_rules! delete_op {
    ($name:ident, $kind:expr, $cmd:literal, $tool:literal, $summary:literal) => {
        #[doc = $summary]
        #[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            /// The ID.
            pub id: Id,
            /// Delete even if other entities reference it (the references are
            /// left dangling and returned).
            #[arg(long)]
            #[serde(default)]
            pub force: bool,
        }

        impl Operation for $name {
            const COMMAND: &'static str = $cmd;
            const TOOL: &'static str = $tool;
            const SUMMARY: &'static str = $summary;
            const WRITES: bool = true;
            type Output = Deleted;

            fn run(&self, store: &Store) -> Result<Deleted> {
                delete(store, $kind, &self.id, self.force)
            }
        }
    };
}

delete_op!(
    DeleteIssue,
    Kind::Issue,
    "delete-issue",
    "coord_delete_issue",
    "Delete an issue (refused while others reference it, unless forced)."
);
delete_op!(
    DeleteTodo,
    Kind::Todo,
    "delete-todo",
    "coord_delete_todo",
    "Delete a todo (refused while others reference it, unless forced)."
);
delete_op!(
    DeleteDependency,
    Kind::Dependency,
    "delete-dep",
    "coord_delete_dependency",
    "Delete a dependency (refused while others reference it, unless forced)."
);

/// Give an entity (or milestone) a new ID — by default the next one free on
/// every branch — and rewrite every reference to it. The way out of an ID
/// collision between two branches.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Renumber {
    /// The ID to renumber (an issue, plan, todo, dependency or milestone).
    pub id: Id,
    /// The new ID (default: the next free one).
    #[arg(long)]
    #[serde(default)]
    pub to: Option<Id>,
}

impl Operation for Renumber {
    const COMMAND: &'static str = "renumber";
    const TOOL: &'static str = "coord_renumber";
    const SUMMARY: &'static str =
        "Give an entity or milestone a new ID (default: the next free one) and rewrite every reference to it.";
    const WRITES: bool = true;
    type Output = Renumbered;

    fn run(&self, store: &Store) -> Result<Renumbered> {
        let (id, to) = (self.id.0.as_str(), self.to.as_ref().map(|t| t.0.as_str()));
        let loaded = store.load(&Kind::ALL)?;
        let done = if let Some(kind) = Kind::ALL.into_iter().find(|k| loaded.get(*k, id).is_some()) {
            drop(loaded);
            crate::ops::renumber(store, kind, id, to)?
        } else if loaded.milestone(id).is_some() {
            drop(loaded);
            crate::ops::renumber::renumber_milestone(store, id, to)?
        } else {
            return Err(Error::Fields(vec![
                FieldError::new("id", format!("no issue, plan, todo, dependency or milestone `{id}`"))
                    .value(id.to_string()),
            ]));
        };
        Ok(Renumbered {
            kind: done.kind.to_string(),
            from: done.from,
            to: done.to,
            rewritten: done.rewritten,
            warnings: done.warnings.iter().map(|w| w.to_string()).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored text is written exactly as the value it holds, by every
    /// serializer the front ends use (pretty and compact JSON, YAML, a JSON
    /// value for the MCP server).
    #[test]
    fn a_stored_item_serialises_as_its_value() {
        let texts = [
            r#"{"id":"ISSUE-001","title":"Ünïcode \"quoted\" \\ tab\t","n":3,"neg":-4,"f":1.5,"big":18446744073709551615,"t":true,"z":null,"empty":[],"none":{},"nested":{"a":[1,{"b":[]}],"c":{}},"repos":["a","b"]}"#,
            r#"{}"#,
            r#"{"labels":[],"metadata":{"k":"v"}}"#,
        ];
        for text in texts {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            let stored = || ListItem::Stored(serde_json::value::RawValue::from_string(text.to_string()).unwrap());
            let (a, b) = (vec![ListItem::Value(value.clone())], vec![stored()]);
            assert_eq!(serde_json::to_string_pretty(&b).unwrap(), serde_json::to_string_pretty(&a).unwrap());
            assert_eq!(serde_json::to_string(&b).unwrap(), serde_json::to_string(&a).unwrap());
            assert_eq!(serde_yaml::to_string(&b).unwrap(), serde_yaml::to_string(&a).unwrap());
            assert_eq!(serde_json::to_value(&b).unwrap(), serde_json::to_value(&a).unwrap());
            assert_eq!(*stored().value(), value);
            assert_eq!(stored().into_value(), value);
        }
    }
}
