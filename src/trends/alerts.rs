//! Rule-based trends detection: fixed, documented thresholds over the
//! computed numbers (docs/MEMORY.md, "Alerts"), so an alert can always be
//! explained by pointing at the number that fired it.

use super::{Alert, Options, TodoDays, Trends};

/// In progress with no event for this many days: stale.
pub const STALE_WIP_DAYS: f64 = 14.0;
/// Blocked (status) for this many days now: a long block.
pub const LONG_BLOCK_DAYS: f64 = 7.0;
/// The last full bucket's throughput below this share of the mean of the
/// (up to) four full buckets before it: a drop.
pub const THROUGHPUT_DROP: f64 = 0.5;
/// This many satisfied ↔ unsatisfied changes in the window: flapping.
pub const FLAPPING_FLIPS: usize = 3;

/// The alerts of `t`; `blocked_now` holds todos blocked now with the days
/// since they became blocked.
pub fn rules(t: &Trends, blocked_now: &[TodoDays], _o: &Options) -> Vec<Alert> {
    let mut out = Vec::new();
    if let Some(w) = &t.wip {
        for i in w.items.iter().filter(|i| i.idle_days >= STALE_WIP_DAYS) {
            out.push(Alert {
                rule: "stale-wip".into(),
                entity: Some(i.id.clone()),
                message: format!("{} in progress for {} days, no change for {} days", i.id, i.age_days, i.idle_days),
            });
        }
    }
    for b in blocked_now.iter().filter(|b| b.days >= LONG_BLOCK_DAYS) {
        out.push(Alert {
            rule: "long-block".into(),
            entity: Some(b.id.clone()),
            message: format!("{} blocked for {} days", b.id, b.days),
        });
    }
    // The last bucket ends now: it is partial unless now is a boundary, so
    // compare full buckets only.
    let full = &t.buckets[..t.buckets.len().saturating_sub(1)];
    if let Some((last, before)) = full.split_last()
        && !before.is_empty()
    {
        let prev = &before[before.len().saturating_sub(4)..];
        let mean = prev.iter().map(|b| b.throughput as f64).sum::<f64>() / prev.len() as f64;
        if mean >= 1.0 && (last.throughput as f64) < THROUGHPUT_DROP * mean {
            out.push(Alert {
                rule: "throughput-drop".into(),
                entity: None,
                message: format!(
                    "{} todos completed in {} against {:.2} on average in the {} buckets before",
                    last.throughput,
                    last.label,
                    mean,
                    prev.len()
                ),
            });
        }
    }
    for p in t.burndown.iter().flatten() {
        if let Some(late) = p.late_days.filter(|d| *d > 0.0) {
            let when = p.projected_finish.as_deref().map(|f| format!("projected {f}")).unwrap_or("no progress".into());
            out.push(Alert {
                rule: "plan-late".into(),
                entity: Some(p.plan.clone()),
                message: format!(
                    "{} {}, {late} days after its target {} ({} h left)",
                    p.plan,
                    when,
                    p.target.as_deref().unwrap_or("?"),
                    p.remaining_hours
                ),
            });
        }
    }
    for d in t.dependencies.iter().flatten().filter(|d| d.flips >= FLAPPING_FLIPS) {
        out.push(Alert {
            rule: "dependency-flapping".into(),
            entity: Some(d.id.clone()),
            message: format!(
                "{} ({} → {}) changed between satisfied and not {} times",
                d.id, d.consumer, d.provider, d.flips
            ),
        });
    }
    out
}
