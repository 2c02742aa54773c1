//! Where events go: a generic webhook (a JSON array of one event per POST,
//! `Idempotency-Key: <event id>`, an optional bearer token read from an
//! environment variable named in settings) and Session-Buddy, the
//! ecosystem's memory service, spoken to over MCP (streamable HTTP) with
//! the shared rmcp client ([`crate::mcp_client`]): `store_reflection` to
//! store, `quick_search` to search.
//!
//! Each sink owns a small current-thread runtime: delivery is sequential
//! by design (order matters), and commands that never deliver never start one.

use crate::error::{Error, Result};
use crate::mcp_client::error_chain;
use crate::settings::Webhook;
use serde_json::{Value, json};
use std::time::Duration;

/// A delivery target.
pub trait Sink {
    /// Its name in the outbox (`webhook`, `session_buddy`).
    fn name(&self) -> &'static str;
    /// Delivers one event (its JSON); the error is what to record.
    fn deliver(&mut self, id: &str, payload: &str) -> std::result::Result<(), SinkError>;
}

/// Why a delivery or a call to the memory service failed (recorded as the
/// outbox row's `last_error`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The webhook's token variable is not set.
    #[error("environment variable {var} (memory.webhook.token_env) is not set")]
    TokenUnset {
        /// The variable.
        var: String,
    },
    /// The request failed (connection, TLS, protocol); the cause chain.
    #[error("{url}: {chain}")]
    Transport {
        /// The service.
        url: String,
        /// The client's error and its causes.
        chain: String,
    },
    /// The webhook answered with an error status.
    #[error("{url}: HTTP {status}")]
    Status {
        /// The webhook.
        url: String,
        /// The status line's code and reason.
        status: String,
    },
    /// The MCP service failed (Session-Buddy).
    #[error(transparent)]
    Mcp(#[from] crate::mcp_client::McpError),
    /// An outbox payload that is not an event.
    #[error("bad event payload: {0}")]
    Payload(String),
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::system("start the async runtime", e))
}

/// The generic webhook.
pub struct WebhookSink {
    rt: tokio::runtime::Runtime,
    client: reqwest::Client,
    url: String,
    token: std::result::Result<Option<String>, SinkError>,
}

impl WebhookSink {
    /// A webhook sink; a missing token variable fails each delivery (saying
    /// which variable), so events stay pending until it is set.
    pub fn new(w: &Webhook) -> Result<WebhookSink> {
        let token = match &w.token_env {
            None => Ok(None),
            Some(var) => match std::env::var(var) {
                Ok(t) if !t.is_empty() => Ok(Some(t)),
                _ => Err(SinkError::TokenUnset { var: var.clone() }),
            },
        };
        let rt = runtime()?;
        // The client's timers belong to the runtime it is built in.
        let _entered = rt.enter();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| Error::system("build an HTTP client", e))?;
        drop(_entered);
        Ok(WebhookSink { rt, client, url: w.url.clone(), token })
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> &'static str {
        "webhook"
    }

    fn deliver(&mut self, id: &str, payload: &str) -> std::result::Result<(), SinkError> {
        let token = self.token.clone()?;
        let mut req = self
            .client
            .post(&self.url)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", id)
            .body(format!("[{payload}]"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        // `send` arms its timeout at once: it must run inside the runtime.
        let resp = self
            .rt
            .block_on(async move { req.send().await })
            .map_err(|e| SinkError::Transport { url: self.url.clone(), chain: error_chain(&e) })?;
        let status = resp.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(SinkError::Status { url: self.url.clone(), status: status.to_string() })
        }
    }
}

/// Session-Buddy over MCP (the shared client of [`crate::mcp_client`],
/// driven by this sink's own runtime).
pub struct SessionBuddy {
    rt: tokio::runtime::Runtime,
    conn: crate::mcp_client::Connection,
}

impl SessionBuddy {
    /// A client for the service at `url` (connected on first use).
    pub fn new(url: &str) -> Result<SessionBuddy> {
        Ok(SessionBuddy { rt: runtime()?, conn: crate::mcp_client::Connection::new(url) })
    }

    /// Connects (MCP `initialize`): whether the service answers.
    pub fn initialize(&mut self) -> std::result::Result<(), SinkError> {
        Ok(self.rt.block_on(self.conn.initialize())?)
    }

    /// Calls a tool; its text content (joined), or the error.
    pub fn call(&mut self, tool: &'static str, args: Value) -> std::result::Result<String, SinkError> {
        Ok(self.rt.block_on(self.conn.call(tool, args, Duration::from_secs(60)))?)
    }

    /// Searches the service's memory (`quick_search`); its answer as text.
    pub fn search(&mut self, query: &str) -> std::result::Result<String, SinkError> {
        // 0.23.0 takes `query`, `min_score` and `project` (no limit).
        self.call("quick_search", json!({"query": query}))
    }
}

/// What Session-Buddy stores for an event: the sentence first (what its
/// search matches best), then the facts, then the event's JSON.
pub fn reflection(payload: &str) -> std::result::Result<Value, SinkError> {
    let ev: super::events::Event = serde_json::from_str(payload).map_err(|e| SinkError::Payload(e.to_string()))?;
    let mut content = format!(
        "{}\n\nEvent {} ({}) by {} at {} in commit {}",
        ev.summary, ev.id, ev.event_type, ev.author, ev.time, ev.commit
    );
    if !ev.subject.is_empty() {
        content.push_str(&format!(": {}", ev.subject));
    }
    for f in &ev.fields {
        if let Some((old, new)) = f.set_values() {
            content.push_str(&format!(
                "\n{}: {} → {}",
                f.field,
                old.unwrap_or_else(|| "∅".into()),
                new.unwrap_or_else(|| "∅".into())
            ));
        }
    }
    let mut tags = vec![
        "git-coord".to_string(),
        ev.event_type.clone(),
        ev.kind.clone(),
        ev.entity.clone(),
        format!("event-{}", ev.id),
    ];
    tags.extend(ev.repos.iter().cloned());
    Ok(json!({"content": content, "tags": tags}))
}

impl Sink for SessionBuddy {
    fn name(&self) -> &'static str {
        "session_buddy"
    }

    fn deliver(&mut self, _id: &str, payload: &str) -> std::result::Result<(), SinkError> {
        let args = reflection(payload)?;
        self.call("store_reflection", args).map(|_| ())
    }
}

/// The sinks configured for a store.
pub fn configured(store: &crate::store::Store) -> Result<Vec<Box<dyn Sink>>> {
    let m = &store.settings.memory;
    let mut v: Vec<Box<dyn Sink>> = Vec::new();
    if let Some(url) = &m.session_buddy {
        v.push(Box::new(SessionBuddy::new(url)?));
    }
    if let Some(w) = &m.webhook {
        v.push(Box::new(WebhookSink::new(w)?));
    }
    Ok(v)
}
