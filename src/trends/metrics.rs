//! The numbers: each metric of [`super::Trends`] from entity lives
//! ([`super::life`]), the current data (estimates, blockers, targets) and
//! run records. Definitions are in docs/MEMORY.md ("Trends"); the code
//! follows them literally so that a fixture with fixed dates gives numbers
//! one can check by hand.

use super::life::{self, Life, Secs, Spans};
use super::*;
use crate::exec::TaskStatus;
use crate::exec::record::RunRecord;
use crate::memory::Event;
use crate::model::loaded::Loaded;
use crate::model::vocab::Lenient;
use crate::model::{CoordDate, Plan, Todo};
use chrono::{Datelike, NaiveDate};
use std::collections::HashMap;

pub(super) const CLOSED: [&str; 2] = ["completed", "cancelled"];

/// The statuses in which an issue is closed.
pub(super) const ISSUE_CLOSED: [&str; 2] = ["resolved", "closed"];

/// A todo as the filters see it: its life and its current record.
pub(super) struct TodoView<'a> {
    pub(super) life: Life,
    pub(super) todo: Option<&'a Todo>,
}

impl TodoView<'_> {
    /// Its estimated hours at `t` (0 when none or not positive).
    fn estimate_at(&self, t: Secs) -> f64 {
        self.life
            .estimate_at(t, self.todo.map(|t| t.estimated_hours))
            .filter(|h| h.is_finite() && *h > 0.0)
            .unwrap_or(0.0)
    }
    pub(super) fn plan(&self) -> Option<&str> {
        self.todo.and_then(|t| t.plan_id.as_deref()).or(self.life.plan.as_deref())
    }
    /// When it was completed for the last time, if it is completed at `t`.
    fn completed_at(&self, t: Secs) -> Option<Secs> {
        (self.life.status_at(t) == Some("completed")).then(|| self.life.last_entered("completed", t)).flatten()
    }
}

/// The day a date names, at midnight UTC.
pub fn date_secs(d: &Lenient<CoordDate>) -> Option<Secs> {
    match d {
        Lenient::Known(cd) => Some(cd.date().and_hms_opt(0, 0, 0)?.and_utc().timestamp()),
        Lenient::Invalid(_) => None,
    }
}

/// The start of the bucket holding `t`.
fn bucket_start(t: Secs, by: By) -> Secs {
    let d = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().date_naive();
    let d = match by {
        By::Day => d,
        By::Week => d - chrono::Duration::days(d.weekday().num_days_from_monday() as i64),
        By::Month => NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d),
    };
    d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp()
}

fn next_bucket(s: Secs, by: By) -> Secs {
    match by {
        By::Day => s + 86_400,
        By::Week => s + 7 * 86_400,
        By::Month => {
            let d = chrono::DateTime::from_timestamp(s, 0).unwrap_or_default().date_naive();
            let (y, m) = if d.month() == 12 { (d.year() + 1, 1) } else { (d.year(), d.month() + 1) };
            NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d).and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp()
        }
    }
}

/// The buckets of the window: `(start, end)`, the first holding `since`,
/// the last ending at `now`.
pub fn buckets(since: Secs, now: Secs, by: By) -> Vec<(Secs, Secs)> {
    let mut out = Vec::new();
    let mut s = bucket_start(since, by);
    while s <= now {
        let e = next_bucket(s, by);
        out.push((s, e.min(now)));
        if e > now {
            break;
        }
        s = e;
    }
    out
}

fn label(s: Secs, by: By) -> String {
    match by {
        By::Month => ymd(s)[..7].to_string(),
        _ => ymd(s),
    }
}

/// Nearest-rank percentiles of durations in seconds, as days.
pub fn percentiles(mut v: Vec<Secs>) -> Percentiles {
    v.sort_unstable();
    let at = |q: f64| -> Option<f64> {
        if v.is_empty() {
            return None;
        }
        let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Some(days(v[rank - 1]))
    };
    Percentiles { count: v.len(), p50: at(0.50), p85: at(0.85), p95: at(0.95) }
}

