//! Dependency operations: create and update (list, show and delete are in
//! [`super::entities`]). A dependency links two repositories, never
//! entities; its `validation` holds how `check-deps` verifies it.

use super::fields::{opt_text, repo};
use super::groups::Rewrite;
use super::{FieldErrors, Operation, Written};
use crate::error::{FieldError, Result};
use crate::model::*;
use crate::ops::{self, Refs};
use crate::store::Store;
use schemars::JsonSchema;
use serde::Deserialize;

/// Create a dependency of one repository (consumer) on another (provider).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct CreateDependency {
    /// The repository that depends (name or nickname).
    #[arg(long)]
    pub consumer: String,
    /// The repository depended on.
    #[arg(long)]
    pub provider: String,
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: DepFields,
}

/// Update a dependency: only the given fields change (plus `updated`).
#[derive(Debug, Clone, clap::Args, Deserialize, JsonSchema)]
pub struct UpdateDependency {
    /// Dependency ID.
    pub id: super::types::Id,
    /// New consumer repository.
    #[arg(long)]
    #[serde(default)]
    pub consumer: Option<String>,
    /// New provider repository.
    #[arg(long)]
    #[serde(default)]
    pub provider: Option<String>,
    #[command(flatten)]
    #[serde(flatten)]
    pub fields: DepFields,
    #[command(flatten)]
    #[serde(flatten)]
    pub rewrite: Rewrite,
}

/// The fields creating and updating a dependency share (on update, only
/// the given ones change and `""` clears a text).
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
pub struct DepFields {
    /// The kind of dependency (a new one is `runtime`).
    #[arg(long = "type", id = "type", value_name = "TYPE")]
    #[serde(default, rename = "type")]
    pub dep_type: Option<DepType>,
    /// Version constraint, e.g. `>=0.2.0`, `^1.4`, `~=2.1`, `>=1.0,<2`.
    #[arg(long)]
    #[serde(default)]
    pub version_constraint: Option<String>,
    /// Status (a new one is `unknown`; a dependency check with updates sets it).
    #[arg(long)]
    #[serde(default)]
    pub status: Option<DepStatus>,
    /// Notes.
    #[arg(long)]
    #[serde(default)]
    pub notes: Option<String>,
    /// Validation command (run only once trusted, see `git coord trust`).
    #[arg(long)]
    #[serde(default)]
    pub command: Option<String>,
    /// Regular expression the command's output must match.
    #[arg(long)]
    #[serde(default)]
    pub expected_pattern: Option<String>,
    /// Health-check URL (HTTP GET).
    #[arg(long)]
    #[serde(default)]
    pub health_check: Option<String>,
    /// Expected HTTP status of the health check (default 200).
    #[arg(long)]
    #[serde(default)]
    pub expected_status: Option<u16>,
}

impl DepFields {
    /// True when none is given.
    pub fn is_empty(&self) -> bool {
        self.dep_type.is_none()
            && self.version_constraint.is_none()
            && self.status.is_none()
            && self.notes.is_none()
            && self.command.is_none()
            && self.expected_pattern.is_none()
            && self.health_check.is_none()
            && self.expected_status.is_none()
    }
}

/// What a create or an update gives: the two sides, and the rest.
struct Fields<'a> {
    consumer: Option<&'a str>,
    provider: Option<&'a str>,
    rest: &'a DepFields,
}

