//! Finding a provider's version: from a validation command's output, else
//! from the provider's checkout — the manifest at HEAD (`Cargo.toml`,
//! `pyproject.toml`, `package.json`, `setup.cfg`), else its highest release
//! tag. Everything is read from git objects with gix, so an uncommitted edit
//! of a manifest does not count; a directory that is not a repository falls
//! back to the files on disk.
//!
//! Manifests come from other repositories, so they are bounded like every
//! input: one larger than [`MAX_MANIFEST_BYTES`] is not read (its size is
//! checked before the blob or file is loaded). Nesting needs no pre-scan
//! here: the TOML and JSON parsers are linear and refuse deep nesting
//! themselves (tested below).

use super::constraint::{Ecosystem, parse_semver};
use regex::Regex;
use std::path::Path;
use std::str::FromStr;
use std::sync::LazyLock;

/// A version and where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub version: String,
    /// e.g. `Cargo.toml at HEAD`, `tag v1.2.3`, `command output`.
    pub source: String,
    pub ecosystem: Option<Ecosystem>,
}

static VERSION_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bv?(\d+(?:\.\d+)+(?:(?:[-+]|\.?(?:a|b|c|rc|alpha|beta|pre|post|dev))[0-9a-z.\-]*)?)")
        .expect("static regex")
});

/// The first version-looking token of `text`, or the first capture group of
/// `pattern` when it has one and matches.
pub fn from_output(text: &str, pattern: Option<&Regex>) -> Option<String> {
    if let Some(re) = pattern
        && re.captures_len() > 1
        && let Some(c) = re.captures(text)
        && let Some(g) = c.get(1)
    {
        return Some(g.as_str().trim().to_string());
    }
    VERSION_TOKEN.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str().trim_end_matches(['.', '-']).to_string())
}

/// The largest manifest read, in bytes.
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;

/// The manifests we read, in order, with their ecosystem.
const MANIFESTS: &[(&str, Ecosystem)] = &[
    ("Cargo.toml", Ecosystem::Cargo),
    ("pyproject.toml", Ecosystem::Python),
    ("package.json", Ecosystem::Npm),
    ("setup.cfg", Ecosystem::Python),
];

/// The version a manifest declares, if any.
fn manifest_version(name: &str, text: &str) -> Option<String> {
    match name {
        "Cargo.toml" => {
            let doc: toml::Table = toml::from_str(text).ok()?;
            let v = doc.get("package")?.get("version")?;
            v.as_str().map(str::to_string)
        }
        "pyproject.toml" => {
            let doc: toml::Table = toml::from_str(text).ok()?;
            let project = doc.get("project").and_then(|p| p.get("version")).and_then(|v| v.as_str());
            let poetry = || doc.get("tool")?.get("poetry")?.get("version")?.as_str();
            project.or_else(poetry).map(str::to_string)
        }
        "package.json" => {
            let doc: serde_json::Value = serde_json::from_str(text).ok()?;
            doc.get("version")?.as_str().map(str::to_string)
        }
        "setup.cfg" => {
            // INI: `version = 1.2.3` under `[metadata]`.
            let mut in_metadata = false;
            for line in text.lines() {
                let line = line.trim();
                if line.starts_with('[') {
                    in_metadata = line == "[metadata]";
                } else if in_metadata
                    && let Some((k, v)) = line.split_once('=')
                    && k.trim() == "version"
                {
                    let v = v.trim();
                    // `attr:`/`file:` indirections are not versions.
                    return (!v.contains(':')).then(|| v.to_string());
                }
            }
            None
        }
        _ => None,
    }
}

/// The ecosystem of a checkout, from the first manifest present at HEAD (or on disk).
pub fn ecosystem_of(path: &Path) -> Option<Ecosystem> {
    let repo = gix::open(path).ok();
    MANIFESTS.iter().find_map(|(name, eco)| read_manifest(repo.as_ref(), path, name).map(|_| *eco))
}

fn read_manifest(repo: Option<&gix::Repository>, path: &Path, name: &str) -> Option<String> {
    match repo {
        Some(repo) => {
            let tree = repo.head_tree().ok()?;
            let entry = tree.lookup_entry_by_path(name).ok()??;
            if repo.find_header(entry.object_id()).ok()?.size() > MAX_MANIFEST_BYTES {
                return None;
            }
            let obj = entry.object().ok()?;
            String::from_utf8(obj.data.clone()).ok()
        }
        None => crate::store::files::read_text_following(&path.join(name), MAX_MANIFEST_BYTES).ok(),
    }
}

/// Why no provider version was found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoVersion {
    /// The registry gives the provider no `path`.
    #[error("the provider has no `path` in the ecosystem registry")]
    NoPath,
    /// The checkout is not there.
    #[error("provider checkout {} does not exist", .0.display())]
    NoCheckout(std::path::PathBuf),
    /// No manifest version, and no git history to find tags in.
    #[error("{} has no manifest with a version and is not a git repository", .0.display())]
    NotRepository(std::path::PathBuf),
    /// No manifest version and no release tag.
    #[error("{} has no manifest version and no release tag", .0.display())]
    NoTag(std::path::PathBuf),
    /// The worker reading the checkout failed.
    #[error("reading the provider failed: {0}")]
    Worker(String),
}

