//! The `local` runner: one attempt of a task as `sh -c COMMAND` in the
//! checkout, in a process group of its own.
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

use super::scheduler::Cancel;
use crate::process_group::{Group, Input};
use std::collections::VecDeque;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// Lines of output kept for the record's tail.
pub const TAIL_LINES: usize = 20;

/// What one attempt needs.
#[derive(Debug, Clone)]
pub struct Job {
    pub command: String,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub stdin: String,
    pub timeout: Duration,
    pub grace: Duration,
    pub log: PathBuf,
}

/// How an attempt ended.
#[derive(Debug, Clone, Default)]
pub struct AttemptEnd {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub cancelled: bool,
    pub duration: Duration,
    pub spawn_error: Option<String>,
}

impl AttemptEnd {
    pub fn success(&self) -> bool {
        self.code == Some(0) && !self.timed_out && !self.cancelled
    }
    /// Why it failed, for people.
    pub fn reason(&self) -> String {
        if let Some(e) = &self.spawn_error {
            return e.clone();
        }
        if self.cancelled {
            return "cancelled".into();
        }
        if self.timed_out {
            return format!("timed out after {:.1}s", self.duration.as_secs_f64());
        }
        match (self.code, self.signal) {
            (Some(c), _) => format!("exit {c}"),
            (None, Some(s)) => format!("killed by signal {s}"),
            _ => "ended without a status".into(),
        }
    }
}

/// Runs one attempt; each whole line of output goes to `line` and the log.
/// Returns how it ended and the last [`TAIL_LINES`] lines.
pub async fn run(
    job: &Job,
    header: &str,
    mut line: impl FnMut(String) + Send,
    mut cancel: watch::Receiver<Cancel>,
) -> (AttemptEnd, VecDeque<String>) {
    let start = Instant::now();
    let mut tail = VecDeque::new();
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(&job.log).ok();
    if let Some(l) = log.as_mut() {
        let _ = writeln!(l, "{header}");
    }
    let mut group = match Group::spawn_sh(&job.command, &job.dir, &job.env, Input::Piped) {
        Ok(g) => g,
        Err(e) => {
            let end = AttemptEnd {
                spawn_error: Some(format!("cannot start sh in {}: {e}", job.dir.display())),
                duration: start.elapsed(),
                ..Default::default()
            };
            return (end, tail);
        }
    };
    let child = group.child();
    if let Some(mut stdin) = child.stdin.take() {
        let text = job.stdin.clone();
        tokio::spawn(async move {
            let _ = stdin.write_all(text.as_bytes()).await;
        });
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    for stream in [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
    ]
    .into_iter()
    .flatten()
    {
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut r = tokio::io::BufReader::new(stream);
            let mut buf = Vec::new();
            while let Ok(n) = r.read_until(b'\n', &mut buf).await {
                if n == 0 {
                    break;
                }
                let _ = tx.send(std::mem::take(&mut buf));
            }
        });
    }
    drop(tx);
    let mut take_line = |bytes: Vec<u8>, log: &mut Option<std::fs::File>, tail: &mut VecDeque<String>| {
        if let Some(l) = log.as_mut() {
            let _ = l.write_all(&bytes);
            if !bytes.ends_with(b"\n") {
                let _ = l.write_all(b"\n");
            }
        }
        let text = String::from_utf8_lossy(&bytes).trim_end_matches(['\n', '\r']).to_string();
        if tail.len() == TAIL_LINES {
            tail.pop_front();
        }
        tail.push_back(text.clone());
        line(text);
    };
    let deadline = tokio::time::Instant::now() + job.timeout;
    let mut end = AttemptEnd::default();
    let mut lines_open = true;
    let status = loop {
        tokio::select! {
            s = group.wait() => break s,
            l = rx.recv(), if lines_open => match l {
                Some(b) => take_line(b, &mut log, &mut tail),
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
            let mut watch = cancel.clone();
            let hard_cancel = async move {
                loop {
                    if *watch.borrow_and_update() == Cancel::Hard || watch.changed().await.is_err() {
                        return;
                    }
                }
            };
            group.terminate(grace, hard_cancel).await
        }
    };
    // Drain what is left of the output; a process that escaped the group
    // and holds the pipes gets half a second, then is given up on.
    let drain_until = tokio::time::Instant::now() + Duration::from_millis(500);
    while lines_open {
        match tokio::time::timeout_at(drain_until, rx.recv()).await {
            Ok(Some(b)) => take_line(b, &mut log, &mut tail),
            _ => lines_open = false,
        }
    }
    if let Some(s) = status {
        use std::os::unix::process::ExitStatusExt;
        end.code = s.code();
        end.signal = s.signal();
    }
    end.duration = start.elapsed();
    if let Some(l) = log.as_mut() {
        let _ = writeln!(l, "--- {}", if end.success() { "ok".to_string() } else { end.reason() });
    }
    (end, tail)
}
