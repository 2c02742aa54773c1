//! The one map of references: which fields of which entity point at which
//! other entities, and in which direction. Lint (existence, self-references),
//! the coordination graph (and through it the cycle check), renumbering,
//! referrer lookup and doctor all read this table, so a field added here is
//! honoured everywhere and nowhere else needs to know the field names.
//!
//! A reference has a *holder* (an entity, or a milestone inside its plan), a
//! field, a target ID and a [`Relation`] saying what the link means. Blocking
//! links may be declared on either side (`A.blocking: [B]` is the same edge
//! as `B.blocked_by: [A]`); the relation says which way the edge points.

use super::entities::{Dependency, Issue, Milestone, Plan, Todo};
use super::{Entity, Kind};

/// What a reference means for its holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The target blocks the holder (`dependencies`, `blocked_by`,
    /// `depends_on`).
    BlockedBy,
    /// The holder blocks the target (`blocking`).
    Blocks,
    /// The holder is part of the target (a todo's `issue_id`, `plan_id`,
    /// `milestone_id`).
    PartOf,
    /// The target is part of the holder (a plan's `issue_ids`).
    Contains,
}

impl Relation {
    /// Whether the link is a blocking edge (the graph's `Blocks` edges and
    /// the cycle check use only these).
    pub fn is_blocking(self) -> bool {
        matches!(self, Relation::BlockedBy | Relation::Blocks)
    }
}

/// What a reference may point at: an entity kind, or a milestone (which
/// lives inside a plan and has no file of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    Kind(Kind),
    Milestone,
}

impl Target {
    /// The noun for messages (`issue`, `milestone`).
    pub fn noun(self) -> &'static str {
        match self {
            Target::Kind(k) => k.noun(),
            Target::Milestone => "milestone",
        }
    }
}

const ISSUE: Target = Target::Kind(Kind::Issue);
const PLAN: Target = Target::Kind(Kind::Plan);
const TODO: Target = Target::Kind(Kind::Todo);

/// The value of a reference field: one optional ID or a list of IDs.
#[derive(Debug, Clone, Copy)]
pub enum Slot<'a> {
    One(&'a Option<String>),
    Many(&'a [String]),
}

/// The same, writable (renumbering, doctor).
#[derive(Debug)]
pub enum SlotMut<'a> {
    One(&'a mut Option<String>),
    Many(&'a mut Vec<String>),
}

impl<'a> Slot<'a> {
    /// The IDs held.
    pub fn ids(self) -> impl Iterator<Item = &'a String> {
        let (one, many): (Option<&'a String>, &'a [String]) = match self {
            Slot::One(o) => (o.as_ref(), &[]),
            Slot::Many(m) => (None, m),
        };
        one.into_iter().chain(many)
    }
}

/// One reference field of a holder type `T`.
pub struct RefField<T: 'static> {
    /// The field's canonical name, as written in files.
    pub name: &'static str,
    pub relation: Relation,
    /// What the IDs in it may be.
    pub targets: &'static [Target],
    get: for<'a> fn(&'a T) -> Slot<'a>,
    get_mut: for<'a> fn(&'a mut T) -> SlotMut<'a>,
}

impl<T> std::fmt::Debug for RefField<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefField").field("name", &self.name).field("relation", &self.relation).finish()
    }
}

impl<T> RefField<T> {
    /// The field's value in `holder`.
    pub fn get<'a>(&self, holder: &'a T) -> Slot<'a> {
        (self.get)(holder)
    }
    /// The field's value in `holder`, writable.
    pub fn get_mut<'a>(&self, holder: &'a mut T) -> SlotMut<'a> {
        (self.get_mut)(holder)
    }
}

macro_rules! field {
    ($t:ty, $name:ident, $rel:ident, [$($target:expr),+], many) => {
        RefField::<$t> {
            name: stringify!($name),
            relation: Relation::$rel,
            targets: &[$($target),+],
            get: |h| Slot::Many(&h.$name),
            get_mut: |h| SlotMut::Many(&mut h.$name),
        }
    };
    ($t:ty, $name:ident, $rel:ident, [$($target:expr),+], one) => {
        RefField::<$t> {
            name: stringify!($name),
            relation: Relation::$rel,
            targets: &[$($target),+],
            get: |h| Slot::One(&h.$name),
            get_mut: |h| SlotMut::One(&mut h.$name),
        }
    };
}

