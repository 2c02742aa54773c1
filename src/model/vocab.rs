//! Closed vocabularies (statuses, priorities, dependency types) and the aliases
//! real-world ecosystem files use for them.
//!
//! Every vocabulary accepts its canonical spelling plus the drift seen in the
//! wild (`fixed`, `done`, `P0`, `in progress`, …). A value that maps to nothing
//! is kept verbatim in [`Lenient::Invalid`] so the entity still loads and `lint`
//! can report it; it is never silently replaced.

use std::fmt;

/// A closed set of canonical values with aliases.
pub trait Vocab: Sized + Copy + Eq + fmt::Debug + 'static {
    /// Canonical spellings, in display order.
    const ALLOWED: &'static [&'static str];
    /// What this vocabulary describes, for messages ("issue status").
    const WHAT: &'static str;
    /// The canonical spelling.
    fn as_str(self) -> &'static str;
    /// Parses a canonical value or an alias (case-insensitive).
    fn parse(s: &str) -> Option<Self>;
    /// All values, in canonical order.
    fn all() -> Vec<Self> {
        Self::ALLOWED.iter().filter_map(|s| Self::parse(s)).collect()
    }
}

/// Lower-cases and folds the separators people use (`In Progress`, `in-progress`).
pub(crate) fn fold(s: &str) -> String {
    s.trim().to_ascii_lowercase().replace([' ', '-'], "_")
}

/// Shared status aliases: every entity kind accepts these spellings.
fn status_alias(f: &str) -> &str {
    match f {
        "open" | "todo" | "planned" | "new" => "pending",
        "done" | "complete" | "finished" => "completed",
        "inprogress" | "wip" | "started" => "in_progress",
        "canceled" => "cancelled",
        other => other,
    }
}