impl Fields<'_> {
    fn apply(&self, d: &mut Dependency, refs: &Refs<'_>, errs: &mut FieldErrors) {
        for (slot, field, value) in
            [(&mut d.consumer, "consumer", self.consumer), (&mut d.provider, "provider", self.provider)]
        {
            if let Some(v) = value {
                if v.trim().is_empty() {
                    errs.push(FieldError::new(field, "must not be empty"));
                } else if let Some(r) = repo(refs, field, v, errs) {
                    *slot = r;
                }
            }
        }
        if !d.consumer.is_empty() && d.consumer == d.provider {
            let field = if self.provider.is_some() { "provider" } else { "consumer" };
            errs.push(
                FieldError::new(field, format!("a repository cannot depend on itself (`{}`)", d.consumer))
                    .value(d.consumer.clone()),
            );
        }
        let f = self.rest;
        if let Some(t) = f.dep_type {
            d.dep_type = Lenient::Known(t);
        }
        if let Some(s) = f.status {
            d.status = Lenient::Known(s);
        }
        if let Some(v) = &f.version_constraint {
            d.version_constraint = opt_text(v);
        }
        if let Some(v) = &f.notes {
            d.notes = opt_text(v);
        }
        if f.command.is_none()
            && f.expected_pattern.is_none()
            && f.health_check.is_none()
            && f.expected_status.is_none()
        {
            return;
        }
        let val = d.validation.get_or_insert_with(Validation::default);
        if let Some(v) = &f.command {
            val.command = opt_text(v);
        }
        if let Some(v) = &f.expected_pattern {
            if !v.is_empty()
                && let Err(err) = regex::Regex::new(v)
            {
                errs.push(
                    FieldError::new("expected_pattern", format!("invalid expected pattern `{v}`: {err}"))
                        .value(v.to_string())
                        .expected("a regular expression"),
                );
            }
            val.expected_pattern = opt_text(v);
        }
        if let Some(v) = &f.health_check {
            val.health_check = opt_text(v);
        }
        if let Some(v) = f.expected_status {
            if !(100..=599).contains(&v) {
                errs.push(
                    FieldError::new("expected_status", format!("{v} is not an HTTP status"))
                        .value(v.to_string())
                        .expected("100–599"),
                );
            }
            val.expected_status = Some(v);
        }
    }
}

/// The dependency rules ([`crate::deps::rules`]) that `d` breaks and this
/// request touched: the constraint when it is given; duplicates and repository
/// cycles when the consumer, provider or status is given (a create gives all).
fn check_rules(d: &Dependency, refs: &Refs<'_>, f: &Fields<'_>, errs: &mut FieldErrors) -> Result<()> {
    let loaded = refs.store().load(&[Kind::Dependency])?;
    let others: Vec<&Dependency> = loaded.dependencies().filter(|o| o.id != d.id).collect();
    let pair = f.consumer.is_some() || f.provider.is_some() || f.rest.status.is_some();
    for (field, message) in crate::deps::rules::violations(refs.registry(), &others, d) {
        let touched = if field == "version_constraint" { f.rest.version_constraint.is_some() } else { pair };
        if touched {
            let e = FieldError::new(field, message);
            errs.push(match (field, &d.version_constraint) {
                ("version_constraint", Some(v)) => {
                    e.value(v.clone()).expected("semver (`>=2.0`, `^1.4`) or PEP 440 (`~=2.1`) syntax")
                }
                _ => e,
            });
        }
    }
    Ok(())
}

fn dependency(e: &mut Entity) -> &mut Dependency {
    match e {
        Entity::Dependency(d) => d,
        _ => unreachable!("a dependency"),
    }
}

impl Operation for CreateDependency {
    const COMMAND: &'static str = "create-dep";
    const TOOL: &'static str = "coord_create_dependency";
    const SUMMARY: &'static str =
        "Create a dependency of one repository (consumer) on another (provider); returns its allocated ID.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let fields = Fields { consumer: Some(&self.consumer), provider: Some(&self.provider), rest: &self.fields };
        let o = ops::create_with(store, Kind::Dependency, |entity, refs| {
            let mut errs = FieldErrors::default();
            fields.apply(dependency(entity), refs, &mut errs);
            check_rules(dependency(entity), refs, &fields, &mut errs)?;
            errs.finish()
        })?;
        Written::from_outcome(store, &o)
    }
}

impl UpdateDependency {
    /// True when no change is asked for.
    pub fn is_empty(&self) -> bool {
        self.consumer.is_none() && self.provider.is_none() && self.fields.is_empty()
    }
}

impl Operation for UpdateDependency {
    const COMMAND: &'static str = "update-dep";
    const TOOL: &'static str = "coord_update_dependency";
    const SUMMARY: &'static str = "Update a dependency: only the given fields change.";
    const WRITES: bool = true;
    type Output = Written;

    fn run(&self, store: &Store) -> Result<Written> {
        let fields =
            Fields { consumer: self.consumer.as_deref(), provider: self.provider.as_deref(), rest: &self.fields };
        let o = ops::update_with(store, Kind::Dependency, &self.id.0, self.rewrite.into(), |entity, refs| {
            let mut errs = FieldErrors::default();
            fields.apply(dependency(entity), refs, &mut errs);
            check_rules(dependency(entity), refs, &fields, &mut errs)?;
            errs.finish()
        })?;
        Written::from_outcome(store, &o)
    }
}
