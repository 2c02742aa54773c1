//! Text pictures of [`Trends`]: the terminal table with sparklines and
//! bars, CSV (one row per bucket) and Mermaid (`xychart-beta` for
//! throughput, flow, issue flow and burn-down; `gantt` for plans and their
//! todos).
//! Each returns a string; the CLI writes it.

use super::*;
use std::fmt::Write;

const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A sparkline of `v` (one character per value, scaled to the maximum).
pub fn sparkline(v: &[f64]) -> String {
    let max = v.iter().copied().fold(0.0_f64, f64::max);
    v.iter()
        .map(|x| if max <= 0.0 { SPARKS[0] } else { SPARKS[((x / max) * 7.0).round().clamp(0.0, 7.0) as usize] })
        .collect()
}

/// A horizontal bar of `x` out of `max`, `width` cells wide.
pub fn bar(x: f64, max: f64, width: usize) -> String {
    let n = if max <= 0.0 { 0 } else { ((x / max) * width as f64).round() as usize };
    "█".repeat(n.min(width))
}

fn num(x: Option<f64>) -> String {
    x.map_or("–".into(), |v| format!("{v}"))
}

/// The terminal rendering.
pub fn table(t: &Trends) -> String {
    let mut s = String::new();
    let w = &t.window;
    let _ = writeln!(
        s,
        "trends {} → {} by {}, {} todos, {} events",
        &w.since[..10],
        &w.until[..10],
        serde_json::to_value(w.by).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default(),
        w.todos,
        w.events
    );
    for (k, v) in [("repo", &w.repo), ("plan", &w.plan), ("assignee", &w.assignee)] {
        if let Some(v) = v {
            let _ = writeln!(s, "  {k}: {v}");
        }
    }
    if !t.buckets.is_empty() {
        let col = |f: &dyn Fn(&Bucket) -> usize| -> Vec<f64> { t.buckets.iter().map(|b| f(b) as f64).collect() };
        let _ = writeln!(
            s,
            "\n{:<12} {:>6} {:>7} {:>6} {:>6} {:>6} {:>7}",
            "bucket", "done", "created", "closed", "open", "wip", "blocked"
        );
        for b in &t.buckets {
            let _ = writeln!(
                s,
                "{:<12} {:>6} {:>7} {:>6} {:>6} {:>6} {:>7}",
                b.label,
                b.throughput,
                b.created,
                b.closed,
                b.cumulative_created - b.cumulative_closed,
                b.wip,
                b.blocked
            );
        }
        let _ = writeln!(s, "\nthroughput  {}", sparkline(&col(&|b| b.throughput)));
        let _ = writeln!(s, "created Σ   {}", sparkline(&col(&|b| b.cumulative_created)));
        let _ = writeln!(s, "closed Σ    {}", sparkline(&col(&|b| b.cumulative_closed)));
        let _ = writeln!(s, "wip         {}", sparkline(&col(&|b| b.wip)));
    }
    for (name, p) in [("lead time", &t.lead_time), ("cycle time", &t.cycle_time)] {
        if let Some(p) = p {
            let _ = writeln!(
                s,
                "{name:<11} n={} p50 {} d, p85 {} d, p95 {} d",
                p.count,
                num(p.p50),
                num(p.p85),
                num(p.p95)
            );
        }
    }
    if let Some(b) = &t.blocked {
        let _ = writeln!(s, "\nblocked: {} days in all", b.total_days);
        let max = b.todos.first().map_or(0.0, |x| x.days);
        for x in b.todos.iter().take(10) {
            let _ = writeln!(s, "  {:<10} {:>7} d {}", x.id, x.days, bar(x.days, max, 30));
        }
    }
    if let Some(wip) = &t.wip {
        let _ = writeln!(s, "\nwork in progress: {}", wip.count);
        let max = wip.items.first().map_or(0.0, |x| x.age_days);
        for i in &wip.items {
            let _ = writeln!(
                s,
                "  {:<10} {:>7} d {:<30} {} (idle {} d)",
                i.id,
                i.age_days,
                bar(i.age_days, max, 30),
                i.assignee.as_deref().unwrap_or("-"),
                i.idle_days
            );
        }
    }
    for p in t.burndown.iter().flatten() {
        let _ = writeln!(
            s,
            "\nburn-down {} ({}): {} of {} h left, {} h/day, target {}, projected {}{}",
            p.plan,
            crate::display::shown(&p.title),
            p.remaining_hours,
            p.total_hours,
            p.rate_per_day,
            p.target.as_deref().unwrap_or("none"),
            p.projected_finish.as_deref().unwrap_or("–"),
            p.late_days.map(|d| format!(", {d} days late")).unwrap_or_default()
        );
        for pt in &p.points {
            let _ = writeln!(
                s,
                "  {:<12} {:>7} h {:<30} ideal {}",
                pt.label,
                pt.remaining,
                bar(pt.remaining, p.total_hours, 30),
                num(pt.ideal)
            );
        }
    }
    if let Some(deps) = &t.dependencies
        && !deps.is_empty()
    {
        let _ = writeln!(s, "\ndependencies (days unsatisfied in the window, flips)");
        for d in deps {
            let _ = writeln!(
                s,
                "  {:<10} {} → {} {}: {} d, {} flips",
                d.id, d.consumer, d.provider, d.status, d.days_unsatisfied, d.flips
            );
        }
    }
    if let Some(e) = &t.estimates {
        let _ = writeln!(
            s,
            "\nestimates: n={} median actual/estimate {}, mean abs error {}, within 20% {}",
            e.count,
            num(e.median_ratio),
            num(e.mean_abs_error),
            num(e.within_20_percent)
        );
    }
    if let Some(x) = &t.execution {
        let _ = writeln!(
            s,
            "execution: {} runs, {} succeeded, {} failed, success rate {}",
            x.runs,
            x.succeeded,
            x.failed,
            num(x.success_rate)
        );
    }
    if let Some(i) = &t.issues {
        let _ = writeln!(s, "\nissues: {}, open now {}", i.count, i.open_now);
        if !i.buckets.is_empty() {
            let _ = writeln!(s, "{:<12} {:>7} {:>6} {:>6}", "bucket", "created", "closed", "open");
            for b in &i.buckets {
                let _ = writeln!(s, "{:<12} {:>7} {:>6} {:>6}", b.label, b.created, b.closed, b.open);
            }
            let open: Vec<f64> = i.buckets.iter().map(|b| b.open as f64).collect();
            let _ = writeln!(s, "open        {}", sparkline(&open));
        }
        let p = &i.lead_time;
        let _ =
            writeln!(s, "issue lead  n={} p50 {} d, p85 {} d, p95 {} d", p.count, num(p.p50), num(p.p85), num(p.p95));
    }
    if let Some(a) = &t.alerts {
        let _ = writeln!(s, "\nalerts: {}", a.len());
        for x in a {
            let _ = writeln!(s, "  [{}] {}", x.rule, x.message);
        }
    }
    s
}

