//! The ecosystem registry: the `repos:` and `roles:` sections of
//! `settings/ecosystem.yaml`. A repository may be named by its name or any of
//! its nicknames everywhere; entities always store the canonical name.

use crate::model::reader::scalar_text;
use crate::problem::Problem;
use serde_yaml::{Mapping, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A repository of the ecosystem.
#[derive(Debug, Clone, PartialEq)]
pub struct Repo {
    pub name: String,
    /// `nickname` and `nicknames`, merged.
    pub nicknames: Vec<String>,
    pub path: Option<String>,
    pub role: Option<String>,
    pub tags: Vec<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub package: Option<String>,
    /// The repo's whole mapping as written (for JSON output).
    pub raw: Mapping,
}

/// A role of the ecosystem's role taxonomy.
#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    pub name: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub capabilities: Vec<String>,
}

/// The registry of repositories and roles.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub repos: Vec<Repo>,
    pub roles: Vec<Role>,
    index: HashMap<String, usize>,
}

fn texts(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(s)) => s.iter().filter_map(scalar_text).collect(),
        Some(v) => scalar_text(v).into_iter().collect(),
        None => Vec::new(),
    }
}

fn text(m: &Mapping, k: &str) -> Option<String> {
    m.get(k).and_then(scalar_text)
}

/// Entries of a section written either as a list of mappings with `name`, or
/// as a mapping from name to mapping.
fn entries(v: &Value) -> Vec<(Option<String>, Mapping)> {
    match v {
        Value::Sequence(items) => items
            .iter()
            .filter_map(|i| match i {
                Value::Mapping(m) => Some((None, m.clone())),
                Value::String(s) => {
                    let mut m = Mapping::new();
                    m.insert("name".into(), Value::String(s.clone()));
                    Some((None, m))
                }
                _ => None,
            })
            .collect(),
        Value::Mapping(m) => m
            .iter()
            .map(|(k, v)| (scalar_text(k), if let Value::Mapping(inner) = v { inner.clone() } else { Mapping::new() }))
            .collect(),
        _ => Vec::new(),
    }
}

impl Registry {
    /// Builds the registry from the parsed `ecosystem.yaml` document.
    pub fn from_document(doc: &Mapping, file: &Path) -> (Registry, Vec<Problem>) {
        let mut reg = Registry::default();
        let mut problems = Vec::new();
        if let Some(v) = doc.get("repos") {
            for (i, (key, m)) in entries(v).into_iter().enumerate() {
                let Some(name) = text(&m, "name").or(key) else {
                    problems.push(Problem::error("registry", format!("repos[{i}] has no `name`")).at(file, None));
                    continue;
                };
                let mut nicknames = texts(m.get("nickname"));
                for n in texts(m.get("nicknames")) {
                    if !nicknames.contains(&n) {
                        nicknames.push(n);
                    }
                }
                reg.repos.push(Repo {
                    name,
                    nicknames,
                    path: text(&m, "path"),
                    role: text(&m, "role"),
                    tags: texts(m.get("tags")),
                    description: text(&m, "description"),
                    status: text(&m, "status"),
                    package: text(&m, "package"),
                    raw: m,
                });
            }
        }
        if let Some(v) = doc.get("roles") {
            for (key, m) in entries(v) {
                let Some(name) = text(&m, "name").or(key) else {
                    continue;
                };
                reg.roles.push(Role {
                    name,
                    description: text(&m, "description"),
                    tags: texts(m.get("tags")),
                    capabilities: texts(m.get("capabilities")),
                });
            }
        }
        for (i, repo) in reg.repos.iter().enumerate() {
            for alias in std::iter::once(&repo.name).chain(&repo.nicknames) {
                let key = alias.to_ascii_lowercase();
                if let Some(&other) = reg.index.get(&key) {
                    if other != i {
                        problems.push(
                            Problem::error(
                                "registry",
                                format!("`{alias}` names both `{}` and `{}`", reg.repos[other].name, repo.name),
                            )
                            .at(file, None),
                        );
                    }
                    continue;
                }
                reg.index.insert(key, i);
            }
        }
        (reg, problems)
    }

    /// True when the ecosystem lists no repositories (then any name is accepted).
    pub fn is_empty(&self) -> bool {
        self.repos.is_empty()
    }

    /// Finds a repo by name or nickname (case-insensitive).
    pub fn find(&self, name: &str) -> Option<&Repo> {
        // No allocation for the usual lower-case spelling: reports ask this
        // for every entity.
        let name = name.trim();
        let i = match name.bytes().any(|b| b.is_ascii_uppercase()) {
            true => self.index.get(&name.to_ascii_lowercase()),
            false => self.index.get(name),
        };
        i.map(|&i| &self.repos[i])
    }

    /// The canonical name for a name or nickname; unknown names are returned as given.
    pub fn canonical<'a>(&'a self, name: &'a str) -> &'a str {
        self.find(name).map_or(name, |r| r.name.as_str())
    }

    /// Resolves a user-given name, or says it is unknown (with did-you-mean).
    pub fn resolve(&self, name: &str) -> Result<String, crate::error::Error> {
        if self.is_empty() {
            return Ok(name.trim().to_string());
        }
        match self.find(name) {
            Some(r) => Ok(r.name.clone()),
            None => {
                let all = self
                    .repos
                    .iter()
                    .flat_map(|r| std::iter::once(r.name.as_str()).chain(r.nicknames.iter().map(String::as_str)));
                let suggestion = crate::suggest::did_you_mean(name, all).map(|s| self.canonical(s).to_string());
                Err(crate::error::Error::UnknownRepo { name: name.to_string(), suggestion })
            }
        }
    }

    /// True when `name` (any spelling) is `canonical`.
    pub fn same(&self, name: &str, canonical: &str) -> bool {
        self.canonical(name).eq_ignore_ascii_case(canonical)
    }

    /// The repo's path on disk: absolute, `~/…`, or relative to `root`.
    pub fn repo_path(&self, repo: &Repo, root: &Path) -> Option<PathBuf> {
        let p = repo.path.as_deref()?;
        Some(expand_path(p, root))
    }
}

/// Expands `~` and resolves relative paths against `root`.
pub fn expand_path(p: &str, root: &Path) -> PathBuf {
    if let Some(rest) = p.strip_prefix("~/").or_else(|| (p == "~").then_some(""))
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    let path = PathBuf::from(p);
    if path.is_absolute() { path } else { root.join(path) }
}
