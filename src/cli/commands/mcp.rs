//! `mcp`: serves the repository's coordination data to MCP clients (agents)
//! over stdin/stdout. The tokio runtime is built here, only for this command.

use crate::cli::Context;
use crate::cli::error::CmdResult;

/// Serve the coordination data over MCP on stdin/stdout (logs on stderr).
///
/// Register it with an MCP client as the command `git-coord` with the
/// arguments `mcp -C /path/to/repo`.
#[derive(Debug, clap::Args)]
pub struct McpArgs {}

/// `mcp`
pub fn run(cx: &Context, _a: &McpArgs) -> CmdResult {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::Error::system("start the async runtime", e))?;
    rt.block_on(crate::mcp::serve_stdio(cx.dir.clone()))?;
    Ok(())
}
