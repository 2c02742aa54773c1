//! The settings of an `ssh` pool: its hosts (`[user@]host[:port]`) and the
//! `ssh:` mapping (client identity, host keys, extra options, where the
//! checkouts are on the hosts), validated with errors naming the key, and
//! the text an execution approval binds for the pool.
//!
//! Settings are tracked files, so they are treated like commands: options
//! that make the *local* client run a program (`ProxyCommand`,
//! `LocalCommand`, `KnownHostsCommand`, a PKCS#11 or security-key provider
//! library…) are refused, and everything else that decides where and how a
//! task runs is part of the approval's binding ([`SshSettings::binding`]).

use crate::error::{Error, Result};
use crate::model::reader::scalar_text;
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One member of an `ssh` pool.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Host {
    /// As written in settings (`ci@build1:2222`); the member's name in records.
    pub spec: String,
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// Why a host is not `[user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{spec}`: {why} (expected [user@]host[:port])")]
pub struct HostError {
    /// As written.
    pub spec: String,
    /// What is wrong.
    pub why: &'static str,
}

impl Host {
    /// Parses `[user@]host[:port]` (an IPv6 address in brackets: `[::1]:22`).
    pub fn parse(spec: &str) -> std::result::Result<Host, HostError> {
        let bad = |why: &'static str| HostError { spec: spec.to_string(), why };
        if spec.is_empty() || spec.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("empty or contains white space"));
        }
        let (user, rest) = match spec.rsplit_once('@') {
            Some((u, r)) if !u.is_empty() => (Some(u.to_string()), r),
            Some(_) => return Err(bad("empty user")),
            None => (None, spec),
        };
        let (host, port) = if let Some(r) = rest.strip_prefix('[') {
            let (h, after) = r.split_once(']').ok_or_else(|| bad("unclosed `[`"))?;
            match after {
                "" => (h.to_string(), None),
                p => (h.to_string(), Some(p.strip_prefix(':').ok_or_else(|| bad("junk after `]`"))?)),
            }
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (rest.to_string(), None),
            }
        };
        if host.is_empty() || host.starts_with('-') || user.as_deref().is_some_and(|u| u.starts_with('-')) {
            return Err(bad("empty host, or a host or user starting with `-`"));
        }
        let port = match port {
            None => None,
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad("bad port"))?),
        };
        Ok(Host { spec: spec.to_string(), user, host, port })
    }
}

/// `StrictHostKeyChecking`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeys {
    /// Only hosts already in the known-hosts file (the default).
    Yes,
    /// Record a new host's key on first contact, refuse a changed one.
    AcceptNew,
    /// Never check (tests on throwaway hosts only).
    No,
}

impl HostKeys {
    pub fn as_str(self) -> &'static str {
        match self {
            HostKeys::Yes => "yes",
            HostKeys::AcceptNew => "accept-new",
            HostKeys::No => "no",
        }
    }
}

/// The `ssh:` mapping of a pool.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SshSettings {
    /// The client program (default `ssh` on PATH).
    pub program: String,
    /// `-i` (with `IdentitiesOnly=yes`).
    pub identity: Option<PathBuf>,
    /// `UserKnownHostsFile`.
    pub known_hosts: Option<PathBuf>,
    pub strict_host_key_checking: HostKeys,
    /// `-F`: a client configuration instead of `~/.ssh/config`.
    pub config: Option<PathBuf>,
    /// `ConnectTimeout` (default 10s).
    pub connect_timeout: Duration,
    /// More `-o Key=Value` options.
    pub options: Vec<String>,
    /// Where checkouts are on the hosts: `<remote_root>/<checkout's
    /// directory name>`. Default: the same absolute path as here.
    pub remote_root: Option<PathBuf>,
}

impl Default for SshSettings {
    fn default() -> Self {
        SshSettings {
            program: "ssh".into(),
            identity: None,
            known_hosts: None,
            strict_host_key_checking: HostKeys::Yes,
            config: None,
            connect_timeout: Duration::from_secs(10),
            options: Vec::new(),
            remote_root: None,
        }
    }
}

