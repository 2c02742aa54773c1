//! The library's typed errors. The library never prints: it returns these,
//! and the front ends (CLI, MCP) render them.
//!
//! It stays one file: it is the one list of the library's errors, with their
//! rendering and hints, so a front end finds every case in one `match`.

use crate::model::Kind;
use crate::model::id::IdError;
use std::path::PathBuf;

mod refusal;
pub use refusal::Refusal;

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
    // ---- Typed input, lookup and system errors. Each carries the field,
    // the value, what was expected and a suggestion as data, so the front
    // ends name a field their own way (the CLI as its flag, MCP as its
    // parameter) and no library message names a flag. Hints are data too:
    // see [`Error::hints`].
    /// A value that is not one of those accepted (a setting, a global option
    /// such as `coord`, a revision).
    #[error("`{field}`: `{value}` is not valid (expected {expected})")]
    InvalidValue {
        /// The request field or option (`coord`, `repo`).
        field: String,
        /// The value given, shown escaped.
        value: String,
        /// What was expected.
        expected: String,
    },
    /// A repository name the registry (settings/ecosystem.yaml) does not know.
    #[error("unknown repository `{name}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownRepo {
        /// The name given.
        name: String,
        /// The closest registered name or nickname.
        suggestion: Option<String>,
    },
    /// Something other than a coordination entity that does not exist: a
    /// run, a task of a run, a role, a revision, an action.
    #[error("no {what} `{name}`{}", suggestion.as_ref().map(|s| format!(" ({s})")).unwrap_or_default())]
    Unknown {
        /// What was looked for ("run", "role").
        what: &'static str,
        /// The name or ID asked for.
        name: String,
        /// e.g. "known: build, test" or "did you mean RUN-…?".
        suggestion: Option<String>,
    },
    /// A step failed; `source` says why. The CLI prints the source as a
    /// `caused by:` line, MCP as a second line.
    #[error("{context}")]
    Context {
        /// What was being done ("cannot fetch the coordination data from …").
        context: String,
        /// Why it failed.
        #[source]
        source: Box<Error>,
    },
    /// Something the process itself needs failed: the async runtime, a
    /// signal handler, encoding a record, a worker thread.
    #[error("cannot {what}")]
    System {
        /// What could not be done ("start the async runtime").
        what: String,
        /// The underlying error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The SQLite file shared by the index and the event log failed.
    #[error("{}: {source}", path.display())]
    Database {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
    /// A settings file a write cannot edit safely; nothing was written.
    #[error("cannot edit {}: {problem}; nothing was written", path.display())]
    SettingsEdit {
        /// The settings file, relative to the coordination root.
        path: PathBuf,
        /// What stands in the way.
        problem: String,
    },
    /// A version constraint that cannot be evaluated.
    #[error(transparent)]
    Constraint(#[from] crate::deps::constraint::ConstraintError),
    /// A command refused by the trust rules of dependency checks and runs.
    #[error(transparent)]
    Trust(#[from] crate::deps::trust::TrustError),
    // ---- end of the typed block
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
    #[error("{0} needs a git repository")]
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
    /// Refused because it would overwrite or lose data, or the state around
    /// it does not allow it; the kind says which (see [`Refusal`]).
    #[error(transparent)]
    Refused(Box<Refusal>),
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
    #[error("{}: the file is named `{name}` but holds id `{inside}`; rename the file or correct its `id`", path.display())]
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
    // store
    /// A new entity's file (or a rename's target) is already there.
    #[error("{}: already exists; nothing was written", path.display())]
    Exists {
        /// The file, relative to the root.
        path: PathBuf,
    },
    /// A legacy-section edit found the text not as expected.
    #[error("{}: cannot edit `{id}` in `coordination.{section}`: expected {expected}; nothing was changed", path.display())]
    LegacyEdit {
        /// The ecosystem file, relative to the root.
        path: PathBuf,
        /// The section (`issues`, …).
        section: &'static str,
        /// The item's ID.
        id: String,
        /// What the text lacked ("a mapping at the top", "the item").
        expected: String,
    },
    /// A write whose result would not read back as the intended entity.
    #[error("{}: could not write `{id}` safely (the result does not read back as intended); nothing was changed", path.display())]
    Unverified {
        /// The file, relative to the root.
        path: PathBuf,
        /// The entity.
        id: String,
    },
    /// An entity that cannot be written as YAML.
    #[error("`{id}` cannot be written as YAML: {message}")]
    Serialize {
        /// The entity.
        id: String,
        /// The serialiser's message.
        message: String,
    },
    /// A write attempted under the lock of another coordination root.
    #[error("a write to {} was attempted under the lock of {}", root.display(), held.display())]
    WrongLock {
        /// The root written to.
        root: PathBuf,
        /// The root whose lock is held.
        held: PathBuf,
    },
}

/// Why an update was refused rather than rewritten canonically.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {id}: {construct} ({reason}); a canonical rewrite would drop {loses}. Nothing was changed: edit the file by hand, or ask for the canonical rewrite", path.display())]
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

/// A value that cannot be read as its type (a request value, an option):
/// what was given and what was expected. clap shows it after the flag, MCP
/// after the parameter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not {expected}")]
pub struct ValueError {
    /// The text given.
    pub value: String,
    /// What it should have been ("a date (try 2026-03-01 or \"2 weeks ago\")").
    pub expected: String,
}

impl ValueError {
    /// `value` is not `expected`.
    pub fn new(value: impl Into<String>, expected: impl Into<String>) -> Self {
        ValueError { value: value.into(), expected: expected.into() }
    }
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
    /// Other request fields the problem names ("cannot be combined with"
    /// `rerun_failed`); named by each front end its own way, after the problem.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<String>,
}

impl FieldError {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            value: None,
            problem: problem.into(),
            expected: None,
            suggestion: None,
            others: Vec::new(),
        }
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
    /// Names other request fields the problem is about: the problem reads
    /// as a phrase they complete ("choose repositories with one of" +
    /// `repos`, `role`, `all`).
    pub fn with(mut self, others: &[&str]) -> Self {
        self.others = others.iter().map(|o| o.to_string()).collect();
        self
    }
    /// The message without the field name, other fields named by `name`:
    /// `unknown reference `X` (expected a plan; did you mean PLAN-002?)`.
    pub fn message(&self, name: &dyn Fn(&str) -> String) -> String {
        let mut m = self.problem.clone();
        if !self.others.is_empty() {
            let others: Vec<String> = self.others.iter().map(|o| name(o)).collect();
            m.push(' ');
            m.push_str(&others.join(", "));
        }
        let extra: Vec<String> =
            self.expected.iter().map(|e| format!("expected {e}")).chain(self.suggestion.iter().cloned()).collect();
        if !extra.is_empty() {
            m.push_str(&format!(" ({})", extra.join("; ")));
        }
        m
    }
    /// Renders with each field named by `name` (as a flag, as a parameter).
    pub fn render(&self, name: &dyn Fn(&str) -> String) -> String {
        format!("{}: {}", name(&self.field), self.message(name))
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(&|n| format!("`{n}`")))
    }
}

/// Something the user can do about an error, as data: each front end says
/// it in its own words (the CLI names flags and commands, MCP parameters and
/// tools), so no library message names a flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hint {
    /// Ask again with a field of the same request set (`rewrite`).
    SetField {
        /// The request field.
        field: &'static str,
        /// What setting it does ("rewrite the file canonically, dropping its
        /// comments and anchors").
        effect: &'static str,
    },
    /// Use another operation, named by its CLI command (`list-issues`),
    /// optionally with a boolean field set (`doctor` with `fix`).
    Operation {
        /// The operation's CLI command.
        command: &'static str,
        /// A boolean field to set, if any.
        field: Option<&'static str>,
        /// What it does ("lists every problem in the data").
        effect: &'static str,
    },
    /// Work inside a git repository (the CLI can also be pointed at one).
    InsideRepository,
}

