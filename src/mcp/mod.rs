//! MCP server: a second front end over the same library the CLI uses.
//!
//! Every tool maps its parameters onto the library (`ops`, `store`, `graph`)
//! exactly like the matching CLI command does, so validation, ID allocation,
//! locking and minimal-diff writes are shared. The protocol goes on stdout;
//! logs go to stderr (set up by the caller).

mod exec;
mod memory;
mod ops;
mod reports;
mod resources;
mod server;

pub use server::{CoordServer, serve_stdio};
