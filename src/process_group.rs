//! The one way this crate runs a shell command it does not trust to clean up
//! after itself: `sh -c COMMAND` in a process group of its own, ended as a
//! group. Both `check-deps` validation commands (`deps::command`) and
//! execution attempts (`exec::local`) go through it, so "no process of the
//! command outlives it" is implemented (and tested) once.
//!
//! Ending rules: when the command exits by itself, whatever it left in its
//! group (`sleep 100 &`) is killed; on a timeout or cancellation the group
//! gets SIGTERM, a grace period, then SIGKILL (at once when the caller says
//! so: a second Ctrl-C); if the [`Group`] is dropped before any of that (the
//! future running it abandoned), the group is killed. A process that leaves
//! the group on purpose (`setsid`, `setpgid`) escapes: process groups are a
//! boundary for well-behaved commands, not a sandbox.
//!
//! Signals are sent with rustix (no `unsafe`, no libc bindings).

use rustix::process::{Pid, Signal, kill_process_group};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

/// A running `sh -c` command and its process group.
#[derive(Debug)]
pub struct Group {
    child: tokio::process::Child,
    /// The group's ID (the shell's PID); `None` once the group was killed
    /// after the command ended, so a later drop does not signal a recycled ID.
    pgid: Option<Pid>,
}

/// How a [`Group::spawn_sh`] child's stdin is set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Closed: the command reads end-of-file.
    Closed,
    /// A pipe the caller writes (take it with [`Group::child`]).
    Piped,
}

impl Group {
    /// Starts `sh -c command` in `dir` with `env` added, stdout and stderr
    /// piped, in a new process group.
    pub fn spawn_sh(command: &str, dir: &Path, env: &[(String, String)], input: Input) -> std::io::Result<Group> {
        // `/bin/sh` when there is one: no search along a long PATH per task.
        let sh = if std::path::Path::new("/bin/sh").exists() { "/bin/sh" } else { "sh" };
        let mut cmd = tokio::process::Command::new(sh);
        cmd.arg("-c").arg(command).current_dir(dir);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Group::spawn(cmd, input)
    }

    /// Starts `cmd` (a program and its arguments, no shell) the same way:
    /// stdout and stderr piped, in a new process group.
    pub fn spawn(mut cmd: tokio::process::Command, input: Input) -> std::io::Result<Group> {
        cmd.stdin(if input == Input::Piped { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            // The group kill below is what ends it; tokio's own kill-on-drop
            // would reach only the shell.
            .kill_on_drop(false);
        let child = cmd.spawn()?;
        let pgid = child.id().and_then(|p| i32::try_from(p).ok()).and_then(Pid::from_raw);
        Ok(Group { child, pgid })
    }

    /// The shell process, to take its pipes.
    pub fn child(&mut self) -> &mut tokio::process::Child {
        &mut self.child
    }

    /// Waits for the shell to exit (cancel-safe).
    pub async fn wait(&mut self) -> Option<ExitStatus> {
        self.child.wait().await.ok()
    }

    /// Sends `sig` to every process still in the group.
    pub fn signal(&self, sig: Signal) {
        if let Some(pgid) = self.pgid {
            // ESRCH (nobody left) is the normal case after an exit.
            let _ = kill_process_group(pgid, sig);
        }
    }

    /// Ends the group the polite way: SIGTERM, up to `grace` for the shell
    /// to exit, then SIGKILL. `hard` resolving cuts the grace short (a
    /// second Ctrl-C). Then whatever is left in the group is killed.
    pub async fn terminate(
        &mut self,
        grace: Duration,
        hard: impl std::future::Future<Output = ()>,
    ) -> Option<ExitStatus> {
        self.signal(Signal::TERM);
        let status = tokio::select! {
            s = self.child.wait() => s.ok(),
            _ = tokio::time::sleep(grace) => None,
            _ = hard => None,
        };
        let status = match status {
            Some(s) => Some(s),
            None => {
                self.signal(Signal::KILL);
                self.child.wait().await.ok()
            }
        };
        self.kill_rest();
        status
    }

    /// The command is over: kill whatever it left in its group. (A group's
    /// ID is not handed out again while any member lives, so this reaches
    /// only the command's own processes.)
    pub fn kill_rest(&mut self) {
        self.signal(Signal::KILL);
        self.pgid = None;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // Abandoned before it was ended the ordinary way: kill the group.
        self.signal(Signal::KILL);
    }
}

/// Whether process `pid` exists (on this machine; permission denied counts
/// as existing).
pub fn pid_alive(pid: u32) -> bool {
    let Some(p) = i32::try_from(pid).ok().and_then(Pid::from_raw) else { return false };
    match rustix::process::test_kill_process(p) {
        Ok(()) => true,
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// Sends SIGINT to process `pid` (how a run is cancelled from outside, like
/// Ctrl-C). False when there is no such process or it is not ours.
pub fn interrupt(pid: u32) -> bool {
    i32::try_from(pid)
        .ok()
        .and_then(Pid::from_raw)
        .is_some_and(|p| rustix::process::kill_process(p, Signal::INT).is_ok())
}

/// This machine's name.
pub fn hostname() -> String {
    let name = rustix::system::uname().nodename().to_string_lossy().into_owned();
    if name.is_empty() { "unknown".into() } else { name }
}
