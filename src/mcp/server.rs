//! The tools of `git coord mcp` over rmcp.
//!
//! Each tool opens the store afresh (writes re-read under the store lock in
//! `ops`), runs the library call on a blocking thread (file locks block), and
//! returns structured content. Library errors become tool errors (`isError`),
//! never a failure of the server.

use std::path::PathBuf;

use rmcp::handler::server::common::schema_for_output;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::IntoCallToolResult;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResponse, CallToolResult, ContentBlock, Implementation, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};
use rmcp::{ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::graph::{self, CoordGraph, ReadyQuery};
use crate::model::Kind;
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
    let failed = |e: &dyn std::fmt::Display| crate::Error::Invalid(format!("MCP server: {e}"));
    let service = CoordServer::new(dir).serve(rmcp::transport::stdio()).await.map_err(|e| failed(&e))?;
    service.waiting().await.map_err(|e| failed(&e))?;
    Ok(())
}

/// Runs a library call on a blocking thread: store writes wait on a file lock.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> crate::Result<T> + Send + 'static) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(|e| format!("error: {e}")),
        Err(e) => Err(format!("error: internal failure: {e}")),
    }
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

impl Summary for Report {
    fn summary(&self) -> String {
        match &self.report {
            Value::Array(a) => format!("{} entries", a.len()),
            Value::String(s) => s.clone(),
            Value::Object(o) => format!("report with {}", o.keys().cloned().collect::<Vec<_>>().join(", ")),
            other => other.to_string(),
        }
    }
}

/// A report from the coordination graph (shape as in docs/JSON.md).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Report {
    /// The report.
    pub report: Value,
}

/// Ready work.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ReadyParams {
    /// Only todos of this repository.
    pub repo: Option<String>,
    /// Only todos assigned to this person.
    pub assignee: Option<String>,
    /// At most this many.
    pub limit: Option<usize>,
}

/// A repository.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RepoParams {
    /// Repository name or nickname.
    pub repo: String,
}

/// Which revisions to compare.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct DiffParams {
    /// `A..B`, `A...B` (from the merge base), a single revision (against the
    /// working tree); default: HEAD against the working tree.
    pub revspec: Option<String>,
    /// Also return the changes as Markdown (for a pull-request comment).
    #[serde(default)]
    pub markdown: bool,
}

/// A semantic diff: field-level changes per entity.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiffResult {
    /// The old side (a short commit ID, or `(empty)`).
    pub from: String,
    /// The new side (a short commit ID, or `(working tree)`).
    pub to: String,
    /// One entry per changed entity: kind, id, title, change
    /// (created/deleted/modified/moved), path, fields (see docs/JSON.md).
    pub changes: Vec<Value>,
    /// The same as text lines (`ISSUE-003 status: pending → in_progress`).
    pub text: String,
    /// The changes as Markdown, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub markdown: Option<String>,
}

impl Summary for DiffResult {
    fn summary(&self) -> String {
        if self.changes.is_empty() {
            return format!("no coordination changes ({} → {})", self.from, self.to);
        }
        format!("{} entities changed ({} → {}):\n{}", self.changes.len(), self.from, self.to, self.text.trim_end())
    }
}

/// Which roadmap.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct RoadmapParams {
    /// Only this plan.
    pub plan: Option<String>,
}

/// Output format of the dependency graph.
#[derive(Debug, Default, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GraphFormat {
    /// A Mermaid flowchart (text).
    #[default]
    Mermaid,
    /// Nodes and edges.
    Json,
}

/// Which dependency graph.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct DepGraphParams {
    /// `entities` for the blocking graph of issues, plans, milestones and
    /// todos; repositories (consumer → provider) otherwise.
    #[serde(default)]
    pub entities: bool,
    /// Only what touches this repository.
    pub repo: Option<String>,
    /// Only what belongs to this plan.
    pub plan: Option<String>,
    /// mermaid (default) or json.
    #[serde(default)]
    pub format: GraphFormat,
}

/// Which dependencies to check.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct CheckDepsParams {
    /// Only dependencies of this consumer repository.
    pub consumer: Option<String>,
    /// Only dependencies on this provider repository.
    pub provider: Option<String>,
    /// Only these dependency IDs.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Check online: health checks (HTTP) and the commands trusted on this
    /// machine (`git coord trust`; untrusted commands never run). Offline by
    /// default: offline runs no command and sends no request.
    #[serde(default)]
    pub online: bool,
}

fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl CoordServer {
    async fn graph_report<T: Serialize + Send + 'static>(
        &self,
        kinds: &'static [Kind],
        f: impl FnOnce(&CoordGraph<'_>, &crate::store::Loaded) -> crate::Result<T> + Send + 'static,
    ) -> Result<Out<Report>, String> {
        let dir = self.dir.clone();
        let v = blocking(move || {
            let loaded = Store::open(&dir)?.load(kinds)?;
            let cg = CoordGraph::build(&loaded);
            Ok(to_value(&f(&cg, &loaded)?))
        })
        .await?;
        Ok(Out(Report { report: v }))
    }
}

