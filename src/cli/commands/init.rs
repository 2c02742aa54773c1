//! `init`: creates the coordination layout in the current root.

use super::common::OutputArgs;
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render::{self, Format};
use crate::merge::setup::{ATTRIBUTE_LINE, SetupChange};
use crate::model::Kind;
use std::io::Write;

/// Create `coordination/{issues,plans,todos,dependencies}/`, a documented
/// `settings/coord.yaml` and a starter `settings/ecosystem.yaml` (the
/// repository registry; `git coord add-repo` fills it) if they are missing; in a git repository, also set
/// up the field-level merge driver (a `.gitattributes` line and
/// `merge.coord.driver` in the local config; run once per clone) and a
/// `.gitignore` line for the temp files of interrupted writes. Safe to run
/// again.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub out: OutputArgs,
}

/// What `init --format json|yaml` prints: the root and each change made
/// (empty when everything was already set up).
#[derive(Debug, serde::Serialize)]
struct Initialized {
    root: String,
    changes: Vec<String>,
}

/// The default settings file written by `init`.
pub const DEFAULT_SETTINGS: &str = include_str!("../../../settings/coord.yaml");

/// The starter registry written by `init` when there is none.
pub const STARTER_ECOSYSTEM: &str = "\
# The repositories this ecosystem coordinates. Add one with
#   git coord add-repo NAME --path ../NAME --role ROLE --nickname SHORT
# Entities name repositories by name or nickname; files store the name.
repos: []

# Roles repositories may have (optional).
roles: []
";

/// `init`
pub fn run(cx: &Context, a: &InitArgs) -> CmdResult {
    let store = crate::store::Store::open_uninitialised(&cx.dir)?;
    // The lines for people are collected first, so json/yaml carry the
    // same changes.
    let mut w: Vec<u8> = Vec::new();
    // Whether this run set anything up (then the setup wants committing).
    let mut changed = false;
    for kind in Kind::ALL {
        let dir = store.kind_dir(kind);
        if !dir.is_dir() {
            std::fs::create_dir_all(&dir).map_err(|e| crate::Error::io(&dir, e))?;
            let keep = dir.join(".gitkeep");
            std::fs::write(&keep, b"").map_err(|e| crate::Error::io(&keep, e))?;
            writeln!(w, "created {}", store.rel(&dir).display())?;
            changed = true;
        }
    }
    let settings = store.root.dir.join("settings/coord.yaml");
    if !settings.exists() {
        let dir = settings.parent().expect("has parent");
        std::fs::create_dir_all(dir).map_err(|e| crate::Error::io(dir, e))?;
        crate::store::atomic_write(&settings, DEFAULT_SETTINGS.as_bytes())?;
        writeln!(w, "created {}", store.rel(&settings).display())?;
        changed = true;
    }
    let eco = store.ecosystem_path();
    if !eco.exists() {
        crate::store::atomic_write(&eco, STARTER_ECOSYSTEM.as_bytes())?;
        writeln!(w, "created {}", store.rel(&eco).display())?;
        changed = true;
    }
    if let Some(p) = store.ensure_temp_ignore()? {
        writeln!(w, "added `{}` to {}", crate::store::files::TEMP_IGNORE_LINE, p.display())?;
        changed = true;
    }
    for change in crate::merge::setup::configure(&store)? {
        changed |= matches!(change, SetupChange::Attributes(_));
        match change {
            SetupChange::Attributes(p) => writeln!(w, "added `{ATTRIBUTE_LINE}` to {}", p.display())?,
            SetupChange::Driver(cmd) => writeln!(w, "set merge.coord.driver in the local git config: {cmd}")?,
        }
    }
    let mut out = render::out();
    match a.out.format {
        Format::Table => {
            out.write_all(&w)?;
            writeln!(out, "coordination root: {}", store.root.dir.display())?;
            if changed && store.root.worktree.is_some() {
                writeln!(
                    out,
                    "next: commit the setup, so every clone merges and reads it alike:\n  git add .gitattributes .gitignore settings coordination && git commit -m \"Set up git coord\""
                )?;
            }
        }
        f => {
            let changes = String::from_utf8_lossy(&w).lines().map(String::from).collect();
            let i = Initialized { root: store.root.dir.display().to_string(), changes };
            if f == Format::Json { render::json(&mut out, &i)? } else { render::yaml(&mut out, &i)? }
        }
    }
    Ok(())
}