/// `-o` options a tracked settings file may not set: they run local
/// programs, load local libraries, or undo what the runner relies on.
const REFUSED_OPTIONS: &[&str] = &[
    "proxycommand",
    "localcommand",
    "permitlocalcommand",
    "knownhostscommand",
    "pkcs11provider",
    "securitykeyprovider",
    "remotecommand",
    "requesttty",
    "batchmode",
    "stricthostkeychecking",
    "userknownhostsfile",
    "identityfile",
    "include",
    "match",
    "sessiontype",
    "stdinnull",
    "forkafterauthentication",
    "controlmaster",
];

impl SshSettings {
    /// Parses the `ssh:` mapping; `err(key, message)` builds the error.
    pub fn parse(base: &str, v: &Value, err: &dyn Fn(&str, String) -> Error) -> Result<SshSettings> {
        let Value::Mapping(m) = v else { return Err(err(base, "expected a mapping".into())) };
        let mut s = SshSettings::default();
        for (k, v) in m {
            let name = scalar_text(k).unwrap_or_default();
            let key = format!("{base}.{name}");
            let text = || scalar_text(v).ok_or_else(|| err(&key, "expected text".into()));
            let path = || -> Result<PathBuf> {
                let t = text()?;
                let p = match t.strip_prefix("~/") {
                    Some(rest) => {
                        let home =
                            std::env::var_os("HOME").ok_or_else(|| err(&key, "`~/` needs HOME to be set".into()))?;
                        PathBuf::from(home).join(rest)
                    }
                    None => PathBuf::from(&t),
                };
                if !p.is_absolute() {
                    return Err(err(&key, format!("`{t}`: expected an absolute path or one starting with `~/`")));
                }
                Ok(p)
            };
            match name.as_str() {
                "program" => s.program = text()?,
                "identity" | "identity_file" => s.identity = Some(path()?),
                "known_hosts" => s.known_hosts = Some(path()?),
                "config" => s.config = Some(path()?),
                "remote_root" => {
                    let t = text()?;
                    if !t.starts_with('/') {
                        return Err(err(&key, format!("`{t}`: expected an absolute path on the hosts")));
                    }
                    s.remote_root = Some(PathBuf::from(t));
                }
                "strict_host_key_checking" => {
                    s.strict_host_key_checking = match v {
                        Value::Bool(true) => HostKeys::Yes,
                        Value::Bool(false) => HostKeys::No,
                        _ => match text()?.as_str() {
                            "yes" | "true" => HostKeys::Yes,
                            "accept-new" | "accept_new" => HostKeys::AcceptNew,
                            "no" | "false" => HostKeys::No,
                            other => return Err(err(&key, format!("`{other}`: expected yes, accept-new or no"))),
                        },
                    }
                }
                "connect_timeout" => {
                    s.connect_timeout =
                        crate::model::run::parse_duration(&text()?).map_err(|e| err(&key, e.to_string()))?
                }
                "options" => {
                    let items: Vec<String> = match v {
                        Value::Sequence(xs) => xs
                            .iter()
                            .map(|x| scalar_text(x).ok_or_else(|| err(&key, "expected text".into())))
                            .collect::<Result<_>>()?,
                        _ => vec![text()?],
                    };
                    for o in &items {
                        let (name, value) = o
                            .split_once(['=', ' '])
                            .filter(|(n, v)| !n.is_empty() && !v.trim().is_empty())
                            .ok_or_else(|| err(&key, format!("`{o}`: expected Option=value")))?;
                        if o.contains(['\n', '\r', '\0']) {
                            return Err(err(&key, format!("`{name}`: a line break in an option")));
                        }
                        if REFUSED_OPTIONS.contains(&name.trim().to_ascii_lowercase().as_str()) {
                            return Err(err(
                                &key,
                                format!(
                                    "`{name}` is not allowed here: it would run a local program or override \
                                     what the runner sets (use the ssh keys identity, known_hosts, \
                                     strict_host_key_checking, or a client config file in `config`)"
                                ),
                            ));
                        }
                        let _ = value;
                    }
                    s.options = items;
                }
                "description" => {}
                _ => {
                    return Err(err(
                        &key,
                        "unknown key (program, identity, known_hosts, strict_host_key_checking, config, \
                         connect_timeout, options, remote_root)"
                            .into(),
                    ));
                }
            }
        }
        Ok(s)
    }

