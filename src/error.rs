//! The library's typed errors. The library never prints: it returns these,
//! and the front ends (CLI, MCP) render them.

use crate::model::Kind;
use crate::model::id::IdError;
use std::path::PathBuf;

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in git-coord's library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A YAML file could not be parsed.
    #[error("{}{}: invalid YAML: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Yaml {
        /// The file concerned.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// The parser's message.
        message: String,
    },
    /// An ID was refused.
    #[error(transparent)]
    Id(#[from] IdError),
    /// No entity with that ID.
    #[error("no {kind} `{id}`{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    NotFound {
        /// What was looked for.
        kind: Kind,
        /// The ID asked for.
        id: String,
        /// e.g. "did you mean ISSUE-012?"
        hint: Option<String>,
    },
    /// Input that breaks a rule (bad enum value, unknown reference, bad date…).
    #[error("{0}")]
    Invalid(String),
    /// Several rule violations at once.
    #[error("{}", .0.join("\n"))]
    InvalidMany(Vec<String>),
    /// A change would create a dependency cycle.
    #[error("this change would create a cycle: {}", .0.join(" → "))]
    Cycle(Vec<String>),
    /// A settings file is wrong.
    #[error("{}: setting `{key}`: {message}", path.display())]
    Settings {
        /// The settings file.
        path: PathBuf,
        /// The key concerned.
        key: String,
        /// What was expected.
        message: String,
    },
    /// An entity's file has errors that make writing it unsafe.
    #[error("{id} cannot be changed until its file is fixed ({}):\n  {}", path.display(), problems.join("\n  "))]
    Broken {
        /// The entity.
        id: String,
        /// Its file.
        path: PathBuf,
        /// The problems, one per line.
        problems: Vec<String>,
    },
    /// A git feature was used outside a repository.
    #[error("{0} needs a git repository (run it inside one, or use -C DIR)")]
    NeedsRepo(&'static str),
    /// A git operation failed.
    #[error("git: {0}")]
    Git(String),
    /// `sync` lost the race to push every time: other clones kept pushing
    /// first. The repository is as it was before the sync.
    #[error(
        "the push to {remote} was rejected {attempts} times because others kept pushing first (last: {reason}); nothing was changed — run `git coord sync` again"
    )]
    SyncContended {
        /// The remote pushed to.
        remote: String,
        /// How many pushes were tried.
        attempts: u32,
        /// git's reason for the last rejection.
        reason: String,
    },
    /// Refused because it would overwrite or lose data.
    #[error("{0}")]
    Refused(String),
}

impl Error {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// Wraps a YAML parse error with its path and line.
    pub fn yaml(path: impl Into<PathBuf>, err: &serde_yaml::Error) -> Self {
        Error::Yaml { path: path.into(), line: err.location().map(|l| l.line()), message: yaml_message(err) }
    }

    /// Wraps any git error.
    pub fn git(e: impl std::fmt::Display) -> Self {
        Error::Git(e.to_string())
    }
}

/// The parser's message without the trailing " at line N column M", which we
/// print as `file:line` instead.
pub fn yaml_message(err: &serde_yaml::Error) -> String {
    let s = err.to_string();
    match s.find(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