/// An error as a front end shows it: the message, the cause chain and the
/// hints, with request fields named by the front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The error's lines (one per field error).
    pub lines: Vec<String>,
    /// Each cause, outermost first.
    pub causes: Vec<String>,
    /// What to do about it.
    pub hints: Vec<Hint>,
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

    /// This error as a problem with the request field `field`: an unknown
    /// repository keeps its name and suggestion as data.
    pub fn on_field(self, field: &str) -> FieldError {
        match self {
            Error::UnknownRepo { name, suggestion } => FieldError::new(field, format!("unknown repository `{name}`"))
                .value(name)
                .suggest(suggestion.map(|s| format!("did you mean `{s}`?"))),
            Error::InvalidValue { value, expected, .. } => {
                FieldError::new(field, format!("`{value}` is not valid")).value(value).expected(expected)
            }
            Error::Fields(mut f) if f.len() == 1 => f.remove(0),
            e => FieldError::new(field, e.to_string()),
        }
    }

    /// Says what was being done when `self` happened (a `caused by:` line).
    pub fn context(self, context: impl Into<String>) -> Self {
        Error::Context { context: context.into(), source: Box::new(self) }
    }

    /// A failure of something the process needs (`what`: "start the async
    /// runtime").
    pub fn system(what: impl Into<String>, source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Error::System { what: what.into(), source: source.into() }
    }

    /// The error and its causes on one line (`a: b: c`), for a reason kept
    /// as data in a report.
    pub fn one_line(&self) -> String {
        let r = self.render(&|f| format!("`{f}`"));
        r.lines.into_iter().chain(r.causes).collect::<Vec<_>>().join(": ")
    }

    /// What the user can do about this error, as data.
    pub fn hints(&self) -> Vec<Hint> {
        let op = |command, field, effect| Hint::Operation { command, field, effect };
        match self {
            Error::NotFound { kind, .. } => {
                let (command, effect) = match kind {
                    Kind::Issue => ("list-issues", "lists the issues"),
                    Kind::Plan => ("list-plans", "lists the plans"),
                    Kind::Todo => ("list-todos", "lists the todos"),
                    Kind::Dependency => ("list-deps", "lists the dependencies"),
                };
                vec![op(command, None, effect)]
            }
            Error::NotFoundMilestone { .. } => vec![op("list-plans", None, "lists the plans and their milestones")],
            Error::UnknownRepo { .. } => vec![op("list-repos", None, "lists the registered repositories")],
            Error::Unknown { what: "run", .. } => vec![op("runs", None, "lists the recorded runs")],
            Error::Yaml { .. } | Error::Broken { .. } => vec![op("lint", None, "lists every problem in the data")],
            Error::Misnamed { .. } => vec![op("doctor", Some("fix"), "renames the file after its id")],
            Error::RewriteRefused(_) => vec![Hint::SetField {
                field: "rewrite",
                effect: "rewrites the file canonically, dropping its comments and anchors",
            }],
            Error::NeedsRepo(_) => vec![Hint::InsideRepository],
            Error::Refused(r) => r.hints(),
            Error::Context { source, .. } => source.hints(),
            _ => Vec::new(),
        }
    }

    /// The error as a front end shows it, each request field named by
    /// `name`: field errors one per line, then the cause chain (a cause
    /// already shown inline, as an I/O error is, is not repeated).
    pub fn render(&self, name: &dyn Fn(&str) -> String) -> Rendered {
        let lines = match self {
            Error::Fields(fields) => fields.iter().map(|f| f.render(name)).collect(),
            Error::InvalidValue { field, value, expected } => {
                vec![format!("{}: `{value}` is not valid (expected {expected})", name(field))]
            }
            e => vec![e.to_string()],
        };
        let mut causes: Vec<String> = Vec::new();
        let mut shown = lines.last().cloned().unwrap_or_default();
        let mut next = std::error::Error::source(self);
        while let Some(cause) = next {
            let text = cause.to_string();
            if !shown.ends_with(&text) {
                causes.push(text.clone());
            }
            shown = text;
            next = cause.source();
        }
        Rendered { lines, causes, hints: self.hints() }
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