/// An issue's reference fields.
pub static ISSUE_REFS: &[RefField<Issue>] = &[
    field!(Issue, dependencies, BlockedBy, [ISSUE], many),
    field!(Issue, blocking, Blocks, [ISSUE, TODO, PLAN], many),
];

/// A plan's own reference fields (its milestones' are [`MILESTONE_REFS`]).
pub static PLAN_REFS: &[RefField<Plan>] =
    &[field!(Plan, issue_ids, Contains, [ISSUE], many), field!(Plan, depends_on, BlockedBy, [PLAN], many)];

/// A milestone's reference fields.
pub static MILESTONE_REFS: &[RefField<Milestone>] =
    &[field!(Milestone, dependencies, BlockedBy, [Target::Milestone], many)];

/// A todo's reference fields.
pub static TODO_REFS: &[RefField<Todo>] = &[
    field!(Todo, blocked_by, BlockedBy, [ISSUE, TODO], many),
    field!(Todo, blocking, Blocks, [ISSUE, TODO], many),
    field!(Todo, issue_id, PartOf, [ISSUE], one),
    field!(Todo, plan_id, PartOf, [PLAN], one),
    field!(Todo, milestone_id, PartOf, [Target::Milestone], one),
];

/// A dependency references repositories, not entities.
pub static DEPENDENCY_REFS: &[RefField<Dependency>] = &[];

/// One reference as found in an entity.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a> {
    /// The entity or milestone holding the reference.
    pub holder: &'a str,
    /// Set when the holder is a milestone: its index in the plan's list.
    pub milestone: Option<usize>,
    /// The field's canonical name.
    pub field: &'static str,
    pub relation: Relation,
    pub targets: &'static [Target],
    /// The ID referred to.
    pub target: &'a str,
}

impl<'a> Reference<'a> {
    /// The field's path for messages: `blocked_by`, or
    /// `milestones[MILESTONE-002].dependencies` inside a plan.
    pub fn field_path(&self) -> String {
        match self.milestone {
            Some(_) => format!("milestones[{}].{}", self.holder, self.field),
            None => self.field.to_string(),
        }
    }

    /// The blocking edge this reference declares, as (blocker, blocked).
    pub fn blocking_edge(&self) -> Option<(&'a str, &'a str)> {
        match self.relation {
            Relation::BlockedBy => Some((self.target, self.holder)),
            Relation::Blocks => Some((self.holder, self.target)),
            _ => None,
        }
    }

    /// The part-of edge this reference declares, as (part, whole).
    pub fn part_of_edge(&self) -> Option<(&'a str, &'a str)> {
        match self.relation {
            Relation::PartOf => Some((self.holder, self.target)),
            Relation::Contains => Some((self.target, self.holder)),
            _ => None,
        }
    }
}

fn collect<'a, T>(
    holder: &'a T,
    id: &'a str,
    milestone: Option<usize>,
    fields: &'static [RefField<T>],
    out: &mut Vec<Reference<'a>>,
) {
    for f in fields {
        for target in f.get(holder).ids() {
            out.push(Reference {
                holder: id,
                milestone,
                field: f.name,
                relation: f.relation,
                targets: f.targets,
                target,
            });
        }
    }
}

fn rewrite<T>(holder: &mut T, fields: &'static [RefField<T>], from: &str, to: &str) -> bool {
    let mut changed = false;
    for f in fields {
        match f.get_mut(holder) {
            SlotMut::One(slot) => {
                if slot.as_deref() == Some(from) {
                    *slot = Some(to.to_string());
                    changed = true;
                }
            }
            SlotMut::Many(items) => {
                for item in items.iter_mut().filter(|i| *i == from) {
                    *item = to.to_string();
                    changed = true;
                }
            }
        }
    }
    changed
}

