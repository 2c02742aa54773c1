//! `doctor`: finds what hand merges and hand edits leave behind — duplicate
//! IDs, files whose name is not their ID, an entity both in its file and in
//! the legacy section and references to IDs that do not exist — and with
//! `fix` repairs what is safe to repair, through the store's write path.
//! A link declared on one side only (`create-todo --blocking TODO-008`) is
//! valid data, not a finding: the graph counts an edge declared on either
//! side once.
//!
//!
//! - a file named differently from its ID is renamed, when that name is free;
//! - a legacy copy identical to the entity's file is removed from the section;
//! - a temp file a killed writer left behind (`.coord-XXXXXX.tmp`, older
//!   than a few minutes) is removed.
//!
//! Duplicates, taken names and dangling references need a person's decision;
//! they are reported with what to do.

use crate::error::Result;
use crate::model::{Entity, Kind, Loaded, Origin, Record};
use crate::store::{Store, StoreLock};
use serde::Serialize;
use std::path::PathBuf;

/// One finding.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// `filename`, `duplicate`, `legacy-copy`, `dangling`, `temp-file`.
    pub code: &'static str,
    /// The entity concerned.
    pub id: String,
    /// Its file, relative to the root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// What is wrong.
    pub message: String,
    /// What `--fix` does (or did), or what to do by hand.
    pub remedy: String,
    /// Whether `--fix` can repair it.
    pub fixable: bool,
    /// Whether it was repaired in this run.
    pub fixed: bool,
}

fn finding(code: &'static str, id: &str, file: Option<PathBuf>, message: String, remedy: String) -> Finding {
    Finding { code, id: id.to_string(), file, message, remedy, fixable: false, fixed: false }
}

/// Runs the checks; with `fix`, repairs what is safe to repair.
pub fn doctor(store: &Store, fix: bool) -> Result<Vec<Finding>> {
    let lock = if fix { Some(crate::ops::write_lock(store)?) } else { None };
    let fix = lock.as_ref();
    let loaded = store.load(&Kind::ALL)?;
    let mut out = Vec::new();
    temp_files(store, fix.is_some(), &mut out);
    file_names(store, fix, &mut out)?;
    for p in &loaded.problems {
        match p.code {
            "duplicate" => out.push(finding(
                "duplicate",
                p.id.as_deref().unwrap_or_default(),
                p.file.clone(),
                p.message.clone(),
                "keep one: delete the other file, or give it a new ID with the next free number".into(),
            )),
            "override" => {
                let id = p.id.clone().unwrap_or_default();
                out.push(legacy_copy(store, &loaded, &id, fix)?);
            }
            _ => {}
        }
    }
    for p in crate::lint::lint(&loaded, &crate::store::Locator::default()).into_iter().filter(|p| p.code == "reference")
    {
        let id = p.id.clone().unwrap_or_default();
        let file = p.file.as_ref().map(|f| store.rel(f));
        let target = p.value.clone().unwrap_or_default();
        let all: Vec<&str> = Kind::ALL.iter().flat_map(|k| loaded.records(*k)).map(|r| r.entity.id()).collect();
        let remedy = match crate::suggest::did_you_mean(&target, all.iter().copied()) {
            Some(s) => format!("did you mean {s}? correct the reference, or remove it"),
            None => "correct the reference, or remove it (git coord log shows who changed it)".into(),
        };
        out.push(finding("dangling", &id, file, format!("{}: {}", p.field.unwrap_or_default(), p.message), remedy));
    }
    Ok(out)
}

/// Temp files of killed writers; with `fix` (under the store lock, so no
/// writer of ours is mid-write) they are removed.
fn temp_files(store: &Store, fix: bool, out: &mut Vec<Finding>) {
    for (path, age) in store.stale_temp_files() {
        let mut f = finding(
            "temp-file",
            "",
            Some(store.rel(&path)),
            format!("temp file of an interrupted write, {} old", crate::store::files::describe_age(age)),
            "remove it (it never became an entity file)".into(),
        );
        f.fixable = true;
        if fix && std::fs::remove_file(&path).is_ok() {
            f.fixed = true;
            f.remedy = "removed".into();
        }
        out.push(f);
    }
}