/// Computes the trends of `events` (oldest first) with the current data and
/// run records.
pub fn compute(events: &[Event], data: &Loaded, runs: &[RunRecord], o: &Options) -> Trends {
    let (since, now) = (o.since, o.now);
    let current: HashMap<&str, &Todo> = data.todos().map(|t| (t.id.as_str(), t)).collect();
    let mut lives = life::lives(events, "todo");
    // Todos with no events (history not derived for them): present since
    // their `created` date, in their current status.
    for t in data.todos() {
        lives.entry(t.id.clone()).or_insert_with(|| Life {
            kind: "todo".into(),
            id: t.id.clone(),
            title: t.task.clone(),
            created: t.created.as_ref().and_then(date_secs).unwrap_or(since),
            initial: Some(t.status.as_str().to_string()),
            ..Life::default()
        });
    }
    let mut todos: Vec<TodoView> = lives
        .into_values()
        .map(|mut life| {
            let todo = current.get(life.id.as_str()).copied();
            if let Some(t) = todo {
                if life.initial.is_none() && life.changes.is_empty() {
                    life.initial = Some(t.status.as_str().to_string());
                }
                life.title = t.task.clone();
            }
            TodoView { life, todo }
        })
        .filter(|v| {
            let repo_ok = o.repo.as_ref().is_none_or(|r| match v.todo {
                Some(t) => &t.repo == r,
                None => v.life.repos.contains(r),
            });
            let plan_ok = o.plan.as_ref().is_none_or(|p| v.plan() == Some(p.as_str()));
            let who_ok = o
                .assignee
                .as_ref()
                .is_none_or(|a| v.todo.and_then(|t| t.assignee.as_ref()).or(v.life.assignee.as_ref()) == Some(a));
            repo_ok && plan_ok && who_ok
        })
        .collect();
    todos.sort_by(|a, b| a.life.id.cmp(&b.life.id));
    let for_todos = |m: Metric| o.wants(m);
    let window = Window {
        since: rfc3339(since),
        until: rfc3339(now),
        by: o.by,
        repo: o.repo.clone(),
        plan: o.plan.clone(),
        assignee: o.assignee.clone(),
        todos: todos.len(),
        events: events.len(),
    };
    let bks = buckets(since, now, o.by);
    let buckets = if for_todos(Metric::Throughput) || for_todos(Metric::Flow) {
        bks.iter().map(|&(s, e)| bucket(&todos, s, e, o.by)).collect()
    } else {
        Vec::new()
    };
    let completed_in_window: Vec<(&TodoView, Secs)> =
        todos.iter().filter_map(|v| v.completed_at(now).filter(|c| *c >= since && *c <= now).map(|c| (v, c))).collect();
    let lead_time = o
        .wants(Metric::LeadTime)
        .then(|| percentiles(completed_in_window.iter().map(|(v, c)| c - v.life.created).collect()));
    let cycle_time = o.wants(Metric::LeadTime).then(|| {
        percentiles(
            completed_in_window
                .iter()
                .filter_map(|(v, c)| v.life.first_entered("in_progress").filter(|s| s <= c).map(|s| c - s))
                .collect(),
        )
    });
    let mut t = Trends {
        window,
        buckets,
        lead_time,
        cycle_time,
        blocked: o.wants(Metric::Blocked).then(|| blocked(&todos, since, now)),
        wip: o.wants(Metric::Wip).then(|| wip(&todos, now)),
        burndown: o.wants(Metric::Burndown).then(|| burndowns(&todos, data, &bks, o)),
        dependencies: o.wants(Metric::Dependencies).then(|| dependencies(events, data, o)),
        estimates: o.wants(Metric::Estimates).then(|| estimates(&completed_in_window)),
        execution: o.wants(Metric::Execution).then(|| execution(runs, o)).flatten(),
        issues: o.wants(Metric::Issues).then(|| issues(events, data, &todos, &bks, o)),
        alerts: None,
    };
    if o.alerts {
        let blocked_now: Vec<TodoDays> = todos
            .iter()
            .filter(|v| v.life.status_at(now) == Some("blocked"))
            .map(|v| TodoDays {
                id: v.life.id.clone(),
                title: v.life.title.clone(),
                days: days(now - v.life.last_entered("blocked", now).unwrap_or(v.life.created)),
            })
            .collect();
        t.alerts = Some(alerts::rules(&t, &blocked_now, o));
    }
    t
}

