//! `add-repo`: registers a repository in `settings/ecosystem.yaml`, the one
//! write to the registry, so a new ecosystem does not start with hand-edited
//! YAML.
//!
//! The file is edited with `yaml-edit`, like entity files: the new item is
//! appended to `repos:` and every other byte (comments, the legacy
//! `coordination:` section, key order) stays as it was; the result must
//! re-parse to the old document plus exactly that item, or nothing is
//! written. A name or nickname already naming a repository is refused, so a
//! name always means one repository.

use super::Operation;
use crate::error::{Error, FieldError, Result};
use crate::store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_yaml::{Mapping, Value};
use std::str::FromStr;

/// The registry file, relative to the coordination root.
const ECOSYSTEM: &str = "settings/ecosystem.yaml";

/// Register a repository in settings/ecosystem.yaml.
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddRepo {
    /// The repository's canonical name (what entity files store).
    pub name: String,
    /// Where its checkout is, relative to the coordination repository
    /// (`../NAME`).
    #[arg(long)]
    #[serde(default)]
    pub path: Option<String>,
    /// Its role (see `roles:`).
    #[arg(long)]
    #[serde(default)]
    pub role: Option<String>,
    /// Other names it may be called by (comma-separated or repeated).
    #[arg(long = "nickname", value_delimiter = ',')]
    #[serde(default)]
    pub nicknames: Vec<String>,
    /// One line on what it is.
    #[arg(long)]
    #[serde(default)]
    pub description: Option<String>,
}

/// The result of `add-repo`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RepoAdded {
    /// The repository's name.
    pub name: String,
    /// The registry file, relative to the coordination root.
    pub path: String,
    /// True: the repository was added.
    pub changed: bool,
    /// The item as written.
    pub repo: serde_json::Value,
    /// Warnings (a role that `roles:` does not define).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn bad_name(n: &str) -> Option<&'static str> {
    if n.trim().is_empty() {
        Some("is empty")
    } else if n.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',') {
        Some("may not contain spaces, commas or control characters")
    } else {
        None
    }
}

impl AddRepo {
    fn item(&self) -> Mapping {
        let mut m = Mapping::new();
        m.insert("name".into(), self.name.trim().into());
        match self.nicknames.as_slice() {
            [] => {}
            [one] => {
                m.insert("nickname".into(), one.trim().into());
            }
            many => {
                m.insert("nicknames".into(), Value::Sequence(many.iter().map(|n| n.trim().into()).collect()));
            }
        }
        for (k, v) in [("path", &self.path), ("role", &self.role), ("description", &self.description)] {
            if let Some(v) = v {
                m.insert(k.into(), v.as_str().into());
            }
        }
        m
    }
}

/// `text` with `item` appended to its top-level `repos:` list (created when
/// absent or empty).
fn append_repo(text: &str, item: &Mapping) -> Result<String> {
    let invalid = |problem: String| Error::SettingsEdit { path: ECOSYSTEM.into(), problem };
    let item_text = serde_yaml::to_string(&Value::Sequence(vec![Value::Mapping(item.clone())]))
        .map_err(|e| invalid(e.to_string()))?;
    // The item as a block list entry, indented as YAML writers usually
    // indent under a key.
    let block: String = item_text.lines().map(|l| format!("  {l}\n")).collect();
    let doc: Value = if text.trim().is_empty() {
        Value::Mapping(Mapping::new())
    } else {
        serde_yaml::from_str(text).map_err(|e| invalid(e.to_string()))?
    };
    let Value::Mapping(root) = &doc else { return Err(invalid("the document is not a mapping".into())) };
    let repos = root.get("repos");
    let empty = match repos {
        None | Some(Value::Null) => true,
        Some(Value::Sequence(s)) => s.is_empty(),
        Some(_) => return Err(invalid("`repos:` is not a list".into())),
    };
    if empty {
        // No list to append to. A top-level `repos:` / `repos: []` line is
        // replaced in place; otherwise the key is (re)written at the end.
        let line_re = regex::Regex::new(r"(?m)^repos:[ \t]*(\[[ \t]*\])?[ \t]*(#.*)?\r?$").expect("valid regex");
        let mut found = line_re.find_iter(text);
        if let (Some(m), None) = (found.next(), found.next()) {
            let mut out = String::with_capacity(text.len() + block.len());
            out.push_str(&text[..m.start()]);
            out.push_str("repos:\n");
            out.push_str(&block);
            let rest = &text[m.end()..];
            out.push_str(rest.strip_prefix('\n').unwrap_or(rest));
            return Ok(out);
        }
        let edit = yaml_edit::Document::from_str(if text.trim().is_empty() { "{}" } else { text })
            .map_err(|e| invalid(e.to_string()))?;
        let map = edit.as_mapping().ok_or_else(|| invalid("the document is not a mapping".into()))?;
        if repos.is_some() {
            map.remove("repos");
        }
        let mut out = if text.trim().is_empty() { String::new() } else { edit.to_string() };
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        out.push_str("repos:\n");
        out.push_str(&block);
        return Ok(out);
    }
    let edit = yaml_edit::Document::from_str(text).map_err(|e| invalid(e.to_string()))?;
    let map = edit.as_mapping().ok_or_else(|| invalid("the document is not a mapping".into()))?;
    let seq = map.get_sequence("repos").ok_or_else(|| invalid("`repos:` is not a block list".into()))?;
    let node = yaml_edit::Document::from_str(&serde_yaml::to_string(&Value::Mapping(item.clone())).unwrap_or_default())
        .map_err(|e| invalid(e.to_string()))?;
    seq.push(node.as_mapping().ok_or_else(|| invalid("internal: mapping expected".into()))?);
    Ok(edit.to_string())
}

