//! Where a member repository's CI finds the coordination data (`gate
//! --coord DIR|URL`): a checkout used as it is, or a repository cloned
//! shallowly into the user's cache and refreshed by fetch.
//!
//! A URL (`https://`, `http://`, `ssh://`, `git://`, `file://`, or scp-like
//! `git@host:org/coord.git`) and a path to a bare repository are cloned
//! (`git clone --depth 1`) into `$XDG_CACHE_HOME/git-coord/coord/<key>`
//! (else `~/.cache/git-coord/coord/<key>`), the key being a hash of the URL;
//! the next run fetches the remote's HEAD (`--depth 1`) and resets the
//! cache's work tree to it. The cache is git-coord's own: nothing else
//! should work in it. A lock file keeps two runs from refreshing one cache
//! at once. Other transports (`ext::`, `fd::`) are refused, and git never
//! prompts.
//!
//! A fresh clone carries no local git config, so no approval of a
//! validation command comes with it: in a clone, commands run only when
//! trust comes from the environment of the run (`GIT_COORD_TRUST_ALL=1`,
//! `--trust-all`).

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Where the coordination data came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A checkout, used in place.
    Checkout(PathBuf),
    /// A clone in the cache of this URL (or bare repository).
    Clone {
        /// The URL as given (shown redacted).
        url: String,
        /// The cache directory holding the clone.
        dir: PathBuf,
    },
}

impl Source {
    /// The directory to open the store from.
    pub fn dir(&self) -> &Path {
        match self {
            Source::Checkout(d) => d,
            Source::Clone { dir, .. } => dir,
        }
    }

    /// Whether the data is a clone (no local approvals can exist).
    pub fn is_clone(&self) -> bool {
        matches!(self, Source::Clone { .. })
    }

    /// For reports: the path, or the URL with credentials redacted.
    pub fn shown(&self) -> String {
        match self {
            Source::Checkout(d) => crate::display::escape_controls(&d.display().to_string()).into_owned(),
            Source::Clone { url, .. } => crate::display::shown(url),
        }
    }
}

/// True for the URL forms git-coord clones; `None` when `spec` is not a URL
/// at all, `Some(Err)` for a URL of a refused transport.
fn url_kind(spec: &str) -> Option<std::result::Result<(), RefusedUrl>> {
    if let Some((scheme, _)) = spec.split_once("://") {
        let ok = matches!(scheme.to_ascii_lowercase().as_str(), "https" | "http" | "ssh" | "git" | "file");
        return Some(if ok { Ok(()) } else { Err(RefusedUrl::Transport(scheme.to_string())) });
    }
    if spec.contains("::") {
        return Some(Err(RefusedUrl::RemoteHelper));
    }
    // scp-like `[user@]host:path`: a colon before any slash.
    match (spec.find(':'), spec.find('/')) {
        (Some(c), slash) if c > 0 && slash.is_none_or(|s| c < s) => Some(Ok(())),
        _ => None,
    }
}

/// A URL of a form git-coord does not clone.
#[derive(Debug, PartialEq, Eq)]
enum RefusedUrl {
    /// A transport other than https, http, ssh, git and file.
    Transport(String),
    /// A git remote helper (`transport::address`).
    RemoteHelper,
}

impl RefusedUrl {
    /// What was expected instead, for `Error::InvalidValue`.
    fn expected(&self) -> String {
        match self {
            RefusedUrl::Transport(scheme) => {
                format!("a transport git-coord clones (https, http, ssh, git, file), not `{scheme}://`")
            }
            RefusedUrl::RemoteHelper => "a URL or directory, not a git remote helper (`transport::address`)".into(),
        }
    }
}

fn is_bare_repository(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir()
}

