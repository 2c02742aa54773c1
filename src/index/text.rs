//! What the index stores of an entity besides its mapping: the columns that
//! filters use (status, priority, assignee, repositories, labels) and the
//! text that full-text search reads (title, and a body of descriptions,
//! tasks, notes, comments and every other free text of the file).

use crate::model::Entity;
use serde_yaml::{Mapping, Value};

/// The derived columns of one entity.
#[derive(Debug, Default)]
pub struct Columns {
    pub status: Option<String>,
    pub priority: Option<String>,
    pub assignee: Option<String>,
    pub title: String,
    /// Repositories, one per line (as written; resolved at query time).
    pub repos: String,
    /// Labels, one per line.
    pub labels: String,
    /// Everything else worth finding, one piece per line.
    pub body: String,
}

fn lines<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    items.into_iter().map(String::as_str).collect::<Vec<_>>().join("\n")
}

/// Every string inside a value (comments, notes, metadata), for the body.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(s) => s.iter().for_each(|x| strings(x, out)),
        Value::Mapping(m) => m.values().for_each(|x| strings(x, out)),
        Value::Tagged(t) => strings(&t.value, out),
        _ => {}
    }
}

fn extra(m: &Mapping, out: &mut Vec<String>) {
    m.values().for_each(|v| strings(v, out));
}

impl Columns {
    /// The columns of `e`.
    pub fn of(e: &Entity) -> Columns {
        let mut body: Vec<String> = Vec::new();
        let c = match e {
            Entity::Issue(i) => {
                body.extend(i.description.clone());
                body.push(i.severity.clone());
                extra(&i.metadata, &mut body);
                extra(&i.extra, &mut body);
                Columns {
                    status: Some(i.status.as_str().to_string()),
                    priority: Some(i.priority.as_str().to_string()),
                    assignee: i.assignee.clone(),
                    title: i.title.clone(),
                    repos: lines(&i.repos),
                    labels: lines(&i.labels),
                    body: String::new(),
                }
            }
            Entity::Plan(p) => {
                body.extend(p.description.clone());
                for m in &p.milestones {
                    body.push(m.name.clone());
                    body.extend(m.description.clone());
                    body.extend(m.completion_criteria.iter().cloned());
                    body.extend(m.deliverables.iter().cloned());
                    extra(&m.extra, &mut body);
                }
                extra(&p.extra, &mut body);
                Columns {
                    status: Some(p.status.as_str().to_string()),
                    title: p.title.clone(),
                    repos: lines(&p.repos),
                    ..Columns::default()
                }
            }
            Entity::Todo(t) => {
                body.extend(t.description.clone());
                body.extend(t.acceptance_criteria.iter().cloned());
                extra(&t.extra, &mut body);
                Columns {
                    status: Some(t.status.as_str().to_string()),
                    priority: Some(t.priority.as_str().to_string()),
                    assignee: t.assignee.clone(),
                    title: t.task.clone(),
                    repos: t.repo.clone(),
                    labels: lines(&t.labels),
                    body: String::new(),
                }
            }
            Entity::Dependency(d) => {
                body.extend(d.notes.clone());
                body.extend(d.version_constraint.clone());
                body.push(d.dep_type.as_str().to_string());
                extra(&d.extra, &mut body);
                Columns {
                    status: Some(d.status.as_str().to_string()),
                    title: e.title(),
                    repos: format!("{}\n{}", d.consumer, d.provider),
                    ..Columns::default()
                }
            }
        };
        Columns { body: body.join("\n"), ..c }
    }
}