#[tool_router(router = tool_router)]
impl CoordServer {
    /// A server for the coordination repository found from `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Self { dir, tool_router: Self::tool_router() + super::ops::router() }
    }

    /// The directory the server was started in.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    #[tool(description = "Todos that can start now (no unfinished blocker), most unblocking first.", output_schema = schema_for_output::<Report>())]
    async fn coord_ready_todos(&self, Parameters(p): Parameters<ReadyParams>) -> Result<Out<Report>, String> {
        self.graph_report(&[Kind::Issue, Kind::Todo], move |cg, loaded| {
            let repo =
                p.repo.as_deref().map(|r| loaded.registry.resolve(r).map_err(crate::Error::Invalid)).transpose()?;
            Ok(graph::ready(cg, &ReadyQuery { repo, assignee: p.assignee, limit: p.limit }))
        })
        .await
    }

    #[tool(description = "What a repository blocks: its open work that others wait on.", output_schema = schema_for_output::<Report>())]
    async fn coord_get_blocking_issues(&self, Parameters(p): Parameters<RepoParams>) -> Result<Out<Report>, String> {
        self.graph_report(&Kind::ALL, move |cg, loaded| {
            let repo = loaded.registry.resolve(&p.repo).map_err(crate::Error::Invalid)?;
            Ok(graph::blocking(cg, &repo))
        })
        .await
    }

    #[tool(description = "Status of one repository: todo counts, open issues, blockers.", output_schema = schema_for_output::<Report>())]
    async fn coord_get_repo_status(&self, Parameters(p): Parameters<RepoParams>) -> Result<Out<Report>, String> {
        self.graph_report(&Kind::ALL, move |cg, loaded| {
            let repo = loaded.registry.resolve(&p.repo).map_err(crate::Error::Invalid)?;
            Ok(graph::repo_status(cg, &repo))
        })
        .await
    }

    #[tool(description = "Status of the whole ecosystem: counts per repository, blocked work.", output_schema = schema_for_output::<Report>())]
    async fn coord_ecosystem_status(&self) -> Result<Out<Report>, String> {
        self.graph_report(&Kind::ALL, |cg, _| Ok(graph::ecosystem_status(cg))).await
    }

    #[tool(description = "Coordination changes between revisions, field by field (default: HEAD against the working tree).", output_schema = schema_for_output::<DiffResult>())]
    async fn coord_diff(&self, Parameters(p): Parameters<DiffParams>) -> Result<Out<DiffResult>, String> {
        let dir = self.dir.clone();
        blocking(move || {
            let store = Store::open(&dir)?;
            let d = crate::history::diff(&store, p.revspec.as_deref())?;
            let text = crate::history::render::text(&d.changes);
            let markdown = p.markdown.then(|| crate::history::render::markdown(&d.changes));
            Ok(Out(DiffResult {
                from: d.range.from,
                to: d.range.to,
                changes: d.changes.iter().map(to_value).collect(),
                text,
                markdown,
            }))
        })
        .await
    }

    #[tool(description = "Roadmap of active plans: milestones, projected dates, critical path.", output_schema = schema_for_output::<Report>())]
    async fn coord_roadmap(&self, Parameters(p): Parameters<RoadmapParams>) -> Result<Out<Report>, String> {
        let dir = self.dir.clone();
        let v = blocking(move || {
            let store = Store::open(&dir)?;
            let loaded = store.load(&[Kind::Plan, Kind::Todo])?;
            if let Some(id) = &p.plan
                && loaded.get(Kind::Plan, id).is_none()
            {
                return Err(crate::Error::NotFound { kind: Kind::Plan, id: id.clone(), hint: None });
            }
            let cg = CoordGraph::build(&loaded);
            let today = crate::model::date::now().date_naive();
            Ok(to_value(&graph::roadmap(&cg, today, store.settings.hours_per_day, p.plan.as_deref())))
        })
        .await?;
        Ok(Out(Report { report: v }))
    }

    #[tool(description = "The repository dependency graph (or the entity blocking graph) as Mermaid or JSON.", output_schema = schema_for_output::<Report>())]
    async fn coord_dependency_graph(&self, Parameters(p): Parameters<DepGraphParams>) -> Result<Out<Report>, String> {
        self.graph_report(&Kind::ALL, move |cg, loaded| {
            let repo =
                p.repo.as_deref().map(|r| loaded.registry.resolve(r).map_err(crate::Error::Invalid)).transpose()?;
            if let Some(id) = &p.plan
                && loaded.get(Kind::Plan, id).is_none()
            {
                return Err(crate::Error::NotFound { kind: Kind::Plan, id: id.clone(), hint: None });
            }
            let kind = if p.entities { graph::DepGraphKind::Entities } else { graph::DepGraphKind::Repos };
            let g = graph::dep_graph(cg, &graph::DepGraphQuery { kind, repo, plan: p.plan });
            Ok(match p.format {
                GraphFormat::Mermaid => Value::String(g.to_mermaid()),
                GraphFormat::Json => to_value(&g),
            })
        })
        .await
    }

    #[tool(description = "Check inter-repo dependencies (versions against constraints; offline — no commands, no network — unless online: true).", output_schema = schema_for_output::<Report>())]
    async fn coord_check_dependencies(
        &self,
        Parameters(p): Parameters<CheckDepsParams>,
    ) -> Result<Out<Report>, String> {
        let run = async move {
            let store = Store::open(&self.dir)?;
            let loaded = store.load(&[Kind::Dependency])?;
            let opts = crate::deps::CheckOptions {
                ids: p.ids,
                consumer: p.consumer,
                provider: p.provider,
                offline: !p.online,
                ..crate::deps::CheckOptions::default()
            };
            let report = crate::deps::check_async(&store, &loaded, &opts).await?;
            let mut v = serde_json::json!({ "results": report.results, "summary": report.summary });
            if !report.warnings.is_empty() {
                v["warnings"] = serde_json::json!(report.warnings);
            }
            Ok::<_, crate::Error>(v)
        };
        let v = run.await.map_err(|e| format!("error: {e}"))?;
        Ok(Out(Report { report: v }))
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
