//! `migrate`: moves every entity of the legacy `coordination:` section of
//! `settings/ecosystem.yaml` into its own file, then removes only that section
//! (every other byte of the file stays). Idempotent; refuses, changing
//! nothing, when an ID already exists as a file with different content.

use crate::error::Refusal;
use crate::error::{Error, Result};
use crate::model::{Entity, Kind};
use crate::store::{Origin, Store, atomic_write, parse_mapping};
use std::path::PathBuf;
use std::str::FromStr;

/// What `migrate` did (or would do with `dry_run`).
#[derive(Debug, Default)]
pub struct MigrateReport {
    /// Files written.
    pub written: Vec<(String, PathBuf)>,
    /// IDs whose file already existed with the same content.
    pub already: Vec<String>,
    /// Whether the section was removed from ecosystem.yaml.
    pub section_removed: bool,
}

/// Runs the migration.
pub fn migrate(store: &Store, dry_run: bool) -> Result<MigrateReport> {
    migrate_with(store, dry_run, &crate::progress::NoProgress)
}

/// [`migrate`], reporting one step per legacy entity read and one per file
/// written.
pub fn migrate_with(store: &Store, dry_run: bool, progress: &dyn crate::progress::Progress) -> Result<MigrateReport> {
    let _done = crate::progress::Finish(progress);
    let lock = super::write_lock(store)?;
    let eco = store.ecosystem_path();
    let mut report = MigrateReport::default();
    if !eco.exists() {
        return Ok(report);
    }
    let text = crate::store::files::read_text_following(&eco, store.settings.limits.max_file_bytes)?;
    let doc = store.parse(&text).map_err(|e| e.into_error(store.rel(&eco)))?;
    if !doc.contains_key("coordination") {
        return Ok(report);
    }
    let loaded = store.load(&Kind::ALL)?;
    let legacy = |kind: Kind| match doc.get("coordination") {
        Some(serde_yaml::Value::Mapping(coord)) => match coord.get(kind.dir_name()) {
            Some(serde_yaml::Value::Sequence(items)) => items.len() as u64,
            _ => 0,
        },
        _ => 0,
    };
    let items: u64 = Kind::ALL.iter().map(|k| legacy(*k)).sum();
    progress.start(items, "reading the legacy section");
    let mut plan: Vec<(Entity, PathBuf)> = Vec::new();
    let mut conflicts = Vec::new();
    for kind in Kind::ALL {
        // Legacy items: those whose origin is the ecosystem file, plus those
        // shadowed by an existing file (the loader dropped them with a warning).
        let Some(serde_yaml::Value::Mapping(coord)) = doc.get("coordination") else {
            break;
        };
        let Some(serde_yaml::Value::Sequence(items)) = coord.get(kind.dir_name()) else {
            continue;
        };
        for item in items {
            let serde_yaml::Value::Mapping(map) = item else {
                return Err(Refusal::LegacyNotMapping { section: kind.dir_name() }.into());
            };
            let Some(id) = map.get("id").and_then(crate::model::reader::scalar_text) else {
                return Err(Refusal::LegacyNoId { section: kind.dir_name() }.into());
            };
            let path = store.entity_path(kind, &id)?;
            // Read as the loader reads it (a todo's repo taken from its
            // issue, nicknames by their canonical name).
            let map = crate::store::legacy_normalized(kind, coord, map, &loaded.registry);
            let (entity, problems) = Entity::read(kind, id.clone(), map);
            if problems.iter().any(|p| p.kind == crate::model::FieldProblemKind::Type) {
                return Err(Refusal::LegacyTypeErrors { id }.into());
            }
            match loaded.get(kind, &id) {
                Some(rec) if matches!(rec.origin, Origin::File(_)) => {
                    if rec.entity.to_mapping() == entity.to_mapping() {
                        report.already.push(id);
                    } else {
                        conflicts.push(format!("{id}: {} exists with different content", store.rel(&path).display()));
                    }
                }
                _ => plan.push((entity, path)),
            }
            progress.inc(1);
        }
    }
    if !conflicts.is_empty() {
        return Err(Refusal::MigrateConflicts { conflicts }.into());
    }
    let new_text = remove_section(&text)?;
    // The result must parse and keep every other top-level key unchanged.
    let check = parse_mapping(&new_text).unwrap_or_default();
    let mut expected = doc.clone();
    expected.remove("coordination");
    if check != expected && !(expected.is_empty() && new_text.trim().is_empty()) {
        return Err(Refusal::SectionNotRemovable.into());
    }
    if dry_run {
        report.written = plan.into_iter().map(|(e, p)| (e.id().to_string(), p)).collect();
        report.section_removed = true;
        return Ok(report);
    }
    progress.start(plan.len() as u64, "writing entity files");
    for (entity, _) in plan {
        let path = store.write_new(&lock, &entity)?;
        report.written.push((entity.id().to_string(), path));
        progress.inc(1);
    }
    atomic_write(&eco, new_text.as_bytes())?;
    report.section_removed = true;
    Ok(report)
}

/// Removes the top-level `coordination:` entry, nothing else.
fn remove_section(text: &str) -> Result<String> {
    let path = std::path::Path::new("settings/ecosystem.yaml");
    let doc = yaml_edit::Document::from_str(text).map_err(|e| Error::Yaml {
        path: path.into(),
        line: None,
        message: format!("cannot be edited: {e}"),
    })?;
    let root = doc.as_mapping().ok_or_else(|| Error::Yaml {
        path: path.into(),
        line: None,
        message: "the top level is not a mapping".into(),
    })?;
    root.remove("coordination");
    Ok(doc.to_string())
}
