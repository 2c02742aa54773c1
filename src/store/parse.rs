//! Parsing a file's text into a mapping: the pre-scan against the limits
//! (see [`scan`]), the YAML parser, keys that must be text, and merge
//! conflict markers said plainly.

use super::{Store, scan};
use crate::error::Error;
use crate::settings::Limits;
use serde_yaml::{Mapping, Value};
use std::path::PathBuf;

impl Store {
    /// Parses a file's text with this store's limits.
    pub fn parse(&self, text: &str) -> std::result::Result<Mapping, ParseError> {
        parse_document(text, &self.settings.limits)
    }
}

/// Why a text is not a readable mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not YAML, or not a mapping (1-based line when known).
    Syntax { line: Option<usize>, message: String },
    /// Larger or deeper than the limits; not handed to the parser.
    Limit(scan::Exceeded),
    /// A mapping key that is not text: such a value has no JSON form.
    KeyNotText { line: Option<usize>, found: &'static str },
}

impl ParseError {
    /// The problem code: `yaml`, `limit` or `key`.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Syntax { .. } => "yaml",
            ParseError::Limit(_) => "limit",
            ParseError::KeyNotText { .. } => "key",
        }
    }

    /// The 1-based line, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::Syntax { line, .. } | ParseError::KeyNotText { line, .. } => *line,
            ParseError::Limit(scan::Exceeded::Depth { line, .. }) => Some(*line),
            ParseError::Limit(scan::Exceeded::Size { .. }) => None,
        }
    }

    /// The message, without file and line.
    pub fn message(&self) -> String {
        match self {
            ParseError::Syntax { message, .. } => message.clone(),
            ParseError::Limit(scan::Exceeded::Size { bytes, limit }) => {
                format!("the file is {bytes} bytes, more than max_file_bytes ({limit}, settings/coord.yaml); not read")
            }
            ParseError::Limit(scan::Exceeded::Depth { limit, .. }) => {
                format!("nested deeper than max_yaml_depth ({limit} levels, settings/coord.yaml); not parsed")
            }
            ParseError::KeyNotText { found, .. } => {
                format!("a mapping key is {found}, not text (keys must be text, like `status:`)")
            }
        }
    }

    /// The library error for `path`.
    pub fn into_error(self, path: PathBuf) -> Error {
        match self {
            ParseError::Syntax { line, message } => Error::Yaml { path, line, message },
            ParseError::Limit(scan::Exceeded::Size { bytes, limit }) => Error::TooLarge { path, bytes, limit },
            ParseError::Limit(scan::Exceeded::Depth { line, limit }) => Error::TooDeep { path, line, limit },
            ParseError::KeyNotText { line, found } => Error::KeyNotText { path, line, found },
        }
    }
}

/// Parses YAML text into a mapping with the default [`Limits`]; errors carry
/// the 1-based line.
pub fn parse_mapping(text: &str) -> std::result::Result<Mapping, (Option<usize>, String)> {
    parse_document(text, &Limits::default()).map_err(|e| (e.line(), e.message()))
}

/// Parses YAML text into a mapping: first the pre-scan against `limits`
/// (see [`scan`]), then the parser; every mapping key must be text.
pub fn parse_document(text: &str, limits: &Limits) -> std::result::Result<Mapping, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::Syntax {
            line: Some(1),
            message: "the file is empty (expected a mapping of fields)".into(),
        });
    }
    scan::scan(text, limits).map_err(ParseError::Limit)?;
    let syntax = |line, message: &str| ParseError::Syntax { line: Some(line), message: message.to_string() };
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => match m.iter().find_map(|(k, v)| bad_key(k).or_else(|| bad_key_in(v))) {
            None => Ok(m),
            Some(found) => Err(ParseError::KeyNotText { line: key_line(text), found }),
        },
        Ok(Value::Null) => Err(syntax(1, "the file has no content (expected a mapping of fields)")),
        Ok(Value::Sequence(_)) => Err(syntax(1, "expected a mapping of fields, found a list")),
        Ok(_) => Err(syntax(1, "expected a mapping of fields, found a single value")),
        Err(e) => Err(match conflict_markers(text) {
            Some((line, message)) => ParseError::Syntax { line, message },
            None => {
                ParseError::Syntax { line: e.location().map(|l| l.line()), message: crate::error::yaml_message(&e) }
            }
        }),
    }
}

/// What a key is when it is not text-like (text, a number or a boolean all
/// have a JSON key form; lists, mappings, null and tagged values do not).
fn bad_key(k: &Value) -> Option<&'static str> {
    match k {
        Value::String(_) | Value::Bool(_) => None,
        Value::Number(n) => (!n.as_f64().is_some_and(f64::is_finite)).then_some("a number that is not finite"),
        Value::Null => Some("empty (null)"),
        Value::Sequence(_) => Some("a list"),
        Value::Mapping(_) => Some("a mapping"),
        Value::Tagged(_) => Some("a tagged value"),
    }
}

