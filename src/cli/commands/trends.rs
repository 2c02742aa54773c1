//! `trends`: the numbers of [`crate::api::trends::GetTrends`] as a table
//! with sparklines, JSON, CSV, Mermaid, SVG or PNG, to stdout or `--out`.

use super::common;
use crate::api::trends::GetTrends;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render;
use crate::error::Error;
use crate::trends::{self, chart};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Output formats of `trends`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TrendsFormat {
    /// Numbers with sparklines and bars.
    #[default]
    Table,
    /// Every number (the MCP tool's answer).
    Json,
    /// Every number, as YAML.
    Yaml,
    /// One row per bucket.
    Csv,
    /// Mermaid `xychart-beta` and `gantt` blocks for PRs and wikis.
    Mermaid,
    /// A chart as SVG.
    Svg,
    /// A chart as PNG (needs `--out` or a redirected stdout).
    Png,
}

/// Trends from the coordination event log: throughput, cumulative flow,
/// lead and cycle time, blocked time, WIP, burn-down, dependency health,
/// estimate accuracy, execution success; `--alerts` applies the rules.
#[derive(Debug, clap::Args)]
pub struct TrendsArgs {
    #[command(flatten)]
    pub req: GetTrends,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TrendsFormat::Table)]
    pub format: TrendsFormat,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn drawn(e: trends::chart::ChartError) -> Error {
    Error::system("draw the trends chart", e)
}

/// `trends`
pub fn run(cx: &Context, a: &TrendsArgs) -> CmdResult {
    let store = cx.store()?;
    let inputs = a
        .req
        .inputs_with(&store, &crate::cli::progress::Bar::new())
        .map_err(common::op_error::<TrendsArgs, GetTrends>)?;
    let t = trends::compute(&inputs.events, &inputs.data, &inputs.runs, &inputs.options);
    let bytes: Vec<u8> = match a.format {
        TrendsFormat::Table => trends::render::table(&t).into_bytes(),
        TrendsFormat::Json => {
            let mut v = Vec::new();
            render::json(&mut v, &t)?;
            v
        }
        TrendsFormat::Yaml => {
            let mut v = Vec::new();
            render::yaml(&mut v, &t)?;
            v
        }
        TrendsFormat::Csv => trends::render::csv(&t).into_bytes(),
        TrendsFormat::Mermaid => {
            let (tasks, milestones) = trends::gantt::gantt(&inputs.events, &inputs.data, &inputs.options);
            trends::render::mermaid(&t, &trends::render::mermaid_gantt(&tasks, &milestones)).into_bytes()
        }
        TrendsFormat::Svg => chart::svg(&t).map_err(drawn)?.into_bytes(),
        TrendsFormat::Png => {
            if a.out.is_none() && std::io::stdout().is_terminal() {
                return Err(CommandError::Refused(
                    "a PNG is not for the terminal: write it with `--out FILE` or redirect stdout".into(),
                ));
            }
            chart::png(&t).map_err(drawn)?
        }
    };
    match &a.out {
        Some(path) => std::fs::write(path, &bytes).map_err(|e| Error::io(path, e))?,
        None if a.format == TrendsFormat::Table => render::out().write_all(&bytes)?,
        None => std::io::stdout().lock().write_all(&bytes)?,
    }
    Ok(())
}