/// Resolves `--coord`: a path (relative to `base`) to a checkout is used in
/// place; a URL or a bare repository is cloned into the cache or refreshed.
pub fn resolve(spec: &str, base: &Path) -> Result<Source> {
    let spec = spec.trim();
    if spec.is_empty() || spec.starts_with('-') {
        return Err(Error::InvalidValue {
            field: "coord".into(),
            value: crate::display::shown(spec),
            expected: "a directory or a URL".into(),
        });
    }
    let path = base.join(spec);
    if path.is_dir() {
        let path = path.canonicalize().map_err(|e| Error::io(&path, e))?;
        if is_bare_repository(&path) {
            let url = format!("file://{}", path.display());
            return clone_or_refresh(&url);
        }
        return Ok(Source::Checkout(path));
    }
    match url_kind(spec) {
        Some(Ok(())) => clone_or_refresh(spec)
            .map_err(|e| e.context(format!("cannot fetch the coordination data from {}", crate::display::shown(spec)))),
        Some(Err(why)) => Err(Error::InvalidValue {
            field: "coord".into(),
            value: crate::display::shown(spec),
            expected: why.expected(),
        }),
        None => Err(Error::InvalidValue {
            field: "coord".into(),
            value: crate::display::escape_controls(&path.display().to_string()).into_owned(),
            expected: "an existing directory or a URL".into(),
        }),
    }
}

/// The cache root: `$XDG_CACHE_HOME/git-coord`, else `~/.cache/git-coord`.
pub fn cache_root() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_CACHE_HOME").filter(|x| !x.is_empty()).map(PathBuf::from)
        && x.is_absolute()
    {
        return Ok(x.join("git-coord"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".cache/git-coord")),
        None => Err(Error::system(
            "find a cache directory for clones (set XDG_CACHE_HOME or HOME)",
            "neither XDG_CACHE_HOME nor HOME is set",
        )),
    }
}

/// The cache directory for a URL.
pub fn cache_dir(url: &str) -> Result<PathBuf> {
    let key: String = Sha256::digest(url.as_bytes()).iter().take(10).map(|b| format!("{b:02x}")).collect();
    Ok(cache_root()?.join("coord").join(key))
}

fn git(dir: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Git(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let err = crate::display::shown(String::from_utf8_lossy(&out.stderr).trim());
        let shown: Vec<String> = args.iter().map(|a| crate::display::shown(a)).collect();
        return Err(Error::Git(format!("`git {}` failed: {err}", shown.join(" "))));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn clone_or_refresh(url: &str) -> Result<Source> {
    let dir = cache_dir(url)?;
    let parent = dir.parent().expect("the cache dir has a parent").to_path_buf();
    std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    let lock_path = dir.with_extension("lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| Error::io(&lock_path, e))?;
    lock.lock().map_err(|e| Error::io(&lock_path, e))?;
    let same_origin = dir.join(".git").is_dir()
        && git(&dir, &["config", "--local", "--get", "remote.origin.url"]).is_ok_and(|u| u.trim() == url);
    if same_origin {
        git(&dir, &["fetch", "--quiet", "--depth", "1", "origin", "HEAD"])?;
        git(&dir, &["reset", "--quiet", "--hard", "FETCH_HEAD"])?;
        git(&dir, &["clean", "-fdxq"])?;
    } else {
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
        let tmp = tempfile::Builder::new().prefix(".clone-").tempdir_in(&parent).map_err(|e| Error::io(&parent, e))?;
        let into = tmp.path().join("repo");
        let into_s = into.to_string_lossy().into_owned();
        git(&parent, &["clone", "--quiet", "--depth", "1", "--no-tags", "--", url, &into_s])?;
        std::fs::rename(&into, &dir).map_err(|e| Error::io(&dir, e))?;
    }
    drop(lock);
    Ok(Source::Clone { url: url.to_string(), dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_refused_transports() {
        assert_eq!(url_kind("https://example.com/org/coord.git"), Some(Ok(())));
        assert_eq!(url_kind("file:///srv/coord.git"), Some(Ok(())));
        assert_eq!(url_kind("git@example.com:org/coord.git"), Some(Ok(())));
        assert!(matches!(url_kind("ext::sh -c touch% /tmp/x"), Some(Err(_))));
        assert!(matches!(url_kind("fd::3"), Some(Err(_))));
        assert!(matches!(url_kind("gopher://x/y"), Some(Err(_))));
        assert_eq!(url_kind("../coord"), None);
        assert_eq!(url_kind("./a:b"), None);
    }

    #[test]
    fn cache_keys_differ_per_url() {
        let a = cache_dir("file:///a").unwrap();
        let b = cache_dir("file:///b").unwrap();
        assert_ne!(a, b);
        assert_eq!(a, cache_dir("file:///a").unwrap());
    }
}
