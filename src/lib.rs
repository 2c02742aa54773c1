//! git-coord: coordinate issues, plans, todos and inter-repository
//! dependencies across many repositories, stored as one YAML file per entity
//! in a git repository.
//!
//! Layout: [`model`] (types, no I/O) → [`store`] (files, loading, the one
//! write path) → [`ops`] (validated operations shared by every front end) →
//! [`cli`] (and later the MCP server) rendering results.

pub mod api;
pub mod cli;
pub mod coord_source;
pub mod deps;
pub mod display;
pub mod doctor;
pub mod ecosystem;
pub mod error;
pub mod exec;
pub mod gate;
pub mod gitcmd;
pub mod graph;
pub mod history;
pub mod hooks;
pub mod index;
pub mod lint;
pub mod mcp;
pub mod mcp_client;
pub mod memory;
pub mod merge;
pub mod model;
pub mod ops;
pub mod problem;
pub mod process_group;
pub mod progress;
pub mod query;
pub mod settings;
pub mod store;
pub mod suggest;
pub mod sync;
pub mod trends;

pub use error::{Error, Result};
