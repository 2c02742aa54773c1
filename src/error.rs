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
    /// No milestone with that ID in any plan.
    #[error("no milestone `{id}`{}", hint.as_ref().map(|h| format!(" ({h})")).unwrap_or_default())]
    NotFoundMilestone {
        /// The ID asked for.
        id: String,
        /// e.g. "did you mean MILESTONE-012?"
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
    /// No coordination root here or above (only `init` creates one).
    #[error("not a git-coord repository ({}); run git coord init", .0.display())]
    NotCoordRepo(PathBuf),
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
    /// A write refused because the settings turn writes off (`enabled: false`).
    #[error(
        "coordination data is read-only here: `{key}: false` in {} (reads still work; set `{key}: true` to write)",
        path.display()
    )]
    Disabled {
        /// The settings file, relative to the coordination root.
        path: PathBuf,
        /// The key as the file names it (`enabled`, `coordination.enabled`).
        key: String,
    },
    /// Fields of a request that break a rule, each with what was expected.
    /// The front ends name a field their own way (the CLI as its flag, MCP as
    /// its parameter); the library names it by the request's field name.
    #[error("{}", .0.iter().map(|f| f.to_string()).collect::<Vec<_>>().join("\n"))]
    Fields(Vec<FieldError>),
    /// A file larger than `max_file_bytes`; it was not parsed.
    #[error("{}: the file is {bytes} bytes, more than max_file_bytes ({limit}, settings/coord.yaml); not read", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// A file nested deeper than `max_yaml_depth`; it was not parsed.
    #[error("{}:{line}: nested deeper than max_yaml_depth ({limit} levels, settings/coord.yaml); not parsed", path.display())]
    TooDeep {
        /// The file.
        path: PathBuf,
        /// 1-based line where the limit was crossed.
        line: usize,
        /// The limit.
        limit: usize,
    },
    /// A mapping key that is not text (a list, a mapping, null…).
    #[error("{}{}: a mapping key is {found}, not text (keys must be text, like `status:`)", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    KeyNotText {
        /// The file.
        path: PathBuf,
        /// 1-based line, when known.
        line: Option<usize>,
        /// What the key is ("a list").
        found: &'static str,
    },
    /// Something in `coordination/` that is not a regular file where one
    /// is expected (a symbolic link, a FIFO, a directory); never followed or opened.
    #[error("{} is {what}; git-coord reads only regular files in coordination/ (it never follows links or opens special files)", path.display())]
    NotRegular {
        /// The entry.
        path: PathBuf,
        /// "a symbolic link", "a FIFO", "a directory", …
        what: &'static str,
    },
    /// A file whose name is not the `id` inside it.
    #[error("{}: the file is named `{name}` but holds id `{inside}`; rename the file or correct its `id` (`git coord doctor --fix` renames it)", path.display())]
    Misnamed {
        /// The file.
        path: PathBuf,
        /// The ID its name says.
        name: String,
        /// The ID inside.
        inside: String,
    },
    /// A write that could only be done by rewriting the file canonically,
    /// which would lose comments or anchors; refused unless allowed.
    #[error(transparent)]
    RewriteRefused(Box<RewriteRefusal>),
}

/// Why an update was refused rather than rewritten canonically.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {id}: {construct} ({reason}); a canonical rewrite would drop {loses}. Nothing was changed: edit the file by hand, or ask for the canonical rewrite (the `rewrite` option)", path.display())]
pub struct RewriteRefusal {
    /// The entity.
    pub id: String,
    /// Its file.
    pub path: PathBuf,
    /// 1-based line of the construct (the anchor, else the first comment).
    pub line: usize,
    /// What stands in the way, e.g. "the file uses YAML anchors/aliases
    /// (anchor `&r` here), which a minimal edit cannot keep".
    pub construct: String,
    /// What a rewrite would lose ("its 3 comments and its anchors/aliases").
    pub loses: String,
    /// Why the minimal edit failed.
    pub reason: String,
}

/// A problem with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// The request field (`title`, `depends_on`), as the operation's request
    /// type names it.
    pub field: String,
    /// The value given, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// What is wrong.
    pub problem: String,
    /// What was expected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// A suggestion (`did you mean ISSUE-012?`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        FieldError { field: field.into(), value: None, problem: problem.into(), expected: None, suggestion: None }
    }
    /// Sets the value given.
    pub fn value(mut self, v: impl Into<String>) -> Self {
        self.value = Some(v.into());
        self
    }
    /// Sets what was expected.
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }
    /// Sets a suggestion.
    pub fn suggest(mut self, s: Option<String>) -> Self {
        self.suggestion = s;
        self
    }
    /// The message without the field name: `unknown reference `X` (expected
    /// a plan; did you mean PLAN-002?)`.
    pub fn message(&self) -> String {
        let mut m = self.problem.clone();
        let extra: Vec<String> =
            self.expected.iter().map(|e| format!("expected {e}")).chain(self.suggestion.iter().cloned()).collect();
        if !extra.is_empty() {
            m.push_str(&format!(" ({})", extra.join("; ")));
        }
        m
    }
    /// Renders with the field named by `name` (a flag, a parameter).
    pub fn render(&self, name: &str) -> String {
        format!("{name}: {}", self.message())
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(&format!("`{}`", self.field)))
    }
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
