//! Coordination memory: events derived from git history ([`events`],
//! [`derive`]), kept in the index database ([`db`]) with a durable outbox
//! delivered to the memory service and webhooks ([`outbox`], [`sinks`]).
//!
//! Git history is the log: events are derived, never written by hand, and
//! their IDs are hashes of what they describe, so deriving again (after a
//! rebuild or a force-push) gives the same IDs and re-delivery is idempotent.

pub mod db;
pub mod derive;
pub mod events;
pub mod hook;
pub mod outbox;
pub mod sinks;

pub use derive::{Memory, Query, Updated};
pub use events::Event;
