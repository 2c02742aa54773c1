//! The MCP client side: one connection to a service over streamable HTTP
//! (the rmcp client), shared by everything that talks to the ecosystem's
//! services — the memory sink (Session-Buddy's `store_reflection`) and the
//! pool runners (Session-Buddy's `create_pool`/`execute_on_pool`,
//! Mahavishnu's `pool_spawn`/`pool_route_execute`).
//!
//! A [`Connection`] connects on first use and reconnects after a failed
//! call (the service may have restarted). Calls are async; a caller
//! without a runtime ([`crate::memory::sinks`]) drives them with its own.
//! Answers are a tool's text content, joined; a tool that reports an error
//! (`isError`) is an `Err` carrying its text.

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::service::{RoleClient, RunningService};
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::Value;
use std::time::Duration;

type Client = RunningService<RoleClient, ()>;

/// Why a call to an MCP service failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum McpError {
    /// Connecting or the call failed (connection, protocol); the cause chain.
    #[error("{url}: {chain}")]
    Transport {
        /// The service.
        url: String,
        /// The client's error and its causes.
        chain: String,
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
    /// The tool answered with an error (`isError`).
    #[error("{url}: {tool} failed: {text}")]
    Tool {
        /// The service.
        url: String,
        /// The tool called.
        tool: String,
        /// Its answer.
        text: String,
    },
    /// Tool arguments that are not a JSON object.
    #[error("arguments must be an object")]
    Arguments,
}

/// How long connecting (MCP `initialize`) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// A lazily connected MCP client for one service URL.
pub struct Connection {
    url: String,
    client: tokio::sync::Mutex<Option<std::sync::Arc<Client>>>,
}

/// The error chain of `e`, joined with `: `.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

impl Connection {
    /// A client for the service at `url` (connected on first use).
    pub fn new(url: &str) -> Connection {
        Connection { url: url.to_string(), client: tokio::sync::Mutex::new(None) }
    }

    /// The service's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn client(&self) -> std::result::Result<std::sync::Arc<Client>, McpError> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let transport = StreamableHttpClientTransport::from_uri(self.url.as_str());
        let client = tokio::time::timeout(CONNECT_TIMEOUT, ().serve(transport))
            .await
            .map_err(|_| McpError::Timeout {
                url: self.url.clone(),
                what: "no MCP answer".into(),
                secs: CONNECT_TIMEOUT.as_secs(),
            })?
            .map_err(|e| McpError::Transport { url: self.url.clone(), chain: error_chain(&e) })?;
        let client = std::sync::Arc::new(client);
        *slot = Some(client.clone());
        Ok(client)
    }

    /// Connects (MCP `initialize`): whether the service answers.
    pub async fn initialize(&self) -> std::result::Result<(), McpError> {
        self.client().await.map(|_| ())
    }

    /// Calls `tool` with `args` (an object), waiting at most `timeout`; its
    /// text content (joined), or the error (a tool error carries its text).
    pub async fn call(&self, tool: &str, args: Value, timeout: Duration) -> std::result::Result<String, McpError> {
        let url = &self.url;
        let Value::Object(map) = args else { return Err(McpError::Arguments) };
        let client = self.client().await?;
        let params = CallToolRequestParams::new(tool.to_string()).with_arguments(map);
        let res = tokio::time::timeout(timeout, client.call_tool(params)).await.map_err(|_| McpError::Timeout {
            url: url.clone(),
            what: format!("{tool} did not answer"),
            secs: timeout.as_secs(),
        })?;
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                // The session may be gone (service restarted): reconnect next time.
                *self.client.lock().await = None;
                return Err(McpError::Transport { url: url.clone(), chain: format!("{tool}: {}", error_chain(&e)) });
            }
        };
        let text: Vec<String> = res.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect();
        let text = text.join("\n");
        if res.is_error == Some(true) {
            return Err(McpError::Tool { url: url.clone(), tool: tool.to_string(), text: text.trim().to_string() });
        }
        Ok(text)
    }
}
