//! Field groups several requests share, each declared once and flattened
//! into its requests (`#[command(flatten)]` for the CLI, `#[serde(flatten)]`
//! for MCP), so a field has one name, one type and one help text wherever it
//! appears. serde's `deny_unknown_fields` does not combine with `flatten`:
//! the MCP front end refuses unknown parameters itself, for every tool,
//! against the tool's schema (`mcp::ops`).

use schemars::JsonSchema;
use serde::Deserialize;

/// Whether a write may fall back to a canonical rewrite.
#[derive(Debug, Clone, Copy, Default, clap::Args, Deserialize, JsonSchema)]
pub struct Rewrite {
    /// When no minimal edit is possible (the file uses YAML anchors/aliases,
    /// or a construct the line editor cannot handle), rewrite the file in
    /// canonical form even though that drops its comments and anchors.
    /// Without it such an update is refused and nothing changes.
    #[arg(long)]
    #[serde(default)]
    pub rewrite: bool,
}

/// What a list shows after filtering ([`super::listing::ListOptions`]).
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct Listing {
    /// Include finished items too (by default a list shows open items
    /// only, unless `status` names the statuses wanted).
    #[arg(long)]
    #[serde(default)]
    pub all: bool,
    /// Sort by this field (`priority`, `created`, `updated`, `target`, `id`,
    /// `status`, `title`, `task`, `repo`, `assignee`, `estimated_hours`,
    /// `consumer`, `provider`); `-FIELD` sorts descending.
    #[arg(long, allow_hyphen_values = true, value_name = "FIELD")]
    #[serde(default)]
    pub sort: Option<String>,
    /// Show at most N items (after sorting).
    #[arg(long, value_name = "N")]
    #[serde(default)]
    pub limit: Option<usize>,
}

/// The people filters of issues and todos.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct People {
    /// Only items assigned to one of these people (repeatable,
    /// comma-separated; `@me`: `git config coord.user`, else your
    /// `user.email` or `user.name`).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub assignee: Vec<String>,
    /// Only items with one of these labels (repeatable, comma-separated).
    #[arg(long, value_delimiter = ',')]
    #[serde(default, deserialize_with = "super::types::terms")]
    pub label: Vec<String>,
}

/// Label edits of an update.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct LabelEdit {
    /// Labels to add.
    #[arg(long = "add-label", value_delimiter = ',')]
    #[serde(default)]
    pub add_labels: Vec<String>,
    /// Labels to remove.
    #[arg(long = "remove-label", value_delimiter = ',')]
    #[serde(default)]
    pub remove_labels: Vec<String>,
}

impl LabelEdit {
    /// True when no label changes.
    pub fn is_empty(&self) -> bool {
        self.add_labels.is_empty() && self.remove_labels.is_empty()
    }
}

/// Repository edits of an update.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct RepoEdit {
    /// Repositories to add (names or nicknames).
    #[arg(long = "add-repo", value_delimiter = ',')]
    #[serde(default)]
    pub add_repos: Vec<String>,
    /// Repositories to remove (an issue keeps at least one).
    #[arg(long = "remove-repo", value_delimiter = ',')]
    #[serde(default)]
    pub remove_repos: Vec<String>,
}

impl RepoEdit {
    /// True when no repository changes.
    pub fn is_empty(&self) -> bool {
        self.add_repos.is_empty() && self.remove_repos.is_empty()
    }
}

impl From<Rewrite> for crate::ops::Rewrite {
    fn from(r: Rewrite) -> Self {
        r.rewrite.into()
    }
}
