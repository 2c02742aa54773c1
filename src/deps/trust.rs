//! Trust for `validation.command`s. Commands in YAML are other people's code
//! arriving through pull requests, and `check-deps` runs in hooks and CI, so
//! a command runs only when the SHA-256 of its exact text was approved with
//! `git coord trust`. Approvals live in the local repository's git config
//! (`coord.trusted`, multi-valued) — never in a tracked file, where a pull
//! request could approve its own command. Changing one byte of a command
//! withdraws its approval.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::path::Path;

/// The git config key holding approved command hashes.
pub const CONFIG_KEY: &str = "coord.trusted";

/// Whether commands may run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustPolicy {
    /// Never run a command (the MCP server's choice): commands report unknown.
    Never,
    /// Run commands whose hash is in the set.
    Approved(HashSet<String>),
    /// Run every command (`--trust-all`, `trust_commands: all`).
    All,
}

impl TrustPolicy {
    /// Whether `command` may run.
    pub fn allows(&self, command: &str) -> bool {
        match self {
            TrustPolicy::Never => false,
            TrustPolicy::All => true,
            TrustPolicy::Approved(set) => set.contains(&hash(command)),
        }
    }
}

/// The hex SHA-256 of a command string, as approved.
pub fn hash(command: &str) -> String {
    let digest = Sha256::digest(command.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

fn git(repo: &Path, args: &[&str]) -> Result<std::process::Output> {
    crate::gitcmd::Git::new(repo).output(args)
}

/// The approved hashes of the repository at `repo` (empty outside a repository).
pub fn approved(repo: Option<&Path>) -> Result<HashSet<String>> {
    let Some(repo) = repo else { return Ok(HashSet::new()) };
    let out = git(repo, &["config", "--local", "--get-all", CONFIG_KEY])?;
    // Exit 1 means "no such key": nothing approved yet.
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect())
}

/// Records approval of `command` in the local git config. Returns false when
/// it was already approved.
pub fn approve(repo: Option<&Path>, command: &str) -> Result<bool> {
    let repo = repo.ok_or_else(|| {
        Error::Invalid("trust is recorded in the local git config: run this inside a git repository".into())
    })?;
    let h = hash(command);
    if approved(Some(repo))?.contains(&h) {
        return Ok(false);
    }
    let out = git(repo, &["config", "--local", "--add", CONFIG_KEY, &h])?;
    if !out.status.success() {
        return Err(Error::Invalid(format!(
            "git config --local --add {CONFIG_KEY} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_sha256_of_the_exact_text() {
        assert_eq!(hash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_ne!(hash("echo 1"), hash("echo 1 "));
    }

    #[test]
    fn policies() {
        let set: HashSet<String> = [hash("true")].into_iter().collect();
        let p = TrustPolicy::Approved(set);
        assert!(p.allows("true"));
        assert!(!p.allows("rm -rf /"));
        assert!(TrustPolicy::All.allows("x"));
        assert!(!TrustPolicy::Never.allows("true"));
    }
}