fn bucket(todos: &[TodoView], s: Secs, e: Secs, by: By) -> Bucket {
    let in_b = |t: Secs| t >= s && t < e;
    let mut b = Bucket {
        label: label(s, by),
        start: rfc3339(s),
        end: rfc3339(e),
        throughput: 0,
        created: 0,
        closed: 0,
        cumulative_created: 0,
        cumulative_closed: 0,
        wip: 0,
        blocked: 0,
    };
    for v in todos {
        let l = &v.life;
        if in_b(l.created) {
            b.created += 1;
        }
        for (at, old, new) in &l.changes {
            if in_b(*at) {
                if new == "completed" {
                    b.throughput += 1;
                }
                let was_closed = old.as_deref().is_some_and(|o| CLOSED.contains(&o));
                if CLOSED.contains(&new.as_str()) && !was_closed {
                    b.closed += 1;
                }
            }
        }
        // State at the end: the instant just before the next bucket starts.
        match l.status_at(e - 1) {
            None => {}
            Some(st) => {
                b.cumulative_created += 1;
                if CLOSED.contains(&st) {
                    b.cumulative_closed += 1;
                }
                if st == "in_progress" {
                    b.wip += 1;
                }
                if st == "blocked" {
                    b.blocked += 1;
                }
            }
        }
    }
    b
}

fn open_spans(l: &Life, now: Secs) -> Spans {
    l.spans(now, |s| !CLOSED.contains(&s))
}

fn blocked(todos: &[TodoView], since: Secs, now: Secs) -> Blocked {
    let by_id: HashMap<&str, &TodoView> = todos.iter().map(|v| (v.life.id.as_str(), v)).collect();
    let window = vec![(since, now)];
    let mut out = Blocked::default();
    let mut total = 0;
    for v in todos {
        let mut spans = v.life.spans(now, |s| s == "blocked");
        // Time with an open blocker: this todo open while a todo was in its
        // `blocked_by` (as it was then) and open.
        let mine = open_spans(&v.life, now);
        for (b, linked) in v.life.blocker_spans(v.todo.map(|t| t.blocked_by.as_slice()), now) {
            if let Some(bv) = by_id.get(b.as_str()) {
                spans.extend(life::intersect(&life::intersect(&mine, &linked), &open_spans(&bv.life, now)));
            }
        }
        let secs = life::measure(&life::intersect(&life::merge(spans), &window));
        if secs > 0 {
            total += secs;
            out.todos.push(TodoDays { id: v.life.id.clone(), title: v.life.title.clone(), days: days(secs) });
        }
    }
    out.todos.sort_by(|a, b| b.days.total_cmp(&a.days).then(a.id.cmp(&b.id)));
    out.total_days = days(total);
    out
}

fn wip(todos: &[TodoView], now: Secs) -> Wip {
    let mut items: Vec<WipItem> = todos
        .iter()
        .filter(|v| v.life.status_at(now) == Some("in_progress"))
        .map(|v| {
            let started = v.life.last_entered("in_progress", now).unwrap_or(v.life.created);
            WipItem {
                id: v.life.id.clone(),
                title: v.life.title.clone(),
                assignee: v.todo.and_then(|t| t.assignee.clone()).or(v.life.assignee.clone()),
                age_days: days(now - started),
                idle_days: days(now - v.life.last_event.max(started)),
            }
        })
        .collect();
    items.sort_by(|a, b| b.age_days.total_cmp(&a.age_days).then(a.id.cmp(&b.id)));
    Wip { count: items.len(), items }
}

/// A plan's target: its own, else its last milestone's due date.
fn target(p: &Plan) -> Option<Secs> {
    p.target
        .as_ref()
        .and_then(date_secs)
        .or_else(|| p.milestones.iter().filter_map(|m| m.due.as_ref()).filter_map(date_secs).max())
}

fn burndowns(todos: &[TodoView], data: &Loaded, bks: &[(Secs, Secs)], o: &Options) -> Vec<Burndown> {
    let (since, now) = (o.since, o.now);
    let mut out = Vec::new();
    for p in data.plans() {
        if o.plan.as_ref().is_some_and(|id| id != &p.id) {
            continue;
        }
        let mine: Vec<&TodoView> = todos.iter().filter(|v| v.plan() == Some(p.id.as_str())).collect();
        let total: f64 =
            mine.iter().filter(|v| v.life.status_at(now) != Some("cancelled")).map(|v| v.estimate_at(now)).sum();
        if total <= 0.0 {
            continue;
        }
        let remaining_at = |t: Secs| -> f64 {
            mine.iter()
                .filter(|v| v.life.status_at(t).is_some_and(|s| !CLOSED.contains(&s)))
                .map(|v| v.estimate_at(t))
                .sum()
        };
        let start = mine.iter().map(|v| v.life.created).min().unwrap_or(since);
        let target = target(p);
        let ideal = |t: Secs| -> Option<f64> {
            let tg = target?;
            if tg <= start {
                return Some(0.0);
            }
            Some(round2(total * ((tg - t) as f64 / (tg - start) as f64).clamp(0.0, 1.0)))
        };
        let points = bks
            .iter()
            .map(|&(s, e)| BurnPoint { label: label(s, o.by), remaining: round2(remaining_at(e - 1)), ideal: ideal(e) })
            .collect();
        let burned: f64 =
            mine.iter().filter_map(|v| v.completed_at(now).filter(|c| *c >= since).map(|c| v.estimate_at(c))).sum();
        let from = since.max(start);
        let elapsed = (now - from).max(86_400) as f64 / 86_400.0;
        let rate = burned / elapsed;
        let remaining = remaining_at(now);
        let finish = (remaining > 0.0 && rate > 0.0).then(|| now + (remaining / rate * 86_400.0).round() as i64);
        let late = match (finish, target, remaining > 0.0) {
            (Some(f), Some(tg), _) if f > tg => Some(days(f - tg)),
            // Nothing burns: late by the time already past the target.
            (None, Some(tg), true) if now > tg => Some(days(now - tg)),
            _ => None,
        };
        out.push(Burndown {
            plan: p.id.clone(),
            title: p.title.clone(),
            target: target.map(ymd),
            total_hours: round2(total),
            remaining_hours: round2(remaining),
            rate_per_day: round2(rate),
            projected_finish: finish.map(ymd),
            late_days: late,
            points,
        });
    }
    out
}

