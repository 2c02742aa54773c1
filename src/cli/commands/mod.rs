//! One module per command (or per entity kind's family of commands).

pub mod common;
pub mod init;
pub mod issue;
pub mod lint;
pub mod man;
pub mod migrate;
pub mod repos;
