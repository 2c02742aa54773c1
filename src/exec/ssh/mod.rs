//! The `ssh` runner: a pool of hosts, each attempt run on one of them with
//! the system OpenSSH client, in the repository's path on that host.
//!
//! **What goes over the wire.** The client runs `ssh -T -o BatchMode=yes
//! -o StrictHostKeyChecking=… [-F config] [-i identity] -- host CMD` where
//! CMD is `cd -- '<path>' && exec env 'COORD_…=…'… sh -c '<wrapper>'
//! git-coord-ssh <token> <bytes> <grace> '<command>'`: the path, every
//! variable and the approved command are single-quoted words, the task
//! text is not in CMD at all — it is the first `<bytes>` bytes of stdin,
//! which the wrapper ([`WRAPPER`], POSIX sh) stores in a private temporary
//! file that becomes the command's stdin and `COORD_PROMPT_FILE`.
//!
//! **Ending.** sshd starts the session's command as a process-group leader,
//! so the task and everything it starts share the wrapper's group. The
//! client keeps stdin open for as long as it wants the task, and a watcher
//! in the wrapper reads it: on a timeout or a first Ctrl-C the runner writes
//! `term` (SIGTERM to the remote group), and `kill` (SIGKILL) when the grace
//! period is over or at a second Ctrl-C. End of stdin without them — the
//! local `ssh` or `git coord` itself killed, the connection lost — means
//! SIGTERM, the remote grace period, SIGKILL. When the command exits by
//! itself the wrapper reports its status on stderr and kills the rest of the
//! group (`sleep 100 &`), like the local runner. Locally the client runs in
//! its own process group, killed if it has not come back a margin after
//! `kill`. (No `ssh -tt`: a terminal would mangle output and stdin, and a
//! hang-up is not delivered when the network goes; no second `ssh host
//! kill`: it needs the host reachable when it matters least.)
//!
//! **Members.** `select`: `least_loaded` (default; fewest attempts running
//! on the host, ties in turn), `round_robin`, or `affinity` (a stable hash
//! of the repository picks the host, so a repository always lands on the
//! same one while it is up). A host the client cannot reach (ssh exits 255
//! before the wrapper started) is marked down for the rest of the run and
//! the attempt moves to the next member; when no member is left the
//! attempt fails naming every host and its error.

pub mod settings;

use super::runner::{Attempt, AttemptEnd, BoxFuture, LineSink, Outcome, Output, Runner, Stream, supervise};
use super::scheduler::Cancel;
use crate::process_group::{Group, Input};
use rustix::process::Signal;
use settings::{Host, SshSettings, sh_quote};
use std::sync::Mutex;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};

/// The remote side of an attempt (comment lines are not sent).
pub const WRAPPER: &str = include_str!("wrapper.sh");

/// Member selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Select {
    LeastLoaded,
    RoundRobin,
    Affinity,
}

impl Select {
    pub fn parse(s: Option<&str>) -> Select {
        match s {
            Some("round_robin") => Select::RoundRobin,
            Some("affinity") => Select::Affinity,
            _ => Select::LeastLoaded,
        }
    }
}

#[derive(Debug)]
struct State {
    running: Vec<usize>,
    /// Where round robin (and ties) go next.
    next: usize,
    /// Why a host is down for the rest of the run.
    down: Vec<Option<String>>,
}

/// An `ssh` pool's runner (one per run).
#[derive(Debug)]
pub struct Ssh {
    pool: String,
    hosts: Vec<Host>,
    select: Select,
    settings: SshSettings,
    state: Mutex<State>,
}