impl Operation for AddRepo {
    const COMMAND: &'static str = "add-repo";
    const TOOL: &'static str = "coord_add_repo";
    const SUMMARY: &'static str =
        "Register a repository (name, path, role, nicknames) in settings/ecosystem.yaml, changing nothing else.";
    const WRITES: bool = true;
    type Output = RepoAdded;

    fn run(&self, store: &Store) -> Result<RepoAdded> {
        let mut errs = super::FieldErrors::default();
        if let Some(why) = bad_name(&self.name) {
            errs.push(FieldError::new("name", why).value(self.name.clone()));
        }
        for n in &self.nicknames {
            if let Some(why) = bad_name(n) {
                errs.push(FieldError::new("nicknames", why).value(n.clone()));
            }
        }
        errs.finish()?;
        let _lock = crate::ops::write_lock(store)?;
        let loaded = store.load(&[])?;
        let reg = &loaded.registry;
        let mut errs = super::FieldErrors::default();
        // A name taken by any repository's name or nickname (case does not
        // matter, as when names are resolved).
        let taken = |n: &str| {
            reg.repos
                .iter()
                .find(|r| r.name.eq_ignore_ascii_case(n) || r.nicknames.iter().any(|x| x.eq_ignore_ascii_case(n)))
                .map(|r| r.name.clone())
        };
        if let Some(existing) = taken(self.name.trim()) {
            errs.push(
                FieldError::new("name", format!("already names repository `{existing}`")).value(self.name.clone()),
            );
        }
        for n in &self.nicknames {
            if let Some(existing) = taken(n.trim()) {
                errs.push(
                    FieldError::new("nicknames", format!("already names repository `{existing}`")).value(n.clone()),
                );
            } else if n.trim().eq_ignore_ascii_case(self.name.trim()) {
                errs.push(FieldError::new("nicknames", "is the repository's own name").value(n.clone()));
            }
        }
        errs.finish()?;
        let mut warnings = Vec::new();
        if let Some(role) = &self.role
            && !reg.roles.is_empty()
            && !reg.roles.iter().any(|r| r.name == *role)
        {
            warnings.push(format!("role `{role}` is not one of the roles defined in `roles:`"));
        }
        let path = store.ecosystem_path();
        let text = if path.exists() { crate::store::files::read_text(&path, 64 << 20)? } else { String::new() };
        let item = self.item();
        let new_text = append_repo(&text, &item)?;
        // The write must mean exactly "one more repository".
        let parse = |t: &str| -> Option<Mapping> {
            if t.trim().is_empty() { Some(Mapping::new()) } else { serde_yaml::from_str(t).ok() }
        };
        let (Some(mut before), Some(after)) = (parse(&text), parse(&new_text)) else {
            return Err(Error::SettingsEdit {
                path: ECOSYSTEM.into(),
                problem: "adding the repository would leave it unreadable".into(),
            });
        };
        let mut list = match before.remove("repos") {
            Some(Value::Sequence(s)) => s,
            _ => Vec::new(),
        };
        list.push(Value::Mapping(item.clone()));
        before.insert("repos".into(), Value::Sequence(list));
        let same = before.len() == after.len() && before.iter().all(|(k, v)| after.get(k) == Some(v));
        if !same {
            return Err(Error::SettingsEdit {
                path: ECOSYSTEM.into(),
                problem: "adding the repository would change more than its `repos:` list; add it by hand".into(),
            });
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        crate::store::atomic_write(&path, new_text.as_bytes())?;
        Ok(RepoAdded {
            name: self.name.trim().to_string(),
            path: store.rel(&path).display().to_string(),
            changed: true,
            repo: serde_json::to_value(&item).map_err(|e| Error::system("encode the repository as JSON", e))?,
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str) -> Mapping {
        let mut m = Mapping::new();
        m.insert("name".into(), name.into());
        m.insert("path".into(), format!("../{name}").into());
        m
    }

    #[test]
    fn appends_and_keeps_the_rest_byte_identical() {
        let text = "# top\nrepos:\n  - name: a # first\n    path: ../a\n\nroles: []\n";
        let out = append_repo(text, &item("b")).unwrap();
        assert!(out.starts_with("# top\nrepos:\n  - name: a # first\n    path: ../a\n"), "{out}");
        let v: Value = serde_yaml::from_str(&out).unwrap();
        assert_eq!(v["repos"][1]["name"], "b");
        assert!(out.contains("roles: []"), "{out}");
    }

    #[test]
    fn creates_the_list_in_an_empty_or_listless_file() {
        for text in ["", "repos: []\n", "# only a comment\nroles: []\n", "repos:\n"] {
            let out = append_repo(text, &item("b")).unwrap();
            let v: Value = serde_yaml::from_str(&out).unwrap_or_else(|e| panic!("{text:?} -> {out:?}: {e}"));
            assert_eq!(v["repos"][0]["name"], "b", "{text:?} -> {out}");
        }
    }
}