impl Entity {
    /// Every reference this entity holds (its milestones' included), in
    /// field order.
    pub fn references(&self) -> Vec<Reference<'_>> {
        let mut out = Vec::new();
        self.references_into(&mut out);
        out
    }

    /// [`Entity::references`] appended to `out` (a buffer reused across
    /// entities: building a graph asks this of 100,000 of them).
    pub fn references_into<'a>(&'a self, out: &mut Vec<Reference<'a>>) {
        match self {
            Entity::Issue(i) => collect(i, &i.id, None, ISSUE_REFS, out),
            Entity::Plan(p) => {
                collect(p, &p.id, None, PLAN_REFS, out);
                for (n, m) in p.milestones.iter().enumerate() {
                    collect(m, &m.id, Some(n), MILESTONE_REFS, out);
                }
            }
            Entity::Todo(t) => collect(t, &t.id, None, TODO_REFS, out),
            Entity::Dependency(d) => collect(d, &d.id, None, DEPENDENCY_REFS, out),
        }
    }

    /// Whether the entity declares any blocking edge.
    pub fn has_blocking_references(&self) -> bool {
        self.references().iter().any(|r| r.relation.is_blocking())
    }

    /// Replaces every reference to `from` by `to` (milestones' included).
    /// Returns whether anything changed.
    pub fn rewrite_references(&mut self, from: &str, to: &str) -> bool {
        match self {
            Entity::Issue(i) => rewrite(i, ISSUE_REFS, from, to),
            Entity::Plan(p) => {
                let mut changed = rewrite(p, PLAN_REFS, from, to);
                for m in &mut p.milestones {
                    changed |= rewrite(m, MILESTONE_REFS, from, to);
                }
                changed
            }
            Entity::Todo(t) => rewrite(t, TODO_REFS, from, to),
            Entity::Dependency(d) => rewrite(d, DEPENDENCY_REFS, from, to),
        }
    }

    /// The IDs in the list field `name` of this entity (not of its
    /// milestones); empty when it is not a list reference field.
    pub fn reference_list(&self, name: &str) -> &[String] {
        fn find<'a, T>(h: &'a T, fields: &'static [RefField<T>], name: &str) -> &'a [String] {
            match fields.iter().find(|f| f.name == name).map(|f| f.get(h)) {
                Some(Slot::Many(v)) => v,
                _ => &[],
            }
        }
        match self {
            Entity::Issue(i) => find(i, ISSUE_REFS, name),
            Entity::Plan(p) => find(p, PLAN_REFS, name),
            Entity::Todo(t) => find(t, TODO_REFS, name),
            Entity::Dependency(d) => find(d, DEPENDENCY_REFS, name),
        }
    }

    /// The list field `name` of this entity (not of its milestones), for
    /// doctor's repairs; `None` when it is not a list reference field.
    pub fn reference_list_mut(&mut self, name: &str) -> Option<&mut Vec<String>> {
        fn find<'a, T>(h: &'a mut T, fields: &'static [RefField<T>], name: &str) -> Option<&'a mut Vec<String>> {
            let f = fields.iter().find(|f| f.name == name)?;
            match f.get_mut(h) {
                SlotMut::Many(v) => Some(v),
                SlotMut::One(_) => None,
            }
        }
        match self {
            Entity::Issue(i) => find(i, ISSUE_REFS, name),
            Entity::Plan(p) => find(p, PLAN_REFS, name),
            Entity::Todo(t) => find(t, TODO_REFS, name),
            Entity::Dependency(d) => find(d, DEPENDENCY_REFS, name),
        }
    }
}

/// The inverse field of a blocking list field within one kind: the field a
/// target of the same kind would use to declare the same edge from its side
/// (`blocking` ↔ `dependencies` for issues, `blocking` ↔ `blocked_by` for
/// todos).
pub fn inverse_field(kind: Kind, name: &str) -> Option<&'static str> {
    fn inv<T>(fields: &'static [RefField<T>], name: &str) -> Option<&'static str> {
        let f = fields.iter().find(|f| f.name == name)?;
        let want = match f.relation {
            Relation::Blocks => Relation::BlockedBy,
            Relation::BlockedBy => Relation::Blocks,
            _ => return None,
        };
        fields.iter().find(|g| g.relation == want).map(|g| g.name)
    }
    match kind {
        Kind::Issue => inv(ISSUE_REFS, name),
        Kind::Plan => inv(PLAN_REFS, name),
        Kind::Todo => inv(TODO_REFS, name),
        Kind::Dependency => None,
    }
}