/// One CSV row per bucket: the todo columns (throughput, flow) and, when
/// issue flow is computed, the issue columns after them.
pub fn csv(t: &Trends) -> String {
    let issues = t.issues.as_ref().map(|i| i.buckets.as_slice()).unwrap_or_default();
    let todos = !t.buckets.is_empty();
    let mut s = String::from("bucket,start,end");
    if todos {
        s.push_str(",throughput,created,closed,cumulative_created,cumulative_closed,wip,blocked");
    }
    if !issues.is_empty() {
        s.push_str(",issues_created,issues_closed,issues_cumulative_created,issues_cumulative_closed,issues_open");
    }
    s.push('\n');
    for n in 0..t.buckets.len().max(issues.len()) {
        let (b, i) = (t.buckets.get(n), issues.get(n));
        let (label, start, end) = match (b, i) {
            (Some(b), _) => (&b.label, &b.start, &b.end),
            (None, Some(i)) => (&i.label, &i.start, &i.end),
            (None, None) => break,
        };
        let _ = write!(s, "{label},{start},{end}");
        if let Some(b) = b {
            let _ = write!(
                s,
                ",{},{},{},{},{},{},{}",
                b.throughput, b.created, b.closed, b.cumulative_created, b.cumulative_closed, b.wip, b.blocked
            );
        }
        if let Some(i) = i {
            let _ =
                write!(s, ",{},{},{},{},{}", i.created, i.closed, i.cumulative_created, i.cumulative_closed, i.open);
        }
        s.push('\n');
    }
    s
}

/// Text safe inside a Mermaid quoted string or task name.
fn mm(text: &str) -> String {
    crate::display::shown(text).replace(['"', ':', ';', '#', '\n'], " ")
}

fn list(v: impl Iterator<Item = String>) -> String {
    v.collect::<Vec<_>>().join(", ")
}

