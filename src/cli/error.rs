//! The CLI's one command error: picks the exit code, prints the cause and a
//! `hint:` where one helps. A closed pipe (`| head`) is success.

use crate::error::Error;
use std::io;

/// An error that ends a command.
#[derive(Debug)]
pub enum CommandError {
    /// A library error (exit 1).
    Lib(Error),
    /// Request fields that break a rule, each already named as its flag
    /// (exit 1).
    Fields(Vec<String>),
    /// Usage error found after parsing (exit 2).
    Usage(String),
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

fn hint(e: &Error) -> Option<&'static str> {
    match e {
        Error::NotFound { kind, .. } => Some(match kind {
            crate::model::Kind::Issue => "list issues with `git coord list-issues`",
            crate::model::Kind::Plan => "list plans with `git coord list-plans`",
            crate::model::Kind::Todo => "list todos with `git coord list-todos`",
            crate::model::Kind::Dependency => "list dependencies with `git coord list-deps`",
        }),
        Error::Yaml { .. } | Error::Broken { .. } => Some("`git coord lint` lists every problem in the data"),
        Error::RewriteRefused(_) => {
            Some("pass --rewrite to rewrite the file canonically (dropping its comments and anchors)")
        }
        _ => None,
    }
}

impl CommandError {
    /// Prints the error and returns the exit code.
    pub fn report(self) -> u8 {
        match self {
            CommandError::Lib(e) => {
                eprintln!("error: {e}");
                if let Some(h) = hint(&e) {
                    eprintln!("hint: {h}");
                }
                1
            }
            CommandError::Fields(lines) => {
                for l in lines {
                    eprintln!("error: {l}");
                }
                1
            }
            CommandError::Usage(msg) => {
                eprintln!("error: {msg}");
                2
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
