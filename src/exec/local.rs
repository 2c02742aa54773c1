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
//! [`crate::process_group`] group and the runners' one wait loop,
//! [`super::runner::supervise`]): on timeout or
//! cancellation the group gets SIGTERM, then SIGKILL after the grace period
//! (at once on a second Ctrl-C); when the command exits by itself, whatever
//! it left running in its group (`sleep 100 &`) is killed too. A process that leaves
//! the group on purpose (`setsid`) escapes, as in `check-deps`: process
//! groups are a boundary for well-behaved commands, not a sandbox.

use super::runner::{Attempt, AttemptEnd, BoxFuture, LineSink, Outcome, Output, Runner, supervise};
use super::scheduler::Cancel;
use crate::process_group::{Group, Input};
use std::time::Instant;
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

async fn run(job: &Attempt, out: &mut Output, cancel: watch::Receiver<Cancel>) -> AttemptEnd {
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
    if let Some(mut stdin) = group.child().stdin.take() {
        let text = job.stdin.clone();
        tokio::spawn(async move {
            let _ = stdin.write_all(text.as_bytes()).await;
        });
    }
    let deadline = tokio::time::Instant::now() + job.timeout;
    let done = supervise(&mut group, |_, b| out.take(&b), deadline, cancel, job.grace, |g, sig| g.signal(sig)).await;
    use std::os::unix::process::ExitStatusExt;
    AttemptEnd {
        code: done.status.and_then(|s| s.code()),
        signal: done.status.and_then(|s| s.signal()),
        timed_out: done.timed_out,
        cancelled: done.cancelled,
        duration: start.elapsed(),
        spawn_error: None,
    }
}
