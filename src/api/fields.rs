//! Helpers the operations share to turn request fields into entity fields:
//! references checked through the one map of references ([`crate::model::refs`])
//! and the store (never by guessing a kind from an ID's prefix), repository
//! names resolved through the registry, list edits, text and dates. Every
//! problem is a [`FieldError`] on the request field that caused it.

use super::FieldErrors;
use super::types::{Day, Id};
use crate::error::{FieldError, Result};
use crate::model::refs::{RefField, Target};
use crate::model::*;
use crate::ops::Refs;

/// The targets a reference field of a holder type accepts (from the one map
/// of references).
pub fn targets<T>(fields: &'static [RefField<T>], name: &str) -> &'static [Target] {
    fields.iter().find(|f| f.name == name).map(|f| f.targets).expect("a reference field of the map")
}

/// Keeps the IDs that exist as one of `targets`; reports the others on
/// `field`, with a did-you-mean.
pub fn existing(
    refs: &mut Refs<'_>,
    field: &str,
    ids: &[Id],
    targets: &[Target],
    errs: &mut FieldErrors,
) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for id in ids {
        if refs.exists_as(&id.0, targets)? {
            out.push(id.0.clone());
        } else {
            let what: Vec<&str> = targets.iter().map(|t| t.noun()).collect();
            let suggestion = refs.suggest(&id.0, targets)?;
            errs.push(
                FieldError::new(field, format!("unknown reference `{id}`"))
                    .value(id.0.clone())
                    .expected(format!("the ID of an existing {}", what.join(" or ")))
                    .suggest(suggestion),
            );
        }
    }
    Ok(out)
}

/// One link (`issue_id`, `milestone_id`, …): the ID when it exists as one of
/// `targets`, `None` (with the problem recorded) otherwise.
pub fn link(
    refs: &mut Refs<'_>,
    field: &str,
    id: &Id,
    targets: &[Target],
    errs: &mut FieldErrors,
) -> Result<Option<String>> {
    Ok(existing(refs, field, std::slice::from_ref(id), targets, errs)?.pop())
}

/// Canonical repository names; unknown names are reported on `field`.
pub fn repos(refs: &Refs<'_>, field: &str, names: &[String], errs: &mut FieldErrors) -> Vec<String> {
    names.iter().filter_map(|n| repo(refs, field, n, errs)).collect()
}

/// One canonical repository name; an unknown one is reported on `field`.
pub fn repo(refs: &Refs<'_>, field: &str, name: &str, errs: &mut FieldErrors) -> Option<String> {
    match refs.repo(name) {
        Ok(r) => Some(r),
        Err(e) => {
            errs.push(e.on_field(field).value(name.to_string()));
            None
        }
    }
}

/// Removes `remove`, then appends what of `add` is not there yet.
pub fn edit(list: &mut Vec<String>, add: Vec<String>, remove: &[String]) {
    list.retain(|x| !remove.contains(x));
    for a in add {
        if !list.contains(&a) {
            list.push(a);
        }
    }
}

/// The IDs as text.
pub fn ids(v: &[Id]) -> Vec<String> {
    v.iter().map(|i| i.0.clone()).collect()
}

/// Text that must not be empty (trimmed).
pub fn required(field: &str, v: &str, errs: &mut FieldErrors) -> String {
    if v.trim().is_empty() {
        errs.push(FieldError::new(field, "must not be empty"));
    }
    v.trim().to_string()
}

/// Optional text: `""` clears.
pub fn opt_text(v: &str) -> Option<String> {
    (!v.trim().is_empty()).then(|| v.to_string())
}

/// A date field's value.
pub fn day(d: Day) -> Option<Lenient<CoordDate>> {
    Some(Lenient::Known(d.0))
}

/// Reports `field` when the entity's own ID is among `list`.
pub fn not_self(id: &str, field: &str, list: &[String], errs: &mut FieldErrors) {
    if list.iter().any(|x| x == id) {
        errs.push(FieldError::new(field, format!("{id} cannot reference itself")).value(id.to_string()));
    }
}
