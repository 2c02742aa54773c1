//! `watch`: the dependency checks every interval, printing only changes of
//! verdict (and the statuses and issues written, and events delivered or
//! failing to be when memory is on), until SIGINT or SIGTERM —
//! or one round with `--once`. The loop is [`crate::deps::watch`]; this
//! prints its events and turns the signals into its stop.

use crate::api::deps::CheckDeps;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::deps::watch::{self, Ended, WatchEvent, WatchOptions};
use crate::display;
use crate::error::Error;
use std::io::Write;
use std::time::Duration;

/// Run the dependency checks every interval and print only changes of
/// verdict (satisfied → unsatisfied and back), each with a timestamp.
/// Verdicts are remembered between runs (in the git directory), so
/// `--once` under a timer or cron prints what changed since its last run.
/// Stops cleanly (exit 0) on SIGINT or SIGTERM. With `memory_enabled`,
/// each round also delivers coordination events, as `events push` does.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// Time between rounds: `30s`, `5m`, `2h`, or a plain number of minutes
    /// [default: dependency_check_interval_minutes from the settings, 60].
    #[arg(long, value_name = "DURATION", value_parser = watch::parse_interval)]
    pub interval: Option<Duration>,
    /// One round, then exit (for systemd timers, launchd, cron and CI).
    #[arg(long)]
    pub once: bool,
    /// `git fetch` the coordination repository and the providers' checkouts
    /// before each round (refs and tags only; no work tree is touched).
    #[arg(long)]
    pub fetch: bool,
    /// What to check and what to write: as for `check-deps`.
    #[command(flatten)]
    pub check: CheckDeps,
}

fn line(e: &WatchEvent) -> Option<String> {
    match e {
        WatchEvent::Changed(t) => Some(format!(
            "{} {} {} → {}: {} → {} ({})",
            t.at,
            t.id,
            display::shown(&t.consumer),
            display::shown(&t.provider),
            display::shown(&t.from),
            t.to.as_str(),
            display::shown(&t.reason)
        )),
        WatchEvent::Updated { at, written } => {
            Some(format!("{at} updated {}: {} → {}", written.id, written.from, written.to))
        }
        WatchEvent::Issue { at, change } => Some(format!("{at} {}", super::check_deps::issue_line(change))),
        WatchEvent::Memory { at, delivery } => {
            let sinks: Vec<String> = delivery
                .pushed
                .sinks
                .iter()
                .filter(|s| s.delivered > 0 || s.dead > 0 || s.failed)
                .map(|s| {
                    let mut l = format!("{} delivered {}", s.sink, s.delivered);
                    if s.dead > 0 {
                        l.push_str(&format!(", {} now dead", s.dead));
                    }
                    if let (true, Some(why)) = (s.failed, &s.stopped) {
                        l.push_str(&format!(", failed: {}", display::shown(why)));
                    }
                    l
                })
                .collect();
            Some(format!("{at} events: {}", sinks.join("; ")))
        }
        WatchEvent::Warning(_) => None,
    }
}

/// `watch`
pub fn run(cx: &Context, a: &WatchArgs) -> CmdResult {
    let store = cx.store()?;
    let check = a.check.options().map_err(CommandError::Lib)?;
    if a.check.update || a.check.raise_issues {
        crate::ops::ensure_enabled(&store)?;
    }
    let minutes = store.settings.dependency_check_interval_minutes;
    let (interval, from) = match a.interval {
        Some(d) => (d, "--interval".to_string()),
        None => {
            let file = store.settings.source.as_deref().map(|p| store.rel(p).display().to_string());
            let key = store.settings.key("dependency_check_interval_minutes");
            (Duration::from_secs(minutes * 60), file.map_or_else(|| "the default".into(), |f| format!("{key} in {f}")))
        }
    };
    let opts = WatchOptions {
        check,
        interval,
        once: a.once,
        fetch: a.fetch,
        update: a.check.update,
        raise_issues: a.check.raise_issues,
    };
    drop(store);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::system("start the async runtime", e))?;
    let ended = rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered before the first round: a signal at any point stops it.
        let signals = signal(SignalKind::interrupt()).and_then(|i| Ok((i, signal(SignalKind::terminate())?)));
        let (mut int, mut term) = signals.map_err(|e| Error::system("listen for SIGINT/SIGTERM", e))?;
        let stop = async move {
            tokio::select! {
                _ = int.recv() => {}
                _ = term.recv() => {}
            }
        };
        if !a.once {
            eprintln!("watching dependencies every {} ({from}); SIGINT or SIGTERM stops", human(interval));
        }
        let mut out = {
            crate::cli::render::settle_color();
            anstream::stdout()
        };
        watch::watch(&cx.dir, &opts, stop, |e| match line(&e) {
            Some(l) => {
                let _ = writeln!(out, "{l}");
                let _ = out.flush();
            }
            None => {
                if let WatchEvent::Warning(w) = &e {
                    eprintln!("warning: {}", display::shown(w));
                }
            }
        })
        .await
    })?;
    if ended == Ended::Stopped {
        eprintln!("stopped");
    }
    Ok(())
}

/// `45s`, `5m`, `1h30m`.
fn human(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        (0, m, sec) => format!("{m}m{sec}s"),
        (h, m, 0) => format!("{h}h{m}m"),
        (h, m, sec) => format!("{h}h{m}m{sec}s"),
    }
}