    /// The checkout's path on a host.
    pub fn remote_dir(&self, local: &Path) -> PathBuf {
        match (&self.remote_root, local.file_name()) {
            (Some(root), Some(name)) => root.join(name),
            _ => local.to_path_buf(),
        }
    }

    /// The client's arguments up to (not including) the destination.
    pub fn client_args(&self, host: &Host) -> Vec<String> {
        let mut a: Vec<String> = vec!["-T".into()];
        let mut opt = |s: String| {
            a.push("-o".into());
            a.push(s);
        };
        // The first value of an option wins in ssh: these come first.
        opt("BatchMode=yes".into());
        opt(format!("StrictHostKeyChecking={}", self.strict_host_key_checking.as_str()));
        opt(format!("ConnectTimeout={}", self.connect_timeout.as_secs().max(1)));
        opt("LogLevel=ERROR".into());
        if let Some(k) = &self.known_hosts {
            opt(format!("UserKnownHostsFile=\"{}\"", k.display()));
        }
        if self.identity.is_some() {
            opt("IdentitiesOnly=yes".into());
        }
        for o in &self.options {
            opt(o.clone());
        }
        if let Some(c) = &self.config {
            a.push("-F".into());
            a.push(c.display().to_string());
        }
        if let Some(i) = &self.identity {
            a.push("-i".into());
            a.push(i.display().to_string());
        }
        if let Some(u) = &host.user {
            a.push("-l".into());
            a.push(u.clone());
        }
        if let Some(p) = host.port {
            a.push("-p".into());
            a.push(p.to_string());
        }
        a.push("--".into());
        a.push(host.host.clone());
        a
    }

    /// What an approval binds for a pool with these hosts: every setting
    /// that decides where and how the command runs, and the text of the
    /// client config file (not of the files it includes).
    pub fn binding(&self, pool: &str, hosts: &[String]) -> String {
        let config_text = self.config.as_ref().map(|c| match std::fs::read(c) {
            Ok(b) => crate::deps::trust::hash(&String::from_utf8_lossy(&b)),
            Err(_) => "unreadable".into(),
        });
        let show = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
        format!(
            "ssh pool {pool}: hosts {}; program {}; identity {}; known_hosts {}; strict {}; config {} {}; \
             options {}; remote_root {}",
            hosts.join(","),
            self.program,
            show(&self.identity),
            show(&self.known_hosts),
            self.strict_host_key_checking.as_str(),
            show(&self.config),
            config_text.unwrap_or_default(),
            self.options.join(","),
            show(&self.remote_root),
        )
    }
}

/// Quotes `s` for a POSIX shell: one single-quoted word.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let h = Host::parse("ci@build1:2222").unwrap();
        assert_eq!((h.user.as_deref(), h.host.as_str(), h.port), (Some("ci"), "build1", Some(2222)));
        let h = Host::parse("[::1]:22").unwrap();
        assert_eq!((h.host.as_str(), h.port), ("::1", Some(22)));
        assert_eq!(Host::parse("b").unwrap().port, None);
        for bad in ["", "a b", "-oProxyCommand=x", "u@", "h:0", "h:x", "[::1", "@h"] {
            assert!(Host::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(sh_quote("a'b"), "'a'\\''b'");
        assert_eq!(sh_quote("$(x) `y`"), "'$(x) `y`'");
    }

    #[test]
    fn refuses_options_that_run_local_programs() {
        let err = |k: &str, m: String| Error::Settings { path: "s".into(), key: k.into(), message: m };
        let v: Value = serde_yaml::from_str("{options: ['ProxyCommand=nc %h %p']}").unwrap();
        let e = SshSettings::parse("pools.f.ssh", &v, &err).unwrap_err().to_string();
        assert!(e.contains("ProxyCommand") && e.contains("not allowed"), "{e}");
        let v: Value = serde_yaml::from_str("{options: ['ServerAliveInterval=15'], identity: rel/key}").unwrap();
        let e = SshSettings::parse("pools.f.ssh", &v, &err).unwrap_err().to_string();
        assert!(e.contains("pools.f.ssh.identity"), "{e}");
    }
}
