//! Git-native coordination history, read with gix (never by running `git`):
//! the coordination files of any revision ([`repo`]), field-level changes of
//! one entity ([`fields`]) and of a whole revision range ([`changes`]), and
//! the commands built on them: [`log`], [`diff`] (also `show-* --at`) and
//! [`review`]. [`render`] turns changes into text and Markdown.
//!
//! ```ignore
//! let d = history::diff::diff(&store, Some("main...HEAD"))?;
//! print!("{}", history::render::text(&d.changes)); // ISSUE-003 status: pending → in_progress
//! let l = history::log::log(&store, &LogOptions { id: Some("ISSUE-003".into()), ..Default::default() })?;
//! ```

pub mod changes;
pub mod diff;
pub mod fields;
pub mod log;
pub mod render;
pub mod repo;
pub mod review;

pub use changes::{Differ, EntityChange, Filter, Op};
pub use diff::{Diff, diff, load_at};
pub use fields::{Change, FieldChange};
pub use log::{Log, LogEntry, LogOptions, log};
pub use repo::{GitRepo, Side};
pub use review::{Review, ReviewOptions, review};
