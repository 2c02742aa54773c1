//! Trends over the coordination event log: the request (`trends` in the
//! CLI, `coord_get_trends` in MCP) and its run. The numbers are computed by
//! [`crate::trends`]; pictures are the CLI's business.

use super::Operation;
use crate::error::{Error, FieldError, Result};
use crate::memory::{Memory, Query, derive};
use crate::model::Kind;
use crate::store::Store;
use crate::trends::{By, Metric, Options, Trends};
use schemars::JsonSchema;
use serde::Deserialize;

/// Trends from the coordination event log: throughput, created vs closed
/// (cumulative flow), lead and cycle time (p50/p85/p95), blocked time, WIP
/// and its age, per-plan burn-down, dependency health, estimate accuracy,
/// execution success and issue flow (created, closed, open, lead time);
/// with `alerts`, rule-based warnings. Definitions:
/// docs/MEMORY.md.
#[derive(Debug, Clone, Default, clap::Args, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetTrends {
    /// Window start: a length back from now (`90d`, `12w`, `6m`, `1y`) or
    /// a date (`2026-03-01`). Default 90d.
    #[arg(long, value_name = "WHEN")]
    #[serde(default)]
    pub since: Option<String>,
    /// Bucket size (default week; weeks start on Monday, UTC).
    #[arg(long, value_enum, value_name = "SIZE")]
    #[serde(default)]
    pub by: Option<By>,
    /// Only todos of this repository (dependencies it consumes or provides).
    #[arg(long, value_name = "REPO")]
    #[serde(default)]
    pub repo: Option<String>,
    /// Only todos of this plan (and its burn-down).
    #[arg(long, value_name = "PLAN")]
    #[serde(default)]
    pub plan: Option<String>,
    /// Only todos assigned to this person.
    #[arg(long, value_name = "WHO")]
    #[serde(default)]
    pub assignee: Option<String>,
    /// Only these metrics (repeatable; all by default).
    #[arg(long = "metric", value_enum, value_name = "METRIC")]
    #[serde(default, rename = "metric")]
    pub metrics: Vec<Metric>,
    /// Apply the alert rules (stale WIP, long blocks, throughput drops,
    /// plans projected late, flapping dependencies).
    #[arg(long)]
    #[serde(default)]
    pub alerts: bool,
}

/// The most buckets one request may ask for (a day per bucket over 100
/// years would be 36,500 timelines per todo).
pub const MAX_BUCKETS: i64 = 2_000;

/// Parses a window start relative to `now` (seconds).
pub fn parse_since(text: &str, now: i64) -> Result<i64> {
    let t = text.trim();
    let bad = || {
        Error::Fields(vec![
            FieldError::new("since", "is not a length or a date")
                .value(t)
                .expected("a length back from now (90d, 12w, 6m, 1y) or a date (2026-03-01)"),
        ])
    };
    if let Some(d) = crate::model::CoordDate::parse(t) {
        return d.date().and_hms_opt(0, 0, 0).map(|x| x.and_utc().timestamp()).ok_or_else(bad);
    }
    let split = t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = t.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let day = match unit {
        "d" => 1,
        "w" => 7,
        "m" => 30,
        "y" => 365,
        _ => return Err(bad()),
    };
    n.checked_mul(day * 86_400).filter(|s| *s <= 100 * 365 * 86_400).map(|s| now - s).ok_or_else(bad)
}

impl GetTrends {
    /// The options this request stands for, at `now`.
    pub fn options(&self, store: &Store, now: i64) -> Result<Options> {
        let since = parse_since(self.since.as_deref().unwrap_or("90d"), now)?;
        if since > now {
            return Err(Error::Fields(vec![
                FieldError::new("since", "is in the future").value(self.since.clone().unwrap_or_default()),
            ]));
        }
        let by = self.by.unwrap_or_default();
        let width = match by {
            By::Day => 86_400,
            By::Week => 7 * 86_400,
            By::Month => 28 * 86_400,
        };
        if (now - since) / width > MAX_BUCKETS {
            return Err(Error::Fields(vec![
                FieldError::new("by", format!("would make more than {MAX_BUCKETS} buckets from `since`"))
                    .expected("a larger bucket (week or month) or a later `since`"),
            ]));
        }
        let plan = match &self.plan {
            Some(p) => Some(
                crate::history::log::entity_filter(store, p).map_err(|e| Error::Fields(vec![e.on_field("plan")]))?.1,
            ),
            None => None,
        };
        Ok(Options {
            since,
            now,
            by,
            repo: self.repo.clone(),
            plan,
            assignee: self.assignee.clone(),
            metrics: self.metrics.clone(),
            alerts: self.alerts,
        })
    }
}

/// What [`GetTrends::inputs`] reads: events, data and run records.
pub struct Inputs {
    pub events: Vec<crate::memory::Event>,
    pub data: crate::model::loaded::Loaded,
    pub runs: Vec<crate::exec::record::RunRecord>,
    pub options: Options,
}

impl GetTrends {
    /// Brings the event log up to HEAD and reads what the trends need.
    pub fn inputs(&self, store: &Store) -> Result<Inputs> {
        self.inputs_with(store, &crate::progress::NoProgress)
    }

    /// [`GetTrends::inputs`], reporting the derivation of new events.
    pub fn inputs_with(&self, store: &Store, progress: &dyn crate::progress::Progress) -> Result<Inputs> {
        let now = crate::model::date::now().timestamp();
        let options = self.options(store, now)?;
        let mut mem = Memory::open(store, "trends")?;
        derive::update_with(store, &mut mem, false, progress)?;
        let q = Query { types: vec!["todo".into(), "dependency".into(), "issue".into()], ..Query::default() };
        let events = derive::query(&mem, &q)?;
        let data = store.load(&Kind::ALL)?;
        // A plan gone from the data still has a history; one never seen is a mistake.
        if let Some(p) = &options.plan
            && data.get(Kind::Plan, p).is_none()
            && !events.iter().any(|e| e.plan.as_deref() == Some(p.as_str()))
        {
            return Err(Error::Fields(vec![
                Error::NotFound { kind: Kind::Plan, id: p.clone(), hint: None }.on_field("plan"),
            ]));
        }
        let runs = if options.wants(Metric::Execution) { crate::exec::record::list(store)?.0 } else { Vec::new() };
        Ok(Inputs { events, data, runs, options })
    }
}

impl Operation for GetTrends {
    const COMMAND: &'static str = "trends";
    const TOOL: &'static str = "coord_get_trends";
    const SUMMARY: &'static str = "Trends from the coordination event log: throughput, cumulative flow, lead/cycle time percentiles, blocked time, WIP, per-plan burn-down, dependency health, estimate accuracy, execution success, issue flow and lead time; optional rule-based alerts.";
    const WRITES: bool = false;
    type Output = Trends;

    fn run(&self, store: &Store) -> Result<Trends> {
        let i = self.inputs(store)?;
        Ok(crate::trends::compute(&i.events, &i.data, &i.runs, &i.options))
    }
}