fn dependencies(events: &[Event], data: &Loaded, o: &Options) -> Vec<DepHealth> {
    let lives = life::lives(events, "dependency");
    let window = vec![(o.since, o.now)];
    let mut out = Vec::new();
    for d in data.dependencies() {
        if o.repo.as_ref().is_some_and(|r| r != &d.consumer && r != &d.provider) {
            continue;
        }
        let status = d.status.as_str().to_string();
        let life = lives.get(&d.id).cloned().unwrap_or_else(|| Life {
            created: d.created.as_ref().and_then(date_secs).unwrap_or(o.since),
            initial: Some(status.clone()),
            ..Life::default()
        });
        let mut life = life;
        if life.initial.is_none() && life.changes.is_empty() {
            life.initial = Some(status.clone());
        }
        let unsat = life.spans(o.now, |s| s != "satisfied");
        let flips = life
            .changes
            .iter()
            .filter(|(at, old, new)| {
                *at >= o.since && *at <= o.now && (old.as_deref() == Some("satisfied")) != (new == "satisfied")
            })
            .count();
        out.push(DepHealth {
            id: d.id.clone(),
            consumer: d.consumer.clone(),
            provider: d.provider.clone(),
            status,
            days_unsatisfied: days(life::measure(&life::intersect(&unsat, &window))),
            flips,
        });
    }
    out
}

/// Issue flow: lives of the issues the filters select (`--repo`: its
/// current repos, else its last event's; `--assignee`: its current assignee,
/// else its last assigned one; `--plan`: the issues the selected todos name
/// in `issue_id`).
fn issues(events: &[Event], data: &Loaded, todos: &[TodoView], bks: &[(Secs, Secs)], o: &Options) -> Issues {
    let (since, now) = (o.since, o.now);
    let mut lives = life::lives(events, "issue");
    for i in data.issues() {
        let status = i.status.as_str().to_string();
        let l = lives.entry(i.id.clone()).or_insert_with(|| Life {
            kind: "issue".into(),
            id: i.id.clone(),
            created: i.created.as_ref().and_then(date_secs).unwrap_or(since),
            initial: Some(status.clone()),
            ..Life::default()
        });
        if l.initial.is_none() && l.changes.is_empty() {
            l.initial = Some(status);
        }
    }
    let current: HashMap<&str, &crate::model::Issue> = data.issues().map(|i| (i.id.as_str(), i)).collect();
    let of_plan: Option<Vec<&str>> =
        o.plan.as_ref().map(|_| todos.iter().filter_map(|v| v.todo.and_then(|t| t.issue_id.as_deref())).collect());
    let mut selected: Vec<Life> = lives
        .into_values()
        .filter(|l| {
            let current = current.get(l.id.as_str()).copied();
            let repo_ok = o.repo.as_ref().is_none_or(|r| current.map_or(&l.repos, |i| &i.repos).contains(r));
            let who_ok = o
                .assignee
                .as_ref()
                .is_none_or(|a| current.and_then(|i| i.assignee.as_ref()).or(l.assignee.as_ref()) == Some(a));
            let plan_ok = of_plan.as_ref().is_none_or(|ids| ids.contains(&l.id.as_str()));
            repo_ok && who_ok && plan_ok
        })
        .collect();
    selected.sort_by(|a, b| a.id.cmp(&b.id));
    let closed = |s: &str| ISSUE_CLOSED.contains(&s);
    let buckets = bks
        .iter()
        .map(|&(s, e)| {
            let in_b = |t: Secs| t >= s && t < e;
            let mut b = IssueBucket {
                label: label(s, o.by),
                start: rfc3339(s),
                end: rfc3339(e),
                created: 0,
                closed: 0,
                cumulative_created: 0,
                cumulative_closed: 0,
                open: 0,
            };
            for l in &selected {
                b.created += usize::from(in_b(l.created));
                b.closed += l
                    .changes
                    .iter()
                    .filter(|(at, old, new)| in_b(*at) && closed(new) && !old.as_deref().is_some_and(closed))
                    .count();
                if let Some(st) = l.status_at(e - 1) {
                    b.cumulative_created += 1;
                    b.cumulative_closed += usize::from(closed(st));
                }
            }
            b.open = b.cumulative_created - b.cumulative_closed;
            b
        })
        .collect();
    let lead_time = percentiles(
        selected
            .iter()
            .filter(|l| l.status_at(now).is_some_and(closed))
            .filter_map(|l| {
                let c = l
                    .changes
                    .iter()
                    .rev()
                    .find(|(at, old, new)| *at <= now && closed(new) && !old.as_deref().is_some_and(closed))?
                    .0;
                (c >= since).then_some(c - l.created)
            })
            .collect(),
    );
    Issues {
        count: selected.len(),
        open_now: selected.iter().filter(|l| l.status_at(now).is_some_and(|s| !closed(s))).count(),
        buckets,
        lead_time,
    }
}

