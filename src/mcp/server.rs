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

use crate::model::{Entity, Kind};
use crate::ops::{self, Patch};
use crate::query::Filters;
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

impl Summary for EntityList {
    fn summary(&self) -> String {
        let ids: Vec<&str> = self.items.iter().filter_map(|i| i["id"].as_str()).collect();
        format!("{} found: {}", self.count, ids.join(", "))
    }
}

impl Summary for EntityResult {
    fn summary(&self) -> String {
        let title = self.entity["title"].as_str().or(self.entity["task"].as_str()).unwrap_or("");
        format!("{}: {title}", self.id)
    }
}

impl Summary for WriteResult {
    fn summary(&self) -> String {
        match self.changed {
            true => format!("wrote {} ({})", self.id, self.path),
            false => format!("{}: nothing to change", self.id),
        }
    }
}

/// A list of entities: compact rows unless `full` was asked for.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EntityList {
    /// How many entities matched.
    pub count: usize,
    /// The entities (compact: id, title/task, status, priority, repo(s)).
    pub items: Vec<Value>,
}

/// One entity, as stored.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EntityResult {
    /// Its ID.
    pub id: String,
    /// The entity's fields.
    pub entity: Value,
}

/// The outcome of a write.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WriteResult {
    /// ID of the entity written.
    pub id: String,
    /// Its file, relative to the repository root.
    pub path: String,
    /// False when nothing had to change.
    pub changed: bool,
    /// The entity as written.
    pub entity: Value,
}

/// Filters shared by the list tools.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct ListParams {
    /// Only these statuses (aliases accepted).
    #[serde(default)]
    pub status: Vec<String>,
    /// Only these priorities (P0..P3 accepted).
    #[serde(default)]
    pub priority: Vec<String>,
    /// Only entities of this repository (name or nickname).
    pub repo: Option<String>,
    /// Only entities assigned to this person.
    pub assignee: Option<String>,
    /// Only entities with this label.
    pub label: Option<String>,
    /// Return every field instead of compact rows.
    #[serde(default)]
    pub full: bool,
}

/// An entity ID.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct IdParams {
    /// The entity's ID, e.g. ISSUE-001.
    pub id: String,
}

/// A new issue.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateIssueParams {
    /// One-line title.
    pub title: String,
    /// Longer description.
    pub description: Option<String>,
    /// Affected repositories (names or nicknames).
    pub repos: Vec<String>,
    /// critical, high, medium (default) or low; P0..P3 accepted.
    pub priority: Option<String>,
    /// Target date, YYYY-MM-DD.
    pub target: Option<String>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Who owns it.
    pub assignee: Option<String>,
}

/// Changes to an issue: only the given fields change.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateIssueParams {
    /// Issue ID.
    pub id: String,
    pub title: Option<String>,
    /// New description ("" clears it).
    pub description: Option<String>,
    /// pending, in_progress, blocked, resolved or closed.
    pub status: Option<String>,
    /// critical, high, medium or low.
    pub priority: Option<String>,
    /// New assignee ("" clears it).
    pub assignee: Option<String>,
    /// Target date YYYY-MM-DD ("" clears it).
    pub target: Option<String>,
    #[serde(default)]
    pub add_labels: Vec<String>,
    #[serde(default)]
    pub remove_labels: Vec<String>,
    #[serde(default)]
    pub add_repos: Vec<String>,
    #[serde(default)]
    pub remove_repos: Vec<String>,
}

/// Closing an issue.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CloseIssueParams {
    /// Issue ID.
    pub id: String,
    /// Mark it resolved rather than closed.
    #[serde(default)]
    pub resolved: bool,
}

/// A new todo.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreateTodoParams {
    /// What to do.
    pub task: String,
    /// The repository it is done in.
    pub repo: String,
    pub description: Option<String>,
    /// Estimated effort in hours.
    pub estimate_hours: Option<f64>,
    /// Todos or issues that must finish first.
    #[serde(default)]
    pub blocked_by: Vec<String>,
    /// critical, high, medium (default) or low.
    pub priority: Option<String>,
    pub assignee: Option<String>,
    /// Related issue, plan or milestone IDs (ISSUE-…, PLAN-…, PLAN-…-M…).
    #[serde(default)]
    pub links: Vec<String>,
}

/// Changes to a todo: only the given fields change.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct UpdateTodoParams {
    /// Todo ID.
    pub id: String,
    pub task: Option<String>,
    pub description: Option<String>,
    /// pending, in_progress, blocked, completed or cancelled.
    pub status: Option<String>,
    pub priority: Option<String>,
    pub assignee: Option<String>,
    pub estimate_hours: Option<f64>,
    #[serde(default)]
    pub add_blocked_by: Vec<String>,
    #[serde(default)]
    pub remove_blocked_by: Vec<String>,
}

