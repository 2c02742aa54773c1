//! Kind-agnostic entity commands: `show ID` (the kind comes from the ID's
//! prefix) and `comment ID -m …`, which appends a dated, attributed note to
//! a `comments:` list in the entity's own file.
//!
//! Comments are plain data in the entity file (an unknown key to the model,
//! so every reader keeps them and every write leaves them alone); each is
//! `{date, author, text}`, with the author from git's `user.name` and
//! `user.email`, so a note says who wrote it the way a commit does. Two
//! branches that both comment merge by union in the merge driver
//! ([`crate::merge`]).

use super::entities::Shown;
use super::types::Id;
use super::{Operation, Written};
use crate::error::Refusal;
use crate::error::{Error, FieldError, Result};
use crate::gitcmd::Git;
use crate::model::*;
use crate::ops::{self, Rewrite};
use crate::store::Store;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_yaml::{Mapping, Value};

/// The kind an ID names: the kind whose prefix it carries (`todo-3` is a
/// todo), else the kind that has an entity with exactly that ID (custom IDs).
pub fn kind_of(store: &Store, id: &str) -> Result<Kind> {
    crate::model::id::validate_id(id)?;
    if let Some(k) = Kind::ALL.into_iter().find(|k| crate::model::id::canonical_lookup(id, store.prefix(*k)).is_some())
    {
        return Ok(k);
    }
    for k in Kind::ALL {
        if store.load_one(k, id)?.is_some() {
            return Ok(k);
        }
    }
    Err(Error::Fields(vec![
        FieldError::new("id", format!("no issue, plan, todo or dependency has the ID `{id}`")).value(id.to_string()),
    ]))
}

/// Show any entity by its ID (the kind comes from its prefix).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Show {
    /// The ID of an issue, plan, todo or dependency (`todo-3` finds TODO-003).
    pub id: Id,
    /// Show it as it was at this revision (`HEAD~3`, `main`, a tag, a commit).
    #[arg(long, value_name = "REV")]
    #[serde(default)]
    pub at: Option<String>,
}

impl Operation for Show {
    const COMMAND: &'static str = "show";
    const TOOL: &'static str = "coord_show";
    const SUMMARY: &'static str =
        "Show any entity (issue, plan, todo, dependency) by its ID, with every field and its comments.";
    const WRITES: bool = false;
    type Output = Shown;

    fn run(&self, store: &Store) -> Result<Shown> {
        let kind = kind_of(store, &self.id.0)?;
        super::entities::show(store, kind, &self.id, self.at.as_deref())
    }
}

/// Add a comment to an issue, todo or plan.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Comment {
    /// The issue, todo or plan (`issue-1` finds ISSUE-001).
    pub id: Id,
    /// The comment's text.
    #[arg(short = 'm', long)]
    pub message: String,
}

/// `Name <email>` from git's config in the coordination repository.
fn author(store: &Store) -> Result<String> {
    let dir = store.root.worktree.as_deref().unwrap_or(&store.root.dir);
    let git = Git::new(dir);
    let get =
        |key: &str| git.run(&["config", "--get", key]).ok().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    match (get("user.name"), get("user.email")) {
        (Some(n), Some(e)) => Ok(format!("{n} <{e}>")),
        (Some(n), None) => Ok(n),
        (None, Some(e)) => Ok(format!("<{e}>")),
        (None, None) => Err(Refusal::NoAuthor.into()),
    }
}

/// The comments list of an entity's unknown keys.
fn extra_of(e: &mut Entity) -> Option<&mut Mapping> {
    match e {
        Entity::Issue(i) => Some(&mut i.extra),
        Entity::Plan(p) => Some(&mut p.extra),
        Entity::Todo(t) => Some(&mut t.extra),
        Entity::Dependency(_) => None,
    }
}

impl Operation for Comment {
    const COMMAND: &'static str = "comment";
    const TOOL: &'static str = "coord_comment";
    const SUMMARY: &'static str =
        "Append a dated comment, attributed to git's user.name/email, to an issue, todo or plan.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let text = self.message.trim();
        if text.is_empty() {
            return Err(Error::Fields(vec![FieldError::new("message", "is empty")]));
        }
        let kind = kind_of(store, &self.id.0)?;
        if kind == Kind::Dependency {
            return Err(Error::Fields(vec![
                FieldError::new("id", "comments go on issues, todos and plans, not dependencies")
                    .value(self.id.0.clone()),
            ]));
        }
        let who = author(store)?;
        let date = crate::model::date::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let o = ops::update_with(store, kind, &self.id.0, Rewrite::Refused, |e, _| {
            let extra = extra_of(e).expect("issues, todos and plans have unknown keys");
            let mut note = Mapping::new();
            note.insert("date".into(), Value::String(date));
            note.insert("author".into(), Value::String(who));
            note.insert("text".into(), Value::String(text.to_string()));
            match extra.get_mut("comments") {
                Some(Value::Sequence(list)) => list.push(Value::Mapping(note)),
                Some(other) => {
                    return Err(Refusal::CommentsNotList {
                        id: self.id.0.clone(),
                        found: serde_yaml::to_string(other).unwrap_or_default().trim().to_string(),
                    }
                    .into());
                }
                None => {
                    extra.insert("comments".into(), Value::Sequence(vec![Value::Mapping(note)]));
                }
            }
            Ok(())
        })?;
        Written::from_outcome(store, &o)
    }
}
