//! The CLI's one command error: picks the exit code, prints the error, its
//! cause chain and a `hint:` where one helps, naming request fields as flags. A closed pipe (`| head`) is success.

use crate::error::{Error, Hint};
use std::io;

/// An error that ends a command.
#[derive(Debug)]
pub enum CommandError {
    /// A library error (exit 1); request fields named by the flag
    /// convention (`depends_on` → `--depends-on`).
    Lib(Error),
    /// A typed operation's error (exit 1); request fields named by the flags
    /// of the command that sent the request.
    Op {
        /// The error.
        error: Error,
        /// The command's arguments, to name a field as its flag.
        cmd: Box<clap::Command>,
    },
    /// Usage error found after parsing (exit 2).
    Usage(String),
    /// A command refused by the CLI itself, not by the library: an editor
    /// that failed, a PNG for a terminal (exit 1, as a library refusal).
    Refused(String),
    /// The command ran but reports failure (lint errors, problems): it has
    /// already printed its report (exit 1).
    Failed,
    /// Output failed (a closed pipe is treated as success).
    Io(io::Error),
    /// The command has printed its report; exit with this code (a
    /// cancelled run: 130).
    Exit(u8),
}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        CommandError::Lib(e)
    }
}

impl From<io::Error> for CommandError {
    fn from(e: io::Error) -> Self {
        CommandError::Io(e)
    }
}

/// Result of a command.
pub type CmdResult = Result<(), CommandError>;

/// How the CLI names a request field: the command's flag for it when the
/// command is known, else the flag convention.
fn flag(cmd: Option<&clap::Command>, field: &str) -> String {
    match cmd {
        Some(cmd) => crate::cli::commands::common::flag_of(cmd, field),
        None => format!("--{}", field.replace('_', "-")),
    }
}

/// A hint in the CLI's words: flags and `git coord` commands.
fn hint_text(h: &Hint, cmd: Option<&clap::Command>) -> String {
    match h {
        Hint::SetField { field, effect } => format!("{} {effect}", flag(cmd, field)),
        Hint::Operation { command, field, effect } => {
            let with = field.map(|f| format!(" {}", flag(None, f))).unwrap_or_default();
            format!("`git coord {command}{with}` {effect}")
        }
        Hint::InsideRepository => "run it inside a git repository, or point at one with -C DIR".into(),
    }
}

/// The lines the CLI prints for a library error: `error:` lines, then one
/// `  caused by:` line per cause, then `hint:` lines.
pub fn render(e: &Error, cmd: Option<&clap::Command>) -> Vec<String> {
    let r = e.render(&|f| flag(cmd, f));
    let mut out: Vec<String> = r.lines.iter().map(|l| format!("error: {l}")).collect();
    out.extend(r.causes.iter().map(|c| format!("  caused by: {c}")));
    out.extend(r.hints.iter().map(|h| format!("hint: {}", hint_text(h, cmd))));
    out
}

impl CommandError {
    /// Prints the error and returns the exit code.
    pub fn report(self) -> u8 {
        match self {
            CommandError::Lib(e) => {
                render(&e, None).iter().for_each(|l| eprintln!("{l}"));
                1
            }
            CommandError::Op { error, cmd } => {
                render(&error, Some(&cmd)).iter().for_each(|l| eprintln!("{l}"));
                1
            }
            CommandError::Usage(msg) => {
                eprintln!("error: {msg}");
                2
            }
            CommandError::Refused(msg) => {
                eprintln!("error: {msg}");
                1
            }
            CommandError::Failed => 1,
            CommandError::Exit(code) => code,
            CommandError::Io(e) if e.kind() == io::ErrorKind::BrokenPipe => 0,
            CommandError::Io(e) => {
                eprintln!("error: {e}");
                1
            }
        }
    }
}