/// Completing a todo.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CompleteTodoParams {
    /// Todo ID.
    pub id: String,
    /// Hours actually spent.
    pub actual_hours: Option<f64>,
}

fn compact(e: &Entity) -> Value {
    use serde_json::json;
    match e {
        Entity::Issue(i) => json!({"id": i.id, "title": i.title, "status": i.status.as_str(),
            "priority": i.priority.as_str(), "repos": i.repos}),
        Entity::Todo(t) => json!({"id": t.id, "task": t.task, "status": t.status.as_str(),
            "priority": t.priority.as_str(), "repo": t.repo}),
        Entity::Plan(p) => json!({"id": p.id, "title": p.title, "status": p.status.as_str(),
            "milestones": p.milestones.len()}),
        Entity::Dependency(d) => json!({"id": d.id, "consumer": d.consumer, "provider": d.provider,
            "type": d.dep_type.as_str(), "status": d.status.as_str()}),
    }
}

/// Every field of an entity as JSON; an error (never `null`) when a value
/// has no JSON form.
fn full(e: &Entity) -> Result<Value, String> {
    serde_json::to_value(e.to_mapping()).map_err(|err| format!("error: {} has no JSON form: {err}", e.id()))
}

fn hours(h: Option<f64>) -> Option<String> {
    h.map(|h| h.to_string())
}

impl CoordServer {
    async fn list(&self, kind: Kind, p: ListParams) -> Result<Out<EntityList>, String> {
        let dir = self.dir.clone();
        let items = blocking(move || {
            let filters =
                Filters { status: p.status, priority: p.priority, repo: p.repo, assignee: p.assignee, label: p.label };
            filters.validate(kind)?;
            let store = Store::open(&dir)?;
            let loaded = store.load(&[kind])?;
            filters.check(&loaded)?;
            let mut out = Vec::new();
            for rec in loaded.records(kind) {
                if filters.matches(&rec.entity, &loaded)? {
                    out.push(if p.full {
                        full(&rec.entity).map_err(crate::Error::Invalid)?
                    } else {
                        compact(&rec.entity)
                    });
                }
            }
            Ok(out)
        })
        .await?;
        Ok(Out(EntityList { count: items.len(), items }))
    }

    async fn get(&self, kind: Kind, id: String) -> Result<Out<EntityResult>, String> {
        let dir = self.dir.clone();
        let e = blocking(move || Ok(ops::find(&Store::open(&dir)?, kind, &id)?.entity)).await?;
        Ok(Out(EntityResult { id: e.id().to_string(), entity: full(&e)? }))
    }

