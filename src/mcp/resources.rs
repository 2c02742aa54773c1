//! Entities as MCP resources (`coord://issues/ISSUE-001`, …), for clients
//! that browse resources rather than call tools. Contents are the entity's
//! YAML as the library serialises it.

use std::path::Path;

use rmcp::ErrorData;
use rmcp::model::{ListResourcesResult, ReadResourceResult, Resource, ResourceContents};

use crate::model::Kind;
use crate::store::Store;

fn uri(kind: Kind, id: &str) -> String {
    format!("coord://{}/{id}", kind.dir_name())
}

fn lib_error(e: crate::Error) -> ErrorData {
    ErrorData::internal_error(e.to_string(), None)
}

/// Every entity of every kind, in ID order.
pub fn list(dir: &Path) -> Result<ListResourcesResult, ErrorData> {
    let store = Store::open(dir).map_err(lib_error)?;
    let loaded = store.load(&Kind::ALL).map_err(lib_error)?;
    let mut out = Vec::new();
    for kind in Kind::ALL {
        for rec in loaded.records(kind) {
            let id = rec.entity.id();
            out.push(
                Resource::new(uri(kind, id), id).with_title(rec.entity.title()).with_mime_type("application/yaml"),
            );
        }
    }
    Ok(ListResourcesResult::with_all_items(out))
}

/// One entity, by `coord://<kind dir>/<ID>`.
pub fn read(dir: &Path, uri_text: &str) -> Result<ReadResourceResult, ErrorData> {
    let not_found = || ErrorData::resource_not_found(format!("no such resource: {uri_text}"), None);
    let rest = uri_text.strip_prefix("coord://").ok_or_else(not_found)?;
    let (kind_dir, id) = rest.split_once('/').ok_or_else(not_found)?;
    let kind = Kind::ALL.into_iter().find(|k| k.dir_name() == kind_dir).ok_or_else(not_found)?;
    let store = Store::open(dir).map_err(lib_error)?;
    let rec = match crate::ops::find(&store, kind, id) {
        Ok(r) => r,
        Err(crate::Error::NotFound { .. }) => return Err(not_found()),
        Err(e) => return Err(lib_error(e)),
    };
    let text =
        serde_yaml::to_string(&rec.entity.to_mapping()).map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
    let contents = ResourceContents::text(text, uri_text);
    Ok(ReadResourceResult::new(vec![contents]))
}
