//! Blank entities: what a create starts from before the request's fields
//! are filled in.

use crate::model::*;

/// An empty entity of `kind` with `id`, stamped `created`/`updated`.
pub fn blank(kind: Kind, id: String, today: CoordDate) -> Entity {
    let stamp = Some(Lenient::Known(today));
    match kind {
        Kind::Issue => Entity::Issue(Issue {
            id,
            title: String::new(),
            description: None,
            status: Lenient::Known(IssueStatus::Pending),
            priority: Lenient::Known(Priority::Medium),
            severity: "normal".into(),
            repos: vec![],
            created: stamp.clone(),
            updated: stamp,
            target: None,
            dependencies: vec![],
            blocking: vec![],
            assignee: None,
            labels: vec![],
            metadata: Default::default(),
            extra: Default::default(),
        }),
        Kind::Plan => Entity::Plan(Plan {
            id,
            title: String::new(),
            description: None,
            status: Lenient::Known(PlanStatus::Draft),
            repos: vec![],
            created: stamp.clone(),
            updated: stamp,
            target: None,
            issue_ids: vec![],
            depends_on: vec![],
            milestones: vec![],
            extra: Default::default(),
        }),
        Kind::Todo => Entity::Todo(Todo {
            id,
            task: String::new(),
            description: None,
            repo: String::new(),
            status: Lenient::Known(TodoStatus::Pending),
            priority: Lenient::Known(Priority::Medium),
            created: stamp.clone(),
            updated: stamp,
            estimated_hours: None,
            actual_hours: None,
            blocked_by: vec![],
            blocking: vec![],
            assignee: None,
            labels: vec![],
            acceptance_criteria: vec![],
            issue_id: None,
            plan_id: None,
            milestone_id: None,
            extra: Default::default(),
        }),
        Kind::Dependency => Entity::Dependency(Dependency {
            id,
            consumer: String::new(),
            provider: String::new(),
            dep_type: Lenient::Known(DepType::Runtime),
            version_constraint: None,
            status: Lenient::Known(DepStatus::Unknown),
            created: stamp.clone(),
            updated: stamp,
            notes: None,
            validation: None,
            extra: Default::default(),
        }),
    }
}
