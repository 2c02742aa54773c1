//! Dependencies of one repository on another, with how each is validated:
//! the typed fields, how they are read and their canonical mapping.

use super::{CREATED_KEYS, Out, UPDATED_KEYS};
use crate::model::date::CoordDate;
use crate::model::reader::{FieldProblem, FieldProblemKind, Reader};
use crate::model::vocab::*;
use serde_yaml::{Mapping, Value};

/// How a dependency is validated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Validation {
    pub command: Option<String>,
    pub expected_pattern: Option<String>,
    pub health_check: Option<String>,
    pub expected_status: Option<u16>,
    pub extra: crate::model::Extra,
}

/// A dependency of one repository (consumer) on another (provider).
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    pub id: String,
    pub consumer: String,
    pub provider: String,
    pub dep_type: Lenient<DepType>,
    pub version_constraint: Option<String>,
    pub status: Lenient<DepStatus>,
    pub created: Option<Lenient<CoordDate>>,
    pub updated: Option<Lenient<CoordDate>>,
    pub notes: Option<String>,
    pub validation: Option<Validation>,
    pub extra: crate::model::Extra,
}

impl Validation {
    fn read(map: Mapping, r: &mut Reader) -> Self {
        let mut v = Reader::new(map, "validation.");
        let command = v.text(&["command"]);
        let expected_pattern = v.text(&["expected_pattern"]);
        let health_check = v.text(&["health_check"]);
        let expected_status = match v.number(&["expected_status"]) {
            Some(n) if (100.0..=599.0).contains(&n) && n.fract() == 0.0 => Some(n as u16),
            Some(n) => {
                v.report("expected_status", FieldProblemKind::Value, format!("`{n}` is not an HTTP status (100–599)"));
                None
            }
            None => None,
        };
        let (extra, problems) = v.finish();
        r.absorb(problems);
        Validation { command, expected_pattern, health_check, expected_status, extra: extra.into() }
    }

    fn to_mapping(&self) -> Mapping {
        let mut o = Out::default();
        o.opt("command", &self.command);
        o.opt("expected_pattern", &self.expected_pattern);
        o.opt("health_check", &self.health_check);
        if let Some(s) = self.expected_status {
            o.value("expected_status", Value::Number(u64::from(s).into()));
        }
        o.extra(&self.extra)
    }
}

impl Dependency {
    /// Reads a dependency.
    pub fn read(id: String, map: Mapping) -> (Self, Vec<FieldProblem>) {
        let mut r = Reader::new(map, "");
        r.take_any(&["id"]);
        let consumer = r.required_text(&["consumer"]);
        let provider = r.required_text(&["provider"]);
        let dep_type = r.vocab::<DepType>(&["type"]).unwrap_or(Lenient::Known(DepType::Runtime));
        let version_constraint = r.text(&["version_constraint", "version"]);
        let status = r.vocab::<DepStatus>(&["status"]).unwrap_or(Lenient::Known(DepStatus::Unknown));
        let created = r.date(CREATED_KEYS);
        let updated = r.date(UPDATED_KEYS);
        let notes = r.text(&["notes"]);
        let validation = match r.raw(&["validation"]) {
            None | Some(Value::Null) => None,
            Some(Value::Mapping(m)) => Some(Validation::read(m, &mut r)),
            Some(_) => {
                r.report(
                    "validation",
                    FieldProblemKind::Type,
                    "expected a mapping with command/expected_pattern/health_check/expected_status".into(),
                );
                None
            }
        };
        let (extra, problems) = r.finish();
        (
            Dependency {
                id,
                consumer,
                provider,
                dep_type,
                version_constraint,
                status,
                created,
                updated,
                notes,
                validation,
                extra: extra.into(),
            },
            problems,
        )
    }

    /// Canonical mapping.
    pub fn to_mapping(&self) -> Mapping {
        let mut o = Out::default();
        o.text("id", &self.id);
        o.text("consumer", &self.consumer);
        o.text("provider", &self.provider);
        o.vocab("type", &self.dep_type);
        o.opt("version_constraint", &self.version_constraint);
        o.vocab("status", &self.status);
        o.date("created", &self.created);
        o.date("updated", &self.updated);
        o.opt("notes", &self.notes);
        if let Some(v) = &self.validation {
            let m = v.to_mapping();
            if !m.is_empty() {
                o.value("validation", Value::Mapping(m));
            }
        }
        o.extra(&self.extra)
    }

    /// Satisfied (or deprecated) dependencies no longer block.
    pub fn is_open(&self) -> bool {
        !self.status.known().is_some_and(DepStatus::is_finished)
    }
}
