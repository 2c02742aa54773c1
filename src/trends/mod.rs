//! Trends: numbers over time computed from the coordination event log
//! ([`crate::memory`]) and the current data — throughput, cumulative flow,
//! lead and cycle time, blocked time, WIP, per-plan burn-down, dependency
//! health, estimate accuracy, execution success and issue flow — plus rule-based
//! alerts, and their pictures (terminal sparklines, Mermaid, SVG, PNG).
//!
//! Everything here is pure: [`compute`] takes the events, the loaded data,
//! the run records and the clock, so the same inputs give the same numbers
//! (docs/MEMORY.md defines each one). [`life`] rebuilds entity timelines,
//! [`metrics`] computes, [`alerts`] applies the rules, [`render`],
//! [`gantt`] and [`chart`] draw.

pub mod alerts;
pub mod chart;
pub mod gantt;
pub mod life;
pub mod metrics;
pub mod render;

pub use metrics::compute;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Bucket size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Day,
    #[default]
    Week,
    Month,
}

/// A metric family (all by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// Todos completed per bucket.
    Throughput,
    /// Created vs closed, per bucket and cumulative; WIP and blocked counts.
    Flow,
    /// Lead and cycle time percentiles.
    LeadTime,
    /// Blocked time per todo.
    Blocked,
    /// Work in progress now, with ages.
    Wip,
    /// Per-plan burn-down.
    Burndown,
    /// Days each dependency spent unsatisfied, and flips.
    Dependencies,
    /// Actual vs estimated hours.
    Estimates,
    /// Execution run success rate.
    Execution,
    /// Issues created and closed per bucket, open issues, issue lead time.
    Issues,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 10] = [
        Metric::Throughput,
        Metric::Flow,
        Metric::LeadTime,
        Metric::Blocked,
        Metric::Wip,
        Metric::Burndown,
        Metric::Dependencies,
        Metric::Estimates,
        Metric::Execution,
        Metric::Issues,
    ];
}

/// What to compute.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Window start (seconds).
    pub since: i64,
    /// Window end: now.
    pub now: i64,
    pub by: By,
    pub repo: Option<String>,
    pub plan: Option<String>,
    pub assignee: Option<String>,
    /// Empty: all.
    pub metrics: Vec<Metric>,
    pub alerts: bool,
}

impl Options {
    /// Whether `m` is wanted.
    pub fn wants(&self, m: Metric) -> bool {
        self.metrics.is_empty() || self.metrics.contains(&m)
    }
}

/// The window and filters the numbers are for.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Window {
    /// Start (RFC 3339, UTC).
    pub since: String,
    /// End: now (RFC 3339, UTC).
    pub until: String,
    pub by: By,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Todos the filters select (ever seen in history or present now).
    pub todos: usize,
    /// Events read.
    pub events: usize,
}

/// One bucket of the window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Bucket {
    /// `2026-03-02` (day, week: its Monday) or `2026-03` (month).
    pub label: String,
    /// Start and end (RFC 3339); the last bucket ends now.
    pub start: String,
    pub end: String,
    /// Todos completed in the bucket (transitions to `completed`).
    pub throughput: usize,
    /// Todos created in the bucket.
    pub created: usize,
    /// Todos closed in the bucket (transitions to `completed` or `cancelled`).
    pub closed: usize,
    /// Todos existing at the bucket's end (cumulative arrivals).
    pub cumulative_created: usize,
    /// Of those, closed at the bucket's end (cumulative departures).
    pub cumulative_closed: usize,
    /// Todos `in_progress` at the bucket's end.
    pub wip: usize,
    /// Todos `blocked` at the bucket's end.
    pub blocked: usize,
}

/// Percentiles of a duration, in days (nearest rank).
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Percentiles {
    pub count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p85: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
}

/// One todo's time, in days.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TodoDays {
    pub id: String,
    pub title: String,
    pub days: f64,
}

/// Blocked time in the window.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Blocked {
    /// Sum over todos, in days.
    pub total_days: f64,
    /// Todos with blocked time, longest first.
    pub todos: Vec<TodoDays>,
}

