//! Commands on any entity by its ID: `show`, `comment` (typed operations of
//! [`crate::api::notes`]) and `edit`, which opens the entity's file in the
//! user's editor the way `git commit` and `kubectl edit` do.
//!
//! `edit` is CLI-only (an editor is a person's tool): the file is copied to
//! a temp file, the editor chosen as git chooses it (`git var GIT_EDITOR`:
//! `GIT_EDITOR`, `core.editor`, `VISUAL`, `EDITOR`, then `vi`) runs on it,
//! and the result is validated as an entity of its kind. Invalid → the
//! editor reopens with the errors as `#` lines on top; saved unchanged, or
//! emptied → aborted, nothing written; saved unchanged after an error →
//! aborted with the error (the edit is kept in the temp file named). A valid
//! result replaces the file atomically, under the store lock, unless the
//! file changed on disk meanwhile.

use super::common::{self, OpArgs};
use crate::api::notes::{Comment, Show, kind_of};
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::error::Error;
use crate::model::*;
use crate::store::Origin;
use std::io::Write;
use std::path::Path;

/// `show`
pub fn show(cx: &Context, a: &OpArgs<Show>) -> CmdResult {
    let s = common::run_op::<Show, Show>(&cx.store()?, &a.req)?;
    let kind = Kind::ALL.into_iter().find(|k| k.noun() == s.kind).expect("show returns a known kind");
    common::shown(kind, &s, a.out.format)
}

/// `comment`
pub fn comment(cx: &Context, a: &OpArgs<Comment>) -> CmdResult {
    let w = common::run_op::<Comment, Comment>(&cx.store()?, &a.req)?;
    common::written(&w, |w| format!("commented on {} ({})", w.id, w.path), a.out.format)
}

/// Open an issue, plan, todo or dependency in your editor; it is checked
/// when you save, and reopened with the errors until it is valid (save it
/// unchanged, or empty it, to abort).
#[derive(Debug, clap::Args)]
pub struct EditArgs {
    /// The ID (`todo-3` finds TODO-003).
    pub id: String,
}

const ERROR_MARK: &str = "# git-coord: ";

/// The text without the error lines `edit` put on top.
fn strip_errors(text: &str) -> &str {
    let mut rest = text;
    while let Some(line_end) = rest.find('\n') {
        if rest.starts_with(ERROR_MARK) {
            rest = &rest[line_end + 1..];
        } else {
            break;
        }
    }
    rest
}

/// Whether nothing but comments and blank lines is left.
fn is_empty(text: &str) -> bool {
    text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
}

/// The problems that make `text` no valid entity `id` of `kind`.
fn problems(kind: Kind, id: &str, text: &str) -> Vec<String> {
    let map: serde_yaml::Mapping = match serde_yaml::from_str(text) {
        Ok(serde_yaml::Value::Mapping(m)) => m,
        Ok(_) => return vec!["the file must be a YAML mapping of fields".into()],
        Err(e) => return vec![format!("not valid YAML: {e}")],
    };
    let mut out = Vec::new();
    match map.get("id").and_then(crate::model::reader::scalar_text) {
        Some(found) if found == id => {}
        Some(found) => out.push(format!("id: must stay {id} (found {found}); use `git coord renumber` to change it")),
        None => out.push(format!("id: is required (it is {id})")),
    }
    let (_, field_problems) = Entity::read(kind, id.to_string(), map);
    out.extend(field_problems.iter().map(|p| format!("{}: {}", p.field, p.message)));
    out
}

/// Runs the editor on `file`, as git runs it (through the shell).
fn run_editor(cx: &Context, file: &Path) -> CmdResult {
    let editor = crate::gitcmd::Git::new(&cx.dir).run(&["var", "GIT_EDITOR"])?.trim().to_string();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$@\""))
        .arg(&editor)
        .arg(file)
        .status()
        .map_err(|e| Error::system(format!("start the editor `{editor}`"), e))?;
    if !status.success() {
        return Err(CommandError::Refused(format!("the editor `{editor}` failed ({status}); nothing was written")));
    }
    Ok(())
}

/// `edit`
pub fn edit(cx: &Context, a: &EditArgs) -> CmdResult {
    let store = cx.store()?;
    let kind = kind_of(&store, &a.id)?;
    let rec = crate::ops::find(&store, kind, &a.id)?;
    let id = rec.entity.id().to_string();
    let path = match &rec.origin {
        Origin::File(p) => p.clone(),
        Origin::Legacy(p) => {
            return Err(CommandError::Refused(format!(
                "{id} lives in the legacy section of {}; run `git coord migrate` to give it its own file, then edit it",
                store.rel(p).display()
            )));
        }
    };
    let original = crate::store::files::read_text(&path, 16 << 20)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!("git-coord-edit-{id}-"))
        .suffix(".yaml")
        .tempfile()
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let tmp_path = tmp.path().to_path_buf();
    let mut shown = original.clone();
    let mut last_bad: Option<String> = None;
    loop {
        std::fs::write(&tmp_path, &shown).map_err(|e| Error::io(&tmp_path, e))?;
        run_editor(cx, &tmp_path)?;
        let saved = std::fs::read_to_string(&tmp_path).map_err(|e| Error::io(&tmp_path, e))?;
        let body = strip_errors(&saved).to_string();
        if is_empty(&body) {
            eprintln!("edit aborted: the file was emptied; nothing was written");
            return Ok(());
        }
        if body == original {
            eprintln!("edit cancelled: no changes");
            return Ok(());
        }
        if last_bad.as_deref() == Some(body.as_str()) {
            let keep = tmp.into_temp_path().keep().map_err(|e| Error::io(&tmp_path, e.error))?;
            return Err(CommandError::Refused(format!(
                "edit aborted: the file still does not validate and was saved unchanged; your edit is in {}",
                keep.display()
            )));
        }
        let found = problems(kind, &id, &body);
        if found.is_empty() {
            let _lock = crate::ops::write_lock(&store)?;
            let now = crate::store::files::read_text(&path, 16 << 20)?;
            if now != original {
                let keep = tmp.into_temp_path().keep().map_err(|e| Error::io(&tmp_path, e.error))?;
                std::fs::write(&keep, &body).map_err(|e| Error::io(&keep, e))?;
                return Err(CommandError::Refused(format!(
                    "{} changed while you were editing it; nothing was written (your edit is in {})",
                    store.rel(&path).display(),
                    keep.display()
                )));
            }
            crate::store::atomic_write(&path, body.as_bytes())?;
            writeln!(crate::cli::render::out(), "updated {id} ({})", store.rel(&path).display())?;
            return Ok(());
        }
        let mut header = String::new();
        header.push_str(&format!("{ERROR_MARK}{id} was not saved; fix these, or save unchanged to abort:\n"));
        for p in &found {
            let p = p.replace('\n', " ");
            header.push_str(&format!("{ERROR_MARK}  {p}\n"));
        }
        shown = header + &body;
        last_bad = Some(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_stripped_only_on_top() {
        let t = format!("{ERROR_MARK}x\n{ERROR_MARK}  y\nid: A\n{ERROR_MARK}keep\n");
        assert_eq!(strip_errors(&t), format!("id: A\n{ERROR_MARK}keep\n"));
        assert!(is_empty("# c\n\n  \n"));
        assert!(!is_empty("# c\nid: A\n"));
    }
}
