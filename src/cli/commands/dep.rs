//! Dependency commands: `list-deps`, `show-dep`, `create-dep`, `update-dep`
//! (`delete-dep` is shared, see `common::delete`).

use super::common::{self, Filters, OutputArgs};
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render;
use crate::error::Error;
use crate::model::{Entity, Kind};
use crate::ops::{self, Patch};

/// List inter-repository dependencies.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Status (comma-separated, aliases accepted); `--repo` matches consumer or provider.
    #[command(flatten)]
    pub filters: Filters,
    /// Only dependencies of this consumer.
    #[arg(long)]
    pub consumer: Option<String>,
    /// Only dependencies on this provider.
    #[arg(long)]
    pub provider: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `list-deps`
pub fn list(cx: &Context, a: &ListArgs) -> CmdResult {
    let store = cx.store()?;
    a.filters.to_query().validate(Kind::Dependency)?;
    let loaded = store.load(&[Kind::Dependency])?;
    render::warn_load_problems(&loaded.problems);
    let reg = &loaded.registry;
    for name in [&a.consumer, &a.provider, &a.filters.repo].into_iter().flatten() {
        if !reg.is_empty() && reg.find(name).is_none() {
            return Err(Error::Invalid(reg.resolve(name).unwrap_err()).into());
        }
    }
    let mut out = Vec::new();
    for rec in loaded.records(Kind::Dependency) {
        let Entity::Dependency(d) = &rec.entity else { continue };
        let side_ok =
            |want: &Option<String>, have: &str| want.as_ref().is_none_or(|w| reg.same(have, reg.canonical(w)));
        if side_ok(&a.consumer, &d.consumer)
            && side_ok(&a.provider, &d.provider)
            && a.filters.matches(&rec.entity, &loaded)?
        {
            out.push(&rec.entity);
        }
    }
    render::entities(&mut render::out(), Kind::Dependency, &out, a.out.format)?;
    Ok(())
}

/// `show-dep`
pub fn show(cx: &Context, a: &common::ShowArgs) -> CmdResult {
    common::show(&cx.store()?, Kind::Dependency, a)
}

/// The fields of a dependency, shared by create and update.
#[derive(Debug, Clone, clap::Args)]
pub struct DepFields {
    /// runtime, development, mcp, test or documentation.
    #[arg(long = "type")]
    pub dep_type: Option<String>,
    /// e.g. `>=0.2.0`, `^1.4`, `~=2.1`, `>=1.0,<2`.
    #[arg(long = "version-constraint")]
    pub version_constraint: Option<String>,
    /// satisfied, unsatisfied, unknown or deprecated.
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long)]
    pub notes: Option<String>,
    /// Validation command (run only once trusted, see `git coord trust`).
    #[arg(long)]
    pub command: Option<String>,
    /// Regex the command output must match.
    #[arg(long = "expected-pattern")]
    pub expected_pattern: Option<String>,
    /// Health-check URL (HTTP GET).
    #[arg(long = "health-check")]
    pub health_check: Option<String>,
    /// Expected HTTP status (default 200).
    #[arg(long = "expected-status")]
    pub expected_status: Option<u16>,
}

impl DepFields {
    fn patch(&self, consumer: Option<String>, provider: Option<String>) -> Patch {
        Patch {
            consumer,
            provider,
            dep_type: self.dep_type.clone(),
            version_constraint: self.version_constraint.clone(),
            status: self.status.clone(),
            notes: self.notes.clone(),
            command: self.command.clone(),
            expected_pattern: self.expected_pattern.clone(),
            health_check: self.health_check.clone(),
            expected_status: self.expected_status,
            ..Patch::default()
        }
    }
}

/// Create a dependency of one repository (consumer) on another (provider).
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// The repository that depends (name or nickname).
    #[arg(long)]
    pub consumer: String,
    /// The repository depended on.
    #[arg(long)]
    pub provider: String,
    #[command(flatten)]
    pub fields: DepFields,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `create-dep`
pub fn create(cx: &Context, a: &CreateArgs) -> CmdResult {
    let store = cx.store()?;
    let patch = a.fields.patch(Some(a.consumer.clone()), Some(a.provider.clone()));
    let o = ops::create(&store, Kind::Dependency, &patch)?;
    common::outcome(&store, &o, "created", a.out.format)
}

/// Update a dependency: only the given fields change (plus `updated`).
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// Dependency ID.
    pub id: String,
    #[arg(long)]
    pub consumer: Option<String>,
    #[arg(long)]
    pub provider: Option<String>,
    #[command(flatten)]
    pub fields: DepFields,
    #[command(flatten)]
    pub rw: common::RewriteArg,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `update-dep`
pub fn update(cx: &Context, a: &UpdateArgs) -> CmdResult {
    let mut store = cx.store()?;
    store.allow_rewrite = a.rw.rewrite;
    let patch = a.fields.patch(a.consumer.clone(), a.provider.clone());
    common::update(&store, Kind::Dependency, &a.id, &patch, a.out.format)
}
