//! The entity model: kinds, entities, vocabularies, dates and IDs. No I/O.

pub mod date;
pub mod entities;
pub mod extra;
pub mod id;
pub mod loaded;
pub mod reader;
pub mod refs;
pub mod run;
pub mod vocab;

pub use date::{CoordDate, DatePrecision};
pub use entities::{Dependency, Issue, Milestone, Plan, Todo, Validation};
pub use extra::Extra;
pub use loaded::{LineLookup, Loaded, Origin, Record};
pub use reader::{FieldProblem, FieldProblemKind};
pub use vocab::{DepStatus, DepType, IssueStatus, Lenient, MilestoneStatus, PlanStatus, Priority, TodoStatus, Vocab};

use serde_yaml::Mapping;
use std::fmt;

/// The four kinds of entity that have files of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Issue,
    Plan,
    Todo,
    Dependency,
}

impl Kind {
    /// All kinds, in report order.
    pub const ALL: [Kind; 4] = [Kind::Issue, Kind::Plan, Kind::Todo, Kind::Dependency];

    /// Directory under `coordination/` and key in the legacy section.
    pub fn dir_name(self) -> &'static str {
        match self {
            Kind::Issue => "issues",
            Kind::Plan => "plans",
            Kind::Todo => "todos",
            Kind::Dependency => "dependencies",
        }
    }

    /// Singular noun for messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Issue => "issue",
            Kind::Plan => "plan",
            Kind::Todo => "todo",
            Kind::Dependency => "dependency",
        }
    }

    /// Default ID prefix.
    pub fn default_prefix(self) -> &'static str {
        match self {
            Kind::Issue => "ISSUE",
            Kind::Plan => "PLAN",
            Kind::Todo => "TODO",
            Kind::Dependency => "DEP",
        }
    }

    /// The kind stored under a directory / section key.
    pub fn from_dir_name(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.dir_name() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.noun())
    }
}

/// Any entity with a file of its own.
#[derive(Debug, Clone, PartialEq)]
pub enum Entity {
    Issue(Issue),
    Plan(Plan),
    Todo(Todo),
    Dependency(Dependency),
}

impl Entity {
    /// Reads an entity of `kind` from a raw mapping.
    pub fn read(kind: Kind, id: String, map: Mapping) -> (Entity, Vec<FieldProblem>) {
        match kind {
            Kind::Issue => {
                let (e, p) = Issue::read(id, map);
                (Entity::Issue(e), p)
            }
            Kind::Plan => {
                let (e, p) = Plan::read(id, map);
                (Entity::Plan(e), p)
            }
            Kind::Todo => {
                let (e, p) = Todo::read(id, map);
                (Entity::Todo(e), p)
            }
            Kind::Dependency => {
                let (e, p) = Dependency::read(id, map);
                (Entity::Dependency(e), p)
            }
        }
    }

    /// The entity's ID.
    pub fn id(&self) -> &str {
        match self {
            Entity::Issue(e) => &e.id,
            Entity::Plan(e) => &e.id,
            Entity::Todo(e) => &e.id,
            Entity::Dependency(e) => &e.id,
        }
    }

    /// The entity's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Entity::Issue(_) => Kind::Issue,
            Entity::Plan(_) => Kind::Plan,
            Entity::Todo(_) => Kind::Todo,
            Entity::Dependency(_) => Kind::Dependency,
        }
    }

    /// Canonical mapping (new files, JSON output, minimal-diff basis).
    pub fn to_mapping(&self) -> Mapping {
        match self {
            Entity::Issue(e) => e.to_mapping(),
            Entity::Plan(e) => e.to_mapping(),
            Entity::Todo(e) => e.to_mapping(),
            Entity::Dependency(e) => e.to_mapping(),
        }
    }

    /// A one-line title (issue/plan title, todo task, dependency edge).
    pub fn title(&self) -> String {
        match self {
            Entity::Issue(e) => e.title.clone(),
            Entity::Plan(e) => e.title.clone(),
            Entity::Todo(e) => e.task.clone(),
            Entity::Dependency(e) => format!("{} → {}", e.consumer, e.provider),
        }
    }

    /// Sets `updated`.
    pub fn set_updated(&mut self, d: CoordDate) {
        let slot = match self {
            Entity::Issue(e) => &mut e.updated,
            Entity::Plan(e) => &mut e.updated,
            Entity::Todo(e) => &mut e.updated,
            Entity::Dependency(e) => &mut e.updated,
        };
        *slot = Some(Lenient::Known(d));
    }
}
