//! Real OpenSSH servers for the SSH pool tests: each [`Farm`] starts its own
//! `sshd -D` processes on free 127.0.0.1 ports, as the current user, with a
//! host key, a user key, `authorized_keys`, a known-hosts file and an
//! (empty) client config generated in a temp directory — nothing in HOME or
//! /etc is used, so the pool settings the tests write are the whole client
//! setup. The servers are killed when the farm is dropped.
//!
//! sshd comes from `GIT_COORD_SSHD` (set by `scripts/test`), else
//! `/usr/sbin/sshd`; without one (or without its privilege-separation
//! directory, which only root can create) the tests print "skipped: …" and
//! return, or fail under `GIT_COORD_REQUIRE_SERVICES=1`.

use crate::services;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Running sshd servers that share one host key and accept one user key.
pub struct Farm {
    _tmp: tempfile::TempDir,
    pub dir: PathBuf,
    sshd: PathBuf,
    servers: Vec<Option<(u16, Child)>>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn keygen(path: &Path) {
    let st = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "git-coord-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .status()
        .expect("ssh-keygen");
    assert!(st.success(), "ssh-keygen failed");
}

impl Farm {
    /// `n` servers, or `None` (skipped) when sshd is not available.
    pub fn start(n: usize) -> Option<Farm> {
        let sshd = std::env::var_os("GIT_COORD_SSHD")
            .map(PathBuf::from)
            .or_else(|| Some(PathBuf::from("/usr/sbin/sshd")).filter(|p| p.exists()));
        let Some(sshd) = sshd else {
            services::missing("OpenSSH server: set GIT_COORD_SSHD (scripts/test installs openssh-server)")?;
            unreachable!()
        };
        // sshd refuses to start without its privilege-separation directory
        // (the package creates it when its service starts).
        let privsep = Path::new("/run/sshd");
        if !privsep.is_dir() && std::fs::create_dir_all(privsep).is_err() {
            services::missing("sshd needs /run/sshd (create it as root)")?;
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().canonicalize().unwrap();
        keygen(&dir.join("host_key"));
        keygen(&dir.join("user_key"));
        std::fs::copy(dir.join("user_key.pub"), dir.join("authorized_keys")).unwrap();
        std::fs::write(dir.join("client_config"), "# empty: no ~/.ssh/config, no /etc/ssh/ssh_config\n").unwrap();
        let mut farm = Farm { _tmp: tmp, dir, sshd, servers: Vec::new() };
        for _ in 0..n {
            farm.add_server();
        }
        farm.write_known_hosts();
        Some(farm)
    }

    fn add_server(&mut self) {
        for _ in 0..5 {
            let port = free_port();
            let i = self.servers.len();
            let config = self.dir.join(format!("sshd_config.{i}"));
            std::fs::write(
                &config,
                format!(
                    "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
                     PidFile {d}/sshd.{i}.pid\nStrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n\
                     PasswordAuthentication no\nKbdInteractiveAuthentication no\nLogLevel ERROR\n\
                     MaxStartups 100\nMaxSessions 100\n",
                    d = self.dir.display()
                ),
            )
            .unwrap();
            let log = std::fs::File::create(self.dir.join(format!("sshd.{i}.log"))).unwrap();
            let mut child = Command::new(&self.sshd)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start sshd");
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    self.servers.push(Some((port, child)));
                    return;
                }
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("sshd did not start: {}", std::fs::read_to_string(self.dir.join("sshd.0.log")).unwrap_or_default());
    }

    fn write_known_hosts(&self) {
        let key = std::fs::read_to_string(self.dir.join("host_key.pub")).unwrap();
        let lines: String =
            self.ports().iter().map(|p| format!("[127.0.0.1]:{p} {}", key.trim())).collect::<Vec<_>>().join("\n");
        std::fs::write(self.dir.join("known_hosts"), lines + "\n").unwrap();
    }

    /// The ports of the servers (a stopped one keeps its place).
    pub fn ports(&self) -> Vec<u16> {
        self.servers.iter().flatten().map(|(p, _)| *p).collect()
    }

    /// `127.0.0.1:<port>` of server `i`.
    pub fn host(&self, i: usize) -> String {
        format!("127.0.0.1:{}", self.servers[i].as_ref().expect("running").0)
    }

    /// The `ssh:` settings mapping (flow style) for a pool on this farm.
    pub fn ssh_settings(&self) -> String {
        format!(
            "{{identity: {d}/user_key, known_hosts: {d}/known_hosts, config: {d}/client_config, \
             strict_host_key_checking: yes, connect_timeout: 5s}}",
            d = self.dir.display()
        )
    }
}

impl Drop for Farm {
    fn drop(&mut self) {
        for (_, mut c) in self.servers.drain(..).flatten() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
