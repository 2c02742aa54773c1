//! MCP tools generated from the typed operation API ([`crate::api`]): one
//! tool per [`Operation`], its parameters and output schema derived from the
//! request and output types, so a tool cannot drift from its CLI command.
//! Malformed parameters and library errors are tool errors (`isError`) that
//! name parameters, never protocol failures.

use super::server::{CoordServer, Out, Summary};
use crate::api::entities::{Deleted, Listed, Renumbered, Shown};
use crate::api::{Operation, Written};
use crate::error::{Error, Hint};
use rmcp::ErrorData;
use rmcp::handler::server::common::{schema_for_input, schema_for_output};
use rmcp::handler::server::router::tool::{ToolRoute, ToolRouter};
use rmcp::handler::server::tool::{IntoCallToolResult, ToolCallContext};
use rmcp::model::{CallToolResponse, Tool, ToolAnnotations};

/// The routes of every operation.
pub fn router() -> ToolRouter<CoordServer> {
    let mut r = ToolRouter::new();
    macro_rules! add {
        ($($t:ty),+ $(,)?) => { $( r.add_route(route::<$t>()); )+ };
    }
    crate::for_each_operation!(add);
    r
}

/// How MCP shows a library error: request fields by their parameter names,
/// then the cause chain and hints naming parameters and tools (never a flag).
pub fn error_text(e: Error) -> String {
    let r = e.render(&|f| f.to_string());
    let mut out: Vec<String> = r.lines.iter().map(|l| format!("error: {l}")).collect();
    out.extend(r.causes.iter().map(|c| format!("caused by: {c}")));
    out.extend(r.hints.iter().map(|h| format!("hint: {}", hint_text(h))));
    out.join("\n")
}

/// A hint in MCP's words: parameters and tools.
fn hint_text(h: &Hint) -> String {
    match h {
        Hint::SetField { field, effect } => format!("call again with `{field}: true`: it {effect}"),
        Hint::Operation { command, field, effect } => {
            let with = field.map(|f| format!(" with `{f}: true`")).unwrap_or_default();
            match crate::api::tool_of(command) {
                Some(tool) => format!("`{tool}`{with} {effect}"),
                None => format!("git-coord's `{command}` command{with} {effect}"),
            }
        }
        Hint::InsideRepository => "start the MCP server inside a git repository".into(),
    }
}

fn route<O: Operation>() -> ToolRoute<CoordServer>
where
    O::Output: Summary,
{
    let mut input = (*schema_for_input::<O>().unwrap_or_else(|e| panic!("{}: request schema: {e}", O::TOOL))).clone();
    // Unknown parameters are refused (see `unknown_parameter`); say so.
    input.insert("additionalProperties".into(), serde_json::Value::Bool(false));
    let annotations = ToolAnnotations::new().read_only(!O::WRITES).destructive(false);
    let tool = Tool::new(O::TOOL, O::SUMMARY, input)
        .with_raw_output_schema(schema_for_output::<O::Output>())
        .with_annotations(annotations);
    ToolRoute::new_dyn(tool, call::<O>)
}

type Call<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<CallToolResponse, ErrorData>> + Send + 'a>>;

