//! A progress indicator (indicatif) for commands that can take more than a
//! second — `check-deps` over many dependencies, `sync`, `log` over a long
//! history, `migrate` of a large legacy section — so a person at a terminal
//! sees that work is under way. It draws on stderr, and only when both
//! stdout and stderr are terminals: output piped into a file or another
//! program, and CI logs, get no progress lines at all.
//!
//! The library reports no intermediate steps, so this is a spinner with the
//! elapsed time around the whole operation, cleared when it ends.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Runs `work` with a spinner saying `message` (when on a terminal).
pub fn with_spinner<T>(message: &str, work: impl FnOnce() -> T) -> T {
    if !(std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
        return work();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    let out = work();
    bar.finish_and_clear();
    out
}