/// The relation of the reference field `name`, for code that reads raw
/// mappings (history). A field name means the same on every holder that has
/// it (tested below).
pub fn relation_of(name: &str) -> Option<Relation> {
    fn find<T>(fields: &'static [RefField<T>], name: &str) -> Option<Relation> {
        fields.iter().find(|f| f.name == name).map(|f| f.relation)
    }
    find(ISSUE_REFS, name)
        .or_else(|| find(PLAN_REFS, name))
        .or_else(|| find(MILESTONE_REFS, name))
        .or_else(|| find(TODO_REFS, name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_yaml::Mapping;

    fn read(kind: Kind, yaml: &str) -> Entity {
        let map: Mapping = serde_yaml::from_str(yaml).unwrap();
        let id = map.get("id").and_then(|v| v.as_str()).unwrap().to_string();
        Entity::read(kind, id, map).0
    }

    #[test]
    fn references_name_field_relation_and_holder() {
        let t = read(
            Kind::Todo,
            "id: TODO-001\ntask: t\nrepo: a\nblocked_by: [ISSUE-001]\nblocking: [TODO-002]\nmilestone_id: MILESTONE-001\n",
        );
        let refs: Vec<(&str, Relation, &str)> =
            t.references().iter().map(|r| (r.field, r.relation, r.target)).collect();
        assert_eq!(
            refs,
            vec![
                ("blocked_by", Relation::BlockedBy, "ISSUE-001"),
                ("blocking", Relation::Blocks, "TODO-002"),
                ("milestone_id", Relation::PartOf, "MILESTONE-001"),
            ]
        );
        let edges: Vec<_> = t.references().iter().filter_map(|r| r.blocking_edge()).collect();
        assert_eq!(edges, vec![("ISSUE-001", "TODO-001"), ("TODO-001", "TODO-002")]);
    }

    #[test]
    fn milestone_references_are_held_by_the_milestone() {
        let p = read(
            Kind::Plan,
            "id: PLAN-001\ntitle: p\nissue_ids: [ISSUE-001]\nmilestones:\n- id: MILESTONE-002\n  name: m\n  dependencies: [MILESTONE-001]\n",
        );
        let refs = p.references();
        assert_eq!(refs[0].part_of_edge(), Some(("ISSUE-001", "PLAN-001")));
        assert_eq!(refs[1].holder, "MILESTONE-002");
        assert_eq!(refs[1].field_path(), "milestones[MILESTONE-002].dependencies");
        assert_eq!(refs[1].blocking_edge(), Some(("MILESTONE-001", "MILESTONE-002")));
    }

    #[test]
    fn rewrite_touches_every_field_once() {
        let mut p = read(
            Kind::Plan,
            "id: PLAN-001\ntitle: p\nissue_ids: [ISSUE-003, ISSUE-004]\ndepends_on: [PLAN-002]\nmilestones:\n- id: MILESTONE-001\n  name: m\n  dependencies: [ISSUE-003]\n",
        );
        assert!(p.rewrite_references("ISSUE-003", "ISSUE-009"));
        let text = serde_yaml::to_string(&p.to_mapping()).unwrap();
        assert!(!text.contains("ISSUE-003"), "{text}");
        assert_eq!(text.matches("ISSUE-009").count(), 2, "{text}");
        assert!(!p.rewrite_references("ISSUE-003", "ISSUE-010"));
        let mut t = read(Kind::Todo, "id: TODO-001\ntask: t\nrepo: a\nissue_id: ISSUE-003\n");
        assert!(t.rewrite_references("ISSUE-003", "ISSUE-009"));
        assert_eq!(t.references()[0].target, "ISSUE-009");
    }

    #[test]
    fn a_field_name_means_one_relation_everywhere() {
        fn check<T>(fields: &'static [RefField<T>]) {
            for f in fields {
                assert_eq!(relation_of(f.name), Some(f.relation), "{}", f.name);
            }
        }
        check(ISSUE_REFS);
        check(PLAN_REFS);
        check(MILESTONE_REFS);
        check(TODO_REFS);
        assert_eq!(relation_of("title"), None);
    }

    #[test]
    fn inverse_fields() {
        assert_eq!(inverse_field(Kind::Issue, "blocking"), Some("dependencies"));
        assert_eq!(inverse_field(Kind::Todo, "blocked_by"), Some("blocking"));
        assert_eq!(inverse_field(Kind::Todo, "issue_id"), None);
    }
}