/// Files whose name differs from the `id` inside.
fn file_names(store: &Store, fix: Option<&StoreLock>, out: &mut Vec<Finding>) -> Result<()> {
    for kind in Kind::ALL {
        if !crate::store::files::check_dir(&store.kind_dir(kind)).unwrap_or(false) {
            continue;
        }
        let Ok(rd) = std::fs::read_dir(store.kind_dir(kind)) else { continue };
        let mut files: Vec<PathBuf> = rd
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
            .collect();
        files.sort();
        for path in files {
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let max = store.settings.limits.max_file_bytes;
            let Ok(text) = crate::store::files::read_text(&path, max) else { continue };
            let Ok(map) = store.parse(&text) else { continue };
            let Some(id) = map.get("id").and_then(crate::model::reader::scalar_text) else { continue };
            if id == stem || crate::model::id::validate_id(&id).is_err() {
                continue;
            }
            let target = store.entity_path(kind, &id)?;
            let rel = store.rel(&path);
            let message = format!("file name `{stem}` does not match id `{id}`");
            if std::fs::symlink_metadata(&target).is_ok() {
                out.push(finding(
                    "filename",
                    &id,
                    Some(rel),
                    message,
                    format!(
                        "{} exists too: the same ID twice; give one of them a new ID",
                        store.rel(&target).display()
                    ),
                ));
                continue;
            }
            let mut f =
                finding("filename", &id, Some(rel), message, format!("rename to {}", store.rel(&target).display()));
            f.fixable = true;
            if let Some(lock) = fix {
                store.rename_entity_file(lock, kind, &path, &id)?;
                f.fixed = true;
                f.remedy = format!("renamed to {}", store.rel(&target).display());
            }
            out.push(f);
        }
    }
    Ok(())
}

/// An entity in its file and in the legacy section: the legacy copy goes
/// when it says the same.
fn legacy_copy(store: &Store, loaded: &Loaded, id: &str, fix: Option<&StoreLock>) -> Result<Finding> {
    let eco = store.ecosystem_path();
    let file_rec = Kind::ALL.iter().find_map(|k| loaded.get(*k, id));
    let mut f = finding(
        "legacy-copy",
        id,
        Some(store.rel(&eco)),
        format!("{id} is both in its own file and in the legacy section (the file wins)"),
        "compare the two and delete the legacy item (git coord migrate moves the rest)".into(),
    );
    let Some(file_rec) = file_rec else { return Ok(f) };
    let kind = file_rec.entity.kind();
    let text = crate::store::files::read_text_following(&eco, store.settings.limits.max_file_bytes)?;
    let doc = store.parse(&text).map_err(|e| e.into_error(store.rel(&eco)))?;
    let Some(item) = legacy_item(&doc, kind, id) else { return Ok(f) };
    let (legacy, _) = Entity::read(kind, id.to_string(), item);
    if legacy.to_mapping() != file_rec.entity.to_mapping() {
        return Ok(f);
    }
    f.fixable = true;
    f.remedy = "the two are identical: remove the legacy item".into();
    if let Some(lock) = fix {
        store.remove(lock, &Record { entity: legacy, origin: Origin::Legacy(eco), problems: Vec::new() })?;
        f.fixed = true;
        f.remedy = "removed the identical legacy item".into();
    }
    Ok(f)
}

fn legacy_item(doc: &serde_yaml::Mapping, kind: Kind, id: &str) -> Option<serde_yaml::Mapping> {
    let serde_yaml::Value::Mapping(coord) = doc.get("coordination")? else { return None };
    let serde_yaml::Value::Sequence(items) = coord.get(kind.dir_name())? else { return None };
    items.iter().find_map(|i| match i {
        serde_yaml::Value::Mapping(m)
            if m.get("id").and_then(crate::model::reader::scalar_text).as_deref() == Some(id) =>
        {
            Some(m.clone())
        }
        _ => None,
    })
}