macro_rules! vocab {
    ($(#[$m:meta])* $name:ident, $what:literal, { $($variant:ident = $s:literal),+ $(,)? }, |$f:ident| $alias:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }
        impl Vocab for $name {
            const ALLOWED: &'static [&'static str] = &[$($s),+];
            const WHAT: &'static str = $what;
            fn as_str(self) -> &'static str { match self { $(Self::$variant => $s),+ } }
            fn parse(s: &str) -> Option<Self> {
                let folded = fold(s);
                let $f: &str = &folded;
                let canonical: &str = $alias;
                match canonical { $($s => Some(Self::$variant),)+ _ => None }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

vocab!(
    /// Status of a cross-repository issue.
    IssueStatus, "issue status",
    { Pending = "pending", InProgress = "in_progress", Blocked = "blocked", Resolved = "resolved", Closed = "closed" },
    |f| match status_alias(f) { "fixed" | "completed" => "resolved", other => other }
);

impl IssueStatus {
    /// Resolved and closed issues no longer block anything.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Resolved | Self::Closed)
    }
}

vocab!(
    /// Status of a plan.
    PlanStatus, "plan status",
    { Draft = "draft", Active = "active", OnHold = "on_hold", Completed = "completed", Cancelled = "cancelled" },
    |f| match status_alias(f) { "pending" => "draft", "in_progress" => "active", "paused" | "hold" => "on_hold", other => other }
);

impl PlanStatus {
    /// Completed and cancelled plans are finished (lists hide them).
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

vocab!(
    /// Status of a milestone.
    MilestoneStatus, "milestone status",
    { Pending = "pending", InProgress = "in_progress", Blocked = "blocked", Completed = "completed", Cancelled = "cancelled" },
    |f| status_alias(f)
);

impl MilestoneStatus {
    /// Completed (or cancelled) milestones no longer block.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

vocab!(
    /// Status of a todo.
    TodoStatus, "todo status",
    { Pending = "pending", InProgress = "in_progress", Blocked = "blocked", Completed = "completed", Cancelled = "cancelled" },
    |f| match status_alias(f) { "fixed" | "resolved" | "closed" => "completed", other => other }
);

impl TodoStatus {
    /// Completed and cancelled todos no longer block.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }
}

vocab!(
    /// Status of an inter-repository dependency.
    DepStatus, "dependency status",
    { Satisfied = "satisfied", Unsatisfied = "unsatisfied", Unknown = "unknown", Deprecated = "deprecated" },
    |f| match f { "ok" | "met" => "satisfied", "broken" | "failed" | "unmet" => "unsatisfied", "pending" => "unknown", other => other }
);

impl DepStatus {
    /// Satisfied and deprecated dependencies need nothing more.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Satisfied | Self::Deprecated)
    }
}

vocab!(
    /// Kind of an inter-repository dependency.
    DepType, "dependency type",
    { Runtime = "runtime", Development = "development", Mcp = "mcp", Test = "test", Documentation = "documentation" },
    |f| match f { "dev" => "development", "docs" | "doc" => "documentation", "tests" => "test", other => other }
);

vocab!(
    /// Priority of an issue or todo. `P0`..`P3` map to critical..low.
    Priority, "priority",
    { Critical = "critical", High = "high", Medium = "medium", Low = "low" },
    |f| match f { "p0" => "critical", "p1" => "high", "p2" | "normal" => "medium", "p3" => "low", other => other }
);

impl Priority {
    /// Sort rank: critical first.
    pub fn rank(self) -> u8 {
        match self {
            Self::Critical => 0,
            Self::High => 1,
            Self::Medium => 2,
            Self::Low => 3,
        }
    }
}

/// A value as read from a file: either mapped onto the vocabulary, or kept
/// verbatim because it could not be (and reported by `lint`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lenient<T> {
    /// Mapped onto the canonical type.
    Known(T),
    /// The raw text that mapped onto nothing.
    Invalid(String),
}

impl<T: Copy> Lenient<T> {
    /// The known value, if any.
    pub fn known(&self) -> Option<T> {
        match self {
            Lenient::Known(v) => Some(*v),
            Lenient::Invalid(_) => None,
        }
    }
}

impl<T: Vocab> Lenient<T> {
    /// Parses with aliases; unmappable text is kept.
    pub fn from_text(s: &str) -> Self {
        T::parse(s).map_or_else(|| Lenient::Invalid(s.to_string()), Lenient::Known)
    }

    /// The text written to files and output.
    pub fn as_str(&self) -> &str {
        match self {
            Lenient::Known(v) => v.as_str(),
            Lenient::Invalid(s) => s,
        }
    }

    /// True when this is exactly `v`.
    pub fn is(&self, v: T) -> bool {
        self.known() == Some(v)
    }
}

impl<T: Vocab> fmt::Display for Lenient<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value outside a vocabulary: what it is, the value, the allowed values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} `{value}` (expected one of: {})", allowed.join(", "))]
pub struct VocabError {
    /// The vocabulary ("todo status").
    pub what: &'static str,
    /// The value given.
    pub value: String,
    /// The canonical values.
    pub allowed: &'static [&'static str],
}

impl VocabError {
    /// This error as a problem with the request field `field`.
    pub fn on_field(self, field: &str) -> crate::error::FieldError {
        crate::error::FieldError::new(field, format!("invalid {} `{}`", self.what, self.value))
            .value(self.value)
            .expected(format!("one of: {}", self.allowed.join(", ")))
    }
}

/// Parses a user-supplied vocabulary value strictly: aliases are fine, unknown
/// values are an error listing the allowed ones.
pub fn parse_strict<T: Vocab>(s: &str) -> Result<T, VocabError> {
    T::parse(s).ok_or_else(|| VocabError { what: T::WHAT, value: s.to_string(), allowed: T::ALLOWED })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_map_for_every_kind() {
        assert_eq!(IssueStatus::parse("fixed"), Some(IssueStatus::Resolved));
        assert_eq!(IssueStatus::parse("open"), Some(IssueStatus::Pending));
        assert_eq!(IssueStatus::parse("In Progress"), Some(IssueStatus::InProgress));
        assert_eq!(TodoStatus::parse("done"), Some(TodoStatus::Completed));
        assert_eq!(TodoStatus::parse("complete"), Some(TodoStatus::Completed));
        assert_eq!(TodoStatus::parse("todo"), Some(TodoStatus::Pending));
        assert_eq!(TodoStatus::parse("in-progress"), Some(TodoStatus::InProgress));
        assert_eq!(MilestoneStatus::parse("planned"), Some(MilestoneStatus::Pending));
        assert_eq!(PlanStatus::parse("pending"), Some(PlanStatus::Draft));
        assert_eq!(PlanStatus::parse("done"), Some(PlanStatus::Completed));
        assert_eq!(Priority::parse("P0"), Some(Priority::Critical));
        assert_eq!(Priority::parse("p3"), Some(Priority::Low));
        assert_eq!(Priority::parse("urgent"), None);
    }

    #[test]
    fn unmappable_values_are_kept() {
        let v: Lenient<IssueStatus> = Lenient::from_text("wontfix");
        assert_eq!(v, Lenient::Invalid("wontfix".into()));
        assert_eq!(v.as_str(), "wontfix");
        let err = parse_strict::<Priority>("urgent").unwrap_err().to_string();
        assert!(err.contains("critical, high, medium, low"), "{err}");
    }
}