/// Reads the provider's version from its checkout. `Err` says why none was found.
pub fn from_checkout(path: &Path) -> Result<Found, NoVersion> {
    if !path.is_dir() {
        return Err(NoVersion::NoCheckout(path.to_path_buf()));
    }
    let repo = gix::open(path).ok();
    let mut ecosystem = None;
    for (name, eco) in MANIFESTS {
        let Some(text) = read_manifest(repo.as_ref(), path, name) else { continue };
        ecosystem.get_or_insert(*eco);
        if let Some(version) = manifest_version(name, &text) {
            let at = if repo.is_some() { " at HEAD" } else { "" };
            return Ok(Found { version, source: format!("{name}{at}"), ecosystem: Some(*eco) });
        }
    }
    let Some(repo) = repo else {
        return Err(NoVersion::NotRepository(path.to_path_buf()));
    };
    match highest_tag(&repo, ecosystem) {
        Some((tag, version)) => Ok(Found { version, source: format!("tag {tag}"), ecosystem }),
        None => Err(NoVersion::NoTag(path.to_path_buf())),
    }
}

/// The highest `v1.2.3`/`1.2.3` tag (semver order, or PEP 440 for Python).
fn highest_tag(repo: &gix::Repository, eco: Option<Ecosystem>) -> Option<(String, String)> {
    let refs = repo.references().ok()?;
    let names: Vec<String> = refs
        .tags()
        .ok()?
        .filter_map(Result::ok)
        .map(|r| r.name().shorten().to_string())
        .filter(|t| t.trim_start_matches('v').starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    if eco == Some(Ecosystem::Python) {
        names
            .into_iter()
            .filter_map(|t| pep440_rs::Version::from_str(t.trim_start_matches('v')).ok().map(|v| (v, t)))
            .max_by(|a, b| a.0.cmp(&b.0))
            .map(|(v, t)| (t, v.to_string()))
    } else {
        names.into_iter().filter_map(|t| parse_semver(&t).map(|v| (v, t))).max_by(|a, b| a.0.cmp(&b.0)).map(|(_, t)| {
            let v = t.trim_start_matches('v').to_string();
            (t, v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_tokens() {
        assert_eq!(from_output("mytool version 1.4.2 (abc)", None).as_deref(), Some("1.4.2"));
        assert_eq!(from_output("v2.0.0-rc.1\n", None).as_deref(), Some("2.0.0-rc.1"));
        assert_eq!(from_output("Python 3.12.1rc1", None).as_deref(), Some("3.12.1rc1"));
        assert_eq!(from_output("nothing here 42", None), None);
        let re = Regex::new(r"api=(\S+)").expect("regex");
        assert_eq!(from_output("tool 9.9.9 api=1.2", Some(&re)).as_deref(), Some("1.2"));
    }

    #[test]
    fn manifests() {
        assert_eq!(
            manifest_version("Cargo.toml", "[package]\nname = \"x\"\nversion = \"0.3.1\"\n").as_deref(),
            Some("0.3.1")
        );
        assert_eq!(
            manifest_version("pyproject.toml", "[project]\nversion = \"2.1.post1\"\n").as_deref(),
            Some("2.1.post1")
        );
        assert_eq!(manifest_version("pyproject.toml", "[tool.poetry]\nversion = \"1.0\"\n").as_deref(), Some("1.0"));
        assert_eq!(manifest_version("package.json", r#"{"version": "4.5.6"}"#).as_deref(), Some("4.5.6"));
        assert_eq!(manifest_version("setup.cfg", "[metadata]\nname = x\nversion = 1.2\n").as_deref(), Some("1.2"));
        // A workspace manifest has no version: fall through to tags.
        assert_eq!(manifest_version("Cargo.toml", "[workspace]\nmembers = []\n"), None);
    }

    /// Deeply nested manifests are refused by the parsers' own depth limits
    /// (no stack overflow, no quadratic scan): the version is simply absent.
    #[test]
    fn deeply_nested_manifests_are_refused() {
        let n = 100_000;
        let toml = format!("[package]\nversion = \"1.0.0\"\nx = {}{}\n", "[".repeat(n), "]".repeat(n));
        assert_eq!(manifest_version("Cargo.toml", &toml), None);
        let toml = format!("[package]\nversion = \"1.0.0\"\nx = {}1{}\n", "{a = ".repeat(n), "}".repeat(n));
        assert_eq!(manifest_version("Cargo.toml", &toml), None);
        let json = format!("{{\"version\": \"1.0.0\", \"x\": {}{}}}", "[".repeat(n), "]".repeat(n));
        assert_eq!(manifest_version("package.json", &json), None);
    }

    #[test]
    fn a_manifest_over_the_bound_is_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let big = format!("{{\"version\": \"1.0.0\", \"pad\": \"{}\"}}", "x".repeat(MAX_MANIFEST_BYTES as usize));
        std::fs::write(dir.path().join("package.json"), big).expect("write");
        assert_eq!(read_manifest(None, dir.path(), "package.json"), None);
        std::fs::write(dir.path().join("package.json"), r#"{"version": "1.0.0"}"#).expect("write");
        assert!(read_manifest(None, dir.path(), "package.json").is_some());
    }
}