/// FNV-1a: stable across runs, machines and Rust versions.
fn stable_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Ssh {
    pub fn new(pool: &super::config::Pool) -> std::result::Result<Ssh, super::runner::RunnerError> {
        let hosts = pool
            .hosts
            .iter()
            .map(|h| {
                Host::parse(h).map_err(|source| super::runner::RunnerError::BadHost { pool: pool.name.clone(), source })
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        if hosts.is_empty() {
            let source = settings::HostError { spec: String::new(), why: "no hosts" };
            return Err(super::runner::RunnerError::BadHost { pool: pool.name.clone(), source });
        }
        let n = hosts.len();
        Ok(Ssh {
            pool: pool.name.clone(),
            hosts,
            select: Select::parse(pool.select.as_deref()),
            settings: pool.ssh.clone().unwrap_or_default(),
            state: Mutex::new(State { running: vec![0; n], next: 0, down: vec![None; n] }),
        })
    }

    /// Picks a member for `repo` and counts the attempt on it; `None` when
    /// every member is down.
    fn pick(&self, repo: &str) -> Option<usize> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let n = self.hosts.len();
        let up = |i: &usize| st.down[*i].is_none();
        let from = |start: usize| (0..n).map(move |k| (start + k) % n);
        let chosen = match self.select {
            Select::RoundRobin => from(st.next).find(up),
            Select::Affinity => from((stable_hash(repo) % n as u64) as usize).find(up),
            Select::LeastLoaded => from(st.next).filter(up).min_by_key(|&i| st.running[i]),
        }?;
        st.running[chosen] += 1;
        if self.select != Select::Affinity {
            st.next = (chosen + 1) % n;
        }
        Some(chosen)
    }

    fn release(&self, i: usize, down: Option<String>) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.running[i] = st.running[i].saturating_sub(1);
        if down.is_some() {
            st.down[i] = down;
        }
    }

    fn down_report(&self) -> String {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.hosts
            .iter()
            .zip(&st.down)
            .map(|(h, d)| format!("{}: {}", h.spec, d.as_deref().unwrap_or("up")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The command line the remote login shell runs.
    fn remote_command(&self, a: &Attempt, token: &str) -> String {
        let dir = self.settings.remote_dir(&a.dir);
        let mut cmd = format!("cd -- {} && exec env", sh_quote(&dir.to_string_lossy()));
        for (k, v) in &a.env {
            let v = match k.as_str() {
                "COORD_REPO_PATH" => dir.to_string_lossy().into_owned(),
                // The wrapper sets it to the file on the host.
                "COORD_PROMPT_FILE" => continue,
                _ => v.clone(),
            };
            cmd.push(' ');
            cmd.push_str(&sh_quote(&format!("{k}={v}")));
        }
        let wrapper: String =
            WRAPPER.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n");
        let grace = a.grace.as_secs_f64().ceil() as u64;
        cmd.push_str(&format!(
            " sh -c {} git-coord-ssh {token} {} {grace} {}",
            sh_quote(&wrapper),
            a.stdin.len(),
            sh_quote(&a.command)
        ));
        cmd
    }
}

/// How one try on one member ended.
enum Try {
    /// The client never reached the wrapper (ssh exit 255): try another.
    Unreachable(String),
    Ended(AttemptEnd),
}

impl Runner for Ssh {
    fn run<'a>(
        &'a self,
        attempt: &'a Attempt,
        line: LineSink,
        cancel: watch::Receiver<Cancel>,
    ) -> BoxFuture<'a, Outcome> {
        Box::pin(async move {
            let start = Instant::now();
            let deadline = tokio::time::Instant::now() + attempt.timeout;
            let mut out = Output::open(attempt, line);
            let mut member = String::new();
            let end = loop {
                if *cancel.borrow() != Cancel::None {
                    break AttemptEnd { cancelled: true, ..Default::default() };
                }
                let Some(i) = self.pick(&attempt.repo) else {
                    break AttemptEnd {
                        spawn_error: Some(format!(
                            "no host of ssh pool `{}` is reachable ({})",
                            self.pool,
                            self.down_report()
                        )),
                        ..Default::default()
                    };
                };
                member = self.hosts[i].spec.clone();
                match self.try_on(i, attempt, &mut out, deadline, cancel.clone()).await {
                    Try::Unreachable(why) => {
                        out.take(format!("git-coord: {member} is unreachable ({why}); trying another host").as_bytes());
                        self.release(i, Some(why));
                    }
                    Try::Ended(end) => {
                        self.release(i, None);
                        break end;
                    }
                }
            };
            let end = AttemptEnd { duration: start.elapsed(), ..end };
            out.finish(&end);
            Outcome { end, tail: out.tail, member }
        })
    }
}

impl Ssh {
    async fn try_on(
        &self,
        i: usize,
        a: &Attempt,
        out: &mut Output,
        deadline: tokio::time::Instant,
        cancel: watch::Receiver<Cancel>,
    ) -> Try {
        let host = &self.hosts[i];
        let token = format!("{:016x}", fastrand::u64(..));
        let mut cmd = tokio::process::Command::new(&self.settings.program);
        cmd.args(self.settings.client_args(host)).arg(self.remote_command(a, &token)).current_dir(&a.dir);
        let mut group = match Group::spawn(cmd, Input::Piped) {
            Ok(g) => g,
            Err(e) => {
                return Try::Ended(AttemptEnd {
                    spawn_error: Some(format!("cannot start `{}`: {e}", self.settings.program)),
                    ..Default::default()
                });
            }
        };
        // stdin: the task text, then the watcher's `term`/`kill` lines; held
        // open until `ctl` is dropped.
        let (ctl, mut ctl_rx) = mpsc::unbounded_channel::<&'static [u8]>();
        if let Some(mut stdin) = group.child().stdin.take() {
            let text = a.stdin.clone();
            tokio::spawn(async move {
                if stdin.write_all(text.as_bytes()).await.is_err() {
                    return;
                }
                let _ = stdin.flush().await;
                while let Some(b) = ctl_rx.recv().await {
                    if stdin.write_all(b).await.is_err() || stdin.flush().await.is_err() {
                        return;
                    }
                }
            });
        }
        let started_tag = format!("git-coord-ssh {token} started ");
        let exit_tag = format!("git-coord-ssh {token} exit ");
        let mut started = false;
        let mut reported: Option<i32> = None;
        let mut last_err = String::new();
        let take = |which: Stream, b: Vec<u8>| {
            if which == Stream::Stderr {
                let text = String::from_utf8_lossy(&b);
                let text = text.trim_end_matches(['\n', '\r']);
                if text.starts_with(&started_tag) {
                    started = true;
                    return;
                }
                if let Some(rc) = text.strip_prefix(&exit_tag) {
                    reported = rc.trim().parse().ok();
                    return;
                }
                if !started && !text.trim().is_empty() {
                    last_err = text.to_string();
                }
            }
            out.take(&b);
        };
        // TERM and KILL go to the remote group as `term`/`kill` lines; the
        // shared loop kills the local client if it has not come back
        // `runner::KILL_MARGIN` after `kill`.
        let stop = |_: &Group, sig: Signal| {
            let _ = ctl.send(if sig == Signal::KILL { b"kill\n".as_slice() } else { b"term\n".as_slice() });
        };
        let done = supervise(&mut group, take, deadline, cancel, a.grace, stop).await;
        drop(ctl);
        let status = done.status;
        let mut end = AttemptEnd { timed_out: done.timed_out, cancelled: done.cancelled, ..Default::default() };
        use std::os::unix::process::ExitStatusExt;
        let code = status.and_then(|s| s.code());
        if !started && !end.timed_out && !end.cancelled {
            if code == Some(255) {
                let why = if last_err.is_empty() { "ssh exited with 255".to_string() } else { last_err };
                return Try::Unreachable(why);
            }
            end.spawn_error = Some(format!(
                "the task did not start on {} ({}){}",
                host.spec,
                code.map_or_else(|| "ssh ended without a status".to_string(), |c| format!("exit {c}")),
                if last_err.is_empty() { String::new() } else { format!(": {last_err}") }
            ));
            end.code = code;
            return Try::Ended(end);
        }
        match reported {
            Some(rc) => end.code = Some(rc),
            None => {
                end.code = code;
                end.signal = status.and_then(|s| s.signal());
            }
        }
        Try::Ended(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(select: &str, hosts: &[&str]) -> Ssh {
        let p = super::super::config::Pool {
            name: "farm".into(),
            runner: super::super::config::RunnerKind::Ssh,
            max_parallel: 4,
            hosts: hosts.iter().map(|h| h.to_string()).collect(),
            select: Some(select.into()),
            endpoint: None,
            selector: None,
            ssh: None,
        };
        Ssh::new(&p).unwrap()
    }

    #[test]
    fn selection() {
        let rr = pool("round_robin", &["a", "b", "c"]);
        let picks: Vec<usize> = (0..4).map(|_| rr.pick("r").unwrap()).collect();
        assert_eq!(picks, [0, 1, 2, 0]);
        let ll = pool("least_loaded", &["a", "b"]);
        let (x, y) = (ll.pick("r").unwrap(), ll.pick("r").unwrap());
        assert_ne!(x, y);
        ll.release(x, None);
        assert_eq!(ll.pick("r"), Some(x), "the idle host");
        let af = pool("affinity", &["a", "b", "c"]);
        let h = af.pick("repo-x").unwrap();
        assert!((0..5).all(|_| af.pick("repo-x") == Some(h)));
        af.release(h, Some("down".into()));
        let other = af.pick("repo-x").unwrap();
        assert_ne!(other, h, "a down host is skipped");
        let one = pool("round_robin", &["a"]);
        let i = one.pick("r").unwrap();
        one.release(i, Some("refused".into()));
        assert_eq!(one.pick("r"), None);
    }
}