/// A todo in progress now.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WipItem {
    pub id: String,
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// Days since it last entered `in_progress`.
    pub age_days: f64,
    /// Days since its last event.
    pub idle_days: f64,
}

/// Work in progress now.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Wip {
    pub count: usize,
    /// Oldest first.
    pub items: Vec<WipItem>,
}

/// One point of a burn-down.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BurnPoint {
    /// The bucket's label.
    pub label: String,
    /// Estimated hours of open todos at the bucket's end.
    pub remaining: f64,
    /// The ideal line there (none without a target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ideal: Option<f64>,
}

/// One plan's burn-down.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Burndown {
    pub plan: String,
    pub title: String,
    /// The plan's target (else its last milestone's due date), `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Estimated hours of its todos (cancelled ones excluded).
    pub total_hours: f64,
    /// Of those, still open now.
    pub remaining_hours: f64,
    /// Hours completed per day over the window.
    pub rate_per_day: f64,
    /// When the remaining hours reach 0 at that rate (`YYYY-MM-DD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projected_finish: Option<String>,
    /// Days the projection is past the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_days: Option<f64>,
    pub points: Vec<BurnPoint>,
}

/// One dependency's health in the window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DepHealth {
    pub id: String,
    pub consumer: String,
    pub provider: String,
    /// Its status now.
    pub status: String,
    /// Days not `satisfied` in the window.
    pub days_unsatisfied: f64,
    /// Changes between satisfied and not, in the window.
    pub flips: usize,
}

/// Estimate accuracy of todos completed in the window.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Estimates {
    /// Todos with both estimated and actual hours.
    pub count: usize,
    /// Median of actual ÷ estimated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub median_ratio: Option<f64>,
    /// Mean of |actual − estimated| ÷ estimated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mean_abs_error: Option<f64>,
    /// Share within ±20 % of the estimate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub within_20_percent: Option<f64>,
}

/// Execution runs started in the window.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Execution {
    pub runs: usize,
    pub succeeded: usize,
    pub failed: usize,
    /// succeeded ÷ (succeeded + failed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<f64>,
}

/// Issue flow in one bucket.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IssueBucket {
    /// The bucket's label, start and end (as in [`Bucket`]).
    pub label: String,
    pub start: String,
    pub end: String,
    /// Issues created in the bucket.
    pub created: usize,
    /// Issues closed in the bucket (status changes to `resolved` or `closed`
    /// from anything else).
    pub closed: usize,
    /// Issues existing at the bucket's end.
    pub cumulative_created: usize,
    /// Of those, `resolved` or `closed` then.
    pub cumulative_closed: usize,
    /// Of those, open then (the difference).
    pub open: usize,
}

/// Issue flow over the window.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Issues {
    /// Issues the filters select (ever seen in history or present now).
    pub count: usize,
    /// Issues open now.
    pub open_now: usize,
    pub buckets: Vec<IssueBucket>,
    /// Creation to closing, for issues closed now whose last closing is in
    /// the window.
    pub lead_time: Percentiles,
}

/// A rule that fired.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Alert {
    /// `stale-wip`, `long-block`, `throughput-drop`, `plan-late`, `dependency-flapping`.
    pub rule: String,
    /// The entity concerned, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    pub message: String,
}

/// Trends over a window.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Trends {
    pub window: Window,
    /// Per bucket (throughput and flow).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<Bucket>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lead_time: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cycle_time: Option<Percentiles>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocked: Option<Blocked>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wip: Option<Wip>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub burndown: Option<Vec<Burndown>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependencies: Option<Vec<DepHealth>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimates: Option<Estimates>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution: Option<Execution>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issues: Option<Issues>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alerts: Option<Vec<Alert>>,
}

/// Days, rounded to hundredths.
pub fn days(secs: i64) -> f64 {
    round2(secs as f64 / 86_400.0)
}

/// Rounded to hundredths.
pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// RFC 3339 of seconds (UTC).
pub fn rfc3339(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `YYYY-MM-DD` of seconds (UTC).
pub fn ymd(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default().format("%Y-%m-%d").to_string()
}