fn estimates(done: &[(&TodoView, Secs)]) -> Estimates {
    let pairs: Vec<(f64, f64)> = done
        .iter()
        .filter_map(|(v, _)| {
            let t = v.todo?;
            let (e, a) = (t.estimated_hours?, t.actual_hours?);
            (e > 0.0 && a >= 0.0 && e.is_finite() && a.is_finite()).then_some((e, a))
        })
        .collect();
    if pairs.is_empty() {
        return Estimates::default();
    }
    let n = pairs.len() as f64;
    let mut ratios: Vec<f64> = pairs.iter().map(|(e, a)| a / e).collect();
    ratios.sort_by(f64::total_cmp);
    let median = ratios[((0.5 * n).ceil() as usize).clamp(1, ratios.len()) - 1];
    let mae = pairs.iter().map(|(e, a)| (a - e).abs() / e).sum::<f64>() / n;
    let within = pairs.iter().filter(|(e, a)| (a - e).abs() <= 0.2 * e).count() as f64 / n;
    Estimates {
        count: pairs.len(),
        median_ratio: Some(round2(median)),
        mean_abs_error: Some(round2(mae)),
        within_20_percent: Some(round2(within)),
    }
}

fn execution(runs: &[RunRecord], o: &Options) -> Option<Execution> {
    let mut x = Execution::default();
    for r in runs {
        let Some(started) = chrono::DateTime::parse_from_rfc3339(&r.started).ok().map(|d| d.timestamp()) else {
            continue;
        };
        if started < o.since || started > o.now {
            continue;
        }
        let tasks: Vec<_> = r.tasks.iter().filter(|t| o.repo.as_ref().is_none_or(|repo| &t.repo == repo)).collect();
        if tasks.is_empty() {
            continue;
        }
        x.runs += 1;
        x.succeeded += tasks.iter().filter(|t| t.status == TaskStatus::Succeeded).count();
        x.failed += tasks.iter().filter(|t| t.status == TaskStatus::Failed).count();
    }
    if x.runs == 0 {
        return None;
    }
    let n = x.succeeded + x.failed;
    x.success_rate = (n > 0).then(|| round2(x.succeeded as f64 / n as f64));
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_and_the_last_bucket_ends_now() {
        // 2026-03-04 is a Wednesday.
        let since = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp();
        let b = buckets(since, since + 10 * 86_400, By::Week);
        assert_eq!(b.len(), 2);
        assert_eq!(ymd(b[0].0), "2026-03-02");
        assert_eq!(b[1].1, since + 10 * 86_400);
        assert_eq!(buckets(since, since + 40 * 86_400, By::Month).len(), 2);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let p = percentiles((1..=20).map(|d| d * 86_400).collect());
        assert_eq!((p.p50, p.p85, p.p95), (Some(10.0), Some(17.0), Some(19.0)));
        assert_eq!(percentiles(vec![]).p50, None);
    }
}
