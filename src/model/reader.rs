//! Turning a raw YAML mapping into typed fields, tolerantly.
//!
//! The reader takes fields out of the mapping one by one (canonical key first,
//! then the aliases real files use), records every problem with the field it
//! concerns, and leaves whatever it did not take as the entity's unknown keys,
//! in their original order, so that writes can preserve them.

use super::date::CoordDate;
use super::vocab::{Lenient, Vocab};
use serde_yaml::{Mapping, Value};

/// How bad a field problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblemKind {
    /// The value has the wrong YAML type; the field was left empty. Entities
    /// with such problems refuse writes until the file is fixed.
    Type,
    /// The value has the right type but is not allowed (unknown status, bad date…).
    Value,
    /// A required field is absent.
    Missing,
}

/// A problem with one field of one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The field (canonical name, or the key found in the file).
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
    /// Type, value or missing.
    pub kind: FieldProblemKind,
}

/// Takes typed fields out of a mapping.
pub struct Reader {
    map: Mapping,
    problems: Vec<FieldProblem>,
    prefix: String,
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Scalar → text, for fields where `42` or `true` is fine as text.
pub fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Tagged(t) => scalar_text(&t.value),
        _ => None,
    }
}

impl Reader {
    /// Starts reading `map`. `prefix` is prepended to field names in problems
    /// (used for milestones inside plans: `milestones[MILESTONE-001].due`).
    pub fn new(map: Mapping, prefix: impl Into<String>) -> Self {
        Self { map, problems: Vec::new(), prefix: prefix.into() }
    }

    fn problem(&mut self, field: &str, kind: FieldProblemKind, message: String) {
        self.problems.push(FieldProblem { field: format!("{}{}", self.prefix, field), message, kind });
    }

    /// Removes and returns the first present key among `keys` (canonical first).
    pub fn take_any(&mut self, keys: &[&str]) -> Option<(String, Value)> {
        for k in keys {
            if let Some(v) = self.map.remove(*k) {
                return Some(((*k).to_string(), v));
            }
        }
        None
    }

    /// Looks at a key without taking it (it stays an unknown key).
    pub fn peek(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// True if the key is present.
    pub fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Optional text.
    pub fn text(&mut self, keys: &[&str]) -> Option<String> {
        let (k, v) = self.take_any(keys)?;
        if v.is_null() {
            return None;
        }
        match scalar_text(&v) {
            Some(s) => Some(s),
            None => {
                let found = type_name(&v);
                self.problem(&k, FieldProblemKind::Type, format!("expected text, found {found}"));
                None
            }
        }
    }

    /// Required text: missing or empty is reported.
    pub fn required_text(&mut self, keys: &[&str]) -> String {
        let v = self.text(keys).unwrap_or_default();
        if v.trim().is_empty() && !self.problems.iter().any(|p| p.field.ends_with(keys[0])) {
            self.problem(keys[0], FieldProblemKind::Missing, "is required".into());
        }
        v
    }

    /// A list of strings. A single string is taken as a one-element list.
    pub fn list(&mut self, keys: &[&str]) -> Vec<String> {
        let Some((k, v)) = self.take_any(keys) else {
            return Vec::new();
        };
        match v {
            Value::Null => Vec::new(),
            Value::Sequence(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match scalar_text(item) {
                        Some(s) => out.push(s),
                        None => {
                            let found = type_name(item);
                            self.problem(
                                &format!("{k}[{i}]"),
                                FieldProblemKind::Type,
                                format!("expected text, found {found}"),
                            );
                        }
                    }
                }
                out
            }
            other => match scalar_text(&other) {
                Some(s) => vec![s],
                None => {
                    let found = type_name(&other);
                    self.problem(&k, FieldProblemKind::Type, format!("expected a list of text, found {found}"));
                    Vec::new()
                }
            },
        }
    }

    /// A vocabulary value, aliases mapped, unknown text kept and reported.
    pub fn vocab<T: Vocab>(&mut self, keys: &[&str]) -> Option<Lenient<T>> {
        let (k, v) = self.take_any(keys)?;
        if v.is_null() {
            return None;
        }
        let Some(s) = scalar_text(&v) else {
            let found = type_name(&v);
            self.problem(&k, FieldProblemKind::Type, format!("expected a {}, found {found}", T::WHAT));
            return None;
        };
        let value = Lenient::<T>::from_text(&s);
        if let Lenient::Invalid(raw) = &value {
            self.problem(
                &k,
                FieldProblemKind::Value,
                format!("unknown {} `{raw}` (allowed: {})", T::WHAT, T::ALLOWED.join(", ")),
            );
        }
        Some(value)
    }

    /// A date; unparseable text is kept and reported.
    pub fn date(&mut self, keys: &[&str]) -> Option<Lenient<CoordDate>> {
        let (k, v) = self.take_any(keys)?;
        if v.is_null() {
            return None;
        }
        let Some(s) = scalar_text(&v) else {
            let found = type_name(&v);
            self.problem(&k, FieldProblemKind::Type, format!("expected a date, found {found}"));
            return None;
        };
        match CoordDate::parse(&s) {
            Some(d) => Some(Lenient::Known(d)),
            None => {
                self.problem(
                    &k,
                    FieldProblemKind::Value,
                    format!("`{s}` is not a date (expected YYYY-MM-DD or an RFC 3339 timestamp)"),
                );
                Some(Lenient::Invalid(s))
            }
        }
    }

    /// A number (numeric text accepted).
    pub fn number(&mut self, keys: &[&str]) -> Option<f64> {
        let (k, v) = self.take_any(keys)?;
        match &v {
            Value::Null => None,
            Value::Number(n) => n.as_f64(),
            Value::String(s) => match s.trim().parse::<f64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.problem(&k, FieldProblemKind::Type, format!("expected a number, found text `{s}`"));
                    None
                }
            },
            other => {
                let found = type_name(other);
                self.problem(&k, FieldProblemKind::Type, format!("expected a number, found {found}"));
                None
            }
        }
    }

    /// A free mapping.
    pub fn mapping(&mut self, keys: &[&str]) -> Mapping {
        let Some((k, v)) = self.take_any(keys) else {
            return Mapping::new();
        };
        match v {
            Value::Null => Mapping::new(),
            Value::Mapping(m) => m,
            other => {
                let found = type_name(&other);
                self.problem(&k, FieldProblemKind::Type, format!("expected a mapping, found {found}"));
                Mapping::new()
            }
        }
    }

    /// A nested value taken raw (the caller reads it).
    pub fn raw(&mut self, keys: &[&str]) -> Option<Value> {
        self.take_any(keys).map(|(_, v)| v)
    }

    /// Records a problem found by the caller.
    pub fn report(&mut self, field: &str, kind: FieldProblemKind, message: String) {
        self.problem(field, kind, message);
    }

    /// Appends problems from a nested reader.
    pub fn absorb(&mut self, problems: Vec<FieldProblem>) {
        self.problems.extend(problems);
    }

    /// The keys nobody took (unknown keys, preserved on write), and the problems.
    pub fn finish(self) -> (Mapping, Vec<FieldProblem>) {
        (self.map, self.problems)
    }
}
