//! Filters over entities, used by the list operations ([`crate::api::entities`]):
//! status, priority, repository, assignee and label, combined with AND.
//!
//! The list operations' request types hold typed values (parsed, aliases
//! resolved, when the request is built) and only the filters that apply to
//! their kind, so a bad filter is refused before anything is loaded, whatever
//! the data; here the values arrive as canonical words.

use crate::error::{Error, FieldError};
use crate::model::Loaded;
use crate::model::vocab::parse_strict;
use crate::model::*;

/// What to keep; empty fields keep everything.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Only these statuses (aliases accepted).
    pub status: Vec<String>,
    /// Only these priorities (`P0`..`P3` accepted).
    pub priority: Vec<String>,
    /// Only entities of one of these repositories (names or nicknames).
    pub repo: Vec<String>,
    /// Only entities assigned to one of these people.
    pub assignee: Vec<String>,
    /// Only entities with one of these labels.
    pub label: Vec<String>,
}

fn vocab_set<T: Vocab>(field: &str, values: &[String]) -> Result<Vec<T>, Error> {
    values.iter().map(|v| parse_strict::<T>(v).map_err(|e| Error::Fields(vec![e.on_field(field)]))).collect()
}

fn status_ok<T: Vocab>(wanted: &[String], actual: &Lenient<T>) -> Result<bool, Error> {
    if wanted.is_empty() {
        return Ok(true);
    }
    let set = vocab_set::<T>("status", wanted)?;
    Ok(actual.known().is_some_and(|s| set.contains(&s)))
}

impl Filters {
    /// Applies the filters to one entity.
    pub fn matches(&self, e: &Entity, loaded: &Loaded) -> Result<bool, Error> {
        let reg = &loaded.registry;
        // Every multi-valued filter means "any of these" (as `--status a,b`
        // does); different filters combine with AND.
        let repo_ok = |repos: &[&str]| {
            self.repo.is_empty()
                || self.repo.iter().any(|r| {
                    let want = reg.canonical(r);
                    repos.iter().any(|x| reg.canonical(x).eq_ignore_ascii_case(want))
                })
        };
        let prio_ok = |p: &Lenient<Priority>| -> Result<bool, Error> {
            if self.priority.is_empty() {
                return Ok(true);
            }
            let set = vocab_set::<Priority>("priority", &self.priority)?;
            Ok(p.known().is_some_and(|x| set.contains(&x)))
        };
        let who_ok = |a: &Option<String>| {
            self.assignee.is_empty()
                || a.as_deref().is_some_and(|a| self.assignee.iter().any(|w| a.eq_ignore_ascii_case(w)))
        };
        let label_ok = |l: &[String]| {
            self.label.is_empty() || self.label.iter().any(|w| l.iter().any(|x| x.eq_ignore_ascii_case(w)))
        };
        let no = |field: &str, set: bool| -> Result<(), Error> {
            match set {
                true => Err(Error::Fields(vec![FieldError::new(field, format!("does not apply to a {}", e.kind()))])),
                false => Ok(()),
            }
        };
        Ok(match e {
            Entity::Issue(i) => {
                status_ok(&self.status, &i.status)?
                    && prio_ok(&i.priority)?
                    && repo_ok(&i.repos.iter().map(String::as_str).collect::<Vec<_>>())
                    && who_ok(&i.assignee)
                    && label_ok(&i.labels)
            }
            Entity::Todo(t) => {
                status_ok(&self.status, &t.status)?
                    && prio_ok(&t.priority)?
                    && repo_ok(&[t.repo.as_str()])
                    && who_ok(&t.assignee)
                    && label_ok(&t.labels)
            }
            Entity::Plan(p) => {
                no("priority", !self.priority.is_empty())?;
                no("assignee", !self.assignee.is_empty())?;
                no("label", !self.label.is_empty())?;
                status_ok(&self.status, &p.status)? && repo_ok(&p.repos.iter().map(String::as_str).collect::<Vec<_>>())
            }
            Entity::Dependency(d) => {
                no("priority", !self.priority.is_empty())?;
                no("assignee", !self.assignee.is_empty())?;
                no("label", !self.label.is_empty())?;
                status_ok(&self.status, &d.status)? && repo_ok(&[d.consumer.as_str(), d.provider.as_str()])
            }
        })
    }
}