    async fn write(&self, kind: Kind, id: Option<String>, patch: Patch) -> Result<Out<WriteResult>, String> {
        let dir = self.dir.clone();
        let (o, rel) = blocking(move || {
            let store = Store::open(&dir)?;
            let o = match id {
                None => ops::create(&store, kind, &patch)?,
                Some(id) => ops::update(&store, kind, &id, &patch)?,
            };
            let rel = store.rel(&o.path).display().to_string();
            Ok((o, rel))
        })
        .await?;
        Ok(Out(WriteResult {
            id: o.entity.id().to_string(),
            path: rel,
            changed: o.mode != crate::store::WriteMode::Unchanged,
            entity: full(&o.entity)?,
        }))
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

    #[tool(description = "List cross-repo issues (compact rows; full: true for every field).", output_schema = schema_for_output::<EntityList>())]
    async fn coord_list_issues(&self, Parameters(p): Parameters<ListParams>) -> Result<Out<EntityList>, String> {
        self.list(Kind::Issue, p).await
    }

    #[tool(description = "Show one issue with every field.", output_schema = schema_for_output::<EntityResult>())]
    async fn coord_get_issue(&self, Parameters(p): Parameters<IdParams>) -> Result<Out<EntityResult>, String> {
        self.get(Kind::Issue, p.id).await
    }

    #[tool(description = "Create an issue; returns its allocated ID and file.", output_schema = schema_for_output::<WriteResult>())]
    async fn coord_create_issue(
        &self,
        Parameters(p): Parameters<CreateIssueParams>,
    ) -> Result<Out<WriteResult>, String> {
        let patch = Patch {
            title: Some(p.title),
            description: p.description,
            add_repos: p.repos,
            priority: p.priority,
            target: p.target,
            assignee: p.assignee,
            add_labels: p.labels,
            ..Patch::default()
        };
        self.write(Kind::Issue, None, patch).await
    }

    #[tool(description = "Update an issue: only the given fields change.", output_schema = schema_for_output::<WriteResult>())]
    async fn coord_update_issue(
        &self,
        Parameters(p): Parameters<UpdateIssueParams>,
    ) -> Result<Out<WriteResult>, String> {
        let patch = Patch {
            title: p.title,
            description: p.description,
            status: p.status,
            priority: p.priority,
            assignee: p.assignee,
            target: p.target,
            add_labels: p.add_labels,
            remove_labels: p.remove_labels,
            add_repos: p.add_repos,
            remove_repos: p.remove_repos,
            ..Patch::default()
        };
        self.write(Kind::Issue, Some(p.id), patch).await
    }

    #[tool(description = "Close an issue (or mark it resolved with resolved: true).", output_schema = schema_for_output::<WriteResult>())]
    async fn coord_close_issue(&self, Parameters(p): Parameters<CloseIssueParams>) -> Result<Out<WriteResult>, String> {
        let status = if p.resolved { "resolved" } else { "closed" };
        let patch = Patch { status: Some(status.into()), ..Patch::default() };
        self.write(Kind::Issue, Some(p.id), patch).await
    }

    #[tool(description = "List todos (compact rows; full: true for every field).", output_schema = schema_for_output::<EntityList>())]
    async fn coord_list_todos(&self, Parameters(p): Parameters<ListParams>) -> Result<Out<EntityList>, String> {
        self.list(Kind::Todo, p).await
    }

    #[tool(description = "Show one todo with every field.", output_schema = schema_for_output::<EntityResult>())]
    async fn coord_get_todo(&self, Parameters(p): Parameters<IdParams>) -> Result<Out<EntityResult>, String> {
        self.get(Kind::Todo, p.id).await
    }

    #[tool(description = "Create a todo in one repository; returns its allocated ID and file.", output_schema = schema_for_output::<WriteResult>())]
    async fn coord_create_todo(&self, Parameters(p): Parameters<CreateTodoParams>) -> Result<Out<WriteResult>, String> {
        let mut patch = Patch {
            title: Some(p.task),
            repo: Some(p.repo),
            description: p.description,
            estimate: hours(p.estimate_hours),
            add_blockers: p.blocked_by,
            priority: p.priority,
            assignee: p.assignee,
            ..Patch::default()
        };
        for link in p.links {
            let up = link.to_ascii_uppercase();
            if up.starts_with("ISSUE-") {
                patch.issue_id = Some(link);
            } else if up.starts_with("PLAN-") && up.contains("-M") {
                patch.milestone_id = Some(link);
            } else if up.starts_with("PLAN-") {
                patch.plan_id = Some(link);
            } else {
                return Err(format!("error: link `{link}` is not an issue, plan or milestone ID"));
            }
        }
        self.write(Kind::Todo, None, patch).await
    }

    #[tool(description = "Update a todo: only the given fields change.", output_schema = schema_for_output::<WriteResult>())]
    async fn coord_update_todo(&self, Parameters(p): Parameters<UpdateTodoParams>) -> Result<Out<WriteResult>, String> {
        let patch = Patch {
            title: p.task,
            description: p.description,
            status: p.status,
            priority: p.priority,
            assignee: p.assignee,
            estimate: hours(p.estimate_hours),
            add_blockers: p.add_blocked_by,
            remove_blockers: p.remove_blocked_by,
            ..Patch::default()
        };
        self.write(Kind::Todo, Some(p.id), patch).await
    }

    #[tool(description = "Mark a todo completed, optionally with the hours actually spent.", output_schema = schema_for_output::<WriteResult>())]
    async fn coord_complete_todo(
        &self,
        Parameters(p): Parameters<CompleteTodoParams>,
    ) -> Result<Out<WriteResult>, String> {
        let patch = Patch { status: Some("completed".into()), actual_hours: hours(p.actual_hours), ..Patch::default() };
        self.write(Kind::Todo, Some(p.id), patch).await
    }

    #[tool(description = "List plans (compact rows; full: true for every field).", output_schema = schema_for_output::<EntityList>())]
    async fn coord_list_plans(&self, Parameters(p): Parameters<ListParams>) -> Result<Out<EntityList>, String> {
        self.list(Kind::Plan, p).await
    }

    #[tool(description = "Show one plan with its milestones.", output_schema = schema_for_output::<EntityResult>())]
    async fn coord_get_plan(&self, Parameters(p): Parameters<IdParams>) -> Result<Out<EntityResult>, String> {
        self.get(Kind::Plan, p.id).await
    }

    #[tool(description = "List inter-repo dependencies (compact rows; full: true for every field).", output_schema = schema_for_output::<EntityList>())]
    async fn coord_list_dependencies(&self, Parameters(p): Parameters<ListParams>) -> Result<Out<EntityList>, String> {
        self.list(Kind::Dependency, p).await
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
