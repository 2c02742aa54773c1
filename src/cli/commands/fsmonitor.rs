//! `fsmonitor`: start, stop and ask about the file-system monitor of this
//! coordination root ([`crate::index::monitor`]), and `fsmonitor run`, the
//! daemon itself (what `start` runs in the background).

use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render;
use crate::error::Error;
use crate::index::monitor::{self, Paths, daemon};
use std::io::Write;
use std::time::{Duration, Instant};

/// A file-system monitor for the index: a daemon watching the entity
/// directories with inotify, so commands learn which files changed instead
/// of checking every file (git's `core.fsmonitor` for git-coord's index).
/// Opt-in: `fsmonitor start`, or `git config coord.fsmonitor true` for
/// commands to start it when none runs. Commands work the same without it,
/// only slower on very large roots. Linux only.
#[derive(Debug, clap::Args)]
pub struct FsmonitorArgs {
    #[command(subcommand)]
    pub action: FsmonitorAction,
}

/// What to do.
#[derive(Debug, clap::Subcommand)]
pub enum FsmonitorAction {
    /// Start the monitor in the background (nothing happens when one runs).
    Start {
        /// Stop after this long without a command asking (`30m`, `8h`).
        #[arg(long, value_name = "DURATION", default_value = "8h", value_parser = crate::deps::watch::parse_interval)]
        idle_timeout: Duration,
    },
    /// Stop the monitor.
    Stop,
    /// Whether a monitor runs, and what it watches.
    Status {
        #[arg(long, value_enum, default_value_t)]
        format: render::Format,
    },
    /// Run the monitor in the foreground (what `start` runs).
    Run {
        #[arg(long, value_name = "DURATION", default_value = "8h", value_parser = crate::deps::watch::parse_interval)]
        idle_timeout: Duration,
        /// Changed names remembered before answering "check everything".
        #[arg(long, default_value_t = 100_000, hide = true)]
        max_changes: usize,
    },
}

/// `fsmonitor …`
pub fn run(cx: &Context, a: &FsmonitorArgs) -> CmdResult {
    let store = cx.store()?;
    let (Some(git_dir), Some(prefix)) = (store.root.git_dir(), store.root.prefix_in_repo()) else {
        return Err(Error::NeedsRepo("fsmonitor").into());
    };
    let paths = Paths::of(&git_dir, &prefix);
    let mut w = render::out();
    match &a.action {
        FsmonitorAction::Run { idle_timeout, max_changes } => {
            let opts =
                daemon::Options { root: store.root.dir.clone(), paths, idle: *idle_timeout, max_changes: *max_changes };
            daemon::run(&opts)?;
        }
        FsmonitorAction::Start { idle_timeout } => {
            if let Some(st) = monitor::status(&paths)? {
                writeln!(w, "the monitor is already running (pid {})", st.pid)?;
                return Ok(());
            }
            let pid = monitor::spawn(&store.root.dir, *idle_timeout).map_err(|e| Error::io("git-coord", e))?;
            // Ready when it answers (it binds its socket after its watches).
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                if let Some(st) = monitor::status(&paths)? {
                    writeln!(w, "started the monitor (pid {}), watching {}", st.pid, st.watching.join(", "))?;
                    return Ok(());
                }
                if Instant::now() > deadline {
                    return Err(CommandError::Refused(format!(
                        "the monitor (pid {pid}) did not answer within 5 s; `git coord fsmonitor run` shows why"
                    )));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        FsmonitorAction::Stop => {
            if monitor::stop(&paths) {
                // Gone when its socket is.
                let deadline = Instant::now() + Duration::from_secs(5);
                while paths.socket.exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                writeln!(w, "stopped the monitor")?;
            } else {
                writeln!(w, "no monitor is running")?;
            }
        }
        FsmonitorAction::Status { format } => {
            let st = monitor::status(&paths)?;
            let v = serde_json::json!({ "running": st.is_some(), "monitor": st });
            if *format == render::Format::Json {
                writeln!(w, "{}", serde_json::to_string_pretty(&v).map_err(|e| Error::system("encode JSON", e))?)?;
            } else if *format == render::Format::Yaml {
                write!(w, "{}", serde_yaml::to_string(&v).map_err(|e| Error::system("encode YAML", e))?)?;
            } else {
                match st {
                    Some(st) => writeln!(
                        w,
                        "running (pid {}, up {} s), watching {}; {} changed names remembered",
                        st.pid,
                        st.uptime_seconds,
                        st.watching.join(", "),
                        st.changes
                    )?,
                    None => writeln!(w, "not running")?,
                }
            }
        }
    }
    Ok(())
}
