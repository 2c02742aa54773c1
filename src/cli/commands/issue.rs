//! Issue commands: `list-issues`, `show-issue`, `create-issue`,
//! `update-issue`, `close-issue`, `reopen-issue`, `delete-issue`.

use super::common::{self, Filters, OutputArgs};
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::model::Kind;
use crate::ops::{self, Patch};

/// List cross-repository issues.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `list-issues`
pub fn list(cx: &Context, a: &ListArgs) -> CmdResult {
    common::list(&cx.store()?, Kind::Issue, &a.filters, a.out.format)
}

/// `show-issue`
pub fn show(cx: &Context, a: &common::ShowArgs) -> CmdResult {
    common::show(&cx.store()?, Kind::Issue, a)
}

/// Create an issue.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// One-line title.
    #[arg(long)]
    pub title: String,
    /// Longer description.
    #[arg(long)]
    pub description: Option<String>,
    /// Affected repositories (names or nicknames, comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub repos: Vec<String>,
    /// critical, high, medium (default) or low; P0..P3 accepted.
    #[arg(long)]
    pub priority: Option<String>,
    /// Free-text severity (default `normal`).
    #[arg(long)]
    pub severity: Option<String>,
    /// Initial status (default pending).
    #[arg(long)]
    pub status: Option<String>,
    /// Target date (YYYY-MM-DD).
    #[arg(long)]
    pub target: Option<String>,
    /// Who owns it.
    #[arg(long)]
    pub assignee: Option<String>,
    /// Labels (comma-separated or repeated).
    #[arg(long = "label", value_delimiter = ',')]
    pub labels: Vec<String>,
    /// Issues this one depends on.
    #[arg(long = "depends-on", value_delimiter = ',')]
    pub depends_on: Vec<String>,
    /// Entities this issue blocks.
    #[arg(long, value_delimiter = ',')]
    pub blocking: Vec<String>,
    /// Metadata `key=value` (repeatable).
    #[arg(long = "meta", value_parser = parse_kv)]
    pub metadata: Vec<(String, String)>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// Parses `key=value`.
pub fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("expected key=value, found `{s}`"))
}

/// `create-issue`
pub fn create(cx: &Context, a: &CreateArgs) -> CmdResult {
    let store = cx.store()?;
    let patch = Patch {
        title: Some(a.title.clone()),
        description: a.description.clone(),
        add_repos: a.repos.clone(),
        priority: a.priority.clone(),
        severity: a.severity.clone(),
        status: a.status.clone(),
        target: a.target.clone(),
        assignee: a.assignee.clone(),
        add_labels: a.labels.clone(),
        add_blockers: a.depends_on.clone(),
        add_blocking: a.blocking.clone(),
        metadata: a.metadata.clone(),
        ..Patch::default()
    };
    let o = ops::create(&store, Kind::Issue, &patch)?;
    common::outcome(&store, &o, "created", a.out.format)
}

/// Update an issue: only the given fields change (plus `updated`).
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Issue ID.
    pub id: String,
    #[arg(long)]
    pub title: Option<String>,
    /// New description (`""` clears it).
    #[arg(long)]
    pub description: Option<String>,
    /// pending, in_progress, blocked, resolved or closed (aliases accepted).
    #[arg(long)]
    pub status: Option<String>,
    /// critical, high, medium or low (P0..P3 accepted).
    #[arg(long)]
    pub priority: Option<String>,
    #[arg(long)]
    pub severity: Option<String>,
    /// New assignee (`""` clears it).
    #[arg(long)]
    pub assignee: Option<String>,
    /// Target date, YYYY-MM-DD (`""` clears it).
    #[arg(long)]
    pub target: Option<String>,
    #[arg(long = "add-label", value_delimiter = ',')]
    pub add_labels: Vec<String>,
    #[arg(long = "remove-label", value_delimiter = ',')]
    pub remove_labels: Vec<String>,
    #[arg(long = "add-repo", value_delimiter = ',')]
    pub add_repos: Vec<String>,
    #[arg(long = "remove-repo", value_delimiter = ',')]
    pub remove_repos: Vec<String>,
    /// Add issues this one depends on.
    #[arg(long = "depends-on", value_delimiter = ',')]
    pub depends_on: Vec<String>,
    /// Remove dependencies.
    #[arg(long = "no-depends-on", value_delimiter = ',')]
    pub no_depends_on: Vec<String>,
    /// Add entities this issue blocks.
    #[arg(long = "blocking", value_delimiter = ',')]
    pub blocking: Vec<String>,
    /// Remove entities from `blocking`.
    #[arg(long = "unblock", value_delimiter = ',')]
    pub unblock: Vec<String>,
    /// Metadata `key=value` (`key=` removes the key).
    #[arg(long = "meta", value_parser = parse_kv)]
    pub metadata: Vec<(String, String)>,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `update-issue`
pub fn update(cx: &Context, a: &UpdateArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let patch = Patch {
        title: a.title.clone(),
        description: a.description.clone(),
        status: a.status.clone(),
        priority: a.priority.clone(),
        severity: a.severity.clone(),
        assignee: a.assignee.clone(),
        target: a.target.clone(),
        add_labels: a.add_labels.clone(),
        remove_labels: a.remove_labels.clone(),
        add_repos: a.add_repos.clone(),
        remove_repos: a.remove_repos.clone(),
        add_blockers: a.depends_on.clone(),
        remove_blockers: a.no_depends_on.clone(),
        add_blocking: a.blocking.clone(),
        remove_blocking: a.unblock.clone(),
        metadata: a.metadata.clone(),
        ..Patch::default()
    };
    common::update(&store, Kind::Issue, &a.id, &patch, a.out.format)
}

/// Close an issue (status `closed`, or `resolved` with --resolved).
#[derive(Debug, clap::Args)]
pub struct CloseArgs {
    /// Issue ID.
    pub id: String,
    /// Mark it resolved rather than closed.
    #[arg(long)]
    pub resolved: bool,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `close-issue`
pub fn close(cx: &Context, a: &CloseArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let status = if a.resolved { "resolved" } else { "closed" };
    let patch = Patch { status: Some(status.into()), ..Patch::default() };
    let o = ops::update(&store, Kind::Issue, &a.id, &patch)?;
    common::outcome(&store, &o, status, a.out.format)
}

/// Reopen a resolved or closed issue (status `pending`).
#[derive(Debug, clap::Args)]
pub struct ReopenArgs {
    /// Issue ID.
    pub id: String,
    /// Reopen as in_progress instead of pending.
    #[arg(long)]
    pub in_progress: bool,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `reopen-issue`
pub fn reopen(cx: &Context, a: &ReopenArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let status = if a.in_progress { "in_progress" } else { "pending" };
    let patch = Patch { status: Some(status.into()), ..Patch::default() };
    let o = ops::update(&store, Kind::Issue, &a.id, &patch)?;
    common::outcome(&store, &o, "reopened", a.out.format)
}
