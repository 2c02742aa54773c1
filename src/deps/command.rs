//! Running a `validation.command`: `sh -c` in its own process group (the
//! shared [`crate::process_group`] runner), stdin closed, stdout and stderr
//! captured (capped in memory) and truncated for display. When the command
//! exits, or its deadline passes (SIGTERM, a grace period, SIGKILL), the
//! whole group is ended, so nothing it started in the background
//! (`sleep 100 &`, with or without its output redirected) outlives the
//! check. A process that leaves the group on purpose (`setsid`, `setpgid`)
//! escapes: process groups are the boundary, not a sandbox.

use crate::process_group::{Group, Input};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// Bytes of output kept in memory per stream (the rest is drained).
const CAPTURE_LIMIT: usize = 1 << 20;
/// Characters of output shown in a report.
pub const DISPLAY_LIMIT: usize = 2000;

/// What running a command produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Exit code; `None` when killed or ended by a signal.
    pub code: Option<i32>,
    /// stdout followed by stderr.
    pub output: String,
    pub timed_out: bool,
    pub elapsed: Duration,
    /// Set when the command could not be started.
    pub spawn_error: Option<String>,
}

async fn drain(mut r: impl tokio::io::AsyncRead + Unpin) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match r.read(&mut buf).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = CAPTURE_LIMIT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
}

/// How long a timed-out command gets between SIGTERM and SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// Runs `command` through `sh -c` in `dir` with a deadline.
pub async fn run(command: &str, dir: &Path, timeout: Duration) -> RunOutput {
    let start = Instant::now();
    let mut group = match Group::spawn_sh(command, dir, &[], Input::Closed) {
        Ok(g) => g,
        Err(e) => {
            return RunOutput {
                code: None,
                output: String::new(),
                timed_out: false,
                elapsed: start.elapsed(),
                spawn_error: Some(format!("cannot start sh: {e}")),
            };
        }
    };
    let out = tokio::spawn(drain(group.child().stdout.take().expect("stdout is piped")));
    let err = tokio::spawn(drain(group.child().stderr.take().expect("stderr is piped")));
    let deadline = tokio::time::Instant::now() + timeout;
    let (code, mut timed_out) = match tokio::time::timeout_at(deadline, group.wait()).await {
        Ok(status) => (status.and_then(|s| s.code()), false),
        Err(_) => (None, true),
    };
    // The command is over (it exited or ran out of time): so is everything
    // it started. Out of time: SIGTERM, a grace period, SIGKILL; exited:
    // background children still in its group — whether or not they hold
    // our pipes — are killed now, not left running after the check. If this
    // future is dropped first (`watch` stopping mid-round), dropping the
    // group kills it.
    if timed_out {
        group.terminate(GRACE, std::future::pending()).await;
    } else {
        group.kill_rest();
    }
    // A process that left the group (setsid) escapes the kill; if it holds
    // the pipes open it cannot hold the report hostage: the readers get what
    // is left of the deadline, then a moment, then are given up.
    let readers = async { (out.await.unwrap_or_default(), err.await.unwrap_or_default()) };
    tokio::pin!(readers);
    let (o, e) = match tokio::time::timeout_at(deadline, &mut readers).await {
        Ok(v) => v,
        Err(_) => {
            timed_out = true;
            tokio::time::timeout(Duration::from_millis(500), &mut readers).await.unwrap_or_default()
        }
    };
    let mut output = String::from_utf8_lossy(&o).into_owned();
    if !e.is_empty() {
        if !output.is_empty() && !output.ends_with('\n') {
            output.push('\n');
        }
        output.push_str(&String::from_utf8_lossy(&e));
    }
    RunOutput { code, output, timed_out, elapsed: start.elapsed(), spawn_error: None }
}

/// `text` cut to [`DISPLAY_LIMIT`] characters, marked when cut.
pub fn truncate(text: &str) -> String {
    let text = text.trim_end();
    match text.char_indices().nth(DISPLAY_LIMIT) {
        Some((i, _)) => format!("{}… [{} more bytes]", &text[..i], text.len() - i),
        None => text.to_string(),
    }
}
