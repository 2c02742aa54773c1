//! Health checks: one HTTP GET with a connect timeout and a total timeout,
//! redirects not followed unless the check says `follow_redirects: true` (a
//! 301 is reported as a 301, not as whatever it points at), no proxy from the environment. Failures are classified —
//! connection refused, timeout, TLS error, wrong status — because "it failed"
//! does not tell anyone what to fix.

use std::error::Error as _;
use std::time::{Duration, Instant};

/// The outcome of one GET.
#[derive(Debug, Clone)]
pub struct Probe {
    /// The status received, if a response came.
    pub status: Option<u16>,
    pub latency: Duration,
    /// Why no response came: `connection refused`, `timeout`, `TLS error: …`, ….
    pub failure: Option<String>,
}

/// Redirects followed when a check sets `validation.follow_redirects: true`.
pub const MAX_REDIRECTS: usize = 10;

/// Builds a client shared by the checks of a run: one that follows no
/// redirect, and one (for `follow_redirects: true`) that follows up to
/// [`MAX_REDIRECTS`].
pub fn client(timeout: Duration, follow_redirects: bool) -> crate::Result<reqwest::Client> {
    let policy = if follow_redirects {
        reqwest::redirect::Policy::limited(MAX_REDIRECTS)
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .redirect(policy)
        .no_proxy()
        .build()
        .map_err(|e| crate::Error::system("build the HTTP client", e))
}

fn classify(e: &reqwest::Error) -> String {
    let mut chain = Vec::new();
    let mut invalid_data = false;
    let mut src: Option<&dyn std::error::Error> = e.source();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::TimedOut => return "timeout".into(),
                // tokio-rustls reports handshake failures as invalid data.
                std::io::ErrorKind::InvalidData => invalid_data = true,
                _ => {}
            }
        }
        chain.push(s.to_string());
        src = s.source();
    }
    if e.is_timeout() {
        return "timeout".into();
    }
    let detail = chain.last().cloned().unwrap_or_else(|| e.to_string());
    let lower = chain.join(" ").to_ascii_lowercase();
    if (invalid_data && e.is_connect())
        || ["tls", "certificate", "handshake", "rustls", "corrupt message", "alert"].iter().any(|w| lower.contains(w))
    {
        return format!("TLS error: {detail}");
    }
    if e.is_connect() {
        return format!("connection failed: {detail}");
    }
    if e.is_builder() {
        return format!("invalid URL: {detail}");
    }
    format!("request failed: {detail}")
}

/// GETs `url`.
pub async fn probe(client: &reqwest::Client, url: &str) -> Probe {
    let start = Instant::now();
    match client.get(url).send().await {
        Ok(resp) => Probe { status: Some(resp.status().as_u16()), latency: start.elapsed(), failure: None },
        Err(e) => Probe { status: None, latency: start.elapsed(), failure: Some(classify(&e)) },
    }
}
