//! Where events go: a generic webhook (a JSON array of one event per POST,
//! `Idempotency-Key: <event id>`, an optional bearer token read from an
//! environment variable named in settings) and Session-Buddy, the
//! ecosystem's memory service, spoken to over MCP (streamable HTTP) with
//! the rmcp client: `store_reflection` to store, `quick_search` to search.
//!
//! Each sink owns a small current-thread runtime: delivery is sequential
//! by design (order matters), and commands that never deliver never start one.

use crate::error::{Error, Result};
use crate::settings::Webhook;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
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
    /// No answer in time.
    #[error("{url}: {what} within {secs} s")]
    Timeout {
        /// The service.
        url: String,
        /// What did not come ("no MCP answer", "quick_search did not answer").
        what: String,
        /// The limit.
        secs: u64,
    },
    /// The tool answered with an error.
    #[error("{url}: {tool} failed: {text}")]
    Tool {
        /// The service.
        url: String,
        /// The tool called.
        tool: &'static str,
        /// Its answer.
        text: String,
    },
    /// Tool arguments that are not a JSON object.
    #[error("arguments must be an object")]
    Arguments,
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

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

type Client = RunningService<RoleClient, ()>;

/// Session-Buddy over MCP.
pub struct SessionBuddy {
    rt: tokio::runtime::Runtime,
    url: String,
    client: Option<Client>,
}

impl SessionBuddy {
    /// A client for the service at `url` (connected on first use).
    pub fn new(url: &str) -> Result<SessionBuddy> {
        Ok(SessionBuddy { rt: runtime()?, url: url.to_string(), client: None })
    }

    fn connect(&mut self) -> std::result::Result<(), SinkError> {
        if self.client.is_none() {
            let url = self.url.clone();
            let client = self
                .rt
                .block_on(async move {
                    let transport = StreamableHttpClientTransport::from_uri(url.as_str());
                    tokio::time::timeout(Duration::from_secs(20), ().serve(transport)).await
                })
                .map_err(|_| SinkError::Timeout { url: self.url.clone(), what: "no MCP answer".into(), secs: 20 })?
                .map_err(|e| SinkError::Transport { url: self.url.clone(), chain: error_chain(&e) })?;
            self.client = Some(client);
        }
        Ok(())
    }

    /// Connects (MCP `initialize`): whether the service answers.
    pub fn initialize(&mut self) -> std::result::Result<(), SinkError> {
        self.connect()
    }

    /// Calls a tool; its text content (joined), or the error.
    pub fn call(&mut self, tool: &'static str, args: Value) -> std::result::Result<String, SinkError> {
        let url = self.url.clone();
        let Value::Object(map) = args else { return Err(SinkError::Arguments) };
        self.connect()?;
        let client = self.client.as_ref().expect("connected above");
        let params = CallToolRequestParams::new(tool).with_arguments(map);
        let fut = client.call_tool(params);
        let res = self
            .rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(60), fut).await })
            .map_err(|_| SinkError::Timeout { url: url.clone(), what: format!("{tool} did not answer"), secs: 60 })?;
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                // The session may be gone (service restarted): reconnect next time.
                self.client = None;
                return Err(SinkError::Transport { url, chain: format!("{tool}: {}", error_chain(&e)) });
            }
        };
        let text: Vec<String> = res.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect();
        let text = text.join("\n");
        if res.is_error == Some(true) {
            return Err(SinkError::Tool { url, tool, text: text.trim().to_string() });
        }
        Ok(text)
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
