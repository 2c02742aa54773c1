//! The server of `git coord mcp` over rmcp: its state, the handshake, the
//! resources, and how a structured answer becomes a tool result. The tools
//! themselves are generated from the typed operation API ([`super::ops`]):
//! each opens the store afresh (writes re-read under the store lock in
//! `ops`), runs on a blocking thread (file locks block), and returns
//! structured content. Library errors become tool errors (`isError`), never
//! a failure of the server.

use std::path::PathBuf;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, Implementation, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use rmcp::{ServerHandler, ServiceExt, tool_handler};
use serde::Serialize;

use crate::store::Store;

/// The server state: only the directory it was started in.
#[derive(Debug, Clone)]
pub struct CoordServer {
    dir: PathBuf,
    tool_router: ToolRouter<Self>,
}

/// Runs the server on stdin/stdout until the client closes the stream.
pub async fn serve_stdio(dir: PathBuf) -> crate::Result<()> {
    // Fail early (before the handshake) when there is no coordination repo.
    Store::open(&dir)?;
    let failed = |e: &dyn std::fmt::Display| crate::Error::system("serve MCP over stdio", e.to_string());
    let service = CoordServer::new(dir).serve(rmcp::transport::stdio()).await.map_err(|e| failed(&e))?;
    service.waiting().await.map_err(|e| failed(&e))?;
    Ok(())
}

/// Runs a resource read on a blocking thread.
async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ErrorData> + Send + 'static,
) -> Result<T, ErrorData> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ErrorData::internal_error(e.to_string(), None))?
}

/// A tool's answer: the value as `structuredContent`, and a short text
/// summary as the content (rather than the JSON again) to keep agents'
/// context small.
pub struct Out<T>(pub T);

/// The one-line text that goes with a structured answer.
pub trait Summary {
    fn summary(&self) -> String;
}

impl<T: Serialize + Summary> IntoCallToolResult for Out<T> {
    fn into_call_tool_result(self) -> Result<CallToolResponse, ErrorData> {
        let value = serde_json::to_value(&self.0).map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
        let mut r = CallToolResult::structured(value);
        r.content = vec![ContentBlock::text(self.0.summary())];
        Ok(r.into())
    }
}

impl CoordServer {
    /// A server for the coordination repository found from `dir`: every
    /// tool is generated from the typed operation API (see [`super::ops`]).
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, tool_router: super::ops::router() }
    }

    /// The directory the server was started in.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for CoordServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(Implementation::new("git-coord", env!("CARGO_PKG_VERSION")))
            .with_instructions("Coordination data (issues, plans, todos, dependencies) of one repository.")
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        let dir = self.dir.clone();
        run_blocking(move || super::resources::list(&dir)).await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let dir = self.dir.clone();
        run_blocking(move || super::resources::read(&dir, &request.uri)).await.map(Into::into)
    }
}
