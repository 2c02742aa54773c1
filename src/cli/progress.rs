//! Progress bars (indicatif) for commands that can take more than a second —
//! `check-deps` over many dependencies, `sync`, `log` over a long history,
//! `migrate` of a large legacy section. The library reports progress through
//! [`crate::progress::Progress`]; [`Bar`] draws it on stderr.
//!
//! Only for a person watching: nothing is drawn unless both stdout and
//! stderr are terminals (output piped into a file or another program, and CI
//! logs, get no progress text at all), and nothing until the operation has
//! run for a second (`GIT_COORD_PROGRESS_DELAY_MS` changes that; 0 draws at
//! once), so quick commands never flash a bar. The bar is cleared when the
//! operation ends: it never mixes with the command's output.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long an operation runs before its bar appears, by default.
const DEFAULT_DELAY: Duration = Duration::from_secs(1);

/// A progress bar on stderr, drawn only on a terminal (see the module doc).
pub struct Bar {
    /// `None`: not a terminal, every report is ignored.
    state: Option<Arc<Mutex<State>>>,
    delay: Duration,
}

struct State {
    bar: Option<ProgressBar>,
    finished: bool,
}

impl Bar {
    /// A bar for this process's terminal, or an inert one.
    pub fn new() -> Bar {
        let on_terminal = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        let delay = std::env::var("GIT_COORD_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_DELAY, Duration::from_millis);
        Bar { state: on_terminal.then(|| Arc::new(Mutex::new(State { bar: None, finished: false }))), delay }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Bar::new()
    }
}

fn style(len: u64) -> ProgressStyle {
    let template = if len > 0 { "{msg} [{bar:30}] {pos}/{len} ({elapsed})" } else { "{spinner} {msg} ({elapsed})" };
    ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// Starts drawing (on stderr, ticking so a spinner moves and the elapsed
/// time counts while a step runs).
fn reveal(bar: &ProgressBar) {
    bar.set_draw_target(ProgressDrawTarget::stderr());
    // Drawn now, not at the first tick: a phase may end before it.
    bar.tick();
    bar.enable_steady_tick(Duration::from_millis(120));
}

impl crate::progress::Progress for Bar {
    fn start(&self, len: u64, message: &str) {
        let Some(state) = &self.state else { return };
        let Ok(mut s) = state.lock() else { return };
        if s.finished {
            return;
        }
        match &s.bar {
            Some(bar) => {
                bar.set_style(style(len));
                bar.set_length(len);
                bar.set_position(0);
                bar.set_message(message.to_string());
                // Each phase is shown as it begins (a hidden bar ignores it).
                bar.tick();
            }
            None => {
                let bar = ProgressBar::with_draw_target((len > 0).then_some(len), ProgressDrawTarget::hidden());
                bar.set_style(style(len));
                bar.set_message(message.to_string());
                if self.delay.is_zero() {
                    reveal(&bar);
                } else {
                    // Shown only if the operation is still running after
                    // the delay; `finish` under the same lock wins the race.
                    let (later, delay) = (Arc::clone(state), self.delay);
                    std::thread::spawn(move || {
                        std::thread::sleep(delay);
                        if let Ok(s) = later.lock()
                            && !s.finished
                            && let Some(bar) = &s.bar
                        {
                            reveal(bar);
                        }
                    });
                }
                s.bar = Some(bar);
            }
        }
    }

    fn inc(&self, n: u64) {
        if let Some(state) = &self.state
            && let Ok(s) = state.lock()
            && let Some(bar) = &s.bar
        {
            bar.inc(n);
        }
    }

    fn finish(&self) {
        if let Some(state) = &self.state
            && let Ok(mut s) = state.lock()
        {
            s.finished = true;
            if let Some(bar) = s.bar.take() {
                bar.finish_and_clear();
            }
        }
    }
}