fn call<O: Operation>(cx: ToolCallContext<'_, CoordServer>) -> Call<'_>
where
    O::Output: Summary,
{
    let args = cx.arguments.clone().unwrap_or_default();
    let unknown = schema_for_input::<O>().ok().and_then(|schema| unknown_parameter(&args, &schema));
    let args = serde_json::Value::Object(args);
    let dir = cx.service.dir().to_path_buf();
    Box::pin(async move {
        let parsed = match unknown {
            Some(e) => Err(e),
            None => serde_json::from_value::<O>(args).map_err(|e| e.to_string()),
        };
        let result: Result<Out<O::Output>, String> = match parsed {
            Err(e) => Err(format!("error: invalid parameters: {e}")),
            Ok(req) => match tokio::task::spawn_blocking(move || req.run(&req.open(&dir)?)).await {
                Ok(Ok(out)) => Ok(Out(out)),
                Ok(Err(e)) => Err(error_text(e)),
                Err(e) => Err(format!("error: internal failure: {e}")),
            },
        };
        result.into_call_tool_result()
    })
}

/// A parameter the tool's schema does not declare, said as serde says it.
/// Requests flatten shared field groups ([`crate::api::groups`]), which
/// serde's `deny_unknown_fields` cannot check, so every tool checks here,
/// once, against its own schema: a misspelt parameter is refused, never
/// silently ignored.
fn unknown_parameter(
    args: &serde_json::Map<String, serde_json::Value>,
    schema: &rmcp::model::JsonObject,
) -> Option<String> {
    let known = schema.get("properties").and_then(serde_json::Value::as_object);
    let bad = args.keys().find(|k| !known.is_some_and(|p| p.contains_key(k.as_str())))?;
    Some(match known.filter(|p| !p.is_empty()) {
        None => format!("unknown field `{bad}`, there are no fields"),
        Some(p) => {
            let names: Vec<String> = p.keys().map(|k| format!("`{k}`")).collect();
            format!("unknown field `{bad}`, expected one of {}", names.join(", "))
        }
    })
}

impl Summary for Written {
    fn summary(&self) -> String {
        match (&self.milestone, self.changed) {
            (_, false) => format!("{}: nothing to change", self.id),
            (Some(m), true) => format!("wrote {m} in {} ({})", self.id, self.path),
            (None, true) => format!("wrote {} ({})", self.id, self.path),
        }
    }
}

impl Summary for crate::api::registry::RepoAdded {
    fn summary(&self) -> String {
        format!("added {} to {}", self.name, self.path)
    }
}

impl Summary for crate::api::deps::CheckDepsOutput {
    fn summary(&self) -> String {
        let s = &self.summary;
        let mut line = format!(
            "{} checked: {} satisfied, {} unsatisfied, {} unknown, {} deprecated",
            s.total, s.satisfied, s.unsatisfied, s.unknown, s.deprecated
        );
        if !self.updated.is_empty() {
            line.push_str(&format!("; {} status(es) written", self.updated.len()));
        }
        if let Some(issues) = &self.issues {
            for i in issues {
                line.push_str(&format!("; {} {} for {}", i.action.as_str(), i.issue, i.dependency));
            }
        }
        line
    }
}

impl Summary for crate::gate::GateReport {
    fn summary(&self) -> String {
        crate::gate::text(self).trim_end().to_string()
    }
}

impl Summary for Listed {
    fn summary(&self) -> String {
        let ids: Vec<String> = self.items.iter().filter_map(|i| i.value()["id"].as_str().map(str::to_string)).collect();
        format!("{} found: {}", self.count, ids.join(", "))
    }
}

impl Summary for crate::api::search::SearchResults {
    fn summary(&self) -> String {
        let lines: Vec<String> = self.items.iter().map(|h| format!("{}: {} — {}", h.id, h.title, h.snippet)).collect();
        format!("{} found\n{}", self.count, lines.join("\n")).trim_end().to_string()
    }
}

impl Summary for Shown {
    fn summary(&self) -> String {
        let e = &self.entity;
        let title = e["title"].as_str().or(e["task"].as_str()).unwrap_or("");
        format!("{}: {title}", self.id)
    }
}

impl Summary for Deleted {
    fn summary(&self) -> String {
        let mut s = format!("deleted {} ({})", self.id, self.path);
        if !self.dangling.is_empty() {
            let holders: Vec<&str> = self.dangling.iter().map(|r| r.holder.as_str()).collect();
            s.push_str(&format!("; references left dangling in {}", holders.join(", ")));
        }
        s
    }
}

impl Summary for Renumbered {
    fn summary(&self) -> String {
        let mut s = format!("renumbered {} {} → {}", self.kind, self.from, self.to);
        if !self.rewritten.is_empty() {
            s.push_str(&format!("; references rewritten in {}", self.rewritten.join(", ")));
        }
        s
    }
}

impl Summary for crate::api::exec::RunsListed {
    fn summary(&self) -> String {
        let runs: Vec<String> = self.items.iter().map(|r| format!("{} {}", r.id, r.status)).collect();
        format!("{} runs: {}", self.count, runs.join(", "))
    }
}

impl Summary for crate::api::exec::RunLogOutput {
    fn summary(&self) -> String {
        let what = if self.complete { "log" } else { "log tail (the full log is gone)" };
        format!("{} {} {what}:\n{}", self.run, self.todo, self.log)
    }
}

impl Summary for crate::sync::SyncReport {
    fn summary(&self) -> String {
        let mut parts = Vec::new();
        if self.committed_local {
            parts.push("committed local coordination changes".to_string());
        }
        for n in &self.renumbered {
            parts.push(format!("renumbered {} {} → {}", n.kind, n.from, n.to));
        }
        parts.push(match (&self.upstream, self.merged) {
            (Some(up), true) => format!("merged {up}"),
            (Some(up), false) => format!("up to date with {up}"),
            (None, _) => format!("{} has no branch {} yet", self.remote, self.branch),
        });
        if self.pushed {
            parts.push(format!("pushed {} to {} (attempt {})", self.branch, self.remote, self.attempts));
        }
        parts.join("; ")
    }
}
