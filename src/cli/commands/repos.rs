//! `list-repos`: the ecosystem registry.

use super::common::OutputArgs;
use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::cli::render::{self, Cell, Format};

/// List the repositories of the ecosystem registry (settings/ecosystem.yaml).
#[derive(Debug, clap::Args)]
pub struct ListReposArgs {
    /// Only repositories with this role.
    #[arg(long)]
    pub role: Option<String>,
    /// Only repositories with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `list-repos`
pub fn run(cx: &Context, a: &ListReposArgs) -> CmdResult {
    let store = cx.store()?;
    let loaded = store.load(&[])?;
    render::warn_load_problems(&loaded.problems);
    let repos: Vec<_> = loaded
        .registry
        .repos
        .iter()
        .filter(|r| a.role.as_ref().is_none_or(|role| r.role.as_deref() == Some(role.as_str())))
        .filter(|r| a.tag.as_ref().is_none_or(|t| r.tags.contains(t)))
        .collect();
    let mut w = render::out();
    match a.out.format {
        Format::Json | Format::Yaml => {
            let list: Vec<serde_yaml::Mapping> = repos
                .iter()
                .map(|r| {
                    let mut m = r.raw.clone();
                    m.insert("name".into(), r.name.clone().into());
                    m
                })
                .collect();
            if a.out.format == Format::Json { render::json(&mut w, &list)? } else { render::yaml(&mut w, &list)? }
        }
        Format::Table => {
            let rows = repos
                .iter()
                .map(|r| {
                    vec![
                        Cell::from(r.name.as_str()),
                        r.nicknames.join(",").into(),
                        r.role.clone().unwrap_or_default().into(),
                        r.path.clone().unwrap_or_default().into(),
                        r.description.clone().unwrap_or_default().into(),
                    ]
                })
                .collect();
            render::table(&mut w, &["NAME", "NICKNAMES", "ROLE", "PATH", "DESCRIPTION"], rows)?;
        }
    }
    Ok(())
}