fn bad_key_in(v: &Value) -> Option<&'static str> {
    match v {
        Value::Mapping(m) => m.iter().find_map(|(k, v)| bad_key(k).or_else(|| bad_key_in(v))),
        Value::Sequence(items) => items.iter().find_map(bad_key_in),
        Value::Tagged(t) => bad_key_in(&t.value),
        _ => None,
    }
}

/// The line of the first key that is not text: the file is parsed again
/// into a type whose keys must be text, and the parser's error says where.
/// Only run for a file already known to hold such a key.
fn key_line(text: &str) -> Option<usize> {
    use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
    struct Strict;
    struct Key;
    impl<'de> de::Deserialize<'de> for Key {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Key;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a text key")
                }
                fn visit_str<E: de::Error>(self, _: &str) -> std::result::Result<Key, E> {
                    Ok(Key)
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> std::result::Result<Key, E> {
                    Ok(Key)
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> std::result::Result<Key, E> {
                    Ok(Key)
                }
                fn visit_u64<E: de::Error>(self, _: u64) -> std::result::Result<Key, E> {
                    Ok(Key)
                }
                fn visit_f64<E: de::Error>(self, f: f64) -> std::result::Result<Key, E> {
                    if f.is_finite() { Ok(Key) } else { Err(E::custom("key is not text")) }
                }
            }
            d.deserialize_any(V)
        }
    }
    impl<'de> de::Deserialize<'de> for Strict {
        fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Strict;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("any value")
                }
                fn visit_bool<E>(self, _: bool) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_i64<E>(self, _: i64) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_u64<E>(self, _: u64) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_f64<E>(self, _: f64) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_str<E>(self, _: &str) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_unit<E>(self) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_none<E>(self) -> std::result::Result<Strict, E> {
                    Ok(Strict)
                }
                fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Strict, D::Error> {
                    <Strict as de::Deserialize>::deserialize(d)
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> std::result::Result<Strict, A::Error> {
                    while a.next_element::<Strict>()?.is_some() {}
                    Ok(Strict)
                }
                fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> std::result::Result<Strict, A::Error> {
                    while a.next_key::<Key>()?.is_some() {
                        a.next_value::<Strict>()?;
                    }
                    Ok(Strict)
                }
                fn visit_enum<A: de::EnumAccess<'de>>(self, a: A) -> std::result::Result<Strict, A::Error> {
                    use de::VariantAccess;
                    let (Strict, variant) = a.variant::<Strict>()?;
                    variant.newtype_variant::<Strict>()
                }
            }
            d.deserialize_any(V)
        }
    }
    match serde_yaml::from_str::<Strict>(text) {
        Ok(_) => None,
        Err(e) => e.location().map(|l| l.line()),
    }
}

/// A file that fails to parse because a merge left conflict markers in it
/// gets that said plainly, with the lines, instead of a YAML syntax error.
fn conflict_markers(text: &str) -> Option<(Option<usize>, String)> {
    let marker = |line: &str, c: char| line.len() >= 7 && line.chars().take(7).all(|x| x == c);
    let start = text.lines().position(|l| marker(l, '<'))?;
    let end = text.lines().enumerate().skip(start).find(|(_, l)| marker(l, '>')).map(|(i, _)| i + 1);
    let lines = match end {
        Some(end) => format!("lines {}-{end}", start + 1),
        None => format!("from line {}", start + 1),
    };
    Some((
        Some(start + 1),
        format!(
            "unresolved merge conflict ({lines}): keep the right value between the markers, delete the markers, then `git add` the file"
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_is_not_text_is_refused_with_its_line() {
        let l = Limits::default();
        let e = parse_document("id: ISSUE-002\ntitle: b\n? [a, b]\n: 1\n", &l).unwrap_err();
        assert_eq!(e, ParseError::KeyNotText { line: Some(3), found: "a list" });
        let e = parse_document("id: X\nmetadata:\n  deep:\n    ~: 1\n", &l).unwrap_err();
        assert_eq!((e.code(), e.line()), ("key", Some(4)));
        let e = parse_document("id: X\nlist:\n- {? {a: 1} : 2}\n", &l).unwrap_err();
        assert_eq!(e.code(), "key");
        assert!(e.line().is_some_and(|l| l == 3), "{e:?}");
        // Numbers and booleans have a JSON key form.
        parse_document("id: X\nmetadata: {2026: plan, true: y}\n", &l).unwrap();
    }
}
