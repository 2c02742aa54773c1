//! `list-repos` and `add-repo`: the ecosystem registry.

use super::common::{self, OutputArgs};
use crate::api::reports::ListRepos;
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render::{self, Cell, Format};
use std::io::Write;

/// List the repositories of the ecosystem registry (settings/ecosystem.yaml).
#[derive(Debug, clap::Args)]
pub struct ListReposArgs {
    #[command(flatten)]
    pub req: ListRepos,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `add-repo`
pub fn add(cx: &Context, a: &common::OpArgs<crate::api::registry::AddRepo>) -> CmdResult {
    let r = common::run_op::<crate::api::registry::AddRepo, _>(&cx.store()?, &a.req)?;
    common::warn(&r.warnings);
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => render::json(&mut w, &r)?,
        Format::Yaml => render::yaml(&mut w, &r)?,
        Format::Table => writeln!(w, "added {} to {}", r.name, r.path)?,
    }
    Ok(())
}

/// `list-repos`
pub fn run(cx: &Context, a: &ListReposArgs) -> CmdResult {
    let r = common::run_op::<ListReposArgs, _>(&cx.store()?, &a.req)?;
    common::warn(&r.warnings);
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => render::json(&mut w, &r)?,
        Format::Yaml => render::yaml(&mut w, &r)?,
        Format::Table => {
            let rows = r
                .items
                .iter()
                .map(|m| {
                    let mut nicknames = texts(&m["nickname"]);
                    for n in texts(&m["nicknames"]) {
                        if !nicknames.contains(&n) {
                            nicknames.push(n);
                        }
                    }
                    vec![
                        Cell::from(text(&m["name"])),
                        nicknames.join(",").into(),
                        text(&m["role"]).into(),
                        text(&m["path"]).into(),
                        text(&m["description"]).into(),
                    ]
                })
                .collect();
            render::table(&mut w, &["NAME", "NICKNAMES", "ROLE", "PATH", "DESCRIPTION"], rows)?;
        }
    }
    Ok(())
}

/// A scalar of a registry entry as text (empty for anything else).
fn text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// One text or a list of texts (`nickname: sb`, `nicknames: [sb, buddy]`).
fn texts(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(a) => a.iter().map(text).filter(|t| !t.is_empty()).collect(),
        v => Some(text(v)).filter(|t| !t.is_empty()).into_iter().collect(),
    }
}
