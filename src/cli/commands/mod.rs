//! One module per command (or per entity kind's family of commands).

pub mod check_deps;
pub mod common;
pub mod dep;
pub mod diff;
pub mod doctor;
pub mod exec;
pub mod gate;
pub mod hook;
pub mod init;
pub mod issue;
pub mod lint;
pub mod log;
pub mod man;
pub mod mcp;
pub mod merge_driver;
pub mod migrate;
pub mod plan;
pub mod renumber;
pub mod reports;
pub mod repos;
pub mod review;
pub mod search;
pub mod sync;
pub mod todo;
pub mod trust;
pub mod watch;
