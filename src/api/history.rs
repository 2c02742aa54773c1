//! History operations over git: the log of coordination changes (of all
//! data or one entity), the semantic diff between revisions, and the review
//! of a change against its base branch.

use super::Operation;
use super::types::Since;
use crate::error::Result;
use crate::history::{self, LogOptions, ReviewOptions};
use crate::store::Store;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The commits that changed coordination data (or one entity), newest
/// first, with the field-level changes each made. Merge commits are not
/// shown; their changes appear on the commits that made them.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// Only this entity's history (any kind, or a milestone), followed
    /// across `migrate`.
    #[arg(skip)]
    #[serde(default)]
    pub id: Option<String>,
    /// A revision or range limiting the commits (`main`, `v1.0..HEAD`,
    /// `main...topic`); default HEAD.
    #[arg(skip)]
    #[serde(default)]
    pub rev: Option<String>,
    /// Only commits at or after this date (`2026-03-01`, `2 weeks ago`, RFC 3339).
    #[arg(long, value_name = "DATE")]
    #[serde(default)]
    pub since: Option<Since>,
    /// Only commits whose author name or email contains one of these (any
    /// case; repeatable, comma-separated).
    #[arg(long, value_name = "A", value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub author: Vec<String>,
    /// At most this many commits.
    #[arg(long, short = 'n', value_name = "N")]
    #[serde(default)]
    pub limit: Option<usize>,
}

impl Operation for Log {
    const COMMAND: &'static str = "log";
    const TOOL: &'static str = "coord_log";
    const SUMMARY: &'static str =
        "Commits that changed coordination data (or one entity, with `id`), newest first, with field-level changes.";
    const WRITES: bool = false;
    type Output = history::Log;

    fn run(&self, store: &Store) -> Result<history::Log> {
        self.run_with(store, &crate::progress::NoProgress)
    }
}

impl Log {
    /// [`Operation::run`], reporting the commits compared.
    pub fn run_with(&self, store: &Store, progress: &dyn crate::progress::Progress) -> Result<history::Log> {
        let opts = LogOptions {
            id: self.id.clone(),
            rev: self.rev.clone(),
            since: self.since.map(|s| s.0),
            author: self.author.clone(),
            limit: self.limit,
        };
        history::log::log_with(store, &opts, progress)
    }
}

/// The coordination changes between two revisions, as field-level changes
/// per entity.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Diff {
    /// What to compare: `A..B` (A to B), `A...B` (from the merge base of A
    /// and B to B), a single revision (against the working tree); default:
    /// HEAD against the working tree.
    #[arg(value_name = "REVSPEC")]
    #[serde(default)]
    pub revspec: Option<String>,
    /// Also return the changes as Markdown, in `markdown` (for a
    /// pull-request comment).
    #[arg(skip)]
    #[serde(default)]
    pub markdown: bool,
}

/// A semantic diff.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DiffOutput {
    /// The sides and the changes.
    #[serde(flatten)]
    pub diff: history::Diff,
    /// The changes as Markdown, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
}

impl Operation for Diff {
    const COMMAND: &'static str = "diff";
    const TOOL: &'static str = "coord_diff";
    const SUMMARY: &'static str =
        "Coordination changes between revisions, field by field (default: HEAD against the working tree).";
    const WRITES: bool = false;
    type Output = DiffOutput;

    fn run(&self, store: &Store) -> Result<DiffOutput> {
        let diff = history::diff(store, self.revspec.as_deref())?;
        let markdown = self.markdown.then(|| history::render::markdown(&diff.changes));
        Ok(DiffOutput { diff, markdown })
    }
}

/// Review a change's coordination data: the field-level diff since the
/// merge base with the base branch, plus the lint errors it introduces
/// (broken references, cycles, invalid values, duplicate IDs, IDs the base
/// branch also created), dependencies it newly leaves unsatisfied (offline
/// checks, which run no command and send no request, unless `online`) and
/// todos it newly blocks. `errors` counts what it introduces.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Review {
    /// The base branch (default: the remote's default branch, e.g. origin/main).
    #[arg(value_name = "BASE")]
    #[serde(default)]
    pub base: Option<String>,
    /// The change's tip (default HEAD).
    #[arg(long, value_name = "REV")]
    #[serde(default)]
    pub head: Option<String>,
    /// Also run health checks and the trusted commands of changed
    /// dependencies (commands approved on this machine only).
    #[arg(long)]
    #[serde(default)]
    pub online: bool,
    /// With online: run every validation command, approved or not (CI on a
    /// checkout it already trusts; never on pull requests). Command line only.
    #[arg(long, requires = "online")]
    #[serde(skip)]
    pub trust_all: bool,
}

impl Operation for Review {
    const COMMAND: &'static str = "review";
    const TOOL: &'static str = "coord_review";
    const SUMMARY: &'static str = "Review a change against its base branch: field-level diff, lint errors, ID collisions, dependencies and todos it breaks; `errors` counts what it introduces.";
    const WRITES: bool = false;
    type Output = history::Review;

    fn run(&self, store: &Store) -> Result<history::Review> {
        let opts = ReviewOptions {
            base: self.base.clone(),
            head: self.head.clone(),
            online: self.online,
            trust_all: self.trust_all && self.online,
            skip_dependency_checks: false,
            block_on_unsatisfied: store.settings.hook_block_on == crate::settings::BlockOn::Unsatisfied,
        };
        history::review(store, &opts)
    }
}