/// Mermaid diagrams: throughput and cumulative flow as `xychart-beta`, a
/// burn-down chart per plan, and a `gantt` of plans and their todos.
/// `gantt` needs the todo lives, so it comes from [`mermaid_gantt`].
pub fn mermaid(t: &Trends, gantt: &str) -> String {
    let mut s = String::new();
    if !t.buckets.is_empty() {
        let labels = list(t.buckets.iter().map(|b| format!("\"{}\"", b.label)));
        let max = t.buckets.iter().map(|b| b.cumulative_created.max(b.throughput)).max().unwrap_or(0).max(1);
        let _ = writeln!(s, "```mermaid\nxychart-beta\n    title \"Throughput and cumulative flow\"");
        let _ = writeln!(s, "    x-axis [{labels}]\n    y-axis \"todos\" 0 --> {max}");
        let _ = writeln!(s, "    bar [{}]", list(t.buckets.iter().map(|b| b.throughput.to_string())));
        let _ = writeln!(s, "    line [{}]", list(t.buckets.iter().map(|b| b.cumulative_created.to_string())));
        let _ = writeln!(s, "    line [{}]\n```", list(t.buckets.iter().map(|b| b.cumulative_closed.to_string())));
    }
    if let Some(i) = t.issues.as_ref().filter(|i| i.buckets.iter().any(|b| b.created + b.closed > 0)) {
        let labels = list(i.buckets.iter().map(|b| format!("\"{}\"", b.label)));
        let max = i.buckets.iter().map(|b| b.cumulative_created.max(b.created)).max().unwrap_or(0).max(1);
        if !s.is_empty() {
            s.push('\n');
        }
        let _ = writeln!(s, "```mermaid\nxychart-beta\n    title \"Issues: created per bucket and cumulative flow\"");
        let _ = writeln!(s, "    x-axis [{labels}]\n    y-axis \"issues\" 0 --> {max}");
        let _ = writeln!(s, "    bar [{}]", list(i.buckets.iter().map(|b| b.created.to_string())));
        let _ = writeln!(s, "    line [{}]", list(i.buckets.iter().map(|b| b.cumulative_created.to_string())));
        let _ = writeln!(s, "    line [{}]\n```", list(i.buckets.iter().map(|b| b.cumulative_closed.to_string())));
    }
    for p in t.burndown.iter().flatten() {
        let labels = list(p.points.iter().map(|x| format!("\"{}\"", x.label)));
        let _ = writeln!(s, "\n```mermaid\nxychart-beta\n    title \"Burn-down {} {}\"", p.plan, mm(&p.title));
        let _ = writeln!(s, "    x-axis [{labels}]\n    y-axis \"hours\" 0 --> {}", p.total_hours);
        let _ = writeln!(s, "    line [{}]", list(p.points.iter().map(|x| x.remaining.to_string())));
        if p.points.iter().all(|x| x.ideal.is_some()) {
            let _ = writeln!(s, "    line [{}]", list(p.points.iter().map(|x| num(x.ideal))));
        }
        let _ = writeln!(s, "```");
    }
    if !gantt.is_empty() {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(gantt);
    }
    s
}

/// One bar of the Gantt chart.
pub struct GanttTask {
    pub section: String,
    pub id: String,
    pub title: String,
    pub start: i64,
    pub end: i64,
    /// `done`, `active` or `crit` (blocked).
    pub state: &'static str,
}

/// A Mermaid `gantt` of the given tasks (grouped by section, in order).
pub fn mermaid_gantt(tasks: &[GanttTask], milestones: &[(String, String, i64)]) -> String {
    if tasks.is_empty() && milestones.is_empty() {
        return String::new();
    }
    let mut s = String::from("```mermaid\ngantt\n    title Plans and todos\n    dateFormat YYYY-MM-DD\n");
    let mut section = None;
    for t in tasks {
        if section.as_deref() != Some(t.section.as_str()) {
            let _ = writeln!(s, "    section {}", mm(&t.section));
            section = Some(t.section.clone());
        }
        let days = ((t.end - t.start) as f64 / 86_400.0).ceil().max(1.0) as i64;
        let _ = writeln!(s, "    {} {} :{}, {}, {}, {days}d", t.id, mm(&t.title), t.state, t.id, ymd(t.start));
    }
    for (plan, name, due) in milestones {
        let _ = writeln!(s, "    {} {} :milestone, {}, 0d", mm(plan), mm(name), ymd(*due));
    }
    s.push_str("```\n");
    s
}
