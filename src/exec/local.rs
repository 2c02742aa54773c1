//! The `local` runner ([`Local`], the embedded default pool): one attempt
//! of a task as `sh -c COMMAND` in the checkout, in a process group of its
//! own.
//!
//! The command text is the approved text, unchanged: the task's words
//! (title, description, acceptance criteria) reach the process only on
//! stdin, in `COORD_*` environment variables and in the prompt file named
//! by `COORD_PROMPT_FILE` — never inside the shell string, so a todo titled
//! `$(rm -rf ~)` is just text.
//!
//! Ending an attempt ends its whole group (the shared
//! [`crate::process_group`] runner, as in `check-deps`): on timeout or
//! cancellation the group gets SIGTERM, then SIGKILL after the grace period
//! (at once on a second Ctrl-C); when the command exits by itself, whatever
//! it left running in its group (`sleep 100 &`) is killed too. A process that leaves
//! the group on purpose (`setsid`) escapes, as in `check-deps`: process
//! groups are a boundary for well-behaved commands, not a sandbox.

use super::runner::{Attempt, AttemptEnd, BoxFuture, LineSink, Outcome, Output, Runner, hard_cancel, pump};
use super::scheduler::Cancel;
use crate::process_group::{Group, Input};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::watch;

/// The `local` runner: a process group per attempt on this machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct Local;

impl Runner for Local {
    fn run<'a>(
        &'a self,
        attempt: &'a Attempt,
        line: LineSink,
        cancel: watch::Receiver<Cancel>,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let mut out = Output::open(attempt, line);
            let end = run(attempt, &mut out, cancel).await;
            out.finish(&end);
            Outcome { end, tail: out.tail, member: "local".into() }
        })
    }
}

async fn run(job: &Attempt, out: &mut Output, mut cancel: watch::Receiver<Cancel>) -> AttemptEnd {
    let start = Instant::now();
    let mut group = match Group::spawn_sh(&job.command, &job.dir, &job.env, Input::Piped) {
        Ok(g) => g,
        Err(e) => {
            return AttemptEnd {
                spawn_error: Some(format!("cannot start sh in {}: {e}", job.dir.display())),
                duration: start.elapsed(),
                ..Default::default()
            };
        }
    };
    let child = group.child();
    if let Some(mut stdin) = child.stdin.take() {
        let text = job.stdin.clone();
        tokio::spawn(async move {
            let _ = stdin.write_all(text.as_bytes()).await;
        });
    }
    let mut rx = pump(child);
    let deadline = tokio::time::Instant::now() + job.timeout;
    let mut end = AttemptEnd::default();
    let mut lines_open = true;
    let status = loop {
        tokio::select! {
            s = group.wait() => break s,
            l = rx.recv(), if lines_open => match l {
                Some((_, b)) => out.take(&b),
                None => lines_open = false,
            },
            _ = tokio::time::sleep_until(deadline) => { end.timed_out = true; break None; }
            c = cancel.changed() => {
                if c.is_err() || *cancel.borrow() != Cancel::None {
                    end.cancelled = true;
                    break None;
                }
            }
        }
    };
    let status = match status {
        Some(s) => {
            // Whatever the command left in its group does not outlive it.
            group.kill_rest();
            Some(s)
        }
        None => {
            // Timeout or cancellation: TERM the group, give it the grace
            // period (none on a hard cancel, or cut short by one), then KILL.
            let hard = *cancel.borrow() == Cancel::Hard;
            let grace = if hard { Duration::ZERO } else { job.grace };
            group.terminate(grace, hard_cancel(cancel.clone())).await
        }
    };
    // Drain what is left of the output; a process that escaped the group
    // and holds the pipes gets half a second, then is given up on.
    let drain_until = tokio::time::Instant::now() + Duration::from_millis(500);
    while lines_open {
        match tokio::time::timeout_at(drain_until, rx.recv()).await {
            Ok(Some((_, b))) => out.take(&b),
            _ => lines_open = false,
        }
    }
    if let Some(s) = status {
        use std::os::unix::process::ExitStatusExt;
        end.code = s.code();
        end.signal = s.signal();
    }
    end.duration = start.elapsed();
    end
}
