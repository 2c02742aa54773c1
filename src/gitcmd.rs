//! Running the `git` binary, for what git-coord writes through git: config,
//! commit, fetch, merge, push, `merge-file`. Reading history goes through gix
//! ([`crate::history`]).

use crate::error::{Error, Result};
use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Output};

/// `git` run in one directory.
pub struct Git<'a> {
    pub dir: &'a Path,
}

impl<'a> Git<'a> {
    pub fn new(dir: &'a Path) -> Self {
        Git { dir }
    }

    /// Runs git and returns its output, whatever the exit status.
    pub fn output<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Output> {
        Command::new("git")
            .args(args)
            .current_dir(self.dir)
            .output()
            .map_err(|e| Error::Git(format!("cannot run git: {e}")))
    }

    /// Runs git; its stdout on success, an error quoting git's message
    /// otherwise.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        let out = self.output(args)?;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
            let msg = if err.is_empty() { String::from_utf8_lossy(&out.stdout).trim().to_string() } else { err };
            return Err(Error::Git(format!("`git {}` failed: {msg}", args.join(" "))));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Whether git succeeds.
    pub fn ok(&self, args: &[&str]) -> bool {
        self.run(args).is_ok()
    }
}
